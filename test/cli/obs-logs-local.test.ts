/**
 * `stella obs logs` over local OTLP: Collector JSON lines and length-prefixed protobuf, directories,
 * globs and telemetry bundles give what the server gives for the same filters.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {resourceLogsOf} from '../contract-server/otlp-json.js'
import {encodeLogsRequest, lengthPrefixed} from '../contract-server/otlp-proto.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'

let server: ContractServer
let home: {path: string; cleanup: () => void}

beforeAll(async () => {
  server = await startContractServer()
})
afterAll(async () => server.close())
beforeEach(() => {
  home = scratchDir()
  server.requests.length = 0
})
afterEach(() => home.cleanup())

const remote = () => ['--server', server.url, '--tenant', 'acme', '--token', TOKENS.acmeAdmin]
const stella = (args: string[]) => runCli(args, {home: home.path})
const acme = () => server.state.tenants.acme
const iso = (ms: number) => new Date(ms).toISOString()
const FIXTURES = join(projectRoot, 'test', 'fixtures', 'otlp', 'traces')

function file(name: string, content: string | Uint8Array): string {
  const path = join(home.path, name)
  mkdirSync(join(path, '..'), {recursive: true})
  writeFileSync(path, content)
  return path
}

/** The tenant's logs as the Collector's file exporter writes them: 100 records per export request, newest batch first. */
function collectorFiles(): {jsonLines: string; proto: string} {
  const batches: ReturnType<typeof resourceLogsOf>[] = []
  for (let start = 0; start < acme().logs.length; start += 100) batches.push(resourceLogsOf(acme().logs.slice(start, start + 100)))
  batches.reverse()
  return {
    jsonLines: file('collector/logs.jsonl', batches.map((batch) => JSON.stringify({resourceLogs: batch})).join('\n') + '\n'),
    proto: file('collector/logs.pb', lengthPrefixed(batches.map((batch) => encodeLogsRequest(batch)))),
  }
}

async function telemetryBundle(): Promise<string> {
  const response = await fetch(`${server.url}/telemetry/exports/forensic/24h`, {headers: {authorization: `Bearer ${TOKENS.acmeAdmin}`, 'x-stella-tenant': 'acme'}})
  expect(response.status).toBe(200)
  return file('telemetry.tgz', Buffer.from(await response.arrayBuffer()))
}

