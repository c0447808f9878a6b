import {createHash} from 'node:crypto'
import {chmodSync, closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  type TarEntry,
  TarFormatError,
  type TarHeaderInput,
  TarParser,
  tarEnd,
  tarHeader,
  tarPadding,
} from '../../src/lib/bundle/tar.js'
import {ExitCode} from '../../src/lib/errors.js'
import {scratchDir} from '../helpers/cli.js'
import {thrownBy} from '../helpers/errors.js'
import {
  END_MARKER,
  archive,
  concat,
  fixChecksum,
  gnuLongMember,
  member,
  padding,
  paxMember,
  paxRecord,
  rawHeader,
} from '../helpers/tar/craft.js'
import {gnuTar, gnuTarMemberOffsets, hasGnuTar} from '../helpers/tar/gnu-tar.js'
import {
  byteChunks,
  digests,
  parseChunks,
  parseError,
  parseErrorByteByByte,
  parseTar,
  randomBytes,
  randomChunks,
  seededRandom,
  tarErrorOf,
} from '../helpers/tar/parse.js'

const MTIME = 1_700_000_000
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'))
/** The first `max` bytes of a path as a string (the tests only cut ASCII paths this way). */
const head = (path: string, max = 100): string => Buffer.from(path).subarray(0, max).toString('utf8')

/** Everything in an entry but its offset, for comparisons across formats and chunkings. */
function described(entry: TarEntry): Omit<TarEntry, 'offset'> {
  const {offset: _offset, ...rest} = entry
  return rest
}

// ---------------------------------------------------------------------------------------
// Archives written by GNU tar
// ---------------------------------------------------------------------------------------

const PLAIN = 'plain.txt'
const EMPTY = 'empty'
const DIR = 'dir/'
const UTF8_PATH = 'dir/ünïcødé-名前.txt'
// 151 bytes: too long for the name field, but splits into prefix (≤155) + name (≤100).
const PREFIX_PATH = `long/${'a'.repeat(60)}/${'b'.repeat(60)}/file-in-prefix-split.txt`
// 268 bytes: no ustar split can hold it.
const DEEP_PATH = `deep/${`${'x'.repeat(50)}/`.repeat(5)}leaf.txt`
const SYMLINK = 'link'
const HARDLINK = 'hard'
const LONG_SYMLINK = 'longlink'
const BIG = 'big.bin'
const BIG_SIZE = 3 * 1024 * 1024 + 123

type GnuFormat = 'ustar' | 'pax' | 'gnu'

interface TreeFile {
  path: string
  content: Buffer
}

