/**
 * The live dashboard through Ink (ink-testing-library): frames at fixed widths without colour,
 * resizing, the keys, polling (one request at a time, pause, stale figures), and quitting.
 */
import {EventEmitter} from 'node:events'
import {stripVTControlCharacters} from 'node:util'
import {render} from 'ink-testing-library'
import {afterEach, describe, expect, it, vi} from 'vitest'

import type {TopSnapshot, TopSource} from '../../src/services/obs/top-model.js'
import {TopApp} from '../../src/ui/top/app.js'
import {renderTopFrame, runTopDashboard} from '../../src/ui/top/index.js'
import {type ViewState} from '../../src/ui/top/state.js'
import {FixedSource, localSnapshot, remoteSnapshot} from './top-fixtures.js'

const ESC = '\u001B'
const DOWN = '\u001B[B'
const ENTER = '\r'
const mounted: {unmount: () => void}[] = []
afterEach(() => {
  for (const app of mounted.splice(0)) app.unmount()
})

/** Renders the dashboard at a terminal size: the test terminal starts at 100 columns, then is "resized". */
function renderAt(source: TopSource, size: {columns: number; rows: number}, intervalMs = 20) {
  const app = render(<TopApp source={source} intervalMs={intervalMs} title="stella obs top" color={false} />)
  mounted.push(app)
  resize(app.stdout, size)
  return app
}

function resize(stdout: EventEmitter, {columns, rows}: {columns: number; rows: number}) {
  Object.defineProperty(stdout, 'columns', {value: columns, configurable: true})
  Object.defineProperty(stdout, 'rows', {value: rows, configurable: true})
  stdout.emit('resize')
}

