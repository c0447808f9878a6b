/**
 * POSIX tar (ustar headers, pax extended headers, GNU long names): a one-pass streaming
 * reader for verifying evidence bundles, and the header writer for building them.
 *
 * The reader never trusts the archive: every header checksum is verified, every numeric
 * field is parsed strictly, and anything it cannot describe faithfully ends in a
 * TarFormatError with a stable code and the tar-stream offset of the fault. Payload is
 * handed on as views into the input chunks (zero copy); only 512-byte headers are looped
 * over byte by byte, and only headers and extended-header payloads (bounded) are buffered.
 */
import {InputError, UsageError} from '../errors.js'

export const TAR_BLOCK_SIZE = 512

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  | 'contiguous-file'
  | 'other'

export interface TarEntry {
  /** Effective path after pax `path` / GNU `L` records, decoded as UTF-8 (invalid sequences become U+FFFD; use pathBytes to check). */
  path: string
  /** The raw bytes of the effective path (to detect NUL bytes and invalid UTF-8). */
  pathBytes: Uint8Array
  /** The path a plain ustar reader would see in this entry's own header block: prefix + '/' + name (or name alone), NUL-terminated fields. */
  headerPath: string
  pathSource: 'ustar' | 'pax' | 'gnu-longname'
  type: TarEntryType
  /** The raw typeflag character ('0', '\0', '5', '2', 'x', …). */
  typeflag: string
  /** Effective size (a pax `size` record wins): the data bytes that follow the header. */
  size: number
  mode: number
  uid: number
  gid: number
  /** Seconds since the epoch (a fractional pax `mtime` is floored). */
  mtime: number
  /** pax `linkpath` / GNU `K` / ustar linkname. */
  linkPath: string
  /** Byte offset in the tar stream of this entry's own header block. */
  offset: number
}

export interface TarHandler {
  entry(entry: TarEntry): void
  /** Payload bytes of the current entry, in order. Views into the input chunk: copy if you keep them. */
  data(chunk: Uint8Array): void
  entryEnd(): void
}

export type TarErrorCode =
  | 'TAR_BAD_CHECKSUM'
  | 'TAR_BAD_HEADER'
  | 'TAR_BAD_PAX'
  | 'TAR_TRUNCATED'
  | 'TAR_NO_END_MARKER'
  | 'TAR_TRAILING_DATA'
  | 'TAR_UNSUPPORTED'
  | 'TAR_LIMIT'

const REMEDY = 'The archive is damaged or was not written as a POSIX tar bundle; obtain a fresh copy from its source.'

/**
 * A malformed, hostile or unsupported tar stream (an input error, exit 3). `offset` is a
 * tar-stream byte offset: the header block at fault, the pax record at fault, the first
 * stray byte after the end marker, or where the input ended for truncation.
 */
export class TarFormatError extends InputError {
  declare readonly code: TarErrorCode
  readonly offset: number

  constructor(code: TarErrorCode, offset: number, message: string) {
    super(code, `${message} (tar offset ${offset})`, {remedy: REMEDY})
    this.offset = offset
  }
}

export interface TarParserLimits {
  /** A pax or GNU long-name record larger than this is TAR_LIMIT. Default 1 MiB. */
  maxExtendedHeaderBytes?: number
}

const DEFAULT_MAX_EXTENDED_HEADER_BYTES = 1024 * 1024

// ustar header layout: [start, length] of each field.
const NAME = [0, 100] as const
const MODE = [100, 8] as const
const UID = [108, 8] as const
const GID = [116, 8] as const
const SIZE = [124, 12] as const
const MTIME = [136, 12] as const
const CHECKSUM = [148, 8] as const
const TYPEFLAG_AT = 156
const LINKNAME = [157, 100] as const
const MAGIC_AT = 257
const PREFIX = [345, 155] as const

type Field = readonly [start: number, length: number]

const NUL = 0x00
const SPACE = 0x20
const SLASH = 0x2f
const NEWLINE = 0x0a
const EQUALS = 0x3d
const DIGIT_0 = 0x30

const POSIX_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x00] // "ustar\0", then version "00"
const GNU_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00] // "ustar  \0", magic and version together

const utf8Encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)

/** WHATWG UTF-8 decoding (invalid sequences become U+FFFD, a BOM is kept): Buffer's decoder is the fastest for short strings. */
function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return ''
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i]! >= 0x80) return false
  return true
}

function paddingAfter(size: number): number {
  return (TAR_BLOCK_SIZE - (size % TAR_BLOCK_SIZE)) % TAR_BLOCK_SIZE
}

function startsWith(block: Uint8Array, at: number, expected: readonly number[]): boolean {
  return expected.every((byte, i) => block[at + i] === byte)
}

/** Where a NUL-terminated field ends: its first NUL, or the field's end. */
function fieldEnd(block: Uint8Array, [start, length]: Field): number {
  const end = start + length
  for (let i = start; i < end; i++) if (block[i] === NUL) return i
  return end
}

