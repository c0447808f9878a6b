/** Builders of OTLP span records and flattened log records for trace tests, times in milliseconds from a fixed start. */
import {encodeLogs, encodeLogsJson, encodeTraces, encodeTracesJson} from '../../src/lib/otlp/index.js'
import type {InstrumentationScope, KeyValue, LogRecordOtlp, Resource, SpanEvent, SpanRecord} from '../../src/lib/otlp/types.js'
import type {LogRecord} from '../../src/services/obs/logs.js'

/** 2026-11-18T11:06:40Z in nanoseconds. */
export const TRACE_START = 1_795_000_000_000n * 1_000_000n

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

/** Milliseconds (fractions allowed) after TRACE_START, in nanoseconds. */
export function at(ms: number): bigint {
  return TRACE_START + BigInt(Math.round(ms * 1e6))
}

export function text(key: string, value: string): KeyValue {
  return {key, value: {kind: 'string', value}}
}

export function resource(service: string, extra: KeyValue[] = []): Resource {
  return {attributes: [text('service.name', service), ...extra], droppedAttributesCount: 0, schemaUrl: ''}
}

export const SCOPE: InstrumentationScope = {name: 'stellaops.test', version: '1.0.0', attributes: [], droppedAttributesCount: 0, schemaUrl: ''}

/** A 16-hex-digit span id from a short name: 'a1' → 'a100000000000000'. */
export function sid(name: string): string {
  return name === '' ? '' : name.padEnd(16, '0')
}

export interface SpanSpec {
  id: string
  parent?: string
  name: string
  resource: Resource
  start: number
  end: number
  error?: string
  attributes?: KeyValue[]
  events?: {at: number; name: string; attributes?: KeyValue[]}[]
  traceId?: string
}

export function span(spec: SpanSpec): SpanRecord {
  const events: SpanEvent[] = (spec.events ?? []).map((event) => ({timeUnixNano: at(event.at), name: event.name, attributes: event.attributes ?? [], droppedAttributesCount: 0}))
  return {
    traceId: spec.traceId ?? TRACE_ID,
    spanId: sid(spec.id),
    parentSpanId: sid(spec.parent ?? ''),
    traceState: '',
    flags: 0,
    name: spec.name,
    kind: 1,
    startTimeUnixNano: at(spec.start),
    endTimeUnixNano: at(spec.end),
    attributes: spec.attributes ?? [],
    droppedAttributesCount: 0,
    events,
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: spec.error === undefined ? {code: 0, message: ''} : {code: 2, message: spec.error},
    resource: spec.resource,
    scope: SCOPE,
  }
}

const SEVERITY: Record<string, number> = {TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21}

export function log(spec: {at: number; level: string; body: string; service: string; span?: string; traceId?: string}): LogRecord {
  return {
    timeUnixNano: String(at(spec.at)),
    severityNumber: SEVERITY[spec.level] ?? 0,
    severityText: spec.level,
    body: {stringValue: spec.body},
    attributes: [],
    traceId: spec.traceId ?? TRACE_ID,
    ...(spec.span === undefined ? {} : {spanId: sid(spec.span)}),
    resource: {attributes: [{key: 'service.name', value: {stringValue: spec.service}}]},
    scope: {name: 'stellaops.test', version: '1.0.0'},
  }
}

export const SERVICES = {
  gateway: resource('api-gateway', [text('service.version', '2.14.1')]),
  policy: resource('policy-engine', [text('service.version', '1.9.0')]),
  store: resource('evidence-store', [text('service.version', '1.4.2')]),
  scheduler: resource('scheduler', [text('service.version', '3.2.4')]),
}

/**
 * A small trace with every feature: nesting, a span running alongside the critical path, an error
 * with an exception event, events and logs under spans, a log with no span, and an orphan.
 */
