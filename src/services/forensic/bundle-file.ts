/** Opening bundles and trusted keys named on the command line. */
import {createReadStream, statSync} from 'node:fs'

import {InputError, UsageError} from '../../lib/errors.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {type Ed25519PublicKey, readPublicKeyFile} from '../../lib/keys/index.js'

export interface BundleSource {
  /** The bundle's bytes; for a file, opened when first iterated. */
  stream: AsyncIterable<Uint8Array>
  /** Compressed size when known (a file), for progress. */
  size: number
  name: string
  /** The path, for a file (not standard input). */
  file?: string
}

/** A bundle file, or standard input for `-`. Unreadable files are input errors (exit 3), not verification failures. */
export function openBundle(path: string): BundleSource {
  if (path === '-') return {stream: process.stdin, size: 0, name: 'standard input'}
  let size: number
  try {
    const stat = statSync(path)
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
    size = stat.size
  } catch (error) {
    throw new InputError('BUNDLE_UNREADABLE', `cannot read the bundle ${path}: ${fsErrorReason(error)}`, {
      remedy: 'Check the path; give - to read the bundle from standard input.',
      cause: error,
    })
  }

  const stream = {[Symbol.asyncIterator]: () => createReadStream(path, {highWaterMark: 1 << 20})[Symbol.asyncIterator]()}
  return {stream, size, name: path, file: path}
}

/** A bundle whose archive could not be read by a command that does not verify (show, prove). */
export function bundleUnreadable(path: string, error: unknown): InputError {
  return new InputError('BUNDLE_UNREADABLE', `cannot read the bundle ${path}: ${(error as Error).message}`, {
    remedy: 'Run `stella forensic verify` on it for a full report of what is wrong.',
    cause: error,
  })
}

export async function readTrustedKeys(paths: readonly string[]): Promise<Ed25519PublicKey[]> {
  if (paths.length === 0) {
    throw new UsageError('NO_TRUSTED_KEY', 'no trusted public key was given', {
      remedy: "Pass --key with the producer's public key (e.g. --key platform.pub.pem); repeat it for several keys.",
    })
  }

  return Promise.all(paths.map((path) => readPublicKeyFile(path)))
}
