/**
 * What can go wrong talking to the server, as StellaErrors that name the problem, say what to do,
 * and carry the trace id so an operator can find the request in the server's logs.
 */
import {STATUS_CODES} from 'node:http'

import {AuthError, RemoteError} from '../errors.js'
import type {ProblemDocument} from './types.js'

/** Facts about one logical call that every error from it carries. */
export interface CallFacts {
  method: string
  /** Full request URL (never holds a secret: the token travels in a header). */
  url: string
  traceId: string
  /** Attempts made, retries included. */
  attempts: number
}

interface ApiErrorOptions {
  remedy?: string
  cause?: unknown
}

/** The server answered with an error status (exit 4). `problem` is its problem document, or one made up for a non-JSON body. */
export class ApiProblemError extends RemoteError {
  readonly status: number
  readonly problem: ProblemDocument
  readonly traceId: string
  readonly attempts: number

  constructor(code: string, message: string, facts: CallFacts & {status: number; problem: ProblemDocument}, options: ApiErrorOptions = {}) {
    super(code, message, options)
    this.status = facts.status
    this.problem = facts.problem
    this.traceId = facts.traceId
    this.attempts = facts.attempts
  }
}

/** The server refused the credentials: 401 or 403 (exit 5). */
export class ApiAuthError extends AuthError {
  readonly status: number
  readonly problem: ProblemDocument
  readonly traceId: string
  readonly attempts: number

  constructor(code: string, message: string, facts: CallFacts & {status: number; problem: ProblemDocument}, options: ApiErrorOptions = {}) {
    super(code, message, options)
    this.status = facts.status
    this.problem = facts.problem
    this.traceId = facts.traceId
    this.attempts = facts.attempts
  }
}

/** No usable answer: the connection failed, the budget ran out, or a 2xx body was not what the API promises (exit 4). */
export class ApiRequestError extends RemoteError {
  readonly traceId: string
  readonly attempts: number

  constructor(code: string, message: string, facts: CallFacts, options: ApiErrorOptions = {}) {
    super(code, message, options)
    this.traceId = facts.traceId
    this.attempts = facts.attempts
  }
}

export type ApiError = ApiProblemError | ApiAuthError | ApiRequestError

// ---------------------------------------------------------------------------------------------
// Text from the server

const MAX_SERVER_TEXT = 300

/**
 * Server text made safe for a terminal: control characters (escape sequences could repaint the
 * screen) become spaces, whitespace collapses, and the length is bounded.
 */
export function sanitizeServerText(text: string, max = MAX_SERVER_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim()
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean
}

function cleanProblem(value: Record<string, unknown>, status: number): ProblemDocument {
  const problem: ProblemDocument = {status}
  for (const field of ['type', 'title', 'detail', 'instance', 'scope', 'reason', 'traceId'] as const) {
    const text = value[field]
    if (typeof text === 'string' && text.trim() !== '') problem[field] = sanitizeServerText(text)
  }

  return problem
}

/** The status's standard phrase, e.g. `Bad Gateway`. */
export function statusPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown Status'
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = mediaTypeOf(contentType)
  return type === 'application/json' || type.endsWith('+json')
}

/** The problem document in an error body, or undefined when the body is something else. */
export function parseProblem(contentType: string | undefined, body: string, status: number): ProblemDocument | undefined {
  if (!isJsonMediaType(contentType)) return undefined
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }

  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  return cleanProblem(value as Record<string, unknown>, status)
}

// ---------------------------------------------------------------------------------------------
// Error statuses

export interface ErrorResponse {
  status: number
  contentType: string | undefined
  body: string
  /** `Location` of a redirect. */
  location?: string
}

export interface ErrorContext {
  tenant: string
  /** Whether the request carried a token, for the 401 explanation. */
  sentToken: boolean
  /** Removes the token from any text that may hold it (server text can echo anything). */
  scrub: (text: string) => string
}

const TOKEN_REMEDY =
  'Supply a token with --token, the STELLA_TOKEN variable, or a token source in the context: `stella config set token-env NAME` or `stella config set token-file PATH`.'

