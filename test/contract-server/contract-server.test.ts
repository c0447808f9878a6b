/**
 * The contract server against spec/api.md, over real sockets with Node's fetch: auth and scopes,
 * tenant isolation, pagination, the logs guardrail, the snapshot lifecycle and downloads with
 * Range, real bundles that verify with the server key, every fault, TLS and mutual TLS.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

import {Agent, fetch as undiciFetch} from 'undici'
import {parse as parseYaml} from 'yaml'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import type {AttestationRecord, BundleDetail, LogItem, Page, ProblemDocument, TimelineEvent} from '../../src/lib/api/types.js'
import {verifyBundle} from '../../src/lib/bundle/verify.js'
import {parseEnvelope, verifyEnvelope} from '../../src/lib/dsse/index.js'
import {type Ed25519PublicKey, readPublicKeyFile} from '../../src/lib/keys/index.js'
import {scratchDir} from '../helpers/cli.js'
import {TarParser} from '../../src/lib/bundle/tar.js'
import {BAD_JSON_BODY, type ContractServer, TOKENS, startContractServer} from './index.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE}-00f067aa0ba902b7-01`
const PROBLEMS = 'https://stella-ops.org/problems/'

let server: ContractServer
let serverKey: Ed25519PublicKey
/** The bundles the server starts with, before any test adds or damages one. */
let seededBundleIds: Set<string>

beforeAll(async () => {
  server = await startContractServer()
  serverKey = await readPublicKeyFile(server.publicKeyPath)
  seededBundleIds = new Set([...server.state.tenants.acme.bundles, ...server.state.tenants.globex.bundles].map((b) => b.bundleId))
})
afterAll(() => server.close())
afterEach(() => {
  server.clearFaults()
  server.state.readyAfterPolls = 2
  server.state.exportContentLength = false
})

interface CallOptions {
  token?: string | null
  tenant?: string | null
  method?: string
  body?: unknown
  headers?: Record<string, string>
}

function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {traceparent: TRACEPARENT, ...options.headers}
  const token = options.token === undefined ? TOKENS.acmeAdmin : options.token
  const tenant = options.tenant === undefined ? 'acme' : options.tenant
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (tenant !== null) headers['x-stella-tenant'] = tenant
  let body: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  }

  return fetch(`${server.url}${path}`, {method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body})
}

async function jsonOf<T>(response: Response, status = 200): Promise<T> {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
  return (await response.json()) as T
}

async function problemOf(response: Response): Promise<ProblemDocument> {
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  return (await response.json()) as ProblemDocument
}

function badRequest(instance: string, reason: string, detail: string): ProblemDocument {
  return {type: `${PROBLEMS}bad-request`, title: 'Bad request', status: 400, detail, instance, traceId: TRACE, reason}
}

async function bytesOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer())
}

async function verifyBytes(bytes: Uint8Array) {
  return verifyBundle(
    (async function* () {
      yield bytes
    })(),
    {trustedKeys: [serverKey]},
  )
}

/** The regular files of a tar.gz, by path. */
function filesOf(bundle: Uint8Array): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  let current: {path: string; parts: Buffer[]} | undefined
  const parser = new TarParser({
    entry: (entry) => (current = {path: entry.path, parts: []}),
    data: (chunk) => current!.parts.push(Buffer.from(chunk)),
    entryEnd: () => files.set(current!.path, Buffer.concat(current!.parts)),
  })
  parser.write(gunzipSync(bundle))
  parser.end()
  return files
}

/**
 * A protobuf wire reader that knows nothing of OTLP: a message is a list of (field number, wire
 * type, value) with varints as bigints and the rest as raw bytes; callers navigate by field number.
 */
interface WireField {
  field: number
  wire: number
  varint?: bigint
  bytes?: Buffer
}

function wireFields(buffer: Buffer): WireField[] {
  const fields: WireField[] = []
  let at = 0
  const varint = (): bigint => {
    let value = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= buffer.length) throw new Error('a varint runs past the end of the message')
      const byte = buffer[at++]!
      value |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return value
    }

    throw new Error('a varint is longer than 10 bytes')
  }

  const take = (length: number): Buffer => {
    if (at + length > buffer.length) throw new Error('a field runs past the end of the message')
    at += length
    return buffer.subarray(at - length, at)
  }

  while (at < buffer.length) {
    const key = varint()
    const field = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (wire === 0) fields.push({field, wire, varint: varint()})
    else if (wire === 1) fields.push({field, wire, bytes: take(8)})
    else if (wire === 2) fields.push({field, wire, bytes: take(Number(varint()))})
    else if (wire === 5) fields.push({field, wire, bytes: take(4)})
    else throw new Error(`unexpected wire type ${wire} for field ${field}`)
  }

  return fields
}

/** Every length-delimited value of a (repeated) field. */
function wireAll(message: Buffer, field: number): Buffer[] {
  return wireFields(message).filter((f) => f.field === field && f.wire === 2).map((f) => f.bytes!)
}

function wireOne(message: Buffer, field: number, wire: number): WireField {
  const found = wireFields(message).filter((f) => f.field === field)
  if (found.length !== 1 || found[0]!.wire !== wire) throw new Error(`expected field ${field} once with wire type ${wire}, found ${JSON.stringify(found.map((f) => f.wire))}`)
  return found[0]!
}

const wireBytes = (message: Buffer, field: number) => wireOne(message, field, 2).bytes!
const wireString = (message: Buffer, field: number) => wireBytes(message, field).toString('utf8')
const wireFixed64 = (message: Buffer, field: number) => wireOne(message, field, 1).bytes!.readBigUInt64LE()

/** AnyValue's scalar cases (string 1, bool 2, int64 3, double 4) in OTLP/JSON form. */
function wireAnyValue(message: Buffer): unknown {
  const [only, ...more] = wireFields(message)
  if (!only || more.length > 0) throw new Error('an AnyValue holds exactly one value')
  if (only.field === 1 && only.wire === 2) return {stringValue: only.bytes!.toString('utf8')}
  if (only.field === 2 && only.wire === 0) return {boolValue: only.varint !== 0n}
  if (only.field === 3 && only.wire === 0) return {intValue: BigInt.asIntN(64, only.varint!).toString()}
  if (only.field === 4 && only.wire === 1) return {doubleValue: only.bytes!.readDoubleLE()}
  throw new Error(`unexpected AnyValue field ${only.field}`)
}

/** Repeated KeyValue (key 1, value 2) at a field, in OTLP/JSON form. */
const wireAttributes = (message: Buffer, field: number) => wireAll(message, field).map((kv) => ({key: wireString(kv, 1), value: wireAnyValue(wireBytes(kv, 2))}))

