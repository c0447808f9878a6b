/**
 * Collector profiles: fetching a signed profile (from the server, or from a saved response for
 * air-gapped sites), proving it was signed by a trusted key, deploying it as a YAML file, and
 * diffing two profiles semantically.
 *
 * Trust comes only from --key: a profile is deployed only when a trusted key signed exactly the
 * bytes that will be written. The server's name and version fields are not signed and are only
 * used to name the file and to report.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {COLLECTOR_CONFIG_PAYLOAD_TYPE, type ProfileName} from '../../lib/api/types.js'
import {type CollectorDiff, diffCollectorConfigs} from '../../lib/collector/diff.js'
import {type CollectorConfig, CollectorConfigError, parseCollectorConfig} from '../../lib/collector/parse.js'
import {DsseError, parseEnvelope, verifyEnvelope} from '../../lib/dsse/index.js'
import {bytesEqual, utf8} from '../../lib/encoding.js'
import {InputError, NegativeResultError, RemoteError, type StellaError, UsageError} from '../../lib/errors.js'
import {writeFileAtomic} from '../../lib/fs/atomic.js'
import {fsErrorReason} from '../../lib/fs/reason.js'
import {type Ed25519PublicKey, readPublicKeyFile} from '../../lib/keys/index.js'

export const PROFILE_NAMES: readonly ProfileName[] = ['default', 'forensic', 'airgap']

/** The part of the API client profiles need. */
export interface ProfileApi {
  getJson<T>(path: string): Promise<T>
}

/** Where a signed profile comes from: the server, or a saved `{name, version, config, envelope}` file. Both read the same. */
export interface ProfileSource {
  kind: 'server' | 'file'
  /** Names the profile in messages: `profile "default" from the server`, `saved profile ./default.json`. */
  label: string
  /** The profile response as received, not yet checked. */
  load(): Promise<unknown>
  /** The error for a response that is not shaped like a profile at all. */
  malformed(problem: string): StellaError
}

export function serverProfileSource(api: () => Promise<ProfileApi>, name: ProfileName): ProfileSource {
  return {
    kind: 'server',
    label: `profile "${name}" from the server`,
    load: async () => (await api()).getJson<unknown>(`/telemetry/config/profile/${encodeURIComponent(name)}`),
    malformed: (problem) =>
      new RemoteError('BAD_RESPONSE', `the server's answer for profile "${name}" is not a profile: ${problem}`, {
        remedy: 'The server does not follow the API contract; report this with the trace id (--verbose shows it).',
      }),
  }
}

export function savedProfileSource(path: string): ProfileSource {
  const malformed = (problem: string) =>
    new InputError('PROFILE_FILE_INVALID', `saved profile ${path}: ${problem}`, {
      remedy: 'Give the JSON the server returns for GET /telemetry/config/profile/{name}: {"name", "version", "config", "envelope"}.',
    })
  return {
    kind: 'file',
    label: `saved profile ${path}`,
    async load() {
      let text: string
      try {
        text = readFileSync(path, 'utf8')
      } catch (error) {
        throw new InputError('PROFILE_FILE_UNREADABLE', `cannot read the saved profile ${path}: ${fsErrorReason(error)}`, {
          remedy: 'Check the path, and that you are allowed to read the file.',
          cause: error,
        })
      }

      try {
        return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown
      } catch (error) {
        throw malformed(`it is not JSON (${(error as Error).message})`)
      }
    },
    malformed,
  }
}

export interface VerifiedProfile {
  name: string
  version: string
  /** The collector YAML: exactly the signed bytes, as text. */
  config: string
  /** keyids of the trusted keys whose signatures verified. */
  verifiedBy: string[]
}

interface UncheckedProfile {
  name: string
  version: string
  config: string
  envelope: unknown
}

const PROFILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Reads the fields of a profile response, refusing anything that is not one. */
function readProfile(raw: unknown, source: ProfileSource): UncheckedProfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw source.malformed('it is not a JSON object')
  const {name, version, config, envelope} = raw as Record<string, unknown>
  if (typeof name !== 'string') throw source.malformed('"name" is missing or not a string')
  // The name becomes a file name: nothing but a plain word may get that far.
  if (!PROFILE_NAME_RE.test(name)) throw source.malformed(`"name" ${JSON.stringify(name)} is not a profile name`)
  if (typeof version !== 'string' && typeof version !== 'number') throw source.malformed('"version" is missing or not a string')
  if (typeof config !== 'string') throw source.malformed('"config" is missing or not a string')
  return {name, version: String(version), config, envelope}
}

function notVerified(label: string, code: string, problem: string, remedy: string): NegativeResultError {
  return new NegativeResultError(code, `${label} ${problem}; refusing to use it`, {remedy})
}

const ALTERED = 'The profile was altered after it was signed, or is not the one the platform published: do not deploy it. Fetch it again from a trusted server.'

/**
 * Proves the profile was signed by a trusted key: a DSSE envelope with the collector-config
 * payloadType, whose payload is byte for byte the `config` text, signed by at least one of
 * `trusted`. Anything else is a negative result (exit 1).
 */
