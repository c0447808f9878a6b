#!/usr/bin/env node
// Decode speed of stella's hand-written OTLP protobuf decoder (src/lib/otlp) against
// @bufbuild/protobuf's fromBinary over the opentelemetry-proto descriptors, in the same process,
// on the same bytes: ExportTraceServiceRequest batches of 512 spans shaped like what an
// instrumented HTTP service's SDK sends (a resource of 10 attributes, 8–10 attributes per span,
// an exception event on some, 16-byte trace ids shared by the spans of a trace). A log batch is
// measured too. Rounds alternate between the decoders; medians of spans (records) per second.
//
//   node bench/otlp-decode.js
//   node bench/otlp-decode.js --check     exit 1 if the trace decoder is under 300,000 spans/s
//
// Environment:
//   BENCH_RUNS=7        rounds per decoder (median)
//   BENCH_MS=600        length of one round
//   BENCH_BATCH=512     spans per request
import {readFileSync, mkdtempSync, rmSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {create, createFileRegistry, fromBinary, toBinary} from '@bufbuild/protobuf'
import {FileDescriptorSetSchema} from '@bufbuild/protobuf/wkt'
import {build} from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.BENCH_RUNS ?? 7)
const roundMs = Number(process.env.BENCH_MS ?? 600)
const batchSize = Number(process.env.BENCH_BATCH ?? 512)
const TARGET_SPANS_PER_SECOND = 300_000

