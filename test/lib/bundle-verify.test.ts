/**
 * verifyBundle against real .tgz files on disk. Valid bundles come from an independent builder
 * (hand-built manifest, our own RFC 9162 root and PAE, `openssl pkeyutl` signatures, GNU tar);
 * hostile archives are crafted byte by byte. Each broken variant must fail exactly the check(s)
 * it breaks, with the documented reason, and the report must stay complete.
 */
import {createReadStream, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CHECK_NAMES, type CheckName, type VerifyReport} from '../../src/lib/bundle/report.js'
import {type VerifyOptions, verifyBundle} from '../../src/lib/bundle/verify.js'
import {type Ed25519PublicKey, readPublicKeyFile} from '../../src/lib/keys/index.js'
import {
  type BuiltBundle,
  type BundleSpec,
  ENVELOPE,
  type KeyFiles,
  MANIFEST,
  RESERVED,
  ROOT,
  TEST_PUBLIC_KEY,
  buildBundle,
  compareUtf8Bytes,
  craftedMembers,
  generateKeyFiles,
  merkleRoot,
  sampleFiles,
  sha256Hex,
} from '../helpers/bundle-fixtures.js'
import {scratchDir} from '../helpers/cli.js'
import * as craft from '../helpers/tar-craft.js'

const TRACES = 'otlp/traces.pb'
const LOG = 'logs/app.log'
const OTHER_HEX = sha256Hex('not the root')
const isReserved = (name: string): boolean => (RESERVED as readonly string[]).includes(name)

let scratch: {path: string; cleanup: () => void}
let trusted: Ed25519PublicKey
let untrusted: KeyFiles
let second: KeyFiles
let secondPublic: Ed25519PublicKey
let written = 0

beforeAll(async () => {
  scratch = scratchDir('stella-bundle-verify-')
  trusted = await readPublicKeyFile(TEST_PUBLIC_KEY)
  untrusted = generateKeyFiles(scratch.path, 'untrusted')
  second = generateKeyFiles(scratch.path, 'second')
  secondPublic = await readPublicKeyFile(second.publicKey)
})

afterAll(() => scratch?.cleanup())

const build = (spec: Partial<BundleSpec> = {}): BuiltBundle => buildBundle({files: sampleFiles(), dir: scratch.path, ...spec})

function verifyFile(path: string, options: Partial<VerifyOptions> = {}, highWaterMark?: number): Promise<VerifyReport> {
  return verifyBundle(createReadStream(path, highWaterMark === undefined ? {} : {highWaterMark}), {trustedKeys: [trusted], ...options})
}

/** Writes raw archive bytes to a .tgz file (a real file, read back with createReadStream). */
function archiveFile(bytes: Uint8Array): string {
  const path = join(scratch.path, `crafted-${++written}.tgz`)
  writeFileSync(path, bytes)
  return path
}

type Expected = Partial<Record<CheckName, `${'failed' | 'skipped'}:${string}`>>

/** Every check present, in order, with a message; each one `ok` unless `expected` names its status and reason. */
function expectChecks(report: VerifyReport, expected: Expected): void {
  expect(report.checks.map((check) => check.check)).toEqual([...CHECK_NAMES])
  for (const check of report.checks) {
    expect(check.message, check.check).toMatch(/\S/)
    if (check.status === 'ok') expect(check.reason, check.check).toBeUndefined()
    else expect(check.reason, check.check).toMatch(/^[A-Z0-9_]+$/)
  }

  const actual = Object.fromEntries(report.checks.map((check) => [check.check, check.status === 'ok' ? 'ok' : `${check.status}:${check.reason}`]))
  const wanted = Object.fromEntries(CHECK_NAMES.map((name) => [name, expected[name] ?? 'ok']))
  expect(actual).toEqual(wanted)
  expect(report.ok).toBe(Object.keys(expected).length === 0)
}

/** The root the verifier should recompute when the archive holds `actual` instead of what the manifest lists. */
function rootWith(bundle: BuiltBundle, actual: Record<string, Uint8Array | string>): string {
  return merkleRoot(bundle.manifest.files.map((file) => ({path: file.path, sha256: actual[file.path] === undefined ? file.sha256 : sha256Hex(actual[file.path]!)})))
}

