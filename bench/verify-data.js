// Deterministic test data for bench/verify.js: an input directory of `scale` GiB, half
// incompressible bytes and half OTLP-like telemetry (JSON lines and protobuf wire format),
// as a few large files and ~10,000 x scale small ones. The same seed gives the same bytes.
import {createCipheriv, createHash} from 'node:crypto'
import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'

/** Bump when the layout or the generators change, so cached data is rebuilt. */
export const DATA_VERSION = 1

const GIB = 1024 ** 3
const WRITE_CHUNK = 1 << 20

// ---------------------------------------------------------------------------------------
// Seeded PRNG (sfc32): fast, good enough for test data, identical everywhere.
// ---------------------------------------------------------------------------------------

export function rng(seed) {
  const digest = createHash('sha256').update(String(seed)).digest()
  let a = digest.readUInt32LE(0)
  let b = digest.readUInt32LE(4)
  let c = digest.readUInt32LE(8)
  let d = digest.readUInt32LE(12)
  const next = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }

  for (let i = 0; i < 16; i++) next()
  return {
    u32: next,
    /** Integer in [0, n). */
    int: (n) => Math.floor((next() / 2 ** 32) * n),
    pick: (list) => list[Math.floor((next() / 2 ** 32) * list.length)],
    float: () => next() / 2 ** 32,
  }
}

// ---------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------

const SERVICES = ['checkout', 'cart', 'payment', 'shipping', 'frontend', 'ad', 'recommendation', 'email', 'currency', 'quote', 'fraud-detection', 'accounting']

/**
 * The files of a `scale` GiB input: [{path, size, kind}], kind 'random' | 'otlp-json' | 'otlp-pb'.
 * Exactly scale GiB in all, exactly half of it 'random'.
 */
export function layout(scale, seed = 'stella-bench') {
  const r = rng(`${seed}/layout/${scale}`)
  const half = (scale * GIB) / 2
  const smallCount = 10_000 * scale
  const files = []
  const used = {random: 0, compressible: 0}
  for (let i = 0; i < smallCount; i++) {
    // Log-uniform from 256 B to 24 KiB: mean ~5 KiB, ~50 MiB per 10,000 files.
    const size = Math.round(256 * Math.exp(r.float() * Math.log(96)))
    const service = SERVICES[i % SERVICES.length]
    const batch = String(i).padStart(6, '0')
    const dir = `small/${service}/${String(Math.floor(i / 100) % 100).padStart(2, '0')}`
    if (i % 2 === 0) {
      files.push({path: `${dir}/blob-${batch}.bin`, size, kind: 'random'})
      used.random += size
    } else {
      const kind = i % 4 === 1 ? 'otlp-json' : 'otlp-pb'
      files.push({path: `${dir}/spans-${batch}.${kind === 'otlp-json' ? 'json' : 'pb'}`, size, kind})
      used.compressible += size
    }
  }

  // The rest of each half in three large files (50%, 30%, 20%).
  const split = (total) => {
    const a = Math.floor(total * 0.5)
    const b = Math.floor(total * 0.3)
    return [a, b, total - a - b]
  }

  const [r0, r1, r2] = split(half - used.random)
  files.push({path: 'large/heap-dump.bin', size: r0, kind: 'random'}, {path: 'large/pcap/capture-0001.pcap', size: r1, kind: 'random'}, {path: 'large/core.bin', size: r2, kind: 'random'})
  const [c0, c1, c2] = split(half - used.compressible)
  files.push({path: 'large/otlp/traces-0001.jsonl', size: c0, kind: 'otlp-json'}, {path: 'large/otlp/traces-0002.pb', size: c1, kind: 'otlp-pb'}, {path: 'large/otlp/logs-0001.jsonl', size: c2, kind: 'otlp-json'})
  return files
}

// ---------------------------------------------------------------------------------------
// Generators: each yields Buffers until `size` bytes were produced (the last one cut to fit).
// ---------------------------------------------------------------------------------------

const zeros = Buffer.alloc(WRITE_CHUNK)

