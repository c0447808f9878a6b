/**
 * `stella obs trace` as a waterfall: one line per span (critical-path and error marks, service,
 * the span's name indented by depth, duration, a bar placed and scaled on the trace's time axis),
 * with the span's attributes, events and logs under it, orphan spans in a group of their own, the
 * logs that name no span of the trace, the timeline events, and a summary.
 *
 * Lines are produced one at a time, so a trace of tens of thousands of spans starts printing at
 * once; every pass over the spans is linear.
 */
import type {AnyValue, KeyValue, SpanEvent, SpanRecord} from '../lib/otlp/types.js'
import {logBody, logLevelText, logService} from '../services/obs/logs.js'
import type {LogRecord} from '../services/obs/logs.js'
import {type AssembledTrace, type TraceNode, compareBig, logNanos, spanDurationNano} from '../services/obs/trace-assembly.js'
import {bold, cyan, dim, red, yellow} from './style.js'
import {renderTable} from './table.js'
import {displayWidth, fitWidth, printable} from './width.js'

export interface WaterfallOptions {
  /** Total width of a line, in columns. */
  width: number
  /** Show this many levels of the tree (1: the roots only); deeper spans are counted, not drawn. */
  depth?: number
  /** Show only the spans of these services, with their ancestors dimmed as context. */
  services?: readonly string[]
  attributes?: boolean
  /** Span events (default on). */
  events?: boolean
  /** Log records (default on). */
  logs?: boolean
}

/** Beyond this depth the indentation stops growing and the name says its depth instead. */
const MAX_INDENT_LEVELS = 12
const MIN_BAR = 10
const MIN_NAME = 12
const MAX_SERVICE = 24
const MARKS = 3
const GAP = '  '

/** The whole rendering as one string (tests, small traces). */
export function renderTrace(trace: AssembledTrace, options: WaterfallOptions): string {
  return [...traceLines(trace, options)].join('\n')
}

export function* traceLines(trace: AssembledTrace, options: WaterfallOptions): Generator<string> {
  const width = Math.max(40, Math.floor(options.width))
  const view = selectSpans(trace, options)
  const layout = columns(trace, view, width)
  const showEvents = options.events !== false
  const showLogs = options.logs !== false

  yield `${bold(`Trace ${trace.traceId}`)}${trace.nodes.length > 0 ? `  started ${isoNanos(trace.startNano)}` : ''}`
  if (view.filtered) {
    const services = options.services!.join(', ')
    yield view.matched === 0
      ? `No span of the trace belongs to ${services}.`
      : dim(`Showing the spans of ${services} (${view.matched} of ${trace.nodes.length}) and, as context (░), their ancestors.`)
  }

  if (trace.nodes.length === 0) {
    yield 'No spans of this trace were found; only its logs.'
  } else {
    yield ''
    yield headerLine(trace, layout)
  }

  let inOrphans = false
  for (const node of trace.nodes) {
    if (!inOrphans && node.orphan && node.depth === 0) {
      inOrphans = true
      if (view.orphansShown > 0) {
        yield ''
        yield bold(`Spans whose parent is missing from the trace (${trace.nodes.length - view.firstOrphanIndex} ${trace.nodes.length - view.firstOrphanIndex === 1 ? 'span' : 'spans'}):`)
      }
    }

    if (!view.shows(node)) continue
    const context = view.context(node)
    yield spanLine(node, context, trace, layout)
    const pad = annotationPad(layout, node.depth + 1)
    const room = Math.max(20, width - pad.length)
    // A span shown only as context gets no details of its own.
    if (options.attributes && !context) {
      for (const attribute of node.span.attributes) yield `${pad}${fitWidth(`${printable(attribute.key)} = ${displayValue(attribute.value)}`, room)}`
      for (const attribute of node.span.resource.attributes) yield `${pad}${dim(fitWidth(`resource ${printable(attribute.key)} = ${displayValue(attribute.value)}`, room))}`
    }

    if (!context) for (const item of annotations(node, showEvents, showLogs)) yield `${pad}${annotationText(item, node, trace, room)}`
    const hidden = view.hiddenBelow(node)
    if (hidden.spans > 0) {
      const errors = hidden.errors > 0 ? `, ${hidden.errors} with ${hidden.errors === 1 ? 'an error' : 'errors'}` : ''
      const text = fitWidth(`… ${hidden.spans} ${hidden.spans === 1 ? 'span' : 'spans'} hidden (--depth ${options.depth})${errors}`, room)
      yield `${pad}${hidden.errors > 0 ? red(text) : dim(text)}`
    }
  }

  const traceLogs = showLogs ? trace.traceLogs.filter((record) => !view.filtered || options.services!.includes(logService(record) ?? '-')) : []
  if (traceLogs.length > 0) {
    yield ''
    yield bold(`Logs of the trace that name no span in it (${traceLogs.length}):`)
    const room = Math.max(20, width - 2)
    for (const record of traceLogs) {
      const spanNote = record.spanId ? `  ${dim(`(span ${record.spanId})`)}` : ''
      yield `  ${fitWidth(`${offset(logNanos(record), trace)}  ${levelOf(record).padEnd(5)}  ${printable(logService(record) ?? '-')}  ${printable(logBody(record))}`, room)}${spanNote}`
    }
  }

  if (trace.timeline !== undefined && trace.timeline.length > 0) {
    yield ''
    yield bold(`Timeline events of the trace (${trace.timeline.length}):`)
    const table = renderTable(
      ['TIME', 'KIND', 'ACTOR', 'RESOURCE', 'EVENT'],
      trace.timeline.map((event) => [event.ts, event.kind, event.actor, `${event.resourceType}/${event.resourceId}`, event.eventId].map(printable)),
    )
    for (const line of table.split('\n')) yield `  ${line}`
  }

  yield ''
  yield* summaryLines(trace)
}

