/**
 * `stella telemetry replay`: verify a telemetry bundle, then send its OTLP to any OTLP/HTTP
 * endpoint — in batches, optionally moved in time so the latest record lands at now, optionally
 * rate-limited — and report what the endpoint accepted and rejected.
 *
 * The bundle is opened once and read twice through the same descriptor: a verification pass, then
 * a sending pass that checks each OTLP file against the digest the first pass saw, so a bundle
 * swapped or changed in between is refused rather than replayed. Nothing is extracted to disk.
 */
import {createHash} from 'node:crypto'
import {type FileHandle, open} from 'node:fs/promises'

import type {ContentSink} from '../../lib/bundle/verify.js'
import {verifyBundle} from '../../lib/bundle/verify.js'
import {InputError, NegativeResultError, UsageError, isStellaError} from '../../lib/errors.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {type OtlpExporterOptions, OtlpExporter, TokenBucket} from '../../lib/otlp/exporter.js'
import {isOtlpDecodeError} from '../../lib/otlp/errors.js'
import {countRecords, decode, encodeLogs, encodeMetrics, encodeTraces} from '../../lib/otlp/index.js'
import type {Exemplar, LogRecordOtlp, MetricRecord, Signal, SignalRecords, SpanRecord} from '../../lib/otlp/types.js'
import type {Ed25519PublicKey} from '../../lib/keys/index.js'
import {type VerificationSummary, summarise} from '../forensic/remote.js'
import {readTrustedKeys} from '../forensic/bundle-file.js'
import {FrameSplitter, SIGNAL_ORDER, readBundleOtlp, signalOfPath} from './otlp-bundle.js'

export const DEFAULT_BATCH_SIZE = 512

export interface ReplayInput {
  bundle: string
  /** Trusted public keys; required unless `verify` is false. */
  keyPaths: string[]
  /** false with --no-verify: the bundle is sent without being checked. */
  verify: boolean
  threshold?: number
  exporter: OtlpExporterOptions
  /** Spans, log records or metrics per request. */
  batchSize?: number
  /** Move every timestamp by one offset so that the latest lands at now. */
  shiftToNow?: boolean
  /** Records a second, at most. */
  rate?: number
  /** For tests: now, in nanoseconds since the epoch. */
  nowNanos?: () => bigint
  abort?: AbortSignal
  onProgress?: (progress: ReplayProgress) => void
}

export interface ReplayProgress {
  phase: 'verifying' | 'scanning' | 'sending'
  /** Compressed bytes of the bundle read in this phase, and its size. */
  bytes: number
  totalBytes: number
  /** Records sent so far (sending phase). */
  records: number
}

export interface SignalReplay {
  /** Records read from the bundle: spans, log records, metric data points. */
  records: number
  /** Accepted by the endpoint. */
  accepted: number
  /** Rejected by the endpoint (partial success). */
  rejected: number
  requests: number
}

export interface ReplaySummary {
  bundle: string
  endpoint: string
  /** The URL each signal went to. */
  urls: Record<Signal, string>
  /** false when --no-verify skipped verification. */
  verified: boolean
  verification?: VerificationSummary
  bundleId?: string
  kind?: string
  /** Nanoseconds added to every timestamp (--shift-to-now), as a decimal string; null when not shifted. */
  shiftNanos: string | null
  signals: Record<Signal, SignalReplay>
  /** Records accepted and rejected, all signals together. */
  accepted: number
  rejected: number
  /** HTTP requests made, retries included, and how many of them were retries. */
  requests: number
  retries: number
  bytesSent: number
  durationMs: number
  /** What the endpoint said when it rejected records or warned (partial_success.error_message), distinct, the first ten. */
  endpointMessages: string[]
}

const ENCODERS: {[S in Signal]: (records: SignalRecords[S][]) => Uint8Array} = {
  traces: (records) => encodeTraces(records),
  logs: (records) => encodeLogs(records),
  metrics: (records) => encodeMetrics(records),
}

const MAX_MESSAGES = 10

