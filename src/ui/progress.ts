/**
 * A one-line progress bar on stderr for long work. It appears only on a terminal, never under
 * --json, and only once the work has run for a while (so quick runs print nothing extra).
 */
import {formatSize} from '../lib/units.js'

export interface ProgressState {
  bytes: number
  /** 0 when unknown (e.g. reading standard input). */
  totalBytes: number
  /** Omitted where files mean nothing (a download). */
  files?: number
  totalFiles?: number
}

export interface Progress {
  update(state: ProgressState): void
  /** Removes the bar (if it was drawn). */
  done(): void
}

const SHOW_AFTER_MS = 1000
const REDRAW_EVERY_MS = 100
const BAR_WIDTH = 24

export function createProgress(label: string, options: {enabled: boolean; stream?: NodeJS.WriteStream}): Progress {
  const stream = options.stream ?? process.stderr
  if (!options.enabled || !stream.isTTY) return {update() {}, done() {}}
  const started = Date.now()
  let lastDraw = 0
  let drawn = false
  return {
    update(state) {
      const now = Date.now()
      if (now - started < SHOW_AFTER_MS || now - lastDraw < REDRAW_EVERY_MS) return
      lastDraw = now
      drawn = true
      stream.write(`\r\u001B[2K${renderProgressLine(label, state, now - started, stream.columns || 80)}`)
    },
    done() {
      if (drawn) stream.write('\r\u001B[2K')
      drawn = false
    },
  }
}

/** The text of the bar, e.g. `verifying [#########.......] 37%  380 MiB / 1.0 GiB  4,210 files  95 MiB/s`. */
export function renderProgressLine(label: string, state: ProgressState, elapsedMs: number, columns: number): string {
  const rate = elapsedMs > 0 ? `${formatSize(Math.round((state.bytes / elapsedMs) * 1000))}/s` : ''
  const files = state.files === undefined ? '' : `${state.files.toLocaleString('en-US')}${state.totalFiles ? `/${state.totalFiles.toLocaleString('en-US')}` : ''} files`
  let line: string
  if (state.totalBytes > 0) {
    const fraction = Math.min(1, state.bytes / state.totalBytes)
    const filled = Math.round(fraction * BAR_WIDTH)
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`
    line = [`${label} ${bar} ${Math.floor(fraction * 100)}%`, `${formatSize(state.bytes)} / ${formatSize(state.totalBytes)}`, files, rate].filter(Boolean).join('  ')
  } else {
    line = [`${label} ${formatSize(state.bytes)}`, files, rate].filter(Boolean).join('  ')
  }

  return line.length > columns - 1 ? line.slice(0, columns - 1) : line
}
