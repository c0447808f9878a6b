#!/usr/bin/env node
// Start-up cost of stella, as ratios of medians against a bare `node -e 0` measured in the same run.
// Runs are interleaved (one of each case per round) so machine noise hits every case alike.
//   npm run bench:startup            (BENCH_RUNS=40 to change the number of rounds)
//   node bench/startup.js --check    (exit 1 if `keys show <key>` is over the 3x target)
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stella = join(root, 'bin', 'run.js')
const rounds = Number(process.env.BENCH_RUNS ?? 30)
const target = 3

const work = mkdtempSync(join(tmpdir(), 'stella-bench-'))
const env = {...process.env, XDG_CONFIG_HOME: work, NO_COLOR: '1'}
const keyPrefix = join(work, 'bench')
run([stella, 'keys', 'generate', '--out', keyPrefix])

const cases = [
  {name: 'node -e 0', argv: ['-e', '0'], baseline: true},
  {name: 'stella --version', argv: [stella, '--version']},
  {name: 'stella keys show --help', argv: [stella, 'keys', 'show', '--help']},
  {name: 'stella keys show <key>', argv: [stella, 'keys', 'show', `${keyPrefix}.pem`], target},
]

function run(argv) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, argv, {env, stdio: ['ignore', 'pipe', 'pipe']})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`)
  }

  return ms
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

for (const c of cases) for (let i = 0; i < 3; i++) run(c.argv)
const samples = new Map(cases.map((c) => [c.name, []]))
for (let round = 0; round < rounds; round++) for (const c of cases) samples.get(c.name).push(run(c.argv))
rmSync(work, {recursive: true, force: true})

const baseline = median(samples.get(cases.find((c) => c.baseline).name))
let missed = false
console.log(`stella start-up, ${rounds} interleaved rounds, node ${process.version}`)
console.log(`${'command'.padEnd(28)} ${'median'.padStart(9)} ${'min'.padStart(9)} ${'ratio'.padStart(7)}  target`)
for (const c of cases) {
  const values = samples.get(c.name)
  const ratio = median(values) / baseline
  const verdict = c.target ? (ratio <= c.target ? `<= ${c.target}x ok` : `<= ${c.target}x MISSED`) : ''
  if (c.target && ratio > c.target) missed = true
  console.log(`${c.name.padEnd(28)} ${median(values).toFixed(1).padStart(7)}ms ${Math.min(...values).toFixed(1).padStart(7)}ms ${ratio.toFixed(2).padStart(6)}x  ${verdict}`)
}

if (missed && process.argv.includes('--check')) process.exitCode = 1
