/**
 * `stella obs trace` against the contract server over real sockets, and over local OTLP files:
 * Collector JSON lines, length-prefixed protobuf, directories, globs and a telemetry bundle.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {encodeTraces} from '../../src/lib/otlp/index.js'
import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {resourceLogsOf} from '../contract-server/otlp-json.js'
import {encodeLogsRequest, encodeTraceRequest, lengthPrefixed} from '../contract-server/otlp-proto.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'
import {OTHER_TRACE_ID, SERVICES, TRACE_ID, checkoutJsonLines, checkoutProto, resource, span, text} from '../helpers/trace-records.js'

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
afterEach(() => {
  server.clearFaults()
  home.cleanup()
})

const remote = (token = TOKENS.acmeAdmin, tenant = 'acme') => ['--server', server.url, '--tenant', tenant, '--token', token]
const stella = (args: string[]) => runCli(args, {home: home.path})
const acme = () => server.state.tenants.acme
const FIXTURES = join(projectRoot, 'test', 'fixtures', 'otlp', 'traces')
const TRACE_LINE = /^trace_id=[0-9a-f]{32}$/

function file(name: string, content: string | Uint8Array): string {
  const path = join(home.path, name)
  mkdirSync(join(path, '..'), {recursive: true})
  writeFileSync(path, content)
  return path
}

/** A table as renderTable draws it with colour off: columns padded to their widest cell, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd())
}

/** What the checkout fixture renders as at --width 100 (test/lib/trace-waterfall.test.ts draws the same trace). */
const CHECKOUT_WATERFALL = [
  'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
  '',
  '   SERVICE         SPAN                   DURATION  0                    240ms                 480ms',
  '*  api-gateway     GET /checkout             480ms  ████████████████████████████████████████████████',
  '*  api-gateway       call policy-engine      448ms   █████████████████████████████████████████████',
  '*  policy-engine       evaluate              430ms    ███████████████████████████████████████████',
  '*  policy-engine         load rules          105ms    ███████████',
  '                           +26.0ms  event  cache miss  cache.key=rules/acme/policy-1',
  '                           +26.5ms  INFO   load rules started',
  '   policy-engine         audit              70.0ms     ███████',
  '*! evidence-store        SELECT evidence     300ms                ██████████████████████████████',
  '                           +439ms  event  exception  exception.type=ConnectionRefused',
  '                           +440ms  ERROR  connect ECONNREFUSED evidence-store:5432',
  '',
  'Spans whose parent is missing from the trace (1 span):',
  '   scheduler       job tick                 50.0ms                                █████',
  '',
  'Logs of the trace that name no span in it (1):',
  '  +5.00ms  WARN   api-gateway  request has no tenant header',
  '',
  '7 spans, 4 services (api-gateway, policy-engine, evidence-store, scheduler), 480ms, 1 error (!), 1 missing parent',
  'critical path (*): GET /checkout › call policy-engine › evaluate › load rules › SELECT evidence (5 spans)',
  '',
].join('\n')