/** The collector file exporter's `proto` framing: 4-byte big-endian length, message, and so on to the exact end. */
function lengthFramed(file: Buffer): Buffer[] {
  const messages: Buffer[] = []
  let at = 0
  while (at < file.length) {
    if (at + 4 > file.length) throw new Error(`a length prefix at ${at} runs past the end`)
    const length = file.readUInt32BE(at)
    if (at + 4 + length > file.length) throw new Error(`the message at ${at} runs past the end`)
    messages.push(file.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }

  return messages
}

const acme = () => server.state.tenants.acme
const globex = () => server.state.tenants.globex
const firstBundle = () => acme().bundles[0]!

describe('auth, tenants and scopes', () => {
  it('401 without a token, with WWW-Authenticate', async () => {
    const response = await call('/obs/health', {token: null})
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="stellaops"')
    expect(await problemOf(response)).toEqual({
      type: `${PROBLEMS}unauthorized`,
      title: 'Unauthorized',
      status: 401,
      detail: 'The request has no Authorization header; send "Authorization: Bearer <token>".',
      instance: '/obs/health',
      traceId: TRACE,
      reason: 'missing_token',
    })
  })

  it('401 for an unknown token, whatever the tenant', async () => {
    const response = await call('/evidence', {token: 'stk_made_up', tenant: null})
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="stellaops", error="invalid_token"')
    expect(await problemOf(response)).toEqual({
      type: `${PROBLEMS}unauthorized`,
      title: 'Unauthorized',
      status: 401,
      detail: 'The bearer token is not valid: it is unknown, expired or revoked.',
      instance: '/evidence',
      traceId: TRACE,
      reason: 'invalid_token',
    })
  })

  it('400 without X-Stella-Tenant', async () => {
    const response = await call('/obs/slo', {tenant: null})
    expect(response.status).toBe(400)
    expect(await problemOf(response)).toEqual(badRequest('/obs/slo', 'missing_tenant', 'The X-Stella-Tenant header is required on every request.'))
  })

  it('400 for a malformed traceparent, with a trace id of the server own', async () => {
    for (const traceparent of ['00-xyz-00f067aa0ba902b7-01', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `01-${TRACE}-00f067aa0ba902b7-01`, `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`]) {
      const response = await call('/obs/health', {headers: {traceparent}})
      expect(response.status, traceparent).toBe(400)
      const problem = await problemOf(response)
      expect(problem.reason).toBe('bad_traceparent')
      expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(problem.traceId).not.toBe(TRACE)
    }
  })

  it('a request without traceparent gets a trace id of the server own in its problems', async () => {
    const response = await fetch(`${server.url}/obs/health`, {headers: {'x-stella-tenant': 'acme'}})
    const problem = await problemOf(response)
    expect(problem.status).toBe(401)
    expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/)
  })

  it('403 naming the missing scope when a globex token asks for acme, with no PII', async () => {
    const response = await call('/obs/health', {token: TOKENS.globexAdmin, tenant: 'acme'})
    expect(response.status).toBe(403)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({
      type: `${PROBLEMS}forbidden`,
      title: 'Forbidden',
      status: 403,
      detail: 'GET /obs/health requires the scope stella:obs:read#tenant/acme, which this token does not have.',
      instance: '/obs/health',
      traceId: TRACE,
      scope: 'stella:obs:read#tenant/acme',
      reason: 'missing_scope',
    })
    expect(text).not.toContain(TOKENS.globexAdmin)
    expect(text).not.toContain('globex')
  })

  it('the reader token reads but cannot export, create or administer', async () => {
    const bundle = firstBundle()
    expect((await call(`/evidence/${bundle.bundleId}`, {token: TOKENS.acmeReader})).status).toBe(200)
    expect((await call('/telemetry/status', {token: TOKENS.acmeReader})).status).toBe(200)
    const denied: [string, CallOptions, string][] = [
      [`/evidence/${bundle.bundleId}/content`, {}, 'stella:evidence:export#tenant/acme'],
      ['/evidence/snapshot', {body: {kind: 'job', resourceId: 'job-1', caseId: 'case-1'}}, 'stella:evidence:create#tenant/acme'],
      ['/evidence/hold/case-42', {body: {hold: true, reason: 'litigation'}}, 'stella:evidence:create#tenant/acme'],
      ['/telemetry/config/profile/default', {}, 'stella:telemetry:admin#tenant/acme'],
      ['/telemetry/incidents/mode', {body: {enabled: true, reason: 'outage'}}, 'stella:telemetry:admin#tenant/acme'],
      ['/telemetry/exports/forensic/15m', {}, 'stella:evidence:export#tenant/acme'],
    ]
    for (const [path, options, scope] of denied) {
      const response = await call(path, {...options, token: TOKENS.acmeReader})
      expect(response.status, path).toBe(403)
      expect((await problemOf(response)).scope, path).toBe(scope)
    }
  })

  it('a token without scopes is refused everywhere', async () => {
    const response = await call('/timeline', {token: TOKENS.noScopes})
    expect(response.status).toBe(403)
    expect((await problemOf(response)).scope).toBe('stella:timeline:read#tenant/acme')
  })

  it("another tenant's bundle, event and trace ids are 404 (not 403)", async () => {
    const bundleId = globex().bundles[0]!.bundleId
    expect((await call(`/evidence/${bundleId}`, {token: TOKENS.globexAdmin, tenant: 'globex'})).status).toBe(200)
    const response = await call(`/evidence/${bundleId}`)
    expect(response.status).toBe(404)
    expect(await problemOf(response)).toEqual({
      type: `${PROBLEMS}not-found`,
      title: 'Not found',
      status: 404,
      detail: `The bundle ${bundleId} does not exist in this tenant.`,
      instance: `/evidence/${bundleId}`,
      traceId: TRACE,
      reason: 'not_found',
    })
    expect((await call(`/evidence/${bundleId}/content`)).status).toBe(404)
    expect((await call('/evidence/verify', {body: {bundleId}})).status).toBe(404)
    expect((await call(`/timeline/${globex().timeline[0]!.eventId}`)).status).toBe(404)
    expect((await call(`/obs/trace/${globex().traces[0]!.traceId}`)).status).toBe(404)
    const list = await jsonOf<Page<{bundleId: string}>>(await call('/evidence?limit=1000'))
    expect(list.items.map((b) => b.bundleId)).toEqual(acme().bundles.map((b) => b.bundleId))
  })

  it('tenants have distinct ids everywhere', () => {
    const ids = (tenant: typeof server.state.tenants.acme) => [
      ...tenant.bundles.map((b) => b.bundleId),
      ...tenant.timeline.map((e) => e.eventId),
      ...tenant.traces.map((t) => t.traceId),
      ...tenant.attestations.map((a) => a.id),
    ]
    const acmeIds = new Set(ids(acme()))
    expect(ids(globex()).filter((id) => acmeIds.has(id))).toEqual([])
  })

  it('unknown routes are 404 and wrong methods 405 with Allow', async () => {
    const unknown = await call('/obs/nothing')
    expect(unknown.status).toBe(404)
    expect((await problemOf(unknown)).reason).toBe('no_such_endpoint')

    const wrong = await call('/obs/health', {method: 'DELETE'})
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET, HEAD')
    expect(await problemOf(wrong)).toEqual({
      type: `${PROBLEMS}method-not-allowed`,
      title: 'Method not allowed',
      status: 405,
      detail: '/obs/health does not accept DELETE; it accepts GET, HEAD.',
      instance: '/obs/health',
      traceId: TRACE,
      reason: 'method_not_allowed',
    })
    const post = await call('/telemetry/incidents/mode', {method: 'PUT'})
    expect(post.headers.get('allow')).toBe('GET, HEAD, POST')
  })

  it('records every request with lower-cased headers and the parsed body', async () => {
    const before = server.requests.length
    await call('/evidence/hold/case-42?x=1', {body: {hold: true, reason: 'audit'}, headers: {'User-Agent': 'stella/0.1.0 node/20'}})
    expect(server.requests.length).toBe(before + 1)
    const recorded = server.requests.at(-1)!
    expect(recorded).toMatchObject({method: 'POST', path: '/evidence/hold/case-42', query: {x: '1'}, body: {hold: true, reason: 'audit'}})
    expect(recorded.headers).toMatchObject({
      authorization: `Bearer ${TOKENS.acmeAdmin}`,
      'x-stella-tenant': 'acme',
      traceparent: TRACEPARENT,
      'user-agent': 'stella/0.1.0 node/20',
      'content-type': 'application/json',
    })
  })
})

