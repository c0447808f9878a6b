/**
 * `stella obs top` as plain text, for a pipe, a log or CI: one header line, the stale banner as a
 * line, then tables (services, routes, job queues, SLOs). The same snapshot the dashboard draws.
 */
import type {JobRow, RouteRow, ServiceRow, SloRow, TopSnapshot} from '../services/obs/top-model.js'
import {formatDuration} from '../lib/units.js'
import {bold, dim, green, red, yellow} from './style.js'
import {colorBurn} from './obs.js'
import {renderTable} from './table.js'
import {printable} from './width.js'

const STATUS_COLOR: Record<string, (text: string) => string> = {ok: green, degraded: yellow, down: red, warning: yellow, breach: red}
/** How many of the sparkline's minutes the plain table shows. */
const TREND_MINUTES = 15
const BARS = '▁▂▃▄▅▆▇█'

export function renderTopPlain(snapshot: TopSnapshot): string {
  const remote = snapshot.source.kind === 'remote'
  const blocks = [headerLine(snapshot)]
  if (snapshot.stale !== undefined) blocks[0] += `\n${staleLine(snapshot)}`
  const folded = snapshot.folded
  if (folded !== undefined && folded.services + folded.routes > 0) blocks[0] += `\n${foldedLine(folded)}`

  if (snapshot.services.length === 0) blocks.push(dim(remote ? 'No services reported.' : 'No server spans yet.'))
  else blocks.push(servicesTable(snapshot.services, remote))
  const routes = snapshot.services.flatMap((service) => service.routes)
  if (routes.length > 0) blocks.push(routesTable(routes, remote))
  if (snapshot.jobs !== undefined && snapshot.jobs.length > 0) blocks.push(jobsTable(snapshot.jobs))
  if (snapshot.slos !== undefined && snapshot.slos.length > 0) blocks.push(slosTable(snapshot.slos))
  return blocks.join('\n\n')
}

/** Source, tenant, window, last update, incident mode, totals. */
export function headerLine(snapshot: TopSnapshot): string {
  const {source, totals} = snapshot
  const parts: string[] = []
  if (source.kind === 'remote') parts.push(`server ${source.server}`, `tenant ${source.tenant}`)
  else if (source.kind === 'listen') parts.push(`listening on ${source.url}`)
  else parts.push(`replay of ${source.files} ${source.files === 1 ? 'file' : 'files'} ${source.speed === 0 ? 'as fast as possible' : `at ${source.speed}×`}`)
  parts.push(`window ${snapshot.window}`, `updated ${iso(snapshot.updatedAt)}`)
  if (snapshot.incident !== undefined) parts.push(incidentText(snapshot.incident))
  parts.push(`${totals.rate.toFixed(1)} req/s`, `${percent(totals.errorRate)} errors`, `${totals.services} ${totals.services === 1 ? 'service' : 'services'}`)
  if (snapshot.finished) parts.push('replay finished')
  return bold(parts.join(' · '))
}

function incidentText(incident: NonNullable<TopSnapshot['incident']>): string {
  if (!incident.enabled) return 'incident mode off'
  const details = [incident.samplingPercent === undefined ? undefined : `${incident.samplingPercent}% sampling`, incident.expiresAt === undefined ? undefined : `until ${incident.expiresAt}`].filter(Boolean)
  return red(`incident mode ON${details.length > 0 ? ` (${details.join(', ')})` : ''}`)
}

/** "STALE since …: why; retrying in 4s. Figures from …" */
export function staleLine(snapshot: TopSnapshot): string {
  const stale = snapshot.stale!
  const retry = stale.retryInMs === undefined ? 'waiting for an answer' : stale.retryInMs === 0 ? 'retrying now' : `retrying in ${formatDuration(Math.ceil(stale.retryInMs / 1000) * 1000)}`
  // Figures older than the failure are the last good ones; without any, there is nothing to date.
  const figures = snapshot.updatedAt < stale.since ? ` Figures from ${iso(snapshot.updatedAt)}.` : ''
  return yellow(`STALE since ${iso(stale.since)}: ${stale.error}; ${retry}.${figures}`)
}

