/**
 * W3C trace context for the requests of one CLI invocation: one trace id for the whole run (so an
 * operator can find every request of a command in the server's logs), a new span id per attempt.
 */
import {randomBytes} from 'node:crypto'

import {UsageError} from '../errors.js'

const TRACE_ID_RE = /^[0-9a-f]{32}$/
const INVALID_TRACE_ID = '0'.repeat(32)
const INVALID_SPAN_ID = '0'.repeat(16)

/** A random 16-byte trace id, as 32 lowercase hex digits (never the all-zero id, which W3C forbids). */
export function newTraceId(): string {
  for (;;) {
    const id = randomBytes(16).toString('hex')
    if (id !== INVALID_TRACE_ID) return id
  }
}

/** A random 8-byte span id, as 16 lowercase hex digits (never all zeros). */
export function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex')
    if (id !== INVALID_SPAN_ID) return id
  }
}

/** Accepts a caller-chosen trace id only in the W3C form, so the header is never malformed. */
export function checkTraceId(traceId: string): string {
  if (!TRACE_ID_RE.test(traceId) || traceId === INVALID_TRACE_ID) {
    throw new UsageError('INVALID_TRACE_ID', `"${traceId}" is not a trace id`, {
      remedy: 'A trace id is 32 lowercase hex digits, not all zeros (W3C trace context).',
    })
  }

  return traceId
}

/** `traceparent` of one attempt: version 00, the run's trace id, a fresh span id, sampled. */
export function traceparent(traceId: string, spanId = newSpanId()): string {
  return `00-${traceId}-${spanId}-01`
}
