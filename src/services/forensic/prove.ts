/**
 * `stella forensic prove` and `verify-proof`: one file's RFC 9162 inclusion proof, so the file can
 * be shown to a third party without the rest of the bundle.
 */
import {createHash} from 'node:crypto'
import {createReadStream, readFileSync} from 'node:fs'

import {gunzipSingleMember} from '../../lib/bundle/gzip.js'
import {MANIFEST_NAME, type Manifest, leafInputOf, parseManifest} from '../../lib/bundle/manifest.js'
import {TarParser} from '../../lib/bundle/tar.js'
import {toHex} from '../../lib/encoding.js'
import {InputError, NegativeResultError, UsageError} from '../../lib/errors.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {hashLeaf, inclusionProof, merkleRoot, rootFromInclusionProof} from '../../lib/merkle/index.js'
import {bundleUnreadable, openBundle} from './bundle-file.js'
import {verifyBundleFile} from './verify.js'

export interface InclusionProofJson {
  bundleId: string
  root: string
  treeSize: number
  leafIndex: number
  path: string
  sha256: string
  auditPath: string[]
}

/** Reads the bundle once: its manifest, and the digest of the one file to prove. */
export async function proveFile(bundle: string, path: string): Promise<InclusionProofJson> {
  const source = openBundle(bundle)
  const manifestParts: Uint8Array[] = []
  let target: 'manifest' | 'file' | undefined
  const fileHash = createHash('sha256')
  let fileFound = false
  const parser = new TarParser({
    entry: (entry) => {
      target = entry.type !== 'file' ? undefined : entry.path === MANIFEST_NAME ? 'manifest' : entry.path === path ? 'file' : undefined
      if (target === 'file') fileFound = true
    },
    data: (chunk) => {
      if (target === 'manifest') manifestParts.push(Uint8Array.prototype.slice.call(chunk))
      else if (target === 'file') fileHash.update(chunk)
    },
    entryEnd: () => (target = undefined),
  })
  try {
    for await (const chunk of gunzipSingleMember(source.stream)) parser.write(chunk)
    parser.end()
  } catch (error) {
    throw bundleUnreadable(bundle, error)
  }

  if (manifestParts.length === 0) throw new InputError('MANIFEST_MISSING', `${bundle} has no manifest.json`, {remedy: 'This is not an evidence bundle.'})
  const manifest = parseManifest(Buffer.concat(manifestParts))
  const index = manifest.files.findIndex((file) => file.path === path)
  if (index === -1) throw notInBundle(bundle, path, manifest)
  const entry = manifest.files[index]!
  if (!fileFound) throw new NegativeResultError('FILE_MISSING', `${path} is listed in the manifest but missing from the archive`, {remedy: 'The bundle is damaged; run `stella forensic verify` on it.'})
  const actual = fileHash.digest('hex')
  if (actual !== entry.sha256) {
    throw new NegativeResultError('FILE_ALTERED', `${path} in the archive has SHA-256 ${actual}, but the manifest lists ${entry.sha256}`, {remedy: 'The bundle is damaged or was altered; run `stella forensic verify` on it.'})
  }

  const leafHashes = manifest.files.map((file) => hashLeaf(leafInputOf(file.path, Buffer.from(file.sha256, 'hex'))))
  if (toHex(merkleRoot(leafHashes)) !== manifest.merkle.root) {
    throw new NegativeResultError('ROOT_MISMATCH', "the manifest's files do not give the manifest's Merkle root", {remedy: 'The bundle is damaged or was altered; run `stella forensic verify` on it.'})
  }

  return {
    bundleId: manifest.bundleId,
    root: manifest.merkle.root,
    treeSize: manifest.files.length,
    leafIndex: index,
    path,
    sha256: entry.sha256,
    auditPath: inclusionProof(leafHashes, index).map((hash) => toHex(hash)),
  }
}

function notInBundle(bundle: string, path: string, manifest: Manifest): UsageError {
  const near = manifest.files.filter((file) => file.path.endsWith(path.split('/').at(-1) ?? path)).slice(0, 3).map((file) => file.path)
  return new UsageError('PATH_NOT_IN_BUNDLE', `${bundle} has no file ${path}`, {
    remedy: near.length > 0 ? `Did you mean ${near.join(' or ')}? \`stella forensic snapshot show\` lists every path.` : '`stella forensic snapshot show` lists every path in the bundle.',
  })
}

