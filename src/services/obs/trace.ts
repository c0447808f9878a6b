/**
 * `stella obs trace`: one trace, whole: its spans, its log records and (from the server) its
 * timeline events, from the server or from local OTLP files, assembled into a tree with its
 * critical path. Both sources give the same parts, so the rest cannot tell them apart.
 */
import type {TimelineEvent} from '../../lib/api/types.js'
import {InputError, RemoteError} from '../../lib/errors.js'
import {type SpanRecord, attributesToObject, decodeTraces, decodeTracesJson, tracesFromJson} from '../../lib/otlp/index.js'
import {readOtlpInputs} from '../../lib/otlp/files.js'
import {type LogRecord, validTraceId} from './logs.js'
import {checkBundleContent} from '../forensic/input-bundles.js'
import {isLogRecord, readJsonLines} from './file-source.js'
import {decodeMessage, holdsApiRecords, localFiles, logsOfMessage} from './otlp-logs.js'
import {type ObsApi, RemoteObsSource} from './source.js'
import {type AssembledTrace, type TraceNode, assembleTrace, spanDurationNano} from './trace-assembly.js'


/** A trace id as stella works with it: 32 hex digits (any case given, lowercase kept), not all zero. */
export function parseTraceId(text: string): string {
  return validTraceId(text.trim().toLowerCase(), `trace id "${text}"`, 'Copy the trace id from a log line, a span, a timeline event or `trace_id=` in an error message.')
}

/** Where a trace came from: said in the output, and in "not found" errors. */
export type TraceOrigin = {kind: 'server'; server: string; tenant: string; deepLink?: string} | {kind: 'files'; files: string[]}

/** The parts of one trace as a source finds them. */
export interface FoundTrace {
  spans: SpanRecord[]
  logs: LogRecord[]
  /** Undefined where there is no timeline (local files). */
  timeline?: TimelineEvent[]
  origin: TraceOrigin
  /** What could not be read, when the trace itself could (e.g. its timeline, for want of a scope). */
  warnings: string[]
}

export interface TraceSource {
  /** The trace's parts; a TRACE_NOT_FOUND InputError naming where it looked when there are none. */
  find(traceId: string): Promise<FoundTrace>
}

export interface TraceReport {
  trace: AssembledTrace
  origin: TraceOrigin
  warnings: string[]
}

export async function showTrace(source: TraceSource, traceIdText: string): Promise<TraceReport> {
  const traceId = parseTraceId(traceIdText)
  const found = await source.find(traceId)
  const trace = assembleTrace({traceId, spans: found.spans, logs: found.logs, ...(found.timeline === undefined ? {} : {timeline: found.timeline})})
  const warnings = [...found.warnings]
  const twice = [
    ...(trace.duplicateSpans > 0 ? [`${trace.duplicateSpans} ${trace.duplicateSpans === 1 ? 'span' : 'spans'} (by span id)`] : []),
    ...(trace.duplicateLogs > 0 ? [`${trace.duplicateLogs} log ${trace.duplicateLogs === 1 ? 'record' : 'records'}`] : []),
  ]
  if (twice.length > 0) warnings.push(`${twice.join(' and ')} came more than once (the same data in several inputs?); each is shown once`)
  return {trace, origin: found.origin, warnings}
}

// ---------------------------------------------------------------------------------------------
// The server

/** The API client's calls and facts a remote trace needs. */
export interface TraceApi extends ObsApi {
  /** The server's URL, said in "not found". */
  readonly server: string
  readonly tenant: string
}

interface TraceResponse {
  traceId?: string
  deepLink?: string
  resourceSpans?: unknown
}

/** `/obs/trace/{id}`, `/obs/logs?traceId=` (every page) and `/timeline?traceId=` (every page), at the same time. */
export class RemoteTraceSource implements TraceSource {
  constructor(private readonly api: TraceApi) {}

