// Writes the command list in README.md (between the <!-- commands --> markers) from oclif.manifest.json.
//   node scripts/readme-commands.js           update README.md
//   node scripts/readme-commands.js --check   exit 1 if README.md is out of date
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const START = '<!-- commands -->'
const END = '<!-- /commands -->'

/** The markdown table of every command in the manifest, one row each, sorted by id. */
export function commandTable(manifest) {
  const rows = Object.entries(manifest.commands)
    .filter(([, command]) => !command.hidden)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, command]) => {
      const args = Object.entries(command.args ?? {}).map(([name, arg]) => (arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
      const usage = ['stella', ...id.split(':'), ...args].join(' ')
      return `| \`${usage}\` | ${command.summary ?? command.description?.split('\n')[0] ?? ''} |`
    })
  return ['| command | what it does |', '| --- | --- |', ...rows].join('\n')
}

export function withCommandTable(readme, manifest) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`README.md has no ${START} … ${END} section`)
  return `${readme.slice(0, start + START.length)}\n${commandTable(manifest)}\n${readme.slice(end)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync('README.md', 'utf8')
  const updated = withCommandTable(readme, JSON.parse(readFileSync('oclif.manifest.json', 'utf8')))
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error('README.md lists other commands than oclif.manifest.json: run `npm run readme`.')
      process.exitCode = 1
    }
  } else {
    writeFileSync('README.md', updated)
  }
}
