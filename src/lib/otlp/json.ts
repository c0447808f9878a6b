/**
 * OTLP/JSON: the protobuf JSON mapping as the OTLP specification adjusts it. Keys are
 * lowerCamelCase (the only form accepted, as the specification says), trace and span ids are hex
 * (any case on input, lowercase on output), enums are integers (their names are accepted too),
 * 64-bit integers are decimal strings on output and strings or numbers on input, bytes are
 * base64, and unknown keys are ignored.
 *
 * Decoding validates every field it reads and names the JSON path of the first bad one, e.g.
 * `resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano`. Encoders mirror proto-encode.ts:
 * the same grouping, scalars at their default left out, modelled messages always written.
 */
import {fromBase64Strict, fromUtf8Strict, toBase64} from '../encoding.js'
import {OtlpDecodeError} from './errors.js'
import type {DecodeOptions} from './proto-decode.js'
import {checkSize, tooManyRecords} from './proto-decode.js'
import type {
  AnyValue,
  Exemplar,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  InstrumentationScope,
  KeyValue,
  LogRecordOtlp,
  MetricData,
  MetricRecord,
  NumberDataPoint,
  Resource,
  Signal,
  SpanEvent,
  SpanLink,
  SpanRecord,
  SummaryDataPoint,
} from './types.js'

type JsonObject = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Parsing text
// ---------------------------------------------------------------------------------------------

// A JSON number of 16 or more digits standing as a value (after `:`, `,` or `[`): JSON.parse would
// round it, so such bodies are first rewritten with those numbers quoted. Bodies that write their
// 64-bit integers as strings, as the Collector and the SDKs do, never pay for the rewrite.
const LONG_NUMBER_VALUE = /[:,[]\s*-?\d{16}/
// The quick rewrite: a regular expression that cannot tell strings apart. Should it match inside
// a string, the quotes it adds end that string early and make the text invalid JSON (a digit or
// `-` right after a string), so a parse error sends the body to the careful rewrite instead.
const LONG_INTEGER_VALUES = /([:,[]\s*)(-?\d{16,})(?=\s*[,\]}])/g

/** Parses an OTLP/JSON body, keeping integers that do not fit in a double exact. */
export function parseOtlpJson(input: string | Uint8Array, options?: DecodeOptions): unknown {
  let text: string
  if (typeof input === 'string') {
    if (options?.maxBytes !== undefined && input.length > options.maxBytes / 3) checkSize(Buffer.byteLength(input), options)
    text = input
  } else {
    checkSize(input.length, options)
    const decoded = fromUtf8Strict(input)
    if (decoded === undefined) throw new OtlpDecodeError('OTLP_NOT_JSON', 'OTLP/JSON body is not valid UTF-8')
    text = decoded
  }

  if (text.charCodeAt(0) === 0xfe_ff) text = text.slice(1)
  if (LONG_NUMBER_VALUE.test(text)) {
    try {
      return JSON.parse(text.replace(LONG_INTEGER_VALUES, '$1"$2"')) as unknown
    } catch {
      text = quoteLongIntegers(text)
    }
  }

  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new OtlpDecodeError('OTLP_NOT_JSON', `OTLP/JSON body is not JSON: ${(error as Error).message}`, {cause: error})
  }
}

/** Puts quotes around every integer literal of more than 15 digits outside strings. */
function quoteLongIntegers(text: string): string {
  const parts: string[] = []
  let copied = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // Skip a string, escapes included.
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i += 2
        else if (d === 0x22) break
        else i++
      }

      i++
      continue
    }

    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i
      i++
      let digits = c === 0x2d ? 0 : 1
      let integer = true
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d >= 0x30 && d <= 0x39) digits++
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) integer = false
        else break
        i++
      }

      if (integer && digits > 15) {
        parts.push(text.slice(copied, start), '"', text.slice(start, i), '"')
        copied = i
      }

      continue
    }

    i++
  }

  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

// ---------------------------------------------------------------------------------------------
// Reading values, with the path of what is being read
// ---------------------------------------------------------------------------------------------

class JsonReader {
  /** Keys and indexes from the top of the body down to the object being read. */
  readonly path: (string | number)[] = []
  count = 0
  /** How many AnyValues the one being read is nested in. */
  valueDepth = 0

  constructor(
    readonly maxRecords: number,
    readonly what: string,
  ) {}

