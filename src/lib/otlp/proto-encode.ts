/**
 * Encoders of the flat records back into OTLP export requests, in canonical protobuf: fields in
 * field-number order, scalars at their default left out, repeated scalars packed, every message
 * the records model (resource, scope, status, attribute values) written even when empty.
 *
 * Records are grouped under their resource and scope by object identity, in consecutive runs, so
 * decoding what this writes gives back the same records in the same order.
 */
import type {
  AnyValue,
  Exemplar,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  InstrumentationScope,
  KeyValue,
  LogRecordOtlp,
  MetricRecord,
  NumberDataPoint,
  Resource,
  SpanRecord,
  SummaryDataPoint,
} from './types.js'
import {ProtoWriter} from './wire.js'

const LEN = 2
const VARINT = 0
const I64 = 1
const I32 = 5

export function encodeTraces(spans: readonly SpanRecord[]): Uint8Array {
  return encodeRequest(spans, writeSpan)
}

export function encodeLogs(logs: readonly LogRecordOtlp[]): Uint8Array {
  return encodeRequest(logs, writeLogRecord)
}

export function encodeMetrics(metrics: readonly MetricRecord[]): Uint8Array {
  return encodeRequest(metrics, writeMetric)
}

/** Export{Trace,Logs,Metrics}ServiceResponse; partial_success only when something was rejected or said. */
export function encodeExportResponseProto(rejected: bigint, errorMessage: string): Uint8Array {
  const w = new ProtoWriter(16 + errorMessage.length * 3)
  if (rejected !== 0n || errorMessage !== '') {
    w.tag(1, LEN)
    const start = w.beginLength()
    if (rejected !== 0n) {
      w.tag(1, VARINT)
      w.varint64(rejected)
    }

    if (errorMessage !== '') {
      w.tag(2, LEN)
      w.string(errorMessage)
    }

    w.endLength(start)
  }

  return w.finish()
}

interface Grouped {
  resource: Resource
  scope: InstrumentationScope
}

function encodeRequest<R extends Grouped>(records: readonly R[], writeRecord: (w: ProtoWriter, record: R) => void): Uint8Array {
  const w = new ProtoWriter(Math.max(1024, records.length * 256))
  let i = 0
  while (i < records.length) {
    const resource = records[i]!.resource
    w.tag(1, LEN)
    const groupStart = w.beginLength()
    w.tag(1, LEN)
    const resourceStart = w.beginLength()
    writeKeyValues(w, 1, resource.attributes)
    writeUint32(w, 2, resource.droppedAttributesCount)
    w.endLength(resourceStart)
    while (i < records.length && records[i]!.resource === resource) {
      const scope = records[i]!.scope
      w.tag(2, LEN)
      const scopeGroupStart = w.beginLength()
      w.tag(1, LEN)
      const scopeStart = w.beginLength()
      writeString(w, 1, scope.name)
      writeString(w, 2, scope.version)
      writeKeyValues(w, 3, scope.attributes)
      writeUint32(w, 4, scope.droppedAttributesCount)
      w.endLength(scopeStart)
      while (i < records.length && records[i]!.resource === resource && records[i]!.scope === scope) {
        w.tag(2, LEN)
        const recordStart = w.beginLength()
        writeRecord(w, records[i]!)
        w.endLength(recordStart)
        i++
      }

      writeString(w, 3, scope.schemaUrl)
      w.endLength(scopeGroupStart)
    }

    writeString(w, 3, resource.schemaUrl)
    w.endLength(groupStart)
  }

  return w.finish()
}

function writeString(w: ProtoWriter, field: number, value: string): void {
  if (value === '') return
  w.tag(field, LEN)
  w.string(value)
}

function writeId(w: ProtoWriter, field: number, value: string): void {
  if (value === '') return
  w.tag(field, LEN)
  w.hex(value)
}