/** AES-256-CTR keystream: incompressible, deterministic, several hundred MB/s. */
function* randomBytes(size, seed) {
  const key = createHash('sha256').update(`${seed}/key`).digest()
  const iv = createHash('sha256').update(`${seed}/iv`).digest().subarray(0, 16)
  const cipher = createCipheriv('aes-256-ctr', key, iv)
  for (let left = size; left > 0; left -= WRITE_CHUNK) {
    const n = Math.min(left, WRITE_CHUNK)
    yield cipher.update(n === WRITE_CHUNK ? zeros : zeros.subarray(0, n))
  }
}

const HEX = Array.from({length: 256}, (_, i) => i.toString(16).padStart(2, '0'))
const hexOf = (r, bytes) => {
  let text = ''
  for (let i = 0; i < bytes; i += 4) {
    const v = r.u32()
    text += HEX[v & 255] + HEX[(v >>> 8) & 255] + HEX[(v >>> 16) & 255] + HEX[v >>> 24]
  }

  return text
}

const ROUTES = ['GET /api/v1/orders', 'POST /api/v1/orders', 'GET /api/v1/cart', 'PUT /api/v1/cart/items', 'GET /api/v1/products/{id}', 'POST /api/v1/checkout', 'GET /healthz', 'grpc.oteldemo.CartService/GetCart', 'grpc.oteldemo.PaymentService/Charge', 'SELECT orders', 'redis GET', 'kafka publish orders']
const HOSTS = Array.from({length: 24}, (_, i) => `ip-10-0-${i >> 3}-${17 + i}.eu-west-1.compute.internal`)
const STATUS = [200, 200, 200, 200, 200, 200, 201, 204, 302, 400, 404, 500, 503]
const LOG_TEXTS = ['request completed', 'cache miss for key', 'retrying upstream call', 'payment authorized', 'order persisted', 'slow query detected', 'connection reset by peer', 'token refreshed', 'rate limit applied', 'feature flag evaluated']
const SEVERITIES = [['INFO', 9], ['INFO', 9], ['INFO', 9], ['DEBUG', 5], ['WARN', 13], ['ERROR', 17]]

/** Nanoseconds since the epoch as a decimal string: microseconds (exact in a double) and three more digits. */
const nanos = (r, micros) => `${micros}${String(r.int(1000)).padStart(3, '0')}`

const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'okhttp/4.12.0', 'grpc-go/1.64.0', 'python-requests/2.32.3', 'curl/8.5.0']

/** A trace: a few spans of one service call tree, with shared trace id and nested times. */
function traceSpans(r, clock) {
  const traceId = hexOf(r, 16)
  const count = 2 + r.int(8)
  const spans = []
  let parent = ''
  let start = clock.now
  const client = `10.${r.int(256)}.${r.int(256)}.${r.int(256)}`
  for (let i = 0; i < count; i++) {
    const spanId = hexOf(r, 8)
    const duration = 20 + r.int(80_000)
    const route = r.pick(ROUTES)
    spans.push({
      traceId, spanId, parent, route, client,
      path: route.replace('{id}', String(r.int(100_000))),
      service: r.pick(SERVICES), host: r.pick(HOSTS), agent: r.pick(AGENTS),
      start: nanos(r, start), end: nanos(r, start + duration),
      status: r.pick(STATUS), kind: 1 + r.int(5), bodySize: r.int(65_536), user: hexOf(r, 4), requestId: hexOf(r, 16), port: 1024 + r.int(64_000),
    })
    if (r.int(3) > 0) parent = spanId
    start += r.int(2_000)
  }

  clock.now += 1_000 + r.int(50_000)
  return spans
}

const str = (key, value) => `{"key":"${key}","value":{"stringValue":"${value}"}}`
const int = (key, value) => `{"key":"${key}","value":{"intValue":"${value}"}}`

const resourceJson = (s) => `{"attributes":[${str('service.name', s.service)},${str('host.name', s.host)},${str('telemetry.sdk.language', 'go')}]}`

