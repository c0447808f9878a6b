import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {fromHex, toHex} from '../../src/lib/encoding.js'
import {ExitCode, NegativeResultError, UsageError} from '../../src/lib/errors.js'
import {
  HASH_SIZE,
  MerkleProofError,
  MerkleTreeBuilder,
  consistencyProof,
  emptyRoot,
  hashChildren,
  hashLeaf,
  inclusionProof,
  isValidConsistency,
  isValidInclusion,
  merkleRoot,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../src/lib/merkle/index.js'
import {seededRandom} from '../helpers/random.js'

// ---------------------------------------------------------------------------------------------
// Fixture (transparency-dev/merkle vectors, see test/fixtures/vectors/README in /work/shared)

interface HasherVector {
  desc: string
  expected: string
  treeSize?: number
  leafInput?: string
  left?: string
  right?: string
}

interface InclusionVector {
  leafIndex: number
  treeSize: number
  leafHash: string
  root: string
  proof: string[]
}

interface ConsistencyVector {
  size1: number
  size2: number
  root1: string
  root2: string
  proof: string[]
}

interface InclusionProbe {
  file: string
  leafIdx: number
  treeSize: number
  root: string
  leafHash: string
  proof: string[]
  desc: string
  wantErr: boolean
}

interface ConsistencyProbe {
  file: string
  size1: number
  size2: number
  root1: string
  root2: string
  proof: string[]
  desc: string
  wantErr: boolean
}

interface MerkleVectors {
  hasherVectors: HasherVector[]
  leaves: string[]
  nodeHashes: {levels: string[][]}
  roots: {treeSize: number; root: string}[]
  inclusionProofs: InclusionVector[]
  consistencyProofs: ConsistencyVector[]
  probes: {inclusion: InclusionProbe[]; consistency: ConsistencyProbe[]}
}

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/vectors/rfc6962_merkle.json', import.meta.url), 'utf8'),
) as MerkleVectors

function hex(text: string): Uint8Array {
  const bytes = fromHex(text)
  if (bytes === undefined) throw new Error(`fixture holds bad hex: ${text}`)
  return bytes
}

const hexList = (texts: readonly string[]): Uint8Array[] => texts.map(hex)

const leafInputs = hexList(vectors.leaves)
const leafHashes = leafInputs.map(hashLeaf)
const rootOfSize = (n: number): Uint8Array => hex(vectors.roots[n]!.root)

// ---------------------------------------------------------------------------------------------
// Independent reference: RFC 9162 §2.1 definitions written out recursively, using createHash
// rather than the module's hasher.

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hasher = createHash('sha256')
  for (const part of parts) hasher.update(part)
  return new Uint8Array(hasher.digest())
}

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)

function naiveSplit(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function naiveMth(inputs: readonly Uint8Array[]): Uint8Array {
  if (inputs.length === 0) return sha256()
  if (inputs.length === 1) return sha256(LEAF, inputs[0]!)
  const k = naiveSplit(inputs.length)
  return sha256(NODE, naiveMth(inputs.slice(0, k)), naiveMth(inputs.slice(k)))
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]). */
function naivePath(m: number, inputs: readonly Uint8Array[]): Uint8Array[] {
  if (inputs.length <= 1) return []
  const k = naiveSplit(inputs.length)
  return m < k
    ? [...naivePath(m, inputs.slice(0, k)), naiveMth(inputs.slice(k))]
    : [...naivePath(m - k, inputs.slice(k)), naiveMth(inputs.slice(0, k))]
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b). */
function naiveSubproof(m: number, inputs: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = inputs.length
  if (m === n) return b ? [] : [naiveMth(inputs)]
  const k = naiveSplit(n)
  return m <= k
    ? [...naiveSubproof(m, inputs.slice(0, k), b), naiveMth(inputs.slice(k))]
    : [...naiveSubproof(m - k, inputs.slice(k), false), naiveMth(inputs.slice(0, k))]
}

/**
 * Which side each PATH(m, D[n]) sibling sits on, leaf-to-root, from the recursive definition.
 * An RFC 9162 verifier computes the same root for any two (m, n) of equal shape, so a proof
 * is accepted for another (index, size) exactly when the shapes agree.
 */
function naiveInclusionShape(m: number, n: number): string {
  if (n <= 1) return ''
  const k = naiveSplit(n)
  return m < k ? naiveInclusionShape(m, k) + 'R' : naiveInclusionShape(m - k, n - k) + 'L'
}

