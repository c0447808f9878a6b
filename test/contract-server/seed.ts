/**
 * Deterministic seed data for one tenant: services, SLOs, metrics, traces, logs and timeline
 * events. Ids and content depend only on the tenant; times are offsets before the anchor.
 */
import {createHash} from 'node:crypto'

import type {
  HealthResponse,
  JobMetrics,
  LogItem,
  MetricsResponse,
  RouteMetrics,
  ServiceHealth,
  Slo,
  TimelineEventDetail,
} from '../../src/lib/api/types.js'
import {seededRandom} from '../helpers/random.js'
import type {TenantId} from './auth.js'
import {SEVERITY, SPAN_KIND, STATUS_CODE, type SeverityText, attributes, compareUnixNano, unixNano} from './otlp-json.js'
import type {StoredTrace} from './state.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

interface TenantProfile {
  seed: number
  services: ServiceHealth[]
  /** Services a request flows through: entry, worker, store. */
  flow: [string, string, string]
  routes: [method: string, route: string][]
  projects: string[]
  slos: Slo[]
  logCount: number
  eventCount: number
}

const latency = (p50: number, p95: number, p99: number) => ({p50, p95, p99})

const PROFILES: Record<TenantId, TenantProfile> = {
  acme: {
    seed: 0xac3e,
    services: [
      {name: 'api-gateway', version: '2.14.1', status: 'ok', instances: 6, rps: 412.5, errorRate: 0.0021, latencyMs: latency(18, 71, 160), saturation: {cpu: 0.41, queueDepth: 3}},
      {name: 'policy-engine', version: '1.9.0', status: 'degraded', instances: 4, rps: 188.2, errorRate: 0.043, latencyMs: latency(64, 420, 1310), saturation: {cpu: 0.87, queueDepth: 148}},
      {name: 'scheduler', version: '3.2.4', status: 'ok', instances: 2, rps: 21.7, errorRate: 0, latencyMs: latency(9, 30, 52), saturation: {cpu: 0.18, queueDepth: 12}},
      {name: 'evidence-store', version: '1.4.2', status: 'down', instances: 0, rps: 0, errorRate: 1, latencyMs: latency(0, 0, 0), saturation: {cpu: 0, queueDepth: 0}},
      {name: 'telemetry-collector', version: '0.114.0', status: 'ok', instances: 3, rps: 2304.9, errorRate: 0.0004, latencyMs: latency(2, 6, 11), saturation: {cpu: 0.33, queueDepth: 410}},
    ],
    flow: ['api-gateway', 'policy-engine', 'evidence-store'],
    routes: [['POST', '/v1/evaluations'], ['GET', '/v1/evaluations/{id}'], ['POST', '/v1/jobs'], ['GET', '/v1/evidence/{id}']],
    projects: ['payments', 'checkout', 'platform'],
    slos: [
      {id: 'slo-acme-gw-avail', service: 'api-gateway', journey: 'checkout', objective: '99.9% of gateway requests succeed', target: 0.999, window: '30d', sli: 0.9993, burnRate: {'1h': 0.6, '6h': 0.8, '24h': 0.7}, errorBudgetRemaining: 0.71, status: 'ok'},
      {id: 'slo-acme-eval-latency', service: 'policy-engine', journey: 'policy evaluation', objective: '99% of evaluations finish within 500 ms', target: 0.99, window: '7d', sli: 0.9871, burnRate: {'1h': 7.9, '6h': 6.4, '24h': 3.1}, errorBudgetRemaining: 0.18, status: 'warning'},
      {id: 'slo-acme-evidence-avail', service: 'evidence-store', journey: 'evidence export', objective: '99.5% of evidence reads succeed', target: 0.995, window: '30d', sli: 0.9612, burnRate: {'1h': 38.2, '6h': 21.5, '24h': 9.8}, errorBudgetRemaining: -0.42, status: 'breach'},
      {id: 'slo-acme-sched-fresh', service: 'scheduler', journey: 'job scheduling', objective: '99% of jobs start within 60 s', target: 0.99, window: '7d', sli: 0.9957, burnRate: {'1h': 0.2, '6h': 0.4, '24h': 0.5}, errorBudgetRemaining: 0.88, status: 'ok'},
      {id: 'slo-acme-ingest', service: 'telemetry-collector', journey: 'telemetry ingest', objective: '99.99% of spans are accepted', target: 0.9999, window: '30d', sli: 0.99991, burnRate: {'1h': 1.2, '6h': 0.9, '24h': 0.8}, errorBudgetRemaining: 0.63, status: 'ok'},
    ],
    logCount: 360,
    eventCount: 300,
  },
  globex: {
    seed: 0x61b3,
    services: [
      {name: 'edge-proxy', version: '5.0.3', status: 'ok', instances: 4, rps: 903.1, errorRate: 0.0009, latencyMs: latency(4, 15, 33), saturation: {cpu: 0.52, queueDepth: 0}},
      {name: 'ledger-api', version: '8.1.0', status: 'degraded', instances: 3, rps: 120.4, errorRate: 0.027, latencyMs: latency(40, 310, 890), saturation: {cpu: 0.91, queueDepth: 57}},
      {name: 'report-builder', version: '2.3.7', status: 'ok', instances: 2, rps: 8.3, errorRate: 0.0012, latencyMs: latency(210, 900, 1800), saturation: {cpu: 0.46, queueDepth: 9}},
      {name: 'batch-runner', version: '1.0.9', status: 'down', instances: 0, rps: 0, errorRate: 1, latencyMs: latency(0, 0, 0), saturation: {cpu: 0, queueDepth: 0}},
    ],
    flow: ['edge-proxy', 'ledger-api', 'report-builder'],
    routes: [['POST', '/v2/ledger/entries'], ['GET', '/v2/ledger/entries/{id}'], ['POST', '/v2/reports'], ['GET', '/v2/reports/{id}']],
    projects: ['ledger', 'hr-portal'],
    slos: [
      {id: 'slo-globex-edge-avail', service: 'edge-proxy', journey: 'sign-in', objective: '99.95% of edge requests succeed', target: 0.9995, window: '30d', sli: 0.99962, burnRate: {'1h': 0.9, '6h': 0.7, '24h': 0.8}, errorBudgetRemaining: 0.66, status: 'ok'},
      {id: 'slo-globex-ledger-latency', service: 'ledger-api', journey: 'post ledger entry', objective: '99% of entries post within 300 ms', target: 0.99, window: '7d', sli: 0.9884, burnRate: {'1h': 6.8, '6h': 6.1, '24h': 2.2}, errorBudgetRemaining: 0.22, status: 'warning'},
      {id: 'slo-globex-batch', service: 'batch-runner', journey: 'nightly close', objective: '99% of batch runs succeed', target: 0.99, window: '30d', sli: 0.93, burnRate: {'1h': 52, '6h': 30.1, '24h': 14.9}, errorBudgetRemaining: -1.3, status: 'breach'},
      {id: 'slo-globex-reports', service: 'report-builder', journey: 'monthly report', objective: '95% of reports build within 10 s', target: 0.95, window: '30d', sli: 0.981, burnRate: {'1h': 0.3, '6h': 0.3, '24h': 0.4}, errorBudgetRemaining: 0.9, status: 'ok'},
    ],
    logCount: 320,
    eventCount: 264,
  },
}

