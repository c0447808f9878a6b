/** Human renderings of `stella telemetry status` and `stella telemetry incident`. */
import type {IncidentMode} from '../lib/api/types.js'
import {QUEUE_WARN_PERCENT, type TelemetryStatusReport} from '../services/telemetry/status.js'
import {bold, green, red, symbols, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'

export function renderTelemetryStatus(report: TelemetryStatusReport, now = Date.now()): string {
  const mode = report.incidentMode
  const incident = mode.enabled
    ? `${yellow(bold('on'))} (${expiresPhrase(mode.expiresAt, now)}, sampling ${mode.samplingPercent}%)`
    : `off (sampling ${mode.samplingPercent}%)`
  const fields = renderFields([
    ['profile', `${bold(report.profile)} (version ${report.profileVersion})`],
    ['incident mode', incident],
  ])

  if (report.collectors.length === 0) return `${fields}\n\n${yellow('No collector has reported yet.')}`

  const rows = report.collectors.map((collector) => {
    const fill = `${collector.queueSize}/${collector.queueCapacity} (${collector.queueFillPercent}%)`
    return [
      collector.name,
      collector.healthy ? symbols.ok() : symbols.fail(),
      ago(collector.lastSeen, now),
      collector.exportFailures > 0 ? yellow(String(collector.exportFailures)) : '0',
      collector.queueFillPercent > QUEUE_WARN_PERCENT ? yellow(fill) : fill,
    ]
  })
  const table = renderTable(['COLLECTOR', 'HEALTHY', 'LAST SEEN', 'EXPORT FAILURES', 'QUEUE'], rows)
  const total = report.collectors.length
  const unhealthy = report.unhealthyCollectors
  const summary = unhealthy.length === 0
    ? green(`All ${total} collectors healthy.`)
    : red(`${unhealthy.length} of ${total} collectors unhealthy: ${unhealthy.join(', ')}`)
  return `${fields}\n\n${table}\n\n${summary}`
}

export function renderIncidentMode(mode: IncidentMode, now = Date.now()): string {
  return renderFields([
    ['incident mode', mode.enabled ? yellow(bold('on')) : 'off'],
    ['expires', mode.enabled && mode.expiresAt ? `${mode.expiresAt} (${untilPhrase(mode.expiresAt, now)})` : undefined],
    ['sampling', `${mode.samplingPercent}%`],
    ['reason', mode.reason ?? undefined],
    ['changed by', mode.changedBy ?? undefined],
  ])
}

function expiresPhrase(expiresAt: string | null, now: number): string {
  if (expiresAt === null) return 'no expiry'
  const left = Date.parse(expiresAt) - now
  if (Number.isNaN(left)) return `expires ${expiresAt}`
  return left > 0 ? `expires in ${relativeSpan(left)}` : red(`expired ${relativeSpan(-left)} ago`)
}

/** `in 2h 0m`, or `expired 3m ago` when the server has not switched it off yet. */
function untilPhrase(expiresAt: string, now: number): string {
  const left = Date.parse(expiresAt) - now
  if (Number.isNaN(left)) return 'unreadable time'
  return left > 0 ? `in ${relativeSpan(left)}` : red(`expired ${relativeSpan(-left)} ago`)
}

function ago(timestamp: string, now: number): string {
  const age = now - Date.parse(timestamp)
  if (Number.isNaN(age)) return timestamp
  // A collector whose clock runs ahead of ours has just been seen; a negative age would only confuse.
  if (age < 1000) return 'just now'
  return `${relativeSpan(age)} ago`
}

/**
 * A span for people, rounded to its coarsest useful units: `45s`, `12m`, `2h 5m`, `3d 4h`.
 * Rounded rather than truncated, so a 2h TTL read a second later still says 2h 0m.
 */
export function relativeSpan(ms: number): string {
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.round(ms / 60_000)
  if (minutes < 60) return `${minutes}m`
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)}h ${minutes % 60}m`
  const hours = Math.round(ms / 3_600_000)
  return `${Math.floor(hours / 24)}d ${hours % 24}h`
}
