/** Signed collector profiles, pipeline status, incident mode and forensic telemetry exports. */
import {COLLECTOR_CONFIG_PAYLOAD_TYPE, type CollectorStatus, type IncidentMode, type LogItem, type ProfileName, type ProfileResponse} from '../../src/lib/api/types.js'
import {signEnvelope} from '../../src/lib/dsse/index.js'
import type {Ed25519PrivateKey} from '../../src/lib/keys/index.js'
import type {TenantId} from './auth.js'
import {type BuiltBundle, type EvidenceFile, buildBundle, bundleTime} from './evidence.js'
import {compareUnixNano, msOfUnixNano, resourceLogsOf} from './otlp-json.js'
import {encodeLogsRequest, encodeTraceRequest, lengthPrefixed} from './otlp-proto.js'
import {badRequest} from './problems.js'
import type {StoredTrace, TenantState} from './state.js'

export const PROFILE_NAMES: readonly ProfileName[] = ['default', 'forensic', 'airgap']

const PROFILE_VERSIONS: Record<ProfileName, string> = {default: '1.4.0', forensic: '1.4.0', airgap: '1.2.1'}

/** Sampling when incident mode is off, per profile; incident mode samples everything. */
const BASE_SAMPLING: Record<ProfileName, number> = {default: 10, forensic: 100, airgap: 25}

const RECEIVERS = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
`

function processors(name: ProfileName): string {
  const memory = {default: [1536, 512], forensic: [3072, 768], airgap: [1024, 256]}[name]
  const batch = {default: [8192, '5s'], forensic: [2048, '1s'], airgap: [16384, '30s']}[name]
  const policies = {
    default: `      - name: errors
        type: status_code
        status_code:
          status_codes: [ERROR]
      - name: slow
        type: latency
        latency:
          threshold_ms: 500
      - name: baseline
        type: probabilistic
        probabilistic:
          sampling_percentage: 10
`,
    forensic: `      - name: everything
        type: always_sample
`,
    airgap: `      - name: errors
        type: status_code
        status_code:
          status_codes: [ERROR]
      - name: baseline
        type: probabilistic
        probabilistic:
          sampling_percentage: 25
`,
  }[name]
  return `processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: ${memory[0]}
    spike_limit_mib: ${memory[1]}
  batch:
    send_batch_size: ${batch[0]}
    timeout: ${batch[1]}
  tail_sampling:
    decision_wait: ${name === 'forensic' ? '30s' : '10s'}
    num_traces: ${name === 'forensic' ? 200000 : 50000}
    policies:
${policies}`
}

function exporters(name: ProfileName): {text: string; names: string[]} {
  const gateway = `  otlphttp/stellaops:
    endpoint: https://telemetry.stellaops.internal:4318
    tls:
      ca_file: /etc/stellaops/ca.pem
    retry_on_failure:
      enabled: true
      max_elapsed_time: 300s
`
  const file = `  file/forensic:
    path: /var/lib/stellaops/forensic/otlp.jsonl
    format: json
    rotation:
      max_megabytes: 512
      max_backups: 20
`
  if (name === 'default') return {text: `exporters:\n${gateway}`, names: ['otlphttp/stellaops']}
  if (name === 'forensic') return {text: `exporters:\n${gateway}${file}`, names: ['otlphttp/stellaops', 'file/forensic']}
  return {text: `exporters:\n${file}`, names: ['file/forensic']}
}

/** OpenTelemetry Collector YAML for a profile: the exact bytes that are signed. */
export function profileYaml(name: ProfileName): string {
  const out = exporters(name)
  const list = `[${out.names.join(', ')}]`
  return `# StellaOps collector profile "${name}", version ${PROFILE_VERSIONS[name]}
