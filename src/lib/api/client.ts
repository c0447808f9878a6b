/**
 * The one client of the StellaOps API (spec/api.md) that every remote command uses: the header
 * contract (token, tenant, traceparent, user agent), problem documents as typed errors, retries of
 * what is safe to repeat, a time budget per call, TLS with a private CA and client certificates,
 * sealed mode, streamed pagination and resumable downloads.
 */
import {performance} from 'node:perf_hooks'
import type {TLSSocket} from 'node:tls'

import {Agent, type Dispatcher, buildConnector} from 'undici'

import {UsageError} from '../errors.js'
import {formatDuration} from '../units.js'
import {type DownloadOptions, type DownloadResult, type DownloadTransport, downloadToFile} from './download.js'
import {
  ApiRequestError,
  type CallFacts,
  type NetworkFailure,
  classifyNetworkError,
  errorFromResponse,
  isJsonMediaType,
  sanitizeServerText,
  statusPhrase,
} from './errors.js'
import {DEFAULT_RETRIES, backoffDelay, isRetryableStatus, parseRetryAfter, sleep} from './retry.js'
import {assertSealedAllows} from './sealed.js'
import {readTlsMaterial} from './tls.js'
import {checkTraceId, newTraceId, traceparent} from './trace.js'

export type {DownloadOptions, DownloadProgress, DownloadResult} from './download.js'

/** Characters of bearer tokens (RFC 6750's b64token, and JWT dots), escaped for a character class. */
const TOKEN_CHARS = 'A-Za-z0-9\\-._~+/='

export interface ApiClientOptions {
  /** Base URL; a path prefix is kept (`https://h/stella/` sends `/stella/obs/health`). */
  server: string
  tenant: string
  token?: string
  /** PEM file of the CA certificates to trust; it replaces the default roots for this client. */
  caFile?: string
  /** PEM client certificate for mutual TLS (with clientKey). */
  clientCert?: string
  clientKey?: string
  /** Skip TLS verification. The caller prints `insecureWarning` loudly. */
  insecure?: boolean
  /** Refuse any server that is not loopback, before any DNS lookup or socket. */
  sealed?: boolean
  /** Extra attempts for failures worth repeating; default 3. */
  retries?: number
  /** Budget of one call including its retries (for downloads: the longest silence); default 30 s. */
  timeoutMs?: number
  /** Default `stella/<version> node/<node version>`. */
  userAgent?: string
  version?: string
  /** Log one line per attempt: method, URL, status, duration, trace id. */
  verbose?: boolean
  /** Where retry notices with the trace id and verbose lines go (the CLI passes a stderr writer). */
  log?: (line: string) => void
  /** One trace per CLI invocation; default a random one. */
  traceId?: string
}

export type Query = Record<string, string | number | boolean | undefined | null>

export interface PostOptions {
  /** Safe to repeat (the endpoint sets a state rather than adding one): retried like a GET. */
  idempotent?: boolean
  /** The success statuses; default any 2xx. */
  expectStatus?: number[]
}

export interface PageOptions {
  /** Items wanted in total (default 100); with `all`, the page size. */
  limit?: number
  /** Follow nextCursor to the last page. */
  all?: boolean
  /** Start at this cursor. */
  cursor?: string
}

/** Items streamed across pages; `hasMore` and `nextCursor` are final once iteration ended. */
export interface PageStream<T> extends AsyncIterable<T> {
  /** True if the server had more items than were read. */
  readonly hasMore: boolean
  /** The cursor to continue from, or null at the end of the list. */
  readonly nextCursor: string | null
}

export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_PAGE_LIMIT = 100
export const MAX_PAGE_SIZE = 1000
/** Error bodies are read only this far: enough for any problem document, not a runaway proxy page. */
const MAX_ERROR_BODY = 64 * 1024

export const INSECURE_WARNING =
  '--insecure: the server certificate is NOT verified. Anyone on the network path can read and change this traffic, the API token included. Use --ca-cert FILE instead.'

/** Marks the abort of an attempt when the call's budget ran out (not a caller's abort). */
const BUDGET_SPENT = Symbol('budget spent')

type Outcome =
  | {kind: 'response'; response: Dispatcher.ResponseData; body: string}
  | {kind: 'network'; error: unknown}
  | {kind: 'timeout'}

