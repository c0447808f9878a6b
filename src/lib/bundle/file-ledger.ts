/**
 * What the archive holds for each file the manifest lists, checked as the files stream by.
 *
 * Everything lives in typed arrays indexed by manifest position: the paths' UTF-8 bytes end to end,
 * a hash table over them, the expected and actual sizes and digests, a status byte. A listed file
 * costs about 120 bytes and no JavaScript object. That matters twice: memory stays flat as the
 * file count grows, and V8 does not see megabytes of long-lived objects while the archive streams
 * (with the manifest's parsed objects kept, it ran several times more full collections).
 *
 * Merkle leaves are hashed as soon as every file before them in manifest order has arrived: in a
 * bundle written in manifest order, that is while the next chunk inflates.
 */
import {MerkleTreeBuilder} from '../merkle/index.js'
import {toHex} from '../encoding.js'
import type {ManifestFile} from './manifest.js'
import type {AlteredFile} from './report.js'

const UNSEEN = 0
const MATCHED = 1
const ALTERED = 2

export interface FileTally {
  missing: string[]
  missingCount: number
  extra: string[]
  extraCount: number
  altered: AlteredFile[]
  alteredCount: number
}

/** The files a manifest lists, in typed arrays: path i is pathBytes[pathStart[i] .. pathStart[i + 1]]. */
export interface CompactFileList {
  count: number
  pathBytes: Uint8Array
  pathStart: Uint32Array
  sizes: Float64Array
  digests: Uint8Array
}

/** How much a FileListBuilder should expect: a good guess spares the copies of growing, and the slack. */
export interface FileListCapacity {
  files: number
  pathBytes: number
}

/** Collects a manifest's files one at a time into a CompactFileList (arrays grow by doubling past the capacity). */
export class FileListBuilder {
  #count = 0
  #pathBytes: Uint8Array
  #pathEnd = 0
  #pathStart: Uint32Array
  #sizes: Float64Array
  #digests: Uint8Array
  #totalBytes = 0

  constructor(capacity: FileListCapacity = {files: 1023, pathBytes: 64 * 1024}) {
    // One more path start than files: finish() puts the end of the last path there.
    const entries = Math.max(1, capacity.files + 1)
    this.#pathBytes = new Uint8Array(Math.max(16, capacity.pathBytes))
    this.#pathStart = new Uint32Array(entries)
    this.#sizes = new Float64Array(entries)
    this.#digests = new Uint8Array(entries * 32)
  }