/** A copy of a NUL-terminated field's bytes. */
function copyField(block: Uint8Array, field: Field): Uint8Array {
  const end = fieldEnd(block, field)
  return end === field[0] ? EMPTY : block.slice(field[0], end)
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }

  return out
}

// ---------------------------------------------------------------------------------------
// Header decoding
// ---------------------------------------------------------------------------------------

type HeaderFormat = 'posix' | 'gnu'

interface Header {
  offset: number
  typeflag: string
  /** prefix/name as the block itself says (a copy: the block is a reused buffer). */
  pathBytes: Uint8Array
  pathText: string
  linkText: string
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
}

/**
 * The sum of a block's 512 bytes, read as 128 words: the two byte lanes of each half-word
 * are added in parallel (at most 128 * 2 * 255 < 2^16 per lane, so lanes never carry).
 */
function blockByteSum(words: Uint32Array): number {
  let lanes = 0
  for (let i = 0; i < TAR_BLOCK_SIZE / 4; i++) {
    const word = words[i]!
    lanes += (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff)
  }

  return (lanes % 0x10000) + Math.floor(lanes / 0x10000)
}

/** The checksum some historic writers stored: bytes summed as signed chars. */
function signedChecksum(block: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < TAR_BLOCK_SIZE; i++) {
    const byte = i >= CHECKSUM[0] && i < CHECKSUM[0] + CHECKSUM[1] ? SPACE : block[i]!
    sum += byte >= 0x80 ? byte - 0x100 : byte
  }

  return sum
}

/** The stored checksum is the sum of all bytes with the checksum field read as spaces; old writers summed signed chars. */
function verifyChecksum(block: Uint8Array, byteSum: number, offset: number): void {
  let unsigned = byteSum
  for (let i = CHECKSUM[0]; i < CHECKSUM[0] + CHECKSUM[1]; i++) unsigned += SPACE - block[i]!

  const stored = parseOctal(block, CHECKSUM)
  if (stored === undefined) {
    throw new TarFormatError('TAR_BAD_CHECKSUM', offset, `header checksum field is not octal: ${describeField(block, CHECKSUM)}`)
  }

  if (stored !== unsigned && stored !== signedChecksum(block)) {
    throw new TarFormatError('TAR_BAD_CHECKSUM', offset, `header checksum is ${stored}, the block sums to ${unsigned}`)
  }
}

/** Octal digits after optional leading spaces, ended by NUL/space padding (or the field's end). An empty field is 0. */
function parseOctal(block: Uint8Array, [start, length]: Field): number | undefined {
  const end = start + length
  let i = start
  while (i < end && block[i] === SPACE) i++
  let value = 0
  for (; i < end; i++) {
    const digit = block[i]! - DIGIT_0
    if (digit < 0 || digit > 7) break
    value = value * 8 + digit
  }

  for (; i < end; i++) if (block[i] !== NUL && block[i] !== SPACE) return undefined
  return value
}

/**
 * GNU base-256: the high bit of the first byte marks it; the remaining bits are a
 * big-endian two's complement number (bit 0x40 of the first byte is the sign).
 * Returns undefined when the magnitude is beyond Number.MAX_SAFE_INTEGER.
 */
function parseBase256(block: Uint8Array, [start, length]: Field): number | undefined {
  const first = block[start]!
  const negative = (first & 0x40) !== 0
  const flip = negative ? 0xff : 0x00
  let magnitude = (first ^ flip) & 0x7f
  for (let i = start + 1; i < start + length; i++) {
    magnitude = magnitude * 256 + (block[i]! ^ flip)
    if (magnitude > Number.MAX_SAFE_INTEGER) return undefined
  }

  return negative ? -(magnitude + 1) : magnitude
}

function describeField(block: Uint8Array, [start, length]: Field): string {
  return JSON.stringify(String.fromCharCode(...block.subarray(start, start + length)))
}

interface NumberRules {
  name: string
  base256: boolean
  negative: boolean
}

function readNumber(block: Uint8Array, field: Field, rules: NumberRules, offset: number): number {
  if ((block[field[0]]! & 0x80) === 0) {
    const value = parseOctal(block, field)
    if (value === undefined) {
      throw new TarFormatError('TAR_BAD_HEADER', offset, `${rules.name} field is not an octal number: ${describeField(block, field)}`)
    }

    return value
  }

  if (!rules.base256) throw new TarFormatError('TAR_BAD_HEADER', offset, `${rules.name} field is not an octal number: ${describeField(block, field)}`)
  const value = parseBase256(block, field)
  if (value === undefined) throw new TarFormatError('TAR_LIMIT', offset, `${rules.name} field is beyond ${Number.MAX_SAFE_INTEGER}`)
  if (value < 0 && !rules.negative) throw new TarFormatError('TAR_BAD_HEADER', offset, `${rules.name} field is negative: ${value}`)
  return value
}

