/** The typed result of verifying a bundle: every check of the spec, in order, with the evidence. */
import type {SignatureVerdict} from '../dsse/index.js'

export const CHECK_NAMES = ['container', 'manifest', 'files', 'merkle', 'statement', 'signatures'] as const
export type CheckName = (typeof CHECK_NAMES)[number]

export interface CheckResult {
  check: CheckName
  status: 'ok' | 'failed' | 'skipped'
  /** A stable code for the (first) reason a check failed or was skipped, e.g. FILES_ALTERED. */
  reason?: string
  /** One line for people. */
  message: string
}

export interface AlteredFile {
  path: string
  expectedSize: number
  actualSize: number
  expectedSha256: string
  actualSha256: string
}

export interface ContainerProblem {
  /** e.g. ENTRY_SYMLINK, PATH_DUPLICATE, TAR_TRUNCATED, GZIP_SECOND_MEMBER. */
  code: string
  message: string
  path?: string
}

export interface VerifyReport {
  ok: boolean
  bundleId?: string
  kind?: string
  tenant?: string
  caseId?: string
  createdAt?: string
  checks: CheckResult[]
  container: {
    compressedBytes: number
    tarBytes: number
    entries: number
    /** The first problems found (capped); problemCount has them all. */
    problems: ContainerProblem[]
    problemCount: number
  }
  files: {
    /** Files the manifest lists. */
    listed: number
    /** Content files found in the archive. */
    found: number
    /** Content bytes found in the archive. */
    bytes: number
    missing: string[]
    missingCount: number
    extra: string[]
    extraCount: number
    altered: AlteredFile[]
    alteredCount: number
  }
  merkle: {
    treeSize?: number
    manifestRoot?: string
    rootFile?: string
    computedRoot?: string
  }
  signatures: {
    threshold: number
    /** keyids of the keys the verifier was told to trust. */
    trustedKeyIds: string[]
    /** Distinct trusted keys that signed. */
    verifiedKeyIds: string[]
    signatures: SignatureVerdict[]
  }
}
