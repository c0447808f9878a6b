/**
 * One screen of `stella obs top` as lines of styled text, for any terminal size. Pure: the Ink
 * view draws these lines as they are, and renderTopFrame() joins them into plain text, so what
 * the tests and the benchmark see is what the terminal shows.
 */
import {BURN_ELEVATED, BURN_RATE_PAGE, type BurnWindow, burnSeverity} from '../../services/obs/status.js'
import type {JobRow, RouteRow, ServiceRow, SloRow, TopSnapshot} from '../../services/obs/top-model.js'
import {formatAge, formatBurn, formatClock, formatLatency, formatPercent, formatRate, sparkline} from './format.js'
import {displayWidth, fitWidth, padWidth, printable, sliceColumns} from '../width.js'
import {type CursorTable, type SortKey, type ViewState, selectedKey} from './state.js'

/** What a piece of text means; the view turns it into colour (or nothing, without colour). */
export type Tone = 'title' | 'heading' | 'columns' | 'dim' | 'ok' | 'elevated' | 'warning' | 'critical' | 'alert' | 'notice'

export interface Segment {
  readonly text: string
  readonly tone?: Tone
}

export interface Line {
  readonly segments: readonly Segment[]
  /** The selected row of the main table. */
  readonly selected?: boolean
  /** Where the sparkline column starts, on the lines of a table that has one (see app.tsx). */
  readonly split?: number
}

export interface Frame extends CursorTable {
  lines: Line[]
}

export interface FrameInput {
  /** Undefined until the first snapshot arrives. */
  snapshot?: TopSnapshot
  /** Why there is no snapshot yet, when the first attempts failed. */
  waitingError?: string
  state: ViewState
  columns: number
  rows: number
  title: string
}

/** Error rates from which the ERR% figures stand out. */
export const ERROR_RATE_WARNING = 0.05
export const ERROR_RATE_ELEVATED = 0.01

/** As `obs slo` colours them: from the window's paging threshold critical, from 1 elevated. */
export function burnTone(rate: number, window: BurnWindow): Tone | undefined {
  const severity = burnSeverity(rate, window)
  return severity === 'page' ? 'critical' : severity
}

function errorTone(ratio: number): Tone | undefined {
  if (ratio >= ERROR_RATE_WARNING) return 'warning'
  return ratio >= ERROR_RATE_ELEVATED ? 'elevated' : undefined
}

const STATUS_TONES: Record<string, Tone> = {ok: 'ok', degraded: 'elevated', down: 'critical', warning: 'elevated', breach: 'critical'}

/** The row a series cap folds extra series into (src/lib/stats). */
const FOLDED_ROW = 'other'
const SORT_LABELS: Record<SortKey, string> = {rate: 'rate', errors: 'error rate', p95: 'p95', p99: 'p99', name: 'name'}
const GAP = '  '
const MARKER = '› '
/** The main table keeps at least this many rows before the SLO and queue panels get any. */
const MAIN_TABLE_MIN_ROWS = 5

// ---------------------------------------------------------------------------------------------
// The whole frame

export function composeFrame(input: FrameInput): Frame {
  const width = Math.max(1, Math.floor(input.columns))
  // One line stays free: Ink ends the frame with a newline, and a frame as tall as the terminal
  // would make it clear the whole screen on every update.
  const height = Math.max(3, Math.floor(input.rows) - 1)
  const {snapshot, state} = input

  const header = headerLines(input, width)
  const footer = footerLine(state, width, snapshot !== undefined)
  const bodyHeight = Math.max(0, height - header.length - 1)

  let body: Line[] = []
  let table: CursorTable = {keys: [], pageSize: 0}
  if (state.help) body = helpLines(width)
  else if (snapshot !== undefined) ({lines: body, ...table} = bodyLines(snapshot, state, width, bodyHeight))

  const lines = [...header, ...body.slice(0, bodyHeight)]
  while (lines.length < height - 1) lines.push(blank())
  lines.push(footer)
  return {lines, ...table}
}

