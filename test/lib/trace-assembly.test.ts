/** Assembling a trace: the span tree, orphans, logs under their spans, and the critical path. */
import {describe, expect, it} from 'vitest'

import {type AssembledTrace, assembleTrace} from '../../src/services/obs/trace-assembly.js'
import {SERVICES, TRACE_ID, at, checkoutTrace, log, sid, span} from '../helpers/trace-records.js'

const names = (trace: AssembledTrace) => trace.nodes.map((node) => `${'  '.repeat(node.depth)}${node.span.name}`)
const ms = (nanos: bigint) => Number(nanos) / 1e6

describe('assembleTrace', () => {
  it('builds the tree with children by start time, the orphan group after it, and the trace bounds', () => {
    const {spans, logs} = checkoutTrace()
    // Any input order gives the same tree.
    const trace = assembleTrace({traceId: TRACE_ID, spans: [...spans].reverse(), logs})
    expect(names(trace)).toEqual(['GET /checkout', '  call policy-engine', '    evaluate', '      load rules', '      audit', '      SELECT evidence', 'job tick'])
    expect(trace.roots.map((node) => node.span.name)).toEqual(['GET /checkout'])
    expect(trace.orphans.map((node) => [node.span.name, node.orphan, node.depth])).toEqual([['job tick', true, 0]])
    expect(trace.nodes.filter((node) => node.orphan)).toHaveLength(1)
    expect(trace.byId.get(sid('c1'))!.children.map((node) => node.span.name)).toEqual(['load rules', 'audit', 'SELECT evidence'])
    expect(trace.byId.get(sid('a1'))!.descendants).toBe(5)
    expect(trace.byId.get(sid('a1'))!.descendantErrors).toBe(1)
    expect(trace.byId.get(sid('c1'))!.descendants).toBe(3)
    expect([trace.startNano, trace.endNano, trace.durationNano]).toEqual([at(0), at(480), 480_000_000n])
    expect(trace.services).toEqual(['api-gateway', 'policy-engine', 'evidence-store', 'scheduler'])
    expect(trace.errorCount).toBe(1)
    expect(trace.duplicateSpans).toBe(0)
    expect(trace.timeline).toBeUndefined()
  })

  it('puts each log under the span it names, in time order, and the others at trace level', () => {
    const {spans, logs} = checkoutTrace()
    const stray = log({at: 200, level: 'INFO', body: 'span not exported', service: 'scheduler', span: '9999'})
    const trace = assembleTrace({traceId: TRACE_ID, spans, logs: [...logs, stray, log({at: 27, level: 'DEBUG', body: 'second', service: 'policy-engine', span: 'd1'})]})
    expect(trace.byId.get(sid('d1'))!.logs.map((record) => record.body?.stringValue)).toEqual(['load rules started', 'second'])
    expect(trace.byId.get(sid('e1'))!.logs.map((record) => record.body?.stringValue)).toEqual(['connect ECONNREFUSED evidence-store:5432'])
    expect(trace.traceLogs.map((record) => record.body?.stringValue)).toEqual(['request has no tenant header', 'span not exported'])
  })

  it('ignores spans of other traces and keeps the first of two spans with one id', () => {
    const {spans} = checkoutTrace()
    const other = span({id: 'a1', name: 'other trace', resource: SERVICES.gateway, start: 0, end: 9000, traceId: 'ab'.repeat(16)})
    const again = span({id: 'e1', parent: 'c1', name: 'SELECT evidence (again)', resource: SERVICES.store, start: 140, end: 441})
    const trace = assembleTrace({traceId: TRACE_ID, spans: [...spans, other, again], logs: []})
    expect(trace.nodes).toHaveLength(7)
    expect(trace.duplicateSpans).toBe(1)
    expect(trace.byId.get(sid('e1'))!.span.name).toBe('SELECT evidence')
    expect(trace.endNano).toBe(at(480))
  })

  it('cuts a loop of parent ids into the orphan group instead of losing or repeating spans', () => {
    const trace = assembleTrace({
      traceId: TRACE_ID,
      spans: [
        span({id: 'r', name: 'root', resource: SERVICES.gateway, start: 0, end: 100}),
        span({id: 'x', parent: 'y', name: 'x', resource: SERVICES.policy, start: 10, end: 20}),
        span({id: 'y', parent: 'x', name: 'y', resource: SERVICES.policy, start: 5, end: 30}),
        span({id: 'z', parent: 'y', name: 'z', resource: SERVICES.policy, start: 6, end: 7}),
        span({id: 's', parent: 's', name: 'self', resource: SERVICES.policy, start: 50, end: 60}),
      ],
      logs: [],
    })
    expect(names(trace)).toEqual(['root', 'self', 'x', '  y', '    z'])
    expect(trace.orphans.map((node) => node.span.name)).toEqual(['self', 'x'])
    expect(trace.byId.get(sid('y'))!.children.map((node) => node.span.name)).toEqual(['z'])
  })

  it('a trace of 10,000 spans in one chain assembles without recursion', () => {
    const id = (i: number) => `c${i.toString(16).padStart(8, '0')}`
    const spans = Array.from({length: 10_000}, (_, i) =>
      span({id: id(i), parent: i === 0 ? '' : id(i - 1), name: `step ${i}`, resource: SERVICES.policy, start: i * 0.01, end: 200 - i * 0.01}),
    )
    const trace = assembleTrace({traceId: TRACE_ID, spans: spans.reverse(), logs: []})
    expect(trace.nodes).toHaveLength(10_000)
    expect(trace.nodes[9999]!.depth).toBe(9999)
    expect(trace.nodes[0]!.descendants).toBe(9999)
    expect(trace.criticalPath).toHaveLength(10_000)
  })
})

