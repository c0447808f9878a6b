import {expect} from 'vitest'

import {OtlpDecodeError, type OtlpDecodeErrorCode} from '../../src/lib/otlp/errors.js'
import {thrownBy} from './errors.js'

/** `fn` must throw an OtlpDecodeError with this code and exactly this message (or one matching the pattern). */
export function expectOtlpError(fn: () => unknown, code: OtlpDecodeErrorCode, message: string | RegExp): OtlpDecodeError {
  const error = thrownBy(fn)
  expect(error).toBeInstanceOf(OtlpDecodeError)
  expect(error.code).toBe(code)
  if (typeof message === 'string') expect(error.message).toBe(message)
  else expect(error.message).toMatch(message)
  return error as OtlpDecodeError
}
