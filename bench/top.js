#!/usr/bin/env node
// `stella obs top --listen` under load, and the cost of drawing the dashboard.
//
// 1. Load: `stella obs top --listen 127.0.0.1:0 --json --watch --interval 250ms` runs as a child
//    process, as an operator would run it. Sender threads post pre-encoded protobuf
//    ExportTraceServiceRequests (50 services x 20 routes, every span a server span: the most work
//    per span for the aggregator) at BENCH_RATE spans/s over keep-alive connections, for
//    BENCH_SECONDS. Measured: spans accepted per second and 503 answers (the receiver's queue is
//    bounded: a full queue answers 503, it never grows), the gaps between the snapshots it prints
//    (they must keep coming at the interval), the child's RSS (sampled every second from /proc),
//    and, after the senders stop, whether the last snapshot counts every accepted span.
// 2. Render: a child process runs the real dashboard (runTopDashboard, Ink, React's production
//    build) on a fake terminal of 80x24, 120x40 and 200x60 with a source whose every snapshot is a
//    new 50 services x 20 routes screen, at 4 updates/s (--interval 250ms), for BENCH_RENDER_SECONDS
//    each; its CPU time over that time, minus that of the same process idling with the same timers,
//    is the share of one core the dashboard costs. Also the time of one frame composed as text
//    (renderTopFrame, the layout without Ink), for reading the figure.
//
// Targets: >= 100,000 spans/s offered and >= 99% of them accepted; max gap between snapshots
// < 2 x interval; RSS < 300 MiB; every accepted span counted; render < 10% of one core.
//
//   node bench/top.js                    (after `npm run build`; npm run bench:top)
//   node bench/top.js --check            exit 1 if a target is missed
//
// Environment:
//   BENCH_SECONDS=300         length of the load run (e.g. BENCH_SECONDS=30 to try it out)
//   BENCH_RATE=100000         spans per second offered
//   BENCH_SENDERS=2           sender threads
//   BENCH_CONNECTIONS=4       keep-alive connections per sender
//   BENCH_BATCH=500           spans per request
//   BENCH_RENDER_SECONDS=20   length of the render measurement
import {fork, spawn} from 'node:child_process'
import {EventEmitter, once} from 'node:events'
import {existsSync, readFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {cpus, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {clearInterval, setInterval} from 'node:timers'
import {Worker, isMainThread, parentPort, workerData} from 'node:worker_threads'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const INTERVAL_MS = 250
const SERVICES = 50
const ROUTES = 20
// The receiver keeps up when it accepts what is offered: the senders' pace, less the last answers'
// time in flight, so within 1% of it.
const TARGETS = {rate: 100_000, keptUp: 0.99, maxGapMs: 2 * INTERVAL_MS, rssMiB: 300, renderShare: 0.1}

if (!isMainThread) await sender(workerData)
else if (process.argv.includes('--render-child')) await renderChild(process.argv.includes('--idle'))
else await main()

// ---------------------------------------------------------------------------------------
// A sender thread: requests at a fixed pace over `connections` keep-alive connections
// ---------------------------------------------------------------------------------------

async function sender({url, batches, connections, spansPerSecond, batchSize, until}) {
  const agent = new Agent({keepAlive: true, maxSockets: connections})
  const bodies = batches.map((batch) => Buffer.from(batch))
  const target = new URL('/v1/traces', url)
  const counts = {ok: 0, throttled: 0, failed: 0, failures: {}}
  const period = (1000 * batchSize) / spansPerSecond
  let next = performance.now()
  let sent = 0
  const post = (body) => new Promise((resolve) => {
    const req = request(target, {method: 'POST', agent, headers: {'content-type': 'application/x-protobuf', 'content-length': body.length}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
      res.on('error', (error) => resolve(`response ${error.code ?? error.message}`))
    })
    req.on('error', (error) => resolve(`request ${error.code ?? error.message}`))
    req.end(body)
  })
  const loop = async () => {
    while (Date.now() < until) {
      // The pace is kept by a schedule shared by the connections: behind it, they catch up.
      const slot = next
      next += period
      const wait = slot - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      const status = await post(bodies[sent++ % bodies.length])
      if (status === 200) counts.ok++
      else if (status === 503) counts.throttled++
      else {
        counts.failed++
        counts.failures[status] = (counts.failures[status] ?? 0) + 1
      }
    }
  }

  const started = performance.now()
  await Promise.all(Array.from({length: connections}, loop))
  counts.elapsedMs = performance.now() - started
  agent.destroy()
  parentPort.postMessage(counts)
}

// ---------------------------------------------------------------------------------------
// The data: OTLP/JSON requests of server spans across 50 services x 20 routes, encoded once
// ---------------------------------------------------------------------------------------

function batchesJson(count, batchSize) {
  let seed = 7
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }

  const hex = (bytes) => Array.from({length: bytes}, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('')
  const batches = []
  let n = 0
  for (let b = 0; b < count; b++) {
    const byService = new Map()
    for (let i = 0; i < batchSize; i++, n++) {
      const service = `service-${String(n % SERVICES).padStart(2, '0')}`
      const route = `/api/v1/resource-${Math.floor(n / SERVICES) % ROUTES}/{id}`
      const start = 1764000000000000000n + BigInt(n) * 1_000_000n
      // Log-normal-ish durations, a few slow ones, 1% errors.
      const durationNs = BigInt(Math.floor(1e6 * Math.exp(2 + 1.2 * random()) * (random() < 0.01 ? 30 : 1)))
      const span = {
        traceId: hex(16),
        spanId: hex(8),
        name: `GET ${route}`,
        kind: 2,
        startTimeUnixNano: String(start),
        endTimeUnixNano: String(start + durationNs),
        attributes: [
          {key: 'http.request.method', value: {stringValue: 'GET'}},
          {key: 'http.route', value: {stringValue: route}},
          {key: 'http.response.status_code', value: {intValue: random() < 0.01 ? '503' : '200'}},
          {key: 'server.address', value: {stringValue: `${service}.svc.cluster.local`}},
          {key: 'user_agent.original', value: {stringValue: 'Mozilla/5.0 (X11; Linux x86_64)'}},
        ],
        status: {},
      }
      if (!byService.has(service)) byService.set(service, [])
      byService.get(service).push(span)
    }

    batches.push(JSON.stringify({
      resourceSpans: [...byService].map(([service, spans]) => ({
        resource: {attributes: [{key: 'service.name', value: {stringValue: service}}, {key: 'host.name', value: {stringValue: 'ip-10-0-1-17'}}]},
        scopeSpans: [{scope: {name: '@opentelemetry/instrumentation-http', version: '0.57.0'}, spans}],
      })),
    }))
  }

  return batches
}

// ---------------------------------------------------------------------------------------
// The render child: the real dashboard on a fake terminal
// ---------------------------------------------------------------------------------------

/** A 50 x 20 screen whose figures change with `tick`. */
function screen(tick) {
  const services = []
  for (let s = 0; s < SERVICES; s++) {
    const name = `service-${String(s).padStart(2, '0')}`
    const routes = []
    for (let r = 0; r < ROUTES; r++) {
      const rate = 1 + ((s * 31 + r * 17 + tick * 7) % 400) / 3
      routes.push({service: name, route: `GET /api/v1/resource-${r}/{id}`, rate, errorRate: ((s + r + tick) % 50) / 1000, p50: 5 + r, p95: 40 + s + (tick % 9), p99: 200 + s * 3 + r, sparkline: Array.from({length: 30}, (_, m) => (m * 13 + tick + r) % 60), count: Math.round(rate * 60), errors: (s + r) % 5, total: 1000 * tick + r})
    }

    const rate = routes.reduce((sum, route) => sum + route.rate, 0)
    services.push({name, rate, errorRate: ((s + tick) % 30) / 1000, p50: 8, p95: 60 + s, p99: 300 + s, sparkline: Array.from({length: 30}, (_, m) => (m * 7 + tick + s) % 90), count: Math.round(rate * 60), errors: s % 7, total: 20_000 * tick, routes})
  }

  const rate = services.reduce((sum, service) => sum + service.rate, 0)
  return {source: {kind: 'listen', url: 'http://127.0.0.1:4318'}, window: '1m', updatedAt: Date.now(), totals: {rate, errorRate: 0.01, services: SERVICES, count: Math.round(rate * 60), errors: 100, total: 1_000_000 * tick}, services, folded: {services: 0, routes: 0}}
}

async function renderChild(idle) {
  const seconds = Number(process.env.BENCH_RENDER_SECONDS ?? 20)
  const [columns, rows] = (process.env.BENCH_TERMINAL ?? '200x60').split('x').map(Number)
  const {runTopDashboard, renderTopFrame} = await import(join(root, 'dist', 'ui', 'top', 'index.js'))
  // Screens made in advance, so that making them is not counted as drawing them.
  const screens = Array.from({length: 16}, (_, tick) => screen(tick))
  let asked = 0
  const source = {snapshot: async () => screens[asked++ % screens.length], close: async () => {}}

  const stdout = new EventEmitter()
  Object.assign(stdout, {isTTY: true, columns, rows, bytes: 0, writes: 0})
  stdout.write = (chunk) => {
    stdout.bytes += chunk.length
    stdout.writes++
    return true
  }
  const stdin = new EventEmitter()
  Object.assign(stdin, {isTTY: true, data: null, setEncoding() {}, setRawMode() {}, resume() {}, pause() {}, ref() {}, unref() {}})
  stdin.read = () => {
    const {data} = stdin
    stdin.data = null
    return data
  }
  const press = (key) => {
    stdin.data = key
    stdin.emit('readable')
    stdin.emit('data', key)
  }

  const warmUpMs = 2000
  let measured
  const measure = new Promise((resolve) => {
    setTimeout(() => {
      const cpu = process.cpuUsage()
      const wall = performance.now()
      const before = {asked, writes: stdout.writes, bytes: stdout.bytes}
      setTimeout(() => {
        const used = process.cpuUsage(cpu)
        measured = {cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall, snapshots: asked - before.asked, writes: stdout.writes - before.writes, bytes: stdout.bytes - before.bytes}
        resolve()
      }, seconds * 1000)
    }, warmUpMs)
  })

  if (idle) {
    // The same process and timers with nothing drawn: what a Node process costs doing nothing.
    const timer = setInterval(() => source.snapshot(), INTERVAL_MS)
    await measure
    clearInterval(timer)
  } else {
    const running = runTopDashboard(source, {intervalMs: INTERVAL_MS, stdout, stdin, color: true})
    await measure
    press('q')
    await running
  }

  // One frame as text, for comparison: layout without Ink.
  const frames = 200
  const started = performance.now()
  for (let i = 0; i < frames; i++) renderTopFrame(screens[i % screens.length], {columns, rows})
  measured.frameTextMs = (performance.now() - started) / frames
  process.send(measured)
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

function percentile(values, q) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]
}

function rssMiB(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

async function runRenderChild(idle, terminal) {
  // Ink draws a live screen only when it believes it is not in CI; the command loads React in its
  // production build, as here.
  const env = {...process.env, BENCH_TERMINAL: terminal, NODE_ENV: 'production'}
  delete env.CI
  delete env.CONTINUOUS_INTEGRATION
  const child = fork(fileURLToPath(import.meta.url), ['--render-child', ...(idle ? ['--idle'] : [])], {env, stdio: ['ignore', 'ignore', 'pipe', 'ipc']})
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  const exited = once(child, 'exit')
  const result = await Promise.race([once(child, 'message').then(([message]) => message), exited.then(([code]) => {
    throw new Error(`the render child exited ${code}: ${stderr}`)
  })])
  await exited
  return result
}

async function main() {
  for (const file of [join(root, 'dist', 'commands', 'obs', 'top.js'), join(root, 'dist', 'ui', 'top', 'index.js'), join(root, 'dist', 'lib', 'otlp', 'index.js')]) {
    if (!existsSync(file)) {
      process.stderr.write(`${file} is missing: run \`npm run build\` first.\n`)
      process.exit(2)
    }
  }

  const {decodeTracesJson, encodeTraces} = await import(join(root, 'dist', 'lib', 'otlp', 'index.js'))
  const seconds = Number(process.env.BENCH_SECONDS ?? 300)
  const rate = Number(process.env.BENCH_RATE ?? 100_000)
  const senders = Number(process.env.BENCH_SENDERS ?? 2)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 4)
  const batchSize = Number(process.env.BENCH_BATCH ?? 500)
  const check = process.argv.includes('--check')
  const log = (message) => process.stderr.write(`${message}\n`)
  const loadBefore = loadavg()[0]

  // Enough distinct requests that every service and route appears in each rotation.
  const batches = batchesJson(Math.ceil((SERVICES * ROUTES * 2) / batchSize), batchSize).map((json) => encodeTraces(decodeTracesJson(json)))

  // 1. The load
  const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'obs', 'top', '--listen', '127.0.0.1:0', '--json', '--watch', '--interval', `${INTERVAL_MS}ms`], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  let pending = ''
  const arrivals = []
  let last
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    pending += chunk
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end)
      pending = pending.slice(end + 1)
      arrivals.push(performance.now())
      last = JSON.parse(line)
    }
  })
  const exited = once(child, 'exit')
  const url = await new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr)
      if (match) {
        clearInterval(timer)
        resolve(match[1])
      }
    }, 20)
    exited.then(() => reject(new Error(`obs top exited before listening: ${stderr}`)))
  })

  log(`obs top --listen at ${url}; offering ${rate.toLocaleString('en-US')} spans/s for ${seconds} s (${senders} senders x ${connections} connections, ${batchSize} spans per request)`)
  const rss = []
  const started = performance.now()
  const firstArrival = arrivals.length
  const sampler = setInterval(() => {
    rss.push(rssMiB(child.pid))
    const elapsed = Math.round((performance.now() - started) / 1000)
    if (elapsed % 30 === 0 && elapsed > 0) log(`  ${elapsed} s: RSS ${rss.at(-1).toFixed(0)} MiB, ${(last?.totals.total ?? 0).toLocaleString('en-US')} spans counted, rate shown ${Math.round(last?.totals.rate ?? 0).toLocaleString('en-US')}/s`)
  }, 1000)

  const until = Date.now() + seconds * 1000
  const workers = Array.from({length: senders}, () => new Worker(fileURLToPath(import.meta.url), {workerData: {url, batches, connections, spansPerSecond: rate / senders, batchSize, until}}))
  const results = await Promise.all(workers.map(async (worker) => (await once(worker, 'message'))[0]))
  const loadSeconds = (performance.now() - started) / 1000
  const shownRate = last?.totals.rate ?? 0
  await Promise.all(workers.map((worker) => worker.terminate()))
  const counts = results.reduce((sum, r) => ({ok: sum.ok + r.ok, throttled: sum.throttled + r.throttled, failed: sum.failed + r.failed}), {ok: 0, throttled: 0, failed: 0})
  const failures = {}
  for (const r of results) for (const [reason, n] of Object.entries(r.failures)) failures[reason] = (failures[reason] ?? 0) + n
  // Over the time the senders sent (thread start-up left out).
  const sendingSeconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000
  const accepted = counts.ok * batchSize

  // Every accepted span is counted once the queue drains.
  const drainStarted = performance.now()
  while ((last?.totals.total ?? 0) < accepted && performance.now() - drainStarted < 10_000) await new Promise((resolve) => setTimeout(resolve, 50))
  const drainMs = performance.now() - drainStarted
  clearInterval(sampler)
  const gapsDuringLoad = []
  for (let i = firstArrival + 1; i < arrivals.length; i++) if (arrivals[i] <= started + loadSeconds * 1000) gapsDuringLoad.push(arrivals[i] - arrivals[i - 1])
  const counted = last?.totals.total ?? 0
  child.kill('SIGINT')
  const [exitCode] = await exited

  // 2. The render
  const terminals = ['80x24', '120x40', '200x60']
  log(`render: the dashboard at 4 updates/s on fake terminals of ${terminals.join(', ')}, ${process.env.BENCH_RENDER_SECONDS ?? 20} s each, then idle for comparison`)
  const drawn = []
  for (const terminal of terminals) drawn.push({terminal, ...(await runRenderChild(false, terminal))})
  const idle = await runRenderChild(true, '80x24')
  const loadAfter = loadavg()[0]

  const maxRss = Math.max(...rss.filter(Number.isFinite))
  const acceptedRate = accepted / sendingSeconds
  const maxGap = Math.max(...gapsDuringLoad)
  const rows = [
    ['spans accepted per second', `${Math.round(acceptedRate).toLocaleString('en-US')} of ${rate.toLocaleString('en-US')} offered`, `>= ${TARGETS.keptUp * 100}% of >= ${TARGETS.rate.toLocaleString('en-US')}`, rate >= TARGETS.rate && acceptedRate >= TARGETS.keptUp * rate],
    ['requests answered 503 (queue full)', `${counts.throttled} of ${(counts.ok + counts.throttled + counts.failed).toLocaleString('en-US')}`, 'bounded queue', true],
    ['requests failed (no answer, or not 200/503)', counts.failed === 0 ? '0' : `${counts.failed}: ${Object.entries(failures).map(([reason, n]) => `${n} x ${reason}`).join(', ')}`, '0', counts.failed === 0],
    ['rate shown in the last snapshot under load', `${Math.round(shownRate).toLocaleString('en-US')} spans/s (sliding 1-minute window)`, '', true],
    ['spans counted / accepted', `${counted.toLocaleString('en-US')} / ${accepted.toLocaleString('en-US')} (after ${Math.round(drainMs)} ms)`, 'all', counted === accepted],
    ['snapshots printed', `${gapsDuringLoad.length + 1} in ${loadSeconds.toFixed(0)} s`, `1 per ${INTERVAL_MS} ms`, true],
    ['gap between snapshots: median / p99 / max', `${percentile(gapsDuringLoad, 0.5).toFixed(0)} / ${percentile(gapsDuringLoad, 0.99).toFixed(0)} / ${maxGap.toFixed(0)} ms`, `max < ${TARGETS.maxGapMs} ms`, maxGap < TARGETS.maxGapMs],
    ['RSS of obs top: median / max', `${percentile(rss, 0.5).toFixed(0)} / ${maxRss.toFixed(0)} MiB`, `< ${TARGETS.rssMiB} MiB`, maxRss < TARGETS.rssMiB],
    ['exit after SIGINT', String(exitCode), '0', exitCode === 0],
    ...drawn.flatMap((render) => {
      const share = (render.cpuMs - (idle.cpuMs * render.wallMs) / idle.wallMs) / render.wallMs
      const perSecond = render.snapshots / (render.wallMs / 1000)
      return [
        [`render ${render.terminal}: CPU share of one core`, `${(share * 100).toFixed(1)}% (${((share * render.wallMs) / render.snapshots).toFixed(1)} ms per update; ${perSecond.toFixed(1)} updates/s, ${(render.bytes / render.snapshots / 1024).toFixed(1)} KiB written per update)`, `< ${TARGETS.renderShare * 100}%`, share < TARGETS.renderShare && perSecond >= 3.5],
        [`  one ${render.terminal} frame composed as text`, `${render.frameTextMs.toFixed(2)} ms (renderTopFrame, no Ink)`, '', true],
      ]
    }),
    ['idle process, same timers', `${((idle.cpuMs / idle.wallMs) * 100).toFixed(1)}% (subtracted above)`, '', true],
  ]

  console.log(`stella bench:top, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}; load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`)
  console.log(`obs top --listen --json --watch --interval ${INTERVAL_MS}ms for ${seconds} s, ${rate.toLocaleString('en-US')} spans/s offered (${SERVICES} services x ${ROUTES} routes, all server spans), ${senders} sender threads x ${connections} connections, ${batchSize} spans per request`)
  console.log('')
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length), ['figure', 'value', 'target'][i].length))
  const line = (cells) => cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ').trimEnd()
  console.log(line(['figure', 'value', 'target', '']))
  for (const [figure, value, target, ok] of rows) console.log(line([figure, value, target, target === '' ? '' : ok ? 'PASS' : 'MISS']))
  if (check && rows.some((row) => row[2] !== '' && !row[3])) process.exitCode = 1
}
