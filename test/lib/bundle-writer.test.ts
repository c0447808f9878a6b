/**
 * writeBundle, checked from the outside: its .tgz (written through fs.createWriteStream) verifies,
 * is byte-for-byte deterministic, reads back with GNU tar exactly as written, holds one gzip member,
 * and its manifest, root and signature match what an independent implementation computes.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {createReadStream, createWriteStream, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {once} from 'node:events'
import {join} from 'node:path'
import {crc32, inflateRawSync} from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CHECK_NAMES, type VerifyReport} from '../../src/lib/bundle/report.js'
import {verifyBundle} from '../../src/lib/bundle/verify.js'
import {type BundleInputFile, type BundleMetadata, type WrittenBundle, writeBundle} from '../../src/lib/bundle/writer.js'
import {type Ed25519PrivateKey, type Ed25519PublicKey, readPrivateKeyFile, readPublicKeyFile} from '../../src/lib/keys/index.js'
import {
  IN_TOTO,
  PREDICATE_TYPE,
  SCHEMA,
  STATEMENT_TYPE,
  TEST_KEY,
  TEST_PUBLIC_KEY,
  compareUtf8Bytes,
  generateKeyFiles,
  merkleRoot,
  opensslVerify,
  paeOf,
  sampleFiles,
  sha256Hex,
} from '../helpers/bundle-fixtures.js'
import {scratchDir} from '../helpers/cli.js'
import {rejectionOf} from '../helpers/errors.js'

const METADATA: BundleMetadata = {
  kind: 'evaluation',
  tenant: 'acme',
  caseId: 'case-42',
  createdAt: '2026-11-22T10:00:00Z',
  subject: {type: 'evaluation', id: 'eval-9'},
}
const MTIME = '2026-11-22 10:00:00'

/** Names whose UTF-8 byte order (= code point order) differs from JavaScript's UTF-16 order, and one that needs a pax path. */
const UNICODE_FILES: Record<string, string> = {
  'u/\u{1F600}.txt': 'U+1F600, four UTF-8 bytes, a surrogate pair in UTF-16\n',
  'u/\uFF5A.txt': 'U+FF5A fullwidth z\n',
  'u/\u00E9.txt': 'U+00E9 e acute\n',
  'u/Z.txt': 'capital Z\n',
  [`u/${'n'.repeat(120)}.txt`]: 'a 126-byte name no ustar name/prefix split can hold\n',
}
const UNICODE_ORDER = ['u/Z.txt', `u/${'n'.repeat(120)}.txt`, 'u/\u00E9.txt', 'u/\uFF5A.txt', 'u/\u{1F600}.txt']

interface Corpus {
  contents: Record<string, Buffer>
  /** In reverse order of the paths, so the writer has to sort them. */
  inputs: BundleInputFile[]
  /** Bundle paths in UTF-8 byte order. */
  sorted: string[]
}

let scratch: {path: string; cleanup: () => void}
let key: Ed25519PrivateKey
let publicKey: Ed25519PublicKey
let counter = 0

beforeAll(async () => {
  scratch = scratchDir('stella-bundle-writer-')
  key = await readPrivateKeyFile(TEST_KEY)
  publicKey = await readPublicKeyFile(TEST_PUBLIC_KEY)
})

afterAll(() => scratch?.cleanup())

/** Writes the files to disk under names unrelated to their bundle paths. */
function corpus(files: Record<string, string | Uint8Array>): Corpus {
  const contents = Object.fromEntries(Object.entries(files).map(([path, data]) => [path, Buffer.from(data)]))
  const sources = mkdtempSync(join(scratch.path, 'sources-'))
  const inputs = Object.entries(contents)
    .reverse()
    .map(([path, data], index) => {
      const source = join(sources, `input-${index}.bin`)
      writeFileSync(source, data)
      return {path, source}
    })
  return {contents, inputs, sorted: Object.keys(contents).sort(compareUtf8Bytes)}
}

/** sampleFiles() without its non-ASCII name: plain ustar paths only (one long path split into prefix and name). */
const asciiFiles = (): Record<string, string | Uint8Array> => Object.fromEntries(Object.entries(sampleFiles()).filter(([path]) => /^[\x20-\x7e]+$/.test(path)))

const newPath = (name: string): string => join(scratch.path, `${++counter}-${name}`)

async function writeTo(path: string, files: readonly BundleInputFile[], metadata: BundleMetadata = METADATA, keys: readonly Ed25519PrivateKey[] = [key]): Promise<WrittenBundle> {
  const out = createWriteStream(path)
  try {
    return await writeBundle(files, metadata, keys, out)
  } finally {
    out.end()
    await once(out, 'close')
  }
}

