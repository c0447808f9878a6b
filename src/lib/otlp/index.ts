/**
 * OTLP codecs: export requests and responses of all three signals, protobuf and OTLP/JSON, to and
 * from the flat records of types.ts.
 */
import {decodeExportResponseJson, decodeLogsJson, decodeMetricsJson, decodeTracesJson, encodeExportResponseJson, encodeLogsJson, encodeMetricsJson, encodeTracesJson} from './json.js'
import {type DecodeOptions, decodeExportResponseProto, decodeLogs, decodeMetrics, decodeTraces, sniffSignalProto} from './proto-decode.js'
import {encodeExportResponseProto, encodeLogs, encodeMetrics, encodeTraces} from './proto-encode.js'
import type {LogRecordOtlp, MetricRecord, Signal, SignalRecords, SpanRecord} from './types.js'

export * from './types.js'
export {OtlpDecodeError, isOtlpDecodeError, type OtlpDecodeErrorCode} from './errors.js'
export {decodeTraces, decodeLogs, decodeMetrics, type DecodeOptions} from './proto-decode.js'
export {encodeTraces, encodeLogs, encodeMetrics} from './proto-encode.js'
export {
  decodeTracesJson,
  decodeLogsJson,
  decodeMetricsJson,
  tracesFromJson,
  logsFromJson,
  metricsFromJson,
  encodeTracesJson,
  encodeLogsJson,
  encodeMetricsJson,
  tracesToJson,
  logsToJson,
  metricsToJson,
  parseOtlpJson,
} from './json.js'
export {attributeValue, anyValueToJs, attributesToObject, stringAttribute} from './values.js'

export type OtlpFormat = 'proto' | 'json'

/** The records of one signal; for the whole Signal union, a union of arrays (never a mixed array). */
export type RecordsOf<S extends Signal> = S extends Signal ? SignalRecords[S][] : never

/** Decodes an export request of `signal` in either format (JSON given as UTF-8 bytes). */
export function decode<S extends Signal>(signal: S, format: OtlpFormat, bytes: Uint8Array, options?: DecodeOptions): RecordsOf<S> {
  const decoders = format === 'proto' ? PROTO_DECODERS : JSON_DECODERS
  return decoders[signal](bytes, options) as RecordsOf<S>
}

const PROTO_DECODERS = {traces: decodeTraces, logs: decodeLogs, metrics: decodeMetrics}
const JSON_DECODERS = {traces: decodeTracesJson, logs: decodeLogsJson, metrics: decodeMetricsJson}

/** Encodes records of `signal` as an export request in either format (JSON as UTF-8 bytes). */
export function encode<S extends Signal>(signal: S, format: OtlpFormat, records: readonly SignalRecords[S][]): Uint8Array {
  switch (signal) {
    case 'traces': {
      const spans = records as readonly SpanRecord[]
      return format === 'proto' ? encodeTraces(spans) : Buffer.from(encodeTracesJson(spans))
    }

    case 'logs': {
      const logs = records as readonly LogRecordOtlp[]
      return format === 'proto' ? encodeLogs(logs) : Buffer.from(encodeLogsJson(logs))
    }

    default: {
      const metrics = records as readonly MetricRecord[]
      return format === 'proto' ? encodeMetrics(metrics) : Buffer.from(encodeMetricsJson(metrics))
    }
  }
}

/** Which export request a protobuf body is, from its content; undefined when it cannot tell. */
export function sniffSignal(bytes: Uint8Array): Signal | undefined {
  return sniffSignalProto(bytes)
}

/**
 * How many items the records hold, counted as OTLP's partial success counts rejections: spans,
 * log records, or data points (for metrics; not the number of metric records).
 */
export function countRecords<S extends Signal>(signal: S, records: readonly SignalRecords[S][]): number {
  if (signal !== 'metrics') return records.length
  let points = 0
  for (const metric of records as readonly MetricRecord[]) if (metric.data.type !== 'none') points += metric.data.dataPoints.length
  return points
}

/**
 * When a record happened, in nanoseconds since the epoch: a span's start, a log record's time
 * (its observed time when the time is unset), a metric's latest data point; 0n when unknown.
 */
export function recordTimeNano<S extends Signal>(signal: S, record: SignalRecords[S]): bigint {
  switch (signal) {
    case 'traces': {
      return (record as SpanRecord).startTimeUnixNano
    }

    case 'logs': {
      const log = record as LogRecordOtlp
      return log.timeUnixNano === 0n ? log.observedTimeUnixNano : log.timeUnixNano
    }

    default: {
      const data = (record as MetricRecord).data
      let latest = 0n
      if (data.type !== 'none') for (const point of data.dataPoints) if (point.timeUnixNano > latest) latest = point.timeUnixNano
      return latest
    }
  }
}

export interface ExportResult {
  /** Records rejected: rejected_spans, rejected_log_records or rejected_data_points. */
  rejected: number | bigint
  errorMessage: string
}

/** An Export{Trace,Logs,Metrics}ServiceResponse; partial_success is set only when something was rejected or said. */
export function encodeExportResponse(signal: Signal, result: ExportResult, format: OtlpFormat): Uint8Array {
  const rejected = BigInt(result.rejected)
  return format === 'proto' ? encodeExportResponseProto(rejected, result.errorMessage) : Buffer.from(encodeExportResponseJson(signal, rejected, result.errorMessage))
}

export function decodeExportResponse(signal: Signal, bytes: Uint8Array, format: OtlpFormat): {rejected: bigint; errorMessage: string} {
  return format === 'proto' ? decodeExportResponseProto(bytes) : decodeExportResponseJson(signal, bytes)
}
