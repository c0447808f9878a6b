/** Human renderings of `stella telemetry capture` and `telemetry replay`. */
import {formatDuration, formatSize} from '../lib/units.js'
import type {Signal} from '../lib/otlp/types.js'
import type {CaptureProgress, CaptureSummary} from '../services/telemetry/capture.js'
import type {SignalCounts} from '../services/telemetry/otlp-bundle.js'
import type {ReplayProgress, ReplaySummary} from '../services/telemetry/replay.js'
import {createStatusLine} from './forensic.js'
import {type Progress, createProgress} from './progress.js'
import {bold, green, red, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics']
const RECORD_WORDS: Record<Signal, string> = {traces: 'spans', logs: 'log records', metrics: 'data points'}

const count = (n: number): string => n.toLocaleString('en-US')

export function renderCaptureSummary(summary: CaptureSummary): string {
  const fields: [string, string][] = [
    ['bundle', summary.out],
    ['bundle id', bold(summary.bundleId)],
    ['root', summary.root],
    ['case', summary.caseId],
    ['window', `${summary.window.from} .. ${summary.window.to}`],
    ['source', sourceText(summary)],
    ['size', `${formatSize(summary.bundleBytes)} compressed (${count(summary.totalBytes)} bytes of OTLP in ${summary.fileCount} ${summary.fileCount === 1 ? 'file' : 'files'})`],
    ['created', summary.createdAt],
    ['signed by', summary.signerKeyIds.join(', ')],
  ]
  const rows = SIGNALS.map((signal) => signalRow(signal, summary.signals[signal], summary.outsideWindow?.[signal]))
  const head = ['SIGNAL', 'RECORDS', 'MESSAGES', 'BYTES', ...(summary.outsideWindow ? ['OUTSIDE WINDOW'] : [])]
  const lines = [renderFields(fields), '', renderTable(head, rows)]
  if (summary.source === 'server') lines.push('', `${green(bold('VERIFIED'))} before saving: ${summary.verification?.checks.map((check) => check.check).join(', ') ?? ''}`)
  return lines.join('\n')
}

function signalRow(signal: Signal, counts: SignalCounts, outside: number | undefined): string[] {
  return [signal, `${count(counts.records)} ${RECORD_WORDS[signal]}`, count(counts.messages), count(counts.bytes), ...(outside === undefined ? [] : [count(outside)])]
}

function sourceText(summary: CaptureSummary): string {
  if (summary.source === 'files') return `files (${count(summary.messagesRead ?? 0)} messages read)`
  if (summary.source === 'listen' && summary.listen) {
    const why = summary.listen.stoppedBy === 'duration' ? 'until --duration ran out' : 'until stopped'
    return `listened on ${summary.listen.url} for ${formatDuration(summary.listen.durationMs)}, ${why}`
  }

  const retries = [summary.download && summary.download.resumes > 0 && `resumed ${summary.download.resumes}×`, summary.download && summary.download.restarts > 0 && `restarted ${summary.download.restarts}×`].filter(Boolean)
  return `server${retries.length > 0 ? ` (download ${retries.join(', ')})` : ''}`
}

/** A line on stderr while capturing: what was read or received so far, then the bundling bar. */
export function createCaptureProgress(options: {enabled: boolean}): {update(progress: CaptureProgress): void; done(): void} {
  const status = createStatusLine(options)
  let bar: Progress | undefined
  let phase: CaptureProgress['phase'] | undefined
  return {
    update(progress) {
      if (progress.phase !== phase) {
        status.done()
        bar?.done()
        bar = undefined
        phase = progress.phase
      }

      switch (progress.phase) {
        case 'reading':
          status.update(`reading: ${count(progress.messages)} messages, ${count(progress.kept)} records in the window, ${count(progress.outside)} outside (${formatSize(progress.bytes)})`)
          break
        case 'recording': {
          const counts = SIGNALS.map((signal) => `${count(progress.counts[signal].records)} ${RECORD_WORDS[signal]}`).join(', ')
          const bytes = SIGNALS.reduce((sum, signal) => sum + progress.counts[signal].bytes, 0)
          status.update(`recording ${formatDuration(Math.floor(progress.elapsedMs / 1000) * 1000)}: ${counts} (${formatSize(bytes)}); Ctrl-C stops and writes the bundle`)
          break
        }

        case 'bundling':
          bar ??= createProgress('bundling', options)
          bar.update({bytes: progress.progress.bytes, totalBytes: progress.progress.totalBytes})
          break
        default:
          bar ??= createProgress(progress.phase, options)
          bar.update({bytes: progress.bytes, totalBytes: progress.totalBytes})
      }
    },
    done() {
      status.done()
      bar?.done()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Replay

export function renderReplaySummary(summary: ReplaySummary): string {
  const verified = summary.verified
    ? `${green('verified')} (${summary.bundleId}, kind ${summary.kind}, signed by ${summary.verification?.verifiedKeyIds.join(', ')})`
    : yellow('NOT verified (--no-verify)')
  const fields: [string, string][] = [
    ['bundle', `${summary.bundle}: ${verified}`],
    ['endpoint', summary.endpoint],
    ...(summary.shiftNanos === null ? [] : [['time shift', shiftText(BigInt(summary.shiftNanos))] as [string, string]]),
    ['requests', `${count(summary.requests)} (${count(summary.retries)} ${summary.retries === 1 ? 'retry' : 'retries'}), ${formatSize(summary.bytesSent)} sent in ${formatDuration(summary.durationMs)}`],
  ]
  const rows = SIGNALS.map((signal) => {
    const s = summary.signals[signal]
    return [signal, count(s.records), count(s.accepted), s.rejected > 0 ? red(count(s.rejected)) : '0', count(s.requests)]
  })
  const records = SIGNALS.reduce((sum, signal) => sum + summary.signals[signal].records, 0)
  rows.push(['total', count(records), count(summary.accepted), summary.rejected > 0 ? red(count(summary.rejected)) : '0', count(SIGNALS.reduce((sum, signal) => sum + summary.signals[signal].requests, 0))])
  const lines = [renderFields(fields), '', renderTable(['SIGNAL', 'RECORDS', 'ACCEPTED', 'REJECTED', 'REQUESTS'], rows), '']
  lines.push(
    summary.rejected > 0
      ? `${red(bold('REJECTED'))}: the endpoint refused ${count(summary.rejected)} of ${count(records)} records.`
      : `${green(bold('SENT'))}: the endpoint accepted all ${count(records)} records.`,
  )
  return lines.join('\n')
}

/** `+1d 2h 3m 4.5s` (or `-…` for a bundle from the future). */
function shiftText(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '+'
  const ms = Number((nanos < 0n ? -nanos : nanos) / 1_000_000n)
  return `${sign}${formatDuration(ms)} (the latest timestamp moved to now)`
}

export function createReplayProgress(options: {enabled: boolean}): {update(progress: ReplayProgress): void; done(): void} {
  let bar: Progress | undefined
  let phase: ReplayProgress['phase'] | undefined
  return {
    update(progress) {
      if (progress.phase !== phase) {
        bar?.done()
        phase = progress.phase
        bar = createProgress(progress.phase, options)
      }

      bar!.update({bytes: progress.bytes, totalBytes: progress.totalBytes})
    },
    done() {
      bar?.done()
    },
  }
}