describe('verifyBundle: valid bundles from an independent builder', () => {
  it('verifies a bundle built with GNU tar, our own root and an OpenSSL signature', async () => {
    const bundle = build()
    const report = await verifyFile(bundle.path)
    expectChecks(report, {})
    expect(report.merkle).toEqual({treeSize: 5, manifestRoot: bundle.root, rootFile: bundle.root, computedRoot: bundle.root})
    expect(bundle.keyid).toBe(trusted.keyid)
    expect(report.signatures).toEqual({
      threshold: 1,
      trustedKeyIds: [trusted.keyid],
      verifiedKeyIds: [trusted.keyid],
      signatures: [{index: 0, keyidHint: trusted.keyid, status: 'verified', verifiedBy: trusted.keyid}],
    })
    const totalBytes = bundle.manifest.files.reduce((sum, file) => sum + file.size, 0)
    expect(report.files).toEqual({listed: 5, found: 5, bytes: totalBytes, missing: [], missingCount: 0, extra: [], extraCount: 0, altered: [], alteredCount: 0})
    expect(report.container).toMatchObject({entries: 8, problems: [], problemCount: 0})
    expect(report.container.compressedBytes).toBe(readFileSync(bundle.path).length)
    expect(report).toMatchObject({bundleId: bundle.manifest.bundleId, kind: 'evaluation', tenant: 'acme', caseId: 'case-42', createdAt: '2026-11-22T10:00:00Z'})
  })

  it.each([
    ['manifest last', (names: string[]) => [...names.filter((n) => !isReserved(n)), ROOT, ENVELOPE, MANIFEST]],
    ['fully reversed', (names: string[]) => [...names].reverse()],
    ['reserved files between content files', (names: string[]) => {
      const content = names.filter((n) => !isReserved(n))
      return [content[0]!, ENVELOPE, content[1]!, content[2]!, MANIFEST, ...content.slice(3), ROOT]
    }],
  ])('verifies with the members in any order (%s)', async (_label, order) => {
    const bundle = build({order})
    expect(bundle.members.map((m) => m.name)).not.toEqual(build().members.map((m) => m.name))
    const report = await verifyFile(bundle.path)
    expectChecks(report, {})
    expect(report.merkle.computedRoot).toBe(bundle.root)
  })

  it('reports many files the same whatever the member order: missing and altered in manifest order, extras in archive order', async () => {
    // 600 paths fill the ledger's hash table enough to probe; non-ASCII names check it hashes UTF-8.
    const files: Record<string, string> = {}
    for (let i = 0; i < 600; i++) files[`svc-${i % 7}/part-${String(i).padStart(4, '0')}${i % 50 === 0 ? '-é' : ''}.json`] = `record ${i}\n`
    const paths = Object.keys(files).sort(compareUtf8Bytes)
    const altered = [paths[5]!, paths[300]!, paths[599]!]
    const missing = [paths[0]!, paths[450]!]
    const spec: Partial<BundleSpec> = {
      files,
      archiveContent: Object.fromEntries(altered.map((path) => [path, 'changed\n'])),
      extraFiles: {'zz/extra-1.txt': 'x', 'aa/extra-2.txt': 'y'},
      omit: missing,
    }
    // A fixed shuffle: every 7th member from each start, so neither manifest order nor its reverse.
    const shuffle = (names: string[]) => [0, 1, 2, 3, 4, 5, 6].flatMap((start) => names.filter((_, i) => i % 7 === start))
    const inOrder = await verifyFile(build(spec).path)
    const shuffled = await verifyFile(build({...spec, order: shuffle}).path)
    const manifestLast = await verifyFile(build({...spec, order: (names) => [...names.filter((n) => !isReserved(n)).reverse(), ROOT, ENVELOPE, MANIFEST]}).path)

    expect(inOrder.files.missing).toEqual(missing)
    expect(inOrder.files.altered.map((file) => file.path)).toEqual(altered)
    const original = files[altered[1]!]!
    expect(inOrder.files.altered[1]).toEqual({path: altered[1], expectedSize: original.length, actualSize: 8, expectedSha256: sha256Hex(original), actualSha256: sha256Hex('changed\n')})
    expect(inOrder.files).toMatchObject({listed: 600, found: 600, missingCount: 2, alteredCount: 3, extra: ['zz/extra-1.txt', 'aa/extra-2.txt'], extraCount: 2})
    for (const report of [shuffled, manifestLast]) {
      expect({...report.files, extra: [...report.files.extra].sort()}).toEqual({...inOrder.files, extra: [...inOrder.files.extra].sort()})
      expect(report.checks).toEqual(inOrder.checks)
    }
  })

  it('recomputes the root over 600 files whatever the member order', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 600; i++) files[`dir-${i % 13}/f${i}`] = `${i}`
    const reversed = build({files, order: (names) => [...names].reverse()})
    const report = await verifyFile(reversed.path)
    expectChecks(report, {})
    expect(report.merkle.computedRoot).toBe(reversed.root)
  })

  it('gives the same report however the input is chunked', async () => {
    const bundle = build()
    const whole = await verifyFile(bundle.path)
    const tiny = await verifyFile(bundle.path, {}, 7)
    expect(tiny).toEqual(whole)
  })

  it('verifies an empty bundle (no content files; the root is SHA-256 of nothing)', async () => {
    const bundle = build({files: {}})
    expect(bundle.root).toBe(sha256Hex(''))
    const report = await verifyFile(bundle.path)
    expectChecks(report, {})
    expect(report.merkle.computedRoot).toBe(sha256Hex(''))
  })

  it('orders by UTF-8 bytes: a manifest sorted by code point verifies', async () => {
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D…) before U+FF5A; code point order puts it after.
    const files = {'a/\u{1F600}.txt': 'emoji', 'a/\uFF5A.txt': 'fullwidth z', 'a/\u00E9.txt': 'e acute', 'a/Z.txt': 'capital'}
    const bundle = build({files})
    expect(bundle.manifest.files.map((f) => f.path)).toEqual(['a/Z.txt', 'a/\u00E9.txt', 'a/\uFF5A.txt', 'a/\u{1F600}.txt'])
    expectChecks(await verifyFile(bundle.path), {})
  })

  it('accepts a trusted signature whatever its keyid hint says, or without one', async () => {
    for (const keyid of [null, '', 'not-a-keyid', untrusted.keyid]) {
      const report = await verifyFile(build({signatures: [{keyid}]}).path)
      expectChecks(report, {})
      expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid])
    }
  })

  it('verifies a GNU tar bundle whose long paths share their first 100 bytes (their truncated ustar names coincide)', async () => {
    // GNU tar --format=pax puts the path in a pax record and a truncated copy in the ustar name;
    // two such entries sharing the truncated name are two distinct paths, not an alias.
    const long = 'x'.repeat(130)
    const files = {[`${long}-one.json`]: '1\n', [`${long}-two.json`]: '2\n', [`d/${'\u00E9'.repeat(60)}1`]: 'e1\n', [`d/${'\u00E9'.repeat(60)}2`]: 'e2\n'}
    const report = await verifyFile(build({files}).path)
    expect(report.container.problems).toEqual([])
    expectChecks(report, {})
  })

  it('accepts an envelope in URL-safe base64 without padding (readers must)', async () => {
    const urlSafe = (text: string): string => Buffer.from(text, 'base64').toString('base64url')
    const bundle = build({
      editEnvelope: (envelope) => ({
        payloadType: envelope.payloadType,
        payload: urlSafe(envelope.payload),
        signatures: envelope.signatures.map((signature) => ({...signature, sig: urlSafe(signature.sig)})),
      }),
    })
    expect(bundle.envelope.payload).not.toMatch(/=$/)
    expectChecks(await verifyFile(bundle.path), {})
  })

  it('ignores (but reports) a signature by an unknown key next to a trusted one', async () => {
    const report = await verifyFile(build({signatures: [{key: untrusted.privateKey}, {}]}).path)
    expectChecks(report, {})
    expect(report.signatures.signatures).toEqual([
      {index: 0, keyidHint: untrusted.keyid, status: 'unknown-key'},
      {index: 1, keyidHint: trusted.keyid, status: 'verified', verifiedBy: trusted.keyid},
    ])
  })
})

