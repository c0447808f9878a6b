/** The waterfall of `stella obs trace`, line for line, at a fixed width with colour off (and once on). */
import {afterEach, describe, expect, it} from 'vitest'

import {assembleTrace} from '../../src/services/obs/trace-assembly.js'
import {setColorEnabled} from '../../src/ui/style.js'
import {formatNanos, isoNanos, renderTrace, traceLines} from '../../src/ui/trace.js'
import {SERVICES, TRACE_ID, TRACE_START, checkoutTrace, log, resource, span, text} from '../helpers/trace-records.js'

afterEach(() => setColorEnabled(false))

const checkout = () => {
  const {spans, logs} = checkoutTrace()
  return assembleTrace({traceId: TRACE_ID, spans, logs})
}

const lines = (...rows: string[]) => rows.join('\n')

const SUMMARY = [
  '7 spans, 4 services (api-gateway, policy-engine, evidence-store, scheduler), 480ms, 1 error (!), 1 missing parent',
  'critical path (*): GET /checkout › call policy-engine › evaluate › load rules › SELECT evidence (5 spans)',
]

describe('the waterfall', () => {
  it('nests spans by start time, marks the critical path and errors, interleaves events and logs, groups orphans', () => {
    expect(renderTrace(checkout(), {width: 100})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
        '',
        '   SERVICE         SPAN                   DURATION  0                    240ms                 480ms',
        '*  api-gateway     GET /checkout             480ms  ████████████████████████████████████████████████',
        '*  api-gateway       call policy-engine      448ms   █████████████████████████████████████████████',
        '*  policy-engine       evaluate              430ms    ███████████████████████████████████████████',
        '*  policy-engine         load rules          105ms    ███████████',
        '                           +26.0ms  event  cache miss  cache.key=rules/acme/policy-1',
        '                           +26.5ms  INFO   load rules started',
        '   policy-engine         audit              70.0ms     ███████',
        '*! evidence-store        SELECT evidence     300ms                ██████████████████████████████',
        '                           +439ms  event  exception  exception.type=ConnectionRefused',
        '                           +440ms  ERROR  connect ECONNREFUSED evidence-store:5432',
        '',
        'Spans whose parent is missing from the trace (1 span):',
        '   scheduler       job tick                 50.0ms                                █████',
        '',
        'Logs of the trace that name no span in it (1):',
        '  +5.00ms  WARN   api-gateway  request has no tenant header',
        '',
        ...SUMMARY,
      ),
    )
  })

  it('--depth collapses deeper spans, saying how many each collapsed span hides and how many failed', () => {
    expect(renderTrace(checkout(), {width: 72, depth: 3})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
        '',
        '   SERVICE        SPAN                  DURATION  0       240ms    480ms',
        '*  api-gateway    GET /checkout            480ms  ██████████████████████',
        '*  api-gateway      call policy-engine     448ms  ██████████████████████',
        '*  policy-engine      evaluate             430ms  █████████████████████',
        '                        … 3 spans hidden (--depth 3), 1 with an error',
        '',
        'Spans whose parent is missing from the trace (1 span):',
        '   scheduler      job tick                50.0ms               ████',
        '',
        'Logs of the trace that name no span in it (1):',
        '  +5.00ms  WARN   api-gateway  request has no tenant header',
        '',
        ...SUMMARY,
      ),
    )
  })

  it('--service keeps the spans of that service and their ancestors, dimmed, as context', () => {
    expect(renderTrace(checkout(), {width: 100, services: ['evidence-store']})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
        'Showing the spans of evidence-store (1 of 7) and, as context (░), their ancestors.',
        '',
        '   SERVICE         SPAN                   DURATION  0                    240ms                 480ms',
        '*  api-gateway     GET /checkout             480ms  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░',
        '*  api-gateway       call policy-engine      448ms   ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░',
        '*  policy-engine       evaluate              430ms    ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░',
        '*! evidence-store        SELECT evidence     300ms                ██████████████████████████████',
        '                           +439ms  event  exception  exception.type=ConnectionRefused',
        '                           +440ms  ERROR  connect ECONNREFUSED evidence-store:5432',
        '',
        ...SUMMARY,
      ),
    )
    expect(renderTrace(checkout(), {width: 100, services: ['billing']}).split('\n')[1]).toBe('No span of the trace belongs to billing.')
    // With --depth as well, the count of what is hidden stays under the last drawn span.
    expect(renderTrace(checkout(), {width: 90, depth: 3, services: ['evidence-store']})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
        'Showing the spans of evidence-store (1 of 7) and, as context (░), their ancestors.',
        '',
        '   SERVICE        SPAN                  DURATION  0                240ms             480ms',
        '*  api-gateway    GET /checkout            480ms  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░',
        '*  api-gateway      call policy-engine     448ms   ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░',
        '*  policy-engine      evaluate             430ms   ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░',
        '                        … 1 span hidden (--depth 3), 1 with an error',
        '',
        ...SUMMARY,
      ),
    )
  })

  it('--attributes lists span and resource attributes; events and logs can be left out', () => {
    expect(renderTrace(checkout(), {width: 100, attributes: true, events: false, logs: false, depth: 2})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
        '',
        '   SERVICE      SPAN                  DURATION  0                      240ms                   480ms',
        '*  api-gateway  GET /checkout            480ms  ████████████████████████████████████████████████████',
        '                  http.route = /checkout',
        '                  http.response.status_code = 502',
        '                  resource service.name = api-gateway',
        '                  resource service.version = 2.14.1',
        '*  api-gateway    call policy-engine     448ms   █████████████████████████████████████████████████',
        '                    resource service.name = api-gateway',
        '                    resource service.version = 2.14.1',
        '                    … 4 spans hidden (--depth 2), 1 with an error',
        '',
        'Spans whose parent is missing from the trace (1 span):',
        '   scheduler    job tick                50.0ms                                  ██████',
        '                  resource service.name = scheduler',
        '                  resource service.version = 3.2.4',
        '',
        ...SUMMARY,
      ),
    )
  })

  it('colours errors red and the critical path cyan, and only the text, not the padding', () => {
    setColorEnabled(true)
    const [, , , root, , , , , , audit, failed] = renderTrace(checkout(), {width: 100}).split('\n')
    expect(root).toBe('\u001B[1m\u001B[36m*\u001B[39m\u001B[22m  \u001B[36mapi-gateway\u001B[39m     GET /checkout             480ms  \u001B[36m████████████████████████████████████████████████\u001B[39m')
    expect(audit).toBe('   \u001B[36mpolicy-engine\u001B[39m         audit              70.0ms     ███████')
    expect(failed).toBe(
      '\u001B[1m\u001B[36m*\u001B[39m\u001B[22m\u001B[1m\u001B[31m!\u001B[39m\u001B[22m \u001B[36mevidence-store\u001B[39m        \u001B[31mSELECT evidence\u001B[39m     300ms                \u001B[31m██████████████████████████████\u001B[39m',
    )
  })

  it('keeps control characters of span names and log bodies away from the terminal', () => {
    const trace = assembleTrace({
      traceId: TRACE_ID,
      spans: [span({id: 'a', name: 'GET /\u001B[2Jx', resource: SERVICES.gateway, start: 0, end: 10})],
      logs: [log({at: 1, level: 'INFO', body: 'line one\nline two\u0007', service: 'api-gateway', span: 'a'})],
    })
    const out = renderTrace(trace, {width: 80})
    expect([...out].filter((char) => char !== '\n' && char.charCodeAt(0) < 0x20)).toEqual([])
    expect(out).toContain('GET / [2Jx')
    expect(out).toContain('+1.00ms  INFO   line one line two')
  })

  it('measures names in terminal columns: wide service and span names keep the columns lined up', () => {
    const trace = assembleTrace({
      traceId: TRACE_ID,
      spans: [
        span({id: 'a', name: 'GET /決済', resource: resource('決済サービス', []), start: 0, end: 100}),
        span({id: 'b', parent: 'a', name: '在庫を確認する-inventory-check-with-a-long-name', resource: SERVICES.store, start: 10, end: 60}),
      ],
      logs: [],
    })
    expect(renderTrace(trace, {width: 80})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
        '',
        '   SERVICE         SPAN                       DURATION  0        50.0ms    100ms',
        '*  決済サービス    GET /決済                     100ms  ████████████████████████',
        '*  evidence-store    在庫を確認する-invento…    50.0ms    █████████████',
        '',
        '2 spans, 2 services (決済サービス, evidence-store), 100ms, 0 errors',
        'critical path (*): GET /決済 › 在庫を確認する-inventory-check-with-a-long-name (2 spans)',
      ),
    )
  })

  it('says so when only logs of the trace were found', () => {
    const trace = assembleTrace({traceId: TRACE_ID, spans: [], logs: [log({at: 3, level: 'INFO', body: 'alone', service: 'api-gateway'})]})
    expect(renderTrace(trace, {width: 80})).toBe(
      lines(
        'Trace 4bf92f3577b34da6a3ce929d0e0e4736',
        'No spans of this trace were found; only its logs.',
        '',
        'Logs of the trace that name no span in it (1):',
        '  +0ns  INFO   api-gateway  alone',
        '',
        '0 spans, 1 log record',
      ),
    )
  })
})

