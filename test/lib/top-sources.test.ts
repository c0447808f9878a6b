/**
 * The sources of `stella obs top` over real sockets and real files: the server (the contract
 * server, its seeded figures, injected faults), an OTLP receiver fed by the real OpenTelemetry
 * SDK, and replays of Collector files on the virtual clock; and the view (filter, sort, limit).
 */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {type Attributes, ROOT_CONTEXT, SpanKind, SpanStatusCode} from '@opentelemetry/api'
import {OTLPTraceExporter} from '@opentelemetry/exporter-trace-otlp-proto'
import {resourceFromAttributes} from '@opentelemetry/resources'
import {BasicTracerProvider, BatchSpanProcessor} from '@opentelemetry/sdk-trace-base'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {ApiClient} from '../../src/lib/api/client.js'
import {ApiAuthError} from '../../src/lib/api/errors.js'
import {InputError, UsageError} from '../../src/lib/errors.js'
import {DDSketch} from '../../src/lib/stats/ddsketch.js'
import type {TopSnapshot} from '../../src/services/obs/top-model.js'
import {ListenTopSource, RemoteTopSource, ReplayTopSource, type TopView, fetchRemoteSnapshot, viewOf} from '../../src/services/obs/top.js'
import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {scratchDir} from '../helpers/cli.js'
import {type SpanSpec, lengthPrefixed, tracesJsonLine, tracesProto} from '../helpers/otlp-data.js'
import {sendWithSdk} from '../helpers/otel-sdk/send.js'

let server: ContractServer
let home: {path: string; cleanup: () => void}
const clients: ApiClient[] = []

