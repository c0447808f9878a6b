/**
 * `stella telemetry capture` through the built CLI: from Collector file-exporter output with a
 * window, by listening for OTLP/HTTP, and from the contract server's forensic export.
 */
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {readOtlpInputs} from '../../src/lib/otlp/files.js'
import {decode} from '../../src/lib/otlp/index.js'
import type {LogRecordOtlp, MetricRecord, Signal, SpanRecord} from '../../src/lib/otlp/types.js'
import {type ContractServer, SERVER_PUBLIC_KEY_PATH, TOKENS, startContractServer} from '../contract-server/index.js'
import {TEST_KEY, TEST_PUBLIC_KEY} from '../helpers/bundle-fixtures.js'
import {runCli, scratchDir, spawnCli} from '../helpers/cli.js'
import {gaugeProto, lengthPrefixed, logsJsonLine, type SpanSpec, tracesJsonLine, tracesProto} from '../helpers/otlp-data.js'

const T0 = Date.parse('2026-11-22T10:00:00Z')
const MIN = 60_000
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const span = (spanId: string, name: string, startMs: number): SpanSpec => ({traceId: TRACE, spanId, name, startMs, endMs: startMs + 1000})

/** The one message of traces.pb that lies wholly in the window: it must reach the bundle byte for byte. */
const WHOLLY_INSIDE = tracesProto('inventory', [span('c000000000000002', 'window start', T0), span('c000000000000001', 'C1', T0 + 40 * MIN)])

let home: {path: string; cleanup: () => void}
let collector: string
beforeAll(() => {
  home = scratchDir('stella-capture-')
  collector = join(home.path, 'collector')
  mkdirSync(collector)
  writeFileSync(
    join(collector, 'traces.jsonl'),
    tracesJsonLine('checkout', [span('a000000000000001', 'A1', T0 + 10 * MIN), span('a000000000000002', 'A2', T0 + 20 * MIN)]) +
      tracesJsonLine('checkout', [span('b000000000000001', 'B1 before', T0 - 60 * MIN), span('b000000000000002', 'B2', T0 + 30 * MIN)]),
  )
  writeFileSync(join(collector, 'traces.pb'), lengthPrefixed([WHOLLY_INSIDE, tracesProto('inventory', [span('d000000000000001', 'window end', T0 + 60 * MIN)])]))
  writeFileSync(
    join(collector, 'logs.jsonl.gz'),
    gzipSync(logsJsonLine('checkout', [
      {timeMs: T0 + 5 * MIN, severityText: 'INFO', body: 'L1'},
      {timeMs: T0 - 5 * MIN, severityText: 'WARN', body: 'L2 before'},
      {timeMs: T0 + 59 * MIN, severityText: 'ERROR', body: 'L3'},
    ])),
  )
  writeFileSync(join(collector, 'metrics.pb'), lengthPrefixed([gaugeProto('checkout', 'queue.depth', [T0 + MIN, T0 + 2 * MIN]), gaugeProto('checkout', 'late.gauge', [T0 + 120 * MIN])]))
})
afterAll(() => home.cleanup())

let work: {path: string; cleanup: () => void}
beforeEach(() => {
  work = scratchDir('stella-capture-out-')
})
afterEach(() => work.cleanup())

const capture = (args: string[], env?: Record<string, string>) => runCli(['telemetry', 'capture', ...args], {home: work.path, ...(env ? {env} : {})})
const WINDOW = ['--since', '2026-11-22T10:00:00Z', '--until', '2026-11-22T11:00:00Z']

/** The records of a bundle (or any OTLP input), decoded, per signal. */
async function contents(path: string): Promise<{traces: SpanRecord[]; logs: LogRecordOtlp[]; metrics: MetricRecord[]; messages: {signal: Signal; bytes: Uint8Array}[]}> {
  const found = {traces: [] as SpanRecord[], logs: [] as LogRecordOtlp[], metrics: [] as MetricRecord[], messages: [] as {signal: Signal; bytes: Uint8Array}[]}
  for await (const message of readOtlpInputs([path])) {
    found.messages.push({signal: message.signal, bytes: message.bytes})
    ;(found[message.signal] as unknown[]).push(...decode(message.signal, message.format, message.bytes))
  }

  return found
}

