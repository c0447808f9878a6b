/**
 * `stella telemetry replay` through the built CLI, against scripted OTLP/HTTP endpoints on real
 * sockets: verification first, batches, retries, partial success, time shift, rate, exit codes.
 */
import {createReadStream, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {decodeLogs, decodeMetrics, decodeTraces, encodeExportResponse} from '../../src/lib/otlp/index.js'
import {readBundleOtlp} from '../../src/services/telemetry/otlp-bundle.js'
import {TEST_KEY, TEST_PUBLIC_KEY} from '../helpers/bundle-fixtures.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'
import {rejectionOf} from '../helpers/errors.js'
import {gaugeProto, logsProto, type SpanSpec, tracesProto, writeTelemetryBundle} from '../helpers/otlp-data.js'
import {type Answer, type EndpointRequest, OK, type OtlpEndpoint, rpcStatus, startOtlpEndpoint} from '../helpers/otlp-endpoint.js'

const T0 = Date.parse('2026-11-22T10:00:00Z')
const TRACE = '0af7651916cd43dd8448eb211c80319c'
const OTHER_KEY = join(projectRoot, 'examples', 'keys', 'platform.pub.pem')

const checkout: SpanSpec[] = [
  {traceId: TRACE, spanId: '1000000000000001', name: 'GET /checkout', startMs: T0, endMs: T0 + 250, attributes: {'http.status_code': 200}},
  {traceId: TRACE, spanId: '1000000000000002', parentSpanId: '1000000000000001', name: 'SELECT cart', startMs: T0 + 10, endMs: T0 + 40, events: [{name: 'rows', timeMs: T0 + 30}]},
  {traceId: TRACE, spanId: '1000000000000003', parentSpanId: '1000000000000001', name: 'reserve stock', startMs: T0 + 50, endMs: T0 + 90},
]
const payments: SpanSpec[] = [
  {traceId: TRACE, spanId: '2000000000000001', parentSpanId: '1000000000000001', name: 'charge card', startMs: T0 + 100, endMs: T0 + 220},
  {traceId: TRACE, spanId: '2000000000000002', parentSpanId: '2000000000000001', name: 'POST /acquirer', startMs: T0 + 110, endMs: T0 + 200},
]
/** The latest timestamp in the bundle: a log's observed time. */
const LATEST_MS = T0 + 300

let dir: {path: string; cleanup: () => void}
let bundle: string
beforeAll(async () => {
  dir = scratchDir('stella-replay-')
  bundle = join(dir.path, 'inc-7.tgz')
  await writeTelemetryBundle(
    bundle,
    {
      traces: [tracesProto('checkout', checkout), tracesProto('payments', payments)],
      logs: [
        logsProto('checkout', [
          {timeMs: T0 + 5, severityText: 'INFO', body: 'checkout started', traceId: TRACE, spanId: '1000000000000001'},
          {timeMs: T0 + 215, observedMs: LATEST_MS, severityText: 'ERROR', body: 'card declined', traceId: TRACE, spanId: '2000000000000001'},
          {timeMs: T0 + 260, observedMs: 0, severityText: 'WARN', body: 'slow checkout'},
        ]),
      ],
      metrics: [gaugeProto('checkout', 'queue.depth', [T0, T0 + 120])],
    },
    {keyPath: TEST_KEY},
  )
})
afterAll(() => dir.cleanup())

const endpoints: OtlpEndpoint[] = []
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()))
})

async function endpoint(answer?: (index: number, request: EndpointRequest) => Answer): Promise<OtlpEndpoint> {
  const server = await startOtlpEndpoint(answer ? (request, index) => answer(index, request) : undefined)
  endpoints.push(server)
  return server
}

const replay = (args: string[]) => runCli(['telemetry', 'replay', ...args], {home: dir.path})
const spanNames = (body: Buffer) => decodeTraces(body).map((span) => span.name)

