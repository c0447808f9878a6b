import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode, UsageError} from '../../src/lib/errors.js'
import {OtlpAuthError, OtlpExportError, OtlpExporter, type OtlpExporterOptions, type RetryNotice, TokenBucket, otlpEndpoints, statusMessageOf} from '../../src/lib/otlp/exporter.js'
import {encodeExportResponse} from '../../src/lib/otlp/index.js'
import {rejectionOf, thrownBy} from '../helpers/errors.js'
import {type Answer, OK, type OtlpEndpoint, rpcStatus, startOtlpEndpoint} from '../helpers/otlp-endpoint.js'

const BODY = Buffer.from('an ExportTraceServiceRequest, as far as the sender cares')

const endpoints: OtlpEndpoint[] = []
const exporters: OtlpExporter[] = []
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((exporter) => exporter.close()))
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()))
})

async function endpoint(answers: Answer[] | ((index: number) => Answer)): Promise<OtlpEndpoint> {
  const server = await startOtlpEndpoint((_request, index) => (typeof answers === 'function' ? answers(index) : (answers[index] ?? OK)))
  endpoints.push(server)
  return server
}

function exporter(options: OtlpExporterOptions): OtlpExporter {
  const made = new OtlpExporter({random: () => 0, ...options})
  exporters.push(made)
  return made
}

describe('otlpEndpoints', () => {
  it('appends /v1/<signal> to a base URL, keeping its path prefix and query', () => {
    expect(Object.values(otlpEndpoints('http://collector:4318')).map(String)).toEqual(['http://collector:4318/v1/traces', 'http://collector:4318/v1/logs', 'http://collector:4318/v1/metrics'])
    expect(otlpEndpoints('https://otlp.example.com/tenant-a/?x=1').logs.href).toBe('https://otlp.example.com/tenant-a/v1/logs?x=1')
  })

  it('takes the full URL of one signal and derives the others from it', () => {
    const urls = otlpEndpoints('http://tempo:4318/otlp/v1/traces')
    expect([urls.traces.href, urls.logs.href, urls.metrics.href]).toEqual(['http://tempo:4318/otlp/v1/traces', 'http://tempo:4318/otlp/v1/logs', 'http://tempo:4318/otlp/v1/metrics'])
  })

  it('refuses what is not an http(s) URL without credentials', () => {
    expect(thrownBy(() => otlpEndpoints('collector:4318'))).toMatchObject({code: 'INVALID_ENDPOINT', message: '--endpoint "collector:4318" is not an http(s) URL'})
    expect(thrownBy(() => otlpEndpoints('not a url'))).toMatchObject({code: 'INVALID_ENDPOINT', message: '--endpoint "not a url" is not a URL'})
    const withUser = thrownBy(() => otlpEndpoints('https://user:secret@otlp.example.com'))
    expect(withUser).toBeInstanceOf(UsageError)
    expect(withUser.message).toBe('the --endpoint URL must not contain credentials')
  })
})

