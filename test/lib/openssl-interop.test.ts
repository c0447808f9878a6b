import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope, verifyEnvelope} from '../../src/lib/dsse/index.js'
import {toBase64, utf8} from '../../src/lib/encoding.js'
import {ed25519Sign, ed25519Verify} from '../../src/lib/keys/ed25519.js'
import {generatePrivateKey, privateKeyToPem, publicKeyToPem, readPrivateKeyFile, readPublicKeyFile} from '../../src/lib/keys/index.js'

const OPENSSL = '/usr/bin/openssl'
const openssl = (...args: string[]): Buffer => execFileSync(OPENSSL, args, {stdio: ['ignore', 'pipe', 'pipe']})

describe.skipIf(!existsSync(OPENSSL))('OpenSSL interoperability', () => {
  let dir: string
  const at = (name: string): string => join(dir, name)

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stella-openssl-'))
  })

  afterAll(() => {
    rmSync(dir, {recursive: true, force: true})
  })

  it('loads keys from `openssl genpkey -algorithm ed25519`; keyid = sha256 of `openssl pkey -pubout -outform DER`', async () => {
    for (let i = 0; i < 3; i++) {
      const keyFile = at(`gen${i}.pem`)
      openssl('genpkey', '-algorithm', 'ed25519', '-out', keyFile)
      const spki = openssl('pkey', '-in', keyFile, '-pubout', '-outform', 'DER')
      const key = await readPrivateKeyFile(keyFile)
      expect(key.public.keyid).toBe(createHash('sha256').update(spki).digest('hex'))
      expect(Buffer.from(key.public.spki)).toEqual(spki)
      // Our PEM is byte-identical to what openssl wrote.
      expect(privateKeyToPem(key)).toBe(readFileSync(keyFile, 'utf8'))

      const pubFile = at(`gen${i}.pub.pem`)
      openssl('pkey', '-in', keyFile, '-pubout', '-out', pubFile)
      const pub = await readPublicKeyFile(pubFile)
      expect(pub).toEqual(key.public)
      expect(publicKeyToPem(pub)).toBe(readFileSync(pubFile, 'utf8'))
    }
  })

  it('openssl reads our PEMs, and re-emits privateKeyToPem byte for byte', () => {
    const key = generatePrivateKey()
    writeFileSync(at('ours.pem'), privateKeyToPem(key), {mode: 0o600})
    writeFileSync(at('ours.pub.pem'), publicKeyToPem(key.public))
    expect(openssl('pkey', '-in', at('ours.pem')).toString('utf8')).toBe(privateKeyToPem(key))
    expect(openssl('pkey', '-in', at('ours.pem'), '-pubout').toString('utf8')).toBe(publicKeyToPem(key.public))
    expect(openssl('pkey', '-pubin', '-in', at('ours.pub.pem')).toString('utf8')).toBe(publicKeyToPem(key.public))
    expect(openssl('pkey', '-pubin', '-in', at('ours.pub.pem'), '-outform', 'DER')).toEqual(Buffer.from(key.public.spki))
  })

  it('a PAE signed by ed25519Sign verifies with `openssl pkeyutl -verify -rawin`', () => {
    const key = generatePrivateKey()
    writeFileSync(at('v.pub.pem'), publicKeyToPem(key.public))
    const message = pae(IN_TOTO_PAYLOAD_TYPE, utf8('{"_type":"https://in-toto.io/Statement/v1"}'))
    writeFileSync(at('pae.bin'), message)
    writeFileSync(at('sig.bin'), ed25519Sign(message, key.seed))
    const out = openssl('pkeyutl', '-verify', '-pubin', '-inkey', at('v.pub.pem'), '-rawin', '-in', at('pae.bin'), '-sigfile', at('sig.bin'))
    expect(out.toString('utf8')).toContain('Signature Verified Successfully')

    // And openssl rejects it once the message changes (the check is real).
    writeFileSync(at('pae2.bin'), pae(IN_TOTO_PAYLOAD_TYPE, utf8('{"_type":"tampered"}')))
    expect(() => openssl('pkeyutl', '-verify', '-pubin', '-inkey', at('v.pub.pem'), '-rawin', '-in', at('pae2.bin'), '-sigfile', at('sig.bin'))).toThrow()
  })

  it('a signature by `openssl pkeyutl -sign -rawin` verifies with ed25519Verify and inside a DSSE envelope', async () => {
    openssl('genpkey', '-algorithm', 'ed25519', '-out', at('signer.pem'))
    const key = await readPrivateKeyFile(at('signer.pem'))
    const payload = utf8('{"_type": "https://in-toto.io/Statement/v1", "subject": []}\n')
    const message = pae(IN_TOTO_PAYLOAD_TYPE, payload)
    writeFileSync(at('msg.bin'), message)
    const sig = new Uint8Array(openssl('pkeyutl', '-sign', '-inkey', at('signer.pem'), '-rawin', '-in', at('msg.bin')))
    expect(sig).toHaveLength(64)
    expect(ed25519Verify(sig, message, key.public.publicKey)).toBe(true)
    // Ed25519 is deterministic: the same bytes as ours.
    expect(sig).toEqual(ed25519Sign(message, key.seed))

    const envelope = parseEnvelope(JSON.stringify({payloadType: IN_TOTO_PAYLOAD_TYPE, payload: toBase64(payload), signatures: [{sig: toBase64(sig)}]}))
    const result = verifyEnvelope(envelope, [key.public])
    expect(result.ok).toBe(true)
    expect(result.verifiedKeyIds).toEqual([key.public.keyid])
    expect(result.payload).toEqual(payload)
  })
})