/** The frame as plain text, as a terminal without colour shows it. */
export function frameText(lines: readonly Line[]): string {
  return lines.map(lineText).join('\n')
}

export function lineText(line: Line): string {
  return line.segments.map((segment) => segment.text).join('').trimEnd()
}

// ---------------------------------------------------------------------------------------------
// Header and footer

function headerLines(input: FrameInput, width: number): Line[] {
  const {snapshot, title} = input
  if (snapshot === undefined) {
    const waiting: Segment[][] = [[{text: title, tone: 'title'}], [{text: 'waiting for the first snapshot…', tone: 'dim'}]]
    if (input.waitingError !== undefined) waiting.push([{text: `last attempt failed: ${oneLine(input.waitingError)}`, tone: 'warning'}])
    return packItems(waiting, width)
  }

  const identity: Segment[][] = [[{text: title, tone: 'title'}], ...sourceItems(snapshot), [{text: `window ${snapshot.window}`}], [{text: `updated ${formatClock(snapshot.updatedAt)}`}]]
  const lines = packItems(identity, width)

  if (snapshot.stale !== undefined) {
    const {since, error, retryInMs} = snapshot.stale
    const retry = retryInMs === undefined ? '' : `, retrying in ${Math.max(0, Math.ceil(retryInMs / 1000))}s`
    // Wrapped rather than cut: the error and the retry are both worth reading.
    for (const text of wrapWords(`stale since ${formatClock(since)} — ${oneLine(error)}${retry}`, width, 3)) lines.push({segments: [{text, tone: 'alert'}]})
  }

  const state: Segment[][] = []
  if (snapshot.incident !== undefined) state.push([incidentSegment(snapshot.incident)])
  const {totals} = snapshot
  state.push(
    [{text: `${totals.services} ${totals.services === 1 ? 'service' : 'services'}`}],
    [{text: `${formatRate(totals.rate)} req/s`}],
    [{text: `${formatPercent(totals.errorRate)} errors`, tone: errorTone(totals.errorRate)}],
  )
  const folded = (snapshot.folded?.services ?? 0) + (snapshot.folded?.routes ?? 0)
  if (folded > 0) state.push([{text: `${folded} series folded into ${FOLDED_ROW}`, tone: 'elevated'}])
  lines.push(...packItems(state, width))
  return lines
}

function sourceItems(snapshot: TopSnapshot): Segment[][] {
  const {source} = snapshot
  switch (source.kind) {
    case 'remote':
      return [[{text: source.server}], [{text: `tenant ${source.tenant}`}]]
    case 'listen':
      return [[{text: `listening on ${source.url}`}]]
    case 'files':
      return [[{text: `replaying ${source.files} ${source.files === 1 ? 'file' : 'files'} at ${source.speed}x`}]]
  }
}

function incidentSegment(incident: NonNullable<TopSnapshot['incident']>): Segment {
  if (!incident.enabled) return {text: 'incident mode off', tone: 'dim'}
  const until = incident.expiresAt === undefined || Number.isNaN(Date.parse(incident.expiresAt)) ? '' : ` until ${formatClock(Date.parse(incident.expiresAt))}`
  const sampling = incident.samplingPercent === undefined ? '' : `, sampling ${incident.samplingPercent}%`
  return {text: `INCIDENT MODE ON${until}${sampling}`, tone: 'alert'}
}

