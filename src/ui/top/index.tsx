/**
 * `stella obs top` in a terminal. Commands load this module with `await import()` once they know
 * they draw into a TTY; Ink and React are loaded only when the dashboard starts.
 */
import type {TopSnapshot, TopSource} from '../../services/obs/top-model.js'
import {installInkCompositor} from '../compositor.js'
import {colorEnabled} from '../style.js'
import {composeFrame, frameText} from './layout.js'
import {INITIAL_VIEW, type ViewState} from './state.js'

export type {SortKey, ViewState} from './state.js'

const DEFAULT_TITLE = 'stella obs top'
// The dashboard draws on the terminal's alternate screen, so quitting gives back the screen as it was.
const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H\u001B[2J'
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l'
const SHOW_CURSOR = '\u001B[?25h'

export interface TopDashboardOptions {
  intervalMs: number
  title?: string
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
  /** Defaults to the process-wide decision (`--color`/`--no-color`, NO_COLOR, TTY). */
  color?: boolean
}

/**
 * Runs the dashboard until the viewer quits (q or Ctrl-C, or SIGINT/SIGTERM from outside), then
 * unmounts, restores the terminal (main screen, cursor shown, raw mode off) and closes the source,
 * whatever happened.
 */
export async function runTopDashboard(source: TopSource, options: TopDashboardOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout
  const stdin = options.stdin ?? process.stdin
  const alternateScreen = stdout.isTTY === true
  let instance: {unmount(): void; waitUntilExit(): Promise<unknown>} | undefined
  const quitOnSignal = () => instance?.unmount()
  try {
    // React picks its build when first loaded: the development one costs twice the CPU per frame.
    process.env.NODE_ENV ??= 'production'
    const [{render}, {createElement}, {TopApp}] = await Promise.all([import('ink'), import('react'), import('./app.js'), installInkCompositor()])
    if (alternateScreen) stdout.write(ENTER_ALTERNATE_SCREEN)
    const app = createElement(TopApp, {source, intervalMs: options.intervalMs, title: options.title ?? DEFAULT_TITLE, color: options.color ?? colorEnabled()})
    // Ctrl-C is a key like q: it quits through the same unmount.
    instance = render(app, {stdout, stdin, exitOnCtrlC: false, patchConsole: false})
    process.on('SIGINT', quitOnSignal)
    process.on('SIGTERM', quitOnSignal)
    await instance.waitUntilExit()
  } finally {
    process.off('SIGINT', quitOnSignal)
    process.off('SIGTERM', quitOnSignal)
    instance?.unmount()
    if (alternateScreen) stdout.write(LEAVE_ALTERNATE_SCREEN + SHOW_CURSOR)
    await source.close()
  }
}

export interface TopFrameOptions {
  columns: number
  rows: number
  state?: Partial<ViewState>
  title?: string
}

/** One frame as plain text, exactly as the dashboard draws it without colour. */
export function renderTopFrame(snapshot: TopSnapshot, options: TopFrameOptions): string {
  const state = {...INITIAL_VIEW, ...options.state}
  return frameText(composeFrame({snapshot, state, columns: options.columns, rows: options.rows, title: options.title ?? DEFAULT_TITLE}).lines)
}
