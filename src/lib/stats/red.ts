/**
 * Rate, errors and duration (RED) per service and per route, from server spans, over a sliding
 * window, with per-minute sparklines. Pure: the caller says what time it is, so a live receiver,
 * a replay at recorded speed and a test all drive it the same way.
 *
 * Memory is bounded: at most `maxServices` services and `maxRoutes` routes are tracked; spans of
 * any further series are counted under "other", and the snapshot says how many series were folded.
 */
import {DDSketch} from './ddsketch.js'

export interface SpanSample {
  service: string
  /** e.g. "GET /api/orders/{id}"; undefined when the span says nothing about its route. */
  route?: string
  durationMs: number
  error: boolean
}

export interface RedOptions {
  /** The sliding window rates and percentiles cover. Default 60 s. */
  windowMs?: number
  /** How many slots the window is cut into: it slides by windowMs / slots. Default 6. */
  slots?: number
  /** How many minutes the sparklines show. Default 30. */
  sparklineMinutes?: number
  maxServices?: number
  maxRoutes?: number
  /** The sketch's relative error for percentiles. Default 0.01 (1%). */
  relativeAccuracy?: number
}

export interface SeriesSnapshot {
  service: string
  /** Absent on a service's own line. */
  route?: string
  /** Requests per second over the window. */
  rate: number
  /** Errors ÷ requests over the window (0 when there were none). */
  errorRate: number
  /** Requests and errors in the window. */
  count: number
  errors: number
  /** Duration percentiles over the window, in milliseconds; undefined with no requests. */
  p50?: number
  p95?: number
  p99?: number
  /** Requests since the start. */
  total: number
  /** Requests per minute, oldest first, the last entry being the current minute. */
  sparkline: number[]
}

export interface RedSnapshot {
  atMs: number
  windowMs: number
  services: SeriesSnapshot[]
  /** Routes by service name. */
  routes: Record<string, SeriesSnapshot[]>
  totals: {rate: number; errorRate: number; count: number; errors: number; total: number}
  /** Series beyond the caps, counted under OTHER. */
  folded: {services: number; routes: number}
}

export const OTHER = 'other'

/** One series: a ring of window slots (count, errors, a sketch each) and a ring of minutes. */
class Series {
  readonly service: string
  readonly route: string | undefined
  total = 0
  readonly #slotIds: Float64Array
  readonly #counts: Float64Array
  readonly #errors: Float64Array
  readonly #sketches: DDSketch[]
  readonly #minuteIds: Float64Array
  readonly #minuteCounts: Float64Array

  constructor(service: string, route: string | undefined, slots: number, minutes: number, relativeAccuracy: number) {
    this.service = service
    this.route = route
    this.#slotIds = new Float64Array(slots).fill(-1)
    this.#counts = new Float64Array(slots)
    this.#errors = new Float64Array(slots)
    this.#sketches = Array.from({length: slots}, () => new DDSketch({relativeAccuracy}))
    this.#minuteIds = new Float64Array(minutes).fill(-1)
    this.#minuteCounts = new Float64Array(minutes)
  }

