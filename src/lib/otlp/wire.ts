/**
 * Protobuf wire format: a bounds-checked reader and a growable writer.
 *
 * The reader never trusts a length it reads: every length is checked against the end of the
 * message that encloses it before anything is sliced or allocated, varints stop at ten bytes,
 * and nesting (messages and groups) stops at MAX_DEPTH. Anything else throws OtlpDecodeError
 * (`OTLP_MALFORMED`) naming what was wrong and at which byte offset, so a hostile body can cost
 * at most one pass over its own bytes.
 */
import {toHex} from '../encoding.js'
import {OtlpDecodeError} from './errors.js'

export const WireType = {varint: 0, i64: 1, len: 2, startGroup: 3, endGroup: 4, i32: 5} as const

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'wire type 6', 'wire type 7']

/**
 * Messages and groups nested deeper than this are refused, as protobuf's own parsers do (100 is
 * their default too). A request takes six levels to reach a record; each array or kvlist inside
 * an attribute value takes two more.
 */
export const MAX_DEPTH = 100

/** The tag of a field: its number and wire type in one varint. */
export function tagOf(field: number, wireType: number): number {
  return ((field << 3) | wireType) >>> 0
}

/** The character codes of each byte's two hex digits. */
const HEX_HIGH = new Uint8Array(256)
const HEX_LOW = new Uint8Array(256)
for (let i = 0; i < 256; i++) {
  HEX_HIGH[i] = '0123456789abcdef'.charCodeAt(i >>> 4)
  HEX_LOW[i] = '0123456789abcdef'.charCodeAt(i & 15)
}

/**
 * Eight bytes as 16 lowercase hex digits (a span id), made in one piece: 31 ns against 85 ns for
 * Buffer's hexSlice, whose call into C++ costs more than the conversion.
 */
function hex8(buf: Uint8Array, at: number): string {
  const b0 = buf[at]!
  const b1 = buf[at + 1]!
  const b2 = buf[at + 2]!
  const b3 = buf[at + 3]!
  const b4 = buf[at + 4]!
  const b5 = buf[at + 5]!
  const b6 = buf[at + 6]!
  const b7 = buf[at + 7]!
  return String.fromCharCode(
    HEX_HIGH[b0]!, HEX_LOW[b0]!, HEX_HIGH[b1]!, HEX_LOW[b1]!, HEX_HIGH[b2]!, HEX_LOW[b2]!, HEX_HIGH[b3]!, HEX_LOW[b3]!,
    HEX_HIGH[b4]!, HEX_LOW[b4]!, HEX_HIGH[b5]!, HEX_LOW[b5]!, HEX_HIGH[b6]!, HEX_LOW[b6]!, HEX_HIGH[b7]!, HEX_LOW[b7]!,
  )
}

/**
 * Values decoded from short byte strings, kept by those bytes so that the same bytes decode to
 * the same value without being decoded again. A fixed table: each byte string has one slot (by
 * a hash of its length and a few of its bytes), and a newer entry replaces an older one there.
 */
export class ByteMemo<T> {
  readonly maxBytes: number
  readonly #slots: number
  readonly #bytes: Uint8Array
  readonly #view: DataView
  readonly #lengths: Int32Array
  readonly #values: (T | undefined)[]

  /** `slots` must be a power of two. */
  constructor(slots: number, maxBytes: number) {
    this.#slots = slots
    this.maxBytes = maxBytes
    this.#bytes = new Uint8Array(slots * maxBytes)
    this.#view = new DataView(this.#bytes.buffer)
    this.#lengths = new Int32Array(slots)
    this.#values = new Array<T | undefined>(slots).fill(undefined)
  }