  async find(traceId: string): Promise<FoundTrace> {
    const obs = new RemoteObsSource(this.api)
    const everything = {limit: Number.POSITIVE_INFINITY, all: true}
    const [trace, logs, timeline] = await Promise.allSettled([
      this.api.getJson<TraceResponse>(`/obs/trace/${traceId}`),
      collect(obs.logs({traceId}, everything)),
      collect(obs.events({traceId}, everything)),
    ])
    if (trace.status === 'rejected') throw this.explain(trace.reason, traceId)
    const spans = this.spansOf(trace.value, traceId)
    const warnings: string[] = []
    if (logs.status === 'rejected') warnings.push(`the trace's log records could not be read, so none are shown: ${reasonOf(logs.reason)}`)
    if (timeline.status === 'rejected') warnings.push(`the trace's timeline events could not be read, so none are shown: ${reasonOf(timeline.reason)}`)
    const deepLink = typeof trace.value.deepLink === 'string' ? trace.value.deepLink : undefined
    return {
      spans,
      logs: logs.status === 'fulfilled' ? logs.value : [],
      timeline: timeline.status === 'fulfilled' ? timeline.value : [],
      origin: {kind: 'server', server: this.api.server, tenant: this.api.tenant, ...(deepLink === undefined ? {} : {deepLink})},
      warnings,
    }
  }

  private spansOf(response: TraceResponse, traceId: string): SpanRecord[] {
    try {
      return tracesFromJson({resourceSpans: response.resourceSpans ?? []})
    } catch (error) {
      throw new RemoteError('BAD_RESPONSE', `the server's answer for trace ${traceId} is not OTLP/JSON: ${reasonOf(error)}`, {
        remedy: 'Report this to the StellaOps operators; meanwhile read the trace from the Collector files with --from.',
        cause: error,
      })
    }
  }

