/** The endpoints of spec/api.md: their scopes and handlers. */
import {createHash} from 'node:crypto'

import type {BundleDetail, HoldResult, LogItem, ProfileName, SnapshotKind, TimelineEvent} from '../../src/lib/api/types.js'
import {BUNDLE_KINDS} from '../../src/lib/bundle/manifest.js'
import type {Ed25519PrivateKey} from '../../src/lib/keys/index.js'
import {verifyAttestation} from './attestations.js'
import type {Principal, ScopeName} from './auth.js'
import {type BuiltBundle, buildSnapshot, bundleTime, metadataOf, newBundleId, verifyStored} from './evidence.js'
import {SEVERITY, msOfUnixNano} from './otlp-json.js'
import {paginate} from './pagination.js'
import {HttpProblem, badRequest, conflict, notFound} from './problems.js'
import {resourceAttribute} from './seed.js'
import type {ServerState, StoredBundle, TenantState} from './state.js'
import {PROFILE_NAMES, buildTelemetryExport, changeIncidentMode, currentIncidentMode, exportWindow, parseTime, profileResponse, profileVersion} from './telemetry.js'

export interface Context {
  method: string
  path: string
  query: Record<string, string>
  /** Names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>
  /** The parsed JSON body; `invalidJson` when a body was sent that is not JSON. */
  body: unknown
  invalidJson: boolean
  params: Record<string, string>
  principal: Principal
  tenant: TenantState
  server: Server
  /** Download faults in effect for this request. */
  download: {tamper: boolean; noContentLength: boolean}
}

export interface Server {
  url: string
  state: ServerState
  key: Ed25519PrivateKey
  /** Telemetry exports already built, so a resumed download gets the same bytes. */
  exports: Map<string, Promise<BuiltBundle>>
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: Buffer
  /** Streamed in chunks, with no Content-Length. */
  chunked?: boolean
}

export interface Route {
  method: 'GET' | 'POST'
  /** With `{param}` segments, as spec/api.md writes them. */
  pattern: string
  scope: ScopeName
  /** Serves a bundle: the download faults (tamper, noContentLength) apply. */
  download?: boolean
  handle(ctx: Context): Reply | Promise<Reply>
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {status, headers: {'content-type': 'application/json; charset=utf-8', ...headers}, body: Buffer.from(JSON.stringify(value))}
}

// ---------------------------------------------------------------------------------------
// Query helpers
// ---------------------------------------------------------------------------------------

/** The filters a list was asked for: everything but limit and cursor. */
function filtersOf(query: Record<string, string>): Record<string, string> {
  const {limit: _limit, cursor: _cursor, ...filters} = query
  return filters
}

const TRACE_ID = /^[0-9a-f]{32}$/

function traceIdParam(name: string, value: string): string {
  const id = value.toLowerCase()
  if (!TRACE_ID.test(id)) throw badRequest('bad_trace_id', `${name} must be a trace id of 32 hex digits.`)
  return id
}

function optionalTime(query: Record<string, string>, name: 'from' | 'to'): Date | undefined {
  return query[name] === undefined ? undefined : parseTime(name, query[name])
}

export const MAX_LOG_WINDOW_MS = 24 * 3600 * 1000
export const DEFAULT_LOG_WINDOW_MS = 3600 * 1000

function durationText(ms: number): string {
  const seconds = Math.round(ms / 1000)
  const parts = [[Math.floor(seconds / 3600), 'h'], [Math.floor((seconds % 3600) / 60), 'm'], [seconds % 60, 's']] as const
  const text = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('')
  return text === '' ? '0s' : text
}

/**
 * The logs window: from and to as given; a missing `to` is now (pinned by the first page), a
 * missing `from` is an hour before `to`; with only a traceId, no window at all.
 */