function headerFormat(block: Uint8Array, offset: number): HeaderFormat {
  if (startsWith(block, MAGIC_AT, GNU_MAGIC)) return 'gnu'
  if (startsWith(block, MAGIC_AT, POSIX_MAGIC)) return 'posix'
  if (block.subarray(MAGIC_AT, MAGIC_AT + 8).every((byte) => byte === NUL)) {
    throw new TarFormatError('TAR_UNSUPPORTED', offset, 'pre-POSIX (v7) tar header without the ustar magic')
  }

  throw new TarFormatError('TAR_BAD_HEADER', offset, `unknown header magic ${describeField(block, [MAGIC_AT, 8])}`)
}

function hasPrefix(block: Uint8Array, format: HeaderFormat): boolean {
  // GNU headers keep atime/ctime where ustar has the prefix.
  return format === 'posix' && block[PREFIX[0]] !== NUL
}

/** prefix + '/' + name, or name alone. */
function ustarPathBytes(block: Uint8Array, format: HeaderFormat): Uint8Array {
  const name = copyField(block, NAME)
  if (!hasPrefix(block, format)) return name
  return concatBytes([copyField(block, PREFIX), Uint8Array.of(SLASH), name])
}

/** A field decoded as UTF-8 straight from the block's Buffer view: the cheapest way to make a short string. */
function fieldText(block: Uint8Array, text: Buffer, field: Field): string {
  const end = fieldEnd(block, field)
  return end === field[0] ? '' : text.toString('utf8', field[0], end)
}

/** The decoded ustarPathBytes. Decoding the halves apart is the same: the ASCII '/' ends any broken sequence. */
function ustarPathText(block: Uint8Array, text: Buffer, format: HeaderFormat): string {
  const name = fieldText(block, text, NAME)
  return hasPrefix(block, format) ? `${fieldText(block, text, PREFIX)}/${name}` : name
}

/** `text` is a Buffer over the same bytes as `block`. */
function decodeHeader(block: Uint8Array, text: Buffer, offset: number): Header {
  const format = headerFormat(block, offset)
  return {
    offset,
    typeflag: String.fromCharCode(block[TYPEFLAG_AT]!),
    pathBytes: ustarPathBytes(block, format),
    pathText: ustarPathText(block, text, format),
    linkText: fieldText(block, text, LINKNAME),
    mode: readNumber(block, MODE, {name: 'mode', base256: false, negative: false}, offset),
    uid: readNumber(block, UID, {name: 'uid', base256: true, negative: false}, offset),
    gid: readNumber(block, GID, {name: 'gid', base256: true, negative: false}, offset),
    size: readNumber(block, SIZE, {name: 'size', base256: true, negative: false}, offset),
    mtime: readNumber(block, MTIME, {name: 'mtime', base256: true, negative: true}, offset),
  }
}

// Maps, not object literals: a typeflag read from the archive must never reach Object.prototype.
const ENTRY_TYPES: ReadonlyMap<string, TarEntryType> = new Map([
  ['0', 'file'],
  ['\0', 'file'],
  ['1', 'hardlink'],
  ['2', 'symlink'],
  ['3', 'character-device'],
  ['4', 'block-device'],
  ['5', 'directory'],
  ['6', 'fifo'],
  ['7', 'contiguous-file'],
])

// Typeflags whose meaning changes how later bytes or entries must be read: reading them as
// plain entries would describe the archive differently from the tools that understand them.
const UNSUPPORTED_TYPEFLAGS: ReadonlyMap<string, string> = new Map([
  ['S', 'GNU sparse file'],
  ['V', 'GNU volume header'],
  ['M', 'GNU multi-volume continuation'],
  ['N', 'old GNU long-name list'],
  ['X', 'Solaris extended header'],
])

// ---------------------------------------------------------------------------------------
// pax records
// ---------------------------------------------------------------------------------------

/** Overrides carried by one pax 'x' header to the entry that follows it. */
interface PaxOverrides {
  path?: Uint8Array
  linkPath?: Uint8Array
  size?: number
  mtime?: number
  uid?: number
  gid?: number
}

interface PaxRecord {
  key: string
  value: Uint8Array
  /** Tar-stream offset of the record, for errors. */
  offset: number
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_0 + 9
}

/** Reads one "LEN key=value\n" record at `at`; LEN counts the whole record, itself included. */
function readPaxRecord(payload: Uint8Array, at: number, streamOffset: number): PaxRecord & {end: number} {
  const offset = streamOffset + at
  const bad = (why: string) => new TarFormatError('TAR_BAD_PAX', offset, `pax record ${why}`)
  let i = at
  let length = 0
  // A valid length never starts with 0; stopping once it exceeds the payload bounds the loop.
  if (payload[i] === DIGIT_0) throw bad('length has a leading zero')
  while (isDigit(payload[i]) && length <= payload.byteLength) length = length * 10 + payload[i++]! - DIGIT_0
  if (i === at) throw bad('does not start with a decimal length')
  if (length > payload.byteLength - at) throw bad(`length ${length} runs past the end of the extended header`)
  if (payload[i] !== SPACE) throw bad('length is not followed by a space')
  const end = at + length
  if (end <= i + 1 || payload[end - 1] !== NEWLINE) throw bad(`of length ${length} does not end in a newline`)
  const equals = payload.subarray(i + 1, end - 1).indexOf(EQUALS)
  if (equals < 1) throw bad('has no key=value')
  const keyEnd = i + 1 + equals
  return {key: decodeUtf8(payload.subarray(i + 1, keyEnd)), value: payload.subarray(keyEnd + 1, end - 1), offset, end}
}

