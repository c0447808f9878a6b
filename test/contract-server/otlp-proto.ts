/**
 * A small hand-written protobuf encoder for OTLP: OTLP/JSON (the protobuf JSON mapping, with hex
 * trace and span ids) to `ExportTraceServiceRequest` and `ExportLogsServiceRequest` messages of
 * opentelemetry-proto v1, and the length-prefixed framing of the collector file exporter's
 * `proto` format.
 *
 * Proto3 rules: a scalar field at its default value (0, "", empty bytes) is left out; a message
 * field present in the JSON is written even when empty; an AnyValue's one value is always written.
 */

const WIRE = {varint: 0, fixed64: 1, len: 2, fixed32: 5} as const
const UINT64 = 1n << 64n

class ProtoWriter {
  private readonly chunks: Buffer[] = []

  private raw(bytes: Buffer): void {
    this.chunks.push(bytes)
  }

  private rawVarint(value: bigint): void {
    if (value < 0n) value += UINT64 // int64 and enums: two's complement, ten bytes
    if (value < 0n || value >= UINT64) throw new RangeError(`${value} does not fit in 64 bits`)
    const bytes: number[] = []
    while (value >= 0x80n) {
      bytes.push(Number(value & 0x7fn) | 0x80)
      value >>= 7n
    }

    bytes.push(Number(value))
    this.raw(Buffer.from(bytes))
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(BigInt((field << 3) | wire))
  }

  varint(field: number, value: bigint | number): void {
    this.tag(field, WIRE.varint)
    this.rawVarint(BigInt(value))
  }

  fixed64(field: number, value: bigint): void {
    const bytes = Buffer.alloc(8)
    bytes.writeBigUInt64LE(BigInt.asUintN(64, value))
    this.tag(field, WIRE.fixed64)
    this.raw(bytes)
  }

  fixed32(field: number, value: number): void {
    const bytes = Buffer.alloc(4)
    bytes.writeUInt32LE(value >>> 0)
    this.tag(field, WIRE.fixed32)
    this.raw(bytes)
  }