beforeAll(async () => {
  server = await startContractServer()
})
afterAll(async () => server.close())
beforeEach(() => {
  home = scratchDir('stella-top-')
  server.requests.length = 0
})
afterEach(async () => {
  server.clearFaults()
  home.cleanup()
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

function client(token = TOKENS.acmeAdmin): ApiClient {
  const made = new ApiClient({server: server.url, tenant: 'acme', token, retries: 0, timeoutMs: 5000, version: 'test'})
  clients.push(made)
  return made
}

const acme = () => server.state.tenants.acme

/** What the seed says the acme screen holds, built here from the seeded state. */
function expectedAcme(): Omit<TopSnapshot, 'updatedAt' | 'source'> {
  const {health, metrics, slo} = acme()
  const services = health.services.map((s) => ({
    name: s.name,
    rate: s.rps,
    errorRate: s.errorRate,
    p50: s.latencyMs.p50,
    p95: s.latencyMs.p95,
    p99: s.latencyMs.p99,
    status: s.status,
    instances: s.instances,
    routes: metrics.routes.filter((r) => r.service === s.name).map((r) => ({service: r.service, route: `${r.method} ${r.route}`, rate: r.rps, errorRate: r.errorRate, ...r.latencyMs})),
  }))
  const rate = health.services.reduce((sum, s) => sum + s.rps, 0)
  return {
    window: 'server-defined',
    incident: {enabled: false, samplingPercent: 10},
    totals: {rate, errorRate: health.services.reduce((sum, s) => sum + s.rps * s.errorRate, 0) / rate, services: 5},
    services,
    jobs: metrics.jobs,
    slos: slo.map((item) => ({id: item.id, service: item.service, journey: item.journey, objective: item.objective, burn1h: item.burnRate['1h'], burn6h: item.burnRate['6h'], burn24h: item.burnRate['24h'], errorBudgetRemaining: item.errorBudgetRemaining, status: item.status})),
  }
}

describe('the server', () => {
  it('asks for health, SLOs, metrics and telemetry status at once and builds one screen of them', async () => {
    const before = Date.now()
    const snapshot = await fetchRemoteSnapshot(client())
    expect(snapshot).toEqual({source: {kind: 'remote', server: server.url, tenant: 'acme'}, updatedAt: snapshot.updatedAt, ...expectedAcme()})
    expect(snapshot.updatedAt).toBeGreaterThanOrEqual(before)
    expect(snapshot.totals.rate).toBeCloseTo(2927.3, 9)
    expect(snapshot.totals.errorRate).toBeCloseTo((412.5 * 0.0021 + 188.2 * 0.043 + 2304.9 * 0.0004) / 2927.3, 12)
    expect(snapshot.services.find((s) => s.name === 'api-gateway')!.routes.map((r) => r.route)).toEqual(['POST /v1/evaluations', 'POST /v1/jobs'])
    expect(snapshot.services.find((s) => s.name === 'policy-engine')!.routes.map((r) => r.route)).toEqual(['GET /v1/evaluations/{id}', 'GET /v1/evidence/{id}'])
    expect(server.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /obs/health', 'GET /obs/metrics', 'GET /obs/slo', 'GET /telemetry/status'])
  })

  it('shows incident mode with its sampling and end when it is on', async () => {
    const saved = acme().incidentMode
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    acme().incidentMode = {...saved, enabled: true, expiresAt, samplingPercent: 100}
    try {
      expect((await fetchRemoteSnapshot(client())).incident).toEqual({enabled: true, expiresAt, samplingPercent: 100})
    } finally {
      acme().incidentMode = saved
    }
  })

  it('a route of a service the health report leaves out gets a row of its own sums', async () => {
    const saved = structuredClone(acme().metrics.routes)
    acme().metrics.routes.push(
      {service: 'billing', route: '/invoices', method: 'GET', rps: 30, errorRate: 0.1, latencyMs: {p50: 5, p95: 9, p99: 12}},
      {service: 'billing', route: '/invoices', method: 'POST', rps: 10, errorRate: 0.5, latencyMs: {p50: 7, p95: 15, p99: 40}},
    )
    try {
      const billing = (await fetchRemoteSnapshot(client())).services.find((s) => s.name === 'billing')
      expect(billing).toEqual({
        name: 'billing',
        rate: 40,
        errorRate: (30 * 0.1 + 10 * 0.5) / 40,
        routes: [
          {service: 'billing', route: 'GET /invoices', rate: 30, errorRate: 0.1, p50: 5, p95: 9, p99: 12},
          {service: 'billing', route: 'POST /invoices', rate: 10, errorRate: 0.5, p50: 7, p95: 15, p99: 40},
        ],
      })
    } finally {
      acme().metrics.routes = saved
    }
  })

  it('keeps the last good figures when a poll fails, marked stale, backs off exponentially, and recovers', async () => {
    let now = 1_000_000
    const source = new RemoteTopSource(client(), {intervalMs: 1000, maxBackoffMs: 5000, now: () => now})
    const good = await source.snapshot()
    expect(good.stale).toBeUndefined()
    expect(good.updatedAt).toBe(now)
    const polls = () => server.requests.filter((r) => r.path === '/obs/health').length

    server.inject('GET /obs/health', {status: 503, problem: {title: 'Service unavailable', detail: 'The gateway is restarting.'}}, {times: 4})
    now += 1000
    const failed = await source.snapshot()
    expect(polls()).toBe(2)
    const {stale, ...figures} = failed
    expect(figures).toEqual(good)
    expect(stale).toEqual({since: 1_001_000, error: '/obs/health: Service unavailable: The gateway is restarting.', retryInMs: 2000})

    // Within the backoff nothing is asked: the figures come back at once, with the wait left.
    now += 1000
    expect((await source.snapshot()).stale).toEqual({since: 1_001_000, error: stale!.error, retryInMs: 1000})
    expect(polls()).toBe(2)

    // 2 s, then 4 s, then the 5 s cap.
    const retries: number[] = []
    for (const wait of [1000, 4000, 5000]) {
      now += wait
      const snapshot = await source.snapshot()
      retries.push(snapshot.stale!.retryInMs!)
      expect(snapshot.stale!.since).toBe(1_001_000)
      expect(snapshot.updatedAt).toBe(1_000_000)
    }

    expect(retries).toEqual([4000, 5000, 5000])
    expect(polls()).toBe(5)

    // The fault is used up: the next poll answers, and the banner goes.
    now += 5000
    const recovered = await source.snapshot()
    expect(recovered.stale).toBeUndefined()
    expect(recovered.updatedAt).toBe(now)
    expect(polls()).toBe(6)
    await source.close()
  })

  it('never throws for a failed poll, even before any figures came: an empty screen with the reason', async () => {
    let now = 5000
    server.inject('GET /obs/slo', {reset: true}, {times: 1})
    const source = new RemoteTopSource(client(), {intervalMs: 500, now: () => now})
    const snapshot = await source.snapshot()
    expect(snapshot).toEqual({
      source: {kind: 'remote', server: server.url, tenant: 'acme'},
      window: 'server-defined',
      updatedAt: 5000,
      totals: {rate: 0, errorRate: 0, services: 0},
      services: [],
      stale: {since: 5000, error: `/obs/slo: the connection to ${server.url} was closed before the answer was complete`, retryInMs: 1000},
    })
    now += 1000
    expect((await source.snapshot()).stale).toBeUndefined()
  })

  it('says the server is not answering when a poll takes longer than it waits, and shows the answer once it comes', async () => {
    server.inject('GET /obs/metrics', {delayMs: 400}, {times: 1})
    const source = new RemoteTopSource(client(), {intervalMs: 100, waitMs: 100})
    const waiting = await source.snapshot()
    expect(waiting.services).toEqual([])
    expect(waiting.stale).toEqual({since: expect.any(Number), error: 'no answer from the server for 0s'})
    await new Promise((resolve) => setTimeout(resolve, 450))
    const answered = await source.snapshot()
    expect(answered.stale).toBeUndefined()
    expect(answered.services).toHaveLength(5)
  })

  it('fails fast when the credentials are refused: waiting will not fix them', async () => {
    const source = new RemoteTopSource(client(TOKENS.noScopes), {intervalMs: 1000})
    const error = await source.snapshot().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ApiAuthError)
    expect((error as ApiAuthError).exitCode).toBe(5)
    expect((error as ApiAuthError).message).toContain('stella:obs:read#tenant/acme')
    // And it stays failed.
    await expect(source.snapshot()).rejects.toBe(error)
  })
})

// ---------------------------------------------------------------------------------------------
// Spans sent by the real OpenTelemetry SDK

interface ServerSpan {
  service: string
  name: string
  attributes: Attributes
  durationMs: number
  error?: boolean
}

/** One BasicTracerProvider per service, exporting protobuf over OTLP/HTTP through a batch processor. */
async function sendServerSpans(url: string, spans: readonly ServerSpan[]): Promise<void> {
  const base = Date.now() - 60_000
  for (const service of new Set(spans.map((span) => span.service))) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({'service.name': service}),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({url: `${url}/v1/traces`, timeoutMillis: 5000}), {scheduledDelayMillis: 20})],
    })
    const tracer = provider.getTracer('stella-top-test')
    for (const [index, spec] of spans.filter((span) => span.service === service).entries()) {
      const start = base + index * 10
      const span = tracer.startSpan(spec.name, {kind: SpanKind.SERVER, startTime: start, attributes: spec.attributes}, ROOT_CONTEXT)
      if (spec.error) span.setStatus({code: SpanStatusCode.ERROR, message: 'failed'})
      span.end(start + spec.durationMs)
    }

    // A client span of the same service does not count: only requests a service answered do.
    tracer.startSpan('SELECT 1', {kind: SpanKind.CLIENT, startTime: base}, ROOT_CONTEXT).end(base + 3)
    await provider.forceFlush()
    await provider.shutdown()
  }
}

