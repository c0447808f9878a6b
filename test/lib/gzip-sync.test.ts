import {closeSync, openSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {crc32, deflateRawSync, gzipSync} from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {GzipFormatError, gunzipSingleMember} from '../../src/lib/bundle/gzip.js'
import {gunzipFdSync, syncInflateAvailable} from '../../src/lib/bundle/gzip-sync.js'
import {scratchDir} from '../helpers/cli.js'
import {seededRandom} from '../helpers/random.js'

/** Incompressible runs and repetitive text: stored and Huffman-coded deflate blocks. */
function payload(size: number, seed: number): Buffer {
  const random = seededRandom(seed)
  const below = (n: number): number => Math.floor(random() * n)
  const bytes = Buffer.alloc(size)
  for (let at = 0; at < size; at += 8192) {
    if ((at / 8192) % 3 === 0) for (let i = at; i < Math.min(size, at + 8192); i++) bytes[i] = below(256)
    else bytes.write(`span ${below(977)} GET /api/cart 200 ${below(2 ** 32).toString(16)}\n`.repeat(200), at, Math.min(8192, size - at), 'latin1')
  }

  return bytes
}

interface Outcome {
  bytes: Buffer
  error?: {code: string; message: string; offset?: number}
}

function errorOf(error: unknown): Outcome['error'] {
  if (!(error instanceof GzipFormatError)) throw error
  return {code: error.code, message: error.message, ...(error.offset === undefined ? {} : {offset: error.offset})}
}

async function viaStream(bytes: Uint8Array): Promise<Outcome> {
  const parts: Buffer[] = []
  try {
    for await (const chunk of gunzipSingleMember((async function* () {
      for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096)
    })())) parts.push(Buffer.from(chunk))
  } catch (error) {
    return {bytes: Buffer.concat(parts), error: errorOf(error)}
  }

  return {bytes: Buffer.concat(parts)}
}

/** gunzipFdSync into a ring of three regions of `regionSize`, checking each is filled whole but the last. */
function viaFd(path: string, pieceSize: number, regionSize: number): Outcome & {compressedBytes?: number; partialRegions: number} {
  const ring = new Uint8Array(regionSize * 3)
  let next = 0
  let current: Uint8Array | undefined
  const parts: Buffer[] = []
  let partialRegions = 0
  const fd = openSync(path, 'r')
  try {
    const compressedBytes = gunzipFdSync(fd, pieceSize, {
      next() {
        current = ring.subarray((next % 3) * regionSize, (next % 3 + 1) * regionSize)
        next += 1
        return current
      },
      filled(length) {
        if (length < regionSize) partialRegions += 1
        parts.push(Buffer.from(current!.subarray(0, length)))
      },
    })
    return {bytes: Buffer.concat(parts), compressedBytes, partialRegions}
  } catch (error) {
    return {bytes: Buffer.concat(parts), error: errorOf(error), partialRegions}
  } finally {
    closeSync(fd)
  }
}

