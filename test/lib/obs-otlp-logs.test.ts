/** OTLP log records in the API's flattened shape, and how local inputs are told apart. */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {flattenLogRecord, holdsApiRecords, namesLocalInput} from '../../src/services/obs/otlp-logs.js'
import {scratchDir} from '../helpers/cli.js'
import {SERVICES, at, otlpLog, text} from '../helpers/trace-records.js'

describe('flattenLogRecord', () => {
  it('writes every kind of value as OTLP/JSON does, and leaves defaults out', () => {
    const record = {
      ...otlpLog({at: 1, level: 'INFO', body: 'x', resource: SERVICES.gateway}),
      body: {kind: 'kvlist' as const, value: [text('k', 'v'), {key: 'n', value: {kind: 'int' as const, value: 9_007_199_254_740_993n}}]},
      attributes: [
        {key: 'b', value: {kind: 'bool' as const, value: false}},
        {key: 'd', value: {kind: 'double' as const, value: 1.5}},
        {key: 'y', value: {kind: 'bytes' as const, value: new Uint8Array([0xde, 0xad])}},
        {key: 'a', value: {kind: 'array' as const, value: [{kind: 'string' as const, value: 's'}]}},
        {key: 'e', value: {kind: 'empty' as const}},
      ],
      severityNumber: 0,
      severityText: '',
      traceId: '',
      spanId: '',
      scope: {name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: ''},
    }
    expect(flattenLogRecord(record)).toEqual({
      timeUnixNano: String(at(1)),
      observedTimeUnixNano: String(at(3)),
      body: {kvlistValue: {values: [{key: 'k', value: {stringValue: 'v'}}, {key: 'n', value: {intValue: '9007199254740993'}}]}},
      attributes: [
        {key: 'b', value: {boolValue: false}},
        {key: 'd', value: {doubleValue: 1.5}},
        {key: 'y', value: {bytesValue: '3q0='}},
        {key: 'a', value: {arrayValue: {values: [{stringValue: 's'}]}}},
        {key: 'e', value: {}},
      ],
      resource: {attributes: [{key: 'service.name', value: {stringValue: 'api-gateway'}}, {key: 'service.version', value: {stringValue: '2.14.1'}}]},
      scope: {},
    })
  })

  it('takes the observed time when the record has none', () => {
    const record = {...otlpLog({at: 10, level: 'WARN', body: 'late', resource: SERVICES.policy, span: 'a1'}), timeUnixNano: 0n}
    const flat = flattenLogRecord(record)
    expect(flat.timeUnixNano).toBe(String(at(12)))
    expect(flat.observedTimeUnixNano).toBe(String(at(12)))
    expect(Object.keys(flat)).toEqual(['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText', 'body', 'attributes', 'traceId', 'spanId', 'resource', 'scope'])
  })
})

describe('local inputs', () => {
  let dir: {path: string; cleanup: () => void}
  beforeEach(() => {
    dir = scratchDir()
  })
  afterEach(() => dir.cleanup())

  it('tells API-shaped JSON lines from OTLP by the first object', async () => {
    const write = (name: string, content: string | Uint8Array) => {
      const path = join(dir.path, name)
      writeFileSync(path, content)
      return path
    }

    expect(await holdsApiRecords(write('records.jsonl', '{"timeUnixNano":"1","body":{"stringValue":"x"}}\n'))).toBe(true)
    expect(await holdsApiRecords(write('resource-first.jsonl', '{"resource":{"attributes":[]},"timeUnixNano":"1"}\n'))).toBe(true)
    expect(await holdsApiRecords(write('logs.jsonl', '  {"resourceLogs":[]}\n'))).toBe(false)
    expect(await holdsApiRecords(write('spans.jsonl', '{ "resourceSpans":[]}\n'))).toBe(false)
    expect(await holdsApiRecords(write('otlp.pb', new Uint8Array([0, 0, 0, 2, 10, 0])))).toBe(false)
    expect(await holdsApiRecords(write('empty', ''))).toBe(false)
  })

  it('a --from value is input only when it is no time and names something that exists', async () => {
    writeFileSync(join(dir.path, 'a.jsonl'), '')
    expect(await namesLocalInput(dir.path)).toBe(true)
    expect(await namesLocalInput(join(dir.path, 'a.jsonl'))).toBe(true)
    expect(await namesLocalInput(join(dir.path, '*.jsonl'))).toBe(true)
    expect(await namesLocalInput(join(dir.path, '*.pb'))).toBe(false)
    expect(await namesLocalInput(join(dir.path, 'b.jsonl'))).toBe(false)
    expect(await namesLocalInput('2h')).toBe(false)
    expect(await namesLocalInput('2026-11-22T08:00:00Z')).toBe(false)
    expect(await namesLocalInput('yesterday')).toBe(false)
  })
})
