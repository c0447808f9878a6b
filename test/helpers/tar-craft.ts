/**
 * Byte-level tar crafting for hostile-archive tests. Independent of src/lib/bundle/tar.ts on
 * purpose: every header field is written here by hand, so a bug in the library's writer cannot
 * hide the same bug in its reader. Names, prefixes and link names are raw bytes (anything goes:
 * NUL, invalid UTF-8, backslashes); checksums are correct unless a test asks otherwise.
 */
import {gzipSync} from 'node:zlib'

export const BLOCK = 512

export type Bytes = string | Uint8Array

const bytesOf = (value: Bytes): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value))

export interface HeaderSpec {
  /** The ustar name field (at most 100 bytes, written verbatim, NUL-padded). */
  name: Bytes
  /** The ustar prefix field (at most 155 bytes); only meaningful with the POSIX magic. */
  prefix?: Bytes
  /** One character: '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' directory, '6' FIFO, 'x' pax, 'L' GNU long name. */
  typeflag?: string
  /** The size field; defaults to the data length given to `entry`, or 0. */
  size?: number
  mode?: number
  uid?: number
  gid?: number
  mtime?: number
  linkname?: Bytes
  /** 'posix' writes "ustar\0" + "00", 'gnu' writes "ustar  \0", 'none' leaves the magic empty (v7). */
  magic?: 'posix' | 'gnu' | 'none'
  /** Replace the computed checksum: a number is written as octal, 'bad' writes the correct sum + 1. */
  checksum?: number | 'bad'
  uname?: string
  gname?: string
  devmajor?: number
  devminor?: number
}

function putField(block: Buffer, at: number, length: number, value: Bytes, what: string): void {
  const bytes = bytesOf(value)
  if (bytes.length > length) throw new Error(`tar-craft: ${what} is ${bytes.length} bytes, the field holds ${length}`)
  bytes.copy(block, at)
}

/** `length - 1` zero-padded octal digits and a NUL, as GNU tar writes them. */
function putOctal(block: Buffer, at: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0')
  if (digits.length > length - 1) throw new Error(`tar-craft: ${value} does not fit a ${length}-byte octal field`)
  block.write(digits, at, 'latin1')
  block[at + length - 1] = 0
}

/** One 512-byte ustar header block. */
export function header(spec: HeaderSpec): Buffer {
  const block = Buffer.alloc(BLOCK)
  putField(block, 0, 100, spec.name, 'name')
  putOctal(block, 100, 8, spec.mode ?? (spec.typeflag === '5' ? 0o755 : 0o644))
  putOctal(block, 108, 8, spec.uid ?? 0)
  putOctal(block, 116, 8, spec.gid ?? 0)
  putOctal(block, 124, 12, spec.size ?? 0)
  putOctal(block, 136, 12, spec.mtime ?? 0)
  block.write(spec.typeflag ?? '0', 156, 'latin1')
  if (spec.linkname !== undefined) putField(block, 157, 100, spec.linkname, 'linkname')
  const magic = spec.magic ?? 'posix'
  if (magic === 'posix') block.write('ustar\u000000', 257, 'latin1')
  if (magic === 'gnu') block.write('ustar  \u0000', 257, 'latin1')
  if (spec.uname !== undefined) putField(block, 265, 32, spec.uname, 'uname')
  if (spec.gname !== undefined) putField(block, 297, 32, spec.gname, 'gname')
  if (magic === 'posix') {
    putOctal(block, 329, 8, spec.devmajor ?? 0)
    putOctal(block, 337, 8, spec.devminor ?? 0)
  }

  if (spec.prefix !== undefined) putField(block, 345, 155, spec.prefix, 'prefix')
  writeChecksum(block, spec.checksum)
  return block
}

function writeChecksum(block: Buffer, override: HeaderSpec['checksum']): void {
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  const value = override === undefined ? sum : override === 'bad' ? sum + 1 : override
  block.write(value.toString(8).padStart(6, '0'), 148, 'latin1')
  block[154] = 0
  block[155] = 0x20
}

/** Zero bytes padding `size` up to a whole number of blocks. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** A header, its data, and the padding after the data. `spec.size` may lie about the data length. */
export function entry(spec: HeaderSpec, data: Bytes = new Uint8Array(0)): Buffer {
  const body = bytesOf(data)
  return Buffer.concat([header({...spec, size: spec.size ?? body.length}), body, padding(body.length)])
}

/** A regular file entry (typeflag '0'). */
export function file(name: Bytes, data: Bytes, extra: Partial<HeaderSpec> = {}): Buffer {
  return entry({name, typeflag: '0', ...extra}, data)
}

/** A directory entry (typeflag '5'); add the trailing slash yourself if you want one. */
export function directory(name: Bytes, extra: Partial<HeaderSpec> = {}): Buffer {
  return entry({name, typeflag: '5', ...extra})
}

/** "LEN key=value\n" where LEN counts the whole record, its own digits included. */
export function paxRecord(key: string, value: Bytes): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), bytesOf(value), Buffer.from('\n')])
  // The smallest digit count d with String(body + d).length === d.
  let digits = 1
  while (String(body.length + digits).length !== digits) digits += 1
  return Buffer.concat([Buffer.from(String(body.length + digits), 'latin1'), body])
}

/** A pax extended header ('x', or 'g' for global) carrying `records` for the entry that follows it. */
export function pax(records: readonly (readonly [string, Bytes])[], options: {typeflag?: 'x' | 'g'; name?: Bytes} = {}): Buffer {
  const payload = Buffer.concat(records.map(([key, value]) => paxRecord(key, value)))
  return entry({name: options.name ?? 'PaxHeaders/entry', typeflag: options.typeflag ?? 'x'}, payload)
}

/** A GNU long-name record ('L', or 'K' for a long link name): `././@LongLink`, GNU magic, the name and a NUL. */
export function gnuLongName(name: Bytes, typeflag: 'L' | 'K' = 'L'): Buffer {
  const payload = Buffer.concat([bytesOf(name), Buffer.alloc(1)])
  return entry({name: '././@LongLink', typeflag, magic: 'gnu'}, payload)
}

/** The end-of-archive marker: two zero blocks. */
export function end(): Buffer {
  return Buffer.alloc(2 * BLOCK)
}

/** Concatenates tar pieces and appends the end marker (unless `withEnd` is false). */
export function tar(parts: readonly Uint8Array[], options: {withEnd?: boolean} = {}): Buffer {
  return Buffer.concat([...parts, ...(options.withEnd === false ? [] : [end()])])
}

/** One gzip member of `data` (zlib, no name, mtime 0). */
export function gzip(data: Uint8Array): Buffer {
  return gzipSync(data)
}
