#!/usr/bin/env node
// Finding one trace in 1 GiB of OpenTelemetry Collector file-exporter output (JSON lines):
// `readOtlpInputs(dir, {mustContain: id})` against `grep -c <id>` over the same files, medians
// of interleaved rounds, both with a warm page cache. Target: at most 2x grep.
//
//   node bench/otlp-files.js            (after `npm run build`)
//   node bench/otlp-files.js --check    exit 1 if the target is missed
//
// Environment:
//   BENCH_RUNS=5     interleaved rounds (one warm-up round comes first)
//   BENCH_DIR=...    cache for the generated files (default: $TMPDIR/stella-bench-otlp-files;
//                    rebuilt when missing or made by another generator version)
import {spawnSync} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const library = join(root, 'dist', 'lib', 'otlp', 'files.js')
const MIB = 1024 * 1024
const GIB = 1024 * MIB
const DATA_VERSION = 1
const TARGET = 2

const rounds = Number(process.env.BENCH_RUNS ?? 5)
const check = process.argv.includes('--check')
const benchDir = process.env.BENCH_DIR || join(tmpdir(), 'stella-bench-otlp-files')
const log = (message) => process.stderr.write(`${message}\n`)

if (!existsSync(library)) {
  log('dist/lib/otlp/files.js is missing: run `npm run build` first.')
  process.exit(2)
}

const {readOtlpInputs} = await import(library)

// ---------------------------------------------------------------------------------------
// The data: seeded, cached
// ---------------------------------------------------------------------------------------

