/**
 * One comparable shape for a span or log record, whether it is what the OpenTelemetry SDK
 * finished (ReadableSpan, ReadableLogRecord) or what stella decoded (SpanRecord, LogRecordOtlp):
 * ids in hex, times as decimal nanoseconds, and values tagged with their OTLP type, so an int that
 * came back as a double, or a time that lost its nanoseconds, is a difference.
 */
import type {HrTime} from '@opentelemetry/api'
import type {ReadableLogRecord} from '@opentelemetry/sdk-logs'
import type {ReadableSpan} from '@opentelemetry/sdk-trace-base'

import type {AnyValue, KeyValue, LogRecordOtlp, SpanRecord} from '../../../src/lib/otlp/types.js'

export type Tagged =
  | {string: string}
  | {int: string}
  | {double: number}
  | {bool: boolean}
  | {bytes: string}
  | {array: Tagged[]}
  | {kvlist: Record<string, Tagged>}
  | {empty: true}

export interface NormalSpan {
  service: string
  scope: string
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  start: string
  end: string
  attributes: Record<string, Tagged>
  events: {name: string; time: string; attributes: Record<string, Tagged>}[]
  links: {traceId: string; spanId: string; attributes: Record<string, Tagged>}[]
  status: {code: number; message: string}
}

export interface NormalLog {
  service: string
  scope: string
  time: string
  observedTime: string
  severityNumber: number
  severityText: string
  body: Tagged | null
  attributes: Record<string, Tagged>
  traceId: string
  spanId: string
  eventName: string
}

const nanos = (time: HrTime): bigint => BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])

/** A JS value as the SDK's OTLP transformer encodes it: integers as int, other numbers as double. */
export function tagJs(value: unknown): Tagged {
  if (typeof value === 'string') return {string: value}
  if (typeof value === 'boolean') return {bool: value}
  if (typeof value === 'number') return Number.isInteger(value) ? {int: String(value)} : {double: value}
  if (value instanceof Uint8Array) return {bytes: Buffer.from(value).toString('base64')}
  if (Array.isArray(value)) return {array: value.map(tagJs)}
  if (value !== null && typeof value === 'object') return {kvlist: tagJsObject(value as Record<string, unknown>)}
  return {empty: true}
}

function tagJsObject(values: Record<string, unknown> | undefined): Record<string, Tagged> {
  return Object.fromEntries(Object.entries(values ?? {}).map(([key, value]) => [key, tagJs(value)]))
}

export function tagOtlp(value: AnyValue): Tagged {
  switch (value.kind) {
    case 'string':
      return {string: value.value}
    case 'bool':
      return {bool: value.value}
    case 'int':
      return {int: value.value.toString()}
    case 'double':
      return {double: value.value}
    case 'bytes':
      return {bytes: Buffer.from(value.value).toString('base64')}
    case 'array':
      return {array: value.value.map(tagOtlp)}
    case 'kvlist':
      return {kvlist: tagOtlpList(value.value)}
    default:
      return {empty: true}
  }
}

function tagOtlpList(values: KeyValue[]): Record<string, Tagged> {
  return Object.fromEntries(values.map((entry) => [entry.key, tagOtlp(entry.value)]))
}

function stringOf(values: KeyValue[], key: string): string {
  const value = values.find((entry) => entry.key === key)?.value
  return value?.kind === 'string' ? value.value : ''
}

export function normalSdkSpan(span: ReadableSpan): NormalSpan {
  return {
    service: String(span.resource.attributes['service.name']),
    scope: `${span.instrumentationScope.name}@${span.instrumentationScope.version ?? ''}`,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    // The API counts from INTERNAL = 0; OTLP from UNSPECIFIED = 0.
    kind: span.kind + 1,
    start: nanos(span.startTime).toString(),
    end: nanos(span.endTime).toString(),
    attributes: tagJsObject(span.attributes),
    events: span.events.map((event) => ({name: event.name, time: nanos(event.time).toString(), attributes: tagJsObject(event.attributes)})),
    links: span.links.map((link) => ({traceId: link.context.traceId, spanId: link.context.spanId, attributes: tagJsObject(link.attributes)})),
    status: {code: span.status.code, message: span.status.message ?? ''},
  }
}

export function normalSpanRecord(span: SpanRecord, shiftNanos = 0n): NormalSpan {
  const time = (value: bigint) => (value - shiftNanos).toString()
  return {
    service: stringOf(span.resource.attributes, 'service.name'),
    scope: `${span.scope.name}@${span.scope.version}`,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    start: time(span.startTimeUnixNano),
    end: time(span.endTimeUnixNano),
    attributes: tagOtlpList(span.attributes),
    events: span.events.map((event) => ({name: event.name, time: time(event.timeUnixNano), attributes: tagOtlpList(event.attributes)})),
    links: span.links.map((link) => ({traceId: link.traceId, spanId: link.spanId, attributes: tagOtlpList(link.attributes)})),
    status: {code: span.status.code, message: span.status.message},
  }
}

export function normalSdkLog(log: ReadableLogRecord): NormalLog {
  return {
    service: String(log.resource.attributes['service.name']),
    scope: `${log.instrumentationScope.name}@${log.instrumentationScope.version ?? ''}`,
    time: nanos(log.hrTime).toString(),
    observedTime: nanos(log.hrTimeObserved).toString(),
    severityNumber: log.severityNumber ?? 0,
    severityText: log.severityText ?? '',
    body: log.body === undefined ? null : tagJs(log.body),
    attributes: tagJsObject(log.attributes as Record<string, unknown>),
    traceId: log.spanContext?.traceId ?? '',
    spanId: log.spanContext?.spanId ?? '',
    eventName: log.eventName ?? '',
  }
}

export function normalLogRecord(log: LogRecordOtlp, shiftNanos = 0n): NormalLog {
  const time = (value: bigint) => (value === 0n ? '0' : (value - shiftNanos).toString())
  return {
    service: stringOf(log.resource.attributes, 'service.name'),
    scope: `${log.scope.name}@${log.scope.version}`,
    time: time(log.timeUnixNano),
    observedTime: time(log.observedTimeUnixNano),
    severityNumber: log.severityNumber,
    severityText: log.severityText,
    body: log.body === undefined ? null : tagOtlp(log.body),
    attributes: tagOtlpList(log.attributes),
    traceId: log.traceId,
    spanId: log.spanId,
    eventName: log.eventName,
  }
}

/** Sorted so that the order of arrival does not matter. */
export function bySpanId(spans: NormalSpan[]): NormalSpan[] {
  return [...spans].sort((a, b) => a.spanId.localeCompare(b.spanId))
}

export function byLogTime(logs: NormalLog[]): NormalLog[] {
  return [...logs].sort((a, b) => (BigInt(a.observedTime) < BigInt(b.observedTime) ? -1 : 1))
}
