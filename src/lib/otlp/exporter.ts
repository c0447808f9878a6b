/**
 * An OTLP/HTTP sender: protobuf Export*ServiceRequest bodies POSTed to `/v1/traces`, `/v1/logs`
 * and `/v1/metrics` of any OTLP endpoint (a Collector, Tempo, Jaeger, …), with the OTLP spec's
 * retry rules — 429, 502, 503 and 504 are retried with exponential backoff and full jitter, or
 * after the `Retry-After` the endpoint asked for; every other 4xx and 5xx is final — a bounded
 * number of attempts and a bounded time per request, and `partial_success` read from the answer.
 */
import {performance} from 'node:perf_hooks'
import {promisify} from 'node:util'
import {gzip as gzipCallback} from 'node:zlib'

import {Agent, type Dispatcher, buildConnector} from 'undici'

import {classifyNetworkError, sanitizeServerText, statusPhrase} from '../api/errors.js'
import {backoffDelay, isRetryableStatus, parseRetryAfter, sleep} from '../api/retry.js'
import {readTlsMaterial} from '../api/tls.js'
import {AuthError, InterruptedError, RemoteError, UsageError} from '../errors.js'
import {decodeExportResponse} from './index.js'
import type {Signal} from './types.js'

const gzip = promisify(gzipCallback)

export const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics']
export const DEFAULT_EXPORT_RETRIES = 5
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000
export const DEFAULT_MAX_RETRY_TIME_MS = 120_000
/** Answers are read only this far: a partial_success message, not a runaway proxy page. */
const MAX_RESPONSE_BODY = 1024 * 1024

export interface OtlpExporterOptions {
  /** The endpoint's base URL (`http://collector:4318`) or the full URL of one signal (`…/v1/traces`). */
  endpoint: string
  /** Compress request bodies; default gzip. */
  compression?: 'gzip' | 'none'
  /** Extra request headers, e.g. an Authorization header for a hosted backend. */
  headers?: Record<string, string>
  /** PEM file of the CA certificates to trust; replaces the default roots. */
  caFile?: string
  clientCert?: string
  clientKey?: string
  /** Skip TLS verification; the caller warns about it. */
  insecure?: boolean
  /** Extra attempts after a retryable failure; default 5. */
  retries?: number
  /** Longest silence of one attempt: waiting for the answer's headers or its body; default 30 s. */
  attemptTimeoutMs?: number
  /** Time one request may take from its first attempt, waits included; default 2 min. */
  maxRetryTimeMs?: number
  userAgent?: string
  /** For tests: the jitter source. */
  random?: () => number
  /** Told before every wait for another attempt. */
  onRetry?: (notice: RetryNotice) => void
}

export interface RetryNotice {
  signal: Signal
  url: string
  /** The attempt about to be made, counting from 1. */
  attempt: number
  delayMs: number
  /** `503 Service Unavailable`, `CONNECTION_REFUSED`, … */
  reason: string
  /** The wait is the one the endpoint asked for with Retry-After. */
  retryAfter: boolean
}

/** What the endpoint said about one request it accepted. */
export interface ExportOutcome {
  status: number
  attempts: number
  /** Records the endpoint refused (partial_success rejected_spans / _log_records / _data_points). */
  rejected: number
  /** partial_success.error_message: why records were rejected, or a warning; '' when none. */
  errorMessage: string
}

export interface ExporterStats {
  /** HTTP requests made, retries included. */
  requests: number
  /** Of those, repeats after a retryable failure. */
  retries: number
  /** Body bytes (after compression) of the requests the endpoint accepted. */
  bytesSent: number
}

/** A request the endpoint refused for good, or that could not be delivered within its attempts (exit 4). */
export class OtlpExportError extends RemoteError {
  readonly status: number | undefined
  readonly attempts: number

  constructor(code: string, message: string, facts: {status?: number; attempts: number}, options: {remedy?: string; cause?: unknown} = {}) {
    super(code, message, options)
    this.status = facts.status
    this.attempts = facts.attempts
  }
}

/** The endpoint refused the credentials: 401 or 403 (exit 5). */
export class OtlpAuthError extends AuthError {
  readonly status: number

  constructor(message: string, status: number) {
    super('OTLP_ENDPOINT_DENIED', message, {remedy: 'Pass the credentials the endpoint expects, e.g. --header "Authorization=Bearer <token>".'})
    this.status = status
  }
}