// ---------------------------------------------------------------------------------------------
// Which spans are drawn

interface SpanView {
  filtered: boolean
  /** Spans of the selected services. */
  matched: number
  orphansShown: number
  firstOrphanIndex: number
  shows(node: TraceNode): boolean
  /** Drawn only as the ancestor of a selected span. */
  context(node: TraceNode): boolean
  hiddenBelow(node: TraceNode): {spans: number; errors: number}
}

function selectSpans(trace: AssembledTrace, options: WaterfallOptions): SpanView {
  const maxDepth = options.depth ?? Number.POSITIVE_INFINITY
  const services = options.services !== undefined && options.services.length > 0 ? new Set(options.services) : undefined
  // With --service: the selected spans, and every ancestor of one (marked once, climbing stops at a marked span).
  let kept: Set<TraceNode> | undefined
  let matched = trace.nodes.length
  if (services) {
    kept = new Set()
    matched = 0
    for (const node of trace.nodes) {
      if (!services.has(node.service)) continue
      matched += 1
      for (let at: TraceNode | undefined = node; at !== undefined && !kept.has(at); at = at.parent) kept.add(at)
    }
  }

  const isKept = (node: TraceNode) => kept === undefined || kept.has(node)
  const shows = (node: TraceNode) => node.depth < maxDepth && isKept(node)
  // Spans (and errors) that the filter keeps but --depth cuts, counted onto the last drawn level.
  const hidden = new Map<TraceNode, {spans: number; errors: number}>()
  if (Number.isFinite(maxDepth)) {
    const below = new Map<TraceNode, {spans: number; errors: number}>()
    for (let i = trace.nodes.length - 1; i >= 0; i--) {
      const node = trace.nodes[i]!
      if (node.parent === undefined || !isKept(node) || node.depth < maxDepth) continue
      const own = below.get(node) ?? {spans: 0, errors: 0}
      const sum = below.get(node.parent) ?? {spans: 0, errors: 0}
      sum.spans += 1 + own.spans
      sum.errors += (node.error ? 1 : 0) + own.errors
      below.set(node.parent, sum)
    }

    for (const [node, count] of below) if (node.depth === maxDepth - 1) hidden.set(node, count)
  }

  let firstOrphanIndex = trace.nodes.length
  let orphansShown = 0
  for (const [index, node] of trace.nodes.entries()) {
    if (firstOrphanIndex === trace.nodes.length && node.orphan && node.depth === 0) firstOrphanIndex = index
    if (index >= firstOrphanIndex && shows(node)) orphansShown += 1
  }

  return {
    filtered: services !== undefined,
    matched,
    orphansShown,
    firstOrphanIndex,
    shows,
    context: (node) => services !== undefined && !services.has(node.service),
    hiddenBelow: (node) => hidden.get(node) ?? {spans: 0, errors: 0},
  }
}