describe('telemetry replay', () => {
  it('verifies the bundle, then sends it in batches of --batch-size, split and merged across messages', async () => {
    const server = await endpoint()
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY, '--batch-size', '2'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    // Files in manifest order: logs, metrics, traces.
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/logs', '/v1/logs', '/v1/metrics', '/v1/traces', '/v1/traces', '/v1/traces'])
    for (const request of server.requests) expect(request.headers).toMatchObject({'content-type': 'application/x-protobuf', 'content-encoding': 'gzip'})
    const [logs1, logs2, metrics, traces1, traces2, traces3] = server.requests.map((request) => request.body)
    expect(decodeLogs(logs1!).map((log) => log.body)).toEqual([
      {kind: 'string', value: 'checkout started'},
      {kind: 'string', value: 'card declined'},
    ])
    expect(decodeLogs(logs2!).map((log) => [log.severityText, log.timeUnixNano, log.observedTimeUnixNano])).toEqual([['WARN', BigInt(T0 + 260) * 1_000_000n, 0n]])
    expect(decodeMetrics(metrics!).map((metric) => metric.name)).toEqual(['queue.depth'])
    expect(spanNames(traces1!)).toEqual(['GET /checkout', 'SELECT cart'])
    // One request, two resources: the end of one message and the start of the next.
    const merged = decodeTraces(traces2!)
    expect(merged.map((span) => [span.name, span.resource.attributes[0]!.value])).toEqual([
      ['reserve stock', {kind: 'string', value: 'checkout'}],
      ['charge card', {kind: 'string', value: 'payments'}],
    ])
    expect(spanNames(traces3!)).toEqual(['POST /acquirer'])
    const [first] = decodeTraces(traces1!)
    expect(first).toMatchObject({traceId: TRACE, spanId: '1000000000000001', parentSpanId: '', startTimeUnixNano: BigInt(T0) * 1_000_000n, endTimeUnixNano: BigInt(T0 + 250) * 1_000_000n})

    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^bundle: {3}${bundle.replaceAll('.', '\\.')}: verified \\(eb_[0-9A-Z]{26}, kind telemetry, signed by [0-9a-f]{64}\\)$`))
    expect(lines[1]).toBe(`endpoint: ${server.url}`)
    expect(lines[2]).toMatch(/^requests: 6 \(0 retries\), \d+(\.\d)? (B|KiB) sent in \d+m?s$/)
    expect(lines.slice(3).join('\n')).toBe(`
SIGNAL   RECORDS  ACCEPTED  REJECTED  REQUESTS
traces   5        5         0         3
logs     3        3         0         2
metrics  2        2         0         1
total    10       10        0         6

SENT: the endpoint accepted all 10 records.
`)
  })

  it('gives the summary as JSON, sending each message as it is with the default batch size and no compression', async () => {
    const server = await endpoint()
    const r = await replay([bundle, '--endpoint', `${server.url}/v1/traces`, '--key', TEST_PUBLIC_KEY, '--compression', 'none', '--json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(server.requests.map((request) => [request.path, request.headers['content-encoding']])).toEqual([
      ['/v1/logs', undefined],
      ['/v1/metrics', undefined],
      ['/v1/traces', undefined],
    ])
    const {status, result, warnings} = JSON.parse(r.stdout)
    expect({status, warnings}).toEqual({status: 0, warnings: []})
    expect(result).toMatchObject({
      bundle,
      endpoint: `${server.url}/v1/traces`,
      urls: {traces: `${server.url}/v1/traces`, logs: `${server.url}/v1/logs`, metrics: `${server.url}/v1/metrics`},
      verified: true,
      kind: 'telemetry',
      shiftNanos: null,
      signals: {
        traces: {records: 5, accepted: 5, rejected: 0, requests: 1},
        logs: {records: 3, accepted: 3, rejected: 0, requests: 1},
        metrics: {records: 2, accepted: 2, rejected: 0, requests: 1},
      },
      accepted: 10,
      rejected: 0,
      requests: 3,
      retries: 0,
      bytesSent: server.requests.reduce((sum, request) => sum + request.raw.byteLength, 0),
      endpointMessages: [],
    })
    expect(result.verification.ok).toBe(true)
    expect(result.bundleId).toMatch(/^eb_/)
  })

  it('--shift-to-now moves every timestamp by one offset so that the latest lands at now', async () => {
    const server = await endpoint()
    const before = BigInt(Date.now()) * 1_000_000n
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY, '--shift-to-now', '--json'])
    const after = BigInt(Date.now()) * 1_000_000n
    expect(r.status).toBe(0)
    const shift = BigInt(JSON.parse(r.stdout).result.shiftNanos)
    const latest = BigInt(LATEST_MS) * 1_000_000n + shift
    expect(latest >= before && latest <= after).toBe(true)

    const byPath = (path: string) => server.requests.filter((request) => request.path === path).map((request) => request.body)
    const spans = byPath('/v1/traces').flatMap((body) => decodeTraces(body))
    expect(spans.map((span) => [span.name, span.startTimeUnixNano - shift, span.endTimeUnixNano - shift])).toEqual(
      [...checkout, ...payments].map((span) => [span.name, BigInt(span.startMs) * 1_000_000n, BigInt(span.endMs) * 1_000_000n]),
    )
    expect(spans[1]!.events[0]!.timeUnixNano - shift).toBe(BigInt(T0 + 30) * 1_000_000n)
    const logs = byPath('/v1/logs').flatMap((body) => decodeLogs(body))
    // An unset observed time stays unset.
    expect(logs.map((log) => [log.timeUnixNano - shift, log.observedTimeUnixNano === 0n ? 0n : log.observedTimeUnixNano - shift])).toEqual([
      [BigInt(T0 + 5) * 1_000_000n, BigInt(T0 + 5) * 1_000_000n],
      [BigInt(T0 + 215) * 1_000_000n, BigInt(LATEST_MS) * 1_000_000n],
      [BigInt(T0 + 260) * 1_000_000n, 0n],
    ])
    const [gauge] = byPath('/v1/metrics').flatMap((body) => decodeMetrics(body))
    const points = gauge!.data.type === 'gauge' ? gauge!.data.dataPoints : []
    expect(points.map((point) => [point.startTimeUnixNano, point.timeUnixNano - shift])).toEqual([
      [0n, BigInt(T0) * 1_000_000n],
      [0n, BigInt(T0 + 120) * 1_000_000n],
    ])
  })

  it('retries 503 after its Retry-After and 429 with backoff, per the OTLP spec, and counts the retries', async () => {
    const server = await endpoint((index) => [{status: 503, headers: {'retry-after': '1'}}, {status: 429}, {status: 429}][index] ?? OK)
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY])
    expect(r.status).toBe(0)
    expect(r.stderr.split('\n')).toEqual([
      `POST ${server.url}/v1/logs failed (503 Service Unavailable); retrying in 1s as Retry-After asked, attempt 2`,
      expect.stringMatching(new RegExp(`^POST ${server.url}/v1/logs failed \\(429 Too Many Requests\\); retrying in \\d+ms, attempt 3$`)),
      expect.stringMatching(new RegExp(`^POST ${server.url}/v1/logs failed \\(429 Too Many Requests\\); retrying in \\d+ms, attempt 4$`)),
      '',
    ])
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950)
    // The same request each time, then the rest.
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/logs', '/v1/logs', '/v1/logs', '/v1/logs', '/v1/metrics', '/v1/traces'])
    expect(new Set(server.requests.slice(0, 4).map((request) => request.raw.toString('base64'))).size).toBe(1)
    expect(r.stdout).toContain('requests: 6 (3 retries)')
    expect(r.stdout).toContain('SENT: the endpoint accepted all 10 records.')
  })

  it('reports records rejected by partial success, and exits 4', async () => {
    const server = await endpoint((_index, request) =>
      request.path === '/v1/traces'
        ? {status: 200, headers: {'content-type': 'application/x-protobuf'}, body: encodeExportResponse('traces', {rejected: 2, errorMessage: '2 spans are older than the retention window'}, 'proto')}
        : OK,
    )
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY])
    expect(r.status).toBe(4)
    expect(r.stderr).toBe('Warning: the endpoint rejected 2 of 10 records: 2 spans are older than the retention window\n')
    expect(r.stdout).toContain(`
SIGNAL   RECORDS  ACCEPTED  REJECTED  REQUESTS
traces   5        3         2         1
logs     3        3         0         1
metrics  2        2         0         1
total    10       8         2         3

REJECTED: the endpoint refused 2 of 10 records.`)

    const json = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY, '--json'])
    expect(json.status).toBe(4)
    const envelope = JSON.parse(json.stdout)
    expect(envelope).toMatchObject({status: 4, result: {accepted: 8, rejected: 2, endpointMessages: ['2 spans are older than the retention window']}})
    expect(envelope.warnings).toEqual(['the endpoint rejected 2 of 10 records: 2 spans are older than the retention window'])
  })

  it('stops at a request the endpoint refuses for good (400), saying how far it got (exit 4)', async () => {
    const server = await endpoint((index) => (index === 1 ? {status: 400, headers: {'content-type': 'application/x-protobuf'}, body: rpcStatus(3, 'metric queue.depth: unit is not UCUM')} : OK))
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY])
    expect(r.status).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`Error: POST ${server.url}/v1/metrics answered 400 Bad Request: metric queue.depth: unit is not UCUM; 3 records had been accepted before, and the replay stopped here
Hint: The endpoint refused the metrics as malformed; check that it speaks OTLP/HTTP protobuf, and what its logs say about the request.
`)
    expect(server.requests).toHaveLength(2)
  })

  it('exits 5 when the endpoint refuses the credentials, and sends --header values', async () => {
    const server = await endpoint(() => ({status: 401}))
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY, '--header', 'Authorization=Bearer expired', '--header', 'X-Scope-OrgID: tenant-a', '--json'])
    expect(r.status).toBe(5)
    expect(JSON.parse(r.stdout)).toEqual({
      status: 5,
      error: {
        code: 'OTLP_ENDPOINT_DENIED',
        message: `POST ${server.url}/v1/logs answered 401 Unauthorized; 0 records had been accepted before, and the replay stopped here`,
        remedy: 'Pass the credentials the endpoint expects, e.g. --header "Authorization=Bearer <token>".',
      },
    })
    expect(server.requests[0]!.headers).toMatchObject({authorization: 'Bearer expired', 'x-scope-orgid': 'tenant-a'})
  })

  it('exits 4 when the endpoint cannot be reached, after retrying', async () => {
    const server = await endpoint()
    const url = server.url
    await endpoints.pop()!.close()
    const r = await replay([bundle, '--endpoint', url, '--key', TEST_PUBLIC_KEY, '--retries', '1', '--json'])
    expect(r.status).toBe(4)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'OTLP_CONNECTION_REFUSED', message: `cannot connect to ${url}: connection refused (gave up after 2 attempts); 0 records had been accepted before, and the replay stopped here`})
    expect(r.stderr).toMatch(new RegExp(`^POST ${url}/v1/logs failed \\(CONNECTION_REFUSED\\); retrying in \\d+ms, attempt 2\\n$`))
  })

  it('limits the rate to --rate records a second', async () => {
    const server = await endpoint()
    const r = await replay([bundle, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY, '--rate', '4', '--batch-size', '2'])
    expect(r.status).toBe(0)
    expect(server.requests).toHaveLength(6)
    // 10 records at 4 a second: a second's worth at once, the other 6 in the next 1.5s.
    const last = server.requests.at(-1)!.at - server.requests[0]!.at
    expect(last).toBeGreaterThanOrEqual(1400)
    expect(last).toBeLessThan(3000)
  })
})

describe('telemetry replay refuses what it cannot trust', () => {
  it('refuses a bundle signed by another key (exit 1), and sends nothing', async () => {
    const server = await endpoint()
    const r = await replay([bundle, '--endpoint', server.url, '--key', OTHER_KEY])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^Error: .*inc-7\.tgz failed verification \(signatures: .*\); nothing was sent\n/)
    expect(r.stderr).toContain('Hint: See `stella forensic verify')
    expect(server.requests).toHaveLength(0)
  })

  it('refuses an altered bundle (exit 1), and sends nothing', async () => {
    const altered = join(dir.path, 'altered.tgz')
    const tar = gunzipSync(readFileSync(bundle))
    const at = tar.indexOf('reserve stock')
    expect(at).toBeGreaterThan(0)
    tar[at] = 'R'.charCodeAt(0)
    writeFileSync(altered, gzipSync(tar))
    const server = await endpoint()
    const r = await replay([altered, '--endpoint', server.url, '--key', TEST_PUBLIC_KEY, '--json'])
    expect(r.status).toBe(1)
    const {error} = JSON.parse(r.stdout)
    expect(error.code).toBe('BUNDLE_NOT_VERIFIED')
    expect(error.message).toMatch(/^.*altered\.tgz failed verification \(files: .*otlp\/traces\.pb.*\); nothing was sent$/)
    expect(server.requests).toHaveLength(0)

    // --no-verify sends it anyway, with a warning.
    const unverified = await replay([altered, '--endpoint', server.url, '--no-verify'])
    expect(unverified.status).toBe(0)
    expect(unverified.stderr).toBe(`Warning: --no-verify: ${altered} is sent WITHOUT being verified; its content may have been altered.\n`)
    expect(unverified.stdout).toContain(`bundle:   ${altered}: NOT verified (--no-verify)`)
    expect(server.requests.flatMap((request) => (request.path === '/v1/traces' ? spanNames(request.body) : []))).toContain('Reserve stock')
  })

  it('refuses a verified bundle that is not a telemetry bundle (exit 3), and sends nothing', async () => {
    const server = await endpoint()
    const evidence = join(projectRoot, 'examples', 'bundles', 'case-42.tgz')
    const r = await replay([evidence, '--endpoint', server.url, '--key', OTHER_KEY])
    expect(r.status).toBe(3)
    expect(r.stderr).toBe(
      `Error: ${evidence} is a bundle of kind evaluation, not telemetry: it holds no OTLP to replay; nothing was sent\n` +
        "Hint: Replay a telemetry bundle (`stella telemetry capture` writes one, and the server's forensic export is one).\n",
    )
    expect(server.requests).toHaveLength(0)
  })

  it('needs a trusted key unless --no-verify (exit 2)', async () => {
    const r = await replay([bundle, '--endpoint', 'http://127.0.0.1:9'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(`Error: the bundle is verified before it is replayed, and no trusted public key was given
Hint: Pass --key with the signer's public key (e.g. --key platform.pub.pem), or --no-verify to send it unverified.
`)
  })

  it('exits 3 for a bundle it cannot read, and 2 for an endpoint that is not OTLP/HTTP', async () => {
    const missing = await replay([join(dir.path, 'missing.tgz'), '--endpoint', 'http://127.0.0.1:9', '--key', TEST_PUBLIC_KEY])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toContain(`Error: cannot read the bundle ${join(dir.path, 'missing.tgz')}: `)
    const grpc = await replay([bundle, '--endpoint', 'grpc://collector:4317', '--key', TEST_PUBLIC_KEY])
    expect(grpc.status).toBe(2)
    expect(grpc.stderr).toBe(`Error: --endpoint "grpc://collector:4317" is not an http(s) URL
Hint: OTLP/HTTP endpoints are http:// or https:// (often port 4318); gRPC (port 4317) is not supported.
`)
  })

  it('has help with examples', async () => {
    const r = await runCli(['telemetry', 'replay', '--help'], {home: dir.path})
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('$ stella telemetry replay inc-7.tgz --endpoint http://collector:4318 --key platform.pub.pem')
    expect(r.stdout).toContain('--shift-to-now')
  })
})

describe('reading a bundle for replay', () => {
  it('refuses an OTLP file that is not the one verified', async () => {
    const wrong = new Map([['otlp/logs.pb', {size: 1, sha256: '0'.repeat(64)}]])
    const read = async () => {
      for await (const message of readBundleOtlp(createReadStream(bundle), {name: 'inc-7.tgz', expected: wrong})) void message
    }

    const error = await rejectionOf(read())
    expect(error).toMatchObject({code: 'BUNDLE_CHANGED', message: 'otlp/logs.pb in inc-7.tgz is not the file that was verified'})
  })

  it('yields every message of every otlp/ file in archive order', async () => {
    const seen: string[] = []
    for await (const message of readBundleOtlp(createReadStream(bundle), {name: 'inc-7.tgz'})) seen.push(`${message.path}#${message.index}`)
    expect(seen).toEqual(['otlp/logs.pb#0', 'otlp/metrics.pb#0', 'otlp/traces.pb#0', 'otlp/traces.pb#1'])
  })
})