function writeUint32(w: ProtoWriter, field: number, value: number): void {
  if (value === 0) return
  w.tag(field, VARINT)
  w.varint32(value)
}

function writeInt32(w: ProtoWriter, field: number, value: number): void {
  if (value === 0) return
  w.tag(field, VARINT)
  w.int32(value)
}

function writeFixed32(w: ProtoWriter, field: number, value: number): void {
  if (value === 0) return
  w.tag(field, I32)
  w.fixed32(value)
}

function writeFixed64(w: ProtoWriter, field: number, value: bigint): void {
  if (value === 0n) return
  w.tag(field, I64)
  w.fixed64(value)
}

/** An implicit-presence double: left out at +0 only (-0 is a different value and kept). */
function writeDouble(w: ProtoWriter, field: number, value: number): void {
  if (value === 0 && !Object.is(value, -0)) return
  w.tag(field, I64)
  w.double(value)
}

function writeOptionalDouble(w: ProtoWriter, field: number, value: number | undefined): void {
  if (value === undefined) return
  w.tag(field, I64)
  w.double(value)
}

function writeKeyValues(w: ProtoWriter, field: number, values: readonly KeyValue[]): void {
  for (const kv of values) {
    w.tag(field, LEN)
    const start = w.beginLength()
    writeString(w, 1, kv.key)
    w.tag(2, LEN)
    const valueStart = w.beginLength()
    writeAnyValueFields(w, kv.value)
    w.endLength(valueStart)
    w.endLength(start)
  }
}

/** The fields of an AnyValue message; its one value is written even when it is a default. */
function writeAnyValueFields(w: ProtoWriter, value: AnyValue): void {
  switch (value.kind) {
    case 'string': {
      w.tag(1, LEN)
      w.string(value.value)
      break
    }

    case 'bool': {
      w.tag(2, VARINT)
      w.varint32(value.value ? 1 : 0)
      break
    }

    case 'int': {
      w.tag(3, VARINT)
      w.varint64(value.value)
      break
    }

    case 'double': {
      w.tag(4, I64)
      w.double(value.value)
      break
    }

    case 'array': {
      w.tag(5, LEN)
      const start = w.beginLength()
      for (const item of value.value) {
        w.tag(1, LEN)
        const itemStart = w.beginLength()
        writeAnyValueFields(w, item)
        w.endLength(itemStart)
      }

      w.endLength(start)
      break
    }

    case 'kvlist': {
      w.tag(6, LEN)
      const start = w.beginLength()
      writeKeyValues(w, 1, value.value)
      w.endLength(start)
      break
    }

    case 'bytes': {
      w.tag(7, LEN)
      w.bytes(value.value)
      break
    }

    case 'empty': {
      break
    }
  }
}

function writeSpan(w: ProtoWriter, span: SpanRecord): void {
  writeId(w, 1, span.traceId)
  writeId(w, 2, span.spanId)
  writeString(w, 3, span.traceState)
  writeId(w, 4, span.parentSpanId)
  writeString(w, 5, span.name)
  writeInt32(w, 6, span.kind)
  writeFixed64(w, 7, span.startTimeUnixNano)
  writeFixed64(w, 8, span.endTimeUnixNano)
  writeKeyValues(w, 9, span.attributes)
  writeUint32(w, 10, span.droppedAttributesCount)
  for (const event of span.events) {
    w.tag(11, LEN)
    const start = w.beginLength()
    writeFixed64(w, 1, event.timeUnixNano)
    writeString(w, 2, event.name)
    writeKeyValues(w, 3, event.attributes)
    writeUint32(w, 4, event.droppedAttributesCount)
    w.endLength(start)
  }

  writeUint32(w, 12, span.droppedEventsCount)
  for (const link of span.links) {
    w.tag(13, LEN)
    const start = w.beginLength()
    writeId(w, 1, link.traceId)
    writeId(w, 2, link.spanId)
    writeString(w, 3, link.traceState)
    writeKeyValues(w, 4, link.attributes)
    writeUint32(w, 5, link.droppedAttributesCount)
    writeFixed32(w, 6, link.flags)
    w.endLength(start)
  }

  writeUint32(w, 14, span.droppedLinksCount)
  w.tag(15, LEN)
  const statusStart = w.beginLength()
  writeString(w, 2, span.status.message)
  writeInt32(w, 3, span.status.code)
  w.endLength(statusStart)
  writeFixed32(w, 16, span.flags)
}

