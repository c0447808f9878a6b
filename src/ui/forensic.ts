/** Human renderings of `stella forensic` results. */
import type {BundleMetadata, HoldResult, ServerVerifyResult} from '../lib/api/types.js'
import type {VerifyReport} from '../lib/bundle/report.js'
import {formatSize} from '../lib/units.js'
import type {InclusionProofJson, ProofVerdict} from '../services/forensic/prove.js'
import type {DownloadProgress, RemoteSnapshotShow, RemoteSnapshotSummary, SnapshotList} from '../services/forensic/remote.js'
import type {SnapshotShow, SnapshotSummary} from '../services/forensic/snapshot.js'
import type {VerifyOutcome} from '../services/forensic/verify.js'
import {type Progress, createProgress} from './progress.js'
import {bold, dim, green, red, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'

const MARK = {ok: green('✓'), failed: red('✗'), skipped: yellow('-')}

export function renderSnapshotSummary(summary: SnapshotSummary): string {
  return renderFields(snapshotSummaryFields(summary))
}

function snapshotSummaryFields(summary: SnapshotSummary): [string, string][] {
  return [
    ['bundle', summary.out],
    ['bundle id', bold(summary.bundleId)],
    ['root', summary.root],
    ['files', `${summary.fileCount} (${formatSize(summary.totalBytes)}; ${summary.totalBytes} bytes)`],
    ['size', `${formatSize(summary.bundleBytes)} compressed`],
    ['created', summary.createdAt],
    ['signed by', summary.signerKeyIds.join(', ')],
  ]
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

// ---------------------------------------------------------------------------------------------
// Server forms

/** A downloaded snapshot: the local summary, where it came from, and that it verified before it was saved. */
export function renderRemoteSnapshotSummary(summary: RemoteSnapshotSummary): string {
  const fields = snapshotSummaryFields(summary)
  fields.splice(2, 0, ['case', summary.caseId], ['kind', summary.kind])
  const retries = [summary.download.resumes > 0 && `resumed ${summary.download.resumes}×`, summary.download.restarts > 0 && `restarted ${summary.download.restarts}×`].filter(Boolean)
  fields.push(['source', `server${retries.length > 0 ? ` (download ${retries.join(', ')})` : ''}`])
  const checks = summary.verification.checks.map((check) => check.check).join(', ')
  return `${renderFields(fields)}

${green(bold('VERIFIED'))} before saving: ${checks}`
}

export function renderSnapshotList(list: SnapshotList): string {
  if (list.items.length === 0) return dim('No bundles.')
  const rows = list.items.map((item: BundleMetadata) => [item.bundleId, item.caseId, item.kind, statusText(item.status), item.createdAt, short(item.rootHash, 12), short(item.signerKeyId, 16)])
  return renderTable(['BUNDLE ID', 'CASE', 'KIND', 'STATUS', 'CREATED', 'ROOT', 'SIGNER'], rows)
}

/** The hint under a partial list, for stderr. */
export function renderMoreHint(list: SnapshotList): string | undefined {
  return list.nextCursor === null ? undefined : `More bundles: pass --all, or --cursor ${list.nextCursor} for the next page.`
}

export function renderRemoteSnapshotShow(show: RemoteSnapshotShow): string {
  const manifest = show.manifest
  const fields = renderFields([
    ['bundle id', show.bundle],
    ['status', statusText(show.status)],
    ...(show.error ? [['error', show.error] as [string, string]] : []),
    ['kind', show.kind],
    ['tenant', manifest?.tenant],
    ['case', show.caseId],
    ['subject', manifest ? `${manifest.subject.type} ${manifest.subject.id}` : undefined],
    ['created', show.createdAt],
    ...(manifest?.window ? [['window', `${manifest.window.from} .. ${manifest.window.to}`] as [string, string]] : []),
    ['files', manifest ? `${manifest.files.length} (${formatSize(show.totalBytes)})` : undefined],
    ['root', manifest?.merkle.root ?? show.rootHash],
    ['signatures', show.signatures.length === 0 ? show.signerKeyId || 'none' : show.signatures.map((s) => s.keyid ?? '(no keyid)').join(', ')],
  ])
  if (!manifest) return fields
  const table = renderTable(['PATH', 'SIZE', 'SHA-256'], manifest.files.map((file) => [file.path, String(file.size), file.sha256]))
  return `${yellow('Not verified:')} this is what the server says. \`stella forensic snapshot download\` fetches and verifies the bundle.\n\n${fields}\n\n${table}`
}

export function renderHold(result: HoldResult): string {
  return renderFields([
    ['case', result.caseId],
    ['hold', result.hold ? bold('on') : 'off'],
    ['reason', result.reason],
    ['changed', result.changedAt],
  ])
}

/** The local and the server verdicts side by side, one row per check and a last row for the verdict. */
export function renderVerdicts(local: VerifyReport, server: ServerVerifyResult): string {
  const names = [...local.checks.map((check) => check.check as string)]
  for (const check of server.checks) if (!names.includes(check.name)) names.push(check.name)
  const rows = names.map((name) => {
    const mine = local.checks.find((check) => check.check === name)
    const theirs = server.checks.find((check) => check.name === name)
    return [name, mine ? `${MARK[mine.status]} ${mine.status}` : '-', theirs ? `${theirs.ok ? MARK.ok : MARK.failed} ${theirs.ok ? 'ok' : 'failed'}` : '-']
  })
  const verdict = (ok: boolean) => (ok ? green(bold('VERIFIED')) : red(bold('NOT VERIFIED')))
  rows.push(['verdict', verdict(local.ok), verdict(server.verified)])
  return renderTable(['CHECK', 'LOCAL', 'SERVER'], rows)
}

/** One status line on a terminal's stderr (waiting for the server), redrawn in place; nothing elsewhere. */
export function createStatusLine(options: {enabled: boolean; stream?: NodeJS.WriteStream}): {update(text: string): void; done(): void} {
  const stream = options.stream ?? process.stderr
  if (!options.enabled || !stream.isTTY) return {update() {}, done() {}}
  let drawn = false
  return {
    update(text) {
      const width = (stream.columns || 80) - 1
      stream.write(`\r\u001B[2K${text.length > width ? text.slice(0, width) : text}`)
      drawn = true
    },
    done() {
      if (drawn) stream.write('\r\u001B[2K')
      drawn = false
    },
  }
}

/** A download's progress: one bar per phase, each started when its phase starts (so its one-second grace counts from there). */
export function createDownloadProgress(options: {enabled: boolean}): {update(progress: DownloadProgress): void; done(): void} {
  let phase: DownloadProgress['phase'] | undefined
  let bar: Progress | undefined
  return {
    update(progress) {
      if (progress.phase !== phase) {
        bar?.done()
        phase = progress.phase
        bar = createProgress(phase, options)
      }

      bar!.update({bytes: progress.bytes, totalBytes: progress.totalBytes, ...(progress.phase === 'verifying' ? {files: progress.files} : {})})
    },
    done() {
      bar?.done()
    },
  }
}

function statusText(status: string): string {
  if (status === 'ready') return green(status)
  if (status === 'failed') return red(status)
  return yellow(status)
}

function short(hex: string | undefined, length: number): string {
  if (!hex) return '-'
  return hex.length > length ? `${hex.slice(0, length)}…` : hex
}
