/** Human renderings of `stella forensic` results. */
import {formatSize} from '../lib/units.js'
import type {InclusionProofJson, ProofVerdict} from '../services/forensic/prove.js'
import type {SnapshotShow, SnapshotSummary} from '../services/forensic/snapshot.js'
import type {VerifyOutcome} from '../services/forensic/verify.js'
import {bold, dim, green, red, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'

const MARK = {ok: green('✓'), failed: red('✗'), skipped: yellow('-')}

export function renderSnapshotSummary(summary: SnapshotSummary): string {
  return renderFields([
    ['bundle', summary.out],
    ['bundle id', bold(summary.bundleId)],
    ['root', summary.root],
    ['files', `${summary.fileCount} (${formatSize(summary.totalBytes)}; ${summary.totalBytes} bytes)`],
    ['size', `${formatSize(summary.bundleBytes)} compressed`],
    ['created', summary.createdAt],
    ['signed by', summary.signerKeyIds.join(', ')],
  ])
}

export function renderVerifyOutcome(outcome: VerifyOutcome): string {
  const report = outcome.report
  const lines: string[] = []
  const about = [report.bundleId, report.kind && `kind ${report.kind}`, report.tenant && `tenant ${report.tenant}`, report.caseId && `case ${report.caseId}`].filter(Boolean)
  lines.push(`${bold(outcome.bundle)}${about.length > 0 ? dim(` (${about.join(', ')})`) : ''}`)
  const width = Math.max(...report.checks.map((check) => check.check.length))
  for (const check of report.checks) lines.push(`  ${MARK[check.status]} ${check.check.padEnd(width)}  ${check.message}`)

  const files = report.files
  if (files.altered.length > 0) {
    lines.push('', bold(`Altered files (${files.alteredCount}):`))
    const rows = files.altered.map((file) => [file.path, String(file.expectedSize), String(file.actualSize), file.expectedSha256.slice(0, 16), file.actualSha256.slice(0, 16)])
    lines.push(indent(renderTable(['PATH', 'EXPECTED SIZE', 'ACTUAL SIZE', 'EXPECTED SHA-256', 'ACTUAL SHA-256'], rows)))
    if (files.alteredCount > files.altered.length) lines.push(dim(`  … and ${files.alteredCount - files.altered.length} more (--json lists the first ${files.altered.length})`))
  }

  for (const [title, list, count] of [['Missing files', files.missing, files.missingCount], ['Extra files (not in the manifest)', files.extra, files.extraCount]] as const) {
    if (count === 0) continue
    lines.push('', bold(`${title} (${count}):`), ...list.map((path) => `  ${path}`))
    if (count > list.length) lines.push(dim(`  … and ${count - list.length} more`))
  }

  if (report.container.problemCount > 1) {
    lines.push('', bold(`Container problems (${report.container.problemCount}):`), ...report.container.problems.map((problem) => `  ${problem.code}: ${problem.message}`))
  }

  const failed = report.checks.filter((check) => check.status !== 'ok').length
  lines.push('')
  if (report.ok) {
    lines.push(`${green(bold('VERIFIED'))}: every check passed; root ${report.merkle.computedRoot}`)
  } else {
    lines.push(`${red(bold('NOT VERIFIED'))}: ${failed} of ${report.checks.length} checks did not pass. Do not rely on this bundle's content.`)
  }

  if (outcome.extractedTo !== undefined) lines.push(`Extracted ${files.found} files into ${outcome.extractedTo}`)
  return lines.join('\n')
}

export function renderSnapshotShow(show: SnapshotShow): string {
  const manifest = show.manifest
  const fields = renderFields([
    ['bundle', show.bundle],
    ['bundle id', manifest.bundleId],
    ['kind', manifest.kind],
    ['tenant', manifest.tenant],
    ['case', manifest.caseId],
    ['subject', `${manifest.subject.type} ${manifest.subject.id}`],
    ['created', manifest.createdAt],
    ...(manifest.window ? [['window', `${manifest.window.from} .. ${manifest.window.to}`] as [string, string]] : []),
    ['files', `${manifest.files.length} (${formatSize(show.totalBytes)})`],
    ['root', manifest.merkle.root],
    ['signatures', show.signatures.length === 0 ? 'none' : show.signatures.map((s) => s.keyid ?? '(no keyid)').join(', ')],
  ])
  const table = renderTable(['PATH', 'SIZE', 'SHA-256'], manifest.files.map((file) => [file.path, String(file.size), file.sha256]))
  return `${yellow('Not verified:')} this is what the manifest says. Run \`stella forensic verify\` to check it.\n\n${fields}\n\n${table}`
}

export function renderProof(proof: InclusionProofJson, out?: string): string {
  const fields = renderFields([
    ['path', proof.path],
    ['sha256', proof.sha256],
    ['leaf', `${proof.leafIndex} of ${proof.treeSize}`],
    ['root', proof.root],
    ['audit path', `${proof.auditPath.length} hashes`],
  ])
  return out === undefined ? fields : `${fields}\nWrote the proof to ${out}`
}

export function renderProofVerdict(verdict: ProofVerdict): string {
  const source = {'flag': 'given with --root', 'verified-bundle': 'from the verified bundle', 'proof': 'taken from the proof itself (not authenticated)'}[verdict.rootSource]
  const lines = [
    `${verdict.ok ? MARK.ok : MARK.failed} ${verdict.message}`,
    renderFields([
      ['file sha256', verdict.fileSha256],
      ['trusted root', `${verdict.trustedRoot} (${source})`],
    ]),
  ]
  return lines.join('\n')
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n')
}