/**
 * The URL of each signal. A base URL gets `/v1/<signal>` appended to its path (as
 * OTEL_EXPORTER_OTLP_ENDPOINT does); a URL that already ends in `/v1/<signal>` is used for that
 * signal, and the same path with the other signal's name for the others.
 */
export function otlpEndpoints(endpoint: string): Record<Signal, URL> {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new UsageError('INVALID_ENDPOINT', `--endpoint "${endpoint}" is not a URL`, {remedy: 'Give the OTLP/HTTP endpoint, e.g. --endpoint http://collector:4318.'})
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('INVALID_ENDPOINT', `--endpoint "${endpoint}" is not an http(s) URL`, {
      remedy: 'OTLP/HTTP endpoints are http:// or https:// (often port 4318); gRPC (port 4317) is not supported.',
    })
  }

  if (url.username || url.password) {
    throw new UsageError('INVALID_ENDPOINT', 'the --endpoint URL must not contain credentials', {
      remedy: 'Remove user:password@ from the URL and pass them as a header, e.g. --header "Authorization=Basic …".',
    })
  }

  url.hash = ''
  const path = url.pathname.replace(/\/+$/, '')
  const base = /\/v1\/(traces|logs|metrics)$/.test(path) ? path.replace(/\/v1\/(traces|logs|metrics)$/, '') : path
  const urls = {} as Record<Signal, URL>
  for (const signal of SIGNALS) {
    const signalUrl = new URL(url.href)
    signalUrl.pathname = `${base}/v1/${signal}`
    urls[signal] = signalUrl
  }

  return urls
}

type Attempt =
  | {kind: 'response'; status: number; headers: Dispatcher.ResponseData['headers']; body: Uint8Array}
  | {kind: 'network'; error: unknown}

export class OtlpExporter {
  readonly urls: Record<Signal, URL>
  readonly stats: ExporterStats = {requests: 0, retries: 0, bytesSent: 0}
  private readonly compression: 'gzip' | 'none'
  private readonly headers: Record<string, string>
  private readonly retries: number
  private readonly attemptTimeoutMs: number
  private readonly maxRetryTimeMs: number
  private readonly random: () => number
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined
  private readonly clientCertGiven: boolean
  private readonly agent: Agent

  constructor(options: OtlpExporterOptions) {
    this.urls = otlpEndpoints(options.endpoint)
    this.compression = options.compression ?? 'gzip'
    this.retries = checkWhole(options.retries ?? DEFAULT_EXPORT_RETRIES, '--retries')
    this.attemptTimeoutMs = checkPositive(options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS, '--timeout')
    this.maxRetryTimeMs = checkPositive(options.maxRetryTimeMs ?? DEFAULT_MAX_RETRY_TIME_MS, '--max-retry-time')
    this.random = options.random ?? Math.random
    this.onRetry = options.onRetry
    this.headers = {
      ...lowerCaseKeys(options.headers ?? {}),
      'content-type': 'application/x-protobuf',
      'user-agent': options.userAgent ?? `stella node/${process.versions.node}`,
      ...(this.compression === 'gzip' ? {'content-encoding': 'gzip'} : {}),
    }
    const tls = readTlsMaterial({caFile: options.caFile, clientCert: options.clientCert, clientKey: options.clientKey})
    this.clientCertGiven = tls.cert !== undefined
    this.agent = new Agent({connect: buildConnector({...tls, rejectUnauthorized: !options.insecure})})
  }