function spanJson(s) {
  return `{"traceId":"${s.traceId}","spanId":"${s.spanId}","parentSpanId":"${s.parent}","name":"${s.route}","kind":${s.kind},"startTimeUnixNano":"${s.start}","endTimeUnixNano":"${s.end}","attributes":[${str('http.route', s.route)},${str('url.path', s.path)},${str('client.address', s.client)},${str('user_agent.original', s.agent)},${str('enduser.id', s.user)},${str('http.request.header.x-request-id', s.requestId)},${int('client.port', s.port)},${int('http.response.status_code', s.status)},${int('http.response.body.size', s.bodySize)}],"status":{"code":${s.status >= 500 ? 2 : 1}}}`
}

function logJson(r, s) {
  const [severity, number] = r.pick(SEVERITIES)
  return `{"timeUnixNano":"${s.start}","observedTimeUnixNano":"${s.end}","severityNumber":${number},"severityText":"${severity}","body":{"stringValue":"${r.pick(LOG_TEXTS)} id=${r.int(1_000_000)} latency_ms=${r.int(5000)} path=${s.path}"},"attributes":[${str('client.address', s.client)},${str('enduser.id', s.user)}],"traceId":"${s.traceId}","spanId":"${s.spanId}"}`
}

/** One OTLP/JSON export request per line: one resource, one scope, the spans (or logs) of one trace. */
function* otlpJson(size, seed) {
  const r = rng(seed)
  const clock = {now: 1_795_305_600_000_000 + r.int(3_600_000) * 1_000_000}
  const logs = seed.includes('logs')
  const scope = '{"name":"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp","version":"0.49.0"}'
  let left = size
  while (left > 0) {
    let text = ''
    const want = Math.min(left, WRITE_CHUNK)
    while (text.length < want) {
      const spans = traceSpans(r, clock)
      text += logs
        ? `{"resourceLogs":[{"resource":${resourceJson(spans[0])},"scopeLogs":[{"scope":${scope},"logRecords":[${spans.map((s) => logJson(r, s)).join(',')}]}]}]}\n`
        : `{"resourceSpans":[{"resource":${resourceJson(spans[0])},"scopeSpans":[{"scope":${scope},"spans":[${spans.map(spanJson).join(',')}]}]}]}\n`
    }

    const chunk = Buffer.from(text, 'latin1')
    const n = Math.min(left, chunk.length)
    left -= n
    yield n === chunk.length ? chunk : chunk.subarray(0, n)
  }
}

// Protocol buffers wire format, enough of it for ExportTraceServiceRequest-shaped bytes.
// Nested messages are written into per-depth scratch buffers, reused, then copied up once.
class ProtoWriter {
  constructor(pool, depth) {
    this.pool = pool
    this.depth = depth
    this.buf = Buffer.allocUnsafe(1 << 16)
    this.pos = 0
  }

  varint(value) {
    let v = value
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }

    this.buf[this.pos++] = v
  }

  tag(field, wire) {
    this.varint((field << 3) | wire)
  }

  bytes(field, data, start = 0, end = data.length) {
    this.tag(field, 2)
    this.varint(end - start)
    data.copy(this.buf, this.pos, start, end)
    this.pos += end - start
  }

  string(field, text) {
    this.tag(field, 2)
    this.varint(text.length)
    this.pos += this.buf.write(text, this.pos, 'latin1')
  }

  hex(field, text) {
    this.tag(field, 2)
    this.varint(text.length >> 1)
    this.pos += this.buf.write(text, this.pos, 'hex')
  }

  /** A decimal nanosecond string as fixed64. */
  fixed64(field, decimal) {
    this.tag(field, 1)
    this.buf.writeBigUInt64LE(BigInt(decimal), this.pos)
    this.pos += 8
  }

  message(field, build) {
    const inner = (this.pool[this.depth + 1] ??= new ProtoWriter(this.pool, this.depth + 1))
    inner.pos = 0
    build(inner)
    this.bytes(field, inner.buf, 0, inner.pos)
  }
}

