import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {fromHex, toBase64, toHex} from '../../src/lib/encoding.js'
import {ExitCode} from '../../src/lib/errors.js'
import {
  type Ed25519PrivateKey,
  type Ed25519PublicKey,
  KeyError,
  fingerprintOf,
  generatePrivateKey,
  keyidOf,
  parseKey,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPem,
  publicKeyFromBytes,
  publicKeyToJwk,
  publicKeyToPem,
  readKeyFile,
  readPrivateKeyFile,
  readPublicKeyFile,
} from '../../src/lib/keys/index.js'
import {rejectionOf, thrownBy} from '../helpers/errors.js'

interface WycheproofGroup {
  publicKey: {pk: string}
  publicKeyDer: string
  publicKeyPem: string
  publicKeyJwk: {kty: string; crv: string; x: string; kid?: string}
}
interface Rfc8032Test {name: string; secretKey: string; publicKey: string; privateKeyPkcs8Pem: string; publicKeySpkiPem: string}

const vectors = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/vectors/${name}`, import.meta.url), 'utf8'))
const wycheproof = vectors('wycheproof_ed25519_test.json') as {testGroups: WycheproofGroup[]}
const rfc8032 = (vectors('rfc8032_ed25519.json') as {tests: Rfc8032Test[]}).tests
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/keys/${name}`, import.meta.url))
const fixtureText = (name: string): string => readFileSync(fixture(name), 'utf8')

const hex = (text: string): Uint8Array => {
  const bytes = fromHex(text)
  if (bytes === undefined) throw new Error(`bad hex: ${text}`)
  return bytes
}

const sha256hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const pemBody = (pem: string): string => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('')
const derOf = (pem: string): Uint8Array => new Uint8Array(Buffer.from(pemBody(pem), 'base64'))
const asPublic = (key: ReturnType<typeof parseKey>): Ed25519PublicKey => (key.kind === 'private' ? key.public : key)
const keyError = (fn: () => unknown): KeyError => {
  const error = thrownBy(fn)
  expect(error).toBeInstanceOf(KeyError)
  return error as KeyError
}

const TEST1 = rfc8032[0] as Rfc8032Test
const GENERATE_REMEDY = 'Use an Ed25519 key: create one with `stella keys generate` or `openssl genpkey -algorithm ed25519 -out key.pem`.'

describe('Wycheproof public keys in every form', () => {
  it.each(wycheproof.testGroups.map((g, i) => [i, g] as const))('group %i: PEM, DER, JWK and raw hex give one key and keyid', (_i, group) => {
    const fromPem = parsePublicKey(group.publicKeyPem)
    const fromDer = parsePublicKey(hex(group.publicKeyDer))
    const fromJwk = parsePublicKey(JSON.stringify(group.publicKeyJwk))
    const fromRaw = parsePublicKey(group.publicKey.pk)
    const fromBytes = publicKeyFromBytes(hex(group.publicKey.pk))
    for (const key of [fromDer, fromJwk, fromRaw, fromBytes]) {
      expect(key).toEqual(fromPem)
    }

    expect(toHex(fromPem.publicKey)).toBe(group.publicKey.pk)
    expect(toHex(fromPem.spki)).toBe(group.publicKeyDer)
    expect(fromPem.keyid).toBe(sha256hex(hex(group.publicKeyDer)))
    expect(keyidOf(fromPem.publicKey)).toBe(fromPem.keyid)
    expect(publicKeyToPem(fromPem)).toBe(group.publicKeyPem)
    expect(publicKeyToJwk(fromPem)).toEqual({kty: 'OKP', crv: 'Ed25519', x: group.publicKeyJwk.x})
  })
})