  /**
   * Sends one Export*ServiceRequest and returns what the endpoint said about it. Throws
   * OtlpExportError (or OtlpAuthError for 401/403) when it was refused or could not be delivered,
   * and InterruptedError when `abort` fires.
   */
  async send(signal: Signal, body: Uint8Array, abort?: AbortSignal): Promise<ExportOutcome> {
    const url = this.urls[signal]
    const payload = this.compression === 'gzip' ? await gzip(body) : body
    const started = performance.now()
    let attempts = 0
    for (;;) {
      if (abort?.aborted) throw new InterruptedError()
      attempts++
      this.stats.requests++
      if (attempts > 1) this.stats.retries++
      const outcome = await this.attempt(url, payload, abort)
      if (abort?.aborted) throw new InterruptedError()

      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        this.stats.bytesSent += payload.byteLength
        return {status: outcome.status, attempts, ...partialSuccessOf(signal, outcome.headers, outcome.body)}
      }

      const failure = this.failureOf(signal, url, outcome, attempts)
      if (!failure.retryable) throw failure.error('')
      if (attempts > this.retries) throw failure.error(` (gave up after ${attempts} attempts)`)
      const delay = failure.retryAfterMs ?? backoffDelay(attempts, this.random)
      const spent = performance.now() - started
      if (spent + delay > this.maxRetryTimeMs) {
        const why = failure.retryAfterMs === undefined ? 'another wait' : `the Retry-After of ${formatWait(delay)}`
        throw failure.error(` (gave up after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: ${why} would pass the ${formatWait(this.maxRetryTimeMs)} --max-retry-time)`)
      }

      this.onRetry?.({signal, url: url.href, attempt: attempts + 1, delayMs: delay, reason: failure.reason, retryAfter: failure.retryAfterMs !== undefined})
      await sleep(delay, abort)
    }
  }

  async close(): Promise<void> {
    await this.agent.close()
  }

  /** One POST; never throws. */
  private async attempt(url: URL, payload: Uint8Array, abort: AbortSignal | undefined): Promise<Attempt> {
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: this.headers,
        body: payload,
        signal: abort,
        headersTimeout: this.attemptTimeoutMs,
        bodyTimeout: this.attemptTimeoutMs,
      })
      const body = await readLimited(response.body, MAX_RESPONSE_BODY)
      return {kind: 'response', status: response.statusCode, headers: response.headers, body}
    } catch (error) {
      return {kind: 'network', error}
    }
  }

  private failureOf(signal: Signal, url: URL, outcome: Attempt, attempts: number) {
    const target = `POST ${url.href}`
    if (outcome.kind === 'network') {
      if (isTimeout(outcome.error)) {
        return {
          retryable: true,
          retryAfterMs: undefined,
          reason: 'TIMEOUT',
          error: (suffix: string) =>
            new OtlpExportError('OTLP_ENDPOINT_TIMEOUT', `${target} did not answer within the ${formatWait(this.attemptTimeoutMs)} --timeout${suffix}`, {attempts}, {
              remedy: 'Check that the endpoint is healthy, or allow longer with --timeout.',
              cause: outcome.error,
            }),
        }
      }

      const network = classifyNetworkError(outcome.error, url.origin, this.clientCertGiven)
      return {
        retryable: network.retryable,
        retryAfterMs: undefined,
        reason: network.code,
        error: (suffix: string) =>
          new OtlpExportError(`OTLP_${network.code}`, `${network.message}${suffix}`, {attempts}, {remedy: endpointRemedy(network.remedy), cause: outcome.error}),
      }
    }

    const {status} = outcome
    const said = responseMessage(outcome.headers, outcome.body)
    const message = (suffix: string) => `${target} answered ${status} ${statusPhrase(status)}${said ? `: ${said}` : ''}${suffix}`
    if (status === 401 || status === 403) {
      return {retryable: false, retryAfterMs: undefined, reason: String(status), error: (suffix: string) => new OtlpAuthError(message(suffix), status)}
    }

    const retryable = isRetryableStatus(status)
    return {
      retryable,
      retryAfterMs: retryable ? parseRetryAfter(header(outcome.headers, 'retry-after')) : undefined,
      reason: `${status} ${statusPhrase(status)}`,
      error: (suffix: string) =>
        new OtlpExportError(retryable ? 'OTLP_EXPORT_FAILED' : 'OTLP_EXPORT_REJECTED', message(suffix), {status, attempts}, {remedy: statusRemedy(status, signal)}),
    }
  }
}

/** The partial_success of a 2xx answer, in the encoding the endpoint answered in; an empty or unreadable body means all accepted. */
function partialSuccessOf(signal: Signal, headers: Dispatcher.ResponseData['headers'], body: Uint8Array): {rejected: number; errorMessage: string} {
  if (body.byteLength === 0) return {rejected: 0, errorMessage: ''}
  const type = mediaType(headers)
  const format = type === 'application/json' || (type === '' && body[0] === 0x7b) ? 'json' : type === 'application/x-protobuf' || type === '' ? 'proto' : undefined
  if (format === undefined) return {rejected: 0, errorMessage: ''}
  try {
    const response = decodeExportResponse(signal, body, format)
    return {rejected: Number(response.rejected), errorMessage: sanitizeServerText(response.errorMessage)}
  } catch {
    // A 2xx is an acceptance; a body we cannot read does not take that back.
    return {rejected: 0, errorMessage: ''}
  }
}

