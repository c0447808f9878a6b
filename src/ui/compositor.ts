/**
 * A faster path through Ink's compositor, for frames of single-column characters and colours.
 *
 * Ink composes every frame on a grid holding one object per terminal cell: it splits each line
 * into grapheme clusters (Intl.Segmenter), gives each character a copy of its styles, and joins the
 * grid back into text. At 200x60 that is about 20 ms a frame, more than React, layout and writing
 * together. A dashboard frame needs none of it: here lines are placed as characters and style
 * numbers, and each row is joined run by run, with the ANSI transitions computed by the same
 * functions Ink uses. The result is the very text Ink would make (test/ui/compositor.test.ts checks
 * it against Ink's own). Anything else (clipping, wide or combining characters, links, escapes
 * other than SGR colours) is left to Ink's own code.
 */
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {type AnsiCode, ansiCodesToString, diffAnsiCodes, reduceAnsiCodesIncremental, tokenize} from '@alcalzone/ansi-tokenize'

/** What Ink's Output holds when asked for the frame (its fields as of Ink 6). */
export interface InkOutput {
  width: number
  height: number
  operations: readonly InkOperation[]
}

type InkOperation =
  | {type: 'write'; x: number; y: number; text: string; transformers: readonly ((line: string, index: number) => string)[]}
  | {type: string}

export interface ComposedOutput {
  output: string
  height: number
}

/** Says whether a character outside printable ASCII takes exactly one cell of its own. */
export type NarrowCheck = (char: string) => boolean

interface Row {
  chars: string[]
  styles: Uint16Array
}

// Styles are numbered for the process's life: a dashboard uses a handful. Past the cap, composing
// falls back to Ink rather than forget numbers a frame in progress uses.
const MAX_STYLES = 4096
const styleNumbers = new Map<string, number>([['', 0]])
const stylesByNumber: AnsiCode[][] = [[]]
const transitions = new Map<number, string>()
const sgrTokens = new Map<string, readonly AnsiCode[] | undefined>()

/**
 * The frame Ink's `Output.get()` would return for these operations, or undefined when they hold
 * anything this path does not take (then Ink's own `get()` must run).
 */
export function composeOutput(output: InkOutput, isNarrow: NarrowCheck): ComposedOutput | undefined {
  const {width, height} = output
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) return undefined
  const rows: (Row | undefined)[] = Array.from({length: height})
  for (const operation of output.operations) {
    if (!isWrite(operation)) return undefined
    const {x, y, text, transformers} = operation
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0) return undefined
    const lines = text.split('\n')
    // As Ink does: a line that falls off the grid is skipped without moving down a row.
    let offsetY = 0
    for (const [index, original] of lines.entries()) {
      const rowIndex = y + offsetY
      if (rowIndex < 0 || rowIndex >= height) continue
      let line = original
      for (const transform of transformers) line = transform(line, index)
      const row = (rows[rowIndex] ??= {chars: Array.from({length: width}, () => ' '), styles: new Uint16Array(width)})
      if (!placeLine(row, x, line, width, isNarrow)) return undefined
      offsetY++
    }
  }

  return {output: rows.map((row) => (row === undefined ? '' : rowText(row, width))).join('\n'), height}
}

function isWrite(operation: InkOperation): operation is Extract<InkOperation, {type: 'write'}> {
  return operation.type === 'write'
}

/** Puts one line's characters and their style numbers into the row; false if it cannot. */
function placeLine(row: Row, x: number, line: string, width: number, isNarrow: NarrowCheck): boolean {
  // Each line starts unstyled: Ink reads the styles of each line on its own.
  let codes: AnsiCode[] = []
  let style = 0
  let column = x
  for (let index = 0; index < line.length; ) {
    const code = line.charCodeAt(index)
    if (code === 0x1b) {
      const end = sgrEnd(line, index)
      const tokens = end === -1 ? undefined : sgrTokensOf(line.slice(index, end))
      if (tokens === undefined) return false
      codes = reduceAnsiCodesIncremental(codes, [...tokens])
      style = styleNumber(codes)
      if (style === -1) return false
      index = end
      continue
    }

    const char = line[index]!
    if ((code < 0x20 || code > 0x7e) && !isNarrow(char)) return false
    if (column >= width) return false
    row.chars[column] = char
    row.styles[column] = style
    column++
    index++
  }

  return true
}

/** The end of the SGR sequence (ESC [ digits and semicolons m) starting at `start`, or -1. */
function sgrEnd(line: string, start: number): number {
  if (line.charCodeAt(start + 1) !== 0x5b) return -1
  for (let index = start + 2; index < line.length; index++) {
    const code = line.charCodeAt(index)
    if (code === 0x6d) return index + 1
    if (code !== 0x3b && (code < 0x30 || code > 0x39)) return -1
  }

  return -1
}