export async function replayBundle(input: ReplayInput): Promise<ReplaySummary> {
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new UsageError('INVALID_BATCH_SIZE', `--batch-size must be a whole number ≥ 1, not ${batchSize}`, {remedy: 'e.g. --batch-size 512.'})
  const trustedKeys = input.verify ? await readTrustedKeys(input.keyPaths) : []
  const bucket = input.rate === undefined ? undefined : new TokenBucket(input.rate)
  const exporter = new OtlpExporter(input.exporter)
  const started = Date.now()
  const {handle, size} = await openBundleFile(input.bundle)
  try {
    const read = () => handle.createReadStream({start: 0, autoClose: false, highWaterMark: 1 << 20})
    const progress = (phase: ReplayProgress['phase'], records = 0) => (bytes: number) => input.onProgress?.({phase, bytes, totalBytes: size, records})

    // Pass 1: verify (and, when shifting, find the latest timestamp on the way).
    const latest = {nanos: 0n}
    let verified: {report: Awaited<ReturnType<typeof verifyBundle>>; digests: Map<string, {size: number; sha256: string}>} | undefined
    if (input.verify) verified = await verify(read(), input, trustedKeys, latest, progress('verifying'))
    else if (input.shiftToNow) {
      for await (const message of readBundleOtlp(read(), {name: input.bundle, onCompressedBytes: progress('scanning')})) {
        latest.nanos = maxBig(latest.nanos, latestTimeOf(message.signal, decodeBundleMessage(message.signal, message.bytes, message.path, message.index)))
      }
    }

    const now = input.nowNanos?.() ?? BigInt(Date.now()) * 1_000_000n
    const shift = input.shiftToNow && latest.nanos > 0n ? now - latest.nanos : input.shiftToNow ? 0n : undefined

    // Pass 2: send.
    const signals = Object.fromEntries(SIGNAL_ORDER.map((signal) => [signal, {records: 0, accepted: 0, rejected: 0, requests: 0}])) as Record<Signal, SignalReplay>
    const endpointMessages = new Set<string>()
    let sentRecords = 0
    const batch: {signal: Signal | undefined; records: SignalRecords[Signal][]} = {signal: undefined, records: []}
    const send = async (signal: Signal, records: SignalRecords[Signal][]) => {
      const count = countRecords(signal, records as SignalRecords[typeof signal][])
      await bucket?.take(count, input.abort)
      const body = (ENCODERS[signal] as (records: unknown[]) => Uint8Array)(records)
      const requestsBefore = exporter.stats.requests
      try {
        const outcome = await exporter.send(signal, body, input.abort)
        const rejected = Math.min(outcome.rejected, count)
        signals[signal].accepted += count - rejected
        signals[signal].rejected += rejected
        if (outcome.errorMessage !== '' && endpointMessages.size < MAX_MESSAGES) endpointMessages.add(outcome.errorMessage)
      } catch (error) {
        if (isStellaError(error) && error.exitCode !== 130) {
          const delivered = SIGNAL_ORDER.reduce((sum, name) => sum + signals[name].accepted, 0)
          error.message += `; ${delivered} ${delivered === 1 ? 'record had' : 'records had'} been accepted before, and the replay stopped here`
        }

        throw error
      } finally {
        signals[signal].requests += exporter.stats.requests - requestsBefore
      }

      sentRecords += count
    }

    const flush = async () => {
      if (batch.signal !== undefined && batch.records.length > 0) await send(batch.signal, batch.records.splice(0))
    }

    const sending = progress('sending')
    let compressed = 0
    for await (const message of readBundleOtlp(read(), {
      name: input.bundle,
      ...(verified ? {expected: verified.digests} : {}),
      onCompressedBytes: (bytes) => {
        compressed = bytes
        sending(bytes)
      },
    })) {
      const {signal} = message
      const records = decodeBundleMessage(signal, message.bytes, message.path, message.index)
      signals[signal].records += countRecords(signal, records as SignalRecords[typeof signal][])
      if (shift !== undefined && shift !== 0n) shiftRecords(signal, records, shift)
      if (batch.signal !== signal) {
        await flush()
        batch.signal = signal
      }

      // Split what is too big, merge what is too small: every request but a signal's last holds batchSize records.
      for (const record of records) {
        batch.records.push(record)
        if (batch.records.length === batchSize) await send(signal, batch.records.splice(0))
      }

      input.onProgress?.({phase: 'sending', bytes: compressed, totalBytes: size, records: sentRecords})
    }

    await flush()
    const accepted = SIGNAL_ORDER.reduce((sum, signal) => sum + signals[signal].accepted, 0)
    const rejected = SIGNAL_ORDER.reduce((sum, signal) => sum + signals[signal].rejected, 0)
    return {
      bundle: input.bundle,
      endpoint: input.exporter.endpoint,
      urls: Object.fromEntries(SIGNAL_ORDER.map((signal) => [signal, exporter.urls[signal].href])) as Record<Signal, string>,
      verified: verified !== undefined,
      ...(verified
        ? {verification: summarise(verified.report), bundleId: verified.report.bundleId ?? '', kind: verified.report.kind ?? ''}
        : {}),
      shiftNanos: shift === undefined ? null : shift.toString(),
      signals,
      accepted,
      rejected,
      requests: exporter.stats.requests,
      retries: exporter.stats.retries,
      bytesSent: exporter.stats.bytesSent,
      durationMs: Date.now() - started,
      endpointMessages: [...endpointMessages],
    }
  } finally {
    await handle.close().catch(() => {})
    await exporter.close().catch(() => {})
  }
}

