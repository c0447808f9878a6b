/** `stella forensic snapshot create|show` on local files. */
import {lstat, readdir} from 'node:fs/promises'
import {basename, join, relative, sep} from 'node:path'

import {type BundleKind, ENVELOPE_NAME, MANIFEST_NAME, type Manifest, ROOT_NAME, parseManifest, totalBytesOf} from '../../lib/bundle/manifest.js'
import {gunzipSingleMember} from '../../lib/bundle/gzip.js'
import {TarParser} from '../../lib/bundle/tar.js'
import {type BundleInputFile, type WriteProgress, writeBundle} from '../../lib/bundle/writer.js'
import {type Envelope, parseEnvelope} from '../../lib/dsse/index.js'
import {InputError, UsageError} from '../../lib/errors.js'
import {writeStreamAtomic} from '../../lib/fs/atomic.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {readPrivateKeyFile} from '../../lib/keys/index.js'
import {bundleUnreadable, openBundle} from './bundle-file.js'

export interface CreateSnapshotInput {
  from: string[]
  keyPaths: string[]
  caseId: string
  kind: BundleKind
  tenant: string
  subjectId?: string
  createdAt?: string
  window?: {from: string; to: string}
  out: string
  force: boolean
  onProgress?: (progress: WriteProgress) => void
}

export interface SnapshotSummary {
  out: string
  bundleId: string
  root: string
  fileCount: number
  totalBytes: number
  bundleBytes: number
  signerKeyIds: string[]
  createdAt: string
}

export async function createSnapshot(input: CreateSnapshotInput): Promise<SnapshotSummary> {
  const keys = await Promise.all(input.keyPaths.map((path) => readPrivateKeyFile(path)))
  const files = await collectInputs(input.from)
  const createdAt = input.createdAt ?? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  const metadata = {
    kind: input.kind,
    tenant: input.tenant,
    caseId: input.caseId,
    createdAt,
    subject: {type: input.kind, id: input.subjectId ?? input.caseId},
    ...(input.window ? {window: input.window} : {}),
  }
  const written = await writeStreamAtomic(input.out, {overwrite: input.force}, (out) => writeBundle(files, metadata, keys, out, input.onProgress))
  return {
    out: input.out,
    bundleId: written.manifest.bundleId,
    root: written.root,
    fileCount: written.fileCount,
    totalBytes: written.totalBytes,
    bundleBytes: written.bundleBytes,
    signerKeyIds: written.signerKeyIds,
    createdAt,
  }
}

/** Files from --from paths: a file under its own name, a directory's files under their paths relative to it. */
export async function collectInputs(paths: readonly string[]): Promise<BundleInputFile[]> {
  const files: BundleInputFile[] = []
  for (const path of paths) {
    const stat = await lstatOrFail(path)
    if (stat.isFile()) files.push({path: basename(path), source: path})
    else if (stat.isDirectory()) await walk(path, path, files)
    else throw notARegularFile(path, stat.isSymbolicLink())
  }

  if (files.length === 0) throw new UsageError('NOTHING_TO_BUNDLE', `${paths.join(', ')} holds no files`, {remedy: 'Point --from at the files or directories to bundle.'})
  return files
}

async function walk(root: string, directory: string, files: BundleInputFile[]): Promise<void> {
  const entries = await readdir(directory, {withFileTypes: true})
  for (const entry of entries) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) await walk(root, path, files)
    else if (entry.isFile()) files.push({path: relative(root, path).split(sep).join('/'), source: path})
    else throw notARegularFile(path, entry.isSymbolicLink())
  }
}

async function lstatOrFail(path: string) {
  try {
    return await lstat(path)
  } catch (error) {
    throw new InputError('INPUT_UNREADABLE', `cannot read ${path}: ${fsErrorReason(error)}`, {remedy: 'Check the --from path.', cause: error})
  }
}

function notARegularFile(path: string, symlink: boolean): UsageError {
  return symlink
    ? new UsageError('INPUT_SYMLINK', `${path} is a symbolic link; bundles hold regular files only`, {remedy: 'Copy the file it points to into place, or pass that file with --from.'})
    : new UsageError('INPUT_NOT_FILE', `${path} is not a regular file or directory`, {remedy: 'Bundle regular files only.'})
}

export interface SnapshotShow {
  bundle: string
  verified: false
  manifest: Manifest
  totalBytes: number
  rootFile?: string
  signatures: {keyid?: string}[]
  payloadType?: string
}

/** Reads the manifest (and what else is cheap) without verifying anything. */
export async function showSnapshot(path: string): Promise<SnapshotShow> {
  const source = openBundle(path)
  const wanted = new Map<string, Uint8Array[]>([[MANIFEST_NAME, []], [ENVELOPE_NAME, []], [ROOT_NAME, []]])
  const found = new Set<string>()
  let current: Uint8Array[] | undefined
  const parser = new TarParser({
    entry: (entry) => {
      current = entry.type === 'file' && wanted.has(entry.path) && !found.has(entry.path) ? wanted.get(entry.path) : undefined
      if (current) found.add(entry.path)
    },
    data: (chunk) => current?.push(Uint8Array.prototype.slice.call(chunk)),
    entryEnd: () => (current = undefined),
  })
  try {
    for await (const chunk of gunzipSingleMember(source.stream)) {
      parser.write(chunk)
      // Writers put the reserved files first, so this usually stops after the first chunk.
      if (found.size === wanted.size && current === undefined) break
    }
  } catch (error) {
    // Past the manifest, damage is for `verify` to report; show prints what it could read.
    if (!found.has(MANIFEST_NAME)) throw bundleUnreadable(path, error)
  }

  if (!found.has(MANIFEST_NAME)) throw new InputError('MANIFEST_MISSING', `${path} has no manifest.json`, {remedy: 'This is not an evidence bundle; `stella forensic verify` says what is wrong with it.'})
  const manifest = parseManifest(Buffer.concat(wanted.get(MANIFEST_NAME)!))
  let envelope: Envelope | undefined
  try {
    envelope = found.has(ENVELOPE_NAME) ? parseEnvelope(Buffer.concat(wanted.get(ENVELOPE_NAME)!), ENVELOPE_NAME) : undefined
  } catch {
    envelope = undefined
  }

  const rootText = Buffer.concat(wanted.get(ROOT_NAME)!).toString('latin1').trim()
  return {
    bundle: source.name,
    verified: false,
    manifest,
    totalBytes: totalBytesOf(manifest.files),
    ...(found.has(ROOT_NAME) ? {rootFile: rootText} : {}),
    signatures: envelope?.signatures.map((signature) => (signature.keyid ? {keyid: signature.keyid} : {})) ?? [],
    ...(envelope ? {payloadType: envelope.payloadType} : {}),
  }
}