/** Turns an error status into the error the user sees; `suffix` says how the call ended (e.g. after retries). */
export function errorFromResponse(response: ErrorResponse, facts: CallFacts, context: ErrorContext, suffix = ''): ApiProblemError | ApiAuthError {
  const {status} = response
  const parsed = scrubProblem(parseProblem(response.contentType, response.body, status), context.scrub)
  const problem = parsed ?? {status, title: statusPhrase(status)}
  const errorFacts = {...facts, status, problem}
  const say = (text: string) => context.scrub(text + suffix)

  if (status === 401) {
    const what = context.sentToken ? 'the server did not accept the API token' : 'no API token was given, and the server requires one'
    return new ApiAuthError('UNAUTHENTICATED', say(parsed ? `${what} (${problemText(parsed)})` : what), errorFacts, {
      remedy: context.sentToken ? `Check that the token is current and meant for this server. ${TOKEN_REMEDY}` : TOKEN_REMEDY,
    })
  }

  if (status === 403) {
    const scope = parsed?.scope
    const text = parsed ? problemText(parsed) : `the server answered ${status} ${statusPhrase(status)}`
    return new ApiAuthError('FORBIDDEN', say(scope ? `${text} (missing scope ${scope})` : text), errorFacts, {
      remedy: context.scrub(
        scope
          ? `Ask a StellaOps administrator to grant the scope ${scope}, then run the command again.`
          : 'Ask a StellaOps administrator for the permission this needs, then run the command again.',
      ),
    })
  }

  if (!parsed) {
    return new ApiProblemError(`HTTP_${status}`, say(describeNonProblem(response)), errorFacts, {
      remedy:
        status >= 300 && status < 400
          ? 'Check the server URL: something other than the StellaOps API (a proxy, a login page) answered.'
          : 'Something other than the StellaOps API may have answered (a proxy or gateway); check the server URL, and try again later.',
    })
  }

  const reason = parsed.reason && [400, 409, 422].includes(status) ? ` (reason: ${parsed.reason})` : ''
  return new ApiProblemError(`HTTP_${status}`, say(problemText(parsed) + reason), errorFacts, {remedy: remedyFor(status, context.tenant)})
}

/** The problem as kept on the error (and so in --json output): without the token, should the server echo it. */
function scrubProblem(problem: ProblemDocument | undefined, scrub: (text: string) => string): ProblemDocument | undefined {
  if (!problem) return undefined
  const clean: ProblemDocument = {...problem}
  for (const field of ['type', 'title', 'detail', 'instance', 'scope', 'reason', 'traceId'] as const) {
    const text = clean[field]
    if (text !== undefined) clean[field] = scrub(text)
  }

  return clean
}

/** `title: detail`, or whichever the server sent. */
function problemText(problem: ProblemDocument): string {
  const status = problem.status ?? 0
  const title = problem.title ?? statusPhrase(status)
  return problem.detail ? `${title}: ${problem.detail}` : title
}

function describeNonProblem(response: ErrorResponse): string {
  const {status} = response
  const answered = `the server answered ${status} ${statusPhrase(status)}`
  if (status >= 300 && status < 400) {
    const location = response.location ? ` (a redirect to ${sanitizeServerText(stripQuery(response.location), 200)})` : ''
    return `${answered}${location}, not a JSON answer`
  }

  const type = mediaTypeOf(response.contentType)
  if (response.body.trim() === '') return `${answered} with an empty body, not a problem document`
  const isHtml = type === 'text/html' || type === 'application/xhtml+xml'
  const what = type === '' ? 'a body without a content type' : `a ${type} ${isHtml ? 'page' : 'body'}`
  const excerpt = firstLine(response.body, isHtml)
  return `${answered} with ${what}, not a problem document${excerpt ? ` ("${excerpt}")` : ''}`
}

