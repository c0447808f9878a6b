/**
 * Hand-written decoders of the OTLP export requests (opentelemetry-proto v1) straight into the
 * flat records of types.ts: one pass over the bytes, one object per record and per value, no
 * intermediate message objects. Unknown fields are skipped; absent fields take their proto3
 * defaults. A singular message field that occurs twice is merged, as protobuf says.
 *
 * Not kept: Resource.entity_refs and the profiles-only string-table indexes
 * (AnyValue.string_value_strindex, KeyValue.key_strindex); they are skipped like unknown fields.
 */
import {OtlpDecodeError} from './errors.js'
import type {
  AnyValue,
  Exemplar,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  InstrumentationScope,
  KeyValue,
  LogRecordOtlp,
  MetricData,
  MetricRecord,
  NumberDataPoint,
  Resource,
  Signal,
  SpanEvent,
  SpanLink,
  SpanRecord,
  SummaryDataPoint,
} from './types.js'
import {ByteMemo, ProtoReader} from './wire.js'

export interface DecodeOptions {
  /** Refuse a body larger than this many bytes (OTLP_TOO_LARGE). */
  maxBytes?: number
  /** Refuse a body holding more than this many records (OTLP_TOO_LARGE). */
  maxRecords?: number
}

// Tags are (field number << 3) | wire type; wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
// KNOWN_* masks have a bit per field number the decoder reads, so a known field with the wrong
// wire type is told apart from an unknown field.
const bits = (...fields: number[]): number => fields.reduce((mask, field) => mask | (1 << field), 0)