function logWindow(query: Record<string, string>, pinnedNow: string): {from: number; to: number} | undefined {
  const from = optionalTime(query, 'from')
  const to = optionalTime(query, 'to')
  if (!from && !to && query.traceId !== undefined) return undefined
  const end = to ?? new Date(pinnedNow)
  const start = from ?? new Date(end.getTime() - DEFAULT_LOG_WINDOW_MS)
  if (start >= end) throw badRequest('bad_window', 'from must be before to.')
  const length = end.getTime() - start.getTime()
  if (length > MAX_LOG_WINDOW_MS) {
    throw badRequest('window_too_long', `The logs window is ${durationText(length)}; the maximum is 24h. Narrow from/to to 24h or less.`)
  }

  return {from: start.getTime(), to: end.getTime()}
}

const LEVELS = Object.keys(SEVERITY).map((l) => l.toLowerCase())

function filterLogs(logs: readonly LogItem[], query: Record<string, string>, pinnedNow: string): LogItem[] {
  const window = logWindow(query, pinnedNow)
  const traceId = query.traceId === undefined ? undefined : traceIdParam('traceId', query.traceId)
  let minSeverity = 0
  if (query.level !== undefined) {
    const level = query.level.toLowerCase()
    if (!LEVELS.includes(level)) throw badRequest('bad_level', `level must be one of ${LEVELS.join(', ')}.`)
    minSeverity = SEVERITY[level.toUpperCase() as keyof typeof SEVERITY]
  }

  const q = query.q?.toLowerCase()
  return logs.filter((item) => {
    if (window) {
      const ms = msOfUnixNano(item.timeUnixNano as string)
      if (ms < window.from || ms >= window.to) return false
    }

    if (traceId !== undefined && item.traceId !== traceId) return false
    if (query.service !== undefined && resourceAttribute(item, 'service.name') !== query.service) return false
    if ((item.severityNumber as number) < minSeverity) return false
    if (q !== undefined && !String((item.body as {stringValue?: string}).stringValue ?? '').toLowerCase().includes(q)) return false
    return true
  })
}

function filterTimeline(events: readonly TimelineEvent[], query: Record<string, string>): TimelineEvent[] {
  const from = optionalTime(query, 'from')
  const to = optionalTime(query, 'to')
  if (from && to && from >= to) throw badRequest('bad_window', 'from must be before to.')
  const kinds = query.kind?.split(',').filter(Boolean)
  const traceId = query.traceId === undefined ? undefined : traceIdParam('traceId', query.traceId)
  return events.filter((event) => {
    const ts = Date.parse(event.ts)
    if (from && ts < from.getTime()) return false
    if (to && ts >= to.getTime()) return false
    if (kinds && !kinds.includes(event.kind)) return false
    if (query.resource !== undefined && event.resourceId !== query.resource) return false
    if (query.project !== undefined && event.projectId !== query.project) return false
    if (traceId !== undefined && event.traceId !== traceId) return false
    return true
  })
}

/** The timeline list shows events; their links are for the single-event view. */
function withoutLinks({links: _links, ...event}: TenantState['timeline'][number]): TimelineEvent {
  return event
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

function objectBody(ctx: Context, shape: string): Record<string, unknown> {
  if (ctx.invalidJson) throw badRequest('bad_json', `The body is not valid JSON; send ${shape}.`)
  if (typeof ctx.body !== 'object' || ctx.body === null || Array.isArray(ctx.body)) throw badRequest('invalid_body', `The body must be a JSON object ${shape}.`)
  return ctx.body as Record<string, unknown>
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

function idField(body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value !== 'string' || value === '') throw badRequest('invalid_field', `The field "${field}" is required and must be a non-empty string.`)
  if (!ID.test(value)) throw badRequest('invalid_field', `The field "${field}" must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.`)
  return value
}

// ---------------------------------------------------------------------------------------
// Downloads
// ---------------------------------------------------------------------------------------

function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex')}"`
}

/** If-Range holds when it names the current strong ETag or exactly the Last-Modified date. */
function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true
  const value = ifRange.trim()
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag
  const date = Date.parse(value)
  return !Number.isNaN(date) && date === Date.parse(lastModified)
}

