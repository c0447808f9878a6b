/**
 * `stella obs top` with no server: the same figures computed here from server spans, either
 * received live (`--listen`, an OTLP/HTTP receiver; a span counts at the time it arrived) or
 * replayed from files (`--from`; a span counts at the time it ended, on a virtual clock that runs
 * at the recorded speed, N times it, or as fast as the files can be read).
 *
 * Memory is bounded by the receiver's queue and the aggregator's cap on series, never by how much
 * arrives or how long it runs.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {readOtlpInputs} from '../../lib/otlp/files.js'
import {decode} from '../../lib/otlp/index.js'
import {type OtlpReceiver, type ReceiverStats, startOtlpReceiver} from '../../lib/otlp/receiver.js'
import type {SpanRecord} from '../../lib/otlp/types.js'
import {RedAggregator, type RedOptions, type RedSnapshot, type SeriesSnapshot} from '../../lib/stats/red.js'
import {sampleOfSpan} from '../../lib/stats/spans.js'
import {formatDuration} from '../../lib/units.js'
import {checkBundleContent} from '../forensic/input-bundles.js'
import {decodeMessage, localFiles} from './otlp-logs.js'
import type {RouteRow, ServiceRow, TopSnapshot, TopSource, TopSourceInfo} from './top-model.js'

export interface LocalTopOptions {
  /** Window, caps and accuracy of the aggregation (RedAggregator's defaults otherwise). */
  red?: RedOptions
  now?: () => number
}

export interface ListenTopOptions extends LocalTopOptions {
  host: string
  port: number
  allowNonLoopback?: boolean
  maxBodyBytes?: number
}

export interface ReplayTopOptions extends LocalTopOptions {
  /** 1 is the recorded speed, 10 ten times faster; 0 as fast as the files can be read. */
  speed: number
}

/** The figures of a RedAggregator as one screen. */
export function snapshotOfRed(red: RedSnapshot, source: TopSourceInfo): TopSnapshot {
  const services: ServiceRow[] = red.services.map((service) => ({
    name: service.service,
    ...figures(service),
    routes: (red.routes[service.service] ?? []).map((route): RouteRow => ({service: route.service, route: route.route ?? '', ...figures(route)})),
  }))
  return {
    source,
    window: formatDuration(red.windowMs),
    updatedAt: red.atMs,
    totals: {rate: red.totals.rate, errorRate: red.totals.errorRate, services: services.length, count: red.totals.count, errors: red.totals.errors, total: red.totals.total},
    services,
    folded: {...red.folded},
  }
}

function figures(series: SeriesSnapshot): Omit<RouteRow, 'service' | 'route'> {
  return {
    rate: series.rate,
    errorRate: series.errorRate,
    ...(series.p50 === undefined ? {} : {p50: series.p50, p95: series.p95!, p99: series.p99!}),
    sparkline: series.sparkline,
    count: series.count,
    errors: series.errors,
    total: series.total,
  }
}

/** Counts the server spans of a batch at one time. */
function addSpans(red: RedAggregator, spans: readonly SpanRecord[], atMs: number): void {
  for (const span of spans) {
    const sample = sampleOfSpan(span)
    if (sample !== undefined) red.add(sample, atMs)
  }
}

/** `--listen`: an OTLP/HTTP receiver whose every message is consumed as it arrives. */
export class ListenTopSource implements TopSource {
  readonly url: string
  readonly #receiver: OtlpReceiver
  readonly #red: RedAggregator
  readonly #now: () => number
  readonly #consuming: Promise<void>

  private constructor(receiver: OtlpReceiver, options: LocalTopOptions) {
    this.#receiver = receiver
    this.url = receiver.url
    this.#red = new RedAggregator(options.red)
    this.#now = options.now ?? Date.now
    this.#consuming = this.#consume()
  }

  /** Listens (throws UsageError RECEIVER_NOT_LOOPBACK, RECEIVER_LISTEN_FAILED as the receiver does). */
  static async start(options: ListenTopOptions): Promise<ListenTopSource> {
    const receiver = await startOtlpReceiver({
      host: options.host,
      port: options.port,
      ...(options.allowNonLoopback ? {allowNonLoopback: true} : {}),
      ...(options.maxBodyBytes === undefined ? {} : {maxBodyBytes: options.maxBodyBytes}),
    })
    return new ListenTopSource(receiver, options)
  }