function footerLine(state: ViewState, width: number, hasSnapshot: boolean): Line {
  if (state.draft !== undefined) {
    return clip({segments: [{text: 'filter: ', tone: 'heading'}, {text: `${state.draft}_`}, {text: '   Enter applies · Esc cancels', tone: 'dim'}]}, width)
  }

  const items: Segment[][] = []
  if (state.paused) items.push([{text: 'PAUSED', tone: 'notice'}])
  const hints: string[] = state.help
    ? ['? or Esc closes the help', 'q quit']
    : [
        '? help',
        'q quit',
        '/ filter',
        's sort',
        ...(hasSnapshot ? [state.drill === undefined ? 'Enter routes' : 'Esc back'] : []),
        state.paused ? 'p resume' : 'p pause',
        '↑↓ move',
      ]
  // Hints are added while they fit, most useful first: a narrow terminal still shows `? help`.
  let used = items.reduce((sum, item) => sum + itemWidth(item) + GAP.length, 0)
  for (const hint of hints) {
    if (used + hint.length > width) break
    items.push([{text: hint, tone: 'dim'}])
    used += hint.length + GAP.length
  }

  return clip({segments: joinItems(items)}, width)
}

function helpLines(width: number): Line[] {
  const keys: [string, string][] = [
    ['q, Ctrl-C', 'quit'],
    ['/', 'filter: type, Enter applies, Esc cancels'],
    ['s', 'next sort: rate, errors, p95, p99, name'],
    ['p', 'pause or resume the updates'],
    ['↑ ↓, j k', 'move the selection'],
    ['PgUp, PgDn', 'move by a page'],
    ['g, G', 'first row, last row'],
    ['Enter', 'show the routes of the selected service'],
    ['Esc', 'back to the services, or clear the filter'],
    ['?', 'this help (? or Esc closes it)'],
  ]
  const lines: Line[] = [blank(), {segments: [{text: 'KEYS', tone: 'heading'}]}]
  for (const [key, meaning] of keys) lines.push({segments: [{text: `  ${key.padEnd(12)}`, tone: 'title'}, {text: meaning}]})
  lines.push(blank(), {segments: [{text: 'SLO BURN RATES', tone: 'heading'}, {text: '  of a 30-day error budget', tone: 'dim'}]})
  const burnLine = (when: string, label: string, tone: Tone | undefined, meaning: string): Line => ({segments: [{text: `  ${when.padEnd(12)}`}, {text: label.padEnd(10), tone}, {text: meaning, tone: 'dim'}]})
  const spent = {'1h': '2% of it spent in an hour', '6h': '5% of it spent in 6 hours', '24h': '10% of it spent in a day'}
  for (const window of Object.keys(BURN_RATE_PAGE) as BurnWindow[]) lines.push(burnLine(`${window} ≥ ${BURN_RATE_PAGE[window]}`, 'page', 'critical', spent[window]))
  lines.push(burnLine(`≥ ${BURN_ELEVATED}`, 'elevated', 'elevated', 'gone before the window ends'), burnLine(`< ${BURN_ELEVATED}`, 'ok', undefined, 'it lasts the window'))
  return lines.map((line) => clip(line, width))
}

// ---------------------------------------------------------------------------------------------
// The body: the main table (services, or one service's routes), SLOs, queues

function bodyLines(snapshot: TopSnapshot, state: ViewState, width: number, height: number): Frame {
  const main = state.drill === undefined ? servicesSection(snapshot, state) : routesSection(snapshot, state.drill, state)
  const slos = snapshot.slos === undefined ? undefined : sloSection(snapshot.slos)
  const jobs = snapshot.jobs === undefined ? undefined : jobsSection(snapshot.jobs)

  // Each section costs a blank line, its title and its column headings, then its rows.
  const overhead = 3
  const need = (section: Section | undefined) => (section === undefined ? 0 : overhead + Math.max(1, section.rowCount))
  const mainFloor = Math.min(need(main), overhead + MAIN_TABLE_MIN_ROWS)
  let left = height - mainFloor
  const sloHeight = fitSection(need(slos), left)
  left -= sloHeight
  const jobsHeight = fitSection(need(jobs), left)
  left -= jobsHeight
  const mainHeight = Math.min(need(main), mainFloor + left)

  const mainRows = Math.max(1, mainHeight - overhead)
  const keys = main.keys()
  const selected = selectedKey(state, {keys, pageSize: mainRows})
  const lines = [blank(), ...main.render(width, mainRows, selected)]
  if (slos !== undefined && sloHeight > 0) lines.push(blank(), ...slos.render(width, sloHeight - overhead))
  if (jobs !== undefined && jobsHeight > 0) lines.push(blank(), ...jobs.render(width, jobsHeight - overhead))
  return {lines, keys, pageSize: mainRows}
}

