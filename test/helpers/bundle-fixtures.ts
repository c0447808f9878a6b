/**
 * An independent evidence-bundle builder for tests (spec: docs evidence-bundle.md). It shares no
 * code with src/lib/bundle, src/lib/merkle or src/lib/dsse: the manifest is built by hand, the
 * RFC 9162 root and the DSSE PAE are computed here with node:crypto, the signature comes from
 * `openssl pkeyutl`, and the archive from GNU tar. Hooks at each step produce broken variants.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import * as craft from './tar-craft.js'

export const OPENSSL = 'openssl'
export const TAR = 'tar'

export const MANIFEST = 'manifest.json'
export const ENVELOPE = 'manifest.dsse.json'
export const ROOT = 'root.merkle'
export const RESERVED = [MANIFEST, ENVELOPE, ROOT] as const

export const IN_TOTO = 'application/vnd.in-toto+json'
export const SCHEMA = 'https://stella-ops.org/schemas/evidence-bundle/v1'
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
export const PREDICATE_TYPE = 'https://stella-ops.org/attestations/evidence-bundle/v1'

export const fixtureKeys = fileURLToPath(new URL('../fixtures/keys/', import.meta.url))
/** The checked-in test key and its public half. */
export const TEST_KEY = join(fixtureKeys, 'ed25519.pem')
export const TEST_PUBLIC_KEY = join(fixtureKeys, 'ed25519-pub.pem')

export type Bytes = string | Uint8Array
const bytesOf = (value: Bytes): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value))

export const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest()
export const sha256Hex = (data: Uint8Array | string): string => sha256(data).toString('hex')

/** Orders paths by their UTF-8 bytes (= code point order), not by JavaScript's UTF-16 units. */
export function compareUtf8Bytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

// ---------------------------------------------------------------------------------------
// RFC 9162 Merkle tree hash and DSSE PAE, written out from the specs
// ---------------------------------------------------------------------------------------

export interface LeafFile {
  path: string
  /** 64 hex digits. */
  sha256: string
}

export function leafHash(file: LeafFile): Buffer {
  return sha256(Buffer.concat([Buffer.of(0), Buffer.from(file.path, 'utf8'), Buffer.of(0), Buffer.from(file.sha256, 'hex')]))
}

/** MTH(D[n]) of RFC 9162 §2.1.1 over the leaves in the order given; the empty tree is SHA-256(""). */
export function merkleRoot(files: readonly LeafFile[]): string {
  const mth = (leaves: readonly LeafFile[]): Buffer => {
    if (leaves.length === 0) return sha256(Buffer.alloc(0))
    if (leaves.length === 1) return leafHash(leaves[0]!)
    let k = 1
    while (k * 2 < leaves.length) k *= 2
    return sha256(Buffer.concat([Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k))]))
  }

  return mth(files).toString('hex')
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function paeOf(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8')
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload])
}

// ---------------------------------------------------------------------------------------
// Keys and signatures via OpenSSL
// ---------------------------------------------------------------------------------------

export function openssl(args: readonly string[]): Buffer {
  return execFileSync(OPENSSL, args, {stdio: ['ignore', 'pipe', 'pipe']})
}

/** The DSSE keyid of a private or public key file: SHA-256 of the SPKI DER, as `openssl pkey -pubout -outform DER` gives it. */
export function keyidOfKeyFile(keyFile: string, isPublic = false): string {
  const args = isPublic ? ['pkey', '-pubin', '-in', keyFile, '-pubout', '-outform', 'DER'] : ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']
  return sha256Hex(openssl(args))
}

export interface KeyFiles {
  privateKey: string
  publicKey: string
  keyid: string
}

/** A fresh key pair from `openssl genpkey -algorithm ed25519`, written into `dir` as NAME.pem and NAME-pub.pem. */
export function generateKeyFiles(dir: string, name: string): KeyFiles {
  const privateKey = join(dir, `${name}.pem`)
  const publicKey = join(dir, `${name}-pub.pem`)
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', privateKey])
  openssl(['pkey', '-in', privateKey, '-pubout', '-out', publicKey])
  return {privateKey, publicKey, keyid: keyidOfKeyFile(privateKey)}
}

