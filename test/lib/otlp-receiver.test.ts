import {request as httpRequest, Agent, type IncomingHttpHeaders} from 'node:http'
import {gzipSync} from 'node:zlib'

import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode, UsageError} from '../../src/lib/errors.js'
import {decodeExportResponse, decodeLogs, decodeTraces} from '../../src/lib/otlp/index.js'
import {type OtlpReceiver, type ReceivedMessage, type ReceiverOptions, isLoopbackHost, startOtlpReceiver} from '../../src/lib/otlp/receiver.js'
import type {SpanRecord} from '../../src/lib/otlp/types.js'
import {encodeLogsRequest, encodeTraceRequest} from '../contract-server/otlp-proto.js'

const TRACE = '5b8efff798038103d269b633813fc60c'
const PROTO = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

const receivers: OtlpReceiver[] = []
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()))
})

async function start(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const receiver = await startOtlpReceiver(options)
  receivers.push(receiver)
  return receiver
}

function spans(names: readonly string[], traceId = TRACE): unknown[] {
  return [{
    resource: {attributes: [{key: 'service.name', value: {stringValue: 'checkout'}}]},
    scopeSpans: [{
      scope: {name: 'test', version: '1.0.0'},
      spans: names.map((name, i) => ({
        traceId,
        spanId: (i + 1).toString(16).padStart(16, '0'),
        name,
        kind: 2,
        startTimeUnixNano: String(1764000000000000000n + BigInt(i)),
        endTimeUnixNano: String(1764000000250000000n + BigInt(i)),
        attributes: [{key: 'http.route', value: {stringValue: `/${name}`}}],
      })),
    }],
  }]
}

const traceProto = (names: readonly string[]): Buffer => encodeTraceRequest(spans(names))
const traceJson = (names: readonly string[]): Buffer => Buffer.from(JSON.stringify({resourceSpans: spans(names)}))

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

interface SendOptions {
  path?: string
  method?: string
  headers?: Record<string, string | number>
  /** Sent with Content-Length; an array is sent chunked, one write per element. */
  body?: Uint8Array | Uint8Array[]
  agent?: Agent
}

/** One request over a real socket with node:http, headers exactly as given. */
function send(receiver: OtlpReceiver, options: SendOptions = {}): Promise<Reply> {
  const url = new URL(options.path ?? '/v1/traces', receiver.url)
  const body = options.body ?? new Uint8Array(0)
  const headers: Record<string, string | number> = {...options.headers}
  if (!Array.isArray(body) && headers['content-length'] === undefined) headers['content-length'] = body.byteLength
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {method: options.method ?? 'POST', headers, agent: options.agent ?? false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks)}))
      res.on('error', reject)
    })
    req.on('error', reject)
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk)
      req.end()
    } else {
      req.end(body)
    }
  })
}

const post = (receiver: OtlpReceiver, body: Uint8Array, contentType = PROTO, extra: Record<string, string> = {}, path = '/v1/traces'): Promise<Reply> =>
  send(receiver, {path, body, headers: {'content-type': contentType, ...extra}})

interface Status {
  code: number
  message: string
  details: {typeUrl: string; descriptions: string[]}[]
}

