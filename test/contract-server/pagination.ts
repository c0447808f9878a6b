/** Cursor pagination shared by every list: `limit` 1..1000 (default 100) and an opaque cursor bound to its query. */
import {createHash} from 'node:crypto'

import type {Page} from '../../src/lib/api/types.js'
import {badRequest} from './problems.js'

export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 1000

/** What a cursor must come back with: the same list, tenant and filters. */
export interface ListQuery {
  list: string
  tenant: string
  /** Filters as given; limit and cursor are not part of them (a client may change the page size). */
  filters: Record<string, string>
}

/**
 * One page of a list. `pinNow` fixes a value the list depends on (e.g. a default "now") when the
 * first page is served; later pages get the same value back from their cursor, so that the
 * window does not move under a client walking the pages.
 */
export function paginate<T>(query: ListQuery, params: Record<string, string>, itemsFor: (pinned: string | undefined) => readonly T[], pinNow?: () => string): Page<T> {
  const limit = limitOf(params.limit)
  const cursor = params.cursor === undefined ? {offset: 0, pin: pinNow?.()} : readCursor(params.cursor, query)
  const items = itemsFor(cursor.pin)
  const page = items.slice(cursor.offset, cursor.offset + limit)
  const next = cursor.offset + page.length
  return {items: page, nextCursor: next < items.length ? encodeCursor(next, cursor.pin, query) : null}
}

function limitOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT
  if (!/^\d+$/.test(text)) throw badRequest('bad_limit', `limit must be a whole number from 1 to ${MAX_LIMIT}.`)
  const limit = Number(text)
  if (limit < 1 || limit > MAX_LIMIT) throw badRequest('limit_out_of_range', `limit is ${text}; it must be from 1 to ${MAX_LIMIT}.`)
  return limit
}

function fingerprintOf(query: ListQuery): string {
  const filters = Object.entries(query.filters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return createHash('sha256').update(JSON.stringify([query.list, query.tenant, filters])).digest('hex').slice(0, 16)
}

function encodeCursor(offset: number, pin: string | undefined, query: ListQuery): string {
  return Buffer.from(JSON.stringify({o: offset, q: fingerprintOf(query), ...(pin === undefined ? {} : {p: pin})})).toString('base64url')
}

function readCursor(cursor: string, query: ListQuery): {offset: number; pin: string | undefined} {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    decoded = undefined
  }

  const value = decoded as {o?: unknown; q?: unknown; p?: unknown} | undefined
  const valid = typeof value === 'object' && value !== null && Number.isSafeInteger(value.o) && (value.o as number) >= 0 && typeof value.q === 'string' && (value.p === undefined || typeof value.p === 'string')
  if (!valid) throw badRequest('bad_cursor', 'cursor is not a cursor this server issued; start again without it.')
  if (value.q !== fingerprintOf(query)) {
    throw badRequest('cursor_mismatch', 'cursor belongs to a different query or tenant; pass the same filters as the request that returned it, or start again without it.')
  }

  return {offset: value.o as number, pin: value.p as string | undefined}
}