describe('observability', () => {
  it('health has mixed service statuses; SLOs include warning and breach', async () => {
    const health = await jsonOf<{generatedAt: string; services: {status: string}[]}>(await call('/obs/health'))
    expect(health.services.length).toBeGreaterThanOrEqual(4)
    expect(new Set(health.services.map((s) => s.status))).toEqual(new Set(['ok', 'degraded', 'down']))
    expect(Date.parse(health.generatedAt)).not.toBeNaN()
    const slo = await jsonOf<{items: {status: string; burnRate: Record<string, number>}[]}>(await call('/obs/slo'))
    expect(slo.items.length).toBeGreaterThanOrEqual(4)
    expect(slo.items.map((s) => s.status)).toEqual(expect.arrayContaining(['ok', 'warning', 'breach']))
    for (const item of slo.items) expect(Object.keys(item.burnRate)).toEqual(['1h', '6h', '24h'])
    const metrics = await jsonOf<{routes: unknown[]; jobs: unknown[]}>(await call('/obs/metrics'))
    expect(metrics.routes.length).toBeGreaterThan(0)
    expect(metrics.jobs.length).toBeGreaterThan(0)
  })

  it('a trace is OTLP/JSON ResourceSpans with nested spans; unknown ids are 404, malformed 400', async () => {
    const seeded = acme().traces[1]!
    const trace = await jsonOf<{traceId: string; deepLink: string; resourceSpans: {resource: unknown; scopeSpans: {spans: {spanId: string; parentSpanId?: string; status: {code: number}; events: unknown[]}[]}[]}[]}>(await call(`/obs/trace/${seeded.traceId}`))
    expect(trace.traceId).toBe(seeded.traceId)
    expect(trace.deepLink).toBe(`${server.url}/console/traces/${seeded.traceId}?tenant=acme`)
    const spans = trace.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
    expect(spans).toHaveLength(5)
    expect(spans.filter((s) => s.parentSpanId === undefined)).toHaveLength(1)
    const ids = new Set(spans.map((s) => s.spanId))
    for (const span of spans) if (span.parentSpanId) expect(ids.has(span.parentSpanId)).toBe(true)
    expect(spans.some((s) => s.status.code === 2 && s.events.length > 0)).toBe(true)

    const unknown = await call(`/obs/trace/${'ab'.repeat(16)}`)
    expect(unknown.status).toBe(404)
    const malformed = await call('/obs/trace/not-a-trace')
    expect(await problemOf(malformed)).toEqual(badRequest('/obs/trace/not-a-trace', 'bad_trace_id', 'The trace id must be a trace id of 32 hex digits.'))
  })
})

describe('pagination', () => {
  async function walk(path: string, options: CallOptions = {}): Promise<{items: TimelineEvent[]; pages: number}> {
    const items: TimelineEvent[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const separator = path.includes('?') ? '&' : '?'
      const page: Page<TimelineEvent> = await jsonOf(await call(`${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ''}`, options))
      items.push(...page.items)
      cursor = page.nextCursor
      pages++
    } while (cursor !== null)
    return {items, pages}
  }

  it('walks /timeline 100 at a time: every event once, by ts then eventId', async () => {
    const {items, pages} = await walk('/timeline?limit=100')
    expect(acme().timeline.length).toBeGreaterThanOrEqual(250)
    expect(pages).toBe(Math.ceil(acme().timeline.length / 100))
    expect(items.map((e) => e.eventId)).toEqual(acme().timeline.map((e) => e.eventId))
    expect(new Set(items.map((e) => e.eventId)).size).toBe(items.length)
    let ties = 0
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1]!, items[i]!]
      expect(a.ts < b.ts || (a.ts === b.ts && a.eventId < b.eventId), `${a.eventId} before ${b.eventId}`).toBe(true)
      if (a.ts === b.ts) ties++
    }

    expect(ties).toBeGreaterThan(0)
    expect(items[0]).not.toHaveProperty('links')
  })

  it('the default page is 100 and 1000 is the most; above is a 400', async () => {
    expect((await jsonOf<Page<unknown>>(await call('/timeline'))).items).toHaveLength(100)
    const all = await jsonOf<Page<unknown>>(await call('/timeline?limit=1000'))
    expect(all.items).toHaveLength(acme().timeline.length)
    expect(all.nextCursor).toBeNull()
    expect(await problemOf(await call('/timeline?limit=1001'))).toEqual(badRequest('/timeline', 'limit_out_of_range', 'limit is 1001; it must be from 1 to 1000.'))
    expect(await problemOf(await call('/timeline?limit=0'))).toEqual(badRequest('/timeline', 'limit_out_of_range', 'limit is 0; it must be from 1 to 1000.'))
    expect(await problemOf(await call('/timeline?limit=ten'))).toEqual(badRequest('/timeline', 'bad_limit', 'limit must be a whole number from 1 to 1000.'))
  })

  it('a cursor only works for the query and tenant it came from', async () => {
    const first = await jsonOf<Page<TimelineEvent>>(await call('/timeline?limit=10&project=payments'))
    const cursor = encodeURIComponent(first.nextCursor!)
    const mismatch = badRequest('/timeline', 'cursor_mismatch', 'cursor belongs to a different query or tenant; pass the same filters as the request that returned it, or start again without it.')
    expect(await problemOf(await call(`/timeline?limit=10&project=checkout&cursor=${cursor}`))).toEqual(mismatch)
    expect(await problemOf(await call(`/timeline?limit=10&project=payments&cursor=${cursor}`, {token: TOKENS.globexAdmin, tenant: 'globex'}))).toEqual(mismatch)
    expect(await problemOf(await call(`/evidence?cursor=${cursor}`))).toMatchObject({reason: 'cursor_mismatch'})
    expect(await problemOf(await call('/timeline?cursor=garbage'))).toEqual(badRequest('/timeline', 'bad_cursor', 'cursor is not a cursor this server issued; start again without it.'))
    // The page size may change between pages.
    const second = await jsonOf<Page<TimelineEvent>>(await call(`/timeline?limit=20&project=payments&cursor=${cursor}`))
    const expected = acme().timeline.filter((e) => e.projectId === 'payments').slice(10, 30).map((e) => e.eventId)
    expect(second.items.map((e) => e.eventId)).toEqual(expected)
  })

  it('filters by kind, resource, project, traceId and time', async () => {
    const {items} = await walk('/timeline?kind=job.started,job.failed&limit=50')
    expect(items.map((e) => e.eventId)).toEqual(acme().timeline.filter((e) => e.kind === 'job.started' || e.kind === 'job.failed').map((e) => e.eventId))
    const event = acme().timeline[137]!
    expect((await jsonOf<Page<TimelineEvent>>(await call(`/timeline?resource=${event.resourceId}`))).items.map((e) => e.resourceId)).toContain(event.resourceId)
    const from = acme().timeline[50]!.ts
    const to = acme().timeline[60]!.ts
    const window = await jsonOf<Page<TimelineEvent>>(await call(`/timeline?from=${from}&to=${to}`))
    expect(window.items.map((e) => e.eventId)).toEqual(acme().timeline.filter((e) => e.ts >= from && e.ts < to).map((e) => e.eventId))
    const linked = acme().timeline.find((e) => e.links.trace)!
    const byTrace = await jsonOf<Page<TimelineEvent>>(await call(`/timeline?traceId=${linked.traceId}`))
    expect(byTrace.items.map((e) => e.eventId)).toContain(linked.eventId)
    expect(await problemOf(await call('/timeline?from=yesterday'))).toEqual(badRequest('/timeline', 'bad_time', 'from must be an RFC 3339 time such as 2026-11-22T10:00:00Z.'))
  })

  it('an event shows its links to a trace and to evidence', async () => {
    const withTrace = acme().timeline.find((e) => e.links.trace)!
    const detail = await jsonOf<TimelineEvent & {links: {trace?: string}}>(await call(`/timeline/${withTrace.eventId}`))
    expect(detail.links.trace).toBe(`/obs/trace/${withTrace.traceId}`)
    expect((await call(detail.links.trace!)).status).toBe(200)
    const withEvidence = acme().timeline.find((e) => e.links.evidence)!
    const evidence = await jsonOf<{links: {evidence?: string}}>(await call(`/timeline/${withEvidence.eventId}`))
    expect((await call(evidence.links.evidence!)).status).toBe(200)
  })
})

