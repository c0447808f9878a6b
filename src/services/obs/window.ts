/**
 * The time window of a logs or timeline query, from `--from`/`--to` (RFC 3339, or a duration
 * meaning "that long ago"), or `--since` (a duration ago, or a time) until `--to` or now.
 */
import {UsageError} from '../../lib/errors.js'
import {formatDuration, parseDuration} from '../../lib/units.js'

export interface TimeWindow {
  /** RFC 3339, inclusive. */
  from?: string
  /** RFC 3339, exclusive. */
  to?: string
}

export interface WindowFlags {
  from?: string
  to?: string
  /** A duration ago, in ms, or the text of a flag that takes a time or a duration. */
  since?: number | string
}

/** The longest window the server answers for logs; checked here so the mistake costs no request. */
export const MAX_LOG_WINDOW_MS = 24 * 3_600_000

const TIME_REMEDY = 'Give an RFC 3339 time such as 2026-11-22T10:00:00Z, or a duration ago such as 90m or 2h.'

export function resolveWindow(flags: WindowFlags, now = new Date()): TimeWindow {
  if (flags.since !== undefined && flags.from !== undefined) {
    throw new UsageError('WINDOW_CONFLICT', '--since cannot be combined with --from: both give the start of the window', {
      remedy: 'Use --since (until --to, or now), or --from and --to.',
    })
  }

  const window: TimeWindow = {}
  const start = flags.since ?? flags.from
  const startFlag = flags.since === undefined ? '--from' : '--since'
  if (typeof start === 'number') window.from = iso(now.getTime() - start)
  else if (start !== undefined) window.from = parseTime(start, startFlag, now)
  if (flags.to !== undefined) window.to = parseTime(flags.to, '--to', now)
  else if (flags.since !== undefined) window.to = iso(now.getTime())
  if (window.from !== undefined && window.to !== undefined && Date.parse(window.to) <= Date.parse(window.from)) {
    throw new UsageError('WINDOW_EMPTY', `--to (${window.to}) is not after ${startFlag} (${window.from})`, {remedy: `Give a --to later than ${startFlag}.`})
  }

  return window
}

/** Refuses a window the server would refuse, with the same explanation. */
export function checkLogWindow(window: TimeWindow, now = new Date()): void {
  if (window.from === undefined) return
  const span = Date.parse(window.to ?? iso(now.getTime())) - Date.parse(window.from)
  if (span <= MAX_LOG_WINDOW_MS) return
  throw new UsageError('WINDOW_TOO_LONG', `the logs query window is ${inHours(span)}; the server limits a query window to ${inHours(MAX_LOG_WINDOW_MS)}`, {
    remedy: 'Narrow --from/--to, or use a shorter --since (at most 24h); query a longer period in several windows.',
  })
}

/** Hours read better than days next to a 24h limit (`48h`, not `2d`). */
function inHours(ms: number): string {
  const hours = Math.floor(ms / 3_600_000)
  const rest = ms - hours * 3_600_000
  return `${hours > 0 ? `${hours}h` : ''}${rest > 0 || hours === 0 ? formatDuration(rest) : ''}`
}

function parseTime(text: string, flag: string, now: Date): string {
  const trimmed = text.trim()
  if (/^\d/.test(trimmed) && /^[\dmshd]+$/.test(trimmed)) return iso(now.getTime() - parseDuration(trimmed, flag))
  // RFC 3339 needs a date, a time and an offset; Date.parse alone would take "2026" or local times.
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
  const ms = Date.parse(trimmed)
  if (!rfc3339.test(trimmed) || Number.isNaN(ms)) throw new UsageError('INVALID_TIME', `invalid ${flag} "${text}": not an RFC 3339 time or a duration`, {remedy: TIME_REMEDY})
  return iso(ms)
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
