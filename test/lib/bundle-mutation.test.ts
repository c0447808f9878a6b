/**
 * Seeded mutation testing of verifyBundle. Valid bundles (one from writeBundle, one from the
 * independent GNU-tar builder, one small writeBundle bundle) are damaged in thousands of
 * reproducible ways — at the gzip layer, at the tar layer with valid gzip around it, and at the
 * tar-header layer with valid checksums — and for every case:
 *
 *  - verifyBundle resolves (never throws, never hangs) with exactly the 6 checks, in order;
 *  - when it says `ok`, the content it streamed to its contentSink is byte-for-byte the original
 *    set of files (a "verified" bundle with other content is the worst possible failure);
 *  - mutations that can never leave a valid bundle (a truncated or extended gzip stream, a
 *    removed or duplicated entry) are not `ok`.
 *
 * A random subset also runs the real extraction flow (nothing may appear outside the target, and
 * nothing inside it when verification failed), and a smaller one runs the built CLI.
 *
 * Seed and count: STELLA_FUZZ_SEED (decimal or 0x-hex), STELLA_FUZZ_CASES (default 2400).
 * Replay one case: STELLA_FUZZ_SEED=<seed> STELLA_FUZZ_CASE=<n> npx vitest run test/lib/bundle-mutation.test.ts
 */
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {once} from 'node:events'
import {join, relative} from 'node:path'
import {PassThrough} from 'node:stream'
import {gunzipSync, gzipSync} from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startExtraction} from '../../src/lib/bundle/extract.js'
import {CHECK_NAMES, type VerifyReport} from '../../src/lib/bundle/report.js'
import {type ContentSink, verifyBundle} from '../../src/lib/bundle/verify.js'
import {type BundleMetadata, writeBundle} from '../../src/lib/bundle/writer.js'
import {type Ed25519PublicKey, readPrivateKeyFile, readPublicKeyFile} from '../../src/lib/keys/index.js'
import {TEST_KEY, TEST_PUBLIC_KEY, buildBundle, sampleFiles} from '../helpers/bundle-fixtures.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'
import * as craft from '../helpers/tar-craft.js'
import {seededRandom} from '../helpers/random.js'

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

const DEFAULT_SEED = 20261122
const DEFAULT_CASES = 2400

