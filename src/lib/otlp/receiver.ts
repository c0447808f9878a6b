/**
 * An OTLP/HTTP receiver (opentelemetry-proto docs/specification.md, "OTLP/HTTP") on node:http:
 * `POST /v1/traces`, `/v1/logs` and `/v1/metrics`, binary protobuf or OTLP/JSON answered in the
 * same encoding, gzip request bodies, and the spec's status codes:
 *
 * - 200 with an empty Export*ServiceResponse, or with `partial_success` when records were rejected;
 * - 400 for a body that does not decode (a google.rpc.Status with a BadRequest detail), 404 for
 *   another path, 405 (with `Allow: POST`) for another method, 413 past `maxBodyBytes` before or
 *   after decompression, 415 for another Content-Type or Content-Encoding;
 * - 503 with `Retry-After` while the queue of accepted, not yet consumed messages is full, in
 *   messages or in bytes: the sender backs off and retries, and memory stays bounded however slow
 *   the consumer is. Bytes are counted as they arrive (a chunked body) and once inflated (gzip).
 *
 * Rejected records: spans whose trace id is not 16 bytes or is all zeros, whose span id is not
 * 8 bytes or is all zeros, or whose parent span id is neither empty nor 8 bytes (trace.proto calls
 * such ids invalid, and a span without valid ids cannot be placed in any trace). Log records with
 * invalid ids are kept: logs.proto says to read them as not tied to a trace. Metrics are not
 * screened.
 *
 * It listens on 127.0.0.1 unless told otherwise, and refuses an address that is not loopback
 * unless `allowNonLoopback` is set: anyone who can reach the port can send it data.
 */
import {lookup} from 'node:dns/promises'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {isIP} from 'node:net'
import {gunzip} from 'node:zlib'

import {UsageError} from '../errors.js'
import {OtlpDecodeError} from './errors.js'
import {countRecords, decode, encodeExportResponse, encodeLogs, encodeMetrics, encodeTraces} from './index.js'
import type {LogRecordOtlp, MetricRecord, Signal, SpanRecord} from './types.js'

export interface ReceiverOptions {
  /** Default 127.0.0.1. Any address that is not loopback needs allowNonLoopback. */
  host?: string
  /** Default 0: any free port (see `url`). */
  port?: number
  /** Largest request body, before and after gzip decompression; default 64 MiB (the spec's recommendation). */
  maxBodyBytes?: number
  /** Accepted messages waiting for the consumer, requests being read included; past it 503. Default 64. */
  maxQueuedMessages?: number
  /**
   * Protobuf bytes waiting for the consumer, bodies being read or inflated included: a request
   * that would go past it gets 503 (a request alone is always taken). Default 128 MiB.
   */
  maxQueuedBytes?: number
  allowNonLoopback?: boolean
  /** Seconds a 503 asks the sender to wait (Retry-After); default 1. */
  retryAfterSeconds?: number
}

export interface ReceivedMessage {
  signal: Signal
  /** The accepted records (rejected ones are left out). */
  records: SpanRecord[] | LogRecordOtlp[] | MetricRecord[]
  /** The accepted records as an Export*ServiceRequest in protobuf: the request itself when it came so and nothing was rejected. */
  protobuf: Uint8Array
  /** When the request was accepted, ms since the epoch. */
  receivedAt: number
}

/** Counts as partial_success counts: spans, log records, metric data points. */
export interface SignalStats {
  /** Requests answered 200. */
  requests: number
  /** Records in those requests. */
  received: number
  accepted: number
  rejected: number
}

export interface ReceiverStats {
  traces: SignalStats
  logs: SignalStats
  metrics: SignalStats
  /** Request body bytes as they came over the wire (compressed when gzip). */
  bytesReceived: number
  /** The same bodies after decompression. */
  bytesDecoded: number
  /** 503 answers sent because the queue was full (or the receiver closing). */
  throttled: number
  /** Requests answered with another 4xx or 5xx. */
  failed: number
  /** Messages waiting for the consumer now. */
  queued: number
  /** Their protobuf bytes. */
  queuedBytes: number
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: senders post to `<url>/v1/traces` etc. */
  url: string
  /** The accepted messages in the order their requests completed; ends after close() once the queue is drained. */
  messages(): AsyncIterable<ReceivedMessage>
  stats(): ReceiverStats
  /** Stops listening (requests under way are finished, idle keep-alive connections closed). */
  close(): Promise<void>
}

