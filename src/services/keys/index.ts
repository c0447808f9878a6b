/** What the `stella keys` commands do; returns plain data, prints nothing. */
import {existsSync, rmSync} from 'node:fs'

import {UsageError} from '../../lib/errors.js'
import {writeFileAtomic} from '../../lib/fs/atomic.js'
import {
  type Ed25519Key,
  fingerprintOf,
  generatePrivateKey,
  parseKey,
  privateKeyToPem,
  publicKeyToJwk,
  publicKeyToPem,
  readKeyFile,
} from '../../lib/keys/index.js'

export interface GeneratedKeyPair {
  keyid: string
  fingerprint: string
  privateKeyPath: string
  publicKeyPath: string
  publicKeyPem: string
}

/** Writes PREFIX.pem (0600) and PREFIX.pub.pem: both or neither, never over existing files unless forced. */
export function generateKeyPair(prefix: string, force: boolean): GeneratedKeyPair {
  const privateKeyPath = `${prefix}.pem`
  const publicKeyPath = `${prefix}.pub.pem`
  if (!force) {
    for (const path of [privateKeyPath, publicKeyPath]) {
      if (existsSync(path)) {
        throw new UsageError('OUTPUT_EXISTS', `${path} already exists`, {remedy: 'Choose another --out prefix, or pass --force to replace the key pair.'})
      }
    }
  }

  const key = generatePrivateKey()
  const publicKeyPem = publicKeyToPem(key.public)
  writeFileAtomic(privateKeyPath, privateKeyToPem(key), {mode: 0o600, overwrite: force})
  try {
    writeFileAtomic(publicKeyPath, publicKeyPem, {mode: 0o644, overwrite: force})
  } catch (error) {
    // Half a key pair is worse than none: take the private key back out.
    rmSync(privateKeyPath, {force: true})
    throw error
  }

  return {keyid: key.public.keyid, fingerprint: fingerprintOf(key.public.publicKey), privateKeyPath, publicKeyPath, publicKeyPem}
}

export interface KeyDescription {
  path: string
  kind: 'private' | 'public'
  algorithm: 'ed25519'
  keyid: string
  fingerprint: string
  publicKeyPem: string
  publicKeyJwk: {kty: 'OKP'; crv: 'Ed25519'; x: string}
}

/** Reads a key file (or stdin as `-`) and describes it; the private part is never returned. */
export async function describeKey(path: string, readStdin: () => Promise<Uint8Array>): Promise<KeyDescription> {
  const key: Ed25519Key = path === '-' ? parseKey(await readStdin(), 'standard input') : await readKeyFile(path)
  const pub = key.kind === 'private' ? key.public : key
  return {
    path,
    kind: key.kind,
    algorithm: 'ed25519',
    keyid: pub.keyid,
    fingerprint: fingerprintOf(pub.publicKey),
    publicKeyPem: publicKeyToPem(pub),
    publicKeyJwk: publicKeyToJwk(pub),
  }
}