function foldedLine(folded: {services: number; routes: number}): string {
  const count = folded.services + folded.routes
  const parts = [folded.services > 0 ? `${folded.services} ${folded.services === 1 ? 'service' : 'services'}` : '', folded.routes > 0 ? `${folded.routes} ${folded.routes === 1 ? 'route' : 'routes'}` : ''].filter(Boolean)
  return yellow(`${count} series folded into other (${parts.join(', ')}): more distinct series than the cap`)
}

function servicesTable(services: readonly ServiceRow[], remote: boolean): string {
  if (remote) {
    return renderTable(
      ['SERVICE', 'STATUS', 'INSTANCES', 'RPS', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS', 'ROUTES'],
      services.map((s) => [printable(s.name), s.status === undefined ? '-' : colorStatus(s.status), s.instances ?? '-', s.rate.toFixed(1), percent(s.errorRate), ms(s.p50), ms(s.p95), ms(s.p99), s.routes.length]),
    )
  }

  return renderTable(
    ['SERVICE', 'RPS', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS', 'REQUESTS', 'TOTAL', `LAST ${TREND_MINUTES} MIN`],
    services.map((s) => [printable(s.name), s.rate.toFixed(1), percent(s.errorRate), ms(s.p50), ms(s.p95), ms(s.p99), s.count ?? '-', s.total ?? '-', trend(s.sparkline)]),
  )
}

function routesTable(routes: readonly RouteRow[], remote: boolean): string {
  const head = ['SERVICE', 'ROUTE', 'RPS', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS']
  const row = (r: RouteRow) => [printable(r.service), printable(r.route), r.rate.toFixed(1), percent(r.errorRate), ms(r.p50), ms(r.p95), ms(r.p99)]
  if (remote) return renderTable(head, routes.map(row))
  return renderTable([...head, 'REQUESTS', 'TOTAL'], routes.map((r) => [...row(r), r.count ?? '-', r.total ?? '-']))
}

function jobsTable(jobs: readonly JobRow[]): string {
  return renderTable(
    ['QUEUE', 'DEPTH', 'RUNNING', 'DONE/MIN', 'FAILED/MIN', 'OLDEST'],
    jobs.map((job) => [printable(job.queue), job.depth, job.running, job.succeededPerMin.toFixed(1), job.failedPerMin > 0 ? yellow(job.failedPerMin.toFixed(1)) : job.failedPerMin.toFixed(1), formatDuration(job.oldestAgeSeconds * 1000)]),
  )
}

const SLO_RANK: Record<string, number> = {ok: 0, warning: 1, breach: 2}

/** Worst first: breach, warning, ok (an unknown status first of all), then the fastest burn over 1h. */
function slosTable(slos: readonly SloRow[]): string {
  const rank = (slo: SloRow) => SLO_RANK[slo.status] ?? 3
  const sorted = [...slos].sort((a, b) => rank(b) - rank(a) || b.burn1h - a.burn1h || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return renderTable(
    ['SLO', 'SERVICE', 'JOURNEY', 'BURN 1H', 'BURN 6H', 'BURN 24H', 'BUDGET LEFT', 'STATUS'],
    sorted.map((slo) => [printable(slo.id), printable(slo.service), printable(slo.journey), colorBurn(slo.burn1h, '1h'), colorBurn(slo.burn6h, '6h'), colorBurn(slo.burn24h, '24h'), `${Math.round(slo.errorBudgetRemaining * 100)}%`, colorStatus(slo.status)]),
  )
}

function colorStatus(status: string): string {
  return (STATUS_COLOR[status] ?? red)(status)
}

/** Milliseconds with the digits that matter: 1310, 71, 4.2, 0.35. */
export function ms(value: number | undefined): string {
  if (value === undefined) return '-'
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
  return String(Number(value.toFixed(digits)))
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

/** The last minutes of a sparkline as bars scaled to its own peak; blank when nothing came. */
export function trend(sparkline: readonly number[] | undefined): string {
  if (sparkline === undefined) return '-'
  const minutes = sparkline.slice(-TREND_MINUTES)
  const peak = Math.max(0, ...minutes)
  if (peak === 0) return '-'
  return minutes.map((count) => (count === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((count / peak) * (BARS.length - 1) + 0.5))])).join('').trimStart() || '-'
}