const KNOWN_REQUEST = bits(1)
const KNOWN_RESOURCE_GROUP = bits(1, 2, 3)
const KNOWN_RESOURCE = bits(1, 2)
const KNOWN_SCOPE = bits(1, 2, 3, 4)
const KNOWN_KEY_VALUE = bits(1, 2)
const KNOWN_ANY_VALUE = bits(1, 2, 3, 4, 5, 6, 7)
const KNOWN_VALUES = bits(1)
const KNOWN_SPAN = bits(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
const KNOWN_EVENT = bits(1, 2, 3, 4)
const KNOWN_LINK = bits(1, 2, 3, 4, 5, 6)
const KNOWN_STATUS = bits(2, 3)
const KNOWN_LOG = bits(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12)
const KNOWN_METRIC = bits(1, 2, 3, 5, 7, 9, 10, 11, 12)
const KNOWN_DATA = bits(1, 2, 3)
const KNOWN_TEMPORAL_DATA = bits(1, 2)
const KNOWN_NUMBER_POINT = bits(2, 3, 4, 5, 6, 7, 8)
const KNOWN_HISTOGRAM_POINT = bits(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
const KNOWN_EXPONENTIAL_POINT = bits(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
const KNOWN_BUCKETS = bits(1, 2)
const KNOWN_SUMMARY_POINT = bits(2, 3, 4, 5, 6, 8)
const KNOWN_QUANTILE = bits(1, 2)
const KNOWN_EXEMPLAR = bits(2, 3, 4, 5, 6, 7)
const KNOWN_RESPONSE = bits(1)
const KNOWN_PARTIAL_SUCCESS = bits(1, 2)

/** Decodes an ExportTraceServiceRequest into one record per span. */
export function decodeTraces(bytes: Uint8Array, options?: DecodeOptions): SpanRecord[] {
  const out: SpanRecord[] = []
  decodeRequest(bytes, options, out, 'spans', decodeScopeSpans)
  return out
}

/** Decodes an ExportLogsServiceRequest into one record per log record. */
export function decodeLogs(bytes: Uint8Array, options?: DecodeOptions): LogRecordOtlp[] {
  const out: LogRecordOtlp[] = []
  decodeRequest(bytes, options, out, 'log records', decodeScopeLogs)
  return out
}

/** Decodes an ExportMetricsServiceRequest into one record per metric. */
export function decodeMetrics(bytes: Uint8Array, options?: DecodeOptions): MetricRecord[] {
  const out: MetricRecord[] = []
  decodeRequest(bytes, options, out, 'metrics', decodeScopeMetrics)
  return out
}

export function checkSize(length: number, options: DecodeOptions | undefined): void {
  const maxBytes = options?.maxBytes
  if (maxBytes !== undefined && length > maxBytes) {
    throw new OtlpDecodeError('OTLP_TOO_LARGE', `OTLP body of ${length} bytes is larger than the limit of ${maxBytes} bytes`)
  }
}

export function tooManyRecords(maxRecords: number, what: string): OtlpDecodeError {
  return new OtlpDecodeError('OTLP_TOO_LARGE', `OTLP body holds more than the limit of ${maxRecords} ${what}`)
}

/** What the decoders of one signal share while walking a request. */
interface Walk<R> {
  r: ProtoReader
  out: R[]
  maxRecords: number
  what: string
}

type ScopeDecoder<R> = (walk: Walk<R>, resource: Resource) => void

// Every Export*ServiceRequest is: repeated Resource{Spans,Logs,Metrics} resource_x = 1, each
// {Resource resource = 1; repeated Scope{...} scope_x = 2; string schema_url = 3}.
function decodeRequest<R>(bytes: Uint8Array, options: DecodeOptions | undefined, out: R[], what: string, decodeScope: ScopeDecoder<R>): void {
  checkSize(bytes.length, options)
  const r = new ProtoReader(bytes)
  const walk: Walk<R> = {r, out, maxRecords: options?.maxRecords ?? Number.POSITIVE_INFINITY, what}
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) {
      const outer = r.enter()
      decodeResourceGroup(walk, decodeScope)
      r.leave(outer)
    } else r.unknown(tag, KNOWN_REQUEST, 'the export request')
  }
}

function decodeResourceGroup<R>(walk: Walk<R>, decodeScope: ScopeDecoder<R>): void {
  const r = walk.r
  // Created before its fields are read: the records of the group point at it, and the resource
  // and schema_url may come after them on the wire.
  const resource: Resource = {attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        const outer = r.enter()
        decodeResource(r, resource)
        r.leave(outer)
        break
      }

      case 18: {
        const outer = r.enter()
        decodeScope(walk, resource)
        r.leave(outer)
        break
      }

      case 26: {
        resource.schemaUrl = r.string()
        break
      }

      default: {
        r.unknown(tag, KNOWN_RESOURCE_GROUP, 'a resource group')
      }
    }
  }
}

function decodeResource(r: ProtoReader, resource: Resource): void {
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) resource.attributes.push(decodeKeyValue(r))
    else if (tag === 16) resource.droppedAttributesCount = r.varint32()
    else r.unknown(tag, KNOWN_RESOURCE, 'Resource')
  }
}

function newScope(): InstrumentationScope {
  return {name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
}

function decodeScope(r: ProtoReader, scope: InstrumentationScope): void {
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        scope.name = r.string()
        break
      }

      case 18: {
        scope.version = r.string()
        break
      }

      case 26: {
        scope.attributes.push(decodeKeyValue(r))
        break
      }

      case 32: {
        scope.droppedAttributesCount = r.varint32()
        break
      }

      default: {
        r.unknown(tag, KNOWN_SCOPE, 'InstrumentationScope')
      }
    }
  }
}

/** The part of Scope{Spans,Logs,Metrics} that is the same for all three; `record` reads field 2. */
function decodeScopeGroup<R>(walk: Walk<R>, resource: Resource, decodeRecord: (r: ProtoReader, resource: Resource, scope: InstrumentationScope) => R): void {
  const r = walk.r
  const scope = newScope()
  const out = walk.out
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        const outer = r.enter()
        decodeScope(r, scope)
        r.leave(outer)
        break
      }

      case 18: {
        if (out.length >= walk.maxRecords) throw tooManyRecords(walk.maxRecords, walk.what)
        const outer = r.enter()
        out.push(decodeRecord(r, resource, scope))
        r.leave(outer)
        break
      }

      case 26: {
        scope.schemaUrl = r.string()
        break
      }

      default: {
        r.unknown(tag, KNOWN_RESOURCE_GROUP, 'a scope group')
      }
    }
  }
}