  pathTo(key?: string): string {
    let out = ''
    for (const part of key === undefined ? this.path : [...this.path, key]) {
      out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`
    }

    return out === '' ? 'the top level' : out
  }

  fail(key: string | undefined, what: string): never {
    throw new OtlpDecodeError('OTLP_MALFORMED', `malformed OTLP/JSON at ${this.pathTo(key)}: ${what}`)
  }

  counted(): void {
    if (++this.count > this.maxRecords) throw tooManyRecords(this.maxRecords, this.what)
  }

  string(o: JsonObject, key: string): string {
    const v = o[key]
    if (typeof v === 'string') return v
    if (v === undefined || v === null) return ''
    return this.fail(key, `expected a string, found ${describe(v)}`)
  }

  bool(o: JsonObject, key: string): boolean {
    const v = o[key]
    if (typeof v === 'boolean') return v
    if (v === undefined || v === null) return false
    return this.fail(key, `expected true or false, found ${describe(v)}`)
  }

  /** uint32, fixed32 (0 … 2^32-1), or with `signed` int32/sint32; as a number or a decimal string. */
  int(o: JsonObject, key: string, signed: boolean, names?: Readonly<Record<string, number>>): number {
    const v = o[key]
    if (v === undefined || v === null) return 0
    let n: number | undefined
    if (typeof v === 'number') n = v
    else if (typeof v === 'string') {
      if (names !== undefined && Object.hasOwn(names, v)) return names[v]!
      if (/^-?\d+$/.test(v)) n = Number(v)
    }

    const min = signed ? -0x8000_0000 : 0
    const max = signed ? 0x7fff_ffff : 0xffff_ffff
    if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
      const expected = signed ? 'a 32-bit integer' : 'an unsigned 32-bit integer'
      this.fail(key, `expected ${names === undefined ? expected : `${expected} or an enum name`}, found ${describe(v)}`)
    }

    return n
  }

  /** int64 (`signed`) or uint64/fixed64, as a decimal string or a number. */
  int64(o: JsonObject, key: string, signed: boolean): bigint {
    const v = o[key]
    if (v === undefined || v === null) return 0n
    return this.int64Value(v, key, signed)
  }

  int64Value(v: unknown, key: string | undefined, signed: boolean): bigint {
    let n: bigint | undefined
    if (typeof v === 'string') {
      if (/^-?\d{1,20}$/.test(v)) n = BigInt(v)
    } else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v)
    if (n === undefined || (signed ? BigInt.asIntN(64, n) !== n : BigInt.asUintN(64, n) !== n)) {
      this.fail(key, `expected ${signed ? 'a 64-bit integer' : 'an unsigned 64-bit integer'} (a decimal string or a number), found ${describe(v)}`)
    }

    return n
  }

  double(o: JsonObject, key: string): number {
    const v = o[key]
    if (v === undefined || v === null) return 0
    return this.doubleValue(v, key)
  }

  optionalDouble(o: JsonObject, key: string): number | undefined {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    return this.doubleValue(v, key)
  }

  doubleValue(v: unknown, key: string | undefined): number {
    if (typeof v === 'number') return v
    if (typeof v === 'string') {
      if (v === 'NaN') return Number.NaN
      if (v === 'Infinity') return Number.POSITIVE_INFINITY
      if (v === '-Infinity') return Number.NEGATIVE_INFINITY
      if (/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(v)) return Number(v)
    }

    return this.fail(key, `expected a number, found ${describe(v)}`)
  }

  /** A trace or span id: hex of whole bytes, either case; '' when absent. */
  id(o: JsonObject, key: string): string {
    const v = o[key]
    if (v === undefined || v === null || v === '') return ''
    if (typeof v !== 'string' || v.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(v)) {
      this.fail(key, `expected a hex id, found ${describe(v)}`)
    }

    return v.toLowerCase()
  }

  object(o: JsonObject, key: string): JsonObject | undefined {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, `expected an object, found ${describe(v)}`)
    return v as JsonObject
  }

  array(o: JsonObject, key: string): unknown[] {
    const v = o[key]
    if (v === undefined || v === null) return EMPTY
    if (!Array.isArray(v)) this.fail(key, `expected an array, found ${describe(v)}`)
    return v
  }

  /** Walks the objects of an array field, with the path kept up to date. */
  each(o: JsonObject, key: string, visit: (item: JsonObject) => void): void {
    const items = this.array(o, key)
    if (items.length === 0) return
    this.path.push(key)
    for (let i = 0; i < items.length; i++) {
      const item = items[i]
      this.path.push(i)
      if (typeof item !== 'object' || item === null || Array.isArray(item)) this.fail(undefined, `expected an object, found ${describe(item)}`)
      visit(item as JsonObject)
      this.path.pop()
    }

    this.path.pop()
  }

  /** Reads an object field with the path kept up to date; undefined when absent. */
  nested<T>(o: JsonObject, key: string, read: (value: JsonObject) => T): T | undefined {
    const value = this.object(o, key)
    if (value === undefined) return undefined
    this.path.push(key)
    const result = read(value)
    this.path.pop()
    return result
  }
}

const EMPTY: unknown[] = []

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

const SPAN_KIND_NAMES = enumNames(['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'])
const STATUS_CODE_NAMES = enumNames(['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'])
const TEMPORALITY_NAMES = enumNames(['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'])
const SEVERITY_NAMES = enumNames([
  'SEVERITY_NUMBER_UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level) => ['', '2', '3', '4'].map((n) => `SEVERITY_NUMBER_${level}${n}`)),
])

function enumNames(names: string[]): Readonly<Record<string, number>> {
  return Object.freeze(Object.fromEntries(names.map((name, i) => [name, i])))
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** Decodes an OTLP/JSON ExportTraceServiceRequest body. */
export function decodeTracesJson(text: string | Uint8Array, options?: DecodeOptions): SpanRecord[] {
  return tracesFromJson(parseOtlpJson(text, options), options)
}

export function decodeLogsJson(text: string | Uint8Array, options?: DecodeOptions): LogRecordOtlp[] {
  return logsFromJson(parseOtlpJson(text, options), options)
}

export function decodeMetricsJson(text: string | Uint8Array, options?: DecodeOptions): MetricRecord[] {
  return metricsFromJson(parseOtlpJson(text, options), options)
}

/** Records of an already-parsed `{resourceSpans: [...]}` (an OTLP/JSON request, or a body that embeds one). */
export function tracesFromJson(value: unknown, options?: Pick<DecodeOptions, 'maxRecords'>): SpanRecord[] {
  const out: SpanRecord[] = []
  walkRequest(value, 'resourceSpans', 'scopeSpans', 'spans', new JsonReader(options?.maxRecords ?? Number.POSITIVE_INFINITY, 'spans'), (j, o, resource, scope) => out.push(readSpan(j, o, resource, scope)))
  return out
}

export function logsFromJson(value: unknown, options?: Pick<DecodeOptions, 'maxRecords'>): LogRecordOtlp[] {
  const out: LogRecordOtlp[] = []
  walkRequest(value, 'resourceLogs', 'scopeLogs', 'logRecords', new JsonReader(options?.maxRecords ?? Number.POSITIVE_INFINITY, 'log records'), (j, o, resource, scope) => out.push(readLogRecord(j, o, resource, scope)))
  return out
}

export function metricsFromJson(value: unknown, options?: Pick<DecodeOptions, 'maxRecords'>): MetricRecord[] {
  const out: MetricRecord[] = []
  walkRequest(value, 'resourceMetrics', 'scopeMetrics', 'metrics', new JsonReader(options?.maxRecords ?? Number.POSITIVE_INFINITY, 'metrics'), (j, o, resource, scope) => out.push(readMetric(j, o, resource, scope)))
  return out
}

function walkRequest(
  value: unknown,
  groupsKey: string,
  scopesKey: string,
  recordsKey: string,
  j: JsonReader,
  visit: (j: JsonReader, record: JsonObject, resource: Resource, scope: InstrumentationScope) => void,
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) j.fail(undefined, `expected an object with "${groupsKey}", found ${describe(value)}`)
  j.each(value as JsonObject, groupsKey, (group) => {
    const resource: Resource = {attributes: [], droppedAttributesCount: 0, schemaUrl: j.string(group, 'schemaUrl')}
    j.nested(group, 'resource', (o) => {
      resource.attributes = readKeyValues(j, o, 'attributes')
      resource.droppedAttributesCount = j.int(o, 'droppedAttributesCount', false)
    })
    j.each(group, scopesKey, (scoped) => {
      const scope: InstrumentationScope = {name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: j.string(scoped, 'schemaUrl')}
      j.nested(scoped, 'scope', (o) => {
        scope.name = j.string(o, 'name')
        scope.version = j.string(o, 'version')
        scope.attributes = readKeyValues(j, o, 'attributes')
        scope.droppedAttributesCount = j.int(o, 'droppedAttributesCount', false)
      })
      j.each(scoped, recordsKey, (record) => {
        j.counted()
        visit(j, record, resource, scope)
      })
    })
  })
}

// Attributes are most of what a record holds: read without a closure per attribute.
function readKeyValues(j: JsonReader, o: JsonObject, key: string): KeyValue[] {
  const items = j.array(o, key)
  if (items.length === 0) return []
  const out: KeyValue[] = []
  const path = j.path
  path.push(key)
  for (let i = 0; i < items.length; i++) {
    const kv = items[i]
    path.push(i)
    if (typeof kv !== 'object' || kv === null || Array.isArray(kv)) j.fail(undefined, `expected an object, found ${describe(kv)}`)
    const value = j.object(kv as JsonObject, 'value')
    let anyValue: AnyValue
    if (value === undefined) anyValue = {kind: 'empty'}
    else {
      path.push('value')
      anyValue = readAnyValue(j, value)
      path.pop()
    }

    out.push({key: j.string(kv as JsonObject, 'key'), value: anyValue})
    path.pop()
  }

  path.pop()
  return out
}

const ANY_VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const)
type AnyValueKey = typeof ANY_VALUE_KEYS extends Set<infer K> ? K : never

/** Arrays and kvlists nested in an attribute value deeper than this are refused (recursion has a limit). */
const MAX_VALUE_DEPTH = 64

function readAnyValue(j: JsonReader, o: JsonObject): AnyValue {
  if (++j.valueDepth > MAX_VALUE_DEPTH) j.fail(undefined, `values nested deeper than ${MAX_VALUE_DEPTH} levels`)
  const value = readAnyValueFields(j, o)
  j.valueDepth--
  return value
}

function readAnyValueFields(j: JsonReader, o: JsonObject): AnyValue {
  let found: AnyValueKey | undefined
  // The keys the object has (one, as a rule), not the seven it might have.
  for (const key in o) {
    if (!ANY_VALUE_KEYS.has(key as AnyValueKey) || o[key] === undefined || o[key] === null) continue
    if (found !== undefined) j.fail(key, `an AnyValue holds one value, and this one also has "${found}"`)
    found = key as AnyValueKey
  }

  switch (found) {
    case undefined: {
      return {kind: 'empty'}
    }

    case 'stringValue': {
      return {kind: 'string', value: j.string(o, found)}
    }

    case 'boolValue': {
      return {kind: 'bool', value: j.bool(o, found)}
    }

    case 'intValue': {
      return {kind: 'int', value: j.int64(o, found, true)}
    }

    case 'doubleValue': {
      return {kind: 'double', value: j.double(o, found)}
    }

    case 'arrayValue': {
      const values: AnyValue[] = []
      j.nested(o, found, (array) => {
        j.each(array, 'values', (item) => values.push(readAnyValue(j, item)))
      })
      return {kind: 'array', value: values}
    }

    case 'kvlistValue': {
      return {kind: 'kvlist', value: j.nested(o, found, (list) => readKeyValues(j, list, 'values')) ?? []}
    }

    case 'bytesValue': {
      const text = j.string(o, found)
      const bytes = fromBase64Strict(text)
      if (bytes === undefined) j.fail(found, `expected base64, found ${describe(text)}`)
      return {kind: 'bytes', value: bytes}
    }
  }
}

function readSpan(j: JsonReader, o: JsonObject, resource: Resource, scope: InstrumentationScope): SpanRecord {
  const events: SpanEvent[] = []
  j.each(o, 'events', (e) => {
    events.push({
      timeUnixNano: j.int64(e, 'timeUnixNano', false),
      name: j.string(e, 'name'),
      attributes: readKeyValues(j, e, 'attributes'),
      droppedAttributesCount: j.int(e, 'droppedAttributesCount', false),
    })
  })
  const links: SpanLink[] = []
  j.each(o, 'links', (l) => {
    links.push({
      traceId: j.id(l, 'traceId'),
      spanId: j.id(l, 'spanId'),
      traceState: j.string(l, 'traceState'),
      attributes: readKeyValues(j, l, 'attributes'),
      droppedAttributesCount: j.int(l, 'droppedAttributesCount', false),
      flags: j.int(l, 'flags', false),
    })
  })
  return {
    traceId: j.id(o, 'traceId'),
    spanId: j.id(o, 'spanId'),
    parentSpanId: j.id(o, 'parentSpanId'),
    traceState: j.string(o, 'traceState'),
    flags: j.int(o, 'flags', false),
    name: j.string(o, 'name'),
    kind: j.int(o, 'kind', true, SPAN_KIND_NAMES),
    startTimeUnixNano: j.int64(o, 'startTimeUnixNano', false),
    endTimeUnixNano: j.int64(o, 'endTimeUnixNano', false),
    attributes: readKeyValues(j, o, 'attributes'),
    droppedAttributesCount: j.int(o, 'droppedAttributesCount', false),
    events,
    droppedEventsCount: j.int(o, 'droppedEventsCount', false),
    links,
    droppedLinksCount: j.int(o, 'droppedLinksCount', false),
    status: j.nested(o, 'status', (s) => ({code: j.int(s, 'code', true, STATUS_CODE_NAMES), message: j.string(s, 'message')})) ?? {code: 0, message: ''},
    resource,
    scope,
  }
}

function readLogRecord(j: JsonReader, o: JsonObject, resource: Resource, scope: InstrumentationScope): LogRecordOtlp {
  return {
    timeUnixNano: j.int64(o, 'timeUnixNano', false),
    observedTimeUnixNano: j.int64(o, 'observedTimeUnixNano', false),
    severityNumber: j.int(o, 'severityNumber', true, SEVERITY_NAMES),
    severityText: j.string(o, 'severityText'),
    body: j.nested(o, 'body', (b) => readAnyValue(j, b)),
    attributes: readKeyValues(j, o, 'attributes'),
    droppedAttributesCount: j.int(o, 'droppedAttributesCount', false),
    flags: j.int(o, 'flags', false),
    traceId: j.id(o, 'traceId'),
    spanId: j.id(o, 'spanId'),
    eventName: j.string(o, 'eventName'),
    resource,
    scope,
  }
}

const METRIC_DATA_KEYS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const

function readMetric(j: JsonReader, o: JsonObject, resource: Resource, scope: InstrumentationScope): MetricRecord {
  let data: MetricData = {type: 'none'}
  let found: string | undefined
  for (const key of METRIC_DATA_KEYS) {
    if (o[key] === undefined || o[key] === null) continue
    if (found !== undefined) j.fail(key, `a metric holds one kind of data, and this one also has "${found}"`)
    found = key
    data = j.nested(o, key, (d) => readMetricData(j, key, d))!
  }

  return {
    name: j.string(o, 'name'),
    description: j.string(o, 'description'),
    unit: j.string(o, 'unit'),
    data,
    metadata: readKeyValues(j, o, 'metadata'),
    resource,
    scope,
  }
}

function readMetricData(j: JsonReader, type: (typeof METRIC_DATA_KEYS)[number], d: JsonObject): MetricData {
  switch (type) {
    case 'gauge': {
      const dataPoints: NumberDataPoint[] = []
      j.each(d, 'dataPoints', (p) => dataPoints.push(readNumberPoint(j, p)))
      return {type, dataPoints}
    }

    case 'sum': {
      const dataPoints: NumberDataPoint[] = []
      j.each(d, 'dataPoints', (p) => dataPoints.push(readNumberPoint(j, p)))
      return {type, dataPoints, aggregationTemporality: j.int(d, 'aggregationTemporality', true, TEMPORALITY_NAMES), isMonotonic: j.bool(d, 'isMonotonic')}
    }

    case 'histogram': {
      const dataPoints: HistogramDataPoint[] = []
      j.each(d, 'dataPoints', (p) => dataPoints.push(readHistogramPoint(j, p)))
      return {type, dataPoints, aggregationTemporality: j.int(d, 'aggregationTemporality', true, TEMPORALITY_NAMES)}
    }

    case 'exponentialHistogram': {
      const dataPoints: ExponentialHistogramDataPoint[] = []
      j.each(d, 'dataPoints', (p) => dataPoints.push(readExponentialPoint(j, p)))
      return {type, dataPoints, aggregationTemporality: j.int(d, 'aggregationTemporality', true, TEMPORALITY_NAMES)}
    }

    case 'summary': {
      const dataPoints: SummaryDataPoint[] = []
      j.each(d, 'dataPoints', (p) => dataPoints.push(readSummaryPoint(j, p)))
      return {type, dataPoints}
    }
  }
}

/** The `value` oneof of NumberDataPoint and Exemplar: asDouble or asInt. */
function readPointValue(j: JsonReader, o: JsonObject): NumberDataPoint['value'] {
  const asDouble = o.asDouble
  const asInt = o.asInt
  const hasDouble = asDouble !== undefined && asDouble !== null
  const hasInt = asInt !== undefined && asInt !== null
  if (hasDouble && hasInt) j.fail('asInt', 'a point holds one value, and this one also has "asDouble"')
  if (hasDouble) return {kind: 'double', value: j.doubleValue(asDouble, 'asDouble')}
  if (hasInt) return {kind: 'int', value: j.int64Value(asInt, 'asInt', true)}
  return {kind: 'none'}
}

function readExemplars(j: JsonReader, o: JsonObject, key: string): Exemplar[] {
  const out: Exemplar[] = []
  j.each(o, key, (e) => {
    out.push({
      filteredAttributes: readKeyValues(j, e, 'filteredAttributes'),
      timeUnixNano: j.int64(e, 'timeUnixNano', false),
      value: readPointValue(j, e),
      spanId: j.id(e, 'spanId'),
      traceId: j.id(e, 'traceId'),
    })
  })
  return out
}

function readNumberPoint(j: JsonReader, p: JsonObject): NumberDataPoint {
  return {
    attributes: readKeyValues(j, p, 'attributes'),
    startTimeUnixNano: j.int64(p, 'startTimeUnixNano', false),
    timeUnixNano: j.int64(p, 'timeUnixNano', false),
    value: readPointValue(j, p),
    exemplars: readExemplars(j, p, 'exemplars'),
    flags: j.int(p, 'flags', false),
  }
}

function readUint64List(j: JsonReader, o: JsonObject, key: string): bigint[] {
  const items = j.array(o, key)
  return items.map((item, i) => j.int64Value(item, `${key}[${i}]`, false))
}

function readHistogramPoint(j: JsonReader, p: JsonObject): HistogramDataPoint {
  return {
    attributes: readKeyValues(j, p, 'attributes'),
    startTimeUnixNano: j.int64(p, 'startTimeUnixNano', false),
    timeUnixNano: j.int64(p, 'timeUnixNano', false),
    count: j.int64(p, 'count', false),
    sum: j.optionalDouble(p, 'sum'),
    bucketCounts: readUint64List(j, p, 'bucketCounts'),
    explicitBounds: j.array(p, 'explicitBounds').map((item, i) => j.doubleValue(item, `explicitBounds[${i}]`)),
    exemplars: readExemplars(j, p, 'exemplars'),
    flags: j.int(p, 'flags', false),
    min: j.optionalDouble(p, 'min'),
    max: j.optionalDouble(p, 'max'),
  }
}

function readBuckets(j: JsonReader, p: JsonObject, key: string): {offset: number; bucketCounts: bigint[]} {
  return j.nested(p, key, (b) => ({offset: j.int(b, 'offset', true), bucketCounts: readUint64List(j, b, 'bucketCounts')})) ?? {offset: 0, bucketCounts: []}
}

function readExponentialPoint(j: JsonReader, p: JsonObject): ExponentialHistogramDataPoint {
  return {
    attributes: readKeyValues(j, p, 'attributes'),
    startTimeUnixNano: j.int64(p, 'startTimeUnixNano', false),
    timeUnixNano: j.int64(p, 'timeUnixNano', false),
    count: j.int64(p, 'count', false),
    sum: j.optionalDouble(p, 'sum'),
    scale: j.int(p, 'scale', true),
    zeroCount: j.int64(p, 'zeroCount', false),
    positive: readBuckets(j, p, 'positive'),
    negative: readBuckets(j, p, 'negative'),
    flags: j.int(p, 'flags', false),
    exemplars: readExemplars(j, p, 'exemplars'),
    min: j.optionalDouble(p, 'min'),
    max: j.optionalDouble(p, 'max'),
    zeroThreshold: j.double(p, 'zeroThreshold'),
  }
}

function readSummaryPoint(j: JsonReader, p: JsonObject): SummaryDataPoint {
  const quantileValues: {quantile: number; value: number}[] = []
  j.each(p, 'quantileValues', (q) => quantileValues.push({quantile: j.double(q, 'quantile'), value: j.double(q, 'value')}))
  return {
    attributes: readKeyValues(j, p, 'attributes'),
    startTimeUnixNano: j.int64(p, 'startTimeUnixNano', false),
    timeUnixNano: j.int64(p, 'timeUnixNano', false),
    count: j.int64(p, 'count', false),
    sum: j.double(p, 'sum'),
    quantileValues,
    flags: j.int(p, 'flags', false),
  }
}

const REJECTED_KEYS: Record<Signal, string> = {traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints'}

/** An OTLP/JSON Export*ServiceResponse. */
export function decodeExportResponseJson(signal: Signal, input: string | Uint8Array): {rejected: bigint; errorMessage: string} {
  const value = parseOtlpJson(input)
  const j = new JsonReader(Number.POSITIVE_INFINITY, 'records')
  if (typeof value !== 'object' || value === null || Array.isArray(value)) j.fail(undefined, `expected an object, found ${describe(value)}`)
  return (
    j.nested(value as JsonObject, 'partialSuccess', (p) => ({rejected: j.int64(p, REJECTED_KEYS[signal], true), errorMessage: j.string(p, 'errorMessage')})) ?? {
      rejected: 0n,
      errorMessage: '',
    }
  )
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

// The text encoders leave an empty list out, as the mapping does for every empty repeated field.

/** An ExportTraceServiceRequest as OTLP/JSON text (one line). */
export function encodeTracesJson(spans: readonly SpanRecord[]): string {
  return spans.length === 0 ? '{}' : JSON.stringify(tracesToJson(spans))
}

export function encodeLogsJson(logs: readonly LogRecordOtlp[]): string {
  return logs.length === 0 ? '{}' : JSON.stringify(logsToJson(logs))
}

export function encodeMetricsJson(metrics: readonly MetricRecord[]): string {
  return metrics.length === 0 ? '{}' : JSON.stringify(metricsToJson(metrics))
}

/** The OTLP/JSON object of an ExportTraceServiceRequest, for embedding in a larger document. */
export function tracesToJson(spans: readonly SpanRecord[]): {resourceSpans: JsonObject[]} {
  return {resourceSpans: groupToJson(spans, 'scopeSpans', 'spans', spanToJson)}
}

export function logsToJson(logs: readonly LogRecordOtlp[]): {resourceLogs: JsonObject[]} {
  return {resourceLogs: groupToJson(logs, 'scopeLogs', 'logRecords', logRecordToJson)}
}

export function metricsToJson(metrics: readonly MetricRecord[]): {resourceMetrics: JsonObject[]} {
  return {resourceMetrics: groupToJson(metrics, 'scopeMetrics', 'metrics', metricToJson)}
}

export function encodeExportResponseJson(signal: Signal, rejected: bigint, errorMessage: string): string {
  if (rejected === 0n && errorMessage === '') return '{}'
  const partialSuccess: JsonObject = {}
  if (rejected !== 0n) partialSuccess[REJECTED_KEYS[signal]] = rejected.toString()
  if (errorMessage !== '') partialSuccess.errorMessage = errorMessage
  return JSON.stringify({partialSuccess})
}

function groupToJson<R extends {resource: Resource; scope: InstrumentationScope}>(
  records: readonly R[],
  scopesKey: string,
  recordsKey: string,
  toJson: (record: R) => JsonObject,
): JsonObject[] {
  const groups: JsonObject[] = []
  let i = 0
  while (i < records.length) {
    const resource = records[i]!.resource
    const resourceJson: JsonObject = {}
    putKeyValues(resourceJson, 'attributes', resource.attributes)
    putNumber(resourceJson, 'droppedAttributesCount', resource.droppedAttributesCount)
    const scopes: JsonObject[] = []
    while (i < records.length && records[i]!.resource === resource) {
      const scope = records[i]!.scope
      const scopeJson: JsonObject = {}
      putString(scopeJson, 'name', scope.name)
      putString(scopeJson, 'version', scope.version)
      putKeyValues(scopeJson, 'attributes', scope.attributes)
      putNumber(scopeJson, 'droppedAttributesCount', scope.droppedAttributesCount)
      const items: JsonObject[] = []
      while (i < records.length && records[i]!.resource === resource && records[i]!.scope === scope) items.push(toJson(records[i++]!))
      const scoped: JsonObject = {scope: scopeJson, [recordsKey]: items}
      putString(scoped, 'schemaUrl', scope.schemaUrl)
      scopes.push(scoped)
    }

    const group: JsonObject = {resource: resourceJson, [scopesKey]: scopes}
    putString(group, 'schemaUrl', resource.schemaUrl)
    groups.push(group)
  }

  return groups
}

function putString(o: JsonObject, key: string, value: string): void {
  if (value !== '') o[key] = value
}

function putNumber(o: JsonObject, key: string, value: number): void {
  if (value !== 0) o[key] = value
}

function putInt64(o: JsonObject, key: string, value: bigint): void {
  if (value !== 0n) o[key] = value.toString()
}

function putDouble(o: JsonObject, key: string, value: number | undefined): void {
  if (value !== undefined) o[key] = doubleToJson(value)
}

/** JSON has no NaN or infinities: the protobuf JSON mapping writes them as strings. */
function doubleToJson(value: number): number | string {
  if (Number.isFinite(value)) return value
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
}

function putKeyValues(o: JsonObject, key: string, values: readonly KeyValue[]): void {
  if (values.length > 0) o[key] = values.map((kv) => keyValueToJson(kv))
}

function keyValueToJson(kv: KeyValue): JsonObject {
  const out: JsonObject = {}
  putString(out, 'key', kv.key)
  out.value = anyValueToJson(kv.value)
  return out
}

function anyValueToJson(value: AnyValue): JsonObject {
  switch (value.kind) {
    case 'string': {
      return {stringValue: value.value}
    }

    case 'bool': {
      return {boolValue: value.value}
    }

    case 'int': {
      return {intValue: value.value.toString()}
    }

    case 'double': {
      return {doubleValue: doubleToJson(value.value)}
    }

    case 'array': {
      const array: JsonObject = {}
      if (value.value.length > 0) array.values = value.value.map((item) => anyValueToJson(item))
      return {arrayValue: array}
    }

    case 'kvlist': {
      const list: JsonObject = {}
      putKeyValues(list, 'values', value.value)
      return {kvlistValue: list}
    }

    case 'bytes': {
      return {bytesValue: toBase64(value.value)}
    }

    case 'empty': {
      return {}
    }
  }
}

function spanToJson(span: SpanRecord): JsonObject {
  const o: JsonObject = {}
  putString(o, 'traceId', span.traceId)
  putString(o, 'spanId', span.spanId)
  putString(o, 'traceState', span.traceState)
  putString(o, 'parentSpanId', span.parentSpanId)
  putNumber(o, 'flags', span.flags)
  putString(o, 'name', span.name)
  putNumber(o, 'kind', span.kind)
  putInt64(o, 'startTimeUnixNano', span.startTimeUnixNano)
  putInt64(o, 'endTimeUnixNano', span.endTimeUnixNano)
  putKeyValues(o, 'attributes', span.attributes)
  putNumber(o, 'droppedAttributesCount', span.droppedAttributesCount)
  if (span.events.length > 0) {
    o.events = span.events.map((event) => {
      const e: JsonObject = {}
      putInt64(e, 'timeUnixNano', event.timeUnixNano)
      putString(e, 'name', event.name)
      putKeyValues(e, 'attributes', event.attributes)
      putNumber(e, 'droppedAttributesCount', event.droppedAttributesCount)
      return e
    })
  }

  putNumber(o, 'droppedEventsCount', span.droppedEventsCount)
  if (span.links.length > 0) {
    o.links = span.links.map((link) => {
      const l: JsonObject = {}
      putString(l, 'traceId', link.traceId)
      putString(l, 'spanId', link.spanId)
      putString(l, 'traceState', link.traceState)
      putKeyValues(l, 'attributes', link.attributes)
      putNumber(l, 'droppedAttributesCount', link.droppedAttributesCount)
      putNumber(l, 'flags', link.flags)
      return l
    })
  }

  putNumber(o, 'droppedLinksCount', span.droppedLinksCount)
  const status: JsonObject = {}
  putString(status, 'message', span.status.message)
  putNumber(status, 'code', span.status.code)
  o.status = status
  return o
}

function logRecordToJson(log: LogRecordOtlp): JsonObject {
  const o: JsonObject = {}
  putInt64(o, 'timeUnixNano', log.timeUnixNano)
  putInt64(o, 'observedTimeUnixNano', log.observedTimeUnixNano)
  putNumber(o, 'severityNumber', log.severityNumber)
  putString(o, 'severityText', log.severityText)
  if (log.body !== undefined) o.body = anyValueToJson(log.body)
  putKeyValues(o, 'attributes', log.attributes)
  putNumber(o, 'droppedAttributesCount', log.droppedAttributesCount)
  putNumber(o, 'flags', log.flags)
  putString(o, 'traceId', log.traceId)
  putString(o, 'spanId', log.spanId)
  putString(o, 'eventName', log.eventName)
  return o
}

function metricToJson(metric: MetricRecord): JsonObject {
  const o: JsonObject = {}
  putString(o, 'name', metric.name)
  putString(o, 'description', metric.description)
  putString(o, 'unit', metric.unit)
  const data = metric.data
  switch (data.type) {
    case 'gauge': {
      o.gauge = withPoints(data.dataPoints.map((p) => numberPointToJson(p)))
      break
    }

    case 'sum': {
      const sum = withPoints(data.dataPoints.map((p) => numberPointToJson(p)))
      putNumber(sum, 'aggregationTemporality', data.aggregationTemporality)
      if (data.isMonotonic) sum.isMonotonic = true
      o.sum = sum
      break
    }

    case 'histogram': {
      const histogram = withPoints(data.dataPoints.map((p) => histogramPointToJson(p)))
      putNumber(histogram, 'aggregationTemporality', data.aggregationTemporality)
      o.histogram = histogram
      break
    }

    case 'exponentialHistogram': {
      const histogram = withPoints(data.dataPoints.map((p) => exponentialPointToJson(p)))
      putNumber(histogram, 'aggregationTemporality', data.aggregationTemporality)
      o.exponentialHistogram = histogram
      break
    }

    case 'summary': {
      o.summary = withPoints(data.dataPoints.map((p) => summaryPointToJson(p)))
      break
    }

    case 'none': {
      break
    }
  }

  putKeyValues(o, 'metadata', metric.metadata)
  return o
}

function withPoints(points: JsonObject[]): JsonObject {
  return points.length > 0 ? {dataPoints: points} : {}
}

function putPointValue(o: JsonObject, value: NumberDataPoint['value']): void {
  if (value.kind === 'double') o.asDouble = doubleToJson(value.value)
  else if (value.kind === 'int') o.asInt = value.value.toString()
}

function putExemplars(o: JsonObject, key: string, exemplars: readonly Exemplar[]): void {
  if (exemplars.length === 0) return
  o[key] = exemplars.map((exemplar) => {
    const e: JsonObject = {}
    putKeyValues(e, 'filteredAttributes', exemplar.filteredAttributes)
    putInt64(e, 'timeUnixNano', exemplar.timeUnixNano)
    putPointValue(e, exemplar.value)
    putString(e, 'spanId', exemplar.spanId)
    putString(e, 'traceId', exemplar.traceId)
    return e
  })
}

function numberPointToJson(point: NumberDataPoint): JsonObject {
  const o: JsonObject = {}
  putKeyValues(o, 'attributes', point.attributes)
  putInt64(o, 'startTimeUnixNano', point.startTimeUnixNano)
  putInt64(o, 'timeUnixNano', point.timeUnixNano)
  putPointValue(o, point.value)
  putExemplars(o, 'exemplars', point.exemplars)
  putNumber(o, 'flags', point.flags)
  return o
}

function histogramPointToJson(point: HistogramDataPoint): JsonObject {
  const o: JsonObject = {}
  putKeyValues(o, 'attributes', point.attributes)
  putInt64(o, 'startTimeUnixNano', point.startTimeUnixNano)
  putInt64(o, 'timeUnixNano', point.timeUnixNano)
  putInt64(o, 'count', point.count)
  putDouble(o, 'sum', point.sum)
  if (point.bucketCounts.length > 0) o.bucketCounts = point.bucketCounts.map((count) => count.toString())
  if (point.explicitBounds.length > 0) o.explicitBounds = point.explicitBounds.map((bound) => doubleToJson(bound))
  putExemplars(o, 'exemplars', point.exemplars)
  putNumber(o, 'flags', point.flags)
  putDouble(o, 'min', point.min)
  putDouble(o, 'max', point.max)
  return o
}

function bucketsToJson(buckets: {offset: number; bucketCounts: bigint[]}): JsonObject {
  const o: JsonObject = {}
  putNumber(o, 'offset', buckets.offset)
  if (buckets.bucketCounts.length > 0) o.bucketCounts = buckets.bucketCounts.map((count) => count.toString())
  return o
}

function exponentialPointToJson(point: ExponentialHistogramDataPoint): JsonObject {
  const o: JsonObject = {}
  putKeyValues(o, 'attributes', point.attributes)
  putInt64(o, 'startTimeUnixNano', point.startTimeUnixNano)
  putInt64(o, 'timeUnixNano', point.timeUnixNano)
  putInt64(o, 'count', point.count)
  putDouble(o, 'sum', point.sum)
  putNumber(o, 'scale', point.scale)
  putInt64(o, 'zeroCount', point.zeroCount)
  o.positive = bucketsToJson(point.positive)
  o.negative = bucketsToJson(point.negative)
  putNumber(o, 'flags', point.flags)
  putExemplars(o, 'exemplars', point.exemplars)
  putDouble(o, 'min', point.min)
  putDouble(o, 'max', point.max)
  if (point.zeroThreshold !== 0 || Object.is(point.zeroThreshold, -0)) o.zeroThreshold = doubleToJson(point.zeroThreshold)
  return o
}

function summaryPointToJson(point: SummaryDataPoint): JsonObject {
  const o: JsonObject = {}
  putKeyValues(o, 'attributes', point.attributes)
  putInt64(o, 'startTimeUnixNano', point.startTimeUnixNano)
  putInt64(o, 'timeUnixNano', point.timeUnixNano)
  putInt64(o, 'count', point.count)
  if (point.sum !== 0 || Object.is(point.sum, -0)) o.sum = doubleToJson(point.sum)
  if (point.quantileValues.length > 0) {
    o.quantileValues = point.quantileValues.map((q) => {
      const v: JsonObject = {}
      if (q.quantile !== 0 || Object.is(q.quantile, -0)) v.quantile = doubleToJson(q.quantile)
      if (q.value !== 0 || Object.is(q.value, -0)) v.value = doubleToJson(q.value)
      return v
    })
  }

  putNumber(o, 'flags', point.flags)
  return o
}