/** The codes Ink reads from an SGR sequence, by Ink's own tokenizer. */
function sgrTokensOf(sequence: string): readonly AnsiCode[] | undefined {
  if (sgrTokens.has(sequence)) return sgrTokens.get(sequence)
  const tokens = tokenize(sequence)
  const codes = tokens.every((token) => token.type === 'ansi') ? (tokens as AnsiCode[]) : undefined
  if (sgrTokens.size < MAX_STYLES) sgrTokens.set(sequence, codes)
  return codes
}

function styleNumber(codes: AnsiCode[]): number {
  const key = codes.map((code) => code.code).join('')
  const known = styleNumbers.get(key)
  if (known !== undefined) return known
  if (stylesByNumber.length >= MAX_STYLES) return -1
  styleNumbers.set(key, stylesByNumber.length)
  stylesByNumber.push(codes)
  return stylesByNumber.length - 1
}

/** The codes that go from one style to the next, as Ink writes them between two characters. */
function transition(from: number, to: number): string {
  const key = from * MAX_STYLES + to
  let codes = transitions.get(key)
  if (codes === undefined) {
    codes = ansiCodesToString(diffAnsiCodes(stylesByNumber[from]!, stylesByNumber[to]!))
    transitions.set(key, codes)
  }

  return codes
}

function rowText(row: Row, width: number): string {
  if (width === 0) return ''
  const {chars, styles} = row
  let text = ansiCodesToString(stylesByNumber[styles[0]!]!)
  let runStart = 0
  for (let column = 1; column < width; column++) {
    if (styles[column] === styles[column - 1]) continue
    text += chars.slice(runStart, column).join('') + transition(styles[column - 1]!, styles[column]!)
    runStart = column
  }

  text += chars.slice(runStart).join('') + transition(styles[width - 1]!, 0)
  return text.trimEnd()
}

/** The parts of Ink's Output class the compositor needs. */
export interface InkOutputClass {
  new (options: {width: number; height: number}): {
    write(x: number, y: number, text: string, options: {transformers: []}): void
    get(): ComposedOutput
  }
  prototype: {get(): ComposedOutput}
}

/**
 * Whether Ink gives `char` one cell of its own, asked of Ink itself: between ASCII letters it must
 * stay one cluster one column wide. Only scripts and symbol blocks without wide characters or
 * clusters that join each other are asked; the answers are kept.
 */
export function narrowCheckOf(Output: InkOutputClass, get: () => ComposedOutput): NarrowCheck {
  const answers = new Map<string, boolean>()
  return (char) => {
    let narrow = answers.get(char)
    if (narrow === undefined) {
      const code = char.charCodeAt(0)
      narrow = ((code >= 0xa0 && code < 0x11_00) || (code >= 0x20_00 && code < 0x2c_00)) && probe(Output, get, char)
      answers.set(char, narrow)
    }

    return narrow
  }
}

function probe(Output: InkOutputClass, get: () => ComposedOutput, char: string): boolean {
  // A character that is two columns wide, or joins its neighbour, moves the Z or the a.
  const output = new Output({width: 4, height: 1})
  output.write(0, 0, `a${char}a`, {transformers: []})
  output.write(3, 0, 'Z', {transformers: []})
  return get.call(output).output === `a${char}aZ`
}

const INSTALLED = Symbol.for('stella.compositor')

/**
 * Makes Ink's Output take the faster path when it can. Returns Ink's own `get`, which stays the
 * path for everything else.
 */
export function installCompositor(Output: InkOutputClass): () => ComposedOutput {
  const prototype = Output.prototype as InkOutputClass['prototype'] & {[INSTALLED]?: () => ComposedOutput}
  const installed = prototype[INSTALLED]
  if (installed !== undefined) return installed
  const inkGet = prototype.get
  const isNarrow = narrowCheckOf(Output, inkGet)
  prototype.get = function (this: InkOutput) {
    return composeOutput(this, isNarrow) ?? inkGet.call(this)
  }

  prototype[INSTALLED] = inkGet
  return inkGet
}

/**
 * Installs the compositor into the Ink that `import('ink')` loads, and returns the class it
 * changed; an Ink laid out differently is left as it is.
 */
export async function installInkCompositor(): Promise<InkOutputClass | undefined> {
  try {
    const inkEntry = createRequire(import.meta.url).resolve('ink')
    const module = (await import(pathToFileURL(join(dirname(inkEntry), 'output.js')).href)) as {default?: unknown}
    const Output = module.default as InkOutputClass | undefined
    if (typeof Output?.prototype?.get !== 'function') return undefined
    installCompositor(Output)
    return Output
  } catch {
    return undefined
  }
}