${RECEIVERS}${processors(name)}${out.text}service:
  telemetry:
    logs:
      level: info
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tail_sampling, batch]
      exporters: ${list}
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: ${list}
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: ${list}
`
}

export function profileResponse(name: ProfileName, key: Ed25519PrivateKey): ProfileResponse {
  const config = profileYaml(name)
  return {name, version: PROFILE_VERSIONS[name], config, envelope: signEnvelope(COLLECTOR_CONFIG_PAYLOAD_TYPE, Buffer.from(config, 'utf8'), [key])}
}

export function profileVersion(name: ProfileName): string {
  return PROFILE_VERSIONS[name]
}

export function seedCollectors(tenant: TenantId, anchor: Date): CollectorStatus[] {
  const seen = (secondsAgo: number) => new Date(anchor.getTime() - secondsAgo * 1000).toISOString()
  if (tenant === 'acme') {
    return [
      {name: 'otel-gateway-0', healthy: true, lastSeen: seen(4), exportFailures: 0, queueSize: 120, queueCapacity: 5000},
      {name: 'otel-gateway-1', healthy: true, lastSeen: seen(7), exportFailures: 2, queueSize: 310, queueCapacity: 5000},
      {name: 'otel-edge-eu-1', healthy: false, lastSeen: seen(842), exportFailures: 57, queueSize: 4980, queueCapacity: 5000},
    ]
  }

  return [
    {name: 'collector-main', healthy: true, lastSeen: seen(3), exportFailures: 0, queueSize: 40, queueCapacity: 2000},
    {name: 'collector-batch', healthy: false, lastSeen: seen(3600), exportFailures: 12, queueSize: 2000, queueCapacity: 2000},
  ]
}

export function incidentOff(profile: ProfileName): IncidentMode {
  return {enabled: false, expiresAt: null, samplingPercent: BASE_SAMPLING[profile], reason: null, changedBy: null}
}

/** The current mode: an expired incident mode has switched itself off. */
export function currentIncidentMode(tenant: TenantState, now: Date): IncidentMode {
  const mode = tenant.incidentMode
  if (mode.enabled && mode.expiresAt !== null && Date.parse(mode.expiresAt) <= now.getTime()) {
    tenant.incidentMode = {...incidentOff(tenant.telemetry.profile), reason: 'expired', changedBy: mode.changedBy}
  }

  return tenant.incidentMode
}

export const INCIDENT_TTL = {min: 60, max: 86_400, default: 3600}

export function changeIncidentMode(tenant: TenantState, body: unknown, changedBy: string, now: Date): IncidentMode {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid_body', 'The body must be a JSON object {enabled, ttlSeconds?, reason}.')
  const {enabled, ttlSeconds, reason} = body as Record<string, unknown>
  if (typeof enabled !== 'boolean') throw badRequest('invalid_field', 'The field "enabled" must be true or false.')
  if (reason !== undefined && reason !== null && typeof reason !== 'string') throw badRequest('invalid_field', 'The field "reason" must be a string.')
  const why = typeof reason === 'string' ? reason.trim() : ''
  if (!enabled) {
    tenant.incidentMode = {...incidentOff(tenant.telemetry.profile), reason: why === '' ? null : why, changedBy}
    return tenant.incidentMode
  }

  if (why === '') throw badRequest('invalid_field', 'The field "reason" is required when enabling incident mode.')
  if (ttlSeconds !== undefined && (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < INCIDENT_TTL.min || ttlSeconds > INCIDENT_TTL.max)) {
    throw badRequest('invalid_field', `The field "ttlSeconds" must be a whole number from ${INCIDENT_TTL.min} to ${INCIDENT_TTL.max}.`)
  }

  const ttl = (ttlSeconds as number | undefined) ?? INCIDENT_TTL.default
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + ttl * 1000).toISOString().replace('.000Z', 'Z')
  tenant.incidentMode = {enabled: true, expiresAt, samplingPercent: 100, reason: why, changedBy}
  return tenant.incidentMode
}

// ---------------------------------------------------------------------------------------
// Forensic exports
// ---------------------------------------------------------------------------------------

export const MAX_EXPORT_MS = 7 * 24 * 3600 * 1000
const UNIT_MS = {m: 60_000, h: 3_600_000, d: 86_400_000} as const
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export function parseTime(name: string, value: string): Date {
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) throw badRequest('bad_time', `${name} must be an RFC 3339 time such as 2026-11-22T10:00:00Z.`)
  return new Date(value)
}

/** `{window}` is `<n>m|h|d` ending at the anchor, or `custom`; `from`&`to` (together) override it. */
export function exportWindow(window: string, query: Record<string, string>, anchor: Date): {from: Date; to: Date} {
  if (query.from !== undefined || query.to !== undefined) {
    if (query.from === undefined || query.to === undefined) throw badRequest('bad_window', 'Pass both from and to, or neither.')
    const from = parseTime('from', query.from)
    const to = parseTime('to', query.to)
    if (from >= to) throw badRequest('bad_window', 'from must be before to.')
    if (to.getTime() - from.getTime() > MAX_EXPORT_MS) throw badRequest('window_too_long', 'The export window is longer than the maximum of 7d; narrow from/to.')
    return {from, to}
  }

  const match = /^([1-9]\d{0,5})([mhd])$/.exec(window)
  if (!match) throw badRequest('bad_window', `The window "${window}" is not a duration like 15m, 24h or 7d (or "custom" with from and to).`)
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  if (ms > MAX_EXPORT_MS) throw badRequest('window_too_long', `The window ${window} is longer than the maximum of 7d.`)
  return {from: new Date(anchor.getTime() - ms), to: anchor}
}

/** Log records per ExportLogsServiceRequest in otlp/logs.pb. */
const LOG_BATCH = 100

/**
 * The collector file exporter's `proto` format: length-prefixed OTLP protobuf messages.
 * otlp/traces.pb has one ExportTraceServiceRequest per trace; otlp/logs.pb one
 * ExportLogsServiceRequest per 100 records in time order, grouped by resource and scope.
 * An empty file is left out.
 */
function otlpFiles(traces: StoredTrace[], logs: LogItem[]): EvidenceFile[] {
  const files: EvidenceFile[] = []
  if (logs.length > 0) {
    const batches: Buffer[] = []
    for (let start = 0; start < logs.length; start += LOG_BATCH) batches.push(encodeLogsRequest(resourceLogsOf(logs.slice(start, start + LOG_BATCH))))
    files.push({path: 'otlp/logs.pb', bytes: lengthPrefixed(batches)})
  }

  if (traces.length > 0) {
    files.push({path: 'otlp/traces.pb', bytes: lengthPrefixed(traces.map((t) => encodeTraceRequest(t.resourceSpans)))})
  }

  return files
}

export async function buildTelemetryExport(tenant: TenantState, window: {from: Date; to: Date}, caseId: string, createdAt: Date, key: Ed25519PrivateKey): Promise<BuiltBundle> {
  const inWindow = (ms: number) => ms >= window.from.getTime() && ms < window.to.getTime()
  const traces = tenant.traces.filter((t) => inWindow(t.startedAt.getTime()))
  const logs = tenant.logs.filter((l) => inWindow(msOfUnixNano(l.timeUnixNano as string))).sort((a, b) => compareUnixNano(a.timeUnixNano as string, b.timeUnixNano as string))
  const from = window.from.toISOString()
  const to = window.to.toISOString()
  return buildBundle(
    otlpFiles(traces, logs),
    {kind: 'telemetry', tenant: tenant.id, caseId, createdAt: bundleTime(createdAt), subject: {type: 'telemetry', id: `forensic/${from}/${to}`}, window: {from, to}},
    key,
  )
}
