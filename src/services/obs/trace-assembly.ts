/**
 * One trace put together from its parts: spans into a tree (children by start time), spans whose
 * parent is missing into an orphan group, logs under the span they name, and the critical path.
 * Pure and O(n log n): spans are indexed by id once, and nothing walks the tree recursively, so a
 * trace of tens of thousands of spans (or a chain that deep) is assembled in one pass.
 */
import type {TimelineEvent} from '../../lib/api/types.js'
import {stringAttribute} from '../../lib/otlp/values.js'
import {type KeyValue, type SpanRecord, StatusCode} from '../../lib/otlp/types.js'
import type {LogRecord} from './logs.js'

export interface TraceParts {
  traceId: string
  spans: readonly SpanRecord[]
  /** Log records of the trace, in the API's flattened shape. */
  logs: readonly LogRecord[]
  /** The timeline events of the trace; undefined where there is no timeline (local files). */
  timeline?: readonly TimelineEvent[]
}

export interface TraceNode {
  span: SpanRecord
  /** `service.name` of the span's resource, '-' when it has none. */
  service: string
  /** 0 for a root and for the top of an orphan subtree. */
  depth: number
  parent: TraceNode | undefined
  /** By start time (then by the order they came in). */
  children: TraceNode[]
  /** The span names a parent that is not in the trace (or its parent chain loops). */
  orphan: boolean
  error: boolean
  critical: boolean
  /** How much of the trace's end-to-end time this span accounts for itself on the critical path. */
  criticalNano: bigint
  /** Spans below this one, at any depth. */
  descendants: number
  /** Spans with status ERROR below this one. */
  descendantErrors: number
  /** Log records that name this span, by time. */
  logs: LogRecord[]
}

export interface AssembledTrace {
  traceId: string
  /** Spans without a parent, by start time. */
  roots: TraceNode[]
  /** Tops of the subtrees whose parent span is missing, by start time. */
  orphans: TraceNode[]
  /** Every span in waterfall order: each root's subtree depth first, then each orphan's. */
  nodes: TraceNode[]
  byId: ReadonlyMap<string, TraceNode>
  /** Every log record of the trace, by time. */
  logs: LogRecord[]
  /** Logs of the trace with no span id, or a span id not in the trace, by time. */
  traceLogs: LogRecord[]
  timeline: TimelineEvent[] | undefined
  startNano: bigint
  endNano: bigint
  durationNano: bigint
  /** service.name values in order of first appearance in the waterfall. */
  services: string[]
  errorCount: number
  /** The critical-path spans in waterfall order. */
  criticalPath: TraceNode[]
  /** Spans dropped because an earlier one had the same id (a span exported twice). */
  duplicateSpans: number
  /** Log records dropped because an identical one came earlier. */
  duplicateLogs: number
}

/**
 * Builds the trace. Spans of other traces are ignored (a file may hold many); a span id seen
 * twice keeps its first record.
 */
export function assembleTrace(parts: TraceParts): AssembledTrace {
  const byId = new Map<string, TraceNode>()
  const inOrder: TraceNode[] = []
  let duplicateSpans = 0
  for (const span of parts.spans) {
    if (span.traceId !== parts.traceId) continue
    if (byId.has(span.spanId)) {
      duplicateSpans += 1
      continue
    }

    const node: TraceNode = {
      span,
      service: serviceName(span.resource.attributes),
      depth: 0,
      parent: undefined,
      children: [],
      orphan: false,
      error: span.status.code === StatusCode.ERROR,
      critical: false,
      criticalNano: 0n,
      descendants: 0,
      descendantErrors: 0,
      logs: [],
    }
    byId.set(span.spanId, node)
    inOrder.push(node)
  }

  const roots: TraceNode[] = []
  const orphans: TraceNode[] = []
  for (const node of inOrder) {
    const parentId = node.span.parentSpanId
    const parent = parentId === '' ? undefined : byId.get(parentId)
    if (parentId === '') roots.push(node)
    else if (parent === undefined || parent === node) {
      node.orphan = true
      orphans.push(node)
    } else {
      node.parent = parent
      parent.children.push(node)
    }
  }

  for (const node of inOrder) if (node.children.length > 1) node.children.sort(byStart)
  roots.sort(byStart)
  orphans.sort(byStart)

  const nodes: TraceNode[] = []
  const visited = new Set<TraceNode>()
  visit(roots, nodes, visited)
  visit(orphans, nodes, visited)
  // What is left hangs off a loop of parent ids (a ← b ← a): climb to the loop and cut it there.
  for (const node of inOrder) {
    if (visited.has(node)) continue
    const climbed = new Set<TraceNode>()
    let cut = node
    while (!climbed.has(cut)) {
      climbed.add(cut)
      cut = cut.parent!
    }

    const parent = cut.parent!
    parent.children.splice(parent.children.indexOf(cut), 1)
    cut.parent = undefined
    cut.orphan = true
    orphans.push(cut)
    visit([cut], nodes, visited)
  }

  countDescendants(nodes)

  let startNano = 0n
  let endNano = 0n
  for (const [index, node] of nodes.entries()) {
    const {startTimeUnixNano: start, endTimeUnixNano: end} = node.span
    if (index === 0 || start < startNano) startNano = start
    if (index === 0 || end > endNano) endNano = end
  }

  const position = new Map(nodes.map((node, index) => [node, index]))
  const criticalPath = markCriticalPath([...roots, ...orphans], startNano, endNano).sort((a, b) => position.get(a)! - position.get(b)!)

  // The same record read twice (the same data in two files, or in a file and a bundle) is shown once.
  const seenLogs = new Set<string>()
  const uniqueLogs = parts.logs.filter((record) => {
    const key = JSON.stringify(record)
    if (seenLogs.has(key)) return false
    seenLogs.add(key)
    return true
  })
  const sortedLogs = uniqueLogs.sort(compareLogNanos)
  // With no span to place them, the logs alone give the trace its start.
  if (nodes.length === 0 && sortedLogs.length > 0) startNano = endNano = logNanos(sortedLogs[0]!)

  const traceLogs: LogRecord[] = []
  for (const record of sortedLogs) {
    const node = record.spanId ? byId.get(record.spanId.toLowerCase()) : undefined
    if (node) node.logs.push(record)
    else traceLogs.push(record)
  }

  const services: string[] = []
  const seen = new Set<string>()
  let errorCount = 0
  for (const node of nodes) {
    if (!seen.has(node.service)) {
      seen.add(node.service)
      services.push(node.service)
    }

    if (node.error) errorCount += 1
  }

  return {
    traceId: parts.traceId,
    roots,
    orphans,
    nodes,
    byId,
    logs: sortedLogs,
    traceLogs,
    timeline: parts.timeline === undefined ? undefined : [...parts.timeline],
    startNano,
    endNano,
    durationNano: endNano - startNano,
    services,
    errorCount,
    criticalPath,
    duplicateSpans,
    duplicateLogs: parts.logs.length - uniqueLogs.length,
  }
}

