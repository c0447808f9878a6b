/**
 * Log records from OTLP files (what the OpenTelemetry Collector's file exporter writes, JSON lines
 * or length-prefixed protobuf, or the otlp/ files of a telemetry bundle) in the shape the API
 * gives them: an OTLP/JSON LogRecord with its resource and scope beside it. `stella obs logs`
 * reads these and the JSON-lines files it writes itself through one source, so local and remote
 * results look the same.
 */
import {open, stat} from 'node:fs/promises'

import {InputError} from '../../lib/errors.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {OtlpDecodeError, decodeLogs, decodeLogsJson} from '../../lib/otlp/index.js'
import type {AnyValue as OtlpValue, KeyValue as OtlpKeyValue, LogRecordOtlp} from '../../lib/otlp/types.js'
import {type OtlpMessage, expandInputs, readOtlpInputs} from '../../lib/otlp/files.js'
import {checkBundleContent} from '../forensic/input-bundles.js'
import {isLogRecord, limited, readJsonLines} from './file-source.js'
import {type AnyValue, type KeyValue, type LogRecord, compareLogTimes, logMatcher} from './logs.js'
import type {LogQuery, LogSource, ReadOptions, RecordStream} from './source.js'

/**
 * One OTLP log record as the API flattens it. Fields at their proto3 default are left out, as
 * OTLP/JSON leaves them out; a record without a time takes its observed time (as the OTLP spec
 * says a reader should), so it sorts and filters where it happened.
 */
export function flattenLogRecord(record: LogRecordOtlp): LogRecord {
  const time = record.timeUnixNano === 0n ? record.observedTimeUnixNano : record.timeUnixNano
  const scope: {name?: string; version?: string} = {}
  if (record.scope.name !== '') scope.name = record.scope.name
  if (record.scope.version !== '') scope.version = record.scope.version
  return {
    timeUnixNano: time.toString(),
    ...(record.observedTimeUnixNano === 0n ? {} : {observedTimeUnixNano: record.observedTimeUnixNano.toString()}),
    ...(record.severityNumber === 0 ? {} : {severityNumber: record.severityNumber}),
    ...(record.severityText === '' ? {} : {severityText: record.severityText}),
    ...(record.body === undefined ? {} : {body: jsonValue(record.body)}),
    attributes: record.attributes.map(jsonKeyValue),
    ...(record.traceId === '' ? {} : {traceId: record.traceId}),
    ...(record.spanId === '' ? {} : {spanId: record.spanId}),
    resource: {attributes: record.resource.attributes.map(jsonKeyValue)},
    scope,
  }
}

/** OTLP/JSON's AnyValue: 64-bit integers as decimal strings, bytes as base64. */
function jsonValue(value: OtlpValue): AnyValue {
  switch (value.kind) {
    case 'string':
      return {stringValue: value.value}
    case 'bool':
      return {boolValue: value.value}
    case 'int':
      return {intValue: value.value.toString()}
    case 'double':
      return {doubleValue: value.value}
    case 'bytes':
      return {bytesValue: Buffer.from(value.value).toString('base64')}
    case 'array':
      return {arrayValue: {values: value.value.map(jsonValue)}}
    case 'kvlist':
      return {kvlistValue: {values: value.value.map(jsonKeyValue)}}
    default:
      return {}
  }
}

function jsonKeyValue(attribute: OtlpKeyValue): KeyValue {
  return {key: attribute.key, value: jsonValue(attribute.value)}
}

/** The log records of OTLP messages, flattened; a message that does not decode names its file and offset. */
export function logsOfMessage(message: OtlpMessage): LogRecord[] {
  return decodeMessage(message, () => (message.format === 'proto' ? decodeLogs(message.bytes) : decodeLogsJson(message.bytes))).map(flattenLogRecord)
}

/** Runs a decoder over one message, saying which file and where when it fails. */
export function decodeMessage<T>(message: OtlpMessage, decode: () => T): T {
  try {
    return decode()
  } catch (error) {
    if (!(error instanceof OtlpDecodeError)) throw error
    throw new InputError(error.code, `${message.source} (offset ${message.offset}): ${error.message}`, {
      remedy: error.remedy ?? 'The file holds a message that is not valid OTLP; check what wrote it.',
      cause: error,
    })
  }
}

/**
 * Log records from local inputs: JSON-lines files of API-shaped records (what `--jsonl` writes),
 * and OTLP files, directories, globs and telemetry bundles. Matches are ordered by time (stably),
 * as the server orders them.
 */
export class LocalLogSource implements LogSource {
  constructor(private readonly inputs: readonly string[]) {}

  logs(query: LogQuery, options: ReadOptions): RecordStream<LogRecord> {
    const matches = logMatcher(query)
    return limited(async () => {
      const found: LogRecord[] = []
      for (const file of await localFiles(this.inputs, '--from-file')) {
        if (await holdsApiRecords(file)) {
          for (const record of await readJsonLines(file, isLogRecord, 'a log record with timeUnixNano')) if (matches(record)) found.push(record)
          continue
        }

        const mustContain = query.traceId === undefined ? undefined : {text: query.traceId, binary: Buffer.from(query.traceId, 'hex')}
        for await (const message of readOtlpInputs([file], {signals: ['logs'], checkBundle: checkBundleContent, ...(mustContain ? {mustContain} : {})})) {
          for (const record of logsOfMessage(message)) if (matches(record)) found.push(record)
        }
      }

      return found.sort(compareLogTimes)
    }, options)
  }
}

const GLOB = /[*?]/

/** The files the inputs name; a path that does not exist is reported the way `--from-file` always reported it. */
export async function localFiles(inputs: readonly string[], flag = '--from-file'): Promise<string[]> {
  for (const input of inputs) {
    if (GLOB.test(input)) continue
    try {
      await stat(input)
    } catch (error) {
      throw new InputError('FILE_UNREADABLE', `cannot read ${input}: ${fsErrorReason(error)}`, {remedy: `Check the path given to ${flag}.`, cause: error})
    }
  }

  return expandInputs(inputs)
}

/**
 * Whether a file holds API-shaped records rather than OTLP: JSON lines whose first object is not an
 * export request. The Collector writes `{"resourceLogs":…` (or resourceSpans, resourceMetrics)
 * first on each line; anything binary or compressed is OTLP.
 */
export async function holdsApiRecords(file: string): Promise<boolean> {
  let head: Buffer
  try {
    const handle = await open(file)
    try {
      const buffer = Buffer.alloc(512)
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0)
      head = buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${file}: ${fsErrorReason(error)}`, {remedy: 'Check the path given to --from-file.', cause: error})
  }

  const text = head.toString('latin1')
  if (!/^\s*\{/.test(text)) return false
  return !/^\s*\{\s*"resource(Logs|Spans|Metrics)"/.test(text)
}

/**
 * Whether a `--from` value names local input rather than a time: it is not an RFC 3339 time or a
 * duration, and a file or directory exists at that path (an empty directory too, to be refused
 * as one), or a glob matches.
 */
export async function namesLocalInput(value: string): Promise<boolean> {
  if (/^\d/.test(value.trim()) && /^[\dmshd]+$/.test(value.trim())) return false
  if (/^\d{4}-\d{2}-\d{2}[Tt ]/.test(value.trim())) return false
  const exists = await stat(value).then(() => true, () => false)
  if (exists) return true
  try {
    return (await expandInputs([value])).length > 0
  } catch {
    return false
  }
}