/** Waits until the last frame passes the check, and returns it. */
async function frameWhere(lastFrame: () => string | undefined, check: (frame: string) => boolean, what: string): Promise<string> {
  await vi.waitFor(
    () => {
      if (!check(lastFrame() ?? '')) throw new Error(`no frame ${what}; the last one:\n${lastFrame()}`)
    },
    {timeout: 3000, interval: 5},
  )
  return lastFrame()!
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const expectFrame = (snapshot: TopSnapshot, columns: number, rows: number, state: Partial<ViewState> = {}) => renderTopFrame(snapshot, {columns, rows, state})

describe('frames', () => {
  it('a server snapshot at 120 columns, exactly, without colour', async () => {
    const {lastFrame, frames} = renderAt(new FixedSource(remoteSnapshot()), {columns: 120, rows: 26})
    const frame = await frameWhere(lastFrame, (text) => text.includes('SERVICES'), 'with services')
    expect(frame.split('\n')).toEqual([
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
    // Colour is the command's decision: off, nothing styles the text, whatever the terminal claims.
    expect(frames.join('')).not.toContain(`${ESC}[`)
  })

  it('with colour on, the same text (only styled)', async () => {
    const app = render(<TopApp source={new FixedSource(localSnapshot())} intervalMs={20} title="stella obs top" color />)
    mounted.push(app)
    resize(app.stdout, {columns: 120, rows: 12})
    await frameWhere(() => stripVTControlCharacters(app.lastFrame() ?? ''), (text) => text === expectFrame(localSnapshot(), 120, 12), 'equal to the plain frame')
  })

  it.each([[80, 28], [60, 28]])('a server snapshot at %i columns is the frame renderTopFrame composes', async (columns, rows) => {
    const {lastFrame} = renderAt(new FixedSource(remoteSnapshot()), {columns, rows})
    const expected = expectFrame(remoteSnapshot(), columns, rows)
    await frameWhere(lastFrame, (text) => text === expected, `equal to renderTopFrame at ${columns} columns`)
  })

  it.each([[120, 12], [80, 12], [60, 14]])('a snapshot from spans at %i columns: sparklines, folded series', async (columns, rows) => {
    const {lastFrame} = renderAt(new FixedSource(localSnapshot()), {columns, rows})
    const frame = await frameWhere(lastFrame, (text) => text.includes('SERVICES'), 'with services')
    expect(frame).toBe(expectFrame(localSnapshot(), columns, rows))
    expect(frame).toContain('7 series folded into other')
    if (columns >= 80) expect(frame).toContain('▂▅█▃▇▂▅█▃▇')
    else expect(frame).not.toContain('REQ/MIN')
  })

  it('the stale banner while the source fails, with the last figures kept', async () => {
    const source = new FixedSource(remoteSnapshot(), new Error('connect ECONNREFUSED 127.0.0.1:8443'))
    const {lastFrame} = renderAt(source, {columns: 120, rows: 26}, 1500)
    await frameWhere(lastFrame, (text) => text.includes('SERVICES'), 'with services')
    // The source's own banner is shown as it is.
    const stale = {...remoteSnapshot(), stale: {since: Date.parse('2026-11-22T10:43:00Z'), error: 'GET /obs/health: Service unavailable', retryInMs: 4000}}
    const {lastFrame: staleFrame} = renderAt(new FixedSource(stale), {columns: 120, rows: 26})
    const frame = await frameWhere(staleFrame, (text) => text.includes('stale since'), 'with the banner')
    expect(frame.split('\n').slice(0, 3)).toEqual([
      'stella obs top  https://stella.example.com  tenant acme  window 5m  updated 10:42:17',
      'stale since 10:43:00 — GET /obs/health: Service unavailable, retrying in 4s',
      'INCIDENT MODE ON until 12:00:00, sampling 100%  5 services  2927 req/s  0.38% errors',
    ])
  })

  it('a poll that throws marks the figures on screen stale instead of blanking them', async () => {
    const source = new FixedSource(remoteSnapshot(), new Error('socket hang up'))
    const {lastFrame} = renderAt(source, {columns: 120, rows: 26}, 30)
    const frame = await frameWhere(lastFrame, (text) => text.includes('socket hang up'), 'with the failure')
    expect(frame).toMatch(/^stale since \d\d:\d\d:\d\d — socket hang up, retrying in 1s$/m)
    expect(frame).toContain('› telemetry-collector  ok           3      2305')
  })

  it('before the first snapshot, says it waits, and why it still waits', async () => {
    const source = new FixedSource(new Error('connect ECONNREFUSED 127.0.0.1:8443'))
    const {lastFrame} = renderAt(source, {columns: 80, rows: 6}, 30)
    const frame = await frameWhere(lastFrame, (text) => text.includes('failed'), 'with the failure')
    expect(frame.split('\n')).toEqual([
      'stella obs top  waiting for the first snapshot…',
      'last attempt failed: connect ECONNREFUSED 127.0.0.1:8443',
      '',
      '',
      '? help  q quit  / filter  s sort  p pause  ↑↓ move',
    ])
  })

  it('redraws at the new size when the terminal is resized', async () => {
    const {lastFrame, stdout} = renderAt(new FixedSource(remoteSnapshot()), {columns: 120, rows: 26})
    await frameWhere(lastFrame, (text) => text === expectFrame(remoteSnapshot(), 120, 26), 'at 120 columns')
    resize(stdout, {columns: 60, rows: 20})
    await frameWhere(lastFrame, (text) => text === expectFrame(remoteSnapshot(), 60, 20), 'at 60 columns')
    resize(stdout, {columns: 80, rows: 30})
    await frameWhere(lastFrame, (text) => text === expectFrame(remoteSnapshot(), 80, 30), 'at 80 columns')
  })
})

describe('keys', () => {
  async function ready(snapshot = remoteSnapshot(), size = {columns: 120, rows: 26}) {
    const app = renderAt(new FixedSource(snapshot), size)
    await frameWhere(app.lastFrame, (text) => text.includes('SERVICES'), 'with services')
    return app
  }

  it('/ types a filter shown in the footer, Enter applies it, Esc clears it', async () => {
    const {lastFrame, stdin} = await ready()
    stdin.write('/')
    await frameWhere(lastFrame, (text) => text.endsWith('filter: _   Enter applies · Esc cancels'), 'typing a filter')
    stdin.write('eng')
    stdin.write('\u007F')
    stdin.write('gine')
    await frameWhere(lastFrame, (text) => text.endsWith('filter: engine_   Enter applies · Esc cancels'), 'with the filter typed')
    // Not applied before Enter.
    expect(lastFrame()).toContain('SERVICES 5  sorted by rate')
    stdin.write(ENTER)
    const filtered = await frameWhere(lastFrame, (text) => text.includes('SERVICES 1 of 5'), 'filtered')
    expect(filtered.split('\n').slice(3, 6)).toEqual([
      'SERVICES 1 of 5  filter "engine"  sorted by rate',
      '  SERVICE              STATUS    INST     REQ/S    ERR%     P50     P95     P99',
      '› policy-engine        degraded     4     188.2   4.30%    64ms   420ms   1.31s',
    ])
    stdin.write(ESC)
    await frameWhere(lastFrame, (text) => text.includes('SERVICES 5  sorted by rate'), 'unfiltered again')
  })

  it('Esc while typing cancels the filter being typed and keeps the one applied', async () => {
    const {lastFrame, stdin} = await ready()
    stdin.write('/')
    stdin.write('gate')
    stdin.write(ENTER)
    await frameWhere(lastFrame, (text) => text.includes('SERVICES 1 of 5  filter "gate"'), 'filtered by gate')
    stdin.write('/')
    stdin.write('x')
    await frameWhere(lastFrame, (text) => text.includes('filter: gatex_'), 'typing')
    stdin.write(ESC)
    const frame = await frameWhere(lastFrame, (text) => text.endsWith('↑↓ move'), 'with the footer back')
    expect(frame).toContain('SERVICES 1 of 5  filter "gate"')
    expect(frame).toContain('› api-gateway')
  })

  it('s cycles the sort: rate, error rate, p95, p99, name, and back to rate', async () => {
    const {lastFrame, stdin} = await ready()
    const order = (frame: string) => frame.split('\n').slice(5, 10).map((line) => line.slice(2).split(' ')[0])
    const expected: [string, string[]][] = [
      ['error rate', ['evidence-store', 'policy-engine', 'api-gateway', 'telemetry-collector', 'scheduler']],
      ['p95', ['policy-engine', 'api-gateway', 'scheduler', 'telemetry-collector', 'evidence-store']],
      ['p99', ['policy-engine', 'api-gateway', 'scheduler', 'telemetry-collector', 'evidence-store']],
      ['name', ['api-gateway', 'evidence-store', 'policy-engine', 'scheduler', 'telemetry-collector']],
      ['rate', ['telemetry-collector', 'api-gateway', 'policy-engine', 'scheduler', 'evidence-store']],
    ]
    for (const [label, services] of expected) {
      stdin.write('s')
      const frame = await frameWhere(lastFrame, (text) => text.includes(`SERVICES 5  sorted by ${label}\n`), `sorted by ${label}`)
      expect(order(frame)).toEqual(services)
    }
  })

  it('↓/j/↑/k move the selection, which follows its service when the order changes', async () => {
    const {lastFrame, stdin} = await ready()
    const selected = () => (lastFrame() ?? '').split('\n').find((line) => line.startsWith('› '))?.slice(2).split(' ')[0]
    stdin.write(DOWN)
    await vi.waitFor(() => expect(selected()).toBe('api-gateway'))
    stdin.write('j')
    await vi.waitFor(() => expect(selected()).toBe('policy-engine'))
    stdin.write('jjjjj')
    await vi.waitFor(() => expect(selected()).toBe('evidence-store'))
    stdin.write('k')
    await vi.waitFor(() => expect(selected()).toBe('scheduler'))
    stdin.write('\u001B[A')
    await vi.waitFor(() => expect(selected()).toBe('policy-engine'))
    stdin.write('s')
    await frameWhere(lastFrame, (text) => text.includes('sorted by error rate'), 'sorted by error rate')
    expect(selected()).toBe('policy-engine')
    expect((lastFrame() ?? '').split('\n')[6]).toMatch(/^› policy-engine/)
  })

  it('Enter drills into the selected service, Esc comes back to it', async () => {
    const {lastFrame, stdin} = await ready()
    stdin.write('j')
    await vi.waitFor(() => expect(lastFrame()).toContain('› api-gateway'))
    stdin.write(ENTER)
    const routes = await frameWhere(lastFrame, (text) => text.includes('api-gateway › ROUTES'), 'with the routes')
    expect(routes.split('\n').slice(3, 9)).toEqual([
      'api-gateway › ROUTES 3  sorted by rate',
      '  ROUTE                        REQ/S    ERR%     P50     P95     P99',
      '› POST /v1/evaluations         250.2   0.30%    21ms    80ms   170ms',
      '  GET /v1/evaluations/{id}     150.1   0.10%    12ms    40ms    95ms',
      '  GET /v1/evidence/{id}         12.2   0.00%    30ms   120ms   300ms',
      '',
    ])
    expect(routes).toContain('Esc back')
    stdin.write('/')
    stdin.write('evidence')
    stdin.write(ENTER)
    await frameWhere(lastFrame, (text) => text.includes('api-gateway › ROUTES 1 of 3  filter "evidence"'), 'routes filtered')
    stdin.write(ESC)
    const back = await frameWhere(lastFrame, (text) => text.includes('SERVICES 5  sorted by rate'), 'back at the services')
    expect(back).toContain('› api-gateway')
  })

  it('drilled into a service without routes, says so', async () => {
    const {lastFrame, stdin} = await ready()
    stdin.write('G')
    await vi.waitFor(() => expect(lastFrame()).toContain('› evidence-store'))
    stdin.write(ENTER)
    await frameWhere(lastFrame, (text) => text.includes('  no routes reported for evidence-store'), 'with the note')
  })

  it('? shows the help over the tables, ? or Esc closes it', async () => {
    const {lastFrame, stdin} = await ready(remoteSnapshot(), {columns: 60, rows: 28})
    stdin.write('?')
    const help = await frameWhere(lastFrame, (text) => text.includes('KEYS'), 'with the help')
    expect(help).toBe(expectFrame(remoteSnapshot(), 60, 28, {help: true}))
    stdin.write('?')
    await frameWhere(lastFrame, (text) => text.includes('SERVICES'), 'without the help')
    stdin.write('?')
    await frameWhere(lastFrame, (text) => text.includes('KEYS'), 'with the help')
    stdin.write(ESC)
    await frameWhere(lastFrame, (text) => text.includes('SERVICES'), 'without the help')
  })
})

describe('polling', () => {
  it('asks again every interval, never twice at once, the last figures on screen meanwhile', async () => {
    let running = 0
    let most = 0
    let calls = 0
    const source: TopSource = {
      async snapshot() {
        calls += 1
        running += 1
        most = Math.max(most, running)
        await sleep(40)
        running -= 1
        return {...remoteSnapshot(), totals: {...remoteSnapshot().totals, services: calls}}
      },
      close: async () => {},
    }
    // The interval is shorter than a request: the next one starts when the last has ended.
    const {lastFrame, stdin} = renderAt(source, {columns: 120, rows: 26}, 5)
    await frameWhere(lastFrame, (text) => text.includes('4 services'), 'after four polls')
    // Pause and resume while a request is in flight: still one at a time.
    stdin.write('p')
    stdin.write('p')
    stdin.write('p')
    stdin.write('p')
    await frameWhere(lastFrame, (text) => /\b8 services\b/.test(text), 'after eight polls')
    expect(most).toBe(1)
  })

  it('p pauses: no more requests, PAUSED in the footer; p again resumes at once', async () => {
    const snapshots = Array.from({length: 500}, (_, index) => ({...remoteSnapshot(), updatedAt: remoteSnapshot().updatedAt + index * 1000}))
    const source = new FixedSource(...snapshots)
    const {lastFrame, stdin} = renderAt(source, {columns: 120, rows: 26}, 20)
    await frameWhere(lastFrame, (text) => text.includes('updated 10:42:19'), 'after three polls')
    stdin.write('p')
    const paused = await frameWhere(lastFrame, (text) => text.includes('PAUSED'), 'paused')
    const callsWhenPaused = source.calls
    await sleep(150)
    // One request may have been in flight when p was pressed; its answer is not shown.
    expect(source.calls - callsWhenPaused).toBeLessThanOrEqual(1)
    expect(lastFrame()).toBe(paused)
    expect(paused.split('\n').at(-1)).toBe('PAUSED  ? help  q quit  / filter  s sort  Enter routes  p resume  ↑↓ move')
    stdin.write('p')
    await frameWhere(lastFrame, (text) => !text.includes('PAUSED') && !text.includes(paused.split('\n')[0]!), 'updating again')
  })
})

/** A terminal for runTopDashboard: what it writes, and keys to type. */
class FakeTerminal {
  readonly written: string[] = []
  readonly stdout = Object.assign(new EventEmitter(), {
    columns: 100,
    rows: 24,
    isTTY: false,
    write: (data: string) => {
      this.written.push(data)
      return true
    },
  })

  readonly stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    pending: null as string | null,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read(this: {pending: string | null}) {
      const data = this.pending
      this.pending = null
      return data
    },
  })

  type(data: string): void {
    this.stdin.pending = data
    this.stdin.emit('readable')
    this.stdin.emit('data', data)
  }
}

describe('runTopDashboard', () => {
  async function started(terminal: FakeTerminal, source: FixedSource) {
    const done = runTopDashboard(source, {intervalMs: 20, stdin: terminal.stdin as unknown as NodeJS.ReadStream, stdout: terminal.stdout as unknown as NodeJS.WriteStream, color: false})
    // Ink draws nothing before it unmounts when CI is set (is-in-ci), so the first poll is the sign of life.
    await vi.waitFor(() => expect(source.calls).toBeGreaterThan(0), {timeout: 3000})
    await sleep(20)
    // Wrapped: an async function returning the promise itself would wait for it.
    return {done}
  }

  it.each([['q', 'q'], ['Ctrl-C', '\u0003']])('%s quits: the promise resolves and the source is closed', async (_name, key) => {
    const terminal = new FakeTerminal()
    const source = new FixedSource(remoteSnapshot())
    const {done} = await started(terminal, source)
    terminal.type(key)
    await done
    expect(source.closed).toBeGreaterThanOrEqual(1)
    const calls = source.calls
    await sleep(80)
    expect(source.calls).toBe(calls)
  })

  it('q types into the filter instead of quitting while a filter is typed', async () => {
    const terminal = new FakeTerminal()
    const source = new FixedSource(remoteSnapshot())
    const {done} = await started(terminal, source)
    terminal.type('/')
    terminal.type('q')
    await sleep(100)
    expect(source.closed).toBe(0)
    terminal.type(ESC)
    // A lone ESC is told from the start of a sequence by the pause after it.
    await sleep(50)
    terminal.type('q')
    await done
    expect(source.closed).toBeGreaterThanOrEqual(1)
  })

  it('SIGTERM quits the same way', async () => {
    const terminal = new FakeTerminal()
    const source = new FixedSource(remoteSnapshot())
    const before = process.listeners('SIGTERM')
    const {done} = await started(terminal, source)
    // Ink adds its own (signal-exit, which re-raises the signal): only the dashboard's is called.
    const added = process.listeners('SIGTERM').filter((listener) => !before.includes(listener) && listener.name === 'quitOnSignal')
    expect(added).toHaveLength(1)
    added[0]!('SIGTERM')
    await done
    expect(source.closed).toBeGreaterThanOrEqual(1)
    expect(process.listeners('SIGTERM')).toEqual(before)
  })

  it('on a terminal, draws on the alternate screen and gives the screen and the cursor back on quit', async () => {
    const terminal = new FakeTerminal()
    terminal.stdout.isTTY = true
    const source = new FixedSource(remoteSnapshot())
    const {done} = await started(terminal, source)
    expect(terminal.written[0]).toBe(`${ESC}[?1049h${ESC}[H${ESC}[2J`)
    terminal.type('q')
    await done
    expect(terminal.written.at(-1)).toBe(`${ESC}[?1049l${ESC}[?25h`)
  })

  it('closes the source even when the dashboard cannot start', async () => {
    const terminal = new FakeTerminal()
    const source = new FixedSource(remoteSnapshot())
    const stdin = Object.assign(terminal.stdin, {isTTY: false})
    // Ink refuses to read keys from a stdin without raw mode.
    Object.assign(stdin, {setRawMode: undefined})
    await expect(runTopDashboard(source, {intervalMs: 20, stdin: stdin as unknown as NodeJS.ReadStream, stdout: terminal.stdout as unknown as NodeJS.WriteStream, color: false})).rejects.toThrow(/raw mode/i)
    expect(source.closed).toBe(1)
  })
})
