/**
 * SLSA provenance v1 (slsa.dev/spec/v1.0/provenance): who built an artifact, how, from what.
 * `summarizeProvenance` keeps what an operator reads first and rejects a predicate that lacks
 * the fields the spec requires, since a provenance claim without a builder says nothing.
 */
import {InputError, type StellaErrorOptions} from '../errors.js'
import {digestSet, isRecord} from './statement.js'

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1'

export interface ProvenanceDependency {
  uri?: string
  name?: string
  /** Algorithm → digest; empty when the descriptor names the dependency without one. */
  digest: Record<string, string>
}

export interface ProvenanceSummary {
  builderId: string
  buildType: string
  /** The parameters the build was asked for, as signed (the UI shortens them). */
  externalParameters: Record<string, unknown>
  resolvedDependencies: ProvenanceDependency[]
  invocationId?: string
  startedOn?: string
  finishedOn?: string
  /** finishedOn − startedOn, when both are given and in that order. */
  durationMs?: number
}

/** PREDICATE_MALFORMED: the predicate claims SLSA provenance v1 but lacks or mistypes a field. */
export class ProvenanceError extends InputError {
  declare readonly code: 'PREDICATE_MALFORMED'

  constructor(message: string, options?: StellaErrorOptions) {
    super('PREDICATE_MALFORMED', message, options)
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new ProvenanceError(`${field} must be a string`)
  return value
}

function timestamp(value: unknown, field: string): {text: string; ms: number} | undefined {
  const text = optionalString(value, field)
  if (text === undefined) return undefined
  const ms = Date.parse(text)
  if (!RFC3339.test(text) || !Number.isFinite(ms)) throw new ProvenanceError(`${field} is ${JSON.stringify(text)}, not an RFC 3339 timestamp`)
  return {text, ms}
}

function dependencyOf(value: unknown, index: number): ProvenanceDependency {
  const field = `buildDefinition.resolvedDependencies[${index}]`
  if (!isRecord(value)) throw new ProvenanceError(`${field} must be an object`)
  const uri = optionalString(value.uri, `${field}.uri`)
  const name = optionalString(value.name, `${field}.name`)
  let digest: Record<string, string> = {}
  if (value.digest !== undefined) {
    const set = digestSet(value.digest)
    if (set === undefined) throw new ProvenanceError(`${field}.digest must be a non-empty object of algorithm to digest strings`)
    digest = set
  }

  if (uri === undefined && value.digest === undefined && value.content === undefined) {
    throw new ProvenanceError(`${field} has none of uri, digest and content`)
  }

  return {...(uri === undefined ? {} : {uri}), ...(name === undefined ? {} : {name}), digest}
}

/** The summary of an SLSA provenance v1 predicate; ProvenanceError when a required field is wrong. */
export function summarizeProvenance(predicate: unknown): ProvenanceSummary {
  if (!isRecord(predicate)) throw new ProvenanceError('the predicate is missing')
  const {buildDefinition, runDetails} = predicate
  if (!isRecord(buildDefinition)) throw new ProvenanceError('buildDefinition is missing')
  if (!isRecord(runDetails)) throw new ProvenanceError('runDetails is missing')
  const buildType = buildDefinition.buildType
  if (typeof buildType !== 'string' || buildType === '') throw new ProvenanceError('buildDefinition.buildType is missing')
  const externalParameters = buildDefinition.externalParameters
  if (!isRecord(externalParameters)) throw new ProvenanceError('buildDefinition.externalParameters must be an object')
  const builder = runDetails.builder
  if (!isRecord(builder) || typeof builder.id !== 'string' || builder.id === '') throw new ProvenanceError('runDetails.builder.id is missing')

  const dependencies = buildDefinition.resolvedDependencies
  if (dependencies !== undefined && !Array.isArray(dependencies)) throw new ProvenanceError('buildDefinition.resolvedDependencies must be a list')
  const metadata = runDetails.metadata
  if (metadata !== undefined && !isRecord(metadata)) throw new ProvenanceError('runDetails.metadata must be an object')
  const invocationId = optionalString(metadata?.invocationId, 'runDetails.metadata.invocationId')
  const startedOn = timestamp(metadata?.startedOn, 'runDetails.metadata.startedOn')
  const finishedOn = timestamp(metadata?.finishedOn, 'runDetails.metadata.finishedOn')

  return {
    builderId: builder.id,
    buildType,
    externalParameters,
    resolvedDependencies: (dependencies ?? []).map((dependency, index) => dependencyOf(dependency, index)),
    ...(invocationId === undefined ? {} : {invocationId}),
    ...(startedOn === undefined ? {} : {startedOn: startedOn.text}),
    ...(finishedOn === undefined ? {} : {finishedOn: finishedOn.text}),
    ...(startedOn && finishedOn && finishedOn.ms >= startedOn.ms ? {durationMs: finishedOn.ms - startedOn.ms} : {}),
  }
}

/**
 * Parameters as `dotted.key` → one-line value, nested objects flattened, each value cut to
 * `maxLength` characters: enough to recognise a build at a glance (JSON output has them whole).
 */
export function flattenParameters(parameters: Record<string, unknown>, maxLength = 60): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const walk = (value: unknown, key: string) => {
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [child, inner] of Object.entries(value)) walk(inner, key === '' ? child : `${key}.${child}`)
      return
    }

    out.push([key, shorten(typeof value === 'string' ? value : JSON.stringify(value) ?? String(value), maxLength)])
  }

  walk(parameters, '')
  return out.filter(([key]) => key !== '')
}

/** `text` cut to `max` characters, the last one an ellipsis when anything was cut. */
export function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ')
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, Math.max(0, max - 1))}…`
}

/** The digest to show for a dependency: sha256 when present, else the first listed. */
export function preferredDigest(digest: Record<string, string>): [string, string] | undefined {
  if (digest.sha256 !== undefined) return ['sha256', digest.sha256]
  return Object.entries(digest)[0]
}