function readPaxRecords(payload: Uint8Array, streamOffset: number): PaxRecord[] {
  const records: PaxRecord[] = []
  for (let at = 0; at < payload.byteLength;) {
    const {end, ...record} = readPaxRecord(payload, at, streamOffset)
    records.push(record)
    at = end
  }

  return records
}

const PAX_INTEGER = /^\d+$/
const PAX_TIME = /^-?\d+(?:\.\d+)?$/

function paxNumber(record: PaxRecord, pattern: RegExp, round: (n: number) => number): number {
  const text = decodeUtf8(record.value)
  if (!pattern.test(text)) throw new TarFormatError('TAR_BAD_PAX', record.offset, `pax ${record.key} is not a number: ${JSON.stringify(text)}`)
  const value = round(Number(text))
  if (!Number.isSafeInteger(value)) throw new TarFormatError('TAR_LIMIT', record.offset, `pax ${record.key} ${text} is beyond ${Number.MAX_SAFE_INTEGER}`)
  return value
}

function rejectSparse(record: PaxRecord): void {
  if (record.key.startsWith('GNU.sparse.')) {
    throw new TarFormatError('TAR_UNSUPPORTED', record.offset, `pax sparse files (${record.key}) are not supported`)
  }
}

/** Later records win (POSIX); an empty value removes the override, so the header field applies. */
function paxOverrides(records: readonly PaxRecord[]): PaxOverrides {
  const overrides: PaxOverrides = {}
  for (const record of records) {
    rejectSparse(record)
    const unset = record.value.byteLength === 0
    switch (record.key) {
      case 'path': {
        overrides.path = unset ? undefined : record.value.slice()
        break
      }

      case 'linkpath': {
        overrides.linkPath = unset ? undefined : record.value.slice()
        break
      }

      case 'size': {
        overrides.size = unset ? undefined : paxNumber(record, PAX_INTEGER, (n) => n)
        break
      }

      case 'mtime': {
        overrides.mtime = unset ? undefined : paxNumber(record, PAX_TIME, Math.floor)
        break
      }

      case 'uid': {
        overrides.uid = unset ? undefined : paxNumber(record, PAX_INTEGER, (n) => n)
        break
      }

      case 'gid': {
        overrides.gid = unset ? undefined : paxNumber(record, PAX_INTEGER, (n) => n)
        break
      }

      default: // Unknown keys (atime, ctime, comment, SCHILY.*, …) do not change what the entry is.
    }
  }

  return overrides
}

/** Global headers would change every later entry; one that renames or resizes cannot be applied faithfully here. */
function checkGlobalRecords(records: readonly PaxRecord[]): void {
  for (const record of records) {
    rejectSparse(record)
    if (record.key === 'path' || record.key === 'linkpath' || record.key === 'size') {
      throw new TarFormatError('TAR_UNSUPPORTED', record.offset, `pax global header sets ${record.key}`)
    }
  }
}

// ---------------------------------------------------------------------------------------
// The streaming parser
// ---------------------------------------------------------------------------------------

type ExtendedKind = 'pax' | 'pax-global' | 'gnu-longname' | 'gnu-longlink'

const EXTENDED_KINDS: ReadonlyMap<string, ExtendedKind> = new Map([
  ['x', 'pax'],
  ['g', 'pax-global'],
  ['L', 'gnu-longname'],
  ['K', 'gnu-longlink'],
])

interface ExtendedPayload {
  kind: ExtendedKind
  headerOffset: number
  bytes: Uint8Array
  filled: number
}

/** What the extended headers read so far say about the next entry. */
interface Pending {
  pax?: PaxOverrides
  paxOffset?: number
  longName?: Uint8Array
  longLink?: Uint8Array
  gnuOffset?: number
}

type Phase = 'header' | 'extended' | 'data' | 'padding' | 'after-end'

export class TarParser {
  readonly #handler: TarHandler
  readonly #maxExtendedHeaderBytes: number
  // Headers are always assembled here: word-aligned, so the checksum can be summed a word at a time.
  readonly #header = new Uint8Array(TAR_BLOCK_SIZE)
  readonly #headerWords = new Uint32Array(this.#header.buffer)
  readonly #headerText = Buffer.from(this.#header.buffer)
  #headerFilled = 0
  #phase: Phase = 'header'
  #position = 0
  /** Bytes left in the current data, padding or extended payload. */
  #remaining = 0
  #entryOffset = 0
  #entrySize = 0
  #extended: ExtendedPayload | undefined
  #pending: Pending = {}
  #zeroBlockOffset: number | undefined
  #failure: unknown
  #ended = false

