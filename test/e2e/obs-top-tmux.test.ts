/**
 * `stella obs top --listen` in a real terminal: tmux runs a shell, the shell runs the built CLI,
 * instrumented programs on the real OpenTelemetry JS SDK send spans to its receiver, and the test
 * reads the screen (capture-pane) and presses keys (send-keys) as an operator would: the figures,
 * `/` filter, `s` sort, Enter and Esc, a resize, then `q` — exit 0, and the terminal as it was.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {type Attributes, ROOT_CONTEXT, SpanKind, SpanStatusCode} from '@opentelemetry/api'
import {OTLPTraceExporter} from '@opentelemetry/exporter-trace-otlp-proto'
import {resourceFromAttributes} from '@opentelemetry/resources'
import {BasicTracerProvider, SimpleSpanProcessor} from '@opentelemetry/sdk-trace-base'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cleanEnv, scratchDir, stellaBin} from '../helpers/cli.js'
import {sendWithSdk} from '../helpers/otel-sdk/send.js'

const PROMPT = 'e2e$ '

let home: {path: string; cleanup: () => void}
let socket: string
let env: Record<string, string>

beforeAll(() => {
  const tmux = spawnSync('tmux', ['-V'], {encoding: 'utf8'})
  if (tmux.error !== undefined || tmux.status !== 0) {
    throw new Error('tmux is not installed: this test drives `stella obs top` in a real terminal with it. Install it (Debian/Ubuntu: apt-get install tmux; .ci/run installs it when missing).')
  }

  home = scratchDir('stella-top-tmux-')
  socket = join(home.path, 'tmux.sock')
  // The dashboard is drawn only on a terminal and outside CI (with CI set, the command prints plain
  // snapshots, as Ink would): the shell in the pane runs without the CI variables of this run.
  env = cleanEnv(home.path, {PS1: PROMPT, HISTFILE: '/dev/null', TERM: 'xterm-256color', TMUX: undefined, TMUX_PANE: undefined, CI: undefined, CONTINUOUS_INTEGRATION: undefined})
  for (const name of Object.keys(env)) if (name.startsWith('CI_')) delete env[name]
})

afterAll(async () => {
  if (socket !== undefined) {
    spawnSync('tmux', ['-S', socket, 'kill-server'], {env})
    // The server removes its socket as it exits; the scratch directory goes after it.
    for (let waited = 0; existsSync(socket) && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  }

  home?.cleanup()
})

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', ['-S', socket, ...args], {encoding: 'utf8', env})
  if (result.status !== 0) throw new Error(`tmux ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return result.stdout
}

/** A shell in a tmux window of a given size, and what an operator does with it. */
class Terminal {
  constructor(readonly session: string) {}

  static async open(session: string, columns: number, rows: number): Promise<Terminal> {
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), 'bash', '--norc', '--noprofile')
    const terminal = new Terminal(session)
    // capture-pane drops trailing spaces, the prompt's among them.
    await terminal.screenWhere((text) => text.startsWith(PROMPT.trimEnd()), 'the shell prompt')
    return terminal
  }

  /** Types text as it is (no key names). */
  type(text: string): void {
    tmux('send-keys', '-t', this.session, '-l', text)
  }

  /** Presses keys by tmux name: Enter, Escape, C-c, … */
  press(...keys: string[]): void {
    tmux('send-keys', '-t', this.session, ...keys)
  }

  screen(): string {
    return tmux('capture-pane', '-p', '-t', this.session)
  }

  /** The main screen from the top of its history, wrapped lines joined. */
  history(): string {
    return tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.session)
  }

  flag(name: 'alternate_on' | 'cursor_flag'): string {
    return tmux('display-message', '-p', '-t', this.session, `#{${name}}`).trim()
  }

  resize(columns: number, rows: number): void {
    tmux('resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows))
  }

  /** Waits until the screen passes the check, and returns it. */
  async screenWhere(check: (text: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      last = this.screen()
      if (check(last)) return last
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    throw new Error(`the screen never showed ${what}; it shows:\n${last}`)
  }
}

/** Runs `stella obs top --listen` from the shell; the shell writes its exit status to a file. */
async function startTop(terminal: Terminal, port: number): Promise<{command: string; exitStatus: () => Promise<string>}> {
  const exitFile = join(home.path, `exit-${terminal.session}`)
  const command = `${process.execPath} ${stellaBin} obs top --listen 127.0.0.1:${port} --interval 250ms; echo EXIT=$? > ${exitFile}`
  terminal.type(command)
  terminal.press('Enter')
  await terminal.screenWhere((text) => text.includes(`listening on http://127.0.0.1:${port}`), 'the dashboard')
  const exitStatus = async () => {
    await terminal.screenWhere(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').endsWith('\n'), 'the exit status written', 10_000)
    return readFileSync(exitFile, 'utf8')
  }

  return {command, exitStatus}
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface ServerSpan {
  method: string
  route: string
  status: number
  ms: number
}

/** A service instrumented with the OpenTelemetry SDK answers these requests, exported as OTLP/protobuf. */
async function serveRequests(url: string, service: string, requests: ServerSpan[]): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({'service.name': service}),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({url: `${url}/v1/traces`, timeoutMillis: 5000}))],
  })
  const tracer = provider.getTracer('stella-e2e-top')
  const now = Date.now()
  for (const request of requests) {
    const attributes: Attributes = {'http.request.method': request.method, 'http.route': request.route, 'http.response.status_code': request.status}
    const span = tracer.startSpan(`${request.method} ${request.route}`, {kind: SpanKind.SERVER, startTime: now - request.ms, attributes}, ROOT_CONTEXT)
    if (request.status >= 500) span.setStatus({code: SpanStatusCode.ERROR})
    span.end(now)
  }

  await provider.forceFlush()
  await provider.shutdown()
}