async function until<T>(what: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const value = await what()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('--listen', () => {
  it('counts the server spans the OpenTelemetry SDK sends, per service and route, at the time they arrive', async () => {
    const source = await ListenTopSource.start({host: '127.0.0.1', port: 0})
    try {
      expect(source.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const get = (route: string, status: number, durationMs: number) => ({service: 'cart', name: `GET ${route}`, attributes: {'http.route': route, 'http.request.method': 'GET', 'http.response.status_code': status}, durationMs})
      await sendServerSpans(source.url, [
        get('/cart/{id}', 200, 12),
        get('/cart/{id}', 200, 14),
        get('/cart/{id}', 503, 40),
        get('/cart', 200, 8),
        // The older attribute names, and an error by span status alone.
        {service: 'orders', name: 'POST /orders', attributes: {'http.route': '/orders', 'http.method': 'POST', 'http.status_code': 500}, durationMs: 100},
        {service: 'orders', name: 'POST /orders', attributes: {'http.route': '/orders', 'http.method': 'POST', 'http.status_code': 201}, durationMs: 80, error: true},
        {service: 'orders', name: 'POST /orders', attributes: {'http.route': '/orders', 'http.method': 'POST', 'http.status_code': 201}, durationMs: 60},
      ])
      const sent = await sendWithSdk({url: source.url, protocol: 'json', compression: 'gzip'})
      expect(sent.exports.every((e) => e.ok)).toBe(true)

      const snapshot = await until(() => source.snapshot(), (s) => s.totals.total === 8)
      const counts = snapshot.services.map((s) => ({name: s.name, count: s.count, errors: s.errors, total: s.total, routes: s.routes.map((r) => [r.route, r.count, r.errors, r.total])}))
      expect(counts.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        {name: 'cart', count: 4, errors: 1, total: 4, routes: [['GET /cart/{id}', 3, 1, 3], ['GET /cart', 1, 0, 1]]},
        // The SDK program's one server span: no http.route, so its name is its route.
        {name: 'checkout', count: 1, errors: 0, total: 1, routes: [['GET /checkout', 1, 0, 1]]},
        {name: 'orders', count: 3, errors: 2, total: 3, routes: [['POST /orders', 3, 2, 3]]},
      ])
      expect(snapshot.totals).toMatchObject({services: 3, count: 8, errors: 3, total: 8})
      expect(snapshot.source).toEqual({kind: 'listen', url: source.url})
      expect(snapshot.window).toBe('1m')
      expect(snapshot.folded).toEqual({services: 0, routes: 0})
      const orders = snapshot.services.find((s) => s.name === 'orders')!
      // Rates over the time seen so far, at least one 10 s slot at the start.
      expect(orders.rate).toBeCloseTo(3 / 10, 9)
      expect(orders.errorRate).toBeCloseTo(2 / 3, 12)
      expect(orders).toMatchObject(sketchOf([100, 80, 60]))
      expect(orders.sparkline!.at(-1)).toBe(3)
      // 7 server and 2 client spans of the first program, 6 spans (1 server) of the second.
      expect(source.stats().traces).toMatchObject({accepted: 15, rejected: 0})
    } finally {
      await source.close()
    }
  })

  it('refuses a non-loopback address unless allowed', async () => {
    const error = await ListenTopSource.start({host: '0.0.0.0', port: 0}).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).code).toBe('RECEIVER_NOT_LOOPBACK')
  })
})

