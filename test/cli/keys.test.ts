import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'

let home: {path: string; cleanup: () => void}
const stella = (args: string[], input?: string) => runCli(args, {home: home.path, input})
const fixture = (name: string) => join(projectRoot, 'test', 'fixtures', 'keys', name)

const FIXTURE_KEYID = '99c3e7bcab7992b8558313dd1c131429739e179ba7c1a8e78f077a7ed4cdae30'
const FIXTURE_PUBLIC_PEM = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAmOQaMD5/xFabQXRZi6B9NlHB64C2bJLBzjgfZd92nA0=\n-----END PUBLIC KEY-----\n'

beforeEach(() => {
  home = scratchDir()
})
afterEach(() => home.cleanup())

describe('stella keys generate', () => {
  it('writes a 0600 private key and a public key, and prints the keyid that keys show and openssl agree on', async () => {
    const r = await stella(['keys', 'generate', '--out', 'signing'])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    const keyid = /^keyid:\s+([0-9a-f]{64})$/m.exec(r.stdout)?.[1]
    expect(keyid).toBeDefined()
    expect(r.stdout).toMatch(/^private key: signing\.pem \(keep it secret\)$/m)
    expect(r.stdout).toMatch(/^public key:\s+signing\.pub\.pem$/m)

    const privatePath = join(home.path, 'signing.pem')
    const publicPath = join(home.path, 'signing.pub.pem')
    expect(statSync(privatePath).mode & 0o777).toBe(0o600)
    expect(readFileSync(privatePath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]{64}\n-----END PRIVATE KEY-----\n$/)

    // The keyid is the SHA-256 of the SPKI DER, as openssl derives it from the private key.
    const der = execFileSync('openssl', ['pkey', '-in', privatePath, '-pubout', '-outform', 'DER'])
    const digest = execFileSync('openssl', ['dgst', '-sha256', '-r'], {input: der}).toString().split(' ')[0]
    expect(keyid).toBe(digest)

    for (const path of ['signing.pem', 'signing.pub.pem']) {
      const shown = await stella(['keys', 'show', path, '--json'])
      expect(shown.status).toBe(0)
      expect(JSON.parse(shown.stdout).result.keyid).toBe(keyid)
    }

    expect(readFileSync(publicPath, 'utf8')).toBe(execFileSync('openssl', ['pkey', '-in', privatePath, '-pubout']).toString())
  })

  it('refuses to overwrite either file without --force, and replaces both with it', async () => {
    expect((await stella(['keys', 'generate', '-o', 'k'])).status).toBe(0)
    const before = readFileSync(join(home.path, 'k.pem'), 'utf8')

    const refused = await stella(['keys', 'generate', '-o', 'k'])
    expect(refused.status).toBe(2)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toBe('Error: k.pem already exists\nHint: Choose another --out prefix, or pass --force to replace the key pair.\n')
    expect(readFileSync(join(home.path, 'k.pem'), 'utf8')).toBe(before)

    // Only the public half present: still refused, and no private key appears.
    writeFileSync(join(home.path, 'lonely.pub.pem'), 'keep me')
    const half = await stella(['keys', 'generate', '-o', 'lonely'])
    expect(half.status).toBe(2)
    expect(half.stderr).toBe('Error: lonely.pub.pem already exists\nHint: Choose another --out prefix, or pass --force to replace the key pair.\n')
    expect(existsSync(join(home.path, 'lonely.pem'))).toBe(false)
    expect(readFileSync(join(home.path, 'lonely.pub.pem'), 'utf8')).toBe('keep me')

    const forced = await stella(['keys', 'generate', '-o', 'k', '--force'])
    expect(forced.status).toBe(0)
    expect(readFileSync(join(home.path, 'k.pem'), 'utf8')).not.toBe(before)
    expect(statSync(join(home.path, 'k.pem')).mode & 0o777).toBe(0o600)
  })

  it('puts the key pair in one JSON envelope, and leaves no file behind when the directory is missing', async () => {
    const r = await stella(['keys', 'generate', '--out', 'ci', '--json'])
    expect(r.status).toBe(0)
    const envelope = JSON.parse(r.stdout)
    expect(Object.keys(envelope)).toEqual(['status', 'result', 'warnings'])
    expect(envelope.status).toBe(0)
    expect(envelope.warnings).toEqual([])
    expect(envelope.result).toEqual({
      keyid: expect.stringMatching(/^[0-9a-f]{64}$/),
      fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
      privateKeyPath: 'ci.pem',
      publicKeyPath: 'ci.pub.pem',
      publicKeyPem: readFileSync(join(home.path, 'ci.pub.pem'), 'utf8'),
    })

    const missing = await stella(['keys', 'generate', '--out', 'no/such/dir/k', '--json'])
    expect(missing.status).toBe(3)
    expect(JSON.parse(missing.stdout)).toEqual({
      status: 3,
      error: {
        code: 'OUTPUT_UNWRITABLE',
        message: 'cannot write no/such/dir/k.pem: no such file or directory',
        remedy: 'Check that the directory no/such/dir exists and is writable.',
      },
    })
    expect(existsSync(join(home.path, 'no'))).toBe(false)
  })
})

