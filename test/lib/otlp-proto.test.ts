import {create, fromBinary, toBinary, type DescMessage} from '@bufbuild/protobuf'
import {describe, expect, it} from 'vitest'

import {decodeLogs, decodeMetrics, decodeTraces, encodeLogs, encodeMetrics, encodeTraces} from '../../src/lib/otlp/index.js'
import type {KeyValue, Signal, SpanEvent} from '../../src/lib/otlp/types.js'
import {ByteMemo, ProtoReader} from '../../src/lib/otlp/wire.js'
import {flattenRequest, requestGroups, requestInit, requestSchemas, type ORequest} from '../helpers/otlp-oracle.js'
import {OtlpRandom} from '../helpers/otlp-random.js'

// A few hundred random requests per signal and mode; raise for a longer hunt.
const CASES = Number(process.env.STELLA_OTLP_CASES ?? 300)
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics']
const SEED_BASE: Record<Signal, number> = {traces: 1_000_000, logs: 2_000_000, metrics: 3_000_000}

const decoders: Record<Signal, (bytes: Uint8Array) => unknown[]> = {traces: decodeTraces, logs: decodeLogs, metrics: decodeMetrics}
const encoders = {
  traces: encodeTraces,
  logs: encodeLogs,
  metrics: encodeMetrics,
} as unknown as Record<Signal, (records: unknown[]) => Uint8Array>

function oracleEncode<S extends Signal>(signal: S, groups: ORequest<S>): Uint8Array {
  const schema: DescMessage = requestSchemas[signal]
  return toBinary(schema, create(schema, requestInit(signal, groups)))
}

function oracleDecode(signal: Signal, bytes: Uint8Array): unknown[] {
  return flattenRequest(signal, requestGroups(signal, fromBinary(requestSchemas[signal], bytes)))
}

/** The same bytes at an odd offset inside a larger Buffer, as a body sliced out of a stream arrives. */
function embedded(bytes: Uint8Array): Buffer {
  const backing = Buffer.alloc(bytes.length + 7, 0xee)
  backing.set(bytes, 3)
  return backing.subarray(3, 3 + bytes.length)
}

describe.each(SIGNALS)('%s in protobuf, against opentelemetry-proto', (signal) => {
  it(`decodes ${CASES} canonical random requests field for field as the oracle does, and encodes them back to the oracle's bytes`, () => {
    for (let i = 0; i < CASES; i++) {
      const seed = SEED_BASE[signal] + i
      const groups = new OtlpRandom(seed, {canonical: true}).request(signal)
      const bytes = oracleEncode(signal, groups)
      const records = decoders[signal](i % 2 === 0 ? bytes : embedded(bytes))
      const expected = flattenRequest(signal, groups)
      expect(records, `seed ${seed}`).toEqual(expected)
      expect(oracleDecode(signal, bytes), `seed ${seed}`).toEqual(expected)
      expect(Buffer.from(encoders[signal](records)).toString('hex'), `seed ${seed}`).toBe(Buffer.from(bytes).toString('hex'))
    }
  })

  it(`takes ${CASES} requests with unknown fields (groups too), missing messages and empty groups as the oracle does, and re-encodes them canonically`, () => {
    for (let i = 0; i < CASES; i++) {
      const seed = SEED_BASE[signal] + 500_000 + i
      const groups = new OtlpRandom(seed, {canonical: false}).request(signal)
      const bytes = oracleEncode(signal, groups)
      const records = decoders[signal](embedded(bytes))
      expect(records, `seed ${seed}`).toEqual(oracleDecode(signal, bytes))

      const ours = encoders[signal](records)
      // The oracle reads back the same records, and writing what it read gives our bytes again:
      // field order, packing and left-out defaults are all canonical.
      expect(oracleDecode(signal, ours), `seed ${seed}`).toEqual(records)
      const schema = requestSchemas[signal]
      expect(Buffer.from(toBinary(schema, fromBinary(schema, ours))).toString('hex'), `seed ${seed}`).toBe(Buffer.from(ours).toString('hex'))
      expect(decoders[signal](ours), `seed ${seed}`).toEqual(records)
    }
  })
})