// ---------------------------------------------------------------------------------------------
// Replays

const BASE_MS = Date.parse('2026-11-22T10:00:00Z')
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

/** A server span every `stepMs`, the first ending at `firstEndMs` after BASE_MS. */
function spans(count: number, firstEndMs: number, stepMs: number, durationMs: (i: number) => number, attributes: (i: number) => SpanSpec['attributes']): SpanSpec[] {
  return Array.from({length: count}, (_, i) => {
    const end = BASE_MS + firstEndMs + i * stepMs
    return {traceId: hex(firstEndMs * 1000 + i + 1, 32), spanId: hex(i + 1, 16), name: 'request', startMs: end - durationMs(i), endMs: end, attributes: attributes(i)}
  })
}

/** Two services over 10 s of recorded time: checkout in a length-prefixed .pb file, payments as JSON lines. */
function writeReplayFiles(dir: string): {pb: string; jsonl: string} {
  const cart = spans(10, 0, 1000, (i) => 10 * (i + 1), (i) => ({'http.route': '/cart/{id}', 'http.request.method': 'GET', 'http.response.status_code': i === 9 ? 503 : 200}))
  const orders = spans(4, 500, 2000, () => 250, (i) => ({'http.route': '/orders', 'http.method': 'POST', 'http.status_code': i < 2 ? 500 : 201}))
  const charge = spans(5, 200, 1900, (i) => 30 + i, (i) => ({'http.route': '/charge', 'http.request.method': 'POST', 'http.response.status_code': i === 0 ? 502 : 200}))
  const pb = join(dir, 'checkout.pb')
  const jsonl = join(dir, 'payments.jsonl')
  writeFileSync(pb, lengthPrefixed([tracesProto('checkout', cart), tracesProto('checkout', orders)]))
  writeFileSync(jsonl, tracesJsonLine('payments', charge))
  return {pb, jsonl}
}

function sketchOf(values: readonly number[]): {p50: number; p95: number; p99: number} {
  const sketch = new DDSketch({relativeAccuracy: 0.01})
  for (const value of values) sketch.add(value)
  return {p50: sketch.quantile(0.5)!, p95: sketch.quantile(0.95)!, p99: sketch.quantile(0.99)!}
}