  async snapshot(): Promise<TopSnapshot> {
    return snapshotOfRed(this.#red.snapshot(this.#now()), {kind: 'listen', url: this.url})
  }

  /** What the receiver accepted, throttled and refused so far. */
  stats(): ReceiverStats {
    return this.#receiver.stats()
  }

  async close(): Promise<void> {
    await this.#receiver.close()
    await this.#consuming
  }

  async #consume(): Promise<void> {
    // Logs and metrics are accepted (senders export all signals to one endpoint) and let go.
    for await (const message of this.#receiver.messages()) {
      if (message.signal === 'traces') addSpans(this.#red, message.records as SpanRecord[], message.receivedAt)
    }
  }
}

/** Below this, a span ahead of the virtual clock is counted at once rather than waited for: timers are not finer. */
const MIN_WAIT_MS = 10

/** `--from`: spans replayed from files on a virtual clock. */
export class ReplayTopSource implements TopSource {
  /** Resolves when the files are read to their end; rejects with an unreadable or malformed input. */
  readonly ended: Promise<void>
  readonly #red: RedAggregator
  readonly #now: () => number
  readonly #speed: number
  readonly #info: TopSourceInfo
  readonly #stop = new AbortController()
  /** The end time of the first span, and the real time it was read: the virtual clock starts there. */
  #firstMs: number | undefined
  #startedAt = 0
  /** The latest span end counted. */
  #lastMs = Number.NEGATIVE_INFINITY
  #finished = false
  #failure: unknown

  private constructor(files: readonly string[], options: ReplayTopOptions) {
    this.#red = new RedAggregator(options.red)
    this.#now = options.now ?? Date.now
    this.#speed = options.speed
    this.#info = {kind: 'files', files: files.length, speed: options.speed}
    this.ended = this.#replay(files)
    // The failure is also thrown by snapshot(); nobody need wait on `ended` for it to be seen.
    this.ended.catch((error: unknown) => {
      this.#failure = error
    })
  }

  /** Starts the replay; throws InputError FILE_UNREADABLE for an input that does not exist. */
  static async open(inputs: readonly string[], options: ReplayTopOptions): Promise<ReplayTopSource> {
    if (!Number.isFinite(options.speed) || options.speed < 0) throw new RangeError(`speed must be 0 or more, got ${options.speed}`)
    return new ReplayTopSource(await localFiles(inputs, '--from'), options)
  }

  async snapshot(): Promise<TopSnapshot> {
    if (this.#failure !== undefined) throw this.#failure
    const snapshot = snapshotOfRed(this.#red.snapshot(this.#virtualNow()), this.#info)
    return this.#finished ? {...snapshot, finished: true} : snapshot
  }

  async close(): Promise<void> {
    this.#stop.abort()
    await this.ended.catch(() => {})
  }

  /** Recorded time: the first span's end plus the real time since, times the speed; frozen at the last span once the files end. */
  #virtualNow(): number {
    if (this.#firstMs === undefined) return this.#now()
    if (this.#finished || this.#speed === 0) return this.#lastMs
    return this.#firstMs + (this.#now() - this.#startedAt) * this.#speed
  }

  async #replay(files: readonly string[]): Promise<void> {
    const signal = this.#stop.signal
    for await (const message of readOtlpInputs(files, {signals: ['traces'], checkBundle: checkBundleContent})) {
      if (signal.aborted) return
      const spans = decodeMessage(message, () => decode('traces', message.format, message.bytes))
      for (const span of spans) {
        const sample = sampleOfSpan(span)
        if (sample === undefined) continue
        const at = endMs(span)
        if (this.#firstMs === undefined) {
          this.#firstMs = at
          this.#startedAt = this.#now()
        }

        if (this.#speed > 0) {
          const wait = (at - this.#virtualNow()) / this.#speed
          if (wait >= MIN_WAIT_MS) {
            try {
              await sleep(wait, undefined, {signal})
            } catch {
              return
            }
          }
        }

        this.#red.add(sample, at)
        if (at > this.#lastMs) this.#lastMs = at
      }
    }

    this.#finished = true
  }
}

/** A span counts when it ended (when it started, if it has no end). */
function endMs(span: SpanRecord): number {
  const ns = span.endTimeUnixNano > 0n ? span.endTimeUnixNano : span.startTimeUnixNano
  return Number(ns / 1_000_000n)
}
