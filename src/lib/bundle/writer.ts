/**
 * Builds a spec bundle from files on disk: manifest sorted by UTF-8 path, RFC 9162 root, in-toto
 * Statement signed with DSSE, reserved entries first, then content in manifest order.
 * Deterministic: the same files and metadata give the same bytes (fixed mtimes, uid/gid 0,
 * normalised modes, one gzip member with no name or time in its header).
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import {once} from 'node:events'
import {createGzip} from 'node:zlib'

import {type Ed25519PrivateKey} from '../keys/index.js'
import {IN_TOTO_PAYLOAD_TYPE, signEnvelope} from '../dsse/index.js'
import {InputError, UsageError} from '../errors.js'
import {MerkleTreeBuilder} from '../merkle/index.js'
import {toHex, utf8} from '../encoding.js'
import {
  type BundleKind,
  ENVELOPE_NAME,
  MANIFEST_NAME,
  MANIFEST_SCHEMA,
  MERKLE_ALGORITHM,
  MERKLE_LEAF,
  type Manifest,
  type ManifestFile,
  RESERVED_NAMES,
  ROOT_NAME,
  leafInputOf,
  serializeManifest,
  serializeStatement,
  statementFor,
  totalBytesOf,
} from './manifest.js'
import {ancestorsOf, compareUtf8, describePathProblem, pathProblem} from './paths.js'
import {tarEnd, tarHeader, tarPadding} from './tar.js'

export interface BundleInputFile {
  /** Path inside the bundle. */
  path: string
  /** Where to read it. */
  source: string
}

export interface BundleMetadata {
  kind: BundleKind
  tenant: string
  caseId: string
  /** RFC 3339 UTC time, whole seconds: `2026-11-22T10:00:00Z`. */
  createdAt: string
  subject: {type: string; id: string}
  window?: {from: string; to: string}
  /** Default: derived from the metadata and the content, so rebuilding gives the same id. */
  bundleId?: string
}

export interface WriteProgress {
  phase: 'hashing' | 'writing'
  bytes: number
  totalBytes: number
  files: number
  totalFiles: number
}

export interface WrittenBundle {
  manifest: Manifest
  root: string
  fileCount: number
  totalBytes: number
  /** Size of the tar.gz written. */
  bundleBytes: number
  signerKeyIds: string[]
}

const READ_CHUNK = 1 << 20
const GZIP_LEVEL = 6
const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

/** Checks the bundle paths a writer was given: valid, not reserved, unique, no file used as a directory. */
export function checkInputPaths(files: readonly BundleInputFile[]): void {
  const paths = new Set<string>()
  for (const file of files) {
    const problem = pathProblem(file.path)
    if (problem) throw new UsageError('BAD_BUNDLE_PATH', `the bundle path ${JSON.stringify(file.path)} (from ${file.source}) ${describePathProblem(problem)}`, {remedy: 'Rename the file.'})
    if (RESERVED_NAMES.includes(file.path)) {
      throw new UsageError('RESERVED_BUNDLE_PATH', `${file.source} would be stored as ${file.path}, a name the bundle format reserves`, {remedy: 'Rename the file or put it in a subdirectory.'})
    }

    if (paths.has(file.path)) {
      throw new UsageError('DUPLICATE_BUNDLE_PATH', `two inputs would both be stored as ${file.path}`, {remedy: 'Give each input a distinct name; files from --from directories keep their paths relative to that directory.'})
    }

    paths.add(file.path)
  }

  for (const path of paths) {
    for (const ancestor of ancestorsOf(path)) {
      if (paths.has(ancestor)) throw new UsageError('DUPLICATE_BUNDLE_PATH', `${ancestor} is a file, but ${path} needs it to be a directory`, {remedy: 'Rename one of them.'})
    }
  }
}

