/**
 * `stella obs top` through bin/run.js, in a pipe (so never the dashboard): plain snapshots and
 * JSON from the contract server, stale figures and recovery under injected faults, a receiver fed
 * by the real OpenTelemetry SDK, replays of Collector files, signals, and usage errors.
 */
import {writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import type {TopSnapshot} from '../../src/services/obs/top-model.js'
import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {runCli, scratchDir, spawnCli} from '../helpers/cli.js'
import {type SpanSpec, lengthPrefixed, tracesJsonLine, tracesProto} from '../helpers/otlp-data.js'
import {sendWithSdk} from '../helpers/otel-sdk/send.js'

let server: ContractServer
let home: {path: string; cleanup: () => void}

beforeAll(async () => {
  server = await startContractServer()
})
afterAll(async () => server.close())
beforeEach(() => {
  home = scratchDir()
  server.requests.length = 0
})
afterEach(() => {
  server.clearFaults()
  home.cleanup()
})

const remote = (token = TOKENS.acmeAdmin) => ['--server', server.url, '--tenant', 'acme', '--token', token]
const stella = (args: string[]) => runCli(['obs', 'top', ...args], {home: home.path})
const acme = () => server.state.tenants.acme
const UPDATED = / · updated (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) · /

/** A running `stella obs top` whose output is read as it comes. */
function start(args: string[]) {
  const child = spawnCli(['obs', 'top', ...args], {home: home.path})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin.end()
  const closed = new Promise<{status: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('close', (status, signal) => resolve({status, signal})))
  const lines = () => stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as TopSnapshot)
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    lines,
    /** Waits (up to 15 s) until `done` holds of the output. */
    async until(done: () => boolean): Promise<void> {
      for (let i = 0; i < 300 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(done(), `stdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`).toBe(true)
    },
    /** Waits for the JSON line that satisfies `match`, and returns it. */
    async line(match: (snapshot: TopSnapshot) => boolean): Promise<TopSnapshot> {
      await this.until(() => lines().some(match))
      return lines().find(match)!
    },
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      child.kill(signal)
      return closed
    },
    closed,
  }
}

// ---------------------------------------------------------------------------------------------
// The server