export function verifyProfile(raw: unknown, source: ProfileSource, trusted: readonly Ed25519PublicKey[]): VerifiedProfile {
  const profile = readProfile(raw, source)
  const {label} = source
  if (profile.envelope === undefined || profile.envelope === null) {
    throw notVerified(label, 'PROFILE_UNSIGNED', 'is not signed: it has no DSSE envelope', 'Only signed profiles can be deployed. Ask the platform to publish the profile signed.')
  }

  let envelope
  try {
    envelope = parseEnvelope(profile.envelope, `${label}: envelope`)
  } catch (error) {
    if (!(error instanceof DsseError)) throw error
    throw notVerified(label, 'PROFILE_ENVELOPE_INVALID', `has a damaged signature envelope (${error.message})`, ALTERED)
  }

  if (envelope.signatures.length === 0) {
    throw notVerified(label, 'PROFILE_UNSIGNED', 'is not signed: its envelope has no signatures', 'Only signed profiles can be deployed. Ask the platform to publish the profile signed.')
  }

  if (envelope.payloadType !== COLLECTOR_CONFIG_PAYLOAD_TYPE) {
    throw notVerified(label, 'PROFILE_WRONG_PAYLOAD_TYPE', `is signed as ${JSON.stringify(envelope.payloadType)}, not as a collector config (${COLLECTOR_CONFIG_PAYLOAD_TYPE})`, ALTERED)
  }

  const configBytes = utf8(profile.config)
  if (!bytesEqual(envelope.payload, configBytes)) {
    throw notVerified(label, 'PROFILE_CONFIG_MISMATCH', `has a config that is not what was signed (${configBytes.length} bytes in "config", ${envelope.payload.length} bytes signed)`, ALTERED)
  }

  const verdict = verifyEnvelope(envelope, trusted)
  if (!verdict.ok) {
    const hints = [...new Set(envelope.signatures.map((signature) => signature.keyid).filter((keyid): keyid is string => Boolean(keyid)))]
    const signers = hints.length === 0 ? '' : ` (signed by keyid ${hints.map(shortKeyid).join(', ')})`
    throw notVerified(
      label,
      'PROFILE_UNTRUSTED_SIGNATURE',
      `is not signed by a trusted key${signers}; trusted: ${trusted.map((key) => shortKeyid(key.keyid)).join(', ')}`,
      "Pass the platform's profile signing key with --key (`stella keys show KEY` prints its keyid). If it is already the right key, the profile was altered: do not deploy it.",
    )
  }

  return {name: profile.name, version: profile.version, config: profile.config, verifiedBy: verdict.verifiedKeyIds}
}

/** The name is not signed, but it names the file written: it must be the profile asked for. */
function checkName(name: string, wanted: string, source: ProfileSource): void {
  if (name === wanted) return
  if (source.kind === 'server') throw source.malformed(`it is profile "${name}"`)
  throw new UsageError('PROFILE_NAME_MISMATCH', `${source.label} holds profile "${name}", not "${wanted}"`, {
    remedy: `Leave out --profile to deploy "${name}", or give the file of the profile you meant.`,
  })
}

function shortKeyid(keyid: string): string {
  return keyid.slice(0, 16)
}

/** The keys named by --key; at least one, since trust comes from nowhere else. */
export async function readProfileKeys(paths: readonly string[]): Promise<Ed25519PublicKey[]> {
  if (paths.length === 0) {
    throw new UsageError('NO_TRUSTED_KEY', 'no trusted public key was given; a profile is deployed only when a trusted key signed it', {
      remedy: "Pass the platform's profile signing key with --key (e.g. --key platform.pub.pem); repeat it for several keys.",
    })
  }

  return Promise.all(paths.map((path) => readPublicKeyFile(path)))
}

// ---------------------------------------------------------------------------------------------
// deploy

export interface DeployInput {
  source: ProfileSource
  keyPaths: readonly string[]
  /** Directory for `<profile>.yaml`; created when missing. */
  outDir: string
  dryRun: boolean
  /** With a saved profile: the name it must have (--profile). */
  expectedName?: string
  onWarning?: (message: string) => void
}

export type DeployAction = 'created' | 'updated' | 'unchanged'

export interface DeployResult {
  profile: string
  version: string
  path: string
  /** Whether the file was written by this run (never with --dry-run, nor when unchanged). */
  written: boolean
  /** What the deployment does (or, with --dry-run, would do) to the file. */
  action: DeployAction
  dryRun: boolean
  verifiedBy: string[]
  /** Against the file that was there; null when there was none, or it was not a readable config. */
  diff: CollectorDiff | null
}