/** A pure Ed25519 signature by `openssl pkeyutl -sign -rawin` over `message`. */
export function opensslSign(keyFile: string, message: Uint8Array, workDir: string): Buffer {
  const scratch = mkdtempSync(join(workDir, 'sign-'))
  const input = join(scratch, 'message.bin')
  const output = join(scratch, 'sig.bin')
  writeFileSync(input, message)
  openssl(['pkeyutl', '-sign', '-rawin', '-inkey', keyFile, '-in', input, '-out', output])
  return readFileSync(output)
}

/** `openssl pkeyutl -verify -rawin` of `sig` over `message` with a public key file. */
export function opensslVerify(publicKeyFile: string, message: Uint8Array, sig: Uint8Array, workDir: string): boolean {
  const scratch = mkdtempSync(join(workDir, 'verify-'))
  writeFileSync(join(scratch, 'message.bin'), message)
  writeFileSync(join(scratch, 'sig.bin'), sig)
  try {
    openssl(['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', publicKeyFile, '-in', join(scratch, 'message.bin'), '-sigfile', join(scratch, 'sig.bin')])
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------
// The bundle builder
// ---------------------------------------------------------------------------------------

export interface ManifestFileEntry {
  path: string
  size: number
  sha256: string
}

export interface ManifestObject {
  schema: string
  bundleId: string
  kind: string
  tenant: string
  caseId: string
  createdAt: string
  subject: {type: string; id: string}
  window?: {from: string; to: string}
  files: ManifestFileEntry[]
  merkle: {algorithm: string; leaf: string; size: number; root: string}
  [field: string]: unknown
}

export interface StatementObject {
  _type: string
  subject: {name: string; digest: {sha256: string}}[]
  predicateType: string
  predicate: {
    bundleId: string
    kind: string
    tenant: string
    caseId: string
    createdAt: string
    merkleRoot: string
    fileCount: number
    totalBytes: number
    [field: string]: unknown
  }
}

export interface EnvelopeObject {
  payloadType: string
  payload: string
  signatures: {keyid?: string; sig: string}[]
}

export interface SignatureSpec {
  /** Private key file to sign with (default: the builder's key). */
  key?: string
  /** The keyid hint: default the key's real keyid; null leaves the field out; any string is written as is. */
  keyid?: string | null
  /** What is signed: the PAE (correct) or the raw payload bytes (wrong). Default 'pae'. */
  over?: 'pae' | 'payload'
}

export interface BundleSpec {
  /** Content files: bundle path → bytes. */
  files: Record<string, Bytes>
  /** Where the temp directory of this bundle goes. */
  dir: string
  /** The signing key (PEM PKCS#8 file); default test/fixtures/keys/ed25519.pem. */
  key?: string
  metadata?: Partial<Pick<ManifestObject, 'bundleId' | 'kind' | 'tenant' | 'caseId' | 'createdAt' | 'subject' | 'window'>>

  /** Edit the manifest object before it is serialised and signed (return a value to replace it). */
  editManifest?: (manifest: ManifestObject) => ManifestObject | void
  /** Replace the manifest.json bytes before they are signed. */
  manifestBytes?: (bytes: Buffer) => Bytes
  /** Edit the in-toto Statement before it is serialised and signed. */
  editStatement?: (statement: StatementObject, manifest: ManifestObject) => StatementObject | void
  /** Replace the payload bytes before they are signed. */
  payloadBytes?: (bytes: Buffer) => Bytes
  /** The payloadType that is signed and written (default application/vnd.in-toto+json). */
  payloadType?: string
  /** Signatures to make; default one by `key` over the PAE. [] makes an envelope with no signatures. */
  signatures?: readonly SignatureSpec[]
  /** Edit the envelope after signing (e.g. change payloadType without re-signing). */
  editEnvelope?: (envelope: EnvelopeObject) => EnvelopeObject | void
  /** Replace the manifest.dsse.json bytes. */
  envelopeBytes?: (bytes: Buffer) => Bytes
  /** Replace the manifest.json bytes put in the archive after signing (the signature keeps the old digest). */
  manifestAfterSigning?: (bytes: Buffer, manifest: ManifestObject) => Bytes
  /** root.merkle's bytes (default: the root, a newline). */
  rootFile?: Bytes

  /** Archive bytes that differ from what the manifest lists (path → bytes in the archive). */
  archiveContent?: Record<string, Bytes>
  /** Files put in the archive but not in the manifest. */
  extraFiles?: Record<string, Bytes>
  /** Member names to leave out of the archive. */
  omit?: readonly string[]
  /** Final archive member order; given the default order (reserved, content in manifest order, extras). */
  order?: (names: string[]) => string[]
}

export interface BuiltBundle {
  /** The .tgz file GNU tar wrote. */
  path: string
  /** The staging directory holding every member as a file. */
  stagingDir: string
  manifest: ManifestObject
  manifestBytes: Buffer
  /** The bytes that were signed over (possibly before `manifestAfterSigning`). */
  signedManifestBytes: Buffer
  /** The root computed here over the manifest's files (before `editManifest`). */
  root: string
  statement: StatementObject
  payload: Buffer
  envelope: EnvelopeObject
  envelopeBytes: Buffer
  rootFileBytes: Buffer
  /** Archive members in archive order with their exact bytes. */
  members: {name: string; data: Buffer}[]
  /** keyid of the default signing key. */
  keyid: string
}

export const DEFAULT_METADATA = {
  bundleId: 'eb_01JTESTBUNDLE0000000000000',
  kind: 'evaluation',
  tenant: 'acme',
  caseId: 'case-42',
  createdAt: '2026-11-22T10:00:00Z',
  subject: {type: 'evaluation', id: 'eval-9'},
} as const

/** Default content: nested paths, a non-ASCII name, an empty file, a path too long for a ustar name. */
export function sampleFiles(): Record<string, Bytes> {
  return {
    'otlp/traces.pb': Buffer.from(Array.from({length: 3000}, (_, i) => (i * 7) % 256)),
    'logs/app.log': 'line one\nline two\nline three\n',
    'notes/café.txt': 'résumé\n',
    'empty.txt': '',
    [`deep/${'d'.repeat(60)}/${'f'.repeat(70)}.json`]: '{"long": true}\n',
  }
}

const keyidCache = new Map<string, string>()
function cachedKeyid(keyFile: string): string {
  let keyid = keyidCache.get(keyFile)
  if (keyid === undefined) {
    keyid = keyidOfKeyFile(keyFile)
    keyidCache.set(keyFile, keyid)
  }

  return keyid
}

/** Builds a bundle the way the spec describes it, applying the spec's hooks on the way. */
export function buildBundle(spec: BundleSpec): BuiltBundle {
  const key = spec.key ?? TEST_KEY
  const work = mkdtempSync(join(spec.dir, 'bundle-'))
  const staging = join(work, 'members')
  mkdirSync(staging)

  // manifest.json
  const content = Object.entries(spec.files).map(([path, data]) => ({path, data: bytesOf(data)}))
  content.sort((a, b) => compareUtf8Bytes(a.path, b.path))
  const files = content.map(({path, data}) => ({path, size: data.length, sha256: sha256Hex(data)}))
  const root = merkleRoot(files)
  let manifest: ManifestObject = {
    schema: SCHEMA,
    ...DEFAULT_METADATA,
    ...spec.metadata,
    files,
    merkle: {algorithm: 'rfc9162-sha256', leaf: 'path-nul-sha256', size: files.length, root},
  } as ManifestObject
  manifest = spec.editManifest?.(manifest) ?? manifest
  let signedManifestBytes: Buffer = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8')
  if (spec.manifestBytes) signedManifestBytes = bytesOf(spec.manifestBytes(signedManifestBytes))

  // The in-toto Statement and its DSSE envelope.
  let statement: StatementObject = {
    _type: STATEMENT_TYPE,
    subject: [{name: MANIFEST, digest: {sha256: sha256Hex(signedManifestBytes)}}],
    predicateType: PREDICATE_TYPE,
    predicate: {
      bundleId: manifest.bundleId,
      kind: manifest.kind,
      tenant: manifest.tenant,
      caseId: manifest.caseId,
      createdAt: manifest.createdAt,
      merkleRoot: manifest.merkle.root,
      fileCount: manifest.files.length,
      totalBytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
    },
  }
  statement = spec.editStatement?.(statement, manifest) ?? statement
  let payload: Buffer = Buffer.from(JSON.stringify(statement), 'utf8')
  if (spec.payloadBytes) payload = bytesOf(spec.payloadBytes(payload))
  const payloadType = spec.payloadType ?? IN_TOTO
  const pae = paeOf(payloadType, payload)
  const signatures = (spec.signatures ?? [{}]).map((signature) => {
    const signer = signature.key ?? key
    const sig = opensslSign(signer, signature.over === 'payload' ? payload : pae, work)
    const keyid = signature.keyid === undefined ? cachedKeyid(signer) : signature.keyid
    return keyid === null ? {sig: sig.toString('base64')} : {keyid, sig: sig.toString('base64')}
  })
  let envelope: EnvelopeObject = {payloadType, payload: payload.toString('base64'), signatures}
  envelope = spec.editEnvelope?.(envelope) ?? envelope
  let envelopeBytes: Buffer = Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8')
  if (spec.envelopeBytes) envelopeBytes = bytesOf(spec.envelopeBytes(envelopeBytes))

  const manifestBytes = spec.manifestAfterSigning ? bytesOf(spec.manifestAfterSigning(signedManifestBytes, manifest)) : signedManifestBytes
  const rootFileBytes = spec.rootFile === undefined ? Buffer.from(`${root}\n`) : bytesOf(spec.rootFile)

  // Members: reserved first, then content in manifest order, then extras.
  const data = new Map<string, Buffer>([
    [MANIFEST, manifestBytes],
    [ENVELOPE, envelopeBytes],
    [ROOT, rootFileBytes],
  ])
  for (const {path, data: bytes} of content) data.set(path, spec.archiveContent?.[path] === undefined ? bytes : bytesOf(spec.archiveContent[path]!))
  for (const [path, bytes] of Object.entries(spec.extraFiles ?? {})) data.set(path, bytesOf(bytes))
  const omitted = new Set(spec.omit ?? [])
  let names = [...data.keys()].filter((name) => !omitted.has(name))
  names = spec.order ? spec.order(names) : names

  for (const [name, bytes] of data) {
    const target = join(staging, name)
    mkdirSync(dirname(target), {recursive: true})
    writeFileSync(target, bytes)
  }

  const path = join(work, 'bundle.tgz')
  gnuTarCreate(staging, names, path)
  return {
    path,
    stagingDir: staging,
    manifest,
    manifestBytes,
    signedManifestBytes,
    root,
    statement,
    payload,
    envelope,
    envelopeBytes,
    rootFileBytes,
    members: names.map((name) => ({name, data: data.get(name)!})),
    keyid: cachedKeyid(key),
  }
}

/** `tar --format=pax -czf out -C dir NAMES…` with fixed owner and mtime, exactly the names given, in that order. */
export function gnuTarCreate(dir: string, names: readonly string[], out: string): void {
  const list = `${out}.list`
  writeFileSync(list, Buffer.concat(names.map((name) => Buffer.from(`${name}\0`, 'utf8'))))
  execFileSync(
    TAR,
    [
      '--format=pax',
      '--pax-option=delete=atime,delete=ctime',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=@0',
      '-czf',
      out,
      '-C',
      dir,
      '--no-recursion',
      '--null',
      '--verbatim-files-from',
      '-T',
      list,
    ],
    {stdio: ['ignore', 'pipe', 'pipe']},
  )
}

/** The tar-craft pieces of a built bundle's members (plain ustar entries; names must fit 100 bytes). */
export function craftedMembers(bundle: BuiltBundle, names?: readonly string[]): Buffer[] {
  const wanted = names ?? bundle.members.map((member) => member.name)
  return wanted.map((name) => {
    const member = bundle.members.find((m) => m.name === name)
    if (member === undefined) throw new Error(`no member ${name} in the bundle`)
    const bytes = Buffer.from(name, 'utf8')
    // Non-ASCII or long names go in a pax path record, as real writers do.
    if (bytes.length <= 100 && /^[\x20-\x7e]*$/.test(name)) return craft.file(name, member.data)
    return Buffer.concat([craft.pax([['path', name]]), craft.file(bytes.subarray(0, 100).toString('latin1').replace(/[^\x20-\x7e]/g, '_'), member.data)])
  })
}
