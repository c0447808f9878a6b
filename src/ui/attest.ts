/** Human renderings of `stella forensic attest show|verify`. */
import {flattenParameters, preferredDigest, type ProvenanceSummary, shorten} from '../lib/attest/index.js'
import {formatDuration} from '../lib/units.js'
import type {AttestationReport, AttestResult} from '../services/forensic/attest.js'
import {bold, dim, green, red, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'

/** Parameters shown before "… and N more"; --json has them all. */
const MAX_PARAMETERS = 12

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function indent(text: string, by = '  '): string {
  return text.split('\n').map((line) => (line === '' ? line : `${by}${line}`)).join('\n')
}

function header(result: AttestResult): string {
  const count = result.attestations.length
  const where = result.source === 'server' ? `from ${result.lookedIn.join(', ')}` : `in ${result.lookedIn.join(', ')}`
  return `${bold(result.artifact.path)}\n${indent(renderFields([
    ['sha256', result.artifact.sha256],
    ['found', `${plural(count, 'attestation')} ${where}`],
  ]))}`
}

function renderChecks(attestation: AttestationReport): string {
  const width = Math.max(...attestation.checks.map((check) => check.check.length))
  return attestation.checks
    .map((check) => `  ${check.ok ? green('✓') : red('✗')} ${check.check.padEnd(width)}  ${check.ok || check.reason === undefined ? '' : `${check.reason}: `}${check.message}`)
    .join('\n')
}

function title(attestation: AttestationReport, index: number, total: number): string {
  const name = attestation.id === undefined ? attestation.source : `${attestation.id} (${attestation.source})`
  return bold(`Attestation ${index + 1} of ${total}: ${name}`)
}

export function renderProvenance(provenance: ProvenanceSummary): string {
  const finished = provenance.finishedOn === undefined ? undefined : `${provenance.finishedOn}${provenance.durationMs === undefined ? '' : ` (took ${formatDuration(provenance.durationMs)})`}`
  const lines = [
    renderFields([
      ['builder', provenance.builderId],
      ['build type', provenance.buildType],
      ['invocation', provenance.invocationId],
      ['started', provenance.startedOn],
      ['finished', finished],
    ]),
  ]

  const parameters = flattenParameters(provenance.externalParameters)
  if (parameters.length > 0) {
    lines.push('', renderTable(['EXTERNAL PARAMETER', 'VALUE'], parameters.slice(0, MAX_PARAMETERS)))
    if (parameters.length > MAX_PARAMETERS) lines.push(dim(`… and ${parameters.length - MAX_PARAMETERS} more (--json has them all)`))
  } else {
    lines.push('', 'external parameters: none')
  }

  const dependencies = provenance.resolvedDependencies
  if (dependencies.length > 0) {
    const rows = dependencies.map((dependency) => {
      const digest = preferredDigest(dependency.digest)
      return [dependency.uri ?? dependency.name ?? '(unnamed)', digest === undefined ? '-' : `${digest[0]}:${shorten(digest[1], 17)}`]
    })
    lines.push('', renderTable(['RESOLVED DEPENDENCY', 'DIGEST'], rows))
  } else {
    lines.push('', 'resolved dependencies: none listed')
  }

  return lines.join('\n')
}

function renderPredicate(attestation: AttestationReport): string | undefined {
  const statement = attestation.statement
  if (statement === undefined) return undefined
  const caution = attestation.ok ? '' : yellow(' (not verified: see the checks above)')
  if (attestation.provenance !== undefined) return `${bold('Provenance')} ${dim('(SLSA v1)')}${caution}\n${indent(renderProvenance(attestation.provenance))}`
  if (attestation.checks.some((check) => check.check === 'predicateType' && !check.ok)) return undefined
  return `${bold('Predicate')} ${statement.predicateType}: no summary is available for this predicate type (--json has the whole statement).`
}

/** `attest show`: every attestation with its checks and what its predicate says. */
export function renderAttestShow(result: AttestResult): string {
  const total = result.attestations.length
  const blocks = [header(result)]
  result.attestations.forEach((attestation, index) => {
    const parts = [title(attestation, index, total), renderChecks(attestation)]
    const predicate = renderPredicate(attestation)
    if (predicate !== undefined) parts.push('', indent(predicate))
    blocks.push(parts.join('\n'))
  })

  const passed = result.attestations.filter((attestation) => attestation.ok).length
  blocks.push(passed === total ? `${green('✓')} ${passed === 1 ? 'The attestation passed' : `All ${total} attestations passed`} every check.` : `${red('✗')} ${passed} of ${plural(total, 'attestation')} passed every check.`)
  return blocks.join('\n\n')
}

/** `attest verify`: the checks of every attestation and one verdict. */
export function renderAttestVerify(result: AttestResult): string {
  const total = result.attestations.length
  const blocks = [header(result), ...result.attestations.map((attestation, index) => `${title(attestation, index, total)}\n${renderChecks(attestation)}`)]
  if (result.verified) {
    blocks.push(`${green(bold('VERIFIED'))}: ${total === 1 ? 'the attestation' : `all ${total} attestations`} of ${result.artifact.path} passed every check.`)
  } else {
    const failed = result.attestations
      .map((attestation, index) => ({index, failed: attestation.checks.filter((check) => !check.ok && check.reason !== 'NOT_CHECKED')}))
      .filter((entry) => entry.failed.length > 0)
      .map((entry) => `attestation ${entry.index + 1}: ${entry.failed.map((check) => check.reason ?? check.check).join(', ')}`)
    blocks.push(`${red(bold('NOT VERIFIED'))}: ${failed.length} of ${plural(total, 'attestation')} failed (${failed.join('; ')}). Do not rely on what they say about ${result.artifact.path}.`)
  }

  return blocks.join('\n\n')
}