describe('stella obs trace from the server', () => {
  it('draws the waterfall with the logs, events and timeline events of the trace, from three requests', async () => {
    const trace = acme().traces[1]!
    const r = await stella(['obs', 'trace', trace.traceId.toUpperCase(), '--width', '100', '--no-color', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const events = acme().timeline.filter((event) => event.traceId === trace.traceId)
    expect(events.length).toBeGreaterThan(0)
    expect(r.stdout).toBe(
      [
        `Trace ${trace.traceId}  started ${trace.startedAt.toISOString()}`,
        '',
        '   SERVICE         SPAN                      DURATION  0                   240ms               480ms',
        '*! api-gateway     GET /v1/evaluations/{id}     480ms  █████████████████████████████████████████████',
        '                     +1.00ms  ERROR  GET /v1/evaluations/{id} failed: upstream returned 503',
        '*  api-gateway       call policy-engine         448ms   ███████████████████████████████████████████',
        '                       +13.0ms  INFO   call policy-engine started',
        '*  policy-engine       evaluate                 430ms   ██████████████████████████████████████████',
        '                         +21.0ms  INFO   evaluate started',
        '*  policy-engine         load rules             105ms    ███████████',
        '                           +26.0ms  event  cache miss  cache.key=rules/acme/policy-2',
        '                           +26.0ms  INFO   load rules started',
        '*! evidence-store        SELECT evidence        300ms               █████████████████████████████',
        '                           +141ms  ERROR  SELECT evidence failed: connection refused',
        '                           +439ms  event  exception  exception.type=ConnectionRefused exception.mes…',
        '',
        `Timeline events of the trace (${events.length}):`,
        ...table([['TIME', 'KIND', 'ACTOR', 'RESOURCE', 'EVENT'], ...events.map((e) => [e.ts, e.kind, e.actor, `${e.resourceType}/${e.resourceId}`, e.eventId])]).map((line) => `  ${line}`),
        '',
        '5 spans, 3 services (api-gateway, policy-engine, evidence-store), 480ms, 2 errors (!)',
        'critical path (*): GET /v1/evaluations/{id} › call policy-engine › evaluate › load rules › SELECT evidence (5 spans)',
        `Console: ${server.url}/console/traces/${trace.traceId}?tenant=acme`,
        '',
      ].join('\n'),
    )
    const calls = server.requests.map((request) => `${request.method} ${request.path} ${JSON.stringify(request.query)}`).sort()
    expect(calls).toEqual([
      `GET /obs/logs {"traceId":"${trace.traceId}","limit":"1000"}`,
      `GET /obs/trace/${trace.traceId} {}`,
      `GET /timeline {"traceId":"${trace.traceId}","limit":"1000"}`,
    ])
  })

  it('--json gives the assembled trace: spans with depth, children and critical flags, logs, timeline, summary', async () => {
    const trace = acme().traces[0]!
    const r = await stella(['obs', 'trace', trace.traceId, '--json', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const envelope = JSON.parse(r.stdout)
    expect(envelope.status).toBe(0)
    expect(envelope.warnings).toEqual([])
    const result = envelope.result
    expect(result.traceId).toBe(trace.traceId)
    expect(result.source).toEqual({kind: 'server', server: server.url, tenant: 'acme', deepLink: `${server.url}/console/traces/${trace.traceId}?tenant=acme`})
    const start = BigInt(trace.startedAt.getTime()) * 1_000_000n
    expect(result.summary).toEqual({
      spanCount: 5,
      services: ['api-gateway', 'policy-engine', 'evidence-store'],
      errorCount: 0,
      orphanCount: 0,
      logCount: 5,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + 480_000_000n),
      durationNano: '480000000',
      criticalPath: result.spans.map((s: {spanId: string}) => s.spanId),
    })
    expect(result.spans.map((s: {name: string; depth: number; children: string[]; critical: boolean; criticalNano: string}) => [s.name, s.depth, s.children.length, s.critical, s.criticalNano])).toEqual([
      ['POST /v1/evaluations', 0, 1, true, '32000000'],
      ['call policy-engine', 1, 1, true, '18000000'],
      ['evaluate', 2, 2, true, '25000000'],
      ['load rules', 3, 0, true, '105000000'],
      ['SELECT evidence', 3, 0, true, '300000000'],
    ])
    const [root, call] = result.spans
    expect(root).toEqual({
      spanId: root.spanId,
      parentSpanId: '',
      name: 'POST /v1/evaluations',
      kind: 2,
      service: 'api-gateway',
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + 480_000_000n),
      durationNano: '480000000',
      status: {code: 1, message: ''},
      depth: 0,
      children: [call.spanId],
      orphan: false,
      critical: true,
      criticalNano: '32000000',
      attributes: {'http.request.method': 'POST', 'http.route': '/v1/evaluations', 'http.response.status_code': 200, 'stellaops.tenant': 'acme'},
      events: [],
      links: [],
      resource: {attributes: {'service.name': 'api-gateway', 'service.version': '2.14.1', 'deployment.environment.name': 'production', 'stellaops.tenant': 'acme'}},
      scope: {name: 'stellaops.api-gateway', version: '1.0.0'},
    })
    expect(result.logs).toEqual(acme().logs.filter((item) => item.traceId === trace.traceId))
    expect(result.timeline).toEqual(acme().timeline.filter((event) => event.traceId === trace.traceId).map(({links: _links, ...event}) => event))
  })

  it('an unknown id exits 3, naming the server and tenant it asked, with the trace id of the request', async () => {
    const unknown = 'ab'.repeat(16)
    const r = await stella(['obs', 'trace', unknown, ...remote()])
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('')
    const [error, hint, trace, ...rest] = r.stderr.split('\n')
    expect(error).toBe(`Error: trace ${unknown} not found on ${server.url} (tenant acme)`)
    expect(hint).toBe('Hint: Check the id and --tenant; a trace older than the retention period is gone from the server, but may still be in Collector files (--from).')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])

    // Another tenant's trace is just as unknown.
    const json = await stella(['obs', 'trace', server.state.tenants.globex.traces[0]!.traceId, '--json', ...remote()])
    expect(json.status).toBe(3)
    expect(JSON.parse(json.stdout).error).toMatchObject({code: 'TRACE_NOT_FOUND', message: `trace ${server.state.tenants.globex.traces[0]!.traceId} not found on ${server.url} (tenant acme)`})
  })

  it('a malformed or all-zero id is a usage error, before any request', async () => {
    const malformed = await stella(['obs', 'trace', 'xyz', ...remote()])
    expect(malformed.status).toBe(2)
    expect(malformed.stderr).toBe('Error: invalid trace id "xyz": a trace id is 32 hex digits\nHint: Copy the trace id from a log line, a span, a timeline event or `trace_id=` in an error message.\n')
    const tooLong = await stella(['obs', 'trace', `${TRACE_ID}00`, ...remote()])
    expect(tooLong.status).toBe(2)
    const zero = await stella(['obs', 'trace', '0'.repeat(32), ...remote()])
    expect(zero.status).toBe(2)
    expect(zero.stderr).toBe(`Error: invalid trace id "${'0'.repeat(32)}": the all-zero id means "no trace"\nHint: Copy the trace id from a log line, a span, a timeline event or \`trace_id=\` in an error message.\n`)
    // No server is needed to be told.
    const offline = await stella(['obs', 'trace', 'not-a-trace'])
    expect(offline.status).toBe(2)
    expect(server.requests).toEqual([])
  })

  it('shows the trace with a warning when its timeline cannot be read', async () => {
    server.inject('GET /timeline', {status: 403, problem: {title: 'Forbidden', detail: 'GET /timeline requires the scope stella:timeline:read#tenant/acme.', scope: 'stella:timeline:read#tenant/acme'}})
    const trace = acme().traces[2]!
    const r = await stella(['obs', 'trace', trace.traceId, '--no-color', ...remote()])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe(
      "Warning: the trace's timeline events could not be read, so none are shown: Forbidden: GET /timeline requires the scope stella:timeline:read#tenant/acme. (missing scope stella:timeline:read#tenant/acme)\n",
    )
    expect(r.stdout).not.toContain('Timeline events')
    expect(r.stdout).toContain('5 spans, 3 services')
  })
})

