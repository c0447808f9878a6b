/**
 * A strict one-pass gzip reader (RFC 1952): exactly one member, then the end of the input.
 *
 * zlib's own gunzip decodes concatenated members and skips trailing bytes without a word, so
 * a bundle could carry bytes that no verifier ever looked at. Here the member header is parsed
 * by hand, the deflate data is inflated raw in libuv's threadpool, CRC-32 and length of the
 * output are computed with zlib.crc32, and the 8-byte trailer must be followed by nothing.
 *
 * Decompressed chunks are zlib's own output buffers, handed on without copying. Inflating
 * runs a few MiB ahead of the consumer, so hashing one chunk overlaps inflating the next;
 * input and output buffering are both bounded. Every yielded chunk is provisional until the
 * generator finishes: the trailer can only be checked after the last one.
 */
import {type InflateRaw, crc32, createInflateRaw} from 'node:zlib'

import {InputError} from '../errors.js'

export type GzipErrorCode =
  /** The input is empty, or does not begin with 1f 8b. */
  | 'NOT_GZIP'
  /** Compression method not 8, reserved flag bits set, header cut short, or header CRC16 wrong. */
  | 'GZIP_BAD_HEADER'
  /** zlib rejected the deflate data. */
  | 'GZIP_CORRUPT'
  /** The input ends inside the deflate data or the trailer. */
  | 'GZIP_TRUNCATED'
  | 'GZIP_CRC_MISMATCH'
  | 'GZIP_SIZE_MISMATCH'
  /** Bytes after the trailer that begin with 1f 8b: concatenated members. */
  | 'GZIP_SECOND_MEMBER'
  /** Any other byte after the trailer, zeros included. */
  | 'GZIP_TRAILING_BYTES'

const REMEDY = 'The bundle is damaged or is not a single gzip member; obtain a fresh copy from its source.'
const NOT_GZIP_REMEDY = 'An evidence bundle is a gzip-compressed tar file (.tar.gz); check the path.'

/**
 * Input that is not exactly one valid gzip member (an input error, exit 3). `offset` is a
 * byte offset in the compressed input: the header byte at fault, the trailer field that does
 * not match, the first byte after the trailer, or where the input ended for truncation. It is
 * absent for corrupt deflate data, whose fault zlib does not locate.
 */
export class GzipFormatError extends InputError {
  declare readonly code: GzipErrorCode
  readonly offset?: number
  /** The message without the offset, as the constructor was given it. */
  readonly detail: string

  constructor(code: GzipErrorCode, message: string, offset?: number) {
    super(code, offset === undefined ? message : `${message} (gzip offset ${offset})`, {remedy: code === 'NOT_GZIP' ? NOT_GZIP_REMEDY : REMEDY})
    this.detail = message
    if (offset !== undefined) this.offset = offset
  }
}

export interface GunzipOptions {
  /** Output chunk size; default 1 MiB (zlib's 16 KiB default is ~4x slower). */
  chunkSize?: number
  /** Called as compressed bytes are consumed from the source (for a progress bar). */
  onCompressedBytes?: (total: number) => void
}

const DEFAULT_CHUNK_SIZE = 1 << 20
/** Decompressed bytes held for the consumer before inflating pauses: enough to keep the threadpool busy. */
const READ_AHEAD = 4 << 20
/** Compressed bytes queued in front of inflate, so it never waits for the next read. */
const WRITE_AHEAD = 2 << 20
const TRAILER_SIZE = 8
/** The trailer and two more bytes: enough to tell a second member (1f 8b) from other trailing bytes. */
export const TAIL_WANTED = TRAILER_SIZE + 2

const ID1 = 0x1f
const ID2 = 0x8b
const CM_DEFLATE = 8
const FIXED_HEADER_SIZE = 10
const FHCRC = 0x02
const FEXTRA = 0x04
const FNAME = 0x08
const FCOMMENT = 0x10
const FLG_RESERVED = 0xe0

type HeaderStep = 'fixed' | 'xlen' | 'extra' | 'name' | 'comment' | 'hcrc' | 'done'

