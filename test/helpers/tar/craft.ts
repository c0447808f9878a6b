/**
 * Hand-made tar blocks for hostile-input tests: every field can be set to raw bytes, so a
 * test can write exactly the malformed header it means (and nothing else is wrong with it).
 */
type Bytes = string | Uint8Array

export interface RawHeaderFields {
  name?: Bytes
  /** Numbers become 7 octal digits + NUL; strings and bytes are written as given. */
  mode?: number | Bytes
  uid?: number | Bytes
  gid?: number | Bytes
  /** Numbers become 11 octal digits + NUL. */
  size?: number | Bytes
  mtime?: number | Bytes
  typeflag?: string
  linkname?: Bytes
  /** The 8 bytes of magic + version. */
  magic?: 'posix' | 'gnu' | 'v7' | Uint8Array
  prefix?: Bytes
  /** How to fill the checksum field: the correct unsigned or signed sum, or raw text. */
  checksum?: 'unsigned' | 'signed' | Bytes
}

const MAGICS = {
  posix: Buffer.from('ustar\u000000', 'latin1'),
  gnu: Buffer.from('ustar  \u0000', 'latin1'),
  v7: Buffer.alloc(8),
}

export function bytesOf(value: Bytes): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}

function octal(value: number, width: number): Uint8Array {
  return Buffer.from(`${value.toString(8).padStart(width - 1, '0')}\0`, 'latin1')
}

function put(block: Uint8Array, at: number, width: number, value: Uint8Array): void {
  if (value.byteLength > width) throw new Error(`field at ${at} is ${width} bytes, got ${value.byteLength}`)
  block.set(value, at)
}

function numberField(value: number | Bytes, width: number): Uint8Array {
  return typeof value === 'number' ? octal(value, width) : bytesOf(value)
}

function checksumOf(block: Uint8Array, signed: boolean): number {
  let sum = 0
  for (const [i, byte] of block.entries()) {
    const b = i >= 148 && i < 156 ? 0x20 : byte
    sum += signed && b >= 0x80 ? b - 0x100 : b
  }

  return sum
}

export function rawHeader(fields: RawHeaderFields = {}): Uint8Array {
  const block = new Uint8Array(512)
  put(block, 0, 100, bytesOf(fields.name ?? 'file.txt'))
  put(block, 100, 8, numberField(fields.mode ?? 0o644, 8))
  put(block, 108, 8, numberField(fields.uid ?? 0, 8))
  put(block, 116, 8, numberField(fields.gid ?? 0, 8))
  put(block, 124, 12, numberField(fields.size ?? 0, 12))
  put(block, 136, 12, numberField(fields.mtime ?? 1_700_000_000, 12))
  block[156] = (fields.typeflag ?? '0').charCodeAt(0)
  put(block, 157, 100, bytesOf(fields.linkname ?? ''))
  const magic = fields.magic ?? 'posix'
  put(block, 257, 8, typeof magic === 'string' ? MAGICS[magic] : magic)
  put(block, 345, 155, bytesOf(fields.prefix ?? ''))
  const checksum = fields.checksum ?? 'unsigned'
  const computed = checksum === 'unsigned' || checksum === 'signed'
  put(block, 148, 8, computed ? Buffer.from(`${checksumOf(block, checksum === 'signed').toString(8).padStart(6, '0')}\0 `, 'latin1') : bytesOf(checksum))
  return block
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

export function padding(size: number): Uint8Array {
  return new Uint8Array((512 - (size % 512)) % 512)
}

/** A header, its data and the padding; the size field says the data length unless given. */
export function member(fields: RawHeaderFields, data: Bytes = ''): Uint8Array {
  const bytes = bytesOf(data)
  return concat(rawHeader({size: bytes.byteLength, ...fields}), bytes, padding(bytes.byteLength))
}

/** "LEN key=value\n" with the correct length. */
export function paxRecord(key: string, value: Bytes): Uint8Array {
  const body = concat(Buffer.from(` ${key}=`, 'utf8'), bytesOf(value), Buffer.from('\n'))
  let length = body.byteLength + String(body.byteLength).length
  if (String(length).length > String(body.byteLength).length) length = body.byteLength + String(length).length
  return concat(Buffer.from(String(length)), body)
}

/** A pax extended ('x') or global ('g') header carrying `payload` (records, or raw bytes). */
export function paxMember(payload: Uint8Array | Record<string, Bytes>, typeflag = 'x'): Uint8Array {
  const bytes = payload instanceof Uint8Array ? payload : concat(...Object.entries(payload).map(([key, value]) => paxRecord(key, value)))
  return member({name: 'PaxHeaders/file.txt', typeflag}, bytes)
}

/** A GNU long name ('L') or long link name ('K') header, the name NUL-terminated as GNU tar writes it. */
export function gnuLongMember(name: Bytes, typeflag: 'L' | 'K' = 'L'): Uint8Array {
  return member({name: '././@LongLink', typeflag, magic: 'gnu'}, concat(bytesOf(name), new Uint8Array(1)))
}

export const END_MARKER = new Uint8Array(1024)

/** The parts, then the end-of-archive marker. */
export function archive(...parts: Uint8Array[]): Uint8Array {
  return concat(...parts, END_MARKER)
}

/** Recomputes the checksum of the header block at `offset` in place (after a test changed its fields). */
export function fixChecksum(bytes: Uint8Array, offset = 0): void {
  const block = bytes.subarray(offset, offset + 512)
  block.set(Buffer.from(`${checksumOf(block, false).toString(8).padStart(6, '0')}\0 `, 'latin1'), 148)
}
