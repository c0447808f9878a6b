/** Plain, borderless tables for human output (cli-table3), styled through ui/style. */
import Table from 'cli-table3'

import {bold} from './style.js'

export function renderTable(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const table = new Table({
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    head: head.map((title) => bold(title)),
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  for (const row of rows) table.push(row.map(String))
  // cli-table3 pads the last column too; trailing spaces only get in the way of copy and grep.
  return table.toString().split('\n').map((line) => line.trimEnd()).join('\n')
}

/** `key: value` lines with the keys aligned. */
export function renderFields(fields: ReadonlyArray<readonly [string, string | number | undefined]>): string {
  const shown = fields.filter(([, value]) => value !== undefined && value !== '')
  const width = Math.max(0, ...shown.map(([key]) => key.length))
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${value}`).join('\n')
}