  double(field: number, value: number): void {
    const bytes = Buffer.alloc(8)
    bytes.writeDoubleLE(value)
    this.tag(field, WIRE.fixed64)
    this.raw(bytes)
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE.len)
    this.rawVarint(BigInt(value.length))
    this.raw(Buffer.from(value))
  }

  string(field: number, value: string): void {
    this.bytes(field, Buffer.from(value, 'utf8'))
  }

  message(field: number, write: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter()
    write(inner)
    this.bytes(field, inner.finish())
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

// ---------------------------------------------------------------------------------------
// OTLP/JSON values
// ---------------------------------------------------------------------------------------

type Json = Record<string, unknown>

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} is not an OTLP/JSON object`)
  return value as Json
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new TypeError(`${what} is not an array`)
  return value
}

/** 64-bit integers are decimal strings in OTLP/JSON; numbers are accepted too. */
function integer(value: unknown, what: string): bigint {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value)
  throw new TypeError(`${what} is not an integer: ${JSON.stringify(value)}`)
}

function hexBytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) throw new TypeError(`${what} is not hex: ${JSON.stringify(value)}`)
  return Buffer.from(value, 'hex')
}

/** An enum as its number or (the JSON mapping's other form) its name. */
function enumNumber(value: unknown, names: readonly string[], what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  const index = typeof value === 'string' ? names.indexOf(value) : -1
  if (index < 0) throw new TypeError(`${what} is not a known value: ${JSON.stringify(value)}`)
  return index
}

const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].map((n) => `SPAN_KIND_${n}`)
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'].map((n) => `STATUS_CODE_${n}`)
const SEVERITY_NUMBERS = ['SEVERITY_NUMBER_UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level) => ['', '2', '3', '4'].map((n) => `SEVERITY_NUMBER_${level}${n}`))]

// Writers of proto3 scalars that leave out the default value.
function writeString(w: ProtoWriter, field: number, value: unknown, what: string): void {
  if (value === undefined || value === '') return
  if (typeof value !== 'string') throw new TypeError(`${what} is not a string`)
  w.string(field, value)
}

function writeUint(w: ProtoWriter, field: number, value: unknown, what: string): void {
  if (value === undefined) return
  const n = integer(value, what)
  if (n !== 0n) w.varint(field, n)
}

function writeFixed64(w: ProtoWriter, field: number, value: unknown, what: string): void {
  if (value === undefined) return
  const n = integer(value, what)
  if (n !== 0n) w.fixed64(field, n)
}

function writeFixed32(w: ProtoWriter, field: number, value: unknown, what: string): void {
  if (value === undefined) return
  const n = Number(integer(value, what))
  if (n !== 0) w.fixed32(field, n)
}

function writeEnum(w: ProtoWriter, field: number, value: unknown, names: readonly string[], what: string): void {
  if (value === undefined) return
  const n = enumNumber(value, names, what)
  if (n !== 0) w.varint(field, n)
}

function writeHex(w: ProtoWriter, field: number, value: unknown, what: string): void {
  if (value === undefined) return
  const bytes = hexBytes(value, what)
  if (bytes.length > 0) w.bytes(field, bytes)
}

// ---------------------------------------------------------------------------------------
// common.proto and resource.proto
// ---------------------------------------------------------------------------------------

/** AnyValue: string_value=1, bool_value=2, int_value=3, double_value=4, array_value=5, kvlist_value=6, bytes_value=7. */
function writeAnyValue(w: ProtoWriter, json: unknown): void {
  const value = object(json, 'AnyValue')
  if ('stringValue' in value) w.string(1, String(value.stringValue))
  else if ('boolValue' in value) w.varint(2, value.boolValue === true ? 1 : 0)
  else if ('intValue' in value) w.varint(3, integer(value.intValue, 'intValue'))
  else if ('doubleValue' in value) w.double(4, Number(value.doubleValue))
  else if ('arrayValue' in value) w.message(5, (a) => writeValues(a, object(value.arrayValue, 'arrayValue').values, 'arrayValue'))
  else if ('kvlistValue' in value) w.message(6, (kv) => writeAttributes(kv, 1, object(value.kvlistValue, 'kvlistValue').values))
  else if ('bytesValue' in value) w.bytes(7, Buffer.from(String(value.bytesValue), 'base64')) // bytes are base64 in the JSON mapping
  // {} is an AnyValue with no value set: an empty message.
}

/** ArrayValue: values=1. */
function writeValues(w: ProtoWriter, values: unknown, what: string): void {
  for (const value of list(values, what)) w.message(1, (v) => writeAnyValue(v, value))
}

/** Repeated KeyValue (key=1, value=2) at `field`. */
function writeAttributes(w: ProtoWriter, field: number, attributes: unknown): void {
  for (const item of list(attributes, 'attributes')) {
    const kv = object(item, 'KeyValue')
    w.message(field, (m) => {
      writeString(m, 1, kv.key, 'KeyValue.key')
      if (kv.value !== undefined) m.message(2, (v) => writeAnyValue(v, kv.value))
    })
  }
}

/** Resource: attributes=1, dropped_attributes_count=2. */
function writeResource(w: ProtoWriter, json: unknown): void {
  const resource = object(json, 'Resource')
  writeAttributes(w, 1, resource.attributes)
  writeUint(w, 2, resource.droppedAttributesCount, 'Resource.droppedAttributesCount')
}

/** InstrumentationScope: name=1, version=2, attributes=3, dropped_attributes_count=4. */
function writeScope(w: ProtoWriter, json: unknown): void {
  const scope = object(json, 'InstrumentationScope')
  writeString(w, 1, scope.name, 'InstrumentationScope.name')
  writeString(w, 2, scope.version, 'InstrumentationScope.version')
  writeAttributes(w, 3, scope.attributes)
  writeUint(w, 4, scope.droppedAttributesCount, 'InstrumentationScope.droppedAttributesCount')
}

// ---------------------------------------------------------------------------------------
// trace.proto
// ---------------------------------------------------------------------------------------

/** Span.Event: time_unix_nano=1, name=2, attributes=3, dropped_attributes_count=4. */
function writeEvent(w: ProtoWriter, json: unknown): void {
  const event = object(json, 'Span.Event')
  writeFixed64(w, 1, event.timeUnixNano, 'Event.timeUnixNano')
  writeString(w, 2, event.name, 'Event.name')
  writeAttributes(w, 3, event.attributes)
  writeUint(w, 4, event.droppedAttributesCount, 'Event.droppedAttributesCount')
}

/** Span.Link: trace_id=1, span_id=2, trace_state=3, attributes=4, dropped_attributes_count=5, flags=6. */
function writeLink(w: ProtoWriter, json: unknown): void {
  const link = object(json, 'Span.Link')
  writeHex(w, 1, link.traceId, 'Link.traceId')
  writeHex(w, 2, link.spanId, 'Link.spanId')
  writeString(w, 3, link.traceState, 'Link.traceState')
  writeAttributes(w, 4, link.attributes)
  writeUint(w, 5, link.droppedAttributesCount, 'Link.droppedAttributesCount')
  writeFixed32(w, 6, link.flags, 'Link.flags')
}

/** Span, fields in field-number order. */
function writeSpan(w: ProtoWriter, json: unknown): void {
  const span = object(json, 'Span')
  writeHex(w, 1, span.traceId, 'Span.traceId')
  writeHex(w, 2, span.spanId, 'Span.spanId')
  writeString(w, 3, span.traceState, 'Span.traceState')
  writeHex(w, 4, span.parentSpanId, 'Span.parentSpanId')
  writeString(w, 5, span.name, 'Span.name')
  writeEnum(w, 6, span.kind, SPAN_KINDS, 'Span.kind')
  writeFixed64(w, 7, span.startTimeUnixNano, 'Span.startTimeUnixNano')
  writeFixed64(w, 8, span.endTimeUnixNano, 'Span.endTimeUnixNano')
  writeAttributes(w, 9, span.attributes)
  writeUint(w, 10, span.droppedAttributesCount, 'Span.droppedAttributesCount')
  for (const event of list(span.events, 'Span.events')) w.message(11, (e) => writeEvent(e, event))
  writeUint(w, 12, span.droppedEventsCount, 'Span.droppedEventsCount')
  for (const link of list(span.links, 'Span.links')) w.message(13, (l) => writeLink(l, link))
  writeUint(w, 14, span.droppedLinksCount, 'Span.droppedLinksCount')
  if (span.status !== undefined) {
    // Status: message=2, code=3.
    const status = object(span.status, 'Status')
    w.message(15, (s) => {
      writeString(s, 2, status.message, 'Status.message')
      writeEnum(s, 3, status.code, STATUS_CODES, 'Status.code')
    })
  }

  writeFixed32(w, 16, span.flags, 'Span.flags')
}

/** ExportTraceServiceRequest (resource_spans=1) from OTLP/JSON ResourceSpans. */
export function encodeTraceRequest(resourceSpans: readonly unknown[]): Buffer {
  const w = new ProtoWriter()
  for (const item of resourceSpans) {
    const rs = object(item, 'ResourceSpans')
    // ResourceSpans: resource=1, scope_spans=2, schema_url=3.
    w.message(1, (r) => {
      if (rs.resource !== undefined) r.message(1, (m) => writeResource(m, rs.resource))
      for (const scopeItem of list(rs.scopeSpans, 'scopeSpans')) {
        const ss = object(scopeItem, 'ScopeSpans')
        // ScopeSpans: scope=1, spans=2, schema_url=3.
        r.message(2, (s) => {
          if (ss.scope !== undefined) s.message(1, (m) => writeScope(m, ss.scope))
          for (const span of list(ss.spans, 'spans')) s.message(2, (m) => writeSpan(m, span))
          writeString(s, 3, ss.schemaUrl, 'ScopeSpans.schemaUrl')
        })
      }

      writeString(r, 3, rs.schemaUrl, 'ResourceSpans.schemaUrl')
    })
  }

  return w.finish()
}

// ---------------------------------------------------------------------------------------
// logs.proto
// ---------------------------------------------------------------------------------------

/** LogRecord, fields in field-number order. */
function writeLogRecord(w: ProtoWriter, json: unknown): void {
  const record = object(json, 'LogRecord')
  writeFixed64(w, 1, record.timeUnixNano, 'LogRecord.timeUnixNano')
  writeEnum(w, 2, record.severityNumber, SEVERITY_NUMBERS, 'LogRecord.severityNumber')
  writeString(w, 3, record.severityText, 'LogRecord.severityText')
  if (record.body !== undefined) w.message(5, (b) => writeAnyValue(b, record.body))
  writeAttributes(w, 6, record.attributes)
  writeUint(w, 7, record.droppedAttributesCount, 'LogRecord.droppedAttributesCount')
  writeFixed32(w, 8, record.flags, 'LogRecord.flags')
  writeHex(w, 9, record.traceId, 'LogRecord.traceId')
  writeHex(w, 10, record.spanId, 'LogRecord.spanId')
  writeFixed64(w, 11, record.observedTimeUnixNano, 'LogRecord.observedTimeUnixNano')
  writeString(w, 12, record.eventName, 'LogRecord.eventName')
}

/** ExportLogsServiceRequest (resource_logs=1) from OTLP/JSON ResourceLogs. */
export function encodeLogsRequest(resourceLogs: readonly unknown[]): Buffer {
  const w = new ProtoWriter()
  for (const item of resourceLogs) {
    const rl = object(item, 'ResourceLogs')
    // ResourceLogs: resource=1, scope_logs=2, schema_url=3.
    w.message(1, (r) => {
      if (rl.resource !== undefined) r.message(1, (m) => writeResource(m, rl.resource))
      for (const scopeItem of list(rl.scopeLogs, 'scopeLogs')) {
        const sl = object(scopeItem, 'ScopeLogs')
        // ScopeLogs: scope=1, log_records=2, schema_url=3.
        r.message(2, (s) => {
          if (sl.scope !== undefined) s.message(1, (m) => writeScope(m, sl.scope))
          for (const record of list(sl.logRecords, 'logRecords')) s.message(2, (m) => writeLogRecord(m, record))
          writeString(s, 3, sl.schemaUrl, 'ScopeLogs.schemaUrl')
        })
      }

      writeString(r, 3, rl.schemaUrl, 'ResourceLogs.schemaUrl')
    })
  }

  return w.finish()
}

// ---------------------------------------------------------------------------------------
// File framing
// ---------------------------------------------------------------------------------------

/** The collector file exporter's `proto` format: each message preceded by its length, 4 bytes big-endian. */
export function lengthPrefixed(messages: readonly Buffer[]): Buffer {
  const parts: Buffer[] = []
  for (const message of messages) {
    if (message.length > 0xffff_ffff) throw new RangeError('An OTLP message is longer than a 4-byte length can say.')
    const length = Buffer.alloc(4)
    length.writeUInt32BE(message.length)
    parts.push(length, message)
  }

  return Buffer.concat(parts)
}