/** A KeyValue attribute: field 1 of a Resource, field 9 of a Span. */
function keyValue(w, field, key, value) {
  w.message(field, (kv) => {
    kv.string(1, key)
    kv.message(2, (any) => {
      if (typeof value === 'number') {
        any.tag(3, 0)
        any.varint(value)
      } else {
        any.string(1, value)
      }
    })
  })
}

function spanProto(w, s) {
  w.hex(1, s.traceId)
  w.hex(2, s.spanId)
  if (s.parent) w.hex(4, s.parent)
  w.string(5, s.route)
  w.tag(6, 0)
  w.varint(s.kind)
  w.fixed64(7, s.start)
  w.fixed64(8, s.end)
  keyValue(w, 9, 'http.route', s.route)
  keyValue(w, 9, 'url.path', s.path)
  keyValue(w, 9, 'client.address', s.client)
  keyValue(w, 9, 'user_agent.original', s.agent)
  keyValue(w, 9, 'enduser.id', s.user)
  keyValue(w, 9, 'http.request.header.x-request-id', s.requestId)
  keyValue(w, 9, 'client.port', s.port)
  keyValue(w, 9, 'http.response.status_code', s.status)
  keyValue(w, 9, 'http.response.body.size', s.bodySize)
  w.message(15, (status) => {
    status.tag(3, 0)
    status.varint(s.status >= 500 ? 2 : 1)
  })
}

/** Scratch writers by nesting depth, shared by every file (generation is synchronous). */
const protoPool = []
protoPool[0] = new ProtoWriter(protoPool, 0)

/** Length-prefixed ExportTraceServiceRequest messages, as in a capture file: one resource, one scope, one trace each. */
function* otlpProto(size, seed) {
  const r = rng(seed)
  const clock = {now: 1_795_305_600_000_000 + r.int(3_600_000) * 1_000_000}
  const top = protoPool[0]
  let left = size
  while (left > 0) {
    const want = Math.min(left, WRITE_CHUNK)
    const chunk = Buffer.allocUnsafe(want + (1 << 16))
    let length = 0
    while (length < want) {
      const spans = traceSpans(r, clock)
      top.pos = 0
      top.message(1, (rs) => {
        rs.message(1, (res) => {
          keyValue(res, 1, 'service.name', spans[0].service)
          keyValue(res, 1, 'host.name', spans[0].host)
          keyValue(res, 1, 'telemetry.sdk.language', 'go')
        })
        rs.message(2, (ss) => {
          ss.message(1, (scope) => {
            scope.string(1, 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp')
            scope.string(2, '0.49.0')
          })
          for (const span of spans) ss.message(2, (w) => spanProto(w, span))
        })
      })
      chunk.writeUInt32BE(top.pos, length)
      top.buf.copy(chunk, length + 4, 0, top.pos)
      length += 4 + top.pos
    }

    const n = Math.min(left, length)
    left -= n
    yield chunk.subarray(0, n)
  }
}

export function contentOf(file, seed = 'stella-bench') {
  const fileSeed = `${seed}/${file.path}`
  switch (file.kind) {
    case 'random': return randomBytes(file.size, fileSeed)
    case 'otlp-json': return otlpJson(file.size, fileSeed)
    case 'otlp-pb': return otlpProto(file.size, fileSeed)
    default: throw new Error(`unknown kind ${file.kind}`)
  }
}

/** Writes the layout's files under `dir`, reporting progress as (bytesDone, bytesTotal, filesDone, filesTotal). */
export function generate(dir, files, onProgress, seed = 'stella-bench') {
  const total = files.reduce((sum, file) => sum + file.size, 0)
  const made = new Set()
  let done = 0
  for (const [index, file] of files.entries()) {
    const target = join(dir, file.path)
    const parent = dirname(target)
    if (!made.has(parent)) {
      mkdirSync(parent, {recursive: true})
      made.add(parent)
    }

    const fd = openSync(target, 'w')
    try {
      for (const chunk of contentOf(file, seed)) {
        writeSync(fd, chunk)
        done += chunk.length
        onProgress?.(done, total, index, files.length)
      }
    } finally {
      closeSync(fd)
    }
  }

  onProgress?.(done, total, files.length, files.length)
  return total
}