  /** What was stored for the bytes [start, end) of `reader` (1 to maxBytes of them), or undefined. */
  get(reader: ProtoReader, start: number, end: number): T | undefined {
    const buf = reader.buf
    const length = end - start
    const slot = this.#slotOf(buf, start, end)
    if (this.#lengths[slot] !== length) return undefined
    const base = slot * this.maxBytes
    // Four bytes at a time, then the rest one by one.
    const view = reader.view
    const memo = this.#view
    let i = 0
    // Eight bytes at a time as doubles. Equal doubles have equal bits except +0 and -0, and equal
    // bits make unequal doubles when they are NaN: those two cases are settled as integers.
    while (i + 8 <= length) {
      const a = memo.getFloat64(base + i, true)
      if ((a !== view.getFloat64(start + i, true) || a === 0) && (memo.getInt32(base + i, true) !== view.getInt32(start + i, true) || memo.getInt32(base + i + 4, true) !== view.getInt32(start + i + 4, true))) return undefined
      i += 8
    }
    if (i + 4 <= length) {
      if (memo.getInt32(base + i, true) !== view.getInt32(start + i, true)) return undefined
      i += 4
    }
    const bytes = this.#bytes
    while (i < length && bytes[base + i] === buf[start + i]) i++
    return i === length ? this.#values[slot] : undefined
  }

  /** Stores `value` for the bytes [start, end) of `reader`, in place of what shared their slot. */
  set(reader: ProtoReader, start: number, end: number, value: T): void {
    const buf = reader.buf
    const slot = this.#slotOf(buf, start, end)
    this.#bytes.set(buf.subarray(start, end), slot * this.maxBytes)
    this.#lengths[slot] = end - start
    this.#values[slot] = value
  }

  #slotOf(buf: Uint8Array, start: number, end: number): number {
    const length = end - start
    let hash = Math.imul(length, 0x9e37_79b1) ^ buf[start]! ^ (buf[end - 1]! << 8) ^ (buf[start + (length >>> 1)]! << 16) ^ (buf[end - 2 + (length === 1 ? 1 : 0)]! << 24)
    hash ^= buf[end - 3 + (length < 3 ? 3 - length : 0)]! * 0x01_00_01
    hash = Math.imul(hash ^ (hash >>> 16), 0x85eb_ca6b)
    return (hash ^ (hash >>> 13)) & (this.#slots - 1)
  }
}

// Decoded short strings, keyed by their bytes. OTLP repeats the same keys, names and resource
// values in every record; handing out one string per distinct value saves most of the cost of
// decoding them and keeps a large batch of records small in memory.
const strings = new ByteMemo<string>(4096, 40)

export class ProtoReader {
  readonly buf: Uint8Array
  readonly view: DataView
  private readonly text: Buffer
  /** The next byte to read. */
  pos = 0
  /** The end of the message being read; nothing at or past it belongs to it. */
  limit: number
  depth = 0
  /** Where the last tag read began, for errors about its field. */
  private tagAt = 0
  private readonly lastId = new DataView(new ArrayBuffer(16))
  private lastIdHex = '00000000000000000000000000000000'

  constructor(buf: Uint8Array) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
    this.limit = buf.length
  }

  malformed(what: string, at: number = this.pos): never {
    throw new OtlpDecodeError('OTLP_MALFORMED', `malformed protobuf: ${what} at byte ${at}`)
  }

  /** Reads a field tag; refuses field number 0 and the wire types that do not exist. */
  tag(): number {
    const at = this.pos
    this.tagAt = at
    const tag = this.varint32()
    if (tag >>> 3 === 0) this.malformed('field number 0', at)
    if ((tag & 7) > 5) this.malformed(`unknown wire type ${tag & 7}`, at)
    return tag
  }

