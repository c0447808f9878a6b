/** `stella obs timeline list|show`: timeline events from the server or a JSON-lines file. */
import type {TimelineEvent, TimelineEventDetail} from '../../lib/api/types.js'
import {RemoteError} from '../../lib/errors.js'
import {checkTraceId} from './logs.js'
import type {ReadOptions, RecordStream, TimelineQuery, TimelineSource} from './source.js'

/** Where a reader stands in the timeline's order (ts ascending, then eventId). */
export interface EventKey {
  ts: string
  eventId: string
}

export function listTimeline(source: TimelineSource, query: TimelineQuery, options: ReadOptions): RecordStream<TimelineEvent> {
  return source.events(checkTimelineQuery(query), options)
}

export function checkTimelineQuery(query: TimelineQuery): TimelineQuery {
  return query.traceId === undefined ? query : {...query, traceId: checkTraceId(query.traceId)}
}

/**
 * The last `limit` matching events (every one with `all`): the timeline is in ascending order, so
 * every page is read, but only the events to show are kept.
 */
export async function latestEvents(source: TimelineSource, query: TimelineQuery, options: ReadOptions): Promise<TimelineEvent[]> {
  const kept: TimelineEvent[] = []
  for await (const event of source.events(checkTimelineQuery(query), {limit: options.limit, all: true, ...(options.pageSize === undefined ? {} : {pageSize: options.pageSize})})) {
    kept.push(event)
    if (!options.all && kept.length > options.limit) kept.shift()
  }

  return kept
}

/** Orders two events the way the server does: by time, then by event id. */
export function compareEventKeys(a: EventKey, b: EventKey): number {
  const byTime = Date.parse(a.ts) - Date.parse(b.ts)
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime
  // Same millisecond (or unparsable): the text still orders finer fractions of a second.
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0
}

export interface FollowOptions {
  /** The last event already shown; only later ones are reported. */
  after?: EventKey
  intervalMs: number
  onEvent: (event: TimelineEvent) => void
  /** Ends the loop (the CLI ends it with Ctrl-C, which exits the process). */
  signal?: AbortSignal
}

/**
 * Polls for events after the last one seen, forever (or until `signal` aborts). Each poll asks from
 * the last seen time on, inclusive, and skips what was already reported, so events that share a
 * timestamp with the last one are neither lost nor repeated.
 */
export async function followTimeline(source: TimelineSource, query: TimelineQuery, options: FollowOptions): Promise<void> {
  const checked = checkTimelineQuery(query)
  let after = options.after
  while (!options.signal?.aborted) {
    await sleep(options.intervalMs, options.signal)
    if (options.signal?.aborted) return
    const from = after?.ts ?? checked.from
    for await (const event of source.events({...checked, from}, {limit: Number.POSITIVE_INFINITY, all: true})) {
      if (after !== undefined && compareEventKeys(event, after) <= 0) continue
      options.onEvent(event)
      after = {ts: event.ts, eventId: event.eventId}
    }
  }
}

export async function showTimelineEvent(source: TimelineSource, eventId: string): Promise<TimelineEventDetail> {
  try {
    return await source.event(eventId)
  } catch (error) {
    if (isNotFound(error)) {
      throw Object.assign(
        new RemoteError('EVENT_NOT_FOUND', `no timeline event ${eventId} in this tenant`, {
          remedy: 'Check the id (and --tenant); `stella obs timeline list` shows the event ids.',
          cause: error,
        }),
        {traceId: (error as {traceId?: string}).traceId},
      )
    }

    throw error
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof RemoteError && (error as {status?: number}).status === 404
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
