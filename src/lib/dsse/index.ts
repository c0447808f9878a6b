/**
 * DSSE v1 envelopes (secure-systems-lab/dsse protocol.md) signed with pure Ed25519.
 *
 * Verification follows the spec, not a particular library: the keyid is an unauthenticated
 * hint (tried first, never trusted), signatures count once per distinct trusted key, unknown
 * signatures are reported and ignored, and the payload handed back is exactly the decoded
 * bytes that were verified — never a re-serialisation a parser could disagree with.
 */
import {fromBase64Strict, fromUtf8Strict, toBase64, utf8} from '../encoding.js'
import {InputError, type StellaErrorOptions, UsageError} from '../errors.js'
import {ed25519Sign, ed25519Verify} from '../keys/ed25519.js'
import type {Ed25519PrivateKey, Ed25519PublicKey} from '../keys/index.js'

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body; LEN is the UTF-8 byte length in decimal. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType)
  const head = utf8(`DSSEv1 ${type.length} `)
  const middle = utf8(` ${payload.length} `)
  const out = new Uint8Array(head.length + type.length + middle.length + payload.length)
  out.set(head, 0)
  out.set(type, head.length)
  out.set(middle, head.length + type.length)
  out.set(payload, head.length + type.length + middle.length)
  return out
}

export interface EnvelopeSignature {
  keyid?: string
  sig: Uint8Array
}

export interface Envelope {
  payloadType: string
  /** The decoded payload bytes. */
  payload: Uint8Array
  signatures: EnvelopeSignature[]
}

/** The JSON wire form: payload and sig as base64. */
export interface EnvelopeJson {
  payloadType: string
  payload: string
  signatures: {keyid?: string; sig: string}[]
}

/**
 * Why an envelope could not be read:
 * - DSSE_MALFORMED_JSON: not UTF-8, not JSON, or JSON that is not an object
 * - DSSE_BAD_FIELD: a required field is missing or has the wrong type (the message names it)
 * - DSSE_BAD_BASE64: payload or a sig is not valid base64 (the message names it)
 */
export type DsseErrorCode = 'DSSE_MALFORMED_JSON' | 'DSSE_BAD_FIELD' | 'DSSE_BAD_BASE64'

export class DsseError extends InputError {
  declare readonly code: DsseErrorCode

  constructor(code: DsseErrorCode, message: string, options?: StellaErrorOptions) {
    super(code, message, options)
  }
}

const ENVELOPE_SHAPE = 'a DSSE envelope is {"payloadType": string, "payload": base64, "signatures": [{"keyid"?: string, "sig": base64}]}'

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads an envelope from JSON text, its UTF-8 bytes, or an already parsed value. Types are
 * checked strictly; unknown fields are ignored; payload and sig may be standard or URL-safe
 * base64, padded or not (as DSSE requires of readers).
 */
export function parseEnvelope(input: string | Uint8Array | unknown, source = 'DSSE envelope'): Envelope {
  const badField = (field: string, problem: string): DsseError =>
    new DsseError('DSSE_BAD_FIELD', `${source}: ${field} ${problem}`, {remedy: `The envelope is not valid DSSE; ${ENVELOPE_SHAPE}.`})
  const badBase64 = (field: string): DsseError =>
    new DsseError('DSSE_BAD_BASE64', `${source}: ${field} is not valid base64`, {
      remedy: 'The envelope is damaged; payload and sig must be standard or URL-safe base64.',
    })
  const malformedJson = (problem: string, cause?: unknown): DsseError =>
    new DsseError('DSSE_MALFORMED_JSON', `${source}: ${problem}`, {remedy: `Check that this is the right file; ${ENVELOPE_SHAPE}.`, cause})

  let value: unknown = input
  if (input instanceof Uint8Array) {
    const text = fromUtf8Strict(input)
    if (text === undefined) throw malformedJson('is not UTF-8 text')
    value = text
  }

  if (typeof value === 'string') {
    try {
      value = JSON.parse(value.replace(/^\uFEFF/, ''))
    } catch (error) {
      throw malformedJson(`is not valid JSON (${error instanceof Error ? error.message : String(error)})`, error)
    }
  }

  if (!isRecord(value)) throw malformedJson(`is ${typeName(value)}, not a JSON object`)

  const {payloadType, payload, signatures} = value
  if (typeof payloadType !== 'string') throw badField('"payloadType"', payloadType === undefined ? 'is missing' : `must be a string, not ${typeName(payloadType)}`)
  if (typeof payload !== 'string') throw badField('"payload"', payload === undefined ? 'is missing' : `must be a string, not ${typeName(payload)}`)
  if (!Array.isArray(signatures)) throw badField('"signatures"', signatures === undefined ? 'is missing' : `must be an array, not ${typeName(signatures)}`)

  const payloadBytes = fromBase64Strict(payload)
  if (payloadBytes === undefined) throw badBase64('"payload"')

  const parsed: EnvelopeSignature[] = signatures.map((entry: unknown, index) => {
    const field = `"signatures[${index}]"`
    if (!isRecord(entry)) throw badField(field, `must be an object, not ${typeName(entry)}`)
    const {keyid, sig} = entry
    if (typeof sig !== 'string') throw badField(`"signatures[${index}].sig"`, sig === undefined ? 'is missing' : `must be a string, not ${typeName(sig)}`)
    if (keyid !== undefined && typeof keyid !== 'string') throw badField(`"signatures[${index}].keyid"`, `must be a string, not ${typeName(keyid)}`)
    const sigBytes = fromBase64Strict(sig)
    if (sigBytes === undefined) throw badBase64(`"signatures[${index}].sig"`)
    return keyid === undefined ? {sig: sigBytes} : {keyid, sig: sigBytes}
  })

  return {payloadType, payload: payloadBytes, signatures: parsed}
}