/** Depth-first, children in their (start-time) order, with an explicit stack: no recursion limit. */
function visit(tops: readonly TraceNode[], out: TraceNode[], visited: Set<TraceNode>): void {
  const stack = [...tops].reverse()
  while (stack.length > 0) {
    const node = stack.pop()!
    if (visited.has(node)) continue
    visited.add(node)
    node.depth = node.parent === undefined ? 0 : node.parent.depth + 1
    out.push(node)
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!)
  }
}

/** In reverse waterfall order every child comes before its parent, so one pass adds up subtrees. */
function countDescendants(nodes: readonly TraceNode[]): void {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!
    const parent = node.parent
    if (parent === undefined) continue
    parent.descendants += 1 + node.descendants
    parent.descendantErrors += (node.error ? 1 : 0) + node.descendantErrors
  }
}

/**
 * The critical path: the spans whose own work decides when the trace ends.
 *
 * Walking back in time from the end of a span (the whole trace, for the top-level spans), the
 * span's child that finished last is on the critical path; a child that outlives its parent
 * counts only up to the parent's end. The walk then jumps to that child's start and takes, among
 * the children that had finished by then, the one that finished last, and so on; children that
 * overlap a chosen one ran alongside it and did not hold the parent up. Each chosen child is
 * explained the same way within its (clamped) end. The stretches of a span that no chosen child
 * covers are the span's own time on the path (`criticalNano`); over the whole path they add up to
 * the trace's duration, less any gaps between top-level spans.
 */
function markCriticalPath(tops: readonly TraceNode[], traceStart: bigint, traceEnd: bigint): TraceNode[] {
  const marked: TraceNode[] = []
  // A task explains `children` within [start, end]; `owner` is the span they belong to (none: the trace).
  const tasks: {owner: TraceNode | undefined; children: readonly TraceNode[]; start: bigint; end: bigint}[] = [{owner: undefined, children: tops, start: traceStart, end: traceEnd}]
  while (tasks.length > 0) {
    const {owner, children, start, end} = tasks.pop()!
    const candidates = children.map((child) => ({child, end: minBig(child.span.endTimeUnixNano, end)}))
    // Latest (clamped) end first; on a tie the one that started earlier explains more of the wait.
    candidates.sort((a, b) => compareBig(b.end, a.end) || compareBig(a.child.span.startTimeUnixNano, b.child.span.startTimeUnixNano))
    let cursor = end
    let own = 0n
    for (const candidate of candidates) {
      if (cursor <= start) break
      const childStart = candidate.child.span.startTimeUnixNano
      // A span without a proper end (it had not ended, or its clock was wrong) explains no wait.
      if (candidate.end > cursor || childStart >= cursor || spanDurationNano(candidate.child.span) === undefined) continue
      own += cursor - candidate.end
      candidate.child.critical = true
      marked.push(candidate.child)
      tasks.push({owner: candidate.child, children: candidate.child.children, start: candidate.child.span.startTimeUnixNano, end: candidate.end})
      cursor = childStart
    }

    if (cursor > start) own += cursor - start
    if (owner) owner.criticalNano = own
  }

  return marked
}

/**
 * How long a span took, or undefined when its end is before its start: an end of 0 is a span
 * recorded before it ended (or an end never set), and any other is a clock or exporter fault.
 */
export function spanDurationNano(span: SpanRecord): bigint | undefined {
  const duration = span.endTimeUnixNano - span.startTimeUnixNano
  return duration < 0n ? undefined : duration
}

export function serviceName(attributes: readonly KeyValue[]): string {
  return stringAttribute(attributes, 'service.name') || '-'
}

function byStart(a: TraceNode, b: TraceNode): number {
  return compareBig(a.span.startTimeUnixNano, b.span.startTimeUnixNano)
}

/** A log record's time in nanoseconds (0 when unreadable). */
export function logNanos(record: LogRecord): bigint {
  try {
    return BigInt(record.timeUnixNano)
  } catch {
    return 0n
  }
}

function compareLogNanos(a: LogRecord, b: LogRecord): number {
  return compareBig(logNanos(a), logNanos(b))
}

export function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
