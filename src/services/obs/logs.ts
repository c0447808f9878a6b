/**
 * `stella obs logs`: log records as the API gives them (OTLP/JSON LogRecords flattened with their
 * resource and scope), from the server or from a JSON-lines file, with the server's filters.
 */
import {RemoteError, UsageError} from '../../lib/errors.js'
import type {LogQuery, LogSource, ReadOptions, RecordStream} from './source.js'

/** OTLP/JSON AnyValue: exactly one of the fields is set. */
export interface AnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: string | number
  doubleValue?: number
  bytesValue?: string
  arrayValue?: {values?: AnyValue[]}
  kvlistValue?: {values?: KeyValue[]}
}

export interface KeyValue {
  key: string
  value?: AnyValue
}

/** One OTLP/JSON LogRecord with the attributes of its resource and instrumentation scope beside it. */
export interface LogRecord {
  /** Nanoseconds since the epoch, as a decimal string (OTLP/JSON's 64-bit integers). */
  timeUnixNano: string
  observedTimeUnixNano?: string
  severityNumber?: number
  severityText?: string
  body?: AnyValue
  attributes?: KeyValue[]
  /** 32 lowercase hex digits; absent when the record belongs to no trace. */
  traceId?: string
  spanId?: string
  resource?: {attributes?: KeyValue[]}
  scope?: {name?: string; version?: string}
}

/** The OTLP severity number each level starts at; `--level X` means X and more severe. */
export const LOG_LEVELS = {trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21} as const
export type LogLevel = keyof typeof LOG_LEVELS

/** The level a record shows: its severity text, else the level of its severity number, else `-`. */
export function logLevelText(record: LogRecord): string {
  return (record.severityText || levelOfSeverity(record.severityNumber) || '-').toUpperCase()
}

/** The level a severity number falls in (logs.proto: 1–4 TRACE, 5–8 DEBUG, … 21–24 FATAL), or undefined for 0 and out-of-range numbers. */
function levelOfSeverity(severityNumber: number | undefined): string | undefined {
  if (severityNumber === undefined || !Number.isInteger(severityNumber) || severityNumber < 1 || severityNumber > 24) return undefined
  return Object.keys(LOG_LEVELS)[(severityNumber - 1) >> 2]
}

const TRACE_ID = /^[0-9a-f]{32}$/

/** Checks what the server would refuse, so a typo costs no request and reads the same locally. */
export function checkLogQuery(query: LogQuery): LogQuery {
  return query.traceId === undefined ? query : {...query, traceId: checkTraceId(query.traceId)}
}

/** A trace id as the API takes it: 32 hex digits, lowercase. */
export function checkTraceId(text: string): string {
  return validTraceId(text.toLowerCase(), `--trace-id "${text}"`, 'Copy the trace id from a log line, a span or `trace_id=` in an error message.')
}

/**
 * `traceId` (lowercased) when it is 32 hex digits and not all zeros, the id that means "no
 * trace"; else a usage error saying `invalid <what>: …` with `remedy`.
 */
export function validTraceId(traceId: string, what: string, remedy: string): string {
  if (!TRACE_ID.test(traceId)) throw new UsageError('INVALID_TRACE_ID', `invalid ${what}: a trace id is 32 hex digits`, {remedy})
  if (/^0+$/.test(traceId)) throw new UsageError('INVALID_TRACE_ID', `invalid ${what}: the all-zero id means "no trace"`, {remedy})
  return traceId
}

export function readLogs(source: LogSource, query: LogQuery, options: ReadOptions): RecordStream<LogRecord> {
  const records = source.logs(checkLogQuery(query), options)
  return {
    get hasMore() {
      return records.hasMore
    },
    async *[Symbol.asyncIterator]() {
      try {
        yield* records
      } catch (error) {
        throw explainGuardrail(error)
      }
    },
  }
}

/** The server's 400 for a window that is too long, explained in terms of this command's flags. */
function explainGuardrail(error: unknown): unknown {
  const problem = (error as {problem?: {reason?: string; detail?: string}}).problem
  if (!(error instanceof RemoteError) || (error as {status?: number}).status !== 400 || problem?.reason !== 'window_too_long') return error
  const said = problem.detail ? `: ${problem.detail}` : ''
  return Object.assign(
    new RemoteError('WINDOW_TOO_LONG', `the server refused the logs query because its time window is too long${said}`, {
      remedy: 'The server limits a logs query to a 24h window (a server may set less); narrow --from/--to or use a shorter --since, and read a longer period in several windows.',
      cause: error,
    }),
    {traceId: (error as {traceId?: string}).traceId},
  )
}

/** Keeps the records a query selects, exactly as the server does (used on local files). */
export function logMatcher(query: LogQuery): (record: LogRecord) => boolean {
  const from = query.from === undefined ? undefined : Date.parse(query.from)
  const to = query.to === undefined ? undefined : Date.parse(query.to)
  const minSeverity = query.level === undefined ? 0 : (LOG_LEVELS[query.level.toLowerCase() as LogLevel] ?? 0)
  const text = query.q?.toLowerCase()
  return (record) => {
    const ms = timeMs(record)
    if (from !== undefined && ms < from) return false
    if (to !== undefined && ms >= to) return false
    if (query.traceId !== undefined && record.traceId !== query.traceId) return false
    if (query.service !== undefined && logService(record) !== query.service) return false
    if ((record.severityNumber ?? 0) < minSeverity) return false
    if (text !== undefined && !(record.body?.stringValue ?? '').toLowerCase().includes(text)) return false
    return true
  }
}

export function compareLogTimes(a: LogRecord, b: LogRecord): number {
  const x = nanos(a)
  const y = nanos(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** RFC 3339 with the record's microseconds (more is noise for people; --json keeps every digit). */
export function logTime(record: LogRecord): string {
  const ns = nanos(record)
  const iso = new Date(Number(ns / 1_000_000n)).toISOString()
  const micros = String(Number((ns / 1000n) % 1000n)).padStart(3, '0')
  return iso.replace(/Z$/, `${micros}Z`)
}

export function logService(record: LogRecord): string | undefined {
  return record.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value?.stringValue
}

/** The body as text: strings as they are, anything else as compact JSON. */
export function logBody(record: LogRecord): string {
  const body = record.body
  if (body === undefined) return ''
  return body.stringValue ?? JSON.stringify(plainValue(body))
}

function plainValue(value: AnyValue | undefined): unknown {
  if (value === undefined) return null
  if (value.stringValue !== undefined) return value.stringValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.bytesValue !== undefined) return value.bytesValue
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plainValue)
  if (value.kvlistValue !== undefined) return Object.fromEntries((value.kvlistValue.values ?? []).map((kv) => [kv.key, plainValue(kv.value)]))
  return null
}

function nanos(record: LogRecord): bigint {
  try {
    return BigInt(record.timeUnixNano)
  } catch {
    return 0n
  }
}

function timeMs(record: LogRecord): number {
  return Number(nanos(record) / 1_000_000n)
}
