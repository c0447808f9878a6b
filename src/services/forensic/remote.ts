/**
 * The server forms of `stella forensic`: snapshots built by the platform, listed, fetched and held.
 * A downloaded bundle is verified before it is ever visible at the user's path.
 */
import {createReadStream, mkdirSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import type {ApiClient} from '../../lib/api/client.js'
import {sanitizeServerText} from '../../lib/api/errors.js'
import type {BundleDetail, BundleMetadata, HoldResult, ServerVerifyResult, SnapshotKind} from '../../lib/api/types.js'
import {type Manifest, parseManifest, totalBytesOf} from '../../lib/bundle/manifest.js'
import type {CheckResult, VerifyReport} from '../../lib/bundle/report.js'
import {verifyBundle} from '../../lib/bundle/verify.js'
import {onInterrupt} from '../../lib/cleanup.js'
import {InputError, InterruptedError, NegativeResultError, RemoteError, type StellaErrorOptions, UsageError, isStellaError} from '../../lib/errors.js'
import {assertWritableTarget, moveIntoPlace, tempPathBeside} from '../../lib/fs/atomic.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {type Ed25519PublicKey, readPublicKeyFile} from '../../lib/keys/index.js'
import {formatDuration} from '../../lib/units.js'
import type {SnapshotSummary} from './snapshot.js'

const evidencePath = (bundleId: string, rest = '') => `/evidence/${encodeURIComponent(bundleId)}${rest}`

// ---------------------------------------------------------------------------------------------
// Download and verify on read

/** What the verifier said about a downloaded bundle, short enough for the JSON result. */
export interface VerificationSummary {
  ok: boolean
  checks: Pick<CheckResult, 'check' | 'message' | 'reason' | 'status'>[]
  trustedKeyIds: string[]
  verifiedKeyIds: string[]
}

/** The local create's summary, plus where the bundle came from and what verifying it found. */
export interface RemoteSnapshotSummary extends SnapshotSummary {
  source: 'server'
  caseId: string
  kind: string
  download: {resumes: number; restarts: number; sha256: string}
  verification: VerificationSummary
}

export interface DownloadProgress {
  phase: 'downloading' | 'verifying'
  bytes: number
  /** 0 when the server did not say. */
  totalBytes: number
  files: number
}

export interface DownloadInput {
  bundleId: string
  out: string
  force: boolean
  keyPaths: string[]
  onProgress?: (progress: DownloadProgress) => void
}

/**
 * Downloads a bundle into a private directory beside `out`, verifies it there and only then moves
 * it to `out`. A failed verification, an error or Ctrl-C leave nothing at `out` and no temp files.
 */
export async function downloadVerified(client: ApiClient, input: DownloadInput): Promise<RemoteSnapshotSummary> {
  const trustedKeys = await readKeysForDownload(input.keyPaths)
  assertWritableTarget(input.out, {overwrite: input.force})

  const workDir = tempPathBeside(input.out)
  // Ctrl-C: the base command exits right after the cleanups run; removing the directory takes every partial file with it.
  const aborter = new AbortController()
  const forget = onInterrupt(() => {
    aborter.abort(new InterruptedError())
    rmSync(workDir, {recursive: true, force: true})
  })
  try {
    makeWorkDir(workDir, input.out)
    const partial = join(workDir, basename(input.out))
    const downloaded = await client.download(evidencePath(input.bundleId, '/content'), partial, {
      overwrite: true,
      signal: aborter.signal,
      onProgress: (progress) => input.onProgress?.({phase: 'downloading', bytes: progress.bytes, totalBytes: progress.totalBytes ?? 0, files: 0}),
    })
    const report = await verifyBundle(createReadStream(partial, {highWaterMark: 1 << 20}), {
      trustedKeys,
      onProgress: (progress) => input.onProgress?.({phase: 'verifying', bytes: progress.compressedBytes, totalBytes: downloaded.bytes, files: progress.files}),
    })
    checkVerified(input.bundleId, report)
    moveIntoPlace(partial, input.out, {overwrite: input.force})
    return {
      source: 'server',
      out: input.out,
      bundleId: input.bundleId,
      caseId: report.caseId ?? '',
      kind: report.kind ?? '',
      root: report.merkle.computedRoot ?? '',
      fileCount: report.files.found,
      totalBytes: report.files.bytes,
      bundleBytes: downloaded.bytes,
      signerKeyIds: report.signatures.verifiedKeyIds,
      createdAt: report.createdAt ?? '',
      download: {resumes: downloaded.resumes, restarts: downloaded.restarts, sha256: downloaded.sha256},
      verification: summarise(report),
    }
  } catch (error) {
    if (aborter.signal.aborted && !isStellaError(error)) throw new InterruptedError('the download was interrupted', {cause: error})
    throw error
  } finally {
    rmSync(workDir, {recursive: true, force: true})
    forget()
  }
}

function makeWorkDir(workDir: string, out: string): void {
  try {
    mkdirSync(workDir, {mode: 0o700})
  } catch (error) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot write ${out}: ${fsErrorReason(error)}`, {
      remedy: `Check that the directory ${dirname(out)} exists and is writable.`,
      cause: error,
    })
  }
}

async function readKeysForDownload(paths: readonly string[]): Promise<Ed25519PublicKey[]> {
  if (paths.length === 0) {
    throw new UsageError('NO_TRUSTED_KEY', 'a bundle from the server is verified before it is saved, and no trusted public key was given', {
      remedy: "Pass --key with the platform's public key (e.g. --key platform.pub.pem); repeat it for several keys.",
    })
  }

  return Promise.all(paths.map((path) => readPublicKeyFile(path)))
}

/** Throws unless every check passed and the bundle is the one that was asked for. */
function checkVerified(bundleId: string, report: VerifyReport): void {
  const failed = report.checks.filter((check) => check.status !== 'ok')
  if (failed.length > 0) {
    const reasons = failed.map((check) => `${check.check}: ${check.message}`).join('; ')
    throw new NegativeResultError('DOWNLOAD_NOT_VERIFIED', `the bundle ${bundleId} from the server failed verification (${reasons}); it was not saved`, {
      remedy: 'Do not use this copy. Check --key names the platform key; if it does, download again, and report the bundle id if it fails again.',
    })
  }

  // A valid bundle that is not the one requested must not be saved under its name.
  if (report.bundleId !== bundleId) {
    throw new NegativeResultError('DOWNLOAD_WRONG_BUNDLE', `the server sent bundle ${report.bundleId ?? '(no id)'} when asked for ${bundleId}; it was not saved`, {
      remedy: 'Report this to the platform team with the bundle id.',
    })
  }
}

export function summarise(report: VerifyReport): VerificationSummary {
  return {
    ok: report.ok,
    checks: report.checks.map(({check, message, reason, status}) => ({check, status, message, ...(reason === undefined ? {} : {reason})})),
    trustedKeyIds: report.signatures.trustedKeyIds,
    verifiedKeyIds: report.signatures.verifiedKeyIds,
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot create: submit, wait, download

export interface RemoteSnapshotInput {
  caseId: string
  kind: SnapshotKind
  resourceId: string
  /** Default `<bundleId>.tgz`. */
  out?: string
  force: boolean
  keyPaths: string[]
  pollIntervalMs: number
  waitTimeoutMs: number
  onStatus?: (status: {bundleId: string; status: string; elapsedMs: number}) => void
  onProgress?: (progress: DownloadProgress) => void
}

export async function createRemoteSnapshot(client: ApiClient, input: RemoteSnapshotInput): Promise<RemoteSnapshotSummary> {
  // Refuse what would fail at the end before asking the server for work.
  await readKeysForDownload(input.keyPaths)
  if (input.out !== undefined) assertWritableTarget(input.out, {overwrite: input.force})

  const submitted = await client.postJson<{bundleId: string; status: string}>('/evidence/snapshot', {kind: input.kind, resourceId: input.resourceId, caseId: input.caseId})
  await waitForSnapshot(client, submitted.bundleId, input)
  return downloadVerified(client, {
    bundleId: submitted.bundleId,
    out: input.out ?? `${submitted.bundleId}.tgz`,
    force: input.force,
    keyPaths: input.keyPaths,
    ...(input.onProgress ? {onProgress: input.onProgress} : {}),
  })
}

const MAX_POLL_DELAY_MS = 5000

/** The server answered, and its answer is that the snapshot failed; the trace id finds the job in its logs. */
export class SnapshotFailedError extends RemoteError {
  readonly traceId: string
  constructor(message: string, traceId: string, options?: StellaErrorOptions) {
    super('SNAPSHOT_FAILED', message, options)
    this.traceId = traceId
  }
}

/** Polls until the server says ready (returns) or failed (throws), backing off from the poll interval up to 5 s. */
export async function waitForSnapshot(
  client: ApiClient,
  bundleId: string,
  options: Pick<RemoteSnapshotInput, 'onStatus' | 'pollIntervalMs' | 'waitTimeoutMs'>,
): Promise<BundleDetail> {
  const started = Date.now()
  const deadline = started + options.waitTimeoutMs
  let delay = options.pollIntervalMs
  for (;;) {
    const detail = await client.getJson<BundleDetail>(evidencePath(bundleId))
    options.onStatus?.({bundleId, status: detail.status, elapsedMs: Date.now() - started})
    if (detail.status === 'ready') return detail
    if (detail.status === 'failed') {
      throw new SnapshotFailedError(`the server could not build snapshot ${bundleId}: ${detail.error ? sanitizeServerText(detail.error) : 'it gave no reason'}`, client.traceId, {
        remedy: `Check the case, kind and resource id; the server keeps the failed snapshot, see \`stella forensic snapshot get ${bundleId}\`.`,
      })
    }

    const left = deadline - Date.now()
    if (left <= 0) {
      throw new RemoteError('SNAPSHOT_TIMEOUT', `snapshot ${bundleId} was still ${detail.status} after ${formatDuration(options.waitTimeoutMs)}`, {
        remedy: `It may still finish: fetch it later with \`stella forensic snapshot download ${bundleId} --key …\`, or wait longer with --wait-timeout.`,
      })
    }

    await sleep(Math.min(delay, left))
    delay = Math.min(Math.max(options.pollIntervalMs, MAX_POLL_DELAY_MS), Math.ceil(delay * 1.5))
  }
}