describe('telemetry capture --from (Collector file-exporter output)', () => {
  it('keeps the records inside the window, and writes a signed telemetry bundle that verifies', async () => {
    const out = join(work.path, 'inc-7.tgz')
    const r = await capture(['--from', collector, ...WINDOW, '--key', TEST_KEY, '--case', 'inc-7', '--out', out])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe(`bundle:    ${out}`)
    expect(lines[1]).toMatch(/^bundle id: eb_[0-9A-Z]{26}$/)
    expect(lines.slice(3, 6)).toEqual(['case:      inc-7', 'window:    2026-11-22T10:00:00.000Z .. 2026-11-22T11:00:00.000Z', 'source:    files (7 messages read)'])
    // BYTES holds the sizes of the otlp/ files, which depend on the encoding; the rest is exact.
    expect(lines.slice(9).map((line) => line.replace(/ {2}[\d,]+( +)(\d+)$/, (_all, gap: string, outside: string) => `  #${gap}${outside}`))).toEqual([
      '',
      'SIGNAL   RECORDS        MESSAGES  BYTES  OUTSIDE WINDOW',
      'traces   5 spans        3         #    2',
      'logs     2 log records  1         #    1',
      'metrics  2 data points  1         #    1',
      '',
    ])

    const verified = await runCli(['forensic', 'verify', out, '--key', TEST_PUBLIC_KEY], {home: work.path})
    expect(verified.status).toBe(0)

    const found = await contents(out)
    expect(found.traces.map((s) => s.name)).toEqual(['A1', 'A2', 'B2', 'window start', 'C1'])
    expect(found.logs.map((l) => l.body)).toEqual([
      {kind: 'string', value: 'L1'},
      {kind: 'string', value: 'L3'},
    ])
    expect(found.metrics.map((m) => m.name)).toEqual(['queue.depth'])
    // A protobuf message wholly in the window is copied as it was written.
    expect(found.messages.some((message) => Buffer.from(message.bytes).equals(WHOLLY_INSIDE))).toBe(true)
    expect(readdirSync(work.path)).toEqual(['inc-7.tgz'])
  })

  it('records the window and the case in the manifest, and answers in JSON', async () => {
    const out = join(work.path, 'slice.tgz')
    const r = await capture(['--from', join(collector, 'traces.*'), ...WINDOW, '--key', TEST_KEY, '--out', out, '--json'])
    expect(r.status).toBe(0)
    const {status, result, warnings} = JSON.parse(r.stdout)
    expect({status, warnings}).toEqual({status: 0, warnings: []})
    expect(result).toMatchObject({
      source: 'files',
      out,
      caseId: 'telemetry-capture',
      window: {from: '2026-11-22T10:00:00.000Z', to: '2026-11-22T11:00:00.000Z'},
      signals: {traces: {records: 5, messages: 3}, logs: {records: 0, messages: 0, bytes: 0}, metrics: {records: 0, messages: 0, bytes: 0}},
      outsideWindow: {traces: 2, logs: 0, metrics: 0},
      messagesRead: 4,
      fileCount: 1,
    })

    const shown = JSON.parse((await runCli(['forensic', 'snapshot', 'show', out, '--json'], {home: work.path})).stdout).result.manifest
    expect(shown).toMatchObject({
      kind: 'telemetry',
      caseId: 'telemetry-capture',
      tenant: 'local',
      window: {from: '2026-11-22T10:00:00.000Z', to: '2026-11-22T11:00:00.000Z'},
      subject: {type: 'telemetry', id: 'files/2026-11-22T10:00:00.000Z/2026-11-22T11:00:00.000Z'},
      bundleId: result.bundleId,
    })
    expect(shown.files.map((file: {path: string}) => file.path)).toEqual(['otlp/traces.pb'])
  })

  it('--window is the last DURATION until now', async () => {
    const now = Date.now()
    const input = join(work.path, 'recent.jsonl')
    writeFileSync(input, tracesJsonLine('api', [span('e000000000000001', 'half an hour ago', now - 30 * MIN), span('e000000000000002', 'three hours ago', now - 180 * MIN)]))
    const out = join(work.path, 'recent.tgz')
    const r = await capture(['--from', input, '--window', '2h', '--key', TEST_KEY, '--out', out, '--json'])
    expect(r.status).toBe(0)
    const {result} = JSON.parse(r.stdout)
    expect([result.signals.traces.records, result.outsideWindow.traces]).toEqual([1, 1])
    expect(Date.parse(result.window.to) - Date.parse(result.window.from)).toBe(2 * 60 * MIN)
    expect((await contents(out)).traces.map((s) => s.name)).toEqual(['half an hour ago'])
  })

  it('writes a bundle with no OTLP files, and says so, when nothing falls inside the window', async () => {
    const out = join(work.path, 'empty.tgz')
    const r = await capture(['--from', collector, '--since', '2020-01-01T00:00:00Z', '--until', '2020-01-02T00:00:00Z', '--key', TEST_KEY, '--out', out, '--json'])
    expect(r.status).toBe(0)
    const envelope = JSON.parse(r.stdout)
    expect(envelope.warnings).toEqual(['the bundle holds no telemetry: no record in the inputs falls inside the window'])
    expect(envelope.result).toMatchObject({fileCount: 0, outsideWindow: {traces: 7, logs: 3, metrics: 3}})
    expect((await runCli(['forensic', 'verify', out, '--key', TEST_PUBLIC_KEY], {home: work.path})).status).toBe(0)
  })

  it('refuses to replace --out without --force, and replaces it with --force', async () => {
    const out = join(work.path, 'taken.tgz')
    writeFileSync(out, 'precious')
    const refused = await capture(['--from', collector, ...WINDOW, '--key', TEST_KEY, '--out', out])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toBe(`Error: ${out} already exists\nHint: Choose another path, or pass --force to replace it.\n`)
    expect(readFileSync(out, 'utf8')).toBe('precious')
    const forced = await capture(['--from', collector, ...WINDOW, '--key', TEST_KEY, '--out', out, '--force'])
    expect(forced.status).toBe(0)
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
    expect(readdirSync(work.path)).toEqual(['taken.tgz'])
  })

  it('never writes over a directory, an input or a key, --force or not (exit 2)', async () => {
    const dir = join(work.path, 'exports')
    mkdirSync(dir)
    const intoDir = await capture(['--from', collector, ...WINDOW, '--key', TEST_KEY, '--out', dir, '--force'])
    expect(intoDir.status).toBe(2)
    expect(intoDir.stderr).toBe(`Error: ${dir} is a directory\nHint: Give the path of a file to write, e.g. ${join(dir, 'out.tgz')}.\n`)

    const input = join(work.path, 'traces.jsonl')
    writeFileSync(input, readFileSync(join(collector, 'traces.jsonl')))
    const key = join(work.path, 'capture.pem')
    writeFileSync(key, readFileSync(TEST_KEY))
    for (const [out, what] of [[input, 'an input'], [key, 'a --key']] as const) {
      const r = await capture(['--from', input, ...WINDOW, '--key', key, '--out', out, '--force'])
      expect(r.status, out).toBe(2)
      expect(r.stderr, out).toBe(`Error: ${out} is ${what} (${out}): writing there would destroy it\nHint: Write the output to another path.\n`)
    }

    expect(readFileSync(input)).toEqual(readFileSync(join(collector, 'traces.jsonl')))
    expect(readFileSync(key)).toEqual(readFileSync(TEST_KEY))
    expect(readdirSync(work.path).sort()).toEqual(['capture.pem', 'exports', 'traces.jsonl'])
    expect(readdirSync(dir)).toEqual([])
  })

  it('leaves nothing behind when an input is malformed (exit 3)', async () => {
    const bad = join(work.path, 'bad.jsonl')
    writeFileSync(bad, `${tracesJsonLine('api', [span('f000000000000001', 'fine', T0 + MIN)])}{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 42}]}]}]}\n`)
    const out = join(work.path, 'never.tgz')
    const r = await capture(['--from', bad, ...WINDOW, '--key', TEST_KEY, '--out', out])
    expect(r.status).toBe(3)
    expect(r.stderr).toMatch(new RegExp(`^Error: ${bad.replaceAll('.', '\\.')}: the OTLP/JSON message at offset \\d+ is not a valid traces export request: `))
    expect(readdirSync(work.path)).toEqual(['bad.jsonl'])
  })

  it('verifies a bundle among the inputs before any of its records is used, and never signs altered evidence again', async () => {
    const first = join(work.path, 'first.tgz')
    expect((await capture(['--from', collector, ...WINDOW, '--key', TEST_KEY, '--out', first])).status).toBe(0)

    // Its content checked, its signer not: said in a warning.
    const again = join(work.path, 'again.tgz')
    const unsigned = await capture(['--from', first, ...WINDOW, '--key', TEST_KEY, '--out', again])
    expect(unsigned.status).toBe(0)
    expect(unsigned.stderr).toBe(`Warning: ${first}: its files match its manifest, but who signed it was not checked (no --verify-key); its records are now signed with --key\n`)
    expect((await contents(again)).traces.map((s) => s.name)).toEqual(['A1', 'A2', 'B2', 'window start', 'C1'])

    const trusted = join(work.path, 'trusted.tgz')
    const signed = await capture(['--from', first, ...WINDOW, '--key', TEST_KEY, '--verify-key', TEST_PUBLIC_KEY, '--out', trusted])
    expect(signed.stderr).toBe('')
    expect(signed.status).toBe(0)

    // Signed by someone else than --verify-key: refused, nothing written.
    const stranger = await capture(['--from', first, ...WINDOW, '--key', TEST_KEY, '--verify-key', SERVER_PUBLIC_KEY_PATH, '--out', join(work.path, 'stranger.tgz')])
    expect(stranger.status).toBe(1)
    expect(stranger.stderr).toMatch(new RegExp(`^Error: ${first.replaceAll('.', '\\.')} does not verify \\(signatures: .+\\); none of its records were used\n`))

    // One byte of a span name changed inside: refused by capture, obs trace and obs logs alike.
    const tar = gunzipSync(readFileSync(first))
    const at = tar.indexOf('window start')
    expect(at).toBeGreaterThan(0)
    tar[at] = 'W'.charCodeAt(0)
    const tampered = join(work.path, 'tampered.tgz')
    writeFileSync(tampered, gzipSync(tar))
    const why = new RegExp(`^Error: ${tampered.replaceAll('.', '\\.')} does not verify \\(files: otlp/traces\\.pb differs: .+; merkle: .+\\); none of its records were used\nHint: See \`stella forensic verify ${tampered.replaceAll('.', '\\.')} --key …\` for the full report, and use only bundles that verify\\.\n$`)
    const refused = await capture(['--from', tampered, ...WINDOW, '--key', TEST_KEY, '--out', join(work.path, 'laundered.tgz')])
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(why)
    for (const view of [['obs', 'trace', TRACE, '--from', tampered], ['obs', 'logs', '--from-file', tampered]]) {
      const r = await runCli(view, {home: work.path})
      expect(r.status, view.join(' ')).toBe(1)
      expect(r.stdout, view.join(' ')).toBe('')
      expect(r.stderr, view.join(' ')).toMatch(why)
    }

    expect(readdirSync(work.path).sort()).toEqual(['again.tgz', 'first.tgz', 'tampered.tgz', 'trusted.tgz'])
  })

  it('says what is missing or wrong on the command line (exit 2)', async () => {
    const out = join(work.path, 'x.tgz')
    const cases: [string[], string][] = [
      [['--from', collector, '--key', TEST_KEY, '--out', out], 'Error: say which time window to capture\nHint: Pass --window DURATION (e.g. --window 24h), or --since TIME [--until TIME].\n'],
      [['--from', collector, ...WINDOW, '--out', out], 'Error: a capture is signed, and no --key was given\nHint: Pass --key with an Ed25519 private key, e.g. --key capture.pem (create one with `stella keys generate`).\n'],
      [['--from', collector, '--since', 'yesterday', '--key', TEST_KEY, '--out', out], 'Error: invalid --since "yesterday": not an RFC 3339 time or a duration\nHint: Give an RFC 3339 time such as 2026-11-22T10:00:00Z, or a duration ago such as 90m or 2h.\n'],
      [['--listen', '4318', '--window', '1h', '--key', TEST_KEY, '--out', out], 'Error: --window is not for --listen: the window of a live capture is the time it listened\nHint: Drop it, or choose the other form.\n'],
      [['--from', collector, '--window', '1h', '--duration', '5m', '--key', TEST_KEY, '--out', out], 'Error: --duration is only for --listen\nHint: Drop it, or choose the other form.\n'],
      [['--listen', 'collector:http', '--key', TEST_KEY, '--out', out], 'Error: --listen "collector:http" is not [host:]port\nHint: e.g. --listen 4318, --listen 127.0.0.1:4318, or --listen 0.0.0.0:4318 --allow-non-loopback.\n'],
      [['--listen', '0', '--verify-key', TEST_PUBLIC_KEY, '--key', TEST_KEY, '--out', out], 'Error: --verify-key is only for --from\nHint: Drop it, or choose the other form.\n'],
      [['--from', collector, '--window', '0s', '--key', TEST_KEY, '--out', out], 'Error: --window 0 captures nothing\nHint: Give a duration longer than 0, e.g. --window 15m.\n'],
      [['--listen', '0', '--duration', '0m', '--key', TEST_KEY, '--out', out], 'Error: --duration 0 captures nothing\nHint: Give a duration longer than 0, e.g. --duration 15m.\n'],
    ]
    for (const [args, stderr] of cases) {
      const r = await capture(args)
      expect(r.stderr, args.join(' ')).toBe(stderr)
      expect(r.status, args.join(' ')).toBe(2)
    }

    expect(readdirSync(work.path)).toEqual([])
  })
})