/** A panel gets what it needs if that fits, else what is left if that shows a row and "… N more", else nothing. */
function fitSection(need: number, left: number): number {
  if (need <= left) return need
  return left >= 5 ? left : 0
}

interface SectionSpec<Row> {
  title: Segment[]
  columns: Column<Row>[]
  rows: Row[]
  key: (row: Row) => string
  empty: string
}

/** A table ready to draw, whatever its rows are. */
interface Section {
  rowCount: number
  keys(): string[]
  /** The title, the column headings and up to `rowLimit` rows; the selected row (main table) is kept on screen. */
  render(width: number, rowLimit: number, selected?: string): Line[]
}

function section<Row>(spec: SectionSpec<Row>): Section {
  return {
    rowCount: spec.rows.length,
    keys: () => spec.rows.map((row) => spec.key(row)),
    render: (width, rowLimit, selected) => renderSection(spec, width, rowLimit, selected),
  }
}

function servicesSection(snapshot: TopSnapshot, state: ViewState): Section {
  const all = snapshot.services
  const rows = sortRows(filterRows(all, state.filter, (row) => row.name), state.sort, (row) => row.name)
  return section({
    title: tableTitle('SERVICES', rows.length, all.length, state.filter, state.sort),
    columns: serviceColumns(all),
    rows,
    key: (row) => row.name,
    empty: state.filter === '' ? 'no services in this window' : `no service matches "${state.filter}"`,
  })
}

function routesSection(snapshot: TopSnapshot, service: string, state: ViewState): Section {
  const owner = snapshot.services.find((row) => row.name === service)
  const all = owner?.routes ?? []
  const rows = sortRows(filterRows(all, state.routeFilter, (row) => row.route), state.sort, (row) => row.route)
  const title = tableTitle('ROUTES', rows.length, all.length, state.routeFilter, state.sort)
  const name = printable(service)
  return section({
    title: [{text: `${name} › `, tone: 'heading'}, ...title],
    columns: routeColumns(all),
    rows,
    key: (row) => row.route,
    empty: owner === undefined ? `${name} is not in the latest snapshot` : state.routeFilter === '' ? `no routes reported for ${name}` : `no route matches "${state.routeFilter}"`,
  })
}

function sloSection(all: readonly SloRow[]): Section {
  // The worst first: breaches, then warnings, then by the fastest burn.
  const rank: Record<string, number> = {breach: 0, warning: 1, ok: 2}
  const rows = [...all].sort((a, b) => (rank[a.status] ?? 0) - (rank[b.status] ?? 0) || b.burn1h - a.burn1h || compareText(a.id, b.id))
  return section({title: [{text: 'SLOS', tone: 'heading'}, {text: ` ${all.length}`}], columns: sloColumns(all), rows, key: (row) => row.id, empty: 'no SLOs defined'})
}

function jobsSection(all: readonly JobRow[]): Section {
  return section({title: [{text: 'QUEUES', tone: 'heading'}, {text: ` ${all.length}`}], columns: jobColumns(all), rows: [...all], key: (row) => row.queue, empty: 'no queues reported'})
}

function tableTitle(name: string, shown: number, total: number, filter: string, sort: SortKey): Segment[] {
  const segments: Segment[] = [{text: name, tone: 'heading'}, {text: filter === '' ? ` ${total}` : ` ${shown} of ${total}`}]
  if (filter !== '') segments.push({text: `  filter "${filter}"`, tone: 'notice'})
  segments.push({text: `  sorted by ${SORT_LABELS[sort]}`, tone: 'dim'})
  return segments
}