const STEP_NAMES: Record<HeaderStep, string> = {
  fixed: 'fixed 10-byte header',
  xlen: 'extra-field length',
  extra: 'extra field',
  name: 'file name',
  comment: 'comment',
  hcrc: 'header CRC',
  done: 'header',
}

const hex = (byte: number): string => byte.toString(16).padStart(2, '0')

/** The member header, parsed byte by byte as it arrives; names and comments are skipped, never buffered. */
export class MemberHeader {
  /** Header bytes taken so far; once done, the offset where the deflate data begins. */
  length = 0
  #step: HeaderStep = 'fixed'
  #flags = 0
  #firstByte = 0
  /** A little-endian 16-bit field being assembled (XLEN or CRC16). */
  #field = 0
  #fieldBytes = 0
  #extraLeft = 0
  #crc = 0
  /** The CRC16 covers every header byte before it. */
  #hashing = true

  get done(): boolean {
    return this.#step === 'done'
  }

  /** Takes header bytes from the front of `chunk` and returns how many it took: all of them while the header goes on. */
  take(chunk: Uint8Array): number {
    let i = 0
    while (i < chunk.length && this.#step !== 'done') {
      const offset = this.length + i
      switch (this.#step) {
        case 'fixed': {
          this.#fixedByte(offset, chunk[i]!)
          i += 1
          if (offset + 1 === FIXED_HEADER_SIZE) this.#advance()
          break
        }

        case 'xlen': {
          if (this.#takeFieldByte(chunk[i]!)) {
            this.#extraLeft = this.#field
            this.#advance()
          }

          i += 1
          break
        }

        case 'extra': {
          const n = Math.min(this.#extraLeft, chunk.length - i)
          i += n
          this.#extraLeft -= n
          if (this.#extraLeft === 0) this.#advance()
          break
        }

        case 'name':
        case 'comment': {
          const zero = chunk.indexOf(0, i)
          if (zero < 0) {
            i = chunk.length
          } else {
            i = zero + 1
            this.#advance()
          }

          break
        }

        case 'hcrc': {
          if (this.#hashing) {
            this.#crc = crc32(chunk.subarray(0, i), this.#crc)
            this.#hashing = false
          }

          if (this.#takeFieldByte(chunk[i]!)) {
            const expected = this.#crc & 0xffff
            if (this.#field !== expected) {
              throw new GzipFormatError('GZIP_BAD_HEADER', `header CRC16 is 0x${this.#field.toString(16).padStart(4, '0')}, the header sums to 0x${expected.toString(16).padStart(4, '0')}`, offset - 1)
            }

            this.#advance()
          }

          i += 1
          break
        }
      }
    }

    if (this.#hashing) this.#crc = crc32(chunk.subarray(0, i), this.#crc)
    this.length += i
    return i
  }

  /** The error for an input that ended inside the header. */
  truncated(): GzipFormatError {
    if (this.length === 0) return new GzipFormatError('NOT_GZIP', 'not a gzip file: the input is empty', 0)
    if (this.length === 1) return new GzipFormatError('NOT_GZIP', 'not a gzip file: the input is a single byte', 1)
    return new GzipFormatError('GZIP_BAD_HEADER', `the gzip header is cut short: the input ends inside the ${STEP_NAMES[this.#step]}`, this.length)
  }

  #fixedByte(offset: number, byte: number): void {
    if (offset === 0) {
      this.#firstByte = byte
      if (byte !== ID1) throw new GzipFormatError('NOT_GZIP', `not a gzip file: its first byte is 0x${hex(byte)}, a gzip file begins with 1f 8b`, 0)
    } else if (offset === 1) {
      if (byte !== ID2) throw new GzipFormatError('NOT_GZIP', `not a gzip file: it begins with ${hex(this.#firstByte)} ${hex(byte)}, a gzip file begins with 1f 8b`, 1)
    } else if (offset === 2) {
      if (byte !== CM_DEFLATE) throw new GzipFormatError('GZIP_BAD_HEADER', `compression method ${byte} is not deflate (8)`, 2)
    } else if (offset === 3) {
      if (byte & FLG_RESERVED) throw new GzipFormatError('GZIP_BAD_HEADER', `reserved header flag bits are set (FLG 0x${hex(byte)})`, 3)
      this.#flags = byte
    }
  }

  #takeFieldByte(byte: number): boolean {
    this.#field |= byte << (8 * this.#fieldBytes)
    this.#fieldBytes += 1
    return this.#fieldBytes === 2
  }

  /** Moves to the next part the flags call for (RFC 1952 §2.3.1 order). */
  #advance(): void {
    const order: HeaderStep[] = ['fixed', 'xlen', 'extra', 'name', 'comment', 'hcrc', 'done']
    const present = (step: HeaderStep): boolean => {
      switch (step) {
        case 'xlen': return (this.#flags & FEXTRA) !== 0
        case 'extra': return this.#extraLeft > 0
        case 'name': return (this.#flags & FNAME) !== 0
        case 'comment': return (this.#flags & FCOMMENT) !== 0
        case 'hcrc': return (this.#flags & FHCRC) !== 0
        default: return true
      }
    }

    let index = order.indexOf(this.#step) + 1
    while (!present(order[index]!)) index += 1
    this.#step = order[index]!
    this.#field = 0
    this.#fieldBytes = 0
  }
}

interface PendingWrite {
  chunk: Uint8Array
  /** Deflate-data offset just past this chunk. */
  end: number
}

/** Waits for a writable to drain, or to end one way or another (then there is nothing to wait for). */
function drained(stream: InflateRaw): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      stream.off('error', done)
      resolve()
    }

    stream.on('drain', done)
    stream.on('close', done)
    stream.on('error', done)
  })
}

/** Waits until every write has been processed, or the stream failed. */
function finished(stream: InflateRaw): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableFinished || stream.destroyed) return resolve()
    const done = (): void => {
      stream.off('finish', done)
      stream.off('close', done)
      stream.off('error', done)
      resolve()
    }

    stream.on('finish', done)
    stream.on('close', done)
    stream.on('error', done)
  })
}

