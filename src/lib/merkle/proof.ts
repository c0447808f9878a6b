/**
 * RFC 9162 inclusion proofs (§2.1.3) and consistency proofs (§2.1.4): generation from
 * leaf hashes and verification against roots.
 *
 * Verification follows RFC 9162 §2.1.3.2 / §2.1.4.2, with the stricter rules that the
 * transparency-dev test data (test/fixtures/vectors/rfc6962_merkle.json) enforces:
 * index < size, 32-byte hashes, no consistency proof from the empty tree, an empty
 * proof only when both sizes are equal.
 *
 * Sizes and indices are plain numbers (safe integers), so all bit arithmetic here is
 * written with division: JavaScript's bitwise operators would wrap at 2^31.
 */
import {bytesEqual, toHex} from '../encoding.js'
import {NegativeResultError, type StellaErrorOptions, UsageError} from '../errors.js'
import {HASH_SIZE, assertLeafHashes, hashChildren, splitPoint, subtreeRoot} from './tree.js'

export type MerkleProofErrorCode =
  /** An index or size is not a non-negative safe integer. */
  | 'PROOF_BAD_NUMBER'
  /** The leaf index is not below the tree size (this includes every index into an empty tree). */
  | 'PROOF_INDEX_OUT_OF_RANGE'
  /** A leaf hash, root or proof hash is not exactly 32 bytes. */
  | 'PROOF_BAD_HASH_SIZE'
  /** The proof has more or fewer hashes than the sizes call for. */
  | 'PROOF_WRONG_LENGTH'
  /** The root the proof leads to is not the root given (or, for equal sizes, the two roots differ). */
  | 'PROOF_ROOT_MISMATCH'
  /** A consistency proof from a larger tree to a smaller one. */
  | 'PROOF_SIZE_ORDER'
  /** A consistency proof from the empty tree, which proves nothing. */
  | 'PROOF_EMPTY_TREE'

/** A Merkle proof that does not hold: a negative result (exit 1), with a stable code saying why. */
export class MerkleProofError extends NegativeResultError {
  declare readonly code: MerkleProofErrorCode

  constructor(code: MerkleProofErrorCode, message: string, options?: StellaErrorOptions) {
    super(code, message, options)
  }
}

function half(n: number): number {
  return Math.floor(n / 2)
}

function isOdd(n: number): boolean {
  return n % 2 === 1
}

