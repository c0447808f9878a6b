/**
 * Seeded random OTLP requests in the oracle's message shapes (test/helpers/otlp-oracle.ts), for
 * round trips against the codec under test. `canonical` requests are exactly what the canonical
 * encoder writes (every modelled message present, no empty groups, no unknown fields), so their
 * bytes can be compared too; the others add what a decoder must take in its stride: missing
 * messages, empty groups, unknown fields of every wire type (groups included) at every level, and
 * the profiles-only string-table indexes.
 */
import type {Signal} from '../../src/lib/otlp/types.js'
import type {
  OAnyValue,
  OBuckets,
  OExemplar,
  OKeyValue,
  OLink,
  OLogRecord,
  OMessage,
  OMetric,
  OMetricData,
  ONumberDataPoint,
  OPointValue,
  ORecords,
  ORequest,
  OResourceGroup,
  OScopeGroup,
  OSpan,
  OUnknown,
} from './otlp-oracle.js'
import {seededRandom} from './random.js'

export interface RandomOptions {
  canonical: boolean
}

const KEYS = ['service.name', 'http.method', 'http.route', 'http.status_code', 'net.peer.name', 'db.statement', 'rpc.system', 'k', '', 'user_agent.original']
const WORDS = ['GET', 'POST', '/api/v1/users/{id}', 'checkout', 'ok', 'é', 'Grüße', '中文字符', '🙂 emoji', 'a"quote', 'back\\slash', 'new\nline', '\u0000nul']

export class OtlpRandom {
  readonly next: () => number

  constructor(
    seed: number,
    readonly options: RandomOptions,
  ) {
    this.next = seededRandom(seed)
  }

  int(below: number): number {
    return Math.floor(this.next() * below)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  count(max: number): number {
    // Mostly small, sometimes none, now and then the maximum.
    const r = this.next()
    if (r < 0.25) return 0
    if (r > 0.95) return max
    return 1 + this.int(Math.max(1, max - 1))
  }

  string(): string {
    const r = this.next()
    if (r < 0.15) return ''
    if (r < 0.45) return this.pick(KEYS)
    if (r < 0.65) return this.pick(WORDS)
    if (r < 0.7) return 'x'.repeat(41 + this.int(300)) + this.pick(WORDS)
    let out = ''
    const n = this.int(30)
    for (let i = 0; i < n; i++) out += String.fromCharCode(32 + this.int(95))
    return out
  }

  bytes(max = 20): Uint8Array {
    const out = new Uint8Array(this.int(max + 1))
    for (let i = 0; i < out.length; i++) out[i] = this.int(256)
    return out
  }

  /** A trace (16) or span (8) id; now and then empty or of an odd length. */
  id(length: 8 | 16): Uint8Array {
    const r = this.next()
    if (r < 0.1) return new Uint8Array(0)
    if (r < 0.15) return this.bytes(20)
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) out[i] = this.int(256)
    return out
  }

  uint32(): number {
    return this.pick([0, 0, 1, 127, 128, 300, 0xffff_ffff, 0x8000_0000, this.int(0x1_0000_0000)])
  }

  /** An enum value: mostly a known one, sometimes a number the enum does not name (negative too). */
  enumValue(known: number): number {
    const r = this.next()
    if (r < 0.85) return this.int(known)
    return this.pick([known, 77, -1, -2_147_483_648, 2_147_483_647])
  }

  uint64(): bigint {
    const random = (BigInt(this.int(0x1_0000_0000)) << 32n) | BigInt(this.int(0x1_0000_0000))
    return this.pick([0n, 1n, 0xffff_ffff_ffff_ffffn, 0x1_0000_0000n, 1_700_000_000_123_456_789n, random, BigInt(this.int(1000))])
  }

  int64(): bigint {
    if (this.chance(0.15)) return this.pick([0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, -1_700_000_000_000_000_000n])
    return BigInt.asIntN(64, this.uint64())
  }

  /** A double; `negativeZero` only where the field keeps -0 apart from 0 (oneofs, optionals, lists). */
  double(negativeZero = true): number {
    const values = [0, 0.5, -1.25, 1e308, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, this.next() * 1e6, -this.next()]
    if (negativeZero) values.push(-0)
    return this.pick(values)
  }

