/**
 * in-toto Statement v1 (github.com/in-toto/attestation, spec/v1/statement.md): the signed claim
 * "these subjects, identified by digest, have this predicate". Parsing checks the shape only;
 * whether a subject is the artifact at hand is `subjectWithSha256`'s question.
 */
import {fromUtf8Strict} from '../encoding.js'
import {InputError, type StellaErrorOptions} from '../errors.js'

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1'

/** A ResourceDescriptor as subjects use it: at least a digest, usually a name. */
export interface StatementSubject {
  name?: string
  uri?: string
  /** Algorithm → hex digest, e.g. {sha256: "…"}. */
  digest: Record<string, string>
  [field: string]: unknown
}

export interface InTotoStatement {
  _type: typeof STATEMENT_V1
  subject: StatementSubject[]
  predicateType: string
  predicate?: Record<string, unknown>
}

/**
 * Why a payload is not an in-toto Statement v1:
 * - STATEMENT_NOT_JSON: not UTF-8, not JSON, or not a JSON object
 * - STATEMENT_TYPE: `_type` is missing or another version (e.g. Statement/v0.1)
 * - STATEMENT_SCHEMA: a field is missing or has the wrong type (the message names it)
 */
export type StatementErrorCode = 'STATEMENT_NOT_JSON' | 'STATEMENT_TYPE' | 'STATEMENT_SCHEMA'

export class StatementError extends InputError {
  declare readonly code: StatementErrorCode

  constructor(code: StatementErrorCode, message: string, options?: StellaErrorOptions) {
    super(code, message, options)
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A digest set: a non-empty object of algorithm → string; undefined when the value is not one. */
export function digestSet(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined
  const entries = Object.entries(value)
  if (entries.length === 0 || !entries.every(([, digest]) => typeof digest === 'string' && digest !== '')) return undefined
  return value as Record<string, string>
}

/** Parses the exact payload bytes that were (or were to be) verified. */
export function parseStatement(payload: Uint8Array): InTotoStatement {
  const text = fromUtf8Strict(payload)
  if (text === undefined) throw new StatementError('STATEMENT_NOT_JSON', 'the payload is not UTF-8 text')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new StatementError('STATEMENT_NOT_JSON', `the payload is not JSON (${(error as Error).message})`, {cause: error})
  }

  if (!isRecord(value)) throw new StatementError('STATEMENT_NOT_JSON', 'the payload is JSON but not an object')
  if (value._type !== STATEMENT_V1) {
    const found = value._type === undefined ? 'missing' : JSON.stringify(value._type)
    throw new StatementError('STATEMENT_TYPE', `"_type" is ${found}, not "${STATEMENT_V1}"`)
  }

  const bad = (problem: string) => new StatementError('STATEMENT_SCHEMA', problem)
  const {subject, predicateType, predicate} = value
  if (!Array.isArray(subject) || subject.length === 0) throw bad('"subject" must be a non-empty list')
  subject.forEach((entry: unknown, index) => {
    if (!isRecord(entry)) throw bad(`"subject[${index}]" must be an object`)
    if (entry.name !== undefined && typeof entry.name !== 'string') throw bad(`"subject[${index}].name" must be a string`)
    if (digestSet(entry.digest) === undefined) throw bad(`"subject[${index}].digest" must be a non-empty object of algorithm to digest strings`)
  })
  if (typeof predicateType !== 'string' || predicateType === '') throw bad('"predicateType" must be a non-empty string')
  if (predicate !== undefined && !isRecord(predicate)) throw bad('"predicate" must be an object')
  return value as unknown as InTotoStatement
}

/** The first subject whose sha256 is `sha256Hex` (hex compared case-insensitively). */
export function subjectWithSha256(statement: InTotoStatement, sha256Hex: string): StatementSubject | undefined {
  const wanted = sha256Hex.toLowerCase()
  return statement.subject.find((subject) => subject.digest.sha256?.toLowerCase() === wanted)
}

/** How a subject reads in a message: its name, or its uri, or "(unnamed)". */
export function subjectLabel(subject: StatementSubject): string {
  return subject.name ?? subject.uri ?? '(unnamed)'
}
