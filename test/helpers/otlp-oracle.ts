/**
 * The test oracle for the OTLP codecs: opentelemetry-proto itself, compiled to a FileDescriptorSet
 * (test/fixtures/otlp/otlp.binpb, rebuilt by scripts/gen-otlp-oracle.sh) and run by
 * @bufbuild/protobuf's reflection-based codec. Its messages are typed here by hand with the shapes
 * protoc-gen-es would generate, and flattened into the records of src/lib/otlp/types.ts by a
 * plain reading of those shapes, so the codec under test can be compared field for field.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {createFileRegistry, fromBinary, type DescMessage} from '@bufbuild/protobuf'
import {FileDescriptorSetSchema} from '@bufbuild/protobuf/wkt'

import type {
  AnyValue,
  Exemplar,
  InstrumentationScope,
  KeyValue,
  LogRecordOtlp,
  MetricData,
  MetricRecord,
  NumberDataPoint,
  Resource,
  Signal,
  SpanRecord,
} from '../../src/lib/otlp/types.js'

export const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(join(import.meta.dirname, '..', 'fixtures', 'otlp', 'otlp.binpb'))))

function message(name: string): DescMessage {
  const desc = registry.getMessage(name)
  if (desc === undefined) throw new Error(`${name} is missing from otlp.binpb`)
  return desc
}

export const requestSchemas: Record<Signal, DescMessage> = {
  traces: message('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  logs: message('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  metrics: message('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
}

export const responseSchemas: Record<Signal, DescMessage> = {
  traces: message('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  logs: message('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
  metrics: message('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
}

// ---------------------------------------------------------------------------------------------
// Message shapes (as protoc-gen-es would generate them)
// ---------------------------------------------------------------------------------------------

export interface OUnknown {
  no: number
  wireType: number
  data: Uint8Array
}

/** Every message may carry unknown fields, which the oracle writes after its known fields. */
export interface OMessage {
  $unknown?: OUnknown[]
}

export type OAnyValueCase =
  | {case: 'stringValue'; value: string}
  | {case: 'boolValue'; value: boolean}
  | {case: 'intValue'; value: bigint}
  | {case: 'doubleValue'; value: number}
  | {case: 'arrayValue'; value: OArrayValue}
  | {case: 'kvlistValue'; value: OKeyValueList}
  | {case: 'bytesValue'; value: Uint8Array}
  | {case: 'stringValueStrindex'; value: number}
  | {case: undefined; value?: undefined}

export interface OAnyValue extends OMessage {
  value: OAnyValueCase
}

export interface OArrayValue extends OMessage {
  values: OAnyValue[]
}

export interface OKeyValueList extends OMessage {
  values: OKeyValue[]
}

export interface OKeyValue extends OMessage {
  key: string
  value?: OAnyValue
  keyStrindex: number
}

export interface OResource extends OMessage {
  attributes: OKeyValue[]
  droppedAttributesCount: number
}

export interface OScope extends OMessage {
  name: string
  version: string
  attributes: OKeyValue[]
  droppedAttributesCount: number
}

export interface OEvent extends OMessage {
  timeUnixNano: bigint
  name: string
  attributes: OKeyValue[]
  droppedAttributesCount: number
}

export interface OLink extends OMessage {
  traceId: Uint8Array
  spanId: Uint8Array
  traceState: string
  attributes: OKeyValue[]
  droppedAttributesCount: number
  flags: number
}

export interface OSpan extends OMessage {
  traceId: Uint8Array
  spanId: Uint8Array
  traceState: string
  parentSpanId: Uint8Array
  flags: number
  name: string
  kind: number
  startTimeUnixNano: bigint
  endTimeUnixNano: bigint
  attributes: OKeyValue[]
  droppedAttributesCount: number
  events: OEvent[]
  droppedEventsCount: number
  links: OLink[]
  droppedLinksCount: number
  status?: {message: string; code: number} & OMessage
}

export interface OLogRecord extends OMessage {
  timeUnixNano: bigint
  observedTimeUnixNano: bigint
  severityNumber: number
  severityText: string
  body?: OAnyValue
  attributes: OKeyValue[]
  droppedAttributesCount: number
  flags: number
  traceId: Uint8Array
  spanId: Uint8Array
  eventName: string
}

export type OPointValue = {case: 'asDouble'; value: number} | {case: 'asInt'; value: bigint} | {case: undefined; value?: undefined}