/** google.rpc.Status from protobuf, with BadRequest details unpacked: written here so the receiver's encoder is checked by a separate reader. */
function decodeStatus(bytes: Uint8Array): Status {
  const fields = (data: Uint8Array): {field: number; value: number | Uint8Array}[] => {
    const out: {field: number; value: number | Uint8Array}[] = []
    let at = 0
    const varint = (): number => {
      let value = 0
      for (let shift = 0; ; shift += 7) {
        const byte = data[at++]!
        value += (byte & 0x7f) * 2 ** shift
        if (byte < 0x80) return value
      }
    }

    while (at < data.length) {
      const tag = varint()
      if ((tag & 7) === 0) out.push({field: tag >>> 3, value: varint()})
      else if ((tag & 7) === 2) {
        const length = varint()
        out.push({field: tag >>> 3, value: data.subarray(at, at + length)})
        at += length
      } else throw new Error(`unexpected wire type ${tag & 7}`)
    }

    return out
  }

  const text = (value: number | Uint8Array): string => Buffer.from(value as Uint8Array).toString()
  const status: Status = {code: 0, message: '', details: []}
  for (const {field, value} of fields(bytes)) {
    if (field === 1) status.code = value as number
    else if (field === 2) status.message = text(value)
    else if (field === 3) {
      const any = fields(value as Uint8Array)
      const typeUrl = text(any.find((f) => f.field === 1)!.value)
      const violations = fields(any.find((f) => f.field === 2)!.value as Uint8Array).filter((f) => f.field === 1)
      status.details.push({typeUrl, descriptions: violations.map((v) => text(fields(v.value as Uint8Array).find((f) => f.field === 2)!.value))})
    }
  }

  return status
}

async function take(receiver: OtlpReceiver, count: number): Promise<ReceivedMessage[]> {
  const messages: ReceivedMessage[] = []
  if (count === 0) return messages
  for await (const message of receiver.messages()) {
    messages.push(message)
    if (messages.length === count) break
  }

  return messages
}

const names = (message: ReceivedMessage): string[] => (message.records as SpanRecord[]).map((span) => span.name)

describe('accepting OTLP/HTTP requests', () => {
  it('takes protobuf traces, answers an empty ExportTraceServiceResponse, and queues the request as it came', async () => {
    const receiver = await start()
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const body = traceProto(['GET /cart', 'SELECT cart'])
    const before = Date.now()
    const reply = await post(receiver, body)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe(PROTO)
    expect(reply.body.length).toBe(0)
    const [message] = await take(receiver, 1)
    expect(message!.signal).toBe('traces')
    expect(names(message!)).toEqual(['GET /cart', 'SELECT cart'])
    expect((message!.records as SpanRecord[])[0]!.traceId).toBe(TRACE)
    expect(Buffer.from(message!.protobuf).equals(body)).toBe(true)
    expect(message!.receivedAt).toBeGreaterThanOrEqual(before)
    expect(receiver.stats().traces).toEqual({requests: 1, received: 2, accepted: 2, rejected: 0})
  })

  it('takes OTLP/JSON (charset allowed), answers {} in JSON, and queues it re-encoded as protobuf', async () => {
    const receiver = await start()
    const reply = await post(receiver, traceJson(['GET /cart']), 'Application/JSON; charset=utf-8')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe(JSON_TYPE)
    expect(reply.body.toString()).toBe('{}')
    const [message] = await take(receiver, 1)
    const decoded = decodeTraces(message!.protobuf)
    expect(decoded.map((span) => [span.traceId, span.spanId, span.name, span.startTimeUnixNano])).toEqual([[TRACE, '0000000000000001', 'GET /cart', 1764000000000000000n]])
  })

  it('takes gzip bodies in both encodings and counts wire and decoded bytes', async () => {
    const receiver = await start()
    const proto = traceProto(['a', 'b', 'c'])
    const json = traceJson(['d'])
    expect((await post(receiver, gzipSync(proto), PROTO, {'content-encoding': 'gzip'})).status).toBe(200)
    expect((await post(receiver, gzipSync(json), JSON_TYPE, {'content-encoding': 'GZIP'})).status).toBe(200)
    const messages = await take(receiver, 2)
    expect(messages.map(names)).toEqual([['a', 'b', 'c'], ['d']])
    expect(Buffer.from(messages[0]!.protobuf).equals(proto)).toBe(true)
    const stats = receiver.stats()
    expect(stats.bytesReceived).toBe(gzipSync(proto).length + gzipSync(json).length)
    expect(stats.bytesDecoded).toBe(proto.length + json.length)
  })

  it('takes logs and metrics on their own paths, and a chunked body', async () => {
    const receiver = await start()
    const logs = encodeLogsRequest([{scopeLogs: [{logRecords: [{timeUnixNano: '1764000000000000000', severityNumber: 9, body: {stringValue: 'cart loaded'}, traceId: TRACE}]}]}])
    expect((await send(receiver, {path: '/v1/logs', headers: {'content-type': PROTO}, body: [logs.subarray(0, 10), logs.subarray(10)]})).status).toBe(200)
    const metrics = {resourceMetrics: [{scopeMetrics: [{metrics: [{name: 'http.requests', sum: {aggregationTemporality: 2, isMonotonic: true, dataPoints: [{asInt: '3', timeUnixNano: '1764000000000000000'}, {asInt: '4', timeUnixNano: '1764000001000000000'}]}}]}]}]}
    expect((await post(receiver, Buffer.from(JSON.stringify(metrics)), JSON_TYPE, {}, '/v1/metrics?tenant=ignored')).status).toBe(200)
    const [logMessage, metricMessage] = await take(receiver, 2)
    expect(logMessage!.signal).toBe('logs')
    expect(decodeLogs(logMessage!.protobuf).map((log) => log.body)).toEqual([{kind: 'string', value: 'cart loaded'}])
    expect(metricMessage!.signal).toBe('metrics')
    expect(metricMessage!.records.length).toBe(1)
    const stats = receiver.stats()
    expect(stats.logs).toEqual({requests: 1, received: 1, accepted: 1, rejected: 0})
    // Metrics count data points, as rejected_data_points does.
    expect(stats.metrics).toEqual({requests: 1, received: 2, accepted: 2, rejected: 0})
  })

  it('answers an empty request with success and queues nothing', async () => {
    const receiver = await start()
    expect((await post(receiver, new Uint8Array(0))).status).toBe(200)
    const json = await post(receiver, Buffer.from('{}'), JSON_TYPE)
    expect([json.status, json.body.toString()]).toEqual([200, '{}'])
    expect(receiver.stats().queued).toBe(0)
    expect(receiver.stats().traces).toEqual({requests: 2, received: 0, accepted: 0, rejected: 0})
  })
})