describe('verifyBundle: each verification layer', () => {
  it('a flipped byte in a content file: files FILES_ALTERED (same size, other digest), the root no longer matches', async () => {
    const original = Buffer.from(sampleFiles()[TRACES]!)
    const flipped = Buffer.from(original)
    flipped[1234] = flipped[1234]! ^ 0x01
    const bundle = build({archiveContent: {[TRACES]: flipped}})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {files: 'failed:FILES_ALTERED', merkle: 'failed:ROOT_MISMATCH'})
    expect(report.files.altered).toEqual([
      {path: TRACES, expectedSize: 3000, actualSize: 3000, expectedSha256: sha256Hex(original), actualSha256: sha256Hex(flipped)},
    ])
    expect(report.files).toMatchObject({alteredCount: 1, missing: [], missingCount: 0, extra: [], extraCount: 0})
    expect(report.merkle).toEqual({treeSize: 5, manifestRoot: bundle.root, rootFile: bundle.root, computedRoot: rootWith(bundle, {[TRACES]: flipped})})
    expect(report.checks[2]!.message).toContain(TRACES)
    expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid])
  })

  it('changed content leaves the statement ok: it binds the manifest, and the merkle check catches the content', async () => {
    const changed = 'line one\nchanged\n'
    const bundle = build({archiveContent: {[LOG]: changed}})
    const report = await verifyFile(bundle.path)
    expect(report.checks[4]).toMatchObject({status: 'ok'})
    expect(report.checks[3]!.message).toContain(rootWith(bundle, {[LOG]: changed}))
  })

  it('a truncated content file: files FILES_ALTERED with the shorter size', async () => {
    const original = Buffer.from(sampleFiles()[LOG]!)
    const short = original.subarray(0, 10)
    const bundle = build({archiveContent: {[LOG]: short}})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {files: 'failed:FILES_ALTERED', merkle: 'failed:ROOT_MISMATCH'})
    expect(report.files.altered).toEqual([{path: LOG, expectedSize: original.length, actualSize: 10, expectedSha256: sha256Hex(original), actualSha256: sha256Hex(short)}])
    expect(report.merkle.computedRoot).toBe(rootWith(bundle, {[LOG]: short}))
    expect(report.checks[2]!.message).toContain(`${LOG} differs: 10 bytes, ${original.length} expected`)
  })

  it('an extra file in the archive: files FILES_EXTRA, nothing else', async () => {
    const bundle = build({extraFiles: {'notes/extra.txt': 'not in the manifest\n'}})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {files: 'failed:FILES_EXTRA'})
    expect(report.files).toMatchObject({extra: ['notes/extra.txt'], extraCount: 1, missing: [], altered: [], found: 6, listed: 5})
    expect(report.merkle.computedRoot).toBe(bundle.root)
  })

  it('a file missing from the archive: files FILES_MISSING, the root cannot be recomputed', async () => {
    const bundle = build({omit: [LOG]})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {files: 'failed:FILES_MISSING', merkle: 'skipped:FILES_MISSING'})
    expect(report.files).toMatchObject({missing: [LOG], missingCount: 1, extra: [], altered: [], found: 4, listed: 5})
    expect(report.merkle).toEqual({treeSize: 5, manifestRoot: bundle.root, rootFile: bundle.root})
  })

  it('a manifest edited without re-signing (content, manifest and root.merkle all swapped consistently): statement SUBJECT_DIGEST', async () => {
    const tamperedLog = 'line one\nsomething else entirely\n'
    const forged = build({files: {...sampleFiles(), [LOG]: tamperedLog}, signatures: []})
    const bundle = build({archiveContent: {[LOG]: tamperedLog}, manifestAfterSigning: () => forged.manifestBytes, rootFile: `${forged.root}\n`})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {statement: 'failed:SUBJECT_DIGEST'})
    expect(report.merkle).toEqual({treeSize: 5, manifestRoot: forged.root, rootFile: forged.root, computedRoot: forged.root})
    expect(report.checks[4]!.message).toContain(sha256Hex(bundle.signedManifestBytes))
    expect(report.checks[4]!.message).toContain(sha256Hex(forged.manifestBytes))
    // The signature itself is fine: it is over the original statement.
    expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid])
  })

  it('a manifest field edited after signing (tenant): statement SUBJECT_DIGEST', async () => {
    const bundle = build({manifestAfterSigning: (bytes) => bytes.toString('utf8').replace('"tenant": "acme"', '"tenant": "evil"')})
    expect(bundle.manifestBytes.toString('utf8')).toContain('"evil"')
    const report = await verifyFile(bundle.path)
    expectChecks(report, {statement: 'failed:SUBJECT_DIGEST'})
    expect(report.tenant).toBe('evil')
  })

  it('a consistent bundle signed by an untrusted key: signatures NO_TRUSTED_SIGNATURE', async () => {
    const report = await verifyFile(build({key: untrusted.privateKey}).path)
    expectChecks(report, {signatures: 'failed:NO_TRUSTED_SIGNATURE'})
    expect(report.signatures.verifiedKeyIds).toEqual([])
    expect(report.signatures.signatures).toEqual([{index: 0, keyidHint: untrusted.keyid, status: 'unknown-key'}])
  })

  it('an untrusted signature whose keyid hint names the trusted key: signatures NO_TRUSTED_SIGNATURE', async () => {
    const report = await verifyFile(build({signatures: [{key: untrusted.privateKey, keyid: trusted.keyid}]}).path)
    expectChecks(report, {signatures: 'failed:NO_TRUSTED_SIGNATURE'})
    expect(report.signatures.verifiedKeyIds).toEqual([])
    expect(report.signatures.signatures).toEqual([{index: 0, keyidHint: trusted.keyid, status: 'unknown-key'}])
  })

  it('root.merkle disagreeing with the manifest: merkle ROOT_FILE_MISMATCH', async () => {
    const bundle = build({rootFile: `${OTHER_HEX}\n`})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {merkle: 'failed:ROOT_FILE_MISMATCH'})
    expect(report.merkle).toEqual({treeSize: 5, manifestRoot: bundle.root, rootFile: OTHER_HEX, computedRoot: bundle.root})
  })

  it('root.merkle malformed or absent: merkle ROOT_FILE_MALFORMED / ROOT_FILE_MISSING', async () => {
    const upper = build({rootFile: `${build().root.toUpperCase()}\n`})
    expectChecks(await verifyFile(upper.path), {merkle: 'failed:ROOT_FILE_MALFORMED'})
    const noNewline = build({rootFile: build().root})
    expectChecks(await verifyFile(noNewline.path), {merkle: 'failed:ROOT_FILE_MALFORMED'})
    const absent = build({omit: [ROOT]})
    expectChecks(await verifyFile(absent.path), {merkle: 'failed:ROOT_FILE_MISSING'})
  })

  it('a manifest root that disagrees with the content (manifest, root.merkle and statement agree): merkle ROOT_MISMATCH', async () => {
    const bundle = build({
      editManifest: (manifest) => void (manifest.merkle.root = OTHER_HEX),
      rootFile: `${OTHER_HEX}\n`,
    })
    const report = await verifyFile(bundle.path)
    expectChecks(report, {merkle: 'failed:ROOT_MISMATCH'})
    expect(report.merkle).toEqual({treeSize: 5, manifestRoot: OTHER_HEX, rootFile: OTHER_HEX, computedRoot: bundle.root})
  })

  it('no signatures: signatures NO_SIGNATURES', async () => {
    const report = await verifyFile(build({signatures: []}).path)
    expectChecks(report, {signatures: 'failed:NO_SIGNATURES'})
    expect(report.signatures.signatures).toEqual([])
  })

  it('a different payloadType, correctly signed: statement PAYLOAD_TYPE', async () => {
    const report = await verifyFile(build({payloadType: 'application/json'}).path)
    expectChecks(report, {statement: 'failed:PAYLOAD_TYPE'})
    expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid])
  })

  it('a payloadType changed after signing: statement PAYLOAD_TYPE and no valid signature', async () => {
    const report = await verifyFile(build({editEnvelope: (envelope) => void (envelope.payloadType = 'application/json')}).path)
    expectChecks(report, {statement: 'failed:PAYLOAD_TYPE', signatures: 'failed:NO_TRUSTED_SIGNATURE'})
  })

  it('a signature over the raw payload instead of the PAE: signatures NO_TRUSTED_SIGNATURE', async () => {
    const report = await verifyFile(build({signatures: [{over: 'payload'}]}).path)
    expectChecks(report, {signatures: 'failed:NO_TRUSTED_SIGNATURE'})
    expect(report.signatures.signatures).toEqual([{index: 0, keyidHint: trusted.keyid, status: 'unknown-key'}])
  })

  it('a payload changed after signing: signatures NO_TRUSTED_SIGNATURE', async () => {
    const bundle = build({
      editEnvelope: (envelope) => {
        const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Record<string, unknown>
        envelope.payload = Buffer.from(JSON.stringify(statement, null, 1)).toString('base64')
      },
    })
    expectChecks(await verifyFile(bundle.path), {signatures: 'failed:NO_TRUSTED_SIGNATURE'})
  })

  it('a signed predicate root that disagrees: statement PREDICATE_ROOT', async () => {
    const report = await verifyFile(build({editStatement: (statement) => void (statement.predicate.merkleRoot = OTHER_HEX)}).path)
    expectChecks(report, {statement: 'failed:PREDICATE_ROOT'})
    expect(report.checks[4]!.message).toContain(OTHER_HEX)
    expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid])
  })

  it('a signed subject digest that disagrees: statement SUBJECT_DIGEST', async () => {
    const report = await verifyFile(build({editStatement: (statement) => void (statement.subject[0]!.digest.sha256 = OTHER_HEX)}).path)
    expectChecks(report, {statement: 'failed:SUBJECT_DIGEST'})
    expect(report.checks[4]!.message).toContain(OTHER_HEX)
  })

  it('a signed predicate field that disagrees (fileCount, tenant): statement PREDICATE_MISMATCH', async () => {
    expectChecks(await verifyFile(build({editStatement: (statement) => void (statement.predicate.fileCount = 4)}).path), {statement: 'failed:PREDICATE_MISMATCH'})
    expectChecks(await verifyFile(build({editStatement: (statement) => void (statement.predicate.tenant = 'other')}).path), {statement: 'failed:PREDICATE_MISMATCH'})
  })

  it('a statement naming another subject: statement SUBJECT_NAME', async () => {
    const report = await verifyFile(build({editStatement: (statement) => void (statement.subject[0]!.name = 'other.json')}).path)
    expectChecks(report, {statement: 'failed:SUBJECT_NAME'})
  })

  const manifestInvalid = {files: 'skipped:NO_MANIFEST', merkle: 'skipped:NO_MANIFEST', statement: 'skipped:NO_MANIFEST'} as const

  it('an unsorted manifest: manifest MANIFEST_UNSORTED; files, merkle and statement skipped', async () => {
    const bundle = build({editManifest: (manifest) => void manifest.files.reverse()})
    const report = await verifyFile(bundle.path)
    expectChecks(report, {manifest: 'failed:MANIFEST_UNSORTED', ...manifestInvalid})
    expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid])
  })

  it('a manifest sorted by UTF-16 code units instead of UTF-8 bytes: MANIFEST_UNSORTED', async () => {
    const files = {'a/\u{1F600}.txt': 'emoji', 'a/\uFF5A.txt': 'fullwidth z'}
    const bundle = build({
      files,
      editManifest: (manifest) => {
        manifest.files.sort((a, b) => (a.path < b.path ? -1 : 1))
        manifest.merkle.root = merkleRoot(manifest.files)
      },
    })
    expect(bundle.manifest.files.map((f) => f.path)).toEqual(['a/\u{1F600}.txt', 'a/\uFF5A.txt'])
    expectChecks(await verifyFile(bundle.path), {manifest: 'failed:MANIFEST_UNSORTED', ...manifestInvalid})
  })

  it('a manifest listing a file twice: manifest MANIFEST_DUPLICATE_PATH', async () => {
    const bundle = build({
      editManifest: (manifest) => {
        manifest.files.splice(1, 0, {...manifest.files[1]!})
        manifest.merkle.size = manifest.files.length
      },
    })
    const report = await verifyFile(bundle.path)
    expectChecks(report, {manifest: 'failed:MANIFEST_DUPLICATE_PATH', ...manifestInvalid})
  })

  it('threshold 2 with two signatures by the same key: signatures THRESHOLD_NOT_MET', async () => {
    const bundle = build({signatures: [{}, {}]})
    expect(bundle.envelope.signatures).toHaveLength(2)
    const report = await verifyFile(bundle.path, {threshold: 2})
    expectChecks(report, {signatures: 'failed:THRESHOLD_NOT_MET'})
    expect(report.signatures).toMatchObject({threshold: 2, verifiedKeyIds: [trusted.keyid]})
    expect(report.signatures.signatures.map((s) => s.status)).toEqual(['verified', 'duplicate-key'])
  })

  it('threshold 2 is not met by one key listed twice among the trusted keys', async () => {
    const report = await verifyFile(build().path, {threshold: 2, trustedKeys: [trusted, trusted]})
    expectChecks(report, {signatures: 'failed:THRESHOLD_NOT_MET'})
  })

  it('threshold 2 with signatures by two distinct trusted keys: ok', async () => {
    const bundle = build({signatures: [{}, {key: second.privateKey}]})
    const report = await verifyFile(bundle.path, {threshold: 2, trustedKeys: [trusted, secondPublic]})
    expectChecks(report, {})
    expect(report.signatures.verifiedKeyIds).toEqual([trusted.keyid, second.keyid])
    // With only one of them trusted, the threshold is not met.
    const one = await verifyFile(bundle.path, {threshold: 2, trustedKeys: [trusted]})
    expectChecks(one, {signatures: 'failed:THRESHOLD_NOT_MET'})
  })
})

