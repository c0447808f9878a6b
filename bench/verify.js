#!/usr/bin/env node
// Throughput and memory of `stella forensic verify` and `stella forensic snapshot create` on a
// 1 GiB evidence bundle, as ratios of medians against shell/Node baselines measured in the same
// run. Rounds are interleaved (one of each command per round, order rotating), so machine noise
// hits every command alike. Every command runs under `/usr/bin/time -f %M` for its peak RSS.
//
//   npm run bench:verify                 (after `npm run build`)
//   node bench/verify.js --check         exit 1 if a target is missed
//
// Environment:
//   BENCH_RUNS=5        interleaved rounds (median of these; one warm-up round comes first)
//   BENCH_DIR=...       cache for the generated input, keys and bundles
//                       (default: $TMPDIR/stella-bench-verify; rebuilt when missing or stale)
//   BENCH_LARGE=1       also build a 4 GiB bundle (same mix, scaled) and compare verify's peak RSS
//   BENCH_LARGE_RUNS=3  verify runs on the 4 GiB bundle
//   BENCH_KEEP_LARGE=1  keep the 4 GiB input and bundle (deleted after the run by default: ~6.5 GB)
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {DATA_VERSION, generate, layout} from './verify-data.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stella = join(root, 'bin', 'run.js')
const floorScript = join(root, 'bench', 'gunzip-floor.js')
const TIME = '/usr/bin/time'
const MIB = 1024 * 1024
const GIB = 1024 * MIB

const rounds = Number(process.env.BENCH_RUNS ?? 5)
const largeRounds = Number(process.env.BENCH_LARGE_RUNS ?? 3)
const large = isOn(process.env.BENCH_LARGE)
const keepLarge = isOn(process.env.BENCH_KEEP_LARGE)
const check = process.argv.includes('--check')
const benchDir = process.env.BENCH_DIR || join(tmpdir(), 'stella-bench-verify')

const TARGETS = {
  verifyVsPipeline: 3, // verify at least 3x faster than tar -xzf -O | sha256sum
  verifyVsFloor: 1.5, // verify at most 1.5x a bare gunzip pass in Node
  createVsTar: 1.2, // create at most 1.2x tar -czf
  verifyRssMiB: 200, // verify peak RSS below 200 MiB
  largeRssDrift: 0.2, // 4 GiB verify peak RSS within ±20% of the 1 GiB one
}

const SNAPSHOT_FLAGS = ['--case', 'bench', '--kind', 'telemetry', '--window-from', '2026-11-22T00:00:00Z', '--window-to', '2026-11-23T00:00:00Z', '--created-at', '2026-11-22T10:00:00Z', '--force']

function isOn(value) {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

const log = (message) => process.stderr.write(`${message}\n`)

// ---------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------

if (!existsSync(join(root, 'dist', 'commands'))) {
  log('dist/ is missing: run `npm run build` first.')
  process.exit(2)
}

for (const tool of [TIME, 'tar', 'sha256sum', 'bash']) {
  const found = tool.startsWith('/') ? existsSync(tool) : spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0
  if (!found) {
    log(`${tool} is needed and was not found (GNU time: apt-get install time).`)
    process.exit(2)
  }
}

mkdirSync(benchDir, {recursive: true})
// Scratch outputs live in scratch-PID and are removed on exit; the cached input and bundles stay.
// The run is synchronous, so Ctrl-C kills it at once: a dead run's scratch is removed by the next.
for (const name of readdirSync(benchDir)) {
  const pid = /^scratch-(\d+)$/.exec(name)?.[1]
  if (pid !== undefined && !isAlive(Number(pid))) rmSync(join(benchDir, name), {recursive: true, force: true})
}

const scratch = join(benchDir, `scratch-${process.pid}`)
mkdirSync(scratch, {recursive: true})
process.on('exit', () => rmSync(scratch, {recursive: true, force: true}))
const rssFile = join(scratch, 'rss')

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}
// A fresh config home: no user context, no colour.
const env = {...process.env, XDG_CONFIG_HOME: scratch, NO_COLOR: '1'}

