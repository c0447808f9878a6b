/**
 * RFC 9162 §2.1 Merkle Tree Hash (the same tree as RFC 6962) over SHA-256.
 *
 * Leaf and node hashes are domain-separated by a one-byte prefix (0x00 / 0x01), so a
 * leaf can never be passed off as an inner node. A tree of n leaves splits at the
 * largest power of two smaller than n; the empty tree's root is SHA-256 of nothing.
 */
import {hash} from 'node:crypto'

import {UsageError} from '../errors.js'

export const HASH_SIZE = 32

const LEAF_PREFIX = 0x00
const NODE_PREFIX = 0x01

function sha256(data: Uint8Array): Uint8Array {
  // The one-shot hash() is the cheapest way to hash 33- and 65-byte inputs; its Buffer
  // owns its memory, so a view over it is safe. Plain Uint8Array keeps equality checks simple.
  const digest = hash('sha256', data, 'buffer')
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

export function hashLeaf(leafInput: Uint8Array): Uint8Array {
  const data = new Uint8Array(1 + leafInput.byteLength)
  data[0] = LEAF_PREFIX
  data.set(leafInput, 1)
  return sha256(data)
}

/** Hashes two children. Any lengths are accepted: RFC 6962's own hasher vectors use raw 4-byte children. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  const data = new Uint8Array(1 + left.byteLength + right.byteLength)
  data[0] = NODE_PREFIX
  data.set(left, 1)
  data.set(right, 1 + left.byteLength)
  return sha256(data)
}

export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0))
}

/** The largest power of two strictly smaller than n (n >= 2): where RFC 9162 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1
  // Multiplication, not shifts: sizes may exceed 2^31.
  while (k * 2 < n) k *= 2
  return k
}

export function assertLeafHash(leafHash: Uint8Array, what = 'leaf hash'): void {
  if (leafHash.byteLength !== HASH_SIZE) {
    throw new UsageError('MERKLE_BAD_LEAF_HASH', `${what} is ${leafHash.byteLength} bytes, expected ${HASH_SIZE}`)
  }
}

export function assertLeafHashes(leafHashes: readonly Uint8Array[]): void {
  for (const [i, leafHash] of leafHashes.entries()) assertLeafHash(leafHash, `leaf hash ${i}`)
}

/**
 * Adds the next leaf hash to a stack of perfect-subtree roots (left to right, heights
 * strictly decreasing) that already covers `count` leaves. Each trailing 1-bit of `count`
 * is a perfect subtree of the same height as the one being carried, so they merge like a binary increment.
 */
function pushLeafHash(subtreeRoots: Uint8Array[], count: number, leafHash: Uint8Array): void {
  let carried = leafHash
  for (let n = count; n % 2 === 1; n = (n - 1) / 2) {
    carried = hashChildren(subtreeRoots.pop()!, carried)
  }
  subtreeRoots.push(carried)
}

/** MTH of the leaves a stack of perfect-subtree roots covers: the smaller right-hand subtrees nest innermost. */
function foldSubtreeRoots(subtreeRoots: readonly Uint8Array[]): Uint8Array {
  let i = subtreeRoots.length - 1
  if (i < 0) return emptyRoot()
  // Copy so a caller can never reach into (or be handed) a stored hash.
  let root: Uint8Array = subtreeRoots[i]!.slice()
  for (i -= 1; i >= 0; i--) root = hashChildren(subtreeRoots[i]!, root)
  return root
}

/** MTH(D[start:end]) of already-checked leaf hashes, in O(end - start) hashes and O(log n) memory. */
export function subtreeRoot(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const subtreeRoots: Uint8Array[] = []
  for (let i = start; i < end; i++) pushLeafHash(subtreeRoots, i - start, leafHashes[i]!)
  return foldSubtreeRoots(subtreeRoots)
}

/** Incremental builder: leaves one by one, O(log n) memory (a stack of perfect-subtree roots), never stores all leaves. */
export class MerkleTreeBuilder {
  readonly #subtreeRoots: Uint8Array[] = []
  #size = 0

  addLeaf(leafInput: Uint8Array): void {
    pushLeafHash(this.#subtreeRoots, this.#size, hashLeaf(leafInput))
    this.#size += 1
  }

  /** Adds a leaf whose hash is already known; throws UsageError unless it is exactly 32 bytes. */
  addLeafHash(leafHash: Uint8Array): void {
    assertLeafHash(leafHash)
    // Copy: the caller may reuse its buffer, and a lone leaf stays on the stack as is.
    pushLeafHash(this.#subtreeRoots, this.#size, leafHash.slice())
    this.#size += 1
  }

  get size(): number {
    return this.#size
  }

  /** How many perfect-subtree roots are held: popcount(size), so at most floor(log2(size)) + 1. */
  get pendingSubtrees(): number {
    return this.#subtreeRoots.length
  }

  /** MTH of the leaves so far. Leaves the builder unchanged, so more leaves may follow. */
  root(): Uint8Array {
    return foldSubtreeRoots(this.#subtreeRoots)
  }
}

/** MTH over leaf hashes (each 32 bytes, else UsageError). */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  assertLeafHashes(leafHashes)
  return subtreeRoot(leafHashes, 0, leafHashes.length)
}