describe('telemetry capture --listen', () => {
  it('records what arrives until --duration has passed, then writes the bundle', async () => {
    const out = join(work.path, 'live.tgz')
    const child = spawnCli(['telemetry', 'capture', '--listen', '127.0.0.1:0', '--duration', '1500ms', '--key', TEST_KEY, '--out', out, '--json'], {home: work.path})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    const url = await new Promise<string>((resolve) =>
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk
        const match = /Listening for OTLP\/HTTP on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr)
        if (match) resolve(match[1]!)
      }),
    )
    const body = tracesProto('live', [span('1100000000000001', 'live one', T0), span('1100000000000002', 'live two', T0 + 1)])
    const response = await fetch(`${url}/v1/traces`, {method: 'POST', headers: {'content-type': 'application/x-protobuf'}, body})
    expect(response.status).toBe(200)
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(status).toBe(0)
    expect(stderr).toBe(`Listening for OTLP/HTTP on ${url} (POST /v1/traces, /v1/logs, /v1/metrics), for 1s500ms or until Ctrl-C.\n`)
    const {result} = JSON.parse(stdout)
    expect(result).toMatchObject({
      source: 'listen',
      signals: {traces: {records: 2, messages: 1, bytes: body.byteLength + 4}},
      listen: {url, stoppedBy: 'duration', receiver: {traces: {requests: 1, accepted: 2, rejected: 0}}},
    })
    expect(result.listen.durationMs).toBeGreaterThanOrEqual(1500)
    expect(Date.parse(result.window.to) - Date.parse(result.window.from)).toBe(result.listen.durationMs)
    // What arrived as protobuf is stored as it came.
    expect((await contents(out)).messages.map((message) => Buffer.from(message.bytes).equals(body))).toEqual([true])
    expect((await runCli(['forensic', 'verify', out, '--key', TEST_PUBLIC_KEY], {home: work.path})).status).toBe(0)
  })

  it('refuses an address that is not loopback without --allow-non-loopback', async () => {
    const r = await capture(['--listen', '0.0.0.0:0', '--key', TEST_KEY, '--out', join(work.path, 'x.tgz'), '--json'])
    expect(r.status).toBe(2)
    expect(JSON.parse(r.stdout).error.code).toBe('RECEIVER_NOT_LOOPBACK')
    expect(readdirSync(work.path)).toEqual([])
  })
})