function isPowerOfTwo(n: number): boolean {
  let k = 1
  while (k < n) k *= 2
  return k === n
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

function assertProofNumber(value: number, what: string): void {
  if (!isCount(value)) throw new MerkleProofError('PROOF_BAD_NUMBER', `${what} must be a non-negative safe integer, got ${value}`)
}

function assertHashSize(value: Uint8Array, what: string): void {
  if (value.byteLength !== HASH_SIZE) {
    throw new MerkleProofError('PROOF_BAD_HASH_SIZE', `${what} is ${value.byteLength} bytes, expected ${HASH_SIZE}`)
  }
}

function assertProofHashes(proof: readonly Uint8Array[], expectedLength: number): void {
  if (proof.length !== expectedLength) {
    throw new MerkleProofError('PROOF_WRONG_LENGTH', `proof has ${proof.length} hashes, expected ${expectedLength}`)
  }
  for (const [i, element] of proof.entries()) assertHashSize(element, `proof hash ${i}`)
}

function assertRootsEqual(computed: Uint8Array, expected: Uint8Array, what: string): void {
  if (!bytesEqual(computed, expected)) {
    throw new MerkleProofError(
      'PROOF_ROOT_MISMATCH',
      `${what} mismatch: expected ${toHex(expected)}, computed ${toHex(computed)}`,
    )
  }
}

function rethrowUnlessProofError(error: unknown): false {
  if (error instanceof MerkleProofError) return false
  throw error
}

// ---------------------------------------------------------------------------------------------
// Generation

function assertGeneratorCount(value: number, what: string): void {
  if (!isCount(value)) throw new UsageError('MERKLE_BAD_NUMBER', `${what} must be a non-negative safe integer, got ${value}`)
}

/** RFC 9162 §2.1.3.1 PATH(index, D[n]), leaf-to-root. O(n) hashes in all: each sibling subtree is hashed once. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  assertLeafHashes(leafHashes)
  assertGeneratorCount(index, 'leaf index')
  if (index >= leafHashes.length) {
    throw new UsageError('MERKLE_INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${leafHashes.length}`)
  }

  // Walk root-to-leaf, taking the sibling at each split, then turn it leaf-to-root.
  const rootToLeaf: Uint8Array[] = []
  let start = 0
  let end = leafHashes.length
  while (end - start > 1) {
    const mid = start + splitPoint(end - start)
    if (index < mid) {
      rootToLeaf.push(subtreeRoot(leafHashes, mid, end))
      end = mid
    } else {
      rootToLeaf.push(subtreeRoot(leafHashes, start, mid))
      start = mid
    }
  }
  return rootToLeaf.reverse()
}

/** RFC 9162 §2.1.4.1 PROOF(size1, D[size2]) over the first size2 leaf hashes, for 0 < size1 <= size2. */
export function consistencyProof(leafHashes: readonly Uint8Array[], size1: number, size2: number): Uint8Array[] {
  assertLeafHashes(leafHashes)
  assertGeneratorCount(size1, 'size1')
  assertGeneratorCount(size2, 'size2')
  if (size2 > leafHashes.length) {
    throw new UsageError('MERKLE_SIZE_OUT_OF_RANGE', `size2 ${size2} is larger than the ${leafHashes.length} leaves given`)
  }
  if (size1 > size2) throw new UsageError('MERKLE_SIZE_ORDER', `size1 ${size1} is larger than size2 ${size2}`)
  if (size1 === 0) {
    throw new UsageError('MERKLE_EMPTY_TREE', 'a consistency proof from the empty tree proves nothing; size1 must be at least 1')
  }

  // SUBPROOF unrolled: each step appends a hash after the rest, so collect them in reverse.
  const reversed: Uint8Array[] = []
  let start = 0
  let end = size2
  let oldSize = size1 // relative to start
  let oldTreeIsWholeSubtree = true // SUBPROOF's flag b: the verifier already knows this node (root1)
  while (oldSize < end - start) {
    const k = splitPoint(end - start)
    if (oldSize <= k) {
      reversed.push(subtreeRoot(leafHashes, start + k, end))
      end = start + k
    } else {
      reversed.push(subtreeRoot(leafHashes, start, start + k))
      start += k
      oldSize -= k
      oldTreeIsWholeSubtree = false
    }
  }
  if (!oldTreeIsWholeSubtree) reversed.push(subtreeRoot(leafHashes, start, end))
  return reversed.reverse()
}

// ---------------------------------------------------------------------------------------------
// Verification

/**
 * The loop shared by §2.1.3.2 and §2.1.4.2 depends only on the node numbers fn and sn
 * (a node's index at its level and the last index at that level), never on hash values:
 * for each path hash it says whether that hash is the left sibling. Its length is
 * therefore the only valid proof length.
 */
function siblingSides(fn: number, sn: number): boolean[] {
  const siblingIsLeft: boolean[] = []
  while (sn > 0) {
    if (isOdd(fn) || fn === sn) {
      siblingIsLeft.push(true)
      // fn === sn with fn even: the last node of its level, promoted unchanged until it becomes a right child.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
      }
    } else {
      siblingIsLeft.push(false)
    }
    fn = half(fn)
    sn = half(sn)
  }
  return siblingIsLeft
}