/** zlib's error for the deflate data, as a GzipFormatError when it is one; `read` is where the input ended. */
export function inflateFailure(error: Error & {code?: string}, read: number): Error {
  if (error.code === 'Z_DATA_ERROR') return new GzipFormatError('GZIP_CORRUPT', `the deflate data is corrupt: ${error.message}`)
  if (error.code === 'Z_BUF_ERROR') return new GzipFormatError('GZIP_TRUNCATED', 'the input ends inside the deflate data', read)
  return error
}

/** What follows the deflate data, and what the decoder counted. */
export interface MemberEnd {
  /** Offset of the trailer in the compressed input. */
  trailerOffset: number
  /** The bytes after the deflate data: up to TAIL_WANTED, fewer only where the input ended. */
  tail: Uint8Array
  /** Compressed bytes read in all. */
  read: number
  /** CRC-32 and length of the decompressed bytes. */
  crc: number
  size: number
}

/** The trailer's CRC-32 and size must match the data, and nothing may follow it. */
export function checkMemberEnd({trailerOffset, tail, read, crc, size}: MemberEnd): void {
  if (tail.length < TRAILER_SIZE) {
    throw new GzipFormatError('GZIP_TRUNCATED', `the input ends inside the gzip trailer (${tail.length} of ${TRAILER_SIZE} bytes)`, read)
  }

  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
  const storedCrc = view.getUint32(0, true)
  if (storedCrc !== crc) {
    throw new GzipFormatError('GZIP_CRC_MISMATCH', `the trailer's CRC-32 is ${storedCrc.toString(16).padStart(8, '0')}, the data's is ${crc.toString(16).padStart(8, '0')}`, trailerOffset)
  }

  const storedSize = view.getUint32(4, true)
  if (storedSize !== size % 2 ** 32) {
    throw new GzipFormatError('GZIP_SIZE_MISMATCH', `the trailer's size is ${storedSize} (mod 2^32), the data is ${size} bytes`, trailerOffset + 4)
  }

  if (tail.length > TRAILER_SIZE) {
    const afterOffset = trailerOffset + TRAILER_SIZE
    if (tail.length >= TRAILER_SIZE + 2 && tail[TRAILER_SIZE] === ID1 && tail[TRAILER_SIZE + 1] === ID2) {
      throw new GzipFormatError('GZIP_SECOND_MEMBER', 'a second gzip member follows the first; a bundle is exactly one member', afterOffset)
    }

    throw new GzipFormatError('GZIP_TRAILING_BYTES', `bytes follow the gzip trailer (the first is 0x${hex(tail[TRAILER_SIZE]!)})`, afterOffset)
  }
}