describe('from the server', () => {
  it('--once prints one plain snapshot: header, services, routes, job queues, SLOs worst first', async () => {
    const before = Date.now()
    const r = await stella(['--once', '--no-color', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const updated = UPDATED.exec(r.stdout)![1]!
    expect(Date.parse(updated)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    expect(r.stdout.replace(updated, 'TIME')).toBe(
      [
        `server ${server.url} · tenant acme · window server-defined · updated TIME · incident mode off · 2927.3 req/s · 0.34% errors · 5 services`,
        '',
        'SERVICE              STATUS    INSTANCES  RPS     ERRORS   P50 MS  P95 MS  P99 MS  ROUTES',
        'telemetry-collector  ok        3          2304.9  0.04%    2       6       11      0',
        'api-gateway          ok        6          412.5   0.21%    18      71      160     2',
        'policy-engine        degraded  4          188.2   4.30%    64      420     1310    2',
        'scheduler            ok        2          21.7    0.00%    9       30      52      0',
        'evidence-store       down      0          0.0     100.00%  0       0       0       0',
        '',
        'SERVICE        ROUTE                     RPS    ERRORS  P50 MS  P95 MS  P99 MS',
        'api-gateway    POST /v1/jobs             65.5   0.02%   62      194     508',
        'api-gateway    POST /v1/evaluations      50.8   0.05%   15      63      147',
        'policy-engine  GET /v1/evaluations/{id}  220.3  6.83%   21      83      171',
        'policy-engine  GET /v1/evidence/{id}     9.2    2.23%   75      304     1000',
        '',
        'QUEUE                DEPTH  RUNNING  DONE/MIN  FAILED/MIN  OLDEST',
        'api-gateway.work     36     4        120.9     0.1         17s',
        'policy-engine.work   494    6        125.5     5.6         14m28s',
        'evidence-store.work  37     5        106.7     0.4         31s',
        '',
        'SLO                      SERVICE              JOURNEY            BURN 1H  BURN 6H  BURN 24H  BUDGET LEFT  STATUS',
        'slo-acme-evidence-avail  evidence-store       evidence export    38.2     21.5     9.8       -42%         breach',
        'slo-acme-eval-latency    policy-engine        policy evaluation  7.9      6.4      3.1       18%          warning',
        'slo-acme-ingest          telemetry-collector  telemetry ingest   1.2      0.9      0.8       63%          ok',
        'slo-acme-gw-avail        api-gateway          checkout           0.6      0.8      0.7       71%          ok',
        'slo-acme-sched-fresh     scheduler            job scheduling     0.2      0.4      0.5       88%          ok',
        '',
      ].join('\n'),
    )
    // The figures are the seed's.
    const routes = acme().metrics.routes.map((route) => `${route.service} ${route.method} ${route.route} ${route.rps}`)
    expect(routes.sort()).toEqual(['api-gateway POST /v1/evaluations 50.8', 'api-gateway POST /v1/jobs 65.5', 'policy-engine GET /v1/evaluations/{id} 220.3', 'policy-engine GET /v1/evidence/{id} 9.2'])
    expect(server.requests.map((request) => `${request.method} ${request.path}`).sort()).toEqual(['GET /obs/health', 'GET /obs/metrics', 'GET /obs/slo', 'GET /telemetry/status'])
  })

  it('says when incident mode is on, and colours what burns with --color', async () => {
    const saved = acme().incidentMode
    acme().incidentMode = {...saved, enabled: true, expiresAt: '2099-01-01T00:00:00.000Z', samplingPercent: 100}
    try {
      const r = await stella(['--once', '--color', ...remote()])
      expect(r.status).toBe(0)
      expect(r.stdout).toContain('\u001B[31mincident mode ON (100% sampling, until 2099-01-01T00:00:00.000Z)\u001B[39m')
      expect(r.stdout).toContain('\u001B[31m38.2\u001B[39m')
      expect(r.stdout).toContain('\u001B[33m7.9\u001B[39m')
      expect(r.stdout).toContain('\u001B[33mdegraded\u001B[39m')
    } finally {
      acme().incidentMode = saved
    }
  })

  it('--json gives one snapshot in the envelope, with the server\'s figures as they are', async () => {
    const r = await stella(['--json', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const envelope = JSON.parse(r.stdout) as {status: number; result: TopSnapshot; warnings: string[]}
    expect(envelope.status).toBe(0)
    expect(envelope.warnings).toEqual([])
    const result = envelope.result
    expect(result.source).toEqual({kind: 'remote', server: server.url, tenant: 'acme'})
    expect(result.totals).toEqual({rate: 2927.3, errorRate: (412.5 * 0.0021 + 188.2 * 0.043 + 2304.9 * 0.0004) / 2927.3, services: 5})
    expect(result.services.map((s) => s.name)).toEqual(['telemetry-collector', 'api-gateway', 'policy-engine', 'scheduler', 'evidence-store'])
    const gateway = acme().health.services.find((s) => s.name === 'api-gateway')!
    expect(result.services[1]).toEqual({
      name: 'api-gateway',
      rate: gateway.rps,
      errorRate: gateway.errorRate,
      ...gateway.latencyMs,
      status: 'ok',
      instances: 6,
      routes: acme()
        .metrics.routes.filter((route) => route.service === 'api-gateway')
        .sort((a, b) => b.rps - a.rps)
        .map((route) => ({service: 'api-gateway', route: `${route.method} ${route.route}`, rate: route.rps, errorRate: route.errorRate, ...route.latencyMs})),
    })
    expect(result.jobs).toEqual(acme().metrics.jobs)
    expect(result.slos!.map((slo) => [slo.id, slo.burn1h, slo.burn6h, slo.burn24h, slo.status])).toEqual(acme().slo.map((slo) => [slo.id, slo.burnRate['1h'], slo.burnRate['6h'], slo.burnRate['24h'], slo.status]))
    expect(result.incident).toEqual({enabled: false, samplingPercent: 10})
    expect(result.stale).toBeUndefined()
  })

  it('--service, --filter, --sort and --limit choose what is shown; the totals stay', async () => {
    const shape = async (args: string[]) => {
      const r = await stella(['--json', ...args, ...remote()])
      expect(r.status, r.stdout).toBe(0)
      const result = (JSON.parse(r.stdout) as {result: TopSnapshot}).result
      expect(result.totals.services).toBe(5)
      return {services: result.services.map((s) => `${s.name}: ${s.routes.map((route) => route.route).join(', ')}`), slos: result.slos!.map((slo) => slo.id), jobs: result.jobs!.map((job) => job.queue)}
    }

    expect(await shape(['--sort', 'errors', '--limit', '2'])).toEqual({
      services: ['evidence-store: ', 'policy-engine: GET /v1/evaluations/{id}, GET /v1/evidence/{id}'],
      slos: acme().slo.map((slo) => slo.id),
      jobs: ['api-gateway.work', 'policy-engine.work', 'evidence-store.work'],
    })
    expect(await shape(['--sort', 'p99', '--limit', '1', '--service', 'api-gateway'])).toEqual({services: ['api-gateway: POST /v1/jobs'], slos: ['slo-acme-gw-avail'], jobs: ['api-gateway.work', 'policy-engine.work', 'evidence-store.work']})
    expect(await shape(['--filter', 'EVIDENCE', '--sort', 'name'])).toEqual({
      services: ['evidence-store: ', 'policy-engine: GET /v1/evidence/{id}'],
      slos: ['slo-acme-eval-latency', 'slo-acme-evidence-avail'],
      jobs: ['evidence-store.work'],
    })
  })

  it('--json --watch: a line per interval; a failing server gives the last figures marked stale, polls back off, and the figures come back', async () => {
    const top = start(['--json', '--watch', '--interval', '100ms', ...remote()])
    const good = await top.line(() => true)
    expect(good.stale).toBeUndefined()
    expect(good.services).toHaveLength(5)

    server.inject('GET /obs/health', {status: 503, problem: {title: 'Service unavailable', detail: 'The gateway is restarting.'}, retryAfter: '7'}, {times: 2})
    const recovered = await top.line((s) => s.stale === undefined && s.updatedAt > good.updatedAt && top.lines().some((l) => l.stale !== undefined))
    const {status} = await top.stop('SIGINT')
    expect(status).toBe(0)
    expect(top.stderr()).toBe('')

    const lines = top.lines()
    const stale = lines.filter((line) => line.stale !== undefined)
    const lastGood = lines[lines.indexOf(stale[0]!) - 1]!
    for (const line of stale) {
      const {stale: banner, ...figures} = line
      // The screen keeps the last good figures; the banner says since when and why.
      expect(figures).toEqual(lastGood)
      expect(banner).toEqual({since: stale[0]!.stale!.since, error: '/obs/health: Service unavailable: The gateway is restarting.', retryInMs: expect.any(Number)})
      expect(banner!.since).toBeGreaterThan(lastGood.updatedAt)
    }

    // Two failed polls: the waits after them are 2 and 4 intervals, shown counting down.
    const retries = stale.map((line) => line.stale!.retryInMs!)
    expect(Math.max(...retries)).toBeGreaterThan(200)
    expect(Math.max(...retries)).toBeLessThanOrEqual(400)
    expect(stale.length).toBeGreaterThanOrEqual(4)
    expect(recovered.services).toEqual(good.services)
    expect(recovered.updatedAt).toBeGreaterThan(stale.at(-1)!.stale!.since)
    // No envelope after the lines: every line is a snapshot.
    expect(top.stdout().trimEnd().split('\n')).toHaveLength(lines.length)
  })

  it('a server that is not there: --once fails with exit 4, a live view shows why and keeps trying', async () => {
    const port = await closedPort()
    const gone = ['--server', `http://127.0.0.1:${port}`, '--tenant', 'acme', '--token', TOKENS.acmeAdmin]
    const once = await stella(['--once', ...gone])
    expect(once.status).toBe(4)
    expect(once.stderr).toMatch(new RegExp(`^Error: .*127\\.0\\.0\\.1:${port}.*\\n`))
    expect(once.stdout).toBe('')

    const top = start(['--interval', '100ms', '--no-color', ...gone])
    await top.until(() => top.stdout().includes('STALE'))
    expect((await top.stop('SIGTERM')).status).toBe(0)
    const first = top.stdout().split('\n\n')
    expect(first[0]).toMatch(new RegExp(`^server http://127\\.0\\.0\\.1:${port} · tenant acme · window server-defined · updated (\\S+) · 0\\.0 req/s · 0\\.00% errors · 0 services\\nSTALE since \\1: /obs/\\S+: cannot connect to http://127\\.0\\.0\\.1:${port}: connection refused; retrying in 1s\\.$`))
    expect(first[1]).toBe('No services reported.\n')
  })

  it('refused credentials end it at once with exit 5, once or live', async () => {
    const once = await stella(['--once', ...remote(TOKENS.noScopes)])
    expect(once.status).toBe(5)
    expect(once.stderr).toContain('stella:obs:read#tenant/acme')

    const live = await stella(['--json', '--watch', '--interval', '100ms', ...remote(TOKENS.noScopes)])
    expect(live.status).toBe(5)
    const envelope = JSON.parse(live.stdout)
    expect(envelope).toMatchObject({status: 5, error: {message: expect.stringContaining('stella:obs:read#tenant/acme')}})
  })

  it('plain output without a terminal: a snapshot every interval until SIGTERM, then exit 0', async () => {
    const top = start(['--interval', '100ms', '--no-color', '--service', 'scheduler', ...remote()])
    await top.until(() => top.stdout().split('\n').filter((line) => line.startsWith('server ')).length >= 3)
    const {status} = await top.stop('SIGTERM')
    expect(status).toBe(0)
    expect(top.stderr()).toBe('')
    const snapshots = top.stdout().split(/\n(?=server )/)
    expect(snapshots.length).toBeGreaterThanOrEqual(3)
    for (const snapshot of snapshots.slice(0, -1)) {
      expect(snapshot.replace(UPDATED.exec(snapshot)![1]!, 'TIME')).toBe(
        [
          `server ${server.url} · tenant acme · window server-defined · updated TIME · incident mode off · 2927.3 req/s · 0.34% errors · 5 services`,
          '',
          'SERVICE    STATUS  INSTANCES  RPS   ERRORS  P50 MS  P95 MS  P99 MS  ROUTES',
          'scheduler  ok      2          21.7  0.00%   9       30      52      0',
          '',
          'QUEUE                DEPTH  RUNNING  DONE/MIN  FAILED/MIN  OLDEST',
          'api-gateway.work     36     4        120.9     0.1         17s',
          'policy-engine.work   494    6        125.5     5.6         14m28s',
          'evidence-store.work  37     5        106.7     0.4         31s',
          '',
          'SLO                   SERVICE    JOURNEY         BURN 1H  BURN 6H  BURN 24H  BUDGET LEFT  STATUS',
          'slo-acme-sched-fresh  scheduler  job scheduling  0.2      0.4      0.5       88%          ok',
          '',
        ].join('\n'),
      )
    }

    const times = snapshots.map((snapshot) => Date.parse(UPDATED.exec(snapshot)![1]!))
    // At the interval, not as fast as it can.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(60)
  })
})

async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const {port} = probe.address() as {port: number}
  await new Promise((resolve) => probe.close(resolve))
  return port
}

// ---------------------------------------------------------------------------------------------
// --listen

describe('--listen', () => {
  it('--json --watch: the spans of the real OpenTelemetry SDK, counted per service and route as they arrive; Ctrl-C ends with exit 0', async () => {
    const top = start(['--listen', '127.0.0.1:0', '--json', '--watch', '--interval', '100ms'])
    await top.until(() => /Listening for OTLP\/HTTP on http:\/\/127\.0\.0\.1:\d+ /.test(top.stderr()))
    const url = /on (http:\/\/127\.0\.0\.1:\d+) /.exec(top.stderr())![1]!
    const empty = await top.line(() => true)
    expect(empty).toMatchObject({source: {kind: 'listen', url}, window: '1m', totals: {rate: 0, errorRate: 0, services: 0, count: 0, errors: 0, total: 0}, services: [], folded: {services: 0, routes: 0}})

    for (const [protocol, compression] of [['proto', 'gzip'], ['json', 'none']] as const) {
      const sent = await sendWithSdk({url, protocol, compression})
      expect(sent.exports.length).toBeGreaterThan(0)
      expect(sent.exports.every((e) => e.ok)).toBe(true)
    }

    // Each program sends one server span (the others are client, internal, consumer and producer spans).
    const counted = await top.line((s) => s.totals.total === 2)
    expect((await top.stop('SIGINT')).status).toBe(0)
    expect(top.stderr()).toBe(`Listening for OTLP/HTTP on ${url} (POST /v1/traces).\n`)
    expect(counted.totals).toMatchObject({services: 1, count: 2, errors: 0, total: 2, errorRate: 0})
    expect(counted.services).toHaveLength(1)
    const checkout = counted.services[0]!
    expect(checkout).toMatchObject({name: 'checkout', count: 2, errors: 0, total: 2, errorRate: 0})
    expect(checkout.routes.map((route) => [route.route, route.count, route.errors, route.total])).toEqual([['GET /checkout', 2, 0, 2]])
    // Both requests took 250.000333 ms; the sketch is within 1%.
    for (const p of [checkout.p50!, checkout.p95!, checkout.p99!]) expect(Math.abs(p - 250.000333) / 250.000333).toBeLessThanOrEqual(0.01)
    expect(checkout.sparkline!.reduce((sum, n) => sum + n, 0)).toBe(2)
    // The receiver is closed: nothing listens there any more.
    await expect(fetch(`${url}/v1/traces`, {method: 'POST'})).rejects.toThrow()
  })

  it('--json without --watch: one snapshot of what one interval brought', async () => {
    const started = Date.now()
    const r = await stella(['--listen', '127.0.0.1:0', '--json', '--interval', '300ms'])
    expect(r.status).toBe(0)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(r.stderr).toMatch(/^Listening for OTLP\/HTTP on http:\/\/127\.0\.0\.1:\d+ \(POST \/v1\/traces\)\.\n$/)
    const result = (JSON.parse(r.stdout) as {result: TopSnapshot}).result
    expect(result).toMatchObject({source: {kind: 'listen'}, services: [], totals: {count: 0, total: 0, services: 0}})
  })

  it('refuses a non-loopback address unless --allow-non-loopback', async () => {
    const r = await stella(['--listen', '0.0.0.0:0', '--once'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^Error: refusing to listen on 0\.0\.0\.0: it is not a loopback address/)
  })
})

// ---------------------------------------------------------------------------------------------
// --from

const BASE_MS = Date.parse('2026-11-22T10:00:00Z')
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

function spans(count: number, firstEndMs: number, stepMs: number, durationMs: (i: number) => number, attributes: (i: number) => SpanSpec['attributes']): SpanSpec[] {
  return Array.from({length: count}, (_, i) => {
    const end = BASE_MS + firstEndMs + i * stepMs
    return {traceId: hex(firstEndMs * 1000 + i + 1, 32), spanId: hex(i + 1, 16), name: 'request', startMs: end - durationMs(i), endMs: end, attributes: attributes(i)}
  })
}

/** 9 s of recorded requests: checkout (a .pb file) and payments (JSON lines). */
function replayFiles(): string[] {
  const cart = spans(10, 0, 1000, (i) => 10 * (i + 1), (i) => ({'http.route': '/cart/{id}', 'http.request.method': 'GET', 'http.response.status_code': i === 9 ? 503 : 200}))
  const orders = spans(4, 500, 2000, () => 250, (i) => ({'http.route': '/orders', 'http.method': 'POST', 'http.status_code': i < 2 ? 500 : 201}))
  const charge = spans(5, 200, 1900, (i) => 30 + i, (i) => ({'http.route': '/charge', 'http.request.method': 'POST', 'http.response.status_code': i === 0 ? 502 : 200}))
  const pb = join(home.path, 'checkout.pb')
  const jsonl = join(home.path, 'payments.jsonl')
  writeFileSync(pb, lengthPrefixed([tracesProto('checkout', cart), tracesProto('checkout', orders)]))
  writeFileSync(jsonl, tracesJsonLine('payments', charge))
  return ['--from', pb, '--from', jsonl]
}

const REPLAYED = [
  'replay of 2 files as fast as possible · window 1m · updated 2026-11-22T10:00:09.000Z · 1.9 req/s · 21.05% errors · 2 services · replay finished',
  '',
  'SERVICE   RPS  ERRORS  P50 MS  P95 MS  P99 MS  REQUESTS  TOTAL  LAST 15 MIN',
  'checkout  1.4  21.43%  70.1    250     250     14        14     █',
  'payments  0.5  20.00%  32.1    32.8    32.8    5         5      █',
  '',
  'SERVICE   ROUTE           RPS  ERRORS  P50 MS  P95 MS  P99 MS  REQUESTS  TOTAL',
  'checkout  GET /cart/{id}  1.0  10.00%  49.9    89.1    89.1    10        10',
  'checkout  POST /orders    0.4  50.00%  250     250     250     4         4',
  'payments  POST /charge    0.5  20.00%  32.1    32.8    32.8    5         5',
  '',
].join('\n')

describe('--from', () => {
  it('--speed 0 --once: the whole replay, then one snapshot at the recorded time of the last span', async () => {
    const r = await stella([...replayFiles(), '--speed', '0', '--once', '--no-color'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(REPLAYED)
  })

  it('--speed 0 --json: exact counts per service and route', async () => {
    const r = await stella([...replayFiles(), '--speed', '0', '--json', '--sort', 'name'])
    expect(r.status).toBe(0)
    const result = (JSON.parse(r.stdout) as {result: TopSnapshot}).result
    expect(result.source).toEqual({kind: 'files', files: 2, speed: 0})
    expect(result.updatedAt).toBe(BASE_MS + 9000)
    expect(result.finished).toBe(true)
    expect(result.totals).toEqual({rate: 1.9, errorRate: 4 / 19, services: 2, count: 19, errors: 4, total: 19})
    expect(result.services.map((s) => [s.name, s.count, s.errors, s.total, s.rate, s.routes.map((route) => [route.route, route.count, route.errors, route.rate])])).toEqual([
      ['checkout', 14, 3, 14, 1.4, [['GET /cart/{id}', 10, 1, 1], ['POST /orders', 4, 2, 0.4]]],
      ['payments', 5, 1, 5, 0.5, [['POST /charge', 5, 1, 0.5]]],
    ])
  })

  it('--json --watch ends by itself when the files end, the last line marked finished; plain output too', async () => {
    const files = replayFiles()
    const watched = await stella([...files, '--speed', '30', '--json', '--watch', '--interval', '100ms'])
    expect(watched.status).toBe(0)
    expect(watched.stderr).toBe('')
    const lines = watched.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as TopSnapshot)
    // 9 s at 30×: about 300 ms, a line every 100 ms.
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(lines.slice(0, -1).every((line) => line.finished === undefined)).toBe(true)
    expect(lines.at(-1)).toMatchObject({finished: true, updatedAt: BASE_MS + 9000, totals: {count: 19, errors: 4, total: 19}})
    const totals = lines.map((line) => line.totals.total ?? 0)
    expect(totals).toEqual([...totals].sort((a, b) => a - b))

    const plain = await stella([...files, '--speed', '0', '--interval', '100ms', '--no-color'])
    expect(plain.status).toBe(0)
    expect(plain.stdout.endsWith(REPLAYED)).toBe(true)
  })

  it('an input that is missing or malformed is exit 3', async () => {
    const missing = await stella(['--from', join(home.path, 'nope.pb'), '--once'])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toBe(`Error: cannot read ${join(home.path, 'nope.pb')}: no such file or directory\nHint: Check the path given to --from.\n`)

    const bad = join(home.path, 'bad.pb')
    writeFileSync(bad, Buffer.from([0, 0, 0, 9, 1, 2, 3]))
    const malformed = await stella(['--from', bad, '--speed', '0', '--json', '--watch'])
    expect(malformed.status).toBe(3)
    expect(JSON.parse(malformed.stdout.slice(malformed.stdout.indexOf('{\n')))).toMatchObject({status: 3, error: {code: 'OTLP_TRUNCATED'}})
  })
})

// ---------------------------------------------------------------------------------------------
// Usage

describe('usage errors', () => {
  it.each<[string[], RegExp]>([
    [['--speed', '2'], /^Error: --speed is only for --from\n/],
    [['--allow-non-loopback'], /^Error: --allow-non-loopback is only for --listen\n/],
    [['--watch'], /^Error: --watch is for --json: plain output already prints a snapshot every --interval\nHint: Add --json/],
    [['--interval', '50ms'], /^Error: --interval 50ms is below 100ms\n/],
    [['--sort', 'p90'], /^Error: Expected --sort=p90 to be one of: rate, errors, p95, p99, name/],
    [['--from', 'x.pb', '--speed', 'fast'], /^Error: --speed "fast" is not a number of 0 or more\nHint: e\.g\. --speed 1/],
    [['--listen', '4318', '--from', 'x.pb'], /^Error: The following errors occurred:\n {2}--from=x\.pb cannot also be provided when using --listen\n/],
    [['--once', '--watch'], /^Error: The following error occurred:\n {2}--watch=true cannot also be provided when using --once\n/],
    [['--listen', 'localhost:http'], /^Error: --listen "localhost:http" is not \[host:\]port\n/],
    [['--limit', '0'], /^Error: Parsing --limit \n\tExpected an integer greater than or equal to 1 but received: 0\n/],
    [['--once'], /^Error: no server to talk to\n/],
  ])('%j', async (args, message) => {
    const r = await stella(args)
    expect(r.stderr).toMatch(message)
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
  })
})