function writeLogRecord(w: ProtoWriter, log: LogRecordOtlp): void {
  writeFixed64(w, 1, log.timeUnixNano)
  writeInt32(w, 2, log.severityNumber)
  writeString(w, 3, log.severityText)
  if (log.body !== undefined) {
    w.tag(5, LEN)
    const start = w.beginLength()
    writeAnyValueFields(w, log.body)
    w.endLength(start)
  }

  writeKeyValues(w, 6, log.attributes)
  writeUint32(w, 7, log.droppedAttributesCount)
  writeFixed32(w, 8, log.flags)
  writeId(w, 9, log.traceId)
  writeId(w, 10, log.spanId)
  writeFixed64(w, 11, log.observedTimeUnixNano)
  writeString(w, 12, log.eventName)
}

function writeMetric(w: ProtoWriter, metric: MetricRecord): void {
  writeString(w, 1, metric.name)
  writeString(w, 2, metric.description)
  writeString(w, 3, metric.unit)
  const data = metric.data
  switch (data.type) {
    case 'gauge': {
      w.tag(5, LEN)
      const start = w.beginLength()
      for (const point of data.dataPoints) writeNumberPoint(w, point)
      w.endLength(start)
      break
    }

    case 'sum': {
      w.tag(7, LEN)
      const start = w.beginLength()
      for (const point of data.dataPoints) writeNumberPoint(w, point)
      writeInt32(w, 2, data.aggregationTemporality)
      if (data.isMonotonic) {
        w.tag(3, VARINT)
        w.varint32(1)
      }

      w.endLength(start)
      break
    }

    case 'histogram': {
      w.tag(9, LEN)
      const start = w.beginLength()
      for (const point of data.dataPoints) writeHistogramPoint(w, point)
      writeInt32(w, 2, data.aggregationTemporality)
      w.endLength(start)
      break
    }

    case 'exponentialHistogram': {
      w.tag(10, LEN)
      const start = w.beginLength()
      for (const point of data.dataPoints) writeExponentialPoint(w, point)
      writeInt32(w, 2, data.aggregationTemporality)
      w.endLength(start)
      break
    }

    case 'summary': {
      w.tag(11, LEN)
      const start = w.beginLength()
      for (const point of data.dataPoints) writeSummaryPoint(w, point)
      w.endLength(start)
      break
    }

    case 'none': {
      break
    }
  }

  writeKeyValues(w, 12, metric.metadata)
}

function writeNumberPoint(w: ProtoWriter, point: NumberDataPoint): void {
  w.tag(1, LEN)
  const start = w.beginLength()
  writeFixed64(w, 2, point.startTimeUnixNano)
  writeFixed64(w, 3, point.timeUnixNano)
  if (point.value.kind === 'double') {
    w.tag(4, I64)
    w.double(point.value.value)
  }

  writeExemplars(w, 5, point.exemplars)
  if (point.value.kind === 'int') {
    w.tag(6, I64)
    w.fixed64(point.value.value)
  }

  writeKeyValues(w, 7, point.attributes)
  writeUint32(w, 8, point.flags)
  w.endLength(start)
}

