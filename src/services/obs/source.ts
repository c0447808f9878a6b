/**
 * Where `stella obs logs` and `stella obs timeline` read from: the server, or JSON-lines files.
 * Both sources satisfy one interface and yield the same typed records, so a command (and its
 * tests) cannot tell them apart except by where the data came from.
 */
import type {HealthResponse, SloResponse, TimelineEvent, TimelineEventDetail} from '../../lib/api/types.js'
import type {LogRecord} from './logs.js'
import type {TimeWindow} from './window.js'

export type Query = Record<string, string | number | boolean | undefined | null>

/** A stream of records that, once read to its end, says whether more matched than it yielded. */
export interface RecordStream<T> extends AsyncIterable<T> {
  readonly hasMore: boolean
}

/** The calls of the API client that the obs commands make (the client itself is loaded lazily). */
export interface ObsApi {
  getJson<T>(path: string, query?: Query): Promise<T>
  paginate<T>(path: string, query?: Query, options?: {limit?: number; all?: boolean; cursor?: string}): RecordStream<T>
}

export interface LogQuery extends TimeWindow {
  traceId?: string
  service?: string
  level?: string
  q?: string
}

export interface TimelineQuery extends TimeWindow {
  kind?: string
  resource?: string
  project?: string
  traceId?: string
}

/** `limit` caps the records yielded; `all` reads every match, `pageSize` at a time when given. */
export interface ReadOptions {
  limit: number
  all: boolean
  pageSize?: number
}

/** `--limit` is a total without `--all` (default 100), and a page size with it. */
export function readOptions(limit: number | undefined, all: boolean): ReadOptions {
  return {limit: limit ?? 100, all, ...(all && limit !== undefined ? {pageSize: limit} : {})}
}

export interface LogSource {
  logs(query: LogQuery, options: ReadOptions): RecordStream<LogRecord>
}

export interface TimelineSource {
  events(query: TimelineQuery, options: ReadOptions): RecordStream<TimelineEvent>
  event(eventId: string): Promise<TimelineEventDetail>
}

/** The server, through the API client. */
export class RemoteObsSource implements LogSource, TimelineSource {
  constructor(private readonly api: ObsApi) {}

  health(): Promise<HealthResponse> {
    return this.api.getJson<HealthResponse>('/obs/health')
  }

  slo(): Promise<SloResponse> {
    return this.api.getJson<SloResponse>('/obs/slo')
  }

  logs(query: LogQuery, options: ReadOptions): RecordStream<LogRecord> {
    const wire = {from: query.from, to: query.to, traceId: query.traceId, service: query.service, level: query.level, q: query.q}
    return this.api.paginate<LogRecord>('/obs/logs', wire, pageOptions(options))
  }

  events(query: TimelineQuery, options: ReadOptions): RecordStream<TimelineEvent> {
    const wire = {from: query.from, to: query.to, kind: query.kind, resource: query.resource, project: query.project, traceId: query.traceId}
    return this.api.paginate<TimelineEvent>('/timeline', wire, pageOptions(options))
  }

  event(eventId: string): Promise<TimelineEventDetail> {
    return this.api.getJson<TimelineEventDetail>(`/timeline/${encodeURIComponent(eventId)}`)
  }
}

/** With `all`, pages are `pageSize` or as large as the API allows; otherwise `limit` is the number of items wanted. */
function pageOptions(options: ReadOptions): {limit?: number; all?: boolean} {
  if (!options.all) return {limit: options.limit}
  return options.pageSize === undefined ? {all: true} : {all: true, limit: options.pageSize}
}
