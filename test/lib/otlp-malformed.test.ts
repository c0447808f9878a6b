import {create, toBinary} from '@bufbuild/protobuf'
import {describe, expect, it} from 'vitest'

import {
  OtlpDecodeError,
  decodeExportResponse,
  decodeLogs,
  decodeLogsJson,
  decodeMetrics,
  decodeMetricsJson,
  decodeTraces,
  decodeTracesJson,
} from '../../src/lib/otlp/index.js'
import type {Signal} from '../../src/lib/otlp/types.js'
import {expectOtlpError} from '../helpers/otlp-errors.js'
import {requestInit, requestSchemas} from '../helpers/otlp-oracle.js'
import {OtlpRandom} from '../helpers/otlp-random.js'
import {seededRandom} from '../helpers/random.js'

const SIGNALS: Signal[] = ['traces', 'logs', 'metrics']
const decoders: Record<Signal, (bytes: Uint8Array, options?: {maxBytes?: number; maxRecords?: number}) => unknown[]> = {traces: decodeTraces, logs: decodeLogs, metrics: decodeMetrics}
const jsonDecoders: Record<Signal, (bytes: Uint8Array) => unknown[]> = {traces: decodeTracesJson, logs: decodeLogsJson, metrics: decodeMetricsJson}

function validRequest(signal: Signal, seed: number, canonical = true): Uint8Array {
  const schema = requestSchemas[signal]
  return toBinary(schema, create(schema, requestInit(signal, new OtlpRandom(seed, {canonical}).request(signal, 3))))
}

/** Decodes and reports the outcome; anything thrown that is not an OtlpDecodeError fails the test. */
function outcome(decode: () => unknown): 'ok' | OtlpDecodeError {
  try {
    decode()
    return 'ok'
  } catch (error) {
    if (error instanceof OtlpDecodeError) return error
    throw new Error(`expected an OtlpDecodeError, got: ${(error as Error).stack ?? String(error)}`)
  }
}

/** Where each top-level field (a resource group) ends: the only places a request can be cut and stay whole. */
function topLevelEnds(bytes: Uint8Array): number[] {
  const ends = [0]
  let pos = 0
  while (pos < bytes.length) {
    pos++ // the tag 0x0a
    let length = 0
    let shift = 0
    for (;;) {
      const b = bytes[pos++]!
      length += (b & 0x7f) * 2 ** shift
      shift += 7
      if (b < 0x80) break
    }

    pos += length
    ends.push(pos)
  }

  return ends
}

describe.each(SIGNALS)('malformed %s requests', (signal) => {
  it('cut at every byte: an OtlpDecodeError unless the cut falls between resource groups', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const bytes = validRequest(signal, seed)
      const whole = topLevelEnds(bytes)
      for (let cut = 0; cut < bytes.length; cut++) {
        const result = outcome(() => decoders[signal](bytes.subarray(0, cut)))
        expect(result === 'ok', `seed ${seed}, cut at ${cut} of ${bytes.length}`).toBe(whole.includes(cut))
        if (result !== 'ok') {
          expect(result.code).toBe('OTLP_MALFORMED')
          expect(result.message).toMatch(/^malformed protobuf: .+ at byte \d+$/)
        }
      }
    }
  })

  it('with random bytes changed, or random bytes alone: decoded or an OtlpDecodeError, never another failure', () => {
    const next = seededRandom(SIGNALS.indexOf(signal) + 77)
    let failures = 0
    for (let i = 0; i < 2000; i++) {
      let bytes: Uint8Array
      if (i % 4 === 3) {
        bytes = new Uint8Array(Math.floor(next() * 200))
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256)
      } else {
        bytes = validRequest(signal, 100 + (i % 20), i % 2 === 0).slice()
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256)
      }

      if (outcome(() => decoders[signal](bytes)) !== 'ok') failures++
      // The same bytes as OTLP/JSON: not JSON, nearly always.
      outcome(() => jsonDecoders[signal](bytes))
    }

    expect(failures).toBeGreaterThan(500)
  })

  it('past maxBytes or maxRecords: OTLP_TOO_LARGE', () => {
    const bytes = validRequest(signal, 5)
    const count = decoders[signal](bytes).length
    expect(count).toBeGreaterThan(1)
    expect(decoders[signal](bytes, {maxBytes: bytes.length, maxRecords: count})).toHaveLength(count)
    expectOtlpError(() => decoders[signal](bytes, {maxBytes: bytes.length - 1}), 'OTLP_TOO_LARGE', `OTLP body of ${bytes.length} bytes is larger than the limit of ${bytes.length - 1} bytes`)
    const what = {traces: 'spans', logs: 'log records', metrics: 'metrics'}[signal]
    expectOtlpError(() => decoders[signal](bytes, {maxRecords: count - 1}), 'OTLP_TOO_LARGE', `OTLP body holds more than the limit of ${count - 1} ${what}`)
  })
})

/** A request of one resource group of one scope group of one span with these bytes. */
function spanRequest(span: number[]): Uint8Array {
  const scopeGroup = [0x12, ...varint(span.length), ...span]
  const resourceGroup = [0x12, ...varint(scopeGroup.length), ...scopeGroup]
  return new Uint8Array([0x0a, ...varint(resourceGroup.length), ...resourceGroup])
}

function varint(value: number): number[] {
  const out: number[] = []
  let v = value
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }

  out.push(v)
  return out
}

