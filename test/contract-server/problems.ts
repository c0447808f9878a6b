/** RFC 9457 problem documents as the contract server answers them. */
import {STATUS_CODES} from 'node:http'

import type {ProblemDocument} from '../../src/lib/api/types.js'

export const PROBLEM_BASE = 'https://stella-ops.org/problems/'

/** Thrown by a handler to answer with a problem; the server adds instance and traceId. */
export class HttpProblem extends Error {
  readonly status: number
  readonly problem: ProblemDocument
  readonly headers: Record<string, string>

  constructor(status: number, slug: string, title: string, detail: string, extra: {scope?: string; reason?: string; headers?: Record<string, string>} = {}) {
    super(detail)
    this.status = status
    this.headers = extra.headers ?? {}
    this.problem = {type: `${PROBLEM_BASE}${slug}`, title, status, detail}
    if (extra.scope !== undefined) this.problem.scope = extra.scope
    if (extra.reason !== undefined) this.problem.reason = extra.reason
  }
}

export function badRequest(reason: string, detail: string): HttpProblem {
  return new HttpProblem(400, 'bad-request', 'Bad request', detail, {reason})
}

export function notFound(what: string): HttpProblem {
  return new HttpProblem(404, 'not-found', 'Not found', `${what} does not exist in this tenant.`, {reason: 'not_found'})
}

export function conflict(reason: string, detail: string): HttpProblem {
  return new HttpProblem(409, 'conflict', 'Conflict', detail, {reason})
}

/** The full document, fields in a fixed order, with defaults for what a fault left out. */
export function problemDocument(status: number, partial: Partial<ProblemDocument>, instance: string, traceId: string): ProblemDocument {
  const title = partial.title ?? STATUS_CODES[status] ?? 'Error'
  const document: ProblemDocument = {
    type: partial.type ?? `${PROBLEM_BASE}${slugOf(title)}`,
    title,
    status,
    detail: partial.detail ?? `The server answered ${status} ${title}.`,
    instance: partial.instance ?? instance,
    traceId: partial.traceId ?? traceId,
  }
  if (partial.scope !== undefined) document.scope = partial.scope
  if (partial.reason !== undefined) document.reason = partial.reason
  return document
}

function slugOf(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}