describe('logs', () => {
  const iso = (ms: number) => new Date(ms).toISOString()
  const inWindow = (from: number, to: number) =>
    acme().logs.filter((l) => {
      const ms = Number(BigInt(l.timeUnixNano as string) / 1_000_000n)
      return ms >= from && ms < to
    })

  it('rejects a window longer than 24h, saying the maximum', async () => {
    const to = server.state.anchor.getTime()
    const response = await call(`/obs/logs?from=${iso(to - 25 * 3600_000)}&to=${iso(to)}`)
    expect(response.status).toBe(400)
    expect(await problemOf(response)).toEqual(badRequest('/obs/logs', 'window_too_long', 'The logs window is 25h; the maximum is 24h. Narrow from/to to 24h or less.'))
    const justOver = await problemOf(await call(`/obs/logs?from=${iso(to - 24 * 3600_000 - 1000)}&to=${iso(to)}`))
    expect(justOver.detail).toBe('The logs window is 24h1s; the maximum is 24h. Narrow from/to to 24h or less.')
  })

  it('answers a 24h window with the records in it, oldest first', async () => {
    const to = server.state.anchor.getTime()
    const from = to - 24 * 3600_000
    const page = await jsonOf<Page<LogItem>>(await call(`/obs/logs?from=${iso(from)}&to=${iso(to)}&limit=1000`))
    expect(page.items.length).toBeGreaterThan(50)
    expect(page.items).toEqual(inWindow(from, to))
    expect(page.items[0]).toMatchObject({severityText: expect.any(String), body: {stringValue: expect.any(String)}, resource: {attributes: expect.any(Array)}, scope: {name: expect.any(String)}})
  })

  it('defaults to the last hour; with only a traceId, to the whole trace', async () => {
    const before = Date.now()
    const page = await jsonOf<Page<LogItem>>(await call('/obs/logs?limit=1000'))
    const after = Date.now()
    const expected = inWindow(before - 3600_000, after)
    expect(page.items.length).toBeGreaterThan(0)
    expect(page.items.length).toBeLessThanOrEqual(expected.length)
    for (const item of page.items) expect(expected).toContainEqual(item)

    const trace = acme().traces[4]!
    const byTrace = await jsonOf<Page<LogItem>>(await call(`/obs/logs?traceId=${trace.traceId}`))
    expect(byTrace.items).toHaveLength(5)
    expect(byTrace.items.every((l) => l.traceId === trace.traceId)).toBe(true)
  })

  it('filters by service, minimum level and text', async () => {
    const to = server.state.anchor.getTime()
    const from = to - 24 * 3600_000
    const window = `from=${iso(from)}&to=${iso(to)}&limit=1000`
    const errors = await jsonOf<Page<LogItem>>(await call(`/obs/logs?${window}&level=error`))
    expect(errors.items).toEqual(inWindow(from, to).filter((l) => (l.severityNumber as number) >= 17))
    const gateway = await jsonOf<Page<LogItem>>(await call(`/obs/logs?${window}&service=api-gateway`))
    expect(gateway.items.length).toBeGreaterThan(0)
    expect(gateway.items.every((l) => JSON.stringify(l.resource).includes('"api-gateway"'))).toBe(true)
    const text = await jsonOf<Page<LogItem>>(await call(`/obs/logs?${window}&q=QUEUE%20DEPTH`))
    expect(text.items).toEqual(inWindow(from, to).filter((l) => (l.body as {stringValue: string}).stringValue.includes('queue depth')))
    expect(await problemOf(await call('/obs/logs?level=loud'))).toEqual(badRequest('/obs/logs', 'bad_level', 'level must be one of trace, debug, info, warn, error, fatal.'))
  })
})