function filterRows<Row>(rows: readonly Row[], filter: string, name: (row: Row) => string): Row[] {
  if (filter === '') return [...rows]
  const needle = filter.toLowerCase()
  return rows.filter((row) => name(row).toLowerCase().includes(needle))
}

/** Biggest first for figures (missing ones last), A–Z for names; ties by name, so rows never swap places at random. */
function sortRows<Row extends {rate: number; errorRate: number; p95?: number; p99?: number}>(rows: Row[], sort: SortKey, name: (row: Row) => string): Row[] {
  const figure: Record<Exclude<SortKey, 'name'>, (row: Row) => number> = {
    rate: (row) => row.rate,
    errors: (row) => row.errorRate,
    p95: (row) => row.p95 ?? Number.NEGATIVE_INFINITY,
    p99: (row) => row.p99 ?? Number.NEGATIVE_INFINITY,
  }
  if (sort === 'name') return rows.sort((a, b) => compareText(name(a), name(b)))
  const of = figure[sort]
  return rows.sort((a, b) => of(b) - of(a) || compareText(name(a), name(b)))
}

function compareText(a: string, b: string): number {
  if (a === b) return 0
  return a < b ? -1 : 1
}

// ---------------------------------------------------------------------------------------------
// Columns. When the terminal is narrow, the column with the lowest `keep` goes first.

interface Column<Row> {
  id: string
  title: string
  /** Width, or the least width of a column that grows. */
  min: number
  align: 'left' | 'right'
  keep: number
  /**
   * Columns that grow take the spare width in this order, up to their natural width. A `whole`
   * one is dropped rather than shown cut short: half a journey name tells less than none.
   */
  grow?: {order: number; natural: number; whole?: boolean}
  cell: (row: Row) => Segment
}

const longest = (texts: Iterable<string>, cap: number) => {
  let max = 0
  for (const text of texts) max = Math.max(max, displayWidth(text))
  return Math.min(cap, max)
}

const rateColumn = <Row extends {rate: number}>(): Column<Row> => ({id: 'rate', title: 'REQ/S', min: 8, align: 'right', keep: 95, cell: (row) => ({text: formatRate(row.rate)})})
const errorsColumn = <Row extends {errorRate: number}>(): Column<Row> => ({
  id: 'errors',
  title: 'ERR%',
  min: 6,
  align: 'right',
  keep: 90,
  cell: (row) => ({text: formatPercent(row.errorRate), tone: errorTone(row.errorRate)}),
})
const latencyColumn = <Row extends {p50?: number; p95?: number; p99?: number}>(which: 'p50' | 'p95' | 'p99', keep: number): Column<Row> => ({
  id: which,
  title: which.toUpperCase(),
  min: 6,
  align: 'right',
  keep,
  cell: (row) => ({text: formatLatency(row[which])}),
})
const trendColumn = <Row extends {sparkline?: number[]}>(rows: readonly Row[]): Column<Row> => ({
  id: 'trend',
  title: 'REQ/MIN',
  min: 8,
  align: 'left',
  keep: 10,
  grow: {order: 2, natural: Math.min(30, Math.max(8, ...rows.map((row) => row.sparkline?.length ?? 0)))},
  // Drawn at render time to the width the column got; see renderRow.
  cell: () => ({text: ''}),
})