// The codec straight from src/, bundled once, so the bench needs no `npm run build`.
const scratch = mkdtempSync(join(tmpdir(), 'stella-bench-otlp-'))
let otlp
try {
  await build({entryPoints: [join(root, 'src/lib/otlp/index.ts')], outfile: join(scratch, 'otlp.js'), bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning'})
  otlp = await import(pathToFileURL(join(scratch, 'otlp.js')).href)
} finally {
  rmSync(scratch, {recursive: true, force: true})
}

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(join(root, 'test/fixtures/otlp/otlp.binpb'))))
const traceRequest = registry.getMessage('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
const logsRequest = registry.getMessage('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest')

// A small seeded generator, so every run measures the same bytes.
let state = 42
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const randomBytes = (n) => Uint8Array.from({length: n}, () => Math.floor(random() * 256))
const str = (key, value) => ({key, value: {value: {case: 'stringValue', value}}})
const int = (key, value) => ({key, value: {value: {case: 'intValue', value: BigInt(value)}}})

const resource = {
  attributes: [
    str('service.name', 'checkout'),
    str('service.version', '2.14.1'),
    str('service.instance.id', '627cc493-f310-47de-96bd-71410b7dec09'),
    str('deployment.environment', 'production'),
    str('host.name', 'ip-10-0-12-34.eu-west-1.compute.internal'),
    str('host.arch', 'amd64'),
    int('process.pid', 41_233),
    str('telemetry.sdk.name', 'opentelemetry'),
    str('telemetry.sdk.language', 'nodejs'),
    str('telemetry.sdk.version', '2.12.0'),
  ],
}
const routes = ['/api/v1/users/{id}', '/api/v1/orders', '/api/v1/orders/{id}/items', '/healthz', '/api/v1/cart']
const methods = ['GET', 'POST', 'PUT', 'DELETE']
const start = 1_700_000_000_000_000_000n

function span(i, traceId, parentSpanId) {
  const route = routes[i % routes.length]
  const method = methods[i % methods.length]
  const status = random() < 0.05 ? 500 : 200
  const begin = start + BigInt(i) * 1_000_000n
  const attributes = [
    str('http.request.method', method),
    str('http.route', route),
    str('url.full', `https://shop.example.com${route.replace('{id}', String(Math.floor(random() * 100_000)))}?page=${i % 7}`),
    int('http.response.status_code', status),
    str('server.address', 'shop.example.com'),
    int('server.port', 443),
    str('network.protocol.version', '1.1'),
    str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'),
  ]
  if (i % 3 === 0) attributes.push(str('db.system', 'postgresql'), str('db.statement', 'SELECT id, name, email FROM users WHERE id = $1'))
  const events = status === 500 ? [{timeUnixNano: begin + 500_000n, name: 'exception', attributes: [str('exception.type', 'Error'), str('exception.message', 'upstream timed out'), str('exception.stacktrace', 'Error: upstream timed out\n    at handler (/app/server.js:41:11)\n    at process.processTicksAndRejections')]}] : []
  return {
    traceId,
    spanId: randomBytes(8),
    parentSpanId,
    flags: 0x101,
    name: `${method} ${route}`,
    kind: parentSpanId.length === 0 ? 2 : 3,
    startTimeUnixNano: begin,
    endTimeUnixNano: begin + BigInt(Math.floor(random() * 50_000_000)),
    attributes,
    events,
    status: status === 500 ? {code: 2, message: 'upstream timed out'} : {},
  }
}

const spans = []
for (let i = 0; i < batchSize; i++) {
  const traceId = i % 8 === 0 || spans.length === 0 ? randomBytes(16) : spans.at(-1).traceId
  spans.push(span(i, traceId, i % 8 === 0 ? new Uint8Array(0) : spans.at(-1).spanId))
}

const traceBatch = toBinary(traceRequest, create(traceRequest, {resourceSpans: [{resource, scopeSpans: [{scope: {name: '@opentelemetry/instrumentation-http', version: '0.223.0'}, spans}]}]}))
const logRecords = spans.map((s, i) => ({
  timeUnixNano: s.startTimeUnixNano,
  observedTimeUnixNano: s.startTimeUnixNano + 1000n,
  severityNumber: i % 20 === 0 ? 17 : 9,
  severityText: i % 20 === 0 ? 'ERROR' : 'INFO',
  body: {value: {case: 'stringValue', value: `${s.name} answered in ${i % 97} ms`}},
  attributes: s.attributes.slice(0, 4),
  traceId: s.traceId,
  spanId: s.spanId,
  flags: 1,
}))
const logBatch = toBinary(logsRequest, create(logsRequest, {resourceLogs: [{resource, scopeLogs: [{scope: {name: 'pino'}, logRecords}]}]}))

// Sanity: both decoders see the same number of records.
if (otlp.decodeTraces(traceBatch).length !== batchSize || fromBinary(traceRequest, traceBatch).resourceSpans[0].scopeSpans[0].spans.length !== batchSize) {
  throw new Error('the decoders disagree on the batch')
}

/** Records per second of `decode` over one round. */
function round(decode, bytes) {
  let batches = 0
  const began = performance.now()
  let now = began
  while (now - began < roundMs) {
    for (let i = 0; i < 10; i++) decode(bytes)
    batches += 10
    now = performance.now()
  }

  return (batches * batchSize) / ((now - began) / 1000)
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const cases = [
  {name: 'traces: stella decodeTraces', decode: (b) => otlp.decodeTraces(b), bytes: traceBatch},
  {name: 'traces: @bufbuild/protobuf fromBinary', decode: (b) => fromBinary(traceRequest, b), bytes: traceBatch},
  {name: 'logs: stella decodeLogs', decode: (b) => otlp.decodeLogs(b), bytes: logBatch},
  {name: 'logs: @bufbuild/protobuf fromBinary', decode: (b) => fromBinary(logsRequest, b), bytes: logBatch},
]
const results = new Map(cases.map((c) => [c.name, []]))
for (const c of cases) round(c.decode, c.bytes) // warm-up
for (let r = 0; r < runs; r++) {
  for (const c of cases) results.get(c.name).push(round(c.decode, c.bytes))
}

const rate = (name) => median(results.get(name))
console.log(`OTLP protobuf decode, ${batchSize} records per request (trace request ${traceBatch.length} bytes, log request ${logBatch.length} bytes)`)
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, load ${loadavg()[0].toFixed(2)}, median of ${runs} rounds of ${roundMs} ms`)
for (const c of cases) {
  const value = rate(c.name)
  const bytes = (value / batchSize) * c.bytes.length
  console.log(`  ${c.name.padEnd(40)} ${Math.round(value).toLocaleString('en-US').padStart(11)} records/s  ${(bytes / 1e6).toFixed(0).padStart(5)} MB/s`)
}

const ours = rate('traces: stella decodeTraces')
console.log(`  traces: stella / oracle ${(ours / rate('traces: @bufbuild/protobuf fromBinary')).toFixed(1)}x; logs: ${(rate('logs: stella decodeLogs') / rate('logs: @bufbuild/protobuf fromBinary')).toFixed(1)}x`)
if (process.argv.includes('--check') && ours < TARGET_SPANS_PER_SECOND) {
  console.log(`FAIL: ${Math.round(ours)} spans/s is under the target of ${TARGET_SPANS_PER_SECOND}`)
  process.exit(1)
}
