/** RFC 9162 (RFC 6962) SHA-256 Merkle trees: roots, an incremental builder, inclusion and consistency proofs. */
export {HASH_SIZE, MerkleTreeBuilder, emptyRoot, hashChildren, hashLeaf, merkleRoot} from './tree.js'
export {
  MerkleProofError,
  type MerkleProofErrorCode,
  consistencyProof,
  inclusionProof,
  isValidConsistency,
  isValidInclusion,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './proof.js'
