import {create, fromBinary, toBinary, toJson} from '@bufbuild/protobuf'
import {describe, expect, it} from 'vitest'

import {
  anyValueToJs,
  attributeValue,
  attributesToObject,
  countRecords,
  decode,
  decodeExportResponse,
  decodeLogs,
  decodeMetrics,
  decodeTraces,
  encode,
  encodeExportResponse,
  recordTimeNano,
  sniffSignal,
  stringAttribute,
} from '../../src/lib/otlp/index.js'
import type {KeyValue, MetricRecord, Signal} from '../../src/lib/otlp/types.js'
import {flattenRequest, registry, requestGroups, requestInit, requestSchemas, responseSchemas} from '../helpers/otlp-oracle.js'
import {OtlpRandom} from '../helpers/otlp-random.js'

const SIGNALS: Signal[] = ['traces', 'logs', 'metrics']

function oracleBytes(signal: Signal, init: Record<string, unknown>): Uint8Array {
  return toBinary(requestSchemas[signal], create(requestSchemas[signal], init))
}

describe('sniffSignal', () => {
  it('tells the three requests apart for random requests whose records carry their times and data', () => {
    for (const signal of SIGNALS) {
      for (let seed = 1; seed <= 200; seed++) {
        const rnd = new OtlpRandom(seed * 31 + SIGNALS.indexOf(signal), {canonical: seed % 2 === 0})
        const groups = rnd.request(signal)
        for (const group of groups) {
          for (const scoped of group.scopes) {
            for (const record of scoped.records as unknown as Record<string, unknown>[]) {
              // What every real record has: a span its start, a log its time, a metric its name and data.
              if (signal === 'traces') record.startTimeUnixNano = 1_700_000_000_000_000_000n
              if (signal === 'logs') record.timeUnixNano = 1_700_000_000_000_000_000n
              if (signal === 'metrics') {
                if (record.name === '') record.name = 'http.server.duration'
                if ((record.data as {case?: string}).case === undefined) record.data = {case: 'gauge', value: {dataPoints: []}}
              }
            }
          }
        }

        const bytes = oracleBytes(signal, requestInit(signal, groups))
        const hasRecords = groups.some((group) => group.scopes.some((scoped) => scoped.records.length > 0))
        expect(sniffSignal(bytes), `${signal} seed ${seed}`).toBe(hasRecords ? signal : undefined)
      }
    }
  })

  it('tells minimal records apart: a log with only a body and attributes, a metric with only a name and a gauge, a span with only ids', () => {
    expect(sniffSignal(oracleBytes('logs', {resourceLogs: [{scopeLogs: [{logRecords: [{body: {value: {case: 'stringValue', value: 'x'}}, attributes: [{key: 'a'}]}]}]}]}))).toBe('logs')
    expect(sniffSignal(oracleBytes('metrics', {resourceMetrics: [{scopeMetrics: [{metrics: [{name: 'm', data: {case: 'gauge', value: {}}}]}]}]}))).toBe('metrics')
    expect(sniffSignal(oracleBytes('traces', {resourceSpans: [{scopeSpans: [{spans: [{traceId: new Uint8Array(16), spanId: new Uint8Array(8), kind: 2}]}]}]}))).toBe('traces')
  })

  it('is undefined for an empty request, one without records, and bytes that are not a request', () => {
    expect(sniffSignal(new Uint8Array(0))).toBeUndefined()
    expect(sniffSignal(oracleBytes('traces', {resourceSpans: [{resource: {attributes: [{key: 'a'}]}, scopeSpans: [{scope: {name: 's'}}]}]}))).toBeUndefined()
    expect(sniffSignal(Buffer.from('{"resourceSpans":[]}'))).toBeUndefined()
    expect(sniffSignal(new Uint8Array([0x0a, 0x05, 0x12]))).toBeUndefined()
  })
})

describe('decode, encode, countRecords and recordTimeNano', () => {
  it('decode and encode dispatch on signal and format', () => {
    for (const signal of SIGNALS) {
      const bytes = oracleBytes(signal, requestInit(signal, new OtlpRandom(3, {canonical: true}).request(signal)))
      const records = decode(signal, 'proto', bytes)
      expect(records).toEqual(flattenRequest(signal, requestGroups(signal, fromBinary(requestSchemas[signal], bytes))))
      expect(Buffer.from(encode(signal, 'proto', records)).equals(Buffer.from(bytes))).toBe(true)
      const json = encode(signal, 'json', records)
      expect(decode(signal, 'json', json)).toEqual(decode(signal, 'json', Buffer.from(JSON.stringify(JSON.parse(Buffer.from(json).toString())))))
      expect(decode(signal, 'proto', encode(signal, 'proto', decode(signal, 'json', json)))).toHaveLength(records.length)
    }
  })

  it('counts spans, log records, and the data points of metrics', () => {
    const spans = decodeTraces(oracleBytes('traces', {resourceSpans: [{scopeSpans: [{spans: [{}, {}, {}]}]}]}))
    expect(countRecords('traces', spans)).toBe(3)
    const logs = decodeLogs(oracleBytes('logs', {resourceLogs: [{scopeLogs: [{logRecords: [{}, {}]}]}]}))
    expect(countRecords('logs', logs)).toBe(2)
    const metrics = decodeMetrics(
      oracleBytes('metrics', {
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {name: 'a', data: {case: 'sum', value: {dataPoints: [{}, {}]}}},
                  {name: 'b', data: {case: 'histogram', value: {dataPoints: [{}]}}},
                  {name: 'c'},
                  {name: 'd', data: {case: 'summary', value: {dataPoints: [{}, {}, {}]}}},
                ],
              },
            ],
          },
        ],
      }),
    )
    expect(countRecords('metrics', metrics)).toBe(6)
    expect(countRecords('metrics', [])).toBe(0)
  })

  it("gives a span's start, a log's time or else its observed time, a metric's latest point", () => {
    const [span] = decodeTraces(oracleBytes('traces', {resourceSpans: [{scopeSpans: [{spans: [{startTimeUnixNano: 5n, endTimeUnixNano: 9n}]}]}]}))
    expect(recordTimeNano('traces', span!)).toBe(5n)
    const logs = decodeLogs(oracleBytes('logs', {resourceLogs: [{scopeLogs: [{logRecords: [{timeUnixNano: 7n, observedTimeUnixNano: 8n}, {observedTimeUnixNano: 8n}, {}]}]}]}))
    expect(logs.map((log) => recordTimeNano('logs', log))).toEqual([7n, 8n, 0n])
    const metrics = decodeMetrics(
      oracleBytes('metrics', {
        resourceMetrics: [{scopeMetrics: [{metrics: [{data: {case: 'gauge', value: {dataPoints: [{timeUnixNano: 3n}, {timeUnixNano: 11n}, {timeUnixNano: 4n}]}}}, {name: 'empty'}]}]}],
      }),
    )
    expect(metrics.map((metric: MetricRecord) => recordTimeNano('metrics', metric))).toEqual([11n, 0n])
  })
})