  /** A varint's low 32 bits, unsigned (uint32 fields, lengths, tags). */
  varint32(): number {
    const buf = this.buf
    let p = this.pos
    if (p < this.limit) {
      const first = buf[p]!
      if (first < 0x80) {
        this.pos = p + 1
        return first
      }
    }

    const start = p
    let value = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (p >= this.limit) this.malformed('truncated varint', start)
      const b = buf[p++]!
      if (shift < 32) value |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = p
        return value >>> 0
      }
    }

    return this.malformed('varint longer than 10 bytes', start)
  }

  /** int32 and enum fields: negative values come as ten-byte varints; keep the low 32 bits, signed. */
  int32(): number {
    return this.varint32() | 0
  }

  /** sint32: zigzag-encoded. */
  sint32(): number {
    const n = this.varint32()
    return (n >>> 1) ^ -(n & 1)
  }

  bool(): boolean {
    return this.varint64() !== 0n
  }

  /** A whole varint as an unsigned 64-bit bigint. */
  varint64(): bigint {
    const buf = this.buf
    const start = this.pos
    let p = start
    let low = 0
    let high = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (p >= this.limit) this.malformed('truncated varint', start)
      const b = buf[p++]!
      if (shift < 28) low |= (b & 0x7f) << shift
      else if (shift === 28) {
        low |= (b & 0x0f) << 28
        high |= (b & 0x7f) >>> 4
      } else high |= (b & 0x7f) << (shift - 32)
      if (b < 0x80) {
        this.pos = p
        if (high === 0) return BigInt(low >>> 0)
        return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)
      }
    }

    return this.malformed('varint longer than 10 bytes', start)
  }

  uint64(): bigint {
    return this.varint64()
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint64())
  }

  private need(bytes: number): number {
    const p = this.pos
    if (this.limit - p < bytes) this.malformed(`truncated ${bytes === 4 ? 'fixed32' : 'fixed64'}`)
    this.pos = p + bytes
    return p
  }

  fixed32(): number {
    return this.view.getUint32(this.need(4), true)
  }

  fixed64(): bigint {
    return this.view.getBigUint64(this.need(8), true)
  }

  sfixed64(): bigint {
    return this.view.getBigInt64(this.need(8), true)
  }

  double(): number {
    return this.view.getFloat64(this.need(8), true)
  }

  /** Reads a length and returns where the field it prefixes ends, after checking it is inside. */
  private lengthEnd(): number {
    const at = this.pos
    const length = this.varint32()
    const end = this.pos + length
    if (end > this.limit) {
      this.malformed(`length ${length} runs past the end of its enclosing message (byte ${this.limit})`, at)
    }

    return end
  }

  /** Steps into a length-delimited message: returns the outer limit, to hand back to leave(). */
  enter(): number {
    const at = this.pos
    const end = this.lengthEnd()
    if (++this.depth > MAX_DEPTH) this.malformed(`messages nested deeper than ${MAX_DEPTH} levels`, at)
    const outer = this.limit
    this.limit = end
    return outer
  }

  leave(outer: number): void {
    this.pos = this.limit
    this.limit = outer
    this.depth--
  }

  /** Steps into a packed repeated field; hand the result to leavePacked(). */
  enterPacked(): number {
    const end = this.lengthEnd()
    const outer = this.limit
    this.limit = end
    return outer
  }

  leavePacked(outer: number): void {
    this.limit = outer
  }

  string(): string {
    const end = this.lengthEnd()
    const start = this.pos
    this.pos = end
    const length = end - start
    if (length === 0) return ''
    if (length > strings.maxBytes) return utf8Slice(this.text, start, end)
    const known = strings.get(this, start, end)
    if (known !== undefined) return known
    const value = utf8Slice(this.text, start, end)
    strings.set(this, start, end, value)
    return value
  }

  /** A bytes field, copied: records must not pin or alias the body they came from. */
  bytes(): Uint8Array {
    const end = this.lengthEnd()
    const start = this.pos
    this.pos = end
    return copyOf(this.buf, start, end)
  }

  /** A bytes field as lowercase hex (trace and span ids). */
  hex(): string {
    const end = this.lengthEnd()
    const start = this.pos
    this.pos = end
    const buf = this.buf
    if (end - start === 16) {
      // The spans and logs of one trace mostly come together: remember the last trace id.
      const last = this.lastId
      const view = this.view
      if (last.getInt32(0) === view.getInt32(start) && last.getInt32(4) === view.getInt32(start + 4) && last.getInt32(8) === view.getInt32(start + 8) && last.getInt32(12) === view.getInt32(start + 12)) return this.lastIdHex
      for (let i = 0; i < 16; i += 4) last.setInt32(i, view.getInt32(start + i))
      this.lastIdHex = hex8(buf, start) + hex8(buf, start + 8)
      return this.lastIdHex
    }

    if (end - start === 8) return hex8(buf, start)
    return toHex(buf.subarray(start, end))
  }

  /**
   * Handles a field the caller has no case for: when `known` (a bit per field number) says the
   * field exists, its wire type was wrong; otherwise it is an unknown field and is skipped.
   */
  unknown(tag: number, known: number, message: string): void {
    const field = tag >>> 3
    if (field < 32 && (known & (1 << field)) !== 0) {
      this.malformed(`field ${field} of ${message} has the wrong wire type (${WIRE_NAMES[tag & 7]})`, this.tagAt)
    }

    this.skip(tag)
  }

  /** Skips the value of a field whose tag was just read. */
  skip(tag: number): void {
    switch (tag & 7) {
      case WireType.varint: {
        this.varint64()
        break
      }

      case WireType.i64: {
        this.need(8)
        break
      }

      case WireType.len: {
        this.pos = this.lengthEnd()
        break
      }

      case WireType.i32: {
        this.need(4)
        break
      }

      case WireType.startGroup: {
        this.skipGroup(tag >>> 3)
        break
      }

      default: {
        this.malformed(`end-group tag of field ${tag >>> 3} outside a group`, this.tagAt)
      }
    }
  }

  private skipGroup(field: number): void {
    const at = this.tagAt
    if (++this.depth > MAX_DEPTH) this.malformed(`groups nested deeper than ${MAX_DEPTH} levels`, at)
    for (;;) {
      if (this.pos >= this.limit) this.malformed(`group of field ${field} has no end`, at)
      const tag = this.tag()
      if ((tag & 7) === WireType.endGroup) {
        if (tag >>> 3 !== field) this.malformed(`end-group tag of field ${tag >>> 3} inside the group of field ${field}`, this.tagAt)
        break
      }

      this.skip(tag)
    }

    this.depth--
  }
}