  time(): bigint {
    return this.chance(0.8) ? 1_700_000_000_000_000_000n + BigInt(this.int(1e9)) : this.uint64()
  }

  /** Unknown fields of every wire type for a message, or none (always none when canonical). */
  unknown(): Partial<OMessage> {
    if (this.options.canonical || !this.chance(0.15)) return {}
    const fields: OUnknown[] = []
    const n = 1 + this.int(3)
    for (let i = 0; i < n; i++) {
      const no = this.pick([17, 20, 99, 1000, 536_870_911])
      switch (this.int(5)) {
        case 0: {
          fields.push({no, wireType: 0, data: this.pick([new Uint8Array([0]), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])])})
          break
        }

        case 1: {
          fields.push({no, wireType: 1, data: this.bytesOf(8)})
          break
        }

        case 2: {
          const body = this.bytes(30)
          fields.push({no, wireType: 2, data: new Uint8Array([body.length, ...body])})
          break
        }

        case 3: {
          fields.push({no, wireType: 5, data: this.bytesOf(4)})
          break
        }

        default: {
          // A group: a varint field and a nested group inside, then the end-group tag of `no`.
          fields.push({no, wireType: 3, data: new Uint8Array([...varint((1 << 3) | 0), 5, ...varint((2 << 3) | 3), ...varint((2 << 3) | 4), ...varint((no << 3) | 4)])})
        }
      }
    }

    return {$unknown: fields}
  }

  private bytesOf(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }

  anyValue(depth: number): OAnyValue {
    const kinds = depth > 0 ? 9 : 7
    let value: OAnyValue['value']
    switch (this.int(kinds)) {
      case 0: {
        value = {case: 'stringValue', value: this.string()}
        break
      }

      case 1: {
        value = {case: 'boolValue', value: this.chance(0.5)}
        break
      }

      case 2: {
        value = {case: 'intValue', value: this.int64()}
        break
      }

      case 3: {
        value = {case: 'doubleValue', value: this.double()}
        break
      }

      case 4: {
        value = {case: 'bytesValue', value: this.bytes()}
        break
      }

      case 5: {
        value = !this.options.canonical && this.chance(0.3) ? {case: 'stringValueStrindex', value: this.int(100)} : {case: undefined}
        break
      }

      case 6: {
        value = {case: 'stringValue', value: this.pick(WORDS)}
        break
      }

      case 7: {
        const values: OAnyValue[] = []
        for (let i = this.count(4); i > 0; i--) values.push(this.anyValue(depth - 1))
        value = {case: 'arrayValue', value: {values, ...this.unknown()}}
        break
      }

      default: {
        value = {case: 'kvlistValue', value: {values: this.keyValues(depth - 1, 4), ...this.unknown()}}
      }
    }

    return {value, ...this.unknown()}
  }

  keyValues(depth = 2, max = 6): OKeyValue[] {
    const out: OKeyValue[] = []
    for (let i = this.count(max); i > 0; i--) {
      const missingValue = !this.options.canonical && this.chance(0.1)
      out.push({
        key: this.string(),
        keyStrindex: !this.options.canonical && this.chance(0.05) ? 1 + this.int(50) : 0,
        ...(missingValue ? {} : {value: this.anyValue(depth)}),
        ...this.unknown(),
      })
    }

    return out
  }

  span(): OSpan {
    const links: OLink[] = []
    for (let i = this.count(3); i > 0; i--) {
      links.push({
        traceId: this.id(16),
        spanId: this.id(8),
        traceState: this.chance(0.3) ? 'rojo=00f067aa0ba902b7' : '',
        attributes: this.keyValues(1, 3),
        droppedAttributesCount: this.uint32(),
        flags: this.uint32(),
        ...this.unknown(),
      })
    }

    const span: OSpan = {
      traceId: this.id(16),
      spanId: this.id(8),
      traceState: this.chance(0.2) ? this.string() : '',
      parentSpanId: this.chance(0.3) ? new Uint8Array(0) : this.id(8),
      flags: this.uint32(),
      name: this.string(),
      kind: this.enumValue(6),
      startTimeUnixNano: this.time(),
      endTimeUnixNano: this.time(),
      attributes: this.keyValues(),
      droppedAttributesCount: this.uint32(),
      events: Array.from({length: this.count(3)}, () => ({
        timeUnixNano: this.time(),
        name: this.string(),
        attributes: this.keyValues(1, 3),
        droppedAttributesCount: this.uint32(),
        ...this.unknown(),
      })),
      droppedEventsCount: this.uint32(),
      links,
      droppedLinksCount: this.uint32(),
      ...this.unknown(),
    }
    if (this.options.canonical || this.chance(0.8)) span.status = {message: this.chance(0.5) ? this.string() : '', code: this.enumValue(3), ...this.unknown()}
    return span
  }

  logRecord(): OLogRecord {
    const log: OLogRecord = {
      timeUnixNano: this.chance(0.8) ? this.time() : 0n,
      observedTimeUnixNano: this.chance(0.8) ? this.time() : 0n,
      severityNumber: this.enumValue(25),
      severityText: this.chance(0.5) ? this.pick(['INFO', 'WARN', 'ERROR', '']) : '',
      attributes: this.keyValues(),
      droppedAttributesCount: this.uint32(),
      flags: this.uint32(),
      traceId: this.id(16),
      spanId: this.id(8),
      eventName: this.chance(0.3) ? this.string() : '',
      ...this.unknown(),
    }
    if (this.chance(0.85)) log.body = this.anyValue(3)
    return log
  }

  private pointValue(): OPointValue {
    const r = this.next()
    if (r < 0.45) return {case: 'asDouble', value: this.double()}
    if (r < 0.9) return {case: 'asInt', value: this.int64()}
    return {case: undefined}
  }

  private exemplars(): OExemplar[] {
    return Array.from({length: this.count(2)}, () => ({
      filteredAttributes: this.keyValues(1, 3),
      timeUnixNano: this.time(),
      value: this.pointValue(),
      spanId: this.id(8),
      traceId: this.id(16),
      ...this.unknown(),
    }))
  }

  private numberPoints(): ONumberDataPoint[] {
    return Array.from({length: this.count(3)}, () => ({
      attributes: this.keyValues(1, 4),
      startTimeUnixNano: this.time(),
      timeUnixNano: this.time(),
      value: this.pointValue(),
      exemplars: this.exemplars(),
      flags: this.uint32(),
      ...this.unknown(),
    }))
  }

  private buckets(): OBuckets {
    return {offset: this.pick([0, 1, -1, 2_147_483_647, -2_147_483_648, this.int(200) - 100]), bucketCounts: Array.from({length: this.count(6)}, () => this.uint64()), ...this.unknown()}
  }

  private optionalDouble(): {value?: number} {
    return this.chance(0.6) ? {value: this.double()} : {}
  }

  metricData(): OMetricData {
    switch (this.int(6)) {
      case 0: {
        return {case: 'gauge', value: {dataPoints: this.numberPoints(), ...this.unknown()}}
      }

      case 1: {
        return {case: 'sum', value: {dataPoints: this.numberPoints(), aggregationTemporality: this.enumValue(3), isMonotonic: this.chance(0.5), ...this.unknown()}}
      }

      case 2: {
        return {
          case: 'histogram',
          value: {
            aggregationTemporality: this.enumValue(3),
            dataPoints: Array.from({length: this.count(3)}, () => ({
              attributes: this.keyValues(1, 4),
              startTimeUnixNano: this.time(),
              timeUnixNano: this.time(),
              count: this.uint64(),
              ...optional('sum', this.optionalDouble()),
              bucketCounts: Array.from({length: this.count(8)}, () => this.uint64()),
              explicitBounds: Array.from({length: this.count(7)}, () => this.double()),
              exemplars: this.exemplars(),
              flags: this.uint32(),
              ...optional('min', this.optionalDouble()),
              ...optional('max', this.optionalDouble()),
              ...this.unknown(),
            })),
            ...this.unknown(),
          },
        }
      }

      case 3: {
        return {
          case: 'exponentialHistogram',
          value: {
            aggregationTemporality: this.enumValue(3),
            dataPoints: Array.from({length: this.count(3)}, () => {
              const point = {
                attributes: this.keyValues(1, 4),
                startTimeUnixNano: this.time(),
                timeUnixNano: this.time(),
                count: this.uint64(),
                ...optional('sum', this.optionalDouble()),
                scale: this.pick([0, 1, -1, 20, -10, 2_147_483_647, -2_147_483_648]),
                zeroCount: this.uint64(),
                flags: this.uint32(),
                exemplars: this.exemplars(),
                ...optional('min', this.optionalDouble()),
                ...optional('max', this.optionalDouble()),
                zeroThreshold: this.double(false),
                ...this.unknown(),
              }
              const canonical = this.options.canonical
              return {...point, ...(canonical || this.chance(0.8) ? {positive: this.buckets()} : {}), ...(canonical || this.chance(0.8) ? {negative: this.buckets()} : {})}
            }),
            ...this.unknown(),
          },
        }
      }

      case 4: {
        return {
          case: 'summary',
          value: {
            dataPoints: Array.from({length: this.count(3)}, () => ({
              attributes: this.keyValues(1, 4),
              startTimeUnixNano: this.time(),
              timeUnixNano: this.time(),
              count: this.uint64(),
              sum: this.double(false),
              quantileValues: Array.from({length: this.count(4)}, () => ({quantile: this.double(false), value: this.double(false), ...this.unknown()})),
              flags: this.uint32(),
              ...this.unknown(),
            })),
            ...this.unknown(),
          },
        }
      }

      default: {
        return {case: undefined}
      }
    }
  }

  metric(): OMetric {
    return {
      name: this.string(),
      description: this.chance(0.5) ? this.string() : '',
      unit: this.chance(0.5) ? this.pick(['ms', 's', 'By', '1', '{request}']) : '',
      data: this.metricData(),
      metadata: this.chance(0.2) ? this.keyValues(1, 3) : [],
      ...this.unknown(),
    }
  }

  record<S extends Signal>(signal: S): ORecords[S] {
    const record = signal === 'traces' ? this.span() : signal === 'logs' ? this.logRecord() : this.metric()
    return record as ORecords[S]
  }

  /** A request of 1–3 resource groups of 1–3 scope groups of 1–4 records (some empty when not canonical). */
  request<S extends Signal>(signal: S, maxRecords = 4): ORequest<S> {
    const canonical = this.options.canonical
    const groups: OResourceGroup<ORecords[S]>[] = []
    for (let g = 1 + this.int(3); g > 0; g--) {
      const scopes: OScopeGroup<ORecords[S]>[] = []
      for (let s = canonical || this.chance(0.9) ? 1 + this.int(3) : 0; s > 0; s--) {
        const records: ORecords[S][] = []
        for (let r = canonical || this.chance(0.9) ? 1 + this.int(maxRecords) : 0; r > 0; r--) records.push(this.record(signal))
        const scoped: OScopeGroup<ORecords[S]> = {records, schemaUrl: this.chance(0.3) ? 'https://opentelemetry.io/schemas/1.24.0' : '', ...this.unknown()}
        if (canonical || this.chance(0.85)) scoped.scope = {name: this.string(), version: this.chance(0.5) ? '1.2.3' : '', attributes: this.keyValues(1, 3), droppedAttributesCount: this.uint32(), ...this.unknown()}
        scopes.push(scoped)
      }

      const group: OResourceGroup<ORecords[S]> = {scopes, schemaUrl: this.chance(0.3) ? 'https://opentelemetry.io/schemas/1.21.0' : '', ...this.unknown()}
      if (canonical || this.chance(0.85)) group.resource = {attributes: this.keyValues(2, 8), droppedAttributesCount: this.uint32(), ...this.unknown()}
      groups.push(group)
    }

    return groups
  }
}

function optional<K extends string>(key: K, maybe: {value?: number}): Partial<Record<K, number>> {
  return maybe.value === undefined ? {} : ({[key]: maybe.value} as Record<K, number>)
}

function varint(value: number): number[] {
  const out: number[] = []
  let v = value >>> 0
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v >>>= 7
  }

  out.push(v)
  return out
}