export interface OExemplar extends OMessage {
  filteredAttributes: OKeyValue[]
  timeUnixNano: bigint
  value: OPointValue
  spanId: Uint8Array
  traceId: Uint8Array
}

export interface ONumberDataPoint extends OMessage {
  attributes: OKeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  value: OPointValue
  exemplars: OExemplar[]
  flags: number
}

export interface OHistogramDataPoint extends OMessage {
  attributes: OKeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  count: bigint
  sum?: number
  bucketCounts: bigint[]
  explicitBounds: number[]
  exemplars: OExemplar[]
  flags: number
  min?: number
  max?: number
}

export interface OBuckets extends OMessage {
  offset: number
  bucketCounts: bigint[]
}

export interface OExponentialHistogramDataPoint extends OMessage {
  attributes: OKeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  count: bigint
  sum?: number
  scale: number
  zeroCount: bigint
  positive?: OBuckets
  negative?: OBuckets
  flags: number
  exemplars: OExemplar[]
  min?: number
  max?: number
  zeroThreshold: number
}

export interface OSummaryDataPoint extends OMessage {
  attributes: OKeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  count: bigint
  sum: number
  quantileValues: ({quantile: number; value: number} & OMessage)[]
  flags: number
}

export type OMetricData =
  | {case: 'gauge'; value: {dataPoints: ONumberDataPoint[]} & OMessage}
  | {case: 'sum'; value: {dataPoints: ONumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean} & OMessage}
  | {case: 'histogram'; value: {dataPoints: OHistogramDataPoint[]; aggregationTemporality: number} & OMessage}
  | {case: 'exponentialHistogram'; value: {dataPoints: OExponentialHistogramDataPoint[]; aggregationTemporality: number} & OMessage}
  | {case: 'summary'; value: {dataPoints: OSummaryDataPoint[]} & OMessage}
  | {case: undefined; value?: undefined}

export interface OMetric extends OMessage {
  name: string
  description: string
  unit: string
  data: OMetricData
  metadata: OKeyValue[]
}

export interface OScopeGroup<R> extends OMessage {
  scope?: OScope
  records: R[]
  schemaUrl: string
}

export interface OResourceGroup<R> extends OMessage {
  resource?: OResource
  scopes: OScopeGroup<R>[]
  schemaUrl: string
}

/** The field names of each signal's request, resource group and scope group. */
export const FIELD_NAMES = {
  traces: {groups: 'resourceSpans', scopes: 'scopeSpans', records: 'spans'},
  logs: {groups: 'resourceLogs', scopes: 'scopeLogs', records: 'logRecords'},
  metrics: {groups: 'resourceMetrics', scopes: 'scopeMetrics', records: 'metrics'},
} as const

export interface ORecords {
  traces: OSpan
  logs: OLogRecord
  metrics: OMetric
}

/** A request in signal-neutral form: resource groups of scope groups of records. */
export type ORequest<S extends Signal> = OResourceGroup<ORecords[S]>[]

/** The init object of the oracle's request message (its real field names). */
export function requestInit<S extends Signal>(signal: S, groups: ORequest<S>): Record<string, unknown> {
  const names = FIELD_NAMES[signal]
  return {
    [names.groups]: groups.map((group) => ({
      ...(group.resource === undefined ? {} : {resource: group.resource}),
      [names.scopes]: group.scopes.map((scoped) => ({
        ...(scoped.scope === undefined ? {} : {scope: scoped.scope}),
        [names.records]: scoped.records,
        schemaUrl: scoped.schemaUrl,
        ...(scoped.$unknown === undefined ? {} : {$unknown: scoped.$unknown}),
      })),
      schemaUrl: group.schemaUrl,
      ...(group.$unknown === undefined ? {} : {$unknown: group.$unknown}),
    })),
  }
}

/** The neutral form of an oracle request message (as fromBinary gives it). */
export function requestGroups<S extends Signal>(signal: S, message: object): ORequest<S> {
  const names = FIELD_NAMES[signal]
  const groups = (message as Record<string, unknown>)[names.groups] as Record<string, unknown>[]
  return groups.map((group) => ({
    resource: group.resource as OResource | undefined,
    schemaUrl: group.schemaUrl as string,
    scopes: (group[names.scopes] as Record<string, unknown>[]).map((scoped) => ({
      scope: scoped.scope as OScope | undefined,
      schemaUrl: scoped.schemaUrl as string,
      records: scoped[names.records] as ORecords[S][],
    })),
  }))
}

