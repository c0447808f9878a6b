/**
 * `gunzipSingleMember` for a thread that may block: the same header parser and end checks, over
 * a file descriptor, with zlib driven synchronously.
 *
 * Node's zlib streams allocate a new output buffer for every chunk they fill. On a thread that
 * does little else, the dead buffers pile up until V8 collects them on external-memory pressure,
 * and peak RSS grows with the size of the bundle. Here the input is read into one buffer and the
 * deflate data is inflated straight into memory the caller lends (the shared slots of
 * gzip-thread.ts): nothing is allocated per chunk, and nothing is copied.
 *
 * zlib's synchronous, caller-buffered interface is the native handle behind `createInflateRaw()`;
 * Node's own `*Sync` functions drive it the same way. `syncInflateAvailable` says whether this
 * runtime has it in the expected shape; where it does not, callers use the streaming decoder.
 */
import {readSync} from 'node:fs'
import {type InflateRaw, constants, crc32, createInflateRaw} from 'node:zlib'

import {MemberHeader, TAIL_WANTED, checkMemberEnd, inflateFailure} from './gzip.js'

/** zlib's native handle: `writeSync` inflates `in[inOffset, +inLength)` into `out[outOffset, +outLength)`. */
interface NativeInflate {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, out: Uint8Array, outOffset: number, outLength: number): void
  onerror: (message: string, errno: number, code: string) => void
}

interface InflateInternals {
  _handle?: NativeInflate
  /** [output bytes left, input bytes left] after each write. */
  _writeState?: Uint32Array
}

const internals = (stream: InflateRaw): InflateInternals => stream as unknown as InflateInternals

/** Whether zlib's native handle is there, as Node 20 has it. */
export function syncInflateAvailable(): boolean {
  const stream = createInflateRaw()
  try {
    const {_handle: handle, _writeState: state} = internals(stream)
    return typeof handle?.writeSync === 'function' && state instanceof Uint32Array && state.length === 2
  } finally {
    stream.close()
  }
}

/** Raw inflate over caller-owned memory. */
class RawInflater {
  readonly #stream = createInflateRaw()
  readonly #handle: NativeInflate
  readonly #state: Uint32Array
  #error: (Error & {code?: string}) | undefined
  /** After each write: input bytes it took and output bytes it produced. */
  consumed = 0
  produced = 0

  constructor() {
    const {_handle: handle, _writeState: state} = internals(this.#stream)
    this.#handle = handle!
    this.#state = state!
    // Called synchronously from inside writeSync, in place of the stream's own handler.
    this.#handle.onerror = (message, errno, code) => {
      this.#error = Object.assign(new Error(message), {errno, code})
    }
  }

  /** Throws zlib's error (Z_DATA_ERROR, or Z_BUF_ERROR for a finish before the end) as it comes. */
  write(flush: number, input: Uint8Array, inOffset: number, inLength: number, out: Uint8Array, outOffset: number, outLength: number): void {
    this.#handle.writeSync(flush, input, inOffset, inLength, out, outOffset, outLength)
    if (this.#error !== undefined) throw this.#error
    this.produced = outLength - this.#state[0]!
    this.consumed = inLength - this.#state[1]!
  }

  close(): void {
    this.#stream.close()
  }
}

/** Where the decompressed bytes go: regions of caller memory, filled one after another. */
export interface RegionSink {
  /** The region to fill next (may block until one is free). */
  next(): Uint8Array
  /** The first `length` bytes of the current region are final: it is full, or the data ended. */
  filled(length: number, compressedBytes: number): void
}

/**
 * Decompresses exactly one gzip member from `fd` (read from its current position to its end)
 * into the sink's regions. Throws what `gunzipSingleMember` throws for the same bytes, with the
 * same codes, messages and offsets; regions handed over before a throw are provisional.
 * Returns how many compressed bytes it read.
 */
export function gunzipFdSync(fd: number, pieceSize: number, sink: RegionSink): number {
  const input = Buffer.allocUnsafeSlow(pieceSize)
  const header = new MemberHeader()
  const inflater = new RawInflater()
  let read = 0
  let inOffset = 0
  let inLength = 0
  const readPiece = (): boolean => {
    inOffset = 0
    inLength = readSync(fd, input, 0, pieceSize, null)
    read += inLength
    return inLength > 0
  }

  let crc = 0
  let size = 0
  let region = sink.next()
  let outOffset = 0
  const inflate = (flush: number, from: number, length: number): void => {
    try {
      inflater.write(flush, input, from, length, region, outOffset, region.length - outOffset)
    } catch (error) {
      throw inflateFailure(error as Error, read)
    }
  }

  const handOver = (): void => {
    crc = crc32(region.subarray(0, outOffset), crc)
    size += outOffset
    sink.filled(outOffset, read)
  }

  try {
    while (!header.done) {
      if (!readPiece()) throw header.truncated()
      const taken = header.take(input.subarray(0, inLength))
      inOffset = taken
      inLength -= taken
    }

    // Deflate-data bytes inflate took; where it stopped short with room left, the data ended.
    let consumed = 0
    let ended = false
    while (!ended) {
      if (inLength === 0 && !readPiece()) {
        // A finish with no more input: zlib tells "ended exactly here" from "cut short".
        inflate(constants.Z_FINISH, 0, 0)
        break
      }

      inflate(constants.Z_NO_FLUSH, inOffset, inLength)
      consumed += inflater.consumed
      inOffset += inflater.consumed
      inLength -= inflater.consumed
      outOffset += inflater.produced
      if (outOffset === region.length) {
        handOver()
        region = sink.next()
        outOffset = 0
      } else if (inLength > 0) {
        ended = true
      }
    }

    const tail = new Uint8Array(TAIL_WANTED)
    let tailLength = 0
    for (;;) {
      const n = Math.min(inLength, TAIL_WANTED - tailLength)
      tail.set(input.subarray(inOffset, inOffset + n), tailLength)
      tailLength += n
      if (tailLength === TAIL_WANTED || !readPiece()) break
    }

    if (outOffset > 0) handOver()
    checkMemberEnd({trailerOffset: header.length + consumed, tail: tail.subarray(0, tailLength), read, crc, size})
    return read
  } finally {
    inflater.close()
  }
}
