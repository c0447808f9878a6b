/**
 * When to try a request again, and how long to wait first. Only idempotent requests are retried;
 * the caller decides that. Waits follow the server's Retry-After when it sends one, else
 * exponential backoff with full jitter, so many clients hit by one outage do not return in step.
 */
import {InterruptedError} from '../errors.js'

export const DEFAULT_RETRIES = 3
export const BACKOFF_BASE_MS = 200
export const BACKOFF_CAP_MS = 5000

/** Statuses that say "not now" rather than "no": rate limited, or a gateway/server briefly unavailable. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504])

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status)
}

/**
 * The wait a `Retry-After` header asks for, in ms: delta-seconds or an HTTP date.
 * Undefined when absent or unreadable (then the client backs off on its own).
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** Full jitter: uniform in [0, min(cap, base * 2^(retry-1))], `retry` counting from 1. */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/** Waits `ms`, or rejects with InterruptedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new InterruptedError())
      return
    }

    const onAbort = () => {
      clearTimeout(timer)
      reject(new InterruptedError())
    }

    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}