// ---------------------------------------------------------------------------------------------
// Flattening oracle messages into records
// ---------------------------------------------------------------------------------------------

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function flatAnyValue(value: OAnyValue | undefined): AnyValue {
  const v = value?.value
  switch (v?.case) {
    case 'stringValue': {
      return {kind: 'string', value: v.value}
    }

    case 'boolValue': {
      return {kind: 'bool', value: v.value}
    }

    case 'intValue': {
      return {kind: 'int', value: v.value}
    }

    case 'doubleValue': {
      return {kind: 'double', value: v.value}
    }

    case 'arrayValue': {
      return {kind: 'array', value: v.value.values.map((item) => flatAnyValue(item))}
    }

    case 'kvlistValue': {
      return {kind: 'kvlist', value: flatKeyValues(v.value.values)}
    }

    case 'bytesValue': {
      return {kind: 'bytes', value: new Uint8Array(v.value)}
    }

    // The profiles-only string-table index is not part of the records.
    default: {
      return {kind: 'empty'}
    }
  }
}

function flatKeyValues(values: readonly OKeyValue[]): KeyValue[] {
  return values.map((kv) => ({key: kv.key, value: flatAnyValue(kv.value)}))
}

function flatResource(group: OResourceGroup<unknown>): Resource {
  return {attributes: flatKeyValues(group.resource?.attributes ?? []), droppedAttributesCount: group.resource?.droppedAttributesCount ?? 0, schemaUrl: group.schemaUrl}
}

function flatScope(scoped: OScopeGroup<unknown>): InstrumentationScope {
  const scope = scoped.scope
  return {
    name: scope?.name ?? '',
    version: scope?.version ?? '',
    attributes: flatKeyValues(scope?.attributes ?? []),
    droppedAttributesCount: scope?.droppedAttributesCount ?? 0,
    schemaUrl: scoped.schemaUrl,
  }
}

function flatten<S extends Signal, R>(groups: ORequest<S>, record: (r: ORecords[S], resource: Resource, scope: InstrumentationScope) => R): R[] {
  const out: R[] = []
  for (const group of groups) {
    const resource = flatResource(group)
    for (const scoped of group.scopes) {
      const scope = flatScope(scoped)
      for (const r of scoped.records) out.push(record(r, resource, scope))
    }
  }

  return out
}

