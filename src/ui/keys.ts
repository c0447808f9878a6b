/** Human renderings of `stella keys` results. */
import type {GeneratedKeyPair, KeyDescription} from '../services/keys/index.js'
import {bold} from './style.js'
import {renderFields} from './table.js'

export function renderGeneratedKeyPair(pair: GeneratedKeyPair): string {
  return renderFields([
    ['private key', `${pair.privateKeyPath} (keep it secret)`],
    ['public key', pair.publicKeyPath],
    ['keyid', bold(pair.keyid)],
    ['fingerprint', pair.fingerprint],
  ])
}

export function renderKeyDescription(key: KeyDescription): string {
  const fields = renderFields([
    ['file', key.path === '-' ? 'standard input' : key.path],
    ['kind', key.kind],
    ['algorithm', 'Ed25519'],
    ['keyid', bold(key.keyid)],
    ['fingerprint', key.fingerprint],
  ])
  return `${fields}\n\n${key.publicKeyPem.trimEnd()}`
}