export class ApiClient {
  readonly traceId: string
  readonly tenant: string
  readonly retries: number
  readonly timeoutMs: number
  /** The loud warning the caller prints when TLS verification is off; undefined otherwise. */
  readonly insecureWarning: string | undefined
  private readonly base: URL
  private readonly token: string | undefined
  private tokenPattern: RegExp | undefined
  private readonly userAgent: string
  private readonly verbose: boolean
  private readonly log: (line: string) => void
  private readonly clientCertGiven: boolean
  private readonly agent: Agent
  /** TLS alerts seen on sockets, by local address: undici reports them only as "other side closed". */
  private readonly tlsAlerts = new Map<string, Error>()
  private closed = false

  constructor(options: ApiClientOptions) {
    this.base = parseBase(options.server)
    // Before anything that could resolve a name or open a socket.
    if (options.sealed) assertSealedAllows(this.base)
    if (!options.tenant) {
      throw new UsageError('MISSING_TENANT', 'no tenant: pass --tenant ID, set STELLA_TENANT, or `stella config set tenant ID`', {
        remedy: 'Every request names its tenant; ask your administrator for the tenant id.',
      })
    }

    if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
      throw new UsageError('INVALID_TOKEN', 'the API token has characters that cannot be sent in a header (spaces, line breaks or non-ASCII)', {
        remedy: 'Check the token source holds only the token itself.',
      })
    }

    this.tenant = options.tenant
    this.token = options.token || undefined
    this.traceId = options.traceId === undefined ? newTraceId() : checkTraceId(options.traceId)
    this.retries = checkCount(options.retries ?? DEFAULT_RETRIES, 'retries')
    this.timeoutMs = checkBudget(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    this.userAgent = options.userAgent ?? `stella/${options.version ?? 'unknown'} node/${process.versions.node}`
    this.verbose = options.verbose ?? false
    this.log = options.log ?? (() => {})
    this.insecureWarning = options.insecure ? INSECURE_WARNING : undefined

    const tls = readTlsMaterial({caFile: options.caFile, clientCert: options.clientCert, clientKey: options.clientKey})
    this.clientCertGiven = tls.cert !== undefined
    const connector = buildConnector({...tls, rejectUnauthorized: !options.insecure})
    this.agent = new Agent({
      connect: (connectOptions, callback) =>
        connector(connectOptions, (...args) => {
          const socket = args[1]
          if (socket && (socket as TLSSocket).encrypted) this.watchTlsAlerts(socket as TLSSocket)
          callback(...args)
        }),
    })
  }

  /** The server's origin and path prefix, e.g. `https://stella.example.com/stella`. */
  get server(): string {
    return this.base.href.replace(/\/$/, '')
  }

