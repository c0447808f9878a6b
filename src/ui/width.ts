/**
 * Text measured in terminal columns rather than characters: East Asian wide and fullwidth
 * characters and emoji take two columns, combining marks and zero-width characters none. Service
 * and span names come from anywhere; a table lined up by character count breaks on 決済サービス.
 */

import {sanitizeServerText} from '../lib/api/errors.js'

/** Code points two columns wide outside emoji (East Asian Width W and F), as [first, last] pairs. */
const WIDE: readonly number[] = [
  0x1100, 0x115f, 0x2329, 0x232a, 0x2e80, 0x303e, 0x3041, 0x33ff, 0x3400, 0x4dbf, 0x4e00, 0x9fff, 0xa000, 0xa4cf, 0xa960, 0xa97f, 0xac00, 0xd7a3,
  0xf900, 0xfaff, 0xfe10, 0xfe19, 0xfe30, 0xfe6f, 0xff00, 0xff60, 0xffe0, 0xffe6, 0x16fe0, 0x16fe4, 0x17000, 0x18cff, 0x1b000, 0x1b2ff, 0x20000, 0x2fffd,
  0x30000, 0x3fffd,
]

/**
 * Text from telemetry made safe for one terminal line: control characters (an escape sequence
 * could repaint the screen, a newline forge another record) become spaces, runs of whitespace one.
 */
export function printable(text: string): string {
  return sanitizeServerText(text, Number.POSITIVE_INFINITY)
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u
const EMOJI = /^\p{Emoji_Presentation}$/u
const EMOJI_VARIATION = 0xfe0f
const PRINTABLE_ASCII = /^[\u0020-\u007E]*$/

function inWide(codePoint: number): boolean {
  let low = 0
  let high = WIDE.length / 2 - 1
  while (low <= high) {
    const middle = (low + high) >> 1
    if (codePoint < WIDE[middle * 2]!) high = middle - 1
    else if (codePoint > WIDE[middle * 2 + 1]!) low = middle + 1
    else return true
  }

  return false
}

/** Widths of the code points beyond Latin-1 met so far: the Unicode property tests are slow. */
const knownWidths = new Map<number, number>()

function ownWidth(char: string, codePoint: number): number {
  if (codePoint < 0x300) return codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0) ? 0 : 1
  let width = knownWidths.get(codePoint)
  if (width === undefined) {
    width = inWide(codePoint) || EMOJI.test(char) ? 2 : ZERO_WIDTH.test(char) ? 0 : 1
    knownWidths.set(codePoint, width)
  }

  return width
}

/** Columns one code point takes, `next` being the code point after it (an emoji selector widens it). */
function codePointWidth(char: string, next: string | undefined): number {
  const width = ownWidth(char, char.codePointAt(0)!)
  return width === 1 && next !== undefined && next.codePointAt(0) === EMOJI_VARIATION ? 2 : width
}

/** The columns `text` takes in a terminal. */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length
  const chars = [...text]
  let width = 0
  for (let i = 0; i < chars.length; i++) width += codePointWidth(chars[i]!, chars[i + 1])
  return width
}

/** The code points of `text` whose columns lie in [from, to), with the marks that follow them. */
export function sliceColumns(text: string, from: number, to = Number.POSITIVE_INFINITY): string {
  if (PRINTABLE_ASCII.test(text)) return text.slice(from, to)
  const chars = [...text]
  let column = 0
  let out = ''
  let kept = false
  for (let i = 0; i < chars.length && column <= to; i++) {
    const width = codePointWidth(chars[i]!, chars[i + 1])
    if (width > 0) kept = column >= from && column + width <= to
    if (kept) out += chars[i]
    column += width
  }

  return out
}

/** `text` cut to `width` columns, ending with … when something was cut. */
export function fitWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text
  return width <= 0 ? '' : `${sliceColumns(text, 0, width - 1)}…`
}

/** `text` fitted to exactly `width` columns: cut with … when longer, padded with spaces when shorter. */
export function padWidth(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fitted = fitWidth(text, width)
  const padding = ' '.repeat(Math.max(0, width - displayWidth(fitted)))
  return align === 'right' ? padding + fitted : fitted + padding
}
