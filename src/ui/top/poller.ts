/**
 * Asks a TopSource for a snapshot every interval, one request at a time: the next one starts when
 * the last has ended (right away if it took longer than the interval). Paused, it asks nothing and
 * drops what arrives; resumed, it asks at once. A failed request is reported, never thrown.
 */
import type {TopSnapshot, TopSource} from '../../services/obs/top-model.js'

export interface PollerListener {
  snapshot(snapshot: TopSnapshot): void
  failure(error: string, at: number): void
}

export class SnapshotPoller {
  readonly #source: TopSource
  readonly #intervalMs: number
  readonly #listener: PollerListener
  #timer: NodeJS.Timeout | undefined
  #inFlight = false
  #paused = false
  #stopped = false

  constructor(source: TopSource, intervalMs: number, listener: PollerListener) {
    this.#source = source
    this.#intervalMs = Math.max(0, intervalMs)
    this.#listener = listener
  }

  start(): void {
    void this.#poll()
  }

  setPaused(paused: boolean): void {
    if (paused === this.#paused || this.#stopped) return
    this.#paused = paused
    if (paused) this.#cancelTimer()
    // A request still running when the pause ended schedules the next one when it is done.
    else if (!this.#inFlight) void this.#poll()
  }

  /** Stops asking; a request in flight is left to the source's close() to end. */
  stop(): void {
    this.#stopped = true
    this.#cancelTimer()
  }

  async #poll(): Promise<void> {
    if (this.#stopped || this.#paused || this.#inFlight) return
    this.#cancelTimer()
    this.#inFlight = true
    const started = Date.now()
    try {
      const snapshot = await this.#source.snapshot()
      if (this.#listening()) this.#listener.snapshot(snapshot)
    } catch (error) {
      if (this.#listening()) this.#listener.failure(error instanceof Error ? error.message : String(error), Date.now())
    } finally {
      this.#inFlight = false
    }

    if (!this.#listening()) return
    this.#timer = setTimeout(() => void this.#poll(), Math.max(0, this.#intervalMs - (Date.now() - started)))
  }

  #listening(): boolean {
    return !this.#stopped && !this.#paused
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}

/** The last snapshot, marked stale by a failed request (a source normally does this itself). */
export function markStale(snapshot: TopSnapshot, error: string, at: number, retryInMs: number): TopSnapshot {
  return {...snapshot, stale: {since: snapshot.stale?.since ?? at, error, retryInMs}}
}