/** RFC 9162 §2.1.3.2: the root that an inclusion proof leads to. Throws MerkleProofError when the proof cannot apply. */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  assertProofNumber(index, 'leaf index')
  assertProofNumber(treeSize, 'tree size')
  if (index >= treeSize) {
    throw new MerkleProofError('PROOF_INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${treeSize}`)
  }
  assertHashSize(leafHash, 'leaf hash')
  const siblingIsLeft = siblingSides(index, treeSize - 1)
  assertProofHashes(proof, siblingIsLeft.length)

  let root = leafHash
  for (const [i, sibling] of proof.entries()) {
    root = siblingIsLeft[i] ? hashChildren(sibling, root) : hashChildren(root, sibling)
  }
  // A proof of length 0 leads to the leaf hash itself; copy so callers never share the input.
  return root === leafHash ? leafHash.slice() : root
}

export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafHash, index, treeSize, proof)
  assertHashSize(root, 'root')
  assertRootsEqual(computed, root, `root of tree size ${treeSize} (leaf ${index})`)
}

export function isValidInclusion(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    verifyInclusion(leafHash, index, treeSize, proof, root)
    return true
  } catch (error) {
    return rethrowUnlessProofError(error)
  }
}

interface ConsistencyShape {
  /** size1 is a power of two: root1 is itself the first node of the path, so the proof leaves it out. */
  startsFromRoot1: boolean
  /** For each path hash after the first: true if it is a left sibling (feeds both roots), false if right (feeds root2 only). */
  siblingIsLeft: boolean[]
}

/** The §2.1.4.2 loop, which like inclusion depends only on the two sizes (0 < size1 < size2). */
function consistencyShape(size1: number, size2: number): ConsistencyShape {
  let fn = size1 - 1
  let sn = size2 - 1
  // Skip the levels where the old tree's last node is a right child: the path starts above them.
  while (isOdd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  return {startsFromRoot1: isPowerOfTwo(size1), siblingIsLeft: siblingSides(fn, sn)}
}

export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  assertProofNumber(size1, 'size1')
  assertProofNumber(size2, 'size2')
  if (size1 > size2) throw new MerkleProofError('PROOF_SIZE_ORDER', `size1 ${size1} is larger than size2 ${size2}`)
  if (size1 === 0) {
    throw new MerkleProofError('PROOF_EMPTY_TREE', 'a consistency proof from the empty tree proves nothing (size1 is 0)')
  }
  if (size1 === size2) {
    if (proof.length !== 0) {
      throw new MerkleProofError('PROOF_WRONG_LENGTH', `proof has ${proof.length} hashes, expected 0 for equal sizes`)
    }
    // Nothing is hashed here, so the roots are compared as given, whatever their length: the
    // vectors (from transparency-dev) accept two equal 12-byte "roots" for sizes 1 and 1.
    if (!bytesEqual(root1, root2)) {
      throw new MerkleProofError(
        'PROOF_ROOT_MISMATCH',
        `roots of equal tree size ${size1} differ: root1 ${toHex(root1)}, root2 ${toHex(root2)}`,
      )
    }
    return
  }

  assertHashSize(root1, 'root1')
  assertHashSize(root2, 'root2')
  const {startsFromRoot1, siblingIsLeft} = consistencyShape(size1, size2)
  assertProofHashes(proof, siblingIsLeft.length + (startsFromRoot1 ? 0 : 1))

  const path = startsFromRoot1 ? [root1, ...proof] : proof
  // fr rebuilds the old root and sr the new one, from the same starting node.
  let fr = path[0]!
  let sr = fr
  for (const [i, isLeft] of siblingIsLeft.entries()) {
    const sibling = path[i + 1]!
    if (isLeft) {
      fr = hashChildren(sibling, fr)
      sr = hashChildren(sibling, sr)
    } else {
      sr = hashChildren(sr, sibling)
    }
  }
  assertRootsEqual(fr, root1, `root1 (tree size ${size1})`)
  assertRootsEqual(sr, root2, `root2 (tree size ${size2})`)
}

export function isValidConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  try {
    verifyConsistency(size1, size2, proof, root1, root2)
    return true
  } catch (error) {
    return rethrowUnlessProofError(error)
  }
}