  constructor(handler: TarHandler, limits: TarParserLimits = {}) {
    this.#handler = handler
    const max = limits.maxExtendedHeaderBytes ?? DEFAULT_MAX_EXTENDED_HEADER_BYTES
    // A NaN limit would compare false against every size, and so be no limit at all.
    if (!Number.isSafeInteger(max) || max < 0) throw new UsageError('TAR_BAD_LIMIT', `maxExtendedHeaderBytes must be a non-negative integer, got ${max}`)
    this.#maxExtendedHeaderBytes = max
  }

  /** Tar bytes consumed so far. */
  get bytesRead(): number {
    return this.#position
  }

  /** Feed the next bytes of the tar stream (any chunk size, including 1 byte). Throws TarFormatError. */
  write(chunk: Uint8Array): void {
    this.#assertUsable()
    // Buffers and other subclasses become plain views (no copy): one array shape keeps byte access fast.
    const bytes = chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    try {
      for (let at = 0; at < bytes.byteLength;) at = this.#step(bytes, at)
    } catch (error) {
      // A stream that failed once stays failed: later bytes cannot be interpreted.
      this.#failure = error
      throw error
    }
  }

  /** The input ended. Throws TAR_TRUNCATED inside a header, data or padding, TAR_NO_END_MARKER without the two zero blocks. */
  end(): void {
    this.#assertUsable()
    try {
      this.#checkEnding()
      this.#ended = true
    } catch (error) {
      this.#failure = error
      throw error
    }
  }

