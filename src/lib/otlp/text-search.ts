/**
 * Finding a text in raw bytes regardless of ASCII letter case, in one pass: OTLP/JSON ids are hex
 * "in any case", and searching a file once per case (Buffer.indexOf) costs a pass each.
 *
 * Horspool's algorithm on byte pairs: the pair at the end of the window says how far the window
 * can move. Single bytes would move it little in hex-heavy text (every hex digit is in a hex
 * pattern), but most pairs are not, so over Collector JSON lines a 32-character id moves the
 * window ~30 bytes a step: one pass costs about what one Buffer.indexOf pass of one case does.
 */

/** ASCII upper-case letters to lower case; every other byte to itself. */
const FOLD = new Uint8Array(256)
for (let byte = 0; byte < 256; byte++) FOLD[byte] = byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte

function caseVariants(byte: number): number[] {
  const lower = FOLD[byte]!
  return lower >= 0x61 && lower <= 0x7a ? [lower, lower - 0x20] : [lower]
}

export class CaseInsensitiveSearch {
  readonly length: number
  readonly #pattern: Uint8Array
  /** For the two bytes at the end of the window: how far it may move (0: it may be a match). */
  readonly #shift: Uint8Array | undefined

  constructor(text: string) {
    const bytes = Buffer.from(text, 'utf8')
    if (bytes.length === 0) throw new RangeError('the text searched for is empty')
    this.length = bytes.length
    this.#pattern = bytes.map((byte) => FOLD[byte]!)
    if (bytes.length < 2) return
    const longest = Math.min(bytes.length - 1, 255)
    const shift = new Uint8Array(1 << 16).fill(longest)
    for (let j = 0; j <= bytes.length - 2; j++) {
      const distance = bytes.length - 2 - j
      for (const first of caseVariants(bytes[j]!)) {
        for (const second of caseVariants(bytes[j + 1]!)) {
          const pair = (first << 8) | second
          if (distance < shift[pair]!) shift[pair] = distance
        }
      }
    }

    this.#shift = shift
  }

  /** Where the text first starts in bytes[from, end), or -1. */
  indexIn(bytes: Uint8Array, from = 0, end = bytes.length): number {
    const pattern = this.#pattern
    const m = pattern.length
    const shift = this.#shift
    if (shift === undefined) {
      for (let i = from; i < end; i++) if (FOLD[bytes[i]!] === pattern[0]) return i
      return -1
    }

    let last = from + m - 1
    for (;;) {
      let step = 0
      while (last < end && (step = shift[(bytes[last - 1]! << 8) | bytes[last]!]!) !== 0) last += step
      if (last >= end) return -1
      const start = last - m + 1
      let i = 0
      while (i < m && FOLD[bytes[start + i]!] === pattern[i]) i++
      if (i === m) return start
      last += 1
    }
  }
}
