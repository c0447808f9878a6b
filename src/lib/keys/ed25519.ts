/**
 * Pure Ed25519 (RFC 8032 §5.1), verified strictly: the one primitive every stella signature
 * rests on. Strict means what Wycheproof checks: S must be below the group order L, R and A
 * must be canonical point encodings, signatures are exactly 64 bytes. Verification never
 * throws; anything malformed is simply not a valid signature.
 */
import * as ed from '@noble/ed25519'
import {sha512} from '@noble/hashes/sha2.js'
import {type KeyObject, createPrivateKey, createPublicKey, sign as nodeSign} from 'node:crypto'

// noble's synchronous API needs a SHA-512; set once, here, for every user of this module.
ed.hashes.sha512 = sha512

export const ED25519_SEED_LENGTH = 32
export const ED25519_PUBLIC_KEY_LENGTH = 32
export const ED25519_SIGNATURE_LENGTH = 64

/** The prime order of the Ed25519 base point (RFC 8032 §5.1: L). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_LENGTH) {
    // A programming error, not user input: keys are validated when they are parsed.
    throw new RangeError(`an Ed25519 seed is ${ED25519_SEED_LENGTH} bytes`)
  }
}

// Deriving and signing are deterministic (RFC 8032), so OpenSSL's native code gives the same bytes
// as any other implementation and spares a short command noble's first-use table build (~25 ms).
// Verification, where strictness matters, stays with noble below.
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])

function nodePrivateKey(seed: Uint8Array): KeyObject {
  checkSeed(seed)
  const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + ED25519_SEED_LENGTH)
  der.set(PKCS8_ED25519_PREFIX)
  der.set(seed, PKCS8_ED25519_PREFIX.length)
  return createPrivateKey({key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8'})
}

export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(nodePrivateKey(seed)).export({format: 'der', type: 'spki'})
  // An Ed25519 SPKI ends with the 32-byte public key.
  return new Uint8Array(spki.subarray(spki.length - ED25519_PUBLIC_KEY_LENGTH))
}

/** Signs `message` (the whole message, not a hash of it: PureEdDSA). Deterministic. */
export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, message, nodePrivateKey(seed)))
}

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0)
  return value
}

/**
 * RFC 8032 §5.1.7 verification with the strict checks. Returns false, never throws, on a
 * wrong-length signature or key, a non-canonical S (S ≥ L, the classic malleability), an R or
 * A that is not a canonical point encoding, or a small-order public key.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || !(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false
  if (signature.length !== ED25519_SIGNATURE_LENGTH || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return false
  // noble checks S < L too; checking here keeps the rule visible and independent of its internals.
  if (littleEndian(signature.subarray(32)) >= L) return false
  try {
    // zip215: false is RFC 8032 decoding (y < p, no "negative zero" x) and rejects small-order A.
    return ed.verify(signature, message, publicKey, {zip215: false})
  } catch {
    return false
  }
}

export type PointCheck = 'ok' | 'not-a-point' | 'small-order'

/**
 * Whether 32 bytes are a canonical encoding of a usable Ed25519 public key. Small-order points
 * are refused: strict verification rejects every signature under them, so such a key can only
 * be a mistake or an attack.
 */
export function checkPublicKeyPoint(publicKey: Uint8Array): PointCheck {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return 'not-a-point'
  let point: ed.Point
  try {
    point = ed.Point.fromBytes(publicKey, false)
  } catch {
    return 'not-a-point'
  }
  return point.isSmallOrder() ? 'small-order' : 'ok'
}