  #assertUsable(): void {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#ended) throw new Error('TarParser: the input has already ended')
  }

  #step(chunk: Uint8Array, at: number): number {
    switch (this.#phase) {
      case 'header': {
        return this.#stepHeader(chunk, at)
      }

      case 'extended': {
        return this.#stepExtended(chunk, at)
      }

      case 'data': {
        return this.#stepData(chunk, at)
      }

      case 'padding': {
        return this.#stepPadding(chunk, at)
      }

      case 'after-end': {
        return this.#stepAfterEnd(chunk, at)
      }
    }
  }

  #stepHeader(chunk: Uint8Array, at: number): number {
    const take = Math.min(TAR_BLOCK_SIZE - this.#headerFilled, chunk.byteLength - at)
    this.#header.set(chunk.subarray(at, at + take), this.#headerFilled)
    this.#headerFilled += take
    this.#position += take
    if (this.#headerFilled === TAR_BLOCK_SIZE) {
      this.#headerFilled = 0
      this.#onHeaderBlock(this.#position - TAR_BLOCK_SIZE)
    }

    return at + take
  }

  #stepExtended(chunk: Uint8Array, at: number): number {
    const extended = this.#extended!
    const take = Math.min(this.#remaining, chunk.byteLength - at)
    extended.bytes.set(chunk.subarray(at, at + take), extended.filled)
    extended.filled += take
    this.#remaining -= take
    this.#position += take
    if (this.#remaining === 0) this.#finishExtended()
    return at + take
  }

  #stepData(chunk: Uint8Array, at: number): number {
    const take = Math.min(this.#remaining, chunk.byteLength - at)
    this.#handler.data(chunk.subarray(at, at + take))
    this.#remaining -= take
    this.#position += take
    if (this.#remaining === 0) this.#finishEntry()
    return at + take
  }

  #stepPadding(chunk: Uint8Array, at: number): number {
    const take = Math.min(this.#remaining, chunk.byteLength - at)
    this.#remaining -= take
    this.#position += take
    if (this.#remaining === 0) this.#phase = 'header'
    return at + take
  }

  /** After the end marker writers pad to their record size with zeros; anything else is not part of the archive. */
  #stepAfterEnd(chunk: Uint8Array, at: number): number {
    const stray = firstNonZero(chunk, at)
    if (stray !== -1) {
      const offset = this.#position + (stray - at)
      throw new TarFormatError('TAR_TRAILING_DATA', offset, 'non-zero bytes after the end-of-archive marker')
    }

    this.#position += chunk.byteLength - at
    return chunk.byteLength
  }

  #onHeaderBlock(offset: number): void {
    const block = this.#header
    const byteSum = blockByteSum(this.#headerWords)
    if (byteSum === 0) {
      this.#onZeroBlock(offset)
      return
    }

    if (this.#zeroBlockOffset !== undefined) {
      throw new TarFormatError('TAR_BAD_HEADER', offset, `a lone zero block at ${this.#zeroBlockOffset} is followed by a header`)
    }

    verifyChecksum(block, byteSum, offset)
    const header = decodeHeader(block, this.#headerText, offset)
    const unsupported = UNSUPPORTED_TYPEFLAGS.get(header.typeflag)
    if (unsupported !== undefined) throw new TarFormatError('TAR_UNSUPPORTED', offset, `${unsupported} entries (typeflag '${header.typeflag}') are not supported`)
    const extendedKind = EXTENDED_KINDS.get(header.typeflag)
    if (extendedKind === undefined) this.#startEntry(header)
    else this.#startExtended(extendedKind, header)
  }

  #onZeroBlock(offset: number): void {
    this.#assertNothingPending('the end of the archive', offset)
    if (this.#zeroBlockOffset === undefined) {
      this.#zeroBlockOffset = offset
      return
    }

    this.#phase = 'after-end'
  }

  /** Extended headers must be followed by the entry they describe. */
  #assertNothingPending(what: string, offset: number): void {
    const pending = this.#pending
    if (pending.paxOffset !== undefined) {
      throw new TarFormatError('TAR_BAD_PAX', offset, `pax extended header at ${pending.paxOffset} is followed by ${what}`)
    }

    if (pending.gnuOffset !== undefined) {
      throw new TarFormatError('TAR_BAD_HEADER', offset, `GNU long-name header at ${pending.gnuOffset} is followed by ${what}`)
    }
  }

  #startExtended(kind: ExtendedKind, header: Header): void {
    this.#assertExtendedOrder(kind, header.offset)
    if (header.size > this.#maxExtendedHeaderBytes) {
      throw new TarFormatError('TAR_LIMIT', header.offset, `extended header of ${header.size} bytes is above the limit of ${this.#maxExtendedHeaderBytes}`)
    }

    this.#extended = {kind, headerOffset: header.offset, bytes: new Uint8Array(header.size), filled: 0}
    this.#remaining = header.size
    this.#phase = 'extended'
    if (header.size === 0) this.#finishExtended()
  }

  #assertExtendedOrder(kind: ExtendedKind, offset: number): void {
    const pending = this.#pending
    if (kind === 'pax-global') this.#assertNothingPending('a pax global header', offset)
    if (kind === 'pax' && pending.pax !== undefined) {
      throw new TarFormatError('TAR_BAD_PAX', offset, `pax extended header at ${pending.paxOffset} is followed by another one`)
    }

    const repeated = (kind === 'gnu-longname' && pending.longName) || (kind === 'gnu-longlink' && pending.longLink)
    if (repeated) throw new TarFormatError('TAR_BAD_HEADER', offset, `GNU long-name header at ${pending.gnuOffset} is followed by another of the same kind`)
  }

  #finishExtended(): void {
    const {kind, headerOffset, bytes} = this.#extended!
    this.#extended = undefined
    const payloadOffset = headerOffset + TAR_BLOCK_SIZE
    switch (kind) {
      case 'pax': {
        this.#pending.pax = paxOverrides(readPaxRecords(bytes, payloadOffset))
        this.#pending.paxOffset = headerOffset
        break
      }

      case 'pax-global': {
        checkGlobalRecords(readPaxRecords(bytes, payloadOffset))
        break
      }

      case 'gnu-longname': {
        this.#pending.longName = bytes.subarray(0, fieldEnd(bytes, [0, bytes.byteLength]))
        this.#pending.gnuOffset ??= headerOffset
        break
      }

      case 'gnu-longlink': {
        this.#pending.longLink = bytes.subarray(0, fieldEnd(bytes, [0, bytes.byteLength]))
        this.#pending.gnuOffset ??= headerOffset
        break
      }
    }

    this.#startPadding(bytes.byteLength)
  }

  #startEntry(header: Header): void {
    const entry = describeEntry(header, this.#pending)
    this.#pending = {}
    this.#entryOffset = header.offset
    this.#entrySize = entry.size
    this.#handler.entry(entry)
    this.#remaining = entry.size
    this.#phase = 'data'
    if (entry.size === 0) this.#finishEntry()
  }

  #finishEntry(): void {
    this.#handler.entryEnd()
    this.#startPadding(this.#entrySize)
  }

  #startPadding(size: number): void {
    this.#remaining = paddingAfter(size)
    this.#phase = this.#remaining === 0 ? 'header' : 'padding'
  }

  #checkEnding(): void {
    const at = this.#position
    switch (this.#phase) {
      case 'after-end': {
        return
      }

      case 'header': {
        if (this.#headerFilled > 0) throw new TarFormatError('TAR_TRUNCATED', at, `the input ends inside a header block that starts at ${at - this.#headerFilled}`)
        this.#assertNothingPending('the end of the input', at)
        throw new TarFormatError('TAR_NO_END_MARKER', at, this.#zeroBlockOffset === undefined ? 'the input ends without the end-of-archive marker' : 'the input ends after a single zero block')
      }

      case 'extended': {
        throw new TarFormatError('TAR_TRUNCATED', at, `the input ends inside the extended header at ${this.#extended!.headerOffset}`)
      }

      case 'data': {
        throw new TarFormatError('TAR_TRUNCATED', at, `the input ends ${this.#remaining} bytes short of the data of the entry at ${this.#entryOffset}`)
      }

      case 'padding': {
        throw new TarFormatError('TAR_TRUNCATED', at, `the input ends inside the padding after the entry at ${this.#entryOffset}`)
      }
    }
  }
}

