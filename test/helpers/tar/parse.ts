/** Runs TarParser over bytes in chosen chunkings and records exactly what the handler saw. */
import {createHash} from 'node:crypto'

import {type TarEntry, TarFormatError, TarParser, type TarParserLimits} from '../../../src/lib/bundle/tar.js'
import {seededRandom} from '../random.js'

export interface ParsedTar {
  entries: TarEntry[]
  /** The data of each entry, concatenated. */
  contents: Buffer[]
  /** How many data() calls each entry got. */
  dataCalls: number[]
  bytesRead: number
}

/** A handler that copies every data view and checks the entry/data/entryEnd protocol as it goes. */
function recordingHandler(parsed: ParsedTar) {
  let open = false
  let pieces: Buffer[] = []
  return {
    entry(entry: TarEntry) {
      if (open) throw new Error('entry() before the previous entryEnd()')
      open = true
      pieces = []
      parsed.entries.push(entry)
      parsed.dataCalls.push(0)
    },
    data(chunk: Uint8Array) {
      if (!open) throw new Error('data() outside an entry')
      if (chunk.byteLength === 0) throw new Error('data() with no bytes')
      pieces.push(Buffer.from(chunk))
      parsed.dataCalls[parsed.dataCalls.length - 1]! += 1
    },
    entryEnd() {
      if (!open) throw new Error('entryEnd() outside an entry')
      open = false
      parsed.contents.push(Buffer.concat(pieces))
    },
  }
}

/** Parses `chunks` in order and calls end(). */
export function parseChunks(chunks: Iterable<Uint8Array>, limits?: TarParserLimits): ParsedTar {
  const parsed: ParsedTar = {entries: [], contents: [], dataCalls: [], bytesRead: 0}
  const parser = new TarParser(recordingHandler(parsed), limits)
  for (const chunk of chunks) parser.write(chunk)
  parser.end()
  parsed.bytesRead = parser.bytesRead
  return parsed
}

export function parseTar(bytes: Uint8Array, limits?: TarParserLimits): ParsedTar {
  return parseChunks([bytes], limits)
}


export function randomBytes(length: number, seed: number): Buffer {
  const random = seededRandom(seed)
  const bytes = Buffer.alloc(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256)
  return bytes
}

/**
 * Splits bytes into chunks from 1 byte to `max` bytes: one in ten is a single byte and
 * four in ten are small (up to 1.5 blocks), so headers and padding straddle chunk
 * boundaries often; the rest go up to `max`.
 */
export function randomChunks(bytes: Uint8Array, seed: number, max = 100 * 1024): Uint8Array[] {
  const random = seededRandom(seed)
  const chunks: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength;) {
    const kind = random()
    const limit = kind < 0.1 ? 1 : kind < 0.5 ? 768 : max
    const size = 1 + Math.floor(random() * limit)
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }

  return chunks
}

export function byteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from({length: bytes.byteLength}, (_, i) => bytes.subarray(i, i + 1))
}

/** Runs `fn`, which must throw a TarFormatError, and returns it for exact assertions. */
export function tarErrorOf(fn: () => unknown): TarFormatError {
  try {
    fn()
  } catch (error) {
    if (error instanceof TarFormatError) return error
    throw new Error(`expected a TarFormatError, got: ${String(error)}`)
  }

  throw new Error('expected a TarFormatError, nothing was thrown')
}

/** The code and offset of the error parsing `bytes` (whole, then end()) throws. */
export function parseError(bytes: Uint8Array, limits?: TarParserLimits): {code: string; offset: number} {
  const {code, offset} = tarErrorOf(() => parseTar(bytes, limits))
  return {code, offset}
}

/** The same, fed one byte at a time: the error must not depend on the chunking. */
export function parseErrorByteByByte(bytes: Uint8Array, limits?: TarParserLimits): {code: string; offset: number} {
  const {code, offset} = tarErrorOf(() => parseChunks(byteChunks(bytes), limits))
  return {code, offset}
}

/** SHA-256 of each buffer: deep-equality on megabytes of bytes is slow in expect(), digests compare at once. */
export function digests(buffers: readonly Uint8Array[]): string[] {
  return buffers.map((buffer) => createHash('sha256').update(buffer).digest('hex'))
}

export {seededRandom}
