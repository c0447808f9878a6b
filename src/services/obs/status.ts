/** `stella obs health` and `stella obs slo`: the state of every service and objective, worst first. */
import type {ServiceHealth, ServiceStatus, Slo, SloStatus} from '../../lib/api/types.js'
import type {RemoteObsSource} from './source.js'

/**
 * Burn rates from which an SLO pages, per window: the multi-window thresholds of Google's SRE
 * workbook for a 30-day budget (2% of it spent in 1 hour, 5% in 6 hours, 10% in a day).
 */
export const BURN_RATE_PAGE = {'1h': 14.4, '6h': 6, '24h': 3} as const
export type BurnWindow = keyof typeof BURN_RATE_PAGE
/** From this burn rate the budget runs out before the SLO window ends. */
export const BURN_ELEVATED = 1

/** How a burn rate reads in its window: from the window's paging threshold it pages; from 1 it is elevated. */
export function burnSeverity(rate: number, window: BurnWindow): 'page' | 'elevated' | undefined {
  if (rate >= BURN_RATE_PAGE[window]) return 'page'
  return rate >= BURN_ELEVATED ? 'elevated' : undefined
}

export const SERVICE_STATUSES: readonly ServiceStatus[] = ['ok', 'degraded', 'down']
export const SLO_STATUSES: readonly SloStatus[] = ['ok', 'warning', 'breach']

export interface HealthReport {
  generatedAt: string
  /** Worst status first (down, degraded, ok), then by name. */
  services: ServiceHealth[]
  counts: Record<ServiceStatus, number>
  /** Services at or above `--fail-on`, when it was given. */
  failing: string[]
}

export interface SloReport {
  /** Worst status first (breach, warning, ok), then by service and id. */
  items: Slo[]
  counts: Record<SloStatus, number>
  failing: string[]
}

export async function getHealth(source: Pick<RemoteObsSource, 'health'>, options: {failOn?: ServiceStatus} = {}): Promise<HealthReport> {
  const response = await source.health()
  const services = [...response.services].sort((a, b) => rank(SERVICE_STATUSES, b.status) - rank(SERVICE_STATUSES, a.status) || compare(a.name, b.name))
  const failOn = options.failOn
  return {
    generatedAt: response.generatedAt,
    services,
    counts: countBy(SERVICE_STATUSES, services),
    failing: failOn === undefined ? [] : services.filter((s) => rank(SERVICE_STATUSES, s.status) >= rank(SERVICE_STATUSES, failOn)).map((s) => s.name),
  }
}

export async function getSlo(source: Pick<RemoteObsSource, 'slo'>, options: {services?: string[]; failOn?: SloStatus} = {}): Promise<SloReport> {
  const response = await source.slo()
  // The API has no service filter; the list is short, so filtering here costs nothing.
  const wanted = options.services && options.services.length > 0 ? new Set(options.services) : undefined
  const items = response.items
    .filter((slo) => wanted === undefined || wanted.has(slo.service))
    .sort((a, b) => rank(SLO_STATUSES, b.status) - rank(SLO_STATUSES, a.status) || compare(a.service, b.service) || compare(a.id, b.id))
  const failOn = options.failOn
  return {
    items,
    counts: countBy(SLO_STATUSES, items),
    failing: failOn === undefined ? [] : items.filter((slo) => rank(SLO_STATUSES, slo.status) >= rank(SLO_STATUSES, failOn)).map((slo) => slo.id),
  }
}

/** An unknown status (a newer server) ranks as the worst: better flagged than hidden. */
function rank<S extends string>(order: readonly S[], status: S): number {
  const index = order.indexOf(status)
  return index === -1 ? order.length : index
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function countBy<S extends string>(order: readonly S[], items: ReadonlyArray<{status: S}>): Record<S, number> {
  const counts = Object.fromEntries(order.map((status) => [status, 0])) as Record<S, number>
  for (const item of items) if (item.status in counts) counts[item.status] += 1
  return counts
}