/** Runs argv under GNU time; returns {ms, rssKiB}. Throws on a non-zero exit unless `allowFailure`. */
function run(argv, {allowFailure = false} = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(TIME, ['-f', '%M', '-o', rssFile, ...argv], {env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MIB})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.error) throw result.error
  if (result.status !== 0) {
    if (allowFailure) return {ms, rssKiB: NaN, status: result.status, output: `${result.stdout}${result.stderr}`}
    throw new Error(`${argv.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`)
  }

  const lines = readFileSync(rssFile, 'utf8').trim().split('\n')
  return {ms, rssKiB: Number(lines.at(-1)), status: 0, output: String(result.stdout)}
}

const stellaArgv = (...args) => [process.execPath, stella, ...args]

// ---------------------------------------------------------------------------------------
// Cached input data, keys and bundles
// ---------------------------------------------------------------------------------------

const formatBytes = (bytes) => (bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(1)} MiB`)
const readJson = (path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

function ensureKeys() {
  const prefix = join(benchDir, 'keys', 'bench')
  if (!existsSync(`${prefix}.pem`) || !existsSync(`${prefix}.pub.pem`)) {
    mkdirSync(dirname(prefix), {recursive: true})
    run(stellaArgv('keys', 'generate', '--out', prefix, '--force'))
  }

  const fingerprint = createHash('sha256').update(readFileSync(`${prefix}.pub.pem`)).digest('hex').slice(0, 16)
  return {privateKey: `${prefix}.pem`, publicKey: `${prefix}.pub.pem`, fingerprint}
}

/** The input directory of `scale` GiB, generated when missing or made by another generator version. */
function ensureInput(scale) {
  const dir = join(benchDir, `input-${scale}g`)
  const stampPath = `${dir}.stamp.json`
  const files = layout(scale)
  const stamp = {version: DATA_VERSION, scale, files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0)}
  const old = readJson(stampPath)
  if (old && JSON.stringify(old) === JSON.stringify(stamp) && existsSync(dir)) return {dir, stamp}

  rmSync(stampPath, {force: true})
  rmSync(dir, {recursive: true, force: true})
  log(`generating ${formatBytes(stamp.bytes)} of input in ${dir} (${files.length.toLocaleString('en-US')} files; seeded, cached for later runs)`)
  const started = Date.now()
  let lastReport = 0
  generate(dir, files, (done, total, filesDone, filesTotal) => {
    const now = Date.now()
    if (now - lastReport < 5000 && done < total) return
    lastReport = now
    const rate = done / MIB / Math.max(0.001, (now - started) / 1000)
    log(`  ${String(Math.floor((done / total) * 100)).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${filesDone.toLocaleString('en-US')}/${filesTotal.toLocaleString('en-US')} files  ${rate.toFixed(0)} MiB/s`)
  })
  log(`  generated in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  writeFileSync(stampPath, `${JSON.stringify(stamp)}\n`)
  return {dir, stamp}
}

/** The bundle of an input, built with the CLI when missing or stale. */
function ensureBundle(scale, input, keys, {rebuild = false} = {}) {
  const bundle = join(benchDir, `bundle-${scale}g.tgz`)
  const stampPath = `${bundle}.stamp.json`
  const stamp = {input: input.stamp, key: keys.fingerprint}
  const old = readJson(stampPath)
  if (!rebuild && old && JSON.stringify(old) === JSON.stringify(stamp) && existsSync(bundle)) return bundle

  rmSync(stampPath, {force: true})
  log(`creating ${bundle} with stella forensic snapshot create`)
  const result = run(stellaArgv('forensic', 'snapshot', 'create', '--from', input.dir, '--key', keys.privateKey, ...SNAPSHOT_FLAGS, '--out', bundle))
  log(`  ${formatBytes(statSync(bundle).size)} in ${(result.ms / 1000).toFixed(1)} s`)
  writeFileSync(stampPath, `${JSON.stringify(stamp)}\n`)
  return bundle
}

