/** `stella telemetry status` and `stella telemetry incident on|off|status` against the contract server, over real sockets. */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {runCli, scratchDir} from '../helpers/cli.js'

let server: ContractServer
let home: {path: string; cleanup: () => void}

beforeEach(async () => {
  server = await startContractServer()
  home = scratchDir()
})
afterEach(async () => {
  await server.close()
  home.cleanup()
})

const stella = (args: string[], env: Record<string, string> = {}) => runCli(args, {home: home.path, env})
/** A command against the contract server, as `tenant` with `token`. */
const remote = (args: string[], {tenant = 'acme', token = TOKENS.acmeAdmin}: {tenant?: string; token?: string} = {}) =>
  stella([...args, '--server', server.url, '--tenant', tenant, '--token', token])

const TRACE_LINE = /^trace_id=[0-9a-f]{32}$/m
/** The line the client writes on stderr before it tries again; the first one names the invocation's trace. */
const retryNotice = (method: string, path: string, attempt: number) =>
  new RegExp(`^${method} http://127\\.0\\.0\\.1:\\d+${path} failed \\(503 Service Unavailable\\); retrying in 1s, attempt ${attempt} of 4${attempt === 2 ? ' trace_id=[0-9a-f]{32}' : ''}$`)
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()

/** Pins the acme collectors' last reports to whole minutes before now, so their ages read the same on every run. */
function pinAcmeCollectors(): void {
  const [gateway0, gateway1, edge] = server.state.tenants.acme.telemetry.collectors
  gateway0!.lastSeen = minutesAgo(2)
  gateway1!.lastSeen = minutesAgo(5)
  edge!.lastSeen = minutesAgo(194)
}

const STATUS_TABLE = [
  'COLLECTOR       HEALTHY  LAST SEEN   EXPORT FAILURES  QUEUE',
  'otel-gateway-0  ✓        2m ago      0                120/5000 (2.4%)',
  'otel-gateway-1  ✓        5m ago      2                310/5000 (6.2%)',
  'otel-edge-eu-1  ✗        3h 14m ago  57               4980/5000 (99.6%)',
]

