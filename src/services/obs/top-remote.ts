/**
 * `stella obs top` from the server: /obs/health, /obs/slo, /obs/metrics and /telemetry/status,
 * asked for at the same time, make one snapshot.
 *
 * A live view must never make an incident worse or go blank: a failed poll keeps the last good
 * figures on screen, marked stale with the reason, and the next polls back off exponentially
 * (interval × 2ⁿ, capped) instead of hammering a server that is struggling. Refused credentials
 * are the exception: waiting will not fix them, so they fail at once as any command would.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {ExitCode, isStellaError} from '../../lib/errors.js'
import type {HealthResponse, MetricsResponse, SloResponse, TelemetryStatus} from '../../lib/api/types.js'
import {formatDuration} from '../../lib/units.js'
import type {RouteRow, ServiceRow, TopSnapshot, TopSource, TopSourceInfo} from './top-model.js'

/** What the remote source needs of the API client. */
export interface TopApi {
  readonly server: string
  readonly tenant: string
  getJson<T>(path: string): Promise<T>
}

export interface RemoteTopOptions {
  /** How often the caller asks for a snapshot; the backoff starts from it. */
  intervalMs: number
  /** The longest wait between polls while the server fails. Default 30 s (or the interval, when longer). */
  maxBackoffMs?: number
  /** How long snapshot() waits for a poll before answering with the last figures. Default the interval, at least 2 s. */
  waitMs?: number
  now?: () => number
}

/** The server does not say over which window it computes its figures. */
const SERVER_WINDOW = 'server-defined'
const DEFAULT_MAX_BACKOFF_MS = 30_000
const MIN_WAIT_MS = 2000

/** One poll of the four endpoints; throws what the API client throws. */
export async function fetchRemoteSnapshot(api: TopApi, now: () => number = Date.now): Promise<TopSnapshot> {
  const get = <T>(path: string) =>
    api.getJson<T>(path).catch((error: unknown) => {
      if (typeof error === 'object' && error !== null) failedPath.set(error, path)
      throw error
    })
  const [health, slo, metrics, status] = await Promise.all([
    get<HealthResponse>('/obs/health'),
    get<SloResponse>('/obs/slo'),
    get<MetricsResponse>('/obs/metrics'),
    get<TelemetryStatus>('/telemetry/status'),
  ])
  return remoteSnapshot({kind: 'remote', server: api.server, tenant: api.tenant}, {health, slo, metrics, status}, now())
}

/** Which endpoint an error of a poll came from, for the stale banner (the error itself stays as thrown). */
const failedPath = new WeakMap<object, string>()

function staleReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const path = typeof error === 'object' && error !== null ? failedPath.get(error) : undefined
  return path === undefined ? message : `${path}: ${message}`
}

function remoteSnapshot(source: TopSourceInfo, answers: {health: HealthResponse; slo: SloResponse; metrics: MetricsResponse; status: TelemetryStatus}, at: number): TopSnapshot {
  const {health, slo, metrics, status} = answers
  const routesOf = new Map<string, RouteRow[]>()
  for (const route of metrics.routes) {
    const row: RouteRow = {service: route.service, route: `${route.method} ${route.route}`, rate: route.rps, errorRate: route.errorRate, ...route.latencyMs}
    const list = routesOf.get(route.service)
    if (list === undefined) routesOf.set(route.service, [row])
    else list.push(row)
  }

  const services: ServiceRow[] = health.services.map((service) => ({
    name: service.name,
    rate: service.rps,
    errorRate: service.errorRate,
    ...service.latencyMs,
    status: service.status,
    instances: service.instances,
    routes: routesOf.get(service.name) ?? [],
  }))
  // Routes of a service the health report does not list still show, under a row of their own sums.
  const listed = new Set(services.map((service) => service.name))
  for (const [name, routes] of routesOf) {
    if (listed.has(name)) continue
    const rate = routes.reduce((sum, route) => sum + route.rate, 0)
    const errors = routes.reduce((sum, route) => sum + route.rate * route.errorRate, 0)
    services.push({name, rate, errorRate: rate === 0 ? 0 : errors / rate, routes})
  }

  const rate = services.reduce((sum, service) => sum + service.rate, 0)
  const errors = services.reduce((sum, service) => sum + service.rate * service.errorRate, 0)
  const incident = status.incidentMode
  return {
    source,
    window: SERVER_WINDOW,
    updatedAt: at,
    incident: {enabled: incident.enabled, ...(incident.expiresAt ? {expiresAt: incident.expiresAt} : {}), samplingPercent: incident.samplingPercent},
    totals: {rate, errorRate: rate === 0 ? 0 : errors / rate, services: services.length},
    services,
    jobs: metrics.jobs.map((job) => ({...job})),
    slos: slo.items.map((item) => ({
      id: item.id,
      service: item.service,
      journey: item.journey,
      objective: item.objective,
      burn1h: item.burnRate['1h'],
      burn6h: item.burnRate['6h'],
      burn24h: item.burnRate['24h'],
      errorBudgetRemaining: item.errorBudgetRemaining,
      status: item.status,
    })),
  }
}

