#!/usr/bin/env node
// Ingest rate of stella's OTLP/HTTP receiver: concurrent protobuf exporters (worker threads, each
// with keep-alive connections) post pre-encoded ExportTraceServiceRequest batches of 512 spans;
// the receiver decodes every request and a consumer drains its queue. The same senders against a
// bare node:http server that only reads the bodies give the baseline, in the same run. Rounds
// alternate between the two servers; medians of spans per second.
// Targets: >= 100,000 spans/s, and >= 50% of the bare server's rate.
//
//   node bench/otlp-receiver.js            (after `npm run build`)
//   node bench/otlp-receiver.js --check    exit 1 if a target is missed
//   node bench/otlp-receiver.js --offload  also a third server that decodes on a worker thread
//                                          and sends nothing back: what moving decoding off the
//                                          receiving thread could give at best
//
// Environment:
//   BENCH_RUNS=3          rounds per server (median)
//   BENCH_SECONDS=5       length of one round
//   BENCH_SENDERS=2       sender threads
//   BENCH_CONNECTIONS=4   keep-alive connections per sender, each with one request in flight
//   BENCH_BATCH=512       spans per request
import {once} from 'node:events'
import {existsSync} from 'node:fs'
import {Agent, createServer, request} from 'node:http'
import {cpus, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {Worker, isMainThread, parentPort, workerData} from 'node:worker_threads'

if (isMainThread) await main()
else if (workerData.role === 'decoder') await decoder()
else await sender(workerData)

// ---------------------------------------------------------------------------------------
// A sender thread: `connections` loops, each posting the batch again as soon as it is answered
// ---------------------------------------------------------------------------------------

async function sender({url, batch, connections, until}) {
  const agent = new Agent({keepAlive: true, maxSockets: connections})
  const body = Buffer.from(batch)
  const target = new URL('/v1/traces', url)
  const counts = {ok: 0, throttled: 0, failed: 0}
  const post = () => new Promise((resolve, reject) => {
    const req = request(target, {method: 'POST', agent, headers: {'content-type': 'application/x-protobuf', 'content-length': body.length}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
  const loop = async () => {
    while (Date.now() < until) {
      const status = await post()
      if (status === 200) counts.ok++
      else if (status === 503) {
        counts.throttled++
        await new Promise((resolve) => setTimeout(resolve, 2))
      } else counts.failed++
    }
  }

  await Promise.all(Array.from({length: connections}, loop))
  agent.destroy()
  parentPort.postMessage(counts)
}

// ---------------------------------------------------------------------------------------
// The decoding thread of --offload: decodes each body it is given, hands back its span count
// ---------------------------------------------------------------------------------------

async function decoder() {
  const {decodeTraces} = await import(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'lib', 'otlp', 'index.js'))
  parentPort.on('message', ({id, body}) => parentPort.postMessage({id, spans: decodeTraces(body).length}))
  parentPort.postMessage('ready')
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

async function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const dist = join(root, 'dist', 'lib', 'otlp')
  if (!existsSync(join(dist, 'receiver.js'))) {
    process.stderr.write('dist/lib/otlp/receiver.js is missing: run `npm run build` first.\n')
    process.exit(2)
  }

  const {startOtlpReceiver} = await import(join(dist, 'receiver.js'))
  const {decodeTraces, decodeTracesJson, encodeTraces} = await import(join(dist, 'index.js'))

  const rounds = Number(process.env.BENCH_RUNS ?? 3)
  const seconds = Number(process.env.BENCH_SECONDS ?? 5)
  const senders = Number(process.env.BENCH_SENDERS ?? 2)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 4)
  const batchSize = Number(process.env.BENCH_BATCH ?? 512)
  const check = process.argv.includes('--check')
  const offload = process.argv.includes('--offload')
  const TARGET_RATE = 100_000
  const TARGET_RATIO = 0.5

  const batch = encodeTraces(decodeTracesJson(batchJson(batchSize)))
  const log = (message) => process.stderr.write(`${message}\n`)

  /** The exporters' side of one round against `url`: spans/s accepted. */
  async function drive(url) {
    const until = Date.now() + seconds * 1000
    const started = performance.now()
    const workers = Array.from({length: senders}, () => new Worker(fileURLToPath(import.meta.url), {workerData: {url, batch, connections, until}}))
    const results = await Promise.all(workers.map(async (worker) => (await once(worker, 'message'))[0]))
    const elapsed = (performance.now() - started) / 1000
    await Promise.all(workers.map((worker) => worker.terminate()))
    const total = results.reduce((sum, r) => ({ok: sum.ok + r.ok, throttled: sum.throttled + r.throttled, failed: sum.failed + r.failed}), {ok: 0, throttled: 0, failed: 0})
    if (total.failed > 0) throw new Error(`${total.failed} requests failed`)
    return {rate: (total.ok * batchSize) / elapsed, requests: total.ok, throttled: total.throttled}
  }

  async function stellaRound() {
    const receiver = await startOtlpReceiver({})
    let spans = 0
    const consumer = (async () => {
      for await (const message of receiver.messages()) spans += message.records.length
    })()
    const result = await drive(receiver.url)
    await receiver.close()
    await consumer
    if (spans !== result.requests * batchSize) throw new Error(`the consumer saw ${spans} spans, the senders had ${result.requests * batchSize} accepted`)
    return result
  }

  /** A round against a node:http server that reads each body whole and hands it to `onBody`. */
  async function plainServerRound(onBody) {
    const server = createServer((req, res) => {
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', () => onBody(Buffer.concat(chunks), res))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const result = await drive(`http://127.0.0.1:${server.address().port}`)
    server.closeAllConnections()
    server.close()
    return result
  }

  const answerOk = (res) => {
    res.writeHead(200, {'content-type': 'application/x-protobuf', 'content-length': 0})
    res.end()
  }

  // The floor: read each body into memory, answer 200 with an empty body, nothing else.
  const bareRound = () => plainServerRound((body, res) => answerOk(res))

  async function offloadedRound() {
    // Reads bodies like the bare server, and answers once a worker thread has decoded them.
    // The records stay on the worker: a receiver that decodes on another thread must still bring
    // them back to the thread that consumes them, so this bounds what offloading could give.
    const worker = new Worker(fileURLToPath(import.meta.url), {workerData: {role: 'decoder'}})
    await once(worker, 'message')
    const waiting = new Map()
    let next = 0
    worker.on('message', ({id, spans}) => {
      if (spans !== batchSize) throw new Error(`the decoder found ${spans} spans`)
      answerOk(waiting.get(id))
      waiting.delete(id)
    })
    const result = await plainServerRound((body, res) => {
      const id = next++
      waiting.set(id, res)
      worker.postMessage({id, body}, [body.buffer])
    })
    await worker.terminate()
    return result
  }

  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b)
    const mid = sorted.length >> 1
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }

  const loadBefore = loadavg()[0]
  log(`warm-up, then ${rounds} rounds per server of ${seconds} s; ${senders} sender threads x ${connections} connections, ${batchSize} spans (${(batch.length / 1024).toFixed(0)} KiB) per request`)
  const servers = {stella: stellaRound, bare: bareRound, ...(offload ? {offloaded: offloadedRound} : {})}
  for (const round of Object.values(servers)) await round()
  const samples = {stella: [], bare: [], offloaded: [], throttled: 0}
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? Object.keys(servers) : Object.keys(servers).reverse()
    for (const name of order) {
      const result = await servers[name]()
      samples[name].push(result.rate)
      if (name === 'stella') samples.throttled += result.throttled
      log(`  round ${round + 1}: ${name} ${Math.round(result.rate).toLocaleString('en-US')} spans/s`)
    }
  }

  // For reading the ratio: what decoding alone costs, on this thread, with nothing else running.
  const decodeRates = []
  for (let round = 0; round < 5; round++) {
    const started = performance.now()
    let spans = 0
    for (let i = 0; i < 200; i++) spans += decodeTraces(batch).length
    decodeRates.push(spans / ((performance.now() - started) / 1000))
  }

  const loadAfter = loadavg()[0]
  const stella = median(samples.stella)
  const bare = median(samples.bare)
  const ratio = stella / bare
  const verdicts = [stella >= TARGET_RATE, ratio >= TARGET_RATIO]
  const fmt = (rate) => `${Math.round(rate).toLocaleString('en-US')} spans/s`
  console.log(`stella bench:otlp-receiver, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${rounds} rounds per server (+1 warm-up), medians`)
  console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`)
  console.log(`${senders} sender threads x ${connections} keep-alive connections, ${batchSize}-span protobuf requests of ${(batch.length / 1024).toFixed(0)} KiB, ${seconds} s per round`)
  console.log('')
  console.log(`stella receiver (decoding, queue drained)  ${fmt(stella)}  target >= ${fmt(TARGET_RATE)}: ${verdicts[0] ? 'PASS' : 'MISS'}`)
  console.log(`bare node:http (reads bodies only)         ${fmt(bare)}`)
  console.log(`ratio ${(ratio * 100).toFixed(0)}% of the bare server, target >= ${TARGET_RATIO * 100}%: ${verdicts[1] ? 'PASS' : 'MISS'}`)
  console.log(`(decodeTraces alone, one thread, no senders: ${fmt(median(decodeRates))})`)
  if (offload) {
    const offloaded = median(samples.offloaded)
    console.log(`decoding on a worker, records left there    ${fmt(offloaded)}, ${((offloaded / bare) * 100).toFixed(0)}% of the bare server (a bound, not a receiver)`)
  }
  if (samples.throttled > 0) console.log(`(${samples.throttled} requests were answered 503 and retried)`)
  if (check && verdicts.includes(false)) process.exitCode = 1
}

/** OTLP/JSON of one request: a service's batch of spans from many traces, attributes as HTTP instrumentation sets them. */
function batchJson(count) {
  let seed = 42
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }

  const hex = (bytes) => Array.from({length: bytes}, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('')
  const routes = ['/cart', '/cart/items', '/products/{id}', '/checkout', '/payments']
  const spans = []
  let traceId = hex(16)
  let parent = ''
  for (let i = 0; i < count; i++) {
    if (i % 8 === 0) {
      traceId = hex(16)
      parent = ''
    }

    const spanId = hex(8)
    const start = 1764000000000000000n + BigInt(i) * 1_000_000n
    spans.push({
      traceId,
      spanId,
      parentSpanId: parent,
      name: `GET ${routes[i % routes.length]}`,
      kind: parent === '' ? 2 : 3,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + BigInt(Math.floor(random() * 50_000_000))),
      attributes: [
        {key: 'http.request.method', value: {stringValue: 'GET'}},
        {key: 'http.route', value: {stringValue: routes[i % routes.length]}},
        {key: 'http.response.status_code', value: {intValue: '200'}},
        {key: 'server.address', value: {stringValue: 'checkout.svc.cluster.local'}},
        {key: 'network.peer.port', value: {intValue: String(30000 + (i % 1000))}},
        {key: 'user_agent.original', value: {stringValue: 'Mozilla/5.0 (X11; Linux x86_64)'}},
      ],
      events: i % 16 === 0 ? [{timeUnixNano: String(start + 1000n), name: 'cache miss', attributes: [{key: 'cache.key', value: {stringValue: `cart:${i}`}}]}] : [],
      status: i % 50 === 0 ? {code: 2, message: 'upstream failed'} : {},
    })
    if (parent === '') parent = spanId
  }

  return JSON.stringify({
    resourceSpans: [{
      resource: {attributes: [{key: 'service.name', value: {stringValue: 'checkout'}}, {key: 'host.name', value: {stringValue: 'ip-10-0-1-17'}}, {key: 'telemetry.sdk.language', value: {stringValue: 'nodejs'}}]},
      scopeSpans: [{scope: {name: '@opentelemetry/instrumentation-http', version: '0.57.0'}, spans}],
    }],
  })
}