function serviceColumns(rows: readonly ServiceRow[]): Column<ServiceRow>[] {
  const columns: Column<ServiceRow>[] = [
    {
      id: 'name',
      title: 'SERVICE',
      min: 14,
      align: 'left',
      keep: 100,
      grow: {order: 1, natural: longest(rows.map((row) => row.name), 40)},
      cell: (row) => ({text: row.name, tone: row.name === FOLDED_ROW ? 'dim' : undefined}),
    },
  ]
  if (rows.some((row) => row.status !== undefined)) {
    columns.push({id: 'status', title: 'STATUS', min: 8, align: 'left', keep: 60, cell: (row) => ({text: row.status ?? '-', tone: row.status === undefined ? undefined : STATUS_TONES[row.status]})})
  }

  if (rows.some((row) => row.instances !== undefined)) {
    columns.push({id: 'instances', title: 'INST', min: 4, align: 'right', keep: 30, cell: (row) => ({text: row.instances === undefined ? '-' : String(row.instances)})})
  }

  columns.push(rateColumn(), errorsColumn(), latencyColumn('p50', 20), latencyColumn('p95', 85), latencyColumn('p99', 50))
  if (rows.some((row) => (row.sparkline?.length ?? 0) > 0)) columns.push(trendColumn(rows))
  return columns
}

function routeColumns(rows: readonly RouteRow[]): Column<RouteRow>[] {
  const columns: Column<RouteRow>[] = [
    {id: 'route', title: 'ROUTE', min: 16, align: 'left', keep: 100, grow: {order: 1, natural: longest(rows.map((row) => row.route), 60)}, cell: (row) => ({text: row.route, tone: row.route === FOLDED_ROW ? 'dim' : undefined})},
    rateColumn(),
    errorsColumn(),
    latencyColumn('p50', 20),
    latencyColumn('p95', 85),
    latencyColumn('p99', 50),
  ]
  if (rows.some((row) => (row.sparkline?.length ?? 0) > 0)) columns.push(trendColumn(rows))
  return columns
}

function sloColumns(rows: readonly SloRow[]): Column<SloRow>[] {
  const burn = (window: BurnWindow, title: string, keep: number, of: (row: SloRow) => number): Column<SloRow> => ({
    id: `burn${window}`,
    title,
    min: title.length,
    align: 'right',
    keep,
    cell: (row) => ({text: formatBurn(of(row)), tone: burnTone(of(row), window)}),
  })
  return [
    // SLO ids tend to share a prefix, so the column keeps its width and less useful ones go first.
    {id: 'slo', title: 'SLO', min: Math.max(14, longest(rows.map((row) => row.id), 24)), align: 'left', keep: 100, grow: {order: 1, natural: longest(rows.map((row) => row.id), 40)}, cell: (row) => ({text: row.id})},
    {id: 'service', title: 'SERVICE', min: 10, align: 'left', keep: 40, grow: {order: 2, natural: longest(rows.map((row) => row.service), 30), whole: true}, cell: (row) => ({text: row.service})},
    burn('1h', 'BURN 1H', 95, (row) => row.burn1h),
    burn('6h', 'BURN 6H', 80, (row) => row.burn6h),
    burn('24h', 'BURN 24H', 70, (row) => row.burn24h),
    {id: 'budget', title: 'BUDGET', min: 6, align: 'right', keep: 45, cell: (row) => ({text: `${Math.round(row.errorBudgetRemaining * 100)}%`, tone: row.errorBudgetRemaining < 0 ? 'critical' : undefined})},
    {id: 'status', title: 'STATUS', min: 7, align: 'left', keep: 90, cell: (row) => ({text: row.status, tone: STATUS_TONES[row.status] ?? 'critical'})},
    {id: 'journey', title: 'JOURNEY', min: 10, align: 'left', keep: 20, grow: {order: 3, natural: longest(rows.map((row) => row.journey), 30), whole: true}, cell: (row) => ({text: row.journey})},
  ]
}

