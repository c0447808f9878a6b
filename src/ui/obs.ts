/** Human renderings of `stella obs health|slo|logs|timeline`. */
import type {ServiceHealth, Slo, TimelineEvent, TimelineEventDetail} from '../lib/api/types.js'
import {type LogRecord, logBody, logLevelText, logService, logTime} from '../services/obs/logs.js'
import {type BurnWindow, type HealthReport, type SloReport, burnSeverity} from '../services/obs/status.js'
import {bold, cyan, dim, green, red, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'
import {printable} from './width.js'

const SERVICE_STATUS_COLOR: Record<string, (text: string) => string> = {ok: green, degraded: yellow, down: red}
const SLO_STATUS_COLOR: Record<string, (text: string) => string> = {ok: green, warning: yellow, breach: red}

const BURN_WINDOWS = ['1h', '6h', '24h'] as const

export function renderHealth(report: HealthReport): string {
  const rows = report.services.map((service: ServiceHealth) => [
    service.name,
    service.version,
    colorStatus(service.status, SERVICE_STATUS_COLOR),
    service.instances,
    service.rps.toFixed(1),
    percent(service.errorRate, 2),
    Math.round(service.latencyMs.p50),
    Math.round(service.latencyMs.p95),
    Math.round(service.latencyMs.p99),
    percent(service.saturation.cpu, 0),
    service.saturation.queueDepth,
  ])
  const table = renderTable(['SERVICE', 'VERSION', 'STATUS', 'INSTANCES', 'RPS', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS', 'CPU', 'QUEUE'], rows)
  const {ok, degraded, down} = report.counts
  const total = report.services.length
  const summary = `${total} ${total === 1 ? 'service' : 'services'}: ${colorCount(down, 'down', red)}, ${colorCount(degraded, 'degraded', yellow)}, ${ok} ok ${dim(`(as of ${report.generatedAt})`)}`
  return total === 0 ? `No services reported ${dim(`(as of ${report.generatedAt})`)}` : `${table}\n\n${summary}`
}

export function renderSlo(report: SloReport, filtered: boolean): string {
  if (report.items.length === 0) return filtered ? 'No SLO matches --service.' : 'No SLOs defined.'
  const rows = report.items.map((slo: Slo) => [
    slo.id,
    slo.service,
    slo.journey,
    `${fraction(slo.target)}%`,
    `${fraction(slo.sli)}%`,
    ...BURN_WINDOWS.map((window) => colorBurn(slo.burnRate[window], window)),
    percent(slo.errorBudgetRemaining, 0),
    colorStatus(slo.status, SLO_STATUS_COLOR),
  ])
  const table = renderTable(['ID', 'SERVICE', 'JOURNEY', 'TARGET', 'SLI', 'BURN 1H', 'BURN 6H', 'BURN 24H', 'BUDGET LEFT', 'STATUS'], rows)
  const {ok, warning, breach} = report.counts
  const total = report.items.length
  return `${table}\n\n${total} ${total === 1 ? 'SLO' : 'SLOs'}: ${colorCount(breach, 'breach', red)}, ${colorCount(warning, 'warning', yellow)}, ${ok} ok`
}

/** Lines are printed as they arrive, so columns get fixed widths that fit most services. */
const LOG_SERVICE_WIDTH = 20

/** One log record as one line: time, level, service, short trace id, body. */
export function formatLogLine(record: LogRecord): string {
  const level = printable(logLevelText(record))
  const service = printable(logService(record) ?? '-')
  return [printable(logTime(record)), colorLevel(level.padEnd(5)), service.padEnd(LOG_SERVICE_WIDTH), printable(shortId(record.traceId)).padEnd(8), printable(logBody(record))].join('  ')
}

export function renderTimelineTable(events: readonly TimelineEvent[]): string {
  if (events.length === 0) return 'No timeline events match.'
  return renderTable(
    ['TIME', 'KIND', 'ACTOR', 'RESOURCE', 'TRACE', 'EVENT'],
    events.map((event) => [event.ts, event.kind, event.actor, `${event.resourceType}/${event.resourceId}`, shortId(event.traceId), event.eventId]),
  )
}

/** One event as one line, for output that grows while it is read (`--follow`). */
export function formatTimelineLine(event: TimelineEvent): string {
  return [event.ts, event.kind, event.actor, `${event.resourceType}/${event.resourceId}`, shortId(event.traceId), event.eventId].join('  ')
}

export function renderTimelineEvent(event: TimelineEventDetail): string {
  const fields = renderFields([
    ['event', bold(event.eventId)],
    ['time', event.ts],
    ['kind', event.kind],
    ['actor', event.actor],
    ['resource', `${event.resourceType}/${event.resourceId}`],
    ['tenant', event.tenantId],
    ['project', event.projectId],
    ['trace', event.traceId],
    ['digest', event.digest],
  ])
  const lines = [fields, '', bold('details:'), ...renderValue(event.details, 1)]
  const links = event.links ?? {}
  if (links.trace !== undefined || links.evidence !== undefined) {
    lines.push('', bold('links:'))
    if (links.trace !== undefined) lines.push(`  trace:     ${links.trace}`, `             ${dim('→')} ${cyan(`stella obs trace ${lastSegment(links.trace)}`)}`)
    if (links.evidence !== undefined) lines.push(`  evidence:  ${links.evidence}`, `             ${dim('→')} ${cyan(`stella forensic snapshot get ${lastSegment(links.evidence)}`)}`)
  }

  return lines.join('\n')
}

/** Nested objects and arrays as indented `key: value` lines; scalars as JSON would write them. */
function renderValue(value: unknown, depth: number): string[] {
  const pad = '  '.repeat(depth)
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`]
    return value.flatMap((item) => (isNested(item) ? [`${pad}-`, ...renderValue(item, depth + 1)] : [`${pad}- ${scalar(item)}`]))
  }

  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.length === 0) return [`${pad}(none)`]
    return entries.flatMap(([key, item]) => (isNested(item) ? [`${pad}${key}:`, ...renderValue(item, depth + 1)] : [`${pad}${key}: ${scalar(item)}`]))
  }

  return [`${pad}${scalar(value)}`]
}

function isNested(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length > 0
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return '[]'
  if (value !== null && typeof value === 'object') return '{}'
  return JSON.stringify(value) ?? String(value)
}

function lastSegment(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? path
}

function shortId(id: string | undefined): string {
  return id ? id.slice(0, 8) : '-'
}

function percent(ratio: number, digits: number): string {
  return `${(ratio * 100).toFixed(digits)}%`
}

/** A ratio as a percentage with only the digits it has (0.999 → 99.9, 0.99991 → 99.991). */
function fraction(ratio: number): string {
  return String(Number((ratio * 100).toFixed(3)))
}

function colorStatus(status: string, colors: Record<string, (text: string) => string>): string {
  // An unknown status from a newer server is shown as it is, in red: better flagged than hidden.
  return (colors[status] ?? red)(status)
}

function colorCount(count: number, label: string, color: (text: string) => string): string {
  const text = `${count} ${label}`
  return count > 0 ? color(text) : text
}

/** Red from the window's paging threshold, yellow from 1 (the budget will not last the window). */
export function colorBurn(rate: number, window: BurnWindow): string {
  const text = rate.toFixed(1)
  const severity = burnSeverity(rate, window)
  return severity === 'page' ? red(text) : severity === 'elevated' ? yellow(text) : text
}

function colorLevel(level: string): string {
  const name = level.trim()
  if (name === 'ERROR' || name === 'FATAL') return red(level)
  if (name === 'WARN') return yellow(level)
  if (name === 'INFO') return green(level)
  return dim(level)
}
