/**
 * `stella obs top`: what every source shares. The sources themselves are in top-remote.ts (the
 * server, polled) and top-local.ts (spans received or replayed); this module turns their figures
 * into the snapshot model and cuts a snapshot down to what was asked for (filter, sort, limit).
 */
import type {RouteRow, ServiceRow, TopSnapshot} from './top-model.js'

export type {JobRow, RouteRow, ServiceRow, SloRow, TopSnapshot, TopSource, TopSourceInfo} from './top-model.js'
export {RemoteTopSource, type RemoteTopOptions, type TopApi, fetchRemoteSnapshot} from './top-remote.js'
export {ListenTopSource, type ListenTopOptions, type LocalTopOptions, ReplayTopSource, type ReplayTopOptions, snapshotOfRed} from './top-local.js'

export const TOP_SORTS = ['rate', 'errors', 'p95', 'p99', 'name'] as const
export type TopSort = (typeof TOP_SORTS)[number]

export interface TopView {
  /** Default rate. */
  sort?: TopSort
  /** Only these services (exact names); their SLOs too. */
  services?: readonly string[]
  /** Only what holds this text (any letter case): services by name, else their matching routes; SLOs and job queues by name. */
  filter?: string
  /** At most this many services, and this many routes per service. */
  limit?: number
}

/**
 * The snapshot as the view asks: filtered, sorted (highest first; by name ascending), limited.
 * The header's totals stay those of everything the source sees.
 */
export function viewOf(snapshot: TopSnapshot, view: TopView): TopSnapshot {
  const sort = view.sort ?? 'rate'
  const wanted = view.services !== undefined && view.services.length > 0 ? new Set(view.services) : undefined
  const text = view.filter === undefined || view.filter === '' ? undefined : view.filter.toLowerCase()
  const has = (value: string) => text === undefined || value.toLowerCase().includes(text)
  const limit = view.limit ?? Number.POSITIVE_INFINITY

  const services: ServiceRow[] = []
  for (const service of snapshot.services) {
    if (wanted !== undefined && !wanted.has(service.name)) continue
    const routes = has(service.name) ? service.routes : service.routes.filter((route) => has(route.route))
    if (!has(service.name) && routes.length === 0) continue
    services.push({...service, routes: sortRows(routes, sort, (route) => route.route).slice(0, limit)})
  }

  const shown = new Set(services.map((service) => service.name))
  const view_: TopSnapshot = {...snapshot, services: sortRows(services, sort, (service) => service.name).slice(0, limit)}
  if (snapshot.slos !== undefined) {
    view_.slos = snapshot.slos.filter((slo) => (wanted === undefined || wanted.has(slo.service)) && (text === undefined || shown.has(slo.service) || has(slo.id) || has(slo.journey)))
  }

  if (snapshot.jobs !== undefined) view_.jobs = snapshot.jobs.filter((job) => has(job.queue))
  return view_
}

/** Highest first for figures (a row without the figure last), by name for ties and for `name`. */
function sortRows<R extends RouteRow | ServiceRow>(rows: readonly R[], sort: TopSort, name: (row: R) => string): R[] {
  const figure = (row: R): number | undefined => (sort === 'rate' ? row.rate : sort === 'errors' ? row.errorRate : sort === 'p95' ? row.p95 : sort === 'p99' ? row.p99 : undefined)
  return [...rows].sort((a, b) => {
    if (sort !== 'name') {
      const x = figure(a)
      const y = figure(b)
      if (x !== y) return y === undefined ? -1 : x === undefined ? 1 : y - x
    }

    const m = name(a)
    const n = name(b)
    return m < n ? -1 : m > n ? 1 : 0
  })
}