/** The same for SUBPROOF: S = seed node given in the proof, L = left sibling (feeds both roots), R = right. */
function naiveConsistencyShape(m: number, n: number, b = true): string {
  if (m === n) return b ? '' : 'S'
  const k = naiveSplit(n)
  return m <= k ? naiveConsistencyShape(m, k, b) + 'R' : naiveConsistencyShape(m - k, n - k, false) + 'L'
}


function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice()
  copy[bit >> 3]! ^= 1 << (bit & 7)
  return copy
}

function proofErrorOf(action: () => unknown): MerkleProofError {
  try {
    action()
  } catch (error) {
    if (error instanceof MerkleProofError) return error
    throw error
  }
  throw new Error('expected a MerkleProofError, but nothing was thrown')
}

// ---------------------------------------------------------------------------------------------

describe('fixture', () => {
  it('has every vector it promises, so a shrunken copy fails', () => {
    expect(vectors.hasherVectors).toHaveLength(4)
    expect(vectors.leaves).toHaveLength(8)
    expect(vectors.nodeHashes.levels.map((level) => level.length)).toEqual([8, 4, 2, 1])
    expect(vectors.roots.map((r) => r.treeSize)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(vectors.inclusionProofs).toHaveLength(7)
    expect(vectors.consistencyProofs).toHaveLength(5)

    const {inclusion, consistency} = vectors.probes
    expect(inclusion).toHaveLength(98)
    expect(consistency).toHaveLength(98)
    expect(inclusion.filter((p) => p.wantErr)).toHaveLength(92)
    expect(consistency.filter((p) => p.wantErr)).toHaveLength(92)
    expect([...inclusion, ...consistency].filter((p) => p.wantErr)).toHaveLength(184)
  })
})

describe('hashing', () => {
  it('HASH_SIZE is 32', () => {
    expect(HASH_SIZE).toBe(32)
  })

  it.each(vectors.hasherVectors)('hasher vector: $desc', (vector) => {
    let actual: Uint8Array
    if (vector.treeSize === 0) actual = emptyRoot()
    else if (vector.leafInput !== undefined) actual = hashLeaf(hex(vector.leafInput))
    else actual = hashChildren(hex(vector.left!), hex(vector.right!))
    expect(toHex(actual)).toBe(vector.expected)
    expect(actual).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(actual)).toBe(false)
  })

  it('reproduces every complete-subtree node hash from the 8 leaves', () => {
    const {levels} = vectors.nodeHashes
    for (const [level, hashes] of levels.entries()) {
      const width = 2 ** level
      for (const [i, expected] of hashes.entries()) {
        const computed =
          level === 0
            ? hashLeaf(leafInputs[i]!)
            : hashChildren(hex(levels[level - 1]![2 * i]!), hex(levels[level - 1]![2 * i + 1]!))
        expect(toHex(computed), `level ${level} node ${i}`).toBe(expected)
        expect(toHex(merkleRoot(leafHashes.slice(i * width, (i + 1) * width))), `level ${level} node ${i}`).toBe(expected)
      }
    }
  })
})

describe('roots', () => {
  it.each(vectors.roots)('merkleRoot of tree size $treeSize', ({treeSize, root}) => {
    expect(toHex(merkleRoot(leafHashes.slice(0, treeSize)))).toBe(root)
  })

  it('the builder gives every root 0..8, one leaf at a time, by leaf input and by leaf hash', () => {
    const byInput = new MerkleTreeBuilder()
    const byHash = new MerkleTreeBuilder()
    for (const [n, {root}] of vectors.roots.entries()) {
      expect(byInput.size).toBe(n)
      expect(toHex(byInput.root()), `size ${n}`).toBe(root)
      expect(toHex(byInput.root()), `size ${n}, asked twice`).toBe(root)
      expect(toHex(byHash.root()), `size ${n}`).toBe(root)
      if (n < leafInputs.length) {
        byInput.addLeaf(leafInputs[n]!)
        byHash.addLeafHash(leafHashes[n]!)
      }
    }
  })

  it('the builder copies what it is given and hands out copies', () => {
    const builder = new MerkleTreeBuilder()
    const leafHash = leafHashes[0]!.slice()
    builder.addLeafHash(leafHash)
    leafHash.fill(0)
    const root = builder.root()
    root.fill(0)
    expect(toHex(builder.root())).toBe(vectors.roots[1]!.root)
  })

  it('rejects leaf hashes that are not 32 bytes', () => {
    const builder = new MerkleTreeBuilder()
    expect(() => builder.addLeafHash(new Uint8Array(31))).toThrow(UsageError)
    expect(() => builder.addLeafHash(new Uint8Array(33))).toThrow(UsageError)
    expect(builder.size).toBe(0)
    expect(() => merkleRoot([leafHashes[0]!, new Uint8Array(0)])).toThrow(/leaf hash 1 is 0 bytes/)
    expect(() => inclusionProof([new Uint8Array(5)], 0)).toThrow(UsageError)
  })

  it('keeps at most ceil(log2(n)) + 1 subtree roots (exactly popcount(n))', () => {
    const builder = new MerkleTreeBuilder()
    for (let n = 1; n <= 4100; n++) {
      builder.addLeafHash(leafHashes[n % 8]!)
      const popcount = n.toString(2).replaceAll('0', '').length
      expect(builder.pendingSubtrees).toBe(popcount)
      expect(builder.pendingSubtrees).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1)
    }
  })
})