/**
 * Polls when asked for a snapshot (not in the background): a poll that fails sets the time of
 * the next one; until then snapshot() answers at once with the last good figures, marked stale.
 */
export class RemoteTopSource implements TopSource {
  readonly #api: TopApi
  readonly #intervalMs: number
  readonly #maxBackoffMs: number
  readonly #waitMs: number
  readonly #now: () => number
  readonly #info: TopSourceInfo
  #last: TopSnapshot | undefined
  #failures = 0
  #failing: {since: number; error: string} | undefined
  #nextPollAt = 0
  #poll: Promise<void> | undefined
  #pollStarted = 0
  #firstAsked: number | undefined
  #fatal: unknown
  #closed = false

  constructor(api: TopApi, options: RemoteTopOptions) {
    this.#api = api
    this.#intervalMs = options.intervalMs
    this.#maxBackoffMs = Math.max(options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, options.intervalMs)
    this.#waitMs = options.waitMs ?? Math.max(options.intervalMs, MIN_WAIT_MS)
    this.#now = options.now ?? Date.now
    this.#info = {kind: 'remote', server: api.server, tenant: api.tenant}
  }

  async snapshot(): Promise<TopSnapshot> {
    if (this.#fatal !== undefined) throw this.#fatal
    const now = this.#now()
    this.#firstAsked ??= now
    if (this.#poll === undefined && !this.#closed && now >= this.#nextPollAt) this.#startPoll(now)
    if (this.#poll !== undefined) await this.#waitForPoll(this.#poll)
    if (this.#fatal !== undefined) throw this.#fatal
    return this.#current(this.#now())
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  /** interval × 2ⁿ after the nth failure in a row, capped. */
  #backoff(failures: number): number {
    return Math.min(this.#maxBackoffMs, this.#intervalMs * 2 ** failures)
  }

  #startPoll(now: number): void {
    this.#pollStarted = now
    this.#poll = fetchRemoteSnapshot(this.#api, this.#now)
      .then(
        (snapshot) => {
          this.#last = snapshot
          this.#failures = 0
          this.#failing = undefined
          this.#nextPollAt = 0
        },
        (error: unknown) => {
          if (isStellaError(error) && error.exitCode === ExitCode.Auth) {
            this.#fatal = error
            return
          }

          this.#failures += 1
          const at = this.#now()
          this.#failing = {since: this.#failing?.since ?? at, error: staleReason(error)}
          this.#nextPollAt = at + this.#backoff(this.#failures)
        },
      )
      .finally(() => {
        this.#poll = undefined
      })
  }

  /** A slow server must not hold the screen: after waitMs the last figures are shown, the poll goes on. */
  async #waitForPoll(poll: Promise<void>): Promise<void> {
    const timer = new AbortController()
    await Promise.race([poll, sleep(this.#waitMs, undefined, {signal: timer.signal}).catch(() => {})])
    timer.abort()
  }

  #current(now: number): TopSnapshot {
    const since = this.#failing?.since ?? this.#pollStarted
    const figures = this.#last ?? emptySnapshot(this.#info, this.#failing?.since ?? this.#firstAsked ?? now)
    if (this.#failing !== undefined) {
      return {...figures, stale: {since, error: this.#failing.error, retryInMs: this.#poll === undefined ? Math.max(0, this.#nextPollAt - now) : 0}}
    }

    if (this.#poll !== undefined && now - this.#pollStarted >= this.#waitMs) {
      return {...figures, stale: {since: this.#pollStarted, error: `no answer from the server for ${formatDuration(Math.floor((now - this.#pollStarted) / 1000) * 1000)}`}}
    }

    return figures
  }
}

/** Before the first good answer: no figures, only the banner that says why. */
function emptySnapshot(source: TopSourceInfo, at: number): TopSnapshot {
  return {source, window: SERVER_WINDOW, updatedAt: at, totals: {rate: 0, errorRate: 0, services: 0}, services: []}
}
