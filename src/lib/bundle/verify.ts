/**
 * Verifies an evidence bundle in one streaming pass over its gzip stream: no extraction to disk,
 * memory bounded by the manifest (not by file sizes), any member order. Produces the spec's checks
 * in order — container, manifest, files, merkle, statement, signatures — with the evidence for each.
 */
import {type Hash, createHash, hash} from 'node:crypto'

import {type Ed25519PublicKey} from '../keys/index.js'
import {type Envelope, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, verifyEnvelope} from '../dsse/index.js'
import {isStellaError} from '../errors.js'
import {toHex} from '../encoding.js'
import {FileLedger} from './file-ledger.js'
import {GzipFormatError, gunzipSingleMember} from './gzip.js'
import {type BundleFile, gunzipFile, isBundleFile} from './gzip-thread.js'
import {scanManifest} from './manifest-scan.js'
import {
  ENVELOPE_NAME,
  MANIFEST_NAME,
  type Manifest,
  ROOT_NAME,
  RESERVED_NAMES,
  parseManifest,
  parseStatement,
  sha256Hex,
  totalBytesOf,
} from './manifest.js'
import {ancestorsOf, describePathProblem, pathProblemOfBytes} from './paths.js'
import type {AlteredFile, CheckName, CheckResult, ContainerProblem, VerifyReport} from './report.js'
import {type TarEntry, TarFormatError, TarParser} from './tar.js'

/** Receives the content files as they stream by, e.g. to extract them once the report is ok. */
export interface ContentSink {
  begin(path: string, size: number): void
  data(chunk: Uint8Array): void
  end(): void
  /** Awaited after each decompressed chunk, before its bytes are released. */
  flush(): Promise<void>
}

export interface VerifyOptions {
  trustedKeys: readonly Ed25519PublicKey[]
  threshold?: number
  /** How many missing/extra/altered files and container problems to list (counts are always complete). */
  listLimit?: number
  onProgress?: (progress: {compressedBytes: number; files: number; bytes: number}) => void
  contentSink?: ContentSink
}

const RESERVED_LIMITS: Record<string, number> = {
  [MANIFEST_NAME]: 256 * 1024 * 1024,
  [ENVELOPE_NAME]: 16 * 1024 * 1024,
  [ROOT_NAME]: 1024,
}

/** manifest.json without its file list, which the ledger holds in compact form. */
type ManifestSummary = Omit<Manifest, 'files'> & {fileCount: number; totalBytes: number}

const EMPTY_SHA256 = hash('sha256', new Uint8Array(0), 'buffer')

export async function verifyBundle(source: AsyncIterable<Uint8Array> | BundleFile, options: VerifyOptions): Promise<VerifyReport> {
  const scan = new BundleScan(options)
  await scan.read(source)
  return scan.report()
}

/** The state of one pass over a bundle, and the checks it leads to. */
class BundleScan {
  readonly #options: VerifyOptions
  readonly #listLimit: number
  readonly #problems: ContainerProblem[] = []
  #problemCount = 0
  /** The archive could not be read to its end, so what is missing is unknown. */
  #unreadable?: ContainerProblem
  #compressedBytes = 0
  #tarBytes = 0
  #entries = 0

  readonly #reserved = new Map<string, Uint8Array>()
  /** manifest.json, once read whole: parsed, or why it could not be; its bytes are not kept. */
  #manifest?: {manifest: ManifestSummary; sha256: string} | {error: {message: string; code: string}}
  /** Checks content files against the manifest as they arrive, once it is known. */
  #ledger?: FileLedger
  /** Content files read before manifest.json, held until it arrives. */
  readonly #early: {path: string; pathBytes: Uint8Array; size: number; digest: Uint8Array}[] = []
  /** Content files read whole, and their bytes. */
  #foundCount = 0
  #foundBytes = 0
  /** File paths seen that the ledger does not hold (those before or outside the manifest), for duplicate and conflict checks. */
  readonly #filePaths = new Set<string>()
  readonly #directoryPaths = new Set<string>()
  /** Entries whose pax / GNU long name differs from their own header name: [path, headerPath]. */
  readonly #aliases: [string, string][] = []

