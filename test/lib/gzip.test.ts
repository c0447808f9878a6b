import {execFileSync, spawn} from 'node:child_process'
import {once} from 'node:events'
import {createReadStream, existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {crc32, gzipSync} from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {GzipFormatError, type GunzipOptions, gunzipSingleMember} from '../../src/lib/bundle/gzip.js'
import {ExitCode} from '../../src/lib/errors.js'
import {projectRoot, scratchDir} from '../helpers/cli.js'

const GZIP = '/usr/bin/gzip'
const TAR = '/usr/bin/tar'
const MiB = 1 << 20

/** xorshift32: the same pseudo-random bytes and chunk sizes on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
}

function randomBytes(size: number, seed: number): Buffer {
  const next = prng(seed)
  const words = new Uint32Array(Math.ceil(size / 4))
  for (let i = 0; i < words.length; i++) words[i] = next()
  return Buffer.from(words.buffer, 0, size)
}

function logText(size: number, seed: number): Buffer {
  const next = prng(seed)
  const lines: string[] = []
  let length = 0
  while (length < size) {
    const line = `2026-11-22T10:${String(next() % 60).padStart(2, '0')}:00Z level=info svc=collector msg="batch exported" spans=${next() % 977} trace=${next().toString(16)}\n`
    lines.push(line)
    length += line.length
  }

  return Buffer.from(lines.join('')).subarray(0, size)
}

/** Alternating 256 KiB runs of incompressible bytes and log text: stored and Huffman-coded deflate blocks. */
function mixedPayload(size: number, seed: number): Buffer {
  const parts: Buffer[] = []
  for (let at = 0, i = 0; at < size; at += 256 * 1024, i++) {
    const n = Math.min(256 * 1024, size - at)
    parts.push(i % 2 === 0 ? randomBytes(n, seed + i) : logText(n, seed + i))
  }

  return Buffer.concat(parts)
}

/** Feeds `bytes` in chunks of 1 byte to `max` bytes, log-uniformly so that tiny chunks are common. */
async function* inRandomChunks(bytes: Uint8Array, seed: number, max = 100 * 1024): AsyncGenerator<Uint8Array> {
  const next = prng(seed)
  for (let at = 0; at < bytes.length;) {
    const size = Math.max(1, Math.floor(Math.exp((next() / 2 ** 32) * Math.log(max + 1))))
    yield bytes.subarray(at, at + size)
    at += size
  }
}

async function* inChunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

/** One byte at a time over [from, to) (every boundary of a header or trailer), large chunks elsewhere. */
async function* bytewiseIn(bytes: Uint8Array, from: number, to: number): AsyncGenerator<Uint8Array> {
  if (from > 0) yield bytes.subarray(0, from)
  for (let at = from; at < Math.min(to, bytes.length); at++) yield bytes.subarray(at, at + 1)
  if (to < bytes.length) yield bytes.subarray(to)
}

async function gunzipAll(source: AsyncIterable<Uint8Array>, options?: GunzipOptions): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of gunzipSingleMember(source, options)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Decodes until the failure, which must be a GzipFormatError; returns it with the bytes yielded before it. */
async function failureOf(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<{error: GzipFormatError; output: Buffer}> {
  const chunks: Uint8Array[] = []
  try {
    for await (const chunk of gunzipSingleMember(source instanceof Uint8Array ? inChunksOf(source, 64 * 1024) : source)) chunks.push(chunk)
  } catch (error) {
    if (error instanceof GzipFormatError) return {error, output: Buffer.concat(chunks)}
    throw new Error(`expected a GzipFormatError, got: ${String(error)}`)
  }

  throw new Error('expected a GzipFormatError, the input was accepted')
}

function gzipHeader(flags: number, fields: {extra?: Uint8Array; name?: string; comment?: string} = {}, hcrc?: 'good' | 'bad'): Buffer {
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flags, 0x78, 0x56, 0x34, 0x12, 0, 3])]
  if (fields.extra) {
    const xlen = Buffer.alloc(2)
    xlen.writeUInt16LE(fields.extra.length)
    parts.push(xlen, Buffer.from(fields.extra))
  }

  if (fields.name !== undefined) parts.push(Buffer.from(`${fields.name}\0`, 'latin1'))
  if (fields.comment !== undefined) parts.push(Buffer.from(`${fields.comment}\0`, 'latin1'))
  if (hcrc) {
    const crc16 = Buffer.alloc(2)
    crc16.writeUInt16LE((crc32(Buffer.concat(parts)) & 0xffff) ^ (hcrc === 'bad' ? 1 : 0))
    parts.push(crc16)
  }

  return Buffer.concat(parts)
}