// ---------------------------------------------------------------------------------------------
// Columns

interface Layout {
  width: number
  service: number
  name: number
  duration: number
  bar: number
}

function columns(trace: AssembledTrace, view: SpanView, width: number): Layout {
  let service = 'SERVICE'.length
  let name = 'SPAN'.length
  let duration = 'DURATION'.length
  for (const node of trace.nodes) {
    if (!view.shows(node)) continue
    service = Math.max(service, displayWidth(printable(node.service)))
    name = Math.max(name, displayWidth(spanLabel(node)))
    duration = Math.max(duration, spanDurationText(node.span).length)
  }

  service = Math.min(service, MAX_SERVICE)
  const fixed = MARKS + service + GAP.length + GAP.length + duration + GAP.length
  // The bars keep at least 30% of the line; long names are cut to leave it to them.
  const minBar = Math.max(MIN_BAR, Math.floor(width * 0.3))
  name = Math.min(name, Math.max(MIN_NAME, width - fixed - minBar))
  const bar = Math.max(MIN_BAR, width - fixed - name)
  return {width, service, name, duration, bar}
}

function headerLine(trace: AssembledTrace, layout: Layout): string {
  const titles = `${' '.repeat(MARKS)}${'SERVICE'.padEnd(layout.service)}${GAP}${'SPAN'.padEnd(layout.name)}${GAP}${'DURATION'.padStart(layout.duration)}${GAP}`
  return `${bold(titles)}${axis(trace.durationNano, layout.bar)}`.trimEnd()
}

/** `0`, the middle and the end of the trace's time, placed over the bars. */
function axis(duration: bigint, width: number): string {
  const cells = Array.from({length: width}, () => ' ')
  const put = (text: string, at: number) => {
    for (let i = 0; i < text.length && at + i < width; i++) cells[at + i] = text[i]!
  }

  const end = formatNanos(duration)
  const middle = formatNanos(duration / 2n)
  put('0', 0)
  const middleAt = Math.floor(width / 2 - middle.length / 2)
  if (duration > 0n && middleAt > 2 && middleAt + middle.length < width - end.length - 1) put(middle, middleAt)
  if (duration > 0n && end.length + 2 <= width) put(end, width - end.length)
  return cells.join('')
}

function spanLabel(node: TraceNode): string {
  const levels = Math.min(node.depth, MAX_INDENT_LEVELS)
  const deep = node.depth > MAX_INDENT_LEVELS ? `[${node.depth}] ` : ''
  return `${'  '.repeat(levels)}${deep}${printable(node.span.name)}`
}

/** A span's duration, or what is wrong with its end. */
function spanDurationText(span: SpanRecord): string {
  const duration = spanDurationNano(span)
  if (duration !== undefined) return formatNanos(duration)
  return span.endTimeUnixNano === 0n ? 'no end' : 'ends early'
}