describe('OtlpExporter.send', () => {
  it('POSTs gzip-compressed protobuf with the extra headers, and reports full success', async () => {
    const server = await endpoint([])
    const sender = exporter({endpoint: server.url, headers: {Authorization: 'Bearer t0k'}, userAgent: 'stella/test'})
    const outcome = await sender.send('logs', BODY)
    expect(outcome).toEqual({status: 200, attempts: 1, rejected: 0, errorMessage: ''})
    const [request] = server.requests
    expect(request).toMatchObject({method: 'POST', path: '/v1/logs'})
    expect(request!.headers).toMatchObject({'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', authorization: 'Bearer t0k', 'user-agent': 'stella/test'})
    expect(request!.body.equals(BODY)).toBe(true)
    expect(sender.stats).toEqual({requests: 1, retries: 0, bytesSent: request!.raw.byteLength})
  })

  it('sends the body as it is with compression none', async () => {
    const server = await endpoint([])
    await exporter({endpoint: server.url, compression: 'none'}).send('metrics', BODY)
    expect(server.requests[0]!.headers['content-encoding']).toBeUndefined()
    expect(server.requests[0]!.raw.equals(BODY)).toBe(true)
    expect(server.requests[0]!.path).toBe('/v1/metrics')
  })

  it('waits the Retry-After (seconds) of a 503 before trying again', async () => {
    const server = await endpoint([{status: 503, headers: {'retry-after': '1'}}, OK])
    const notices: RetryNotice[] = []
    const outcome = await exporter({endpoint: server.url, onRetry: (notice) => notices.push(notice)}).send('traces', BODY)
    expect(outcome.attempts).toBe(2)
    expect(notices).toEqual([{signal: 'traces', url: `${server.url}/v1/traces`, attempt: 2, delayMs: 1000, reason: '503 Service Unavailable', retryAfter: true}])
    const waited = server.requests[1]!.at - server.requests[0]!.at
    expect(waited).toBeGreaterThanOrEqual(950)
    expect(waited).toBeLessThan(2000)
  })

  it('takes a Retry-After HTTP date', async () => {
    const server = await endpoint([{status: 429, headers: {'retry-after': new Date(Date.now() + 2000).toUTCString()}}, OK])
    const notices: RetryNotice[] = []
    await exporter({endpoint: server.url, onRetry: (notice) => notices.push(notice)}).send('traces', BODY)
    // An HTTP date has whole seconds: the wait is what is left of them.
    expect(notices[0]!.delayMs).toBeGreaterThan(500)
    expect(notices[0]!.delayMs).toBeLessThanOrEqual(2000)
    expect(notices[0]!.retryAfter).toBe(true)
  })

  it('backs off on its own from 429, 502 and 504 without Retry-After, and counts the retries', async () => {
    const server = await endpoint([{status: 429}, {status: 502}, {status: 504}, OK])
    const notices: RetryNotice[] = []
    const sender = exporter({endpoint: server.url, onRetry: (notice) => notices.push(notice)})
    expect((await sender.send('traces', BODY)).attempts).toBe(4)
    expect(notices.map((notice) => [notice.reason, notice.retryAfter])).toEqual([
      ['429 Too Many Requests', false],
      ['502 Bad Gateway', false],
      ['504 Gateway Timeout', false],
    ])
    expect(sender.stats.requests).toBe(4)
    expect(sender.stats.retries).toBe(3)
  })

  it('backs off exponentially with full jitter', async () => {
    const server = await endpoint([{status: 503}, {status: 503}, {status: 503}, OK])
    const notices: RetryNotice[] = []
    await exporter({endpoint: server.url, random: () => 0.5, onRetry: (notice) => notices.push(notice)}).send('traces', BODY)
    expect(notices.map((notice) => notice.delayMs)).toEqual([100, 200, 400])
  })

  it('never retries another error status, and says what the endpoint said (google.rpc.Status)', async () => {
    const server = await endpoint([{status: 400, headers: {'content-type': 'application/x-protobuf'}, body: rpcStatus(3, 'span 7: trace id must be 16 bytes')}])
    const error = await rejectionOf(exporter({endpoint: server.url}).send('traces', BODY))
    expect(error).toBeInstanceOf(OtlpExportError)
    expect(error).toMatchObject({code: 'OTLP_EXPORT_REJECTED', exitCode: ExitCode.Remote, status: 400, attempts: 1})
    expect(error.message).toBe(`POST ${server.url}/v1/traces answered 400 Bad Request: span 7: trace id must be 16 bytes`)
    expect(server.requests).toHaveLength(1)
  })

  it('does not retry a 500, and reads a JSON or text error body', async () => {
    const server = await endpoint([{status: 500, headers: {'content-type': 'application/json'}, body: '{"code": 13, "message": "disk full"}'}, {status: 413, headers: {'content-type': 'text/plain'}, body: 'too big\u001b[2J'}])
    const first = await rejectionOf(exporter({endpoint: server.url}).send('logs', BODY))
    expect(first.message).toBe(`POST ${server.url}/v1/logs answered 500 Internal Server Error: disk full`)
    const second = await rejectionOf(exporter({endpoint: server.url}).send('logs', BODY))
    expect(second.message).toBe(`POST ${server.url}/v1/logs answered 413 Payload Too Large: too big [2J`)
    expect(second.remedy).toBe('The request is larger than the endpoint accepts: send fewer records per request with --batch-size.')
  })

  it('turns 401 and 403 into an auth error (exit 5)', async () => {
    const server = await endpoint([{status: 401}, {status: 403}])
    for (const status of [401, 403]) {
      const error = await rejectionOf(exporter({endpoint: server.url}).send('traces', BODY))
      expect(error).toBeInstanceOf(OtlpAuthError)
      expect(error).toMatchObject({code: 'OTLP_ENDPOINT_DENIED', exitCode: ExitCode.Auth, status})
    }
  })

  it('gives up after --retries more attempts', async () => {
    const server = await endpoint(() => ({status: 503}))
    const error = await rejectionOf(exporter({endpoint: server.url, retries: 2}).send('traces', BODY))
    expect(error).toMatchObject({code: 'OTLP_EXPORT_FAILED', attempts: 3})
    expect(error.message).toBe(`POST ${server.url}/v1/traces answered 503 Service Unavailable (gave up after 3 attempts)`)
    expect(server.requests).toHaveLength(3)
  })

  it('gives up at once when the Retry-After would pass the time allowed for the request', async () => {
    const server = await endpoint([{status: 503, headers: {'retry-after': '30'}}])
    const started = Date.now()
    const error = await rejectionOf(exporter({endpoint: server.url, maxRetryTimeMs: 5000}).send('traces', BODY))
    expect(Date.now() - started).toBeLessThan(1000)
    expect(error.message).toBe(`POST ${server.url}/v1/traces answered 503 Service Unavailable (gave up after 1 attempt: the Retry-After of 30s would pass the 5s --max-retry-time)`)
  })

  it('reads partial success from a protobuf or JSON answer', async () => {
    const server = await endpoint([
      {status: 200, headers: {'content-type': 'application/x-protobuf'}, body: encodeExportResponse('traces', {rejected: 3, errorMessage: '3 spans older than the retention'}, 'proto')},
      {status: 200, headers: {'content-type': 'application/json'}, body: encodeExportResponse('logs', {rejected: 1, errorMessage: 'body too long'}, 'json')},
      {status: 200, headers: {'content-type': 'application/x-protobuf'}, body: encodeExportResponse('metrics', {rejected: 0, errorMessage: 'deprecated: use delta'}, 'proto')},
    ])
    const sender = exporter({endpoint: server.url})
    expect(await sender.send('traces', BODY)).toEqual({status: 200, attempts: 1, rejected: 3, errorMessage: '3 spans older than the retention'})
    expect(await sender.send('logs', BODY)).toEqual({status: 200, attempts: 1, rejected: 1, errorMessage: 'body too long'})
    expect(await sender.send('metrics', BODY)).toEqual({status: 200, attempts: 1, rejected: 0, errorMessage: 'deprecated: use delta'})
  })

  it('retries a refused connection, then names it', async () => {
    const server = await endpoint([])
    const url = server.url
    await server.close()
    endpoints.pop()
    const notices: RetryNotice[] = []
    const error = await rejectionOf(exporter({endpoint: url, retries: 1, onRetry: (notice) => notices.push(notice)}).send('traces', BODY))
    expect(notices.map((notice) => notice.reason)).toEqual(['CONNECTION_REFUSED'])
    expect(error).toMatchObject({code: 'OTLP_CONNECTION_REFUSED', exitCode: ExitCode.Remote, attempts: 2})
    expect(error.message).toBe(`cannot connect to ${url}: connection refused (gave up after 2 attempts)`)
    expect(error.remedy).toBe('Check the --endpoint URL and port, and that the endpoint is running.')
  })

  it('retries a connection cut before the answer', async () => {
    const server = await endpoint(['reset', OK])
    expect((await exporter({endpoint: server.url}).send('traces', BODY)).attempts).toBe(2)
  })
})

