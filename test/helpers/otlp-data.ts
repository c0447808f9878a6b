/**
 * Telemetry test data made without stella's own encoders where it can be: spans and log records as
 * OTLP/JSON, encoded to protobuf by the contract server's hand-written encoder, framed the way the
 * Collector file exporter frames them, and signed into telemetry bundles.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {encodeMetrics} from '../../src/lib/otlp/index.js'
import type {MetricRecord, Signal} from '../../src/lib/otlp/types.js'
import {createSnapshot} from '../../src/services/forensic/snapshot.js'
import {type AttributeValue, attributes, unixNano} from '../contract-server/otlp-json.js'
import {encodeLogsRequest, encodeTraceRequest, lengthPrefixed} from '../contract-server/otlp-proto.js'

export interface SpanSpec {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  startMs: number
  endMs: number
  attributes?: Record<string, AttributeValue>
  events?: {name: string; timeMs: number}[]
}

export interface LogSpec {
  timeMs: number
  /** 0 leaves the observed time unset. */
  observedMs?: number
  severityText: 'INFO' | 'WARN' | 'ERROR'
  body: string
  traceId?: string
  spanId?: string
}

const SEVERITY = {INFO: 9, WARN: 13, ERROR: 17} as const

/** OTLP/JSON ResourceSpans of one service and one scope. */
export function resourceSpans(service: string, spans: readonly SpanSpec[]): unknown[] {
  return [
    {
      resource: {attributes: attributes({'service.name': service})},
      scopeSpans: [
        {
          scope: {name: 'fixture', version: '1.0.0'},
          spans: spans.map((span) => ({
            traceId: span.traceId,
            spanId: span.spanId,
            ...(span.parentSpanId ? {parentSpanId: span.parentSpanId} : {}),
            name: span.name,
            kind: 2,
            startTimeUnixNano: unixNano(span.startMs),
            endTimeUnixNano: unixNano(span.endMs),
            attributes: attributes(span.attributes ?? {}),
            events: (span.events ?? []).map((event) => ({name: event.name, timeUnixNano: unixNano(event.timeMs)})),
            status: {code: 0},
          })),
        },
      ],
    },
  ]
}

export function resourceLogs(service: string, logs: readonly LogSpec[]): unknown[] {
  return [
    {
      resource: {attributes: attributes({'service.name': service})},
      scopeLogs: [
        {
          scope: {name: 'fixture-logs'},
          logRecords: logs.map((log) => ({
            timeUnixNano: unixNano(log.timeMs),
            ...(log.observedMs === 0 ? {} : {observedTimeUnixNano: unixNano(log.observedMs ?? log.timeMs)}),
            severityNumber: SEVERITY[log.severityText],
            severityText: log.severityText,
            body: {stringValue: log.body},
            ...(log.traceId ? {traceId: log.traceId, spanId: log.spanId} : {}),
          })),
        },
      ],
    },
  ]
}

export const tracesProto = (service: string, spans: readonly SpanSpec[]): Buffer => encodeTraceRequest(resourceSpans(service, spans))
export const logsProto = (service: string, logs: readonly LogSpec[]): Buffer => encodeLogsRequest(resourceLogs(service, logs))

/** One line of the Collector file exporter's JSON format. */
export const tracesJsonLine = (service: string, spans: readonly SpanSpec[]): string => `${JSON.stringify({resourceSpans: resourceSpans(service, spans)})}\n`
export const logsJsonLine = (service: string, logs: readonly LogSpec[]): string => `${JSON.stringify({resourceLogs: resourceLogs(service, logs)})}\n`

/** A gauge with one point per time (ms), values 1, 2, 3, …, encoded by stella's encoder (there is no other here). */
export function gaugeProto(service: string, name: string, timesMs: readonly number[]): Buffer {
  const resource = {attributes: [{key: 'service.name', value: {kind: 'string' as const, value: service}}], droppedAttributesCount: 0, schemaUrl: ''}
  const scope = {name: 'fixture-metrics', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
  const metric: MetricRecord = {
    name,
    description: '',
    unit: '1',
    metadata: [],
    resource,
    scope,
    data: {
      type: 'gauge',
      dataPoints: timesMs.map((ms, index) => ({
        attributes: [],
        startTimeUnixNano: 0n,
        timeUnixNano: BigInt(ms) * 1_000_000n,
        value: {kind: 'int' as const, value: BigInt(index + 1)},
        exemplars: [],
        flags: 0,
      })),
    },
  }
  return Buffer.from(encodeMetrics([metric]))
}

export {lengthPrefixed}

/** A signed telemetry bundle at `out` holding the given messages, length-prefixed, one file per signal. */
export async function writeTelemetryBundle(
  out: string,
  messages: Partial<Record<Signal, Buffer[]>>,
  options: {keyPath: string; window?: {from: string; to: string}; caseId?: string},
): Promise<void> {
  const dir = mkdtempSync(`${out}.content-`)
  try {
    mkdirSync(join(dir, 'otlp'))
    for (const [signal, list] of Object.entries(messages)) writeFileSync(join(dir, 'otlp', `${signal}.pb`), lengthPrefixed(list))
    await createSnapshot({
      from: [dir],
      keyPaths: [options.keyPath],
      caseId: options.caseId ?? 'case-replay',
      kind: 'telemetry',
      tenant: 'acme',
      createdAt: '2026-11-22T12:00:00Z',
      window: options.window ?? {from: '2026-11-22T09:00:00.000Z', to: '2026-11-22T11:00:00.000Z'},
      out,
      force: false,
    })
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