describe('stella obs trace from local files', () => {
  it('reads Collector JSON lines and length-prefixed protobuf alike, leaving other traces out', async () => {
    // The fixtures are what the test helpers encode, byte for byte.
    expect(readFileSync(join(FIXTURES, 'checkout.jsonl'), 'utf8')).toBe(checkoutJsonLines())
    expect(readFileSync(join(FIXTURES, 'checkout.pb'))).toEqual(checkoutProto())
    for (const fixture of ['checkout.jsonl', 'checkout.pb']) {
      const r = await stella(['obs', 'trace', TRACE_ID, '--from', join(FIXTURES, fixture), '--width', '100'])
      expect(r.stderr, fixture).toBe('')
      expect(r.status, fixture).toBe(0)
      expect(r.stdout, fixture).toBe(CHECKOUT_WATERFALL)
    }

    const other = await stella(['obs', 'trace', OTHER_TRACE_ID, '--from', join(FIXTURES, 'checkout.pb'), '--width', '60'])
    expect(other.stdout).toBe(
      [
        'Trace 0af7651916cd43dd8448eb211c80319c  started 2026-11-18T11:06:40.600Z',
        '',
        '   SERVICE      SPAN         DURATION  0       500µs  1.00ms',
        '*  api-gateway  GET /health    1.00ms  █████████████████████',
        '                  +500µs  INFO   health check passed',
        '',
        '1 span, 1 service (api-gateway), 1.00ms, 0 errors',
        'critical path (*): GET /health (1 span)',
        '',
      ].join('\n'),
    )
  })

  it('reads directories, globs and several inputs, and shows data that came twice once, with a warning', async () => {
    const dir = join(home.path, 'otel')
    file('otel/a/checkout.jsonl', checkoutJsonLines())
    file('otel/b/checkout.pb', checkoutProto())
    for (const inputs of [[dir], [join(dir, '*', 'checkout.*')], [join(dir, 'a', 'checkout.jsonl'), join(dir, 'b')]]) {
      const r = await stella(['obs', 'trace', TRACE_ID, '--width', '100', '--from', ...inputs])
      expect(r.status, inputs.join(' ')).toBe(0)
      expect(r.stdout, inputs.join(' ')).toBe(CHECKOUT_WATERFALL)
      expect(r.stderr).toBe('Warning: 7 spans (by span id) and 3 log records came more than once (the same data in several inputs?); each is shown once\n')
    }
  })

  it('reads the log records `obs logs --jsonl` writes, beside OTLP, as obs logs --from-file does', async () => {
    const written = await stella(['obs', 'logs', '--from-file', join(FIXTURES, 'checkout.pb'), '--jsonl', '--all'])
    expect(written.status).toBe(0)
    const records = file('records.jsonl', written.stdout)
    const both = await stella(['obs', 'trace', TRACE_ID.toUpperCase(), '--width', '100', '--from', join(FIXTURES, 'checkout.pb'), records])
    expect(both.stdout).toBe(CHECKOUT_WATERFALL)
    expect(both.stderr).toBe('Warning: 3 log records came more than once (the same data in several inputs?); each is shown once\n')

    const alone = await stella(['obs', 'trace', TRACE_ID, '--width', '100', '--from', records, '--json'])
    expect(alone.status).toBe(0)
    const logs = JSON.parse(alone.stdout).result.logs as {body: {stringValue: string}}[]
    expect(logs.map((log) => log.body.stringValue)).toEqual(['request has no tenant header', 'load rules started', 'connect ECONNREFUSED evidence-store:5432'])
  })

  it('an unknown id exits 3 and names the files it read; a missing path exits 3 naming it', async () => {
    const unknown = 'cd'.repeat(16)
    const one = await stella(['obs', 'trace', unknown, '--from', join(FIXTURES, 'checkout.pb')])
    expect(one.status).toBe(3)
    expect(one.stderr).toBe(
      `Error: trace ${unknown} not found in ${join(FIXTURES, 'checkout.pb')}\n` +
        'Hint: Check the id, and that the files hold the traces (and logs) of the time it ran; the server may still have it (drop --from).\n',
    )
    const two = await stella(['obs', 'trace', unknown, '--from', join(FIXTURES, 'checkout.*')])
    expect(two.stderr.split('\n')[0]).toBe(`Error: trace ${unknown} not found in 2 files (${join(FIXTURES, 'checkout.jsonl')}, ${join(FIXTURES, 'checkout.pb')})`)
    const missing = await stella(['obs', 'trace', unknown, '--from', join(home.path, 'nope')])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toBe(`Error: cannot read ${join(home.path, 'nope')}: no such file or directory\nHint: Check the path given to --from.\n`)
  })

  it('names the file and offset of a message that holds the trace id but is not OTLP', async () => {
    const path = file('broken.jsonl', `${checkoutJsonLines()}{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${TRACE_ID}","spanId":"zz"}]}]}]}\n`)
    const r = await stella(['obs', 'trace', TRACE_ID, '--from', path])
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('')
    const [error, hint, ...rest] = r.stderr.split('\n')
    expect(error).toMatch(new RegExp(`^Error: ${path} \\(offset ${checkoutJsonLines().length}\\): .*spanId.*"zz"`))
    expect(hint).toBe('Hint: The file holds a message that is not valid OTLP; check what wrote it.')
    expect(rest).toEqual([''])
  })

  it('from a telemetry bundle, and from Collector files of the same data, gives what the server gives', async () => {
    const response = await fetch(`${server.url}/telemetry/exports/forensic/24h`, {headers: {authorization: `Bearer ${TOKENS.acmeAdmin}`, 'x-stella-tenant': 'acme'}})
    expect(response.status).toBe(200)
    const bundle = file('telemetry.tgz', Buffer.from(await response.arrayBuffer()))
    const traces = acme().traces
    const logs = acme().logs
    const jsonLines = file(
      'collector/otel.jsonl',
      [...traces.map((t) => JSON.stringify({resourceSpans: t.resourceSpans})), JSON.stringify({resourceLogs: resourceLogsOf(logs)})].join('\n') + '\n',
    )
    const proto = file('collector/otel.pb', lengthPrefixed([...traces.map((t) => encodeTraceRequest(t.resourceSpans)), encodeLogsRequest(resourceLogsOf(logs))]))
    for (const trace of [traces[1]!, traces[3]!]) {
      const remoteRun = JSON.parse((await stella(['obs', 'trace', trace.traceId, '--json', ...remote()])).stdout).result
      for (const input of [bundle, jsonLines, proto]) {
        const r = await stella(['obs', 'trace', trace.traceId, '--json', '--from', input])
        expect(r.status, input).toBe(0)
        const local = JSON.parse(r.stdout).result
        expect(local.source).toEqual({kind: 'files', files: [input]})
        expect(local.timeline).toBeNull()
        expect({spans: local.spans, logs: local.logs, summary: local.summary}, input).toEqual({spans: remoteRun.spans, logs: remoteRun.logs, summary: remoteRun.summary})
      }
    }
  })

  it('keeps control characters in the data away from the terminal: service names, attribute keys, log bodies', async () => {
    const hostile = resource('svc\u001b[2J\nforged', [text('key\u001b[31m', 'v\u0007')])
    const spans = [
      span({id: 'a1', name: 'root\r', resource: hostile, start: 0, end: 10, attributes: [text('attr\u001b]0;title\u0007', 'x')]}),
    ]
    const path = file('hostile.pb', lengthPrefixed([Buffer.from(encodeTraces(spans))]))
    const r = await stella(['obs', 'trace', TRACE_ID, '--from', path, '--width', '80', '--attributes'])
    expect(r.stderr).toBe('')
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0007\u001b\r]/)
    expect(r.stdout.split('\n')).toEqual([
      'Trace 4bf92f3577b34da6a3ce929d0e0e4736  started 2026-11-18T11:06:40.000Z',
      '',
      '   SERVICE         SPAN  DURATION  0                  5.00ms              10.0ms',
      '*  svc [2J forged  root    10.0ms  █████████████████████████████████████████████',
      '                     attr ]0;title = x',
      '                     resource service.name = svc [2J forged',
      '                     resource key [31m = v',
      '',
      '1 span, 1 service (svc [2J forged), 10.0ms, 0 errors',
      'critical path (*): root (1 span)',
      '',
    ])

    const logs = file('hostile-logs.jsonl', `${JSON.stringify({resourceLogs: [{resource: {attributes: [{key: 'service.name', value: {stringValue: 'svc\u001b[32m'}}]}, scopeLogs: [{logRecords: [{timeUnixNano: '1795000000000000000', severityText: 'INFO\u001b[0m', body: {stringValue: 'line one\nforged line\u001b[2J'}}]}]}]})}\n`)
    const printed = await stella(['obs', 'logs', '--from-file', logs, '--no-color'])
    expect(printed.stdout).toBe('2026-11-18T11:06:40.000000Z  INFO [0M  svc [32m              -         line one forged line [2J\n')
  })

  it('says a span has no end, or ends before it starts, instead of drawing a negative duration', async () => {
    const spans = [
      span({id: 'a1', name: 'root', resource: SERVICES.gateway, start: 0, end: 10}),
      {...span({id: 'b2', parent: 'a1', name: 'still running', resource: SERVICES.policy, start: 2, end: 0}), endTimeUnixNano: 0n},
      span({id: 'c3', parent: 'a1', name: 'clock skew', resource: SERVICES.store, start: 5, end: 4}),
    ]
    const path = file('ends.pb', lengthPrefixed([Buffer.from(encodeTraces(spans))]))
    const r = await stella(['obs', 'trace', TRACE_ID, '--from', path, '--width', '80'])
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n').slice(3, 6)).toEqual([
      '*  api-gateway     root                 10.0ms  ████████████████████████████████',
      '   policy-engine     still running      no end        █',
      '   evidence-store    clock skew     ends early                  █',
    ])
    const json = JSON.parse((await stella(['obs', 'trace', TRACE_ID, '--from', path, '--json'])).stdout)
    expect(json.result.spans.map((s: {name: string; durationNano: string | null}) => [s.name, s.durationNano])).toEqual([['root', '10000000'], ['still running', null], ['clock skew', null]])
  })

  it('draws a trace of 10,000 spans, one line each, and collapses it with --depth', async () => {
    const spans = [span({id: 'ee', name: 'GET /batch', resource: SERVICES.gateway, start: 0, end: 1000})]
    const id = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(6, '0')}`
    for (let i = 0; i < 99; i++) {
      spans.push(span({id: id('1a', i), parent: 'ee', name: `shard ${i}`, resource: SERVICES.policy, start: i * 10, end: i * 10 + 10}))
      for (let j = 0; j < 100; j++) spans.push(span({id: id('2b', i * 100 + j), parent: id('1a', i), name: `item ${i}.${j}`, resource: SERVICES.store, start: i * 10 + j * 0.1, end: i * 10 + j * 0.1 + 0.1}))
    }

    // Exported the way an SDK batches: 512 spans per request.
    const messages: Buffer[] = []
    for (let start = 0; start < spans.length; start += 512) messages.push(Buffer.from(encodeTraces(spans.slice(start, start + 512))))
    const path = file('big.pb', lengthPrefixed(messages))
    const r = await stella(['obs', 'trace', TRACE_ID, '--from', path, '--width', '100'])
    expect(r.stderr).toBe('')
    const lines = r.stdout.split('\n')
    expect(lines).toHaveLength(3 + 10_000 + 3 + 1)
    expect(lines.slice(2, 6)).toEqual([
      '   SERVICE         SPAN            DURATION  0                        500ms                    1.00s',
      '*  api-gateway     GET /batch         1.00s  ███████████████████████████████████████████████████████',
      '*  policy-engine     shard 0         10.0ms  █',
      '*  evidence-store      item 0.0       100µs  █',
    ])
    expect(lines.at(-3)).toBe('10000 spans, 3 services (api-gateway, policy-engine, evidence-store), 1.00s, 0 errors')

    const collapsed = await stella(['obs', 'trace', TRACE_ID, '--from', path, '--width', '100', '--depth', '2'])
    expect(collapsed.stdout.split('\n')).toHaveLength(3 + 1 + 99 * 2 + 3 + 1)
  })
})
