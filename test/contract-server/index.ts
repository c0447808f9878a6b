/**
 * The contract server: spec/api.md over real sockets (HTTP, HTTPS, mutual TLS), with seeded
 * per-tenant data, real signed bundles, every request recorded, and faults to inject.
 * Behaviour the spec leaves open is written down in docs/api-contract.md.
 */
import {createServer as createHttpServer, type IncomingMessage, type Server as NodeServer, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import {fileURLToPath} from 'node:url'
import {setTimeout as sleep} from 'node:timers/promises'

import type {ProblemDocument} from '../../src/lib/api/types.js'
import {readPrivateKeyFile} from '../../src/lib/keys/index.js'
import {seedAttestations} from './attestations.js'
import {TENANTS, type TenantId, TOKENS, authenticate, badTraceparent, requireScope, requireTenant, traceIdOf} from './auth.js'
import {seedBundles} from './evidence.js'
import {HttpProblem, notFound, problemDocument} from './problems.js'
import {type Context, type Reply, type Route, type Server, matchRoute} from './routes.js'
import {seedObservability, seedTimeline} from './seed.js'
import type {ServerState, TenantState} from './state.js'
import {incidentOff, seedCollectors} from './telemetry.js'

export {TENANTS, TOKENS}
export type {TenantId}
export type {Artifact, ServerState, StoredBundle, StoredTrace, TenantState} from './state.js'

export interface ContractServerOptions {
  /** PEM strings; requestClientCert requires a client certificate that `ca` signed. */
  tls?: {key: string; cert: string; ca?: string; requestClientCert?: boolean}
  /** Default 127.0.0.1. */
  host?: string
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** Names lower-cased. */
  headers: Record<string, string | undefined>
  /** Parsed JSON, or the text when it is not JSON. */
  body?: unknown
}

export type Fault =
  | {status: number; problem?: Partial<ProblemDocument>; retryAfter?: string}
  | {status: number; html: string}
  | {delayMs: number}
  | {dropAfterBytes: number}
  | {reset: true}
  | {tamper: 'flip-byte'}
  | {noContentLength: true}
  | {badJson: true}

export interface ContractServer {
  url: string
  close(): Promise<void>
  requests: RecordedRequest[]
  /** `route` is 'METHOD /path' with `:param`, `{param}` or `*` segments, or '* *'; faults apply to the next `times` matching requests (default: until cleared). */
  inject(route: string, fault: Fault, options?: {times?: number}): void
  clearFaults(): void
  state: ServerState
  /** PEM SPKI of the key the server signs bundles, profiles and attestations with. */
  publicKeyPath: string
  keyId: string
}

export const SERVER_KEY_PATH = fileURLToPath(new URL('keys/server.pem', import.meta.url))
export const SERVER_PUBLIC_KEY_PATH = fileURLToPath(new URL('keys/server.pub.pem', import.meta.url))

const MAX_BODY_BYTES = 1024 * 1024
const CHUNK_BYTES = 16 * 1024
/** What badJson answers: the start of a JSON document, cut off. */
export const BAD_JSON_BODY = '{"items": [{"eventId": "evt_'

async function seedState(key: Awaited<ReturnType<typeof readPrivateKeyFile>>): Promise<ServerState> {
  // Whole minutes, so seeded times do not carry the start's milliseconds.
  const anchor = new Date(Math.floor(Date.now() / 60_000) * 60_000)
  const tenants = {} as Record<TenantId, TenantState>
  for (const id of Object.values(TENANTS)) {
    const observability = seedObservability(id, anchor)
    const bundles = await seedBundles(id, key)
    const {artifacts, attestations} = seedAttestations(id, key)
    tenants[id] = {
      id,
      ...observability,
      timeline: seedTimeline(id, anchor, observability.traces, bundles),
      bundles,
      holds: {},
      artifacts,
      attestations,
      incidentMode: incidentOff('default'),
      telemetry: {profile: 'default', collectors: seedCollectors(id, anchor)},
    }
  }

  return {anchor, readyAfterPolls: 2, exportContentLength: false, tenants}
}

interface FaultEntry {
  method: string
  path: RegExp
  fault: Fault
  remaining: number
}

type FaultKind = 'status' | 'html' | 'delayMs' | 'dropAfterBytes' | 'reset' | 'tamper' | 'noContentLength' | 'badJson'

function kindOf(fault: Fault): FaultKind {
  if ('html' in fault) return 'html'
  if ('status' in fault) return 'status'
  return Object.keys(fault)[0] as FaultKind
}

/** Faults that answer instead of the endpoint; at most one of them applies to a request. */
const ANSWERING = new Set<FaultKind>(['status', 'html', 'reset', 'badJson'])

function routePattern(route: string): {method: string; path: RegExp} {
  const match = /^(\S+)\s+(\S+)$/.exec(route.trim())
  if (!match) throw new Error(`fault route ${JSON.stringify(route)} is not "METHOD /path" (or "* *")`)
  const [, method, path] = match as unknown as [string, string, string]
  if (path === '*') return {method: method.toUpperCase(), path: /^/}
  const source = path
    .split('/')
    .map((segment) => (segment === '*' || segment.startsWith(':') || /^\{.+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return {method: method.toUpperCase(), path: new RegExp(`^${source}$`)}
}

function headerRecord(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  return headers
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge()
    chunks.push(chunk as Buffer)
  }

  return Buffer.concat(chunks)
}

function parseBody(raw: Buffer): {body: unknown; invalidJson: boolean} {
  if (raw.length === 0) return {body: undefined, invalidJson: false}
  const text = raw.toString('utf8')
  try {
    return {body: JSON.parse(text), invalidJson: false}
  } catch {
    return {body: text, invalidJson: true}
  }
}

export async function startContractServer(options: ContractServerOptions = {}): Promise<ContractServer> {
  const key = await readPrivateKeyFile(SERVER_KEY_PATH)
  const state = await seedState(key)
  const requests: RecordedRequest[] = []
  let faults: FaultEntry[] = []
  const closing = new AbortController()
  const host = options.host ?? '127.0.0.1'

  let server: NodeServer
  if (options.tls) {
    const {key: tlsKey, cert, ca, requestClientCert} = options.tls
    if (requestClientCert && !ca) throw new Error('requestClientCert needs the CA that signs client certificates (tls.ca)')
    server = createHttpsServer({key: tlsKey, cert, ...(ca ? {ca} : {}), requestCert: Boolean(requestClientCert), rejectUnauthorized: Boolean(requestClientCert)})
  } else {
    server = createHttpServer()
  }

  const context: Server = {url: '', state, key, exports: new Map()}

  function takeFaults(method: string, path: string, route: Route | undefined): Map<FaultKind, Fault> {
    const taken = new Map<FaultKind, Fault>()
    let answering = false
    for (const entry of faults) {
      if (entry.remaining <= 0 || (entry.method !== '*' && entry.method !== method) || !entry.path.test(path)) continue
      const kind = kindOf(entry.fault)
      if (taken.has(kind) || (ANSWERING.has(kind) && answering)) continue
      // Download faults wait for a request that downloads a bundle.
      if ((kind === 'tamper' || kind === 'noContentLength') && !route?.download) continue
      if (ANSWERING.has(kind)) answering = true
      entry.remaining--
      taken.set(kind, entry.fault)
    }

    return taken
  }

  function problemReply(status: number, problem: Partial<ProblemDocument>, path: string, traceId: string, headers: Record<string, string> = {}): Reply {
    const body = Buffer.from(JSON.stringify(problemDocument(status, problem, path, traceId)))
    return {status, headers: {'content-type': 'application/problem+json', ...headers}, body}
  }

  async function send(res: ServerResponse, reply: Reply, dropAfterBytes: number | undefined): Promise<void> {
    const body = reply.body ?? Buffer.alloc(0)
    const headers: Record<string, string> = {'cache-control': 'no-store', ...reply.headers}
    if (!reply.chunked) headers['content-length'] = String(body.length)
    res.writeHead(reply.status, headers)
    const socket = res.socket as Socket | null
    if (dropAfterBytes !== undefined) {
      // Headers and the first bytes reach the client, then the connection ends mid-body.
      if (dropAfterBytes > 0) await new Promise<void>((resolve) => res.write(body.subarray(0, dropAfterBytes), () => resolve()))
      else res.flushHeaders()
      socket?.destroySoon()
      return
    }

    if (!reply.chunked) {
      res.end(body)
      return
    }

    for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) {
      if (!res.write(body.subarray(offset, offset + CHUNK_BYTES))) await new Promise((resolve) => res.once('drain', resolve))
      // Let each chunk go out on its own, as a server streaming a capture does.
      await new Promise((resolve) => setImmediate(resolve))
      if (res.destroyed) return
    }

    res.end()
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://contract-server.invalid')
    const path = url.pathname
    const query = Object.fromEntries(url.searchParams)
    const headers = headerRecord(req)
    const trace = traceIdOf(headers.traceparent)

    let raw: Buffer
    try {
      raw = await readBody(req)
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error
      requests.push({method, path, query, headers})
      res.shouldKeepAlive = false
      await send(res, problemReply(413, {title: 'Content too large', detail: `The body is larger than ${MAX_BODY_BYTES} bytes.`, reason: 'body_too_large'}, path, trace.traceId), undefined)
      return
    }

    const {body, invalidJson} = parseBody(raw)
    requests.push({method, path, query, headers, ...(body === undefined ? {} : {body})})

    let match: ReturnType<typeof matchRoute>
    let matchError: HttpProblem | undefined
    try {
      match = matchRoute(method, path)
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error
      matchError = error
    }

    const route = match && 'route' in match ? match : undefined
    const taken = takeFaults(method, path, route?.route)

    if (taken.has('reset')) {
      req.socket.resetAndDestroy()
      return
    }

    const delay = taken.get('delayMs') as {delayMs: number} | undefined
    if (delay) {
      try {
        await sleep(delay.delayMs, undefined, {signal: closing.signal})
      } catch {
        req.socket.destroy()
        return
      }
    }

    const drop = (taken.get('dropAfterBytes') as {dropAfterBytes: number} | undefined)?.dropAfterBytes
    const status = taken.get('status') as {status: number; problem?: Partial<ProblemDocument>; retryAfter?: string} | undefined
    const html = taken.get('html') as {status: number; html: string} | undefined
    if (status) {
      const extra: Record<string, string> = status.retryAfter === undefined ? {} : {'retry-after': status.retryAfter}
      await send(res, problemReply(status.status, status.problem ?? {}, path, trace.traceId, extra), drop)
      return
    }

    if (html) {
      await send(res, {status: html.status, headers: {'content-type': 'text/html; charset=utf-8'}, body: Buffer.from(html.html)}, drop)
      return
    }

    if (taken.has('badJson')) {
      await send(res, {status: 200, headers: {'content-type': 'application/json; charset=utf-8'}, body: Buffer.from(BAD_JSON_BODY)}, drop)
      return
    }

    let reply: Reply
    try {
      if (!trace.valid) throw badTraceparent()
      if (matchError) throw matchError
      if (!match) throw new HttpProblem(404, 'not-found', 'Not found', `No endpoint ${method} ${path}; see spec/api.md for the endpoints.`, {reason: 'no_such_endpoint'})
      if ('allow' in match) {
        throw new HttpProblem(405, 'method-not-allowed', 'Method not allowed', `${path} does not accept ${method}; it accepts ${match.allow.join(', ')}.`, {
          reason: 'method_not_allowed',
          headers: {allow: match.allow.join(', ')},
        })
      }

      const principal = authenticate(headers.authorization)
      const tenantId = requireTenant(headers['x-stella-tenant'])
      requireScope(principal, match.route.scope, tenantId, `${match.route.method} ${match.route.pattern}`)
      const tenant = state.tenants[tenantId as TenantId]
      if (!tenant) throw notFound(`The tenant ${tenantId}`)
      const ctx: Context = {
        method,
        path,
        query,
        headers,
        body,
        invalidJson,
        params: match.params,
        principal,
        tenant,
        server: context,
        download: {tamper: taken.has('tamper'), noContentLength: taken.has('noContentLength')},
      }
      reply = await match.route.handle(ctx)
    } catch (error) {
      if (error instanceof HttpProblem) {
        reply = problemReply(error.status, error.problem, path, trace.traceId, error.headers)
      } else {
        const detail = error instanceof Error ? error.message : String(error)
        reply = problemReply(500, {title: 'Internal server error', detail: `The contract server failed: ${detail}`, reason: 'internal'}, path, trace.traceId)
      }
    }

    await send(res, reply, drop)
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    respond(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'}).end(String(error))
      else res.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const {port} = server.address() as AddressInfo
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
  context.url = url

  return {
    url,
    requests,
    state,
    publicKeyPath: SERVER_PUBLIC_KEY_PATH,
    keyId: key.public.keyid,
    inject(route, fault, injectOptions = {}) {
      faults.push({...routePattern(route), fault, remaining: injectOptions.times ?? Number.POSITIVE_INFINITY})
    },
    clearFaults() {
      faults = []
    },
    async close() {
      closing.abort()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}
