/**
 * Finding a text in raw bytes regardless of ASCII letter case, in one pass: OTLP/JSON ids are hex
 * "in any case", and searching a file once per case (Buffer.indexOf) costs a pass each.
 *
 * Horspool's algorithm on byte pairs: the pair at the end of the window says how far the window
 * can move. Single bytes would move it little in hex-heavy text (every hex digit is in a hex
 * pattern), but most pairs are not, so over Collector JSON lines a 32-character id moves the
 * window ~30 bytes a step. Long inputs are walked in four interleaved lanes (see indexIn): over
 * Collector JSON lines that is about 70 ms per GiB, against 160 ms for one lane and about as much
 * for one Buffer.indexOf pass of one case.
 */

/** Below this many windows per lane, one lane: setting up four costs more than it saves. */
const LANE_MIN = 256

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
  /** Where each of the four lanes is (the last byte of its window), and where it ends. */
  readonly #lanes = new Float64Array(4)
  readonly #laneEnds = new Float64Array(4)

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

    // Windows are named by their last byte, `last` in [from + m - 1, end). Four lanes take a
    // quarter of that range each and step in the same loop: each step waits on the one before
    // (load the pair, look up the shift, add), so one lane leaves the CPU mostly idle, and four
    // independent chains run about twice as fast. Every window is in exactly one lane.
    const first = from + m - 1
    const quarter = Math.floor((end - first) / 4)
    if (quarter < LANE_MIN) return this.#scan(bytes, first, end)
    const lanes = this.#lanes
    const ends = this.#laneEnds
    for (let lane = 0; lane < 4; lane++) {
      lanes[lane] = first + lane * quarter
      ends[lane] = lane === 3 ? end : first + (lane + 1) * quarter
    }

    for (let lane = this.#stepLanes(bytes); lane !== -1; lane = this.#stepLanes(bytes)) {
      const last = lanes[lane]!
      if (this.#matchesAt(bytes, last)) {
        // The first match in this lane; it is the answer once the lanes before it have none.
        for (let before = 0; before < lane; before++) {
          const hit = this.#scan(bytes, lanes[before]!, ends[before]!)
          if (hit !== -1) return hit
        }

        return last - m + 1
      }

      lanes[lane] = last + 1
    }

    // A lane has reached its end: finish the others one at a time, in order.
    for (let lane = 0; lane < 4; lane++) {
      const hit = this.#scan(bytes, lanes[lane]!, ends[lane]!)
      if (hit !== -1) return hit
    }

    return -1
  }

  /**
   * Moves the four lanes on together until one sits on a candidate window (returns its number)
   * or one reaches its end (returns -1). The positions in #lanes are updated.
   */
  #stepLanes(bytes: Uint8Array): number {
    const shift = this.#shift!
    const lanes = this.#lanes
    const ends = this.#laneEnds
    let a = lanes[0]!
    let b = lanes[1]!
    let c = lanes[2]!
    let d = lanes[3]!
    const aEnd = ends[0]!
    const bEnd = ends[1]!
    const cEnd = ends[2]!
    const dEnd = ends[3]!
    let stopped = -1
    while (a < aEnd && b < bEnd && c < cEnd && d < dEnd) {
      const sa = shift[(bytes[a - 1]! << 8) | bytes[a]!]!
      const sb = shift[(bytes[b - 1]! << 8) | bytes[b]!]!
      const sc = shift[(bytes[c - 1]! << 8) | bytes[c]!]!
      const sd = shift[(bytes[d - 1]! << 8) | bytes[d]!]!
      if (sa === 0 || sb === 0 || sc === 0 || sd === 0) {
        stopped = sa === 0 ? 0 : sb === 0 ? 1 : sc === 0 ? 2 : 3
        break
      }

      a += sa
      b += sb
      c += sc
      d += sd
    }

    lanes[0] = a
    lanes[1] = b
    lanes[2] = c
    lanes[3] = d
    return stopped
  }

  /** One lane: the first match among the windows ending in [last, laneEnd). */
  #scan(bytes: Uint8Array, last: number, laneEnd: number): number {
    const shift = this.#shift!
    for (;;) {
      let step = 0
      while (last < laneEnd && (step = shift[(bytes[last - 1]! << 8) | bytes[last]!]!) !== 0) last += step
      if (last >= laneEnd) return -1
      if (this.#matchesAt(bytes, last)) return last - this.length + 1
      last += 1
    }
  }

  /** Whether the window ending at `last` holds the text. */
  #matchesAt(bytes: Uint8Array, last: number): boolean {
    const pattern = this.#pattern
    const start = last - pattern.length + 1
    let i = 0
    while (i < pattern.length && FOLD[bytes[start + i]!] === pattern[i]) i++
    return i === pattern.length
  }
}