function envInteger(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text.trim() === '') return fallback
  const value = /^0x[0-9a-f]+$/i.test(text.trim()) ? Number.parseInt(text.trim().slice(2), 16) : Number(text.trim())
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name}=${JSON.stringify(text)} is not a non-negative integer`)
  return value
}

const SEED = envInteger('STELLA_FUZZ_SEED', DEFAULT_SEED) >>> 0
const CASES = envInteger('STELLA_FUZZ_CASES', DEFAULT_CASES)
const ONLY = process.env.STELLA_FUZZ_CASE === undefined ? undefined : envInteger('STELLA_FUZZ_CASE', 0)
/** A verification that takes longer than this is a hang. */
const CASE_TIMEOUT_MS = 5000
const BATCH = 200
/** About 100 extraction cases and 30 CLI cases in the default run (the CLI at most ~200 in big runs). */
const EXTRACT_RATE = 1 / 24
const CLI_RATE = Math.min(1 / 80, 200 / Math.max(CASES, 1))
const CLI_CONCURRENCY = 3
const MAX_REPORTED_FAILURES = 25

const replay = (index: number): string => `replay: STELLA_FUZZ_SEED=${SEED} STELLA_FUZZ_CASE=${index} npx vitest run test/lib/bundle-mutation.test.ts`

// ---------------------------------------------------------------------------------------
// A small seeded PRNG (mulberry32), one independent stream per case
// ---------------------------------------------------------------------------------------


/** murmur3's finaliser over (seed, case, stream): well-spread, independent per-case seeds. */
function caseSeed(seed: number, index: number, stream: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

class Rng {
  readonly #next: () => number
  constructor(seed: number) {
    this.#next = seededRandom(seed)
  }

  float(): number {
    return this.#next()
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n)
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  chance(p: number): boolean {
    return this.#next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(items.length)]!
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }

  printable(n: number): string {
    let text = ''
    for (let i = 0; i < n; i++) text += String.fromCharCode(this.range(0x21, 0x7e))
    return text
  }
}

// ---------------------------------------------------------------------------------------
// An independent tar walker and header editing (no code shared with src/lib/bundle/tar.ts)
// ---------------------------------------------------------------------------------------

const BLOCK = 512
const EXTENDED_TYPES = new Set(['x', 'g', 'L', 'K'])

/** One archive member with the extended headers ('x', 'g', 'L', 'K') in front of it. */
interface Group {
  /** First byte of the group: its first extended header, or the entry header. */
  start: number
  ext: number[]
  header: number
  dataStart: number
  size: number
  /** First byte after the data's padding. */
  end: number
  name: string
  typeflag: string
}

interface Layout {
  groups: Group[]
  /** Offset of the end-of-archive marker. */
  endOffset: number
}

const isZero = (bytes: Uint8Array): boolean => bytes.every((byte) => byte === 0)
const cString = (field: Uint8Array): Buffer => {
  const nul = field.indexOf(0)
  return Buffer.from(nul === -1 ? field : field.subarray(0, nul))
}

/** A numeric header field: octal text (NUL/space terminated) or GNU base-256. */
function readNumber(field: Uint8Array): number | undefined {
  if (field[0]! & 0x80) {
    let value = 0
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!
    return Number.isSafeInteger(value) ? value : undefined
  }

  const text = cString(field).toString('latin1').trim()
  if (text === '') return 0
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : undefined
}

function ustarName(block: Uint8Array): string {
  const name = cString(block.subarray(0, 100)).toString('utf8')
  const posix = Buffer.from(block.subarray(257, 263)).toString('latin1') === 'ustar\0'
  const prefix = posix ? cString(block.subarray(345, 500)).toString('utf8') : ''
  return prefix === '' ? name : `${prefix}/${name}`
}

function paxPath(payload: Uint8Array): string | undefined {
  const text = Buffer.from(payload).toString('utf8')
  const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text)
  return match?.[1]
}

/** The members of a tar stream, or undefined when it cannot be walked to an end marker. */
function walkTar(tar: Buffer): Layout | undefined {
  const groups: Group[] = []
  let offset = 0
  let start = 0
  let ext: number[] = []
  let longName: string | undefined
  while (offset + BLOCK <= tar.length) {
    const block = tar.subarray(offset, offset + BLOCK)
    if (isZero(block)) return {groups, endOffset: offset}
    const size = readNumber(block.subarray(124, 136))
    if (size === undefined) return undefined
    const typeflag = String.fromCharCode(block[156]!)
    const dataStart = offset + BLOCK
    const end = dataStart + Math.ceil(size / BLOCK) * BLOCK
    if (end > tar.length) return undefined
    if (EXTENDED_TYPES.has(typeflag)) {
      if (typeflag === 'x') longName = paxPath(tar.subarray(dataStart, dataStart + size)) ?? longName
      if (typeflag === 'L') longName = cString(tar.subarray(dataStart, dataStart + size)).toString('utf8')
      ext.push(offset)
      offset = end
      continue
    }

    groups.push({start, ext, header: offset, dataStart, size, end, name: longName ?? ustarName(block), typeflag})
    offset = end
    start = end
    ext = []
    longName = undefined
  }

  return undefined
}

/** Recomputes a header block's checksum the way GNU tar writes it: six octal digits, NUL, space. */
function fixChecksum(tar: Buffer, offset: number): void {
  const block = tar.subarray(offset, offset + BLOCK)
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(sum.toString(8).padStart(6, '0'), 148, 'latin1')
  block[154] = 0
  block[155] = 0x20
}

function setField(tar: Buffer, at: number, length: number, value: Uint8Array): void {
  tar.fill(0, at, at + length)
  Buffer.from(value.subarray(0, length)).copy(tar, at)
}

function octalField(value: number, length: number): Buffer {
  return Buffer.from(`${value.toString(8).padStart(length - 1, '0')}\0`, 'latin1')
}

function base256Field(value: bigint, length: number): Buffer {
  const out = Buffer.alloc(length)
  let rest = value
  for (let i = length - 1; i >= 1; i--) {
    out[i] = Number(rest & 0xffn)
    rest >>= 8n
  }

  out[0] = 0x80
  return out
}

const groupLabel = (layout: Layout, group: Group): string => `entry ${layout.groups.indexOf(group)} ${JSON.stringify(group.name)}`
const show = (bytes: Uint8Array): string => JSON.stringify(Buffer.from(bytes).toString('latin1'))

// ---------------------------------------------------------------------------------------
// Base bundles
// ---------------------------------------------------------------------------------------

interface Base {
  name: string
  gz: Buffer
  tar: Buffer
  layout: Layout
  files: Map<string, Buffer>
  /** Every member name: reserved and content. */
  names: string[]
  root: string
  bundleId: string
}

const METADATA: BundleMetadata = {
  kind: 'evaluation',
  tenant: 'acme',
  caseId: 'case-42',
  createdAt: '2026-11-22T10:00:00Z',
  subject: {type: 'evaluation', id: 'eval-9'},
}
const RESERVED_NAMES = ['manifest.json', 'manifest.dsse.json', 'root.merkle']

/** ~200 KB: half incompressible (fixed-seed PRNG), half text. */
function largeContent(): Buffer {
  const random = new Rng(0xb10b).bytes(100 * 1024)
  let text = ''
  for (let i = 0; text.length < 100 * 1024; i++) text += `${String(i).padStart(6, '0')} span=${(i * 2654435761) >>> 0} status=ok\n`
  return Buffer.concat([random, Buffer.from(text).subarray(0, 100 * 1024)])
}

let scratch: {path: string; cleanup: () => void}
let trusted: Ed25519PublicKey
const bases: Base[] = []

function makeBase(name: string, gz: Buffer, files: Record<string, string | Uint8Array>, root: string, bundleId: string): Base {
  const tar = gunzipSync(gz)
  const layout = walkTar(tar)
  if (!layout) throw new Error(`cannot walk the base bundle ${name}`)
  return {
    name,
    gz,
    tar,
    layout,
    files: new Map(Object.entries(files).map(([path, data]) => [path, Buffer.from(data)])),
    names: layout.groups.map((group) => group.name),
    root,
    bundleId,
  }
}

async function writerBase(name: string, files: Record<string, string | Uint8Array>): Promise<Base> {
  const sources = mkdtempSync(join(scratch.path, `sources-${name}-`))
  const inputs = Object.entries(files).map(([path, data], index) => {
    const source = join(sources, `input-${index}.bin`)
    writeFileSync(source, data)
    return {path, source}
  })
  const key = await readPrivateKeyFile(TEST_KEY)
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (chunk: Buffer) => chunks.push(chunk))
  const written = await writeBundle(inputs, METADATA, [key], out)
  out.end()
  await once(out, 'end')
  return makeBase(name, Buffer.concat(chunks), files, written.root, written.manifest.bundleId)
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

const KINDS = [
  'gzip-flip',
  'tar-flip-header',
  'tar-flip-data',
  'gzip-truncate',
  'tar-truncate',
  'edit-size',
  'edit-name',
  'edit-typeflag',
  'edit-mode',
  'pax-path',
  'entry-duplicate',
  'entry-remove',
  'entry-swap',
  'append-bytes',
  'append-member',
  'combo',
] as const
type Kind = (typeof KINDS)[number]

interface Step {
  desc: string
  /** No bundle can survive this mutation (only trusted for a single, non-combined mutation). */
  mustFail?: boolean
}

type TarMutation = {layer: 'tar'; apply: (rng: Rng, tar: Buffer, layout: Layout | undefined, base: Base) => Step & {tar: Buffer}}
type GzMutation = {layer: 'gz'; apply: (rng: Rng, gz: Buffer, base: Base) => Step & {gz: Buffer}}

/** A random byte-level edit of the tar: the fallback of structural edits when an earlier edit left no walkable layout. */
function rawTarFlip(rng: Rng, tar: Buffer, why: string): Step & {tar: Buffer} {
  if (tar.length === 0) return {tar, desc: `${why}: empty tar, unchanged`}
  const out = Buffer.from(tar)
  const flips: string[] = []
  for (let n = rng.range(1, 4); n > 0; n--) {
    const at = rng.int(out.length)
    const mask = rng.range(1, 255)
    out[at]! ^= mask
    flips.push(`@${at}^${mask}`)
  }

  return {tar: out, desc: `${why}: layout unreadable, raw flips ${flips.join(',')}`}
}

function flipBytes(rng: Rng, buffer: Buffer, from: number, to: number, count: number): string[] {
  const flips: string[] = []
  const first = rng.range(from, to - 1)
  for (let i = 0; i < count; i++) {
    // Clustered flips half the time: a burst of damage rather than scattered bytes.
    const at = i === 0 ? first : rng.chance(0.5) ? Math.min(to - 1, Math.max(from, first + rng.range(-32, 32))) : rng.range(from, to - 1)
    const mask = rng.range(1, 255)
    buffer[at]! ^= mask
    flips.push(`@${at}^0x${mask.toString(16)}`)
  }

  return flips
}

/** A name for a header or a pax `path`: benign, colliding, reserved, escaping, malformed. */
function pickName(rng: Rng, base: Base, self: string): Buffer {
  const others = base.names.filter((name) => name !== self)
  const parent = self.includes('/') ? self.slice(0, self.lastIndexOf('/')) : 'logs'
  const choices: (() => string | Buffer)[] = [
    () => rng.pick(others),
    () => rng.pick(others),
    () => rng.pick(RESERVED_NAMES),
    () => self,
    () => `${self}/`,
    () => self.toUpperCase(),
    () => `${self}/child`,
    () => parent,
    () => `${rng.pick(others)}/nested`,
    () => '../escape.txt',
    () => `../../../../${self}`,
    () => `/${self}`,
    () => '/etc/passwd',
    () => `./${self}`,
    () => self.replace(/\/|$/, '//'),
    () => `x/../${self}`,
    () => '',
    () => '.',
    () => '..',
    () => self.replace(/\//g, '\\'),
    () => 'C:\\evil.txt',
    () => Buffer.concat([Buffer.from(self), Buffer.of(0), Buffer.from('hidden')]),
    () => `${self} `,
    () => `${self}\u200b`,
    () => self.normalize('NFD'),
    () => rng.printable(rng.range(1, 30)),
    () => rng.bytes(rng.range(1, 30)),
    () => 'n'.repeat(rng.range(99, 101)),
    () => `deep/${'p'.repeat(rng.range(90, 300))}.txt`,
  ]
  const value = rng.pick(choices)()
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}

const TAR_MUTATIONS: Record<'tar-flip-header' | 'tar-flip-data' | 'tar-truncate' | 'edit-size' | 'edit-name' | 'edit-typeflag' | 'edit-mode' | 'pax-path' | 'entry-duplicate' | 'entry-remove' | 'entry-swap', TarMutation> = {
  'tar-flip-header': {
    layer: 'tar',
    apply(rng, tar, layout) {
      if (!layout) return rawTarFlip(rng, tar, 'tar-flip-header')
      const out = Buffer.from(tar)
      const headers = layout.groups.flatMap((group) => [...group.ext, group.header])
      const markers = [layout.endOffset, layout.endOffset + BLOCK].filter((at) => at + BLOCK <= out.length)
      const offset = rng.chance(0.9) || markers.length === 0 ? rng.pick(headers) : rng.pick(markers)
      const fields: [string, number, number][] = [
        ['name', 0, 100], ['mode', 100, 8], ['uid', 108, 8], ['size', 124, 12], ['mtime', 136, 12], ['chksum', 148, 8],
        ['typeflag', 156, 1], ['linkname', 157, 100], ['magic', 257, 8], ['prefix', 345, 155], ['block', 0, 512],
      ]
      const [field, from, length] = rng.chance(0.5) ? fields[fields.length - 1]! : rng.pick(fields)
      const flips = flipBytes(rng, out, offset + from, offset + from + length, rng.range(1, 8))
      const fixed = field !== 'chksum' && rng.chance(0.5)
      if (fixed) fixChecksum(out, offset)
      const owner = layout.groups.find((group) => group.header === offset || group.ext.includes(offset))
      return {tar: out, desc: `tar-flip-header: ${owner ? groupLabel(layout, owner) : 'end marker'} block@${offset} ${field} flips ${flips.join(',')} checksum ${fixed ? 'recomputed' : 'stale'}`}
    },
  },

  'tar-flip-data': {
    layer: 'tar',
    apply(rng, tar, layout) {
      if (!layout) return rawTarFlip(rng, tar, 'tar-flip-data')
      const out = Buffer.from(tar)
      const data: [string, number, number][] = []
      const padding: [string, number, number][] = []
      for (const group of layout.groups) {
        for (const ext of group.ext) {
          const size = readNumber(out.subarray(ext + 124, ext + 136)) ?? 0
          if (size > 0) data.push([`extended header of ${groupLabel(layout, group)}`, ext + BLOCK, ext + BLOCK + size])
        }

        if (group.size > 0) data.push([`data of ${groupLabel(layout, group)}`, group.dataStart, group.dataStart + group.size])
        if (group.dataStart + group.size < group.end) padding.push([`padding of ${groupLabel(layout, group)}`, group.dataStart + group.size, group.end])
      }

      const tail: [string, number, number][] = layout.endOffset < out.length ? [['end marker and record padding', layout.endOffset, out.length]] : []
      const roll = rng.float()
      const pool = roll < 0.75 || (padding.length === 0 && tail.length === 0) ? data : roll < 0.88 && padding.length > 0 ? padding : tail.length > 0 ? tail : padding
      const [what, from, to] = rng.pick(pool)
      const flips = flipBytes(rng, out, from, to, rng.range(1, 8))
      return {tar: out, desc: `tar-flip-data: ${what} [${from},${to}) flips ${flips.join(',')}`}
    },
  },

  'tar-truncate': {
    layer: 'tar',
    apply(rng, tar, layout) {
      let at: number
      let how: string
      const roll = rng.float()
      if (!layout || roll < 0.35) {
        at = rng.int(tar.length)
        how = 'anywhere'
      } else if (roll < 0.55) {
        at = rng.int(Math.ceil(tar.length / BLOCK)) * BLOCK
        how = 'at a block boundary'
      } else if (roll < 0.75) {
        const group = rng.pick(layout.groups)
        at = rng.pick([group.start, group.header, group.dataStart, group.dataStart + Math.floor(group.size / 2), group.dataStart + group.size, group.end])
        how = `inside ${groupLabel(layout, group)}`
      } else {
        at = rng.range(Math.max(0, layout.endOffset - BLOCK), tar.length - 1)
        how = 'around the end marker'
      }

      at = Math.min(at, tar.length - 1)
      return {tar: Buffer.from(tar.subarray(0, at)), desc: `tar-truncate: ${how}, to ${at} of ${tar.length} bytes`}
    },
  },

  'edit-size': {
    layer: 'tar',
    apply(rng, tar, layout, base) {
      if (!layout) return rawTarFlip(rng, tar, 'edit-size')
      const out = Buffer.from(tar)
      const group = rng.pick(layout.groups)
      const offset = group.ext.length > 0 && rng.chance(0.25) ? rng.pick(group.ext) : group.header
      const old = readNumber(out.subarray(offset + 124, offset + 136)) ?? 0
      const other = rng.pick(base.layout.groups).size
      const size = rng.pick([
        old + 1, Math.max(0, old - 1), old + BLOCK, Math.max(0, old - BLOCK), 0, rng.int(2 * old + 1024), Math.max(0, layout.endOffset - offset - BLOCK),
        other, old * 2 + 1, tar.length * 4, 8 ** 11 - 1, old + rng.range(1, 511),
      ])
      const encoding = rng.pick(['octal', 'octal', 'octal', 'octal', 'base-256', 'spaces', 'no-nul', 'garbage'] as const)
      let field: Buffer
      if (encoding === 'octal') field = octalField(Math.min(size, 8 ** 11 - 1), 12)
      else if (encoding === 'base-256') field = base256Field(BigInt(size), 12)
      else if (encoding === 'spaces') field = Buffer.from(` ${(size % 8 ** 9).toString(8)} `.padEnd(12, '\0'), 'latin1')
      else if (encoding === 'no-nul') field = Buffer.from(Math.min(size, 8 ** 12 - 1).toString(8).padStart(12, '0'), 'latin1')
      else field = Buffer.from(rng.pick([`0x${size.toString(16)}`, `+${size.toString(8)}`, `-1`, `${size}e0`, '8888', '\u0000123']), 'latin1')
      setField(out, offset + 124, 12, field)
      fixChecksum(out, offset)
      return {tar: out, desc: `edit-size: ${groupLabel(layout, group)} header@${offset}${offset === group.header ? '' : ' (extended)'} size ${old} -> ${size} as ${encoding} ${show(field)}`}
    },
  },

  'edit-name': {
    layer: 'tar',
    apply(rng, tar, layout, base) {
      if (!layout) return rawTarFlip(rng, tar, 'edit-name')
      const out = Buffer.from(tar)
      const group = rng.pick(layout.groups)
      const offset = group.ext.length > 0 && rng.chance(0.15) ? rng.pick(group.ext) : group.header
      const name = pickName(rng, base, group.name)
      const roll = rng.float()
      let desc: string
      const slash = name.subarray(0, 155).lastIndexOf(0x2f)
      if (roll < 0.25 && slash > 0 && name.length - slash - 1 <= 100 && name.length - slash - 1 > 0) {
        // The same name split into the ustar prefix and name fields.
        setField(out, offset + 345, 155, name.subarray(0, slash))
        setField(out, offset, 100, name.subarray(slash + 1))
        desc = `prefix ${show(name.subarray(0, slash))} + name ${show(name.subarray(slash + 1))}`
      } else if (roll < 0.35) {
        const prefix = rng.chance(0.5) ? Buffer.from(rng.printable(rng.range(1, 20))) : Buffer.from('..')
        setField(out, offset + 345, 155, prefix)
        setField(out, offset, 100, name)
        desc = `prefix ${show(prefix)} + name ${show(name.subarray(0, 100))}`
      } else {
        setField(out, offset, 100, name)
        desc = `name ${show(name.subarray(0, 100))}`
      }

      fixChecksum(out, offset)
      return {tar: out, desc: `edit-name: ${groupLabel(layout, group)} header@${offset}${offset === group.header ? '' : ' (extended)'} -> ${desc}`}
    },
  },

  'edit-typeflag': {
    layer: 'tar',
    apply(rng, tar, layout, base) {
      if (!layout) return rawTarFlip(rng, tar, 'edit-typeflag')
      let out = Buffer.from(tar)
      const group = rng.pick(layout.groups)
      const typeflag = rng.chance(0.1)
        ? String.fromCharCode(rng.int(256))
        : rng.pick(['1', '1', '2', '2', '2', '3', '4', '5', '5', '5', '6', '6', '7', '0', '\0', 'x', 'g', 'L', 'K', 'V', 'M', 'S', 'D', 'N', 'A', 'Z'])
      out[group.header + 156] = typeflag.charCodeAt(0)
      const notes: string[] = []
      if (typeflag === '1' || typeflag === '2') {
        const link = pickName(rng, base, group.name)
        setField(out, group.header + 157, 100, link)
        notes.push(`linkname ${show(link.subarray(0, 100))}`)
      }

      if (typeflag === '5') {
        if (rng.chance(0.4)) {
          // A directory has no data: the file's content is now read as headers.
          setField(out, group.header + 124, 12, octalField(0, 12))
          notes.push('size 0')
        }

        if (rng.chance(0.5) && group.ext.length === 0) {
          const name = cString(out.subarray(group.header, group.header + 100))
          if (name.length < 100) {
            setField(out, group.header, 100, Buffer.concat([name, Buffer.from('/')]))
            notes.push('trailing slash')
          }
        }
      }

      fixChecksum(out, group.header)
      if (typeflag === '5' && rng.chance(0.3)) {
        // A directory entry inserted in front, named like the file (through a pax path when the name is long).
        const dirName = Buffer.from(`${group.name}/`, 'utf8')
        const directory = dirName.length <= 100 ? craft.directory(dirName) : Buffer.concat([craft.pax([['path', dirName]]), craft.directory(dirName.subarray(0, 100))])
        out = Buffer.concat([out.subarray(0, group.start), directory, out.subarray(group.start)])
        notes.push('and a directory entry of the same name before it')
      }

      return {tar: out, desc: `edit-typeflag: ${groupLabel(layout, group)} header@${group.header} typeflag ${JSON.stringify(group.typeflag)} -> ${JSON.stringify(typeflag)}${notes.length ? ` (${notes.join(', ')})` : ''}`}
    },
  },

  'edit-mode': {
    layer: 'tar',
    apply(rng, tar, layout) {
      if (!layout) return rawTarFlip(rng, tar, 'edit-mode')
      const out = Buffer.from(tar)
      const group = rng.pick(layout.groups)
      const offset = group.ext.length > 0 && rng.chance(0.15) ? rng.pick(group.ext) : group.header
      const field = rng.chance(0.5) ? 'mode' : rng.pick(['uid', 'gid', 'mtime', 'uname', 'magic', 'version', 'devmajor', 'linkname'] as const)
      const place: Record<string, [number, number]> = {
        mode: [100, 8], uid: [108, 8], gid: [116, 8], mtime: [136, 12], uname: [265, 32], magic: [257, 6], version: [263, 2], devmajor: [329, 8], linkname: [157, 100],
      }
      const [at, length] = place[field]!
      let value: Buffer
      if (field === 'mode' || field === 'uid' || field === 'gid' || field === 'devmajor') {
        value = rng.pick([
          () => octalField(rng.int(0o10000), 8),
          () => octalField(rng.pick([0o4755, 0o2755, 0o1777, 0o777, 0o000, 0o7777777, 0o100644, 0o40755]), 8),
          () => Buffer.from(rng.pick(['zzzzzzz\0', '       \0', '\0\0\0\0\0\0\0\0', '0000009\0', '-000001\0'])),
          () => base256Field(BigInt(rng.int(2 ** 30)), 8),
        ])()
      } else if (field === 'mtime') {
        value = rng.pick([() => octalField(rng.int(2 ** 33), 12), () => base256Field(BigInt(rng.int(2 ** 40)), 12), () => Buffer.from('99999999999\0'), () => octalField(0, 12)])()
      } else if (field === 'magic') {
        value = Buffer.from(rng.pick(['ustar\0', 'ustar ', '\0\0\0\0\0\0', 'USTAR\0', rng.printable(6)]), 'latin1')
      } else if (field === 'version') {
        value = Buffer.from(rng.pick(['00', '  ', ' \0', 'zz']), 'latin1')
      } else {
        value = Buffer.from(rng.pick(['root', rng.printable(rng.range(1, 31)), '../../etc/passwd', group.name]))
      }

      setField(out, offset + at, length, value)
      fixChecksum(out, offset)
      return {tar: out, desc: `edit-mode: ${groupLabel(layout, group)} header@${offset}${offset === group.header ? '' : ' (extended)'} ${field} -> ${show(value)}`}
    },
  },

  'pax-path': {
    layer: 'tar',
    apply(rng, tar, layout, base) {
      if (!layout) return rawTarFlip(rng, tar, 'pax-path')
      const index = rng.chance(0.9) ? rng.int(layout.groups.length) : layout.groups.length
      const group = layout.groups[index]
      const self = group?.name ?? 'after-last.txt'
      const name = pickName(rng, base, self)
      const records: [string, Uint8Array][] = [['path', name]]
      const notes: string[] = []
      if (rng.chance(0.3)) {
        const extra = rng.pick<[string, string]>([
          ['size', String(rng.pick([0, 1, 511, 512, group?.size ?? 0, (group?.size ?? 0) + 1, 2 ** 40]))],
          ['size', rng.pick(['-1', '0x10', '1e3', ' 12', ''])],
          ['linkpath', '/etc/passwd'],
          ['mtime', rng.pick(['1.5', '-1', 'x', '99999999999999999999'])],
          ['path', rng.pick(base.names)],
          ['GNU.sparse.size', '1'],
          ['uid', '0'],
          ['comment', rng.printable(40)],
        ])
        records.push([extra[0], Buffer.from(extra[1])])
        notes.push(`${extra[0]}=${JSON.stringify(extra[1])}`)
      }

      let piece: Buffer
      let how: string
      const roll = rng.float()
      if (roll < 0.7) {
        piece = craft.pax(records, {typeflag: 'x'})
        how = 'pax x'
      } else if (roll < 0.8) {
        piece = craft.pax(records, {typeflag: 'g'})
        how = 'pax g (global)'
      } else if (roll < 0.9) {
        piece = craft.gnuLongName(name)
        how = 'GNU L long name'
      } else {
        // A malformed record: wrong length, no length, no '=', or no newline.
        const raw = rng.pick([`99 path=${name.toString('latin1')}\n`, `path=${name.toString('latin1')}\n`, '5 p\n', `9 path=x`, `0 path=x\n`, `7 path=\n\n`])
        piece = craft.entry({name: 'PaxHeaders/bad', typeflag: 'x'}, Buffer.from(raw, 'latin1'))
        how = `malformed pax ${JSON.stringify(raw)}`
      }

      const at = group === undefined ? layout.endOffset : rng.chance(0.5) ? group.start : group.header
      const out = Buffer.concat([tar.subarray(0, at), piece, tar.subarray(at)])
      const target = group === undefined ? 'before the end marker' : `before ${groupLabel(layout, group)}${at === group.start ? '' : ' (after its own extended headers)'}`
      return {tar: out, desc: `pax-path: ${how} path ${show(name)}${notes.length ? ` + ${notes.join(', ')}` : ''} inserted @${at} ${target}`}
    },
  },

  'entry-duplicate': {
    layer: 'tar',
    apply(rng, tar, layout) {
      if (!layout) return rawTarFlip(rng, tar, 'entry-duplicate')
      const group = rng.pick(layout.groups)
      let copy = Buffer.from(tar.subarray(group.start, group.end))
      let note = ''
      if (rng.chance(0.3) && group.size > 0) {
        // The second copy has other content under the same header.
        const at = group.dataStart - group.start + rng.int(group.size)
        copy[at]! ^= 0x20
        note = ` with its data byte @${at - (group.dataStart - group.start)} changed`
      } else if (rng.chance(0.15)) {
        copy = Buffer.concat([copy, copy])
        note = ' twice'
      }

      const positions = [...layout.groups.map((g) => g.start), layout.endOffset]
      const at = rng.chance(0.1) ? tar.length : rng.pick(positions)
      const out = Buffer.concat([tar.subarray(0, at), copy, tar.subarray(at)])
      return {tar: out, desc: `entry-duplicate: ${groupLabel(layout, group)} [${group.start},${group.end}) copied${note} to @${at}${at === tar.length ? ' (after the end marker)' : ''}`, mustFail: true}
    },
  },

  'entry-remove': {
    layer: 'tar',
    apply(rng, tar, layout) {
      if (!layout) return rawTarFlip(rng, tar, 'entry-remove')
      const group = rng.pick(layout.groups)
      const roll = rng.float()
      if (roll < 0.75) {
        const out = Buffer.concat([tar.subarray(0, group.start), tar.subarray(group.end)])
        return {tar: out, desc: `entry-remove: ${groupLabel(layout, group)} [${group.start},${group.end}) removed`, mustFail: true}
      }

      if (roll < 0.9) {
        // Only the extended headers, or else only the header block (its data is then read as headers).
        const [from, to, what] = group.ext.length > 0 ? [group.start, group.header, 'its extended headers'] : [group.header, group.header + BLOCK, 'its header block']
        const out = Buffer.concat([tar.subarray(0, from), tar.subarray(to)])
        return {tar: out, desc: `entry-remove: ${what} of ${groupLabel(layout, group)} [${from},${to}) removed`}
      }

      const cut = rng.chance(0.5) ? layout.endOffset : layout.endOffset + BLOCK
      return {tar: Buffer.from(tar.subarray(0, Math.min(cut, tar.length))), desc: `entry-remove: end marker removed from @${cut}`}
    },
  },

  'entry-swap': {
    layer: 'tar',
    apply(rng, tar, layout) {
      if (!layout || layout.groups.length < 2) return rawTarFlip(rng, tar, 'entry-swap')
      const groups = layout.groups
      const i = rng.int(groups.length)
      let j = rng.int(groups.length - 1)
      if (j >= i) j += 1
      const [a, b] = i < j ? [groups[i]!, groups[j]!] : [groups[j]!, groups[i]!]
      if (rng.chance(0.8)) {
        const out = Buffer.concat([tar.subarray(0, a.start), tar.subarray(b.start, b.end), tar.subarray(a.end, b.start), tar.subarray(a.start, a.end), tar.subarray(b.end)])
        return {tar: out, desc: `entry-swap: ${groupLabel(layout, a)} <-> ${groupLabel(layout, b)}`}
      }

      // Move one entry to the end (just before the end marker).
      const out = Buffer.concat([tar.subarray(0, a.start), tar.subarray(a.end, layout.endOffset), tar.subarray(a.start, a.end), tar.subarray(layout.endOffset)])
      return {tar: out, desc: `entry-swap: ${groupLabel(layout, a)} moved to the end`}
    },
  },
}

const GZ_MUTATIONS: Record<'gzip-flip' | 'gzip-truncate' | 'append-member', GzMutation> = {
  'gzip-flip': {
    layer: 'gz',
    apply(rng, gz) {
      const out = Buffer.from(gz)
      const roll = rng.float()
      const [what, from, to] =
        roll < 0.6 ? ['anywhere', 0, out.length] : roll < 0.75 ? ['header', 0, Math.min(10, out.length)] : roll < 0.9 ? ['trailer', Math.max(0, out.length - 8), out.length] : ['deflate start', 10, Math.min(out.length, 200)]
      const flips = flipBytes(rng, out, from, to, rng.range(1, 8))
      return {gz: out, desc: `gzip-flip: ${what} flips ${flips.join(',')} of ${out.length} bytes`}
    },
  },

  'gzip-truncate': {
    layer: 'gz',
    apply(rng, gz) {
      const roll = rng.float()
      const length = roll < 0.5 ? rng.int(gz.length) : roll < 0.75 ? rng.range(Math.max(0, gz.length - 12), gz.length - 1) : roll < 0.9 ? rng.int(Math.min(24, gz.length)) : gz.length - 1
      return {gz: Buffer.from(gz.subarray(0, length)), desc: `gzip-truncate: to ${length} of ${gz.length} bytes`, mustFail: true}
    },
  },

  'append-member': {
    layer: 'gz',
    apply(rng, gz, base) {
      const evil = craft.tar([craft.file('evil.txt', 'not in the manifest\n')])
      const members: [string, Buffer][] = [
        ['an empty member', gzipSync(Buffer.alloc(0))],
        ['a member of random bytes', gzipSync(rng.bytes(rng.range(1, 2000)))],
        ['a member holding a tar with evil.txt', gzipSync(evil)],
        ['a member holding the whole tar again', gzipSync(base.tar, {level: 1})],
        ['a member of zero blocks', gzipSync(Buffer.alloc(1024))],
        ['the bundle itself again', gz],
      ]
      const count = rng.chance(0.15) ? 2 : 1
      const picked = Array.from({length: count}, () => rng.pick(members))
      return {gz: Buffer.concat([gz, ...picked.map(([, bytes]) => bytes)]), desc: `append-member: ${picked.map(([what]) => what).join(' and ')}`, mustFail: true}
    },
  },
}

/** Appending: after the gzip member (bytes), or inside the tar after its end marker. */
function appendBytes(rng: Rng, base: Base): {tar?: Buffer; gz?: (gz: Buffer) => Buffer} & Step {
  if (rng.chance(0.35)) {
    const roll = rng.float()
    if (roll < 0.3) {
      const zeros = BLOCK * rng.range(1, 20)
      return {tar: Buffer.concat([base.tar, Buffer.alloc(zeros)]), desc: `append-bytes: ${zeros} zero bytes after the tar's end`}
    }

    const [what, bytes] =
      roll < 0.6
        ? ['random bytes', Buffer.concat([rng.bytes(rng.range(1, 600)), Buffer.of(1)])]
        : roll < 0.8
          ? ['a tar entry evil.txt', craft.file('evil.txt', 'appended after the end marker\n')]
          : ['a copy of the last entry', Buffer.from(base.tar.subarray(base.layout.groups.at(-1)!.start, base.layout.groups.at(-1)!.end))]
    return {tar: Buffer.concat([base.tar, bytes]), desc: `append-bytes: ${what} (${bytes.length} bytes) inside the gzip stream, after the tar's end`, mustFail: true}
  }

  const [what, bytes] = rng.pick<[string, Buffer]>([
    ['one zero byte', Buffer.alloc(1)],
    ['zero bytes', Buffer.alloc(rng.range(1, 1024))],
    ['random bytes', rng.bytes(rng.range(1, 64))],
    ['a newline', Buffer.from('\n')],
    ['1f', Buffer.of(0x1f)],
    ['1f 8b', Buffer.of(0x1f, 0x8b)],
    ['1f 8b and garbage', Buffer.concat([Buffer.of(0x1f, 0x8b, 0x08, 0x00), rng.bytes(rng.range(1, 40))])],
  ])
  return {gz: (gz) => Buffer.concat([gz, bytes]), desc: `append-bytes: ${what} (${bytes.length}) after the gzip member`, mustFail: true}
}