describe('inclusion proofs', () => {
  it.each(vectors.inclusionProofs)(
    'regenerates and verifies leaf $leafIndex of tree size $treeSize',
    ({leafIndex, treeSize, leafHash, root, proof}) => {
      const generated = inclusionProof(leafHashes.slice(0, treeSize), leafIndex)
      expect(generated.map(toHex)).toEqual(proof)
      expect(toHex(leafHashes[leafIndex]!)).toBe(leafHash)
      expect(toHex(rootFromInclusionProof(hex(leafHash), leafIndex, treeSize, hexList(proof)))).toBe(root)
      expect(() => verifyInclusion(hex(leafHash), leafIndex, treeSize, hexList(proof), hex(root))).not.toThrow()
    },
  )

  it('verifies every (m, n) pair for n <= 8', () => {
    let checked = 0
    for (let n = 1; n <= 8; n++) {
      const tree = leafHashes.slice(0, n)
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(tree, m)
        expect(proof.map(toHex), `m=${m} n=${n}`).toEqual(naivePath(m, leafInputs.slice(0, n)).map(toHex))
        expect(isValidInclusion(tree[m]!, m, n, proof, rootOfSize(n)), `m=${m} n=${n}`).toBe(true)
        checked++
      }
    }
    expect(checked).toBe(36)
  })

  it('refuses to generate a proof for an index outside the tree', () => {
    expect(() => inclusionProof(leafHashes, 8)).toThrow(UsageError)
    expect(() => inclusionProof(leafHashes, -1)).toThrow(UsageError)
    expect(() => inclusionProof(leafHashes, 1.5)).toThrow(UsageError)
    expect(() => inclusionProof([], 0)).toThrow(UsageError)
  })
})

describe('consistency proofs', () => {
  it.each(vectors.consistencyProofs)(
    'regenerates and verifies $size1 -> $size2',
    ({size1, size2, root1, root2, proof}) => {
      expect(consistencyProof(leafHashes, size1, size2).map(toHex)).toEqual(proof)
      expect(toHex(rootOfSize(size1))).toBe(root1)
      expect(toHex(rootOfSize(size2))).toBe(root2)
      expect(() => verifyConsistency(size1, size2, hexList(proof), hex(root1), hex(root2))).not.toThrow()
    },
  )

  it('verifies every (m <= n) pair for 1 <= m, n <= 8', () => {
    let checked = 0
    for (let n = 1; n <= 8; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(leafHashes, m, n)
        expect(proof.map(toHex), `m=${m} n=${n}`).toEqual(naiveSubproof(m, leafInputs.slice(0, n), true).map(toHex))
        expect(isValidConsistency(m, n, proof, rootOfSize(m), rootOfSize(n)), `m=${m} n=${n}`).toBe(true)
        checked++
      }
    }
    expect(checked).toBe(36)
  })

  it('refuses to generate proofs the verifier would reject', () => {
    expect(() => consistencyProof(leafHashes, 0, 4)).toThrow(UsageError)
    expect(() => consistencyProof(leafHashes, 5, 4)).toThrow(UsageError)
    expect(() => consistencyProof(leafHashes, 4, 9)).toThrow(UsageError)
    expect(() => consistencyProof(leafHashes, 2.5, 4)).toThrow(UsageError)
    expect(consistencyProof(leafHashes, 4, 4)).toEqual([])
  })
})