/** Verifies once; a cached bundle that no longer verifies (e.g. made by an older build) is rebuilt once. */
function verifiedBundle(scale, input, keys) {
  let bundle = ensureBundle(scale, input, keys)
  const first = run(stellaArgv('forensic', 'verify', bundle, '--key', keys.publicKey), {allowFailure: true})
  if (first.status === 0) return bundle
  log(`the cached bundle did not verify (exit ${first.status}); rebuilding it`)
  bundle = ensureBundle(scale, input, keys, {rebuild: true})
  run(stellaArgv('forensic', 'verify', bundle, '--key', keys.publicKey))
  return bundle
}

// ---------------------------------------------------------------------------------------
// Statistics and output
// ---------------------------------------------------------------------------------------

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`

function table(header, rows) {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => String(row[i] ?? '').length)))
  const line = (cells) => cells.map((cell, i) => (i === 0 ? String(cell ?? '').padEnd(widths[i]) : String(cell ?? '').padStart(widths[i]))).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

const keys = ensureKeys()
const input = ensureInput(1)
const bundle = verifiedBundle(1, input, keys)
const bundleBytes = statSync(bundle).size
const createOut = join(scratch, 'create.tgz')
const tarOut = join(scratch, 'tar.tgz')

const cases = [
  {id: 'verify', name: 'stella forensic verify B.tgz', argv: stellaArgv('forensic', 'verify', bundle, '--key', keys.publicKey)},
  {id: 'pipeline', name: 'tar -xzf B.tgz -O | sha256sum', argv: ['bash', '-c', 'set -o pipefail; tar -xzf "$1" -O | sha256sum', 'bash', bundle]},
  {id: 'floor', name: 'node zlib gunzip B.tgz (floor)', argv: [process.execPath, floorScript, bundle]},
  {id: 'create', name: 'stella forensic snapshot create', argv: stellaArgv('forensic', 'snapshot', 'create', '--from', input.dir, '--key', keys.privateKey, ...SNAPSHOT_FLAGS, '--out', createOut)},
  {id: 'tar', name: 'tar -czf OUT -C DIR .', argv: ['tar', '-czf', tarOut, '-C', input.dir, '.']},
]

const loadBefore = loadavg()[0]
const samples = new Map(cases.map((c) => [c.id, {ms: [], rss: []}]))
log(`warm-up round, then ${rounds} interleaved rounds of ${cases.length} commands`)
for (const c of cases) run(c.argv)
for (let round = 0; round < rounds; round++) {
  const started = Date.now()
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length]
    const {ms, rssKiB} = run(c.argv)
    samples.get(c.id).ms.push(ms)
    samples.get(c.id).rss.push(rssKiB)
  }

  log(`  round ${round + 1}/${rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

const loadAfter = loadavg()[0]
const stats = Object.fromEntries(cases.map((c) => {
  const s = samples.get(c.id)
  return [c.id, {median: median(s.ms), min: Math.min(...s.ms), rss: median(s.rss), rssMax: Math.max(...s.rss)}]
}))

// The 4 GiB bundle: verify's memory must not grow with the bundle.
let largeResult
if (large) {
  const largeInput = ensureInput(4)
  const largeBundle = ensureBundle(4, largeInput, keys)
  if (!keepLarge) {
    log(`removing ${largeInput.dir} (the bundle is all verify needs)`)
    rmSync(largeInput.dir, {recursive: true, force: true})
    rmSync(`${largeInput.dir}.stamp.json`, {force: true})
  }

  const argv = stellaArgv('forensic', 'verify', largeBundle, '--key', keys.publicKey)
  const runs = []
  log(`verifying the 4 GiB bundle ${largeRounds} times`)
  for (let i = 0; i < largeRounds; i++) runs.push(run(argv))
  largeResult = {
    bundleBytes: statSync(largeBundle).size,
    median: median(runs.map((r) => r.ms)),
    min: Math.min(...runs.map((r) => r.ms)),
    rss: median(runs.map((r) => r.rssKiB)),
    rssMax: Math.max(...runs.map((r) => r.rssKiB)),
  }
  if (!keepLarge) {
    rmSync(largeBundle, {force: true})
    rmSync(`${largeBundle}.stamp.json`, {force: true})
  }
}

rmSync(scratch, {recursive: true, force: true})

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

const verdicts = []
const verdict = (ok) => {
  verdicts.push(ok)
  return ok ? 'PASS' : 'MISS'
}

const v = stats.verify
const vsPipeline = v.median / stats.pipeline.median
const vsFloor = v.median / stats.floor.median
const createVsTar = stats.create.median / stats.tar.median
const rows = [
  [cases[0].name, seconds(v.median), seconds(v.min), mib(v.rss), `${vsPipeline.toFixed(2)}x of (2): ${(1 / vsPipeline).toFixed(2)}x faster`, `>= ${TARGETS.verifyVsPipeline}x faster`, verdict(1 / vsPipeline >= TARGETS.verifyVsPipeline)],
  ['', '', '', '', `${vsFloor.toFixed(2)}x of (3)`, `<= ${TARGETS.verifyVsFloor}x`, verdict(vsFloor <= TARGETS.verifyVsFloor)],
  [cases[1].name, seconds(stats.pipeline.median), seconds(stats.pipeline.min), mib(stats.pipeline.rss), 'baseline (2)', '', ''],
  [cases[2].name, seconds(stats.floor.median), seconds(stats.floor.min), mib(stats.floor.rss), 'baseline (3)', '', ''],
  [cases[3].name, seconds(stats.create.median), seconds(stats.create.min), mib(stats.create.rss), `${createVsTar.toFixed(2)}x of (5)`, `<= ${TARGETS.createVsTar}x`, verdict(createVsTar <= TARGETS.createVsTar)],
  [cases[4].name, seconds(stats.tar.median), seconds(stats.tar.min), mib(stats.tar.rss), 'baseline (5)', '', ''],
]

const memoryRows = [['verify peak RSS, 1 GiB', mib(v.rss), mib(v.rssMax), `< ${TARGETS.verifyRssMiB} MiB`, verdict(v.rss / 1024 < TARGETS.verifyRssMiB)]]
if (largeResult) {
  const drift = largeResult.rss / v.rss - 1
  memoryRows.push(
    ['verify peak RSS, 4 GiB', mib(largeResult.rss), mib(largeResult.rssMax), `< ${TARGETS.verifyRssMiB} MiB`, verdict(largeResult.rss / 1024 < TARGETS.verifyRssMiB)],
    ['4 GiB vs 1 GiB', `${drift >= 0 ? '+' : ''}${(drift * 100).toFixed(1)}%`, '', `within ±${TARGETS.largeRssDrift * 100}%`, verdict(Math.abs(drift) <= TARGETS.largeRssDrift)],
  )
}

const mix = layout(1)
console.log(`stella bench:verify, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${rounds} interleaved rounds (+1 warm-up), medians`)
console.log(`load average (1 min) ${loadBefore.toFixed(2)} before the rounds, ${loadAfter.toFixed(2)} after: figures are only comparable when it stays well below the core count`)
console.log(`input: ${formatBytes(input.stamp.bytes)} in ${mix.length.toLocaleString('en-US')} files (half incompressible, half OTLP-like); bundle ${formatBytes(bundleBytes)} (${(input.stamp.bytes / bundleBytes).toFixed(2)}:1)`)
console.log('')
console.log(table(['command', 'median', 'min', 'peak RSS', 'ratio vs baseline', 'target', 'result'], rows))
console.log('')
console.log(table(['memory (median of runs, /usr/bin/time %M)', 'median', 'max', 'target', 'result'], memoryRows))
if (largeResult) {
  console.log('')
  console.log(`4 GiB bundle (${formatBytes(largeResult.bundleBytes)}): verify median ${seconds(largeResult.median)}, min ${seconds(largeResult.min)} over ${largeRounds} runs; ` +
    `${((4 * GIB) / MIB / (largeResult.median / 1000)).toFixed(0)} MiB/s of content (1 GiB: ${(GIB / MIB / (v.median / 1000)).toFixed(0)} MiB/s)`)
}

const missed = verdicts.filter((ok) => !ok).length
console.log('')
console.log(missed === 0 ? `all ${verdicts.length} targets met` : `${missed} of ${verdicts.length} targets missed`)
if (missed > 0 && check) process.exitCode = 1
