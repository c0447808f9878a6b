/**
 * manifest.json and the in-toto Statement that signs it (spec: manifest.json, manifest.dsse.json).
 * Parsing is strict about what the spec defines and ignores what it does not (unknown fields).
 */
import {hash} from 'node:crypto'

import {fromUtf8Strict, utf8} from '../encoding.js'
import {InputError} from '../errors.js'
import {compareUtf8, describePathProblem, pathProblem} from './paths.js'

export const MANIFEST_SCHEMA = 'https://stella-ops.org/schemas/evidence-bundle/v1'
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
export const PREDICATE_TYPE = 'https://stella-ops.org/attestations/evidence-bundle/v1'
export const MERKLE_ALGORITHM = 'rfc9162-sha256'
export const MERKLE_LEAF = 'path-nul-sha256'

export const MANIFEST_NAME = 'manifest.json'
export const ENVELOPE_NAME = 'manifest.dsse.json'
export const ROOT_NAME = 'root.merkle'
/** Top-level names that are not content files, in the order writers put them first. */
export const RESERVED_NAMES: readonly string[] = [MANIFEST_NAME, ENVELOPE_NAME, ROOT_NAME]

export const BUNDLE_KINDS = ['evaluation', 'job', 'export', 'telemetry'] as const
export type BundleKind = (typeof BUNDLE_KINDS)[number]

export interface ManifestFile {
  path: string
  size: number
  /** 64 lowercase hex digits. */
  sha256: string
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA
  bundleId: string
  kind: BundleKind
  tenant: string
  caseId: string
  createdAt: string
  subject: {type: string; id: string}
  window?: {from: string; to: string}
  files: ManifestFile[]
  merkle: {algorithm: typeof MERKLE_ALGORITHM; leaf: typeof MERKLE_LEAF; size: number; root: string}
}

export interface StatementPredicate {
  bundleId: string
  kind: string
  tenant: string
  caseId: string
  createdAt: string
  merkleRoot: string
  fileCount: number
  totalBytes: number
}

export interface Statement {
  _type: typeof STATEMENT_TYPE
  subject: {name: string; digest: {sha256: string}}[]
  predicateType: typeof PREDICATE_TYPE
  predicate: StatementPredicate
}

export type ManifestErrorCode =
  | 'MANIFEST_NOT_JSON'
  | 'MANIFEST_SCHEMA'
  | 'MANIFEST_BAD_PATH'
  | 'MANIFEST_RESERVED_PATH'
  | 'MANIFEST_UNSORTED'
  | 'MANIFEST_DUPLICATE_PATH'
  | 'STATEMENT_NOT_JSON'
  | 'STATEMENT_SCHEMA'

export class ManifestError extends InputError {
  declare readonly code: ManifestErrorCode
  constructor(code: ManifestErrorCode, message: string) {
    super(code, message, {remedy: 'The bundle is not a valid evidence bundle; ask its producer for a new copy.'})
  }
}

const HEX64 = /^[0-9a-f]{64}$/

export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex')
}

/** The Merkle leaf input of a file: UTF-8(path) || 0x00 || the 32 raw digest bytes. */
export function leafInputOf(path: string, sha256: Uint8Array): Uint8Array {
  const pathBytes = utf8(path)
  const input = new Uint8Array(pathBytes.length + 1 + sha256.length)
  input.set(pathBytes)
  input.set(sha256, pathBytes.length + 1)
  return input
}

/** Exactly the bytes a writer puts in manifest.json: two-space JSON and a newline. */
export function serializeManifest(manifest: Manifest): Uint8Array {
  return utf8(`${JSON.stringify(manifest, null, 2)}\n`)
}

export function serializeStatement(statement: Statement): Uint8Array {
  return utf8(JSON.stringify(statement))
}

export function statementFor(manifest: Manifest, manifestBytes: Uint8Array): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{name: MANIFEST_NAME, digest: {sha256: sha256Hex(manifestBytes)}}],
    predicateType: PREDICATE_TYPE,
    predicate: {
      bundleId: manifest.bundleId,
      kind: manifest.kind,
      tenant: manifest.tenant,
      caseId: manifest.caseId,
      createdAt: manifest.createdAt,
      merkleRoot: manifest.merkle.root,
      fileCount: manifest.files.length,
      totalBytes: totalBytesOf(manifest.files),
    },
  }
}

export function totalBytesOf(files: readonly ManifestFile[]): number {
  let total = 0
  for (const file of files) total += file.size
  return total
}