const MiB = 1 << 20
const DEFAULT_MAX_BODY_BYTES = 64 * MiB
const DEFAULT_MAX_QUEUED_MESSAGES = 64
const DEFAULT_MAX_QUEUED_BYTES = 128 * MiB
/** How long close() lets requests under way finish before their connections are cut. */
const CLOSE_GRACE_MS = 5000
/** google.rpc.Status messages are for developers: a sentence, not a dump. */
const MAX_STATUS_MESSAGE = 1024

const PATHS: ReadonlyMap<string, Signal> = new Map([
  ['/v1/traces', 'traces'],
  ['/v1/logs', 'logs'],
  ['/v1/metrics', 'metrics'],
])

type Format = 'proto' | 'json'

const CONTENT_TYPES: Record<Format, string> = {proto: 'application/x-protobuf', json: 'application/json'}

/** google.rpc.Code values for the Status bodies (the spec does not use them; clients may log them). */
const RpcCode = {INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14} as const

/** Full success: an Export*ServiceResponse with nothing set. */
const EMPTY_RESPONSE: Record<Format, Buffer> = {proto: Buffer.alloc(0), json: Buffer.from('{}')}

/**
 * Starts listening; resolves once the port is bound. Throws UsageError RECEIVER_NOT_LOOPBACK for
 * a non-loopback host without allowNonLoopback, RECEIVER_LISTEN_FAILED when the port cannot be had.
 */