describe('stella telemetry status', () => {
  it('prints the profile, incident mode and one row per collector', async () => {
    pinAcmeCollectors()
    const r = await remote(['telemetry', 'status', '--no-color'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe([
      'profile:       default (version 1.4.0)',
      'incident mode: off (sampling 10%)',
      '',
      ...STATUS_TABLE,
      '',
      '1 of 3 collectors unhealthy: otel-edge-eu-1',
      '',
    ].join('\n'))
    expect(r.status).toBe(0)
    expect(server.requests.map((request) => `${request.method} ${request.path} ${request.headers['x-stella-tenant']}`)).toEqual(['GET /telemetry/status acme'])
  })

  it('gives the same data under --json, with the queue fill and the unhealthy collectors', async () => {
    const collectors = server.state.tenants.acme.telemetry.collectors
    const r = await remote(['telemetry', 'status', '--json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      status: 0,
      result: {
        profile: 'default',
        profileVersion: '1.4.0',
        incidentMode: {enabled: false, expiresAt: null, samplingPercent: 10},
        collectors: [
          {name: 'otel-gateway-0', healthy: true, lastSeen: collectors[0]!.lastSeen, exportFailures: 0, queueSize: 120, queueCapacity: 5000, queueFillPercent: 2.4},
          {name: 'otel-gateway-1', healthy: true, lastSeen: collectors[1]!.lastSeen, exportFailures: 2, queueSize: 310, queueCapacity: 5000, queueFillPercent: 6.2},
          {name: 'otel-edge-eu-1', healthy: false, lastSeen: collectors[2]!.lastSeen, exportFailures: 57, queueSize: 4980, queueCapacity: 5000, queueFillPercent: 99.6},
        ],
        unhealthyCollectors: ['otel-edge-eu-1'],
      },
      warnings: [],
    })
  })

  it('colours health, failures and a queue fuller than 80%', async () => {
    pinAcmeCollectors()
    const r = await remote(['telemetry', 'status', '--color'])
    const rows = r.stdout.split('\n')
    expect(rows.find((line) => line.startsWith('otel-gateway-0'))).toBe('otel-gateway-0  \u001B[32m✓\u001B[39m        2m ago      0                120/5000 (2.4%)')
    expect(rows.find((line) => line.startsWith('otel-gateway-1'))).toBe('otel-gateway-1  \u001B[32m✓\u001B[39m        5m ago      \u001B[33m2\u001B[39m                310/5000 (6.2%)')
    expect(rows.find((line) => line.startsWith('otel-edge-eu-1'))).toBe(
      'otel-edge-eu-1  \u001B[31m✗\u001B[39m        3h 14m ago  \u001B[33m57\u001B[39m               \u001B[33m4980/5000 (99.6%)\u001B[39m',
    )
    expect(r.status).toBe(0)
  })

  it('exits 1 with --fail-unhealthy only when a collector is unhealthy', async () => {
    let r = await remote(['telemetry', 'status', '--fail-unhealthy', '--json'])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({status: 1, result: {unhealthyCollectors: ['otel-edge-eu-1']}})

    for (const collector of server.state.tenants.acme.telemetry.collectors) collector.healthy = true
    pinAcmeCollectors()
    r = await remote(['telemetry', 'status', '--fail-unhealthy', '--no-color'])
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n').slice(-2)).toEqual(['All 3 collectors healthy.', ''])
    expect(r.status).toBe(0)
  })

  it('retries a 503 after its Retry-After and succeeds', async () => {
    server.inject('GET /telemetry/status', {status: 503, problem: {title: 'Service Unavailable', detail: 'The status store is restarting.'}, retryAfter: '1'}, {times: 2})
    const started = Date.now()
    const r = await remote(['telemetry', 'status', '--json'])
    expect(r.status).toBe(0)
    expect(r.stderr.split('\n')).toEqual([
      expect.stringMatching(retryNotice('GET', '/telemetry/status', 2)),
      expect.stringMatching(retryNotice('GET', '/telemetry/status', 3)),
      '',
    ])
    expect(JSON.parse(r.stdout).result.profile).toBe('default')
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /telemetry/status', 'GET /telemetry/status', 'GET /telemetry/status'])
    // Two waits of Retry-After: 1 second each.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000)
  })

  it('reports a 500 with an HTML body clearly, with the trace id on stderr', async () => {
    server.inject('GET /telemetry/status', {status: 500, html: '<html><head><title>500 Internal Server Error</title></head><body><h1>nginx</h1></body></html>'})
    const r = await remote(['telemetry', 'status'])
    expect(r.status).toBe(4)
    expect(r.stdout).toBe('')
    const [message, hint, trace, ...rest] = r.stderr.split('\n')
    expect(message).toBe(
      'Error: the server answered 500 Internal Server Error with a text/html page, not a problem document ("500 Internal Server Error")',
    )
    expect(hint).toBe('Hint: Something other than the StellaOps API may have answered (a proxy or gateway); check the server URL, and try again later.')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])
    // The trace id printed is the one the request carried.
    expect(server.requests[0]!.headers.traceparent).toContain(trace!.slice('trace_id='.length))
    expect(server.requests).toHaveLength(1)
  })

  it('gives up on a slow server after --timeout with TIMEOUT (exit 4)', async () => {
    server.inject('GET /telemetry/status', {delayMs: 5000})
    const started = Date.now()
    const r = await remote(['telemetry', 'status', '--timeout', '500ms', '--json'])
    expect(Date.now() - started).toBeLessThan(4000)
    expect(r.status).toBe(4)
    const envelope = JSON.parse(r.stdout)
    expect(envelope.status).toBe(4)
    expect(envelope.error.code).toBe('TIMEOUT')
    expect(envelope.error.message).toBe(`GET ${server.url}/telemetry/status did not finish within the 500ms --timeout budget`)
    expect(envelope.error.traceId).toMatch(/^[0-9a-f]{32}$/)
  })

  it('names where a server comes from when there is none (exit 2)', async () => {
    const r = await stella(['telemetry', 'status', '--tenant', 'acme', '--token', TOKENS.acmeAdmin])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('Error: no server to talk to\nHint: Pass --server URL, set STELLA_SERVER, or `stella config set server URL`.\n')
  })

  it('refuses a non-loopback server in sealed mode without connecting (exit 2)', async () => {
    const r = await stella(['telemetry', 'status', '--sealed', '--server', 'https://stella.example.com', '--tenant', 'acme', '--token', TOKENS.acmeAdmin])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'Error: sealed mode allows only loopback servers (127.0.0.0/8, ::1, localhost); https://stella.example.com is not one\n'
        + 'Hint: Use a loopback server, or leave sealed mode for this run with --no-sealed, STELLA_SEALED=0, or `stella config set sealed false`.\n',
    )

    // The loopback contract server is fine in sealed mode.
    const sealed = await remote(['telemetry', 'status', '--sealed', '--json'])
    expect(sealed.status).toBe(0)
  })

  it('asks for a token on 401 (exit 5)', async () => {
    const r = await stella(['telemetry', 'status', '--server', server.url, '--tenant', 'acme'])
    expect(r.status).toBe(5)
    expect(r.stdout).toBe('')
    const [message, hint, trace, ...rest] = r.stderr.split('\n')
    expect(message).toBe('Error: no API token was given, and the server requires one (Unauthorized: The request has no Authorization header; send "Authorization: Bearer <token>".)')
    expect(hint).toBe('Hint: Supply a token with --token, the STELLA_TOKEN variable, or a token source in the context: `stella config set token-env NAME` or `stella config set token-file PATH`.')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])
    expect(server.requests[0]!.headers.authorization).toBeUndefined()
  })
})

