#!/usr/bin/env node
// The local-telemetry targets, each against a baseline measured in the same run:
//   1. `stella obs trace <id> --from DIR` over 1 GiB of Collector JSON lines: at most 2x
//      `grep -c <id>` over the same files (whole commands, warm page cache, interleaved rounds).
//   2. `stella telemetry capture --from DIR` of the same 1 GiB into a signed bundle: peak RSS
//      under 200 MiB (/usr/bin/time %M).
//   3. Receiver ingest (bench/otlp-receiver.js): >= 100,000 spans/s and >= 50% of a bare
//      node:http server, both with concurrent protobuf senders.
// It also runs bench/otlp-files.js (the reader in-process against grep) and bench/otlp-decode.js
// (the decoder against @bufbuild/protobuf), whose data and figures the targets rest on.
//
//   npm run bench:otlp                   (after `npm run build`)
//   node bench/otlp.js --check           exit 1 if a target is missed
//
// Environment: BENCH_RUNS=5 (rounds for the whole-command comparison); the scripts it runs read
// their own settings (see their headers).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stella = join(root, 'bin/run.js')
const check = process.argv.includes('--check')
const runs = Number(process.env.BENCH_RUNS ?? 5)
const filesDir = process.env.BENCH_DIR ?? join(tmpdir(), 'stella-bench-otlp-files')
const results = []

function run(command, args, options = {}) {
  const result = spawnSync(command, args, {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options})
  if (result.error) throw result.error
  return result
}

/** Wall seconds and peak RSS (MiB) of one command, stdout discarded. */
function timed(command, args) {
  const result = run('/usr/bin/time', ['-f', '%e %M', command, ...args], {stdio: ['ignore', 'ignore', 'pipe']})
  const last = result.stderr.trim().split('\n').at(-1)
  const [seconds, kib] = last.split(' ').map(Number)
  if (!Number.isFinite(seconds)) throw new Error(`could not time ${command} ${args.join(' ')}:\n${result.stderr}`)
  return {seconds, rssMiB: kib / 1024, status: result.status}
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function section(title, script) {
  console.log(`\n== ${title}: node ${script}`)
  const result = run(process.execPath, [join(root, script)], {stdio: ['ignore', 'pipe', 'inherit']})
  process.stdout.write(result.stdout)
  return result.stdout
}

// The reader in-process; it also generates (or reuses) the 1 GiB of JSON lines.
section('reader against grep', 'bench/otlp-files.js')
const dataDir = join(filesDir, readdirSync(filesDir).find((name) => /^v\d+$/.test(name)))
const stamp = JSON.parse(readFileSync(`${dataDir}.stamp.json`, 'utf8'))
const files = stamp.files.map((name) => join(dataDir, name))

// 1. Whole commands.
console.log(`\n== obs trace against grep -c, whole commands, ${runs} interleaved rounds after a warm-up`)
const trace = [stella, 'obs', 'trace', stamp.traceId, '--from', dataDir]
const grep = ['grep', '-c', stamp.traceId, ...files]
timed(trace[0], trace.slice(1))
timed(grep[0], grep.slice(1))
const traceTimes = []
const grepTimes = []
for (let round = 0; round < runs; round++) {
  const a = timed(trace[0], trace.slice(1))
  if (a.status !== 0) throw new Error('stella obs trace failed on the bench data')
  traceTimes.push(a.seconds)
  grepTimes.push(timed(grep[0], grep.slice(1)).seconds)
}

const traceRatio = median(traceTimes) / median(grepTimes)
console.log(`stella obs trace <id> --from DIR   median ${median(traceTimes).toFixed(2)} s  (${traceTimes.map((t) => t.toFixed(2)).join(' ')})`)
console.log(`grep -c <id> FILES...              median ${median(grepTimes).toFixed(2)} s  (${grepTimes.map((t) => t.toFixed(2)).join(' ')})`)
results.push({name: 'obs trace vs grep -c (1 GiB JSON lines)', figure: `${traceRatio.toFixed(2)}x`, target: '<= 2x', pass: traceRatio <= 2})

// 2. Capture memory.
console.log('\n== telemetry capture --from DIR (1 GiB of JSON lines) into a signed bundle')
const scratch = mkdtempSync(join(tmpdir(), 'stella-bench-otlp-'))
try {
  // `keys generate --out NAME` writes NAME.pem and NAME.pub.pem.
  run(stella, ['keys', 'generate', '--out', join(scratch, 'capture')])
  const key = join(scratch, 'capture.pem')
  const capture = timed(stella, ['telemetry', 'capture', '--from', dataDir, '--since', '2000-01-01T00:00:00Z', '--until', '2100-01-01T00:00:00Z', '--key', key, '--out', join(scratch, 'capture.tgz')])
  if (capture.status !== 0) throw new Error('stella telemetry capture failed on the bench data')
  console.log(`capture: ${capture.seconds.toFixed(1)} s, peak RSS ${capture.rssMiB.toFixed(1)} MiB`)
  results.push({name: 'capture peak RSS (1 GiB input)', figure: `${capture.rssMiB.toFixed(1)} MiB`, target: '< 200 MiB', pass: capture.rssMiB < 200})
} finally {
  rmSync(scratch, {recursive: true, force: true})
}

// 3. Receiver ingest.
const receiver = section('receiver ingest', 'bench/otlp-receiver.js')
const spans = Number(/stella receiver[^\n]*?([\d,]+) spans\/s/.exec(receiver)?.[1]?.replaceAll(',', ''))
const share = Number(/ratio (\d+)% of the bare server/.exec(receiver)?.[1])
results.push({name: 'receiver ingest', figure: `${spans.toLocaleString('en-US')} spans/s`, target: '>= 100,000 spans/s', pass: spans >= 100_000})
results.push({name: 'receiver vs bare node:http', figure: `${share}%`, target: '>= 50%', pass: share >= 50})

section('decoder against @bufbuild/protobuf', 'bench/otlp-decode.js')

console.log('\n== summary')
for (const result of results) console.log(`${result.name.padEnd(42)} ${result.figure.padStart(18)}  ${result.target.padEnd(20)} ${result.pass ? 'PASS' : 'MISS'}`)
const missed = results.filter((result) => !result.pass).length
console.log(missed === 0 ? 'every target met' : `${missed} of ${results.length} targets missed`)
if (check && missed > 0) process.exitCode = 1