function writeHistogramPoint(w: ProtoWriter, point: HistogramDataPoint): void {
  w.tag(1, LEN)
  const start = w.beginLength()
  writeFixed64(w, 2, point.startTimeUnixNano)
  writeFixed64(w, 3, point.timeUnixNano)
  writeFixed64(w, 4, point.count)
  writeOptionalDouble(w, 5, point.sum)
  if (point.bucketCounts.length > 0) {
    w.tag(6, LEN)
    w.varint32(point.bucketCounts.length * 8)
    for (const count of point.bucketCounts) w.fixed64(count)
  }

  if (point.explicitBounds.length > 0) {
    w.tag(7, LEN)
    w.varint32(point.explicitBounds.length * 8)
    for (const bound of point.explicitBounds) w.double(bound)
  }

  writeExemplars(w, 8, point.exemplars)
  writeKeyValues(w, 9, point.attributes)
  writeUint32(w, 10, point.flags)
  writeOptionalDouble(w, 11, point.min)
  writeOptionalDouble(w, 12, point.max)
  w.endLength(start)
}

function writeExponentialPoint(w: ProtoWriter, point: ExponentialHistogramDataPoint): void {
  w.tag(1, LEN)
  const start = w.beginLength()
  writeKeyValues(w, 1, point.attributes)
  writeFixed64(w, 2, point.startTimeUnixNano)
  writeFixed64(w, 3, point.timeUnixNano)
  writeFixed64(w, 4, point.count)
  writeOptionalDouble(w, 5, point.sum)
  if (point.scale !== 0) {
    w.tag(6, VARINT)
    w.sint32(point.scale)
  }

  writeFixed64(w, 7, point.zeroCount)
  writeBuckets(w, 8, point.positive)
  writeBuckets(w, 9, point.negative)
  writeUint32(w, 10, point.flags)
  writeExemplars(w, 11, point.exemplars)
  writeOptionalDouble(w, 12, point.min)
  writeOptionalDouble(w, 13, point.max)
  writeDouble(w, 14, point.zeroThreshold)
  w.endLength(start)
}

function writeBuckets(w: ProtoWriter, field: number, buckets: {offset: number; bucketCounts: bigint[]}): void {
  w.tag(field, LEN)
  const start = w.beginLength()
  if (buckets.offset !== 0) {
    w.tag(1, VARINT)
    w.sint32(buckets.offset)
  }

  if (buckets.bucketCounts.length > 0) {
    w.tag(2, LEN)
    const packed = w.beginLength()
    for (const count of buckets.bucketCounts) w.varint64(count)
    w.endLength(packed)
  }

  w.endLength(start)
}

function writeSummaryPoint(w: ProtoWriter, point: SummaryDataPoint): void {
  w.tag(1, LEN)
  const start = w.beginLength()
  writeFixed64(w, 2, point.startTimeUnixNano)
  writeFixed64(w, 3, point.timeUnixNano)
  writeFixed64(w, 4, point.count)
  writeDouble(w, 5, point.sum)
  for (const quantile of point.quantileValues) {
    w.tag(6, LEN)
    const quantileStart = w.beginLength()
    writeDouble(w, 1, quantile.quantile)
    writeDouble(w, 2, quantile.value)
    w.endLength(quantileStart)
  }

  writeKeyValues(w, 7, point.attributes)
  writeUint32(w, 8, point.flags)
  w.endLength(start)
}

function writeExemplars(w: ProtoWriter, field: number, exemplars: readonly Exemplar[]): void {
  for (const exemplar of exemplars) {
    w.tag(field, LEN)
    const start = w.beginLength()
    writeFixed64(w, 2, exemplar.timeUnixNano)
    if (exemplar.value.kind === 'double') {
      w.tag(3, I64)
      w.double(exemplar.value.value)
    }

    writeId(w, 4, exemplar.spanId)
    writeId(w, 5, exemplar.traceId)
    if (exemplar.value.kind === 'int') {
      w.tag(6, I64)
      w.fixed64(exemplar.value.value)
    }

    writeKeyValues(w, 7, exemplar.filteredAttributes)
    w.endLength(start)
  }
}
