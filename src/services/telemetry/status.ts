/** `stella telemetry status` and `stella telemetry incident on|off|status`: what the pipeline reports and incident mode. */
import {ApiProblemError} from '../../lib/api/errors.js'
import type {CollectorStatus, IncidentMode, TelemetryStatus} from '../../lib/api/types.js'
import {UsageError} from '../../lib/errors.js'
import {formatDuration} from '../../lib/units.js'

/** The part of the API client these commands use; any source with the same two calls will do. */
export interface TelemetryApi {
  getJson<T>(path: string): Promise<T>
  postJson<T>(path: string, body: unknown, options?: {idempotent?: boolean}): Promise<T>
}

const STATUS_PATH = '/telemetry/status'
const INCIDENT_PATH = '/telemetry/incidents/mode'

/** A collector whose queue is fuller than this is about to drop telemetry. */
export const QUEUE_WARN_PERCENT = 80

/** The incident-mode TTLs the server accepts (docs/api-contract.md); checked here so a typo fails before any request. */
export const INCIDENT_TTL_MIN_SECONDS = 60
export const INCIDENT_TTL_MAX_SECONDS = 24 * 3600

export interface CollectorReport extends CollectorStatus {
  /** queueSize as a percentage of queueCapacity, one decimal; 100 for a zero-capacity queue that holds anything. */
  queueFillPercent: number
}

export interface TelemetryStatusReport {
  profile: string
  profileVersion: string
  incidentMode: TelemetryStatus['incidentMode']
  collectors: CollectorReport[]
  /** Names of the collectors that report themselves unhealthy, in server order. */
  unhealthyCollectors: string[]
}

export async function getTelemetryStatus(api: TelemetryApi): Promise<TelemetryStatusReport> {
  const status = await api.getJson<TelemetryStatus>(STATUS_PATH)
  const collectors = status.collectors.map((collector) => ({...collector, queueFillPercent: fillPercent(collector.queueSize, collector.queueCapacity)}))
  return {
    profile: status.profile,
    profileVersion: status.profileVersion,
    incidentMode: status.incidentMode,
    collectors,
    unhealthyCollectors: collectors.filter((collector) => !collector.healthy).map((collector) => collector.name),
  }
}

function fillPercent(size: number, capacity: number): number {
  if (capacity <= 0) return size > 0 ? 100 : 0
  return Math.round((size / capacity) * 1000) / 10
}

export async function getIncidentMode(api: TelemetryApi): Promise<IncidentMode> {
  return api.getJson<IncidentMode>(INCIDENT_PATH)
}

export interface IncidentChange {
  enabled: boolean
  /** How long incident mode stays on, in milliseconds (only when turning it on). */
  ttlMs?: number
  reason?: string
}

/**
 * Turns incident mode on or off and returns the state the server reports afterwards.
 *
 * Sent as idempotent, so a lost response is retried: the request sets the mode to a value rather
 * than toggling it, so a second delivery leaves the same state. The one difference, an expiry a
 * retry later than the first delivery would have set, is what the operator asked for anyway.
 */
export async function setIncidentMode(api: TelemetryApi, change: IncidentChange): Promise<IncidentMode> {
  const reason = change.reason?.trim()
  if (change.enabled && !reason) {
    throw new UsageError('INCIDENT_REASON_REQUIRED', 'turning incident mode on needs a reason', {
      remedy: 'Say why with --reason, e.g. --reason "INC-1234 checkout latency".',
    })
  }

  if (change.reason !== undefined && !reason) {
    throw new UsageError('INCIDENT_REASON_EMPTY', 'the --reason is empty', {remedy: 'Give a short reason, or leave --reason out.'})
  }

  const body: {enabled: boolean; ttlSeconds?: number; reason: string | null} = {enabled: change.enabled, reason: reason ?? null}
  if (change.ttlMs !== undefined) body.ttlSeconds = ttlSeconds(change.ttlMs)
  try {
    return await api.postJson<IncidentMode>(INCIDENT_PATH, body, {idempotent: true})
  } catch (error) {
    throw error instanceof ApiProblemError && error.status === 400 ? refused(error) : error
  }
}

function ttlSeconds(ms: number): number {
  const range = `${formatTtl(INCIDENT_TTL_MIN_SECONDS * 1000)} to ${formatTtl(INCIDENT_TTL_MAX_SECONDS * 1000)}`
  if (ms % 1000 !== 0) {
    throw new UsageError('INCIDENT_TTL_INVALID', `--ttl ${formatTtl(ms)} is not a whole number of seconds`, {remedy: `Give a TTL in whole seconds, from ${range}, e.g. --ttl 2h.`})
  }

  const seconds = ms / 1000
  if (seconds < INCIDENT_TTL_MIN_SECONDS || seconds > INCIDENT_TTL_MAX_SECONDS) {
    throw new UsageError('INCIDENT_TTL_OUT_OF_RANGE', `--ttl ${formatTtl(ms)} is outside the range the server accepts (${range})`, {
      remedy: `Give a TTL from ${range}, e.g. --ttl 2h.`,
    })
  }

  return seconds
}

/** A TTL in the duration syntax, counted in hours rather than days: operators think of `25h`, not `1d1h`. */
function formatTtl(ms: number): string {
  const hours = Math.floor(ms / 3_600_000)
  if (hours === 0) return formatDuration(ms)
  const rest = ms - hours * 3_600_000
  return rest === 0 ? `${hours}h` : `${hours}h${formatDuration(rest)}`
}

/** A 400 means the request itself was wrong (a server with other limits than ours): a usage error, not an outage. */
function refused(error: ApiProblemError): UsageError {
  const said = error.problem.detail ?? error.problem.title ?? 'no reason given'
  const refusal = new UsageError('INCIDENT_CHANGE_REFUSED', `the server refused the incident-mode change: ${said}`, {
    remedy: 'Correct --ttl or --reason as the server says, then run the command again.',
    cause: error,
  })
  // Keep the trace id, so the refusal can still be found in the server's logs.
  if (error.traceId !== undefined) Object.defineProperty(refusal, 'traceId', {value: error.traceId, enumerable: true})
  return refusal
}
