/**
 * The one duration syntax and the one size syntax of stella, used by every flag that takes them.
 *
 * Durations: an integer with a unit, or several in descending order: `500ms`, `2s`, `10m`, `24h`,
 * `7d`, `1h30m`. A bare number is refused: `--timeout 30` could mean seconds or milliseconds.
 * Sizes: an integer number of bytes, optionally with a unit: `B`, decimal `KB MB GB TB`
 * (powers of 1000) or binary `KiB MiB GiB TiB` (powers of 1024), case-insensitive.
 */
import {UsageError} from './errors.js'

const DURATION_UNITS_MS = {d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1} as const
type DurationUnit = keyof typeof DURATION_UNITS_MS
const DURATION_ORDER: readonly DurationUnit[] = ['d', 'h', 'm', 's', 'ms']
const DURATION_PART = /(\d+)(ms|s|m|h|d)/gy

const DURATION_REMEDY = 'Write a whole number followed by ms, s, m, h or d, e.g. 500ms, 2s, 10m, 24h, 7d or 1h30m.'

/** Parses a duration into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const input = text.trim()
  const fail = (why: string): never => {
    throw new UsageError('INVALID_DURATION', `invalid ${what} "${text}": ${why}`, {remedy: DURATION_REMEDY})
  }

  if (input === '') fail('it is empty')
  if (/^\d+(\.\d+)?$/.test(input)) fail('a unit is missing')
  if (input.startsWith('-')) fail('a duration cannot be negative')
  if (/^\d*\.\d/.test(input)) fail('use whole numbers with a smaller unit (e.g. 1500ms, 90m)')

  let total = 0
  let lastRank = -1
  let consumed = 0
  DURATION_PART.lastIndex = 0
  for (let match = DURATION_PART.exec(input); match !== null; match = DURATION_PART.exec(input)) {
    const unit = match[2] as DurationUnit
    const rank = DURATION_ORDER.indexOf(unit)
    if (rank <= lastRank) fail('units must each appear once, largest first (e.g. 1h30m)')
    lastRank = rank
    total += Number(match[1]) * DURATION_UNITS_MS[unit]
    consumed = DURATION_PART.lastIndex
  }

  if (consumed !== input.length) {
    const rest = input.slice(consumed)
    fail(consumed === 0 && !/^\d/.test(rest) ? 'it does not start with a number' : `"${rest}" is not a number followed by ms, s, m, h or d`)
  }
  if (!Number.isSafeInteger(total)) fail('it is too large')
  return total
}

/** Formats milliseconds back into the same syntax, largest units first (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms)
  if (ms === 0) return '0s'
  let rest = Math.round(ms)
  let out = ''
  for (const unit of DURATION_ORDER) {
    const size = DURATION_UNITS_MS[unit]
    const count = Math.floor(rest / size)
    if (count > 0) {
      out += `${count}${unit}`
      rest -= count * size
    }
  }

  return out
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}

const SIZE_RE = /^(\d+)\s*([a-z]*)$/i
const SIZE_REMEDY = 'Write a whole number of bytes, optionally with a unit: B, KB, MB, GB, TB (×1000) or KiB, MiB, GiB, TiB (×1024), e.g. 512, 64KiB, 10MB, 2GiB.'

/** Parses a size into bytes. */
export function parseSize(text: string, what = 'size'): number {
  const match = SIZE_RE.exec(text.trim())
  const fail = (why: string): never => {
    throw new UsageError('INVALID_SIZE', `invalid ${what} "${text}": ${why}`, {remedy: SIZE_REMEDY})
  }

  if (!match) return fail(text.trim() === '' ? 'it is empty' : 'it is not a whole number with an optional unit')
  const multiplier = SIZE_UNITS[match[2]!.toLowerCase()]
  if (multiplier === undefined) return fail(`"${match[2]}" is not a known unit`)
  const bytes = Number(match[1]) * multiplier
  if (!Number.isSafeInteger(bytes)) return fail('it is too large')
  return bytes
}

/** Formats bytes for humans with binary units (`1536` → `1.5 KiB`). */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }

  if (unit === 0) return `${bytes} B`
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`
}