  getJson<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', this.url(path, query), undefined, {idempotent: true})
  }

  postJson<T>(path: string, body: unknown, options: PostOptions = {}): Promise<T> {
    return this.call<T>('POST', this.url(path), JSON.stringify(body), {idempotent: options.idempotent ?? false, expectStatus: options.expectStatus})
  }

  /**
   * Streams items across pages. Without `all`, stops after `limit` items (default 100) and reports
   * through `hasMore` whether the server had more; with `all`, follows nextCursor to the end.
   * Pages are at most 1000 items.
   */
  paginate<T>(path: string, query: Query = {}, options: PageOptions = {}): PageStream<T> {
    const all = options.all ?? false
    const limit = options.limit ?? (all ? MAX_PAGE_SIZE : DEFAULT_PAGE_LIMIT)
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new UsageError('INVALID_LIMIT', `the limit must be a whole number of at least 1, not ${limit}`, {remedy: 'Pass --limit N with N ≥ 1, or --all.'})
    }

    const state = {hasMore: false, nextCursor: options.cursor ?? (null as string | null)}
    const readPage = (cursor: string | undefined, size: number) => this.getJson<unknown>(path, {...query, limit: size, cursor})
    const checkPage = (page: unknown, url: URL) => this.checkPage<T>(page, url)
    const url = (cursor: string | undefined, size: number) => this.url(path, {...query, limit: size, cursor})
    const sameCursor = (at: URL) =>
      new ApiRequestError('BAD_RESPONSE', `the server returned the same cursor again for ${path}; stopped to avoid reading the same page forever`, facts(this, 'GET', at, 1), {
        remedy: 'Report this to the StellaOps operators with the trace id.',
      })
    return {
      get hasMore() {
        return state.hasMore
      },
      get nextCursor() {
        return state.nextCursor
      },
      async *[Symbol.asyncIterator]() {
        let cursor = options.cursor
        let read = 0
        for (;;) {
          const size = all ? Math.min(limit, MAX_PAGE_SIZE) : Math.min(limit - read, MAX_PAGE_SIZE)
          const page = checkPage(await readPage(cursor, size), url(cursor, size))
          state.nextCursor = page.nextCursor
          state.hasMore = page.nextCursor !== null
          for (const [index, item] of page.items.entries()) {
            if (!all && read >= limit) {
              // The server sent more than was asked for: they exist, but were not read.
              state.hasMore = true
              return
            }

            read++
            // If the caller stops here, what is left of this page still counts as "more".
            state.hasMore = page.nextCursor !== null || index < page.items.length - 1
            yield item
          }

          state.hasMore = page.nextCursor !== null
          if (page.nextCursor === null || (!all && read >= limit)) return
          if (page.nextCursor === cursor) {
            throw sameCursor(url(cursor, size))
          }

          cursor = page.nextCursor
        }
      },
    }
  }

  /**
   * GETs a binary resource into `target`: a hidden part file beside it, resumed with Range after a
   * dropped connection when the length is known, started over otherwise, fsynced and renamed.
   * Refuses an existing target unless `overwrite`. On failure or abort nothing is left behind.
   */
  download(path: string, target: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    return downloadToFile(this.downloadTransport(this.url(path, options.query)), target, options)
  }

  /** Closes the connections. Requests after close() fail. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.agent.close()
  }

  // -------------------------------------------------------------------------------------------
  // Downloads

  private downloadTransport(url: URL): DownloadTransport {
    const at = (attempts: number) => facts(this, 'GET', url, attempts)
    return {
      method: 'GET',
      url,
      retries: this.retries,
      timeoutMs: this.timeoutMs,
      open: async (extraHeaders, signal) => {
        const started = performance.now()
        try {
          const response = await this.agent.request({
            origin: url.origin,
            path: url.pathname + url.search,
            method: 'GET',
            headers: this.headers('*/*', extraHeaders),
            signal,
            // A download may take long; what must not take long is a silence.
            headersTimeout: this.timeoutMs,
            bodyTimeout: this.timeoutMs,
          })
          this.verboseLine('GET', url, String(response.statusCode), started, extraHeaders.range)
          return response
        } catch (error) {
          this.verboseLine('GET', url, failureLabel(error, signal?.aborted ?? false), started, extraHeaders.range)
          throw error
        }
      },
      readErrorBody: (body) => readBody(body, MAX_ERROR_BODY),
      responseError: (response, body, attempts, suffix) => this.responseError('GET', url, response, body, attempts, suffix),
      classify: (error) => this.classify(error, url),
      networkError: (failure, attempts, suffix, cause) =>
        new ApiRequestError(failure.code, this.scrub(failure.message + suffix), at(attempts), {remedy: failure.remedy, cause}),
      timeoutError: (attempts) =>
        new ApiRequestError('TIMEOUT', `GET ${url.href} did not answer within the ${formatDuration(this.timeoutMs)} --timeout`, at(attempts), {
          remedy: 'Allow longer with --timeout (e.g. --timeout 2m), or check that the server is healthy.',
        }),
      badResponse: (message, attempts) =>
        new ApiRequestError('BAD_RESPONSE', message, at(attempts), {remedy: 'Check that the server URL points at the StellaOps API; report the trace id if it does.'}),
      dropError: (message, attempts, cause) =>
        new ApiRequestError('DOWNLOAD_INTERRUPTED', message, at(attempts), {
          remedy: 'Run the command again; if it keeps breaking off, a proxy or the network is cutting long transfers.',
          cause,
        }),
      retrying: (delayMs, attempt, why) => this.retryNotice('GET', url, delayMs, attempt, why),
    }
  }

  // -------------------------------------------------------------------------------------------
  // One logical call: attempts, retries, budget

  private async call<T>(method: string, url: URL, payload: string | undefined, options: {idempotent: boolean; expectStatus?: number[] | undefined}): Promise<T> {
    const deadline = Date.now() + this.timeoutMs
    let attempts = 0
    for (;;) {
      attempts++
      const outcome = await this.attempt(method, url, payload, deadline)
      if (outcome.kind === 'timeout') throw this.timeoutError(method, url, attempts)
      if (outcome.kind === 'response' && outcome.response.statusCode >= 200 && outcome.response.statusCode < 300) {
        return this.parseSuccess<T>(method, url, outcome.response, outcome.body, attempts, options.expectStatus)
      }

      const failure = this.failureOf(method, url, outcome, attempts, options.idempotent)
      if (!failure.retryable) throw failure.error('')
      if (attempts > this.retries) throw failure.error(attempts > 1 ? ` (gave up after ${plural(attempts, 'attempt')})` : '')
      const delay = failure.waitMs ?? backoffDelay(attempts)
      if (Date.now() + delay >= deadline) {
        throw failure.error(` (gave up after ${plural(attempts, 'attempt')}: waiting ${formatWait(delay)} more would pass the ${formatDuration(this.timeoutMs)} --timeout budget)`)
      }

      this.retryNotice(method, url, delay, attempts + 1, failure.why, attempts === 1)
      await sleep(delay)
    }
  }

  /** One request with a deadline; never throws. */
  private async attempt(method: string, url: URL, payload: string | undefined, deadline: number): Promise<Outcome> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(BUDGET_SPENT), Math.max(0, deadline - Date.now()))
    const started = performance.now()
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: method as Dispatcher.HttpMethod,
        headers: this.headers('application/json', payload === undefined ? {} : {'content-type': 'application/json'}),
        ...(payload === undefined ? {} : {body: payload}),
        signal: controller.signal,
        // The call's budget governs; undici's own (300 s) timers would cut a longer --timeout short.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      const ok = response.statusCode >= 200 && response.statusCode < 300
      const body = await readBody(response.body, ok ? undefined : MAX_ERROR_BODY)
      this.verboseLine(method, url, String(response.statusCode), started)
      return {kind: 'response', response, body}
    } catch (error) {
      const timedOut = controller.signal.aborted
      this.verboseLine(method, url, timedOut ? 'timeout' : failureLabel(error, false), started)
      return timedOut ? {kind: 'timeout'} : {kind: 'network', error}
    } finally {
      clearTimeout(timer)
    }
  }

  /** A failed attempt: whether to repeat it, how long the server asked to wait, and its error given how the call ended. */
  private failureOf(
    method: string,
    url: URL,
    outcome: Exclude<Outcome, {kind: 'timeout'}>,
    attempts: number,
    idempotent: boolean,
  ): {error: (suffix: string) => Error; retryable: boolean; waitMs: number | undefined; why: string} {
    if (outcome.kind === 'response') {
      const {response, body} = outcome
      const status = response.statusCode
      return {
        error: (suffix) => this.responseError(method, url, response, body, attempts, suffix),
        retryable: idempotent && isRetryableStatus(status),
        waitMs: parseRetryAfter(header(response, 'retry-after')),
        why: `${status} ${statusPhrase(status)}`,
      }
    }

    const network = this.classify(outcome.error, url)
    // A non-idempotent call is never repeated: say so, and whether it may have taken effect.
    const note = idempotent ? '' : notRetriedNote(network)
    return {
      error: (suffix) =>
        new ApiRequestError(network.code, this.scrub(network.message + (note || suffix)), facts(this, method, url, attempts), {
          remedy: !idempotent && network.mayHaveReachedServer ? 'Check whether the change took effect before running the command again.' : network.remedy,
          cause: outcome.error,
        }),
      retryable: idempotent && network.retryable,
      waitMs: undefined,
      why: network.code,
    }
  }

  private parseSuccess<T>(method: string, url: URL, response: Dispatcher.ResponseData, body: string, attempts: number, expectStatus?: number[]): T {
    const status = response.statusCode
    const bad = (message: string, cause?: unknown) =>
      new ApiRequestError('BAD_RESPONSE', this.scrub(message), facts(this, method, url, attempts), {
        remedy: 'Check that the server URL points at the StellaOps API (not a proxy or login page); report the trace id if it does.',
        cause,
      })
    if (expectStatus && !expectStatus.includes(status)) {
      throw bad(`the server answered ${status} ${statusPhrase(status)} to ${method} ${url.href}, expected ${expectStatus.join(' or ')}`)
    }

    if (status === 204 || body === '') return undefined as T
    try {
      return JSON.parse(body) as T
    } catch (error) {
      const type = header(response, 'content-type')
      const what = isJsonMediaType(type) || type === undefined ? (error as Error).message : `it sent ${type.split(';')[0]}`
      throw bad(`the server's answer to ${method} ${url.href} is not valid JSON (${sanitizeServerText(what, 120)})`, error)
    }
  }

  private checkPage<T>(page: unknown, url: URL): {items: T[]; nextCursor: string | null} {
    const value = page as {items?: unknown; nextCursor?: unknown} | null
    const nextCursor = value?.nextCursor ?? null
    if (value === null || typeof value !== 'object' || !Array.isArray(value.items) || (nextCursor !== null && typeof nextCursor !== 'string')) {
      throw new ApiRequestError('BAD_RESPONSE', `the server's answer to GET ${url.href} is not a page ({items, nextCursor})`, facts(this, 'GET', url, 1), {
        remedy: 'Check that the server URL points at the StellaOps API; report the trace id if it does.',
      })
    }

    return {items: value.items as T[], nextCursor: nextCursor === '' ? null : (nextCursor as string | null)}
  }

  private responseError(method: string, url: URL, response: Dispatcher.ResponseData, body: string, attempts: number, suffix: string) {
    const location = header(response, 'location')
    return errorFromResponse(
      {status: response.statusCode, contentType: header(response, 'content-type'), body, ...(location === undefined ? {} : {location})},
      facts(this, method, url, attempts),
      {tenant: this.tenant, sentToken: this.token !== undefined, scrub: (text) => this.scrub(text)},
      suffix,
    )
  }

  private timeoutError(method: string, url: URL, attempts: number): ApiRequestError {
    const tries = attempts > 1 ? ` (${plural(attempts, 'attempt')})` : ''
    return new ApiRequestError('TIMEOUT', `${method} ${url.href} did not finish within the ${formatDuration(this.timeoutMs)} --timeout budget${tries}`, facts(this, method, url, attempts), {
      remedy: 'Allow longer with --timeout (e.g. --timeout 2m), or check that the server is healthy.',
    })
  }

  private classify(error: unknown, url: URL): NetworkFailure {
    return classifyNetworkError(this.withTlsAlert(error), url.origin, this.clientCertGiven)
  }

  // -------------------------------------------------------------------------------------------
  // Headers, URLs, logging

  private headers(accept: string, extra: Record<string, string>): Record<string, string> {
    return {
      ...(this.token === undefined ? {} : {authorization: `Bearer ${this.token}`}),
      'x-stella-tenant': this.tenant,
      traceparent: traceparent(this.traceId),
      'user-agent': this.userAgent,
      accept,
      ...extra,
    }
  }

  private url(path: string, query?: Query): URL {
    const url = new URL(this.base.href)
    url.pathname = this.base.pathname.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`)
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.append(key, String(value))
    }

    return url
  }

  private verboseLine(method: string, url: URL, result: string, started: number, range?: string): void {
    if (!this.verbose) return
    const ms = Math.round(performance.now() - started)
    this.log(this.scrub(`→ ${method} ${url.href}${range ? ` (${range})` : ''} ${result} ${ms}ms trace_id=${this.traceId}`))
  }

  /** A failed attempt about to be repeated. The trace id goes with the first of a call only; the final error carries it too. */
  private retryNotice(method: string, url: URL, delayMs: number, nextAttempt: number, why: string, withTraceId = nextAttempt === 2): void {
    const total = this.retries + 1
    const trace = withTraceId ? ` trace_id=${this.traceId}` : ''
    this.log(this.scrub(`${method} ${url.href} failed (${why}); retrying in ${formatWait(delayMs)}, attempt ${nextAttempt} of ${total}${trace}`))
  }

  /**
   * The token never leaves in text: server text can echo anything back. A real token is long and
   * goes wherever it appears; a short one (a test value) only where it stands as a token, not
   * inside a longer run of token characters, so it does not cut words apart.
   */
  private scrub(text: string): string {
    if (this.token === undefined || this.token === '') return text
    if (this.token.length >= 16) return text.split(this.token).join('[redacted]')
    this.tokenPattern ??= new RegExp(`(?<![${TOKEN_CHARS}])${this.token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![${TOKEN_CHARS}])`, 'g')
    return text.replace(this.tokenPattern, '[redacted]')
  }

  // -------------------------------------------------------------------------------------------
  // TLS alerts

  private watchTlsAlerts(socket: TLSSocket): void {
    const key = `${socket.localAddress}:${socket.localPort}`
    socket.prependListener('error', (error: NodeJS.ErrnoException) => {
      if (!error.code?.startsWith('ERR_SSL_') || this.tlsAlerts.size > 64) return
      this.tlsAlerts.set(key, error)
      // Kept only until the request that met it has been explained.
      setTimeout(() => this.tlsAlerts.delete(key), 10_000).unref()
    })
  }

  /** An undici "other side closed" that was really a TLS alert (e.g. "certificate required") becomes that alert. */
  private withTlsAlert(error: unknown): unknown {
    const info = (error as {socket?: {localAddress?: string; localPort?: number}} | undefined)?.socket
    if (!info?.localPort) return error
    const key = `${info.localAddress}:${info.localPort}`
    const alert = this.tlsAlerts.get(key)
    if (!alert) return error
    this.tlsAlerts.delete(key)
    return alert
  }
}

function facts(client: ApiClient, method: string, url: URL, attempts: number): CallFacts {
  return {method, url: url.href, traceId: client.traceId, attempts}
}

function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Reads a body as UTF-8 text, at most `limit` bytes (the rest is discarded). */
async function readBody(body: Dispatcher.ResponseData['body'], limit?: number): Promise<string> {
  if (limit === undefined) return body.text()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    size += chunk.byteLength
    if (size >= limit) {
      // Leaving the loop destroys the body; the rest is not wanted.
      body.on('error', () => {})
      break
    }
  }

  return Buffer.concat(chunks).subarray(0, limit).toString('utf8')
}

function parseBase(server: string): URL {
  let url: URL
  try {
    url = new URL(server)
  } catch {
    throw new UsageError('INVALID_SERVER_URL', `"${server}" is not a URL`, {remedy: 'Give the full server URL, e.g. https://stella.example.com.'})
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('INVALID_SERVER_URL', `"${server}" is not an http(s) URL`, {remedy: 'Give the full server URL, e.g. https://stella.example.com.'})
  }

  if (url.username || url.password) {
    throw new UsageError('INVALID_SERVER_URL', 'the server URL must not contain credentials', {
      remedy: 'Remove user:password@ from the URL and supply a token with --token, STELLA_TOKEN or `stella config set token-env`.',
    })
  }

  url.search = ''
  url.hash = ''
  url.pathname = url.pathname.replace(/\/+$/, '') || '/'
  return url
}

function checkCount(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UsageError('INVALID_RETRIES', `--${name} must be a whole number ≥ 0, not ${value}`, {remedy: `e.g. --${name} 3, or --${name} 0 to never retry.`})
  }

  return value
}

function checkBudget(value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError('INVALID_TIMEOUT', `--timeout must be longer than 0, not ${value}ms`, {remedy: 'e.g. --timeout 30s or --timeout 2m.'})
  }

  return value
}

/** What to say when a non-idempotent call failed on the network and was deliberately not repeated. */
function notRetriedNote(failure: NetworkFailure): string {
  return failure.mayHaveReachedServer
    ? '; it was not retried, because repeating it might apply the change twice'
    : '; it was not retried (the server was not reached, so nothing changed)'
}

function failureLabel(error: unknown, aborted: boolean): string {
  if (aborted) return 'aborted'
  const code = (error as {code?: unknown} | undefined)?.code
  return typeof code === 'string' ? code : 'failed'
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s`
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}