function decodeScopeSpans(walk: Walk<SpanRecord>, resource: Resource): void {
  decodeScopeGroup(walk, resource, decodeSpan)
}

function decodeScopeLogs(walk: Walk<LogRecordOtlp>, resource: Resource): void {
  decodeScopeGroup(walk, resource, decodeLogRecord)
}

function decodeScopeMetrics(walk: Walk<MetricRecord>, resource: Resource): void {
  decodeScopeGroup(walk, resource, decodeMetric)
}

/**
 * Attributes repeat from record to record: the same keys, and mostly the same values. A KeyValue
 * decoded from the same bytes before is handed out again; those are frozen, being shared by the
 * records. Only short ones holding a string, bool, int, double or no value are kept; arrays,
 * kvlists and bytes values are decoded anew each time.
 */
const keyValues = new ByteMemo<KeyValue>(4096, 64)

function decodeKeyValue(r: ProtoReader): KeyValue {
  const outer = r.enter()
  const start = r.pos
  const end = r.limit
  const short = end > start && end - start <= keyValues.maxBytes
  if (short) {
    const known = keyValues.get(r, start, end)
    if (known !== undefined) {
      r.leave(outer)
      return known
    }
  }

  let key = ''
  let value: AnyValue | undefined
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) key = r.string()
    else if (tag === 18) value = decodeAnyValue(r, value)
    else r.unknown(tag, KNOWN_KEY_VALUE, 'KeyValue')
  }

  r.leave(outer)
  const keyValue: KeyValue = {key, value: value ?? {kind: 'empty'}}
  if (short && keyValue.value.kind !== 'array' && keyValue.value.kind !== 'kvlist' && keyValue.value.kind !== 'bytes') {
    Object.freeze(keyValue.value)
    keyValues.set(r, start, end, Object.freeze(keyValue))
  }

  return keyValue
}

function decodeKeyValues(r: ProtoReader, into: KeyValue[]): void {
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) into.push(decodeKeyValue(r))
    else r.unknown(tag, KNOWN_VALUES, 'KeyValueList')
  }
}

function decodeArrayValues(r: ProtoReader, into: AnyValue[]): void {
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) into.push(decodeAnyValue(r, undefined))
    else r.unknown(tag, KNOWN_VALUES, 'ArrayValue')
  }
}

/** Reads an AnyValue message; `previous` is the value an earlier occurrence of the same field gave, to merge into. */
function decodeAnyValue(r: ProtoReader, previous: AnyValue | undefined): AnyValue {
  const outer = r.enter()
  let value: AnyValue = previous ?? {kind: 'empty'}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        value = {kind: 'string', value: r.string()}
        break
      }

      case 16: {
        value = {kind: 'bool', value: r.bool()}
        break
      }

      case 24: {
        value = {kind: 'int', value: r.int64()}
        break
      }

      case 33: {
        value = {kind: 'double', value: r.double()}
        break
      }

      case 42: {
        const values = value.kind === 'array' ? value.value : []
        const inner = r.enter()
        decodeArrayValues(r, values)
        r.leave(inner)
        value = {kind: 'array', value: values}
        break
      }

      case 50: {
        const values = value.kind === 'kvlist' ? value.value : []
        const inner = r.enter()
        decodeKeyValues(r, values)
        r.leave(inner)
        value = {kind: 'kvlist', value: values}
        break
      }

      case 58: {
        value = {kind: 'bytes', value: r.bytes()}
        break
      }

      default: {
        r.unknown(tag, KNOWN_ANY_VALUE, 'AnyValue')
      }
    }
  }

  r.leave(outer)
  return value
}