interface Mutant {
  bytes: Buffer
  desc: string
  mustFail: boolean
  /** The kinds applied (several for a combo). */
  applied: Kind[]
}

const SIMPLE_KINDS = KINDS.filter((kind) => kind !== 'combo' && kind !== 'append-bytes')

function mutate(kind: Kind, base: Base, rng: Rng): Mutant {
  if (kind === 'append-bytes') {
    const step = appendBytes(rng, base)
    if (step.tar) {
      const level = rng.pick([1, 1, 6, 0])
      return {bytes: gzipSync(step.tar, {level}), desc: `${step.desc} ; re-gzip level ${level}`, mustFail: step.mustFail ?? false, applied: [kind]}
    }

    return {bytes: step.gz!(base.gz), desc: step.desc, mustFail: true, applied: [kind]}
  }

  const kinds: Kind[] = kind === 'combo' ? Array.from({length: rng.range(2, 3)}, () => rng.pick(SIMPLE_KINDS)) : [kind]
  // Tar-level edits first, then the gzip around them, then gzip-level edits.
  const tarKinds = kinds.filter((k) => k in TAR_MUTATIONS) as (keyof typeof TAR_MUTATIONS)[]
  const gzKinds = kinds.filter((k) => k in GZ_MUTATIONS) as (keyof typeof GZ_MUTATIONS)[]
  const descs: string[] = []
  let mustFail = false
  let gz = base.gz
  if (tarKinds.length > 0) {
    let tar = base.tar
    for (const k of tarKinds) {
      const layout = tar === base.tar ? base.layout : walkTar(tar)
      const step = TAR_MUTATIONS[k].apply(rng, tar, layout, base)
      tar = step.tar
      descs.push(step.desc)
      mustFail ||= step.mustFail ?? false
    }

    const level = rng.pick([1, 1, 1, 6, 0, 9])
    gz = gzipSync(tar, {level})
    descs.push(`re-gzip level ${level}`)
  }

  for (const k of gzKinds) {
    const step = GZ_MUTATIONS[k].apply(rng, gz, base)
    gz = step.gz
    descs.push(step.desc)
    mustFail ||= step.mustFail ?? false
  }

  return {bytes: gz, desc: (kind === 'combo' ? 'combo: ' : '') + descs.join(' ; '), mustFail: kinds.length === 1 && mustFail, applied: kinds}
}