/** `depth` AnyValues, each an array holding the next, as a span attribute. */
function nestedAttribute(depth: number): number[] {
  let value: number[] = [0x0a, 0]
  for (let i = 0; i < depth; i++) {
    const array = [0x0a, ...varint(value.length), ...value]
    value = [0x2a, ...varint(array.length), ...array]
  }

  const keyValue = [0x12, ...varint(value.length), ...value]
  return [0x4a, ...varint(keyValue.length), ...keyValue]
}

describe('malformed protobuf: what and where', () => {
  it.each([
    ['a truncated varint', [0x0a, 0x80], 'truncated varint at byte 1'],
    ['a length past the end', [0x0a, 0x05, 0x00], 'length 5 runs past the end of its enclosing message (byte 3) at byte 1'],
    ['a forged length of 4 GiB', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], 'length 4294967295 runs past the end of its enclosing message (byte 6) at byte 1'],
    ['a length past its enclosing message', [0x0a, 0x02, 0x12, 0x05, 0, 0, 0, 0, 0], 'length 5 runs past the end of its enclosing message (byte 4) at byte 3'],
    ['a varint of 11 bytes', [0x10, ...Array.from({length: 10}, () => 0xff), 0x01], 'varint longer than 10 bytes at byte 1'],
    ['field number 0', [0x00, 0x01], 'field number 0 at byte 0'],
    ['wire type 6', [0x0e], 'unknown wire type 6 at byte 0'],
    ['wire type 7', [0x17], 'unknown wire type 7 at byte 0'],
    ['an end-group tag outside a group', [0x14], 'end-group tag of field 2 outside a group at byte 0'],
    ['a group that never ends', [0x13, 0x08, 0x01], 'group of field 2 has no end at byte 0'],
    ['a group ended by another field', [0x13, 0x1c], 'end-group tag of field 3 inside the group of field 2 at byte 1'],
    ['groups nested 110 deep', [...Array.from({length: 110}, () => 0x13), ...Array.from({length: 110}, () => 0x14)], 'groups nested deeper than 100 levels at byte 100'],
    ['a resource group as a varint', [0x08, 0x01], 'field 1 of the export request has the wrong wire type (varint) at byte 0'],
  ])('%s', (_, bytes, message) => {
    for (const signal of SIGNALS) expectOtlpError(() => decoders[signal](new Uint8Array(bytes)), 'OTLP_MALFORMED', `malformed protobuf: ${message}`)
  })

  it.each([
    ['a start time as length-delimited', [0x3a, 0x00], 'field 7 of Span has the wrong wire type (length-delimited) at byte 6'],
    ['a trace id as fixed64', [0x09, 1, 2, 3, 4, 5, 6, 7, 8], 'field 1 of Span has the wrong wire type (fixed64) at byte 6'],
    ['flags as a varint', [0x80, 0x01, 0x01], 'field 16 of Span has the wrong wire type (varint) at byte 6'],
    ['a start time cut short', [0x39, 1, 2, 3], 'truncated fixed64 at byte 7'],
    ['a status as a string of the wrong type', [0x7a, 0x02, 0x1a, 0x00], 'field 3 of Status has the wrong wire type (length-delimited) at byte 8'],
    ['an attribute nested 50 deep', nestedAttribute(50), /^malformed protobuf: messages nested deeper than 100 levels at byte \d+$/],
  ])('a span with %s', (_, span, message) => {
    expectOtlpError(() => decodeTraces(spanRequest(span)), 'OTLP_MALFORMED', typeof message === 'string' ? `malformed protobuf: ${message}` : message)
  })

  it('reads attributes nested as deep as the limit allows', () => {
    const [span] = decodeTraces(spanRequest(nestedAttribute(45)))
    let value = span!.attributes[0]!.value
    let depth = 0
    while (value.kind === 'array') {
      value = value.value[0]!
      depth++
    }

    expect(depth).toBe(45)
  })

  it('refuses packed fixed64 counts whose length is not a multiple of 8', () => {
    const point = [0x32, 7, 1, 2, 3, 4, 5, 6, 7]
    const histogram = [0x0a, point.length, ...point]
    const metric = [0x4a, histogram.length, ...histogram]
    const scopeGroup = [0x12, metric.length, ...metric]
    const resourceGroup = [0x12, scopeGroup.length, ...scopeGroup]
    expectOtlpError(() => decodeMetrics(new Uint8Array([0x0a, resourceGroup.length, ...resourceGroup])), 'OTLP_MALFORMED', 'malformed protobuf: packed fixed64 field whose length is not a multiple of 8 at byte 12')
  })

  it('decodes a hostile body of a million empty unknown fields in one pass', () => {
    const bytes = new Uint8Array(2_000_000)
    for (let i = 0; i < bytes.length; i += 2) bytes[i] = 0x12 // field 2, length 0
    const started = performance.now()
    expect(decodeTraces(bytes)).toEqual([])
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('refuses a malformed export response', () => {
    expectOtlpError(() => decodeExportResponse('traces', new Uint8Array([0x0a, 0x03, 0x08]), 'proto'), 'OTLP_MALFORMED', 'malformed protobuf: length 3 runs past the end of its enclosing message (byte 3) at byte 1')
    expectOtlpError(() => decodeExportResponse('logs', Buffer.from('{"partialSuccess":{"rejectedLogRecords":"x"}}'), 'json'), 'OTLP_MALFORMED', 'malformed OTLP/JSON at partialSuccess.rejectedLogRecords: expected a 64-bit integer (a decimal string or a number), found the string "x"')
    expectOtlpError(() => decodeExportResponse('metrics', Buffer.from('nope'), 'json'), 'OTLP_NOT_JSON', /^OTLP\/JSON body is not JSON: /)
  })
})