describe('--from', () => {
  it('replays as fast as possible with --speed 0: exact counts, rates over the recorded time, and the last figures stay', async () => {
    const {pb, jsonl} = writeReplayFiles(home.path)
    const source = await ReplayTopSource.open([pb, jsonl], {speed: 0})
    await source.ended
    const snapshot = await source.snapshot()
    // The virtual clock stops at the last span: checkout's tenth cart request, 9 s after the first.
    const last = BASE_MS + 9000
    expect(snapshot.updatedAt).toBe(last)
    expect(snapshot.finished).toBe(true)
    expect(snapshot.source).toEqual({kind: 'files', files: 2, speed: 0})
    expect(snapshot.window).toBe('1m')
    const seconds = 10 // 9 s seen, but at least one 10 s slot
    const sparkline = (count: number) => [...new Array<number>(29).fill(0), count]
    const cartDurations = Array.from({length: 10}, (_, i) => 10 * (i + 1))
    const chargeDurations = [30, 31, 32, 33, 34]
    expect(snapshot.services.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      {
        name: 'checkout',
        rate: 14 / seconds,
        errorRate: 3 / 14,
        ...sketchOf([...cartDurations, 250, 250, 250, 250]),
        sparkline: sparkline(14),
        count: 14,
        errors: 3,
        total: 14,
        routes: [
          {service: 'checkout', route: 'GET /cart/{id}', rate: 10 / seconds, errorRate: 0.1, ...sketchOf(cartDurations), sparkline: sparkline(10), count: 10, errors: 1, total: 10},
          {service: 'checkout', route: 'POST /orders', rate: 4 / seconds, errorRate: 0.5, ...sketchOf([250, 250, 250, 250]), sparkline: sparkline(4), count: 4, errors: 2, total: 4},
        ],
      },
      {
        name: 'payments',
        rate: 5 / seconds,
        errorRate: 0.2,
        ...sketchOf(chargeDurations),
        sparkline: sparkline(5),
        count: 5,
        errors: 1,
        total: 5,
        routes: [{service: 'payments', route: 'POST /charge', rate: 5 / seconds, errorRate: 0.2, ...sketchOf(chargeDurations), sparkline: sparkline(5), count: 5, errors: 1, total: 5}],
      },
    ])
    expect(snapshot.totals).toEqual({rate: 19 / seconds, errorRate: 4 / 19, services: 2, count: 19, errors: 4, total: 19})
    // Later snapshots are the same: the replay is over.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await source.snapshot()).toEqual(snapshot)
    await source.close()
  })

  it('replays at the recorded speed times --speed, on a virtual clock', async () => {
    const {pb, jsonl} = writeReplayFiles(home.path)
    const started = performance.now()
    // 9 s recorded at 30×: 300 ms.
    const source = await ReplayTopSource.open([pb, jsonl], {speed: 30})
    const timed = async () => {
      const before = Date.now()
      const snapshot = await source.snapshot()
      return {snapshot, before, after: Date.now()}
    }

    await new Promise((resolve) => setTimeout(resolve, 50))
    const first = await timed()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const second = await timed()
    for (const {snapshot} of [first, second]) {
      expect(snapshot.finished).toBeUndefined()
      expect(snapshot.totals.total).toBeGreaterThan(0)
      expect(snapshot.totals.total).toBeLessThan(19)
    }

    // The clock is virtual: 30 ms of recorded time per real millisecond.
    const advanced = second.snapshot.updatedAt - first.snapshot.updatedAt
    expect(advanced).toBeGreaterThanOrEqual(30 * (second.before - first.after))
    expect(advanced).toBeLessThanOrEqual(30 * (second.after - first.before))
    expect(second.snapshot.totals.total).toBeGreaterThan(first.snapshot.totals.total!)
    await source.ended
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(280)
    expect(elapsed).toBeLessThan(3000)
    const done = await source.snapshot()
    expect(done).toMatchObject({updatedAt: BASE_MS + 9000, finished: true, totals: {count: 19, errors: 4, total: 19}})
    await source.close()
  })

  it('stops at once when closed in the middle of a replay', async () => {
    const {pb} = writeReplayFiles(home.path)
    const source = await ReplayTopSource.open([pb], {speed: 1})
    await new Promise((resolve) => setTimeout(resolve, 50))
    const started = performance.now()
    await source.close()
    expect(performance.now() - started).toBeLessThan(500)
    expect((await source.snapshot()).finished).toBeUndefined()
  })

  it('a file that does not exist fails when opened; a malformed one fails the snapshot with its place', async () => {
    const missing = await ReplayTopSource.open([join(home.path, 'nope.pb')], {speed: 0}).catch((thrown: unknown) => thrown)
    expect(missing).toBeInstanceOf(InputError)
    expect((missing as InputError).code).toBe('FILE_UNREADABLE')

    const bad = join(home.path, 'bad.jsonl')
    writeFileSync(bad, '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 42}]}]}]}\n')
    const source = await ReplayTopSource.open([bad], {speed: 0})
    await expect(source.ended).rejects.toBeInstanceOf(InputError)
    const error = await source.snapshot().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toMatch(/^.*bad\.jsonl \(offset 0\): /)
    await source.close()
  })
})