describe('a trace of 10,000 spans', () => {
  // A root, 99 shards one after another, 100 overlapping items in each; every 1000th item fails.
  function bigTrace() {
    const services = Object.values(SERVICES)
    const id = (prefix: string, ...numbers: number[]) => `${prefix}${numbers.map((n) => String(n).padStart(4, '0')).join('')}`
    const spans = [span({id: 'r', name: 'GET /batch', resource: SERVICES.gateway, start: 0, end: 1000})]
    for (let i = 0; i < 99; i++) {
      spans.push(span({id: id('s', i), parent: 'r', name: `shard ${i}`, resource: services[i % 4]!, start: i * 10, end: i * 10 + 10}))
      for (let j = 0; j < 100; j++) {
        const failed = (i * 100 + j) % 1000 === 999
        spans.push(span({id: id('i', i, j), parent: id('s', i), name: `item ${i}.${j}`, resource: services[(i + j) % 4]!, start: i * 10 + j * 0.09, end: i * 10 + j * 0.09 + 0.2, ...(failed ? {error: 'boom'} : {})}))
      }
    }

    return assembleTrace({traceId: TRACE_ID, spans, logs: []})
  }

  it('draws one line per span, with the summary at the end', () => {
    const trace = bigTrace()
    const out = [...traceLines(trace, {width: 100})]
    expect(out).toHaveLength(3 + 10_000 + 3)
    expect(out.slice(2, 9)).toEqual([
      '   SERVICE         SPAN            DURATION  0                        500ms                    1.00s',
      '*  api-gateway     GET /batch         1.00s  ███████████████████████████████████████████████████████',
      '*  api-gateway       shard 0         10.0ms  █',
      '*  api-gateway         item 0.0       200µs  █',
      '   policy-engine       item 0.1       200µs  █',
      '   evidence-store      item 0.2       200µs  █',
      // Items overlap: each one on the critical path ends before the next one on it starts.
      '*  scheduler           item 0.3       200µs  █',
    ])
    expect(out.at(-4)).toBe('*  policy-engine       item 98.99     200µs                                                        █')
    expect(out.slice(-2)).toEqual([
      '10000 spans, 4 services (api-gateway, policy-engine, evidence-store, scheduler), 1.00s, 9 errors (!)',
      'critical path (*): GET /batch › shard 0 › item 0.0 › … 3461 more … › item 98.96 › item 98.99 (3466 spans)',
    ])
  })

  it('--depth 2 draws the root and the shards, each saying how many items it hides', () => {
    const out = [...traceLines(bigTrace(), {width: 100, depth: 2})]
    expect(out).toHaveLength(3 + 1 + 99 * 2 + 3)
    expect(out.slice(3, 8)).toEqual([
      '*  api-gateway     GET /batch     1.00s  ███████████████████████████████████████████████████████████',
      '*  api-gateway       shard 0     10.0ms  █',
      '                       … 100 spans hidden (--depth 2)',
      '*  policy-engine     shard 1     10.0ms  ██',
      '                       … 100 spans hidden (--depth 2)',
    ])
    expect(out.filter((line) => line.endsWith('1 with an error'))).toHaveLength(9)
  })

  it('stops indenting past 12 levels and shows the depth instead', () => {
    const id = (i: number) => `d${String(i).padStart(2, '0')}`
    const spans = Array.from({length: 15}, (_, i) => span({id: id(i), parent: i === 0 ? '' : id(i - 1), name: `level ${i}`, resource: SERVICES.policy, start: i, end: 100 - i}))
    const out = renderTrace(assembleTrace({traceId: TRACE_ID, spans, logs: []}), {width: 100}).split('\n')
    expect(out[3 + 12]).toContain(`${' '.repeat(24)}level 12 `)
    expect(out[3 + 13]).toContain(`${' '.repeat(24)}[13] level 13 `)
    expect(out[3 + 14]).toContain(`${' '.repeat(24)}[14] level 14 `)
  })
})