/** Signs PAE(payloadType, payload) with each key (once per distinct key); standard padded base64. */
export function signEnvelope(payloadType: string, payload: Uint8Array, keys: readonly Ed25519PrivateKey[]): EnvelopeJson {
  if (keys.length === 0) throw new UsageError('DSSE_NO_SIGNING_KEY', 'signing a DSSE envelope needs at least one private key')
  const message = pae(payloadType, payload)
  const seen = new Set<string>()
  const signatures: {keyid: string; sig: string}[] = []
  for (const key of keys) {
    if (seen.has(key.public.keyid)) continue // the same key twice adds nothing a verifier counts
    seen.add(key.public.keyid)
    signatures.push({keyid: key.public.keyid, sig: toBase64(ed25519Sign(message, key.seed))})
  }

  return {payloadType, payload: toBase64(payload), signatures}
}

export interface SignatureVerdict {
  /** Position in the envelope's signatures array. */
  index: number
  /** The envelope's keyid for this signature, if it gave one (unauthenticated). */
  keyidHint?: string
  status: 'verified' | 'unknown-key' | 'duplicate-key'
  /** keyid of the trusted key that verified it ('verified' and 'duplicate-key'). */
  verifiedBy?: string
}

export interface VerifyResult {
  ok: boolean
  threshold: number
  /** Distinct trusted keys with a valid signature, in order of first appearance. */
  verifiedKeyIds: string[]
  signatures: SignatureVerdict[]
  payloadType: string
  /** The exact payload bytes that were verified. */
  payload: Uint8Array
}

/**
 * ok when at least `threshold` (default 1) distinct trusted keys each verify some signature
 * over PAE(payloadType, payload). Signatures no trusted key verifies are reported as
 * 'unknown-key' and otherwise ignored; a trusted key counts once however often it signed.
 */
export function verifyEnvelope(envelope: Envelope, trusted: readonly Ed25519PublicKey[], options: {threshold?: number} = {}): VerifyResult {
  const threshold = options.threshold ?? 1
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new UsageError('DSSE_BAD_THRESHOLD', `the signature threshold must be a whole number of at least 1, not ${String(threshold)}`, {
      remedy: 'Pass a threshold such as 1 or 2.',
    })
  }

  // One entry per distinct key, so a key listed twice cannot be counted twice.
  const keys = [...new Map(trusted.map((key) => [key.keyid, key])).values()]
  const message = pae(envelope.payloadType, envelope.payload)
  const counted = new Set<string>()
  const verifiedKeyIds: string[] = []

  const signatures = envelope.signatures.map((signature, index): SignatureVerdict => {
    const hint = signature.keyid === undefined || signature.keyid === '' ? undefined : signature.keyid
    // The hint only orders the attempts; every trusted key is still tried.
    const ordered = hint === undefined ? keys : [...keys.filter((k) => k.keyid === hint), ...keys.filter((k) => k.keyid !== hint)]
    const verdict: SignatureVerdict = hint === undefined ? {index, status: 'unknown-key'} : {index, keyidHint: hint, status: 'unknown-key'}
    const by = ordered.find((key) => ed25519Verify(signature.sig, message, key.publicKey))
    if (by === undefined) return verdict
    verdict.verifiedBy = by.keyid
    if (counted.has(by.keyid)) {
      verdict.status = 'duplicate-key'
    } else {
      verdict.status = 'verified'
      counted.add(by.keyid)
      verifiedKeyIds.push(by.keyid)
    }

    return verdict
  })

  return {
    ok: verifiedKeyIds.length >= threshold,
    threshold,
    verifiedKeyIds,
    signatures,
    payloadType: envelope.payloadType,
    payload: envelope.payload,
  }
}