/**
 * A gzip download: whole (200), one range (206), or 416 when the range starts past the end.
 * Multiple ranges and malformed Range headers are ignored (200), as RFC 9110 allows.
 */
function download(ctx: Context, full: Buffer, options: {filename: string; createdAt: string; ranges: boolean}): Reply {
  let bytes = full
  if (ctx.download.tamper && bytes.length > 0) {
    bytes = Buffer.from(full)
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff
  }

  const headers: Record<string, string> = {'content-type': 'application/gzip', 'content-disposition': `attachment; filename="${options.filename}"`}
  if (!options.ranges || ctx.download.noContentLength) return {status: 200, headers, body: bytes, chunked: true}

  // A tampering proxy keeps the headers: the ETag is that of the bytes the server holds.
  const etag = etagOf(full)
  const lastModified = new Date(options.createdAt).toUTCString()
  Object.assign(headers, {etag, 'last-modified': lastModified, 'accept-ranges': 'bytes'})
  const range = /^bytes=(\d*)-(\d*)$/.exec((ctx.headers.range ?? '').trim())
  if (!range || (range[1] === '' && range[2] === '') || !ifRangeHolds(ctx.headers['if-range'], etag, lastModified)) return {status: 200, headers, body: bytes}

  const size = bytes.length
  let start: number
  let end: number
  if (range[1] === '') {
    // bytes=-N: the last N bytes.
    const suffix = Number(range[2])
    start = Math.max(0, size - suffix)
    end = size - 1
    if (suffix === 0) start = size
  } else {
    start = Number(range[1])
    end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1)
    if (range[2] !== '' && Number(range[2]) < start) return {status: 200, headers, body: bytes}
  }

  if (start >= size) {
    throw new HttpProblem(416, 'range-not-satisfiable', 'Range not satisfiable', `The range ${ctx.headers.range} starts at or past the end of the ${size}-byte bundle.`, {
      reason: 'range_not_satisfiable',
      headers: {'content-range': `bytes */${size}`},
    })
  }

  return {status: 206, headers: {...headers, 'content-range': `bytes ${start}-${end}/${size}`}, body: bytes.subarray(start, end + 1)}
}

// ---------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------

function bundleOf(ctx: Context, id: string): StoredBundle {
  const bundle = ctx.tenant.bundles.find((b) => b.bundleId === id)
  if (!bundle) throw notFound(`The bundle ${id}`)
  return bundle
}

function requireReady(bundle: StoredBundle): Buffer {
  if (bundle.status === 'pending') throw conflict('bundle_pending', `The bundle ${bundle.bundleId} is still being built; poll GET /evidence/${bundle.bundleId} until its status is ready.`)
  if (bundle.status === 'failed' || !bundle.bytes) throw conflict('bundle_failed', `The bundle ${bundle.bundleId} failed and has no content: ${bundle.error ?? 'no bundle was built'}.`)
  return bundle.bytes
}

const SNAPSHOT_KINDS: readonly SnapshotKind[] = ['evaluation', 'job', 'export']

async function createSnapshot(ctx: Context): Promise<Reply> {
  const body = objectBody(ctx, '{kind, resourceId, caseId}')
  if (typeof body.kind !== 'string' || !SNAPSHOT_KINDS.includes(body.kind as SnapshotKind)) {
    throw badRequest('invalid_field', `The field "kind" must be one of ${SNAPSHOT_KINDS.join(', ')}.`)
  }

  const kind = body.kind as SnapshotKind
  const resourceId = idField(body, 'resourceId')
  const caseId = idField(body, 'caseId')
  const now = new Date()
  const createdAt = bundleTime(now)
  const bundleId = newBundleId(now)
  const bundle: StoredBundle = {bundleId, caseId, kind, resourceId, outcome: 'ready', status: 'pending', createdAt, polls: 0}
  if (resourceId.startsWith('fail-')) {
    bundle.outcome = 'failed'
    bundle.error = `evidence collection failed: ${kind} ${resourceId} has no recorded evidence`
  } else {
    const built = await buildSnapshot(ctx.tenant.id, kind, resourceId, caseId, createdAt, ctx.server.key, bundleId)
    Object.assign(bundle, {bytes: built.bytes, manifest: built.manifest, envelope: built.envelope})
  }

  ctx.tenant.bundles.push(bundle)
  return json(202, {bundleId, status: 'pending'}, {location: `/evidence/${bundleId}`})
}