/**
 * The state shared by the two halves: a feeder task that reads the source, parses the header
 * and writes deflate data to inflate, and the generator that hands inflate's output on.
 */
class MemberDecoder {
  readonly #source: AsyncIterable<Uint8Array>
  readonly #iterator: AsyncIterator<Uint8Array>
  readonly #onCompressedBytes: ((total: number) => void) | undefined
  readonly #inflate: InflateRaw
  readonly #header = new MemberHeader()

  // Output side.
  readonly #queue: Uint8Array[] = []
  #queued = 0
  #crc = 0
  #size = 0
  #outputEnded = false
  #inflateError: Error | undefined

  // Input side.
  /** Compressed bytes read from the source. */
  #read = 0
  /** Deflate-data bytes written to inflate. */
  #written = 0
  /** Written chunks whose write callback has not come yet: the deflate data may end in any of them. */
  #pending: PendingWrite[] = []
  /** Where the deflate data ended, relative to its start; -1 until known. */
  #deflateEnd = -1
  /** The first bytes after the deflate data: the trailer, then whatever follows it. */
  readonly #tail = new Uint8Array(TAIL_WANTED)
  #tailLength = 0
  #feedDone = false
  #feedError: unknown
  #aborted = false

  #wake: (() => void) | undefined

  constructor(source: AsyncIterable<Uint8Array>, options: GunzipOptions) {
    this.#source = source
    this.#iterator = source[Symbol.asyncIterator]()
    this.#onCompressedBytes = options.onCompressedBytes
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
    // zlib passes stream options through to its Transform; its typings only know its own.
    const buffering = {readableHighWaterMark: chunkSize, writableHighWaterMark: WRITE_AHEAD}
    this.#inflate = createInflateRaw({chunkSize, ...buffering})
    this.#inflate.on('data', (chunk: Buffer) => this.#output(chunk))
    this.#inflate.on('end', () => {
      this.#outputEnded = true
      this.#notify()
    })
    this.#inflate.on('error', (error) => {
      this.#inflateError ??= error
      this.#notify()
    })
    void this.#feed()
  }

  /** The next decompressed chunk, if one is waiting. */
  take(): Uint8Array | undefined {
    const chunk = this.#queue.shift()
    if (chunk === undefined) return undefined
    // Summed here, not as inflate hands the chunk over: that runs before inflate is given its
    // next piece of work, so the threadpool would sit idle while the main thread sums.
    this.#crc = crc32(chunk, this.#crc)
    this.#queued -= chunk.length
    if (this.#queued < READ_AHEAD && this.#inflate.isPaused()) this.#inflate.resume()
    return chunk
  }

  get outputEnded(): boolean {
    return this.#outputEnded
  }

  get feedDone(): boolean {
    return this.#feedDone
  }

  /** Resolves at the next event of interest (output, end, failure, feeder done). */
  changed(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve))
  }

  throwIfFailed(): void {
    if (this.#feedError !== undefined) throw this.#feedError
    if (this.#inflateError !== undefined) throw inflateFailure(this.#inflateError, this.#read)
  }

  /** After the output ended and the feeder finished: the trailer, then the end of the input. */
  checkTrailer(): void {
    checkMemberEnd({
      trailerOffset: this.#header.length + (this.#deflateEnd < 0 ? this.#written : this.#deflateEnd),
      tail: this.#tail.subarray(0, this.#tailLength),
      read: this.#read,
      crc: this.#crc,
      size: this.#size,
    })
  }

  /** Stops everything: the consumer left early, or decoding failed. */
  abort(): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#inflate.destroy()
    this.#queue.length = 0
    this.#pending = []
    if (!this.#feedDone) this.#closeSource()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #output(chunk: Buffer): void {
    if (this.#aborted) return
    this.#size += chunk.length
    this.#queue.push(chunk)
    this.#queued += chunk.length
    if (this.#queued >= READ_AHEAD) this.#inflate.pause()
    this.#notify()
  }

  /** Reads the source to its end, or until the bytes after the deflate data are known. Never rejects. */
  async #feed(): Promise<void> {
    let exhausted = false
    try {
      while (!this.#aborted) {
        const result = await this.#iterator.next()
        if (result.done) {
          exhausted = true
          break
        }

        const chunk = result.value
        if (this.#aborted || chunk.length === 0) continue
        this.#read += chunk.length
        this.#onCompressedBytes?.(this.#read)

        let body = chunk
        if (!this.#header.done) {
          const taken = this.#header.take(chunk)
          if (!this.#header.done) continue
          body = chunk.subarray(taken)
        }

        if (body.length === 0) continue
        if (this.#deflateEnd >= 0) {
          this.#addTail(body)
        } else if (this.#inflateError === undefined && !this.#inflate.destroyed) {
          this.#written += body.length
          this.#pending.push({chunk: body, end: this.#written})
          if (!this.#inflate.write(body, (error) => this.#writeDone(error))) await drained(this.#inflate)
        }

        if (this.#tailLength >= TAIL_WANTED || this.#inflateError !== undefined) break
      }

      if (this.#aborted) return
      if (!this.#header.done) throw this.#header.truncated()
      if (!exhausted) this.#closeSource()
      if (this.#inflateError === undefined && !this.#inflate.destroyed) this.#inflate.end()
      // The write callbacks tell where the deflate data ended; the last may come with the final flush.
      await finished(this.#inflate)
    } catch (error) {
      if (!this.#aborted) this.#feedError = error
      if (!exhausted && !this.#aborted) this.#closeSource()
    } finally {
      this.#feedDone = true
      this.#notify()
    }
  }

  /** A write was processed: if inflate left part of it, the deflate data ended there. */
  #writeDone(error: Error | null | undefined): void {
    const write = this.#pending.shift()
    if (error || write === undefined || this.#deflateEnd >= 0) return
    const consumed = this.#inflate.bytesWritten
    if (consumed >= write.end) return
    this.#deflateEnd = consumed
    this.#addTail(write.chunk.subarray(consumed - (write.end - write.chunk.length)))
    for (const later of this.#pending) this.#addTail(later.chunk)
    this.#pending = []
  }

  #addTail(bytes: Uint8Array): void {
    const n = Math.min(bytes.length, TAIL_WANTED - this.#tailLength)
    this.#tail.set(bytes.subarray(0, n), this.#tailLength)
    this.#tailLength += n
  }

  /** Stops reading: streams are destroyed (closing a file at once), other iterables are returned. */
  #closeSource(): void {
    const destroy = (this.#source as {destroy?: unknown}).destroy
    if (typeof destroy === 'function') destroy.call(this.#source)
    // A later microtask, so a return() that throws at once is caught like one that rejects.
    else void Promise.resolve().then(() => this.#iterator.return?.()).catch(() => {})
  }
}

/**
 * Decompresses exactly one gzip member from `source`, yielding the decompressed bytes in order.
 * Throws GzipFormatError for anything that is not exactly one valid member; errors of the
 * source itself are passed on as they are. Leaving the loop early destroys the source.
 */
export async function* gunzipSingleMember(source: AsyncIterable<Uint8Array>, options: GunzipOptions = {}): AsyncGenerator<Uint8Array> {
  const decoder = new MemberDecoder(source, options)
  let complete = false
  try {
    for (;;) {
      const chunk = decoder.take()
      if (chunk !== undefined) {
        yield chunk
        continue
      }

      decoder.throwIfFailed()
      if (decoder.outputEnded) break
      await decoder.changed()
    }

    while (!decoder.feedDone) {
      decoder.throwIfFailed()
      await decoder.changed()
    }

    decoder.throwIfFailed()
    decoder.checkTrailer()
    complete = true
  } finally {
    if (!complete) decoder.abort()
  }
}
