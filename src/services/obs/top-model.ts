/**
 * What `stella obs top` shows, whatever the source: the server's figures (polled) or figures
 * computed here from spans (received live, or replayed from files). One snapshot is one screen.
 */

export type TopSourceInfo =
  | {kind: 'remote'; server: string; tenant: string}
  | {kind: 'listen'; url: string}
  | {kind: 'files'; files: number; speed: number}

export interface Latency {
  p50?: number
  p95?: number
  p99?: number
}

export interface RouteRow extends Latency {
  service: string
  /** e.g. "GET /orders/{id}". */
  route: string
  /** Requests per second. */
  rate: number
  /** 0–1. */
  errorRate: number
  /** Requests per minute, oldest first (local sources; the server gives none). */
  sparkline?: number[]
  /** Requests and errors in the window, and requests since the start (local sources). */
  count?: number
  errors?: number
  total?: number
}

export interface ServiceRow extends Latency {
  name: string
  rate: number
  errorRate: number
  /** The server's health verdict (remote only). */
  status?: 'ok' | 'degraded' | 'down'
  instances?: number
  sparkline?: number[]
  /** Requests and errors in the window, and requests since the start (local sources). */
  count?: number
  errors?: number
  total?: number
  routes: RouteRow[]
}

export interface JobRow {
  queue: string
  depth: number
  running: number
  succeededPerMin: number
  failedPerMin: number
  oldestAgeSeconds: number
}

export interface SloRow {
  id: string
  service: string
  journey: string
  objective: string
  burn1h: number
  burn6h: number
  burn24h: number
  errorBudgetRemaining: number
  status: 'ok' | 'warning' | 'breach'
}

export interface TopSnapshot {
  source: TopSourceInfo
  /** The window rates and percentiles cover, e.g. "1m"; the server's own for remote. */
  window: string
  /** When these figures were computed or fetched (ms since the epoch); for a replay, the recorded time they are at. */
  updatedAt: number
  /** Set while the source is failing: the figures are from updatedAt, and this says why. */
  stale?: {since: number; error: string; retryInMs?: number}
  /** Remote only. */
  incident?: {enabled: boolean; expiresAt?: string; samplingPercent?: number}
  /** count, errors and total as on the rows (local sources). */
  totals: {rate: number; errorRate: number; services: number; count?: number; errors?: number; total?: number}
  services: ServiceRow[]
  /** Remote only; undefined for local sources. */
  jobs?: JobRow[]
  slos?: SloRow[]
  /** Series folded into "other" because of the series cap (local sources). */
  folded?: {services: number; routes: number}
  /** Set once a replay has reached the end of its files: the figures will not change any more. */
  finished?: boolean
}

/** A source of snapshots for the dashboard and the plain modes. */
export interface TopSource {
  /** The latest snapshot (computing or fetching it if needed). */
  snapshot(): Promise<TopSnapshot>
  /** Stops polling / listening / replaying; idempotent. */
  close(): Promise<void>
}
