/**
 * Things to undo if the process is interrupted: temp files beside a target, half-done work.
 * Cleanups are synchronous because they run from a signal handler just before exit.
 */
const pending = new Set<() => void>()

/** Registers a cleanup; call the returned function once the work completed normally. */
export function onInterrupt(cleanup: () => void): () => void {
  pending.add(cleanup)
  return () => {
    pending.delete(cleanup)
  }
}

/** Runs every pending cleanup once, newest first, ignoring their failures. */
export function runInterruptCleanups(): void {
  for (const cleanup of [...pending].reverse()) {
    pending.delete(cleanup)
    try {
      cleanup()
    } catch {
      // Best effort: the process is about to exit and one failed cleanup must not stop the others.
    }
  }
}