function spanLine(node: TraceNode, context: boolean, trace: AssembledTrace, layout: Layout): string {
  const service = fitWidth(printable(node.service), layout.service)
  const label = fitWidth(spanLabel(node), layout.name)
  const duration = spanDurationText(node.span).padStart(layout.duration)
  const bar = barOf(node, trace, layout.bar, context ? '░' : '█')
  const servicePad = ' '.repeat(layout.service - displayWidth(service))
  const labelPad = ' '.repeat(layout.name - displayWidth(label))
  if (context) return dim(`${node.critical ? '*' : ' '}${node.error ? '!' : ' '} ${service}${servicePad}${GAP}${label}${labelPad}${GAP}${duration}${GAP}${bar}`)
  const paint = node.error ? red : node.critical ? cyan : undefined
  const marks = `${node.critical ? bold(cyan('*')) : ' '}${node.error ? bold(red('!')) : ' '} `
  // Colour only the visible text: indentation and padding stay plain.
  const indent = /^ */.exec(label)![0]
  const name = node.error ? `${indent}${red(label.slice(indent.length))}` : label
  const painted = paint ? bar.replace(/[█░]+/, (cells) => paint(cells)) : bar
  return `${marks}${cyan(service)}${servicePad}${GAP}${name}${labelPad}${GAP}${duration}${GAP}${painted}`
}

/** The span's stretch of the trace's time, in whole cells, at least one. */
function barOf(node: TraceNode, trace: AssembledTrace, width: number, glyph: string): string {
  const total = trace.durationNano
  const cells = BigInt(width)
  let from = 0
  let to = width
  if (total > 0n) {
    from = Number(((node.span.startTimeUnixNano - trace.startNano) * cells) / total)
    to = Number(ceilDiv((node.span.endTimeUnixNano - trace.startNano) * cells, total))
  }

  from = clamp(from, 0, width - 1)
  to = clamp(to, from + 1, width)
  return `${' '.repeat(from)}${glyph.repeat(to - from)}`
}

// ---------------------------------------------------------------------------------------------
// Events and logs under a span

type Annotation = {kind: 'event'; at: bigint; event: SpanEvent} | {kind: 'log'; at: bigint; record: LogRecord}

/** The span's events and logs merged by time (each list is already in time order, or nearly). */
function annotations(node: TraceNode, events: boolean, logs: boolean): Annotation[] {
  const items: Annotation[] = []
  if (events) for (const event of node.span.events) items.push({kind: 'event', at: event.timeUnixNano, event})
  if (logs) for (const record of node.logs) items.push({kind: 'log', at: logNanos(record), record})
  // Stable: an event and a log at the same instant keep events first.
  return items.length > 1 ? items.sort((a, b) => compareBig(a.at, b.at)) : items
}

function annotationText(item: Annotation, node: TraceNode, trace: AssembledTrace, room: number): string {
  const at = offset(item.at, trace)
  if (item.kind === 'event') {
    const attributes = item.event.attributes.map((attribute) => `${printable(attribute.key)}=${displayValue(attribute.value)}`).join(' ')
    const text = fitWidth(`${at}  event  ${printable(item.event.name)}${attributes ? `  ${attributes}` : ''}`, room)
    return item.event.name === 'exception' ? red(text) : text
  }

  const level = levelOf(item.record)
  const service = logService(item.record)
  const other = service !== undefined && service !== node.service ? `${printable(service)}: ` : ''
  const text = fitWidth(`${at}  ${level.padEnd(5)}  ${other}${printable(logBody(item.record))}`, room)
  return level === 'ERROR' || level === 'FATAL' ? red(text) : level === 'WARN' ? yellow(text) : text
}

function annotationPad(layout: Layout, depth: number): string {
  return ' '.repeat(MARKS + layout.service + GAP.length + 2 * Math.min(depth, MAX_INDENT_LEVELS + 1))
}

function levelOf(record: LogRecord): string {
  return printable(logLevelText(record))
}

// ---------------------------------------------------------------------------------------------
// Summary

const CHAIN_SHOWN = 6

