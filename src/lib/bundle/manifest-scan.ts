/**
 * Reads manifest.json straight from its bytes, putting the file list into typed arrays as it goes,
 * without building the JSON text as a string or the file list as objects. For 40,000 files that
 * saves about 25 MB at once, which V8 would otherwise keep as heap for the rest of the run.
 *
 * It only handles the plain case: valid UTF-8, no byte order mark, no duplicate keys, nothing the
 * manifest checks reject. Anything else returns undefined, and the caller parses with
 * parseManifest, so errors and edge cases keep exactly its messages and JSON.parse's semantics.
 */
import {isUtf8} from 'node:buffer'

import {type FileListCapacity, FileListBuilder} from './file-ledger.js'
import {type Manifest, checkManifestHead, checkManifestMerkle, parseFileEntry} from './manifest.js'
import {compareUtf8} from './paths.js'

export interface ScannedManifest {
  /** Every field of the manifest but `files`. */
  head: Omit<Manifest, 'files'>
  files: FileListBuilder
}

/** Thrown inside the scanner for anything outside the plain case. */
class Unusual extends Error {}

const QUOTE = 0x22
const BACKSLASH = 0x5c

export function scanManifest(bytes: Uint8Array): ScannedManifest | undefined {
  if (!isUtf8(bytes)) return undefined
  try {
    return new ManifestScanner(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).scan()
  } catch {
    // Unusual input, or a manifest check failing: parseManifest gives the exact answer.
    return undefined
  }
}

class ManifestScanner {
  readonly #bytes: Buffer
  #at = 0
  readonly #files: FileListBuilder

  constructor(bytes: Buffer) {
    this.#bytes = bytes
    this.#files = new FileListBuilder(expectedCapacity(bytes))
  }

  scan(): ScannedManifest {
    this.#skipSpace()
    const head: Record<string, unknown> = {}
    let sawFiles = false
    this.#object((key) => {
      if (key !== 'files') {
        head[key] = this.#value()
        return
      }

      if (this.#peek() !== 0x5b) throw new Unusual()
      sawFiles = true
      this.#fileList()
    })
    this.#skipSpace()
    if (this.#at !== this.#bytes.length) throw new Unusual()
    if (!sawFiles) throw new Unusual()

    checkManifestHead({...head, files: []})
    checkManifestMerkle(head, this.#files.count)
    return {head: head as unknown as Omit<Manifest, 'files'>, files: this.#files}
  }

  #fileList(): void {
    this.#at += 1
    this.#skipSpace()
    let previous: string | undefined
    if (this.#peek() === 0x5d) {
      this.#at += 1
      return
    }

    for (let index = 0; ; index++) {
      if (this.#peek() !== 0x7b) throw new Unusual()
      const entry = this.#value()
      const file = parseFileEntry(entry, index)
      if (previous !== undefined && compareUtf8(previous, file.path) >= 0) throw new Unusual()
      previous = file.path
      this.#files.add(file.path, file.size, file.sha256)
      this.#skipSpace()
      const next = this.#bytes[this.#at++]
      if (next === 0x5d) return
      if (next !== 0x2c) throw new Unusual()
      this.#skipSpace()
    }
  }

  #value(): unknown {
    this.#skipSpace()
    const byte = this.#peek()
    if (byte === QUOTE) return this.#string()
    if (byte === 0x7b) {
      const object: Record<string, unknown> = {}
      this.#object((key) => {
        object[key] = this.#value()
      })
      return object
    }

    if (byte === 0x5b) return this.#array()
    if (byte === 0x74) return this.#literal('true', true)
    if (byte === 0x66) return this.#literal('false', false)
    if (byte === 0x6e) return this.#literal('null', null)
    return this.#number()
  }

  /** Reads `{ "key": value, ... }`, handing each key to `member` to read its value. */
  #object(member: (key: string) => void): void {
    if (this.#bytes[this.#at++] !== 0x7b) throw new Unusual()
    this.#skipSpace()
    if (this.#peek() === 0x7d) {
      this.#at += 1
      return
    }

    const seen = new Set<string>()
    for (;;) {
      this.#skipSpace()
      if (this.#peek() !== QUOTE) throw new Unusual()
      const key = this.#string()
      // JSON.parse keeps the last of duplicate keys, and makes "__proto__" an own property.
      if (seen.has(key) || key === '__proto__') throw new Unusual()
      seen.add(key)
      this.#skipSpace()
      if (this.#bytes[this.#at++] !== 0x3a) throw new Unusual()
      this.#skipSpace()
      member(key)
      this.#skipSpace()
      const next = this.#bytes[this.#at++]
      if (next === 0x7d) return
      if (next !== 0x2c) throw new Unusual()
    }
  }

  #array(): unknown[] {
    this.#at += 1
    const items: unknown[] = []
    this.#skipSpace()
    if (this.#peek() === 0x5d) {
      this.#at += 1
      return items
    }

    for (;;) {
      items.push(this.#value())
      this.#skipSpace()
      const next = this.#bytes[this.#at++]
      if (next === 0x5d) return items
      if (next !== 0x2c) throw new Unusual()
    }
  }

  #string(): string {
    const start = this.#at
    let escaped = false
    for (let at = start + 1; at < this.#bytes.length; at++) {
      const byte = this.#bytes[at]!
      if (byte === QUOTE) {
        this.#at = at + 1
        // Escapes are rare in a manifest: JSON.parse decodes those strings exactly.
        return escaped ? (JSON.parse(this.#bytes.toString('utf8', start, at + 1)) as string) : this.#bytes.toString('utf8', start + 1, at)
      }

      if (byte === BACKSLASH) {
        escaped = true
        at += 1
      } else if (byte < 0x20) {
        throw new Unusual()
      }
    }

    throw new Unusual()
  }

  #number(): number {
    const start = this.#at
    let at = start
    for (; at < this.#bytes.length; at++) {
      const byte = this.#bytes[at]!
      // Digits, '+', '-', '.', 'e', 'E'; the grammar is checked below.
      if (!((byte >= 0x30 && byte <= 0x39) || byte === 0x2b || byte === 0x2d || byte === 0x2e || byte === 0x65 || byte === 0x45)) break
    }

    const text = this.#bytes.toString('latin1', start, at)
    if (!/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) throw new Unusual()
    this.#at = at
    return Number(text)
  }

  #literal(word: string, value: boolean | null): boolean | null {
    if (this.#bytes.toString('latin1', this.#at, this.#at + word.length) !== word) throw new Unusual()
    this.#at += word.length
    return value
  }

  #peek(): number | undefined {
    return this.#bytes[this.#at]
  }

  #skipSpace(): void {
    for (;;) {
      const byte = this.#bytes[this.#at]
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return
      this.#at += 1
    }
  }
}

const PATH_KEY = Buffer.from('"path"')

/**
 * The file count and path bytes a manifest will need, from a quick look for its "path" keys and
 * the string after each. Only a guess (a "path" key elsewhere counts too), good for sizing.
 */
function expectedCapacity(bytes: Buffer): FileListCapacity {
  let files = 0
  let pathBytes = 0
  for (let at = bytes.indexOf(PATH_KEY); at >= 0; at = bytes.indexOf(PATH_KEY, at)) {
    files += 1
    at += PATH_KEY.length
    const open = bytes.indexOf(QUOTE, at)
    const close = open < 0 ? -1 : bytes.indexOf(QUOTE, open + 1)
    if (close < 0) break
    pathBytes += close - open - 1
    at = close + 1
  }

  return {files, pathBytes}
}