describe.skipIf(!hasGnuTar)('TarParser on archives written by GNU tar', () => {
  let scratch: {path: string; cleanup: () => void}
  const tree = (path = ''): string => join(scratch.path, 'tree', path)
  const files: TreeFile[] = [
    {path: PLAIN, content: Buffer.from('hello tar\n')},
    {path: EMPTY, content: Buffer.alloc(0)},
    {path: UTF8_PATH, content: Buffer.from('utf-8 name\n')},
    {path: PREFIX_PATH, content: Buffer.from('prefix split\n')},
    {path: DEEP_PATH, content: Buffer.from('deep\n')},
    {path: BIG, content: randomBytes(BIG_SIZE, 42)},
  ]
  const contentOf = (path: string): Buffer => files.find((file) => file.path === path)!.content
  const archives = new Map<GnuFormat, {path: string; bytes: Buffer}>()

  beforeAll(() => {
    scratch = scratchDir('stella-tar-')
    for (const {path, content} of files) {
      mkdirSync(dirname(tree(path)), {recursive: true})
      writeFileSync(tree(path), content)
      chmodSync(tree(path), 0o644)
    }

    chmodSync(tree(DIR), 0o755)
    symlinkSync(PLAIN, tree(SYMLINK))
    symlinkSync(DEEP_PATH, tree(LONG_SYMLINK))
    linkSync(tree(PLAIN), tree(HARDLINK))
    for (const format of ['ustar', 'pax', 'gnu'] as const) {
      // ustar cannot hold the 268-byte path or link target; GNU tar would skip them with an error.
      const members = [PLAIN, EMPTY, DIR, UTF8_PATH, PREFIX_PATH, SYMLINK, HARDLINK, BIG]
      if (format !== 'ustar') members.push(DEEP_PATH, LONG_SYMLINK)
      const path = join(scratch.path, `${format}.tar`)
      const common = ['--mtime=@1700000000', '--owner=0', '--group=0', '--numeric-owner', '--no-recursion']
      gnuTar([`--format=${format}`, ...common, '-C', tree(), '-cf', path, ...members])
      archives.set(format, {path, bytes: readFileSync(path)})
    }
  })

  afterAll(() => scratch.cleanup())

  /** What each format records: where GNU tar puts a long path decides pathSource and headerPath. */
  function expectedEntries(format: GnuFormat): Omit<TarEntry, 'offset'>[] {
    const longSource = {ustar: 'ustar', pax: 'pax', gnu: 'gnu-longname'} as const
    const entry = (path: string, fields: Partial<TarEntry>): Omit<TarEntry, 'offset'> => ({
      path,
      pathBytes: utf8(path),
      headerPath: path,
      pathSource: 'ustar',
      type: 'file',
      typeflag: '0',
      size: 0,
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: MTIME,
      linkPath: '',
      ...fields,
    })
    const file = (path: string) => entry(path, {size: contentOf(path).byteLength})
    const long = (path: string) => entry(path, {size: contentOf(path).byteLength, pathSource: longSource[format], headerPath: format === 'ustar' ? path : head(path)})
    const entries = [
      file(PLAIN),
      file(EMPTY),
      entry(DIR, {type: 'directory', typeflag: '5', mode: 0o755}),
      // GNU tar's pax format carries every non-ASCII name in a pax path record too.
      entry(UTF8_PATH, {size: contentOf(UTF8_PATH).byteLength, pathSource: format === 'pax' ? 'pax' : 'ustar'}),
      long(PREFIX_PATH),
      entry(SYMLINK, {type: 'symlink', typeflag: '2', mode: 0o777, linkPath: PLAIN}),
      entry(HARDLINK, {type: 'hardlink', typeflag: '1', linkPath: PLAIN}),
      file(BIG),
    ]
    if (format !== 'ustar') entries.push(long(DEEP_PATH), entry(LONG_SYMLINK, {type: 'symlink', typeflag: '2', mode: 0o777, linkPath: DEEP_PATH}))
    return entries
  }

  /** How many bytes of GNU 'L'/'K' headers precede an entry in the gnu format (names of 100 bytes or more). */
  function gnuLongHeaderBytes(entry: TarEntry): number {
    const long = (name: string) => (Buffer.byteLength(name) >= 100 ? 512 + Math.ceil((Buffer.byteLength(name) + 1) / 512) * 512 : 0)
    return long(entry.path) + long(entry.linkPath)
  }

  it.each(['ustar', 'pax', 'gnu'] as const)('describes every entry of a --format=%s archive exactly', (format) => {
    const {bytes} = archives.get(format)!
    const parsed = parseTar(bytes)
    expect(parsed.entries.map((entry) => described(entry))).toEqual(expectedEntries(format))
    expect(parsed.bytesRead).toBe(bytes.byteLength)
  })

  it.each(['ustar', 'pax', 'gnu'] as const)('delivers the data of a --format=%s archive byte for byte, each payload in one call', (format) => {
    const parsed = parseTar(archives.get(format)!.bytes)
    for (const [i, entry] of parsed.entries.entries()) {
      const expected = entry.type === 'file' ? contentOf(entry.path) : Buffer.alloc(0)
      expect(parsed.contents[i]!.equals(expected), entry.path).toBe(true)
      expect(parsed.dataCalls[i], entry.path).toBe(expected.byteLength === 0 ? 0 : 1)
    }
  })

  it.each(['ustar', 'pax', 'gnu'] as const)('reports the header offsets GNU tar reports for a --format=%s archive', (format) => {
    const {path, bytes} = archives.get(format)!
    const {entries} = parseTar(bytes)
    // `tar -R` gives the entry's own header block, except in the gnu format, where it gives the first 'L'/'K' header.
    const memberStarts = entries.map((entry) => entry.offset - (format === 'gnu' ? gnuLongHeaderBytes(entry) : 0))
    expect(memberStarts).toEqual(gnuTarMemberOffsets(path))
    // pax: GNU tar writes an 'x' header (atime, ctime) before every entry.
    expect(entries[0]!.offset).toBe(format === 'pax' ? 1024 : 0)
  })

  it.each(['ustar', 'pax', 'gnu'] as const)('gives the same entries, offsets and data whatever the chunking (--format=%s)', (format) => {
    const {bytes} = archives.get(format)!
    const whole = parseTar(bytes)
    for (const seed of [1, 2, 3]) {
      const chunks = randomChunks(bytes, seed)
      const sizes = chunks.map((chunk) => chunk.byteLength)
      expect([Math.min(...sizes), Math.max(...sizes) > 64 * 1024]).toEqual([1, true])
      const chunked = parseChunks(chunks)
      expect(chunked.entries).toEqual(whole.entries)
      expect(digests(chunked.contents)).toEqual(digests(whole.contents))
      expect(chunked.bytesRead).toBe(bytes.byteLength)
    }

    const big = whole.entries.findIndex((entry) => entry.path === BIG)
    expect(whole.contents[big]!.equals(contentOf(BIG))).toBe(true)
  })

  it('parses a GNU tar archive fed one byte at a time (headers straddling every boundary)', () => {
    const {bytes} = archives.get('pax')!
    // Without the 3 MiB file: one write per byte of it adds nothing but time.
    const small = parseTar(bytes)
    const bigIndex = small.entries.findIndex((entry) => entry.path === BIG)
    // Each member starts with its 'x' header (one block of atime/ctime records) 1024 bytes before its own header.
    const memberStart = (i: number) => small.entries[i]!.offset - 1024
    const withoutBig = concat(bytes.subarray(0, memberStart(bigIndex)), bytes.subarray(memberStart(bigIndex + 1)))
    const whole = parseTar(withoutBig)
    const byByte = parseChunks(byteChunks(withoutBig))
    expect(byByte.entries).toEqual(whole.entries)
    expect(digests(byByte.contents)).toEqual(digests(whole.contents))
    expect(whole.entries.map((entry) => entry.path)).toEqual(expectedEntries('pax').map((entry) => entry.path).filter((path) => path !== BIG))
  })

  it('hands data on as views into the input chunk, never copies', () => {
    const {bytes} = archives.get('ustar')!
    const views: Uint8Array[] = []
    const parser = new TarParser({entry() {}, data: (chunk) => views.push(chunk), entryEnd() {}})
    parser.write(bytes)
    parser.end()
    expect(views.length).toBeGreaterThan(0)
    for (const view of views) expect(view.buffer).toBe(bytes.buffer)
  })

  it('reads GNU base-256 numbers (a uid above 8^7 in the gnu format) and pax uid records', () => {
    const uid = 3_000_000
    for (const format of ['gnu', 'pax'] as const) {
      const path = join(scratch.path, `uid-${format}.tar`)
      gnuTar([`--format=${format}`, `--owner=${uid}`, '--group=0', '--numeric-owner', '--mtime=@1700000000', '-C', tree(), '-cf', path, PLAIN])
      const bytes = readFileSync(path)
      if (format === 'gnu') expect(bytes[108]).toBe(0x80)
      const [entry] = parseTar(bytes).entries
      expect(entry).toMatchObject({path: PLAIN, uid, gid: 0, size: 10})
    }
  })

  it.each([
    ['gnu', 'S'],
    ['pax', 'GNU.sparse'],
  ] as const)('refuses GNU tar sparse archives (--format=%s -S: %s)', (format, _marker) => {
    // A real hole: 1 MiB never written, then 4 bytes.
    const sparse = tree('sparse.bin')
    writeFileSync(sparse, '')
    truncateSync(sparse, 2 * 1024 * 1024)
    const fd = openSync(sparse, 'r+')
    writeSync(fd, Buffer.from('data'), 0, 4, 1024 * 1024)
    closeSync(fd)
    const path = join(scratch.path, `sparse-${format}.tar`)
    gnuTar([`--format=${format}`, '-S', '-C', tree(), '-cf', path, 'sparse.bin'])
    const error = tarErrorOf(() => parseTar(readFileSync(path)))
    expect(error.code).toBe('TAR_UNSUPPORTED')
    // gnu: the 'S' header itself; pax: the GNU.sparse.major record in the payload after the 'x' header.
    expect(error.offset).toBe(format === 'gnu' ? 0 : 512)
  })
})

// ---------------------------------------------------------------------------------------
// Writer: round trip through GNU tar and back
// ---------------------------------------------------------------------------------------