export function parseProof(text: string, source: string): InclusionProofJson {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(text) as Record<string, unknown>
  } catch (error) {
    throw badProof(source, `it is not JSON (${(error as Error).message})`)
  }

  const hex64 = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
  if (typeof value !== 'object' || value === null) throw badProof(source, 'it is not a JSON object')
  if (typeof value.bundleId !== 'string') throw badProof(source, '"bundleId" must be a string')
  if (!hex64(value.root)) throw badProof(source, '"root" must be 64 lowercase hex digits')
  if (!count(value.treeSize) || !count(value.leafIndex)) throw badProof(source, '"treeSize" and "leafIndex" must be whole numbers')
  if (typeof value.path !== 'string') throw badProof(source, '"path" must be a string')
  if (!hex64(value.sha256)) throw badProof(source, '"sha256" must be 64 lowercase hex digits')
  if (!Array.isArray(value.auditPath) || !value.auditPath.every(hex64)) throw badProof(source, '"auditPath" must be a list of 64-hex-digit hashes')
  return value as unknown as InclusionProofJson
}

function badProof(source: string, why: string): InputError {
  return new InputError('PROOF_MALFORMED', `${source} is not an inclusion proof: ${why}`, {remedy: 'Use a proof written by `stella forensic prove`.'})
}

export interface ProofCheckInput {
  proofPath: string
  filePath: string
  root?: string
  bundle?: string
  keyPaths: string[]
  threshold: number
}

export interface ProofVerdict {
  ok: boolean
  path: string
  leafIndex: number
  treeSize: number
  fileSha256: string
  /** The root the audit path leads to. */
  computedRoot: string
  /** The root it was checked against, and where that came from. */
  trustedRoot: string
  rootSource: 'flag' | 'verified-bundle' | 'proof'
  reason?: 'FILE_DIGEST' | 'ROOT_MISMATCH' | 'PROOF_SHAPE'
  message: string
}

export async function checkProof(input: ProofCheckInput): Promise<ProofVerdict> {
  let proof: InclusionProofJson
  try {
    proof = parseProof(readFileSync(input.proofPath, 'utf8'), input.proofPath)
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError('PROOF_UNREADABLE', `cannot read ${input.proofPath}: ${fsErrorReason(error)}`, {remedy: 'Check the path of the proof file.', cause: error})
  }

  const {root: trustedRoot, source: rootSource} = await trustedRootFor(input, proof)
  const fileSha256 = await sha256OfFile(input.filePath)
  const base = {path: proof.path, leafIndex: proof.leafIndex, treeSize: proof.treeSize, fileSha256, trustedRoot, rootSource}
  if (fileSha256 !== proof.sha256) {
    return {...base, ok: false, computedRoot: '', reason: 'FILE_DIGEST', message: `${input.filePath} has SHA-256 ${fileSha256}, but the proof is for ${proof.sha256}`}
  }

  let computed: Uint8Array
  try {
    computed = rootFromInclusionProof(hashLeaf(leafInputOf(proof.path, Buffer.from(fileSha256, 'hex'))), proof.leafIndex, proof.treeSize, proof.auditPath.map((hash) => Buffer.from(hash, 'hex')))
  } catch (error) {
    return {...base, ok: false, computedRoot: '', reason: 'PROOF_SHAPE', message: `the audit path does not fit: ${(error as Error).message}`}
  }

  const computedRoot = toHex(computed)
  if (computedRoot !== trustedRoot) {
    return {...base, ok: false, computedRoot, reason: 'ROOT_MISMATCH', message: `the audit path leads to ${computedRoot}, not to the trusted root ${trustedRoot}`}
  }

  return {...base, ok: true, computedRoot, message: `${proof.path} (leaf ${proof.leafIndex} of ${proof.treeSize}) is included under root ${trustedRoot}`}
}

async function trustedRootFor(input: ProofCheckInput, proof: InclusionProofJson): Promise<{root: string; source: ProofVerdict['rootSource']}> {
  if (input.root !== undefined && input.bundle !== undefined) throw new UsageError('ROOT_TWICE', '--root and --bundle both name the trusted root', {remedy: 'Give one of them.'})
  if (input.root !== undefined) {
    const root = input.root.toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(root)) throw new UsageError('BAD_ROOT', `--root ${JSON.stringify(input.root)} is not 64 hex digits`, {remedy: 'Give the bundle root as printed by `stella forensic verify`.'})
    return {root, source: 'flag'}
  }

  if (input.bundle !== undefined) {
    const {report} = await verifyBundleFile({bundle: input.bundle, keyPaths: input.keyPaths, threshold: input.threshold})
    if (!report.ok || report.merkle.computedRoot === undefined) {
      const failed = report.checks.find((check) => check.status !== 'ok')
      throw new NegativeResultError('BUNDLE_NOT_VERIFIED', `${input.bundle} does not verify (${failed?.check}: ${failed?.message}), so its root cannot be trusted`, {
        remedy: 'Run `stella forensic verify` on the bundle for the full report.',
      })
    }

    return {root: report.merkle.computedRoot, source: 'verified-bundle'}
  }

  return {root: proof.root, source: 'proof'}
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) hash.update(chunk as Buffer)
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${path}: ${fsErrorReason(error)}`, {remedy: 'Check the --file path.', cause: error})
  }

  return hash.digest('hex')
}