describe('stella telemetry incident', () => {
  it('turns incident mode on for a TTL, shows it everywhere, and turns it off', async () => {
    const before = Date.now()
    let r = await remote(['telemetry', 'incident', 'on', '--ttl', '2h', '--reason', 'INC-1234 checkout latency', '--no-color'])
    const after = Date.now()
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const expiresAt = server.state.tenants.acme.incidentMode.expiresAt!
    // The server counts from its own clock in whole seconds; the expiry is now + 2h.
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 7_200_000)
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(after + 7_200_000)
    expect(r.stdout).toBe([
      'incident mode: on',
      `expires:       ${expiresAt} (in 2h 0m)`,
      'sampling:      100%',
      'reason:        INC-1234 checkout latency',
      'changed by:    acme-admin',
      '',
    ].join('\n'))
    expect(server.requests.map((request) => [request.method, request.path, request.body])).toEqual([
      ['POST', '/telemetry/incidents/mode', {enabled: true, ttlSeconds: 7200, reason: 'INC-1234 checkout latency'}],
    ])

    r = await remote(['telemetry', 'incident', 'status', '--json'])
    expect(JSON.parse(r.stdout)).toEqual({
      status: 0,
      result: {enabled: true, expiresAt, samplingPercent: 100, reason: 'INC-1234 checkout latency', changedBy: 'acme-admin'},
      warnings: [],
    })

    pinAcmeCollectors()
    r = await remote(['telemetry', 'status', '--no-color'])
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['profile:       default (version 1.4.0)', 'incident mode: on (expires in 2h 0m, sampling 100%)'])

    r = await remote(['telemetry', 'incident', 'off', '--reason', 'INC-1234 resolved', '--no-color'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(['incident mode: off', 'sampling:      10%', 'reason:        INC-1234 resolved', 'changed by:    acme-admin', ''].join('\n'))
    expect(server.requests.at(-1)!.body).toEqual({enabled: false, reason: 'INC-1234 resolved'})

    r = await remote(['telemetry', 'incident', 'off', '--json'])
    expect(JSON.parse(r.stdout).result).toEqual({enabled: false, expiresAt: null, samplingPercent: 10, reason: null, changedBy: 'acme-admin'})
    expect(server.requests.at(-1)!.body).toEqual({enabled: false, reason: null})

    r = await remote(['telemetry', 'status', '--json'])
    expect(JSON.parse(r.stdout).result.incidentMode).toEqual({enabled: false, expiresAt: null, samplingPercent: 10})
  })

  it('turns it on for an hour when no --ttl is given', async () => {
    const r = await remote(['telemetry', 'incident', 'on', '--reason', 'INC-77', '--json'])
    expect(r.status).toBe(0)
    expect(server.requests[0]!.body).toEqual({enabled: true, ttlSeconds: 3600, reason: 'INC-77'})
  })

  it('retries a 503 on the change: setting a mode twice leaves the same state', async () => {
    server.inject('POST /telemetry/incidents/mode', {status: 503, retryAfter: '1'}, {times: 1})
    const r = await remote(['telemetry', 'incident', 'on', '--ttl', '30m', '--reason', 'INC-9', '--json'])
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(retryNotice('POST', '/telemetry/incidents/mode', 2)), ''])
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).result).toMatchObject({enabled: true, samplingPercent: 100, reason: 'INC-9'})
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /telemetry/incidents/mode', 'POST /telemetry/incidents/mode'])
    expect(server.state.tenants.acme.incidentMode.enabled).toBe(true)
  })

  it('keeps tenants apart: incident mode for acme does not show for globex', async () => {
    let r = await remote(['telemetry', 'incident', 'on', '--ttl', '2h', '--reason', 'INC-1234'])
    expect(r.status).toBe(0)

    r = await remote(['telemetry', 'incident', 'status', '--json'], {tenant: 'globex', token: TOKENS.globexAdmin})
    expect(JSON.parse(r.stdout).result).toEqual({enabled: false, expiresAt: null, samplingPercent: 10, reason: null, changedBy: null})
    r = await remote(['telemetry', 'status', '--json'], {tenant: 'globex', token: TOKENS.globexAdmin})
    const result = JSON.parse(r.stdout).result
    expect(result.incidentMode).toEqual({enabled: false, expiresAt: null, samplingPercent: 10})
    expect(result.collectors.map((collector: {name: string}) => collector.name)).toEqual(['collector-main', 'collector-batch'])

    // acme's admin token holds no scope for globex.
    r = await remote(['telemetry', 'incident', 'off'], {tenant: 'globex', token: TOKENS.acmeAdmin})
    expect(r.status).toBe(5)
    expect(r.stderr.split('\n')[0]).toBe(
      'Error: Forbidden: POST /telemetry/incidents/mode requires the scope stella:telemetry:admin#tenant/globex, which this token does not have. '
        + '(missing scope stella:telemetry:admin#tenant/globex)',
    )
    expect(server.state.tenants.acme.incidentMode.enabled).toBe(true)
  })

  it('refuses a reader without telemetry:admin with the missing scope (exit 5)', async () => {
    let r = await remote(['telemetry', 'incident', 'on', '--ttl', '2h', '--reason', 'INC-1234'], {token: TOKENS.acmeReader})
    expect(r.status).toBe(5)
    expect(r.stdout).toBe('')
    const [message, hint, trace, ...rest] = r.stderr.split('\n')
    expect(message).toBe(
      'Error: Forbidden: POST /telemetry/incidents/mode requires the scope stella:telemetry:admin#tenant/acme, which this token does not have. '
        + '(missing scope stella:telemetry:admin#tenant/acme)',
    )
    expect(hint).toBe('Hint: Ask a StellaOps administrator to grant the scope stella:telemetry:admin#tenant/acme, then run the command again.')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])
    expect(server.state.tenants.acme.incidentMode.enabled).toBe(false)

    r = await remote(['telemetry', 'incident', 'off', '--json'], {token: TOKENS.acmeReader})
    expect(r.status).toBe(5)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'FORBIDDEN', remedy: 'Ask a StellaOps administrator to grant the scope stella:telemetry:admin#tenant/acme, then run the command again.'})

    // Reading the mode needs only obs:read, which a reader has.
    r = await remote(['telemetry', 'incident', 'status', '--no-color'], {token: TOKENS.acmeReader})
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('incident mode: off\nsampling:      10%\n')
    expect(r.status).toBe(0)
  })

  it('asks for a token on 401 (exit 5)', async () => {
    const r = await stella(['telemetry', 'incident', 'status', '--server', server.url, '--tenant', 'acme'])
    expect(r.status).toBe(5)
    expect(r.stderr.split('\n')[1]).toBe('Hint: Supply a token with --token, the STELLA_TOKEN variable, or a token source in the context: `stella config set token-env NAME` or `stella config set token-file PATH`.')
  })

  it('checks --reason and --ttl before sending anything (exit 2)', async () => {
    const cases: Array<[string[], string]> = [
      [['--ttl', '2h'], 'Error: turning incident mode on needs a reason\nHint: Say why with --reason, e.g. --reason "INC-1234 checkout latency".'],
      [['--ttl', '2h', '--reason', '   '], 'Error: turning incident mode on needs a reason\nHint: Say why with --reason, e.g. --reason "INC-1234 checkout latency".'],
      [['--ttl', '30s', '--reason', 'x'], 'Error: --ttl 30s is outside the range the server accepts (1m to 24h)\nHint: Give a TTL from 1m to 24h, e.g. --ttl 2h.'],
      [['--ttl', '25h', '--reason', 'x'], 'Error: --ttl 25h is outside the range the server accepts (1m to 24h)\nHint: Give a TTL from 1m to 24h, e.g. --ttl 2h.'],
      [['--ttl', '90500ms', '--reason', 'x'], 'Error: --ttl 1m30s500ms is not a whole number of seconds\nHint: Give a TTL in whole seconds, from 1m to 24h, e.g. --ttl 2h.'],
      [['--ttl', '2', '--reason', 'x'], 'Error: invalid --ttl "2": a unit is missing\nHint: Write a whole number followed by ms, s, m, h or d, e.g. 500ms, 2s, 10m, 24h, 7d or 1h30m.'],
    ]
    for (const [flags, stderr] of cases) {
      const r = await remote(['telemetry', 'incident', 'on', ...flags])
      expect(r.status, flags.join(' ')).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.startsWith(`${stderr}\n`), `${flags.join(' ')}\n${r.stderr}`).toBe(true)
    }

    const r = await remote(['telemetry', 'incident', 'off', '--reason', ''])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('Error: the --reason is empty\nHint: Give a short reason, or leave --reason out.\n')
    expect(server.requests).toEqual([])
  })

  it('turns a 400 from the server into a usage error with its reason and trace id', async () => {
    server.inject('POST /telemetry/incidents/mode', {status: 400, problem: {title: 'Bad Request', detail: 'The field "ttlSeconds" must be a whole number from 300 to 3600.', reason: 'invalid_field'}})
    const r = await remote(['telemetry', 'incident', 'on', '--ttl', '2h', '--reason', 'INC-1234'])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    const [message, hint, trace, ...rest] = r.stderr.split('\n')
    expect(message).toBe('Error: the server refused the incident-mode change: The field "ttlSeconds" must be a whole number from 300 to 3600.')
    expect(hint).toBe('Hint: Correct --ttl or --reason as the server says, then run the command again.')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])
    expect(server.requests).toHaveLength(1)
  })
})
