import {StellaError} from '../../src/lib/errors.js'

/** Runs `fn`, which must throw a StellaError, and returns that error for exact assertions. */
export function thrownBy(fn: () => unknown): StellaError {
  try {
    fn()
  } catch (error) {
    if (error instanceof StellaError) return error
    throw new Error(`expected a StellaError, got: ${String(error)}`)
  }

  throw new Error('expected a StellaError, nothing was thrown')
}

/** Awaits `promise`, which must reject with a StellaError, and returns that error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<StellaError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof StellaError) return error
    throw new Error(`expected a StellaError, got: ${String(error)}`)
  }

  throw new Error('expected a StellaError, the promise resolved')
}