/** The page's <title>, or its first line of text: enough to recognise a proxy's error page. */
function firstLine(body: string, isHtml: boolean): string {
  if (isHtml) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(body)?.[1]
    const text = title ?? body.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, '\n')
    return sanitizeServerText(decodeEntities(text.split('\n').find((line) => line.trim() !== '') ?? ''), 100)
  }

  return sanitizeServerText(body.split('\n').find((line) => line.trim() !== '') ?? '', 100)
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_match, name: string) => ({amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'"})[name] ?? '')
}

function stripQuery(location: string): string {
  return location.replace(/[?#].*$/, '')
}

function remedyFor(status: number, tenant: string): string | undefined {
  if (status === 400 || status === 422) return 'Correct the request as the message says and run it again.'
  if (status === 404) return `Check the id or name; it must exist in tenant ${tenant}.`
  if (status === 409) return 'The resource is in a state that does not allow this; check its current state and try again.'
  if (status === 429) return 'The server is limiting the rate of requests; wait a little and run the command again.'
  if (status >= 500) return 'The server failed to answer; try again later, and give the trace id to the StellaOps operators if it keeps failing.'
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Network failures

export interface NetworkFailure {
  code: string
  message: string
  remedy: string
  /** Worth another attempt (the failure may be brief). */
  retryable: boolean
  /** The request may have reached the server, so a non-idempotent one may have taken effect. */
  mayHaveReachedServer: boolean
}

const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
])

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'])

/** Every `code` in an error, its causes and (for Happy Eyeballs) its aggregated errors, outermost first. */
export function errorCodes(error: unknown): {code: string; message: string}[] {
  const found: {code: string; message: string}[] = []
  const seen = new Set<unknown>()
  const visit = (value: unknown) => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return
    seen.add(value)
    const {code, message, cause, errors} = value as {code?: unknown; message?: unknown; cause?: unknown; errors?: unknown}
    if (typeof code === 'string') found.push({code, message: typeof message === 'string' ? message : ''})
    visit(cause)
    if (Array.isArray(errors)) for (const inner of errors) visit(inner)
  }

  visit(error)
  return found
}

/** Names a failed connection in the user's terms; `origin` is e.g. `https://stella.example.com:8443`. */
export function classifyNetworkError(error: unknown, origin: string, clientCertGiven: boolean): NetworkFailure {
  const codes = errorCodes(error)
  const has = (...wanted: string[]) => codes.find((entry) => wanted.includes(entry.code))
  const host = new URL(origin).hostname

  const tls = codes.find((entry) => UNTRUSTED_CERT_CODES.has(entry.code))
  if (tls) {
    return {
      code: 'TLS_UNTRUSTED_CERT',
      message: `the TLS certificate of ${origin} is not trusted (${tls.message.trim() || tls.code})`,
      remedy: 'Pass --ca-cert FILE with the CA certificate that signed it (or set STELLA_CA_FILE, or `stella config set ca-file PATH`).',
      retryable: false,
      mayHaveReachedServer: false,
    }
  }

  if (has('ERR_TLS_CERT_ALTNAME_INVALID')) {
    return {
      code: 'TLS_HOSTNAME_MISMATCH',
      message: `the TLS certificate of ${origin} is not issued for ${host}`,
      remedy: 'Use the host name the certificate was issued for in the server URL, or ask for a certificate that names this host.',
      retryable: false,
      mayHaveReachedServer: false,
    }
  }

  const expired = has('CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID')
  if (expired) {
    return {
      code: 'TLS_CERT_EXPIRED',
      message: `the TLS certificate of ${origin} ${expired.code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'}`,
      remedy: "Check this machine's clock; if it is right, ask the server's operators to renew the certificate.",
      retryable: false,
      mayHaveReachedServer: false,
    }
  }

  const ssl = codes.find((entry) => entry.code.startsWith('ERR_SSL_') || entry.code.startsWith('ERR_TLS_'))
  if (ssl) return tlsHandshakeFailure(ssl.code, origin, clientCertGiven)

  if (has('ECONNREFUSED')) {
    return {
      code: 'CONNECTION_REFUSED',
      message: `cannot connect to ${origin}: connection refused`,
      remedy: 'Check the server URL and port, and that the server is running.',
      retryable: true,
      mayHaveReachedServer: false,
    }
  }

  const lookup = has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL')
  if (lookup) {
    return {
      code: 'HOST_NOT_FOUND',
      message: `cannot find the server's host ${host}${lookup.code === 'EAI_AGAIN' ? ' (the name lookup failed for now)' : ''}`,
      remedy: 'Check the server URL for typos, and that this machine can resolve names (DNS, VPN).',
      retryable: lookup.code === 'EAI_AGAIN',
      mayHaveReachedServer: false,
    }
  }

  if (has('ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT')) {
    return {
      code: 'CONNECTION_TIMEOUT',
      message: `cannot connect to ${origin}: the connection attempt timed out`,
      remedy: 'Check the server URL, and that no firewall drops the connection.',
      retryable: true,
      mayHaveReachedServer: false,
    }
  }

  const unreachable = has('EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL')
  if (unreachable) {
    return {
      code: 'NETWORK_UNREACHABLE',
      message: `cannot connect to ${origin}: ${unreachable.code === 'EHOSTUNREACH' ? 'no route to the host' : 'the network is unreachable'}`,
      remedy: 'Check the network connection (VPN, proxy, firewall) and the server URL.',
      retryable: false,
      mayHaveReachedServer: false,
    }
  }

  if (codes.some((entry) => RESET_CODES.has(entry.code))) {
    return {
      code: 'CONNECTION_RESET',
      message: `the connection to ${origin} was closed before the answer was complete`,
      remedy: 'Try again; if it keeps happening, a proxy or firewall may be cutting connections.',
      retryable: true,
      mayHaveReachedServer: true,
    }
  }

  const first = codes[0]
  const detail = first ? `${first.code}${first.message ? `: ${first.message}` : ''}` : error instanceof Error ? error.message : String(error)
  return {
    code: 'CONNECTION_FAILED',
    message: `the request to ${origin} failed (${sanitizeServerText(detail, 200)})`,
    remedy: 'Check the server URL and the network; run again with --verbose for details.',
    retryable: false,
    mayHaveReachedServer: true,
  }
}

function tlsHandshakeFailure(code: string, origin: string, clientCertGiven: boolean): NetworkFailure {
  const failure = {code: 'TLS_HANDSHAKE_FAILED', retryable: false, mayHaveReachedServer: false}
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return {
      ...failure,
      message: `the TLS handshake with ${origin} failed: the server does not speak TLS on this port`,
      remedy: 'Check the scheme and port of the server URL (http:// or https://?).',
    }
  }

  const clientCertProblem = /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED/.test(code)
  if (clientCertProblem && !clientCertGiven) {
    return {
      ...failure,
      message: `the TLS handshake with ${origin} failed: the server requires a client certificate (${code})`,
      remedy: 'Pass --client-cert FILE and --client-key FILE with a certificate the server trusts.',
    }
  }

  if (clientCertProblem) {
    return {
      ...failure,
      message: `the TLS handshake with ${origin} failed: the server did not accept the client certificate (${code})`,
      remedy: 'Check that --client-cert is issued by a CA the server trusts and has not expired.',
    }
  }

  return {
    ...failure,
    message: `the TLS handshake with ${origin} failed (${code})`,
    remedy: 'Check the server URL and its TLS settings; run again with --verbose for details.',
  }
}