describe('RFC 8032 keys as PKCS#8 and SPKI', () => {
  it.each(rfc8032.map((t) => [t.name, t] as const))('%s parses and re-encodes byte for byte', (_name, t) => {
    const priv = parsePrivateKey(t.privateKeyPkcs8Pem, 'rfc8032.pem')
    expect(priv.kind).toBe('private')
    expect(priv.algorithm).toBe('ed25519')
    expect(toHex(priv.seed)).toBe(t.secretKey)
    expect(toHex(priv.public.publicKey)).toBe(t.publicKey)
    expect(privateKeyToPem(priv)).toBe(t.privateKeyPkcs8Pem)

    const pub = parsePublicKey(t.publicKeySpkiPem)
    expect(pub).toEqual(priv.public)
    expect(publicKeyToPem(pub)).toBe(t.publicKeySpkiPem)
    // A private key where a public one is wanted: its public half.
    expect(parsePublicKey(t.privateKeyPkcs8Pem)).toEqual(pub)
    // Binary DER works too.
    expect(parseKey(derOf(t.privateKeyPkcs8Pem))).toEqual(priv)
    expect(parseKey(derOf(t.publicKeySpkiPem))).toEqual(pub)
  })

  it('reads a PKCS#8 v2 OneAsymmetricKey with attributes and public key (RFC 8410 §10.3)', async () => {
    const key = await readPrivateKeyFile(fixture('rfc8410-v2.pem'))
    expect(toHex(key.seed)).toBe('d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842')
    expect(toHex(key.public.publicKey)).toBe('19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1')
    // Written back as OpenSSL's v1 form.
    expect(privateKeyToPem(key)).toMatch(/^-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5/)
  })

  it('keyid is SHA-256 of the SPKI DER; fingerprint is its unpadded base64', () => {
    const pub = parsePublicKey(TEST1.publicKeySpkiPem)
    const digest = createHash('sha256').update(derOf(TEST1.publicKeySpkiPem)).digest()
    expect(pub.keyid).toBe(digest.toString('hex'))
    expect(pub.keyid).toBe('06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9')
    expect(fingerprintOf(pub.publicKey)).toBe(`SHA256:${toBase64(digest).replace(/=+$/, '')}`)
    expect(fingerprintOf(pub.publicKey)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
  })
})

describe('generate → PEM → parse', () => {
  it('round-trips private and public keys', () => {
    const key = generatePrivateKey()
    expect(key.seed).toHaveLength(32)
    const pem = privateKeyToPem(key)
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/]{64}\n-----END PRIVATE KEY-----\n$/)
    expect(parsePrivateKey(pem)).toEqual(key)
    expect(parsePublicKey(publicKeyToPem(key.public))).toEqual(key.public)
    expect(parsePublicKey(JSON.stringify(publicKeyToJwk(key.public)))).toEqual(key.public)
    expect(generatePrivateKey().seed).not.toEqual(key.seed)
  })
})