describe('statusMessageOf', () => {
  it('reads field 2 of a google.rpc.Status and nothing else', () => {
    expect(statusMessageOf(rpcStatus(8, 'slow down'))).toBe('slow down')
    expect(statusMessageOf(Buffer.from([0x08, 0x03]))).toBeUndefined()
    expect(statusMessageOf(Buffer.from([0x12, 0x05, 0x61]))).toBeUndefined()
    expect(statusMessageOf(Buffer.from('<html>'))).toBeUndefined()
  })
})

describe('TokenBucket', () => {
  function bucket(rate: number, capacity?: number) {
    let now = 0
    const waits: number[] = []
    const made = new TokenBucket(rate, capacity, () => now, async (ms) => {
      waits.push(ms)
      now += ms
    })
    return {made, waits, advance: (ms: number) => (now += ms)}
  }

  it('lets a second of the rate through at once, then paces', async () => {
    const {made, waits} = bucket(100)
    await made.take(100)
    expect(waits).toEqual([])
    await made.take(50)
    expect(waits).toEqual([500])
    await made.take(100)
    expect(waits).toEqual([500, 1000])
  })

  it('refills with time, up to the capacity', async () => {
    const {made, waits, advance} = bucket(10)
    await made.take(10)
    advance(5000)
    await made.take(10)
    await made.take(5)
    expect(waits).toEqual([500])
  })

  it('sends a batch larger than the capacity once the bucket is full, and makes the next wait for the debt', async () => {
    const {made, waits} = bucket(10)
    await made.take(30)
    expect(waits).toEqual([])
    await made.take(10)
    // 30 taken from 10: 20 owed, then 10 more to fill: 3 s.
    expect(waits).toEqual([3000])
  })

  it('refuses a rate that is not positive', () => {
    expect(thrownBy(() => new TokenBucket(0))).toMatchObject({code: 'INVALID_RATE'})
  })
})
