import {InputError, type StellaErrorOptions} from '../errors.js'

/**
 * Why an OTLP body could not be decoded:
 * - `OTLP_MALFORMED`: not a valid message of the expected kind (the message says what and where:
 *   a byte offset for protobuf, a JSON path for OTLP/JSON);
 * - `OTLP_TOO_LARGE`: past a size or record-count limit the caller set;
 * - `OTLP_NOT_JSON`: an OTLP/JSON body that is not JSON (or not UTF-8) at all.
 */
export type OtlpDecodeErrorCode = 'OTLP_MALFORMED' | 'OTLP_TOO_LARGE' | 'OTLP_NOT_JSON'

export class OtlpDecodeError extends InputError {
  declare readonly code: OtlpDecodeErrorCode

  constructor(code: OtlpDecodeErrorCode, message: string, options?: StellaErrorOptions) {
    super(code, message, options)
  }
}

export function isOtlpDecodeError(error: unknown): error is OtlpDecodeError {
  return error instanceof OtlpDecodeError
}