export async function startOtlpReceiver(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const host = withoutBrackets(options.host ?? '127.0.0.1')
  if (!options.allowNonLoopback && !(await isLoopbackHost(host))) {
    throw new UsageError('RECEIVER_NOT_LOOPBACK', `refusing to listen on ${host}: it is not a loopback address, so anyone who can reach this machine could send telemetry to it`, {
      remedy: 'Listen on 127.0.0.1 (the default), or allow a non-loopback address explicitly if the network is trusted.',
    })
  }

  const receiver = new Receiver({
    maxBodyBytes: positive(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes'),
    maxQueuedMessages: positive(options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES, 'maxQueuedMessages'),
    maxQueuedBytes: positive(options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, 'maxQueuedBytes'),
    retryAfter: String(positive(options.retryAfterSeconds ?? 1, 'retryAfterSeconds')),
  })
  await receiver.listen(host, options.port ?? 0)
  return receiver
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback; a name is loopback when every address it resolves to is. */
export async function isLoopbackHost(host: string): Promise<boolean> {
  const bare = withoutBrackets(host)
  if (isIP(bare) !== 0) return isLoopbackAddress(bare)
  let addresses: {address: string}[]
  try {
    addresses = await lookup(bare, {all: true})
  } catch (error) {
    throw new UsageError('RECEIVER_BAD_HOST', `cannot listen on ${host}: the name does not resolve (${(error as Error).message})`, {remedy: 'Give an IP address, e.g. 127.0.0.1.', cause: error})
  }

  return addresses.length > 0 && addresses.every(({address}) => isLoopbackAddress(address))
}

/** `[::1]` as URLs write it, or an address as it is. */
function withoutBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.')
  // IPv6 in its canonical form, as the URL parser writes it: ::1, or ::ffff:7f00:1 for 127.0.0.1.
  let canonical: string
  try {
    canonical = new URL(`http://[${address}]`).hostname.slice(1, -1)
  } catch {
    return false // a scoped address (fe80::1%eth0) is never loopback
  }

  if (canonical === '::1') return true
  if (!canonical.startsWith('::ffff:')) return false
  const high = Number.parseInt(canonical.slice(7).split(':')[0]!, 16)
  return high >>> 8 === 127
}

interface Limits {
  maxBodyBytes: number
  maxQueuedMessages: number
  maxQueuedBytes: number
  retryAfter: string
}

/** One request whose body is being read: kept on the request object, so the stream callbacks are shared functions. */
interface BodyState {
  receiver: Receiver
  res: ServerResponse
  signal: Signal
  format: Format
  gzip: boolean
  /** Content-Length, or -1 for a chunked body. */
  expected: number
  /** The whole body when Content-Length is known (allocated once), or undefined until the first chunk. */
  body: Buffer | undefined
  chunks: Buffer[] | undefined
  length: number
  /** Bytes counted against maxQueuedBytes for this request. */
  reserved: number
  settled: boolean
}

const BODY = Symbol('otlp body')
type ReceivingRequest = IncomingMessage & {[BODY]?: BodyState}

const emptyStats = (): SignalStats => ({requests: 0, received: 0, accepted: 0, rejected: 0})

class Receiver implements OtlpReceiver {
  url = ''
  readonly #limits: Limits
  readonly #server: Server
  readonly #queue: ReceivedMessage[] = []
  #queuedBytes = 0
  /** Requests admitted and not yet settled: they hold a queue place. */
  #inFlight = 0
  #inFlightBytes = 0
  #waiters: (() => void)[] = []
  #closing = false
  #closed: Promise<void> | undefined
  #listening = false
  readonly #stats = {traces: emptyStats(), logs: emptyStats(), metrics: emptyStats(), bytesReceived: 0, bytesDecoded: 0, throttled: 0, failed: 0}

  constructor(limits: Limits) {
    this.#limits = limits
    this.#server = createServer({requestTimeout: 120_000}, (req, res) => this.#handle(req, res))
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : error.code === 'EADDRNOTAVAIL' ? 'no interface of this machine has that address' : error.message
        reject(new UsageError('RECEIVER_LISTEN_FAILED', `cannot listen on ${formatHost(host)}:${port}: ${why}`, {remedy: 'Choose another port (0 picks a free one), or another address.', cause: error}))
      }

      this.#server.once('error', failed)
      this.#server.listen({host, port}, () => {
        this.#server.off('error', failed)
        this.#listening = true
        const address = this.#server.address() as AddressInfo
        this.url = `http://${formatHost(address.address)}:${address.port}`
        resolve()
      })
    })
  }

  async *messages(): AsyncGenerator<ReceivedMessage> {
    for (;;) {
      const message = this.#queue.shift()
      if (message !== undefined) {
        this.#queuedBytes -= message.protobuf.byteLength
        yield message
        continue
      }

      if (this.#drained()) return
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
    }
  }

  stats(): ReceiverStats {
    const s = this.#stats
    return {traces: {...s.traces}, logs: {...s.logs}, metrics: {...s.metrics}, bytesReceived: s.bytesReceived, bytesDecoded: s.bytesDecoded, throttled: s.throttled, failed: s.failed, queued: this.#queue.length, queuedBytes: this.#queuedBytes}
  }

  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#closing = true
    if (!this.#listening) {
      this.#closed = Promise.resolve()
      this.#wake()
      return this.#closed
    }

    this.#closed = new Promise<void>((resolve) => {
      const grace = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS)
      grace.unref()
      this.#server.close(() => {
        clearTimeout(grace)
        this.#listening = false
        resolve()
        this.#wake()
      })
      this.#server.closeIdleConnections()
    })
    return this.#closed
  }

  /** Closed, nothing under way, nothing queued: the iterable can end. */
  #drained(): boolean {
    return this.#closing && !this.#listening && this.#inFlight === 0 && this.#queue.length === 0
  }

  #wake(): void {
    const waiters = this.#waiters
    if (waiters.length === 0) return
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const signal = PATHS.get(query === -1 ? url : url.slice(0, query))
    const format = formatOf(req.headers['content-type'])
    // Errors are answered in the request's encoding when it has one the spec knows.
    const answerIn: Format = format ?? 'proto'
    if (signal === undefined) return this.#fail(res, answerIn, 404, RpcCode.NOT_FOUND, `no OTLP endpoint at ${sanitizePath(url)}: POST to /v1/traces, /v1/logs or /v1/metrics`)
    if (req.method !== 'POST') return this.#fail(res, answerIn, 405, RpcCode.UNIMPLEMENTED, `${req.method} is not allowed on /v1/${signal}: OTLP/HTTP takes POST`, {allow: 'POST'})
    if (format === undefined) {
      return this.#fail(res, 'proto', 415, RpcCode.INVALID_ARGUMENT, `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported: send application/x-protobuf or application/json`)
    }

    const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase()
    if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip') {
      return this.#fail(res, format, 415, RpcCode.INVALID_ARGUMENT, `Content-Encoding ${JSON.stringify(encoding)} is not supported: send gzip or no compression`)
    }

    const declared = req.headers['content-length']
    const expected = declared === undefined ? -1 : Number(declared)
    const limits = this.#limits
    if (expected > limits.maxBodyBytes) return this.#tooLarge(res, format, `the ${encoding === 'gzip' ? 'compressed ' : ''}body is ${expected} bytes`)
    const reserved = Math.max(expected, 0)
    if (this.#closing || this.#queue.length + this.#inFlight >= limits.maxQueuedMessages || this.#pastByteCap(reserved, 0)) {
      return this.#throttle(res, format)
    }

    this.#inFlight++
    this.#inFlightBytes += reserved
    const state: BodyState = {receiver: this, res, signal, format, gzip: encoding === 'gzip', expected, body: undefined, chunks: undefined, length: 0, reserved, settled: false}
    const request = req as ReceivingRequest
    request[BODY] = state
    request.on('data', onBodyData)
    request.on('end', onBodyEnd)
    request.on('close', onRequestClose)
  }

  /** A body chunk arrived: copied into the one body buffer, or kept for a chunked body. */
  bodyData(state: BodyState, chunk: Buffer, req: ReceivingRequest): void {
    if (state.settled) return
    const length = state.length + chunk.length
    if (length > this.#limits.maxBodyBytes) {
      this.#settle(state, req)
      this.#tooLarge(state.res, state.format, `the ${state.gzip ? 'compressed ' : ''}body is more than ${this.#limits.maxBodyBytes} bytes`)
      return
    }

    if (state.expected >= 0) {
      // The usual case: one allocation for the whole body, or none when it comes in one chunk.
      if (state.body === undefined) state.body = chunk.length === state.expected ? chunk : Buffer.allocUnsafe(state.expected)
      if (state.body !== chunk) chunk.copy(state.body, state.length)
    } else {
      ;(state.chunks ??= []).push(chunk)
      this.#inFlightBytes += chunk.length
      state.reserved += chunk.length
      if (this.#pastByteCap(0, 1)) {
        this.#settle(state, req)
        this.#throttle(state.res, state.format, true)
        return
      }
    }

    state.length = length
  }

  bodyEnd(state: BodyState): void {
    if (state.settled) return
    const body = state.body !== undefined ? state.body.subarray(0, state.length) : state.chunks === undefined ? EMPTY_RESPONSE.proto : Buffer.concat(state.chunks, state.length)
    state.chunks = undefined
    state.body = undefined
    this.#stats.bytesReceived += body.length
    if (state.gzip) {
      gunzip(body, {maxOutputLength: this.#limits.maxBodyBytes}, (error, inflated) => {
        if (error === null) return this.#acceptInflated(state, inflated)
        this.#release(state)
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') this.#tooLarge(state.res, state.format, `the body decompresses to more than ${this.#limits.maxBodyBytes} bytes`)
        else this.#fail(state.res, state.format, 400, RpcCode.INVALID_ARGUMENT, `the gzip body does not decompress: ${error.message}`, undefined, true)
      })
      return
    }

    this.#accept(state, body)
  }

  /** The client went away before the body ended: its place in the queue is given back. */
  requestClosed(state: BodyState, req: ReceivingRequest): void {
    if (!state.settled && !req.complete) this.#release(state)
  }

  /** The request holds its inflated size now instead of its compressed one, and is refused if that does not fit. */
  #acceptInflated(state: BodyState, inflated: Buffer): void {
    this.#inFlightBytes += inflated.length - state.reserved
    state.reserved = inflated.length
    if (this.#pastByteCap(0, 1)) {
      this.#release(state)
      return this.#throttle(state.res, state.format)
    }

    this.#accept(state, inflated)
  }

  /**
   * Whether `adding` more bytes would take the queue past maxQueuedBytes while anything but this
   * request (holding `own` places) is there: a request alone is always taken, or one larger than
   * the cap could never be.
   */
  #pastByteCap(adding: number, own: number): boolean {
    return this.#queuedBytes + this.#inFlightBytes + adding > this.#limits.maxQueuedBytes && this.#queue.length + this.#inFlight > own
  }

  /** Decodes, screens, queues and answers. */
  #accept(state: BodyState, bytes: Buffer): void {
    const {signal, format, res} = state
    this.#stats.bytesDecoded += bytes.length
    let records: SpanRecord[] | LogRecordOtlp[] | MetricRecord[]
    try {
      records = bytes.length === 0 ? [] : decode(signal, format, bytes, {maxBytes: this.#limits.maxBodyBytes})
    } catch (error) {
      this.#release(state)
      if (error instanceof OtlpDecodeError) {
        if (error.code === 'OTLP_TOO_LARGE') return this.#tooLarge(res, format, error.message)
        return this.#fail(res, format, 400, RpcCode.INVALID_ARGUMENT, `the ${signal} request does not decode: ${error.message}`, undefined, true)
      }

      return this.#fail(res, format, 500, RpcCode.INTERNAL, `the ${signal} request could not be processed: ${(error as Error).message}`)
    }

    const screened = signal === 'traces' ? screenSpans(records as SpanRecord[]) : {accepted: records, rejected: 0, reason: ''}
    const accepted = screened.accepted
    try {
      if (accepted.length > 0) {
        const protobuf = format === 'proto' && screened.rejected === 0 ? bytes : encodeRequest(signal, accepted)
        this.#queue.push({signal, records: accepted, protobuf, receivedAt: Date.now()})
        this.#queuedBytes += protobuf.byteLength
      }
    } catch (error) {
      this.#release(state)
      return this.#fail(res, format, 500, RpcCode.INTERNAL, `the ${signal} request could not be processed: ${(error as Error).message}`)
    }

    this.#release(state)
    const stats = this.#stats[signal]
    const acceptedCount = countRecords(signal, accepted)
    stats.requests++
    stats.received += acceptedCount + screened.rejected
    stats.accepted += acceptedCount
    stats.rejected += screened.rejected
    const body = screened.rejected === 0 ? EMPTY_RESPONSE[format] : encodeExportResponse(signal, {rejected: screened.rejected, errorMessage: screened.reason}, format)
    this.#send(res, 200, format, body)
    this.#wake()
  }

  #settle(state: BodyState, req: ReceivingRequest): void {
    this.#release(state)
    req.removeListener('data', onBodyData)
  }

  #release(state: BodyState): void {
    if (state.settled) return
    state.settled = true
    this.#inFlight--
    this.#inFlightBytes -= state.reserved
    if (this.#closing) this.#wake()
  }

  /** 503; `midBody` when the rest of the body will not be read, so the connection ends with the answer. */
  #throttle(res: ServerResponse, format: Format, midBody = false): void {
    this.#stats.throttled++
    const message = this.#closing ? 'the receiver is shutting down' : 'the receiver\'s queue is full: retry after the delay in Retry-After'
    const headers: Record<string, string> = {'retry-after': this.#limits.retryAfter}
    if (midBody) headers.connection = 'close'
    this.#send(res, 503, format, statusBody(format, RpcCode.UNAVAILABLE, message, false), headers)
  }

  #tooLarge(res: ServerResponse, format: Format, what: string): void {
    // The rest of an oversized body is not worth reading: the connection ends with the answer.
    this.#fail(res, format, 413, RpcCode.RESOURCE_EXHAUSTED, `${what}, more than the ${this.#limits.maxBodyBytes}-byte limit: send smaller batches`, {connection: 'close'})
  }

  #fail(res: ServerResponse, format: Format, status: number, code: number, message: string, headers?: Record<string, string>, badRequest = false): void {
    this.#stats.failed++
    this.#send(res, status, format, statusBody(format, code, message, badRequest), headers)
  }

  #send(res: ServerResponse, status: number, format: Format, body: Uint8Array, headers?: Record<string, string>): void {
    if (res.headersSent || res.destroyed) return
    const all: Record<string, string | number> = {'content-type': CONTENT_TYPES[format], 'content-length': body.byteLength, ...headers}
    if (this.#closing) all.connection = 'close'
    res.writeHead(status, all)
    res.end(body)
  }
}