const times = (count: number, request: ServerSpan) => Array.from({length: count}, () => request)

/** A services row as its cells: name, rate, errors, p50, p95, p99 (and the sparkline). */
function row(text: string, name: string): string[] {
  const line = text.split('\n').find((candidate) => candidate.slice(2).startsWith(`${name} `))
  expect(line, `no row for ${name} in\n${text}`).toBeDefined()
  return line!.slice(2).trim().split(/\s{2,}/)
}

/** How far the ratio of two rate cells is from the expected one, relatively (rates are shown to two decimals). */
const ratio = (a: string, b: string, expected: number) => Math.abs(Number(a) / Number(b) / expected - 1)

/** A latency cell in milliseconds. */
const ms = (cell: string) => (cell.endsWith('ms') ? Number(cell.slice(0, -2)) : Number(cell.slice(0, -1)) * 1000)

describe('stella obs top --listen, in tmux', () => {
  it('shows what the SDK sent, filters, sorts, drills in and out, resizes, and quits with the terminal restored', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const terminal = await Terminal.open('operator', 120, 40)
    expect(terminal.flag('alternate_on')).toBe('0')
    const {command, exitStatus} = await startTop(terminal, port)
    expect(terminal.flag('alternate_on')).toBe('1')

    // The shared SDK program (service checkout, one server span), then two more services.
    const sent = await sendWithSdk({url, protocol: 'proto', compression: 'gzip', baseTimeMs: Date.now() - 1000})
    expect(sent.exports.every((entry) => entry.ok)).toBe(true)
    await serveRequests(url, 'payments', [
      ...times(4, {method: 'POST', route: '/charge', status: 200, ms: 20}),
      ...times(2, {method: 'POST', route: '/charge', status: 503, ms: 40}),
      ...times(2, {method: 'GET', route: '/refunds/{id}', status: 200, ms: 10}),
    ])
    await serveRequests(url, 'inventory', times(3, {method: 'GET', route: '/stock/{sku}', status: 200, ms: 5}))

    const figures = await terminal.screenWhere((text) => text.includes('3 services') && /^ {2}checkout /m.test(text), 'three services')
    const lines = figures.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^stella obs top {2}listening on ${url} {2}window 1m {2}updated \\d\\d:\\d\\d:\\d\\d$`))
    expect(lines[1]).toMatch(/^3 services {2}\d+\.\d\d req\/s {2}16\.7% errors$/)
    const table = lines.findIndex((line) => line.startsWith('SERVICES 3'))
    expect(lines[table]).toBe('SERVICES 3  sorted by rate')
    expect(lines[table + 1]).toMatch(/^ {2}SERVICE +REQ\/S +ERR% +P50 +P95 +P99 +REQ\/MIN$/)
    // Sorted by rate: 8, 3 and 1 requests in the same window.
    expect(lines.slice(table + 2, table + 5).map((line) => line.slice(2).split(' ')[0])).toEqual(['payments', 'inventory', 'checkout'])
    expect(lines[table + 2]!.startsWith('› payments')).toBe(true)
    const [payments, inventory, checkout] = [row(figures, 'payments'), row(figures, 'inventory'), row(figures, 'checkout')]
    expect([payments[2], inventory[2], checkout[2]]).toEqual(['25.0%', '0.00%', '0.00%'])
    expect(ratio(payments[1]!, inventory[1]!, 8 / 3)).toBeLessThanOrEqual(0.1)
    expect(ratio(payments[1]!, checkout[1]!, 8)).toBeLessThanOrEqual(0.1)
    // Latencies within the sketch's 1% (and the display's rounding).
    for (const cell of inventory.slice(3, 6)) expect(Math.abs(ms(cell) - 5) / 5).toBeLessThanOrEqual(0.02)
    for (const cell of checkout.slice(3, 6)) expect(Math.abs(ms(cell) - 250) / 250).toBeLessThanOrEqual(0.02)
    expect(Math.abs(ms(payments[5]!) - 40) / 40).toBeLessThanOrEqual(0.02)
    // One minute of traffic so far: the sparkline has one bar.
    expect(payments[6]).toBe('█')

    // `/` filter: typed in the footer, applied with Enter.
    terminal.press('/')
    await terminal.screenWhere((text) => text.trimEnd().endsWith('filter: _   Enter applies · Esc cancels'), 'the filter being typed')
    terminal.type('pay')
    await terminal.screenWhere((text) => text.includes('filter: pay_'), 'the typed filter')
    terminal.press('Enter')
    const filtered = await terminal.screenWhere((text) => text.includes('SERVICES 1 of 3  filter "pay"  sorted by rate'), 'the filtered table')
    expect(filtered).toMatch(/^› payments /m)
    expect(filtered).not.toMatch(/^ {2}(inventory|checkout) /m)

    // `s`: the next sort.
    terminal.press('s')
    await terminal.screenWhere((text) => text.includes('SERVICES 1 of 3  filter "pay"  sorted by error rate'), 'sorted by error rate')

    // Enter: the routes of the selected service.
    terminal.press('Enter')
    const routes = await terminal.screenWhere((text) => text.includes('payments › ROUTES 2  sorted by error rate'), 'the routes of payments')
    const charge = row(routes, 'POST /charge')
    const refunds = row(routes, 'GET /refunds/{id}')
    expect([charge[2], refunds[2]]).toEqual(['33.3%', '0.00%'])
    expect(ratio(charge[1]!, refunds[1]!, 3)).toBeLessThanOrEqual(0.1)
    expect(routes).toMatch(/^› POST \/charge /m)
    expect(routes).toContain('Esc back')

    // Esc: back to the services, still filtered.
    terminal.press('Escape')
    await terminal.screenWhere((text) => text.includes('SERVICES 1 of 3  filter "pay"') && /^› payments /m.test(text), 'the services again')

    // A narrower terminal: the screen is redrawn to fit, the sparklines give way first.
    terminal.resize(60, 30)
    const narrow = await terminal.screenWhere((text) => /^ {2}SERVICE +REQ\/S +ERR% +P50 +P95 +P99$/m.test(text), 'the table at 60 columns')
    for (const line of narrow.split('\n')) expect([...line].length).toBeLessThanOrEqual(60)
    expect(narrow).toContain(`listening on ${url}`)

    // q: the dashboard ends, exit 0, and the shell is back on the main screen, cursor shown.
    terminal.press('q')
    expect(await exitStatus()).toBe('EXIT=0\n')
    await expectRestored(terminal, command)
  })

  it('Ctrl-C quits the same way: exit 0, the terminal restored', async () => {
    const terminal = await Terminal.open('interrupt', 100, 30)
    const {command, exitStatus} = await startTop(terminal, await freePort())
    terminal.press('C-c')
    expect(await exitStatus()).toBe('EXIT=0\n')
    await expectRestored(terminal, command)
  })
})

/** The shell is back as it was: main screen, cursor shown, keys echoed and read by line. */
async function expectRestored(terminal: Terminal, command: string): Promise<void> {
  await terminal.screenWhere((text) => text.trimEnd().endsWith(PROMPT.trimEnd()), 'the prompt again')
  // What the shell showed before, and nothing of the dashboard: it was drawn on the alternate screen.
  expect(terminal.history().trimEnd()).toBe(`${PROMPT}${command}\n${PROMPT.trimEnd()}`)
  expect(terminal.flag('alternate_on')).toBe('0')
  expect(terminal.flag('cursor_flag')).toBe('1')
  // Raw mode is off: the shell reads a line again, echoed as typed.
  terminal.type('echo typed-$((20 + 22))')
  terminal.press('Enter')
  await terminal.screenWhere((text) => text.includes('echo typed-$((20 + 22))\ntyped-42\n'), 'the shell answering a command')
}