describe('partial success', () => {
  it('rejects spans with invalid ids, says how many and why, and queues the rest', async () => {
    const body = encodeTraceRequest([{
      scopeSpans: [{
        spans: [
          {traceId: TRACE, spanId: '0000000000000001', name: 'good', startTimeUnixNano: '1', endTimeUnixNano: '2'},
          {traceId: 'abcd', spanId: '0000000000000002', name: 'short trace id'},
          {traceId: TRACE, spanId: '0000000000000000', name: 'zero span id'},
          {traceId: TRACE, spanId: '0000000000000003', parentSpanId: '0102', name: 'short parent'},
          {traceId: TRACE, spanId: '0000000000000004', parentSpanId: '0000000000000001', name: 'child'},
        ],
      }],
    }])
    const receiver = await start()
    const reply = await post(receiver, body)
    expect(reply.status).toBe(200)
    expect(decodeExportResponse('traces', reply.body, 'proto')).toEqual({
      rejected: 3n,
      errorMessage: '3 spans were rejected: a span needs a 16-byte trace id and an 8-byte span id, neither all zeros (first: span "short trace id": trace id "abcd" is not 16 bytes, or is all zeros)',
    })
    const [message] = await take(receiver, 1)
    expect(names(message!)).toEqual(['good', 'child'])
    expect(decodeTraces(message!.protobuf).map((span) => span.name)).toEqual(['good', 'child'])
    expect(receiver.stats().traces).toEqual({requests: 1, received: 5, accepted: 2, rejected: 3})
  })

  it('answers partial success in JSON to a JSON request, and queues nothing when every span is rejected', async () => {
    const receiver = await start()
    const body = JSON.stringify({resourceSpans: [{scopeSpans: [{spans: [{traceId: '00000000000000000000000000000000', spanId: '0000000000000001', name: 'zero trace'}]}]}]})
    const reply = await post(receiver, Buffer.from(body), JSON_TYPE)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe(JSON_TYPE)
    expect(decodeExportResponse('traces', reply.body, 'json')).toEqual({
      rejected: 1n,
      errorMessage: '1 span was rejected: a span needs a 16-byte trace id and an 8-byte span id, neither all zeros (first: span "zero trace": trace id "00000000000000000000000000000000" is not 16 bytes, or is all zeros)',
    })
    expect(receiver.stats().queued).toBe(0)
  })
})