function onBodyData(this: ReceivingRequest, chunk: Buffer): void {
  const state = this[BODY]!
  state.receiver.bodyData(state, chunk, this)
}

function onBodyEnd(this: ReceivingRequest): void {
  const state = this[BODY]!
  state.receiver.bodyEnd(state)
}

function onRequestClose(this: ReceivingRequest): void {
  const state = this[BODY]!
  state.receiver.requestClosed(state, this)
}

/** The encoding a Content-Type names (parameters such as charset allowed), or undefined for any other. */
function formatOf(contentType: string | undefined): Format | undefined {
  if (contentType === undefined) return undefined
  const semicolon = contentType.indexOf(';')
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return type === 'application/x-protobuf' ? 'proto' : type === 'application/json' ? 'json' : undefined
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** A request path as it may be echoed back: short, printable. */
function sanitizePath(url: string): string {
  const path = url.replace(/[^\x20-\x7e]/g, '?')
  return path.length > 100 ? `${path.slice(0, 100)}…` : path
}

function isValidId(hex: string, length: number): boolean {
  if (hex.length !== length) return false
  for (let i = 0; i < length; i++) if (hex.charCodeAt(i) !== 0x30) return true
  return false
}

/** Why a span cannot be accepted, or undefined when it can. */
function invalidSpan(span: SpanRecord): string | undefined {
  if (!isValidId(span.traceId, 32)) return `trace id ${JSON.stringify(span.traceId)} is not 16 bytes, or is all zeros`
  if (!isValidId(span.spanId, 16)) return `span id ${JSON.stringify(span.spanId)} is not 8 bytes, or is all zeros`
  if (span.parentSpanId !== '' && span.parentSpanId.length !== 16) return `parent span id ${JSON.stringify(span.parentSpanId)} is not 8 bytes`
  return undefined
}

function screenSpans(spans: SpanRecord[]): {accepted: SpanRecord[]; rejected: number; reason: string} {
  let firstBad = -1
  for (let i = 0; i < spans.length; i++) {
    if (invalidSpan(spans[i]!) !== undefined) {
      firstBad = i
      break
    }
  }

  if (firstBad === -1) return {accepted: spans, rejected: 0, reason: ''}
  const accepted = spans.slice(0, firstBad)
  let rejected = 0
  let reason = ''
  for (let i = firstBad; i < spans.length; i++) {
    const span = spans[i]!
    const why = invalidSpan(span)
    if (why === undefined) {
      accepted.push(span)
      continue
    }

    rejected++
    if (reason === '') reason = `span ${JSON.stringify(span.name)}: ${why}`
  }

  const count = rejected === 1 ? '1 span was' : `${rejected} spans were`
  return {accepted, rejected, reason: `${count} rejected: a span needs a 16-byte trace id and an 8-byte span id, neither all zeros (first: ${reason})`}
}

function encodeRequest(signal: Signal, records: SpanRecord[] | LogRecordOtlp[] | MetricRecord[]): Uint8Array {
  if (signal === 'traces') return encodeTraces(records as SpanRecord[])
  if (signal === 'logs') return encodeLogs(records as LogRecordOtlp[])
  return encodeMetrics(records as MetricRecord[])
}

// ---------------------------------------------------------------------------------------
// google.rpc.Status, the body of every 4xx and 5xx answer
// ---------------------------------------------------------------------------------------

const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest'

function statusBody(format: Format, code: number, text: string, badRequest: boolean): Uint8Array {
  const message = text.length > MAX_STATUS_MESSAGE ? `${text.slice(0, MAX_STATUS_MESSAGE - 1)}…` : text
  if (format === 'json') {
    const details = badRequest ? [{'@type': BAD_REQUEST_TYPE, fieldViolations: [{field: '', description: message}]}] : undefined
    return Buffer.from(JSON.stringify(details === undefined ? {code, message} : {code, message, details}))
  }

  // Status {code = 1; message = 2; details = 3 (Any {type_url = 1; value = 2})};
  // BadRequest {field_violations = 1 (FieldViolation {field = 1; description = 2})}.
  const parts = [varintField(1, code), bytesField(2, Buffer.from(message))]
  if (badRequest) {
    const violation = bytesField(2, Buffer.from(message))
    const detail = bytesField(1, violation)
    parts.push(bytesField(3, Buffer.concat([bytesField(1, Buffer.from(BAD_REQUEST_TYPE)), bytesField(2, detail)])))
  }

  return Buffer.concat(parts)
}

function varint(value: number): number[] {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }

  bytes.push(value)
  return bytes
}

function varintField(field: number, value: number): Buffer {
  return Buffer.from([...varint(field << 3), ...varint(value)])
}

function bytesField(field: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(value.byteLength)]), value])
}
