/**
 * How the dashboard writes its figures: short, fixed-width friendly, the same in every table,
 * so a column can be scanned from top to bottom.
 */

/** Requests per second: two decimals while small (a few spans a minute still shows), fewer as it grows. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-'
  if (perSecond < 10) return perSecond.toFixed(2)
  if (perSecond < 1000) return perSecond.toFixed(1)
  if (perSecond < 100_000) return perSecond.toFixed(0)
  return `${(perSecond / 1000).toFixed(0)}k`
}

/** A 0–1 ratio as a percentage in at most six characters: 0.00% … 9.99%, 10.0% … 99.9%, 100%. */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-'
  const percent = ratio * 100
  if (percent >= 99.95) return `${Math.round(percent)}%`
  if (percent < 9.995) return `${percent.toFixed(2)}%`
  return `${percent.toFixed(1)}%`
}

/** A latency in milliseconds: 3.2ms, 245ms, 1.24s, 12.5s, 125s; '-' when there is none. */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-'
  if (ms < 9.95) return `${ms.toFixed(1)}ms`
  if (ms < 999.5) return `${Math.round(ms)}ms`
  if (ms < 9995) return `${(ms / 1000).toFixed(2)}s`
  if (ms < 99_950) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.round(ms / 1000)}s`
}

/** A burn rate with one decimal (as `stella obs slo` prints it). */
export function formatBurn(rate: number): string {
  return Number.isFinite(rate) ? rate.toFixed(1) : '-'
}

/** An age in seconds as 45s, 3m12s, 2h05m, 3d04h. */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-'
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}

/** Local wall-clock time, HH:MM:SS. */
export function formatClock(epochMs: number): string {
  const date = new Date(epochMs)
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':')
}

const BARS = '▁▂▃▄▅▆▇█'

/**
 * The last `width` values as bars scaled to their own maximum (the shape matters, not the size);
 * a minute with no requests is a blank, so a gap in traffic shows as one.
 */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(Math.max(0, values.length - width))
  const max = Math.max(0, ...shown)
  let out = ''
  for (const value of shown) {
    if (!(value > 0) || max === 0) out += ' '
    else out += BARS[Math.min(BARS.length - 1, Math.ceil((value / max) * BARS.length) - 1)]
  }

  return out
}