export interface TenantSeed {
  health: HealthResponse
  slo: Slo[]
  metrics: MetricsResponse
  traces: StoredTrace[]
  logs: LogItem[]
}

/** Bundles the timeline refers to: resourceId → bundleId. */
export type BundleRefs = {bundleId: string; kind: string; resourceId: string; caseId: string}[]

export function seedObservability(tenant: TenantId, anchor: Date): TenantSeed {
  const profile = PROFILES[tenant]
  const random = seededRandom(profile.seed)
  const traces = seedTraces(tenant, profile, anchor.getTime(), random)
  return {
    health: {generatedAt: anchor.toISOString(), services: profile.services.map((s) => structuredClone(s))},
    slo: profile.slos.map((slo) => structuredClone(slo)),
    metrics: seedMetrics(profile, anchor, random),
    traces,
    logs: seedLogs(tenant, profile, anchor.getTime(), traces, random),
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

function seedMetrics(profile: TenantProfile, anchor: Date, random: () => number): MetricsResponse {
  const routes: RouteMetrics[] = []
  for (const [index, [method, route]] of profile.routes.entries()) {
    const service = profile.services[index % 2]!
    const p50 = Math.round(5 + random() * 80)
    routes.push({
      service: service.name,
      route,
      method,
      rps: round(5 + random() * 300, 1),
      errorRate: round(service.status === 'degraded' ? 0.02 + random() * 0.05 : random() * 0.004, 4),
      latencyMs: latency(p50, Math.round(p50 * (3 + random() * 3)), Math.round(p50 * (8 + random() * 6))),
    })
  }

  const queues = profile.flow.map((name) => `${name}.work`)
  const jobs: JobMetrics[] = queues.map((queue, i) => ({
    queue,
    depth: Math.round(random() * (i === 1 ? 900 : 40)),
    running: 1 + Math.round(random() * 8),
    succeededPerMin: round(10 + random() * 120, 1),
    failedPerMin: round(i === 1 ? 3 + random() * 5 : random() * 0.5, 1),
    oldestAgeSeconds: Math.round(random() * (i === 1 ? 1800 : 60)),
  }))
  return {generatedAt: anchor.toISOString(), routes, jobs}
}

function hex(random: () => number, bytes: number): string {
  let text = ''
  for (let i = 0; i < bytes; i++) text += Math.floor(random() * 256).toString(16).padStart(2, '0')
  return text
}

interface SpanSeed {
  service: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startMs: number
  endMs: number
  attributes: Record<string, string | number | boolean>
  events?: {atMs: number; name: string; attributes: Record<string, string | number | boolean>}[]
  error?: string
}

const TRACE_COUNT = 5

function seedTraces(tenant: TenantId, profile: TenantProfile, anchorMs: number, random: () => number): StoredTrace[] {
  const traces: StoredTrace[] = []
  const [entry, worker, store] = profile.flow
  for (let i = 0; i < TRACE_COUNT; i++) {
    const traceId = hex(random, 16)
    const [method, route] = profile.routes[i % profile.routes.length]!
    const failed = i === 1
    const start = anchorMs - (i * 7 + 3) * 17 * MINUTE - Math.floor(random() * MINUTE)
    const ids = Array.from({length: 5}, () => hex(random, 8))
    const spans: SpanSeed[] = [
      {service: entry, spanId: ids[0]!, name: `${method} ${route}`, kind: SPAN_KIND.server, startMs: start, endMs: start + 480,
        attributes: {'http.request.method': method, 'http.route': route, 'http.response.status_code': failed ? 502 : 200, 'stellaops.tenant': tenant},
        ...(failed ? {error: 'upstream returned 503'} : {})},
      {service: entry, spanId: ids[1]!, parentSpanId: ids[0], name: `call ${worker}`, kind: SPAN_KIND.client, startMs: start + 12, endMs: start + 460,
        attributes: {'server.address': worker, 'rpc.system': 'grpc'}},
      {service: worker, spanId: ids[2]!, parentSpanId: ids[1], name: 'evaluate', kind: SPAN_KIND.server, startMs: start + 20, endMs: start + 450,
        attributes: {'stellaops.policy': `policy-${i + 1}`, 'stellaops.rules': 40 + i * 3}},
      {service: worker, spanId: ids[3]!, parentSpanId: ids[2], name: 'load rules', kind: SPAN_KIND.internal, startMs: start + 25, endMs: start + 130,
        attributes: {'cache.hit': false},
        events: [{atMs: start + 26, name: 'cache miss', attributes: {'cache.key': `rules/${tenant}/policy-${i + 1}`}}]},
      {service: store, spanId: ids[4]!, parentSpanId: ids[2], name: 'SELECT evidence', kind: SPAN_KIND.client, startMs: start + 140, endMs: start + 440,
        attributes: {'db.system': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'evidence'},
        ...(failed
          ? {error: 'connection refused', events: [{atMs: start + 439, name: 'exception', attributes: {'exception.type': 'ConnectionRefused', 'exception.message': `connect ECONNREFUSED ${store}:5432`}}]}
          : {})},
    ]
    traces.push({traceId, resourceSpans: resourceSpansOf(tenant, profile, traceId, spans), startedAt: new Date(start)})
  }

  return traces
}

function resourceOf(tenant: TenantId, profile: TenantProfile, service: string) {
  const version = profile.services.find((s) => s.name === service)?.version ?? '1.0.0'
  return {attributes: attributes({'service.name': service, 'service.version': version, 'deployment.environment.name': 'production', 'stellaops.tenant': tenant})}
}

function scopeOf(service: string) {
  return {name: `stellaops.${service}`, version: '1.0.0'}
}

function resourceSpansOf(tenant: TenantId, profile: TenantProfile, traceId: string, spans: SpanSeed[]): unknown[] {
  const services = [...new Set(spans.map((s) => s.service))]
  return services.map((service) => ({
    resource: resourceOf(tenant, profile, service),
    scopeSpans: [{
      scope: scopeOf(service),
      spans: spans.filter((s) => s.service === service).map((s) => ({
        traceId,
        spanId: s.spanId,
        ...(s.parentSpanId ? {parentSpanId: s.parentSpanId} : {}),
        name: s.name,
        kind: s.kind,
        startTimeUnixNano: unixNano(s.startMs),
        endTimeUnixNano: unixNano(s.endMs),
        attributes: attributes(s.attributes),
        events: (s.events ?? []).map((e) => ({timeUnixNano: unixNano(e.atMs), name: e.name, attributes: attributes(e.attributes)})),
        status: s.error ? {code: STATUS_CODE.error, message: s.error} : {code: STATUS_CODE.ok},
      })),
    }],
  }))
}

const MESSAGES: Record<SeverityText, string[]> = {
  TRACE: ['entering handler'],
  DEBUG: ['cache lookup for policy rules', 'opened connection from pool', 'config reloaded, no changes'],
  INFO: ['request completed', 'evaluation finished', 'job picked up from queue', 'export written to object store', 'health check passed'],
  WARN: ['queue depth above threshold', 'slow query took longer than 250 ms', 'retrying export after timeout'],
  ERROR: ['connection refused by upstream', 'checksum mismatch on stored object', 'evaluation aborted: rule compile error'],
  FATAL: ['worker out of memory, exiting'],
}

function pickLevel(random: () => number): SeverityText {
  const r = random()
  if (r < 0.04) return 'TRACE'
  if (r < 0.2) return 'DEBUG'
  if (r < 0.75) return 'INFO'
  if (r < 0.9) return 'WARN'
  if (r < 0.99) return 'ERROR'
  return 'FATAL'
}

function logItem(tenant: TenantId, profile: TenantProfile, service: string, timeMs: number, nanos: number, level: SeverityText, message: string, extra: Record<string, string | number | boolean>, trace?: {traceId: string; spanId: string}): LogItem {
  return {
    timeUnixNano: unixNano(timeMs, nanos),
    observedTimeUnixNano: unixNano(timeMs + 3, nanos),
    severityNumber: SEVERITY[level],
    severityText: level,
    body: {stringValue: message},
    attributes: attributes(extra),
    ...(trace ? {traceId: trace.traceId, spanId: trace.spanId} : {}),
    resource: resourceOf(tenant, profile, service),
    scope: scopeOf(service),
  }
}

const LOG_SPAN = 3 * DAY

function seedLogs(tenant: TenantId, profile: TenantProfile, anchorMs: number, traces: StoredTrace[], random: () => number): LogItem[] {
  const logs: LogItem[] = []
  const step = LOG_SPAN / profile.logCount
  for (let j = 0; j < profile.logCount; j++) {
    const service = profile.services[Math.floor(random() * profile.services.length)]!.name
    const level = pickLevel(random)
    const messages = MESSAGES[level]
    const message = messages[Math.floor(random() * messages.length)]!
    const time = Math.floor(anchorMs - LOG_SPAN + j * step + random() * step * 0.9)
    logs.push(logItem(tenant, profile, service, time, j, level, message, {'code.function': `${service.replace(/-/g, '_')}.handle`, 'log.seq': j}))
  }

  // One record per span of every trace, so `obs trace` has logs to show.
  for (const trace of traces) {
    for (const resource of trace.resourceSpans as {resource: {attributes: {key: string; value: {stringValue?: string}}[]}; scopeSpans: {spans: {spanId: string; name: string; startTimeUnixNano: string; status: {code: number; message?: string}}[]}[]}[]) {
      const service = resource.resource.attributes.find((a) => a.key === 'service.name')!.value.stringValue!
      for (const span of resource.scopeSpans[0]!.spans) {
        const failed = span.status.code === STATUS_CODE.error
        const time = Number(BigInt(span.startTimeUnixNano) / 1_000_000n) + 1
        const message = failed ? `${span.name} failed: ${span.status.message}` : `${span.name} started`
        logs.push(logItem(tenant, profile, service, time, 500 + logs.length, failed ? 'ERROR' : 'INFO', message, {'span.name': span.name}, {traceId: trace.traceId, spanId: span.spanId}))
      }
    }
  }

  return logs.sort((a, b) => compareUnixNano(a.timeUnixNano as string, b.timeUnixNano as string))
}

const TIMELINE_SPAN = 7 * DAY

interface EventTemplate {
  kind: string
  resourceType: string
  actor: string
  details: (n: number, random: () => number) => Record<string, unknown>
}

const EVENT_TEMPLATES: EventTemplate[] = [
  {kind: 'policy.evaluated', resourceType: 'evaluation', actor: 'svc:policy-engine', details: (n, r) => ({policy: `policy-${1 + (n % 6)}`, decision: r() < 0.8 ? 'allow' : 'deny', rules: 30 + (n % 17)})},
  {kind: 'job.started', resourceType: 'job', actor: 'svc:scheduler', details: (n) => ({queue: 'default', attempt: 1 + (n % 3)})},
  {kind: 'job.completed', resourceType: 'job', actor: 'svc:scheduler', details: (n, r) => ({durationMs: Math.round(200 + r() * 9000), outputs: 1 + (n % 4)})},
  {kind: 'job.failed', resourceType: 'job', actor: 'svc:scheduler', details: () => ({error: 'exit status 1', retryable: true})},
  {kind: 'export.created', resourceType: 'export', actor: 'user:u-1042', details: (n) => ({format: n % 2 ? 'csv' : 'json', rows: 100 + n * 7})},
  {kind: 'deploy.completed', resourceType: 'deployment', actor: 'ci:pipeline-77', details: (n) => ({version: `2.${n % 20}.${n % 7}`, environment: 'production'})},
]

export function seedTimeline(tenant: TenantId, anchor: Date, traces: StoredTrace[], bundles: BundleRefs): TimelineEventDetail[] {
  const profile = PROFILES[tenant]
  const random = seededRandom(profile.seed ^ 0x5eed)
  const anchorMs = anchor.getTime()
  const step = Math.floor(TIMELINE_SPAN / profile.eventCount)
  const events: TimelineEventDetail[] = []
  const ids = new Set<string>()
  let ts = 0
  for (let k = 0; k < profile.eventCount; k++) {
    // Every seventh event shares its timestamp with the one before: order then falls to eventId.
    if (k % 7 !== 6) ts = anchorMs - TIMELINE_SPAN + k * step + Math.floor(random() * (step / 2))
    let eventId: string
    do eventId = `evt_${hex(random, 8)}`
    while (ids.has(eventId))
    ids.add(eventId)

    const bundle = k % 40 === 20 ? bundles[Math.floor(k / 40) % bundles.length] : undefined
    const template = EVENT_TEMPLATES[Math.floor(random() * EVENT_TEMPLATES.length)]!
    const seededTrace = k % 25 === 10 ? traces[Math.floor(k / 25) % traces.length] : undefined
    const traceId = seededTrace?.traceId ?? hex(random, 16)
    const base = bundle
      ? {kind: 'evidence.snapshot.ready', actor: 'svc:evidence-locker', resourceType: 'bundle', resourceId: bundle.bundleId, details: {caseId: bundle.caseId, bundleKind: bundle.kind, subject: bundle.resourceId}}
      : {kind: template.kind, actor: template.actor, resourceType: template.resourceType, resourceId: `${template.resourceType}-${1000 + Math.floor(random() * 9000)}`, details: template.details(k, random)}
    const event = {
      eventId,
      ts: new Date(ts).toISOString(),
      tenantId: tenant,
      projectId: profile.projects[k % profile.projects.length]!,
      ...base,
      traceId,
      digest: '',
    }
    event.digest = `sha256:${createHash('sha256').update(JSON.stringify(event)).digest('hex')}`
    const links: TimelineEventDetail['links'] = {}
    if (seededTrace) links.trace = `/obs/trace/${seededTrace.traceId}`
    if (bundle) links.evidence = `/evidence/${bundle.bundleId}`
    events.push({...event, links})
  }

  return events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))
}

/** OTLP/JSON attribute value of a flattened log item's resource, e.g. its service.name. */
export function resourceAttribute(item: LogItem, key: string): string | undefined {
  const resource = item.resource as {attributes?: {key: string; value: {stringValue?: string}}[]} | undefined
  return resource?.attributes?.find((a) => a.key === key)?.value.stringValue
}