  // The entry being read.
  #current?: {
    path: string
    /** A content file's path as UTF-8, as the ledger looks it up. */
    pathBytes?: Uint8Array
    kind: 'content' | 'reserved' | 'ignored'
    /** The size the tar header announced. */
    entrySize?: number
    hash?: Hash
    digest?: Uint8Array
    size: number
    extract: boolean
    /** A reserved file's bytes, sized by its header; dropped once it proves too large. */
    bytes?: Uint8Array
  }

  constructor(options: VerifyOptions) {
    this.#options = options
    this.#listLimit = options.listLimit ?? 100
  }

  async read(source: AsyncIterable<Uint8Array> | BundleFile): Promise<void> {
    const sink = this.#options.contentSink
    const parser = new TarParser({
      entry: (entry) => this.#beginEntry(entry),
      data: (chunk) => this.#entryData(chunk),
      entryEnd: () => this.#endEntry(),
    })
    try {
      const gunzipOptions = {onCompressedBytes: (total: number) => (this.#compressedBytes = total)}
      // Chunks from a file may be views of a reused buffer: everything below copies what it keeps.
      const chunks = isBundleFile(source) ? gunzipFile(source, gunzipOptions) : gunzipSingleMember(source, gunzipOptions)
      for await (const chunk of chunks) {
        parser.write(chunk)
        if (sink) await sink.flush()
        this.#options.onProgress?.({compressedBytes: this.#compressedBytes, files: this.#foundCount, bytes: this.#foundBytes})
      }

      parser.end()
    } catch (error) {
      if (!(error instanceof GzipFormatError || error instanceof TarFormatError)) throw error
      const problem = {code: error.code, message: error.message}
      this.#addProblem(problem)
      // Damage after the tar end marker (appended data, a bad gzip trailer) still let every entry be read.
      if (error.code !== 'TAR_TRAILING_DATA' && !tarComplete(parser)) this.#unreadable = problem
    } finally {
      this.#tarBytes = parser.bytesRead
    }
  }

  #addProblem(problem: ContainerProblem): void {
    this.#problemCount += 1
    if (this.#problems.length < this.#listLimit) this.#problems.push(problem)
  }

  #beginEntry(entry: TarEntry): void {
    this.#entries += 1
    const ignore = (): void => {
      this.#current = {path: entry.path, kind: 'ignored', size: 0, extract: false}
    }
    const problem = pathProblemOfBytes(entry.type === 'directory' ? stripTrailingSlash(entry.pathBytes) : entry.pathBytes)
    if (problem) {
      this.#addProblem({code: 'PATH_INVALID', message: `entry path ${JSON.stringify(entry.path)} ${describePathProblem(problem)}`, path: entry.path})
      return ignore()
    }

    const path = entry.type === 'directory' ? entry.path.replace(/\/$/, '') : entry.path
    if (entry.pathSource !== 'ustar' && entry.headerPath !== '' && entry.headerPath !== entry.path) this.#aliases.push([path, entry.headerPath.replace(/\/$/, '')])

    if (entry.type === 'directory') {
      if (this.#directoryPaths.has(path)) this.#addProblem({code: 'PATH_DUPLICATE', message: `directory ${path} appears twice`, path})
      this.#directoryPaths.add(path)
      return ignore()
    }

    if (entry.type !== 'file' && entry.type !== 'contiguous-file') {
      this.#addProblem(entryTypeProblem(entry, path))
      return ignore()
    }

    if (this.#hasFile(path, entry.pathBytes)) {
      this.#addProblem({code: 'PATH_DUPLICATE', message: `${path} appears twice in the archive`, path})
      return ignore()
    }

    if (!this.#lists(entry.pathBytes)) this.#filePaths.add(path)
    if (RESERVED_NAMES.includes(path)) {
      // Sized once from the header, not gathered in pieces and joined: a manifest of 40,000 files is
      // several megabytes, and every copy of it stays in the process's peak memory.
      const fits = entry.size <= RESERVED_LIMITS[path]!
      this.#current = {path, kind: 'reserved', entrySize: entry.size, size: 0, extract: false, ...(fits ? {bytes: new Uint8Array(entry.size)} : {})}
      return
    }

    const extract = this.#options.contentSink !== undefined
    if (extract) this.#options.contentSink!.begin(path, entry.size)
    this.#current = {path, pathBytes: entry.pathBytes, kind: 'content', entrySize: entry.size, size: 0, extract}
  }

  #entryData(chunk: Uint8Array): void {
    const current = this.#current
    if (!current || current.kind === 'ignored') return
    current.size += chunk.length
    if (current.kind === 'content') {
      // A file that arrives in one piece is hashed in one call; a streaming hash object per small
      // file costs time, and native memory until the garbage collector gets to it.
      if (current.hash === undefined && current.size === chunk.length && chunk.length === current.entrySize) current.digest = hash('sha256', chunk, 'buffer')
      else (current.hash ??= createHash('sha256')).update(chunk)
      if (current.extract) this.#options.contentSink!.data(chunk)
      return
    }

    // Reserved files are small; keep their bytes (copied: the chunk is released after this pass).
    const limit = RESERVED_LIMITS[current.path]!
    if (current.size > limit) {
      // Said once: by the chunk that crossed the limit.
      if (current.size - chunk.length <= limit) this.#addProblem({code: 'RESERVED_TOO_LARGE', message: `${current.path} is larger than ${limit} bytes`, path: current.path})
      current.bytes = undefined
      return
    }

    current.bytes?.set(chunk, current.size - chunk.length)
  }

  #endEntry(): void {
    const current = this.#current
    this.#current = undefined
    // A reserved file counts only when read whole: a truncated one is "not reached", not "malformed".
    if (current?.kind === 'reserved' && current.bytes && current.size === current.bytes.length) {
      if (current.path === MANIFEST_NAME) this.#acceptManifest(current.bytes)
      else this.#reserved.set(current.path, current.bytes)
    }

    if (!current || current.kind !== 'content') return
    if (current.extract) this.#options.contentSink!.end()
    const digest = current.digest ?? current.hash?.digest() ?? EMPTY_SHA256
    this.#foundCount += 1
    this.#foundBytes += current.size
    if (this.#ledger) this.#ledger.record(current.path, current.pathBytes!, current.size, digest)
    else this.#early.push({path: current.path, pathBytes: current.pathBytes!, size: current.size, digest})
  }

  /** Parses manifest.json as soon as it is read, so the files after it are checked as they stream. */
  #acceptManifest(bytes: Uint8Array): void {
    const sha256 = sha256Hex(bytes)
    const scanned = scanManifest(bytes)
    if (scanned) {
      const files = scanned.files
      this.#manifest = {manifest: {...scanned.head, fileCount: files.count, totalBytes: files.totalBytes}, sha256}
      this.#ledger = new FileLedger(files.finish(), this.#listLimit)
    } else {
      let files: Manifest['files']
      try {
        const {files: listed, ...manifest} = parseManifest(bytes)
        files = listed
        this.#manifest = {manifest: {...manifest, fileCount: files.length, totalBytes: totalBytesOf(files)}, sha256}
      } catch (error) {
        if (!isStellaError(error)) throw error
        this.#manifest = {error: {message: error.message, code: error.code}}
        return
      }

      this.#ledger = FileLedger.of(files, this.#listLimit)
    }

    for (const file of this.#early.splice(0)) {
      this.#ledger.record(file.path, file.pathBytes, file.size, file.digest)
      if (this.#lists(file.pathBytes)) this.#filePaths.delete(file.path)
    }
  }

  /** Whether a file with this path has been read (pathBytes: its UTF-8, when the caller has it). */
  #hasFile(path: string, pathBytes: Uint8Array = Buffer.from(path, 'utf8')): boolean {
    return this.#filePaths.has(path) || this.#ledger?.found(pathBytes) === true
  }

  #lists(pathBytes: Uint8Array): boolean {
    return this.#ledger !== undefined && this.#ledger.indexOf(pathBytes) >= 0
  }

  #notFound(name: string): string {
    return this.#unreadable ? `${name} was not read whole before the archive became unreadable` : `the bundle has no ${name}`
  }

  /** Path conflicts only visible once every entry is known: aliases, and a file used as a directory. */
  #checkPathConflicts(): void {
    // Writers put a cut-down name in the header of a long path; that only matters when it names another entry.
    for (const [path, headerPath] of this.#aliases) {
      if (this.#hasFile(headerPath) || this.#directoryPaths.has(headerPath)) {
        this.#addProblem({
          code: 'PATH_ALIAS',
          message: `entry ${path} is named ${headerPath} in its tar header, which another entry also uses`,
          path,
        })
      }
    }

    for (const path of this.#allFilePaths()) {
      if (this.#directoryPaths.has(path)) this.#addProblem({code: 'PATH_FILE_AND_DIRECTORY', message: `${path} is both a file and a directory`, path})
      for (const ancestor of ancestorsOf(path)) {
        if (this.#hasFile(ancestor)) {
          this.#addProblem({code: 'PATH_FILE_AND_DIRECTORY', message: `${ancestor} is a file, but ${path} uses it as a directory`, path: ancestor})
        }
      }
    }
  }

  *#allFilePaths(): Generator<string> {
    yield* this.#filePaths
    if (this.#ledger) yield* this.#ledger.foundPaths()
  }

  report(): VerifyReport {
    if (!this.#unreadable) this.#checkPathConflicts()
    const checks: CheckResult[] = []
    const add = (check: CheckName, status: CheckResult['status'], message: string, reason?: string) =>
      checks.push(reason === undefined ? {check, status, message} : {check, status, message, reason})
    const report = this.#emptyReport(checks)

    // container
    if (this.#problemCount === 0) add('container', 'ok', `one gzip member, ${this.#entries} tar entries, paths and entry types valid`)
    else add('container', 'failed', `${this.#problems[0]!.message}${this.#problemCount > 1 ? ` (and ${this.#problemCount - 1} more problems)` : ''}`, this.#problems[0]!.code)

    // manifest
    const read = this.#manifest
    let manifest: ManifestSummary | undefined
    if (read === undefined) {
      add('manifest', 'failed', this.#notFound(MANIFEST_NAME), 'MANIFEST_MISSING')
    } else if ('error' in read) {
      add('manifest', 'failed', read.error.message, read.error.code)
    } else {
      manifest = read.manifest
      add('manifest', 'ok', `${manifest.fileCount} files listed, schema v1, kind ${manifest.kind}`)
      Object.assign(report, {bundleId: manifest.bundleId, kind: manifest.kind, tenant: manifest.tenant, caseId: manifest.caseId, createdAt: manifest.createdAt})
    }

    // files and merkle
    const computedRoot = manifest ? this.#checkFiles(manifest, report, add) : (add('files', 'skipped', 'no valid manifest to check the files against', 'NO_MANIFEST'), undefined)
    this.#checkMerkle(manifest, computedRoot, report, add)

    // statement and signatures
    this.#checkStatementAndSignatures(manifest, read && 'sha256' in read ? read.sha256 : undefined, report, add)

    report.ok = checks.every((check) => check.status === 'ok')
    return report
  }

  #emptyReport(checks: CheckResult[]): VerifyReport {
    return {
      ok: false,
      checks,
      container: {
        compressedBytes: this.#compressedBytes,
        tarBytes: this.#tarBytes,
        entries: this.#entries,
        problems: this.#problems,
        problemCount: this.#problemCount,
      },
      files: {listed: 0, found: this.#foundCount, bytes: this.#foundBytes, missing: [], missingCount: 0, extra: [], extraCount: 0, altered: [], alteredCount: 0},
      merkle: {},
      signatures: {
        threshold: this.#options.threshold ?? 1,
        trustedKeyIds: [...new Set(this.#options.trustedKeys.map((key) => key.keyid))],
        verifiedKeyIds: [],
        signatures: [],
      },
    }
  }

  /** Compares every listed file with what the archive holds; returns the root recomputed from the content, if complete. */
  #checkFiles(manifest: ManifestSummary, report: VerifyReport, add: AddCheck): Uint8Array | undefined {
    const ledger = this.#ledger!
    const files = report.files
    Object.assign(files, {listed: manifest.fileCount}, ledger.tally())
    if (this.#unreadable) {
      add('files', 'skipped', `the archive could not be read to its end (${this.#unreadable.code}); ${this.#foundCount} of ${manifest.fileCount} files were read`, 'CONTAINER_UNREADABLE')
      return undefined
    }

    const first = files.altered[0]
    if (first) add('files', 'failed', `${first.path} differs: ${describeDifference(first)}${countTail(files.alteredCount + files.missingCount + files.extraCount)}`, 'FILES_ALTERED')
    else if (files.missingCount > 0) add('files', 'failed', `${files.missing[0]} is listed in the manifest but not in the archive${countTail(files.missingCount + files.extraCount)}`, 'FILES_MISSING')
    else if (files.extraCount > 0) add('files', 'failed', `${files.extra[0]} is in the archive but not in the manifest${countTail(files.extraCount)}`, 'FILES_EXTRA')
    else add('files', 'ok', `${manifest.fileCount} files, ${report.files.bytes} bytes, every size and SHA-256 as listed`)

    return ledger.computedRoot()
  }

  #checkMerkle(manifest: ManifestSummary | undefined, computedRoot: Uint8Array | undefined, report: VerifyReport, add: AddCheck): void {
    const rootBytes = this.#reserved.get(ROOT_NAME)
    const rootText = rootBytes === undefined ? undefined : Buffer.from(rootBytes).toString('latin1')
    report.merkle = {
      ...(manifest ? {treeSize: manifest.fileCount, manifestRoot: manifest.merkle.root} : {}),
      ...(rootText !== undefined && /^[0-9a-f]{64}\n$/.test(rootText) ? {rootFile: rootText.slice(0, 64)} : {}),
      ...(computedRoot ? {computedRoot: toHex(computedRoot)} : {}),
    }
    if (!manifest) return void add('merkle', 'skipped', 'no valid manifest holds a root to compare', 'NO_MANIFEST')
    if (rootText === undefined) return void add('merkle', 'failed', this.#notFound(ROOT_NAME), 'ROOT_FILE_MISSING')
    if (report.merkle.rootFile === undefined) return void add('merkle', 'failed', 'root.merkle is not 64 lowercase hex digits and a newline', 'ROOT_FILE_MALFORMED')
    if (report.merkle.rootFile !== manifest.merkle.root) {
      return void add('merkle', 'failed', `root.merkle (${report.merkle.rootFile}) differs from the manifest's root (${manifest.merkle.root})`, 'ROOT_FILE_MISMATCH')
    }

    if (report.merkle.computedRoot === undefined) {
      return void add('merkle', 'skipped', 'the root cannot be recomputed while files are missing or unread', this.#unreadable ? 'CONTAINER_UNREADABLE' : 'FILES_MISSING')
    }

    if (report.merkle.computedRoot !== manifest.merkle.root) {
      return void add('merkle', 'failed', `the root recomputed from the content (${report.merkle.computedRoot}) differs from the manifest's (${manifest.merkle.root})`, 'ROOT_MISMATCH')
    }

    add('merkle', 'ok', `root ${manifest.merkle.root} recomputed over ${manifest.fileCount} files; matches manifest.json and root.merkle`)
  }

  #checkStatementAndSignatures(manifest: ManifestSummary | undefined, manifestDigest: string | undefined, report: VerifyReport, add: AddCheck): void {
    const envelopeBytes = this.#reserved.get(ENVELOPE_NAME)
    if (envelopeBytes === undefined) {
      add('statement', 'failed', this.#notFound(ENVELOPE_NAME), 'ENVELOPE_MISSING')
      add('signatures', 'failed', `${this.#notFound(ENVELOPE_NAME)}, so nothing is signed`, 'ENVELOPE_MISSING')
      return
    }

    let envelope: Envelope
    try {
      envelope = parseEnvelope(envelopeBytes, 'manifest.dsse.json')
    } catch (error) {
      if (!isStellaError(error)) throw error
      add('statement', 'failed', error.message, 'ENVELOPE_MALFORMED')
      add('signatures', 'failed', 'manifest.dsse.json is not a valid DSSE envelope', 'ENVELOPE_MALFORMED')
      return
    }

    this.#checkStatement(envelope, manifest, manifestDigest, add)

    const verdict = verifyEnvelope(envelope, this.#options.trustedKeys, {threshold: this.#options.threshold ?? 1})
    report.signatures.verifiedKeyIds = verdict.verifiedKeyIds
    report.signatures.signatures = verdict.signatures
    const count = verdict.verifiedKeyIds.length
    if (envelope.signatures.length === 0) add('signatures', 'failed', 'manifest.dsse.json has no signatures', 'NO_SIGNATURES')
    else if (verdict.ok) add('signatures', 'ok', `signed by ${count} trusted key${count === 1 ? '' : 's'} (${verdict.verifiedKeyIds.map((id) => id.slice(0, 16)).join(', ')}); threshold ${verdict.threshold} met`)
    else if (count === 0) add('signatures', 'failed', `none of the ${envelope.signatures.length} signatures verifies with a trusted key`, 'NO_TRUSTED_SIGNATURE')
    else add('signatures', 'failed', `${count} distinct trusted key${count === 1 ? '' : 's'} signed; the threshold is ${verdict.threshold}`, 'THRESHOLD_NOT_MET')
  }

  #checkStatement(envelope: Envelope, manifest: ManifestSummary | undefined, manifestDigest: string | undefined, add: AddCheck): void {
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      return void add('statement', 'failed', `the payload type is ${JSON.stringify(envelope.payloadType)}, not "${IN_TOTO_PAYLOAD_TYPE}"`, 'PAYLOAD_TYPE')
    }

    let statement
    try {
      statement = parseStatement(envelope.payload)
    } catch (error) {
      if (!isStellaError(error)) throw error
      return void add('statement', 'failed', error.message, error.code)
    }

    if (!manifest || !manifestDigest) return void add('statement', 'skipped', 'no valid manifest to compare the statement with', 'NO_MANIFEST')
    const subjects = statement.subject
    const subject = subjects[0]
    if (subjects.length !== 1 || subject?.name !== MANIFEST_NAME) {
      return void add('statement', 'failed', `the statement's subject must be exactly manifest.json, not ${JSON.stringify(subjects.map((s) => s.name))}`, 'SUBJECT_NAME')
    }

    if (subject.digest.sha256 !== manifestDigest) {
      return void add('statement', 'failed', `the signed digest of manifest.json (${String(subject.digest.sha256)}) differs from its actual digest (${manifestDigest})`, 'SUBJECT_DIGEST')
    }

    const predicate = statement.predicate
    if (predicate.merkleRoot !== manifest.merkle.root) {
      return void add('statement', 'failed', `the signed Merkle root (${String(predicate.merkleRoot)}) differs from the bundle's (${manifest.merkle.root})`, 'PREDICATE_ROOT')
    }

    const expected: Record<string, unknown> = {
      bundleId: manifest.bundleId,
      kind: manifest.kind,
      tenant: manifest.tenant,
      caseId: manifest.caseId,
      createdAt: manifest.createdAt,
      fileCount: manifest.fileCount,
      totalBytes: manifest.totalBytes,
    }
    for (const [field, value] of Object.entries(expected)) {
      const signed = (predicate as unknown as Record<string, unknown>)[field]
      if (signed !== value) {
        return void add('statement', 'failed', `the signed ${field} (${JSON.stringify(signed)}) differs from the manifest's (${JSON.stringify(value)})`, 'PREDICATE_MISMATCH')
      }
    }

    add('statement', 'ok', `in-toto statement binds manifest.json (sha256 ${manifestDigest.slice(0, 16)}…) and the root`)
  }
}

type AddCheck = (check: CheckName, status: CheckResult['status'], message: string, reason?: string) => void

function entryTypeProblem(entry: TarEntry, path: string): ContainerProblem {
  const what: Record<string, [string, string]> = {
    'symlink': ['ENTRY_SYMLINK', `${path} is a symbolic link (to ${entry.linkPath})`],
    'hardlink': ['ENTRY_HARDLINK', `${path} is a hard link (to ${entry.linkPath})`],
    'character-device': ['ENTRY_DEVICE', `${path} is a character device`],
    'block-device': ['ENTRY_DEVICE', `${path} is a block device`],
    'fifo': ['ENTRY_FIFO', `${path} is a FIFO`],
  }
  const [code, message] = what[entry.type] ?? ['ENTRY_TYPE', `${path} has the unsupported tar type ${JSON.stringify(entry.typeflag)}`]
  return {code, message: `${message}; bundles hold regular files only`, path}
}

function tarComplete(parser: TarParser): boolean {
  try {
    parser.end()
    return true
  } catch {
    return false
  }
}

function stripTrailingSlash(bytes: Uint8Array): Uint8Array {
  return bytes.length > 1 && bytes.at(-1) === 0x2f ? bytes.subarray(0, -1) : bytes
}

function describeDifference(file: AlteredFile): string {
  if (file.expectedSize !== file.actualSize) return `${file.actualSize} bytes, ${file.expectedSize} expected`
  return `SHA-256 ${file.actualSha256.slice(0, 16)}…, ${file.expectedSha256.slice(0, 16)}… expected`
}

function countTail(count: number): string {
  return count > 1 ? ` (${count} files differ in all)` : ''
}