function bundleDetail(ctx: Context): Reply {
  const bundle = bundleOf(ctx, ctx.params.bundleId!)
  bundle.polls++
  if (bundle.status === 'pending' && bundle.polls >= ctx.server.state.readyAfterPolls) bundle.status = bundle.outcome
  const ready = bundle.status === 'ready'
  const detail = {...metadataOf(bundle, ctx.server.key.public.keyid), manifest: ready ? bundle.manifest : null, envelope: ready ? bundle.envelope : null}
  return json(200, detail as BundleDetail)
}

function listBundles(ctx: Context): Reply {
  const kinds: readonly string[] = BUNDLE_KINDS
  if (ctx.query.kind !== undefined && !kinds.includes(ctx.query.kind)) throw badRequest('bad_kind', `kind must be one of ${kinds.join(', ')}.`)
  const page = paginate({list: 'evidence', tenant: ctx.tenant.id, filters: filtersOf(ctx.query)}, ctx.query, () =>
    ctx.tenant.bundles.filter((b) => (ctx.query.caseId === undefined || b.caseId === ctx.query.caseId) && (ctx.query.kind === undefined || b.kind === ctx.query.kind)),
  )
  return json(200, {items: page.items.map((b) => metadataOf(b, ctx.server.key.public.keyid)), nextCursor: page.nextCursor})
}

async function verifyBundleRoute(ctx: Context): Promise<Reply> {
  const body = objectBody(ctx, '{bundleId}')
  if (typeof body.bundleId !== 'string' || body.bundleId === '') throw badRequest('invalid_field', 'The field "bundleId" is required and must be a non-empty string.')
  const bundle = bundleOf(ctx, body.bundleId)
  requireReady(bundle)
  return json(200, await verifyStored(bundle, ctx.server.key))
}

function hold(ctx: Context): Reply {
  const caseId = ctx.params.caseId!
  const body = objectBody(ctx, '{hold, reason}')
  if (typeof body.hold !== 'boolean') throw badRequest('invalid_field', 'The field "hold" must be true or false.')
  if (typeof body.reason !== 'string' || body.reason.trim() === '') throw badRequest('invalid_field', 'The field "reason" is required: say why the hold is placed or lifted.')
  if (!ctx.tenant.bundles.some((b) => b.caseId === caseId)) throw notFound(`The case ${caseId}`)
  const result: HoldResult = {caseId, hold: body.hold, reason: body.reason.trim(), changedAt: new Date().toISOString()}
  ctx.tenant.holds[caseId] = result
  return json(200, result)
}

// ---------------------------------------------------------------------------------------
// Telemetry
// ---------------------------------------------------------------------------------------