function jobColumns(rows: readonly JobRow[]): Column<JobRow>[] {
  const count = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1))
  return [
    {id: 'queue', title: 'QUEUE', min: 12, align: 'left', keep: 100, grow: {order: 1, natural: longest(rows.map((row) => row.queue), 40)}, cell: (row) => ({text: row.queue})},
    {id: 'depth', title: 'DEPTH', min: 6, align: 'right', keep: 90, cell: (row) => ({text: count(row.depth)})},
    {id: 'running', title: 'RUNNING', min: 7, align: 'right', keep: 40, cell: (row) => ({text: count(row.running)})},
    {id: 'succeeded', title: 'OK/MIN', min: 7, align: 'right', keep: 30, cell: (row) => ({text: count(row.succeededPerMin)})},
    {id: 'failed', title: 'FAIL/MIN', min: 8, align: 'right', keep: 80, cell: (row) => ({text: count(row.failedPerMin), tone: row.failedPerMin > 0 ? 'warning' : undefined})},
    {id: 'oldest', title: 'OLDEST', min: 7, align: 'right', keep: 85, cell: (row) => ({text: formatAge(row.oldestAgeSeconds)})},
  ]
}

interface Placed<Row> {
  column: Column<Row>
  width: number
}

/** Drops the least useful columns until the rest fit, then lets the growing ones take the spare width. */
function placeColumns<Row>(columns: readonly Column<Row>[], width: number): Placed<Row>[] {
  const kept = [...columns]
  const least = () => MARKER.length + kept.reduce((sum, column) => sum + Math.max(column.min, column.title.length), 0) + GAP.length * (kept.length - 1)
  while (kept.length > 1 && least() > width) {
    const weakest = kept.reduce((a, b) => (b.keep < a.keep ? b : a))
    kept.splice(kept.indexOf(weakest), 1)
  }

  for (;;) {
    const placed = kept.map((column) => ({column, width: Math.max(column.min, column.title.length)}))
    let spare = width - least()
    for (const entry of [...placed].filter((e) => e.column.grow !== undefined).sort((a, b) => a.column.grow!.order - b.column.grow!.order)) {
      const extra = Math.max(0, Math.min(spare, entry.column.grow!.natural - entry.width))
      entry.width += extra
      spare -= extra
    }

    const cut = placed.filter((entry) => entry.column.grow?.whole === true && entry.width < entry.column.grow.natural)
    if (cut.length === 0) return placed
    const weakest = cut.reduce((a, b) => (b.column.keep < a.column.keep ? b : a))
    kept.splice(kept.indexOf(weakest.column), 1)
  }
}

function renderSection<Row>(section: SectionSpec<Row>, width: number, rowLimit: number, selected?: string): Line[] {
  const placed = placeColumns(section.columns, width)
  const total = section.rows.length
  const visible = Math.max(1, rowLimit)
  // Without a selection (the side panels), the rows that do not fit become a "… N more" line.
  const truncated = selected === undefined && total > visible
  const room = truncated ? visible - 1 : visible
  const index = selected === undefined ? 0 : Math.max(0, section.rows.findIndex((row) => section.key(row) === selected))
  const offset = selected === undefined ? 0 : Math.min(Math.max(0, index - room + 1), Math.max(0, total - room))

  const title = [...section.title]
  if (selected !== undefined && total > room) title.push({text: `  rows ${offset + 1}–${Math.min(total, offset + room)}`, tone: 'dim'})
  const split = trendOffset(placed)
  const lines: Line[] = [clip({segments: title}, width), clip({segments: headingSegments(placed), split}, width)]
  if (total === 0) {
    lines.push(clip({segments: [{text: `${' '.repeat(MARKER.length)}${section.empty}`, tone: 'dim'}]}, width))
    return lines
  }

  for (const row of section.rows.slice(offset, offset + room)) {
    const isSelected = selected !== undefined && section.key(row) === selected
    lines.push(clip({...renderRow(row, placed, isSelected), split}, width))
  }

  if (truncated) lines.push({segments: [{text: `${' '.repeat(MARKER.length)}… ${total - room} more`, tone: 'dim'}]})
  return lines
}

/** The offset of the sparkline column, if the table shows one. */
function trendOffset<Row>(placed: readonly Placed<Row>[]): number | undefined {
  let offset = MARKER.length
  for (const {column, width} of placed) {
    if (column.id === 'trend') return offset
    offset += width + GAP.length
  }

  return undefined
}