  /** A 404 is the answer "no such trace here", said with the server and tenant it was asked of. */
  private explain(error: unknown, traceId: string): unknown {
    if (!(error instanceof RemoteError) || (error as {status?: number}).status !== 404) return error
    return Object.assign(
      new InputError('TRACE_NOT_FOUND', `trace ${traceId} not found on ${this.api.server} (tenant ${this.api.tenant})`, {
        remedy: 'Check the id and --tenant; a trace older than the retention period is gone from the server, but may still be in Collector files (--from).',
        cause: error,
      }),
      {traceId: (error as {traceId?: string}).traceId},
    )
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

// ---------------------------------------------------------------------------------------------
// Local files

/**
 * OTLP files, directories, globs and telemetry bundles. Only the lines and messages that hold the
 * trace id (as hex text, or as the 16 raw bytes of protobuf) are decoded, so looking for one trace
 * in a large directory costs little more than reading it.
 */
export class FileTraceSource implements TraceSource {
  constructor(private readonly inputs: readonly string[]) {}

  async find(traceId: string): Promise<FoundTrace> {
    const files = await localFiles(this.inputs, '--from')
    const spans: SpanRecord[] = []
    const logs: LogRecord[] = []
    // Log records as `obs logs --jsonl` writes them are read whole; the OTLP files together, searched.
    const otlpFiles: string[] = []
    for (const file of files) {
      if (!(await holdsApiRecords(file))) {
        otlpFiles.push(file)
        continue
      }

      for (const record of await readJsonLines(file, isLogRecord, 'a log record with timeUnixNano')) if (record.traceId?.toLowerCase() === traceId) logs.push(record)
    }

    const mustContain = {text: traceId, binary: Buffer.from(traceId, 'hex')}
    for await (const message of readOtlpInputs(otlpFiles, {signals: ['traces', 'logs'], mustContain, checkBundle: checkBundleContent})) {
      if (message.signal === 'traces') {
        const decoded = decodeMessage(message, () => (message.format === 'proto' ? decodeTraces(message.bytes) : decodeTracesJson(message.bytes)))
        for (const span of decoded) if (span.traceId === traceId) spans.push(span)
      } else {
        for (const record of logsOfMessage(message)) if (record.traceId === traceId) logs.push(record)
      }
    }

    if (spans.length === 0 && logs.length === 0) {
      throw new InputError('TRACE_NOT_FOUND', `trace ${traceId} not found in ${describeFiles(files)}`, {
        remedy: 'Check the id, and that the files hold the traces (and logs) of the time it ran; the server may still have it (drop --from).',
      })
    }

    return {spans, logs, origin: {kind: 'files', files}, warnings: []}
  }
}

/** `a.jsonl`, `3 files (a.jsonl, b.pb, c.tgz)`, `12 files (a, b, c and 9 more)`. */
export function describeFiles(files: readonly string[]): string {
  if (files.length === 1) return files[0]!
  const shown = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ')
  return `${files.length} files (${shown})`
}

// ---------------------------------------------------------------------------------------------
// --json

export interface TraceSpanJson {
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  service: string
  /** Nanoseconds since the epoch, as decimal strings (OTLP/JSON's 64-bit integers). */
  startTimeUnixNano: string
  endTimeUnixNano: string
  /** Null when the span's end is before its start (an end of 0: it had not ended). */
  durationNano: string | null
  status: {code: number; message: string}
  depth: number
  /** Span ids, in start-time order. */
  children: string[]
  /** The span's parent is missing from the trace. */
  orphan: boolean
  critical: boolean
  /** The span's own time on the critical path. */
  criticalNano: string
  attributes: Record<string, unknown>
  events: {timeUnixNano: string; name: string; attributes: Record<string, unknown>}[]
  links: {traceId: string; spanId: string; attributes: Record<string, unknown>}[]
  resource: {attributes: Record<string, unknown>}
  scope: {name: string; version: string}
}

export interface TraceJson {
  traceId: string
  source: TraceOrigin
  summary: {
    spanCount: number
    services: string[]
    errorCount: number
    orphanCount: number
    logCount: number
    startTimeUnixNano: string
    endTimeUnixNano: string
    durationNano: string
    /** Span ids on the critical path, in waterfall order. */
    criticalPath: string[]
  }
  /** In waterfall order: each root's subtree depth first, then each orphan's. */
  spans: TraceSpanJson[]
  /** Every log record of the trace, by time, as the API gives them. */
  logs: LogRecord[]
  /** The trace's timeline events; null when read from files (they have no timeline). */
  timeline: TimelineEvent[] | null
}

export function traceJson(report: TraceReport): TraceJson {
  const {trace} = report
  return {
    traceId: trace.traceId,
    source: report.origin,
    summary: {
      spanCount: trace.nodes.length,
      services: trace.services,
      errorCount: trace.errorCount,
      orphanCount: trace.orphans.length,
      logCount: trace.logs.length,
      startTimeUnixNano: trace.startNano.toString(),
      endTimeUnixNano: trace.endNano.toString(),
      durationNano: trace.durationNano.toString(),
      criticalPath: trace.criticalPath.map((node) => node.span.spanId),
    },
    spans: trace.nodes.map(spanJson),
    logs: trace.logs,
    timeline: trace.timeline ?? null,
  }
}

function spanJson(node: TraceNode): TraceSpanJson {
  const {span} = node
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    service: node.service,
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    durationNano: spanDurationNano(span)?.toString() ?? null,
    status: {code: span.status.code, message: span.status.message},
    depth: node.depth,
    children: node.children.map((child) => child.span.spanId),
    orphan: node.orphan,
    critical: node.critical,
    criticalNano: node.criticalNano.toString(),
    attributes: attributesToObject(span.attributes),
    events: span.events.map((event) => ({timeUnixNano: event.timeUnixNano.toString(), name: event.name, attributes: attributesToObject(event.attributes)})),
    links: span.links.map((link) => ({traceId: link.traceId, spanId: link.spanId, attributes: attributesToObject(link.attributes)})),
    resource: {attributes: attributesToObject(span.resource.attributes)},
    scope: {name: span.scope.name, version: span.scope.version},
  }
}