describe('formats', () => {
  it('durations keep three significant digits in the unit that reads best', () => {
    expect([0n, 999n, 1000n, 12_345n, 999_999n, 1_000_000n, 48_300_000n, 480_000_000n, 999_600_000n, 1_250_000_000n, 59_990_000_000n, 125_000_000_000n, 3_725_000_000_000n, -2_000_000n].map(formatNanos)).toEqual([
      '0ns', '999ns', '1.00µs', '12.3µs', '1.00ms', '1.00ms', '48.3ms', '480ms', '1.00s', '1.25s', '1m00s', '2m05s', '1h02m', '-2.00ms',
    ])
  })

  it('start times keep the nanoseconds the trace has', () => {
    expect(isoNanos(TRACE_START)).toBe('2026-11-18T11:06:40.000Z')
    expect(isoNanos(TRACE_START + 1_500n)).toBe('2026-11-18T11:06:40.0000015Z')
    expect(isoNanos(TRACE_START + 120_000_000n)).toBe('2026-11-18T11:06:40.120Z')
  })

  it('attribute values of every kind', () => {
    const trace = assembleTrace({
      traceId: TRACE_ID,
      spans: [
        span({
          id: 'a',
          name: 'op',
          resource: SERVICES.gateway,
          start: 0,
          end: 1,
          attributes: [
            text('s', 'x'),
            {key: 'b', value: {kind: 'bool', value: true}},
            {key: 'i', value: {kind: 'int', value: 9_007_199_254_740_993n}},
            {key: 'd', value: {kind: 'double', value: 0.25}},
            {key: 'y', value: {kind: 'bytes', value: new Uint8Array([1, 2, 255])}},
            {key: 'a', value: {kind: 'array', value: [{kind: 'string', value: 'p'}, {kind: 'int', value: 2n}]}},
            {key: 'k', value: {kind: 'kvlist', value: [text('n', 'v')]}},
            {key: 'e', value: {kind: 'empty'}},
          ],
        }),
      ],
      logs: [],
    })
    const out = renderTrace(trace, {width: 100, attributes: true}).split('\n')
    expect(out.slice(4, 12).map((line) => line.trim())).toEqual(['s = x', 'b = true', 'i = 9007199254740993', 'd = 0.25', 'y = AQL/', 'a = [p, 2]', 'k = {n: v}', 'e ='])
  })
})
