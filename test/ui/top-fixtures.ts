/** Snapshots for the `stella obs top` screen tests: one from a server, one computed from spans. */
import type {RouteRow, ServiceRow, TopSnapshot, TopSource} from '../../src/services/obs/top-model.js'

// Clock times on the screen are local: the tests pin the zone so the expected text holds anywhere.
process.env.TZ = 'UTC'

export const UPDATED_AT = Date.parse('2026-11-22T10:42:17Z')

const route = (service: string, name: string, rate: number, errorRate: number, p50: number, p95: number, p99: number, sparkline?: number[]): RouteRow => ({
  service,
  route: name,
  rate,
  errorRate,
  p50,
  p95,
  p99,
  ...(sparkline === undefined ? {} : {sparkline}),
})

const remoteService = (name: string, status: ServiceRow['status'], instances: number, rate: number, errorRate: number, [p50, p95, p99]: number[], routes: RouteRow[] = []): ServiceRow => ({
  name,
  status,
  instances,
  rate,
  errorRate,
  p50,
  p95,
  p99,
  routes,
})

/** What a server reports for tenant acme in the middle of an incident. */
export function remoteSnapshot(): TopSnapshot {
  const services = [
    remoteService('api-gateway', 'ok', 6, 412.5, 0.0021, [18, 71, 160], [
      route('api-gateway', 'POST /v1/evaluations', 250.2, 0.003, 21, 80, 170),
      route('api-gateway', 'GET /v1/evaluations/{id}', 150.1, 0.001, 12, 40, 95),
      route('api-gateway', 'GET /v1/evidence/{id}', 12.2, 0.0, 30, 120, 300),
    ]),
    remoteService('policy-engine', 'degraded', 4, 188.2, 0.043, [64, 420, 1310], [route('policy-engine', 'POST /v1/evaluations', 188.2, 0.043, 64, 420, 1310)]),
    remoteService('scheduler', 'ok', 2, 21.7, 0, [9, 30, 52]),
    remoteService('evidence-store', 'down', 0, 0, 1, [0, 0, 0]),
    remoteService('telemetry-collector', 'ok', 3, 2304.9, 0.0004, [2, 6, 11]),
  ]
  return {
    source: {kind: 'remote', server: 'https://stella.example.com', tenant: 'acme'},
    window: '5m',
    updatedAt: UPDATED_AT,
    incident: {enabled: true, expiresAt: '2026-11-22T12:00:00Z', samplingPercent: 100},
    totals: {rate: 2927.3, errorRate: 0.0038, services: 5},
    services,
    jobs: [
      {queue: 'evidence-export', depth: 148, running: 4, succeededPerMin: 12, failedPerMin: 3, oldestAgeSeconds: 754},
      {queue: 'default', depth: 3, running: 2, succeededPerMin: 41.5, failedPerMin: 0, oldestAgeSeconds: 8},
    ],
    slos: [
      {id: 'slo-acme-gw-avail', service: 'api-gateway', journey: 'checkout', objective: '99.9% of gateway requests succeed', burn1h: 0.6, burn6h: 0.8, burn24h: 0.7, errorBudgetRemaining: 0.71, status: 'ok'},
      {id: 'slo-acme-eval-latency', service: 'policy-engine', journey: 'policy evaluation', objective: '99% of evaluations finish within 500 ms', burn1h: 7.9, burn6h: 6.4, burn24h: 3.1, errorBudgetRemaining: 0.18, status: 'warning'},
      {id: 'slo-acme-evidence-avail', service: 'evidence-store', journey: 'evidence export', objective: '99.5% of evidence reads succeed', burn1h: 38.2, burn6h: 21.5, burn24h: 9.8, errorBudgetRemaining: -0.42, status: 'breach'},
      {id: 'slo-acme-ingest', service: 'telemetry-collector', journey: 'telemetry ingest', objective: '99.99% of spans are accepted', burn1h: 1.2, burn6h: 0.9, burn24h: 0.8, errorBudgetRemaining: 0.63, status: 'ok'},
    ],
  }
}

/** Requests per minute over the last 30 minutes: a steady base with a ripple, and a gap where the minutes say so. */
function perMinute(base: number, ripple: number, gap: readonly number[] = []): number[] {
  return Array.from({length: 30}, (_, minute) => (gap.includes(minute) ? 0 : base + ((minute * 7) % 5) * ripple))
}

/** Figures computed here from spans received on --listen, with the series cap reached. */
export function localSnapshot(): TopSnapshot {
  const checkoutRoutes = [
    route('checkout', 'POST /checkout', 3.5, 0.0476, 42.3, 180.4, 950.2, perMinute(150, 30, [20, 21])),
    route('checkout', 'GET /cart/{id}', 8.25, 0, 3.1, 8.9, 14.6, perMinute(480, 10)),
    route('checkout', 'other', 0.1, 0, 5, 9, 12, perMinute(6, 0)),
  ]
  const services: ServiceRow[] = [
    {name: 'checkout', rate: 11.85, errorRate: 0.0141, p50: 5.2, p95: 170.1, p99: 910.7, sparkline: perMinute(640, 40, [20, 21]), routes: checkoutRoutes},
    {name: 'payments', rate: 2.1, errorRate: 0.1, p50: 85, p95: 1250, p99: 4100, sparkline: perMinute(20, 25), routes: [route('payments', 'POST /payments', 2.1, 0.1, 85, 1250, 4100, perMinute(20, 25))]},
    {name: 'other', rate: 0.05, errorRate: 0, p50: 1.2, p95: 2.5, p99: 2.5, sparkline: perMinute(3, 0), routes: []},
  ]
  return {
    source: {kind: 'listen', url: 'http://127.0.0.1:4318'},
    window: '1m',
    updatedAt: UPDATED_AT,
    totals: {rate: 14, errorRate: 0.0269, services: 3},
    services,
    folded: {services: 2, routes: 5},
  }
}

/** A source that hands out the snapshots it is given, the last one again and again. */
export class FixedSource implements TopSource {
  readonly #snapshots: (TopSnapshot | Error)[]
  calls = 0
  closed = 0

  constructor(...snapshots: (TopSnapshot | Error)[]) {
    this.#snapshots = snapshots
  }

  async snapshot(): Promise<TopSnapshot> {
    const next = this.#snapshots[Math.min(this.calls, this.#snapshots.length - 1)]!
    this.calls += 1
    if (next instanceof Error) throw next
    return next
  }

  async close(): Promise<void> {
    this.closed += 1
  }
}