describe('other accepted forms', () => {
  it('reads the fixture key in PEM, JWK and hex files to the same keyid', async () => {
    const priv = await readPrivateKeyFile(fixture('ed25519.pem'))
    const keyids = await Promise.all(['ed25519-pub.pem', 'ed25519-pub.jwk', 'ed25519-pub.hex'].map(async (f) => (await readPublicKeyFile(fixture(f))).keyid))
    expect(keyids).toEqual([priv.public.keyid, priv.public.keyid, priv.public.keyid])
    expect(asPublic(await readKeyFile(fixture('ed25519.pem')))).toEqual(priv.public)
  })

  it('reads a hex key file starting with "0" (byte 0x30, as DER does) as text', () => {
    const key = generateKeyStartingWithZeroHex()
    expect(parsePublicKey(Buffer.from(`${toHex(key.publicKey)}\n`))).toEqual(key)
  })

  it('accepts JWK private keys (RFC 8037 A.1), JWK Sets of one key, upper-case hex, CRLF and text around PEM', () => {
    const jwk = {kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo'}
    const priv = parsePrivateKey(JSON.stringify(jwk))
    expect(toHex(priv.seed)).toBe(TEST1.secretKey)
    expect(parsePublicKey(JSON.stringify({keys: [{...jwk, d: undefined}]})).keyid).toBe(priv.public.keyid)
    expect(parsePublicKey(TEST1.publicKey.toUpperCase()).keyid).toBe(priv.public.keyid)
    expect(parsePrivateKey(`Key for CI\r\n${TEST1.privateKeyPkcs8Pem.replaceAll('\n', '\r\n')}  \r\n`)).toEqual(priv)
    expect(parsePrivateKey(`\uFEFF${TEST1.privateKeyPkcs8Pem}`)).toEqual(priv)
  })

  it('takes the key out of a file that also holds a certificate', () => {
    const bundle = fixtureText('cert.pem') + TEST1.privateKeyPkcs8Pem
    expect(toHex(parsePrivateKey(bundle).seed)).toBe(TEST1.secretKey)
  })
})

function generateKeyStartingWithZeroHex(): Ed25519PublicKey {
  for (;;) {
    const key = generatePrivateKey().public
    if (key.publicKey[0] !== undefined && key.publicKey[0] < 0x10) return key
  }
}

describe('wrong keys: exact codes, messages and remedies', () => {
  const wrongAlgorithm: [string, string][] = [
    ['rsa.pem', 'an RSA key'],
    ['rsa-pub.pem', 'an RSA key'],
    ['rsa-pkcs1.pem', 'an RSA key'],
    ['ec-p256.pem', 'an EC P-256 key'],
    ['ec-p256-sec1.pem', 'an EC P-256 key'],
    ['ed448.pem', 'an Ed448 key'],
    ['x25519.pem', 'an X25519 key'],
    ['x25519-pub.pem', 'an X25519 key'],
    ['dsa.pem', 'a DSA key'],
    ['openssh-rsa', 'an RSA key (OpenSSH format)'],
  ]

  it.each(wrongAlgorithm)('%s → KEY_WRONG_ALGORITHM, "%s"', async (file, what) => {
    const path = fixture(file)
    const error = await rejectionOf(readKeyFile(path))
    expect(error.code).toBe('KEY_WRONG_ALGORITHM')
    expect(error.exitCode).toBe(ExitCode.Input)
    expect(error.message).toBe(`stella signs with Ed25519; ${path} holds ${what}`)
    expect(error.remedy).toBe(GENERATE_REMEDY)
    // The same from parseKey with a label, and as binary DER for the PEM ones.
    expect(keyError(() => parseKey(fixtureText(file), './k.pem')).message).toBe(`stella signs with Ed25519; ./k.pem holds ${what}`)
  })

  it.each([
    ['rsa.pem', 'an RSA key'],
    ['rsa-pkcs1.pem', 'an RSA key'],
    ['ec-p256.pem', 'an EC P-256 key'],
    ['ec-p256-sec1.pem', 'an EC P-256 key'],
    ['ed448.pem', 'an Ed448 key'],
    ['x25519-pub.pem', 'an X25519 key'],
  ])('%s as binary DER → KEY_WRONG_ALGORITHM, "%s"', (file, what) => {
    const error = keyError(() => parseKey(derOf(fixtureText(file))))
    expect(error.code).toBe('KEY_WRONG_ALGORITHM')
    expect(error.message).toBe(`stella signs with Ed25519; the key holds ${what}`)
  })

  it('names the curve of EC keys made with `openssl ecparam -genkey` (EC PARAMETERS block first)', () => {
    const text = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${fixtureText('ec-p256-sec1.pem')}`
    expect(keyError(() => parseKey(text, 'ec.pem')).message).toBe('stella signs with Ed25519; ec.pem holds an EC P-256 key')
  })

  it('names unknown algorithms by OID', () => {
    // SubjectPublicKeyInfo with algorithm OID 1.2.3.4.5.6 around a 32-byte key.
    const pem = `-----BEGIN PUBLIC KEY-----\n${toBase64(hex('302c300706052a03040506032100' + TEST1.publicKey))}\n-----END PUBLIC KEY-----\n`
    expect(keyError(() => parseKey(pem, 'k.pem')).message).toBe('stella signs with Ed25519; k.pem holds an unrecognised key (algorithm OID 1.2.3.4.5.6)')
  })

  it('JWKs of other algorithms → KEY_WRONG_ALGORITHM', () => {
    expect(keyError(() => parseKey('{"kty":"EC","crv":"P-256","x":"a","y":"b"}', 'k.jwk')).message).toBe('stella signs with Ed25519; k.jwk holds an EC P-256 key')
    expect(keyError(() => parseKey('{"kty":"RSA","n":"a","e":"AQAB"}', 'k.jwk')).message).toBe('stella signs with Ed25519; k.jwk holds an RSA key')
    expect(keyError(() => parseKey('{"kty":"OKP","crv":"X25519","x":"a"}', 'k.jwk')).message).toBe('stella signs with Ed25519; k.jwk holds an X25519 key')
  })

  it('empty.pem → KEY_EMPTY (and whitespace-only input)', async () => {
    const path = fixture('empty.pem')
    const error = await rejectionOf(readKeyFile(path))
    expect(error.code).toBe('KEY_EMPTY')
    expect(error.message).toBe(`key file ${path} is empty`)
    expect(keyError(() => parseKey(' \n\t\n')).code).toBe('KEY_EMPTY')
    expect(keyError(() => parseKey(new Uint8Array(0), 'standard input')).message).toBe('standard input is empty')
  })

  it.each([
    ['truncated.pem', 'the PEM block "PRIVATE KEY" has no END line (the file looks truncated)'],
    ['truncated-der.pem', 'the DER inside the PEM "PRIVATE KEY" block is malformed: SEQUENCE claims 46 bytes but only 38 remain (truncated) at byte 0'],
    ['garbled-base64.pem', 'the base64 body of the PEM block "PRIVATE KEY" is not valid base64 (garbled or cut short)'],
  ])('%s → KEY_MALFORMED naming the part', async (file, problem) => {
    const path = fixture(file)
    const error = await rejectionOf(readKeyFile(path))
    expect(error.code).toBe('KEY_MALFORMED')
    expect(error.message).toBe(`key file ${path}: ${problem}`)
    expect(error.remedy).toContain('copied whole')
  })

  it('ed25519-encrypted.pem → KEY_ENCRYPTED with the openssl decrypt command', async () => {
    const path = fixture('ed25519-encrypted.pem')
    const error = await rejectionOf(readKeyFile(path))
    expect(error.code).toBe('KEY_ENCRYPTED')
    expect(error.message).toBe(`${path} holds an encrypted private key (PEM "ENCRYPTED PRIVATE KEY"); stella reads only unencrypted PKCS#8 keys`)
    expect(error.remedy).toBe(`Decrypt it with \`openssl pkey -in ${path} -out plain.pem\` (it asks for the passphrase), keep plain.pem private, and use that.`)
    // Paths with spaces are quoted for the shell; labels get a placeholder.
    expect(keyError(() => parseKey(fixtureText('ed25519-encrypted.pem'), 'my keys/k.pem')).remedy).toContain("openssl pkey -in 'my keys/k.pem' -out plain.pem")
    expect(keyError(() => parseKey(fixtureText('ed25519-encrypted.pem'), 'standard input')).remedy).toContain('openssl pkey -in key.pem -out plain.pem')
    // Encrypted PKCS#8 as binary DER too.
    expect(keyError(() => parseKey(derOf(fixtureText('ed25519-encrypted.pem')))).code).toBe('KEY_ENCRYPTED')
  })

  it('cert.pem → KEY_IS_CERTIFICATE with the openssl x509 -pubkey command (PEM and DER)', async () => {
    const path = fixture('cert.pem')
    const error = await rejectionOf(readPublicKeyFile(path))
    expect(error.code).toBe('KEY_IS_CERTIFICATE')
    expect(error.message).toBe(`${path} holds an X.509 certificate, not a key`)
    expect(error.remedy).toBe(`Extract its public key with \`openssl x509 -in ${path} -pubkey -noout > pub.pem\` and use pub.pem.`)
    expect(keyError(() => parseKey(derOf(fixtureText('cert.pem')))).code).toBe('KEY_IS_CERTIFICATE')
  })

  it('public key where a private key is needed → KEY_NOT_PRIVATE', async () => {
    const path = fixture('ed25519-pub.pem')
    const error = await rejectionOf(readPrivateKeyFile(path))
    expect(error.code).toBe('KEY_NOT_PRIVATE')
    expect(error.message).toBe(`${path} holds a public key; signing needs the private key`)
    expect(error.remedy).toContain('BEGIN PRIVATE KEY')
    for (const input of [fixtureText('ed25519-pub.jwk'), fixtureText('ed25519-pub.hex')]) {
      expect(keyError(() => parsePrivateKey(input)).code).toBe('KEY_NOT_PRIVATE')
    }
  })

  it('mismatched-public-v2.pem (embedded public key of another seed) → KEY_INVALID', async () => {
    const path = fixture('mismatched-public-v2.pem')
    const error = await rejectionOf(readKeyFile(path))
    expect(error.code).toBe('KEY_INVALID')
    expect(error.message).toBe(`key file ${path}: the public key embedded in the PEM "PRIVATE KEY" block does not belong to its private key`)
  })

  it('invalid points → KEY_INVALID; wrong lengths → KEY_MALFORMED', () => {
    const notAPoint = '02' + '00'.repeat(31)
    expect(keyError(() => publicKeyFromBytes(hex(notAPoint))).code).toBe('KEY_INVALID')
    expect(keyError(() => parsePublicKey(notAPoint, 'pub.hex')).message).toBe('key file pub.hex: the hex public key is not a valid Ed25519 public key (not a canonical curve point encoding)')
    expect(keyError(() => parsePublicKey('01' + '00'.repeat(31), 'pub.hex')).message).toBe('key file pub.hex: the hex public key is a small-order point, a weak key under which no signature verifies')
    const spki = `-----BEGIN PUBLIC KEY-----\n${toBase64(hex('302a300506032b6570032100' + notAPoint))}\n-----END PUBLIC KEY-----\n`
    expect(keyError(() => parsePublicKey(spki)).code).toBe('KEY_INVALID')
    expect(keyError(() => publicKeyFromBytes(new Uint8Array(31))).code).toBe('KEY_MALFORMED')
    expect(keyError(() => parsePublicKey(TEST1.publicKey.slice(2), 'pub.hex')).message).toBe('key file pub.hex: holds 62 hex digits; a raw Ed25519 public key is 64')
    // JWK whose x is not the public key of d.
    const jwk = {kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: 'PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw'}
    expect(keyError(() => parseKey(JSON.stringify(jwk))).message).toBe('key: the JWK "x" does not belong to its private key "d"')
  })

  it('OpenSSH Ed25519 keys → KEY_UNSUPPORTED_FORMAT with a way forward', async () => {
    const path = fixture('openssh-ed25519')
    const error = await rejectionOf(readKeyFile(path))
    expect(error.code).toBe('KEY_UNSUPPORTED_FORMAT')
    expect(error.message).toBe(`${path} holds an OpenSSH private key (ssh-ed25519), a format stella does not read`)
    expect(error.remedy).toContain('stella keys generate')
    const pub = await rejectionOf(readKeyFile(fixture('openssh-ed25519.pub')))
    expect(pub.code).toBe('KEY_UNSUPPORTED_FORMAT')
    expect(pub.message).toBe(`${fixture('openssh-ed25519.pub')} holds an OpenSSH public key (ssh-ed25519), a format stella does not read`)
  })

  it('missing file or directory → KEY_UNREADABLE with the OS reason', async () => {
    const missing = await rejectionOf(readKeyFile('./no/such/key.pem'))
    expect(missing.code).toBe('KEY_UNREADABLE')
    expect(missing.message).toBe('key file ./no/such/key.pem: cannot read it: no such file or directory')
    const dir = await rejectionOf(readKeyFile(fixture('.')))
    expect(dir.code).toBe('KEY_UNREADABLE')
    expect(dir.message).toContain('it is a directory')
  })

  it('strict DER: parameters on the Ed25519 OID, non-minimal lengths, trailing bytes, BER are refused', () => {
    const cases: [string, string][] = [
      // AlgorithmIdentifier with NULL parameters (RFC 8410 forbids them).
      ['3030020100300706032b6570050004220420' + TEST1.secretKey, 'forbids'],
      // Outer length in long form although < 128.
      ['30812e020100300506032b657004220420' + TEST1.secretKey, 'length not minimally encoded'],
      // A trailing byte after the PrivateKeyInfo.
      ['302e020100300506032b657004220420' + TEST1.secretKey + '00', 'unexpected data after the top-level element'],
      // Indefinite length (BER).
      ['3080020100300506032b657004220420' + TEST1.secretKey + '0000', 'indefinite length is not DER'],
      // Version 0 written as 02 02 00 00 (non-minimal INTEGER).
      ['302f02020000300506032b657004220420' + TEST1.secretKey, 'INTEGER not minimally encoded'],
      // Seed not wrapped in the inner OCTET STRING (an old draft encoding).
      ['302c020100300506032b65700420' + TEST1.secretKey, 'CurvePrivateKey'],
    ]
    for (const [der, problem] of cases) {
      const pem = `-----BEGIN PRIVATE KEY-----\n${toBase64(hex(der))}\n-----END PRIVATE KEY-----\n`
      const error = keyError(() => parseKey(pem))
      expect(error.code, der).toBe('KEY_MALFORMED')
      expect(error.message, der).toContain(problem)
    }
  })

  it('garbage and oddities → KEY_MALFORMED / KEY_UNSUPPORTED_FORMAT', () => {
    expect(keyError(() => parseKey('hello world')).message).toBe('key: is not a PEM, JWK or hex key')
    expect(keyError(() => parseKey(new Uint8Array([0xff, 0xfe, 0x00]))).message).toBe('key: is neither text (PEM, JWK, hex) nor DER')
    expect(keyError(() => parseKey('{"kty": "OKP",')).message).toBe('key: looks like a JWK but is not valid JSON')
    expect(keyError(() => parseKey(TEST1.privateKeyPkcs8Pem + TEST1.privateKeyPkcs8Pem)).message).toBe('key: holds 2 PEM keys; stella expects exactly one key per file')
    expect(keyError(() => parseKey(TEST1.privateKeyPkcs8Pem.replace('END PRIVATE', 'END PUBLIC'))).message).toBe('key: the PEM block "BEGIN PRIVATE KEY" ends with "END PUBLIC KEY"')
    const pgp = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n'
    expect(keyError(() => parseKey(pgp)).code).toBe('KEY_UNSUPPORTED_FORMAT')
    expect(keyError(() => parseKey('-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n')).message).toBe('the key holds a PEM "FOO" block, a format stella does not read')
  })
})

describe('errors never include private key material', () => {
  const secretFixtures = ['rsa.pem', 'rsa-pkcs1.pem', 'ec-p256.pem', 'ec-p256-sec1.pem', 'ed448.pem', 'x25519.pem', 'dsa.pem', 'ed25519-encrypted.pem', 'openssh-ed25519', 'openssh-rsa', 'truncated.pem', 'truncated-der.pem', 'garbled-base64.pem', 'mismatched-public-v2.pem']

  const leaks = (error: KeyError, secrets: string[]): string[] => {
    const text = `${error.message}\n${error.remedy ?? ''}`.toLowerCase()
    return secrets.filter((s) => s.length >= 12 && text.includes(s.toLowerCase()))
  }

  it.each(secretFixtures)('%s', (file) => {
    const text = fixtureText(file)
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
    // Every 12-character window of the base64 body, and of its hex.
    const body = pemBody(text)
    const bodyHex = Buffer.from(body, 'base64').toString('hex')
    const windows = [...lines, ...Array.from({length: Math.max(0, body.length - 11)}, (_, i) => body.slice(i, i + 12)), ...Array.from({length: Math.max(0, bodyHex.length - 15)}, (_, i) => bodyHex.slice(i, i + 16))]
    const error = keyError(() => parseKey(text, file))
    expect(leaks(error, windows)).toEqual([])
  })

  it('JWK and hex inputs with a bad or mismatched "d" do not echo it', () => {
    const d = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A'
    const inputs = [
      `{"kty":"OKP","crv":"Ed25519","d":"${d}","x":"PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw"}`,
      `{"kty":"OKP","crv":"Ed25519","d":"${d}"`, // broken JSON: the parser's message would quote it
      `{"kty":"OKP","crv":"Ed25519","d":"${d}x","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
      TEST1.secretKey + TEST1.publicKey, // 128 hex: a raw private key
      TEST1.privateKeyPkcs8Pem.replace('-----END PRIVATE KEY-----\n', ''),
    ]
    for (const input of inputs) {
      const error = keyError(() => parseKey(input, 'k'))
      expect(leaks(error, [d, d.slice(0, 20), TEST1.secretKey, TEST1.secretKey.slice(0, 16), pemBody(TEST1.privateKeyPkcs8Pem).slice(0, 24)])).toEqual([])
      expect(error.cause).toBeUndefined()
    }
  })
})

describe('key objects', () => {
  it('do not alias the caller’s buffers', () => {
    const raw = hex(TEST1.publicKey)
    const key = publicKeyFromBytes(raw)
    raw[0] = 0
    expect(toHex(key.publicKey)).toBe(TEST1.publicKey)
  })

  it('private keys carry their public half', () => {
    const key: Ed25519PrivateKey = parsePrivateKey(TEST1.privateKeyPkcs8Pem)
    expect(key.public).toEqual(parsePublicKey(TEST1.publicKeySpkiPem))
  })
})
