/**
 * A minimal, strict DER reader: just enough ASN.1 to read PKCS#8 / OneAsymmetricKey
 * (RFC 5958, RFC 8410), SubjectPublicKeyInfo, SEC1 EC keys and the algorithm OID of
 * foreign keys. Strict means DER, not BER: definite minimal lengths, minimal INTEGERs
 * and OID arcs, primitive OCTET/BIT STRINGs, zero padding bits. Two encodings of one
 * key must not both be accepted, so a verifier and a signer always agree on the bytes.
 */

export const Tag = {
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  Sequence: 0x30,
  Set: 0x31,
} as const

/** Where and why DER decoding failed. Never carries the bytes themselves (they may be secret). */
export class DerError extends Error {
  readonly offset: number

  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`)
    this.name = 'DerError'
    this.offset = offset
  }
}

export interface DerElement {
  /** The whole identifier octet: class, constructed bit and tag number. */
  tag: number
  contents: Uint8Array
  /** Offset of the identifier octet in the outermost input, for error messages. */
  offset: number
  /** Offset of the first contents octet in the outermost input. */
  contentsOffset: number
}

export const contextTag = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n

function tagName(tag: number): string {
  switch (tag) {
    case Tag.Integer: return 'INTEGER'
    case Tag.BitString: return 'BIT STRING'
    case Tag.OctetString: return 'OCTET STRING'
    case Tag.Null: return 'NULL'
    case Tag.Oid: return 'OBJECT IDENTIFIER'
    case Tag.Sequence: return 'SEQUENCE'
    case Tag.Set: return 'SET'
    default:
      if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]`
      return `tag 0x${tag.toString(16).padStart(2, '0')}`
  }
}

/** Reads the elements of one DER level in order; nested levels get their own reader. */
export class DerReader {
  private pos = 0

  constructor(
    private readonly bytes: Uint8Array,
    /** Offset of `bytes` inside the outermost input, so errors point at the right byte. */
    private readonly base = 0,
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length
  }

  /** The identifier octet of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.bytes[this.pos]
  }

  read(): DerElement {
    const start = this.pos
    const at = this.base + start
    const tag = this.bytes[start]
    if (tag === undefined) throw new DerError('unexpected end of data', at)
    // High tag numbers never occur in the structures read here.
    if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag not supported', at)
    const first = this.bytes[start + 1]
    if (first === undefined) throw new DerError('length missing (truncated)', at + 1)
    let length: number
    let headerLength: number
    if (first < 0x80) {
      length = first
      headerLength = 2
    } else {
      const count = first & 0x7f
      if (count === 0) throw new DerError('indefinite length is not DER', at + 1)
      if (count > 4) throw new DerError('length too large', at + 1)
      if (start + 2 + count > this.bytes.length) throw new DerError('length truncated', at + 1)
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + (this.bytes[start + 2 + i] ?? 0)
      // DER: the shortest form, so no long form below 128 and no leading zero octet.
      if (length < 0x80 || this.bytes[start + 2] === 0) throw new DerError('length not minimally encoded', at + 1)
      headerLength = 2 + count
    }
    const end = start + headerLength + length
    if (end > this.bytes.length) {
      throw new DerError(`${tagName(tag)} claims ${length} bytes but only ${this.bytes.length - start - headerLength} remain (truncated)`, at)
    }
    this.pos = end
    return {tag, contents: this.bytes.subarray(start + headerLength, end), offset: at, contentsOffset: at + headerLength}
  }

  /** Reads the next element and checks its tag. */
  expect(tag: number, what: string = tagName(tag)): DerElement {
    const next = this.peekTag()
    if (next === undefined) throw new DerError(`expected ${what}, found end of data`, this.base + this.pos)
    if (next !== tag) throw new DerError(`expected ${what}, found ${tagName(next)}`, this.base + this.pos)
    return this.read()
  }