describe('refusing requests as the OTLP spec says', () => {
  it('404 for another path, 405 with Allow for another method', async () => {
    const receiver = await start()
    const notFound = await post(receiver, traceProto(['a']), PROTO, {}, '/v1/spans')
    expect(notFound.status).toBe(404)
    expect(notFound.headers['content-type']).toBe(PROTO)
    expect(decodeStatus(notFound.body)).toEqual({code: 5, message: 'no OTLP endpoint at /v1/spans: POST to /v1/traces, /v1/logs or /v1/metrics', details: []})

    const get = await send(receiver, {method: 'GET', path: '/v1/logs'})
    expect(get.status).toBe(405)
    expect(get.headers.allow).toBe('POST')
    expect(decodeStatus(get.body).message).toBe('GET is not allowed on /v1/logs: OTLP/HTTP takes POST')
  })

  it('415 for another content type or content encoding', async () => {
    const receiver = await start()
    const text = await post(receiver, Buffer.from('hello'), 'text/plain')
    expect(text.status).toBe(415)
    expect(decodeStatus(text.body)).toEqual({code: 3, message: 'Content-Type "text/plain" is not supported: send application/x-protobuf or application/json', details: []})
    const none = await send(receiver, {body: traceProto(['a'])})
    expect([none.status, decodeStatus(none.body).message]).toEqual([415, 'Content-Type "" is not supported: send application/x-protobuf or application/json'])

    const brotli = await post(receiver, traceJson(['a']), JSON_TYPE, {'content-encoding': 'br'})
    expect(brotli.status).toBe(415)
    expect(brotli.headers['content-type']).toBe(JSON_TYPE)
    expect(JSON.parse(brotli.body.toString())).toEqual({code: 3, message: 'Content-Encoding "br" is not supported: send gzip or no compression'})
    expect(receiver.stats().failed).toBe(3)
  })

  it('400 with a google.rpc.Status and a BadRequest detail for a body that does not decode', async () => {
    const receiver = await start()
    const garbage = await post(receiver, Buffer.from([0x0a, 0x05, 0xff, 0xff]))
    expect(garbage.status).toBe(400)
    const status = decodeStatus(garbage.body)
    expect(status.code).toBe(3)
    expect(status.message).toMatch(/^the traces request does not decode: /)
    expect(status.details).toEqual([{typeUrl: 'type.googleapis.com/google.rpc.BadRequest', descriptions: [status.message]}])

    const json = await post(receiver, Buffer.from('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}'), JSON_TYPE)
    expect(json.status).toBe(400)
    const parsed = JSON.parse(json.body.toString()) as {code: number; message: string; details: unknown[]}
    expect(parsed.code).toBe(3)
    expect(parsed.message).toBe('the traces request does not decode: malformed OTLP/JSON at resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex id, found the string "xyz"')
    expect(parsed.details).toEqual([{'@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{field: '', description: parsed.message}]}])

    const badGzip = await post(receiver, Buffer.from('not gzip at all'), PROTO, {'content-encoding': 'gzip'})
    expect(badGzip.status).toBe(400)
    expect(decodeStatus(badGzip.body).message).toBe('the gzip body does not decompress: incorrect header check')
    expect(receiver.stats().queued).toBe(0)
  })

  it('413 past maxBodyBytes: a declared length, a chunked body, and a body that inflates past it', async () => {
    const receiver = await start({maxBodyBytes: 4096})
    // Refused on its headers, before any of the body is read.
    const declared = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(new URL('/v1/traces', receiver.url), {method: 'POST', agent: false, headers: {'content-type': PROTO, 'content-length': 10_000_000}}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          req.destroy()
          resolve({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks)})
        })
      })
      req.on('error', reject)
      req.flushHeaders()
    })
    expect(declared.status).toBe(413)
    expect(declared.headers.connection).toBe('close')
    expect(decodeStatus(declared.body)).toEqual({code: 8, message: 'the body is 10000000 bytes, more than the 4096-byte limit: send smaller batches', details: []})

    const chunked = await send(receiver, {headers: {'content-type': PROTO}, body: [Buffer.alloc(3000), Buffer.alloc(3000)]})
    expect(chunked.status).toBe(413)
    expect(decodeStatus(chunked.body).message).toBe('the body is more than 4096 bytes, more than the 4096-byte limit: send smaller batches')

    const bomb = gzipSync(Buffer.concat([traceProto(['a']), Buffer.alloc(100_000)]))
    expect(bomb.length).toBeLessThan(4096)
    const inflated = await post(receiver, bomb, PROTO, {'content-encoding': 'gzip'})
    expect(inflated.status).toBe(413)
    expect(decodeStatus(inflated.body).message).toBe('the body decompresses to more than 4096 bytes, more than the 4096-byte limit: send smaller batches')

    // The receiver goes on taking bodies within the limit.
    expect((await post(receiver, traceProto(['a']))).status).toBe(200)
    expect(receiver.stats().failed).toBe(3)
  })
})