/**
 * Most spans have no events and no links: they share these empty arrays, frozen since records
 * share them (like the attributes memo's KeyValues), and get their own on the first one.
 */
const NO_EVENTS: SpanEvent[] = Object.freeze([]) as unknown as SpanEvent[]
const NO_LINKS: SpanLink[] = Object.freeze([]) as unknown as SpanLink[]

function decodeSpan(r: ProtoReader, resource: Resource, scope: InstrumentationScope): SpanRecord {
  const span: SpanRecord = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: NO_EVENTS,
    droppedEventsCount: 0,
    links: NO_LINKS,
    droppedLinksCount: 0,
    status: {code: 0, message: ''},
    resource,
    scope,
  }
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        span.traceId = r.hex()
        break
      }

      case 18: {
        span.spanId = r.hex()
        break
      }

      case 26: {
        span.traceState = r.string()
        break
      }

      case 34: {
        span.parentSpanId = r.hex()
        break
      }

      case 42: {
        span.name = r.string()
        break
      }

      case 48: {
        span.kind = r.int32()
        break
      }

      case 57: {
        span.startTimeUnixNano = r.fixed64()
        break
      }

      case 65: {
        span.endTimeUnixNano = r.fixed64()
        break
      }

      case 74: {
        span.attributes.push(decodeKeyValue(r))
        break
      }

      case 80: {
        span.droppedAttributesCount = r.varint32()
        break
      }

      case 90: {
        if (span.events === NO_EVENTS) span.events = []
        span.events.push(decodeEvent(r))
        break
      }

      case 96: {
        span.droppedEventsCount = r.varint32()
        break
      }

      case 106: {
        if (span.links === NO_LINKS) span.links = []
        span.links.push(decodeLink(r))
        break
      }

      case 112: {
        span.droppedLinksCount = r.varint32()
        break
      }

      case 122: {
        decodeStatus(r, span.status)
        break
      }

      case 133: {
        span.flags = r.fixed32()
        break
      }

      default: {
        r.unknown(tag, KNOWN_SPAN, 'Span')
      }
    }
  }

  return span
}

function decodeEvent(r: ProtoReader): SpanEvent {
  const outer = r.enter()
  const event: SpanEvent = {timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0}
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 9) event.timeUnixNano = r.fixed64()
    else if (tag === 18) event.name = r.string()
    else if (tag === 26) event.attributes.push(decodeKeyValue(r))
    else if (tag === 32) event.droppedAttributesCount = r.varint32()
    else r.unknown(tag, KNOWN_EVENT, 'Span.Event')
  }

  r.leave(outer)
  return event
}

function decodeLink(r: ProtoReader): SpanLink {
  const outer = r.enter()
  const link: SpanLink = {traceId: '', spanId: '', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        link.traceId = r.hex()
        break
      }

      case 18: {
        link.spanId = r.hex()
        break
      }

      case 26: {
        link.traceState = r.string()
        break
      }

      case 34: {
        link.attributes.push(decodeKeyValue(r))
        break
      }

      case 40: {
        link.droppedAttributesCount = r.varint32()
        break
      }

      case 53: {
        link.flags = r.fixed32()
        break
      }

      default: {
        r.unknown(tag, KNOWN_LINK, 'Span.Link')
      }
    }
  }

  r.leave(outer)
  return link
}

function decodeStatus(r: ProtoReader, status: {code: number; message: string}): void {
  const outer = r.enter()
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 18) status.message = r.string()
    else if (tag === 24) status.code = r.int32()
    else r.unknown(tag, KNOWN_STATUS, 'Status')
  }

  r.leave(outer)
}