// ---------------------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------------------

/** Records what verifyBundle streams out, and whether it keeps the begin/data/end protocol. */
class CollectingSink implements ContentSink {
  readonly files = new Map<string, Buffer[]>()
  readonly violations: string[] = []
  open: string | undefined

  begin(path: string): void {
    if (this.open !== undefined) this.violations.push(`begin(${JSON.stringify(path)}) while ${JSON.stringify(this.open)} is open`)
    if (this.files.has(path)) this.violations.push(`begin(${JSON.stringify(path)}) a second time`)
    this.files.set(path, [])
    this.open = path
  }

  data(chunk: Uint8Array): void {
    if (this.open === undefined) return void this.violations.push(`data(${chunk.length} bytes) outside an entry`)
    this.files.get(this.open)!.push(Buffer.from(chunk))
  }

  end(): void {
    if (this.open === undefined) this.violations.push('end() outside an entry')
    this.open = undefined
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }
}

function tee(a: ContentSink, b: ContentSink): ContentSink {
  return {
    begin(path, size) {
      a.begin(path, size)
      b.begin(path, size)
    },
    data(chunk) {
      a.data(chunk)
      b.data(chunk)
    },
    end() {
      a.end()
      b.end()
    },
    async flush() {
      await a.flush()
      await b.flush()
    },
  }
}

