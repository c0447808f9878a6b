/**
 * The screen of `stella obs top` as text: every figure, column and banner where the operator looks
 * for it, at 120, 80 and 60 columns. These frames are the spec of the screen.
 */
import {describe, expect, it} from 'vitest'

import type {TopSnapshot} from '../../src/services/obs/top-model.js'
import {composeFrame} from '../../src/ui/top/layout.js'
import {renderTopFrame} from '../../src/ui/top/index.js'
import {renderTopPlain} from '../../src/ui/top-plain.js'
import {INITIAL_VIEW, type ViewState} from '../../src/ui/top/state.js'
import {displayWidth} from '../../src/ui/width.js'
import {localSnapshot, remoteSnapshot} from './top-fixtures.js'

/** Service names that take two terminal columns per character. */
function wideNames(): TopSnapshot {
  const snapshot = localSnapshot()
  const [checkout, payments, other] = snapshot.services
  return {...snapshot, services: [{...checkout!, name: '決済サービス-checkout-frontend'}, {...payments!, name: '🔥payments'}, other!]}
}

const lines = (snapshot: TopSnapshot, columns: number, rows: number, state: Partial<ViewState> = {}) => renderTopFrame(snapshot, {columns, rows, state}).split('\n')

/** The column headings of the table that starts with `first`. */
function headings(frame: string[], first: string): string[] {
  const line = frame.find((text) => text.trimStart().startsWith(`${first} `))
  expect(line, `no ${first} table in\n${frame.join('\n')}`).toBeDefined()
  return line!.trim().split(/\s{2,}/)
}