describe('backpressure', () => {
  it('answers 503 with Retry-After while the queue is full, and accepts again once a message is consumed', async () => {
    const receiver = await start({maxQueuedMessages: 2, retryAfterSeconds: 3})
    const agent = new Agent({keepAlive: true, maxSockets: 1})
    try {
      const keepAlive = (names: string[]): Promise<Reply> => send(receiver, {body: traceProto(names), headers: {'content-type': PROTO}, agent})
      expect((await keepAlive(['one'])).status).toBe(200)
      expect((await keepAlive(['two'])).status).toBe(200)
      const full = await keepAlive(['three'])
      expect(full.status).toBe(503)
      expect(full.headers['retry-after']).toBe('3')
      expect(decodeStatus(full.body)).toEqual({code: 14, message: 'the receiver\'s queue is full: retry after the delay in Retry-After', details: []})
      expect(receiver.stats()).toMatchObject({throttled: 1, queued: 2})

      const iterator = receiver.messages()[Symbol.asyncIterator]()
      expect(names((await iterator.next()).value as ReceivedMessage)).toEqual(['one'])
      // The connection is still usable after a 503: the unread body was discarded, not left in the stream.
      expect((await keepAlive(['three'])).status).toBe(200)
      expect(names((await iterator.next()).value as ReceivedMessage)).toEqual(['two'])
      expect(names((await iterator.next()).value as ReceivedMessage)).toEqual(['three'])
    } finally {
      agent.destroy()
    }
  })

  it('gives the place back when a sender goes away in the middle of its body', async () => {
    const receiver = await start({maxQueuedMessages: 1})
    await new Promise<void>((resolve) => {
      const req = httpRequest(new URL('/v1/traces', receiver.url), {method: 'POST', agent: false, headers: {'content-type': PROTO, 'content-length': 1000}})
      req.on('error', () => resolve())
      req.write(Buffer.alloc(10), () => setTimeout(() => req.destroy(), 20))
    })
    // The place is free again once the server has seen the connection close.
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await post(receiver, traceProto(['after']))).status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 10))
    }

    expect(status).toBe(200)
    expect(names((await take(receiver, 1))[0]!)).toEqual(['after'])
  })

  it('also caps the queued bytes: a request is taken only if its body fits, or if it is alone', async () => {
    const big = traceProto(['x'.repeat(5000)])
    const receiver = await start({maxQueuedBytes: 2 * big.length + 1})
    expect((await post(receiver, big)).status).toBe(200)
    expect((await post(receiver, big)).status).toBe(200)
    // A third would take the queue past the cap: refused until the consumer catches up.
    const full = await post(receiver, big)
    expect(full.status).toBe(503)
    expect(full.headers['retry-after']).toBe('1')
    expect(receiver.stats()).toMatchObject({queued: 2, queuedBytes: 2 * big.length, throttled: 1})
    await take(receiver, 2)
    expect((await post(receiver, big)).status).toBe(200)

    // A body larger than the whole cap is still taken when nothing else is held.
    const small = await start({maxQueuedBytes: 100})
    expect((await post(small, big)).status).toBe(200)
    expect((await post(small, traceProto(['a']))).status).toBe(503)
    await take(small, 1)
    expect((await post(small, traceProto(['a']))).status).toBe(200)
  })

  it('counts a chunked body as it arrives, and answers 503 in the middle of one that goes past the cap', async () => {
    const queued = traceProto(['queued'])
    const big = traceProto(['x'.repeat(3000)])
    const receiver = await start({maxQueuedBytes: queued.length + 2000})
    expect((await post(receiver, queued)).status).toBe(200)
    const pieces = Array.from({length: Math.ceil(big.length / 500)}, (_, i) => big.subarray(i * 500, (i + 1) * 500))
    const refused = await send(receiver, {body: pieces, headers: {'content-type': PROTO}})
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    // The rest of the body is not read: the connection ends with the answer.
    expect(refused.headers.connection).toBe('close')
    expect(decodeStatus(refused.body).code).toBe(14)
    expect(receiver.stats()).toMatchObject({queued: 1, queuedBytes: queued.length, throttled: 1})

    // Its bytes were given back: once the queue is drained, the same body is taken.
    expect(names((await take(receiver, 1))[0]!)).toEqual(['queued'])
    expect((await send(receiver, {body: pieces, headers: {'content-type': PROTO}})).status).toBe(200)
    expect(receiver.stats().queuedBytes).toBe(big.length)
  })

  it('counts a gzip body by its inflated size', async () => {
    const queued = traceProto(['queued'])
    const big = traceProto(['x'.repeat(20_000)])
    const compressed = gzipSync(big)
    expect(compressed.length).toBeLessThan(1000)
    const receiver = await start({maxQueuedBytes: queued.length + 5000})
    expect((await post(receiver, queued)).status).toBe(200)
    const refused = await post(receiver, compressed, PROTO, {'content-encoding': 'gzip'})
    expect(refused.status).toBe(503)
    expect(receiver.stats()).toMatchObject({queued: 1, queuedBytes: queued.length, throttled: 1})

    await take(receiver, 1)
    expect((await post(receiver, compressed, PROTO, {'content-encoding': 'gzip'})).status).toBe(200)
    expect(receiver.stats().queuedBytes).toBe(big.length)
  })

  it('never holds more than the cap for a slow consumer, and every span sent arrives once', async () => {
    const cap = 3
    const receiver = await start({maxQueuedMessages: cap})
    const senders = 6
    const perSender = 15
    let throttled = 0
    const sendAll = async (sender: number): Promise<void> => {
      for (let i = 0; i < perSender; i++) {
        const body = traceProto([`s${sender}-${i}`])
        for (;;) {
          const reply = await post(receiver, body)
          if (reply.status === 200) break
          expect(reply.status).toBe(503)
          expect(reply.headers['retry-after']).toBe('1')
          throttled++
          await new Promise((resolve) => setTimeout(resolve, 3))
        }
      }
    }

    let peakQueued = 0
    const seen: string[] = []
    const consume = (async () => {
      for await (const message of receiver.messages()) {
        peakQueued = Math.max(peakQueued, receiver.stats().queued + 1)
        seen.push(...names(message))
        await new Promise((resolve) => setTimeout(resolve, 4))
        if (seen.length === senders * perSender) break
      }
    })()
    const sampler = setInterval(() => (peakQueued = Math.max(peakQueued, receiver.stats().queued)), 1)
    try {
      await Promise.all(Array.from({length: senders}, (_, sender) => sendAll(sender)))
      await consume
    } finally {
      clearInterval(sampler)
    }

    expect(peakQueued).toBeLessThanOrEqual(cap)
    expect(throttled).toBeGreaterThan(0)
    expect(receiver.stats().throttled).toBe(throttled)
    expect(seen.sort()).toEqual(Array.from({length: senders}, (_, s) => Array.from({length: perSender}, (__, i) => `s${s}-${i}`)).flat().sort())
  })
})

