/** Bearer tokens, their scopes, tenant and traceparent checks. */
import {randomBytes} from 'node:crypto'

import {HttpProblem, badRequest} from './problems.js'

export const TENANTS = {acme: 'acme', globex: 'globex'} as const
export type TenantId = (typeof TENANTS)[keyof typeof TENANTS]

/** Fixed so that docs and tests can quote them; they protect nothing. */
export const TOKENS = {
  acmeAdmin: 'stk_acme_admin_6f1d2c9a8e4b7f30a5c1e2d9b8a7f6e5',
  acmeReader: 'stk_acme_reader_0b7e3f9a1c5d2e8f4a6b9c0d1e2f3a4b',
  globexAdmin: 'stk_globex_admin_9c2e7a1f4b8d3e6c0f5a2b9d8e1c7f4a',
  noScopes: 'stk_none_5a8c1e4f7b2d9a0c3e6f1b4d7a2c5e8f',
}

export const SCOPE_NAMES = [
  'obs:read',
  'timeline:read',
  'evidence:create',
  'evidence:read',
  'evidence:export',
  'attest:read',
  'telemetry:admin',
] as const
export type ScopeName = (typeof SCOPE_NAMES)[number]

export interface Principal {
  /** Shown as `changedBy`; never the token itself. */
  label: string
  scopes: ReadonlySet<string>
}

export function scopeString(scope: ScopeName, tenant: string): string {
  return `stella:${scope}#tenant/${tenant}`
}

const READER_SCOPES: ScopeName[] = ['obs:read', 'timeline:read', 'evidence:read', 'attest:read']

const PRINCIPALS = new Map<string, Principal>([
  [TOKENS.acmeAdmin, {label: 'acme-admin', scopes: new Set(SCOPE_NAMES.map((s) => scopeString(s, TENANTS.acme)))}],
  [TOKENS.acmeReader, {label: 'acme-reader', scopes: new Set(READER_SCOPES.map((s) => scopeString(s, TENANTS.acme)))}],
  [TOKENS.globexAdmin, {label: 'globex-admin', scopes: new Set(SCOPE_NAMES.map((s) => scopeString(s, TENANTS.globex)))}],
  [TOKENS.noScopes, {label: 'no-scopes', scopes: new Set()}],
])

const BEARER = /^Bearer ([\x21-\x7e]+)$/

export function authenticate(authorization: string | undefined): Principal {
  if (authorization === undefined || authorization === '') {
    throw new HttpProblem(401, 'unauthorized', 'Unauthorized', 'The request has no Authorization header; send "Authorization: Bearer <token>".', {
      reason: 'missing_token',
      headers: {'www-authenticate': 'Bearer realm="stellaops"'},
    })
  }

  const match = BEARER.exec(authorization)
  const principal = match ? PRINCIPALS.get(match[1]!) : undefined
  if (!principal) {
    throw new HttpProblem(401, 'unauthorized', 'Unauthorized', 'The bearer token is not valid: it is unknown, expired or revoked.', {
      reason: 'invalid_token',
      headers: {'www-authenticate': 'Bearer realm="stellaops", error="invalid_token"'},
    })
  }

  return principal
}

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/

export function requireTenant(header: string | undefined): string {
  if (header === undefined || header === '') throw badRequest('missing_tenant', 'The X-Stella-Tenant header is required on every request.')
  if (!TENANT_ID.test(header)) throw badRequest('bad_tenant', 'The X-Stella-Tenant header must be a tenant id: lowercase letters, digits and hyphens.')
  return header
}

/** 403 naming the missing scope; the detail names the endpoint, never the caller. */
export function requireScope(principal: Principal, scope: ScopeName, tenant: string, endpoint: string): void {
  const needed = scopeString(scope, tenant)
  if (principal.scopes.has(needed)) return
  throw new HttpProblem(403, 'forbidden', 'Forbidden', `${endpoint} requires the scope ${needed}, which this token does not have.`, {
    scope: needed,
    reason: 'missing_scope',
  })
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * The trace id of a W3C traceparent (version 00 only, lowercase hex, ids not all zero).
 * No header: the server starts its own trace. A malformed one: undefined, so the caller can
 * still answer with a trace id before it rejects the request.
 */
export function traceIdOf(traceparent: string | undefined): {traceId: string; valid: boolean} {
  if (traceparent === undefined) return {traceId: newTraceId(), valid: true}
  const match = TRACEPARENT.exec(traceparent.trim())
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return {traceId: newTraceId(), valid: false}
  return {traceId: match[1]!, valid: true}
}

export function badTraceparent(): HttpProblem {
  return badRequest('bad_traceparent', 'The traceparent header is malformed; send "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>" with non-zero ids.')
}

function newTraceId(): string {
  return randomBytes(16).toString('hex')
}
