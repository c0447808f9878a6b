/**
 * `stella telemetry capture`: a signed telemetry evidence bundle (kind telemetry, the window in
 * its manifest, `otlp/{traces,logs,metrics}.pb`) from one of three sources:
 * - the server's forensic export, downloaded and verified before it is saved;
 * - OpenTelemetry Collector file-exporter output (or other bundles), keeping the records whose
 *   time falls in the window;
 * - OTLP/HTTP received while listening.
 * Local captures stream each signal's messages into a temp directory beside --out as they come,
 * so memory stays flat however much is captured, and build the bundle from those files.
 */
import {createReadStream, mkdirSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import type {ApiClient} from '../../lib/api/client.js'
import {type WriteProgress, writeBundle} from '../../lib/bundle/writer.js'
import type {ContentSink} from '../../lib/bundle/verify.js'
import {verifyBundle} from '../../lib/bundle/verify.js'
import {onInterrupt} from '../../lib/cleanup.js'
import {InputError, InterruptedError, NegativeResultError, UsageError, isStellaError} from '../../lib/errors.js'
import {assertNotAnInput, assertWritableTarget, moveIntoPlace, tempPathBeside, writeStreamAtomic} from '../../lib/fs/atomic.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {parseDuration} from '../../lib/units.js'
import {type Ed25519PrivateKey, readPrivateKeyFile} from '../../lib/keys/index.js'
import {type OtlpMessage, expandInputs, readOtlpInputs} from '../../lib/otlp/files.js'
import {isOtlpDecodeError} from '../../lib/otlp/errors.js'
import {countRecords, decode, encodeLogs, encodeMetrics, encodeTraces, recordTimeNano} from '../../lib/otlp/index.js'
import {type ReceiverStats, startOtlpReceiver} from '../../lib/otlp/receiver.js'
import type {LogRecordOtlp, MetricRecord, Signal, SignalRecords, SpanRecord} from '../../lib/otlp/types.js'
import {type VerificationSummary, summarise} from '../forensic/remote.js'
import {readTrustedKeys} from '../forensic/bundle-file.js'
import {inputBundleCheck} from '../forensic/input-bundles.js'
import {showSnapshot} from '../forensic/snapshot.js'
import {FrameSplitter, OtlpSpool, type SignalCounts, emptyCounts, signalOfPath} from './otlp-bundle.js'

export type CaptureSource = 'server' | 'files' | 'listen'

export interface CaptureSummary {
  source: CaptureSource
  out: string
  bundleId: string
  root: string
  caseId: string
  /** The window the bundle's manifest records (RFC 3339). */
  window: {from: string; to: string}
  createdAt: string
  /** What the bundle holds, per signal (records: spans, log records, metric data points). */
  signals: Record<Signal, SignalCounts>
  fileCount: number
  /** Content bytes (the otlp/ files together). */
  totalBytes: number
  /** Size of the .tgz. */
  bundleBytes: number
  signerKeyIds: string[]
  /** files: records read but left out because their time is outside the window (or unset). */
  outsideWindow?: Record<Signal, number>
  /** files: the messages read from the inputs. */
  messagesRead?: number
  /** files: bundles among the inputs whose content was checked but not their signatures (no trusted key given). */
  unsignedInputs?: string[]
  /** listen: where it listened, for how long, why it stopped, and what the receiver turned away. */
  listen?: {url: string; durationMs: number; stoppedBy: 'duration' | 'signal'; receiver: ReceiverStats}
  /** server: how the download went, and what verifying it found. */
  download?: {resumes: number; restarts: number; sha256: string}
  verification?: VerificationSummary
  /** server: OTLP messages in the verified bundle that do not decode (the first ten), so their records are not counted. */
  undecodable?: string[]
}

/** [from, to): records at `from` are in, records at `to` are out. */
export interface CaptureWindow {
  from: Date
  to: Date
}

export type CaptureProgress =
  | {phase: 'reading'; messages: number; kept: number; outside: number; bytes: number}
  | {phase: 'recording'; counts: Record<Signal, SignalCounts>; elapsedMs: number}
  | {phase: 'bundling'; progress: WriteProgress}
  | {phase: 'downloading' | 'verifying'; bytes: number; totalBytes: number}

interface LocalBundleInput {
  keyPaths: string[]
  caseId: string
  tenant: string
  out: string
  force: boolean
  /** Default now, in whole seconds. */
  createdAt?: string
  onProgress?: (progress: CaptureProgress) => void
}

export interface FilesCaptureInput extends LocalBundleInput {
  from: string[]
  window: CaptureWindow
  /** Public keys that telemetry bundles among the inputs must be signed with; without, only their content is checked. */
  verifyKeyPaths?: string[]
}

export interface ListenCaptureInput extends LocalBundleInput {
  host: string
  port: number
  allowNonLoopback: boolean
  maxBodyBytes?: number
  /** Stop after this long; without it, only `stop` ends the recording. */
  durationMs?: number
  /** Aborting it stops the recording; what was received is written into the bundle. */
  stop: AbortSignal
  onListening?: (url: string) => void
}

const ENCODERS: {[S in Signal]: (records: SignalRecords[S][]) => Uint8Array} = {
  traces: (records) => encodeTraces(records as SpanRecord[]),
  logs: (records) => encodeLogs(records as LogRecordOtlp[]),
  metrics: (records) => encodeMetrics(records as MetricRecord[]),
}

// ---------------------------------------------------------------------------------------------
// Windows

const UNIT_MS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
] as const