export async function writeBundle(
  inputs: readonly BundleInputFile[],
  metadata: BundleMetadata,
  keys: readonly Ed25519PrivateKey[],
  out: NodeJS.WritableStream,
  onProgress?: (progress: WriteProgress) => void,
): Promise<WrittenBundle> {
  if (!CREATED_AT.test(metadata.createdAt) || Number.isNaN(Date.parse(metadata.createdAt))) {
    throw new UsageError('BAD_CREATED_AT', `createdAt ${JSON.stringify(metadata.createdAt)} is not a UTC time in whole seconds`, {remedy: 'Use the form 2026-11-22T10:00:00Z.'})
  }

  if (keys.length === 0) throw new UsageError('NO_SIGNING_KEY', 'a bundle needs at least one signing key', {remedy: 'Pass --key KEY.pem (a key from `stella keys generate`).'})
  checkInputPaths(inputs)

  const sorted = [...inputs].sort((a, b) => compareUtf8(a.path, b.path))
  const files = await hashInputs(sorted, onProgress)
  const manifest = buildManifest(metadata, files)
  const manifestBytes = serializeManifest(manifest)
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, serializeStatement(statementFor(manifest, manifestBytes)), keys)
  const envelopeBytes = utf8(`${JSON.stringify(envelope, null, 2)}\n`)

  const totalBytes = totalBytesOf(files)
  // Room for several chunks ahead, so deflate keeps working while the next file is opened and read.
  // zlib passes stream options through to its Transform; its typings only know its own.
  const buffering = {writableHighWaterMark: 8 * READ_CHUNK}
  const gzip = createGzip({level: GZIP_LEVEL, chunkSize: READ_CHUNK, ...buffering})
  let bundleBytes = 0
  gzip.on('data', (chunk: Buffer) => (bundleBytes += chunk.length))
  gzip.pipe(out, {end: false})
  const mtime = Math.floor(Date.parse(metadata.createdAt) / 1000)
  const write = async (bytes: Uint8Array) => {
    if (!gzip.write(bytes)) await once(gzip, 'drain')
  }

  for (const [name, bytes] of [[MANIFEST_NAME, manifestBytes], [ENVELOPE_NAME, envelopeBytes], [ROOT_NAME, utf8(`${manifest.merkle.root}\n`)]] as const) {
    await write(tarHeader({path: name, size: bytes.length, type: 'file', mtime}))
    await write(bytes)
    await write(tarPadding(bytes.length))
  }

  let written = 0
  for (const [index, file] of files.entries()) {
    await write(tarHeader({path: file.path, size: file.size, type: 'file', mtime}))
    // Hash again while writing: a file that changed since it was hashed must not go out under the old digest.
    const hash = createHash('sha256')
    let size = 0
    // Only the bytes that were hashed: a file that grew since is caught by its digest below, not by a size overrun.
    const content = file.size === 0 ? [] : createReadStream(sorted[index]!.source, {highWaterMark: Math.min(file.size, READ_CHUNK), end: file.size - 1})
    for await (const chunk of content) {
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
      await write(chunk as Buffer)
      written += (chunk as Buffer).length
      onProgress?.({phase: 'writing', bytes: written, totalBytes, files: index, totalFiles: files.length})
    }

    if (size !== file.size || hash.digest('hex') !== file.sha256) throw fileChanged(sorted[index]!.source)
    await write(tarPadding(file.size))
  }

  await write(tarEnd())
  gzip.end()
  await once(gzip, 'end')
  onProgress?.({phase: 'writing', bytes: written, totalBytes, files: files.length, totalFiles: files.length})

  return {
    manifest,
    root: manifest.merkle.root,
    fileCount: files.length,
    totalBytes,
    bundleBytes,
    signerKeyIds: envelope.signatures.map((signature) => signature.keyid ?? ''),
  }
}

async function hashInputs(inputs: readonly BundleInputFile[], onProgress?: (progress: WriteProgress) => void): Promise<ManifestFile[]> {
  const files: ManifestFile[] = []
  let bytes = 0
  for (const [index, input] of inputs.entries()) {
    const hash = createHash('sha256')
    let size = 0
    try {
      // A buffer no larger than the file: 10,000 small files must not each allocate a 1 MiB chunk.
      const expected = (await stat(input.source)).size
      for await (const chunk of createReadStream(input.source, {highWaterMark: Math.max(1, Math.min(expected, READ_CHUNK))})) {
        hash.update(chunk as Buffer)
        size += (chunk as Buffer).length
        bytes += (chunk as Buffer).length
        onProgress?.({phase: 'hashing', bytes, totalBytes: 0, files: index, totalFiles: inputs.length})
      }
    } catch (error) {
      throw new InputError('INPUT_UNREADABLE', `cannot read ${input.source}: ${(error as Error).message}`, {remedy: 'Check the path and its permissions.', cause: error})
    }

    files.push({path: input.path, size, sha256: hash.digest('hex')})
  }

  return files
}

function buildManifest(metadata: BundleMetadata, files: ManifestFile[]): Manifest {
  const builder = new MerkleTreeBuilder()
  for (const file of files) builder.addLeaf(leafInputOf(file.path, Buffer.from(file.sha256, 'hex')))
  const root = toHex(builder.root())
  return {
    schema: MANIFEST_SCHEMA,
    bundleId: metadata.bundleId ?? deriveBundleId(metadata, root),
    kind: metadata.kind,
    tenant: metadata.tenant,
    caseId: metadata.caseId,
    createdAt: metadata.createdAt,
    subject: metadata.subject,
    ...(metadata.window ? {window: metadata.window} : {}),
    files,
    merkle: {algorithm: MERKLE_ALGORITHM, leaf: MERKLE_LEAF, size: files.length, root},
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * `eb_` and a ULID: 48 bits of createdAt in milliseconds, then 80 bits of a SHA-256 over the metadata
 * and the root, so ids sort by time and the same inputs give the same id.
 */
export function deriveBundleId(metadata: BundleMetadata, root: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([metadata.kind, metadata.tenant, metadata.caseId, metadata.createdAt, metadata.subject, metadata.window ?? null, root]))
    .digest()
  let value = BigInt(Date.parse(metadata.createdAt)) << 80n
  value |= BigInt(`0x${digest.subarray(0, 10).toString('hex')}`)
  let text = ''
  for (let i = 0; i < 26; i++) {
    text = CROCKFORD[Number(value & 31n)]! + text
    value >>= 5n
  }

  return `eb_${text}`
}

function fileChanged(source: string): InputError {
  return new InputError('INPUT_CHANGED', `${source} changed while the bundle was being written`, {remedy: 'Bundle a copy that nothing is writing to, or run again when the file is complete.'})
}