function decodeLogRecord(r: ProtoReader, resource: Resource, scope: InstrumentationScope): LogRecordOtlp {
  const log: LogRecordOtlp = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
    resource,
    scope,
  }
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 9: {
        log.timeUnixNano = r.fixed64()
        break
      }

      case 16: {
        log.severityNumber = r.int32()
        break
      }

      case 26: {
        log.severityText = r.string()
        break
      }

      case 42: {
        log.body = decodeAnyValue(r, log.body)
        break
      }

      case 50: {
        log.attributes.push(decodeKeyValue(r))
        break
      }

      case 56: {
        log.droppedAttributesCount = r.varint32()
        break
      }

      case 69: {
        log.flags = r.fixed32()
        break
      }

      case 74: {
        log.traceId = r.hex()
        break
      }

      case 82: {
        log.spanId = r.hex()
        break
      }

      case 89: {
        log.observedTimeUnixNano = r.fixed64()
        break
      }

      case 98: {
        log.eventName = r.string()
        break
      }

      default: {
        r.unknown(tag, KNOWN_LOG, 'LogRecord')
      }
    }
  }

  return log
}

function decodeMetric(r: ProtoReader, resource: Resource, scope: InstrumentationScope): MetricRecord {
  const metric: MetricRecord = {name: '', description: '', unit: '', data: {type: 'none'}, metadata: [], resource, scope}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        metric.name = r.string()
        break
      }

      case 18: {
        metric.description = r.string()
        break
      }

      case 26: {
        metric.unit = r.string()
        break
      }

      case 42:
      case 58:
      case 74:
      case 82:
      case 90: {
        metric.data = decodeMetricData(r, tag, metric.data)
        break
      }

      case 98: {
        metric.metadata.push(decodeKeyValue(r))
        break
      }

      default: {
        r.unknown(tag, KNOWN_METRIC, 'Metric')
      }
    }
  }

  return metric
}

const DATA_TYPES = {42: 'gauge', 58: 'sum', 74: 'histogram', 82: 'exponentialHistogram', 90: 'summary'} as const

/** Gauge, Sum, Histogram, ExponentialHistogram or Summary; merged into `previous` when it is of the same type. */
function decodeMetricData(r: ProtoReader, tag: 42 | 58 | 74 | 82 | 90, previous: MetricData): MetricData {
  const type = DATA_TYPES[tag]
  const data = (previous.type === type ? previous : emptyData(type)) as MetricData & {dataPoints: unknown[]; aggregationTemporality?: number; isMonotonic?: boolean}
  const outer = r.enter()
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) {
      const inner = r.enter()
      switch (type) {
        case 'gauge':
        case 'sum': {
          data.dataPoints.push(decodeNumberPoint(r))
          break
        }

        case 'histogram': {
          data.dataPoints.push(decodeHistogramPoint(r))
          break
        }

        case 'exponentialHistogram': {
          data.dataPoints.push(decodeExponentialPoint(r))
          break
        }

        case 'summary': {
          data.dataPoints.push(decodeSummaryPoint(r))
          break
        }
      }

      r.leave(inner)
    } else if (tag === 16 && type !== 'gauge' && type !== 'summary') data.aggregationTemporality = r.int32()
    else if (tag === 24 && type === 'sum') data.isMonotonic = r.bool()
    else r.unknown(tag, type === 'gauge' || type === 'summary' ? KNOWN_VALUES : type === 'sum' ? KNOWN_DATA : KNOWN_TEMPORAL_DATA, type)
  }

  r.leave(outer)
  return data
}

function emptyData(type: (typeof DATA_TYPES)[keyof typeof DATA_TYPES]): MetricData {
  switch (type) {
    case 'gauge': {
      return {type, dataPoints: []}
    }

    case 'sum': {
      return {type, dataPoints: [], aggregationTemporality: 0, isMonotonic: false}
    }

    case 'histogram': {
      return {type, dataPoints: [], aggregationTemporality: 0}
    }

    case 'exponentialHistogram': {
      return {type, dataPoints: [], aggregationTemporality: 0}
    }

    case 'summary': {
      return {type, dataPoints: []}
    }
  }
}