/** The `{window}` path segment the server takes for a duration: whole days (from 2d), hours or minutes, so 24h stays 24h. */
export function serverWindowName(ms: number): string {
  for (const [unit, size] of UNIT_MS) {
    if (ms >= (unit === 'd' ? 2 * size : size) && ms % size === 0) return `${ms / size}${unit}`
  }

  throw new UsageError('WINDOW_UNSUPPORTED', 'the server takes a --window in whole minutes, hours or days (15m, 24h, 7d)', {
    remedy: 'Round --window to whole minutes, or give --since and --until.',
  })
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** An RFC 3339 time, or a duration ago (`2h`), for --since and --until. */
export function parseWindowTime(text: string, flag: string, now: Date): Date {
  const trimmed = text.trim()
  if (/^\d+(ms|s|m|h|d)/.test(trimmed) && !trimmed.includes('-')) return new Date(now.getTime() - parseDuration(trimmed, flag))
  const ms = Date.parse(trimmed)
  if (!RFC3339.test(trimmed) || Number.isNaN(ms)) {
    throw new UsageError('INVALID_TIME', `invalid ${flag} "${text}": not an RFC 3339 time or a duration`, {
      remedy: 'Give an RFC 3339 time such as 2026-11-22T10:00:00Z, or a duration ago such as 90m or 2h.',
    })
  }

  return new Date(ms)
}

function iso(date: Date): string {
  return date.toISOString()
}

function nanosOf(date: Date): bigint {
  return BigInt(date.getTime()) * 1_000_000n
}

// ---------------------------------------------------------------------------------------------
// Local captures: files and listen

export async function captureFromFiles(input: FilesCaptureInput): Promise<CaptureSummary> {
  if (input.window.to.getTime() <= input.window.from.getTime()) {
    throw new UsageError('WINDOW_EMPTY', `the window ends (${iso(input.window.to)}) before it starts (${iso(input.window.from)})`, {remedy: 'Give an --until later than --since.'})
  }

  const keys = await prepareLocal(input)
  const verifyKeyPaths = input.verifyKeyPaths ?? []
  // Expanded once: checked against --out here, then read.
  const files = await expandInputs(input.from)
  assertNotAnInput(input.out, [...verifyKeyPaths.map((path) => ({path, what: 'a --verify-key'})), ...files.map((path) => ({path, what: 'an input'}))])
  const trustedKeys = verifyKeyPaths.length > 0 ? await readTrustedKeys(verifyKeyPaths) : []
  const unsignedInputs: string[] = []
  const checkBundle = inputBundleCheck({trustedKeys, onUnsigned: (file) => unsignedInputs.push(file)})
  const from = nanosOf(input.window.from)
  const to = nanosOf(input.window.to)
  const outside = {traces: 0, logs: 0, metrics: 0}
  let messagesRead = 0
  let kept = 0
  let bytes = 0
  const summary = await buildLocalBundle(input, keys, 'files', async (spool) => {
    for await (const message of readOtlpInputs(files, {checkBundle})) {
      messagesRead++
      bytes += message.bytes.byteLength
      const {signal} = message
      const inWindow: SignalRecords[typeof signal][] = []
      const notInWindow: SignalRecords[typeof signal][] = []
      for (const record of decodeMessage(message)) {
        const time = recordTimeNano(signal, record)
        ;(time >= from && time < to ? inWindow : notInWindow).push(record)
      }

      const left = notInWindow.length
      if (left > 0) outside[signal] += countRecords(signal, notInWindow)
      if (inWindow.length > 0) {
        const count = countRecords(signal, inWindow)
        kept += count
        // A protobuf message wholly inside the window goes in as it was written.
        const bytesOut = left === 0 && message.format === 'proto' ? message.bytes : (ENCODERS[signal] as (records: unknown[]) => Uint8Array)(inWindow)
        await spool.write(signal, bytesOut, count)
      }

      input.onProgress?.({phase: 'reading', messages: messagesRead, kept, outside: outside.traces + outside.logs + outside.metrics, bytes})
    }

    return {window: input.window}
  })
  return {...summary, outsideWindow: outside, messagesRead, ...(unsignedInputs.length > 0 ? {unsignedInputs} : {})}
}

export async function captureFromListener(input: ListenCaptureInput): Promise<CaptureSummary> {
  const keys = await prepareLocal(input)
  if (input.stop.aborted) throw new InterruptedError('interrupted before the capture started; nothing was written')
  let listen: CaptureSummary['listen']
  const summary = await buildLocalBundle(input, keys, 'listen', async (spool) => {
    const receiver = await startOtlpReceiver({
      host: input.host,
      port: input.port,
      allowNonLoopback: input.allowNonLoopback,
      ...(input.maxBodyBytes === undefined ? {} : {maxBodyBytes: input.maxBodyBytes}),
    })
    const started = new Date()
    let stoppedBy: 'duration' | 'signal' = 'signal'
    const stopped = new AbortController()
    const onStop = () => {
      if (!stopped.signal.aborted) stopped.abort()
    }

    input.stop.addEventListener('abort', onStop, {once: true})
    const timer =
      input.durationMs === undefined
        ? undefined
        : setTimeout(() => {
            stoppedBy = 'duration'
            onStop()
          }, input.durationMs)
    // Closing the receiver ends its message stream once what it accepted has been taken.
    const closing = new Promise<void>((resolve, reject) => stopped.signal.addEventListener('abort', () => receiver.close().then(resolve, reject), {once: true}))
    const ticker = setInterval(() => input.onProgress?.({phase: 'recording', counts: spool.counts, elapsedMs: Date.now() - started.getTime()}), 250)
    try {
      input.onListening?.(receiver.url)
      for await (const message of receiver.messages()) {
        await spool.write(message.signal, message.protobuf, countRecords(message.signal, message.records as SignalRecords[typeof message.signal][]))
      }
    } finally {
      clearTimeout(timer)
      clearInterval(ticker)
      input.stop.removeEventListener('abort', onStop)
      onStop()
      await closing
    }

    const ended = new Date()
    listen = {url: receiver.url, durationMs: ended.getTime() - started.getTime(), stoppedBy, receiver: receiver.stats()}
    return {window: {from: started, to: ended}}
  })
  return {...summary, ...(listen ? {listen} : {})}
}

/** The records of one message read from a file; a message that does not decode names its file and offset. */
function decodeMessage(message: OtlpMessage): SignalRecords[Signal][] {
  try {
    return decode(message.signal, message.format, message.bytes) as SignalRecords[Signal][]
  } catch (error) {
    if (!isOtlpDecodeError(error)) throw error
    throw new InputError(error.code, `${message.source}: the ${message.format === 'json' ? 'OTLP/JSON' : 'protobuf'} message at offset ${message.offset} is not a valid ${message.signal} export request: ${error.message}`, {
      remedy: 'Give files the OpenTelemetry Collector file exporter wrote, whole and unchanged.',
      cause: error,
    })
  }
}

async function prepareLocal(input: LocalBundleInput): Promise<Ed25519PrivateKey[]> {
  if (input.keyPaths.length === 0) {
    throw new UsageError('KEY_REQUIRED', 'a capture is signed, and no --key was given', {remedy: 'Pass --key with an Ed25519 private key, e.g. --key capture.pem (create one with `stella keys generate`).'})
  }

  const keys = await Promise.all(input.keyPaths.map((path) => readPrivateKeyFile(path)))
  assertWritableTarget(input.out, {overwrite: input.force})
  assertNotAnInput(input.out, input.keyPaths.map((path) => ({path, what: 'a --key'})))
  return keys
}

/**
 * Runs `fill` against a spool in a private directory beside --out, then writes the bundle from
 * the spooled files atomically. An error or Ctrl-C leaves neither the directory nor a bundle.
 */
async function buildLocalBundle(
  input: LocalBundleInput,
  keys: Ed25519PrivateKey[],
  source: 'files' | 'listen',
  fill: (spool: OtlpSpool) => Promise<{window: CaptureWindow}>,
): Promise<CaptureSummary> {
  const workDir = tempPathBeside(input.out)
  const forget = onInterrupt(() => rmSync(workDir, {recursive: true, force: true}))
  try {
    makeWorkDir(workDir, input.out)
    const spool = new OtlpSpool(workDir)
    let filled: {window: CaptureWindow}
    try {
      filled = await fill(spool)
    } finally {
      await spool.close().catch(() => {})
    }

    const files = await spool.finish()
    const window = {from: iso(filled.window.from), to: iso(filled.window.to)}
    const createdAt = input.createdAt ?? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z')
    const metadata = {
      kind: 'telemetry' as const,
      tenant: input.tenant,
      caseId: input.caseId,
      createdAt,
      subject: {type: 'telemetry', id: `${source}/${window.from}/${window.to}`},
      window,
    }
    const written = await writeStreamAtomic(input.out, {overwrite: input.force}, (out) =>
      writeBundle(files, metadata, keys, out, (progress) => input.onProgress?.({phase: 'bundling', progress})),
    )
    return {
      source,
      out: input.out,
      bundleId: written.manifest.bundleId,
      root: written.root,
      caseId: input.caseId,
      window,
      createdAt,
      signals: spool.counts,
      fileCount: written.fileCount,
      totalBytes: written.totalBytes,
      bundleBytes: written.bundleBytes,
      signerKeyIds: written.signerKeyIds,
    }
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

// ---------------------------------------------------------------------------------------------
// Server capture

export interface ServerCaptureInput {
  /** A duration (the last N until the server's now), or a fixed window. */
  window: {durationMs: number} | {from: string; to: string}
  /** Recorded as the bundle's case; the server's default otherwise. */
  caseId?: string
  out: string
  force: boolean
  keyPaths: string[]
  onProgress?: (progress: CaptureProgress) => void
}

/**
 * Streams `GET /telemetry/exports/forensic/{window}` into a private directory beside --out
 * (resuming when the server allows it), verifies it against the trusted keys, and only then moves
 * it to --out. A bundle that fails verification, or is not a telemetry bundle, is not saved.
 */
export async function captureFromServer(client: ApiClient, input: ServerCaptureInput): Promise<CaptureSummary> {
  const trustedKeys = await readTrustedKeys(input.keyPaths)
  assertWritableTarget(input.out, {overwrite: input.force})
  const windowName = 'durationMs' in input.window ? serverWindowName(input.window.durationMs) : 'custom'
  const query: Record<string, string> = 'durationMs' in input.window ? {} : {from: input.window.from, to: input.window.to}
  if (input.caseId !== undefined) query.caseId = input.caseId

  const workDir = tempPathBeside(input.out)
  const aborter = new AbortController()
  const forget = onInterrupt(() => {
    aborter.abort(new InterruptedError())
    rmSync(workDir, {recursive: true, force: true})
  })
  try {
    makeWorkDir(workDir, input.out)
    const partial = join(workDir, basename(input.out))
    const downloaded = await client.download(`/telemetry/exports/forensic/${encodeURIComponent(windowName)}`, partial, {
      overwrite: true,
      query,
      signal: aborter.signal,
      onProgress: (progress) => input.onProgress?.({phase: 'downloading', bytes: progress.bytes, totalBytes: progress.totalBytes ?? 0}),
    })
    const counts = emptyCounts()
    const undecodable: string[] = []
    const report = await verifyBundle(createReadStream(partial, {highWaterMark: 1 << 20}), {
      trustedKeys,
      contentSink: countingSink(counts, undecodable),
      onProgress: (progress) => input.onProgress?.({phase: 'verifying', bytes: progress.compressedBytes, totalBytes: downloaded.bytes}),
    })
    const failed = report.checks.filter((check) => check.status !== 'ok')
    if (failed.length > 0) {
      throw new NegativeResultError('EXPORT_NOT_VERIFIED', `the telemetry export from the server failed verification (${failed.map((check) => `${check.check}: ${check.message}`).join('; ')}); it was not saved`, {
        remedy: "Do not use this copy. Check --key names the platform's public key; if it does, capture again, and report the trace id if it fails again.",
      })
    }

    if (report.kind !== 'telemetry') {
      throw new NegativeResultError('EXPORT_NOT_TELEMETRY', `the server sent a bundle of kind ${report.kind ?? '(none)'} for a telemetry export; it was not saved`, {
        remedy: 'Report this to the platform team with the bundle id.',
      })
    }

    const manifest = (await showSnapshot(partial)).manifest
    moveIntoPlace(partial, input.out, {overwrite: input.force})
    return {
      source: 'server',
      out: input.out,
      bundleId: report.bundleId ?? manifest.bundleId,
      root: report.merkle.computedRoot ?? '',
      caseId: report.caseId ?? '',
      window: manifest.window ?? {from: '', to: ''},
      createdAt: report.createdAt ?? '',
      signals: counts,
      fileCount: report.files.found,
      totalBytes: report.files.bytes,
      bundleBytes: downloaded.bytes,
      signerKeyIds: report.signatures.verifiedKeyIds,
      download: {resumes: downloaded.resumes, restarts: downloaded.restarts, sha256: downloaded.sha256},
      verification: summarise(report),
      ...(undecodable.length > 0 ? {undecodable} : {}),
    }
  } catch (error) {
    if (aborter.signal.aborted && !isStellaError(error)) throw new InterruptedError('the capture was interrupted', {cause: error})
    throw error
  } finally {
    rmSync(workDir, {recursive: true, force: true})
    forget()
  }
}

/** Counts messages, records and bytes of the otlp/ files as the verifier streams them by. */
function countingSink(counts: Record<Signal, SignalCounts>, undecodable: string[]): ContentSink {
  let current: {signal: Signal; path: string; splitter: FrameSplitter} | undefined
  return {
    begin(path) {
      const signal = signalOfPath(path)
      current = signal === undefined ? undefined : {signal, path, splitter: new FrameSplitter(path)}
    },
    data(chunk) {
      if (!current) return
      const {signal, path, splitter} = current
      counts[signal].bytes += chunk.byteLength
      splitter.push(chunk, (message) => {
        counts[signal].messages++
        try {
          counts[signal].records += countRecords(signal, decode(signal, 'proto', message) as SignalRecords[typeof signal][])
        } catch (error) {
          // The verdict is the verifier's; content that does not decode is reported beside it.
          if (!isOtlpDecodeError(error)) throw error
          if (undecodable.length < 10) undecodable.push(`${path}: message ${counts[signal].messages}: ${error.message}`)
        }
      })
    },
    end() {
      current?.splitter.end()
      current = undefined
    },
    flush: () => Promise.resolve(),
  }
}

// ---------------------------------------------------------------------------------------------
// --listen [host:]port

/** `4318` (loopback), `0.0.0.0:4318`, `localhost:4318`, `[::1]:4318`; port 0 picks a free one. */
export function parseListenAddress(text: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  if (!match || port > 65_535) {
    throw new UsageError('INVALID_LISTEN', `--listen "${text}" is not [host:]port`, {remedy: 'e.g. --listen 4318, --listen 127.0.0.1:4318, or --listen 0.0.0.0:4318 --allow-non-loopback.'})
  }

  return {host: match[1] ?? match[2] ?? '127.0.0.1', port}
}
