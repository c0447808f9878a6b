/**
 * The local source: JSON-lines files holding what the API returns (flattened log records, or
 * timeline events), filtered and ordered exactly as the server filters and orders them.
 */
import {type FileHandle, open} from 'node:fs/promises'
import {createInterface} from 'node:readline'

import type {TimelineEvent, TimelineEventDetail} from '../../lib/api/types.js'
import {InputError} from '../../lib/errors.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {type LogRecord, compareLogTimes, logMatcher} from './logs.js'
import type {LogQuery, LogSource, ReadOptions, RecordStream, TimelineQuery, TimelineSource} from './source.js'
import {compareEventKeys} from './timeline.js'

export class FileObsSource implements LogSource, TimelineSource {
  constructor(private readonly path: string) {}

  logs(query: LogQuery, options: ReadOptions): RecordStream<LogRecord> {
    const matches = logMatcher(query)
    // The server answers in time order; a file may not be in order, so the matches are sorted (stably).
    return limited(async () => (await this.read(isLogRecord, 'a log record with timeUnixNano')).filter(matches).sort(compareLogTimes), options)
  }

  events(query: TimelineQuery, options: ReadOptions): RecordStream<TimelineEvent> {
    const matches = timelineMatcher(query)
    return limited(async () => (await this.read(isTimelineEvent, 'a timeline event with eventId and ts')).filter(matches).sort(compareEventKeys).map(withoutLinks), options)
  }

  async event(eventId: string): Promise<TimelineEventDetail> {
    const events = await this.read(isTimelineEvent, 'a timeline event with eventId and ts')
    const found = events.find((event) => event.eventId === eventId)
    if (!found) {
      throw new InputError('EVENT_NOT_FOUND', `no timeline event ${eventId} in ${this.path}`, {remedy: `Check the id; \`stella obs timeline list --from-file ${this.path}\` shows the event ids.`})
    }

    return {...found, links: (found as Partial<TimelineEventDetail>).links ?? {}}
  }

  private read<T>(valid: (value: unknown) => value is T, what: string): Promise<T[]> {
    return readJsonLines(this.path, valid, what)
  }
}

/** Every record of a JSON-lines file; a line that is not JSON or not `what` is an error naming FILE:LINE. */
export async function readJsonLines<T>(path: string, valid: (value: unknown) => value is T, what: string): Promise<T[]> {
  const records: T[] = []
  let lineNumber = 0
  let file: FileHandle | undefined
  try {
    // Opened first: a missing file is reported here, not lost inside readline.
    file = await open(path)
    const lines = createInterface({input: file.createReadStream(), crlfDelay: Number.POSITIVE_INFINITY})
    for await (const line of lines) {
      lineNumber += 1
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        throw new InputError('FILE_MALFORMED', `${path}:${lineNumber} is not JSON: ${(error as Error).message}`, {remedy: 'The file must hold one JSON object per line (JSON lines).'})
      }

      if (!valid(value)) throw new InputError('FILE_MALFORMED', `${path}:${lineNumber} is not ${what}`, {remedy: 'Check that the file holds the kind of records this command reads.'})
      records.push(value)
    }
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError('FILE_UNREADABLE', `cannot read ${path}: ${fsErrorReason(error)}`, {remedy: 'Check the path given to --from-file.', cause: error})
  } finally {
    await file?.close().catch(() => {})
  }

  return records
}

/** The first `limit` of what `load` finds (all with `all`), saying whether more matched. */
export function limited<T>(load: () => Promise<T[]>, options: ReadOptions): RecordStream<T> {
  let hasMore = false
  return {
    get hasMore() {
      return hasMore
    },
    async *[Symbol.asyncIterator]() {
      const items = await load()
      const shown = options.all ? items : items.slice(0, options.limit)
      hasMore = shown.length < items.length
      yield* shown
    },
  }
}

/** Keeps the events a query selects, exactly as the server does. */
function timelineMatcher(query: TimelineQuery): (event: TimelineEvent) => boolean {
  const from = query.from === undefined ? undefined : Date.parse(query.from)
  const to = query.to === undefined ? undefined : Date.parse(query.to)
  const kinds = query.kind?.split(',').filter(Boolean)
  return (event) => {
    const ts = Date.parse(event.ts)
    if (from !== undefined && ts < from) return false
    if (to !== undefined && ts >= to) return false
    if (kinds !== undefined && !kinds.includes(event.kind)) return false
    if (query.resource !== undefined && event.resourceId !== query.resource) return false
    if (query.project !== undefined && event.projectId !== query.project) return false
    if (query.traceId !== undefined && event.traceId !== query.traceId) return false
    return true
  }
}

/** A list shows events; links belong to the single-event view (as on the server). */
function withoutLinks(event: TimelineEvent): TimelineEvent {
  const {links: _links, ...rest} = event as Partial<TimelineEventDetail> & TimelineEvent
  return rest
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function isLogRecord(value: unknown): value is LogRecord {
  return isObject(value) && typeof value.timeUnixNano === 'string' && /^\d+$/.test(value.timeUnixNano)
}

function isTimelineEvent(value: unknown): value is TimelineEvent {
  return isObject(value) && typeof value.eventId === 'string' && typeof value.ts === 'string' && !Number.isNaN(Date.parse(value.ts))
}
