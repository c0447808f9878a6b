import {create, fromBinary, fromJson, toBinary, toJson, type JsonValue} from '@bufbuild/protobuf'
import {describe, expect, it} from 'vitest'

import {
  decodeLogsJson,
  decodeMetricsJson,
  decodeTracesJson,
  encodeLogs,
  encodeLogsJson,
  encodeMetrics,
  encodeMetricsJson,
  encodeTraces,
  encodeTracesJson,
  tracesFromJson,
} from '../../src/lib/otlp/index.js'
import type {Signal} from '../../src/lib/otlp/types.js'
import {expectOtlpError} from '../helpers/otlp-errors.js'
import {flattenRequest, idsToHex, registry, requestGroups, requestInit, requestSchemas} from '../helpers/otlp-oracle.js'
import {OtlpRandom} from '../helpers/otlp-random.js'

const CASES = Number(process.env.STELLA_OTLP_CASES ?? 300)
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics']
const SEED_BASE: Record<Signal, number> = {traces: 4_000_000, logs: 5_000_000, metrics: 6_000_000}

const jsonDecoders: Record<Signal, (text: string | Uint8Array) => unknown[]> = {traces: decodeTracesJson, logs: decodeLogsJson, metrics: decodeMetricsJson}
const jsonEncoders = {traces: encodeTracesJson, logs: encodeLogsJson, metrics: encodeMetricsJson} as unknown as Record<Signal, (records: unknown[]) => string>
const protoEncoders = {traces: encodeTraces, logs: encodeLogs, metrics: encodeMetrics} as unknown as Record<Signal, (records: unknown[]) => Uint8Array>

/** The oracle's OTLP/JSON of a message: the protobuf JSON mapping with enums as numbers (or names) and hex ids. */
function oracleJson(signal: Signal, message: ReturnType<typeof create>, enumNames = false): JsonValue {
  return idsToHex(toJson(requestSchemas[signal], message, {enumAsInteger: !enumNames, registry})) as JsonValue
}

const INT64_KEYS = new Set(['timeUnixNano', 'startTimeUnixNano', 'endTimeUnixNano', 'observedTimeUnixNano', 'intValue', 'asInt', 'count', 'zeroCount', 'bucketCounts'])

/**
 * Text of OTLP/JSON as other writers may produce it: 64-bit integers as bare numbers (even past
 * 2^53, which JSON.parse alone would round) and ids in upper case, chosen at random per field.
 */
function variantText(json: JsonValue, rnd: OtlpRandom): string {
  const mark = (value: unknown, key: string | undefined): unknown => {
    if (Array.isArray(value)) return value.map((item) => (key === 'bucketCounts' && typeof item === 'string' && rnd.chance(0.5) ? `\u0000N${item}` : mark(item, undefined)))
    if (typeof value === 'string') {
      if (key !== undefined && INT64_KEYS.has(key) && /^-?\d+$/.test(value) && rnd.chance(0.5)) return `\u0000N${value}`
      if ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && rnd.chance(0.5)) return value.toUpperCase()
      return value
    }

    if (typeof value !== 'object' || value === null) return value
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mark(v, k)]))
  }

  return JSON.stringify(mark(json, undefined)).replaceAll(/"\\u0000N(-?\d+)"/g, '$1')
}

/** JSON.stringify writes -0 as 0, so a -0 cannot survive JSON text; compare with +0 in its place. */
function positiveZeros<T>(value: T): T {
  if (Object.is(value, -0)) return 0 as T
  if (Array.isArray(value)) return value.map((item: unknown) => positiveZeros(item)) as T
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, positiveZeros(v)])) as T
}