async function openBundleFile(path: string): Promise<{handle: FileHandle; size: number}> {
  if (path === '-') {
    throw new UsageError('BUNDLE_NOT_A_FILE', 'replay reads the bundle twice (to verify it, then to send it), so it cannot come from standard input', {remedy: 'Save the bundle to a file and give its path.'})
  }

  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    const stat = await handle.stat()
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
    return {handle, size: stat.size}
  } catch (error) {
    await handle?.close().catch(() => {})
    throw new InputError('BUNDLE_UNREADABLE', `cannot read the bundle ${path}: ${fsErrorReason(error)}`, {remedy: 'Check the path.', cause: error})
  }
}

async function verify(
  source: AsyncIterable<Uint8Array>,
  input: ReplayInput,
  trustedKeys: Ed25519PublicKey[],
  latest: {nanos: bigint},
  onBytes: (bytes: number) => void,
) {
  const digests = new Map<string, {size: number; sha256: string}>()
  const report = await verifyBundle(source, {
    trustedKeys,
    ...(input.threshold === undefined ? {} : {threshold: input.threshold}),
    contentSink: otlpSink(digests, input.shiftToNow ? latest : undefined),
    onProgress: (progress) => onBytes(progress.compressedBytes),
  })
  if (!report.ok) {
    const failed = report.checks.filter((check) => check.status !== 'ok').map((check) => `${check.check}: ${check.message}`)
    throw new NegativeResultError('BUNDLE_NOT_VERIFIED', `${input.bundle} failed verification (${failed.join('; ')}); nothing was sent`, {
      remedy: `See \`stella forensic verify ${input.bundle} --key …\` for the full report. Replay only bundles that verify, or pass --no-verify to send this one anyway.`,
    })
  }

  if (report.kind !== 'telemetry') {
    throw new InputError('NOT_TELEMETRY_BUNDLE', `${input.bundle} is a bundle of kind ${report.kind ?? '(none)'}, not telemetry: it holds no OTLP to replay; nothing was sent`, {
      remedy: 'Replay a telemetry bundle (`stella telemetry capture` writes one, and the server\'s forensic export is one).',
    })
  }

  return {report, digests}
}