/** Feeds the bytes in the chunking chosen for the case. */
async function* feed(bytes: Buffer, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; ) {
    const size = sizes()
    yield bytes.subarray(at, at + size)
    at += size
  }
}

type Outcome = {report: VerifyReport} | {error: unknown} | {timeout: true}

async function withTimeout(promise: Promise<VerifyReport>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({timeout: true}), CASE_TIMEOUT_MS)
  })
  try {
    return await Promise.race([promise.then((report) => ({report}), (error: unknown) => ({error})), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function describeReport(report: VerifyReport): string {
  const checks = report.checks.map((check) => `${check.check}:${check.status}${check.reason ? `:${check.reason}` : ''}`).join(' ')
  const problems = report.container.problems.slice(0, 3).map((problem) => `${problem.code}${problem.path === undefined ? '' : ` ${JSON.stringify(problem.path)}`}`)
  return `ok=${report.ok} [${checks}] problems=${report.container.problemCount} ${JSON.stringify(problems)} files: altered=${report.files.alteredCount} missing=${report.files.missingCount} extra=${report.files.extraCount}`
}

/** Differences between what was delivered and the base's files (empty when identical). */
function contentDifferences(delivered: Map<string, Buffer>, expected: Map<string, Buffer>): string[] {
  const differences: string[] = []
  for (const [path, bytes] of expected) {
    const got = delivered.get(path)
    if (got === undefined) differences.push(`${JSON.stringify(path)} not delivered`)
    else if (!got.equals(bytes)) differences.push(`${JSON.stringify(path)} delivered ${got.length} bytes, expected ${bytes.length} (first difference @${firstDifference(got, bytes)})`)
  }

  for (const path of delivered.keys()) if (!expected.has(path)) differences.push(`${JSON.stringify(path)} delivered but not an original file`)
  return differences
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i
  return length
}

/** Every path under `dir` (relative, with a type mark), except the subtree `skip`. */
function listTree(dir: string, skip?: string): string[] {
  const out: string[] = []
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name)
      if (full === skip) continue
      const stat = lstatSync(full)
      const mark = stat.isSymbolicLink() ? 'l' : stat.isDirectory() ? 'd' : stat.isFile() ? 'f' : '?'
      out.push(`${mark} ${relative(dir, full)}`)
      if (stat.isDirectory()) walk(full)
    }
  }

  walk(dir)
  return out.sort()
}