describe('listening', () => {
  it('refuses a non-loopback address unless allowed', async () => {
    const error = await startOtlpReceiver({host: '0.0.0.0'}).then(() => undefined, (error: unknown) => error)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).code).toBe('RECEIVER_NOT_LOOPBACK')
    expect((error as UsageError).exitCode).toBe(ExitCode.Usage)
    expect((error as UsageError).message).toBe('refusing to listen on 0.0.0.0: it is not a loopback address, so anyone who can reach this machine could send telemetry to it')

    const open = await start({host: '0.0.0.0', allowNonLoopback: true})
    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/)
    const port = new URL(open.url).port
    const reply = await send({...open, url: `http://127.0.0.1:${port}`}, {body: traceProto(['a']), headers: {'content-type': PROTO}})
    expect(reply.status).toBe(200)
  })

  it('knows loopback addresses and names', async () => {
    expect(await isLoopbackHost('127.0.0.1')).toBe(true)
    expect(await isLoopbackHost('127.8.9.10')).toBe(true)
    expect(await isLoopbackHost('::1')).toBe(true)
    expect(await isLoopbackHost('[::1]')).toBe(true)
    expect(await isLoopbackHost('::ffff:127.0.0.1')).toBe(true)
    expect(await isLoopbackHost('localhost')).toBe(true)
    expect(await isLoopbackHost('0.0.0.0')).toBe(false)
    expect(await isLoopbackHost('::')).toBe(false)
    expect(await isLoopbackHost('10.1.2.3')).toBe(false)
    // IPv6 however it is written: the address counts, not its spelling.
    expect(await isLoopbackHost('::0:1')).toBe(true)
    expect(await isLoopbackHost('0:0:0:0:0:0:0:1')).toBe(true)
    expect(await isLoopbackHost('::FFFF:7f00:1')).toBe(true)
    expect(await isLoopbackHost('::ffff:7e00:1')).toBe(false)
    expect(await isLoopbackHost('::ffff:10.0.0.1')).toBe(false)
    expect(await isLoopbackHost('::2')).toBe(false)
    expect(await isLoopbackHost('fe80::1%lo')).toBe(false)
  })

  it('listens on [::1] written as in a URL', async () => {
    const receiver = await start({host: '[::1]'})
    expect(receiver.url).toMatch(/^http:\/\/\[::1\]:\d+$/)
    expect((await post(receiver, traceProto(['v6']))).status).toBe(200)
  })

  it('says when the port is taken', async () => {
    const first = await start()
    const port = Number(new URL(first.url).port)
    const error = await startOtlpReceiver({port}).then(() => undefined, (error: unknown) => error)
    expect((error as UsageError).code).toBe('RECEIVER_LISTEN_FAILED')
    expect((error as UsageError).message).toBe(`cannot listen on 127.0.0.1:${port}: the port is in use`)
  })

  it('close() stops listening and ends the messages once the queue is drained', async () => {
    const receiver = await startOtlpReceiver()
    const agent = new Agent({keepAlive: true})
    try {
      for (const name of ['a', 'b']) expect((await send(receiver, {body: traceProto([name]), headers: {'content-type': PROTO}, agent})).status).toBe(200)
      // An idle keep-alive connection does not hold close() up.
      await receiver.close()
      await expect(post(receiver, traceProto(['c']))).rejects.toMatchObject({code: 'ECONNREFUSED'})
      const drained: string[] = []
      for await (const message of receiver.messages()) drained.push(...names(message))
      expect(drained).toEqual(['a', 'b'])
      await receiver.close()
    } finally {
      agent.destroy()
    }
  })
})