describe('gunzipFdSync', () => {
  let dir: {path: string; cleanup: () => void}
  const content = payload(150_000, 3)
  const member = gzipSync(content)
  let file = 0
  const write = (bytes: Uint8Array): string => {
    const path = join(dir.path, `${file++}.gz`)
    writeFileSync(path, bytes)
    return path
  }

  beforeAll(() => {
    dir = scratchDir('stella-gzip-sync-')
  })
  afterAll(() => dir.cleanup())

  it('finds zlib in the shape it drives on this runtime', () => {
    expect(syncInflateAvailable()).toBe(true)
  })

  it('decodes a member whole, filling every region but the last, for any read and region size', () => {
    const path = write(member)
    for (const [pieceSize, regionSize] of [[1, 1], [7, 4096], [4096, 7], [65_536, 65_536], [1 << 20, 1 << 20], [member.length, content.length], [10, 50_000]] as const) {
      const outcome = viaFd(path, pieceSize, regionSize)
      expect(outcome.error).toBeUndefined()
      expect(outcome.bytes.equals(content)).toBe(true)
      expect(outcome.compressedBytes).toBe(member.length)
      expect(outcome.partialRegions).toBeLessThanOrEqual(1)
    }
  })

  it('ends cleanly when the deflate data ends exactly at a read, or exactly fills a region', () => {
    const deflated = deflateRawSync(content)
    const path = write(member)
    // The header is 10 bytes: a piece of 10 + deflated.length ends exactly where the trailer begins.
    for (const [pieceSize, regionSize] of [[10 + deflated.length, 1000], [10 + deflated.length, content.length], [5, content.length / 8]] as const) {
      const outcome = viaFd(path, pieceSize, regionSize)
      expect(outcome.error).toBeUndefined()
      expect(outcome.bytes.equals(content)).toBe(true)
    }

    const empty = viaFd(write(gzipSync(Buffer.alloc(0))), 3, 16)
    expect(empty).toEqual({bytes: Buffer.alloc(0), compressedBytes: 20, partialRegions: 0})
  })

  it('reads headers with every optional field, across reads of one byte', () => {
    const fields = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x1f, 0, 0, 0, 0, 0, 3, 4, 0]), Buffer.from('wxyz'), Buffer.from('bundle.tar\0comment\0')])
    const crc16 = Buffer.alloc(2)
    crc16.writeUInt16LE(crc32(fields) & 0xffff)
    const path = write(Buffer.concat([fields, crc16, member.subarray(10)]))
    for (const pieceSize of [1, 13, 4096]) expect(viaFd(path, pieceSize, 4096).bytes.equals(content)).toBe(true)
  })

  describe('fails as gunzipSingleMember does, with the same code, message and offset', () => {
    const trailer = (m: Buffer): number => m.length - 8
    const damaged: Array<[string, (m: Buffer) => Buffer]> = [
      ['an empty file', () => Buffer.alloc(0)],
      ['one byte', (m) => m.subarray(0, 1)],
      ['not gzip', () => Buffer.from('hello, this is not gzip')],
      ['compression method 7', (m) => Buffer.concat([m.subarray(0, 2), Buffer.from([7]), m.subarray(3)])],
      ['reserved flags', (m) => Buffer.concat([m.subarray(0, 3), Buffer.from([0x80]), m.subarray(4)])],
      ['a header cut short', (m) => m.subarray(0, 6)],
      ['a bad header CRC16', (m) => Buffer.concat([m.subarray(0, 3), Buffer.from([0x02]), m.subarray(4, 10), Buffer.from([0, 0]), m.subarray(10)])],
      ['an invalid block type', (m) => Buffer.concat([m.subarray(0, 10), Buffer.from([0xff]), m.subarray(11)])],
      ['a wrong CRC-32', (m) => Buffer.concat([m.subarray(0, trailer(m)), Buffer.from([1, 2, 3, 4]), m.subarray(trailer(m) + 4)])],
      ['a wrong size', (m) => Buffer.concat([m.subarray(0, trailer(m) + 4), Buffer.from([1, 2, 3, 4])])],
      ['a second member', (m) => Buffer.concat([m, gzipSync(Buffer.from('more'))])],
      ['a lone 1f after the trailer', (m) => Buffer.concat([m, Buffer.from([0x1f])])],
      ['zeros after the trailer', (m) => Buffer.concat([m, Buffer.alloc(3000)])],
      ['no trailer', (m) => m.subarray(0, trailer(m))],
      ['half a trailer', (m) => m.subarray(0, trailer(m) + 4)],
    ]
    // Cut at many points of the deflate data, and flip bytes there: corrupt data, or a wrong CRC.
    for (let cut = 11; cut < member.length - 8; cut += 4999) damaged.push([`cut at ${cut}`, (m) => m.subarray(0, cut)])
    for (let at = 12; at < member.length - 8; at += 7919) {
      damaged.push([`byte ${at} flipped`, (m) => {
        const copy = Buffer.from(m)
        copy[at] = copy[at]! ^ 0x5a
        return copy
      }])
    }

    for (const [what, damage] of damaged) {
      it(what, async () => {
        const bytes = damage(member)
        const path = write(bytes)
        const expected = await viaStream(bytes)
        expect(expected.error).toBeDefined()
        for (const [pieceSize, regionSize] of [[1 << 20, 1 << 20], [333, 4096], [1, 50_000]] as const) {
          const outcome = viaFd(path, pieceSize, regionSize)
          expect(outcome.error).toEqual(expected.error)
          // The bytes handed over before the failure agree as far as both went (a flipped byte decodes to other bytes).
          const n = Math.min(outcome.bytes.length, expected.bytes.length)
          expect(outcome.bytes.subarray(0, n).equals(expected.bytes.subarray(0, n))).toBe(true)
        }
      })
    }
  })
})