describe('probes (transparency-dev testdata): every one classified as its wantErr', () => {
  it.each(vectors.probes.inclusion)('inclusion $file', (probe) => {
    const args = [hex(probe.leafHash), probe.leafIdx, probe.treeSize, hexList(probe.proof), hex(probe.root)] as const
    expect(isValidInclusion(...args)).toBe(!probe.wantErr)
    if (probe.wantErr) expect(() => verifyInclusion(...args)).toThrow(MerkleProofError)
  })

  it.each(vectors.probes.consistency)('consistency $file', (probe) => {
    const args = [probe.size1, probe.size2, hexList(probe.proof), hex(probe.root1), hex(probe.root2)] as const
    expect(isValidConsistency(...args)).toBe(!probe.wantErr)
    if (probe.wantErr) expect(() => verifyConsistency(...args)).toThrow(MerkleProofError)
  })
})

describe('verifier rules', () => {
  const root8 = rootOfSize(8)
  const proof0 = inclusionProof(leafHashes, 0)

  it('names each failure with a stable code', () => {
    const code = (action: () => unknown) => proofErrorOf(action).code
    expect(code(() => verifyInclusion(leafHashes[0]!, 8, 8, proof0, root8))).toBe('PROOF_INDEX_OUT_OF_RANGE')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0, 0, [], emptyRoot()))).toBe('PROOF_INDEX_OUT_OF_RANGE')
    expect(code(() => verifyInclusion(leafHashes[0]!, -1, 8, proof0, root8))).toBe('PROOF_BAD_NUMBER')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0.5, 8, proof0, root8))).toBe('PROOF_BAD_NUMBER')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0, 2 ** 53, proof0, root8))).toBe('PROOF_BAD_NUMBER')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0, Number.NaN, proof0, root8))).toBe('PROOF_BAD_NUMBER')
    expect(code(() => verifyInclusion(new Uint8Array(31), 0, 8, proof0, root8))).toBe('PROOF_BAD_HASH_SIZE')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0, 8, proof0, root8.subarray(1)))).toBe('PROOF_BAD_HASH_SIZE')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0, 8, [...proof0.slice(0, 2), new Uint8Array(32 + 1)], root8)))
      .toBe('PROOF_BAD_HASH_SIZE')
    expect(code(() => verifyInclusion(leafHashes[0]!, 0, 8, proof0.slice(1), root8))).toBe('PROOF_WRONG_LENGTH')
    expect(code(() => verifyInclusion(leafHashes[1]!, 0, 8, proof0, root8))).toBe('PROOF_ROOT_MISMATCH')

    const proof48 = consistencyProof(leafHashes, 4, 8)
    const root4 = rootOfSize(4)
    expect(code(() => verifyConsistency(8, 4, proof48, root8, root4))).toBe('PROOF_SIZE_ORDER')
    expect(code(() => verifyConsistency(0, 8, [], emptyRoot(), root8))).toBe('PROOF_EMPTY_TREE')
    expect(code(() => verifyConsistency(0, 0, [], emptyRoot(), emptyRoot()))).toBe('PROOF_EMPTY_TREE')
    expect(code(() => verifyConsistency(4, 4, proof48, root4, root4))).toBe('PROOF_WRONG_LENGTH')
    expect(code(() => verifyConsistency(4, 4, [], root4, root8))).toBe('PROOF_ROOT_MISMATCH')
    expect(code(() => verifyConsistency(4, 8, [], root4, root8))).toBe('PROOF_WRONG_LENGTH')
    expect(code(() => verifyConsistency(4, 8, proof48, root4.subarray(0, 31), root8))).toBe('PROOF_BAD_HASH_SIZE')
    expect(code(() => verifyConsistency(4, 8, proof48, root8, root8))).toBe('PROOF_ROOT_MISMATCH')
    expect(code(() => verifyConsistency(-1, 8, proof48, root4, root8))).toBe('PROOF_BAD_NUMBER')
  })

  it('says which roots differ, expected and computed, in hex', () => {
    const wrongRoot = rootOfSize(7)
    const error = proofErrorOf(() => verifyInclusion(leafHashes[0]!, 0, 8, proof0, wrongRoot))
    expect(error).toBeInstanceOf(NegativeResultError)
    expect(error.exitCode).toBe(ExitCode.Negative)
    expect(error.code).toBe('PROOF_ROOT_MISMATCH')
    expect(error.message).toContain(`expected ${toHex(wrongRoot)}`)
    expect(error.message).toContain(`computed ${toHex(root8)}`)

    const consistency = proofErrorOf(() =>
      verifyConsistency(4, 8, consistencyProof(leafHashes, 4, 8), rootOfSize(4), wrongRoot))
    expect(consistency.code).toBe('PROOF_ROOT_MISMATCH')
    expect(consistency.message).toContain('root2')
    expect(consistency.message).toContain(`expected ${toHex(wrongRoot)}`)
    expect(consistency.message).toContain(`computed ${toHex(root8)}`)

    // size1 = 6 is not a power of two, so root1 is not in the path and only the final comparison can catch it.
    const oldRootError = proofErrorOf(() =>
      verifyConsistency(6, 8, consistencyProof(leafHashes, 6, 8), wrongRoot, root8))
    expect(oldRootError.code).toBe('PROOF_ROOT_MISMATCH')
    expect(oldRootError.message).toContain('root1')
    expect(oldRootError.message).toContain(`expected ${toHex(wrongRoot)}`)
    expect(oldRootError.message).toContain(`computed ${toHex(rootOfSize(6))}`)
  })

  it('isValid* returns false only for proof failures and lets other errors through', () => {
    expect(isValidInclusion(leafHashes[1]!, 0, 8, proof0, root8)).toBe(false)
    const notBytes = null as unknown as Uint8Array
    expect(() => isValidInclusion(notBytes, 0, 8, proof0, root8)).toThrow(TypeError)
  })

  it('does its index arithmetic without 32-bit wrap-around (sizes near 2^53)', () => {
    const random = seededRandom(53)
    const cases: [number, number][] = [
      [2 ** 31, 2 ** 31 + 1],
      [2 ** 32 + 5, 2 ** 33],
      [2 ** 52 + 3, 2 ** 53 - 1],
      [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
      [0, Number.MAX_SAFE_INTEGER],
    ]
    for (const [index, size] of cases) {
      // Fold random sibling hashes along the shape the recursive definition gives; the verifier must agree.
      const shape = naiveInclusionShape(index, size)
      const proof = [...shape].map(() => Uint8Array.from({length: 32}, () => Math.floor(random() * 256)))
      let root = leafHashes[3]!
      for (const [i, side] of [...shape].entries()) root = side === 'L' ? hashChildren(proof[i]!, root) : hashChildren(root, proof[i]!)
      expect(isValidInclusion(leafHashes[3]!, index, size, proof, root), `${index} of ${size}`).toBe(true)
      expect(isValidInclusion(leafHashes[3]!, index, size, proof.slice(1), root)).toBe(false)
    }
  })
})