// ---------------------------------------------------------------------------------------------
// List, get, hold, verify

export interface ListSnapshotsInput {
  caseId?: string
  kind?: string
  limit?: number
  all: boolean
  cursor?: string
}

export interface SnapshotList {
  items: BundleMetadata[]
  /** Where the next page starts; null when the list is complete. */
  nextCursor: string | null
}

export async function listSnapshots(client: ApiClient, input: ListSnapshotsInput): Promise<SnapshotList> {
  const query: Record<string, string> = {}
  if (input.caseId !== undefined) query.caseId = input.caseId
  if (input.kind !== undefined) query.kind = input.kind
  const pages = client.paginate<BundleMetadata>('/evidence', query, {
    all: input.all,
    ...(input.limit === undefined ? {} : {limit: input.limit}),
    ...(input.cursor === undefined ? {} : {cursor: input.cursor}),
  })
  const items: BundleMetadata[] = []
  for await (const item of pages) items.push(item)
  return {items, nextCursor: pages.hasMore ? (pages.nextCursor ?? null) : null}
}

/** What the server records about a bundle, with its manifest; like `snapshot show`, nothing is verified. */
export interface RemoteSnapshotShow {
  source: 'server'
  bundle: string
  verified: false
  status: BundleDetail['status']
  caseId: string
  kind: string
  createdAt: string
  rootHash: string
  signerKeyId: string
  error?: string
  /** null while the server is still building the bundle. */
  manifest: Manifest | null
  totalBytes: number
  signatures: {keyid?: string}[]
  payloadType?: string
}