  /** Reads the next element if it has this tag (for OPTIONAL fields), else undefined. */
  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.read() : undefined
  }

  readSequence(what = 'SEQUENCE'): DerReader {
    const element = this.expect(Tag.Sequence, what)
    return readerOf(element)
  }

  readInteger(what = 'INTEGER'): bigint {
    const element = this.expect(Tag.Integer, what)
    return decodeInteger(element)
  }

  /** An INTEGER that must be a small non-negative number, like a version. */
  readSmallInteger(what = 'INTEGER'): number {
    const value = this.readInteger(what)
    if (value < 0n || value > 0xffffn) throw new DerError(`${what} out of range`, this.base + this.pos)
    return Number(value)
  }

  readOid(what = 'OBJECT IDENTIFIER'): string {
    return decodeOid(this.expect(Tag.Oid, what))
  }

  readOctetString(what = 'OCTET STRING'): Uint8Array {
    return this.expect(Tag.OctetString, what).contents
  }

  readNull(what = 'NULL'): void {
    const element = this.expect(Tag.Null, what)
    if (element.contents.length !== 0) throw new DerError('NULL with contents', element.offset)
  }

  /** A BIT STRING whose length is whole bytes (keys always are). */
  readBitString(what = 'BIT STRING'): Uint8Array {
    return bitStringBytes(this.expect(Tag.BitString, what))
  }

  /** Fails unless every element of this level was read: trailing data is not ignored. */
  end(what = 'structure'): void {
    if (!this.done) throw new DerError(`unexpected data after the ${what}`, this.base + this.pos)
  }
}

/** Reads exactly one element spanning all of `bytes`; trailing bytes are an error. */
export function readDer(bytes: Uint8Array): {element: DerElement; reader: DerReader} {
  const outer = new DerReader(bytes)
  const element = outer.read()
  outer.end('top-level element')
  return {element, reader: readerOf(element)}
}

export function decodeInteger(element: DerElement): bigint {
  const c = element.contents
  const first = c[0]
  const second = c[1]
  if (first === undefined) throw new DerError('empty INTEGER', element.offset)
  // DER: no redundant leading 0x00 / 0xff octet.
  if (second !== undefined && ((first === 0x00 && second < 0x80) || (first === 0xff && second >= 0x80))) {
    throw new DerError('INTEGER not minimally encoded', element.offset)
  }
  let value = 0n
  for (const byte of c) value = (value << 8n) | BigInt(byte)
  if (first >= 0x80) value -= 1n << BigInt(8 * c.length)
  return value
}

export function decodeOid(element: DerElement): string {
  const c = element.contents
  if (c.length === 0) throw new DerError('empty OBJECT IDENTIFIER', element.offset)
  const arcs: bigint[] = []
  let value = 0n
  let fresh = true
  for (const byte of c) {
    // DER: an arc never starts with a 0x80 padding octet.
    if (fresh && byte === 0x80) throw new DerError('OBJECT IDENTIFIER arc not minimally encoded', element.offset)
    value = (value << 7n) | BigInt(byte & 0x7f)
    fresh = (byte & 0x80) === 0
    if (fresh) {
      arcs.push(value)
      value = 0n
    }
  }
  if (!fresh) throw new DerError('OBJECT IDENTIFIER truncated', element.offset)
  const first = arcs[0] ?? 0n
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n]
  return [...head, ...arcs.slice(1)].join('.')
}

export function bitStringBytes(element: DerElement): Uint8Array {
  const unused = element.contents[0]
  if (unused === undefined) throw new DerError('empty BIT STRING', element.offset)
  if (unused !== 0) throw new DerError('BIT STRING is not whole bytes', element.offset)
  return element.contents.subarray(1)
}

/** Splits a constructed element (SEQUENCE, [n] EXPLICIT) into a reader over its contents. */
export function readerOf(element: DerElement): DerReader {
  return new DerReader(element.contents, element.contentsOffset)
}