/** Digests of the otlp/ files as the verifier streams them (what it found ok), and their latest timestamp when asked. */
function otlpSink(digests: Map<string, {size: number; sha256: string}>, latest: {nanos: bigint} | undefined): ContentSink {
  let current: {path: string; signal: Signal; hash: ReturnType<typeof createHash>; size: number; splitter: FrameSplitter; index: number} | undefined
  return {
    begin(path) {
      const signal = signalOfPath(path)
      current = signal === undefined ? undefined : {path, signal, hash: createHash('sha256'), size: 0, splitter: new FrameSplitter(path), index: 0}
    },
    data(chunk) {
      if (!current) return
      const entry = current
      entry.hash.update(chunk)
      entry.size += chunk.byteLength
      if (latest) {
        entry.splitter.push(chunk, (bytes) => {
          try {
            latest.nanos = maxBig(latest.nanos, latestTimeOf(entry.signal, decode(entry.signal, 'proto', bytes) as SignalRecords[Signal][]))
          } catch (error) {
            // The sending pass reports it, naming the message; here it must not stand in for the verdict.
            if (!isOtlpDecodeError(error)) throw error
          }

          entry.index++
        })
      }
    },
    end() {
      if (!current) return
      digests.set(current.path, {size: current.size, sha256: current.hash.digest('hex')})
      current = undefined
    },
    flush: () => Promise.resolve(),
  }
}

function decodeBundleMessage(signal: Signal, bytes: Uint8Array, path: string, index: number): SignalRecords[Signal][] {
  try {
    return decode(signal, 'proto', bytes) as SignalRecords[Signal][]
  } catch (error) {
    if (!isOtlpDecodeError(error)) throw error
    throw new InputError(error.code, `${path}: message ${index + 1} is not a valid ${signal} export request: ${error.message}`, {
      remedy: 'The bundle holds OTLP that does not decode; it cannot be replayed as it is.',
      cause: error,
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Time shift

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

/** The latest timestamp anywhere in the records: span ends and events, log times, metric points and exemplars. */
export function latestTimeOf(signal: Signal, records: readonly SignalRecords[Signal][]): bigint {
  let latest = 0n
  const see = (time: bigint) => {
    if (time > latest) latest = time
  }

  if (signal === 'traces') {
    for (const span of records as SpanRecord[]) {
      see(span.startTimeUnixNano)
      see(span.endTimeUnixNano)
      for (const event of span.events) see(event.timeUnixNano)
    }
  } else if (signal === 'logs') {
    for (const log of records as LogRecordOtlp[]) {
      see(log.timeUnixNano)
      see(log.observedTimeUnixNano)
    }
  } else {
    for (const metric of records as MetricRecord[]) forEachPointTime(metric, see)
  }

  return latest
}

/** Adds `offset` to every set timestamp (0 means unset in OTLP and stays 0). */
export function shiftRecords(signal: Signal, records: readonly SignalRecords[Signal][], offset: bigint): void {
  const moved = (time: bigint) => (time === 0n ? 0n : time + offset)
  if (signal === 'traces') {
    for (const span of records as SpanRecord[]) {
      span.startTimeUnixNano = moved(span.startTimeUnixNano)
      span.endTimeUnixNano = moved(span.endTimeUnixNano)
      for (const event of span.events) event.timeUnixNano = moved(event.timeUnixNano)
    }
  } else if (signal === 'logs') {
    for (const log of records as LogRecordOtlp[]) {
      log.timeUnixNano = moved(log.timeUnixNano)
      log.observedTimeUnixNano = moved(log.observedTimeUnixNano)
    }
  } else {
    for (const metric of records as MetricRecord[]) shiftMetric(metric, moved)
  }
}

type TimedPoint = {startTimeUnixNano: bigint; timeUnixNano: bigint; exemplars?: Exemplar[]}

function pointsOf(metric: MetricRecord): TimedPoint[] {
  return metric.data.type === 'none' ? [] : (metric.data.dataPoints as TimedPoint[])
}

function forEachPointTime(metric: MetricRecord, see: (time: bigint) => void): void {
  for (const point of pointsOf(metric)) {
    see(point.startTimeUnixNano)
    see(point.timeUnixNano)
    for (const exemplar of point.exemplars ?? []) see(exemplar.timeUnixNano)
  }
}

function shiftMetric(metric: MetricRecord, moved: (time: bigint) => bigint): void {
  for (const point of pointsOf(metric)) {
    point.startTimeUnixNano = moved(point.startTimeUnixNano)
    point.timeUnixNano = moved(point.timeUnixNano)
    for (const exemplar of point.exemplars ?? []) exemplar.timeUnixNano = moved(exemplar.timeUnixNano)
  }
}