describe('property: random trees up to 300 leaves', () => {
  const random = seededRandom(0x5eed_6962)
  const randomInt = (below: number): number => Math.floor(random() * below)
  const edgeSizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300]
  const sizes = [...edgeSizes, ...Array.from({length: 16}, () => 1 + randomInt(300))]

  /** All of 0..n-1 for small trees; otherwise the edges plus a random sample. */
  function sample(from: number, to: number, max = 24): number[] {
    if (to - from <= max) return Array.from({length: to - from}, (_, i) => from + i)
    const picked = new Set([from, from + 1, to - 2, to - 1])
    while (picked.size < max) picked.add(from + randomInt(to - from))
    return [...picked]
  }

  it.each(sizes)('tree of %i leaves', (n) => {
    // Distinct leaves (the index is in each), so a wrong index can never honestly verify.
    const inputs = Array.from({length: n}, (_, i) => {
      const leaf = new Uint8Array(4 + randomInt(40))
      new DataView(leaf.buffer).setUint32(0, i)
      for (let j = 4; j < leaf.length; j++) leaf[j] = randomInt(256)
      return leaf
    })
    const hashes = inputs.map(hashLeaf)

    const builder = new MerkleTreeBuilder()
    for (const input of inputs) builder.addLeaf(input)
    const root = merkleRoot(hashes)
    expect(toHex(builder.root())).toBe(toHex(root))
    expect(toHex(root)).toBe(toHex(naiveMth(inputs)))
    expect(builder.pendingSubtrees).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1)

    const rootsBySize = new Map<number, Uint8Array>([[n, root]])
    const rootOf = (size: number): Uint8Array => {
      let known = rootsBySize.get(size)
      if (known === undefined) rootsBySize.set(size, (known = merkleRoot(hashes.slice(0, size))))
      return known
    }

    // The recursive reference is O(n log n) per proof, so it checks only the first few (edges first).
    const referenceChecks = 6
    let sizeRejections = 0

    for (const [sampleNo, m] of sample(0, n).entries()) {
      const proof = inclusionProof(hashes, m)
      if (sampleNo < referenceChecks) expect(proof.map(toHex), `path ${m}`).toEqual(naivePath(m, inputs).map(toHex))
      verifyInclusion(hashes[m]!, m, n, proof, root)
      expect(isValidInclusion(hashes[m]!, m, n, proof, flipBit(root, randomInt(256))), `bad root for ${m}`).toBe(false)

      for (const [i, element] of proof.entries()) {
        const tampered = proof.with(i, flipBit(element, randomInt(HASH_SIZE * 8)))
        expect(isValidInclusion(hashes[m]!, m, n, tampered, root), `flip in ${i} of path ${m}`).toBe(false)
      }
      for (const wrongIndex of [m - 1, m + 1, m ^ 1, randomInt(n)].filter((w) => w !== m && w >= 0 && w < n)) {
        expect(isValidInclusion(hashes[m]!, wrongIndex, n, proof, root), `index ${wrongIndex} for ${m}`).toBe(false)
      }
      // The size is bound by the signed checkpoint, not the proof: any size giving the same path
      // shape yields the same root. Every other size must fail.
      for (const wrongSize of [n - 1, n + 1, 2 * n, Math.floor(n / 2), m + 1].filter((s) => s !== n && s > 0)) {
        const sameShape = m < wrongSize && naiveInclusionShape(m, wrongSize) === naiveInclusionShape(m, n)
        expect(isValidInclusion(hashes[m]!, m, wrongSize, proof, root), `size ${wrongSize} for ${m} of ${n}`).toBe(sameShape)
        if (!sameShape) sizeRejections++
      }
    }

    for (const [sampleNo, m] of sample(1, n + 1).entries()) {
      const proof = consistencyProof(hashes, m, n)
      if (sampleNo < referenceChecks) {
        expect(proof.map(toHex), `proof ${m} -> ${n}`).toEqual(naiveSubproof(m, inputs, true).map(toHex))
      }
      verifyConsistency(m, n, proof, rootOf(m), root)
      const badRoot1 = flipBit(rootOf(m), randomInt(256))
      const badRoot2 = flipBit(root, randomInt(256))
      expect(isValidConsistency(m, n, proof, badRoot1, root), `bad root1 for ${m} -> ${n}`).toBe(false)
      expect(isValidConsistency(m, n, proof, rootOf(m), badRoot2), `bad root2 for ${m} -> ${n}`).toBe(false)

      for (const [i, element] of proof.entries()) {
        const tampered = proof.with(i, flipBit(element, randomInt(HASH_SIZE * 8)))
        expect(isValidConsistency(m, n, tampered, rootOf(m), root), `flip in ${i} of ${m} -> ${n}`).toBe(false)
      }
      for (const wrongSize1 of [m - 1, m + 1, randomInt(n) + 1].filter((s) => s !== m && s >= 1 && s <= n)) {
        // Claiming the old root is that of another size: rejected unless the path shape is identical.
        const sameShape = naiveConsistencyShape(wrongSize1, n) === naiveConsistencyShape(m, n)
        expect(isValidConsistency(wrongSize1, n, proof, rootOf(m), root), `size1 ${wrongSize1} for ${m} -> ${n}`)
          .toBe(sameShape)
        if (!sameShape) sizeRejections++
      }
      for (const wrongSize2 of [n - 1, n + 1, 2 * n].filter((s) => s !== n && s >= m)) {
        const sameShape = naiveConsistencyShape(m, wrongSize2) === naiveConsistencyShape(m, n)
        expect(isValidConsistency(m, wrongSize2, proof, rootOf(m), root), `size2 ${wrongSize2} for ${m} -> ${n}`)
          .toBe(sameShape && m !== wrongSize2)
        if (!sameShape || m === wrongSize2) sizeRejections++
      }
    }
    expect(sizeRejections).toBeGreaterThan(0)
  })

  it('the size loophole is real: a proof for leaf 0 of 3 also verifies as leaf 0 of 4', () => {
    const proof = inclusionProof(leafHashes.slice(0, 3), 0)
    expect(isValidInclusion(leafHashes[0]!, 0, 4, proof, rootOfSize(3))).toBe(true)
    expect(isValidInclusion(leafHashes[0]!, 0, 4, proof, rootOfSize(4))).toBe(false)
  })
})