const DEEP_DIR = `bundle/${`${'d'.repeat(60)}/`.repeat(4)}`
const ROUND_TRIP: {input: TarHeaderInput; data: Buffer}[] = [
  {input: {path: 'bundle', type: 'directory', size: 0, mtime: MTIME}, data: Buffer.alloc(0)},
  {input: {path: 'bundle/manifest.json', type: 'file', size: 14, mtime: MTIME + 1}, data: Buffer.from('{"version":1}\n')},
  {input: {path: 'bundle/empty', type: 'file', size: 0, mtime: MTIME}, data: Buffer.alloc(0)},
  {input: {path: 'bundle/ünïcødé-名前.txt', type: 'file', size: 6, mtime: MTIME}, data: Buffer.from('utf-8\n')},
  {input: {path: `bundle/${'p'.repeat(90)}/`, type: 'directory', size: 0, mtime: MTIME}, data: Buffer.alloc(0)},
  // 162 bytes of ASCII: fits the ustar prefix/name split.
  {input: {path: `bundle/${'p'.repeat(90)}/${'q'.repeat(60)}.bin`, type: 'file', size: 5, mtime: MTIME}, data: Buffer.from('split')},
  // The last component alone is over 100 bytes: no split, so a pax path.
  {input: {path: `bundle/${'n'.repeat(120)}.txt`, type: 'file', size: 4, mtime: MTIME}, data: Buffer.from('long')},
  {input: {path: DEEP_DIR, type: 'directory', size: 0, mtime: MTIME}, data: Buffer.alloc(0)},
  {input: {path: `${DEEP_DIR}leaf.txt`, type: 'file', size: 5, mtime: MTIME}, data: Buffer.from('deep\n')},
  // 127 bytes of which the 100th cuts a 2-byte character: the ustar name must stop before it.
  {input: {path: `bundle/${'é'.repeat(60)}`, type: 'file', size: 1, mtime: MTIME}, data: Buffer.from('e')},
  {input: {path: 'bundle/secret.key', type: 'file', size: 3, mode: 0o600, mtime: MTIME}, data: Buffer.from('key')},
  {input: {path: 'bundle/blob.bin', type: 'file', size: 200_000, mtime: MTIME}, data: randomBytes(200_000, 7)},
]

function buildArchive(items: readonly {input: TarHeaderInput; data: Uint8Array}[]): Uint8Array {
  return concat(...items.flatMap(({input, data}) => [tarHeader(input), data, tarPadding(data.byteLength)]), tarEnd())
}

/** The path a TarHeaderInput stands for: directories end in '/'. */
const pathOf = (input: TarHeaderInput): string => (input.type === 'directory' && !input.path.endsWith('/') ? `${input.path}/` : input.path)
const isAscii = (text: string): boolean => Buffer.byteLength(text) === text.length
/** The ustar split the writer uses: name ≤ 100 bytes, prefix ≤ 155, cut at a '/'. */
function fitsUstar(path: string): boolean {
  if (!isAscii(path)) return false
  if (path.length <= 100) return true
  for (let slash = 1; slash < path.length - 1; slash++) if (path[slash] === '/' && slash <= 155 && path.length - slash - 1 <= 100) return true
  return false
}

/** The first ≤ 100 bytes of a UTF-8 path, cut back to a character boundary. */
function utf8Head(path: string): string {
  let out = ''
  for (const char of path) {
    if (Buffer.byteLength(out + char) > 100) break
    out += char
  }

  return out
}