/** mulberry32 */
function seeded(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = seeded(20261122)
const pick = (items) => items[Math.floor(random() * items.length)]
const hex = (bytes) => {
  let out = ''
  for (let i = 0; i < bytes; i++) out += Math.floor(random() * 256).toString(16).padStart(2, '0')
  return out
}

const SERVICES = ['checkout', 'cart', 'payments', 'catalog', 'frontend', 'shipping', 'auth', 'recommendations']
const ROUTES = ['GET /cart', 'POST /cart/items', 'GET /products/{id}', 'POST /checkout', 'GET /health', 'POST /payments', 'GET /recommendations']
const HOSTS = ['ip-10-0-1-17', 'ip-10-0-2-41', 'ip-10-0-3-5', 'ip-10-0-4-88']
const FILES = 8
const FILE_BYTES = GIB / FILES
const TARGET_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

function span(traceId, parentSpanId, startNs, service) {
  const route = pick(ROUTES)
  const status = random() < 0.03 ? 500 : 200
  const duration = BigInt(Math.floor(random() * 400_000_000))
  const attributes = [
    `{"key":"http.request.method","value":{"stringValue":"${route.split(' ')[0]}"}}`,
    `{"key":"http.route","value":{"stringValue":"${route.split(' ')[1]}"}}`,
    `{"key":"http.response.status_code","value":{"intValue":"${status}"}}`,
    `{"key":"server.address","value":{"stringValue":"${service}.svc.cluster.local"}}`,
    `{"key":"user_agent.original","value":{"stringValue":"Mozilla/5.0 (X11; Linux x86_64) stella-bench/${DATA_VERSION}"}}`,
    `{"key":"request.id","value":{"stringValue":"${hex(8)}"}}`,
  ]
  const spanId = hex(8)
  const parent = parentSpanId === '' ? '' : `"parentSpanId":"${parentSpanId}",`
  const statusJson = status === 500 ? '{"message":"upstream failed","code":2}' : '{}'
  const json = `{"traceId":"${traceId}","spanId":"${spanId}",${parent}"flags":257,"name":"${route}","kind":${parentSpanId === '' ? 2 : 3},"startTimeUnixNano":"${startNs}","endTimeUnixNano":"${startNs + duration}","attributes":[${attributes.join(',')}],"status":${statusJson}}`
  return {json, spanId}
}

/** One export request as the Collector's file exporter writes it: one resource, one scope, a batch of spans. */
function batchLine(startNs, extraSpans) {
  const service = pick(SERVICES)
  const spans = []
  const count = 50 + Math.floor(random() * 450)
  while (spans.length < count) {
    const traceId = hex(16)
    const root = span(traceId, '', startNs, service)
    spans.push(root.json)
    for (let i = Math.floor(random() * 8); i > 0 && spans.length < count; i--) spans.push(span(traceId, root.spanId, startNs + BigInt(i * 1000), service).json)
  }

  spans.splice(Math.floor(random() * spans.length), 0, ...extraSpans)
  const resource = `{"attributes":[{"key":"service.name","value":{"stringValue":"${service}"}},{"key":"host.name","value":{"stringValue":"${pick(HOSTS)}"}},{"key":"telemetry.sdk.language","value":{"stringValue":"go"}}]}`
  return `{"resourceSpans":[{"resource":${resource},"scopeSpans":[{"scope":{"name":"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp","version":"0.58.0"},"spans":[${spans.join(',')}]}],"schemaUrl":"https://opentelemetry.io/schemas/1.26.0"}]}\n`
}

function ensureData() {
  const dir = join(benchDir, `v${DATA_VERSION}`)
  const stampPath = `${dir}.stamp.json`
  if (existsSync(stampPath)) {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'))
    if (stamp.version === DATA_VERSION && stamp.files.every((file) => existsSync(join(dir, file)))) return {dir, stamp}
  }

  rmSync(benchDir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  log(`generating ${FILES} x ${FILE_BYTES / MIB} MiB of Collector JSON lines in ${dir}`)
  const started = Date.now()
  // The trace looked for: 24 spans written in three batches, in three of the files.
  const targetFiles = new Set([1, 4, 6])
  const rootSpan = span(TARGET_TRACE, '', 1764000000000000000n, 'checkout')
  const targetSpans = [rootSpan.json]
  for (let i = 1; i < 24; i++) targetSpans.push(span(TARGET_TRACE, rootSpan.spanId, 1764000000000000000n + BigInt(i * 1_000_000), pick(SERVICES)).json)
  const files = []
  let startNs = 1764000000000000000n
  let lines = 0
  let bytes = 0
  for (let f = 0; f < FILES; f++) {
    // Rotated file names as the exporter gives them: the newest keeps the configured name.
    const name = f === FILES - 1 ? 'traces.json' : `traces-2026-11-22T${String(f).padStart(2, '0')}-00-00.000.json`
    const fd = openSync(join(dir, name), 'w')
    let written = 0
    const insertAt = targetFiles.has(f) ? Math.floor(FILE_BYTES * (0.2 + 0.6 * random())) : -1
    let inserted = false
    while (written < FILE_BYTES) {
      const extra = !inserted && insertAt >= 0 && written >= insertAt ? targetSpans.splice(0, 8) : []
      if (extra.length > 0) inserted = true
      const line = batchLine(startNs, extra)
      startNs += 1_000_000n
      writeSync(fd, line)
      written += Buffer.byteLength(line)
      lines++
    }

    closeSync(fd)
    files.push(name)
    bytes += written
  }

  const stamp = {version: DATA_VERSION, files, bytes, lines, traceId: TARGET_TRACE}
  writeFileSync(stampPath, `${JSON.stringify(stamp, null, 2)}\n`)
  log(`  ${(bytes / GIB).toFixed(2)} GiB, ${lines.toLocaleString('en-US')} lines, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return {dir, stamp}
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

const {dir, stamp} = ensureData()
const paths = stamp.files.map((file) => join(dir, file))
const traceId = stamp.traceId

async function readWithSearch() {
  const started = process.hrtime.bigint()
  let messages = 0
  for await (const message of readOtlpInputs([dir], {mustContain: {text: traceId, binary: Buffer.from(traceId, 'hex')}})) {
    if (message.signal === 'traces') messages++
  }

  return {ms: Number(process.hrtime.bigint() - started) / 1e6, found: messages}
}

function grepCount() {
  const started = process.hrtime.bigint()
  const result = spawnSync('grep', ['-c', traceId, ...paths], {encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`grep exited ${result.status}: ${result.stderr}`)
  const found = result.stdout.trim().split('\n').reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(':') + 1)), 0)
  return {ms, found}
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const loadBefore = loadavg()[0]
log(`warm-up round, then ${rounds} interleaved rounds`)
const warm = [await readWithSearch(), grepCount()]
if (warm[0].found !== warm[1].found) throw new Error(`readOtlpInputs found ${warm[0].found} lines, grep -c ${warm[1].found}`)
const samples = {read: [], grep: []}
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    samples.read.push((await readWithSearch()).ms)
    samples.grep.push(grepCount().ms)
  } else {
    samples.grep.push(grepCount().ms)
    samples.read.push((await readWithSearch()).ms)
  }
}

const loadAfter = loadavg()[0]
const read = median(samples.read)
const grep = median(samples.grep)
const ratio = read / grep
const totalBytes = paths.reduce((sum, path) => sum + statSync(path).size, 0)
const rate = (ms) => `${(totalBytes / GIB / (ms / 1000)).toFixed(2)} GiB/s`

console.log(`stella bench:otlp-files, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${rounds} interleaved rounds (+1 warm-up), medians`)
console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`)
console.log(`input: ${(totalBytes / GIB).toFixed(2)} GiB of Collector JSON lines in ${paths.length} files, ${stamp.lines.toLocaleString('en-US')} lines; trace ${traceId} in ${warm[0].found} of them`)
console.log('')
console.log(`readOtlpInputs(dir, {mustContain})  ${(read / 1000).toFixed(3)} s  (min ${(Math.min(...samples.read) / 1000).toFixed(3)} s, ${rate(read)})`)
console.log(`grep -c <traceId> FILES...          ${(grep / 1000).toFixed(3)} s  (min ${(Math.min(...samples.grep) / 1000).toFixed(3)} s, ${rate(grep)})`)
console.log(`ratio ${ratio.toFixed(2)}x of grep, target <= ${TARGET}x: ${ratio <= TARGET ? 'PASS' : 'MISS'}`)
if (ratio > TARGET && check) process.exitCode = 1
