/** What the contract server knows, per tenant. Tests may read and change any of it. */
import type {
  AttestationRecord,
  BundleStatus,
  CollectorStatus,
  DsseEnvelopeJson,
  HealthResponse,
  HoldResult,
  IncidentMode,
  LogItem,
  MetricsResponse,
  ProfileName,
  Slo,
  TimelineEventDetail,
} from '../../src/lib/api/types.js'
import type {Manifest} from '../../src/lib/bundle/manifest.js'
import type {TenantId} from './auth.js'

export interface StoredTrace {
  traceId: string
  /** OTLP/JSON ResourceSpans, one per service. */
  resourceSpans: unknown[]
  /** Start of the root span, for export windows. */
  startedAt: Date
}

export interface StoredBundle {
  bundleId: string
  caseId: string
  kind: string
  resourceId: string
  /** What the bundle becomes once polled enough: pending bundles report 'pending' until then. */
  outcome: 'ready' | 'failed'
  status: BundleStatus
  createdAt: string
  /** GETs of the bundle's metadata so far. */
  polls: number
  error?: string
  /** The tar.gz, when the outcome is ready. */
  bytes?: Buffer
  manifest?: Manifest
  envelope?: DsseEnvelopeJson
}

export interface Artifact {
  name: string
  bytes: Buffer
}

export interface TenantState {
  id: TenantId
  /** `generatedAt` is set when answered. */
  health: HealthResponse
  slo: Slo[]
  metrics: MetricsResponse
  traces: StoredTrace[]
  /** Sorted by time, oldest first. */
  logs: LogItem[]
  /** Sorted by ts, then eventId. */
  timeline: TimelineEventDetail[]
  /** In creation order (createdAt, then bundleId): new bundles are appended. */
  bundles: StoredBundle[]
  holds: Record<string, HoldResult>
  artifacts: Artifact[]
  attestations: AttestationRecord[]
  incidentMode: IncidentMode
  telemetry: {profile: ProfileName; collectors: CollectorStatus[]}
}

export interface ServerState {
  /** The seed's "now": seeded logs, traces and events lie before it; relative export windows end at it. */
  anchor: Date
  /** A new snapshot answers 'pending' to this many metadata GETs before it reports its outcome. */
  readyAfterPolls: number
  /** Telemetry exports with Content-Length, ETag and Range support instead of a chunked stream. */
  exportContentLength: boolean
  tenants: Record<TenantId, TenantState>
}
