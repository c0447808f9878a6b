import {describe, expect, it} from 'vitest'

import {SpanKind, type SpanRecord, StatusCode} from '../../src/lib/otlp/types.js'
import {DDSketch} from '../../src/lib/stats/ddsketch.js'
import {OTHER, RedAggregator} from '../../src/lib/stats/red.js'
import {UNKNOWN_SERVICE, sampleOfSpan} from '../../src/lib/stats/spans.js'
import {seededRandom} from '../helpers/random.js'

/** The exact quantile the sketch approximates: the value of rank floor(q * (n - 1)). */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!
}

const QUANTILES = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]

describe('DDSketch', () => {
  const random = seededRandom(0xd5)
  const distributions: [string, () => number][] = [
    ['uniform 0–1000 ms', () => random() * 1000],
    ['exponential, mean 50 ms', () => -50 * Math.log(1 - random())],
    ['log-normal (heavy tail)', () => Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()))],
    ['Pareto, alpha 1.2 (very heavy tail)', () => 5 / (1 - random()) ** (1 / 1.2)],
    ['bimodal: 95% fast, 5% timeouts', () => (random() < 0.95 ? 2 + random() * 8 : 30_000 + random() * 100)],
  ]

  it.each(distributions)('keeps every quantile within 1 percent of the exact one: %s, 100,000 values', (_label, draw) => {
    const sketch = new DDSketch({relativeAccuracy: 0.01})
    const values = Array.from({length: 100_000}, draw)
    for (const value of values) sketch.add(value)
    const sorted = [...values].sort((a, b) => a - b)
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q)
      const estimate = sketch.quantile(q)!
      expect(Math.abs(estimate - exact) / exact, `q=${q}: ${estimate} vs ${exact}`).toBeLessThanOrEqual(0.01 + 1e-12)
    }

    expect(sketch.count).toBe(100_000)
    expect(sketch.min).toBe(sorted[0])
    expect(sketch.max).toBe(sorted.at(-1))
    expect(sketch.quantile(0)).toBe(sorted[0])
    expect(sketch.quantile(1)).toBe(sorted.at(-1))
  })

  it('merges: two halves give the same quantiles as the whole', () => {
    const whole = new DDSketch()
    const left = new DDSketch()
    const right = new DDSketch()
    for (let i = 1; i <= 20_000; i++) {
      const value = (i * 7919) % 5000
      whole.add(value)
      ;(i % 2 === 0 ? left : right).add(value)
    }

    left.merge(right)
    for (const q of QUANTILES) expect(left.quantile(q)).toBe(whole.quantile(q))
    expect(left.count).toBe(whole.count)
    expect(left.sum).toBe(whole.sum)
  })

  it('counts zero (and values at the minimum) apart, and is empty after clear()', () => {
    const sketch = new DDSketch()
    for (let i = 0; i < 10; i++) sketch.add(0)
    for (let i = 0; i < 10; i++) sketch.add(1e-10)
    for (let i = 0; i < 20; i++) sketch.add(100)
    expect(sketch.quantile(0.45)).toBe(0)
    expect(Math.abs(sketch.quantile(0.95)! - 100)).toBeLessThanOrEqual(1)
    expect(sketch.bucketCount).toBe(1)
    sketch.clear()
    expect(sketch.count).toBe(0)
    expect(sketch.quantile(0.5)).toBeUndefined()
  })

  it('stays within maxBuckets, giving up accuracy only at the low end', () => {
    const sketch = new DDSketch({relativeAccuracy: 0.01, maxBuckets: 100})
    const values: number[] = []
    for (let exponent = -6; exponent <= 6; exponent += 0.001) values.push(10 ** exponent)
    for (const value of values) sketch.add(value)
    expect(sketch.bucketCount).toBeLessThanOrEqual(100)
    const sorted = [...values].sort((a, b) => a - b)
    for (const q of [0.99, 0.999]) expect(Math.abs(sketch.quantile(q)! - exactQuantile(sorted, q)) / exactQuantile(sorted, q)).toBeLessThanOrEqual(0.01)
  })

  it('refuses negative values, NaN and infinity, and quantiles outside 0–1', () => {
    const sketch = new DDSketch()
    expect(() => sketch.add(-1)).toThrow('DDSketch takes non-negative finite values, not -1')
    expect(() => sketch.add(Number.NaN)).toThrow(RangeError)
    expect(() => sketch.add(Number.POSITIVE_INFINITY)).toThrow(RangeError)
    sketch.add(1)
    expect(() => sketch.quantile(1.5)).toThrow('a quantile is between 0 and 1, not 1.5')
    expect(() => new DDSketch().merge(new DDSketch({relativeAccuracy: 0.02}))).toThrow('only sketches of the same relative accuracy merge')
  })
})

