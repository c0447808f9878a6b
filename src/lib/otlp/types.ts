/**
 * Flat, typed OTLP records: one object per span, log record or metric, each pointing at the
 * resource and scope it came with (shared, not copied, between the records of one group).
 *
 * Values keep their OTLP type (an int stays a bigint, a double a number, bytes stay bytes), so a
 * record encodes back to the same message. Ids are lowercase hex ('' when absent); times are
 * nanoseconds since the Unix epoch as bigint.
 */

export type AnyValue =
  | {kind: 'string'; value: string}
  | {kind: 'bool'; value: boolean}
  | {kind: 'int'; value: bigint}
  | {kind: 'double'; value: number}
  | {kind: 'bytes'; value: Uint8Array}
  | {kind: 'array'; value: AnyValue[]}
  | {kind: 'kvlist'; value: KeyValue[]}
  /** An AnyValue with no value set. */
  | {kind: 'empty'}

export interface KeyValue {
  key: string
  value: AnyValue
}

export interface Resource {
  attributes: KeyValue[]
  droppedAttributesCount: number
  schemaUrl: string
}

export interface InstrumentationScope {
  name: string
  version: string
  attributes: KeyValue[]
  droppedAttributesCount: number
  schemaUrl: string
}

/** opentelemetry.proto.trace.v1.Span.SpanKind */
export const SpanKind = {UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5} as const

/** opentelemetry.proto.trace.v1.Status.StatusCode */
export const StatusCode = {UNSET: 0, OK: 1, ERROR: 2} as const

export interface SpanEvent {
  timeUnixNano: bigint
  name: string
  attributes: KeyValue[]
  droppedAttributesCount: number
}

export interface SpanLink {
  traceId: string
  spanId: string
  traceState: string
  attributes: KeyValue[]
  droppedAttributesCount: number
  flags: number
}

export interface SpanRecord {
  traceId: string
  spanId: string
  /** '' for a root span. */
  parentSpanId: string
  traceState: string
  flags: number
  name: string
  /** A SpanKind value; unknown numbers are kept as they are. */
  kind: number
  startTimeUnixNano: bigint
  endTimeUnixNano: bigint
  attributes: KeyValue[]
  droppedAttributesCount: number
  events: SpanEvent[]
  droppedEventsCount: number
  links: SpanLink[]
  droppedLinksCount: number
  status: {code: number; message: string}
  resource: Resource
  scope: InstrumentationScope
}

export interface LogRecordOtlp {
  timeUnixNano: bigint
  observedTimeUnixNano: bigint
  /** opentelemetry.proto.logs.v1.SeverityNumber, 0 when unspecified. */
  severityNumber: number
  severityText: string
  /** undefined when the record has no body. */
  body?: AnyValue
  attributes: KeyValue[]
  droppedAttributesCount: number
  flags: number
  traceId: string
  spanId: string
  eventName: string
  resource: Resource
  scope: InstrumentationScope
}

export interface NumberDataPoint {
  attributes: KeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  value: {kind: 'double'; value: number} | {kind: 'int'; value: bigint} | {kind: 'none'}
  exemplars: Exemplar[]
  flags: number
}

export interface HistogramDataPoint {
  attributes: KeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  count: bigint
  sum?: number
  bucketCounts: bigint[]
  explicitBounds: number[]
  exemplars: Exemplar[]
  flags: number
  min?: number
  max?: number
}

export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  count: bigint
  sum?: number
  scale: number
  zeroCount: bigint
  positive: {offset: number; bucketCounts: bigint[]}
  negative: {offset: number; bucketCounts: bigint[]}
  flags: number
  exemplars: Exemplar[]
  min?: number
  max?: number
  zeroThreshold: number
}

export interface SummaryDataPoint {
  attributes: KeyValue[]
  startTimeUnixNano: bigint
  timeUnixNano: bigint
  count: bigint
  sum: number
  quantileValues: {quantile: number; value: number}[]
  flags: number
}

export interface Exemplar {
  filteredAttributes: KeyValue[]
  timeUnixNano: bigint
  value: {kind: 'double'; value: number} | {kind: 'int'; value: bigint} | {kind: 'none'}
  spanId: string
  traceId: string
}

export type MetricData =
  | {type: 'gauge'; dataPoints: NumberDataPoint[]}
  | {type: 'sum'; dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean}
  | {type: 'histogram'; dataPoints: HistogramDataPoint[]; aggregationTemporality: number}
  | {type: 'exponentialHistogram'; dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality: number}
  | {type: 'summary'; dataPoints: SummaryDataPoint[]}
  /** A metric with no data set. */
  | {type: 'none'}

export interface MetricRecord {
  name: string
  description: string
  unit: string
  data: MetricData
  metadata: KeyValue[]
  resource: Resource
  scope: InstrumentationScope
}

export type Signal = 'traces' | 'logs' | 'metrics'

/** What a record of each signal looks like. */
export interface SignalRecords {
  traces: SpanRecord
  logs: LogRecordOtlp
  metrics: MetricRecord
}
