/** Byte encodings used across the trust core: strict hex and base64 (standard and URL-safe). */

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Decodes hex (either case), or returns undefined when the text is not whole bytes of hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX_RE.test(text)) return undefined
  return new Uint8Array(Buffer.from(text, 'hex'))
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

const STANDARD_RE = /^[A-Za-z0-9+/]*$/
const URL_SAFE_RE = /^[A-Za-z0-9\-_]*$/

/**
 * Decodes standard or URL-safe base64, padded or not, and nothing else.
 * Node's own decoder skips characters it does not know; a verifier must not, so this
 * rejects foreign characters, a mix of both alphabets, misplaced padding and
 * non-zero trailing bits (which would let two texts decode to the same bytes).
 */
export function fromBase64Strict(text: string): Uint8Array | undefined {
  const unpadded = text.replace(/={1,2}$/, '')
  const padding = text.length - unpadded.length
  if (padding > 0 && text.length % 4 !== 0) return undefined
  if (unpadded.length % 4 === 1) return undefined
  const standard = STANDARD_RE.test(unpadded)
  if (!standard && !URL_SAFE_RE.test(unpadded)) return undefined
  const bytes = Buffer.from(unpadded, standard ? 'base64' : 'base64url')
  const canonical = bytes.toString(standard ? 'base64' : 'base64url').replace(/=+$/, '')
  if (canonical !== unpadded) return undefined
  return new Uint8Array(bytes)
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

const strictUtf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})

/** Decodes UTF-8, or returns undefined when the bytes are not valid UTF-8. */
export function fromUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return undefined
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}