describe('RedAggregator', () => {
  const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)

  it('gives exact counts, rates and error rates per service and route over the window', () => {
    const red = new RedAggregator({windowMs: 60_000, slots: 6})
    // 60 s of traffic: api 10 req/s (1 in 10 an error), worker 1 req/s.
    for (let second = 0; second < 60; second++) {
      for (let i = 0; i < 10; i++) red.add({service: 'api', route: i < 7 ? 'GET /orders' : 'POST /orders', durationMs: 10 + i, error: i === 9}, T0 + second * 1000 + i)
      red.add({service: 'worker', durationMs: 250, error: false}, T0 + second * 1000 + 500)
    }

    const snapshot = red.snapshot(T0 + 59_999)
    const api = snapshot.services.find((s) => s.service === 'api')!
    expect(api).toMatchObject({count: 600, errors: 60, total: 600})
    expect(api.rate).toBeCloseTo(10, 1)
    expect(api.errorRate).toBeCloseTo(0.1, 10)
    expect(snapshot.routes.api!.map((r) => [r.route, r.count, r.errors])).toEqual([['GET /orders', 420, 0], ['POST /orders', 180, 60]])
    expect(snapshot.routes.worker).toBeUndefined()
    expect(snapshot.totals).toMatchObject({count: 660, errors: 60, total: 660})
    expect(snapshot.folded).toEqual({services: 0, routes: 0})
  })

  it('divides by the time the window slots cover, so a steady rate reads as itself', () => {
    const red = new RedAggregator({windowMs: 60_000, slots: 6})
    // 100 requests a second for 5 minutes, with snapshots at several points inside a slot as it goes.
    const at = new Set([240_000, 245_000, 249_990, 299_990])
    for (let ms = 0; ms < 300_000; ms += 10) {
      red.add({service: 'api', durationMs: 1, error: false}, T0 + ms)
      if (at.has(ms)) expect(red.snapshot(T0 + ms).services[0]!.rate, `at ${ms} ms`).toBeCloseTo(100, 0)
    }
  })

  it('gives percentiles within 1% of the exact ones over the window', () => {
    const red = new RedAggregator()
    const random = seededRandom(7)
    const durations: number[] = []
    for (let i = 0; i < 30_000; i++) {
      const duration = -40 * Math.log(1 - random())
      durations.push(duration)
      red.add({service: 'api', route: 'GET /x', durationMs: duration, error: false}, T0 + i)
    }

    const sorted = durations.sort((a, b) => a - b)
    const api = red.snapshot(T0 + 30_000).services[0]!
    for (const [q, value] of [[0.5, api.p50], [0.95, api.p95], [0.99, api.p99]] as const) {
      expect(Math.abs(value! - exactQuantile(sorted, q)) / exactQuantile(sorted, q)).toBeLessThanOrEqual(0.01)
    }
  })

  it('slides: what is older than the window leaves the rates and percentiles, not the totals', () => {
    const red = new RedAggregator({windowMs: 60_000, slots: 6})
    for (let i = 0; i < 100; i++) red.add({service: 'api', durationMs: 1000, error: true}, T0 + i)
    for (let i = 0; i < 50; i++) red.add({service: 'api', durationMs: 5, error: false}, T0 + 90_000 + i)
    const api = red.snapshot(T0 + 90_100).services[0]!
    expect(api).toMatchObject({count: 50, errors: 0, errorRate: 0, total: 150})
    expect(api.p99).toBeCloseTo(5, 1)
    expect(red.snapshot(T0 + 200_000).services[0]).toMatchObject({count: 0, rate: 0, total: 150})
    expect(red.snapshot(T0 + 200_000).services[0]!.p50).toBeUndefined()
  })

  it('draws per-minute sparklines, oldest first, ending at the current minute', () => {
    const red = new RedAggregator({sparklineMinutes: 5})
    for (let minute = 0; minute < 4; minute++) for (let i = 0; i <= minute; i++) red.add({service: 'api', durationMs: 1, error: false}, T0 + minute * 60_000 + i)
    expect(red.snapshot(T0 + 3 * 60_000 + 30_000).services[0]!.sparkline).toEqual([0, 1, 2, 3, 4])
    expect(red.snapshot(T0 + 5 * 60_000).services[0]!.sparkline).toEqual([2, 3, 4, 0, 0])
  })

  it('bounds the series: services and routes past the caps are counted under "other", and the snapshot says how many', () => {
    const red = new RedAggregator({maxServices: 5, maxRoutes: 10})
    for (let s = 0; s < 20; s++) for (let r = 0; r < 5; r++) red.add({service: `svc-${s}`, route: `GET /r${r}`, durationMs: 1, error: false}, T0 + s)
    const snapshot = red.snapshot(T0 + 1000)
    expect(snapshot.services.map((s) => s.service)).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-3', OTHER])
    expect(snapshot.services.find((s) => s.service === OTHER)!.count).toBe(16 * 5)
    expect(snapshot.folded.services).toBe(16)
    const routeCount = Object.values(snapshot.routes).reduce((sum, routes) => sum + routes.length, 0)
    expect(routeCount).toBeLessThanOrEqual(10 + 5)
    expect(snapshot.folded.routes).toBeGreaterThan(0)
    expect(snapshot.totals.count).toBe(100)
  })
})