/** GNU tar with fixed locale and time zone; names printed verbatim. */
function gnuTar(args: readonly string[]): string {
  return execFileSync('tar', ['--quoting-style=literal', ...args], {env: {...process.env, TZ: 'UTC', LC_ALL: 'C'}, stdio: ['ignore', 'pipe', 'pipe']}).toString('utf8')
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '')

const expectAllOk = (report: VerifyReport): void => {
  expect(report.checks.map((check) => [check.check, check.status, check.reason])).toEqual(CHECK_NAMES.map((name) => [name, 'ok', undefined]))
  expect(report.ok).toBe(true)
}

/** What every bundle writeBundle makes must satisfy, whatever its paths. */
function commonProperties(label: string, files: () => Record<string, string | Uint8Array>): void {
  describe(`writeBundle: ${label}`, () => {
    let data: Corpus
    let bundlePath: string
    let written: WrittenBundle

    beforeAll(async () => {
      data = corpus(files())
      bundlePath = newPath('bundle.tgz')
      written = await writeTo(bundlePath, data.inputs)
    })

    it('sorts the manifest by UTF-8 bytes and computes the root an independent RFC 9162 implementation computes', () => {
      expect(written.manifest.files).toEqual(data.sorted.map((path) => ({path, size: data.contents[path]!.length, sha256: sha256Hex(data.contents[path]!)})))
      expect(written.root).toBe(merkleRoot(written.manifest.files))
      expect(written.fileCount).toBe(data.inputs.length)
      expect(written.totalBytes).toBe(Object.values(data.contents).reduce((sum, bytes) => sum + bytes.length, 0))
      expect(written.bundleBytes).toBe(statSync(bundlePath).size)
    })

    it('writes a bundle that verifyBundle accepts', async () => {
      const report = await verifyBundle(createReadStream(bundlePath), {trustedKeys: [publicKey]})
      expectAllOk(report)
      expect(report.merkle.computedRoot).toBe(written.root)
      expect(report.signatures.verifiedKeyIds).toEqual([publicKey.keyid])
      expect(written.signerKeyIds).toEqual([publicKey.keyid])
    })

    it('puts manifest.json, manifest.dsse.json, root.merkle first, then the content in manifest order (tar -tzf)', () => {
      expect(lines(gnuTar(['-tzf', bundlePath]))).toEqual(['manifest.json', 'manifest.dsse.json', 'root.merkle', ...data.sorted])
    })

    it('extracts with GNU tar -xzf to identical bytes, without warnings', () => {
      const dir = mkdtempSync(join(scratch.path, 'extract-'))
      const run = spawnSync('tar', ['-xzf', bundlePath, '-C', dir], {encoding: 'utf8'})
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      for (const [path, bytes] of Object.entries(data.contents)) {
        expect(readFileSync(join(dir, path)).equals(bytes), path).toBe(true)
      }
    })

    it('stores uid/gid 0, mode 0644 and createdAt as every mtime (tar -tvzf)', () => {
      const listing = lines(gnuTar(['--numeric-owner', '--full-time', '-tvzf', bundlePath]))
      expect(listing).toHaveLength(3 + data.inputs.length)
      for (const line of listing) expect(line).toMatch(new RegExp(`^-rw-r--r-- 0/0 +\\d+ ${MTIME} `))
      // No owner names either.
      for (const line of lines(gnuTar(['--full-time', '-tvzf', bundlePath]))) expect(line).toMatch(/^-rw-r--r-- 0\/0 /)
    })
  })
}

commonProperties('ASCII paths (one split into ustar prefix and name)', asciiFiles)
commonProperties('non-ASCII paths and a name too long for ustar (pax path records)', () => ({...asciiFiles(), ...UNICODE_FILES}))

