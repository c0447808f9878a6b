/**
 * `stella forensic attest show|verify`: the attestations about one artifact, each verified
 * locally against trusted keys. Where the envelopes come from is a source — files beside the
 * artifact or named on the command line, or the server's `/attestations` — and both kinds hand
 * over the same envelopes, so the verdict does not depend on where they were found.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'

import {type AttestationVerdict, parseAttestationFile, sidecarPaths, unreadableEnvelopeVerdict, verifyAttestation} from '../../lib/attest/index.js'
import type {ApiClient} from '../../lib/api/client.js'
import type {AttestationRecord} from '../../lib/api/types.js'
import {configPath, loadConfig} from '../../lib/config/index.js'
import {type ContextFlags, resolveContext} from '../../lib/config/resolve.js'
import {DsseError, type Envelope, parseEnvelope} from '../../lib/dsse/index.js'
import {InputError, NegativeResultError} from '../../lib/errors.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {type Ed25519PublicKey, readPublicKeyFile} from '../../lib/keys/index.js'

/** An attestation file larger than this is the wrong file; real ones are kilobytes. */
const MAX_ATTESTATION_FILE_BYTES = 64 * 1024 * 1024

export interface ArtifactDigest {
  path: string
  /** Lowercase hex. */
  sha256: string
}

export interface FoundAttestation {
  /** The server's id of the attestation. */
  id?: string
  /** Where it came from: `file`, `file:line`, or `server`. */
  source: string
  /** The envelope, or why a server's record of it could not be read. */
  envelope: Envelope | DsseError
}

/** One place attestations can come from. `find` returns at least one, or throws NO_ATTESTATION. */
export interface AttestationSource {
  readonly kind: 'server' | 'local'
  find(artifact: ArtifactDigest): Promise<{found: FoundAttestation[]; lookedIn: string[]}>
}

export interface AttestationReport extends AttestationVerdict {
  id?: string
  source: string
}

export interface AttestResult {
  artifact: ArtifactDigest
  source: 'server' | 'local'
  /** The files read, or the server and tenant asked. */
  lookedIn: string[]
  /** At least one attestation was found, and every one passed every check. */
  verified: boolean
  attestations: AttestationReport[]
}

export interface AttestInput {
  artifact: string
  source: AttestationSource
  keyPaths: readonly string[]
  threshold: number
}

export async function attestArtifact(input: AttestInput): Promise<AttestResult> {
  const artifact = {path: input.artifact, sha256: await sha256OfFile(input.artifact)}
  const keys: Ed25519PublicKey[] = await Promise.all(input.keyPaths.map((path) => readPublicKeyFile(path)))
  const {found, lookedIn} = await input.source.find(artifact)
  const attestations = found.map((attestation): AttestationReport => {
    const verdict =
      attestation.envelope instanceof DsseError
        ? unreadableEnvelopeVerdict(attestation.envelope)
        : verifyAttestation(attestation.envelope, artifact.sha256, {keys, threshold: input.threshold})
    return {...(attestation.id === undefined ? {} : {id: attestation.id}), source: attestation.source, ...verdict}
  })
  return {artifact, source: input.source.kind, lookedIn, verified: attestations.length > 0 && attestations.every((a) => a.ok), attestations}
}

/** SHA-256 of the artifact, streamed: artifacts can be far larger than memory. */
export async function sha256OfFile(path: string): Promise<string> {
  const unreadable = (error: unknown) =>
    new InputError('ARTIFACT_UNREADABLE', `cannot read the artifact ${path}: ${fsErrorReason(error)}`, {
      remedy: 'Check the path: the artifact itself is hashed to find and check its attestations.',
      cause: error,
    })
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) hash.update(chunk as Buffer)
    return hash.digest('hex')
  } catch (error) {
    throw unreadable(error)
  }
}

// ---------------------------------------------------------------------------------------------
// Local files

async function readAttestationFile(path: string): Promise<Uint8Array> {
  try {
    const info = await stat(path)
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
    if (info.size > MAX_ATTESTATION_FILE_BYTES) {
      throw new InputError('ATTESTATION_UNREADABLE', `the attestation ${path} is ${info.size} bytes, far larger than any attestation`, {remedy: 'Check that this is the right file.'})
    }
    return new Uint8Array(await readFile(path))
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError('ATTESTATION_UNREADABLE', `cannot read the attestation ${path}: ${fsErrorReason(error)}`, {
      remedy: 'Check the path, and that you are allowed to read the file.',
      cause: error,
    })
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return false
    throw new InputError('ATTESTATION_UNREADABLE', `cannot read the attestation ${path}: ${fsErrorReason(error)}`, {cause: error})
  }
}