describe('sampleOfSpan', () => {
  const resource = {attributes: [{key: 'service.name', value: {kind: 'string' as const, value: 'checkout'}}], droppedAttributesCount: 0, schemaUrl: ''}
  const scope = {name: 's', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
  const span = (overrides: Partial<SpanRecord>): SpanRecord => ({
    traceId: 'ab'.repeat(16),
    spanId: 'cd'.repeat(8),
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: 'GET /cart',
    kind: SpanKind.SERVER,
    startTimeUnixNano: 1_000_000_000n,
    endTimeUnixNano: 1_012_500_000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: {code: StatusCode.UNSET, message: ''},
    resource,
    scope,
    ...overrides,
  })
  const str = (key: string, value: string) => ({key, value: {kind: 'string' as const, value}})
  const int = (key: string, value: number) => ({key, value: {kind: 'int' as const, value: BigInt(value)}})

  it('reads the current semantic conventions: method + route, status >= 500 is an error', () => {
    expect(sampleOfSpan(span({attributes: [str('http.request.method', 'POST'), str('http.route', '/cart/{id}'), int('http.response.status_code', 503)]}))).toEqual({
      service: 'checkout',
      route: 'POST /cart/{id}',
      durationMs: 12.5,
      error: true,
    })
  })

  it('falls back to http.method and http.status_code; a 404 is not an error', () => {
    expect(sampleOfSpan(span({attributes: [str('http.method', 'GET'), str('http.route', '/items'), int('http.status_code', 404)]}))).toMatchObject({route: 'GET /items', error: false})
  })

  it('uses the span name without a route, counts status ERROR, and names a service-less span', () => {
    expect(sampleOfSpan(span({status: {code: StatusCode.ERROR, message: 'boom'}, resource: {...resource, attributes: []}}))).toEqual({service: UNKNOWN_SERVICE, route: 'GET /cart', durationMs: 12.5, error: true})
  })

  it('skips spans that are not server spans', () => {
    for (const kind of [SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.UNSPECIFIED]) expect(sampleOfSpan(span({kind}))).toBeUndefined()
  })
})