function* summaryLines(trace: AssembledTrace): Generator<string> {
  const spans = trace.nodes.length
  if (spans === 0) {
    const logs = trace.traceLogs.length
    yield `0 spans, ${logs} log ${logs === 1 ? 'record' : 'records'}`
    return
  }

  const services = trace.services.length
  const shown = trace.services.slice(0, 5).map(printable).join(', ')
  const shownServices = services > 5 ? `${shown} and ${services - 5} more` : shown
  const errors = trace.errorCount === 1 ? '1 error (!)' : `${trace.errorCount} errors${trace.errorCount > 0 ? ' (!)' : ''}`
  const parts = [
    `${spans} ${spans === 1 ? 'span' : 'spans'}`,
    `${services} ${services === 1 ? 'service' : 'services'}${services > 0 ? ` (${shownServices})` : ''}`,
    formatNanos(trace.durationNano),
    trace.errorCount > 0 ? red(errors) : errors,
  ]
  if (trace.orphans.length > 0) parts.push(`${trace.orphans.length} missing ${trace.orphans.length === 1 ? 'parent' : 'parents'}`)
  yield parts.join(', ')
  if (trace.criticalPath.length === 0) return
  const names = trace.criticalPath.map((node) => printable(node.span.name))
  const chain = names.length > CHAIN_SHOWN ? [...names.slice(0, 3), `… ${names.length - 5} more …`, ...names.slice(-2)] : names
  yield `critical path (*): ${chain.join(' › ')} (${names.length} ${names.length === 1 ? 'span' : 'spans'})`
}

// ---------------------------------------------------------------------------------------------
// Text

/** A duration with three significant digits and the unit that reads best: 850ns, 12.5µs, 480ms, 1.25s, 2m05s, 1h02m. */
export function formatNanos(nanos: bigint): string {
  if (nanos < 0n) return `-${formatNanos(-nanos)}`
  if (nanos < 1000n) return `${nanos}ns`
  const units: [bigint, string][] = [
    [1000n, 'µs'],
    [1_000_000n, 'ms'],
    [1_000_000_000n, 's'],
  ]
  for (const [size, unit] of units) {
    const value = Number(nanos) / Number(size)
    const text = value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)
    if (Number(text) < (unit === 's' ? 60 : 1000)) return `${text}${unit}`
  }

  const seconds = (nanos + 500_000_000n) / 1_000_000_000n
  if (seconds < 3600n) return `${seconds / 60n}m${String(seconds % 60n).padStart(2, '0')}s`
  const minutes = (seconds + 30n) / 60n
  return `${minutes / 60n}h${String(minutes % 60n).padStart(2, '0')}m`
}

/** Time since the start of the trace, signed. */
function offset(at: bigint, trace: AssembledTrace): string {
  const delta = at - trace.startNano
  return delta < 0n ? formatNanos(delta) : `+${formatNanos(delta)}`
}

/** RFC 3339 with nanoseconds as the record has them (trailing zeros dropped). */
export function isoNanos(nanos: bigint): string {
  const ms = nanos / 1_000_000n
  const iso = new Date(Number(ms)).toISOString()
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '')
  return iso.replace(/\.\d{3}Z$/, `.${fraction.padEnd(3, '0')}Z`)
}

/** An attribute value as one line of text: strings as they are, anything else as JSON would say it. */
export function displayValue(value: AnyValue): string {
  switch (value.kind) {
    case 'string':
      return printable(value.value)
    case 'bool':
    case 'int':
    case 'double':
      return String(value.value)
    case 'bytes':
      return Buffer.from(value.value).toString('base64')
    case 'array':
      return `[${value.value.map(displayValue).join(', ')}]`
    case 'kvlist':
      return `{${value.value.map((kv: KeyValue) => `${printable(kv.key)}: ${displayValue(kv.value)}`).join(', ')}}`
    default:
      return ''
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high)
}