describe('verifyBundle: container hardening (crafted archives)', () => {
  const CONTENT = {'a.txt': 'alpha\n', 'b.txt': 'bravo\n', 'dir/c.txt': 'charlie\n'}
  let base: BuiltBundle

  beforeAll(() => {
    base = buildBundle({files: CONTENT, dir: scratch.path})
  })

  /** The valid bundle's members, with `hostile` pieces put after the reserved files (or where `at` says). */
  function hostileArchive(hostile: readonly Uint8Array[], options: {drop?: string[]; at?: 'after-reserved' | 'end'} = {}): Buffer {
    const reserved = craftedMembers(base, RESERVED)
    const content = craftedMembers(base, Object.keys(CONTENT).filter((name) => !options.drop?.includes(name)))
    const parts = options.at === 'end' ? [...reserved, ...content, ...hostile] : [...reserved, ...hostile, ...content]
    return craft.tar(parts)
  }

  async function expectContainerFailure(path: string, code: string, others: Expected = {}, problemPath?: string): Promise<VerifyReport> {
    const report = await verifyFile(path)
    expect(report.ok).toBe(false)
    expectChecks(report, {container: `failed:${code}`, ...others})
    expect(report.container.problems[0]).toMatchObject(problemPath === undefined ? {code} : {code, path: problemPath})
    return report
  }

  it('the crafted copy of the valid bundle verifies (so each hostile entry below is the only problem)', async () => {
    expectChecks(await verifyFile(archiveFile(craft.gzip(hostileArchive([])))), {})
  })

  it('an optional directory entry is allowed', async () => {
    expectChecks(await verifyFile(archiveFile(craft.gzip(hostileArchive([craft.directory('dir/')])))), {})
  })

  it.each([
    ['symlink', '2', 'ENTRY_SYMLINK'],
    ['hard link', '1', 'ENTRY_HARDLINK'],
    ['character device', '3', 'ENTRY_DEVICE'],
    ['block device', '4', 'ENTRY_DEVICE'],
    ['FIFO', '6', 'ENTRY_FIFO'],
    ['vendor-typeflag', 'Z', 'ENTRY_TYPE'],
  ])('a %s entry (typeflag %s): container %s', async (_label, typeflag, code) => {
    const hostile = craft.entry({name: 'dir/special', typeflag, linkname: typeflag === '1' || typeflag === '2' ? 'a.txt' : undefined, devmajor: 1, devminor: 3})
    const report = await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([hostile]))), code, {}, 'dir/special')
    expect(report.container.problemCount).toBe(1)
  })

  it('a symlink pointing outside the bundle: container ENTRY_SYMLINK', async () => {
    const hostile = craft.entry({name: 'escape', typeflag: '2', linkname: '/etc/passwd'})
    const report = await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([hostile]))), 'ENTRY_SYMLINK', {}, 'escape')
    expect(report.container.problems[0]!.message).toContain('/etc/passwd')
  })

  it.each([
    ['an absolute path', '/etc/evil.txt'],
    ['a ".." segment', 'dir/../../evil.txt'],
    ['a "." segment', 'dir/./evil.txt'],
    ['an empty segment', 'dir//evil.txt'],
    ['a backslash', 'dir\\..\\evil.txt'],
  ])('a file with %s: container PATH_INVALID', async (_label, name) => {
    const report = await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([craft.file(name, 'evil\n')]))), 'PATH_INVALID', {}, name)
    expect(report.container.problemCount).toBe(1)
  })

  it('a path longer than 4096 bytes (via a pax path record): container PATH_INVALID', async () => {
    const name = `${'long/'.repeat(819)}x.txt`
    expect(Buffer.byteLength(name)).toBeGreaterThan(4096)
    const hostile = Buffer.concat([craft.pax([['path', name]]), craft.file('long.txt', 'evil\n')])
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([hostile]))), 'PATH_INVALID', {}, name)
  })

  it('a NUL in a name (via a pax path record): container PATH_INVALID', async () => {
    const hostile = Buffer.concat([craft.pax([['path', 'evil\0.txt']]), craft.file('evil.txt', 'evil\n')])
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([hostile]))), 'PATH_INVALID')
  })

  it('invalid UTF-8 in a ustar name: container PATH_INVALID', async () => {
    const hostile = craft.file(Buffer.from([0x65, 0x76, 0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74]), 'evil\n')
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([hostile]))), 'PATH_INVALID')
  })

  it('an overlong UTF-8 "/" in a pax path (a\\xC0\\xAF..\\xC0\\xAFx): container PATH_INVALID', async () => {
    const overlong = Buffer.from([0x61, 0xc0, 0xaf, 0x2e, 0x2e, 0xc0, 0xaf, 0x78])
    const hostile = Buffer.concat([craft.pax([['path', overlong]]), craft.file('x', 'evil\n')])
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([hostile]))), 'PATH_INVALID')
  })

  it('a path appearing twice (the second copy with other bytes): container PATH_DUPLICATE', async () => {
    const report = await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([craft.file('b.txt', 'replaced\n')], {at: 'end'}))), 'PATH_DUPLICATE', {}, 'b.txt')
    expect(report.container.problemCount).toBe(1)
  })

  it('a reserved file appearing twice: container PATH_DUPLICATE', async () => {
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([craft.file(ROOT, `${OTHER_HEX}\n`)], {at: 'end'}))), 'PATH_DUPLICATE', {}, ROOT)
  })

  it('a directory appearing twice: container PATH_DUPLICATE', async () => {
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([craft.directory('dir/'), craft.directory('dir/')]))), 'PATH_DUPLICATE', {}, 'dir')
  })

  it('a pax path record aliasing another entry (ustar name = a.txt, pax path = b.txt): container PATH_ALIAS', async () => {
    const alias = Buffer.concat([craft.pax([['path', 'b.txt']]), craft.file('a.txt', CONTENT['b.txt'])])
    const report = await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([alias], {drop: ['b.txt']}))), 'PATH_ALIAS', {}, 'b.txt')
    expect(report.container.problemCount).toBe(1)
    expect(report.files.found).toBe(3)
  })

  it('a GNU long-name record aliasing another entry: container PATH_ALIAS', async () => {
    const alias = Buffer.concat([craft.gnuLongName('b.txt'), craft.file('a.txt', CONTENT['b.txt'], {magic: 'gnu'})])
    const report = await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([alias], {drop: ['b.txt']}))), 'PATH_ALIAS', {}, 'b.txt')
    expect(report.container.problemCount).toBe(1)
  })

  it('a file and a directory with the same path: container PATH_FILE_AND_DIRECTORY', async () => {
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([craft.directory('a.txt/')]))), 'PATH_FILE_AND_DIRECTORY', {}, 'a.txt')
  })

  it('a file used as a directory by another file: container PATH_FILE_AND_DIRECTORY (and the file is unlisted)', async () => {
    await expectContainerFailure(archiveFile(craft.gzip(hostileArchive([craft.file('dir', 'i am a file\n')]))), 'PATH_FILE_AND_DIRECTORY', {files: 'failed:FILES_EXTRA'}, 'dir')
  })

  it('a content file that is not listed: files FILES_EXTRA', async () => {
    const report = await verifyFile(archiveFile(craft.gzip(hostileArchive([craft.file('d.txt', 'delta\n')]))))
    expectChecks(report, {files: 'failed:FILES_EXTRA'})
    expect(report.files.extra).toEqual(['d.txt'])
  })

  it('a listed file that is missing: files FILES_MISSING', async () => {
    const report = await verifyFile(archiveFile(craft.gzip(hostileArchive([], {drop: ['b.txt']}))))
    expectChecks(report, {files: 'failed:FILES_MISSING', merkle: 'skipped:FILES_MISSING'})
    expect(report.files.missing).toEqual(['b.txt'])
  })

  // The archive cannot be read to its end: what was read is reported, the rest is skipped.
  const unreadable = {files: 'skipped:CONTAINER_UNREADABLE', merkle: 'skipped:CONTAINER_UNREADABLE'} as const
  // Damage after the tar end marker: every entry was read, so only the container fails.
  const readWhole = {} as const

  it('a second gzip member appended: container GZIP_SECOND_MEMBER', async () => {
    const bytes = Buffer.concat([craft.gzip(hostileArchive([])), craft.gzip(craft.tar([craft.file('late.txt', 'smuggled\n')]))])
    const report = await expectContainerFailure(archiveFile(bytes), 'GZIP_SECOND_MEMBER', readWhole)
    expect(report.container.problemCount).toBe(1)
  })

  it('a second gzip member holding only zeros: container GZIP_SECOND_MEMBER', async () => {
    const bytes = Buffer.concat([craft.gzip(hostileArchive([])), craft.gzip(Buffer.alloc(1024))])
    await expectContainerFailure(archiveFile(bytes), 'GZIP_SECOND_MEMBER', readWhole)
  })

  it.each([
    ['text', Buffer.from('trailing garbage')],
    ['one 0x1f byte', Buffer.of(0x1f)],
    ['zero bytes', Buffer.alloc(4)],
  ])('trailing bytes after the gzip member (%s): container GZIP_TRAILING_BYTES', async (_label, tail) => {
    const bytes = Buffer.concat([craft.gzip(hostileArchive([])), tail])
    await expectContainerFailure(archiveFile(bytes), 'GZIP_TRAILING_BYTES', readWhole)
  })

  it('a truncated tar inside a complete gzip member: container TAR_TRUNCATED', async () => {
    const tarBytes = hostileArchive([])
    const cut = tarBytes.subarray(0, tarBytes.length - 1024 - 512 - 100)
    const report = await expectContainerFailure(archiveFile(craft.gzip(cut)), 'TAR_TRUNCATED', unreadable)
    expect(report.container.problems).toHaveLength(1)
  })

  it('a .tgz file cut inside the gzip trailer: container GZIP_TRUNCATED', async () => {
    const bytes = readFileSync(build().path)
    await expectContainerFailure(archiveFile(bytes.subarray(0, bytes.length - 3)), 'GZIP_TRUNCATED', readWhole)
  })

  it('a .tgz file cut in half: container GZIP_TRUNCATED, report complete', async () => {
    const bytes = readFileSync(build().path)
    const report = await verifyFile(archiveFile(bytes.subarray(0, Math.floor(bytes.length / 2))))
    expect(report.ok).toBe(false)
    expect(report.checks.map((c) => c.check)).toEqual([...CHECK_NAMES])
    expect(report.checks[0]).toMatchObject({status: 'failed', reason: 'GZIP_TRUNCATED'})
    expect(report.checks[2]).toMatchObject({status: 'skipped', reason: 'CONTAINER_UNREADABLE'})
  })

  it.each([
    [ROOT, 1025, {merkle: 'failed:ROOT_FILE_MISSING'}],
    [ENVELOPE, 16 * 1024 * 1024 + 1, {statement: 'failed:ENVELOPE_MISSING', signatures: 'failed:ENVELOPE_MISSING'}],
  ] as const)('%s of %i bytes, one over its limit, arriving over many chunks: container RESERVED_TOO_LARGE, once', async (name, size, others) => {
    const members = craftedMembers(base, [...RESERVED.filter((reserved) => reserved !== name), ...Object.keys(CONTENT)])
    const report = await expectContainerFailure(archiveFile(craft.gzip(craft.tar([craft.file(name, Buffer.alloc(size, 0x20)), ...members]))), 'RESERVED_TOO_LARGE', others, name)
    expect(report.container.problemCount).toBe(1)
    expect(report.container.problems[0]!.message).toBe(`${name} is larger than ${size - 1} bytes`)
  })

  const nothingRead = {
    manifest: 'failed:MANIFEST_MISSING',
    files: 'skipped:NO_MANIFEST',
    merkle: 'skipped:NO_MANIFEST',
    statement: 'failed:ENVELOPE_MISSING',
    signatures: 'failed:ENVELOPE_MISSING',
  } as const

  it('a file that is not gzip (a plain tar): container NOT_GZIP', async () => {
    await expectContainerFailure(archiveFile(hostileArchive([])), 'NOT_GZIP', nothingRead)
  })

  it('an empty file: container NOT_GZIP', async () => {
    await expectContainerFailure(archiveFile(Buffer.alloc(0)), 'NOT_GZIP', nothingRead)
  })

  it('a tar header whose size runs beyond the data: container TAR_TRUNCATED', async () => {
    const liar = craft.file('z.txt', 'short\n', {size: 100_000})
    const report = await verifyFile(archiveFile(craft.gzip(hostileArchive([liar], {at: 'end'}))))
    expectChecks(report, {container: 'failed:TAR_TRUNCATED', ...unreadable})
  })

  it('a header with a bad checksum: container TAR_BAD_CHECKSUM', async () => {
    const bad = craft.file('d.txt', 'delta\n', {checksum: 'bad'})
    const report = await verifyFile(archiveFile(craft.gzip(hostileArchive([bad], {at: 'end'}))))
    expectChecks(report, {container: 'failed:TAR_BAD_CHECKSUM', ...unreadable})
  })

  it('non-zero bytes after the end-of-archive blocks: container TAR_TRAILING_DATA', async () => {
    const tarBytes = Buffer.concat([hostileArchive([]), Buffer.from('after the end'), Buffer.alloc(499)])
    const report = await verifyFile(archiveFile(craft.gzip(tarBytes)))
    expectChecks(report, {container: 'failed:TAR_TRAILING_DATA', ...readWhole})
  })

  it('zero padding after the end-of-archive blocks (a 10240-byte tar record) is fine', async () => {
    const tarBytes = hostileArchive([])
    const padded = Buffer.concat([tarBytes, Buffer.alloc(10_240 - (tarBytes.length % 10_240))])
    expectChecks(await verifyFile(archiveFile(craft.gzip(padded))), {})
  })

  it('no end-of-archive marker: container TAR_NO_END_MARKER', async () => {
    const tarBytes = craft.tar([...craftedMembers(base)], {withEnd: false})
    const report = await verifyFile(archiveFile(craft.gzip(tarBytes)))
    expectChecks(report, {container: 'failed:TAR_NO_END_MARKER', ...unreadable})
  })
})