/** What an error answer says: google.rpc.Status.message (protobuf or JSON), or plain text. */
function responseMessage(headers: Dispatcher.ResponseData['headers'], body: Uint8Array): string {
  if (body.byteLength === 0) return ''
  const type = mediaType(headers)
  if (type === 'application/x-protobuf') return sanitizeServerText(statusMessageOf(body) ?? '', 200)
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      const value = JSON.parse(text) as {message?: unknown; detail?: unknown; title?: unknown}
      const said = [value.message, value.detail, value.title].find((field) => typeof field === 'string' && field.trim() !== '')
      return said === undefined ? '' : sanitizeServerText(said as string, 200)
    } catch {
      return ''
    }
  }

  return type.startsWith('text/') && type !== 'text/html' ? sanitizeServerText(text, 200) : ''
}

/** Field 2 (message) of a google.rpc.Status; undefined when the bytes are not one. */
export function statusMessageOf(bytes: Uint8Array): string | undefined {
  let offset = 0
  const varint = (): number => {
    let value = 0
    let shift = 0
    for (;;) {
      if (offset >= bytes.byteLength || shift > 49) throw new RangeError('bad varint')
      const byte = bytes[offset++]!
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
      shift += 7
    }
  }

  try {
    let message: string | undefined
    while (offset < bytes.byteLength) {
      const tag = varint()
      const wire = tag % 8
      const field = Math.floor(tag / 8)
      if (wire === 0) varint()
      else if (wire === 1) offset += 8
      else if (wire === 5) offset += 4
      else if (wire === 2) {
        const length = varint()
        if (offset + length > bytes.byteLength) return undefined
        if (field === 2) message = Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('utf8')
        offset += length
      } else {
        return undefined
      }
    }

    return offset === bytes.byteLength ? message : undefined
  } catch {
    return undefined
  }
}

function statusRemedy(status: number, signal: Signal): string {
  if (status === 400) return `The endpoint refused the ${signal} as malformed; check that it speaks OTLP/HTTP protobuf, and what its logs say about the request.`
  if (status === 404 || status === 405) return `Check the --endpoint URL: an OTLP/HTTP receiver takes POST ${`/v1/${signal}`} (the Collector listens on port 4318).`
  if (status === 413) return 'The request is larger than the endpoint accepts: send fewer records per request with --batch-size.'
  if (status === 415) return 'The endpoint does not take OTLP protobuf on this path; check the --endpoint URL.'
  if (isRetryableStatus(status)) return 'The endpoint stayed busy or unavailable: try again later, slow down with --rate, or allow more with --retries and --max-retry-time.'
  return 'Check the endpoint and its logs; run again when it accepts OTLP.'
}

function endpointRemedy(remedy: string): string {
  return remedy.replace(/the server URL/g, 'the --endpoint URL').replace(/the server/g, 'the endpoint')
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function mediaType(headers: Dispatcher.ResponseData['headers']): string {
  return (header(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase()
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    size += chunk.byteLength
    if (size >= limit) {
      body.on('error', () => {})
      break
    }
  }

  return Buffer.concat(chunks).subarray(0, limit)
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

function isTimeout(error: unknown): boolean {
  return TIMEOUT_CODES.has((error as {code?: string} | undefined)?.code ?? '')
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]))
}

function checkWhole(value: number, flag: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError('INVALID_RETRIES', `${flag} must be a whole number ≥ 0, not ${value}`, {remedy: `e.g. ${flag} 5, or ${flag} 0 to never retry.`})
  return value
}

function checkPositive(value: number, flag: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new UsageError('INVALID_DURATION', `${flag} must be longer than 0, not ${value}ms`, {remedy: `e.g. ${flag} 30s.`})
  return value
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s`
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

/**
 * A token bucket: `ratePerSecond` tokens a second, up to `capacity` (default one second's worth)
 * saved up. Taking more than the capacity at once waits for a full bucket and leaves a debt, so a
 * batch larger than a second's rate still goes out, and the average rate holds.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly capacity: number

  constructor(
    private readonly ratePerSecond: number,
    capacity?: number,
    private readonly now: () => number = () => performance.now(),
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void> = sleep,
  ) {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
      throw new UsageError('INVALID_RATE', `--rate must be more than 0 records a second, not ${ratePerSecond}`, {remedy: 'e.g. --rate 1000.'})
    }

    this.capacity = capacity ?? ratePerSecond
    this.tokens = this.capacity
    this.last = this.now()
  }

  /** Resolves once `count` tokens may be spent. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.refill()
      const needed = Math.min(count, this.capacity)
      if (this.tokens >= needed) {
        this.tokens -= count
        return
      }

      await this.wait(Math.ceil(((needed - this.tokens) / this.ratePerSecond) * 1000), signal)
    }
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond)
    this.last = now
  }
}
