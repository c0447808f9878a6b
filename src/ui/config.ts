/** Human renderings of `stella config` results. */
import type {ConfigChange, ContextList} from '../services/config/index.js'
import {dim} from './style.js'
import {renderTable} from './table.js'

export function renderConfigChange(change: ConfigChange, verb: 'set' | 'unset'): string {
  const lines: string[] = []
  if (change.created) lines.push(`Created context ${change.context}${change.current ? ' (now current)' : ''}.`)
  if (verb === 'set') {
    const shown = change.value === undefined ? '(hidden)' : String(change.value)
    lines.push(`${change.context}: ${change.key} = ${shown}`)
    for (const cleared of change.cleared) lines.push(dim(`${change.context}: ${cleared} removed (one token source per context)`))
  } else {
    lines.push(change.cleared.length > 0 ? `${change.context}: ${change.key} removed` : `${change.context}: ${change.key} was not set`)
  }

  return lines.join('\n')
}

export function renderContextList(list: ContextList): string {
  if (list.contexts.length === 0) return `No contexts in ${list.path}. Create one with \`stella config set server URL --context NAME\`.`
  const rows = list.contexts.map((context) => [
    `${context.current ? '*' : ' '} ${context.name}`,
    context.server ?? '-',
    context.tenant ?? '-',
    context.token ?? '-',
    context.caFile ?? '-',
    context.sealed ? 'yes' : 'no',
  ])
  return `${renderTable(['  CONTEXT', 'SERVER', 'TENANT', 'TOKEN', 'CA FILE', 'SEALED'], rows)}\n${dim(`config file: ${list.path}`)}`
}