describe('tarHeader, tarPadding, tarEnd', () => {
  const bytes = buildArchive(ROUND_TRIP)

  it('parse back to the entries they describe', () => {
    const parsed = parseTar(bytes)
    expect(parsed.entries.map((entry) => described(entry))).toEqual(
      ROUND_TRIP.map(({input}) => {
        const path = pathOf(input)
        const ustar = fitsUstar(path)
        return {
          path,
          pathBytes: utf8(path),
          headerPath: ustar ? path : utf8Head(path),
          pathSource: ustar ? 'ustar' : 'pax',
          type: input.type,
          typeflag: input.type === 'directory' ? '5' : '0',
          size: input.size,
          mode: input.mode ?? (input.type === 'directory' ? 0o755 : 0o644),
          uid: 0,
          gid: 0,
          mtime: input.mtime,
          linkPath: '',
        }
      }),
    )
    expect(digests(parsed.contents)).toEqual(digests(ROUND_TRIP.map(({data}) => data)))
    expect(parseChunks(randomChunks(bytes, 9)).entries).toEqual(parsed.entries)
    expect(parseChunks(byteChunks(bytes)).entries).toEqual(parsed.entries)
  })

  it('cuts the ustar name of a pax entry at a UTF-8 character boundary', () => {
    const entry = parseTar(bytes).entries.find((e) => e.path.includes('é'.repeat(60)))!
    expect(entry.headerPath).toBe(`bundle/${'é'.repeat(46)}`)
    expect(Buffer.byteLength(entry.headerPath)).toBe(99)
  })

  it('is deterministic: the same input gives the same bytes', () => {
    expect(Buffer.from(buildArchive(ROUND_TRIP)).equals(Buffer.from(bytes))).toBe(true)
    const small = buildArchive(ROUND_TRIP.slice(0, 11))
    // Pinned: a change to this hash is a change to the bundle format.
    expect(createHash('sha256').update(small).digest('hex')).toBe('7ae5e7b1d1568f643ab80214cf88c7a57c333ff74a1d19b6cd31cff5083ed8e8')
  })

  it('writes the same ustar header block as GNU tar for a plain file', () => {
    const bytes = tarHeader({path: 'a.txt', size: 3, type: 'file', mtime: MTIME})
    const expected = concat(
      Buffer.from('a.txt'), new Uint8Array(95),
      Buffer.from('0000644\0' + '0000000\0' + '0000000\0' + '00000000003\0' + '14524770400\0' + '010221\0 ' + '0', 'latin1'),
      new Uint8Array(100),
      Buffer.from('ustar\u000000', 'latin1'), new Uint8Array(64),
      Buffer.from('0000000\u00000000000\u0000', 'latin1'), new Uint8Array(167),
    )
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true)
  })

  it('puts a long path in a pax header named PaxHeaders/<last 89 bytes of the basename>', () => {
    const path = `bundle/${'n'.repeat(120)}.txt`
    const bytes = tarHeader({path, type: 'file', size: 4, mtime: MTIME})
    // 131 bytes of path + ' path=' + '\n' = 138, plus the 3 digits of the length itself.
    const record = `141 path=${path}\n`
    expect(bytes.byteLength).toBe(3 * 512)
    expect(Buffer.from(bytes.subarray(0, 100)).toString('latin1').replace(/\0+$/, '')).toBe(`PaxHeaders/${'n'.repeat(85)}.txt`)
    expect(String.fromCharCode(bytes[156]!)).toBe('x')
    expect(Buffer.from(bytes.subarray(124, 136)).toString('latin1')).toBe(`${record.length.toString(8).padStart(11, '0')}\0`)
    expect(Buffer.from(bytes.subarray(512, 512 + record.length)).toString('utf8')).toBe(record)
    expect(bytes.subarray(512 + record.length, 1024).every((byte) => byte === 0)).toBe(true)
    expect(Buffer.from(bytes.subarray(1024, 1124)).toString('latin1')).toBe(path.slice(0, 100))
  })

  it('keeps whole UTF-8 characters in the pax header name', () => {
    const basename = `${'x'.repeat(10)}${'名'.repeat(40)}` // 130 bytes
    const bytes = tarHeader({path: `a/${basename}`, type: 'file', size: 0, mtime: MTIME})
    const name = Buffer.from(bytes.subarray(0, 100)).toString('utf8').replace(/\0+$/, '')
    // 89 bytes would start inside a character: 29 whole 3-byte characters (87 bytes) remain.
    expect(name).toBe(`PaxHeaders/${'名'.repeat(29)}`)
  })

  it('writes sizes of 8 GiB and above in a pax size record', () => {
    const size = 8 * 1024 ** 3
    const header = tarHeader({path: 'huge.bin', type: 'file', size, mtime: MTIME})
    expect(Buffer.from(header.subarray(512, 1024)).toString('latin1').replace(/\0+$/, '')).toBe(`19 size=${size}\n`)
    const entries: TarEntry[] = []
    const parser = new TarParser({entry: (entry) => entries.push(entry), data() {}, entryEnd() {}})
    parser.write(header)
    parser.write(new Uint8Array(1000))
    expect(entries).toMatchObject([{path: 'huge.bin', size, pathSource: 'ustar', offset: 1024}])
    const error = tarErrorOf(() => parser.end())
    expect([error.code, error.offset]).toEqual(['TAR_TRUNCATED', 2536])
    // The largest size that still fits 11 octal digits stays in the ustar header.
    expect(tarHeader({path: 'max.bin', type: 'file', size: size - 1, mtime: MTIME}).byteLength).toBe(512)
  })

  it('pads to the next block and ends with two zero blocks', () => {
    expect([0, 1, 511, 512, 513, 1024].map((size) => tarPadding(size).byteLength)).toEqual([0, 511, 1, 0, 511, 0])
    expect(tarPadding(1).every((byte) => byte === 0)).toBe(true)
    expect(tarEnd()).toEqual(new Uint8Array(1024))
  })

  it.each([
    ['an empty path', {path: '', type: 'file', size: 0, mtime: MTIME}],
    ['a NUL in the path', {path: 'a\0b', type: 'file', size: 0, mtime: MTIME}],
    ['a lone surrogate', {path: 'a\uD800', type: 'file', size: 0, mtime: MTIME}],
    ['a file path ending in /', {path: 'a/', type: 'file', size: 0, mtime: MTIME}],
    ['a directory with data', {path: 'a/', type: 'directory', size: 1, mtime: MTIME}],
    ['a negative size', {path: 'a', type: 'file', size: -1, mtime: MTIME}],
    ['a fractional size', {path: 'a', type: 'file', size: 1.5, mtime: MTIME}],
    ['a mode beyond 0o7777', {path: 'a', type: 'file', size: 0, mode: 0o10000, mtime: MTIME}],
    ['a negative mtime', {path: 'a', type: 'file', size: 0, mtime: -1}],
  ] as const)('refuses %s', (_what, input) => {
    const error = thrownBy(() => tarHeader(input as TarHeaderInput))
    expect(error.code).toBe('TAR_BAD_INPUT')
    expect(error.exitCode).toBe(ExitCode.Usage)
  })

  describe.skipIf(!hasGnuTar)('with GNU tar', () => {
    let scratch: {path: string; cleanup: () => void}
    let archivePath: string
    beforeAll(() => {
      scratch = scratchDir('stella-tar-rt-')
      archivePath = join(scratch.path, 'bundle.tar')
      writeFileSync(archivePath, bytes)
    })
    afterAll(() => scratch.cleanup())

    it('lists our archive with the same names, types, sizes, modes and mtimes', () => {
      expect(gnuTar(['-tf', archivePath]).split('\n').filter(Boolean)).toEqual(ROUND_TRIP.map(({input}) => pathOf(input)))
      const listing = gnuTarListing(archivePath)
      expect(listing).toEqual(
        ROUND_TRIP.map(({input}) => ({
          kind: input.type === 'directory' ? 'd' : '-',
          mode: input.mode ?? (input.type === 'directory' ? 0o755 : 0o644),
          owner: '0/0',
          size: input.size,
          time: new Date(input.mtime * 1000).toISOString().replace('T', ' ').slice(0, 19),
          path: pathOf(input),
        })),
      )
    })

    it('extracts our archive to identical bytes, modes and mtimes', () => {
      const out = join(scratch.path, 'out')
      mkdirSync(out)
      gnuTar(['-xpf', archivePath, '-C', out])
      for (const {input, data} of ROUND_TRIP) {
        const target = join(out, pathOf(input))
        const stat = statSync(target)
        expect(stat.isDirectory(), input.path).toBe(input.type === 'directory')
        expect(stat.mode & 0o7777, input.path).toBe(input.mode ?? (input.type === 'directory' ? 0o755 : 0o644))
        expect(Math.floor(stat.mtimeMs / 1000), input.path).toBe(input.mtime)
        if (input.type === 'file') expect(readFileSync(target).equals(data), input.path).toBe(true)
      }
    })

    it('round-trips GNU tar: archive the extracted tree again, parse it, same paths and data', () => {
      const out = join(scratch.path, 'again')
      mkdirSync(out)
      gnuTar(['-xpf', archivePath, '-C', out])
      // Directory mtimes move as their children are written; set them back so the listing is exact.
      for (const {input} of ROUND_TRIP) utimesSync(join(out, pathOf(input)), input.mtime, input.mtime)
      const again = join(scratch.path, 'again.tar')
      gnuTar(['--format=pax', '--owner=0', '--group=0', '--numeric-owner', '--no-recursion', '-C', out, '-cf', again, ...ROUND_TRIP.map(({input}) => pathOf(input))])
      const parsed = parseTar(readFileSync(again))
      expect(parsed.entries.map(({path, type, size, mode, mtime}) => ({path, type, size, mode, mtime}))).toEqual(
        ROUND_TRIP.map(({input}) => ({path: pathOf(input), type: input.type, size: input.size, mode: input.mode ?? (input.type === 'directory' ? 0o755 : 0o644), mtime: input.mtime})),
      )
      expect(digests(parsed.contents)).toEqual(digests(ROUND_TRIP.map(({data}) => data)))
    })

    it('lists an 8 GiB entry with its pax size', () => {
      const path = join(scratch.path, 'huge.tar')
      writeFileSync(path, tarHeader({path: 'huge.bin', type: 'file', size: 8 * 1024 ** 3, mtime: MTIME}))
      // The data is not there, so tar fails after listing the header; the listing is what matters.
      let stdout = ''
      try {
        gnuTar(['-tvf', path])
      } catch (error) {
        stdout = String((error as {stdout?: string}).stdout)
      }

      expect(stdout).toMatch(/ 8589934592 .* huge\.bin\n/)
    })
  })
})