describe('a snapshot from a server', () => {
  it('at 120 columns: header with incident mode and totals, services with status and instances, SLOs worst first, queues', () => {
    expect(lines(remoteSnapshot(), 120, 26)).toEqual([
      'stella obs top  https://stella.example.com  tenant acme  window 5m  updated 10:42:17',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services  2927 req/s  0.38% errors',
      '',
      'SERVICES 5  sorted by rate',
      '  SERVICE              STATUS    INST     REQ/S    ERR%     P50     P95     P99',
      '› telemetry-collector  ok           3      2305   0.04%   2.0ms   6.0ms    11ms',
      '  api-gateway          ok           6     412.5   0.21%    18ms    71ms   160ms',
      '  policy-engine        degraded     4     188.2   4.30%    64ms   420ms   1.31s',
      '  scheduler            ok           2      21.7   0.00%   9.0ms    30ms    52ms',
      '  evidence-store       down         0      0.00    100%   0.0ms   0.0ms   0.0ms',
      '',
      'SLOS 4',
      '  SLO                      SERVICE              BURN 1H  BURN 6H  BURN 24H  BUDGET  STATUS   JOURNEY',
      '  slo-acme-evidence-avail  evidence-store          38.2     21.5       9.8    -42%  breach   evidence export',
      '  slo-acme-eval-latency    policy-engine            7.9      6.4       3.1     18%  warning  policy evaluation',
      '  slo-acme-ingest          telemetry-collector      1.2      0.9       0.8     63%  ok       telemetry ingest',
      '  slo-acme-gw-avail        api-gateway              0.6      0.8       0.7     71%  ok       checkout',
      '',
      'QUEUES 2',
      '  QUEUE             DEPTH  RUNNING   OK/MIN  FAIL/MIN   OLDEST',
      '  evidence-export     148        4       12         3   12m34s',
      '  default               3        2     41.5         0       8s',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
  })

  it('at 80 columns: the header wraps, the SLO panel drops journey and service', () => {
    expect(lines(remoteSnapshot(), 80, 28)).toEqual([
      'stella obs top  https://stella.example.com  tenant acme  window 5m',
      'updated 10:42:17',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services  2927 req/s',
      '0.38% errors',
      '',
      'SERVICES 5  sorted by rate',
      '  SERVICE              STATUS    INST     REQ/S    ERR%     P50     P95     P99',
      '› telemetry-collector  ok           3      2305   0.04%   2.0ms   6.0ms    11ms',
      '  api-gateway          ok           6     412.5   0.21%    18ms    71ms   160ms',
      '  policy-engine        degraded     4     188.2   4.30%    64ms   420ms   1.31s',
      '  scheduler            ok           2      21.7   0.00%   9.0ms    30ms    52ms',
      '  evidence-store       down         0      0.00    100%   0.0ms   0.0ms   0.0ms',
      '',
      'SLOS 4',
      '  SLO                      BURN 1H  BURN 6H  BURN 24H  BUDGET  STATUS',
      '  slo-acme-evidence-avail     38.2     21.5       9.8    -42%  breach',
      '  slo-acme-eval-latency        7.9      6.4       3.1     18%  warning',
      '  slo-acme-ingest              1.2      0.9       0.8     63%  ok',
      '  slo-acme-gw-avail            0.6      0.8       0.7     71%  ok',
      '',
      'QUEUES 2',
      '  QUEUE             DEPTH  RUNNING   OK/MIN  FAIL/MIN   OLDEST',
      '  evidence-export     148        4       12         3   12m34s',
      '  default               3        2     41.5         0       8s',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
  })

  it('at 60 columns: p50 and instances go, long names are cut with …, the footer keeps what fits', () => {
    expect(lines(remoteSnapshot(), 60, 28)).toEqual([
      'stella obs top  https://stella.example.com  tenant acme',
      'window 5m  updated 10:42:17',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services',
      '2927 req/s  0.38% errors',
      '',
      'SERVICES 5  sorted by rate',
      '  SERVICE         STATUS       REQ/S    ERR%     P95     P99',
      '› telemetry-col…  ok            2305   0.04%   6.0ms    11ms',
      '  api-gateway     ok           412.5   0.21%    71ms   160ms',
      '  policy-engine   degraded     188.2   4.30%   420ms   1.31s',
      '  scheduler       ok            21.7   0.00%    30ms    52ms',
      '  evidence-store  down          0.00    100%   0.0ms   0.0ms',
      '',
      'SLOS 4',
      '  SLO                      BURN 1H  BURN 6H  STATUS',
      '  slo-acme-evidence-avail     38.2     21.5  breach',
      '  slo-acme-eval-latency        7.9      6.4  warning',
      '  slo-acme-ingest              1.2      0.9  ok',
      '  slo-acme-gw-avail            0.6      0.8  ok',
      '',
      'QUEUES 2',
      '  QUEUE           DEPTH  RUNNING   OK/MIN  FAIL/MIN   OLDEST',
      '  evidence-exp…     148        4       12         3   12m34s',
      '  default             3        2     41.5         0       8s',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause',
    ])
  })

  it('says when incident mode is off', () => {
    const snapshot = {...remoteSnapshot(), incident: {enabled: false}}
    expect(lines(snapshot, 120, 26)[1]).toBe('incident mode off  5 services  2927 req/s  0.38% errors')
  })
})

describe('figures computed from spans', () => {
  it('names from telemetry never bring a control character to the terminal, on the dashboard or in plain output', () => {
    const snapshot = localSnapshot()
    const [checkout, ...rest] = snapshot.services
    const hostile: TopSnapshot = {...snapshot, services: [{...checkout!, name: 'check\u001b[2Jout\n', routes: [{...checkout!.routes[0]!, service: 'check\u001b[2Jout\n', route: 'GET /\u0007x'}]}, ...rest]}
    const frame = lines(hostile, 120, 12)
    expect(frame[5]).toMatch(/^› check \[2Jout {6}/)
    const drilled = lines(hostile, 120, 12, {drill: 'check\u001b[2Jout\n'})
    expect(drilled.some((line) => line.includes('GET / x'))).toBe(true)
    const plain = renderTopPlain(hostile)
    expect(plain).toContain('check [2Jout')
    // eslint-disable-next-line no-control-regex
    for (const text of [...frame, ...drilled, plain]) expect(text).not.toMatch(/[\u0007\u001b]/)
  })

  it('at 120 columns: listening URL, folded series, 30-minute sparklines', () => {
    expect(lines(localSnapshot(), 120, 12)).toEqual([
      'stella obs top  listening on http://127.0.0.1:4318  window 1m  updated 10:42:17',
      '3 services  14.0 req/s  2.69% errors  7 series folded into other',
      '',
      'SERVICES 3  sorted by rate',
      '  SERVICE            REQ/S    ERR%     P50     P95     P99  REQ/MIN',
      '› checkout            11.8   1.41%   5.2ms   170ms   911ms  ▇██▇█▇██▇█▇██▇█▇██▇█  █▇█▇██▇█',
      '  payments            2.10   10.0%    85ms   1.25s   4.10s  ▂▅█▃▇▂▅█▃▇▂▅█▃▇▂▅█▃▇▂▅█▃▇▂▅█▃▇',
      '  other               0.05   0.00%   1.2ms   2.5ms   2.5ms  ██████████████████████████████',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
  })

  it('at 80 columns: the sparklines show the last 20 minutes', () => {
    expect(lines(localSnapshot(), 80, 12)).toEqual([
      'stella obs top  listening on http://127.0.0.1:4318  window 1m  updated 10:42:17',
      '3 services  14.0 req/s  2.69% errors  7 series folded into other',
      '',
      'SERVICES 3  sorted by rate',
      '  SERVICE            REQ/S    ERR%     P50     P95     P99  REQ/MIN',
      '› checkout            11.8   1.41%   5.2ms   170ms   911ms  ▇██▇█▇██▇█  █▇█▇██▇█',
      '  payments            2.10   10.0%    85ms   1.25s   4.10s  ▂▅█▃▇▂▅█▃▇▂▅█▃▇▂▅█▃▇',
      '  other               0.05   0.00%   1.2ms   2.5ms   2.5ms  ████████████████████',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
  })

  it('at 60 columns: the sparklines go first', () => {
    expect(lines(localSnapshot(), 60, 14)).toEqual([
      'stella obs top  listening on http://127.0.0.1:4318',
      'window 1m  updated 10:42:17',
      '3 services  14.0 req/s  2.69% errors',
      '7 series folded into other',
      '',
      'SERVICES 3  sorted by rate',
      '  SERVICE            REQ/S    ERR%     P50     P95     P99',
      '› checkout            11.8   1.41%   5.2ms   170ms   911ms',
      '  payments            2.10   10.0%    85ms   1.25s   4.10s',
      '  other               0.05   0.00%   1.2ms   2.5ms   2.5ms',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause',
    ])
  })

  it('drilled into a service: its routes, the selected one marked, Esc back in the footer', () => {
    expect(lines(localSnapshot(), 120, 11, {drill: 'checkout', cursor: 'POST /checkout'})).toEqual([
      'stella obs top  listening on http://127.0.0.1:4318  window 1m  updated 10:42:17',
      '3 services  14.0 req/s  2.69% errors  7 series folded into other',
      '',
      'checkout › ROUTES 3  sorted by rate',
      '  ROUTE                REQ/S    ERR%     P50     P95     P99  REQ/MIN',
      '  GET /cart/{id}        8.25   0.00%   3.1ms   8.9ms    15ms  ██████████████████████████████',
      '› POST /checkout        3.50   4.76%    42ms   180ms   950ms  ▅▇█▆█▅▇█▆█▅▇█▆█▅▇█▆█  █▆█▅▇█▆█',
      '  other                 0.10   0.00%   5.0ms   9.0ms    12ms  ██████████████████████████████',
      '',
      '? help  q quit  / filter  s sort  Esc back  p pause  ↑↓ move',
    ])
  })
})

describe('states of the screen', () => {
  it('the stale banner, wrapped rather than cut, with the figures kept from the last update', () => {
    const snapshot: TopSnapshot = {...remoteSnapshot(), stale: {since: Date.parse('2026-11-22T10:41:55Z'), error: 'connect ECONNREFUSED 127.0.0.1:8443', retryInMs: 3500}}
    expect(lines(snapshot, 120, 26).slice(0, 4)).toEqual([
      'stella obs top  https://stella.example.com  tenant acme  window 5m  updated 10:42:17',
      'stale since 10:41:55 — connect ECONNREFUSED 127.0.0.1:8443, retrying in 4s',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services  2927 req/s  0.38% errors',
      '',
    ])
    expect(lines(snapshot, 60, 20)).toEqual([
      'stella obs top  https://stella.example.com  tenant acme',
      'window 5m  updated 10:42:17',
      'stale since 10:41:55 — connect ECONNREFUSED 127.0.0.1:8443,',
      'retrying in 4s',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services',
      '2927 req/s  0.38% errors',
      '',
      'SERVICES 5  sorted by rate',
      '  SERVICE         STATUS       REQ/S    ERR%     P95     P99',
      '› telemetry-col…  ok            2305   0.04%   6.0ms    11ms',
      '  api-gateway     ok           412.5   0.21%    71ms   160ms',
      '  policy-engine   degraded     188.2   4.30%   420ms   1.31s',
      '  scheduler       ok            21.7   0.00%    30ms    52ms',
      '  evidence-store  down          0.00    100%   0.0ms   0.0ms',
      '',
      '',
      '',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause',
    ])
  })

  it('without a retry time, the banner ends with the error', () => {
    const snapshot: TopSnapshot = {...localSnapshot(), stale: {since: Date.parse('2026-11-22T10:40:00Z'), error: 'replay ended:\n  3 files read'}}
    expect(lines(snapshot, 120, 12)[1]).toBe('stale since 10:40:00 — replay ended: 3 files read')
  })

  it('the help overlay: every key and the burn-rate thresholds', () => {
    expect(lines(remoteSnapshot(), 60, 28, {help: true})).toEqual([
      'stella obs top  https://stella.example.com  tenant acme',
      'window 5m  updated 10:42:17',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services',
      '2927 req/s  0.38% errors',
      '',
      'KEYS',
      '  q, Ctrl-C   quit',
      '  /           filter: type, Enter applies, Esc cancels',
      '  s           next sort: rate, errors, p95, p99, name',
      '  p           pause or resume the updates',
      '  ↑ ↓, j k    move the selection',
      '  PgUp, PgDn  move by a page',
      '  g, G        first row, last row',
      '  Enter       show the routes of the selected service',
      '  Esc         back to the services, or clear the filter',
      '  ?           this help (? or Esc closes it)',
      '',
      'SLO BURN RATES  of a 30-day error budget',
      '  1h ≥ 14.4   page      2% of it spent in an hour',
      '  6h ≥ 6      page      5% of it spent in 6 hours',
      '  24h ≥ 3     page      10% of it spent in a day',
      '  ≥ 1         elevated  gone before the window ends',
      '  < 1         ok        it lasts the window',
      '',
      '',
      '',
      '? or Esc closes the help  q quit',
    ])
  })

  it('filtered, sorted by name, paused', () => {
    expect(lines(remoteSnapshot(), 80, 12, {filter: 'EN', sort: 'name', paused: true, cursor: 'policy-engine'})).toEqual([
      'stella obs top  https://stella.example.com  tenant acme  window 5m',
      'updated 10:42:17',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services  2927 req/s',
      '0.38% errors',
      '',
      'SERVICES 2 of 5  filter "EN"  sorted by name',
      '  SERVICE              STATUS    INST     REQ/S    ERR%     P50     P95     P99',
      '  evidence-store       down         0      0.00    100%   0.0ms   0.0ms   0.0ms',
      '› policy-engine        degraded     4     188.2   4.30%    64ms   420ms   1.31s',
      '',
      'PAUSED  ? help  q quit  / filter  s sort  Enter routes  p resume  ↑↓ move',
    ])
  })

  it('more services than rows: the table scrolls to keep the selection on screen, and says which rows it shows', () => {
    const snapshot = {...remoteSnapshot(), services: Array.from({length: 50}, (_, index) => ({name: `svc-${String(index).padStart(2, '0')}`, rate: index, errorRate: 0, routes: []}))}
    const frame = lines(snapshot, 80, 24, {cursor: 'svc-10'})
    expect(frame.slice(5, 15)).toEqual([
      'SERVICES 50  sorted by rate  rows 33–40',
      '  SERVICE            REQ/S    ERR%     P50     P95     P99',
      '  svc-17              17.0   0.00%       -       -       -',
      '  svc-16              16.0   0.00%       -       -       -',
      '  svc-15              15.0   0.00%       -       -       -',
      '  svc-14              14.0   0.00%       -       -       -',
      '  svc-13              13.0   0.00%       -       -       -',
      '  svc-12              12.0   0.00%       -       -       -',
      '  svc-11              11.0   0.00%       -       -       -',
      '› svc-10              10.0   0.00%       -       -       -',
    ])
    // The SLO panel still gets its rows; the queues, which no longer fit, give way.
    expect(frame.slice(15)).toEqual([
      '',
      'SLOS 4',
      '  SLO                      BURN 1H  BURN 6H  BURN 24H  BUDGET  STATUS',
      '  slo-acme-evidence-avail     38.2     21.5       9.8    -42%  breach',
      '  slo-acme-eval-latency        7.9      6.4       3.1     18%  warning',
      '  slo-acme-ingest              1.2      0.9       0.8     63%  ok',
      '  slo-acme-gw-avail            0.6      0.8       0.7     71%  ok',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
  })

  it('a side panel that does not fit whole shows what fits and how many more there are', () => {
    const frame = lines(remoteSnapshot(), 80, 22)
    expect(frame.slice(12)).toEqual([
      '',
      'SLOS 4',
      '  SLO                      BURN 1H  BURN 6H  BURN 24H  BUDGET  STATUS',
      '  slo-acme-evidence-avail     38.2     21.5       9.8    -42%  breach',
      '  slo-acme-eval-latency        7.9      6.4       3.1     18%  warning',
      '  slo-acme-ingest              1.2      0.9       0.8     63%  ok',
      '  slo-acme-gw-avail            0.6      0.8       0.7     71%  ok',
      '',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
    expect(lines(remoteSnapshot(), 80, 19).slice(12)).toEqual([
      '',
      'SLOS 4',
      '  SLO                      BURN 1H  BURN 6H  BURN 24H  BUDGET  STATUS',
      '  slo-acme-evidence-avail     38.2     21.5       9.8    -42%  breach',
      '  … 3 more',
      '? help  q quit  / filter  s sort  Enter routes  p pause  ↑↓ move',
    ])
  })

  it('before the first snapshot, and when the first attempts fail', () => {
    const state = INITIAL_VIEW
    const waiting = composeFrame({state, columns: 80, rows: 6, title: 'stella obs top'})
    expect(waiting.lines.map((line) => line.segments.map((segment) => segment.text).join(''))).toEqual([
      'stella obs top  waiting for the first snapshot…',
      '',
      '',
      '',
      '? help  q quit  / filter  s sort  p pause  ↑↓ move',
    ])
    const failing = composeFrame({state, waitingError: 'connect ECONNREFUSED 127.0.0.1:8443', columns: 80, rows: 6, title: 'stella obs top'})
    expect(failing.lines.slice(0, 2).map((line) => line.segments.map((segment) => segment.text).join(''))).toEqual([
      'stella obs top  waiting for the first snapshot…',
      'last attempt failed: connect ECONNREFUSED 127.0.0.1:8443',
    ])
    expect(failing.keys).toEqual([])
  })
})

describe('columns by width', () => {
  const snapshots = {remote: remoteSnapshot, local: localSnapshot}
  const cases: ['remote' | 'local', number, string, string[]][] = [
    ['remote', 120, 'SERVICE', ['SERVICE', 'STATUS', 'INST', 'REQ/S', 'ERR%', 'P50', 'P95', 'P99']],
    ['remote', 80, 'SERVICE', ['SERVICE', 'STATUS', 'INST', 'REQ/S', 'ERR%', 'P50', 'P95', 'P99']],
    ['remote', 60, 'SERVICE', ['SERVICE', 'STATUS', 'REQ/S', 'ERR%', 'P95', 'P99']],
    ['remote', 50, 'SERVICE', ['SERVICE', 'REQ/S', 'ERR%', 'P95']],
    ['remote', 40, 'SERVICE', ['SERVICE', 'REQ/S', 'ERR%']],
    ['local', 120, 'SERVICE', ['SERVICE', 'REQ/S', 'ERR%', 'P50', 'P95', 'P99', 'REQ/MIN']],
    ['local', 80, 'SERVICE', ['SERVICE', 'REQ/S', 'ERR%', 'P50', 'P95', 'P99', 'REQ/MIN']],
    ['local', 60, 'SERVICE', ['SERVICE', 'REQ/S', 'ERR%', 'P50', 'P95', 'P99']],
    ['remote', 120, 'SLO', ['SLO', 'SERVICE', 'BURN 1H', 'BURN 6H', 'BURN 24H', 'BUDGET', 'STATUS', 'JOURNEY']],
    // A column that would be cut short (service, journey) gives way instead.
    ['remote', 100, 'SLO', ['SLO', 'SERVICE', 'BURN 1H', 'BURN 6H', 'BURN 24H', 'BUDGET', 'STATUS']],
    ['remote', 80, 'SLO', ['SLO', 'BURN 1H', 'BURN 6H', 'BURN 24H', 'BUDGET', 'STATUS']],
    ['remote', 60, 'SLO', ['SLO', 'BURN 1H', 'BURN 6H', 'STATUS']],
    ['remote', 60, 'QUEUE', ['QUEUE', 'DEPTH', 'RUNNING', 'OK/MIN', 'FAIL/MIN', 'OLDEST']],
    ['remote', 50, 'QUEUE', ['QUEUE', 'DEPTH', 'RUNNING', 'FAIL/MIN', 'OLDEST']],
    ['remote', 40, 'QUEUE', ['QUEUE', 'DEPTH', 'OLDEST']],
  ]
  it.each(cases)('%s snapshot at %i columns: the %s table keeps the columns that fit', (kind, columns, table, expected) => {
    const frame = lines(snapshots[kind](), columns, 40)
    expect(headings(frame, table)).toEqual(expected)
    for (const line of frame) expect([...line].length).toBeLessThanOrEqual(columns)
  })

  it('drilled in at 60 columns: route, rate, errors and latencies', () => {
    expect(headings(lines(localSnapshot(), 60, 20, {drill: 'checkout'}), 'ROUTE')).toEqual(['ROUTE', 'REQ/S', 'ERR%', 'P50', 'P95', 'P99'])
  })

  it('wide names are measured in terminal columns: cut to fit, and the figures after them line up', () => {
    expect(lines(wideNames(), 60, 12).slice(5, 11)).toEqual([
      'SERVICES 3  sorted by rate',
      '  SERVICE              REQ/S    ERR%     P50     P95     P99',
      '› 決済サービス-ch…      11.8   1.41%   5.2ms   170ms   911ms',
      '  🔥payments            2.10   10.0%    85ms   1.25s   4.10s',
      '  other                 0.05   0.00%   1.2ms   2.5ms   2.5ms',
      '? help  q quit  / filter  s sort  Enter routes  p pause',
    ])
    const table = lines(wideNames(), 120, 12).slice(4, 8)
    // Every row ends its REQ/S figure in the same terminal column as the heading.
    const rateEnds = table.map((line) => displayWidth(line.slice(0, line.search(/(REQ\/S|\d+\.\d+)(?= )/))) + line.match(/(REQ\/S|\d+\.\d+)(?= )/)![0].length)
    expect(new Set(rateEnds).size).toBe(1)
  })

  it('no line is wider than the terminal, at any width from 30 to 160', () => {
    for (let columns = 30; columns <= 160; columns += 1) {
      for (const snapshot of [remoteSnapshot(), localSnapshot(), wideNames()]) {
        for (const line of lines(snapshot, columns, 30)) expect(displayWidth(line), `${columns}: ${line}`).toBeLessThanOrEqual(columns)
      }
    }
  })
})

describe('severity', () => {
  const toneOf = (snapshot: TopSnapshot, text: string) => {
    const frame = composeFrame({snapshot, state: INITIAL_VIEW, columns: 120, rows: 40, title: 'stella obs top'})
    return frame.lines.flatMap((line) => line.segments).find((segment) => segment.text === text)?.tone
  }

  it("burn rates, as obs slo colours them: critical from the window's paging threshold (14.4, 6, 3), elevated from 1, plain below", () => {
    const snapshot = remoteSnapshot()
    const slo = (id: string, burn1h: number, burn6h: number, burn24h: number) => ({id, service: 's', journey: 'j', objective: 'o', burn1h, burn6h, burn24h, errorBudgetRemaining: 0.5, status: 'ok' as const})
    snapshot.slos = [slo('slo-a', 14.4, 6, 3), slo('slo-b', 14.3, 5.9, 2.9), slo('slo-c', 1, 0.9, 0.8)]
    const tones = (id: string) => {
      const frame = composeFrame({snapshot, state: INITIAL_VIEW, columns: 120, rows: 40, title: 'stella obs top'})
      const line = frame.lines.find((candidate) => candidate.segments.some((segment) => segment.text === `slo-${id}`))!
      return line.segments.filter((segment) => /^\d+\.\d$/.test(segment.text)).map((segment) => [segment.text, segment.tone])
    }

    expect(tones('a')).toEqual([['14.4', 'critical'], ['6.0', 'critical'], ['3.0', 'critical']])
    expect(tones('b')).toEqual([['14.3', 'elevated'], ['5.9', 'elevated'], ['2.9', 'elevated']])
    expect(tones('c')).toEqual([['1.0', 'elevated'], ['0.9', undefined], ['0.8', undefined]])
  })

  it('service status, error rates, incident mode and the stale banner stand out', () => {
    const snapshot: TopSnapshot = {...remoteSnapshot(), stale: {since: 0, error: 'timeout'}}
    expect([toneOf(snapshot, 'down'), toneOf(snapshot, 'degraded'), toneOf(snapshot, '100%'), toneOf(snapshot, '4.30%'), toneOf(snapshot, '0.21%')]).toEqual(['critical', 'elevated', 'warning', 'elevated', undefined])
    expect(toneOf(snapshot, 'INCIDENT MODE ON until 12:00:00, sampling 100%')).toBe('alert')
    expect(toneOf(snapshot, 'stale since 00:00:00 — timeout')).toBe('alert')
  })
})