describe('evidence', () => {
  it('a snapshot goes pending → ready, downloads whole, and verifies with the server key', async () => {
    const created = await call('/evidence/snapshot', {body: {kind: 'evaluation', resourceId: 'eval-77', caseId: 'case-99'}})
    const accepted = await jsonOf<{bundleId: string; status: string}>(created, 202)
    expect(accepted.status).toBe('pending')
    expect(accepted.bundleId).toMatch(/^eb_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(created.headers.get('location')).toBe(`/evidence/${accepted.bundleId}`)

    const pending = await jsonOf<BundleDetail>(await call(`/evidence/${accepted.bundleId}`))
    expect(pending).toMatchObject({bundleId: accepted.bundleId, caseId: 'case-99', kind: 'evaluation', status: 'pending', rootHash: '', signerKeyId: server.keyId, manifest: null, envelope: null})
    const early = await call(`/evidence/${accepted.bundleId}/content`)
    expect(early.status).toBe(409)
    expect(await problemOf(early)).toMatchObject({reason: 'bundle_pending'})

    const ready = await jsonOf<BundleDetail>(await call(`/evidence/${accepted.bundleId}`))
    expect(ready.status).toBe('ready')
    const manifest = ready.manifest as {tenant: string; caseId: string; kind: string; subject: unknown; merkle: {root: string}; bundleId: string}
    expect(manifest).toMatchObject({tenant: 'acme', caseId: 'case-99', kind: 'evaluation', subject: {type: 'evaluation', id: 'eval-77'}, bundleId: accepted.bundleId})
    expect(ready.rootHash).toBe(manifest.merkle.root)
    expect(ready.signerKeyId).toBe(server.keyId)
    expect(ready.envelope.signatures[0]!.keyid).toBe(server.keyId)

    const content = await call(`/evidence/${accepted.bundleId}/content`)
    expect(content.status).toBe(200)
    expect(content.headers.get('content-type')).toBe('application/gzip')
    expect(content.headers.get('accept-ranges')).toBe('bytes')
    const bytes = await bytesOf(content)
    expect(content.headers.get('content-length')).toBe(String(bytes.length))
    expect(content.headers.get('etag')).toBe(`"${createHash('sha256').update(bytes).digest('hex')}"`)
    const report = await verifyBytes(bytes)
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([['container', 'ok'], ['manifest', 'ok'], ['files', 'ok'], ['merkle', 'ok'], ['statement', 'ok'], ['signatures', 'ok']])
    expect(report).toMatchObject({ok: true, bundleId: accepted.bundleId, tenant: 'acme', caseId: 'case-99', kind: 'evaluation'})
    expect(JSON.parse(filesOf(bytes).get('manifest.json')!.toString('utf8'))).toEqual(ready.manifest)

    const listed = await jsonOf<Page<Record<string, unknown>>>(await call('/evidence?caseId=case-99'))
    expect(listed.items).toEqual([{bundleId: accepted.bundleId, caseId: 'case-99', kind: 'evaluation', status: 'ready', rootHash: ready.rootHash, signerKeyId: server.keyId, createdAt: ready.createdAt}])
  })

  it('readyAfterPolls decides how many polls stay pending', async () => {
    server.state.readyAfterPolls = 4
    const {bundleId} = await jsonOf<{bundleId: string}>(await call('/evidence/snapshot', {body: {kind: 'job', resourceId: 'job-5', caseId: 'case-5'}}), 202)
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await jsonOf<BundleDetail>(await call(`/evidence/${bundleId}`))).status)
    expect(statuses).toEqual(['pending', 'pending', 'pending', 'ready', 'ready'])
  })

  it('a fail-* resource ends failed with an error and no content', async () => {
    server.state.readyAfterPolls = 1
    const {bundleId} = await jsonOf<{bundleId: string}>(await call('/evidence/snapshot', {body: {kind: 'export', resourceId: 'fail-export-3', caseId: 'case-5'}}), 202)
    const failed = await jsonOf<BundleDetail>(await call(`/evidence/${bundleId}`))
    expect(failed).toMatchObject({status: 'failed', error: 'evidence collection failed: export fail-export-3 has no recorded evidence', manifest: null})
    const content = await call(`/evidence/${bundleId}/content`)
    expect(content.status).toBe(409)
    expect(await problemOf(content)).toMatchObject({reason: 'bundle_failed'})
  })

  it('validates the snapshot body, naming the field', async () => {
    const cases: [unknown, string, string][] = [
      [{resourceId: 'r', caseId: 'c'}, 'invalid_field', 'The field "kind" must be one of evaluation, job, export.'],
      [{kind: 'telemetry', resourceId: 'r', caseId: 'c'}, 'invalid_field', 'The field "kind" must be one of evaluation, job, export.'],
      [{kind: 'job', caseId: 'c'}, 'invalid_field', 'The field "resourceId" is required and must be a non-empty string.'],
      [{kind: 'job', resourceId: 'r', caseId: ''}, 'invalid_field', 'The field "caseId" is required and must be a non-empty string.'],
      [{kind: 'job', resourceId: 'r', caseId: '../x'}, 'invalid_field', 'The field "caseId" must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.'],
      [[1, 2], 'invalid_body', 'The body must be a JSON object {kind, resourceId, caseId}.'],
      ['{"kind":', 'bad_json', 'The body is not valid JSON; send {kind, resourceId, caseId}.'],
    ]
    for (const [body, reason, detail] of cases) {
      expect(await problemOf(await call('/evidence/snapshot', {body})), JSON.stringify(body)).toEqual(badRequest('/evidence/snapshot', reason, detail))
    }
  })

  it('serves ranges: N-, N-M, suffix, If-Range, and 416 past the end', async () => {
    const bundle = firstBundle()
    const full = bundle.bytes!
    const size = full.length
    const path = `/evidence/${bundle.bundleId}/content`
    const etag = `"${createHash('sha256').update(full).digest('hex')}"`

    const tail = await call(path, {headers: {range: 'bytes=100-'}})
    expect(tail.status).toBe(206)
    expect(tail.headers.get('content-range')).toBe(`bytes 100-${size - 1}/${size}`)
    expect(tail.headers.get('content-length')).toBe(String(size - 100))
    expect(await bytesOf(tail)).toEqual(full.subarray(100))

    const middle = await call(path, {headers: {range: 'bytes=10-19'}})
    expect(middle.status).toBe(206)
    expect(middle.headers.get('content-range')).toBe(`bytes 10-19/${size}`)
    expect(await bytesOf(middle)).toEqual(full.subarray(10, 20))

    const suffix = await call(path, {headers: {range: 'bytes=-30'}})
    expect(suffix.headers.get('content-range')).toBe(`bytes ${size - 30}-${size - 1}/${size}`)
    expect(await bytesOf(suffix)).toEqual(full.subarray(size - 30))

    const beyond = await call(path, {headers: {range: `bytes=${size - 5}-${size + 1000}`}})
    expect(beyond.headers.get('content-range')).toBe(`bytes ${size - 5}-${size - 1}/${size}`)

    const same = await call(path, {headers: {range: 'bytes=50-', 'if-range': etag}})
    expect(same.status).toBe(206)
    await same.arrayBuffer()
    const changed = await call(path, {headers: {range: 'bytes=50-', 'if-range': '"something-else"'}})
    expect(changed.status).toBe(200)
    expect(await bytesOf(changed)).toEqual(full)
    const byDate = await call(path, {headers: {range: 'bytes=50-', 'if-range': new Date(bundle.createdAt).toUTCString()}})
    expect(byDate.status).toBe(206)
    await byDate.arrayBuffer()

    const unsatisfiable = await call(path, {headers: {range: `bytes=${size}-`}})
    expect(unsatisfiable.status).toBe(416)
    expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${size}`)
    expect(await problemOf(unsatisfiable)).toEqual({
      type: `${PROBLEMS}range-not-satisfiable`,
      title: 'Range not satisfiable',
      status: 416,
      detail: `The range bytes=${size}- starts at or past the end of the ${size}-byte bundle.`,
      instance: path,
      traceId: TRACE,
      reason: 'range_not_satisfiable',
    })
  })

  it('every seeded bundle is real: it verifies, and the server agrees', async () => {
    for (const tenant of [acme(), globex()]) {
      expect(tenant.bundles.length).toBeGreaterThanOrEqual(2)
      const token = tenant.id === 'acme' ? TOKENS.acmeAdmin : TOKENS.globexAdmin
      for (const bundle of tenant.bundles.filter((b) => seededBundleIds.has(b.bundleId))) {
        const report = await verifyBytes(bundle.bytes!)
        expect(report).toMatchObject({ok: true, tenant: tenant.id, caseId: bundle.caseId, kind: bundle.kind})
        const opinion = await jsonOf<{bundleId: string; verified: boolean; checks: {name: string; ok: boolean; detail: string}[]}>(await call('/evidence/verify', {token, tenant: tenant.id, body: {bundleId: bundle.bundleId}}))
        expect(opinion).toEqual({bundleId: bundle.bundleId, verified: true, checks: report.checks.map((c) => ({name: c.check, ok: true, detail: c.message}))})
      }
    }

    expect(new Set(acme().bundles.slice(0, 3).map((b) => b.caseId))).toEqual(new Set(['case-42', 'case-7']))
    expect(new Set(acme().bundles.slice(0, 3).map((b) => b.kind))).toEqual(new Set(['evaluation', 'job', 'export']))
  })

  it("the server's opinion follows the stored bytes", async () => {
    const {bundleId} = await jsonOf<{bundleId: string}>(await call('/evidence/snapshot', {body: {kind: 'job', resourceId: 'job-66', caseId: 'case-66'}}), 202)
    server.state.readyAfterPolls = 0
    await call(`/evidence/${bundleId}`)
    const stored = acme().bundles.find((b) => b.bundleId === bundleId)!
    const damaged = Buffer.from(stored.bytes!)
    damaged[damaged.length - 20]! ^= 0x01
    stored.bytes = damaged
    const opinion = await jsonOf<{verified: boolean; checks: {name: string; ok: boolean}[]}>(await call('/evidence/verify', {body: {bundleId}}))
    expect(opinion.verified).toBe(false)
    expect(opinion.checks.some((c) => !c.ok)).toBe(true)
  })

  it('lists by case and kind, without manifests', async () => {
    const page = await jsonOf<Page<Record<string, unknown>>>(await call('/evidence?caseId=case-42'))
    expect(page.items.map((b) => b.kind)).toEqual(['evaluation', 'job'])
    for (const item of page.items) expect(Object.keys(item).sort()).toEqual(['bundleId', 'caseId', 'createdAt', 'kind', 'rootHash', 'signerKeyId', 'status'])
    const exports = await jsonOf<Page<Record<string, unknown>>>(await call('/evidence?kind=export&caseId=case-7'))
    expect(exports.items.map((b) => b.bundleId)).toEqual([acme().bundles[2]!.bundleId])
    expect(await problemOf(await call('/evidence?kind=bogus'))).toEqual(badRequest('/evidence', 'bad_kind', 'kind must be one of evaluation, job, export, telemetry.'))
  })

  it('holds a case; the reason is required; unknown cases are 404', async () => {
    const response = await call('/evidence/hold/case-7', {body: {hold: true, reason: 'litigation LIT-7'}})
    const result = await jsonOf<{caseId: string; hold: boolean; reason: string; changedAt: string}>(response)
    expect(result).toMatchObject({caseId: 'case-7', hold: true, reason: 'litigation LIT-7'})
    expect(Date.now() - Date.parse(result.changedAt)).toBeLessThan(10_000)
    expect(acme().holds['case-7']).toEqual(result)
    expect(await problemOf(await call('/evidence/hold/case-7', {body: {hold: false}}))).toEqual(
      badRequest('/evidence/hold/case-7', 'invalid_field', 'The field "reason" is required: say why the hold is placed or lifted.'),
    )
    expect((await call('/evidence/hold/case-g1', {body: {hold: true, reason: 'x'}})).status).toBe(404)
  })
})

describe('attestations', () => {
  it('lists attestations whose DSSE envelopes carry SLSA provenance for the artifacts, signed by the server', async () => {
    const page = await jsonOf<Page<AttestationRecord>>(await call('/attestations'))
    expect(page.items.length).toBe(acme().artifacts.length)
    for (const artifact of acme().artifacts) {
      const digest = `sha256:${createHash('sha256').update(artifact.bytes).digest('hex')}`
      const found = await jsonOf<Page<AttestationRecord>>(await call(`/attestations?subjectDigest=${digest}`))
      expect(found.items).toHaveLength(1)
      const record = found.items[0]!
      expect(record.signerKeyId).toBe(server.keyId)
      const envelope = parseEnvelope(record.envelope)
      expect(envelope.payloadType).toBe('application/vnd.in-toto+json')
      expect(verifyEnvelope(envelope, [serverKey]).ok).toBe(true)
      const statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'))
      expect(statement).toMatchObject({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{name: artifact.name, digest: {sha256: digest.slice(7)}}],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {
          buildDefinition: {buildType: expect.any(String), externalParameters: expect.any(Object), internalParameters: expect.any(Object), resolvedDependencies: expect.any(Array)},
          runDetails: {builder: {id: expect.any(String)}, metadata: {invocationId: expect.any(String), startedOn: expect.any(String), finishedOn: expect.any(String)}},
        },
      })
      for (const dependency of statement.predicate.buildDefinition.resolvedDependencies) expect(dependency).toEqual({uri: expect.any(String), digest: expect.any(Object)})
    }

    const bySubject = await jsonOf<Page<AttestationRecord>>(await call('/attestations?subjectId=job-8812'))
    expect(bySubject.items.map((a) => a.subjectId)).toEqual(['job-8812'])
    const other = await jsonOf<Page<AttestationRecord>>(await call(`/attestations?subjectDigest=${globex().attestations[0]!.subjectDigest}`))
    expect(other.items).toEqual([])
  })

  it('verifies an envelope against a digest, check by check', async () => {
    const record = acme().attestations[0]!
    const good = await jsonOf<{verified: boolean; checks: {name: string; ok: boolean}[]}>(await call('/attestations/verify', {body: {envelope: record.envelope, subjectDigest: record.subjectDigest}}))
    expect(good.verified).toBe(true)
    expect(good.checks.map((c) => [c.name, c.ok])).toEqual([['envelope', true], ['payloadType', true], ['statement', true], ['subject', true], ['signature', true]])

    const wrongDigest = await jsonOf<{verified: boolean; checks: {name: string; ok: boolean; detail: string}[]}>(await call('/attestations/verify', {body: {envelope: record.envelope, subjectDigest: `sha256:${'0'.repeat(64)}`}}))
    expect(wrongDigest.verified).toBe(false)
    expect(wrongDigest.checks.find((c) => c.name === 'subject')).toEqual({name: 'subject', ok: false, detail: `no subject has digest sha256:${'0'.repeat(64)}`})

    const forged = {...record.envelope, payload: Buffer.from(Buffer.from(record.envelope.payload, 'base64').toString('utf8').replace('"_type"', '"_type" ')).toString('base64')}
    const bad = await jsonOf<{verified: boolean; checks: {name: string; ok: boolean}[]}>(await call('/attestations/verify', {body: {envelope: forged, subjectDigest: record.subjectDigest}}))
    expect(bad.checks.map((c) => [c.name, c.ok])).toEqual([['envelope', true], ['payloadType', true], ['statement', true], ['subject', true], ['signature', false]])
    expect(bad.verified).toBe(false)

    expect(await problemOf(await call('/attestations/verify', {body: {envelope: record.envelope, subjectDigest: 'md5:abc'}}))).toMatchObject({status: 400, reason: 'invalid_field'})
  })
})

describe('telemetry', () => {
  it('serves three signed collector profiles whose payload is the exact YAML', async () => {
    const configs: Record<string, unknown> = {}
    for (const name of ['default', 'forensic', 'airgap']) {
      const profile = await jsonOf<{name: string; version: string; config: string; envelope: {payloadType: string; payload: string; signatures: {keyid: string; sig: string}[]}}>(await call(`/telemetry/config/profile/${name}`))
      expect(profile.name).toBe(name)
      expect(profile.version).toMatch(/^\d+\.\d+\.\d+$/)
      expect(profile.envelope.payloadType).toBe('application/vnd.stellaops.collector-config+yaml')
      expect(Buffer.from(profile.envelope.payload, 'base64').toString('utf8')).toBe(profile.config)
      expect(verifyEnvelope(parseEnvelope(profile.envelope), [serverKey]).ok).toBe(true)
      const config = parseYaml(profile.config) as {receivers: Record<string, unknown>; processors: Record<string, unknown>; service: {pipelines: Record<string, unknown>}}
      expect(Object.keys(config.receivers)).toEqual(['otlp'])
      expect(Object.keys(config.processors)).toEqual(['memory_limiter', 'batch', 'tail_sampling'])
      expect(Object.keys(config.service.pipelines)).toEqual(['traces', 'logs', 'metrics'])
      configs[name] = config.processors.tail_sampling
    }

    expect(configs.default).not.toEqual(configs.forensic)
    expect(configs.forensic).not.toEqual(configs.airgap)
    const unknown = await call('/telemetry/config/profile/turbo')
    expect(unknown.status).toBe(404)
    expect((await problemOf(unknown)).detail).toBe('The profile turbo (profiles: default, forensic, airgap) does not exist in this tenant.')
  })

  it('incident mode: validated, per tenant, reflected in status', async () => {
    const path = '/telemetry/incidents/mode'
    expect(await problemOf(await call(path, {body: {enabled: true}}))).toEqual(badRequest(path, 'invalid_field', 'The field "reason" is required when enabling incident mode.'))
    for (const ttlSeconds of [59, 86_401, 1.5, '600']) {
      expect(await problemOf(await call(path, {body: {enabled: true, reason: 'outage', ttlSeconds}}))).toEqual(badRequest(path, 'invalid_field', 'The field "ttlSeconds" must be a whole number from 60 to 86400.'))
    }

    const before = Date.now()
    const on = await jsonOf<{enabled: boolean; expiresAt: string; samplingPercent: number; reason: string; changedBy: string}>(await call(path, {body: {enabled: true, reason: 'INC-1234 checkout errors', ttlSeconds: 600}}))
    expect(on).toMatchObject({enabled: true, samplingPercent: 100, reason: 'INC-1234 checkout errors', changedBy: 'acme-admin'})
    const expires = Date.parse(on.expiresAt)
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 600_000)
    expect(await jsonOf(await call(path, {token: TOKENS.acmeReader}))).toEqual(on)
    const status = await jsonOf<{profile: string; profileVersion: string; incidentMode: unknown; collectors: unknown[]}>(await call('/telemetry/status'))
    expect(status).toMatchObject({profile: 'default', profileVersion: '1.4.0', incidentMode: {enabled: true, expiresAt: on.expiresAt, samplingPercent: 100}})
    expect(status.collectors.length).toBeGreaterThan(0)
    expect(await jsonOf(await call(path, {token: TOKENS.globexAdmin, tenant: 'globex'}))).toEqual({enabled: false, expiresAt: null, samplingPercent: 10, reason: null, changedBy: null})

    const off = await jsonOf(await call(path, {body: {enabled: false, reason: 'resolved'}}))
    expect(off).toEqual({enabled: false, expiresAt: null, samplingPercent: 10, reason: 'resolved', changedBy: 'acme-admin'})
  })

  it('streams a forensic export as a real telemetry bundle, chunked', async () => {
    const response = await call('/telemetry/exports/forensic/24h')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/gzip')
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    const bytes = await bytesOf(response)
    const report = await verifyBytes(bytes)
    expect(report).toMatchObject({ok: true, kind: 'telemetry', tenant: 'acme', caseId: 'telemetry-export'})
    const files = filesOf(bytes)
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'))
    const to = server.state.anchor.getTime()
    expect(manifest.window).toEqual({from: new Date(to - 24 * 3600_000).toISOString(), to: new Date(to).toISOString()})
    expect(manifest.files.map((f: {path: string}) => f.path)).toEqual(['otlp/logs.pb', 'otlp/traces.pb'])
    const inWindow = (ms: number) => ms >= to - 24 * 3600_000 && ms < to
    type JsonSpan = {traceId: string; spanId: string; name: string; startTimeUnixNano: string; attributes: unknown[]}

    // traces.pb: one ExportTraceServiceRequest (resource_spans 1 > scope_spans 2 > spans 2) per trace.
    const traceFile = files.get('otlp/traces.pb')!
    const traceRequests = lengthFramed(traceFile)
    expect(traceRequests.reduce((n, m) => n + 4 + m.length, 0)).toBe(traceFile.length)
    const spans = traceRequests.flatMap((request) => wireAll(request, 1).flatMap((rs) => wireAll(rs, 2).flatMap((ss) => wireAll(ss, 2))))
    const traces = acme().traces.filter((t) => inWindow(t.startedAt.getTime()))
    expect(traceRequests).toHaveLength(traces.length)
    const jsonSpans = traces.flatMap((t) => (t.resourceSpans as {scopeSpans: {spans: JsonSpan[]}[]}[]).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)))
    expect(spans).toHaveLength(jsonSpans.length)
    const jsonSpan = jsonSpans[0]!
    const span = spans[0]!
    expect(wireBytes(span, 1)).toEqual(Buffer.from(jsonSpan.traceId, 'hex'))
    expect(wireBytes(span, 1)).toHaveLength(16)
    expect(wireBytes(span, 2)).toEqual(Buffer.from(jsonSpan.spanId, 'hex'))
    expect(wireString(span, 5)).toBe(jsonSpan.name)
    expect(wireFixed64(span, 7)).toBe(BigInt(jsonSpan.startTimeUnixNano))
    expect(wireAttributes(span, 9)).toEqual(jsonSpan.attributes)
    expect(wireAttributes(span, 9)[0]).toEqual({key: 'http.request.method', value: {stringValue: expect.any(String)}})

    // logs.pb: ExportLogsServiceRequests (resource_logs 1 > scope_logs 2 > log_records 2) of at most 100 records.
    const logFile = files.get('otlp/logs.pb')!
    const logRequests = lengthFramed(logFile)
    expect(logRequests.reduce((n, m) => n + 4 + m.length, 0)).toBe(logFile.length)
    const records = logRequests.map((request) => wireAll(request, 1).flatMap((rl) => {
      const service = wireAttributes(wireBytes(rl, 1), 1).find((a) => a.key === 'service.name')!.value
      return wireAll(rl, 2).flatMap((sl) => wireAll(sl, 2).map((record) => ({service, scope: wireString(wireBytes(sl, 1), 1), record})))
    }))
    const expected = acme().logs.filter((l) => inWindow(Number(BigInt(l.timeUnixNano as string) / 1_000_000n)))
    expect(records.flat()).toHaveLength(expected.length)
    expect(records.map((batch) => batch.length)).toEqual(Array.from({length: Math.ceil(expected.length / 100)}, (_, i) => Math.min(100, expected.length - i * 100)))
    const jsonRecord = expected.find((l) => l.traceId !== undefined)!
    const decoded = records.flat().filter((r) => wireFixed64(r.record, 1) === BigInt(jsonRecord.timeUnixNano as string))
    expect(decoded).toHaveLength(1)
    const {service, scope, record} = decoded[0]!
    const resource = jsonRecord.resource as {attributes: {key: string; value: unknown}[]}
    expect(service).toEqual(resource.attributes.find((a) => a.key === 'service.name')!.value)
    expect(scope).toBe((jsonRecord.scope as {name: string}).name)
    expect(wireBytes(record, 9)).toEqual(Buffer.from(jsonRecord.traceId as string, 'hex'))
    expect(wireBytes(record, 10)).toEqual(Buffer.from(jsonRecord.spanId as string, 'hex'))
    expect(wireAnyValue(wireBytes(record, 5))).toEqual(jsonRecord.body)
    expect(wireFixed64(record, 11)).toBe(BigInt(jsonRecord.observedTimeUnixNano as string))
    expect(wireAttributes(record, 6)).toEqual(jsonRecord.attributes)
    expect(wireAttributes(record, 6)).toEqual([{key: 'span.name', value: {stringValue: expect.any(String)}}])
  })

  it('with exportContentLength, an export has a length and resumes by Range to the same bytes', async () => {
    const whole = await bytesOf(await call('/telemetry/exports/forensic/15m?caseId=case-15'))
    server.state.exportContentLength = true
    const response = await call('/telemetry/exports/forensic/15m?caseId=case-15', {headers: {range: 'bytes=40-'}})
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe(`bytes 40-${whole.length - 1}/${whole.length}`)
    expect(await bytesOf(response)).toEqual(whole.subarray(40))
    const report = await verifyBytes(whole)
    expect(report).toMatchObject({ok: true, caseId: 'case-15'})
  })

  it('takes from/to instead of a window, and rejects bad windows', async () => {
    const to = server.state.anchor.getTime()
    const from = to - 3 * 24 * 3600_000
    const response = await call(`/telemetry/exports/forensic/custom?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`)
    const manifest = JSON.parse(filesOf(await bytesOf(response)).get('manifest.json')!.toString('utf8'))
    expect(manifest.window).toEqual({from: new Date(from).toISOString(), to: new Date(to).toISOString()})
    const base = '/telemetry/exports/forensic/'
    expect(await problemOf(await call(`${base}8d`))).toEqual(badRequest(`${base}8d`, 'window_too_long', 'The window 8d is longer than the maximum of 7d.'))
    expect(await problemOf(await call(`${base}soon`))).toEqual(badRequest(`${base}soon`, 'bad_window', 'The window "soon" is not a duration like 15m, 24h or 7d (or "custom" with from and to).'))
    expect(await problemOf(await call(`${base}custom`))).toMatchObject({reason: 'bad_window'})
    expect(await problemOf(await call(`${base}custom?from=2026-11-01T00:00:00Z`))).toEqual(badRequest(`${base}custom`, 'bad_window', 'Pass both from and to, or neither.'))
  })
})

describe('faults', () => {
  const content = () => `/evidence/${firstBundle().bundleId}/content`

  it('status: a problem with Retry-After, before auth, for the given number of times', async () => {
    server.inject('GET /obs/health', {status: 503, problem: {title: 'Service unavailable', detail: 'The gateway is restarting.'}, retryAfter: '7'}, {times: 2})
    for (let i = 0; i < 2; i++) {
      const response = await call('/obs/health', {token: null})
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('7')
      expect(await problemOf(response)).toEqual({
        type: `${PROBLEMS}service-unavailable`,
        title: 'Service unavailable',
        status: 503,
        detail: 'The gateway is restarting.',
        instance: '/obs/health',
        traceId: TRACE,
      })
    }

    expect((await call('/obs/health')).status).toBe(200)
  })

  it('status with no problem given gets a default one', async () => {
    server.inject('* *', {status: 429})
    expect(await problemOf(await call('/timeline'))).toEqual({
      type: `${PROBLEMS}too-many-requests`,
      title: 'Too Many Requests',
      status: 429,
      detail: 'The server answered 429 Too Many Requests.',
      instance: '/timeline',
      traceId: TRACE,
    })
    server.clearFaults()
    expect((await call('/timeline')).status).toBe(200)
  })

  it('html: a proxy page', async () => {
    server.inject('GET /obs/slo', {status: 502, html: '<html><body><h1>502 Bad Gateway</h1></body></html>'}, {times: 1})
    const response = await call('/obs/slo')
    expect(response.status).toBe(502)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await response.text()).toBe('<html><body><h1>502 Bad Gateway</h1></body></html>')
  })

  it('delayMs: answers normally, late', async () => {
    server.inject('GET /obs/metrics', {delayMs: 300}, {times: 1})
    const started = Date.now()
    expect((await call('/obs/metrics')).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it('dropAfterBytes: headers and N bytes, then the connection ends', async () => {
    server.inject('GET /evidence/:id/content', {dropAfterBytes: 1000}, {times: 1})
    const response = await call(content())
    expect(response.status).toBe(200)
    expect(response.headers.get('content-length')).toBe(String(firstBundle().bytes!.length))
    const reader = response.body!.getReader()
    let received = 0
    let failure: unknown
    try {
      for (;;) {
        const {done, value} = await reader.read()
        if (done) break
        received += value.length
      }
    } catch (error) {
      failure = error
    }

    expect(received).toBe(1000)
    expect(failure).toBeInstanceOf(Error)
    expect((await call(content())).status).toBe(200)
  })

  it('reset: the socket closes without an answer', async () => {
    server.inject('GET /evidence/{bundleId}', {reset: true}, {times: 1})
    await expect(call(`/evidence/${firstBundle().bundleId}`)).rejects.toThrow('fetch failed')
    expect((await call(`/evidence/${firstBundle().bundleId}`)).status).toBe(200)
  })

  it('tamper: one byte of a download flipped, same length and headers; only downloads count', async () => {
    server.inject('* *', {tamper: 'flip-byte'}, {times: 1})
    expect((await call('/obs/health')).status).toBe(200)
    const original = firstBundle().bytes!
    const response = await call(content())
    expect(response.headers.get('etag')).toBe(`"${createHash('sha256').update(original).digest('hex')}"`)
    const tampered = await bytesOf(response)
    expect(tampered.length).toBe(original.length)
    const differing = [...tampered.keys()].filter((i) => tampered[i] !== original[i])
    expect(differing).toEqual([Math.floor(original.length / 2)])
    expect(tampered[differing[0]!]).toBe(original[differing[0]!]! ^ 0xff)
    expect((await verifyBytes(tampered)).ok).toBe(false)
    expect(await bytesOf(await call(content()))).toEqual(original)
  })

  it('noContentLength: chunked, no Content-Length, Range ignored', async () => {
    server.inject('GET /evidence/:id/content', {noContentLength: true})
    const response = await call(content(), {headers: {range: 'bytes=100-'}})
    expect(response.status).toBe(200)
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('accept-ranges')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(await bytesOf(response)).toEqual(firstBundle().bytes)
  })

  it('badJson: a 200 whose body is not JSON', async () => {
    server.inject('GET /timeline', {badJson: true}, {times: 1})
    const response = await call('/timeline')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const text = await response.text()
    expect(text).toBe(BAD_JSON_BODY)
    expect(() => JSON.parse(text)).toThrow(SyntaxError)
  })

  it('faults only match their method and path', async () => {
    server.inject('POST /obs/health', {status: 500})
    server.inject('GET /evidence/:id', {status: 500})
    expect((await call('/obs/health')).status).toBe(200)
    expect((await call(content())).status).toBe(200)
    expect(() => server.inject('/obs/health', {status: 500})).toThrow('is not "METHOD /path"')
  })
})

describe('TLS', () => {
  let dir: {path: string; cleanup: () => void}
  const pem = (name: string) => readFileSync(join(dir.path, name), 'utf8')
  const openssl = (...args: string[]) => execFileSync('openssl', args, {cwd: dir.path, stdio: ['ignore', 'ignore', 'pipe']})

  function issue(name: string, subject: string, extensions: string): void {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject)
    writeFileSync(join(dir.path, `${name}.ext`), extensions)
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`)
  }

  beforeAll(() => {
    dir = scratchDir('stella-tls-')
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Contract Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
    issue('client', '/CN=stella-operator', 'extendedKeyUsage=clientAuth\n')
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.pem', '-days', '2', '-subj', '/CN=stranger')
  })
  afterAll(() => dir.cleanup())

  const headers = {authorization: `Bearer ${TOKENS.acmeAdmin}`, 'x-stella-tenant': 'acme'}

  it('serves HTTPS to a client that trusts the CA, and only to it', async () => {
    const tls = await startContractServer({tls: {key: pem('server.key'), cert: pem('server.pem')}})
    try {
      expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      const trusting = new Agent({connect: {ca: pem('ca.pem')}})
      const response = await undiciFetch(`${tls.url}/obs/health`, {headers, dispatcher: trusting})
      expect(response.status).toBe(200)
      expect(((await response.json()) as {services: unknown[]}).services.length).toBeGreaterThanOrEqual(4)
      await trusting.close()
      const untrusting = new Agent()
      await expect(undiciFetch(`${tls.url}/obs/health`, {headers, dispatcher: untrusting})).rejects.toThrow('fetch failed')
      await untrusting.close()
    } finally {
      await tls.close()
    }
  })

  it('with requestClientCert, requires a client certificate from the CA', async () => {
    const mtls = await startContractServer({tls: {key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem'), requestClientCert: true}})
    try {
      const anonymous = new Agent({connect: {ca: pem('ca.pem')}})
      await expect(undiciFetch(`${mtls.url}/obs/health`, {headers, dispatcher: anonymous})).rejects.toThrow('fetch failed')
      await anonymous.close()
      const withCert = new Agent({connect: {ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key')}})
      const response = await undiciFetch(`${mtls.url}/obs/health`, {headers, dispatcher: withCert})
      expect(response.status).toBe(200)
      await response.arrayBuffer()
      await withCert.close()
      // A certificate the CA did not sign is refused too.
      const stranger = new Agent({connect: {ca: pem('ca.pem'), cert: pem('stranger.pem'), key: pem('stranger.key')}})
      await expect(undiciFetch(`${mtls.url}/obs/health`, {headers, dispatcher: stranger})).rejects.toThrow('fetch failed')
      await stranger.close()
    } finally {
      await mtls.close()
    }
  })
})