async function forensicExport(ctx: Context): Promise<Reply> {
  const {state} = ctx.server
  const window = exportWindow(ctx.params.window!, ctx.query, state.anchor)
  const caseId = ctx.query.caseId ?? 'telemetry-export'
  if (!ID.test(caseId)) throw badRequest('invalid_field', 'caseId must be 1 to 128 letters, digits, ".", "_", ":" or "-".')
  const key = JSON.stringify([ctx.tenant.id, window.from.toISOString(), window.to.toISOString(), caseId])
  let built = ctx.server.exports.get(key)
  if (!built) {
    built = buildTelemetryExport(ctx.tenant, window, caseId, state.anchor, ctx.server.key)
    ctx.server.exports.set(key, built)
  }

  const bundle = await built
  return download(ctx, bundle.bytes, {filename: `${bundle.manifest.bundleId}.tar.gz`, createdAt: bundle.manifest.createdAt, ranges: state.exportContentLength})
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

export const ROUTES: Route[] = [
  {method: 'GET', pattern: '/obs/health', scope: 'obs:read', handle: (ctx) => json(200, {...ctx.tenant.health, generatedAt: new Date().toISOString()})},
  {method: 'GET', pattern: '/obs/slo', scope: 'obs:read', handle: (ctx) => json(200, {items: ctx.tenant.slo})},
  {method: 'GET', pattern: '/obs/metrics', scope: 'obs:read', handle: (ctx) => json(200, {...ctx.tenant.metrics, generatedAt: new Date().toISOString()})},
  {
    method: 'GET',
    pattern: '/obs/trace/{traceId}',
    scope: 'obs:read',
    handle(ctx) {
      const traceId = traceIdParam('The trace id', ctx.params.traceId!)
      const trace = ctx.tenant.traces.find((t) => t.traceId === traceId)
      if (!trace) throw notFound(`The trace ${traceId}`)
      return json(200, {traceId, deepLink: `${ctx.server.url}/console/traces/${traceId}?tenant=${ctx.tenant.id}`, resourceSpans: trace.resourceSpans})
    },
  },
  {
    method: 'GET',
    pattern: '/obs/logs',
    scope: 'obs:read',
    handle: (ctx) =>
      json(200, paginate({list: 'logs', tenant: ctx.tenant.id, filters: filtersOf(ctx.query)}, ctx.query, (now) => filterLogs(ctx.tenant.logs, ctx.query, now!), () => new Date().toISOString())),
  },
  {
    method: 'GET',
    pattern: '/timeline',
    scope: 'timeline:read',
    handle: (ctx) => json(200, paginate({list: 'timeline', tenant: ctx.tenant.id, filters: filtersOf(ctx.query)}, ctx.query, () => filterTimeline(ctx.tenant.timeline.map(withoutLinks), ctx.query))),
  },
  {
    method: 'GET',
    pattern: '/timeline/{eventId}',
    scope: 'timeline:read',
    handle(ctx) {
      const event = ctx.tenant.timeline.find((e) => e.eventId === ctx.params.eventId)
      if (!event) throw notFound(`The timeline event ${ctx.params.eventId}`)
      return json(200, event)
    },
  },
  {method: 'POST', pattern: '/evidence/snapshot', scope: 'evidence:create', handle: createSnapshot},
  {method: 'GET', pattern: '/evidence', scope: 'evidence:read', handle: listBundles},
  {method: 'POST', pattern: '/evidence/verify', scope: 'evidence:read', handle: verifyBundleRoute},
  {method: 'POST', pattern: '/evidence/hold/{caseId}', scope: 'evidence:create', handle: hold},
  {method: 'GET', pattern: '/evidence/{bundleId}', scope: 'evidence:read', handle: bundleDetail},
  {
    method: 'GET',
    pattern: '/evidence/{bundleId}/content',
    scope: 'evidence:export',
    download: true,
    handle(ctx) {
      const bundle = bundleOf(ctx, ctx.params.bundleId!)
      return download(ctx, requireReady(bundle), {filename: `${bundle.bundleId}.tar.gz`, createdAt: bundle.createdAt, ranges: true})
    },
  },
  {
    method: 'GET',
    pattern: '/attestations',
    scope: 'attest:read',
    handle(ctx) {
      const {subjectId, subjectDigest} = ctx.query
      if (subjectDigest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(subjectDigest)) throw badRequest('bad_digest', 'subjectDigest must be "sha256:" and 64 lowercase hex digits.')
      return json(200, paginate({list: 'attestations', tenant: ctx.tenant.id, filters: filtersOf(ctx.query)}, ctx.query, () =>
        ctx.tenant.attestations.filter((a) => (subjectId === undefined || a.subjectId === subjectId) && (subjectDigest === undefined || a.subjectDigest === subjectDigest)),
      ))
    },
  },
  {
    method: 'POST',
    pattern: '/attestations/verify',
    scope: 'attest:read',
    handle(ctx) {
      const body = objectBody(ctx, '{envelope, subjectDigest}')
      if (typeof body.envelope !== 'object' || body.envelope === null || Array.isArray(body.envelope)) throw badRequest('invalid_field', 'The field "envelope" must be a DSSE envelope object.')
      if (typeof body.subjectDigest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(body.subjectDigest)) {
        throw badRequest('invalid_field', 'The field "subjectDigest" must be "sha256:" and 64 lowercase hex digits.')
      }

      return json(200, verifyAttestation(body.envelope, body.subjectDigest, ctx.server.key))
    },
  },
  {
    method: 'GET',
    pattern: '/telemetry/config/profile/{name}',
    scope: 'telemetry:admin',
    handle(ctx) {
      const name = ctx.params.name as ProfileName
      if (!PROFILE_NAMES.includes(name)) throw notFound(`The profile ${ctx.params.name} (profiles: ${PROFILE_NAMES.join(', ')})`)
      return json(200, profileResponse(name, ctx.server.key))
    },
  },
  {
    method: 'GET',
    pattern: '/telemetry/status',
    scope: 'obs:read',
    handle(ctx) {
      const mode = currentIncidentMode(ctx.tenant, new Date())
      const {profile, collectors} = ctx.tenant.telemetry
      return json(200, {profile, profileVersion: profileVersion(profile), incidentMode: {enabled: mode.enabled, expiresAt: mode.expiresAt, samplingPercent: mode.samplingPercent}, collectors})
    },
  },
  {method: 'GET', pattern: '/telemetry/incidents/mode', scope: 'obs:read', handle: (ctx) => json(200, currentIncidentMode(ctx.tenant, new Date()))},
  {
    method: 'POST',
    pattern: '/telemetry/incidents/mode',
    scope: 'telemetry:admin',
    handle(ctx) {
      const body = objectBody(ctx, '{enabled, ttlSeconds?, reason}')
      return json(200, changeIncidentMode(ctx.tenant, body, ctx.principal.label, new Date()))
    },
  },
  {method: 'GET', pattern: '/telemetry/exports/forensic/{window}', scope: 'evidence:export', download: true, handle: forensicExport},
]

export interface RouteMatch {
  route: Route
  params: Record<string, string>
}

/** The route for a request, or the methods the path allows (405), or nothing (404). */
export function matchRoute(method: string, path: string): RouteMatch | {allow: string[]} | undefined {
  const segments = path.split('/')
  const matches: RouteMatch[] = []
  for (const route of ROUTES) {
    const parts = route.pattern.split('/')
    if (parts.length !== segments.length) continue
    const params: Record<string, string> = {}
    let ok = true
    for (const [i, part] of parts.entries()) {
      const segment = segments[i]!
      if (part.startsWith('{')) {
        if (segment === '') ok = false
        else params[part.slice(1, -1)] = decodeSegment(segment)
      } else if (part !== segment) {
        ok = false
      }

      if (!ok) break
    }

    if (ok) matches.push({route, params})
  }

  if (matches.length === 0) return undefined
  const wanted = method === 'HEAD' ? 'GET' : method
  // A literal segment beats a parameter: POST /evidence/verify is not a bundle called "verify".
  const specificity = (m: RouteMatch) => Object.keys(m.params).length
  const found = matches.filter((m) => m.route.method === wanted).sort((a, b) => specificity(a) - specificity(b))[0]
  if (found) return found
  const allow = new Set<string>()
  for (const m of matches) {
    allow.add(m.route.method)
    if (m.route.method === 'GET') allow.add('HEAD')
  }

  return {allow: [...allow].sort()}
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw badRequest('bad_path', 'The request path is not valid percent-encoding.')
  }
}
