/**
 * What the viewer chose (sort, filter, selection, drill-down, pause, help) and how each key
 * changes it. Pure, so every key can be tested without a terminal.
 */

export type SortKey = 'rate' | 'errors' | 'p95' | 'p99' | 'name'

/** The order `s` cycles through. */
export const SORT_KEYS: readonly SortKey[] = ['rate', 'errors', 'p95', 'p99', 'name']

export interface ViewState {
  sort: SortKey
  /** The applied filter of the services table (case-insensitive substring of the name). */
  filter: string
  /** The applied filter of the routes table, while drilled into a service. */
  routeFilter: string
  /** What is being typed after `/`; undefined when not typing. */
  draft?: string
  /** Key of the selected row (a service name, or a route while drilled in); the first row when unset. */
  cursor?: string
  /** The service whose routes are shown. */
  drill?: string
  paused: boolean
  help: boolean
}

export const INITIAL_VIEW: ViewState = {sort: 'rate', filter: '', routeFilter: '', paused: false, help: false}

/** One key press, in terms of the keys the dashboard knows (Ink's names). */
export interface KeyPress {
  input: string
  ctrl?: boolean
  meta?: boolean
  escape?: boolean
  return?: boolean
  upArrow?: boolean
  downArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  backspace?: boolean
  delete?: boolean
  tab?: boolean
}

/** The table the cursor moves over, as it is on screen. */
export interface CursorTable {
  /** Row keys in screen order (sorted and filtered). */
  keys: readonly string[]
  /** How many of them fit on screen: PgUp/PgDn move by this. */
  pageSize: number
}

export interface KeyResult {
  state: ViewState
  quit: boolean
}

export function reduceKey(state: ViewState, key: KeyPress, table: CursorTable): KeyResult {
  const next = (changes: Partial<ViewState>): KeyResult => ({state: {...state, ...changes}, quit: false})
  const same: KeyResult = {state, quit: false}

  if (key.ctrl && key.input === 'c') return {state, quit: true}

  if (state.draft !== undefined) return editDraft(state, key)

  if (state.help) {
    if (key.input === 'q') return {state, quit: true}
    return key.input === '?' || key.escape ? next({help: false}) : same
  }

  if (key.escape) {
    if (state.drill !== undefined) return next({drill: undefined, cursor: state.drill, routeFilter: ''})
    if (state.filter !== '') return next({filter: '', cursor: undefined})
    return same
  }

  if (key.return) {
    const selected = selectedKey(state, table)
    if (state.drill !== undefined || selected === undefined) return same
    return next({drill: selected, cursor: undefined, routeFilter: ''})
  }

  if (key.upArrow || key.input === 'k') return moveTo(state, table, (index) => index - 1)
  if (key.downArrow || key.input === 'j') return moveTo(state, table, (index) => index + 1)
  if (key.pageUp) return moveTo(state, table, (index) => index - Math.max(1, table.pageSize))
  if (key.pageDown) return moveTo(state, table, (index) => index + Math.max(1, table.pageSize))
  if (key.home || key.input === 'g') return moveTo(state, table, () => 0)
  if (key.end || key.input === 'G') return moveTo(state, table, () => table.keys.length - 1)

  if (key.ctrl || key.meta) return same
  switch (key.input) {
    case 'q':
      return {state, quit: true}
    case '/':
      return next({draft: state.drill === undefined ? state.filter : state.routeFilter})
    case 's':
      return next({sort: SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length]})
    case 'p':
      return next({paused: !state.paused})
    case '?':
      return next({help: true})
    default:
      return same
  }
}

/** The key of the selected row: the cursor if it is still on screen, else the first row. */
export function selectedKey(state: ViewState, table: CursorTable): string | undefined {
  return state.cursor !== undefined && table.keys.includes(state.cursor) ? state.cursor : table.keys[0]
}

function moveTo(state: ViewState, table: CursorTable, target: (index: number) => number): KeyResult {
  if (table.keys.length === 0) return {state, quit: false}
  const current = Math.max(0, table.keys.indexOf(selectedKey(state, table) ?? ''))
  const index = Math.min(table.keys.length - 1, Math.max(0, target(current)))
  return {state: {...state, cursor: table.keys[index]}, quit: false}
}

function editDraft(state: ViewState, key: KeyPress): KeyResult {
  const draft = state.draft ?? ''
  const next = (changes: Partial<ViewState>): KeyResult => ({state: {...state, ...changes}, quit: false})
  if (key.escape) return next({draft: undefined})
  if (key.return) {
    const applied = draft.trim()
    return next(state.drill === undefined ? {draft: undefined, filter: applied, cursor: undefined} : {draft: undefined, routeFilter: applied, cursor: undefined})
  }

  // Terminals send DEL (0x7f) or BS (0x08) for the backspace key; Ink names them differently.
  if (key.backspace || key.delete) return next({draft: [...draft].slice(0, -1).join('')})
  if (key.ctrl && key.input === 'u') return next({draft: ''})
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown) return {state, quit: false}
  // Printable text only (a paste arrives as one string).
  const typed = [...key.input].filter((char) => char >= ' ' && char !== '\u007F').join('')
  return typed === '' ? {state, quit: false} : next({draft: draft + typed})
}