describe('export responses', () => {
  const rejectedField = {traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints'} as const

  it.each(SIGNALS)('%s: written as the oracle writes them, in protobuf and JSON, and read back', (signal) => {
    const schema = responseSchemas[signal]
    for (const result of [
      {rejected: 0, errorMessage: ''},
      {rejected: 3, errorMessage: 'three spans had no trace id'},
      {rejected: 0n, errorMessage: 'a warning only'},
      {rejected: 2n ** 63n - 1n, errorMessage: ''},
      {rejected: -1n, errorMessage: 'é'},
    ]) {
      const rejected = BigInt(result.rejected)
      const init = rejected === 0n && result.errorMessage === '' ? {} : {partialSuccess: {[rejectedField[signal]]: rejected, errorMessage: result.errorMessage}}
      const oracle = toBinary(schema, create(schema, init))
      const proto = encodeExportResponse(signal, result, 'proto')
      expect(Buffer.from(proto).toString('hex')).toBe(Buffer.from(oracle).toString('hex'))
      expect(decodeExportResponse(signal, proto, 'proto')).toEqual({rejected, errorMessage: result.errorMessage})
      const json = encodeExportResponse(signal, result, 'json')
      expect(JSON.parse(Buffer.from(json).toString())).toEqual(toJson(schema, create(schema, init), {registry}))
      expect(decodeExportResponse(signal, json, 'json')).toEqual({rejected, errorMessage: result.errorMessage})
    }
  })

  it('reads an empty response body as full success', () => {
    expect(decodeExportResponse('traces', new Uint8Array(0), 'proto')).toEqual({rejected: 0n, errorMessage: ''})
    expect(decodeExportResponse('traces', Buffer.from('{}'), 'json')).toEqual({rejected: 0n, errorMessage: ''})
  })
})

describe('attribute values', () => {
  const attributes: KeyValue[] = [
    {key: 'service.name', value: {kind: 'string', value: 'checkout'}},
    {key: 'http.status_code', value: {kind: 'int', value: 503n}},
    {key: 'big', value: {kind: 'int', value: 2n ** 60n}},
    {key: 'ratio', value: {kind: 'double', value: 0.25}},
    {key: 'retry', value: {kind: 'bool', value: true}},
    {key: 'raw', value: {kind: 'bytes', value: new Uint8Array([0xde, 0xad, 0xbe, 0xef])}},
    {key: 'list', value: {kind: 'array', value: [{kind: 'string', value: 'a'}, {kind: 'empty'}]}},
    {key: 'map', value: {kind: 'kvlist', value: [{key: 'x', value: {kind: 'int', value: -1n}}]}},
    {key: '__proto__', value: {kind: 'string', value: 'plain key'}},
    {key: 'service.name', value: {kind: 'string', value: 'second'}},
  ]

  it('finds the first value of a key', () => {
    expect(attributeValue(attributes, 'service.name')).toEqual({kind: 'string', value: 'checkout'})
    expect(attributeValue(attributes, 'missing')).toBeUndefined()
  })

  it('gives scalars as text and nothing for the rest', () => {
    expect(['service.name', 'http.status_code', 'ratio', 'retry', 'raw', 'list', 'missing'].map((key) => stringAttribute(attributes, key))).toEqual(['checkout', '503', '0.25', 'true', undefined, undefined, undefined])
  })

  it('turns values into plain JavaScript, the last of a repeated key winning', () => {
    const object = attributesToObject(attributes)
    expect(object).toEqual({
      'service.name': 'second',
      'http.status_code': 503,
      big: '1152921504606846976',
      ratio: 0.25,
      retry: true,
      raw: '3q2+7w==',
      list: ['a', null],
      map: {x: -1},
      ['__proto__']: 'plain key',
    })
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(object)).__proto__).toBe('plain key')
    expect(anyValueToJs({kind: 'empty'})).toBeNull()
  })
})