function describeEntry(header: Header, pending: Pending): TarEntry {
  const pax = pending.pax ?? {}
  const [pathBytes, pathSource] = effectivePath(header, pending)
  const linkBytes = pax.linkPath ?? pending.longLink
  return {
    path: pathSource === 'ustar' ? header.pathText : decodeUtf8(pathBytes),
    pathBytes,
    headerPath: header.pathText,
    pathSource,
    type: ENTRY_TYPES.get(header.typeflag) ?? 'other',
    typeflag: header.typeflag,
    size: pax.size ?? header.size,
    mode: header.mode,
    uid: pax.uid ?? header.uid,
    gid: pax.gid ?? header.gid,
    mtime: pax.mtime ?? header.mtime,
    linkPath: linkBytes === undefined ? header.linkText : decodeUtf8(linkBytes),
    offset: header.offset,
  }
}

/** pax beats GNU long names beats the ustar fields, as in GNU tar and libarchive. */
function effectivePath(header: Header, pending: Pending): [Uint8Array, TarEntry['pathSource']] {
  if (pending.pax?.path !== undefined) return [pending.pax.path, 'pax']
  if (pending.longName !== undefined) return [pending.longName, 'gnu-longname']
  return [header.pathBytes, 'ustar']
}

const ZERO_RUN = Buffer.alloc(64 * 1024)

/** Index of the first non-zero byte from `start`, or -1; compares natively in 64 KiB runs. */
function firstNonZero(chunk: Uint8Array, start: number): number {
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  for (let runStart = start; runStart < bytes.byteLength; runStart += ZERO_RUN.byteLength) {
    const runEnd = Math.min(runStart + ZERO_RUN.byteLength, bytes.byteLength)
    if (ZERO_RUN.compare(bytes, runStart, runEnd, 0, runEnd - runStart) === 0) continue
    for (let i = runStart; i < runEnd; i++) if (bytes[i] !== NUL) return i
  }

  return -1
}

// ---------------------------------------------------------------------------------------
// Writer: deterministic headers
// ---------------------------------------------------------------------------------------

export interface TarHeaderInput {
  /** UTF-8, '/'-separated; a directory's path ends in '/' (added when missing). */
  path: string
  size: number
  type: 'file' | 'directory'
  /** Default 0o644 for files, 0o755 for directories. */
  mode?: number
  /** Seconds since the epoch. */
  mtime: number
}

/** The largest value of an 11-digit octal field (8 GiB - 1): beyond it a pax record carries the value. */
const MAX_OCTAL_11 = 0o77777777777
const PAX_NAME_PREFIX = 'PaxHeaders/'
const MAX_PAX_NAME_TAIL = NAME[1] - PAX_NAME_PREFIX.length

interface UstarFields {
  name: Uint8Array
  prefix: Uint8Array
  mode: number
  size: number
  mtime: number
  typeflag: string
}

function invalidInput(message: string): UsageError {
  return new UsageError('TAR_BAD_INPUT', message)
}

// Strings with lone surrogates have no UTF-8 form: the encoder would silently write U+FFFD.
const LONE_SURROGATE = /\p{Surrogate}/u

function normalizedPath(input: TarHeaderInput): string {
  const {path, type} = input
  if (path === '' || path === '/') throw invalidInput('a tar entry needs a non-empty path')
  if (path.includes('\0')) throw invalidInput(`tar path contains a NUL character: ${JSON.stringify(path)}`)
  if (LONE_SURROGATE.test(path)) throw invalidInput(`tar path is not valid Unicode: ${JSON.stringify(path)}`)
  if (type === 'file' && path.endsWith('/')) throw invalidInput(`a file path cannot end in '/': ${path}`)
  return type === 'directory' && !path.endsWith('/') ? `${path}/` : path
}

function validatedNumber(value: number, what: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw invalidInput(`tar ${what} must be an integer from 0 to ${max}, got ${value}`)
  return value
}

/** The ustar name/prefix split of a path, when it fits: the name at most 100 bytes, the prefix at most 155, cut at a '/'. */
function ustarSplit(bytes: Uint8Array): {name: Uint8Array; prefix: Uint8Array} | undefined {
  if (bytes.byteLength <= NAME[1]) return {name: bytes, prefix: new Uint8Array(0)}
  // The slash before the name: the first one that leaves a name of at most 100 bytes, if the prefix then fits.
  const earliest = bytes.byteLength - NAME[1] - 1
  for (let slash = Math.max(earliest, 1); slash <= PREFIX[1] && slash < bytes.byteLength - 1; slash++) {
    if (bytes[slash] === SLASH) return {name: bytes.subarray(slash + 1), prefix: bytes.subarray(0, slash)}
  }

  return undefined
}

function isUtf8Continuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80
}

/** The first `max` bytes, cut back so no UTF-8 character is split. */
function utf8Head(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.byteLength <= max) return bytes
  let end = max
  while (end > 0 && isUtf8Continuation(bytes[end])) end--
  return bytes.subarray(0, end)
}