export async function getRemoteSnapshot(client: ApiClient, bundleId: string): Promise<RemoteSnapshotShow> {
  const detail = await client.getJson<BundleDetail>(evidencePath(bundleId))
  const manifest = detail.manifest === null || detail.manifest === undefined ? null : parseServerManifest(bundleId, detail.manifest)
  const envelope = detail.envelope ?? undefined
  return {
    source: 'server',
    bundle: detail.bundleId,
    verified: false,
    status: detail.status,
    caseId: detail.caseId,
    kind: detail.kind,
    createdAt: detail.createdAt,
    rootHash: detail.rootHash,
    signerKeyId: detail.signerKeyId,
    ...(detail.error ? {error: detail.error} : {}),
    manifest,
    totalBytes: manifest ? totalBytesOf(manifest.files) : 0,
    signatures: envelope?.signatures?.map((signature) => (signature.keyid ? {keyid: signature.keyid} : {})) ?? [],
    ...(envelope?.payloadType ? {payloadType: envelope.payloadType} : {}),
  }
}

/** The same checks a local manifest gets, so both forms of `snapshot get` return the same shape. */
function parseServerManifest(bundleId: string, manifest: unknown): Manifest {
  try {
    return parseManifest(Buffer.from(JSON.stringify(manifest), 'utf8'))
  } catch (error) {
    throw new RemoteError('SERVER_MANIFEST_INVALID', `the server's manifest of ${bundleId} is not a v1 manifest: ${(error as Error).message}`, {
      remedy: 'Download the bundle and run `stella forensic verify` on it for a full report.',
      cause: error,
    })
  }
}