describe('the critical path', () => {
  it('follows the last-finishing child back in time, skipping children that ran alongside', () => {
    const {spans, logs} = checkoutTrace()
    const trace = assembleTrace({traceId: TRACE_ID, spans, logs})
    expect(trace.criticalPath.map((node) => node.span.name)).toEqual(['GET /checkout', 'call policy-engine', 'evaluate', 'load rules', 'SELECT evidence'])
    // audit (30-100 ms) ran while load rules (25-130 ms) did: it held nothing up. The orphan ran inside the root's time.
    expect(trace.nodes.filter((node) => !node.critical).map((node) => node.span.name)).toEqual(['audit', 'job tick'])
    // Own time on the path: the root 0-12 and 460-480, the client call 12-20 and 450-460, evaluate 20-25, 130-140 and 440-450.
    expect(trace.nodes.map((node) => [node.span.name, ms(node.criticalNano)])).toEqual([
      ['GET /checkout', 32],
      ['call policy-engine', 18],
      ['evaluate', 25],
      ['load rules', 105],
      ['audit', 0],
      ['SELECT evidence', 300],
      ['job tick', 0],
    ])
    expect(trace.nodes.reduce((sum, node) => sum + node.criticalNano, 0n)).toBe(trace.durationNano)
  })

  it('counts a child that outlives its parent only up to the parent end, and walks sequential roots', () => {
    const trace = assembleTrace({
      traceId: TRACE_ID,
      spans: [
        span({id: 'p', name: 'publish', resource: SERVICES.gateway, start: 0, end: 50}),
        span({id: 'q', parent: 'p', name: 'enqueue', resource: SERVICES.gateway, start: 10, end: 40}),
        // Runs alongside enqueue: it held nothing up.
        span({id: 'v', parent: 'p', name: 'validate', resource: SERVICES.gateway, start: 12, end: 30}),
        // Runs on after its parent returned (asynchronous work).
        span({id: 'w', parent: 'p', name: 'fire and forget', resource: SERVICES.policy, start: 45, end: 300}),
        // A second root, after the first: the trace's time is explained by both.
        span({id: 'c', name: 'consume', resource: SERVICES.store, start: 100, end: 400}),
      ],
      logs: [],
    })
    expect(trace.criticalPath.map((node) => node.span.name)).toEqual(['publish', 'enqueue', 'fire and forget', 'consume'])
    // publish: 0-10 and 40-45; fire and forget: 45-50 (its parent's end), not to 300; 50-100 is a gap between the roots.
    expect(trace.nodes.map((node) => [node.span.name, ms(node.criticalNano)])).toEqual([
      ['publish', 15],
      ['enqueue', 30],
      ['validate', 0],
      ['fire and forget', 5],
      ['consume', 300],
    ])
  })

  it('is empty for a trace with no spans', () => {
    const trace = assembleTrace({traceId: TRACE_ID, spans: [], logs: [log({at: 1, level: 'INFO', body: 'alone', service: 'api-gateway'})]})
    expect(trace.criticalPath).toEqual([])
    expect(trace.durationNano).toBe(0n)
    expect(trace.traceLogs).toHaveLength(1)
  })
})