/**
 * Builds a protobuf message into one growing buffer. A nested message reserves one byte for its
 * length and moves its body when the length turns out to need more, so every length is written
 * in its shortest form (as a canonical encoder must) without measuring anything twice.
 */
export class ProtoWriter {
  private buf: Uint8Array
  private view: DataView
  pos = 0

  constructor(initialSize = 1024) {
    this.buf = new Uint8Array(initialSize)
    this.view = new DataView(this.buf.buffer)
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + bytes) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.buf.subarray(0, this.pos))
    this.buf = grown
    this.view = new DataView(grown.buffer)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }

  /** A tag or any other value below 2^32, as a varint. */
  varint32(value: number): void {
    this.ensure(5)
    const buf = this.buf
    let v = value >>> 0
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }

    buf[this.pos++] = v
  }

  tag(field: number, wireType: number): void {
    this.varint32(tagOf(field, wireType))
  }

  /** int32 and enums: a negative value is sign-extended to 64 bits (ten bytes), as protobuf says. */
  int32(value: number): void {
    if (value >= 0) this.varint32(value)
    else this.varint64(BigInt.asUintN(64, BigInt(value)))
  }

  sint32(value: number): void {
    this.varint32(((value << 1) ^ (value >> 31)) >>> 0)
  }

  varint64(value: bigint): void {
    let v = BigInt.asUintN(64, value)
    if (v < 0x1_0000_0000n) {
      this.varint32(Number(v))
      return
    }

    this.ensure(10)
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }

    this.buf[this.pos++] = Number(v)
  }

  fixed32(value: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, value >>> 0, true)
    this.pos += 4
  }

  fixed64(value: bigint): void {
    this.ensure(8)
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, value), true)
    this.pos += 8
  }

  double(value: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, value, true)
    this.pos += 8
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length)
    this.ensure(value.length)
    this.buf.set(value, this.pos)
    this.pos += value.length
  }

  string(value: string): void {
    // Short ASCII, the usual case, is copied by hand; anything else goes through the encoder.
    const length = value.length
    if (length < 128) {
      this.ensure(length + 1)
      const buf = this.buf
      const start = this.pos + 1
      let i = 0
      for (; i < length; i++) {
        const c = value.charCodeAt(i)
        if (c >= 0x80) break
        buf[start + i] = c
      }

      if (i === length) {
        buf[this.pos] = length
        this.pos = start + length
        return
      }
    }

    const start = this.beginLength()
    this.ensure(length * 3)
    this.pos += encoder.encodeInto(value, this.buf.subarray(this.pos)).written
    this.endLength(start)
  }

  /** A bytes field from hex text (ids); the text must be whole bytes of hex. */
  hex(value: string): void {
    const length = value.length >>> 1
    if (length * 2 !== value.length) throw new RangeError(`id "${value}" is not whole bytes of hex`)
    this.varint32(length)
    this.ensure(length)
    const buf = this.buf
    for (let i = 0; i < length; i++) {
      const high = hexDigit(value.charCodeAt(2 * i))
      const low = hexDigit(value.charCodeAt(2 * i + 1))
      if (high < 0 || low < 0) throw new RangeError(`id "${value}" is not whole bytes of hex`)
      buf[this.pos++] = (high << 4) | low
    }
  }

  /** Starts a length-delimited body; returns what endLength() needs. */
  beginLength(): number {
    this.ensure(1)
    return this.pos++
  }

  endLength(start: number): void {
    const length = this.pos - start - 1
    if (length < 0x80) {
      this.buf[start] = length
      return
    }

    let size = 1
    for (let v = length >>> 7; v > 0; v >>>= 7) size++
    this.ensure(size - 1)
    this.buf.copyWithin(start + size, start + 1, this.pos)
    this.pos += size - 1
    let p = start
    let v = length
    while (v >= 0x80) {
      this.buf[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }

    this.buf[p] = v
  }
}

const encoder = new TextEncoder()

// Buffer's own slice decoders, without the argument handling of toString(), which costs as much
// as the decoding for the short strings OTLP is made of. Present in every Node since 0.x.
interface BufferSlices {
  utf8Slice?: (start: number, end: number) => string
}

const slices = Buffer.prototype as unknown as BufferSlices
const utf8Slice: (text: Buffer, start: number, end: number) => string =
  typeof slices.utf8Slice === 'function' ? (text, start, end) => (text as unknown as Required<BufferSlices>).utf8Slice(start, end) : (text, start, end) => text.toString('utf8', start, end)

/** A copy that owns its memory (Buffer#slice would return a view of the whole body). */
function copyOf(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start)
  out.set(buf.subarray(start, end))
  return out
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
