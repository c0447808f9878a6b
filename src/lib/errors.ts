/**
 * The one exit-code table of stella, and the typed errors that carry those codes.
 *
 * Every failure a user can cause or meet is a StellaError: a stable machine code
 * (`KEY_ENCRYPTED`), a message naming the problem, and a remedy saying what to do.
 * The base command turns any of them into one line on stderr (or the JSON envelope)
 * and the process exit status. Documented in docs/exit-codes.md — keep the two in step.
 */
export const ExitCode = {
  /** Everything worked and every check passed. */
  Ok: 0,
  /** The command ran, but the answer is negative: a verification or check failed. */
  Negative: 1,
  /** The command line is wrong: unknown flag, missing argument, bad value. */
  Usage: 2,
  /** An input (file, key, bundle, config) could not be read or is malformed. */
  Input: 3,
  /** The server could not be reached, or answered with an error. */
  Remote: 4,
  /** The server refused: missing or bad credentials, missing scope. */
  Auth: 5,
  /** Something that should never happen: a bug in stella. */
  Internal: 70,
  /** Interrupted by the user (Ctrl-C / SIGINT), 128 + 2 by convention. */
  Interrupted: 130,
  /** Stopped by SIGTERM, 128 + 15 by convention. */
  Terminated: 143,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface StellaErrorOptions {
  /** What the user should do about it, one sentence. */
  remedy?: string
  /** The underlying error, kept for --verbose. */
  cause?: unknown
}

/** Base of every expected failure. `code` is stable and documented; `message` is for humans. */
export class StellaError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly remedy: string | undefined

  constructor(exitCode: ExitCodeValue, code: string, message: string, options: StellaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = code
    this.exitCode = exitCode
    this.remedy = options.remedy
  }
}

/** A wrong command line or flag value (exit 2). */
export class UsageError extends StellaError {
  constructor(code: string, message: string, options?: StellaErrorOptions) {
    super(ExitCode.Usage, code, message, options)
  }
}

/** An input that cannot be read or is malformed (exit 3). */
export class InputError extends StellaError {
  constructor(code: string, message: string, options?: StellaErrorOptions) {
    super(ExitCode.Input, code, message, options)
  }
}

/** A check whose answer is "no" (exit 1). */
export class NegativeResultError extends StellaError {
  constructor(code: string, message: string, options?: StellaErrorOptions) {
    super(ExitCode.Negative, code, message, options)
  }
}

/** The server or network failed (exit 4). */
export class RemoteError extends StellaError {
  constructor(code: string, message: string, options?: StellaErrorOptions) {
    super(ExitCode.Remote, code, message, options)
  }
}

/** The server denied the request (exit 5). */
export class AuthError extends StellaError {
  constructor(code: string, message: string, options?: StellaErrorOptions) {
    super(ExitCode.Auth, code, message, options)
  }
}

/** The user interrupted the command (exit 130). */
export class InterruptedError extends StellaError {
  constructor(message = 'interrupted', options?: StellaErrorOptions) {
    super(ExitCode.Interrupted, 'INTERRUPTED', message, options)
  }
}

export function isStellaError(error: unknown): error is StellaError {
  return error instanceof StellaError
}