describe('telemetry capture from the server', () => {
  let contract: ContractServer
  beforeAll(async () => {
    contract = await startContractServer()
  })
  afterAll(() => contract.close())
  beforeEach(() => {
    contract.requests.length = 0
    contract.clearFaults()
    contract.state.exportContentLength = false
  })

  const remote = () => ['--server', contract.url, '--tenant', 'acme', '--token', TOKENS.acmeAdmin]

  it('streams the forensic export, verifies it, and saves it', async () => {
    const out = join(work.path, 'export.tgz')
    const r = await capture(['--window', '24h', '--key', SERVER_PUBLIC_KEY_PATH, '--out', out, '--json', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const {result} = JSON.parse(r.stdout)
    expect(contract.requests.map((request) => [request.method, request.path, request.query])).toEqual([['GET', '/telemetry/exports/forensic/24h', {}]])
    const found = await contents(out)
    expect(result).toMatchObject({
      source: 'server',
      out,
      caseId: 'telemetry-export',
      signals: {traces: {records: found.traces.length}, logs: {records: found.logs.length}, metrics: {records: 0, messages: 0}},
      verification: {ok: true},
      download: {resumes: 0, restarts: 0},
    })
    expect(found.traces.length).toBeGreaterThan(0)
    expect(found.logs.length).toBeGreaterThan(0)
    expect(Date.parse(result.window.to) - Date.parse(result.window.from)).toBe(24 * 60 * MIN)
    expect((await runCli(['forensic', 'verify', out, '--key', SERVER_PUBLIC_KEY_PATH], {home: work.path})).status).toBe(0)
  })

  it('asks for a fixed window and a case, and resumes a download that broke off', async () => {
    contract.state.exportContentLength = true
    contract.inject('GET /telemetry/exports/forensic/*', {dropAfterBytes: 1024}, {times: 1})
    const out = join(work.path, 'custom.tgz')
    const to = new Date(contract.state.anchor.getTime()).toISOString()
    const from = new Date(contract.state.anchor.getTime() - 6 * 60 * MIN).toISOString()
    const r = await capture(['--since', from, '--until', to, '--case', 'inc-7', '--key', SERVER_PUBLIC_KEY_PATH, '--out', out, '--json', ...remote()])
    expect(r.status).toBe(0)
    expect(contract.requests[0]).toMatchObject({path: '/telemetry/exports/forensic/custom', query: {from, to, caseId: 'inc-7'}})
    const {result} = JSON.parse(r.stdout)
    expect(result).toMatchObject({caseId: 'inc-7', window: {from, to}, download: {resumes: 1}})
  })

  it('saves nothing when the export does not verify against --key (exit 1)', async () => {
    const out = join(work.path, 'untrusted.tgz')
    const r = await capture(['--window', '24h', '--key', TEST_PUBLIC_KEY, '--out', out, ...remote()])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/^Error: the telemetry export from the server failed verification \(signatures: .*\); it was not saved\n/)
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(work.path)).toEqual([])
  })

  it('takes windows in whole minutes only', async () => {
    const r = await capture(['--window', '90s', '--key', SERVER_PUBLIC_KEY_PATH, '--out', join(work.path, 'x.tgz'), ...remote()])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('Error: the server takes a --window in whole minutes, hours or days (15m, 24h, 7d)\nHint: Round --window to whole minutes, or give --since and --until.\n')
    expect(contract.requests).toEqual([])
  })
})