export async function deployProfile(input: DeployInput): Promise<DeployResult> {
  const trusted = await readProfileKeys(input.keyPaths)
  const profile = verifyProfile(await input.source.load(), input.source, trusted)
  if (input.expectedName !== undefined) checkName(profile.name, input.expectedName, input.source)

  const next = parseCollectorConfig(profile.config, `${input.source.label} (signed config)`)
  const path = join(input.outDir, `${profile.name}.yaml`)
  const bytes = utf8(profile.config)
  const existing = readExisting(path)

  let action: DeployAction
  let diff: CollectorDiff | null = null
  if (existing === undefined) {
    action = 'created'
  } else {
    action = bytesEqual(existing, bytes) ? 'unchanged' : 'updated'
    const current = parseExisting(existing, path, input.onWarning)
    if (current) diff = diffCollectorConfigs(current, next)
  }

  const written = !input.dryRun && action !== 'unchanged'
  if (written) {
    ensureDirectory(input.outDir)
    writeFileAtomic(path, bytes, {overwrite: true})
  }

  return {profile: profile.name, version: profile.version, path, written, action, dryRun: input.dryRun, verifiedBy: profile.verifiedBy, diff}
}

function readExisting(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InputError('OUTPUT_UNREADABLE', `cannot read the deployed profile ${path} to compare with it: ${fsErrorReason(error)}`, {
      remedy: 'Check that the path is a readable file, or choose another --out directory.',
      cause: error,
    })
  }
}

/** The config already deployed; one that is not valid YAML cannot be diffed, but must not block replacing it. */
function parseExisting(bytes: Uint8Array, path: string, onWarning?: (message: string) => void): CollectorConfig | undefined {
  try {
    return parseCollectorConfig(Buffer.from(bytes).toString('utf8'), path)
  } catch (error) {
    if (!(error instanceof CollectorConfigError)) throw error
    onWarning?.(`the file already there is not a valid collector config, so no diff can be shown (${error.message})`)
    return undefined
  }
}

function ensureDirectory(dir: string): void {
  try {
    mkdirSync(dir, {recursive: true})
  } catch (error) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot create the directory ${dir}: ${fsErrorReason(error)}`, {
      remedy: 'Choose an --out directory you can write to.',
      cause: error,
    })
  }
}

// ---------------------------------------------------------------------------------------------
// profile diff

/** A `profile diff` argument: a profile name (fetched from the server) or a YAML file. */
export type ProfileRef = {kind: 'server'; name: ProfileName} | {kind: 'file'; path: string}

/** A bare profile name is the server's profile; `./default` names a local file called "default". */
export function profileRef(arg: string): ProfileRef {
  return (PROFILE_NAMES as readonly string[]).includes(arg) ? {kind: 'server', name: arg as ProfileName} : {kind: 'file', path: arg}
}

export interface ProfileSide {
  /** The argument as given. */
  arg: string
  source: 'server' | 'file'
  /** Server profiles: the profile's name and version. */
  profile?: string
  version?: string
  /** Server profiles: keyids that verified it; null when it was not verified (a file, or no --key). */
  verifiedBy: string[] | null
}

export interface ProfileDiffResult {
  a: ProfileSide
  b: ProfileSide
  diff: CollectorDiff
}

export interface ProfileDiffInput {
  a: string
  b: string
  keyPaths: readonly string[]
  api: () => Promise<ProfileApi>
  onWarning?: (message: string) => void
}

export async function diffProfiles(input: ProfileDiffInput): Promise<ProfileDiffResult> {
  const trusted = input.keyPaths.length === 0 ? undefined : await readProfileKeys(input.keyPaths)
  // One client for both sides, made only when a side needs the server.
  let client: Promise<ProfileApi> | undefined
  const api = () => (client ??= input.api())
  const a = await loadSide(input.a, api, trusted, input.onWarning)
  const b = await loadSide(input.b, api, trusted, input.onWarning)
  return {a: a.side, b: b.side, diff: diffCollectorConfigs(a.config, b.config)}
}

async function loadSide(
  arg: string,
  api: () => Promise<ProfileApi>,
  trusted: Ed25519PublicKey[] | undefined,
  onWarning?: (message: string) => void,
): Promise<{side: ProfileSide; config: CollectorConfig}> {
  const ref = profileRef(arg)
  if (ref.kind === 'file') return {side: {arg, source: 'file', verifiedBy: null}, config: parseCollectorConfig(readConfigFile(ref.path), ref.path)}

  const source = serverProfileSource(api, ref.name)
  const raw = await source.load()
  let profile: {name: string; version: string; config: string; verifiedBy: string[] | null}
  if (trusted) {
    profile = verifyProfile(raw, source, trusted)
  } else {
    profile = {...readProfile(raw, source), verifiedBy: null}
    onWarning?.(`${source.label} was not verified: no --key was given`)
  }

  checkName(profile.name, ref.name, source)

  const side: ProfileSide = {arg, source: 'server', profile: profile.name, version: profile.version, verifiedBy: profile.verifiedBy}
  return {side, config: parseCollectorConfig(profile.config, source.label)}
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new InputError('CONFIG_FILE_UNREADABLE', `cannot read the collector config ${path}: ${fsErrorReason(error)}`, {
      remedy: `Check the path. To compare the server's profiles, give their names: ${PROFILE_NAMES.join(', ')}.`,
      cause: error,
    })
  }
}