interface CaseResult {
  index: number
  kind: Kind
  applied: Kind[]
  label: string
  failures: string[]
  verdict: string
  ok: boolean | undefined
  extracted: boolean
  cli?: {path: string; ok: boolean}
}

async function runCase(index: number): Promise<CaseResult> {
  // Separate streams: the flow decisions do not depend on how many numbers a mutation drew.
  const flow = new Rng(caseSeed(SEED, index, 0))
  const rng = new Rng(caseSeed(SEED, index, 1))
  const extract = flow.chance(EXTRACT_RATE)
  const viaCli = flow.chance(CLI_RATE)
  const kind = KINDS[index % KINDS.length]!
  const base = rng.pick(bases)
  const mutant = mutate(kind, base, rng)
  const chunking = flow.chance(0.4) ? 'whole' : mutant.bytes.length < 16384 ? 'small' : 'medium'
  const sizes = chunking === 'whole' ? () => Math.max(1, mutant.bytes.length) : chunking === 'small' ? () => flow.range(1, 700) : () => flow.range(256, 65536)
  const label = `seed=${SEED} case=${index} kind=${kind} base=${base.name} chunks=${chunking}: ${mutant.desc}`
  const failures: string[] = []
  const result: CaseResult = {index, kind, applied: mutant.applied, label, failures, verdict: 'no report', ok: undefined, extracted: extract}

  let cliPath: string | undefined
  if (viaCli) {
    cliPath = join(scratch.path, 'cli', `case-${index}.tgz`)
    writeFileSync(cliPath, mutant.bytes)
  }

  const collector = new CollectingSink()
  let outcome: Outcome
  let arena: string | undefined
  if (!extract) {
    outcome = await withTimeout(verifyBundle(feed(mutant.bytes, sizes), {trustedKeys: [trusted], contentSink: collector}))
  } else {
    // root/out lies a few levels down in a fresh arena, so a path that climbs out of `out` still lands inside the arena.
    arena = mkdtempSync(join(scratch.path, 'arena-'))
    const root = join(arena, 'a', 'b', 'c', 'root')
    mkdirSync(root, {recursive: true})
    const out = join(root, 'out')
    const before = listTree(arena)
    const extraction = await startExtraction(out)
    outcome = await withTimeout(verifyBundle(feed(mutant.bytes, sizes), {trustedKeys: [trusted], contentSink: tee(collector, extraction.sink)}))
    try {
      if ('report' in outcome && outcome.report.ok) {
        await extraction.commit()
        const tree = listTree(out)
        const expected = new Set<string>()
        for (const path of base.files.keys()) {
          const parts = path.split('/')
          for (let i = 1; i < parts.length; i++) expected.add(`d ${join(...parts.slice(0, i))}`)
          expected.add(`f ${join(...parts)}`)
        }

        if (JSON.stringify(tree) !== JSON.stringify([...expected].sort())) failures.push(`extraction of a verified bundle left ${JSON.stringify(tree)}, expected ${JSON.stringify([...expected].sort())}`)
        for (const [path, bytes] of base.files) {
          const file = join(out, ...path.split('/'))
          if (existsSync(file) && !readFileSync(file).equals(bytes)) failures.push(`extracted ${JSON.stringify(path)} differs from the original`)
        }
      } else {
        await extraction.abort()
        const left = readdirSync(out)
        if (left.length > 0) failures.push(`extraction target not empty after a failed verification: ${JSON.stringify(left)}`)
      }
    } catch (error) {
      failures.push(`extraction flow threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      await extraction.abort().catch(() => {})
    }

    const after = listTree(arena, out)
    if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`extraction created entries outside root/out: ${JSON.stringify(after.filter((path) => !before.includes(path)))}`)
  }

  if ('timeout' in outcome) {
    failures.push(`verifyBundle did not settle within ${CASE_TIMEOUT_MS} ms (a hang)`)
  } else if ('error' in outcome) {
    const error = outcome.error
    failures.push(`verifyBundle threw instead of reporting: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  } else {
    const report = outcome.report
    result.ok = report.ok
    result.verdict = report.ok ? 'ok' : (() => {
      const failed = report.checks.find((check) => check.status !== 'ok')
      return failed ? `${failed.check}:${failed.reason ?? failed.status}` : 'not ok, every check ok'
    })()
    if (report.checks.length !== 6 || report.checks.some((check, i) => check.check !== CHECK_NAMES[i])) {
      failures.push(`expected the 6 checks in order, got ${JSON.stringify(report.checks.map((check) => check.check))}`)
    }

    if (report.ok !== report.checks.every((check) => check.status === 'ok')) failures.push(`ok=${report.ok} does not match the checks`)
    try {
      JSON.stringify(report)
    } catch (error) {
      failures.push(`the report does not serialise: ${String(error)}`)
    }

    if (collector.violations.length > 0) failures.push(`content sink protocol broken: ${collector.violations.slice(0, 3).join('; ')}`)
    if (report.ok) {
      if (mutant.mustFail) failures.push('VERIFIED a bundle this mutation can never leave valid')
      const delivered = new Map([...collector.files].map(([path, parts]) => [path, Buffer.concat(parts)]))
      const differences = contentDifferences(delivered, base.files)
      if (differences.length > 0) failures.push(`VERIFIED, but the content delivered differs from the original bundle's: ${differences.slice(0, 5).join('; ')}`)
      if (collector.open !== undefined) failures.push(`VERIFIED with the sink entry ${JSON.stringify(collector.open)} still open`)
      if (report.merkle.manifestRoot !== base.root || report.bundleId !== base.bundleId) {
        failures.push(`VERIFIED with root ${report.merkle.manifestRoot} / bundleId ${report.bundleId}, the original has ${base.root} / ${base.bundleId}`)
      }
    }

    if (failures.length > 0) failures.push(`report: ${describeReport(report)}`)
  }

  if (arena) rmSync(arena, {recursive: true, force: true})
  if (cliPath !== undefined && result.ok !== undefined) result.cli = {path: cliPath, ok: result.ok}
  return result
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

interface KindStats {
  cases: number
  ok: number
  verdicts: Map<string, number>
}

const stats = new Map<Kind, KindStats>(KINDS.map((kind) => [kind, {cases: 0, ok: 0, verdicts: new Map()}]))
const appliedCounts = new Map<Kind, number>()
const cliCases: {index: number; label: string; path: string; ok: boolean}[] = []
let extractionCases = 0
let casesRun = 0
const started = Date.now()

const indices = ONLY === undefined ? Array.from({length: CASES}, (_, i) => i) : [ONLY]
const batches: number[][] = []
for (let i = 0; i < indices.length; i += BATCH) batches.push(indices.slice(i, i + BATCH))

describe(`verifyBundle under seeded mutation (seed ${SEED}, ${ONLY === undefined ? `${CASES} cases` : `case ${ONLY} only`})`, () => {
  beforeAll(async () => {
    scratch = scratchDir('stella-bundle-mutation-')
    mkdirSync(join(scratch.path, 'cli'))
    trusted = await readPublicKeyFile(TEST_PUBLIC_KEY)
    bases.push(
      await writerBase('writer', {
        'README.txt': 'Evidence for case 42.\n',
        'logs/app.log': Array.from({length: 200}, (_, i) => `2026-11-22T10:00:${String(i % 60).padStart(2, '0')}Z level=info msg="event ${i}"\n`).join(''),
        'nested/deep/er/path/data.json': `${JSON.stringify({nested: true, values: [1, 2, 3]})}\n`,
        'empty.txt': '',
        'blob/large.bin': largeContent(),
        'notes/résumé.txt': 'non-ASCII name, written with a pax path\n',
      }),
    )
    const gnu = buildBundle({files: sampleFiles(), dir: scratch.path})
    bases.push(makeBase('gnu-tar', readFileSync(gnu.path), sampleFiles(), gnu.root, gnu.manifest.bundleId))
    bases.push(await writerBase('small', {'a.txt': 'alpha\n', 'dir/b.txt': 'bravo\n', zero: ''}))
  }, 60_000)

  afterAll(() => {
    scratch?.cleanup()
    if (ONLY !== undefined || casesRun === 0) return
    const lines = [...stats].map(([kind, s]) => {
      const top = [...s.verdicts].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([verdict, n]) => `${verdict}×${n}`).join(', ')
      return `  ${kind.padEnd(16)} ${String(s.cases).padStart(6)} cases, ${String(s.ok).padStart(5)} verified; ${top}`
    })
    const applied = [...appliedCounts].map(([kind, n]) => `${kind}×${n}`).join(', ')
    console.log(`bundle mutation: seed ${SEED}, ${casesRun} cases (${extractionCases} with extraction, ${cliCases.length} via the CLI) in ${((Date.now() - started) / 1000).toFixed(1)} s\n${lines.join('\n')}\n  mutations applied (combos counted per part): ${applied}`)
  })

  it('starts from valid bundles that verify and deliver their files', async () => {
    expect(bases.map((base) => base.name)).toEqual(['writer', 'gnu-tar', 'small'])
    for (const base of bases) {
      const sink = new CollectingSink()
      const report = await verifyBundle(feed(base.gz, () => 4096), {trustedKeys: [trusted], contentSink: sink})
      expect(describeReport(report), base.name).toMatch(/^ok=true /)
      expect(contentDifferences(new Map([...sink.files].map(([path, parts]) => [path, Buffer.concat(parts)])), base.files), base.name).toEqual([])
      expect(base.layout.groups.map((group) => group.name).sort(), base.name).toEqual([...RESERVED_NAMES, ...base.files.keys()].sort())
    }

    expect(bases[0]!.files.get('blob/large.bin')!.length).toBeGreaterThanOrEqual(200 * 1024)
    // The GNU tar bundle carries pax headers; the writer's has one for its non-ASCII name.
    expect(bases[1]!.layout.groups.some((group) => group.ext.length > 0)).toBe(true)
    expect(bases[0]!.layout.groups.some((group) => group.ext.length > 0)).toBe(true)
  })

  for (const batch of batches) {
    it(`cases ${batch[0]}–${batch.at(-1)} (seed ${SEED})`, async () => {
      const failed: string[] = []
      for (const index of batch) {
        let result: CaseResult
        try {
          result = await runCase(index)
        } catch (error) {
          failed.push(`seed=${SEED} case=${index} kind=${KINDS[index % KINDS.length]}: the test harness threw: ${error instanceof Error ? error.stack : String(error)}\n  ${replay(index)}`)
          continue
        }

        casesRun += 1
        if (result.extracted) extractionCases += 1
        const kindStats = stats.get(result.kind)!
        kindStats.cases += 1
        if (result.ok) kindStats.ok += 1
        kindStats.verdicts.set(result.verdict, (kindStats.verdicts.get(result.verdict) ?? 0) + 1)
        for (const kind of result.applied) appliedCounts.set(kind, (appliedCounts.get(kind) ?? 0) + 1)
        if (result.cli) cliCases.push({index, label: result.label, ...result.cli})
        if (ONLY !== undefined) console.log(`${result.label}\n  verdict: ${result.verdict}`)
        if (result.failures.length > 0) failed.push(`${result.label}\n  ${result.failures.join('\n  ')}\n  ${replay(index)}`)
      }

      if (failed.length > 0) {
        const shown = failed.slice(0, MAX_REPORTED_FAILURES).join('\n\n')
        expect.fail(`${failed.length} of ${batch.length} mutation cases failed:\n\n${shown}${failed.length > MAX_REPORTED_FAILURES ? `\n\n… and ${failed.length - MAX_REPORTED_FAILURES} more` : ''}`)
      }
    }, Math.max(120_000, batch.length * (CASE_TIMEOUT_MS + 1000)))
  }

  it.skipIf(ONLY !== undefined)('ran every mutation kind often enough', () => {
    const minimum = Math.min(100, Math.floor(CASES / KINDS.length))
    const counts = Object.fromEntries([...stats].map(([kind, s]) => [kind, s.cases]))
    for (const kind of KINDS) expect(counts[kind], `${kind} ran ${counts[kind]} times: ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(minimum)
    expect(casesRun).toBe(CASES)
    if (CASES >= DEFAULT_CASES) {
      expect(extractionCases).toBeGreaterThanOrEqual(50)
      expect(cliCases.length).toBeGreaterThanOrEqual(12)
    }
  })

  it('the CLI exits 0 or 1 with one JSON envelope and no stack trace', async () => {
    if (cliCases.length === 0) return
    expect(existsSync(join(projectRoot, 'dist', 'commands', 'forensic', 'verify.js')), 'dist/ is missing: run `npm run build` first').toBe(true)
    const home = mkdtempSync(join(scratch.path, 'home-'))
    const failed: string[] = []
    const queue = [...cliCases]
    const worker = async (): Promise<void> => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const r = await runCli(['forensic', 'verify', item.path, '--key', TEST_PUBLIC_KEY, '--json'], {home})
        const problems: string[] = []
        if (r.status !== 0 && r.status !== 1) problems.push(`exit status ${r.status} (signal ${r.signal}), expected 0 or 1`)
        let envelope: {status?: unknown; result?: {report?: {ok?: unknown; checks?: unknown[]}}} | undefined
        try {
          envelope = JSON.parse(r.stdout)
        } catch {
          problems.push(`stdout is not one JSON document: ${JSON.stringify(r.stdout.slice(0, 300))}`)
        }

        if (envelope) {
          if (envelope.status !== r.status) problems.push(`envelope status ${JSON.stringify(envelope.status)}, exit status ${r.status}`)
          if (envelope.result?.report?.ok !== item.ok) problems.push(`CLI report ok=${JSON.stringify(envelope.result?.report?.ok)}, verifyBundle said ok=${item.ok}`)
          if (envelope.result?.report?.checks?.length !== 6) problems.push('CLI report does not have 6 checks')
        }

        if ((r.status === 0) !== item.ok) problems.push(`exit status ${r.status} for a bundle verifyBundle judged ok=${item.ok}`)
        if (/^\s+at .+(:\d+:\d+\)?|\(native\))$/m.test(r.stderr)) problems.push(`stack trace on stderr: ${r.stderr.slice(0, 800)}`)
        if (problems.length > 0) failed.push(`${item.label}\n  ${problems.join('\n  ')}\n  stderr: ${JSON.stringify(r.stderr.slice(0, 300))}\n  ${replay(item.index)}`)
      }
    }

    await Promise.all(Array.from({length: CLI_CONCURRENCY}, worker))
    if (failed.length > 0) expect.fail(`${failed.length} of ${cliCases.length} CLI runs failed:\n\n${failed.slice(0, MAX_REPORTED_FAILURES).join('\n\n')}`)
  }, 600_000)
})
