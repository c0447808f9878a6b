import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {fromHex, toBase64, toBase64Url, toHex, utf8} from '../../src/lib/encoding.js'
import {ExitCode, UsageError} from '../../src/lib/errors.js'
import {
  DsseError,
  type Envelope,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from '../../src/lib/dsse/index.js'
import {ed25519Sign} from '../../src/lib/keys/ed25519.js'
import {
  type Ed25519PrivateKey,
  KeyError,
  generatePrivateKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyFromBytes,
} from '../../src/lib/keys/index.js'
import {thrownBy} from '../helpers/errors.js'

interface PaeVector {payloadType: string; payloadHex: string; paeUtf8: string; paeHex?: string}
interface HelloWorld extends PaeVector {
  key: {publicKeySpkiPem: string}
  envelope: unknown
  envelopeWithKeyid: unknown
}
interface LocalCase {name: string; envelope: unknown; trustedPublicKeys: string[]; threshold: number; expected: 'valid' | 'invalid'; why: string}
interface Rfc8032Test {secretKey: string; privateKeyPkcs8Pem: string}

const read = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/vectors/${name}`, import.meta.url), 'utf8'))
const paeVectors = read('dsse_pae.json') as {vectors: HelloWorld[]; paeOnly: PaeVector[]}
const local = read('dsse_ed25519_local.json') as {payloadType: string; payloadUtf8: string; paeHex: string; cases: LocalCase[]}
const rfc8032 = (read('rfc8032_ed25519.json') as {tests: Rfc8032Test[]}).tests

const hex = (text: string): Uint8Array => {
  const bytes = fromHex(text)
  if (bytes === undefined) throw new Error(`bad hex: ${text}`)
  return bytes
}

const helloWorld = paeVectors.vectors[0] as HelloWorld
const K1 = parsePrivateKey((rfc8032[0] as Rfc8032Test).privateKeyPkcs8Pem)
const K2 = parsePrivateKey((rfc8032[1] as Rfc8032Test).privateKeyPkcs8Pem)

const dsseError = (fn: () => unknown): DsseError => {
  const error = thrownBy(fn)
  expect(error).toBeInstanceOf(DsseError)
  expect(error.exitCode).toBe(ExitCode.Input)
  return error as DsseError
}

describe('PAE', () => {
  it('matches the DSSE protocol.md vector byte for byte', () => {
    const out = pae(helloWorld.payloadType, hex(helloWorld.payloadHex))
    expect(toHex(out)).toBe(helloWorld.paeHex)
    expect(Buffer.from(out).toString('utf8')).toBe(helloWorld.paeUtf8)
  })

  it.each(paeVectors.paeOnly.map((v) => [JSON.stringify(v.paeUtf8), v] as const))('paeOnly %s', (_name, v) => {
    expect(Buffer.from(pae(v.payloadType, hex(v.payloadHex))).toString('utf8')).toBe(v.paeUtf8)
  })

  it('matches the locally generated in-toto vector', () => {
    expect(toHex(pae(local.payloadType, utf8(local.payloadUtf8)))).toBe(local.paeHex)
  })

  it('counts UTF-8 bytes, not characters', () => {
    expect(Buffer.from(pae('tÿpe', utf8('€'))).toString('utf8')).toBe('DSSEv1 5 tÿpe 3 €')
  })
})

describe('dsse_ed25519_local.json', () => {
  it.each(local.cases.map((c) => [c.name, c.expected, c] as const))('%s is %s', (_name, expected, c) => {
    const envelope = parseEnvelope(c.envelope)
    const trusted = c.trustedPublicKeys.map((k) => parsePublicKey(k))
    const result = verifyEnvelope(envelope, trusted, {threshold: c.threshold})
    expect(result.ok, c.why).toBe(expected === 'valid')
    expect(result.threshold).toBe(c.threshold)
    if (result.ok) expect(Buffer.from(result.payload).toString('utf8')).toBe(local.payloadUtf8)
  })

  it('reports each signature: verified, unknown and duplicate', () => {
    const byName = (name: string): LocalCase => local.cases.find((c) => c.name === name) as LocalCase
    const twoOfTwo = byName('valid-threshold-2-of-2')
    const result = verifyEnvelope(parseEnvelope(twoOfTwo.envelope), twoOfTwo.trustedPublicKeys.map((k) => publicKeyFromBytes(hex(k))), {threshold: 2})
    expect(result.verifiedKeyIds).toEqual([K1.public.keyid, K2.public.keyid])
    expect(result.signatures.map((s) => [s.index, s.status, s.verifiedBy])).toEqual([
      [0, 'verified', K1.public.keyid],
      [1, 'verified', K2.public.keyid],
      [2, 'unknown-key', undefined],
    ])
    expect(result.signatures[2]?.keyidHint).toBe('junk')

    const duplicate = byName('invalid-threshold-2-duplicate-key')
    const dup = verifyEnvelope(parseEnvelope(duplicate.envelope), [K1.public, K2.public], {threshold: 2})
    expect(dup.ok).toBe(false)
    expect(dup.verifiedKeyIds).toEqual([K1.public.keyid])
    expect(dup.signatures.map((s) => s.status)).toEqual(['verified', 'duplicate-key'])
    expect(dup.signatures[1]?.verifiedBy).toBe(K1.public.keyid)
    expect(dup.signatures[1]?.keyidHint).toBeUndefined()
    // With threshold 1 the same envelope passes.
    expect(verifyEnvelope(parseEnvelope(duplicate.envelope), [K1.public, K2.public]).ok).toBe(true)
  })
})

describe('the ECDSA hello-world envelope', () => {
  it('parses, with and without keyid', () => {
    const envelope = parseEnvelope(helloWorld.envelope)
    expect(envelope.payloadType).toBe('http://example.com/HelloWorld')
    expect(Buffer.from(envelope.payload).toString('utf8')).toBe('hello world')
    expect(envelope.signatures).toHaveLength(1)
    expect(envelope.signatures[0]?.keyid).toBeUndefined()
    expect(parseEnvelope(helloWorld.envelopeWithKeyid).signatures[0]?.keyid).toBe('66301bbf')
  })

  it('its key is not Ed25519, and no trusted Ed25519 key verifies it', () => {
    const error = thrownBy(() => parsePublicKey(helloWorld.key.publicKeySpkiPem, 'ecdsa.pub.pem'))
    expect(error).toBeInstanceOf(KeyError)
    expect(error.code).toBe('KEY_WRONG_ALGORITHM')
    expect(error.message).toBe('stella signs with Ed25519; ecdsa.pub.pem holds an EC P-256 key')
    const result = verifyEnvelope(parseEnvelope(helloWorld.envelopeWithKeyid), [K1.public, K2.public])
    expect(result.ok).toBe(false)
    expect(result.verifiedKeyIds).toEqual([])
    expect(result.signatures).toEqual([{index: 0, keyidHint: '66301bbf', status: 'unknown-key'}])
  })
})

describe('parseEnvelope', () => {
  const signed = signEnvelope(IN_TOTO_PAYLOAD_TYPE, utf8('{"a": 1}'), [K1])

  it('accepts standard and URL-safe base64, padded or not', () => {
    const sig = Buffer.from(signed.signatures[0]?.sig ?? '', 'base64')
    const payload = utf8('{"a": 1}')
    for (const encode of [toBase64, toBase64Url, (b: Uint8Array) => toBase64(b).replace(/=+$/, '')]) {
      const envelope = parseEnvelope({payloadType: IN_TOTO_PAYLOAD_TYPE, payload: encode(payload), signatures: [{sig: encode(sig)}]})
      expect(envelope.payload).toEqual(payload)
      expect(verifyEnvelope(envelope, [K1.public]).ok).toBe(true)
    }
  })

  it('reads JSON text and UTF-8 bytes as well as parsed values', () => {
    const text = JSON.stringify(signed)
    expect(parseEnvelope(text)).toEqual(parseEnvelope(signed))
    expect(parseEnvelope(utf8(text))).toEqual(parseEnvelope(signed))
  })

  it('ignores unknown fields', () => {
    const withExtras = {...signed, extra: {nested: true}, signatures: [{...signed.signatures[0], cert: 'x', extension: 1}]}
    expect(verifyEnvelope(parseEnvelope(withExtras), [K1.public]).ok).toBe(true)
  })

  it.each([
    ['{"payloadType": "x",', 'DSSE_MALFORMED_JSON', /^bundle\/manifest\.dsse\.json: is not valid JSON \(/],
    [new Uint8Array([0x7b, 0xff, 0x7d]), 'DSSE_MALFORMED_JSON', /^bundle\/manifest\.dsse\.json: is not UTF-8 text$/],
    ['[]', 'DSSE_MALFORMED_JSON', /^bundle\/manifest\.dsse\.json: is an array, not a JSON object$/],
    ['"envelope"', 'DSSE_MALFORMED_JSON', /: is a string, not a JSON object$/],
    ['null', 'DSSE_MALFORMED_JSON', /: is null, not a JSON object$/],
    ['42', 'DSSE_MALFORMED_JSON', /: is a number, not a JSON object$/],
  ])('rejects %j as %s', (input, code, message) => {
    const error = dsseError(() => parseEnvelope(input, 'bundle/manifest.dsse.json'))
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
  })

  const base = {payloadType: IN_TOTO_PAYLOAD_TYPE, payload: 'e30=', signatures: [{keyid: 'k', sig: 'AAAA'}]}
  it.each([
    ['payloadType missing', {...base, payloadType: undefined}, 'DSSE_BAD_FIELD', '"payloadType" is missing'],
    ['payloadType number', {...base, payloadType: 1}, 'DSSE_BAD_FIELD', '"payloadType" must be a string, not a number'],
    ['payload missing', {...base, payload: undefined}, 'DSSE_BAD_FIELD', '"payload" is missing'],
    ['payload object', {...base, payload: {}}, 'DSSE_BAD_FIELD', '"payload" must be a string, not an object'],
    ['signatures missing', {...base, signatures: undefined}, 'DSSE_BAD_FIELD', '"signatures" is missing'],
    ['signatures object', {...base, signatures: {sig: 'AAAA'}}, 'DSSE_BAD_FIELD', '"signatures" must be an array, not an object'],
    ['signature not an object', {...base, signatures: ['AAAA']}, 'DSSE_BAD_FIELD', '"signatures[0]" must be an object, not a string'],
    ['sig missing', {...base, signatures: [{keyid: 'k'}]}, 'DSSE_BAD_FIELD', '"signatures[0].sig" is missing'],
    ['sig array', {...base, signatures: [{sig: ['AAAA']}]}, 'DSSE_BAD_FIELD', '"signatures[0].sig" must be a string, not an array'],
    ['keyid number', {...base, signatures: [{sig: 'AAAA'}, {keyid: 7, sig: 'AAAA'}]}, 'DSSE_BAD_FIELD', '"signatures[1].keyid" must be a string, not a number'],
    ['keyid null', {...base, signatures: [{keyid: null, sig: 'AAAA'}]}, 'DSSE_BAD_FIELD', '"signatures[0].keyid" must be a string, not null'],
    ['payload junk base64', {...base, payload: 'e30=!'}, 'DSSE_BAD_BASE64', '"payload" is not valid base64'],
    ['payload mixed alphabets', {...base, payload: 'a+b_'}, 'DSSE_BAD_BASE64', '"payload" is not valid base64'],
    ['payload bad padding', {...base, payload: 'e3=0'}, 'DSSE_BAD_BASE64', '"payload" is not valid base64'],
    ['payload non-zero trailing bits', {...base, payload: 'e31='}, 'DSSE_BAD_BASE64', '"payload" is not valid base64'],
    ['sig with whitespace', {...base, signatures: [{sig: 'AA AA'}]}, 'DSSE_BAD_BASE64', '"signatures[0].sig" is not valid base64'],
  ])('%s → %s', (_what, input, code, problem) => {
    const error = dsseError(() => parseEnvelope(JSON.parse(JSON.stringify(input)) as unknown, 'env.json'))
    expect(error.code).toBe(code)
    expect(error.message).toBe(`env.json: ${problem}`)
    expect(error.remedy).toBeDefined()
  })
})

describe('verifyEnvelope', () => {
  it('returns the exact payload bytes that were verified, not a re-serialisation', () => {
    const payload = utf8('{ "_type" :"https://in-toto.io/Statement/v1",\n\t"subject":[ ] ,"b":1.0, "a":"\\u00e9"}  \n')
    const envelope = parseEnvelope(JSON.stringify(signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [K1])))
    const result = verifyEnvelope(envelope, [K1.public])
    expect(result.ok).toBe(true)
    expect(result.payload).toEqual(payload)
    expect(toHex(result.payload)).toBe(toHex(payload))
    expect(result.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE)
  })

  it('sign → verify with two keys and threshold 2', () => {
    const a = generatePrivateKey()
    const b = generatePrivateKey()
    const json = signEnvelope(IN_TOTO_PAYLOAD_TYPE, utf8('{}'), [a, b])
    expect(json.payload).toBe('e30=')
    expect(json.signatures.map((s) => s.keyid)).toEqual([a.public.keyid, b.public.keyid])
    for (const s of json.signatures) expect(s.sig).toMatch(/^[A-Za-z0-9+/]{86}==$/)

    const envelope = parseEnvelope(JSON.stringify(json))
    const both = verifyEnvelope(envelope, [b.public, a.public], {threshold: 2})
    expect(both.ok).toBe(true)
    expect(both.verifiedKeyIds).toEqual([a.public.keyid, b.public.keyid])
    expect(verifyEnvelope(envelope, [a.public], {threshold: 2}).ok).toBe(false)
    // A trusted key listed twice is still one key.
    expect(verifyEnvelope(envelope, [a.public, a.public], {threshold: 2}).ok).toBe(false)
    expect(verifyEnvelope(envelope, [a.public, b.public], {threshold: 3}).ok).toBe(false)
  })

  it('signing with the same key twice gives one signature', () => {
    expect(signEnvelope('t', utf8('x'), [K1, K1]).signatures).toHaveLength(1)
    expect(() => signEnvelope('t', utf8('x'), [])).toThrow(UsageError)
  })

  it('a keyid hint naming a trusted key does not make an untrusted signer trusted', () => {
    const attacker: Ed25519PrivateKey = generatePrivateKey()
    const forged = signEnvelope(IN_TOTO_PAYLOAD_TYPE, utf8('{"evil":true}'), [attacker])
    const claimed = {...forged, signatures: forged.signatures.map((s) => ({...s, keyid: K1.public.keyid}))}
    const result = verifyEnvelope(parseEnvelope(claimed), [K1.public, K2.public])
    expect(result.ok).toBe(false)
    expect(result.signatures).toEqual([{index: 0, keyidHint: K1.public.keyid, status: 'unknown-key'}])
  })

  it('a wrong keyid hint does not stop the right trusted key from verifying', () => {
    const json = signEnvelope(IN_TOTO_PAYLOAD_TYPE, utf8('{}'), [K2])
    const mislabelled = {...json, signatures: [{keyid: K1.public.keyid, sig: json.signatures[0]?.sig ?? ''}]}
    const result = verifyEnvelope(parseEnvelope(mislabelled), [K1.public, K2.public])
    expect(result.ok).toBe(true)
    expect(result.signatures[0]).toEqual({index: 0, keyidHint: K1.public.keyid, status: 'verified', verifiedBy: K2.public.keyid})
  })

  it('no signatures, no trusted keys, or a bad signature → not ok', () => {
    const envelope: Envelope = {payloadType: 't', payload: utf8('x'), signatures: []}
    expect(verifyEnvelope(envelope, [K1.public])).toEqual({ok: false, threshold: 1, verifiedKeyIds: [], signatures: [], payloadType: 't', payload: utf8('x')})
    const signed = {...envelope, signatures: [{sig: ed25519Sign(pae('t', utf8('x')), K1.seed)}]}
    expect(verifyEnvelope(signed, [K1.public]).ok).toBe(true)
    expect(verifyEnvelope(signed, []).ok).toBe(false)
    expect(verifyEnvelope({...signed, signatures: [{sig: new Uint8Array(3)}]}, [K1.public]).signatures[0]?.status).toBe('unknown-key')
    // Signed over the raw payload instead of PAE: not valid DSSE.
    expect(verifyEnvelope({...envelope, signatures: [{sig: ed25519Sign(utf8('x'), K1.seed)}]}, [K1.public]).ok).toBe(false)
  })

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('threshold %s is a UsageError', (threshold) => {
    const error = thrownBy(() => verifyEnvelope({payloadType: 't', payload: utf8('x'), signatures: []}, [K1.public], {threshold}))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.code).toBe('DSSE_BAD_THRESHOLD')
    expect(error.exitCode).toBe(ExitCode.Usage)
  })
})
