import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {GzipFormatError, gunzipSingleMember} from '../../src/lib/bundle/gzip.js'
import {OFF_THREAD_MIN_BYTES, gunzipFile} from '../../src/lib/bundle/gzip-thread.js'
import {scratchDir} from '../helpers/cli.js'

const MiB = 1 << 20

/** Mostly incompressible, with repetitive runs between: compressed, it is still above the worker threshold. */
function payload(size: number): Buffer {
  const parts: Buffer[] = []
  for (let at = 0, i = 0; at < size; at += MiB, i++) {
    const n = Math.min(MiB, size - at)
    parts.push(i % 4 !== 3 ? randomBytes(n) : Buffer.from(`span ${i} checkout /api/cart 200\n`.repeat(n).slice(0, n)))
  }

  return Buffer.concat(parts)
}

interface Outcome {
  bytes: Buffer
  shared: boolean
  compressed: number
  error?: {name: string; code?: string; message: string; offset?: number}
}

async function drain(chunks: AsyncGenerator<Uint8Array>, progress: {compressed: number}): Promise<Outcome> {
  const parts: Buffer[] = []
  let shared = false
  try {
    for await (const chunk of chunks) {
      shared ||= chunk.buffer instanceof SharedArrayBuffer
      parts.push(Buffer.from(chunk))
    }
  } catch (error) {
    const e = error as GzipFormatError & {code?: string}
    return {bytes: Buffer.concat(parts), shared, compressed: progress.compressed, error: {name: e.constructor.name, code: e.code, message: e.message, ...(e instanceof GzipFormatError && e.offset !== undefined ? {offset: e.offset} : {})}}
  }

  return {bytes: Buffer.concat(parts), shared, compressed: progress.compressed}
}

/** The same file through the worker (its real size) and in-thread (a size below the threshold). */
async function bothWays(path: string, size: number): Promise<{worker: Outcome; inThread: Outcome}> {
  const workerProgress = {compressed: 0}
  const inThreadProgress = {compressed: 0}
  const worker = await drain(gunzipFile({file: path, size}, {onCompressedBytes: (n) => (workerProgress.compressed = n)}), workerProgress)
  const inThread = await drain(gunzipFile({file: path, size: 0}, {onCompressedBytes: (n) => (inThreadProgress.compressed = n)}), inThreadProgress)
  return {worker, inThread}
}

describe('gunzipFile on a worker thread', () => {
  let dir: {path: string; cleanup: () => void}
  let content: Buffer
  let member: Buffer
  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir.path, name)
    writeFileSync(path, bytes)
    return path
  }

  beforeAll(() => {
    dir = scratchDir()
    content = payload(48 * MiB)
    member = gzipSync(content, {level: 1})
    expect(member.length).toBeGreaterThan(OFF_THREAD_MIN_BYTES)
  })
  afterAll(() => dir.cleanup())

  it('yields exactly the in-thread bytes, through shared slots, with progress up to the file size', async () => {
    const path = write('valid.gz', member)
    const {worker, inThread} = await bothWays(path, member.length)
    expect(worker.error).toBeUndefined()
    expect(worker.shared).toBe(true)
    expect(inThread.shared).toBe(false)
    expect(worker.bytes.equals(content)).toBe(true)
    expect(inThread.bytes.equals(content)).toBe(true)
    expect(worker.compressed).toBe(member.length)
    expect(inThread.compressed).toBe(member.length)
  })

  const damaged: Array<[string, string, (member: Buffer) => Buffer]> = [
    ['a second member appended', 'GZIP_SECOND_MEMBER', (m) => Buffer.concat([m, gzipSync(Buffer.from('more'))])],
    ['zero bytes after the trailer', 'GZIP_TRAILING_BYTES', (m) => Buffer.concat([m, Buffer.alloc(512)])],
    ['the file cut inside the deflate data', 'GZIP_TRUNCATED', (m) => m.subarray(0, m.length - 5 * MiB)],
    ['the trailer cut short', 'GZIP_TRUNCATED', (m) => m.subarray(0, m.length - 3)],
    ['a wrong CRC-32 in the trailer', 'GZIP_CRC_MISMATCH', (m) => Buffer.concat([m.subarray(0, m.length - 8), Buffer.from([0, 0, 0, 0]), m.subarray(m.length - 4)])],
    ['a wrong size in the trailer', 'GZIP_SIZE_MISMATCH', (m) => Buffer.concat([m.subarray(0, m.length - 4), Buffer.from([1, 2, 3, 4])])],
    ['reserved header flags', 'GZIP_BAD_HEADER', (m) => Buffer.concat([m.subarray(0, 3), Buffer.from([0x20]), m.subarray(4)])],
  ]

  for (const [what, code, damage] of damaged) {
    it(`fails with ${code} for ${what}, with the in-thread error and offset`, async () => {
      const bytes = damage(member)
      const path = write(`${code}.gz`, bytes)
      const {worker, inThread} = await bothWays(path, bytes.length)
      expect(worker.error).toEqual(inThread.error)
      expect(worker.error).toMatchObject({name: 'GzipFormatError', code})
      // Whatever was handed on before the failure is the same prefix of the true content.
      expect(content.subarray(0, worker.bytes.length).equals(worker.bytes)).toBe(true)
    })
  }

  it('passes on an error reading the file as the in-thread path does', async () => {
    const path = join(dir.path, 'missing.gz')
    const worker = await drain(gunzipFile({file: path, size: 64 * MiB}), {compressed: 0})
    const inThread = await drain(gunzipFile({file: path, size: 0}), {compressed: 0})
    expect(worker.error).toEqual({name: 'Error', code: 'ENOENT', message: `ENOENT: no such file or directory, open '${path}'`})
    expect(worker.error).toEqual(inThread.error)
  })

  it('stops the worker when the consumer leaves early, and decodes again afterwards', async () => {
    const path = write('early.gz', member)
    let taken = 0
    for await (const chunk of gunzipFile({file: path, size: member.length})) {
      taken += chunk.length
      break
    }

    expect(taken).toBe(MiB)
    const again = await drain(gunzipFile({file: path, size: member.length}), {compressed: 0})
    expect(again.bytes.equals(content)).toBe(true)
  })

  it('agrees with gunzipSingleMember over a stream of the same file', async () => {
    const path = write('stream.gz', member)
    const fromStream: Buffer[] = []
    for await (const chunk of gunzipSingleMember((async function* () {
      yield member
    })())) fromStream.push(Buffer.from(chunk))
    const worker = await drain(gunzipFile({file: path, size: member.length}), {compressed: 0})
    expect(worker.bytes.equals(Buffer.concat(fromStream))).toBe(true)
  })
})