export async function setHold(client: ApiClient, caseId: string, input: {hold: boolean; reason: string}): Promise<HoldResult> {
  if (input.reason.trim() === '') {
    throw new UsageError('REASON_REQUIRED', 'the reason is empty', {remedy: 'Say why with --reason, e.g. --reason "litigation hold, ticket LEGAL-7".'})
  }

  // Setting a hold sets a state: repeating the request changes nothing, so it may be retried.
  return client.postJson<HoldResult>(`/evidence/hold/${encodeURIComponent(caseId)}`, {hold: input.hold, reason: input.reason}, {idempotent: true})
}

export async function serverVerify(client: ApiClient, bundleId: string): Promise<ServerVerifyResult> {
  // Asking for an opinion changes nothing on the server, so it may be retried.
  const result = await client.postJson<ServerVerifyResult>('/evidence/verify', {bundleId}, {idempotent: true})
  // Its words end up on the terminal: no escape sequences, bounded length.
  return {...result, checks: (result.checks ?? []).map((check) => ({name: sanitizeServerText(String(check.name), 40), ok: check.ok === true, detail: sanitizeServerText(String(check.detail ?? ''))}))}
}

/** Whether the local report and the server's opinion give the same verdict; throws VERDICT_DISAGREEMENT when not. */
export function compareVerdicts(local: VerifyReport, server: ServerVerifyResult): void {
  if (local.ok === server.verified) return
  const word = (ok: boolean) => (ok ? 'verified' : 'NOT verified')
  const failedHere = local.checks.filter((check) => check.status !== 'ok').map((check) => `${check.check}: ${check.message}`)
  const failedThere = server.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`)
  const why = local.ok ? `the server's failed checks: ${failedThere.join('; ') || 'none named'}` : `the local failed checks: ${failedHere.join('; ')}`
  throw new NegativeResultError(
    'VERDICT_DISAGREEMENT',
    `the verdicts disagree: locally the bundle is ${word(local.ok)}, the server says ${word(server.verified)} for ${server.bundleId} (${why})`,
    {
      remedy: local.ok
        ? 'Your copy checks out against your key but the server rejects its own: ask the platform team why, quoting the bundle id.'
        : 'Your copy differs from what the server holds: download the bundle again and verify that copy.',
    },
  )
}