describe('stella keys show', () => {
  it('describes a private key without printing its secret', async () => {
    const r = await stella(['keys', 'show', fixture('ed25519.pem')])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(
      `file:        ${fixture('ed25519.pem')}\n`
        + 'kind:        private\n'
        + 'algorithm:   Ed25519\n'
        + `keyid:       ${FIXTURE_KEYID}\n`
        + 'fingerprint: SHA256:mcPnvKt5krhVgxPdHBMUKXOeF5unwajnjwd6ftTNrjA\n'
        + '\n'
        + FIXTURE_PUBLIC_PEM,
    )
    expect(r.stdout).not.toContain('PRIVATE')
  })

  it('reads every public key form, from a file or standard input, to the same keyid', async () => {
    for (const name of ['ed25519-pub.pem', 'ed25519-pub.jwk', 'ed25519-pub.hex']) {
      const r = await stella(['keys', 'show', fixture(name), '--json'])
      expect(r.status).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual({
        status: 0,
        result: {
          path: fixture(name),
          kind: 'public',
          algorithm: 'ed25519',
          keyid: FIXTURE_KEYID,
          fingerprint: 'SHA256:mcPnvKt5krhVgxPdHBMUKXOeF5unwajnjwd6ftTNrjA',
          publicKeyPem: FIXTURE_PUBLIC_PEM,
          publicKeyJwk: {kty: 'OKP', crv: 'Ed25519', x: 'mOQaMD5_xFabQXRZi6B9NlHB64C2bJLBzjgfZd92nA0'},
        },
        warnings: [],
      })
    }

    const piped = await stella(['keys', 'show', '-'], readFileSync(fixture('ed25519-pub.jwk'), 'utf8'))
    expect(piped.status).toBe(0)
    expect(piped.stdout).toMatch(/^file:\s+standard input$/m)
    expect(piped.stdout).toContain(`keyid:       ${FIXTURE_KEYID}`)
  })

  it('gives each wrong key its own error, remedy and the input exit code', async () => {
    const cases: [string, string, string][] = [
      ['rsa.pem', 'KEY_WRONG_ALGORITHM', 'stella signs with Ed25519; rsa.pem holds an RSA key'],
      ['ec-p256.pem', 'KEY_WRONG_ALGORITHM', 'stella signs with Ed25519; ec-p256.pem holds an EC P-256 key'],
      ['ed25519-encrypted.pem', 'KEY_ENCRYPTED', 'ed25519-encrypted.pem holds an encrypted private key (PEM "ENCRYPTED PRIVATE KEY"); stella reads only unencrypted PKCS#8 keys'],
      ['truncated.pem', 'KEY_MALFORMED', 'key file truncated.pem: the PEM block "PRIVATE KEY" has no END line (the file looks truncated)'],
      ['empty.pem', 'KEY_EMPTY', 'key file empty.pem is empty'],
      ['cert.pem', 'KEY_IS_CERTIFICATE', 'cert.pem holds an X.509 certificate, not a key'],
      ['openssh-ed25519', 'KEY_UNSUPPORTED_FORMAT', 'openssh-ed25519 holds an OpenSSH private key (ssh-ed25519), a format stella does not read'],
      ['missing.pem', 'KEY_UNREADABLE', 'key file missing.pem: cannot read it: no such file or directory'],
    ]
    for (const [name, code, message] of cases) {
      const r = await runCli(['keys', 'show', name, '--json'], {home: home.path, cwd: fixture('.')})
      expect(r.status, name).toBe(3)
      const {error} = JSON.parse(r.stdout)
      expect(error.code, name).toBe(code)
      expect(error.message, name).toBe(message)
      expect(error.remedy, name).toMatch(/\S/)
    }

    const human = await runCli(['keys', 'show', 'ed25519-encrypted.pem'], {home: home.path, cwd: fixture('.')})
    expect(human.status).toBe(3)
    expect(human.stdout).toBe('')
    expect(human.stderr).toBe(
      'Error: ed25519-encrypted.pem holds an encrypted private key (PEM "ENCRYPTED PRIVATE KEY"); stella reads only unencrypted PKCS#8 keys\n'
        + 'Hint: Decrypt it with `openssl pkey -in ed25519-encrypted.pem -out plain.pem` (it asks for the passphrase), keep plain.pem private, and use that.\n',
    )
  })

  it('needs a key file argument', async () => {
    const r = await stella(['keys', 'show'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^Error: Missing 1 required arg:\nkeyfile/)
    expect(r.stderr).toContain('Hint: See `stella keys show --help`.\n')
  })
})