/** The sidecar files that exist beside the artifact (`ARTIFACT.intoto.jsonl`, `ARTIFACT.dsse.json`). */
export async function existingSidecars(artifactPath: string): Promise<string[]> {
  const present: string[] = []
  for (const path of sidecarPaths(artifactPath)) if (await exists(path)) present.push(path)
  return present
}

/**
 * Envelopes from files: the ones given (`--attestation`), or else the sidecars beside the
 * artifact. `noServerNote` is added to the not-found message when no server was there to ask.
 */
export function localAttestationSource(files: readonly string[], options: {noServerNote?: boolean} = {}): AttestationSource {
  return {
    kind: 'local',
    async find(artifact) {
      // The same file named twice would list its attestations twice.
      const paths = files.length > 0 ? [...new Set(files)] : await existingSidecars(artifact.path)
      if (paths.length === 0) {
        const [jsonl, json] = sidecarPaths(artifact.path)
        throw new NegativeResultError('NO_ATTESTATION', `no attestation found for ${artifact.path}: looked for ${jsonl} and ${json}${options.noServerNote ? ', and no server is configured' : ''}`, {
          remedy: 'Put the attestation beside the artifact under one of those names, pass --attestation FILE, or ask a server with --server, --tenant and --token.',
        })
      }

      const found: FoundAttestation[] = []
      for (const path of paths) {
        for (const entry of parseAttestationFile(await readAttestationFile(path), path)) found.push({source: entry.source, envelope: entry.envelope})
      }

      return {found, lookedIn: paths}
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The server

/** What the remote source needs of the API client. */
export type AttestationApi = Pick<ApiClient, 'paginate'>

/** `GET /attestations?subjectDigest=sha256:<hex>`, every page. `where` names the server and tenant in messages. */
export function remoteAttestationSource(api: AttestationApi, where: string): AttestationSource {
  return {
    kind: 'server',
    async find(artifact) {
      const found: FoundAttestation[] = []
      for await (const record of api.paginate<AttestationRecord>('/attestations', {subjectDigest: `sha256:${artifact.sha256}`}, {all: true})) {
        let envelope: Envelope | DsseError
        try {
          envelope = parseEnvelope(record.envelope, `the envelope of attestation ${record.id}`)
        } catch (error) {
          if (!(error instanceof DsseError)) throw error
          envelope = error
        }

        found.push({id: record.id, source: 'server', envelope})
      }

      if (found.length === 0) {
        throw new NegativeResultError('NO_ATTESTATION', `no attestation found for ${artifact.path} (sha256:${artifact.sha256}) on ${where}`, {
          remedy: 'Check that this is the artifact that was built and the tenant it was built for, or check a local attestation with --attestation FILE.',
        })
      }

      return {found, lookedIn: [where]}
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Which source

export type LookupPreference = 'auto' | 'local' | 'remote'

/**
 * Where to look, in this order: files given with --attestation; --local or --remote when given;
 * else the sidecars beside the artifact when there are any; else the server when one is
 * configured. 'none' means local with nothing to find, which ends in a NO_ATTESTATION error.
 */
export async function chooseLookup(input: {
  artifact: string
  attestationFiles: readonly string[]
  prefer: LookupPreference
  serverConfigured: () => boolean
}): Promise<'local' | 'server' | 'none'> {
  if (input.attestationFiles.length > 0 || input.prefer === 'local') return 'local'
  if (input.prefer === 'remote') return 'server'
  if ((await existingSidecars(input.artifact)).length > 0) return 'local'
  return input.serverConfigured() ? 'server' : 'none'
}

/** The server and tenant the remote context names (flags, STELLA_* environment, config), for choosing and for messages. */
export function configuredServer(flags: ContextFlags): {server?: string; label: string} {
  const context = resolveContext(flags, process.env, loadConfig(configPath()))
  return {...(context.server === undefined ? {} : {server: context.server}), label: `${context.server ?? 'the server'} (tenant ${context.tenant ?? 'not set'})`}
}

/**
 * The source both attest commands read from: chooseLookup's answer, with the context resolved at
 * most once and only when the choice needs it.
 */
export async function attestationSourceFor(input: {
  artifact: string
  attestationFiles: readonly string[]
  prefer: LookupPreference
  flags: ContextFlags
  api: () => Promise<AttestationApi>
}): Promise<AttestationSource> {
  let server: ReturnType<typeof configuredServer> | undefined
  const configured = (): ReturnType<typeof configuredServer> => (server ??= configuredServer(input.flags))
  const lookup = await chooseLookup({...input, serverConfigured: () => configured().server !== undefined})
  if (lookup === 'server') return remoteAttestationSource(await input.api(), configured().label)
  return localAttestationSource(input.attestationFiles, {noServerNote: lookup === 'none'})
}