describe('stella obs logs over local OTLP', () => {
  it('Collector JSON lines, protobuf and a telemetry bundle give what the server gives', async () => {
    const anchor = server.state.anchor.getTime()
    const {jsonLines, proto} = collectorFiles()
    const bundle = await telemetryBundle()
    for (const filters of [
      ['--from', iso(anchor - 20 * 3_600_000), '--to', iso(anchor - 2 * 3_600_000), '--level', 'warn', '--all'],
      ['--from', iso(anchor - 24 * 3_600_000), '--to', iso(anchor), '--service', 'api-gateway', '-q', 'Request', '--limit', '5'],
      ['--trace-id', acme().traces[1]!.traceId.toUpperCase()],
    ]) {
      const remoteRun = await stella(['obs', 'logs', ...filters, '--json', ...remote()])
      expect(remoteRun.status).toBe(0)
      expect(JSON.parse(remoteRun.stdout).result.length).toBeGreaterThan(0)
      for (const input of [jsonLines, proto, bundle]) {
        const localRun = await stella(['obs', 'logs', ...filters, '--json', '--from-file', input])
        expect(localRun.stderr, `${input} ${filters.join(' ')}`).toBe('')
        expect(localRun.stdout, `${input} ${filters.join(' ')}`).toBe(remoteRun.stdout)
      }
    }
  })

  it('prints OTLP records one line each, like the server', async () => {
    const r = await stella(['obs', 'logs', '--from-file', join(FIXTURES, 'checkout.pb'), '--no-color'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(
      [
        '2026-11-18T11:06:40.005000Z  WARN   api-gateway           4bf92f35  request has no tenant header',
        '2026-11-18T11:06:40.026500Z  INFO   policy-engine         4bf92f35  load rules started',
        '2026-11-18T11:06:40.439500Z  ERROR  evidence-store        4bf92f35  connect ECONNREFUSED evidence-store:5432',
        '2026-11-18T11:06:40.600500Z  INFO   api-gateway           0af76519  health check passed',
        '',
      ].join('\n'),
    )
    const json = await stella(['obs', 'logs', '--from-file', join(FIXTURES, 'checkout.jsonl'), '--trace-id', '4bf92f3577b34da6a3ce929d0e0e4736', '-q', 'rules', '--json'])
    expect(JSON.parse(json.stdout).result).toEqual([
      {
        timeUnixNano: '1795000000026500000',
        observedTimeUnixNano: '1795000000028500000',
        severityNumber: 9,
        severityText: 'INFO',
        body: {stringValue: 'load rules started'},
        attributes: [{key: 'policy', value: {stringValue: 'policy-1'}}],
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: 'd100000000000000',
        resource: {attributes: [{key: 'service.name', value: {stringValue: 'policy-engine'}}, {key: 'service.version', value: {stringValue: '1.9.0'}}]},
        scope: {name: 'stellaops.test', version: '1.0.0'},
      },
    ])
  })

  it('--until and --grep are --to and --query by other names', async () => {
    const anchor = server.state.anchor.getTime()
    const window = ['--from', iso(anchor - 20 * 3_600_000)]
    const spelled = await stella(['obs', 'logs', ...window, '--until', iso(anchor - 2 * 3_600_000), '--grep', 'queue', '--json', ...remote()])
    const plain = await stella(['obs', 'logs', ...window, '--to', iso(anchor - 2 * 3_600_000), '--query', 'queue', '--json', ...remote()])
    expect(spelled.status).toBe(0)
    expect(JSON.parse(spelled.stdout).result.length).toBeGreaterThan(0)
    expect(spelled.stdout).toBe(plain.stdout)
    expect(server.requests[0]!.query).toEqual(server.requests[1]!.query)
    expect(server.requests[0]!.query).toMatchObject({to: iso(anchor - 2 * 3_600_000), q: 'queue'})
  })

  it('--since takes a time or a duration, and runs until --until (or now)', async () => {
    const input = join(FIXTURES, 'checkout.jsonl')
    const bounded = await stella(['obs', 'logs', '--from-file', input, '--since', '2026-11-18T11:06:40.020Z', '--until', '2026-11-18T11:06:40.500Z', '--no-color'])
    expect(bounded.stderr).toBe('')
    expect(bounded.stdout).toBe(
      [
        '2026-11-18T11:06:40.026500Z  INFO   policy-engine         4bf92f35  load rules started',
        '2026-11-18T11:06:40.439500Z  ERROR  evidence-store        4bf92f35  connect ECONNREFUSED evidence-store:5432',
        '',
      ].join('\n'),
    )
    const fixed = await stella(['obs', 'logs', '--from-file', input, '--from', '2026-11-18T11:06:40.020Z', '--to', '2026-11-18T11:06:40.500Z', '--no-color'])
    expect(fixed.stdout).toBe(bounded.stdout)

    // Durations ago: the records of 2026-11-18 are older than two hours.
    const recent = await stella(['obs', 'logs', '--from-file', input, '--since', '2h', '--until', '1h'])
    expect(recent.status).toBe(0)
    expect(recent.stdout).toBe('')
    expect(recent.stderr).toBe('No log records match.\n')

    const backwards = await stella(['obs', 'logs', '--from-file', input, '--since', '1h', '--until', '2h'])
    expect(backwards.status).toBe(2)
    expect(backwards.stderr.split('\n')[0]).toMatch(/^Error: --to \(.+\) is not after --since \(.+\)$/)
  })

  it('takes --level in any case, and names a level from the severity number when the record has no text', async () => {
    const record = (time: string, severityNumber: number, body: string) => ({timeUnixNano: time, severityNumber, body: {stringValue: body}})
    const input = file('numbers.jsonl', `${JSON.stringify({resourceLogs: [{resource: {attributes: [{key: 'service.name', value: {stringValue: 'ledger'}}]}, scopeLogs: [{logRecords: [
      record('1795000000000000000', 9, 'plain info'),
      record('1795000000001000000', 15, 'a warning by number'),
      record('1795000000002000000', 24, 'the worst'),
      record('1795000000003000000', 0, 'no severity'),
    ]}]}]})}\n`)
    const all = await stella(['obs', 'logs', '--from-file', input, '--no-color'])
    expect(all.stdout).toBe(
      [
        '2026-11-18T11:06:40.000000Z  INFO   ledger                -         plain info',
        '2026-11-18T11:06:40.001000Z  WARN   ledger                -         a warning by number',
        '2026-11-18T11:06:40.002000Z  FATAL  ledger                -         the worst',
        '2026-11-18T11:06:40.003000Z  -      ledger                -         no severity',
        '',
      ].join('\n'),
    )
    const warn = await stella(['obs', 'logs', '--from-file', input, '--level', 'WARN', '--no-color'])
    expect(warn.stdout).toBe(all.stdout.split('\n').filter((line) => /warning|worst/.test(line)).join('\n') + '\n')
    const bogus = await stella(['obs', 'logs', '--from-file', input, '--level', 'Loud'])
    expect(bogus.status).toBe(2)
    expect(bogus.stderr).toBe('Error: invalid --level "Loud": not a log level\nHint: Give one of trace, debug, info, warn, error, fatal.\n')
  })

  it('reads a --from that names an empty directory as input, and says it holds no files', async () => {
    const empty = join(home.path, 'empty')
    mkdirSync(empty)
    const r = await stella(['obs', 'logs', '--from', empty])
    expect(r.status).toBe(3)
    expect(r.stderr).toBe(`Error: ${empty}: the directory holds no files (hidden files are skipped)\nHint: Point at the directory the Collector file exporter writes to.\n`)
  })

  it('reads a --from that names a directory or a glob as input; several inputs and kinds merge in time order', async () => {
    const {jsonLines} = collectorFiles()
    const dir = join(home.path, 'collector')
    const expected = await stella(['obs', 'logs', '--level', 'error', '--all', '--jsonl', '--from-file', jsonLines])
    expect(expected.stdout.split('\n').length).toBeGreaterThan(10)
    for (const from of [dir, join(dir, '*.jsonl')]) {
      const r = await stella(['obs', 'logs', '--from', from, '--level', 'error', '--all', '--jsonl'])
      expect(r.stderr, from).toBe('')
      // The directory holds the same records twice (JSON lines and protobuf): each comes twice, in order.
      const lines = expected.stdout.trim().split('\n')
      expect(r.stdout, from).toBe(`${(from === dir ? lines.flatMap((line) => [line, line]) : lines).join('\n')}\n`)
    }

    // API-shaped JSON lines (what --jsonl writes) and OTLP together.
    const flattened = file('flat.jsonl', expected.stdout)
    const both = await stella(['obs', 'logs', '--level', 'error', '--all', '--jsonl', '--from-file', flattened, '--from-file', join(FIXTURES, 'checkout.pb')])
    const merged = both.stdout.trim().split('\n')
    expect(merged).toHaveLength(expected.stdout.trim().split('\n').length + 1)
    expect(merged[0]).toContain('connect ECONNREFUSED evidence-store:5432')

    // Not a file: still a time, and still refused as one.
    const notAFile = await stella(['obs', 'logs', '--from', 'last-tuesday', ...remote()])
    expect(notAFile.status).toBe(2)
    expect(notAFile.stderr).toMatch(/^Error: invalid --from "last-tuesday": not an RFC 3339 time or a duration\n/)
  })

  it('names the file of something that is not OTLP', async () => {
    const path = file('garbage.bin', Buffer.from([0, 0, 0, 9, 1, 2, 3]))
    const r = await stella(['obs', 'logs', '--from-file', path])
    expect(r.status).toBe(3)
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^Error: ${path}: `))
  })
})