// ---------------------------------------------------------------------------------------------
// The view

describe('viewOf', () => {
  const route = (service: string, name: string, rate: number, errorRate: number, p95?: number, p99?: number) => ({service, route: name, rate, errorRate, ...(p95 === undefined ? {} : {p50: 1, p95, p99: p99!})})
  const snapshot: TopSnapshot = {
    source: {kind: 'listen', url: 'http://127.0.0.1:4318'},
    window: '1m',
    updatedAt: 0,
    totals: {rate: 111, errorRate: 0.1, services: 3},
    services: [
      {name: 'alpha', rate: 10, errorRate: 0.5, p50: 1, p95: 300, p99: 900, routes: [route('alpha', 'GET /a', 4, 0.9, 100, 200), route('alpha', 'GET /b', 6, 0.1, 500, 600)]},
      {name: 'beta', rate: 100, errorRate: 0, p50: 1, p95: 50, p99: 2000, routes: [route('beta', 'POST /checkout', 100, 0, 50, 2000)]},
      {name: 'gamma', rate: 1, errorRate: 0.01, routes: [route('gamma', 'GET /checkout/status', 1, 0.01)]},
    ],
    slos: [
      {id: 'slo-a', service: 'alpha', journey: 'browse', objective: '', burn1h: 1, burn6h: 1, burn24h: 1, errorBudgetRemaining: 0.5, status: 'ok'},
      {id: 'slo-b', service: 'beta', journey: 'checkout', objective: '', burn1h: 1, burn6h: 1, burn24h: 1, errorBudgetRemaining: 0.5, status: 'ok'},
    ],
    jobs: [
      {queue: 'alpha.work', depth: 1, running: 1, succeededPerMin: 1, failedPerMin: 0, oldestAgeSeconds: 1},
      {queue: 'beta.work', depth: 1, running: 1, succeededPerMin: 1, failedPerMin: 0, oldestAgeSeconds: 1},
    ],
  }
  const shape = (view: TopView) => {
    const viewed = viewOf(snapshot, view)
    return {services: viewed.services.map((s) => `${s.name}: ${s.routes.map((r) => r.route).join(', ')}`), slos: viewed.slos?.map((s) => s.id), jobs: viewed.jobs?.map((j) => j.queue), totals: viewed.totals}
  }

  it.each<[TopView, string[]]>([
    [{}, ['beta: POST /checkout', 'alpha: GET /b, GET /a', 'gamma: GET /checkout/status']],
    [{sort: 'errors'}, ['alpha: GET /a, GET /b', 'gamma: GET /checkout/status', 'beta: POST /checkout']],
    // A service or route without percentiles sorts last.
    [{sort: 'p95'}, ['alpha: GET /b, GET /a', 'beta: POST /checkout', 'gamma: GET /checkout/status']],
    [{sort: 'p99'}, ['beta: POST /checkout', 'alpha: GET /b, GET /a', 'gamma: GET /checkout/status']],
    [{sort: 'name'}, ['alpha: GET /a, GET /b', 'beta: POST /checkout', 'gamma: GET /checkout/status']],
    [{limit: 1}, ['beta: POST /checkout']],
    [{limit: 2, sort: 'name'}, ['alpha: GET /a, GET /b', 'beta: POST /checkout']],
    [{sort: 'rate', limit: 1, services: ['alpha']}, ['alpha: GET /b']],
  ])('sorts and limits: %j', (view, services) => {
    expect(shape(view).services).toEqual(services)
  })

  it('filters by service name, else by route, in any letter case; SLOs and jobs follow', () => {
    expect(shape({filter: 'CHECKOUT'})).toEqual({
      services: ['beta: POST /checkout', 'gamma: GET /checkout/status'],
      slos: ['slo-b'],
      jobs: [],
      totals: snapshot.totals,
    })
    expect(shape({filter: 'alp'})).toEqual({services: ['alpha: GET /b, GET /a'], slos: ['slo-a'], jobs: ['alpha.work'], totals: snapshot.totals})
    expect(shape({services: ['beta', 'gamma']})).toEqual({services: ['beta: POST /checkout', 'gamma: GET /checkout/status'], slos: ['slo-b'], jobs: ['alpha.work', 'beta.work'], totals: snapshot.totals})
    expect(shape({services: ['nobody']}).services).toEqual([])
  })
})
