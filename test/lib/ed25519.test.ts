import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {fromHex, toHex} from '../../src/lib/encoding.js'
import {checkPublicKeyPoint, ed25519PublicKeyFromSeed, ed25519Sign, ed25519Verify} from '../../src/lib/keys/ed25519.js'

interface WycheproofTest {tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: 'valid' | 'invalid'}
interface WycheproofGroup {publicKey: {pk: string}; tests: WycheproofTest[]}
interface Rfc8032Test {name: string; secretKey: string; publicKey: string; message: string; signature: string}

const wycheproof = JSON.parse(readFileSync(new URL('../fixtures/vectors/wycheproof_ed25519_test.json', import.meta.url), 'utf8')) as {numberOfTests: number; testGroups: WycheproofGroup[]}
const rfc8032 = JSON.parse(readFileSync(new URL('../fixtures/vectors/rfc8032_ed25519.json', import.meta.url), 'utf8')) as {tests: Rfc8032Test[]}

const hex = (text: string): Uint8Array => {
  const bytes = fromHex(text)
  if (bytes === undefined) throw new Error(`bad hex in fixture: ${text}`)
  return bytes
}

const cases = wycheproof.testGroups.flatMap((group) => group.tests.map((test) => ({...test, pk: group.publicKey.pk})))

describe('Wycheproof Ed25519 (strict RFC 8032 verification)', () => {
  it('has all 151 vectors, 88 valid and 63 invalid', () => {
    expect(wycheproof.numberOfTests).toBe(151)
    expect(cases).toHaveLength(151)
    expect(cases.filter((c) => c.result === 'valid')).toHaveLength(88)
    expect(cases.filter((c) => c.result === 'invalid')).toHaveLength(63)
  })

  it.each(cases.map((c) => [c.tcId, c.result, c.comment || c.flags.join(','), c] as const))('tcId %i is %s (%s)', (_id, result, _what, c) => {
    expect(ed25519Verify(hex(c.sig), hex(c.msg), hex(c.pk))).toBe(result === 'valid')
  })

  it('returns false, never throws, for wrong-length signatures and keys', () => {
    const t = rfc8032.tests[1] as Rfc8032Test
    const sig = hex(t.signature)
    const pk = hex(t.publicKey)
    const msg = hex(t.message)
    expect(ed25519Verify(sig, msg, pk)).toBe(true)
    for (const n of [0, 1, 63, 65, 128]) {
      const wrong = new Uint8Array(n)
      wrong.set(sig.subarray(0, Math.min(n, 64)))
      expect(ed25519Verify(wrong, msg, pk)).toBe(false)
    }

    expect(ed25519Verify(sig, msg, pk.subarray(0, 31))).toBe(false)
    expect(ed25519Verify(sig, msg, new Uint8Array(33))).toBe(false)
    expect(ed25519Verify(sig, msg, new Uint8Array(32).fill(0xff))).toBe(false)
    expect(ed25519Verify(null as unknown as Uint8Array, msg, pk)).toBe(false)
  })

  it('rejects S + L (malleated signature) even though the group equation holds', () => {
    const t = rfc8032.tests[1] as Rfc8032Test
    const sig = hex(t.signature)
    const L = 2n ** 252n + 27742317777372353535851937790883648493n
    let s = 0n
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] ?? 0)
    let malleated = s + L
    const out = new Uint8Array(sig)
    for (let i = 32; i < 64; i++) {
      out[i] = Number(malleated & 0xffn)
      malleated >>= 8n
    }

    expect(ed25519Verify(out, hex(t.message), hex(t.publicKey))).toBe(false)
  })
})

describe('RFC 8032 §7.1 vectors', () => {
  it.each(rfc8032.tests.map((t) => [t.name, t] as const))('%s: public key, exact signature, verification', (_name, t) => {
    const seed = hex(t.secretKey)
    expect(toHex(ed25519PublicKeyFromSeed(seed))).toBe(t.publicKey)
    const sig = ed25519Sign(hex(t.message), seed)
    expect(toHex(sig)).toBe(t.signature)
    expect(ed25519Verify(sig, hex(t.message), hex(t.publicKey))).toBe(true)
    const tampered = hex(t.message + '00')
    expect(ed25519Verify(sig, tampered, hex(t.publicKey))).toBe(false)
  })

  it('has the five vectors', () => {
    expect(rfc8032.tests.map((t) => t.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)'])
  })

  it('accepts Buffers as well as Uint8Arrays', () => {
    const t = rfc8032.tests[2] as Rfc8032Test
    expect(ed25519Verify(Buffer.from(t.signature, 'hex'), Buffer.from(t.message, 'hex'), Buffer.from(t.publicKey, 'hex'))).toBe(true)
  })

  it('refuses a seed that is not 32 bytes (a programming error, so it throws)', () => {
    expect(() => ed25519Sign(new Uint8Array(1), new Uint8Array(31))).toThrow(RangeError)
    expect(() => ed25519PublicKeyFromSeed(new Uint8Array(64))).toThrow(RangeError)
  })
})

describe('checkPublicKeyPoint', () => {
  it('accepts real keys, rejects non-points, non-canonical encodings and small-order points', () => {
    expect(checkPublicKeyPoint(hex((rfc8032.tests[0] as Rfc8032Test).publicKey))).toBe('ok')
    // y = 2 has no x on the curve.
    expect(checkPublicKeyPoint(hex('02' + '00'.repeat(31)))).toBe('not-a-point')
    // y = p (non-canonical encoding of y = 0).
    expect(checkPublicKeyPoint(hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))).toBe('not-a-point')
    // The identity (y = 1) and the order-2 point (y = -1) are small order.
    expect(checkPublicKeyPoint(hex('01' + '00'.repeat(31)))).toBe('small-order')
    expect(checkPublicKeyPoint(hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))).toBe('small-order')
    expect(checkPublicKeyPoint(new Uint8Array(31))).toBe('not-a-point')
  })
})
