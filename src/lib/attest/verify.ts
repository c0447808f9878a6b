/**
 * The verdict on one attestation about one artifact: five checks, each ✓ or ✗ with a stable
 * reason code, in the order a verifier must trust things. The signature is checked over the
 * exact payload bytes; the payload is read as a statement only when it says it is one; the
 * subject and predicate are looked at only in a statement that parsed.
 */
import {type DsseError, type Envelope, IN_TOTO_PAYLOAD_TYPE, verifyEnvelope} from '../dsse/index.js'
import {isStellaError} from '../errors.js'
import type {Ed25519PublicKey} from '../keys/index.js'
import {type ProvenanceSummary, SLSA_PROVENANCE_V1, summarizeProvenance} from './provenance.js'
import {type InTotoStatement, parseStatement, subjectLabel, subjectWithSha256} from './statement.js'

export const ATTESTATION_CHECKS = ['signature', 'payloadType', 'statement', 'subject', 'predicateType'] as const
export type AttestationCheckName = (typeof ATTESTATION_CHECKS)[number]

export interface AttestationCheck {
  check: AttestationCheckName
  ok: boolean
  /** Why it failed, a stable code (e.g. NO_TRUSTED_SIGNATURE, SUBJECT_DIGEST_MISMATCH); absent when ok. */
  reason?: string
  message: string
}

export interface AttestationVerdict {
  /** Every check passed. */
  ok: boolean
  checks: AttestationCheck[]
  /** keyids of the distinct trusted keys whose signature verified. */
  signedBy: string[]
  /** The statement as signed, when the payload is one (also when a signature did not verify). */
  statement?: InTotoStatement
  /** The SLSA provenance v1 summary, when that is the predicate and it is well formed. */
  provenance?: ProvenanceSummary
}

export interface AttestationTrust {
  keys: readonly Ed25519PublicKey[]
  threshold: number
}

const PREDICATE_NAMES: Record<string, string> = {[SLSA_PROVENANCE_V1]: 'SLSA provenance v1'}

export function verifyAttestation(envelope: Envelope, artifactSha256: string, trust: AttestationTrust): AttestationVerdict {
  const checks: AttestationCheck[] = []
  const pass = (check: AttestationCheckName, message: string) => checks.push({check, ok: true, message})
  const fail = (check: AttestationCheckName, reason: string, message: string) => checks.push({check, ok: false, reason, message})
  const notChecked = (names: AttestationCheckName[], why: string) => names.forEach((name) => fail(name, 'NOT_CHECKED', `not checked: ${why}`))

  const signedBy = checkSignature(envelope, trust, pass, fail)
  const verdict: AttestationVerdict = {ok: false, checks, signedBy}

  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    fail('payloadType', 'PAYLOAD_TYPE', `the payload type is ${JSON.stringify(envelope.payloadType)}, not "${IN_TOTO_PAYLOAD_TYPE}"`)
    notChecked(['statement', 'subject', 'predicateType'], 'the payload does not say it is an in-toto statement')
    return verdict
  }

  pass('payloadType', IN_TOTO_PAYLOAD_TYPE)
  let statement: InTotoStatement
  try {
    statement = parseStatement(envelope.payload)
  } catch (error) {
    if (!isStellaError(error)) throw error
    fail('statement', error.code, error.message)
    notChecked(['subject', 'predicateType'], 'the payload is not an in-toto Statement v1')
    return verdict
  }

  verdict.statement = statement
  const count = statement.subject.length
  pass('statement', `in-toto Statement v1 with ${count} subject${count === 1 ? '' : 's'}`)

  const subject = subjectWithSha256(statement, artifactSha256)
  if (subject !== undefined) {
    pass('subject', `subject ${JSON.stringify(subjectLabel(subject))} has the artifact's sha256`)
  } else {
    const withSha256 = statement.subject.filter((s) => s.digest.sha256 !== undefined)
    if (withSha256.length === 0) {
      fail('subject', 'SUBJECT_NO_SHA256', `no subject has a sha256 digest (${statement.subject.map((s) => Object.keys(s.digest).join('/')).join(', ')}), so none can be the artifact`)
    } else {
      const named = withSha256.slice(0, 3).map((s) => `${JSON.stringify(subjectLabel(s))} sha256:${s.digest.sha256?.slice(0, 16)}…`)
      const more = withSha256.length > 3 ? ` and ${withSha256.length - 3} more` : ''
      fail('subject', 'SUBJECT_DIGEST_MISMATCH', `no subject has the artifact's sha256 (${artifactSha256.slice(0, 16)}…); the statement is about ${named.join(', ')}${more}`)
    }
  }

  const type = statement.predicateType
  if (type === SLSA_PROVENANCE_V1) {
    try {
      verdict.provenance = summarizeProvenance(statement.predicate)
    } catch (error) {
      if (!isStellaError(error)) throw error
      fail('predicateType', error.code, `the SLSA provenance v1 predicate is malformed: ${error.message}`)
    }
  }

  if (checks.length < ATTESTATION_CHECKS.length) pass('predicateType', PREDICATE_NAMES[type] ? `${type} (${PREDICATE_NAMES[type]})` : type)
  verdict.ok = checks.every((check) => check.ok)
  return verdict
}

function checkSignature(
  envelope: Envelope,
  trust: AttestationTrust,
  pass: (check: AttestationCheckName, message: string) => void,
  fail: (check: AttestationCheckName, reason: string, message: string) => void,
): string[] {
  const total = envelope.signatures.length
  if (total === 0) {
    fail('signature', 'NO_SIGNATURES', 'the envelope has no signatures')
    return []
  }

  if (trust.keys.length === 0) {
    fail('signature', 'NO_TRUSTED_KEY', `not checked: no trusted key was given (${total} signature${total === 1 ? '' : 's'} present)`)
    return []
  }

  const result = verifyEnvelope(envelope, trust.keys, {threshold: trust.threshold})
  const count = result.verifiedKeyIds.length
  const keys = result.verifiedKeyIds.map((id) => id.slice(0, 16)).join(', ')
  if (result.ok) pass('signature', `signed by ${count} trusted key${count === 1 ? '' : 's'} (${keys}); threshold ${result.threshold} met`)
  else if (count === 0) fail('signature', 'NO_TRUSTED_SIGNATURE', total === 1 ? 'the signature does not verify with any trusted key' : `none of the ${total} signatures verifies with a trusted key`)
  else fail('signature', 'THRESHOLD_NOT_MET', `${count} distinct trusted key${count === 1 ? '' : 's'} signed (${keys}); the threshold is ${result.threshold}`)
  return result.verifiedKeyIds
}

/** The verdict on an envelope that could not even be read (e.g. a broken record from a server). */
export function unreadableEnvelopeVerdict(error: DsseError): AttestationVerdict {
  const checks: AttestationCheck[] = ATTESTATION_CHECKS.map((check) =>
    check === 'signature' ? {check, ok: false, reason: error.code, message: error.message} : {check, ok: false, reason: 'NOT_CHECKED', message: 'not checked: the envelope is not valid DSSE'},
  )
  return {ok: false, checks, signedBy: []}
}