function decodeNumberPoint(r: ProtoReader): NumberDataPoint {
  const point: NumberDataPoint = {attributes: [], startTimeUnixNano: 0n, timeUnixNano: 0n, value: {kind: 'none'}, exemplars: [], flags: 0}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 58: {
        point.attributes.push(decodeKeyValue(r))
        break
      }

      case 17: {
        point.startTimeUnixNano = r.fixed64()
        break
      }

      case 25: {
        point.timeUnixNano = r.fixed64()
        break
      }

      case 33: {
        point.value = {kind: 'double', value: r.double()}
        break
      }

      case 49: {
        point.value = {kind: 'int', value: r.sfixed64()}
        break
      }

      case 42: {
        point.exemplars.push(decodeExemplar(r))
        break
      }

      case 64: {
        point.flags = r.varint32()
        break
      }

      default: {
        r.unknown(tag, KNOWN_NUMBER_POINT, 'NumberDataPoint')
      }
    }
  }

  return point
}

function decodeHistogramPoint(r: ProtoReader): HistogramDataPoint {
  const point: HistogramDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: undefined,
    bucketCounts: [],
    explicitBounds: [],
    exemplars: [],
    flags: 0,
    min: undefined,
    max: undefined,
  }
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 74: {
        point.attributes.push(decodeKeyValue(r))
        break
      }

      case 17: {
        point.startTimeUnixNano = r.fixed64()
        break
      }

      case 25: {
        point.timeUnixNano = r.fixed64()
        break
      }

      case 33: {
        point.count = r.fixed64()
        break
      }

      case 41: {
        point.sum = r.double()
        break
      }

      case 49: {
        point.bucketCounts.push(r.fixed64())
        break
      }

      case 50: {
        readPackedFixed64(r, point.bucketCounts)
        break
      }

      case 57: {
        point.explicitBounds.push(r.double())
        break
      }

      case 58: {
        readPackedDouble(r, point.explicitBounds)
        break
      }

      case 66: {
        point.exemplars.push(decodeExemplar(r))
        break
      }

      case 80: {
        point.flags = r.varint32()
        break
      }

      case 89: {
        point.min = r.double()
        break
      }

      case 97: {
        point.max = r.double()
        break
      }

      default: {
        r.unknown(tag, KNOWN_HISTOGRAM_POINT, 'HistogramDataPoint')
      }
    }
  }

  return point
}

function decodeExponentialPoint(r: ProtoReader): ExponentialHistogramDataPoint {
  const point: ExponentialHistogramDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: undefined,
    scale: 0,
    zeroCount: 0n,
    positive: {offset: 0, bucketCounts: []},
    negative: {offset: 0, bucketCounts: []},
    flags: 0,
    exemplars: [],
    min: undefined,
    max: undefined,
    zeroThreshold: 0,
  }
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 10: {
        point.attributes.push(decodeKeyValue(r))
        break
      }

      case 17: {
        point.startTimeUnixNano = r.fixed64()
        break
      }

      case 25: {
        point.timeUnixNano = r.fixed64()
        break
      }

      case 33: {
        point.count = r.fixed64()
        break
      }

      case 41: {
        point.sum = r.double()
        break
      }

      case 48: {
        point.scale = r.sint32()
        break
      }

      case 57: {
        point.zeroCount = r.fixed64()
        break
      }

      case 66: {
        decodeBuckets(r, point.positive)
        break
      }

      case 74: {
        decodeBuckets(r, point.negative)
        break
      }

      case 80: {
        point.flags = r.varint32()
        break
      }

      case 90: {
        point.exemplars.push(decodeExemplar(r))
        break
      }

      case 97: {
        point.min = r.double()
        break
      }

      case 105: {
        point.max = r.double()
        break
      }

      case 113: {
        point.zeroThreshold = r.double()
        break
      }

      default: {
        r.unknown(tag, KNOWN_EXPONENTIAL_POINT, 'ExponentialHistogramDataPoint')
      }
    }
  }

  return point
}

