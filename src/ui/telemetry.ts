/** Human renderings of `stella telemetry` results. */
import type {CollectorDiff, ValueChange} from '../lib/collector/diff.js'
import type {ConfigValue} from '../lib/collector/parse.js'
import type {DeployResult, ProfileDiffResult, ProfileSide} from '../services/telemetry/profile.js'
import {bold, dim, green, red, yellow} from './style.js'
import {renderFields, renderTable} from './table.js'

// ---------------------------------------------------------------------------------------------
// Collector config diffs (telemetry deploy, telemetry profile diff)

type DiffRow = [section: string, id: string, change: string, key: string, old: string, new: string]

const LONGEST_VALUE = 60

/** Values as JSON, so "512" and 512 look different; long ones cut short (--json has them whole). */
function shownValue(value: ConfigValue | undefined): string {
  if (value === undefined) return ''
  const text = JSON.stringify(value)
  return text.length > LONGEST_VALUE ? `${text.slice(0, LONGEST_VALUE - 1)}…` : text
}

function shownList(names: readonly string[]): string {
  return `[${names.join(', ')}]`
}

function changeWord(change: string): string {
  if (change === 'added') return green(change)
  if (change === 'removed') return red(change)
  return yellow(change)
}

function valueRows(section: string, id: string, changes: readonly ValueChange[]): DiffRow[] {
  return changes.map((change) => [section, id, change.change, change.path, shownValue(change.old), shownValue(change.new)])
}

/** One row per difference: what (section and id), how (added/removed/changed/reordered), which key, old → new. */
export function collectorDiffRows(diff: CollectorDiff): DiffRow[] {
  const rows: DiffRow[] = []
  for (const component of diff.components) {
    if (component.change === 'changed') rows.push(...valueRows(component.section, component.id, component.changes))
    else rows.push([component.section, component.id, component.change, '', shownValue(component.old), shownValue(component.new)])
  }

  for (const pipeline of diff.pipelines) {
    const section = 'service.pipelines'
    if (pipeline.change !== 'changed') {
      const lists = pipeline.change === 'added'
        ? {receivers: pipeline.receivers.added, processors: pipeline.processors.new, exporters: pipeline.exporters.added}
        : {receivers: pipeline.receivers.removed, processors: pipeline.processors.old, exporters: pipeline.exporters.removed}
      const wiring = `receivers ${shownList(lists.receivers)} processors ${shownList(lists.processors)} exporters ${shownList(lists.exporters)}`
      rows.push([section, pipeline.id, pipeline.change, '', pipeline.change === 'removed' ? wiring : '', pipeline.change === 'added' ? wiring : ''])
      continue
    }

    for (const list of ['receivers', 'processors', 'exporters'] as const) {
      for (const name of pipeline[list].added) rows.push([section, pipeline.id, 'added', list, '', name])
      for (const name of pipeline[list].removed) rows.push([section, pipeline.id, 'removed', list, name, ''])
    }

    if (pipeline.processors.reordered) {
      rows.push([section, pipeline.id, 'reordered', 'processors', shownList(pipeline.processors.old), shownList(pipeline.processors.new)])
    }

    rows.push(...valueRows(section, pipeline.id, pipeline.changes))
  }

  for (const name of diff.extensions.added) rows.push(['service.extensions', name, 'added', '', '', ''])
  for (const name of diff.extensions.removed) rows.push(['service.extensions', name, 'removed', '', '', ''])
  rows.push(...valueRows('service.telemetry', '', diff.telemetry), ...valueRows('', '', diff.other))
  return rows
}

export function renderCollectorDiff(diff: CollectorDiff): string {
  const rows = collectorDiffRows(diff).map(([section, id, change, key, old, next]) => [section, id, changeWord(change), key, old, next])
  return renderTable(['SECTION', 'ID', 'CHANGE', 'KEY', 'OLD', 'NEW'], rows)
}

function differences(diff: CollectorDiff): string {
  const count = collectorDiffRows(diff).length
  return `${count} difference${count === 1 ? '' : 's'}`
}

function describeSide(side: ProfileSide): string {
  if (side.source === 'file') return `${side.arg} ${dim('(file)')}`
  const verified = side.verifiedBy === null ? yellow('not verified') : `verified by ${side.verifiedBy.map((keyid) => keyid.slice(0, 16)).join(', ')}`
  return `${side.arg} ${dim(`(server, version ${side.version ?? '?'})`)}, ${verified}`
}

export function renderProfileDiff(result: ProfileDiffResult): string {
  const head = renderFields([
    ['a', describeSide(result.a)],
    ['b', describeSide(result.b)],
  ])
  if (result.diff.equal) return `${head}\n\n${green('No differences')}: the two collector configurations are the same.`
  return `${head}\n\n${renderCollectorDiff(result.diff)}\n\n${bold(differences(result.diff))} between ${result.a.arg} and ${result.b.arg}.`
}

export function renderDeployResult(result: DeployResult): string {
  const head = renderFields([
    ['profile', bold(result.profile)],
    ['version', result.version],
    ['verified by', result.verifiedBy.join(', ')],
    ['file', result.path],
  ])
  const nothingWritten = dim(' (dry run: nothing written)')
  const lines = [head, '']
  if (result.action === 'unchanged') {
    lines.push(`${green('Unchanged')}: ${result.path} already holds this signed configuration.`)
  } else if (result.action === 'created') {
    lines.push(result.dryRun ? `Would create ${result.path}${nothingWritten}.` : `${green('Created')} ${result.path}.`)
  } else if (result.diff === null) {
    lines.push(result.dryRun ? `Would replace ${result.path}${nothingWritten}.` : `${green('Replaced')} ${result.path}.`)
  } else if (result.diff.equal) {
    const why = 'same configuration; only formatting or comments differed'
    lines.push(result.dryRun ? `Would rewrite ${result.path} with the signed bytes (${why})${nothingWritten}.` : `${green('Rewrote')} ${result.path} with the signed bytes (${why}).`)
  } else {
    lines.push(renderCollectorDiff(result.diff), '')
    const what = `${differences(result.diff)} from the file that was there`
    lines.push(result.dryRun ? `Would update ${result.path}: ${what}${nothingWritten}.` : `${green('Updated')} ${result.path}: ${what}.`)
  }

  return lines.join('\n')
}