  /** `sha256` must already be checked to be 64 lowercase hex digits. */
  add(path: string, size: number, sha256: string): void {
    if (this.#count + 1 >= this.#pathStart.length) this.#growEntries()
    // Up to 3 UTF-8 bytes per UTF-16 unit; measured exactly only near the end of the buffer.
    if (this.#pathEnd + path.length * 3 > this.#pathBytes.length) {
      const needed = this.#pathEnd + Buffer.byteLength(path, 'utf8')
      while (needed > this.#pathBytes.length) this.#pathBytes = grown(this.#pathBytes, this.#pathBytes.length * 2)
    }

    this.#pathStart[this.#count] = this.#pathEnd
    this.#pathEnd += Buffer.from(this.#pathBytes.buffer, this.#pathBytes.byteOffset, this.#pathBytes.length).write(path, this.#pathEnd, 'utf8')
    this.#sizes[this.#count] = size
    Buffer.from(this.#digests.buffer, this.#digests.byteOffset, this.#digests.length).write(sha256, this.#count * 32, 32, 'hex')
    this.#totalBytes += size
    this.#count += 1
  }

  get count(): number {
    return this.#count
  }

  get totalBytes(): number {
    return this.#totalBytes
  }

  /** The list; arrays filled (nearly) to capacity are handed on as they are rather than copied. */
  finish(): CompactFileList {
    const count = this.#count
    this.#pathStart[count] = this.#pathEnd
    return {
      count,
      pathBytes: fitted(this.#pathBytes, this.#pathEnd),
      pathStart: fitted(this.#pathStart, count + 1),
      sizes: fitted(this.#sizes, count),
      digests: fitted(this.#digests, count * 32),
    }
  }

  #growEntries(): void {
    const entries = this.#pathStart.length * 2
    const pathStart = new Uint32Array(entries)
    pathStart.set(this.#pathStart)
    this.#pathStart = pathStart
    const sizes = new Float64Array(entries)
    sizes.set(this.#sizes)
    this.#sizes = sizes
    this.#digests = grown(this.#digests, entries * 32)
  }
}

/** The first `length` elements: a view when little would be wasted, else a copy. */
function fitted<T extends Uint8Array | Uint32Array | Float64Array>(array: T, length: number): T {
  return (array.length - length <= array.length / 16 ? array.subarray(0, length) : array.slice(0, length)) as T
}

function grown(bytes: Uint8Array, length: number): Uint8Array {
  const copy = new Uint8Array(length)
  copy.set(bytes)
  return copy
}

export class FileLedger {
  readonly #count: number
  readonly #listLimit: number
  /** Every listed path's UTF-8 bytes, end to end; path i is #pathBytes[#pathStart[i] .. #pathStart[i + 1]]. */
  readonly #pathBytes: Uint8Array
  readonly #pathStart: Uint32Array
  /** Open addressing over the paths: slot → manifest index + 1, 0 when empty. */
  readonly #slots: Int32Array
  readonly #status: Uint8Array
  readonly #expectedSizes: Float64Array
  readonly #expectedDigests: Uint8Array
  readonly #sizes: Float64Array
  readonly #digests: Uint8Array
  readonly #extra: string[] = []
  #extraCount = 0
  readonly #merkle = new MerkleTreeBuilder()

  constructor(files: CompactFileList, listLimit: number) {
    const count = files.count
    this.#count = count
    this.#listLimit = listLimit
    this.#pathBytes = files.pathBytes
    this.#pathStart = files.pathStart
    this.#expectedSizes = files.sizes
    this.#expectedDigests = files.digests
    this.#slots = new Int32Array(tableSizeFor(count))
    this.#status = new Uint8Array(count)
    this.#sizes = new Float64Array(count)
    this.#digests = new Uint8Array(count * 32)
    // The manifest parser has checked each path is unique.
    for (let index = 0; index < count; index++) this.#slots[this.#slotOf(this.#pathBytes.subarray(this.#pathStart[index], this.#pathStart[index + 1]))] = index + 1
  }

  static of(files: readonly ManifestFile[], listLimit: number): FileLedger {
    const list = new FileListBuilder()
    for (const file of files) list.add(file.path, file.size, file.sha256)
    return new FileLedger(list.finish(), listLimit)
  }

  get size(): number {
    return this.#count
  }

  /** The manifest index of a path (UTF-8 bytes), or -1 when it is not listed. */
  indexOf(pathBytes: Uint8Array): number {
    // Files usually arrive in manifest order: try the next one before hashing.
    const next = this.#merkle.size
    if (next < this.#count && this.#pathIs(next, pathBytes)) return next
    return this.#slots[this.#slotOf(pathBytes)]! - 1
  }

  /** Whether the manifest lists this path and the archive held it whole. */
  found(pathBytes: Uint8Array): boolean {
    const index = this.indexOf(pathBytes)
    return index >= 0 && this.#status[index] !== UNSEEN
  }

  /** Records one content file read whole. Each path arrives at most once (the scan drops duplicates). */
  record(path: string, pathBytes: Uint8Array, size: number, digest: Uint8Array): void {
    const index = this.indexOf(pathBytes)
    if (index < 0) {
      this.#extraCount += 1
      if (this.#extra.length < this.#listLimit) this.#extra.push(path)
      return
    }

    this.#sizes[index] = size
    this.#digests.set(digest, index * 32)
    this.#status[index] = size === this.#expectedSizes[index] && equalAt(digest, this.#expectedDigests, index * 32) ? MATCHED : ALTERED
    this.#addReadyLeaves()
  }

  /** The listed paths the archive held, in manifest order. */
  *foundPaths(): Generator<string> {
    for (let index = 0; index < this.#count; index++) if (this.#status[index] !== UNSEEN) yield this.#path(index)
  }

  /** The missing, extra and altered files, in manifest order (extras in archive order), lists capped. */
  tally(): FileTally {
    const tally: FileTally = {missing: [], missingCount: 0, extra: this.#extra, extraCount: this.#extraCount, altered: [], alteredCount: 0}
    for (let index = 0; index < this.#count; index++) {
      const status = this.#status[index]
      if (status === UNSEEN) {
        tally.missingCount += 1
        if (tally.missing.length < this.#listLimit) tally.missing.push(this.#path(index))
      } else if (status === ALTERED) {
        tally.alteredCount += 1
        if (tally.altered.length < this.#listLimit) {
          tally.altered.push({
            path: this.#path(index),
            expectedSize: this.#expectedSizes[index]!,
            actualSize: this.#sizes[index]!,
            expectedSha256: toHex(this.#expectedDigests.subarray(index * 32, index * 32 + 32)),
            actualSha256: toHex(this.#digests.subarray(index * 32, index * 32 + 32)),
          })
        }
      }
    }

    return tally
  }

  /** The root over the content as found, once every listed file has arrived; undefined while any is missing. */
  computedRoot(): Uint8Array | undefined {
    return this.#merkle.size === this.#count ? this.#merkle.root() : undefined
  }

  /** Leaves go into the tree in manifest order; a file that arrives early waits for those before it. */
  #addReadyLeaves(): void {
    for (let next = this.#merkle.size; next < this.#count && this.#status[next] !== UNSEEN; next++) {
      // The leaf input: UTF-8(path) || 0x00 || the 32 digest bytes.
      const start = this.#pathStart[next]!
      const length = this.#pathStart[next + 1]! - start
      const input = new Uint8Array(length + 33)
      input.set(this.#pathBytes.subarray(start, start + length))
      input.set(this.#digests.subarray(next * 32, next * 32 + 32), length + 1)
      this.#merkle.addLeaf(input)
    }
  }

  #path(index: number): string {
    return Buffer.from(this.#pathBytes.buffer, this.#pathStart[index]!, this.#pathStart[index + 1]! - this.#pathStart[index]!).toString('utf8')
  }

  #pathIs(index: number, pathBytes: Uint8Array): boolean {
    const start = this.#pathStart[index]!
    return this.#pathStart[index + 1]! - start === pathBytes.length && equalAt(pathBytes, this.#pathBytes, start)
  }

  /** The slot holding this path, or the empty slot where it would go (linear probing; the table is at most half full). */
  #slotOf(pathBytes: Uint8Array): number {
    const mask = this.#slots.length - 1
    for (let slot = fnv1a(pathBytes) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot]!
      if (entry === 0 || this.#pathIs(entry - 1, pathBytes)) return slot
    }
  }
}

function tableSizeFor(count: number): number {
  let size = 16
  while (size < count * 2) size *= 2
  return size
}

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193)
  return hash >>> 0
}

/** Whether `bytes` equals `within` from `offset` on, for bytes.length bytes. */
function equalAt(bytes: Uint8Array, within: Uint8Array, offset: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== within[offset + i]) return false
  return true
}