describe('protobuf decoding details', () => {
  it('shares one resource and one scope object between the records of a group', () => {
    const groups = new OtlpRandom(7, {canonical: true}).request('traces', 4)
    groups[0]!.scopes[0]!.records.push(new OtlpRandom(8, {canonical: true}).span())
    const spans = decodeTraces(oracleEncode('traces', groups))
    expect(spans[0]!.resource).toBe(spans[1]!.resource)
    expect(spans[0]!.scope).toBe(spans[1]!.scope)
    const lastGroup = spans.at(-1)!
    expect(lastGroup.resource === spans[0]!.resource).toBe(groups.length === 1)
  })

  it('keeps records of different resources apart when encoding, even with equal contents, and keeps their order', () => {
    const spans = decodeTraces(oracleEncode('traces', new OtlpRandom(11, {canonical: true}).request('traces')))
    const resource = {attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
    const other = {attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
    const scope = {name: 's', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: ''}
    const mixed = [spans[0]!, spans[0]!, spans[0]!].map((span, i) => ({...span, name: `n${i}`, resource: i === 1 ? other : resource, scope}))
    const message = fromBinary(requestSchemas.traces, encodeTraces(mixed)) as unknown as {resourceSpans: {scopeSpans: {spans: {name: string}[]}[]}[]}
    expect(message.resourceSpans.map((group) => group.scopeSpans.map((scoped) => scoped.spans.map((span) => span.name)))).toEqual([[['n0']], [['n1']], [['n2']]])
    expect(decodeTraces(encodeTraces(mixed)).map((span) => span.name)).toEqual(['n0', 'n1', 'n2'])
  })

  it('hands out one frozen KeyValue for attributes with the same bytes, and decodes other bytes anew', () => {
    const [template] = decodeTraces(oracleEncode('traces', new OtlpRandom(21, {canonical: true}).request('traces')))
    const attributes = (port: number, extra: KeyValue[] = []): KeyValue[] => [
      {key: 'http.request.method', value: {kind: 'string', value: 'GET'}},
      {key: 'network.peer.port', value: {kind: 'int', value: BigInt(port)}},
      {key: 'sampled', value: {kind: 'bool', value: true}},
      ...extra,
    ]
    const list: KeyValue = {key: 'tags', value: {kind: 'array', value: [{kind: 'string', value: 'a'}]}}
    const blob: KeyValue = {key: 'blob', value: {kind: 'bytes', value: new Uint8Array([1, 2, 3])}}
    const spans = [attributes(30_001, [list, blob]), attributes(30_001, [list, blob]), attributes(30_002)].map((attrs, i) => ({...template!, spanId: `00000000000000${i}1`, attributes: attrs}))
    const bytes = encodeTraces(spans)
    const [a, b, c] = decodeTraces(embedded(bytes))
    expect(decodeTraces(bytes)).toEqual(oracleDecode('traces', bytes))
    expect(a!.attributes).toEqual(spans[0]!.attributes)
    // The same bytes: the same frozen object, in this request and the next.
    expect(b!.attributes[0]).toBe(a!.attributes[0])
    expect(b!.attributes[1]).toBe(a!.attributes[1])
    expect(decodeTraces(bytes)[0]!.attributes[2]).toBe(a!.attributes[2])
    expect(Object.isFrozen(a!.attributes[1]) && Object.isFrozen(a!.attributes[1]!.value)).toBe(true)
    expect(() => ((a!.attributes[0] as {key: string}).key = 'changed')).toThrow(TypeError)
    // Other bytes (another port): decoded anew. Arrays and bytes values: never shared, never frozen.
    expect(c!.attributes[1]).not.toBe(a!.attributes[1])
    expect(c!.attributes[1]!.value).toEqual({kind: 'int', value: 30_002n})
    expect(b!.attributes[3]).not.toBe(a!.attributes[3])
    expect(b!.attributes[4]).not.toBe(a!.attributes[4])
    expect(Object.isFrozen(a!.attributes[4])).toBe(false)
  })

  it('gives spans without events or links one shared, frozen empty array each, and the others their own', () => {
    const [template] = decodeTraces(oracleEncode('traces', new OtlpRandom(24, {canonical: true}).request('traces')))
    const event = {timeUnixNano: 5n, name: 'retry', attributes: [], droppedAttributesCount: 0}
    const link = {traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0}
    const spans = [[], [], [event], [event, event]].map((events, i) => ({...template!, spanId: `00000000000000${i}1`, events, links: i === 1 ? [link] : []}))
    const bytes = encodeTraces(spans)
    const [bare, linked, one, two] = decodeTraces(bytes)
    expect(decodeTraces(bytes)).toEqual(oracleDecode('traces', bytes))
    expect(linked!.events).toBe(bare!.events)
    expect(Object.isFrozen(bare!.events) && Object.isFrozen(bare!.links)).toBe(true)
    expect(one!.links).toBe(bare!.links)
    expect(() => (bare!.events as SpanEvent[]).push(event)).toThrow(TypeError)
    expect(bare!.events).toEqual([])
    // A span with events or links has arrays of its own, open like any other.
    expect(linked!.links).toEqual([link])
    expect(Object.isFrozen(linked!.links)).toBe(false)
    expect(two!.events).toHaveLength(2)
    expect(two!.events).not.toBe(one!.events)
    expect(Object.isFrozen(one!.events)).toBe(false)
  })

  it('writes span and trace ids as lowercase hex for every byte value', () => {
    const [template] = decodeTraces(oracleEncode('traces', new OtlpRandom(22, {canonical: true}).request('traces')))
    const random = new OtlpRandom(23, {canonical: true})
    const spans = Array.from({length: 64}, (_, i) => {
      const id = (n: number): string => Buffer.from(Array.from({length: n}, (_, j) => (i * 16 + j * 37 + random.int(256)) & 0xff)).toString('hex')
      return {...template!, traceId: i === 0 ? 'ff'.repeat(16) : id(16), spanId: i === 1 ? '00'.repeat(8) : id(8), parentSpanId: i % 3 === 0 ? '' : id(8)}
    })
    // Consecutive trace ids that differ in one byte only, at each position in turn (the last one is remembered).
    const base = '4bf92f3577b34da6a3ce929d0e0e4736'
    for (let at = 0; at < 16; at++) {
      const bytes = Buffer.from(base, 'hex')
      bytes[at] = bytes[at]! ^ 0x01
      spans.push({...template!, traceId: base}, {...template!, traceId: bytes.toString('hex')})
    }

    const decoded = decodeTraces(encodeTraces(spans))
    expect(decoded.map((span) => [span.traceId, span.spanId, span.parentSpanId])).toEqual(spans.map((span) => [span.traceId, span.spanId, span.parentSpanId]))
  })

  it('merges a singular message field that occurs twice and lets the last scalar win, as protobuf says', () => {
    // Span {name "a", status {message "m"}, status {code 2}, name "b"}: one status {code 2, message "m"}, name "b".
    const span = [0x2a, 1, 0x61, 0x7a, 3, 0x12, 1, 0x6d, 0x7a, 2, 0x18, 2, 0x2a, 1, 0x62]
    const bytes = request([...span])
    const [decoded] = decodeTraces(bytes)
    expect(decoded!.status).toEqual({code: 2, message: 'm'})
    expect(decoded!.name).toBe('b')
    expect(oracleDecode('traces', bytes)).toEqual(decodeTraces(bytes))
  })

  it('reads repeated scalars packed and unpacked alike', () => {
    const schema = requestSchemas.metrics
    const init = {resourceMetrics: [{scopeMetrics: [{metrics: [{name: 'h', data: {case: 'histogram', value: {dataPoints: [{bucketCounts: [1n, 2n], explicitBounds: [0.5]}]}}}]}]}]}
    const packed = toBinary(schema, create(schema, init))
    const [metric] = decodeMetrics(packed)
    expect(metric!.data).toMatchObject({type: 'histogram', dataPoints: [{bucketCounts: [1n, 2n], explicitBounds: [0.5]}]})
    // The same point with bucket_counts (6) and explicit_bounds (7) written one element per field.
    const point = [0x31, ...le64(1n), 0x31, ...le64(2n), 0x39, ...le64Double(0.5)]
    const histogram = [0x0a, point.length, ...point]
    const metricBytes = [0x0a, 1, 0x68, 0x4a, histogram.length, ...histogram]
    const unpacked = requestOf([0x12, metricBytes.length, ...metricBytes])
    expect(decodeMetrics(unpacked)).toEqual(decodeMetrics(packed))
    expect(oracleDecode('metrics', unpacked)).toEqual(decodeMetrics(unpacked))
  })

  it('copies bytes values out of the body instead of aliasing it', () => {
    const schema = requestSchemas.logs
    const body = Buffer.from(toBinary(schema, create(schema, {resourceLogs: [{scopeLogs: [{logRecords: [{body: {value: {case: 'bytesValue', value: new Uint8Array([1, 2, 3])}}}]}]}]})))
    const [log] = decodeLogs(body)
    body.fill(0)
    expect(log!.body).toEqual({kind: 'bytes', value: new Uint8Array([1, 2, 3])})
    expect(Buffer.isBuffer((log!.body as {value: Uint8Array}).value)).toBe(false)
  })

  it('decodes invalid UTF-8 in strings with replacement characters where the oracle refuses the message', () => {
    // Deliberately lenient: the Collector does not check UTF-8 either, and one bad byte in a
    // span name must not make a whole batch or file unreadable.
    const bytes = request([0x2a, 4, 0x61, 0xff, 0xc3, 0x62])
    expect(decodeTraces(bytes)[0]!.name).toBe('a\uFFFD\uFFFDb')
    expect(() => oracleDecode('traces', bytes)).toThrow('The encoded data was not valid for encoding utf-8')
  })

  it('writes a large request with multi-byte lengths that the oracle reads back', () => {
    const rnd = new OtlpRandom(99, {canonical: true})
    const spans = decodeTraces(oracleEncode('traces', [{resource: {attributes: rnd.keyValues(), droppedAttributesCount: 0}, schemaUrl: '', scopes: [{schemaUrl: '', scope: {name: 'big', version: '', attributes: [], droppedAttributesCount: 0}, records: Array.from({length: 2000}, () => rnd.span())}]}]))
    const ours = encodeTraces(spans)
    expect(ours.length).toBeGreaterThan(300_000)
    expect(oracleDecode('traces', ours)).toEqual(spans)
  })
})

/** An ExportTraceServiceRequest holding one ResourceSpans with one ScopeSpans with one Span of these bytes. */
function request(span: number[]): Uint8Array {
  return requestOf([0x12, ...varint(span.length), ...span])
}

/** An export request around one scope group's body (any signal: they share their outer layers). */
function requestOf(scopeGroup: number[]): Uint8Array {
  const resourceGroup = [0x12, ...varint(scopeGroup.length), ...scopeGroup]
  return new Uint8Array([0x0a, ...varint(resourceGroup.length), ...resourceGroup])
}

function varint(value: number): number[] {
  const out: number[] = []
  let v = value
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v >>>= 7
  }

  out.push(v)
  return out
}

function le64(value: bigint): number[] {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(value)
  return [...b]
}

function le64Double(value: number): number[] {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(value)
  return [...b]
}

describe('ByteMemo', () => {
  const reader = (bytes: number[]): ProtoReader => new ProtoReader(embedded(new Uint8Array(bytes)))

  it('finds a value only by the very bytes it was stored under', () => {
    const memo = new ByteMemo<string>(16, 8)
    const stored = reader([9, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    memo.set(stored, 1, 9, 'one to eight')
    expect(memo.get(stored, 1, 9)).toBe('one to eight')
    expect(memo.get(reader([1, 2, 3, 4, 5, 6, 7, 8]), 0, 8)).toBe('one to eight')
    // One byte different anywhere (each position in turn), shorter, or longer: not found.
    for (let at = 0; at < 8; at++) {
      const bytes = [1, 2, 3, 4, 5, 6, 7, 8]
      bytes[at] = bytes[at]! ^ 0x40
      expect(memo.get(reader(bytes), 0, 8), `byte ${at}`).toBeUndefined()
    }

    expect(memo.get(reader([1, 2, 3, 4, 5, 6, 7]), 0, 7)).toBeUndefined()
    expect(memo.get(stored, 0, 8)).toBeUndefined()
  })

  it('tells apart long byte strings that differ in any one byte, in any of its parts', () => {
    const memo = new ByteMemo<string>(16, 64)
    for (const length of [9, 12, 19, 23, 40, 64]) {
      const bytes = Array.from({length}, (_, i) => (i * 37 + 11) & 0xff)
      memo.set(reader(bytes), 0, length, `length ${length}`)
      expect(memo.get(reader([...bytes]), 0, length)).toBe(`length ${length}`)
      for (let at = 0; at < length; at++) {
        for (const flip of [0x01, 0x80]) {
          const other = [...bytes]
          other[at] = other[at]! ^ flip
          expect(memo.get(reader(other), 0, length), `length ${length}, byte ${at} ^ ${flip}`).toBeUndefined()
        }
      }
    }
  })

  it('compares bytes, not the numbers they would spell: +0 and -0 differ, a NaN finds itself', () => {
    const memo = new ByteMemo<string>(16, 16)
    const plusZero = [...le64Double(0), 1, 2, 3, 4]
    const minusZero = [...le64Double(-0), 1, 2, 3, 4]
    memo.set(reader(plusZero), 0, 12, '+0')
    expect(memo.get(reader(minusZero), 0, 12)).toBeUndefined()
    expect(memo.get(reader([...plusZero]), 0, 12)).toBe('+0')
    memo.set(reader(minusZero), 0, 12, '-0')
    expect(memo.get(reader(minusZero), 0, 12)).toBe('-0')

    // Negative ints as varints run 0xff bytes that read as NaN; another NaN payload is other bytes.
    const nan = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    memo.set(reader(nan), 0, 10, 'NaN')
    expect(memo.get(reader([...nan]), 0, 10)).toBe('NaN')
    const otherNan = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    expect(Number.isNaN(Buffer.from(otherNan).readDoubleLE(0))).toBe(true)
    expect(memo.get(reader(otherNan), 0, 10)).toBeUndefined()
  })

  it('keeps the newest of byte strings that share a slot, and is right about every one', () => {
    const memo = new ByteMemo<number>(4, 6)
    const random = new OtlpRandom(5, {canonical: true})
    const keys = Array.from({length: 200}, () => Array.from({length: 1 + random.int(6)}, () => random.int(4)))
    for (const [i, key] of keys.entries()) {
      memo.set(reader(key), 0, key.length, i)
      expect(memo.get(reader(key), 0, key.length)).toBe(i)
      // Whatever an earlier key finds now, it is the value of a key with exactly its bytes.
      for (const earlier of keys.slice(0, i)) {
        const found = memo.get(reader(earlier), 0, earlier.length)
        if (found !== undefined) expect(keys[found]).toEqual(earlier)
      }
    }
  })
})