export function flattenTraces(groups: ORequest<'traces'>): SpanRecord[] {
  return flatten(groups, (s, resource, scope) => ({
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    traceState: s.traceState,
    flags: s.flags,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano,
    endTimeUnixNano: s.endTimeUnixNano,
    attributes: flatKeyValues(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({timeUnixNano: e.timeUnixNano, name: e.name, attributes: flatKeyValues(e.attributes), droppedAttributesCount: e.droppedAttributesCount})),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: hex(l.traceId),
      spanId: hex(l.spanId),
      traceState: l.traceState,
      attributes: flatKeyValues(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount,
      flags: l.flags,
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: {code: s.status?.code ?? 0, message: s.status?.message ?? ''},
    resource,
    scope,
  }))
}

export function flattenLogs(groups: ORequest<'logs'>): LogRecordOtlp[] {
  return flatten(groups, (l, resource, scope) => ({
    timeUnixNano: l.timeUnixNano,
    observedTimeUnixNano: l.observedTimeUnixNano,
    severityNumber: l.severityNumber,
    severityText: l.severityText,
    body: l.body === undefined ? undefined : flatAnyValue(l.body),
    attributes: flatKeyValues(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount,
    flags: l.flags,
    traceId: hex(l.traceId),
    spanId: hex(l.spanId),
    eventName: l.eventName,
    resource,
    scope,
  }))
}

function flatPointValue(value: OPointValue): NumberDataPoint['value'] {
  if (value.case === 'asDouble') return {kind: 'double', value: value.value}
  if (value.case === 'asInt') return {kind: 'int', value: value.value}
  return {kind: 'none'}
}

function flatExemplars(exemplars: readonly OExemplar[]): Exemplar[] {
  return exemplars.map((e) => ({
    filteredAttributes: flatKeyValues(e.filteredAttributes),
    timeUnixNano: e.timeUnixNano,
    value: flatPointValue(e.value),
    spanId: hex(e.spanId),
    traceId: hex(e.traceId),
  }))
}

function flatNumberPoints(points: readonly ONumberDataPoint[]): NumberDataPoint[] {
  return points.map((p) => ({
    attributes: flatKeyValues(p.attributes),
    startTimeUnixNano: p.startTimeUnixNano,
    timeUnixNano: p.timeUnixNano,
    value: flatPointValue(p.value),
    exemplars: flatExemplars(p.exemplars),
    flags: p.flags,
  }))
}

function flatBuckets(buckets: OBuckets | undefined): {offset: number; bucketCounts: bigint[]} {
  return {offset: buckets?.offset ?? 0, bucketCounts: [...(buckets?.bucketCounts ?? [])]}
}

function flatMetricData(data: OMetricData): MetricData {
  switch (data.case) {
    case 'gauge': {
      return {type: 'gauge', dataPoints: flatNumberPoints(data.value.dataPoints)}
    }

    case 'sum': {
      return {type: 'sum', dataPoints: flatNumberPoints(data.value.dataPoints), aggregationTemporality: data.value.aggregationTemporality, isMonotonic: data.value.isMonotonic}
    }

    case 'histogram': {
      return {
        type: 'histogram',
        aggregationTemporality: data.value.aggregationTemporality,
        dataPoints: data.value.dataPoints.map((p) => ({
          attributes: flatKeyValues(p.attributes),
          startTimeUnixNano: p.startTimeUnixNano,
          timeUnixNano: p.timeUnixNano,
          count: p.count,
          sum: p.sum,
          bucketCounts: [...p.bucketCounts],
          explicitBounds: [...p.explicitBounds],
          exemplars: flatExemplars(p.exemplars),
          flags: p.flags,
          min: p.min,
          max: p.max,
        })),
      }
    }

    case 'exponentialHistogram': {
      return {
        type: 'exponentialHistogram',
        aggregationTemporality: data.value.aggregationTemporality,
        dataPoints: data.value.dataPoints.map((p) => ({
          attributes: flatKeyValues(p.attributes),
          startTimeUnixNano: p.startTimeUnixNano,
          timeUnixNano: p.timeUnixNano,
          count: p.count,
          sum: p.sum,
          scale: p.scale,
          zeroCount: p.zeroCount,
          positive: flatBuckets(p.positive),
          negative: flatBuckets(p.negative),
          flags: p.flags,
          exemplars: flatExemplars(p.exemplars),
          min: p.min,
          max: p.max,
          zeroThreshold: p.zeroThreshold,
        })),
      }
    }

    case 'summary': {
      return {
        type: 'summary',
        dataPoints: data.value.dataPoints.map((p) => ({
          attributes: flatKeyValues(p.attributes),
          startTimeUnixNano: p.startTimeUnixNano,
          timeUnixNano: p.timeUnixNano,
          count: p.count,
          sum: p.sum,
          quantileValues: p.quantileValues.map((q) => ({quantile: q.quantile, value: q.value})),
          flags: p.flags,
        })),
      }
    }

    default: {
      return {type: 'none'}
    }
  }
}

export function flattenMetrics(groups: ORequest<'metrics'>): MetricRecord[] {
  return flatten(groups, (m, resource, scope) => ({
    name: m.name,
    description: m.description,
    unit: m.unit,
    data: flatMetricData(m.data),
    metadata: flatKeyValues(m.metadata),
    resource,
    scope,
  }))
}

export function flattenRequest<S extends Signal>(signal: S, groups: ORequest<S>): unknown[] {
  switch (signal) {
    case 'traces': {
      return flattenTraces(groups as ORequest<'traces'>)
    }

    case 'logs': {
      return flattenLogs(groups as ORequest<'logs'>)
    }

    default: {
      return flattenMetrics(groups as ORequest<'metrics'>)
    }
  }
}

/**
 * The oracle's JSON (the plain protobuf JSON mapping) made into OTLP/JSON: trace and span ids
 * are hex in OTLP/JSON, base64 in the plain mapping. Those keys occur only on spans, links, log
 * records and exemplars (attribute keys are values, never JSON keys).
 */
export function idsToHex(json: unknown): unknown {
  if (Array.isArray(json)) return json.map((item) => idsToHex(item))
  if (typeof json !== 'object' || json === null) return json
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(json)) {
    out[key] = (key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : idsToHex(value)
  }

  return out
}