function headingSegments<Row>(placed: readonly Placed<Row>[]): Segment[] {
  const text = placed.map(({column, width}) => padWidth(column.title, width, column.align)).join(GAP)
  return [{text: `${' '.repeat(MARKER.length)}${text}`.trimEnd(), tone: 'columns'}]
}

function printableCell(cell: Segment): Segment {
  return {...cell, text: printable(cell.text)}
}

function renderRow<Row>(row: Row, placed: readonly Placed<Row>[], selected: boolean): Line {
  const segments: Segment[] = [{text: selected ? MARKER : ' '.repeat(MARKER.length)}]
  placed.forEach(({column, width}, position) => {
    if (position > 0) segments.push({text: GAP})
    // Names come from telemetry: no control character of theirs reaches the terminal.
    const cell = column.id === 'trend' ? {text: sparkline((row as {sparkline?: number[]}).sparkline ?? [], width)} : printableCell(column.cell(row))
    const text = fitWidth(cell.text, width)
    const padding = ' '.repeat(width - displayWidth(text))
    if (column.align === 'right') segments.push({text: padding}, {text, tone: cell.tone})
    else segments.push({text, tone: cell.tone}, {text: padding})
  })
  return {segments: trimTrailing(segments), selected}
}

// ---------------------------------------------------------------------------------------------
// Text helpers

function blank(): Line {
  return {segments: []}
}

/** Puts items on lines two spaces apart, starting a new line when the next item does not fit. */
function packItems(items: readonly Segment[][], width: number): Line[] {
  const lines: Line[] = []
  let current: Segment[][] = []
  let used = 0
  for (const item of items) {
    const size = itemWidth(item)
    if (current.length > 0 && used + GAP.length + size > width) {
      lines.push(clip({segments: joinItems(current)}, width))
      current = []
      used = 0
    }

    used += (current.length > 0 ? GAP.length : 0) + size
    current.push(item)
  }

  if (current.length > 0) lines.push(clip({segments: joinItems(current)}, width))
  return lines
}

function joinItems(items: readonly Segment[][]): Segment[] {
  return items.flatMap((item, index) => (index === 0 ? item : [{text: GAP}, ...item]))
}

function itemWidth(item: readonly Segment[]): number {
  return item.reduce((sum, segment) => sum + displayWidth(segment.text), 0)
}

/** Cuts a line to the width, ending it with … when something was cut. */
function clip(line: Line, width: number): Line {
  if (itemWidth(line.segments) <= width) return line
  const segments: Segment[] = []
  let left = width - 1
  for (const segment of line.segments) {
    const width = displayWidth(segment.text)
    if (width <= left) {
      segments.push(segment)
      left -= width
      continue
    }

    segments.push({...segment, text: `${sliceColumns(segment.text, 0, left)}…`})
    break
  }

  return {...line, segments: trimTrailing(segments)}
}

function trimTrailing(segments: Segment[]): Segment[] {
  const out = [...segments]
  while (out.length > 0) {
    const last = out[out.length - 1]!
    const trimmed = last.text.trimEnd()
    if (trimmed === last.text) break
    if (trimmed === '') out.pop()
    else {
      out[out.length - 1] = {...last, text: trimmed}
      break
    }
  }

  return out
}

/** Splits text at spaces into at most `maxLines` lines of the width; the last one is cut if need be. */
function wrapWords(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = []
  let current = ''
  for (const word of text.split(' ')) {
    const candidate = current === '' ? word : `${current} ${word}`
    if (displayWidth(candidate) <= width || current === '') current = candidate
    else {
      lines.push(current)
      current = word
    }
  }

  lines.push(current)
  const kept = lines.slice(0, maxLines)
  if (lines.length > maxLines) kept[maxLines - 1] = `${kept[maxLines - 1]} ${lines.slice(maxLines).join(' ')}`
  return kept.map((line) => fitWidth(line, width))
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