describe('writeBundle: format details', () => {
  let data: Corpus
  let bundlePath: string
  let written: WrittenBundle

  beforeAll(async () => {
    data = corpus(asciiFiles())
    bundlePath = newPath('bundle.tgz')
    written = await writeTo(bundlePath, data.inputs)
  })

  it('is deterministic: the same inputs and createdAt give identical bytes, twice, whatever the input order', async () => {
    const first = readFileSync(bundlePath)
    const again = newPath('again.tgz')
    await writeTo(again, data.inputs)
    expect(readFileSync(again).equals(first)).toBe(true)
    const third = newPath('third.tgz')
    await writeTo(third, [...data.inputs.slice(2), ...data.inputs.slice(0, 2)].reverse())
    expect(readFileSync(third).equals(first)).toBe(true)

    // …and another createdAt gives other bytes (the mtime and the manifest change).
    const later = newPath('later.tgz')
    await writeTo(later, data.inputs, {...METADATA, createdAt: '2026-11-22T10:00:01Z'})
    expect(readFileSync(later).equals(first)).toBe(false)
  })

  it('sorts paths by UTF-8 bytes (code points), not by UTF-16 code units', async () => {
    const unicode = corpus(UNICODE_FILES)
    const result = await writeTo(newPath('unicode.tgz'), unicode.inputs)
    expect(result.manifest.files.map((file) => file.path)).toEqual(UNICODE_ORDER)
    // JavaScript's default sort compares UTF-16 units and would put the emoji before U+FF5A.
    expect(Object.keys(UNICODE_FILES).sort()).toEqual(['u/Z.txt', `u/${'n'.repeat(120)}.txt`, 'u/\u00E9.txt', 'u/\u{1F600}.txt', 'u/\uFF5A.txt'])
  })

  it('writes a manifest and statement with the fields the spec defines, signed over the PAE (OpenSSL verifies)', () => {
    const dir = mkdtempSync(join(scratch.path, 'fields-'))
    gnuTar(['-xzf', bundlePath, '-C', dir, 'manifest.json', 'manifest.dsse.json', 'root.merkle'])
    const manifestBytes = readFileSync(join(dir, 'manifest.json'))
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as Record<string, unknown>
    expect(manifest).toMatchObject({schema: SCHEMA, kind: 'evaluation', tenant: 'acme', caseId: 'case-42', createdAt: METADATA.createdAt, subject: METADATA.subject})
    expect(manifest.bundleId).toMatch(/^eb_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(manifest.files).toEqual(written.manifest.files)
    expect(manifest.merkle).toEqual({algorithm: 'rfc9162-sha256', leaf: 'path-nul-sha256', size: data.inputs.length, root: written.root})
    expect(readFileSync(join(dir, 'root.merkle'), 'utf8')).toBe(`${written.root}\n`)

    const envelope = JSON.parse(readFileSync(join(dir, 'manifest.dsse.json'), 'utf8')) as {payloadType: string; payload: string; signatures: {keyid: string; sig: string}[]}
    expect(envelope.payloadType).toBe(IN_TOTO)
    // Standard base64 with padding.
    expect(envelope.payload).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
    expect(envelope.payload.length % 4).toBe(0)
    const payload = Buffer.from(envelope.payload, 'base64')
    expect(JSON.parse(payload.toString('utf8'))).toEqual({
      _type: STATEMENT_TYPE,
      subject: [{name: 'manifest.json', digest: {sha256: sha256Hex(manifestBytes)}}],
      predicateType: PREDICATE_TYPE,
      predicate: {
        bundleId: manifest.bundleId,
        kind: 'evaluation',
        tenant: 'acme',
        caseId: 'case-42',
        createdAt: METADATA.createdAt,
        merkleRoot: written.root,
        fileCount: data.inputs.length,
        totalBytes: written.totalBytes,
      },
    })

    // Pure Ed25519 over our own PAE, as OpenSSL checks it; not over the bare payload.
    expect(envelope.signatures).toHaveLength(1)
    expect(envelope.signatures[0]!.keyid).toBe(publicKey.keyid)
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64')
    expect(opensslVerify(TEST_PUBLIC_KEY, paeOf(IN_TOTO, payload), sig, scratch.path)).toBe(true)
    expect(opensslVerify(TEST_PUBLIC_KEY, payload, sig, scratch.path)).toBe(false)
  })

  it('is one gzip member with no name and no timestamp in its header', () => {
    const bytes = readFileSync(bundlePath)
    expect([bytes[0], bytes[1], bytes[2]]).toEqual([0x1f, 0x8b, 8])
    const flags = bytes[3]!
    expect(flags & 0x08).toBe(0) // FNAME
    expect(flags & 0x10).toBe(0) // FCOMMENT
    expect(bytes.readUInt32LE(4)).toBe(0) // MTIME
    let at = 10
    if (flags & 0x04) at += 2 + bytes.readUInt16LE(10) // FEXTRA
    if (flags & 0x02) at += 2 // FHCRC
    const inflated = inflateRawSync(bytes.subarray(at), {info: true}) as unknown as {buffer: Buffer; engine: {bytesWritten: number}}
    const end = at + inflated.engine.bytesWritten
    // The deflate stream, CRC32 and ISIZE end exactly at the end of the file: nothing follows the member.
    expect(end + 8).toBe(bytes.length)
    expect(bytes.readUInt32LE(end)).toBe(crc32(inflated.buffer))
    expect(bytes.readUInt32LE(end + 4)).toBe(inflated.buffer.length % 2 ** 32)
    // The tar inside is whole 512-byte blocks and ends with the two zero blocks.
    expect(inflated.buffer.length % 512).toBe(0)
    expect(inflated.buffer.subarray(-1024).every((byte) => byte === 0)).toBe(true)
  })

  it('writes an empty bundle (no content files) that verifies', async () => {
    const path = newPath('empty.tgz')
    const result = await writeTo(path, [])
    expect(result.root).toBe(sha256Hex(''))
    expect(lines(gnuTar(['-tzf', path]))).toEqual(['manifest.json', 'manifest.dsse.json', 'root.merkle'])
    expectAllOk(await verifyBundle(createReadStream(path), {trustedKeys: [publicKey]}))
  })

  it('reserves the names only at the top level: sub/manifest.json is an ordinary content file', async () => {
    const nested = corpus({'sub/manifest.json': '{}\n', 'sub/root.merkle': 'not a root\n'})
    const path = newPath('nested-reserved.tgz')
    await writeTo(path, nested.inputs)
    expect(lines(gnuTar(['-tzf', path]))).toEqual(['manifest.json', 'manifest.dsse.json', 'root.merkle', 'sub/manifest.json', 'sub/root.merkle'])
    expectAllOk(await verifyBundle(createReadStream(path), {trustedKeys: [publicKey]}))
  })

  it('two long paths sharing their first 100 bytes give a bundle that verifies', async () => {
    const long = 'x'.repeat(130)
    const twins = corpus({[`${long}-one.json`]: '1\n', [`${long}-two.json`]: '2\n'})
    const path = newPath('long-twins.tgz')
    await writeTo(path, twins.inputs)
    const report = await verifyBundle(createReadStream(path), {trustedKeys: [publicKey]})
    expect(report.container.problems).toEqual([])
    expectAllOk(report)
    expect(lines(gnuTar(['-tzf', path]))).toEqual(['manifest.json', 'manifest.dsse.json', 'root.merkle', ...twins.sorted])
  })

  it('signs once per distinct key; two keys meet threshold 2', async () => {
    const other = generateKeyFiles(scratch.path, 'writer-second')
    const otherKey = await readPrivateKeyFile(other.privateKey)
    const path = newPath('two-keys.tgz')
    const result = await writeTo(path, data.inputs, METADATA, [key, otherKey, key])
    expect(result.signerKeyIds).toEqual([publicKey.keyid, other.keyid])
    const report = await verifyBundle(createReadStream(path), {trustedKeys: [publicKey, otherKey.public], threshold: 2})
    expectAllOk(report)
    expect(report.signatures.verifiedKeyIds).toEqual([publicKey.keyid, other.keyid])
  })
})

describe('writeBundle refuses bad inputs before writing anything', () => {
  let source: string
  beforeAll(() => {
    source = newPath('input.txt')
    writeFileSync(source, 'data\n')
  })

  it.each([
    ['a reserved name (manifest.json)', ['manifest.json'], 'RESERVED_BUNDLE_PATH'],
    ['a reserved name (root.merkle)', ['root.merkle'], 'RESERVED_BUNDLE_PATH'],
    ['a reserved name (manifest.dsse.json)', ['manifest.dsse.json'], 'RESERVED_BUNDLE_PATH'],
    ['a duplicate path', ['a/x.txt', 'b.txt', 'a/x.txt'], 'DUPLICATE_BUNDLE_PATH'],
    ['a file that another path needs as a directory', ['a', 'a/b.txt'], 'DUPLICATE_BUNDLE_PATH'],
    ['the clash the other way round', ['a/b/c.txt', 'a/b'], 'DUPLICATE_BUNDLE_PATH'],
    ['a ".." segment', ['../evil.txt'], 'BAD_BUNDLE_PATH'],
    ['an absolute path', ['/etc/evil.txt'], 'BAD_BUNDLE_PATH'],
    ['a backslash', ['a\\b.txt'], 'BAD_BUNDLE_PATH'],
  ])('%s (%j) → %s', async (_label, paths, code) => {
    const path = newPath('refused.tgz')
    const error = await rejectionOf(writeTo(path, paths.map((p) => ({path: p, source}))))
    expect(error.code).toBe(code)
    expect(statSync(path).size).toBe(0)
  })

  it('a createdAt that is not whole-second UTC: BAD_CREATED_AT', async () => {
    for (const createdAt of ['2026-11-22T10:00:00.123Z', '2026-11-22T10:00:00+01:00', 'yesterday']) {
      const error = await rejectionOf(writeTo(newPath('refused.tgz'), [{path: 'a.txt', source}], {...METADATA, createdAt}))
      expect(error.code).toBe('BAD_CREATED_AT')
    }
  })

  it('no signing key: NO_SIGNING_KEY', async () => {
    const error = await rejectionOf(writeTo(newPath('refused.tgz'), [{path: 'a.txt', source}], METADATA, []))
    expect(error.code).toBe('NO_SIGNING_KEY')
  })
})