/** `tar -tvf` with numeric owners and full UTC times, one record per line. */
function gnuTarListing(archivePath: string) {
  return gnuTar(['--numeric-owner', '--full-time', '-tvf', archivePath])
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = /^([-dlh])(\S{9}) (\d+\/\d+)\s+(\d+) (\S+ \S+) (.*)$/.exec(line)
      if (!match) throw new Error(`unexpected tar listing line: ${line}`)
      return {kind: match[1], mode: modeOf(match[2]!), owner: match[3], size: Number(match[4]), time: match[5], path: match[6]}
    })
}

function modeOf(rwx: string): number {
  return [...rwx].reduce((mode, char, i) => (char === '-' ? mode : mode | (1 << (8 - i))), 0)
}

// ---------------------------------------------------------------------------------------
// Hostile and malformed input
// ---------------------------------------------------------------------------------------

describe('TarParser on hostile input', () => {
  const plain = member({name: 'a.txt'}, 'hello')

  /** Both whole and byte by byte: the error must not depend on how the input was cut. */
  function expectError(bytes: Uint8Array, code: string, offset: number, limits?: {maxExtendedHeaderBytes?: number}) {
    expect(parseError(bytes, limits)).toEqual({code, offset})
    expect(parseErrorByteByByte(bytes, limits)).toEqual({code, offset})
  }

  it('the crafted baseline parses', () => {
    const parsed = parseTar(archive(plain))
    expect(parsed.entries).toMatchObject([{path: 'a.txt', size: 5, offset: 0, type: 'file'}])
    expect(parsed.contents[0]!.toString()).toBe('hello')
  })

  describe('checksums', () => {
    it('a header with a wrong checksum is TAR_BAD_CHECKSUM at its offset', () => {
      const bytes = archive(plain, member({name: 'b.txt'}, 'x'))
      bytes[1024 + 3] = bytes[1024 + 3]! ^ 0x01
      expectError(bytes, 'TAR_BAD_CHECKSUM', 1024)
    })

    it('a non-octal checksum field is TAR_BAD_CHECKSUM', () => {
      expectError(archive(member({name: 'a.txt', checksum: 'garbage!'})), 'TAR_BAD_CHECKSUM', 0)
    })

    it('accepts the historic signed checksum', () => {
      const name = Buffer.from('é.txt') // bytes >= 0x80 make the two sums differ
      const bytes = archive(member({name, checksum: 'signed'}, 'x'))
      expect(parseTar(bytes).entries[0]!.path).toBe('é.txt')
    })

    it('random data where a header should be is TAR_BAD_CHECKSUM', () => {
      expectError(concat(randomBytes(512, 5), END_MARKER), 'TAR_BAD_CHECKSUM', 0)
    })
  })

  describe('numeric fields', () => {
    it.each([
      ['a letter in the size', {size: '00000000x12\0'}],
      ['a digit 8 in the size', {size: '00000000800\0'}],
      ['a sign in the size', {size: '-0000000012\0'}],
      ['digits after the terminator', {size: '0000012\u00001\0'}],
      ['a non-octal mode', {mode: '06a4\0'}],
      ['a base-256 mode', {mode: Uint8Array.of(0x80, 0, 0, 0, 0, 0, 1, 0xa4)}],
      ['a non-octal mtime', {mtime: 'yesterday\0'}],
    ])('%s is TAR_BAD_HEADER', (_what, fields) => {
      expectError(archive(member({name: 'a.txt', ...fields})), 'TAR_BAD_HEADER', 0)
    })

    it('accepts leading spaces, space terminators and empty fields', () => {
      const bytes = archive(member({name: 'a.txt', size: '         14 ', mode: '   644 \0', uid: '\0\0\0\0\0\0\0\0', gid: '', mtime: '1234 \0'}, 'twelve bytes'))
      expect(parseTar(bytes).entries[0]).toMatchObject({size: 12, mode: 0o644, uid: 0, gid: 0, mtime: 0o1234})
    })

    it('reads a GNU base-256 size and mtime, and delivers that much data', () => {
      const size = Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8) // 1000
      const mtime = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe) // -2
      const data = randomBytes(1000, 3)
      const parsed = parseTar(archive(concat(rawHeader({name: 'b256', size, mtime}), data, padding(1000))))
      expect(parsed.entries[0]).toMatchObject({size: 1000, mtime: -2})
      expect(parsed.contents[0]!.equals(data)).toBe(true)
    })

    it('a base-256 size beyond 2^53 - 1 is TAR_LIMIT', () => {
      const size = Uint8Array.of(0x80, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0) // 2^53
      expectError(archive(rawHeader({size})), 'TAR_LIMIT', 0)
    })

    it('a negative base-256 size is TAR_BAD_HEADER', () => {
      expectError(archive(rawHeader({size: new Uint8Array(12).fill(0xff)})), 'TAR_BAD_HEADER', 0)
    })
  })

  describe('truncation and the end marker', () => {
    it('a size beyond the data is TAR_TRUNCATED where the input ends', () => {
      const bytes = concat(rawHeader({name: 'a.txt', size: 1000}), Buffer.alloc(100, 1))
      expectError(bytes, 'TAR_TRUNCATED', 612)
    })

    it('input ending mid-header is TAR_TRUNCATED', () => {
      expectError(concat(plain, rawHeader({name: 'b.txt'}).subarray(0, 300)), 'TAR_TRUNCATED', 1324)
    })

    it('input ending inside the padding is TAR_TRUNCATED', () => {
      expectError(plain.subarray(0, 600), 'TAR_TRUNCATED', 600)
    })

    it('input ending inside an extended header is TAR_TRUNCATED', () => {
      expectError(paxMember({path: 'b.txt'}).subarray(0, 520), 'TAR_TRUNCATED', 520)
    })

    it('a clean end without the two zero blocks is TAR_NO_END_MARKER', () => {
      expectError(plain, 'TAR_NO_END_MARKER', 1024)
      expectError(concat(plain, new Uint8Array(512)), 'TAR_NO_END_MARKER', 1536)
      expectError(new Uint8Array(0), 'TAR_NO_END_MARKER', 0)
    })

    it('accepts zero padding after the end marker (writers pad to a record)', () => {
      const bytes = concat(archive(plain), new Uint8Array(10240 - 2048))
      const parsed = parseTar(bytes)
      expect(parsed.entries).toHaveLength(1)
      expect(parsed.bytesRead).toBe(10240)
      expect(parseChunks(byteChunks(bytes)).bytesRead).toBe(10240)
    })

    it('a non-zero byte after the end marker is TAR_TRAILING_DATA at that byte', () => {
      const bytes = concat(archive(plain), new Uint8Array(1000))
      bytes[2048 + 777] = 1
      expectError(bytes, 'TAR_TRAILING_DATA', 2825)
      // Far past the end marker, beyond the first 64 KiB compared at once.
      const far = concat(archive(plain), new Uint8Array(200_000))
      far[2048 + 150_001] = 0x20
      expect(parseError(far)).toEqual({code: 'TAR_TRAILING_DATA', offset: 152_049})
      expect(parseErrorByteByByte(far)).toEqual({code: 'TAR_TRAILING_DATA', offset: 152_049})
    })

    it('another archive appended after the end marker is TAR_TRAILING_DATA', () => {
      expectError(concat(archive(plain), archive(plain)), 'TAR_TRAILING_DATA', 2048)
    })

    it('a lone zero block followed by a header is TAR_BAD_HEADER at the header', () => {
      expectError(concat(plain, new Uint8Array(512), archive(plain)), 'TAR_BAD_HEADER', 1536)
    })
  })

  describe('pax extended headers', () => {
    it('applies path, linkpath, size, mtime, uid and gid to the next entry', () => {
      const pax = paxMember({path: 'real/name.txt', linkpath: 'target', size: '5', mtime: '1700000000.75', uid: '4294967296', gid: '7', comment: 'ignored', atime: '1.5'})
      const parsed = parseTar(archive(pax, member({name: 'name.txt', typeflag: '2', size: 0, uid: 1, gid: 1, mtime: 1}), Buffer.from('12345'), padding(5)))
      expect(parsed.entries.map((entry) => described(entry))).toEqual([
        {path: 'real/name.txt', pathBytes: utf8('real/name.txt'), headerPath: 'name.txt', pathSource: 'pax', type: 'symlink', typeflag: '2', size: 5, mode: 0o644, uid: 4_294_967_296, gid: 7, mtime: MTIME, linkPath: 'target'},
      ])
      expect(parsed.entries[0]!.offset).toBe(1024)
      expect(parsed.contents[0]!.toString()).toBe('12345')
    })

    it('floors a negative fractional mtime, and an empty value leaves the header field', () => {
      const parsed = parseTar(archive(paxMember({mtime: '-1.5', path: ''}), member({name: 'a.txt'})))
      expect(parsed.entries[0]).toMatchObject({mtime: -2, path: 'a.txt', pathSource: 'ustar'})
    })

    it('a pax path that differs from the ustar name is reported with both, pathSource pax', () => {
      const parsed = parseTar(archive(paxMember({path: 'b.txt'}), member({name: 'a.txt'}, 'x')))
      expect(parsed.entries).toMatchObject([{path: 'b.txt', headerPath: 'a.txt', pathSource: 'pax', offset: 1024}])
    })

    it('the last of repeated records wins', () => {
      const payload = concat(paxRecord('path', 'first'), paxRecord('path', 'second'))
      expect(parseTar(archive(paxMember(payload), member({name: 'x'}))).entries[0]!.path).toBe('second')
    })

    it('a path with a NUL byte is reported byte-exact', () => {
      const raw = Uint8Array.of(0x61, 0x00, 0x62, 0x2e, 0x74) // "a\0b.t"
      const [entry] = parseTar(archive(paxMember({path: raw}), member({name: 'a'}))).entries
      expect(entry!.pathBytes).toEqual(raw)
      expect(entry!.path).toBe('a\u0000b.t')
    })

    it('a path starting with a UTF-8 BOM keeps it (no decoder strips it)', () => {
      const raw = Uint8Array.of(0xef, 0xbb, 0xbf, 0x61)
      const [entry] = parseTar(archive(paxMember({path: raw}), member({name: 'a'}))).entries
      expect([entry!.path, entry!.pathBytes]).toEqual(['\uFEFFa', raw])
    })

    it('a path with invalid UTF-8 is reported byte-exact, decoded with U+FFFD', () => {
      const raw = Uint8Array.of(0x61, 0xff, 0x2f, 0xc3, 0x28, 0xe2, 0x82, 0x2e, 0x74, 0xef, 0xbb, 0xbf) // a\xff/\xc3(\xe2\x82.t + BOM
      const [entry] = parseTar(archive(paxMember({path: raw}), member({name: 'a'}))).entries
      expect(entry!.pathBytes).toEqual(raw)
      expect(entry!.path).toBe('a\uFFFD/\uFFFD(\uFFFD.t\uFEFF')
      expect(entry!.headerPath).toBe('a')
    })

    it.each([
      ['a length longer than the record', Buffer.from('20 path=abc\n')],
      ['a length shorter than the record', Buffer.from('10 path=abc\n')],
      ['a length past the payload', concat(paxRecord('path', 'abc'), Buffer.from('99 x=y\n'))],
      ['no newline at the end', Buffer.from('12 path=abcd')],
      ['a leading zero in the length', Buffer.from('012 path=ab\n')],
      ['no length', Buffer.from(' path=abc\n')],
      ['no space after the length', Buffer.from('12path=abc\n')],
      ['no =', Buffer.from('11 pathabc\n')],
      ['an empty key', Buffer.from('8 =abc\n\n')],
      ['trailing garbage', concat(paxRecord('path', 'abc'), Buffer.from('\0\0\0'))],
    ])('%s is TAR_BAD_PAX at the record', (_what, payload) => {
      const goodRecords = _what === 'a length past the payload' || _what === 'trailing garbage' ? paxRecord('path', 'abc').byteLength : 0
      expectError(archive(paxMember(payload), member({name: 'a.txt'})), 'TAR_BAD_PAX', 512 + goodRecords)
    })

    it.each([
      ['size', 'abc'],
      ['size', '-1'],
      ['size', '1.5'],
      ['uid', '0x10'],
      ['mtime', '1e9'],
      ['mtime', '.5'],
    ])('a pax %s of %j is TAR_BAD_PAX', (key, value) => {
      expectError(archive(paxMember({[key]: value}), member({name: 'a.txt'})), 'TAR_BAD_PAX', 512)
    })

    it('a pax size beyond 2^53 - 1 is TAR_LIMIT', () => {
      expectError(archive(paxMember({path: 'a', size: '9007199254740992'}), member({name: 'a.txt'})), 'TAR_LIMIT', 512 + paxRecord('path', 'a').byteLength)
    })

    it('an x header followed by another x header is TAR_BAD_PAX at the second', () => {
      expectError(archive(paxMember({path: 'a'}), paxMember({path: 'b'}), member({name: 'c'})), 'TAR_BAD_PAX', 1024)
    })

    it('an x header followed by the end marker is TAR_BAD_PAX at the marker', () => {
      expectError(archive(plain, paxMember({path: 'a'})), 'TAR_BAD_PAX', 2048)
    })

    it('an x header at the very end of the input is TAR_BAD_PAX', () => {
      expectError(concat(plain, paxMember({path: 'a'})), 'TAR_BAD_PAX', 2048)
    })

    it('an extended header above the limit is TAR_LIMIT at its header, before its payload is read', () => {
      const huge = rawHeader({name: 'PaxHeaders/a', typeflag: 'x', size: 2 * 1024 * 1024})
      expect(parseError(huge)).toEqual({code: 'TAR_LIMIT', offset: 0})
      const payload = concat(paxRecord('comment', 'c'.repeat(300)))
      expectError(archive(plain, paxMember(payload), member({name: 'a'})), 'TAR_LIMIT', 1024, {maxExtendedHeaderBytes: 100})
      expect(parseTar(archive(paxMember(payload), member({name: 'a'})), {maxExtendedHeaderBytes: payload.byteLength}).entries).toHaveLength(1)
      expectError(archive(gnuLongMember('n'.repeat(200)), member({name: 'a'})), 'TAR_LIMIT', 0, {maxExtendedHeaderBytes: 200})
    })

    it('a pax sparse file (GNU.sparse.*) is TAR_UNSUPPORTED', () => {
      expectError(archive(paxMember({'GNU.sparse.major': '1', 'GNU.sparse.minor': '0'}), member({name: 'a'})), 'TAR_UNSUPPORTED', 512)
    })
  })

  describe('pax global headers', () => {
    it('are accepted and ignored when they only carry other keys', () => {
      const parsed = parseTar(archive(paxMember({comment: 'made by stella', mtime: '5'}, 'g'), plain))
      expect(parsed.entries).toMatchObject([{path: 'a.txt', mtime: MTIME, offset: 1024}])
    })

    it.each(['path', 'linkpath', 'size'])('with %s are TAR_UNSUPPORTED', (key) => {
      expectError(archive(paxMember({[key]: '1'}, 'g'), plain), 'TAR_UNSUPPORTED', 512)
    })

    it('between an x header and its entry is TAR_BAD_PAX', () => {
      expectError(archive(paxMember({path: 'a'}), paxMember({comment: 'c'}, 'g'), plain), 'TAR_BAD_PAX', 1024)
    })
  })

  describe('GNU long names', () => {
    it('an L name that differs from the header name is reported with both, pathSource gnu-longname', () => {
      const parsed = parseTar(archive(gnuLongMember('b.txt'), member({name: 'a.txt', magic: 'gnu'}, 'x')))
      expect(parsed.entries).toMatchObject([{path: 'b.txt', headerPath: 'a.txt', pathSource: 'gnu-longname', offset: 1024}])
    })

    it('K sets the link path; a pax path wins over an L name', () => {
      const parsed = parseTar(archive(gnuLongMember('gnu-name'), gnuLongMember('gnu-target', 'K'), paxMember({path: 'pax-name'}), member({name: 'n', typeflag: '2'})))
      expect(parsed.entries).toMatchObject([{path: 'pax-name', pathSource: 'pax', linkPath: 'gnu-target', headerPath: 'n', type: 'symlink', offset: 3072}])
    })

    it('the L name ends at its first NUL', () => {
      const parsed = parseTar(archive(member({name: '././@LongLink', typeflag: 'L', magic: 'gnu'}, 'short\0hidden'), member({name: 'a'})))
      expect(parsed.entries[0]).toMatchObject({path: 'short', pathBytes: utf8('short')})
    })

    it('two L headers in a row are TAR_BAD_HEADER at the second', () => {
      expectError(archive(gnuLongMember('a'), gnuLongMember('b'), member({name: 'c'})), 'TAR_BAD_HEADER', 1024)
    })

    it('an L header at the end is TAR_BAD_HEADER', () => {
      expectError(archive(plain, gnuLongMember('a')), 'TAR_BAD_HEADER', 2048)
      expectError(concat(plain, gnuLongMember('a')), 'TAR_BAD_HEADER', 2048)
    })
  })

  describe('entry types', () => {
    it('reports every type with its typeflag, and delivers data even for non-files', () => {
      const types = ['0', '\0', '1', '2', '3', '4', '5', '6', '7', 'D', 'Z']
      const parsed = parseTar(archive(...types.map((typeflag, i) => member({name: `e${i}`, typeflag}, 'x'.repeat(i)))))
      expect(parsed.entries.map(({type, typeflag, size}) => [type, typeflag, size])).toEqual([
        ['file', '0', 0],
        ['file', '\0', 1],
        ['hardlink', '1', 2],
        ['symlink', '2', 3],
        ['character-device', '3', 4],
        ['block-device', '4', 5],
        ['directory', '5', 6],
        ['fifo', '6', 7],
        ['contiguous-file', '7', 8],
        ['other', 'D', 9],
        ['other', 'Z', 10],
      ])
      expect(parsed.contents.map((content) => content.toString())).toEqual(types.map((_, i) => 'x'.repeat(i)))
    })

    it.each(['S', 'V', 'M', 'N', 'X'])('typeflag %s is TAR_UNSUPPORTED', (typeflag) => {
      expectError(archive(plain, member({name: 'x', typeflag, magic: 'gnu'})), 'TAR_UNSUPPORTED', 1024)
    })

    it('reads the ustar prefix, but not in GNU headers (where that area holds times)', () => {
      expect(parseTar(archive(member({name: 'name', prefix: 'pre/fix'}))).entries[0]!.path).toBe('pre/fix/name')
      expect(parseTar(archive(member({name: 'name', prefix: '14567123450', magic: 'gnu'}))).entries[0]!.path).toBe('name')
    })

    it('a full 100-byte name field has no NUL and is read whole', () => {
      const name = 'n'.repeat(100)
      expect(parseTar(archive(member({name}))).entries[0]!.path).toBe(name)
    })

    it('a header without the ustar magic is TAR_UNSUPPORTED (v7) or TAR_BAD_HEADER', () => {
      expectError(archive(member({name: 'a', magic: 'v7'})), 'TAR_UNSUPPORTED', 0)
      expectError(archive(member({name: 'a', magic: Buffer.from('ustaR\u000000')})), 'TAR_BAD_HEADER', 0)
    })
  })

  describe('the parser itself', () => {
    it('stays failed after an error', () => {
      const parser = new TarParser({entry() {}, data() {}, entryEnd() {}})
      const first = tarErrorOf(() => parser.write(concat(randomBytes(512, 1))))
      expect(tarErrorOf(() => parser.write(archive(plain)))).toBe(first)
      expect(tarErrorOf(() => parser.end())).toBe(first)
    })

    it('refuses input after end()', () => {
      const parser = new TarParser({entry() {}, data() {}, entryEnd() {}})
      parser.write(archive(plain))
      parser.end()
      expect(() => parser.write(new Uint8Array(1))).toThrow('already ended')
    })

    it('is an input error with a remedy and a message naming the offset', () => {
      const error = tarErrorOf(() => parseTar(plain))
      expect(error).toBeInstanceOf(TarFormatError)
      expect(error.exitCode).toBe(ExitCode.Input)
      expect(error.message).toBe('the input ends without the end-of-archive marker (tar offset 1024)')
      expect(error.remedy).toBeTruthy()
    })

    it.each([Number.NaN, -1, 1.5, Infinity])('refuses a maxExtendedHeaderBytes of %s', (max) => {
      const error = thrownBy(() => new TarParser({entry() {}, data() {}, entryEnd() {}}, {maxExtendedHeaderBytes: max}))
      expect([error.code, error.exitCode]).toEqual(['TAR_BAD_LIMIT', ExitCode.Usage])
    })

    it('counts bytesRead as it goes', () => {
      const parser = new TarParser({entry() {}, data() {}, entryEnd() {}})
      const bytes = archive(plain)
      parser.write(bytes.subarray(0, 700))
      expect(parser.bytesRead).toBe(700)
      parser.write(bytes.subarray(700))
      expect(parser.bytesRead).toBe(2048)
    })
  })

  describe('mutation fuzzing: every damaged archive ends in a TarFormatError or a description', () => {
    const base = buildArchive(ROUND_TRIP.slice(0, 11).concat([{input: {path: 'bundle/link', type: 'file', size: 0, mtime: MTIME}, data: Buffer.alloc(0)}]))
    const headerOffsets = parseTar(base).entries.map((entry) => entry.offset)

    function parseOutcome(bytes: Uint8Array, seed: number): string {
      try {
        parseChunks(randomChunks(bytes, seed, 4096))
        return 'ok'
      } catch (error) {
        if (error instanceof TarFormatError) return error.code
        throw error
      }
    }

    it('random byte changes inside headers, with the checksum fixed up', () => {
      const random = seededRandom(2024)
      const outcomes = new Set<string>()
      for (let round = 0; round < 1500; round++) {
        const bytes = new Uint8Array(base)
        // The entry headers, and the pax headers just before the entries that have one.
        const header = headerOffsets[Math.floor(random() * headerOffsets.length)]! - (random() < 0.3 ? 1024 : 0)
        if (header < 0) continue
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) bytes[header + Math.floor(random() * 512)] = Math.floor(random() * 256)
        fixChecksum(bytes, header)
        outcomes.add(parseOutcome(bytes, round))
      }

      expect(outcomes.has('ok')).toBe(true)
      expect(outcomes.has('TAR_BAD_HEADER')).toBe(true)
    })

    it('random byte changes anywhere, and random truncations', () => {
      const random = seededRandom(7)
      for (let round = 0; round < 500; round++) {
        const bytes = new Uint8Array(base)
        for (let n = 1 + Math.floor(random() * 4); n > 0; n--) bytes[Math.floor(random() * bytes.byteLength)] = Math.floor(random() * 256)
        parseOutcome(bytes, round)
        const cut = Math.floor(random() * base.byteLength)
        const outcome = parseOutcome(base.subarray(0, cut), round)
        // A cut right after a pax header leaves it without its entry.
        expect(['TAR_TRUNCATED', 'TAR_NO_END_MARKER', 'TAR_BAD_PAX'], `cut at ${cut}`).toContain(outcome)
      }
    })

    it('pax payload changes end in TAR_BAD_PAX, TAR_LIMIT or a description', () => {
      const random = seededRandom(99)
      const paxEntry = headerOffsets.find((offset) => parseTar(base).entries.find((e) => e.offset === offset)!.pathSource === 'pax')!
      const codes = new Set<string>()
      for (let round = 0; round < 500; round++) {
        const bytes = new Uint8Array(base)
        const at = paxEntry - 512 + Math.floor(random() * 300)
        bytes[at] = [0x30, 0x39, 0x20, 0x0a, 0x3d, 0x00, 0xff][Math.floor(random() * 7)]!
        codes.add(parseOutcome(bytes, round))
      }

      expect([...codes].every((code) => ['ok', 'TAR_BAD_PAX', 'TAR_LIMIT', 'TAR_TRUNCATED', 'TAR_BAD_CHECKSUM', 'TAR_BAD_HEADER'].includes(code)), [...codes].join()).toBe(true)
      expect(codes.has('TAR_BAD_PAX')).toBe(true)
    })
  })
})
