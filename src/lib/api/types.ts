/**
 * The shapes of the StellaOps server API (spec/api.md) as the CLI consumes them, and the options
 * of the one client every remote command uses. Field names follow the wire exactly.
 */

/** RFC 9457 problem document, with the StellaOps extensions. */
export interface ProblemDocument {
  type?: string
  title?: string
  status?: number
  detail?: string
  instance?: string
  /** The missing scope of a 403, e.g. `stella:evidence:export#tenant/acme`. */
  scope?: string
  /** A machine reason, e.g. `window_too_long` for the logs guardrail. */
  reason?: string
  traceId?: string
}

/** A cursor-paginated list page. */
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface DsseEnvelopeJson {
  payloadType: string
  payload: string
  signatures: {keyid?: string; sig: string}[]
}

// ---------------------------------------------------------------------------------------
// Observability
// ---------------------------------------------------------------------------------------

export type ServiceStatus = 'ok' | 'degraded' | 'down'

export interface LatencyMs {
  p50: number
  p95: number
  p99: number
}

export interface ServiceHealth {
  name: string
  version: string
  status: ServiceStatus
  instances: number
  rps: number
  errorRate: number
  latencyMs: LatencyMs
  saturation: {cpu: number; queueDepth: number}
}

export interface HealthResponse {
  generatedAt: string
  services: ServiceHealth[]
}

export type SloStatus = 'ok' | 'warning' | 'breach'

export interface Slo {
  id: string
  service: string
  journey: string
  objective: string
  target: number
  window: string
  sli: number
  burnRate: {'1h': number; '6h': number; '24h': number}
  errorBudgetRemaining: number
  status: SloStatus
}

export interface SloResponse {
  items: Slo[]
}

export interface RouteMetrics {
  service: string
  route: string
  method: string
  rps: number
  errorRate: number
  latencyMs: LatencyMs
}

export interface JobMetrics {
  queue: string
  depth: number
  running: number
  succeededPerMin: number
  failedPerMin: number
  oldestAgeSeconds: number
}

export interface MetricsResponse {
  generatedAt: string
  routes: RouteMetrics[]
  jobs: JobMetrics[]
}

export interface TraceResponse {
  traceId: string
  deepLink: string
  /** OTLP/JSON ResourceSpans. */
  resourceSpans: unknown[]
}

/** An OTLP/JSON LogRecord flattened with its resource and scope attributes. */
export type LogItem = Record<string, unknown>

// ---------------------------------------------------------------------------------------
// Timeline
// ---------------------------------------------------------------------------------------

export interface TimelineEvent {
  eventId: string
  ts: string
  tenantId: string
  projectId: string
  kind: string
  actor: string
  resourceType: string
  resourceId: string
  traceId: string
  digest: string
  details: Record<string, unknown>
}

export interface TimelineEventDetail extends TimelineEvent {
  links: {trace?: string; evidence?: string}
}

// ---------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------

/** The kinds a server snapshot can be asked for (`telemetry` bundles come from the exports endpoint). */
export type SnapshotKind = 'evaluation' | 'job' | 'export'
export type BundleStatus = 'pending' | 'ready' | 'failed'

export interface BundleMetadata {
  bundleId: string
  caseId: string
  kind: string
  status: BundleStatus
  rootHash: string
  signerKeyId: string
  createdAt: string
  error?: string
}

export interface BundleDetail extends BundleMetadata {
  /** The bundle's manifest.json object. */
  manifest: unknown
  envelope: DsseEnvelopeJson
}

export interface ServerVerifyResult {
  bundleId: string
  verified: boolean
  checks: {name: string; ok: boolean; detail: string}[]
}

export interface HoldResult {
  caseId: string
  hold: boolean
  reason: string
  changedAt: string
}

// ---------------------------------------------------------------------------------------
// Attestations
// ---------------------------------------------------------------------------------------

export interface AttestationRecord {
  id: string
  subjectId: string
  /** `sha256:<hex>` */
  subjectDigest: string
  signerKeyId: string
  createdAt: string
  envelope: DsseEnvelopeJson
}

export interface AttestationVerifyResult {
  verified: boolean
  checks: {name: string; ok: boolean; detail: string}[]
}

// ---------------------------------------------------------------------------------------
// Telemetry
// ---------------------------------------------------------------------------------------

export type ProfileName = 'default' | 'forensic' | 'airgap'

/** payloadType of a signed collector profile. */
export const COLLECTOR_CONFIG_PAYLOAD_TYPE = 'application/vnd.stellaops.collector-config+yaml'

export interface ProfileResponse {
  name: string
  version: string
  /** The collector YAML. */
  config: string
  /** DSSE envelope whose payload is the YAML bytes. */
  envelope: DsseEnvelopeJson
}

export interface IncidentMode {
  enabled: boolean
  expiresAt: string | null
  samplingPercent: number
  reason: string | null
  changedBy: string | null
}

export interface CollectorStatus {
  name: string
  healthy: boolean
  lastSeen: string
  exportFailures: number
  queueSize: number
  queueCapacity: number
}

export interface TelemetryStatus {
  profile: string
  profileVersion: string
  incidentMode: {enabled: boolean; expiresAt: string | null; samplingPercent: number}
  collectors: CollectorStatus[]
}