/** Parses and validates manifest.json bytes. Throws ManifestError naming the first problem. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const value = parseJsonObject(bytes, 'manifest.json', 'MANIFEST_NOT_JSON')
  checkManifestHead(value)
  const files = (value.files as unknown[]).map((entry: unknown, index: number) => parseFileEntry(entry, index))
  checkFileOrder(files)
  checkManifestMerkle(value, files.length)
  return {...value, files} as unknown as Manifest
}

/** Everything before the file list, in the order parseManifest checks it: ends with "files is an array". */
export function checkManifestHead(value: Record<string, unknown>): void {
  if (value.schema !== MANIFEST_SCHEMA) throw badManifest(`"schema" is ${JSON.stringify(value.schema)}, not "${MANIFEST_SCHEMA}"`)
  for (const field of ['bundleId', 'tenant', 'caseId', 'createdAt'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') throw badManifest(`"${field}" must be a non-empty string`)
  }

  if (!BUNDLE_KINDS.includes(value.kind as BundleKind)) throw badManifest(`"kind" must be one of ${BUNDLE_KINDS.join(', ')}`)
  const subject = value.subject as Record<string, unknown> | undefined
  if (!isObject(subject) || typeof subject.type !== 'string' || typeof subject.id !== 'string') {
    throw badManifest('"subject" must be an object with string "type" and "id"')
  }

  if (value.window !== undefined) {
    const window = value.window as Record<string, unknown>
    if (!isObject(window) || typeof window.from !== 'string' || typeof window.to !== 'string') {
      throw badManifest('"window" must be an object with string "from" and "to"')
    }
  }

  if (!Array.isArray(value.files)) throw badManifest('"files" must be an array')
}

/** The merkle object, checked after the files: its size must be their count. */
export function checkManifestMerkle(value: Record<string, unknown>, fileCount: number): void {
  const merkle = value.merkle as Record<string, unknown> | undefined
  if (!isObject(merkle)) throw badManifest('"merkle" must be an object')
  if (merkle.algorithm !== MERKLE_ALGORITHM) throw badManifest(`"merkle.algorithm" must be "${MERKLE_ALGORITHM}"`)
  if (merkle.leaf !== MERKLE_LEAF) throw badManifest(`"merkle.leaf" must be "${MERKLE_LEAF}"`)
  if (merkle.size !== fileCount) throw badManifest(`"merkle.size" is ${JSON.stringify(merkle.size)} but "files" lists ${fileCount}`)
  if (typeof merkle.root !== 'string' || !HEX64.test(merkle.root)) throw badManifest('"merkle.root" must be 64 lowercase hex digits')
}

function badManifest(what: string): ManifestError {
  return new ManifestError('MANIFEST_SCHEMA', `manifest.json: ${what}`)
}

export function parseFileEntry(entry: unknown, index: number): ManifestFile {
  const where = `manifest.json: files[${index}]`
  if (!isObject(entry)) throw new ManifestError('MANIFEST_SCHEMA', `${where} is not an object`)
  const {path, size, sha256} = entry as Record<string, unknown>
  if (typeof path !== 'string') throw new ManifestError('MANIFEST_SCHEMA', `${where}.path must be a string`)
  const problem = pathProblem(path)
  if (problem) throw new ManifestError('MANIFEST_BAD_PATH', `${where}.path ${JSON.stringify(path)} ${describePathProblem(problem)}`)
  if (RESERVED_NAMES.includes(path)) throw new ManifestError('MANIFEST_RESERVED_PATH', `${where}.path is the reserved name ${path}`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new ManifestError('MANIFEST_SCHEMA', `${where}.size must be a whole number of bytes`)
  }

  if (typeof sha256 !== 'string' || !HEX64.test(sha256)) throw new ManifestError('MANIFEST_SCHEMA', `${where}.sha256 must be 64 lowercase hex digits`)
  return {path, size, sha256}
}

function checkFileOrder(files: readonly ManifestFile[]): void {
  for (let i = 1; i < files.length; i++) {
    const order = compareUtf8(files[i - 1]!.path, files[i]!.path)
    if (order === 0) throw new ManifestError('MANIFEST_DUPLICATE_PATH', `manifest.json lists ${JSON.stringify(files[i]!.path)} twice`)
    if (order > 0) {
      throw new ManifestError('MANIFEST_UNSORTED', `manifest.json "files" is not sorted by path: ${JSON.stringify(files[i - 1]!.path)} comes before ${JSON.stringify(files[i]!.path)}`)
    }
  }
}

/** Parses a Statement's bytes (the verified DSSE payload). Checks shape only; the verifier compares values. */
export function parseStatement(bytes: Uint8Array): Statement {
  const value = parseJsonObject(bytes, 'the signed statement', 'STATEMENT_NOT_JSON')
  const bad = (what: string) => new ManifestError('STATEMENT_SCHEMA', `the signed statement: ${what}`)
  if (value._type !== STATEMENT_TYPE) throw bad(`"_type" is ${JSON.stringify(value._type)}, not "${STATEMENT_TYPE}"`)
  if (value.predicateType !== PREDICATE_TYPE) throw bad(`"predicateType" is ${JSON.stringify(value.predicateType)}, not "${PREDICATE_TYPE}"`)
  if (!Array.isArray(value.subject) || !value.subject.every((s: unknown) => isObject(s) && typeof s.name === 'string' && isObject(s.digest))) {
    throw bad('"subject" must be a list of {name, digest}')
  }

  if (!isObject(value.predicate)) throw bad('"predicate" must be an object')
  return value as unknown as Statement
}

function parseJsonObject(bytes: Uint8Array, what: string, code: 'MANIFEST_NOT_JSON' | 'STATEMENT_NOT_JSON'): Record<string, unknown> {
  const text = fromUtf8Strict(bytes)
  if (text === undefined) throw new ManifestError(code, `${what} is not valid UTF-8`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ManifestError(code, `${what} is not valid JSON (${(error as Error).message})`)
  }

  if (!isObject(value)) throw new ManifestError(code, `${what} is not a JSON object`)
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