/** A copy of `bytes` with the byte at `index` XORed with `mask`. */
function flipped(bytes: Uint8Array, index: number, mask: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[index] = copy[index]! ^ mask
  return copy
}

/** A zlib.gzipSync member with its 10-byte header replaced by `header`. */
function withHeader(header: Uint8Array, payload: Uint8Array): Buffer {
  return Buffer.concat([header, gzipSync(payload).subarray(10)])
}

const FTEXT = 0x01
const FHCRC = 0x02
const FEXTRA = 0x04
const FNAME = 0x08
const FCOMMENT = 0x10

describe.skipIf(!existsSync(GZIP) || !existsSync(TAR))('gunzipSingleMember', () => {
  let dir: {path: string; cleanup: () => void}
  const at = (name: string): string => join(dir.path, name)
  const gzipCli = (...args: string[]): Buffer => execFileSync(GZIP, args, {maxBuffer: 64 * MiB})

  const payload = mixedPayload(3 * MiB + 12_345, 7)
  const small = logText(200_000, 11)
  let gzDefault: Buffer
  let gzBest: Buffer
  let gzNoName: Buffer
  let smallGz: Buffer
  let emptyGz: Buffer
  let textGz: Buffer
  let randomGz: Buffer
  /** 24 MiB of incompressible bytes: far more than the read-ahead, so early exits leave most of it unread. */
  let bigGz: Buffer

  beforeAll(() => {
    dir = scratchDir('stella-gzip-')
    writeFileSync(at('payload.bin'), payload)
    writeFileSync(at('small.txt'), small)
    writeFileSync(at('empty'), '')
    writeFileSync(at('text.log'), logText(1 * MiB, 5))
    writeFileSync(at('random.bin'), randomBytes(1 * MiB, 5))
    gzDefault = gzipCli('-c', at('payload.bin'))
    gzBest = gzipCli('-9', '-c', at('payload.bin'))
    gzNoName = gzipCli('-n', '-c', at('payload.bin'))
    smallGz = gzipCli('-n', '-c', at('small.txt'))
    emptyGz = gzipCli('-n', '-c', at('empty'))
    textGz = gzipCli('-n', '-c', at('text.log'))
    randomGz = gzipCli('-n', '-c', at('random.bin'))
    bigGz = gzipSync(randomBytes(24 * MiB, 99), {level: 1})
    writeFileSync(at('big.gz'), bigGz)
    for (const [name, bytes] of Object.entries({'small.txt.gz': smallGz, 'empty.gz': emptyGz})) writeFileSync(at(name), bytes)
  })

  afterAll(() => dir.cleanup())

  describe('round trips', () => {
    it('`gzip` output (default, -9, -n) in random chunks of 1 byte to 100 KiB', async () => {
      // `gzip FILE` stores the name (FNAME); -n stores neither name nor time.
      expect(gzDefault[3]).toBe(FNAME)
      expect(gzDefault.subarray(10, 22).toString('latin1')).toBe('payload.bin\0')
      expect(gzNoName[3]).toBe(0)
      expect(gzNoName.readUInt32LE(4)).toBe(0)
      expect(gzBest[8]).toBe(2) // XFL: maximum compression
      for (const [i, gz] of [gzDefault, gzBest, gzNoName].entries()) {
        for (const seed of [1, 2]) {
          const output = await gunzipAll(inRandomChunks(gz, seed * 10 + i))
          expect(output.length).toBe(payload.length)
          expect(output.equals(payload)).toBe(true)
        }
      }
    })

    it('from a file stream, as the verifier reads it', async () => {
      writeFileSync(at('payload.bin.gz'), gzDefault)
      const output = await gunzipAll(createReadStream(at('payload.bin.gz'), {highWaterMark: MiB}))
      expect(output.equals(payload)).toBe(true)
    })

    it('an empty member yields nothing and succeeds', async () => {
      expect(emptyGz.length).toBe(20)
      expect((await gunzipAll(inChunksOf(emptyGz, 1))).length).toBe(0)
    })

    it('hand-made headers with FTEXT, FEXTRA, FNAME, FCOMMENT and FHCRC, even one byte at a time', async () => {
      const extra = Buffer.from('AB\x04\x00wxyz', 'latin1')
      const headers = [
        gzipHeader(FTEXT),
        gzipHeader(FEXTRA, {extra}),
        gzipHeader(FEXTRA, {extra: new Uint8Array(0)}),
        gzipHeader(FNAME, {name: 'bundle.tar'}),
        gzipHeader(FCOMMENT, {comment: 'made by hand'}),
        gzipHeader(FHCRC, {}, 'good'),
        gzipHeader(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT, {extra, name: 'bundle.tar', comment: 'all of them'}, 'good'),
        gzipHeader(FHCRC | FEXTRA | FNAME, {extra: new Uint8Array(0), name: ''}, 'good'),
      ]
      for (const header of headers) {
        const member = withHeader(header, small)
        expect((await gunzipAll(bytewiseIn(member, 0, header.length + 16))).equals(small)).toBe(true)
        expect((await gunzipAll(inRandomChunks(member, header.length))).equals(small)).toBe(true)
      }
    })

    it('a 64 KiB extra field and a 300 KiB file name across many chunks', async () => {
      const extra = randomBytes(65_535, 3)
      const name = 'n'.repeat(300 * 1024)
      const member = withHeader(gzipHeader(FEXTRA | FNAME | FHCRC, {extra, name}, 'good'), payload)
      expect((await gunzipAll(inRandomChunks(member, 4))).equals(payload)).toBe(true)
    })

    it('reports the compressed bytes read, rising to the file size', async () => {
      const totals: number[] = []
      await gunzipAll(inRandomChunks(gzNoName, 9), {onCompressedBytes: (total) => totals.push(total)})
      expect(totals.at(-1)).toBe(gzNoName.length)
      expect(totals.every((total, i) => i === 0 || total > totals[i - 1]!)).toBe(true)
    })

    it('yields chunks of at most chunkSize: 1 MiB by default', async () => {
      const sizes: number[] = []
      const zeros = gzipSync(new Uint8Array(5 * MiB))
      for await (const chunk of gunzipSingleMember(inChunksOf(zeros, 4096))) sizes.push(chunk.length)
      expect(Math.max(...sizes)).toBe(MiB)
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(5 * MiB)

      const small64: number[] = []
      for await (const chunk of gunzipSingleMember(inChunksOf(zeros, 4096), {chunkSize: 64 * 1024})) small64.push(chunk.length)
      expect(Math.max(...small64)).toBe(64 * 1024)
      expect(small64.reduce((a, b) => a + b, 0)).toBe(5 * MiB)
    })
  })

  describe('not gzip', () => {
    it('an empty input', async () => {
      const {error} = await failureOf(new Uint8Array(0))
      expect(error.code).toBe('NOT_GZIP')
      expect(error.offset).toBe(0)
      expect(error.message).toBe('not a gzip file: the input is empty (gzip offset 0)')
      expect(error.exitCode).toBe(ExitCode.Input)
      expect(error.remedy).toBe('An evidence bundle is a gzip-compressed tar file (.tar.gz); check the path.')
    })

    it('a text file', async () => {
      const {error} = await failureOf(Buffer.from('hello, world\n'))
      expect(error.code).toBe('NOT_GZIP')
      expect(error.offset).toBe(0)
      expect(error.message).toBe('not a gzip file: its first byte is 0x68, a gzip file begins with 1f 8b (gzip offset 0)')
    })

    it('an uncompressed tar file', async () => {
      const tar = execFileSync(TAR, ['-cf', '-', '-C', dir.path, 'small.txt'])
      expect(tar.length).toBeGreaterThan(200_000)
      const {error} = await failureOf(tar)
      expect(error.code).toBe('NOT_GZIP')
      expect(error.message).toBe('not a gzip file: its first byte is 0x73, a gzip file begins with 1f 8b (gzip offset 0)')
    })

    it('the first magic byte alone, or a wrong second byte', async () => {
      const one = await failureOf(Buffer.from([0x1f]))
      expect(one.error.code).toBe('NOT_GZIP')
      expect(one.error.message).toBe('not a gzip file: the input is a single byte (gzip offset 1)')
      const two = await failureOf(inChunksOf(Buffer.from([0x1f, 0x9d, 0x90]), 1)) // compress(1)
      expect(two.error.code).toBe('NOT_GZIP')
      expect(two.error.offset).toBe(1)
      expect(two.error.message).toBe('not a gzip file: it begins with 1f 9d, a gzip file begins with 1f 8b (gzip offset 1)')
    })
  })

  describe('bad headers', () => {
    it('compression method 7', async () => {
      const member = Buffer.from(smallGz)
      member[2] = 7
      const {error, output} = await failureOf(member)
      expect(error.code).toBe('GZIP_BAD_HEADER')
      expect(error.offset).toBe(2)
      expect(error.message).toBe('compression method 7 is not deflate (8) (gzip offset 2)')
      expect(error.remedy).toBe('The bundle is damaged or is not a single gzip member; obtain a fresh copy from its source.')
      expect(output.length).toBe(0)
    })

    it('each reserved flag bit', async () => {
      for (const bit of [0x20, 0x40, 0x80]) {
        const member = flipped(smallGz, 3, bit)
        const {error} = await failureOf(member)
        expect(error.code).toBe('GZIP_BAD_HEADER')
        expect(error.offset).toBe(3)
        expect(error.message).toBe(`reserved header flag bits are set (FLG 0x${bit.toString(16)}) (gzip offset 3)`)
      }
    })

    it('a header cut short in each of its parts', async () => {
      const full = gzipHeader(FEXTRA | FNAME | FCOMMENT | FHCRC, {extra: Buffer.from('abcdef'), name: 'x.tar', comment: 'c'}, 'good')
      // fixed 0-9, XLEN 10-11, extra 12-17, name 18-23, comment 24-25, CRC16 26-27
      const cuts: [number, string][] = [[2, 'fixed 10-byte header'], [9, 'fixed 10-byte header'], [11, 'extra-field length'], [15, 'extra field'], [20, 'file name'], [25, 'comment'], [27, 'header CRC']]
      for (const [cut, part] of cuts) {
        const {error} = await failureOf(inChunksOf(full.subarray(0, cut), 3))
        expect(error.code).toBe('GZIP_BAD_HEADER')
        expect(error.offset).toBe(cut)
        expect(error.message).toBe(`the gzip header is cut short: the input ends inside the ${part} (gzip offset ${cut})`)
      }
    })

    it('a header CRC16 that does not match', async () => {
      const header = gzipHeader(FNAME | FHCRC, {name: 'bundle.tar'}, 'bad')
      const good = gzipHeader(FNAME | FHCRC, {name: 'bundle.tar'}, 'good')
      const {error} = await failureOf(withHeader(header, small))
      expect(error.code).toBe('GZIP_BAD_HEADER')
      expect(error.offset).toBe(21)
      expect(error.message).toBe(`header CRC16 is 0x${header.readUInt16LE(21).toString(16).padStart(4, '0')}, the header sums to 0x${good.readUInt16LE(21).toString(16).padStart(4, '0')} (gzip offset 21)`)
    })
  })

  describe('damaged deflate data and trailer', () => {
    it('a flipped byte in the middle of Huffman-coded data: for this seed it still decodes, and fails the CRC', async () => {
      // Deflate has no redundancy to spot most flips; which error comes is a property of the bytes.
      const member = flipped(textGz, textGz.length >> 1, 0x55)
      const {error} = await failureOf(member)
      expect(error.code).toBe('GZIP_CRC_MISMATCH')
      expect(error.offset).toBe(member.length - 8)
    })

    it('an invalid block type is corrupt deflate data', async () => {
      const member = flipped(textGz, 10, (textGz[10]! & 0b110) ^ 0b110) // BTYPE 11, reserved
      const {error, output} = await failureOf(member)
      expect(error.code).toBe('GZIP_CORRUPT')
      expect(error.message).toBe('the deflate data is corrupt: invalid block type')
      expect(error.offset).toBeUndefined()
      expect(output.length).toBe(0)
    })

    it('a flipped byte in a stored block decodes, and fails the CRC', async () => {
      const member = flipped(randomGz, randomGz.length >> 1, 0x55)
      const {error, output} = await failureOf(member)
      expect(error.code).toBe('GZIP_CRC_MISMATCH')
      expect(error.offset).toBe(member.length - 8)
      expect(output.length).toBe(1 * MiB)
    })

    it('truncated inside the deflate data', async () => {
      for (const cut of [10, 11, 1000, gzNoName.length >> 1, gzNoName.length - 9]) {
        const {error, output} = await failureOf(inRandomChunks(gzNoName.subarray(0, cut), cut))
        expect(error.code).toBe('GZIP_TRUNCATED')
        expect(error.offset).toBe(cut)
        expect(error.message).toBe(`the input ends inside the deflate data (gzip offset ${cut})`)
        expect(output.equals(payload.subarray(0, output.length))).toBe(true)
      }
    })

    it('truncated inside the trailer', async () => {
      for (const kept of [0, 1, 4, 7]) {
        const cut = gzNoName.length - 8 + kept
        const {error, output} = await failureOf(inRandomChunks(gzNoName.subarray(0, cut), cut))
        expect(error.code).toBe('GZIP_TRUNCATED')
        expect(error.offset).toBe(cut)
        expect(error.message).toBe(`the input ends inside the gzip trailer (${kept} of 8 bytes) (gzip offset ${cut})`)
        expect(output.equals(payload)).toBe(true)
      }
    })

    it('a flipped CRC byte', async () => {
      for (const i of [8, 5]) {
        const member = flipped(smallGz, smallGz.length - i, 0x01)
        const {error} = await failureOf(member)
        expect(error.code).toBe('GZIP_CRC_MISMATCH')
        expect(error.offset).toBe(member.length - 8)
        expect(error.message).toBe(`the trailer's CRC-32 is ${member.readUInt32LE(member.length - 8).toString(16).padStart(8, '0')}, the data's is ${crc32(small).toString(16).padStart(8, '0')} (gzip offset ${member.length - 8})`)
      }
    })

    it('a flipped ISIZE byte', async () => {
      const member = flipped(smallGz, smallGz.length - 3, 0x80)
      const {error} = await failureOf(member)
      expect(error.code).toBe('GZIP_SIZE_MISMATCH')
      expect(error.offset).toBe(member.length - 4)
      expect(error.message).toBe(`the trailer's size is ${200_000 ^ 0x8000} (mod 2^32), the data is 200000 bytes (gzip offset ${member.length - 4})`)
    })
  })

  describe('anything after the one member', () => {
    const cat = (...files: string[]): Buffer => execFileSync('/bin/cat', files.map((name) => at(name)))

    it('two members (`cat a.gz b.gz`): the first decodes in full, then GZIP_SECOND_MEMBER', async () => {
      const both = cat('small.txt.gz', 'small.txt.gz')
      expect(both.length).toBe(2 * smallGz.length)
      for (const seed of [1, 2, 3]) {
        const {error, output} = await failureOf(inRandomChunks(both, seed))
        expect(error.code).toBe('GZIP_SECOND_MEMBER')
        expect(error.offset).toBe(smallGz.length)
        expect(error.message).toBe(`a second gzip member follows the first; a bundle is exactly one member (gzip offset ${smallGz.length})`)
        expect(output.equals(small)).toBe(true)
      }

      // gzip itself takes the pair as one stream: the reason this reader exists.
      expect(execFileSync(GZIP, ['-dc'], {input: both}).length).toBe(2 * small.length)
    })

    it('an empty second member', async () => {
      const both = cat('small.txt.gz', 'empty.gz')
      const {error} = await failureOf(bytewiseIn(both, smallGz.length - 16, both.length))
      expect(error.code).toBe('GZIP_SECOND_MEMBER')
      expect(error.offset).toBe(smallGz.length)
    })

    it('one zero byte appended', async () => {
      const padded = Buffer.concat([smallGz, Buffer.alloc(1)])
      expect(execFileSync(GZIP, ['-dc'], {input: padded}).length).toBe(small.length) // gzip ignores it
      const {error, output} = await failureOf(padded)
      expect(error.code).toBe('GZIP_TRAILING_BYTES')
      expect(error.offset).toBe(smallGz.length)
      expect(error.message).toBe(`bytes follow the gzip trailer (the first is 0x00) (gzip offset ${smallGz.length})`)
      expect(output.equals(small)).toBe(true)
    })

    it('text appended, also when it arrives in the same chunk as the trailer', async () => {
      const appended = Buffer.concat([smallGz, Buffer.from('-- signed by mallory\n')])
      for (const source of [inChunksOf(appended, appended.length), bytewiseIn(appended, smallGz.length - 16, appended.length), inRandomChunks(appended, 5)]) {
        const {error} = await failureOf(source)
        expect(error.code).toBe('GZIP_TRAILING_BYTES')
        expect(error.offset).toBe(smallGz.length)
        expect(error.message).toBe(`bytes follow the gzip trailer (the first is 0x2d) (gzip offset ${smallGz.length})`)
      }
    })

    it('a lone 1f is trailing bytes, 1f 8b split across chunks is a second member', async () => {
      const lone = await failureOf(Buffer.concat([smallGz, Buffer.from([0x1f])]))
      expect(lone.error.code).toBe('GZIP_TRAILING_BYTES')
      expect(lone.error.offset).toBe(smallGz.length)
      const split = await failureOf(bytewiseIn(Buffer.concat([smallGz, Buffer.from([0x1f, 0x8b])]), smallGz.length - 4, smallGz.length + 2))
      expect(split.error.code).toBe('GZIP_SECOND_MEMBER')
    })

    it('stops reading soon after the trailer, however much follows', async () => {
      writeFileSync(at('long-tail.gz'), Buffer.concat([smallGz, Buffer.alloc(16 * MiB)]))
      const totals: number[] = []
      const stream = createReadStream(at('long-tail.gz'), {highWaterMark: 64 * 1024})
      const chunks: Uint8Array[] = []
      const error = await (async () => {
        try {
          for await (const chunk of gunzipSingleMember(stream, {onCompressedBytes: (total) => totals.push(total)})) chunks.push(chunk)
        } catch (error) {
          return error
        }
      })()
      expect(error).toBeInstanceOf(GzipFormatError)
      expect((error as GzipFormatError).code).toBe('GZIP_TRAILING_BYTES')
      expect(Buffer.concat(chunks).equals(small)).toBe(true)
      expect(totals.at(-1)).toBeLessThan(smallGz.length + 4 * MiB)
      expect(stream.destroyed).toBe(true)
    })
  })

  describe('sources and consumers', () => {
    it('an error of the source itself is passed on unchanged', async () => {
      const boom = new Error('disk on fire')
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield gzNoName.subarray(0, 100_000)
        throw boom
      }

      await expect(gunzipAll(failing())).rejects.toBe(boom)
    })

    it('a missing file is the file error, not a gzip error', async () => {
      await expect(gunzipAll(createReadStream(at('no-such.gz')))).rejects.toMatchObject({code: 'ENOENT'})
    })

    it('reads ahead a few MiB while the consumer is busy, not more', async () => {
      let total = 0
      const stream = createReadStream(at('big.gz'), {highWaterMark: MiB})
      const chunks = gunzipSingleMember(stream, {onCompressedBytes: (n) => (total = n)})
      const first = await chunks.next()
      expect(first.done).toBe(false)
      await new Promise((resolve) => setTimeout(resolve, 300))
      // Inflating went on without the consumer, but stopped at the read-ahead limits.
      expect(total).toBeGreaterThan(4 * MiB)
      expect(total).toBeLessThan(12 * MiB)
      let size = (first.value as Uint8Array).length
      for await (const chunk of chunks) size += chunk.length
      expect(size).toBe(24 * MiB)
    })

    it('break after the first chunk destroys the file stream and leaves no request behind', async () => {
      const fsRequests = (): number => process.getActiveResourcesInfo().filter((name) => name.startsWith('FSReq')).length
      const before = fsRequests()
      const stream = createReadStream(at('big.gz'), {highWaterMark: 64 * 1024})
      let seen = 0
      let read = 0
      for await (const chunk of gunzipSingleMember(stream, {onCompressedBytes: (total) => (read = total)})) {
        seen += chunk.length
        break
      }

      expect(seen).toBeGreaterThan(0)
      expect(read).toBeLessThan(bigGz.length)
      expect(stream.destroyed).toBe(true)
      if (!stream.closed) await once(stream, 'close')
      expect(stream.closed).toBe(true)
      // 'close' is emitted inside the close(2) callback; its request is gone a turn later. (A request
      // of an earlier test may still have been in flight at `before`, so this can only go down.)
      await new Promise((resolve) => setImmediate(resolve))
      expect(fsRequests()).toBeLessThanOrEqual(before)
    })

    it('a throw in the consumer destroys the file stream and comes out unchanged', async () => {
      const stream = createReadStream(at('big.gz'))
      const oops = new Error('consumer failed')
      await expect((async () => {
        for await (const _chunk of gunzipSingleMember(stream)) throw oops
      })()).rejects.toBe(oops)
      expect(stream.destroyed).toBe(true)
    })

    it('a source without destroy() is returned, so its own cleanup runs', async () => {
      let cleanedUp = false
      let yielded = 0
      async function* source(): AsyncGenerator<Uint8Array> {
        try {
          for await (const chunk of inChunksOf(bigGz, 64 * 1024)) {
            yielded += chunk.length
            yield chunk
          }
        } finally {
          cleanedUp = true
        }
      }

      for await (const _chunk of gunzipSingleMember(source())) break
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(cleanedUp).toBe(true)
      expect(yielded).toBeLessThan(bigGz.length)
    })

    it('a process reading standard input leaves after one chunk and exits by itself', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'test/fixtures/gzip/first-chunk-from-stdin.ts')], {cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.stdin.on('error', () => {}) // EPIPE once the child has let go
      // More than a pipe holds, and the pipe is never closed: only destroying stdin lets the child exit.
      child.stdin.write(bigGz)
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const [status] = await once(child, 'exit')
      clearTimeout(timer)
      child.stdin.destroy()
      expect(stderr).toBe('')
      expect(status).toBe(0)
      expect(stdout).toMatch(/^first chunk \d+\nstdin destroyed true\n$/)
    })
  })
})