/** The last `max` bytes, cut forward so no UTF-8 character is split. */
function utf8Tail(bytes: Uint8Array, max: number): Uint8Array {
  let start = Math.max(0, bytes.byteLength - max)
  while (start < bytes.byteLength && isUtf8Continuation(bytes[start])) start++
  return bytes.subarray(start)
}

function basenameBytes(path: string): Uint8Array {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path
  return utf8Encoder.encode(trimmed.slice(trimmed.lastIndexOf('/') + 1))
}

function writeOctal(block: Uint8Array, [start, length]: Field, value: number): void {
  // length - 1 zero-padded digits, then NUL: the form GNU tar writes.
  const digits = value.toString(8).padStart(length - 1, '0')
  for (let i = 0; i < digits.length; i++) block[start + i] = digits.charCodeAt(i)
}

function writeAscii(block: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) block[at + i] = text.charCodeAt(i)
}

function ustarBlock(fields: UstarFields): Uint8Array {
  const block = new Uint8Array(TAR_BLOCK_SIZE)
  block.set(fields.name, NAME[0])
  writeOctal(block, MODE, fields.mode)
  writeOctal(block, UID, 0)
  writeOctal(block, GID, 0)
  writeOctal(block, SIZE, fields.size)
  writeOctal(block, MTIME, fields.mtime)
  writeAscii(block, TYPEFLAG_AT, fields.typeflag)
  writeAscii(block, MAGIC_AT, 'ustar\u000000')
  writeOctal(block, [329, 8], 0) // devmajor
  writeOctal(block, [337, 8], 0) // devminor
  block.set(fields.prefix, PREFIX[0])
  writeChecksum(block)
  return block
}

function writeChecksum(block: Uint8Array): void {
  block.fill(SPACE, CHECKSUM[0], CHECKSUM[0] + CHECKSUM[1])
  let sum = 0
  for (const byte of block) sum += byte
  // Six digits, NUL, space: the historic layout every reader accepts.
  writeOctal(block, [CHECKSUM[0], 7], sum)
  block[CHECKSUM[0] + 6] = NUL
}

/** "LEN key=value\n", where LEN counts its own digits too. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = concatBytes([utf8Encoder.encode(` ${key}=`), value, Uint8Array.of(NEWLINE)])
  const digits = String(body.byteLength).length
  let length = body.byteLength + digits
  // Adding the digits can carry into one more digit (e.g. 98 + 2 = 100).
  if (String(length).length > digits) length += 1
  return concatBytes([utf8Encoder.encode(String(length)), body])
}

/**
 * The header block(s) for one entry: a ustar header, preceded by a pax 'x' header when
 * the path is not ASCII or does not fit the name/prefix split, or the size or mtime
 * does not fit 11 octal digits. Deterministic: uid/gid 0, empty owner names.
 */
export function tarHeader(input: TarHeaderInput): Uint8Array {
  const path = normalizedPath(input)
  const size = validatedNumber(input.size, 'size', Number.MAX_SAFE_INTEGER)
  if (input.type === 'directory' && size !== 0) throw invalidInput(`a directory entry has no data, got size ${size}: ${path}`)
  const mode = validatedNumber(input.mode ?? (input.type === 'directory' ? 0o755 : 0o644), 'mode', 0o7777)
  const mtime = validatedNumber(input.mtime, 'mtime', Number.MAX_SAFE_INTEGER)
  const pathBytes = utf8Encoder.encode(path)
  const split = isAscii(pathBytes) ? ustarSplit(pathBytes) : undefined
  const records: Uint8Array[] = []
  if (split === undefined) records.push(paxRecord('path', pathBytes))
  if (size > MAX_OCTAL_11) records.push(paxRecord('size', utf8Encoder.encode(String(size))))
  if (mtime > MAX_OCTAL_11) records.push(paxRecord('mtime', utf8Encoder.encode(String(mtime))))
  const headerMtime = mtime > MAX_OCTAL_11 ? 0 : mtime
  const entry = ustarBlock({
    name: split?.name ?? utf8Head(pathBytes, NAME[1]),
    prefix: split?.prefix ?? new Uint8Array(0),
    mode,
    size: size > MAX_OCTAL_11 ? 0 : size,
    mtime: headerMtime,
    typeflag: input.type === 'directory' ? '5' : '0',
  })
  if (records.length === 0) return entry
  const payload = concatBytes(records)
  const paxHeader = ustarBlock({
    name: concatBytes([utf8Encoder.encode(PAX_NAME_PREFIX), utf8Tail(basenameBytes(path), MAX_PAX_NAME_TAIL)]),
    prefix: new Uint8Array(0),
    mode: 0o644,
    size: payload.byteLength,
    mtime: headerMtime,
    typeflag: 'x',
  })
  return concatBytes([paxHeader, payload, tarPadding(payload.byteLength), entry])
}

/** Zero bytes that pad `size` payload bytes up to a multiple of 512. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array(paddingAfter(size))
}

/** The end-of-archive marker: two 512-byte zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * TAR_BLOCK_SIZE)
}