describe.each(SIGNALS)('%s in OTLP/JSON, against opentelemetry-proto', (signal) => {
  it(`decodes the oracle's JSON of ${CASES} random requests (int64 as strings or bare numbers, ids in any case, enums as numbers or names) as the oracle decodes their protobuf`, () => {
    for (let i = 0; i < CASES; i++) {
      const seed = SEED_BASE[signal] + i
      const rnd = new OtlpRandom(seed, {canonical: i % 2 === 0})
      const schema = requestSchemas[signal]
      const message = create(schema, requestInit(signal, rnd.request(signal)))
      const expected = positiveZeros(flattenRequest(signal, requestGroups(signal, fromBinary(schema, toBinary(schema, message)))))
      const text = variantText(oracleJson(signal, message, rnd.chance(0.5)), rnd)
      expect(jsonDecoders[signal](text), `seed ${seed}: ${text}`).toEqual(expected)
      expect(jsonDecoders[signal](Buffer.from(text)), `seed ${seed}`).toEqual(expected)
    }
  })

  it(`encodes ${CASES} random requests to the JSON the oracle writes for the same protobuf, and the oracle reads it back`, () => {
    for (let i = 0; i < CASES; i++) {
      const seed = SEED_BASE[signal] + 500_000 + i
      const schema = requestSchemas[signal]
      const bytes = toBinary(schema, create(schema, requestInit(signal, new OtlpRandom(seed, {canonical: false}).request(signal))))
      const records = flattenRequest(signal, requestGroups(signal, fromBinary(schema, bytes)))
      const text = jsonEncoders[signal](records)
      expect(text).not.toContain('\n')
      const ours = JSON.parse(text) as JsonValue
      const theirs = JSON.parse(JSON.stringify(oracleJson(signal, fromBinary(schema, protoEncoders[signal](records))))) as JsonValue
      expect(ours, `seed ${seed}`).toEqual(theirs)
      // The oracle reads our JSON (ids turned back into the base64 of the plain mapping) to the same records.
      const plain = JSON.parse(text, (key, value: unknown) => ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string' ? Buffer.from(value, 'hex').toString('base64') : value)) as JsonValue
      expect(flattenRequest(signal, requestGroups(signal, fromJson(schema, plain, {registry}))), `seed ${seed}`).toEqual(positiveZeros(records))
      expect(jsonDecoders[signal](text), `seed ${seed}`).toEqual(positiveZeros(records))
    }
  })
})

const TRACE = '5B8EFFF798038103D269B633813FC60C'
const SPAN = 'EEE19B7EC3C1B174'

function traceBody(span: Record<string, unknown>): string {
  return JSON.stringify({resourceSpans: [{resource: {attributes: [{key: 'service.name', value: {stringValue: 'checkout'}}]}, scopeSpans: [{scope: {name: 'lib'}, spans: [span]}]}]})
}

describe('OTLP/JSON decoding details', () => {
  it('reads the example of the OTLP specification with hex ids of either case, and enum names', () => {
    const spans = decodeTracesJson(
      traceBody({traceId: TRACE, spanId: SPAN, parentSpanId: '', name: 'I am a span!', startTimeUnixNano: '1544712660000000000', endTimeUnixNano: 1_544_712_661_000_000_000, kind: 'SPAN_KIND_SERVER', status: {code: 'STATUS_CODE_ERROR'}, attributes: [{key: 'my.span.attr', value: {stringValue: 'some value'}}]}),
    )
    expect(spans).toEqual([
      {
        traceId: TRACE.toLowerCase(),
        spanId: SPAN.toLowerCase(),
        parentSpanId: '',
        traceState: '',
        flags: 0,
        name: 'I am a span!',
        kind: 2,
        startTimeUnixNano: 1_544_712_660_000_000_000n,
        endTimeUnixNano: 1_544_712_661_000_000_000n,
        attributes: [{key: 'my.span.attr', value: {kind: 'string', value: 'some value'}}],
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: {code: 2, message: ''},
        resource: {attributes: [{key: 'service.name', value: {kind: 'string', value: 'checkout'}}], droppedAttributesCount: 0, schemaUrl: ''},
        scope: {name: 'lib', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: ''},
      },
    ])
  })

  it('keeps 64-bit integers written as bare numbers exact', () => {
    const text = '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1700000000123456789,"body":{"intValue":-9223372036854775808},"attributes":[{"key":"n","value":{"intValue":18014398509481985}}]}]}]}]}'
    const [log] = decodeLogsJson(text)
    expect(log!.timeUnixNano).toBe(1_700_000_000_123_456_789n)
    expect(log!.body).toEqual({kind: 'int', value: -(2n ** 63n)})
    expect(log!.attributes[0]!.value).toEqual({kind: 'int', value: 18_014_398_509_481_985n})
    // Digits inside strings are left as they are, beside a bare number or not.
    expect(decodeLogsJson('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"a:12345678901234567890,"}]}]}]}')[0]!.severityText).toBe('a:12345678901234567890,')
    const tricky = '\\","x":[-1234567890123456789]'
    const [mixed] = decodeLogsJson(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"[1234567890123456789]","timeUnixNano": 1700000000123456789 ,"eventName":${JSON.stringify(tricky)}}]}]}]}`)
    expect([mixed!.severityText, mixed!.timeUnixNano, mixed!.eventName]).toEqual(['[1234567890123456789]', 1_700_000_000_123_456_789n, tricky])
  })

  it('reads an already-parsed object that embeds a request, such as the server trace body', () => {
    const body = {traceId: TRACE, resourceSpans: [{scopeSpans: [{spans: [{traceId: TRACE, spanId: SPAN, name: 'GET /'}]}]}]}
    expect(tracesFromJson(body).map((span) => [span.traceId, span.spanId, span.name])).toEqual([[TRACE.toLowerCase(), SPAN.toLowerCase(), 'GET /']])
  })

  it('ignores unknown keys, and snake_case keys with them (the specification accepts only lowerCamelCase)', () => {
    const spans = decodeTracesJson(traceBody({name: 'n', start_time_unix_nano: '5', somethingNew: {a: 1}}))
    expect(spans[0]!.name).toBe('n')
    expect(spans[0]!.startTimeUnixNano).toBe(0n)
  })

  it('reads null as an absent field', () => {
    const spans = decodeTracesJson(traceBody({name: null, attributes: null, status: null, traceId: null}))
    expect(spans[0]).toMatchObject({name: '', attributes: [], status: {code: 0, message: ''}, traceId: ''})
  })

  it('names the JSON path of a malformed field', () => {
    const body = {
      resourceSpans: [
        {scopeSpans: [{spans: [{name: 'ok'}]}]},
        {scopeSpans: [{spans: []}, {spans: [{}, {}, {}, {startTimeUnixNano: '12.5'}]}]},
      ],
    }
    expectOtlpError(
      () => decodeTracesJson(JSON.stringify(body)),
      'OTLP_MALFORMED',
      'malformed OTLP/JSON at resourceSpans[1].scopeSpans[1].spans[3].startTimeUnixNano: expected an unsigned 64-bit integer (a decimal string or a number), found the string "12.5"',
    )
  })

  it.each([
    [{traceId: 'W47/95gDgQPSabYzgT/GDA=='}, 'resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex id, found the string "W47/95gDgQPSabYzgT/GDA=="'],
    [{spanId: 'abc'}, 'resourceSpans[0].scopeSpans[0].spans[0].spanId: expected a hex id, found the string "abc"'],
    [{startTimeUnixNano: '18446744073709551616'}, 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an unsigned 64-bit integer (a decimal string or a number), found the string "18446744073709551616"'],
    [{startTimeUnixNano: -1}, 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an unsigned 64-bit integer (a decimal string or a number), found number -1'],
    [{kind: 'SERVER'}, 'resourceSpans[0].scopeSpans[0].spans[0].kind: expected a 32-bit integer or an enum name, found the string "SERVER"'],
    [{droppedAttributesCount: 4_294_967_296}, 'resourceSpans[0].scopeSpans[0].spans[0].droppedAttributesCount: expected an unsigned 32-bit integer, found number 4294967296'],
    [{name: 5}, 'resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, found number 5'],
    [{attributes: {}}, 'resourceSpans[0].scopeSpans[0].spans[0].attributes: expected an array, found an object'],
    [{attributes: ['x']}, 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0]: expected an object, found the string "x"'],
    [{attributes: [{key: 'k', value: {stringValue: 'a', intValue: '1'}}]}, 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: an AnyValue holds one value, and this one also has "stringValue"'],
    [{attributes: [{key: 'k', value: {bytesValue: '***'}}]}, 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.bytesValue: expected base64, found the string "***"'],
    [{attributes: [{key: 'k', value: {doubleValue: 'many'}}]}, 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.doubleValue: expected a number, found the string "many"'],
    [{events: [{}, {attributes: [{key: 'k', value: {kvlistValue: {values: [{key: 'x', value: {boolValue: 'yes'}}]}}}]}]}, 'resourceSpans[0].scopeSpans[0].spans[0].events[1].attributes[0].value.kvlistValue.values[0].value.boolValue: expected true or false, found the string "yes"'],
  ])('refuses the span %j with the path and the reason', (span, message) => {
    expectOtlpError(() => decodeTracesJson(traceBody(span)), 'OTLP_MALFORMED', `malformed OTLP/JSON at ${message}`)
  })

  it('refuses attribute values nested deeper than 64 levels, and reads them up to that', () => {
    const nested = (depth: number): string => `${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"leaf"}${']}}'.repeat(depth)}`
    const body = (depth: number): string => traceBody({attributes: [{key: 'deep', value: {}}]}).replace('{}', nested(depth))
    const [span] = decodeTracesJson(body(63))
    expect(JSON.stringify(span!.attributes[0]!.value).match(/"array"/g)).toHaveLength(63)
    const error = expectOtlpError(() => decodeTracesJson(body(100_000)), 'OTLP_MALFORMED', /: values nested deeper than 64 levels$/)
    expect(error.message).toMatch(/^malformed OTLP\/JSON at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value(\.arrayValue\.values\[0\]){64}: /)
  })

  it('refuses a body that is not an object of the signal', () => {
    expectOtlpError(() => decodeTracesJson('[1]'), 'OTLP_MALFORMED', 'malformed OTLP/JSON at the top level: expected an object with "resourceSpans", found an array')
    expectOtlpError(() => decodeTracesJson('{"resourceSpans": 3}'), 'OTLP_MALFORMED', 'malformed OTLP/JSON at resourceSpans: expected an array, found number 3')
  })

  it('says when a body is not JSON, or not UTF-8', () => {
    expectOtlpError(() => decodeTracesJson('{"resourceSpans": ['), 'OTLP_NOT_JSON', /^OTLP\/JSON body is not JSON: /)
    expectOtlpError(() => decodeTracesJson(new Uint8Array([0x7b, 0xff, 0x7d])), 'OTLP_NOT_JSON', 'OTLP/JSON body is not valid UTF-8')
  })

  it('accepts a byte order mark before the body', () => {
    expect(decodeTracesJson(Buffer.from(`\uFEFF${traceBody({name: 'n'})}`))[0]!.name).toBe('n')
  })

  it('enforces the size and record limits', () => {
    const text = traceBody({name: 'a'})
    expectOtlpError(() => decodeTracesJson(text, {maxBytes: text.length - 1}), 'OTLP_TOO_LARGE', `OTLP body of ${text.length} bytes is larger than the limit of ${text.length - 1} bytes`)
    expectOtlpError(() => decodeTracesJson(Buffer.from(text), {maxBytes: 10}), 'OTLP_TOO_LARGE', `OTLP body of ${text.length} bytes is larger than the limit of 10 bytes`)
    expect(decodeTracesJson(text, {maxBytes: text.length})).toHaveLength(1)
    const two = JSON.stringify({resourceSpans: [{scopeSpans: [{spans: [{}, {}]}]}]})
    expectOtlpError(() => decodeTracesJson(two, {maxRecords: 1}), 'OTLP_TOO_LARGE', 'OTLP body holds more than the limit of 1 spans')
  })
})