function decodeBuckets(r: ProtoReader, buckets: {offset: number; bucketCounts: bigint[]}): void {
  const outer = r.enter()
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 8) buckets.offset = r.sint32()
    else if (tag === 16) buckets.bucketCounts.push(r.uint64())
    else if (tag === 18) {
      const inner = r.enterPacked()
      while (r.pos < r.limit) buckets.bucketCounts.push(r.uint64())
      r.leavePacked(inner)
    } else r.unknown(tag, KNOWN_BUCKETS, 'ExponentialHistogramDataPoint.Buckets')
  }

  r.leave(outer)
}

function decodeSummaryPoint(r: ProtoReader): SummaryDataPoint {
  const point: SummaryDataPoint = {attributes: [], startTimeUnixNano: 0n, timeUnixNano: 0n, count: 0n, sum: 0, quantileValues: [], flags: 0}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 58: {
        point.attributes.push(decodeKeyValue(r))
        break
      }

      case 17: {
        point.startTimeUnixNano = r.fixed64()
        break
      }

      case 25: {
        point.timeUnixNano = r.fixed64()
        break
      }

      case 33: {
        point.count = r.fixed64()
        break
      }

      case 41: {
        point.sum = r.double()
        break
      }

      case 50: {
        const outer = r.enter()
        const quantile = {quantile: 0, value: 0}
        while (r.pos < r.limit) {
          const inner = r.tag()
          if (inner === 9) quantile.quantile = r.double()
          else if (inner === 17) quantile.value = r.double()
          else r.unknown(inner, KNOWN_QUANTILE, 'SummaryDataPoint.ValueAtQuantile')
        }

        r.leave(outer)
        point.quantileValues.push(quantile)
        break
      }

      case 64: {
        point.flags = r.varint32()
        break
      }

      default: {
        r.unknown(tag, KNOWN_SUMMARY_POINT, 'SummaryDataPoint')
      }
    }
  }

  return point
}

function decodeExemplar(r: ProtoReader): Exemplar {
  const outer = r.enter()
  const exemplar: Exemplar = {filteredAttributes: [], timeUnixNano: 0n, value: {kind: 'none'}, spanId: '', traceId: ''}
  while (r.pos < r.limit) {
    const tag = r.tag()
    switch (tag) {
      case 58: {
        exemplar.filteredAttributes.push(decodeKeyValue(r))
        break
      }

      case 17: {
        exemplar.timeUnixNano = r.fixed64()
        break
      }

      case 25: {
        exemplar.value = {kind: 'double', value: r.double()}
        break
      }

      case 49: {
        exemplar.value = {kind: 'int', value: r.sfixed64()}
        break
      }

      case 34: {
        exemplar.spanId = r.hex()
        break
      }

      case 42: {
        exemplar.traceId = r.hex()
        break
      }

      default: {
        r.unknown(tag, KNOWN_EXEMPLAR, 'Exemplar')
      }
    }
  }

  r.leave(outer)
  return exemplar
}

function readPackedFixed64(r: ProtoReader, into: bigint[]): void {
  const outer = r.enterPacked()
  if ((r.limit - r.pos) % 8 !== 0) r.malformed('packed fixed64 field whose length is not a multiple of 8')
  while (r.pos < r.limit) into.push(r.fixed64())
  r.leavePacked(outer)
}

function readPackedDouble(r: ProtoReader, into: number[]): void {
  const outer = r.enterPacked()
  if ((r.limit - r.pos) % 8 !== 0) r.malformed('packed double field whose length is not a multiple of 8')
  while (r.pos < r.limit) into.push(r.double())
  r.leavePacked(outer)
}

/** Export{Trace,Logs,Metrics}ServiceResponse: partial_success {int64 rejected_x = 1; string error_message = 2}. */
export function decodeExportResponseProto(bytes: Uint8Array): {rejected: bigint; errorMessage: string} {
  const r = new ProtoReader(bytes)
  const result = {rejected: 0n, errorMessage: ''}
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag === 10) {
      const outer = r.enter()
      while (r.pos < r.limit) {
        const inner = r.tag()
        if (inner === 8) result.rejected = r.int64()
        else if (inner === 18) result.errorMessage = r.string()
        else r.unknown(inner, KNOWN_PARTIAL_SUCCESS, 'the partial success')
      }

      r.leave(outer)
    } else r.unknown(tag, KNOWN_RESPONSE, 'the export response')
  }

  return result
}