  add(sample: SpanSample, slotId: number, minuteId: number): void {
    this.total += 1
    const slot = slotId % this.#slotIds.length
    if (this.#slotIds[slot] !== slotId) {
      // An old sample for a slot already reused is still counted in the total, not in the window.
      if (this.#slotIds[slot]! > slotId) return this.#addMinute(minuteId)
      this.#slotIds[slot] = slotId
      this.#counts[slot] = 0
      this.#errors[slot] = 0
      this.#sketches[slot]!.clear()
    }

    this.#counts[slot] = this.#counts[slot]! + 1
    if (sample.error) this.#errors[slot] = this.#errors[slot]! + 1
    this.#sketches[slot]!.add(Math.max(0, sample.durationMs))
    this.#addMinute(minuteId)
  }

  /** Sums the slots inside the window ending at slot `nowSlot` into `into`. */
  collect(nowSlot: number, into: {count: number; errors: number; sketch: DDSketch}): void {
    const slots = this.#slotIds.length
    for (let slot = 0; slot < slots; slot++) {
      const id = this.#slotIds[slot]!
      if (id > nowSlot - slots && id <= nowSlot) {
        into.count += this.#counts[slot]!
        into.errors += this.#errors[slot]!
        into.sketch.merge(this.#sketches[slot]!)
      }
    }
  }

  sparkline(nowMinute: number): number[] {
    const minutes = this.#minuteIds.length
    const line = new Array<number>(minutes).fill(0)
    for (let slot = 0; slot < minutes; slot++) {
      const age = nowMinute - this.#minuteIds[slot]!
      if (age >= 0 && age < minutes) line[minutes - 1 - age] = this.#minuteCounts[slot]!
    }

    return line
  }

  #addMinute(minuteId: number): void {
    const slot = minuteId % this.#minuteIds.length
    if (this.#minuteIds[slot] !== minuteId) {
      if (this.#minuteIds[slot]! > minuteId) return
      this.#minuteIds[slot] = minuteId
      this.#minuteCounts[slot] = 0
    }

    this.#minuteCounts[slot] = this.#minuteCounts[slot]! + 1
  }
}

export class RedAggregator {
  readonly #windowMs: number
  readonly #slots: number
  readonly #slotMs: number
  readonly #minutes: number
  readonly #maxServices: number
  readonly #maxRoutes: number
  readonly #accuracy: number
  readonly #services = new Map<string, Series>()
  /** Routes by "service\u0000route". */
  readonly #routes = new Map<string, Series>()
  #routeCount = 0
  readonly #foldedServices = new Set<string>()
  readonly #foldedRoutes = new Set<string>()
  #firstMs: number | undefined

  constructor(options: RedOptions = {}) {
    this.#windowMs = options.windowMs ?? 60_000
    this.#slots = options.slots ?? 6
    this.#slotMs = this.#windowMs / this.#slots
    this.#minutes = options.sparklineMinutes ?? 30
    this.#maxServices = options.maxServices ?? 200
    this.#maxRoutes = options.maxRoutes ?? 2000
    this.#accuracy = options.relativeAccuracy ?? 0.01
  }

  /** Counts one server span that ended (or arrived) at `atMs`. */
  add(sample: SpanSample, atMs: number): void {
    this.#firstMs ??= atMs
    const slotId = Math.floor(atMs / this.#slotMs)
    const minuteId = Math.floor(atMs / 60_000)
    const service = this.#serviceSeries(sample.service)
    service.add(sample, slotId, minuteId)
    if (sample.route !== undefined) this.#routeSeries(service.service, sample.route).add(sample, slotId, minuteId)
  }

  snapshot(nowMs: number): RedSnapshot {
    const nowSlot = Math.floor(nowMs / this.#slotMs)
    const nowMinute = Math.floor(nowMs / 60_000)
    // The slots in the window cover the full ones before the current slot and the part of it gone by;
    // at the start, only the time seen so far (at least one slot, so a first burst does not read as huge).
    const covered = (this.#slots - 1) * this.#slotMs + (nowMs - nowSlot * this.#slotMs)
    const seconds = Math.max(this.#slotMs, Math.min(covered, nowMs - (this.#firstMs ?? nowMs))) / 1000
    const totals = {count: 0, errors: 0, total: 0}
    const services: SeriesSnapshot[] = []
    for (const series of this.#services.values()) {
      const snapshot = this.#snapshotOf(series, nowSlot, nowMinute, seconds)
      services.push(snapshot)
      totals.count += snapshot.count
      totals.errors += snapshot.errors
      totals.total += snapshot.total
    }

    const routes: Record<string, SeriesSnapshot[]> = {}
    for (const series of this.#routes.values()) (routes[series.service] ??= []).push(this.#snapshotOf(series, nowSlot, nowMinute, seconds))
    return {
      atMs: nowMs,
      windowMs: this.#windowMs,
      services,
      routes,
      totals: {rate: totals.count / seconds, errorRate: totals.count === 0 ? 0 : totals.errors / totals.count, ...totals},
      folded: {services: this.#foldedServices.size, routes: this.#foldedRoutes.size},
    }
  }

  #snapshotOf(series: Series, nowSlot: number, nowMinute: number, seconds: number): SeriesSnapshot {
    const window = {count: 0, errors: 0, sketch: new DDSketch({relativeAccuracy: this.#accuracy})}
    series.collect(nowSlot, window)
    const percentiles = window.count === 0 ? {} : {p50: window.sketch.quantile(0.5), p95: window.sketch.quantile(0.95), p99: window.sketch.quantile(0.99)}
    return {
      service: series.service,
      ...(series.route === undefined ? {} : {route: series.route}),
      rate: window.count / seconds,
      errorRate: window.count === 0 ? 0 : window.errors / window.count,
      count: window.count,
      errors: window.errors,
      ...percentiles,
      total: series.total,
      sparkline: series.sparkline(nowMinute),
    }
  }

  #serviceSeries(name: string): Series {
    let series = this.#services.get(name)
    if (series) return series
    if (this.#services.size >= this.#maxServices - 1 && name !== OTHER) {
      remember(this.#foldedServices, name)
      return this.#serviceSeries(OTHER)
    }

    series = new Series(name, undefined, this.#slots, this.#minutes, this.#accuracy)
    this.#services.set(name, series)
    return series
  }

  #routeSeries(service: string, route: string): Series {
    const key = `${service}\u0000${route}`
    let series = this.#routes.get(key)
    if (series) return series
    if (this.#routeCount >= this.#maxRoutes - 1 && route !== OTHER) {
      remember(this.#foldedRoutes, key)
      return this.#routeSeries(service, OTHER)
    }

    series = new Series(service, route, this.#slots, this.#minutes, this.#accuracy)
    this.#routes.set(key, series)
    this.#routeCount += 1
    return series
  }
}

/** Remembers folded names to count them, up to a bound: past it the count is a lower bound. */
function remember(names: Set<string>, name: string): void {
  if (names.size < 100_000) names.add(name)
}