export function checkoutTrace(): {spans: SpanRecord[]; logs: LogRecord[]} {
  const spans = [
    span({id: 'a1', name: 'GET /checkout', resource: SERVICES.gateway, start: 0, end: 480, attributes: [text('http.route', '/checkout'), {key: 'http.response.status_code', value: {kind: 'int', value: 502n}}]}),
    span({id: 'b1', parent: 'a1', name: 'call policy-engine', resource: SERVICES.gateway, start: 12, end: 460}),
    span({id: 'c1', parent: 'b1', name: 'evaluate', resource: SERVICES.policy, start: 20, end: 450}),
    span({id: 'd1', parent: 'c1', name: 'load rules', resource: SERVICES.policy, start: 25, end: 130, events: [{at: 26, name: 'cache miss', attributes: [text('cache.key', 'rules/acme/policy-1')]}]}),
    span({id: 'e1', parent: 'c1', name: 'SELECT evidence', resource: SERVICES.store, start: 140, end: 440, error: 'connection refused', events: [{at: 439, name: 'exception', attributes: [text('exception.type', 'ConnectionRefused')]}]}),
    span({id: 'f1', parent: 'c1', name: 'audit', resource: SERVICES.policy, start: 30, end: 100}),
    span({id: '91', parent: 'ffff', name: 'job tick', resource: SERVICES.scheduler, start: 300, end: 350}),
  ]
  const logs = [
    log({at: 439.5, level: 'ERROR', body: 'connect ECONNREFUSED evidence-store:5432', service: 'evidence-store', span: 'e1'}),
    log({at: 26.5, level: 'INFO', body: 'load rules started', service: 'policy-engine', span: 'd1'}),
    log({at: 5, level: 'WARN', body: 'request has no tenant header', service: 'api-gateway'}),
  ]
  return {spans, logs}
}

export function otlpLog(spec: {at: number; level: string; body: string; resource: Resource; span?: string; traceId?: string; attributes?: KeyValue[]}): LogRecordOtlp {
  return {
    timeUnixNano: at(spec.at),
    observedTimeUnixNano: at(spec.at + 2),
    severityNumber: SEVERITY[spec.level] ?? 0,
    severityText: spec.level,
    body: {kind: 'string', value: spec.body},
    attributes: spec.attributes ?? [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: spec.traceId ?? TRACE_ID,
    spanId: sid(spec.span ?? ''),
    eventName: '',
    resource: spec.resource,
    scope: SCOPE,
  }
}

/** Another trace in the same files, which `obs trace` must leave out. */
export const OTHER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c'

/**
 * The checkout trace as the OpenTelemetry Collector's file exporter would write it: four export
 * requests (three of spans, one of logs) in the order services flushed them, mixed with records of
 * another trace. test/fixtures/otlp/traces/checkout.{jsonl,pb} are these, in JSON lines and in the
 * length-prefixed proto format.
 */
export function checkoutRequests(): ({signal: 'traces'; records: SpanRecord[]} | {signal: 'logs'; records: LogRecordOtlp[]})[] {
  const [root, call, evaluate, load, select, audit, orphan] = checkoutTrace().spans as [SpanRecord, SpanRecord, SpanRecord, SpanRecord, SpanRecord, SpanRecord, SpanRecord]
  const other = span({id: 'a1', name: 'GET /health', resource: SERVICES.gateway, start: 600, end: 601, traceId: OTHER_TRACE_ID})
  return [
    {signal: 'traces', records: [other, call, root]},
    {
      signal: 'logs',
      records: [
        otlpLog({at: 5, level: 'WARN', body: 'request has no tenant header', resource: SERVICES.gateway}),
        otlpLog({at: 26.5, level: 'INFO', body: 'load rules started', resource: SERVICES.policy, span: 'd1', attributes: [text('policy', 'policy-1')]}),
        otlpLog({at: 600.5, level: 'INFO', body: 'health check passed', resource: SERVICES.gateway, span: 'a1', traceId: OTHER_TRACE_ID}),
        otlpLog({at: 439.5, level: 'ERROR', body: 'connect ECONNREFUSED evidence-store:5432', resource: SERVICES.store, span: 'e1'}),
      ],
    },
    {signal: 'traces', records: [evaluate, load, audit]},
    {signal: 'traces', records: [select, orphan]},
  ]
}

/** The requests as Collector JSON lines. */
export function checkoutJsonLines(): string {
  return checkoutRequests().map((request) => `${request.signal === 'traces' ? encodeTracesJson(request.records) : encodeLogsJson(request.records)}\n`).join('')
}

/** The requests in the Collector's `proto` format: each preceded by its length, 4 bytes big-endian. */
export function checkoutProto(): Buffer {
  const parts: Buffer[] = []
  for (const request of checkoutRequests()) {
    const message = request.signal === 'traces' ? encodeTraces(request.records) : encodeLogs(request.records)
    const length = Buffer.alloc(4)
    length.writeUInt32BE(message.length)
    parts.push(length, Buffer.from(message))
  }

  return Buffer.concat(parts)
}