// Wire type of each field of Span, LogRecord and Metric, for telling the three requests apart.
const RECORD_FIELDS: Record<Signal, Record<number, number>> = {
  traces: {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 0, 7: 1, 8: 1, 9: 2, 10: 0, 11: 2, 12: 0, 13: 2, 14: 0, 15: 2, 16: 5},
  logs: {1: 1, 2: 0, 3: 2, 5: 2, 6: 2, 7: 0, 8: 5, 9: 2, 10: 2, 11: 1, 12: 2},
  metrics: {1: 2, 2: 2, 3: 2, 5: 2, 7: 2, 9: 2, 10: 2, 11: 2, 12: 2},
}
// The lengths ids have in every real record: a field of another length is most likely not an id.
const ID_LENGTHS: Record<Signal, Record<number, number>> = {traces: {1: 16, 2: 8, 4: 8}, logs: {9: 16, 10: 8}, metrics: {}}
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics']
const SNIFF_RECORDS = 8

/**
 * Which export request a protobuf body is. The three share their outer layers, so this looks at
 * the fields of the first few records: a field of the wrong wire type rules a signal out; of the
 * rest, the one whose fields match best wins, a field only one signal knows counting most and an
 * id of the wrong length counting against. Undefined when the body is not a well-formed request
 * (as far as it looked) or holds no record.
 */
export function sniffSignalProto(bytes: Uint8Array): Signal | undefined {
  const ruledOut: Record<Signal, boolean> = {traces: false, logs: false, metrics: false}
  const score: Record<Signal, number> = {traces: 0, logs: 0, metrics: 0}
  let records = 0
  const r = new ProtoReader(bytes)
  try {
    walk: while (r.pos < r.limit) {
      const tag = r.tag()
      if (tag !== 10) {
        r.skip(tag)
        continue
      }

      const outerRequest = r.enter()
      while (r.pos < r.limit) {
        const groupTag = r.tag()
        if (groupTag !== 18) {
          r.skip(groupTag)
          continue
        }

        const outerGroup = r.enter()
        while (r.pos < r.limit) {
          const scopeTag = r.tag()
          if (scopeTag !== 18) {
            r.skip(scopeTag)
            continue
          }

          const outerRecord = r.enter()
          while (r.pos < r.limit) {
            const fieldTag = r.tag()
            const field = fieldTag >>> 3
            const wire = fieldTag & 7
            let length = -1
            if (wire === 2) {
              const at = r.pos
              length = r.varint32()
              r.pos = at
            }

            let matching = 0
            let only: Signal = 'traces'
            for (const signal of SIGNALS) {
              const expected = RECORD_FIELDS[signal][field]
              if (expected === undefined) continue
              if (expected !== wire) {
                ruledOut[signal] = true
                continue
              }

              const idLength = ID_LENGTHS[signal][field]
              score[signal] += idLength !== undefined && length !== 0 && length !== idLength ? -2 : 1
              matching++
              only = signal
            }

            if (matching === 1) score[only] += 2

            r.skip(fieldTag)
          }

          r.leave(outerRecord)
          if (++records >= SNIFF_RECORDS) break walk
        }

        r.leave(outerGroup)
      }

      r.leave(outerRequest)
    }
  } catch (error) {
    if (error instanceof OtlpDecodeError) return undefined
    throw error
  }

  if (records === 0) return undefined
  let best: Signal | undefined
  for (const signal of SIGNALS) {
    if (ruledOut[signal]) continue
    if (best === undefined || score[signal] > score[best]) best = signal
  }

  return best
}
