/**
 * `stella obs health|slo|logs|timeline` against the contract server over real sockets, and the
 * local `--from-file` forms against the same data.
 */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import type {LogItem, TimelineEvent, TimelineEventDetail} from '../../src/lib/api/types.js'
import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {runCli, scratchDir, spawnCli} from '../helpers/cli.js'

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
const TRACE_LINE = /^trace_id=[0-9a-f]{32}$/m

/** What the CLI prints as a log record's time: RFC 3339 to the microsecond. */
function logTime(item: LogItem): string {
  const ns = BigInt(item.timeUnixNano as string)
  const iso = new Date(Number(ns / 1_000_000n)).toISOString()
  return iso.replace('Z', `${String((ns / 1000n) % 1000n).padStart(3, '0')}Z`)
}

function serviceOf(item: LogItem): string {
  return (item.resource as {attributes: {key: string; value: {stringValue: string}}[]}).attributes.find((a) => a.key === 'service.name')!.value.stringValue
}

function bodyOf(item: LogItem): string {
  return (item.body as {stringValue: string}).stringValue
}

function jsonl(name: string, records: readonly unknown[]): string {
  const path = join(home.path, name)
  writeFileSync(path, records.map((record) => JSON.stringify(record)).join('\n') + '\n')
  return path
}

const iso = (ms: number) => new Date(ms).toISOString()

describe('stella obs health', () => {
  it('prints every service, worst status first, and a summary line', async () => {
    const r = await stella(['obs', 'health', '--no-color', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const summary = /^5 services: 1 down, 1 degraded, 3 ok \(as of (\S+)\)$/m.exec(r.stdout)
    expect(summary).not.toBeNull()
    expect(Number.isNaN(Date.parse(summary![1]!))).toBe(false)
    expect(r.stdout.replace(summary![1]!, 'TIME')).toBe(
      [
        'SERVICE              VERSION  STATUS    INSTANCES  RPS     ERRORS   P50 MS  P95 MS  P99 MS  CPU  QUEUE',
        'evidence-store       1.4.2    down      0          0.0     100.00%  0       0       0       0%   0',
        'policy-engine        1.9.0    degraded  4          188.2   4.30%    64      420     1310    87%  148',
        'api-gateway          2.14.1   ok        6          412.5   0.21%    18      71      160     41%  3',
        'scheduler            3.2.4    ok        2          21.7    0.00%    9       30      52      18%  12',
        'telemetry-collector  0.114.0  ok        3          2304.9  0.04%    2       6       11      33%  410',
        '',
        '5 services: 1 down, 1 degraded, 3 ok (as of TIME)',
        '',
      ].join('\n'),
    )
    expect(server.requests.map((request) => `${request.method} ${request.path} ${request.headers['x-stella-tenant']}`)).toEqual(['GET /obs/health acme'])
  })

  it('colours the status with --color', async () => {
    const r = await stella(['obs', 'health', '--color', ...remote()])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('\u001B[31mdown\u001B[39m')
    expect(r.stdout).toContain('\u001B[33mdegraded\u001B[39m')
    expect(r.stdout).toContain('\u001B[32mok\u001B[39m')
    expect(r.stdout).toContain('\u001B[31m1 down\u001B[39m, \u001B[33m1 degraded\u001B[39m, 3 ok')
  })

  it('exits 1 with --fail-on when a service is at least that bad, and says which in --json', async () => {
    const down = await stella(['obs', 'health', '--fail-on', 'down', '--json', ...remote()])
    expect(down.status).toBe(1)
    const envelope = JSON.parse(down.stdout)
    expect(envelope.status).toBe(1)
    expect(envelope.result.failing).toEqual(['evidence-store'])
    expect(envelope.result.counts).toEqual({ok: 3, degraded: 1, down: 1})
    expect(envelope.result.services.map((s: {name: string}) => s.name)).toEqual(['evidence-store', 'policy-engine', 'api-gateway', 'scheduler', 'telemetry-collector'])
    expect(envelope.result.services[1]).toEqual(acme().health.services.find((s) => s.name === 'policy-engine'))

    const degraded = await stella(['obs', 'health', '--fail-on', 'degraded', '--no-color', ...remote()])
    expect(degraded.status).toBe(1)
    expect(degraded.stdout).toContain('5 services: 1 down, 1 degraded, 3 ok')

    // Only healthy services left: nothing fails.
    const saved = structuredClone(acme().health.services)
    for (const service of acme().health.services) service.status = 'ok'
    try {
      expect((await stella(['obs', 'health', '--fail-on', 'degraded', ...remote()])).status).toBe(0)
    } finally {
      acme().health.services = saved
    }
  })

  it('refuses an unknown --fail-on value as a usage error', async () => {
    const r = await stella(['obs', 'health', '--fail-on', 'sick', ...remote()])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^Error: Expected --fail-on=sick to be one of: degraded, down/)
    expect(server.requests).toEqual([])
  })
})

describe('stella obs slo', () => {
  it('prints every SLO, worst first, with burn rates and budget', async () => {
    const r = await stella(['obs', 'slo', '--no-color', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(
      [
        'ID                       SERVICE              JOURNEY            TARGET  SLI      BURN 1H  BURN 6H  BURN 24H  BUDGET LEFT  STATUS',
        'slo-acme-evidence-avail  evidence-store       evidence export    99.5%   96.12%   38.2     21.5     9.8       -42%         breach',
        'slo-acme-eval-latency    policy-engine        policy evaluation  99%     98.71%   7.9      6.4      3.1       18%          warning',
        'slo-acme-gw-avail        api-gateway          checkout           99.9%   99.93%   0.6      0.8      0.7       71%          ok',
        'slo-acme-sched-fresh     scheduler            job scheduling     99%     99.57%   0.2      0.4      0.5       88%          ok',
        'slo-acme-ingest          telemetry-collector  telemetry ingest   99.99%  99.991%  1.2      0.9      0.8       63%          ok',
        '',
        '5 SLOs: 1 breach, 1 warning, 3 ok',
        '',
      ].join('\n'),
    )
  })

  it('colours burn rates by the multi-window thresholds', async () => {
    const r = await stella(['obs', 'slo', '--color', '--service', 'policy-engine', '--service', 'telemetry-collector', ...remote()])
    expect(r.status).toBe(0)
    const lines = r.stdout.split('\n')
    const policy = lines.find((line) => line.startsWith('slo-acme-eval-latency'))!
    // 7.9 over 1h is below 14.4 (yellow); 6.4 over 6h and 3.1 over 24h reach 6 and 3 (red).
    expect(policy).toContain('\u001B[33m7.9\u001B[39m')
    expect(policy).toContain('\u001B[31m6.4\u001B[39m')
    expect(policy).toContain('\u001B[31m3.1\u001B[39m')
    expect(policy).toContain('\u001B[33mwarning\u001B[39m')
    const ingest = lines.find((line) => line.startsWith('slo-acme-ingest'))!
    expect(ingest).toContain('\u001B[33m1.2\u001B[39m')
    expect(ingest).toMatch(/ 0\.9 +0\.8 /)
    expect(lines.filter((line) => line.startsWith('slo-'))).toHaveLength(2)
  })

  it('filters by --service on the client, and exits 1 with --fail-on', async () => {
    const r = await stella(['obs', 'slo', '--service', 'evidence-store', '--fail-on', 'breach', '--json', ...remote()])
    expect(r.status).toBe(1)
    const envelope = JSON.parse(r.stdout)
    expect(envelope.result).toEqual({items: acme().slo.filter((slo) => slo.service === 'evidence-store'), counts: {ok: 0, warning: 0, breach: 1}, failing: ['slo-acme-evidence-avail']})
    expect(server.requests.map((request) => request.path + JSON.stringify(request.query))).toEqual(['/obs/slo{}'])

    const none = await stella(['obs', 'slo', '--service', 'no-such-service', ...remote()])
    expect(none.status).toBe(0)
    expect(none.stdout).toBe('No SLO matches --service.\n')
  })
})

describe('stella obs logs', () => {
  it('prints the records of one trace, one line each', async () => {
    const trace = acme().traces[1]!
    const r = await stella(['obs', 'logs', '--trace-id', trace.traceId.toUpperCase(), '--no-color', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const expected = acme()
      .logs.filter((item) => item.traceId === trace.traceId)
      .map((item) => `${logTime(item)}  ${(item.severityText as string).padEnd(5)}  ${serviceOf(item).padEnd(20)}  ${trace.traceId.slice(0, 8)}  ${bodyOf(item)}`)
    expect(expected).toHaveLength(5)
    expect(r.stdout).toBe(expected.join('\n') + '\n')
    expect(r.stdout).toContain('ERROR  ')
    expect(server.requests[0]!.query).toEqual({traceId: trace.traceId, limit: '100'})

    const colored = await stella(['obs', 'logs', '--trace-id', trace.traceId, '--color', ...remote()])
    expect(colored.stdout).toContain('  \u001B[31mERROR\u001B[39m  ')
    expect(colored.stdout).toContain('  \u001B[32mINFO \u001B[39m  ')
  })

  it('applies service, level and text filters the way the server does', async () => {
    const anchor = server.state.anchor.getTime()
    const from = iso(anchor - 24 * 3_600_000)
    const to = iso(anchor)
    const r = await stella(['obs', 'logs', '--from', from, '--to', to, '--level', 'warn', '--service', 'policy-engine', '-q', 'QUEUE', '--json', ...remote()])
    expect(r.status).toBe(0)
    const expected = acme().logs.filter((item) => {
      const ms = Number(BigInt(item.timeUnixNano as string) / 1_000_000n)
      return ms >= Date.parse(from) && ms < Date.parse(to) && serviceOf(item) === 'policy-engine' && (item.severityNumber as number) >= 13 && bodyOf(item).toLowerCase().includes('queue')
    })
    expect(expected.length).toBeGreaterThan(0)
    expect(JSON.parse(r.stdout)).toEqual({status: 0, result: expected, warnings: []})
    expect(server.requests[0]!.query).toEqual({from, to, service: 'policy-engine', level: 'warn', q: 'QUEUE', limit: '100'})
  })

  it('stops at --limit and warns that more records match', async () => {
    const r = await stella(['obs', 'logs', '--since', '24h', '--limit', '3', '--no-color', ...remote()])
    expect(r.status).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(3)
    expect(r.stderr).toBe('Warning: more records match than the 3 shown; pass --all for every one, or a larger --limit\n')
  })

  it('follows the pages to the end with --all, printing every record once, in order', async () => {
    const anchor = server.state.anchor.getTime()
    const from = iso(anchor - 24 * 3_600_000)
    const to = iso(anchor)
    const r = await stella(['obs', 'logs', '--from', from, '--to', to, '--all', '--limit', '40', '--jsonl', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const expected = acme().logs.filter((item) => {
      const ms = Number(BigInt(item.timeUnixNano as string) / 1_000_000n)
      return ms >= Date.parse(from) && ms < Date.parse(to)
    })
    expect(expected.length).toBeGreaterThan(80)
    expect(r.stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual(expected)
    const pages = server.requests.filter((request) => request.path === '/obs/logs')
    expect(pages).toHaveLength(Math.ceil(expected.length / 40))
    expect(pages[0]!.query.cursor).toBeUndefined()
    expect(pages.slice(1).every((page) => typeof page.query.cursor === 'string' && page.query.limit === '40')).toBe(true)
  })

  it('refuses a window longer than 24h before sending anything', async () => {
    const r = await stella(['obs', 'logs', '--since', '48h', ...remote()])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(
      'Error: the logs query window is 48h; the server limits a query window to 24h\n' +
        'Hint: Narrow --from/--to, or use a shorter --since (at most 24h); query a longer period in several windows.\n',
    )
    expect(server.requests).toEqual([])
  })

  it("explains the server's window guardrail when the server's limit is shorter", async () => {
    server.inject('GET /obs/logs', {status: 400, problem: {title: 'Bad request', detail: 'The logs window is 6h; the maximum is 1h. Narrow from/to to 1h or less.', reason: 'window_too_long'}})
    const r = await stella(['obs', 'logs', '--since', '6h', ...remote()])
    expect(r.status).toBe(4)
    expect(r.stdout).toBe('')
    const [error, hint, trace, ...rest] = r.stderr.split('\n')
    expect(error).toBe('Error: the server refused the logs query because its time window is too long: The logs window is 6h; the maximum is 1h. Narrow from/to to 1h or less.')
    expect(hint).toBe('Hint: The server limits a logs query to a 24h window (a server may set less); narrow --from/--to or use a shorter --since, and read a longer period in several windows.')
    expect(trace).toMatch(TRACE_LINE)
    expect(trace).toBe(`trace_id=${server.requests[0]!.headers.traceparent!.split('-')[1]}`)
    expect(rest).toEqual([''])

    const json = await stella(['obs', 'logs', '--since', '6h', '--json', ...remote()])
    expect(json.status).toBe(4)
    expect(JSON.parse(json.stdout).error.code).toBe('WINDOW_TOO_LONG')
  })

  it('refuses a malformed trace id and conflicting window flags as usage errors', async () => {
    const badTrace = await stella(['obs', 'logs', '--trace-id', 'xyz', ...remote()])
    expect(badTrace.status).toBe(2)
    expect(badTrace.stderr).toBe('Error: invalid --trace-id "xyz": a trace id is 32 hex digits\nHint: Copy the trace id from a log line, a span or `trace_id=` in an error message.\n')
    const zero = await stella(['obs', 'logs', '--trace-id', '0'.repeat(32), ...remote()])
    expect(zero.status).toBe(2)
    expect(zero.stderr).toBe(`Error: invalid --trace-id "${'0'.repeat(32)}": the all-zero id means "no trace"\nHint: Copy the trace id from a log line, a span or \`trace_id=\` in an error message.\n`)
    const conflict = await stella(['obs', 'logs', '--since', '1h', '--from', '2h', ...remote()])
    expect(conflict.status).toBe(2)
    expect(conflict.stderr).toBe('Error: --since cannot be combined with --from: both give the start of the window\nHint: Use --since (until --to, or now), or --from and --to.\n')
    const badTime = await stella(['obs', 'logs', '--from', 'yesterday', ...remote()])
    expect(badTime.status).toBe(2)
    expect(badTime.stderr).toMatch(/^Error: invalid --from "yesterday": not an RFC 3339 time or a duration\n/)
    expect(server.requests).toEqual([])
  })
})

describe('stella obs timeline list', () => {
  it('prints a table of the first events in server order, and warns that more match', async () => {
    const r = await stella(['obs', 'timeline', 'list', '--limit', '3', '--no-color', ...remote()])
    expect(r.status).toBe(0)
    const first = acme().timeline.slice(0, 3)
    const rows = first.map((e) => [e.ts, e.kind, e.actor, `${e.resourceType}/${e.resourceId}`, e.traceId.slice(0, 8), e.eventId])
    const widths = [0, 1, 2, 3, 4].map((column) => Math.max(['TIME', 'KIND', 'ACTOR', 'RESOURCE', 'TRACE'][column]!.length, ...rows.map((row) => row[column]!.length)))
    const line = (cells: string[]) => cells.map((cell, column) => (column < 5 ? cell.padEnd(widths[column]!) : cell)).join('  ')
    expect(r.stdout).toBe([line(['TIME', 'KIND', 'ACTOR', 'RESOURCE', 'TRACE', 'EVENT']), ...rows.map(line)].join('\n') + '\n')
    expect(r.stderr).toBe('Warning: more events match than the 3 shown; pass --all for every one, or a larger --limit\n')
  })

  it('reads every page with --all, in order, without a duplicate', async () => {
    const r = await stella(['obs', 'timeline', 'list', '--all', '--limit', '100', '--json', ...remote()])
    expect(r.status).toBe(0)
    const envelope = JSON.parse(r.stdout)
    const ids = envelope.result.map((event: TimelineEvent) => event.eventId)
    expect(ids).toEqual(acme().timeline.map((event) => event.eventId))
    expect(new Set(ids).size).toBe(300)
    expect(envelope.warnings).toEqual([])
    // The list carries no links: those are for `timeline show`.
    expect(envelope.result[0]).toEqual(withoutLinks(acme().timeline[0]!))
    expect(server.requests.map((request) => request.query.limit)).toEqual(['100', '100', '100'])
  })

  it('filters by kind, project and trace id', async () => {
    const r = await stella(['obs', 'timeline', 'list', '--kind', 'job.failed,deploy.completed', '--project', 'payments', '--all', '--json', ...remote()])
    expect(r.status).toBe(0)
    const expected = acme().timeline.filter((e) => ['job.failed', 'deploy.completed'].includes(e.kind) && e.projectId === 'payments').map(withoutLinks)
    expect(expected.length).toBeGreaterThan(0)
    expect(JSON.parse(r.stdout).result).toEqual(expected)

    const traced = acme().timeline.find((e) => e.links.trace !== undefined)!
    const byTrace = await stella(['obs', 'timeline', 'list', '--trace-id', traced.traceId, '--json', ...remote()])
    expect(JSON.parse(byTrace.stdout).result.map((e: TimelineEvent) => e.traceId)).toContain(traced.traceId)
    expect(JSON.parse(byTrace.stdout).result.every((e: TimelineEvent) => e.traceId === traced.traceId)).toBe(true)
  })

  it('--follow prints the latest events, then new ones as they arrive, until Ctrl-C', async () => {
    const child = spawnCli(['obs', 'timeline', 'list', '--follow', '--limit', '2', '--interval', '200ms', '--no-color', ...remote()], {home: home.path})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.stdin.end()
    const closed = new Promise<{status: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('close', (status, signal) => resolve({status, signal})))
    const waitFor = async (what: () => boolean) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(what()).toBe(true)
    }

    const line = (e: TimelineEvent) => [e.ts, e.kind, e.actor, `${e.resourceType}/${e.resourceId}`, e.traceId.slice(0, 8), e.eventId].join('  ')
    const latest = acme().timeline.slice(-2)
    await waitFor(() => stdout.split('\n').length >= 3)
    expect(stdout).toBe(latest.map(line).join('\n') + '\n')

    const added: TimelineEventDetail = {
      ...latest[1]!,
      eventId: 'evt_followed0000001',
      ts: new Date().toISOString(),
      kind: 'deploy.completed',
      actor: 'ci:pipeline-78',
      resourceType: 'deployment',
      resourceId: 'deployment-4242',
      details: {version: '3.0.0'},
      links: {},
    }
    const polls = server.requests.length
    acme().timeline.push(added)
    try {
      await waitFor(() => stdout.includes(added.eventId))
      // Later polls find nothing new: the added event is printed once.
      await waitFor(() => server.requests.length >= polls + 3)
      expect(stdout).toBe([...latest, added].map(line).join('\n') + '\n')
      expect(server.requests.at(-1)!.query.from).toBe(added.ts)
    } finally {
      acme().timeline.pop()
      child.kill('SIGINT')
    }

    const {status, signal} = await closed
    expect({status, signal}).toEqual({status: 130, signal: null})
    expect(stderr).toBe('\nInterrupted (SIGINT); nothing was left half-written.\n')
  })

  it('refuses --follow with --json or --to', async () => {
    const json = await stella(['obs', 'timeline', 'list', '--follow', '--json', ...remote()])
    expect(json.status).toBe(2)
    expect(JSON.parse(json.stdout).error).toEqual({code: 'FOLLOW_CONFLICT', message: '--follow cannot be combined with --json: a JSON envelope ends, a follow does not', remedy: 'Use --jsonl to get each event as one line of JSON.'})
    const to = await stella(['obs', 'timeline', 'list', '--follow', '--to', '1h', ...remote()])
    expect(to.status).toBe(2)
    expect(to.stderr).toBe('Error: --follow cannot be combined with --to: it follows new events from now on\nHint: Drop --to, or list a fixed window without --follow.\n')
    expect(server.requests).toEqual([])
  })
})

describe('stella obs timeline show', () => {
  it('prints every field, the details and the links with the commands that follow them', async () => {
    const event = acme().timeline.find((e) => e.links.trace !== undefined && e.links.evidence !== undefined)!
    const traceId = event.links.trace!.split('/').pop()!
    const bundleId = event.links.evidence!.split('/').pop()!
    const r = await stella(['obs', 'timeline', 'show', event.eventId, '--no-color', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const details = event.details as {caseId: string; bundleKind: string; subject: string}
    expect(r.stdout).toBe(
      [
        `event:    ${event.eventId}`,
        `time:     ${event.ts}`,
        `kind:     evidence.snapshot.ready`,
        `actor:    svc:evidence-locker`,
        `resource: bundle/${bundleId}`,
        `tenant:   acme`,
        `project:  ${event.projectId}`,
        `trace:    ${event.traceId}`,
        `digest:   ${event.digest}`,
        '',
        'details:',
        `  caseId: ${details.caseId}`,
        `  bundleKind: ${details.bundleKind}`,
        `  subject: ${details.subject}`,
        '',
        'links:',
        `  trace:     /obs/trace/${traceId}`,
        `             → stella obs trace ${traceId}`,
        `  evidence:  /evidence/${bundleId}`,
        `             → stella forensic snapshot get ${bundleId}`,
        '',
      ].join('\n'),
    )

    const json = await stella(['obs', 'timeline', 'show', event.eventId, '--json', ...remote()])
    expect(JSON.parse(json.stdout)).toEqual({status: 0, result: event, warnings: []})
  })

  it('prints nested details indented, and no links section when there are none', async () => {
    const event = acme().timeline.find((e) => e.links.trace === undefined && e.links.evidence === undefined)!
    const saved = event.details
    event.details = {outcome: 'partial', attempts: 2, retryable: false, inputs: {queue: 'default', tags: ['a', 'b']}, note: null}
    try {
      const r = await stella(['obs', 'timeline', 'show', event.eventId, '--no-color', ...remote()])
      expect(r.status).toBe(0)
      expect(r.stdout.slice(r.stdout.indexOf('details:'))).toBe(
        ['details:', '  outcome: partial', '  attempts: 2', '  retryable: false', '  inputs:', '    queue: default', '    tags:', '      - a', '      - b', '  note: null', ''].join('\n'),
      )
    } finally {
      event.details = saved
    }
  })

  it('exits 4 with the trace id for an event the tenant does not have', async () => {
    const r = await stella(['obs', 'timeline', 'show', 'evt_nosuchevent', ...remote()])
    expect(r.status).toBe(4)
    expect(r.stdout).toBe('')
    const [error, hint, trace, ...rest] = r.stderr.split('\n')
    expect(error).toBe('Error: no timeline event evt_nosuchevent in this tenant')
    expect(hint).toBe('Hint: Check the id (and --tenant); `stella obs timeline list` shows the event ids.')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])
  })
})

describe('tenants and scopes', () => {
  it("globex sees none of acme's events or logs", async () => {
    const acmeIds = new Set(acme().timeline.map((e) => e.eventId))
    const events = await stella(['obs', 'timeline', 'list', '--all', '--json', ...remote(TOKENS.globexAdmin, 'globex')])
    expect(events.status).toBe(0)
    const globexEvents: TimelineEvent[] = JSON.parse(events.stdout).result
    expect(globexEvents.length).toBe(server.state.tenants.globex.timeline.length)
    expect(globexEvents.filter((e) => acmeIds.has(e.eventId) || e.tenantId !== 'globex')).toEqual([])

    const anchor = server.state.anchor.getTime()
    const logs = await stella(['obs', 'logs', '--from', iso(anchor - 24 * 3_600_000), '--to', iso(anchor), '--all', '--json', ...remote(TOKENS.globexAdmin, 'globex')])
    const globexLogs: LogItem[] = JSON.parse(logs.stdout).result
    expect(globexLogs.length).toBeGreaterThan(0)
    const acmeServices = new Set(acme().health.services.map((s) => s.name))
    expect(globexLogs.filter((item) => acmeServices.has(serviceOf(item)))).toEqual([])

    const show = await stella(['obs', 'timeline', 'show', acme().timeline[0]!.eventId, ...remote(TOKENS.globexAdmin, 'globex')])
    expect(show.status).toBe(4)
    expect(show.stderr).toMatch(/^Error: no timeline event evt_[0-9a-f]+ in this tenant\n/)

    // A globex token cannot ask for acme's data either.
    const crossed = await stella(['obs', 'timeline', 'list', ...remote(TOKENS.globexAdmin, 'acme')])
    expect(crossed.status).toBe(5)
    expect(crossed.stderr).toContain('missing scope stella:timeline:read#tenant/acme')
  })

  it('exits 5 and names the missing scope for a token without stella:timeline:read', async () => {
    const r = await stella(['obs', 'timeline', 'list', ...remote(TOKENS.noScopes)])
    expect(r.status).toBe(5)
    expect(r.stdout).toBe('')
    const [error, hint, trace, ...rest] = r.stderr.split('\n')
    expect(error).toBe('Error: Forbidden: GET /timeline requires the scope stella:timeline:read#tenant/acme, which this token does not have. (missing scope stella:timeline:read#tenant/acme)')
    expect(hint).toBe('Hint: Ask a StellaOps administrator to grant the scope stella:timeline:read#tenant/acme, then run the command again.')
    expect(trace).toMatch(TRACE_LINE)
    expect(rest).toEqual([''])
  })
})

describe('local files give the same result as the server', () => {
  it('obs logs --from-file', async () => {
    const anchor = server.state.anchor.getTime()
    // The file is in reverse order: stella orders it by time as the server does.
    const file = jsonl('logs.jsonl', [...acme().logs].reverse())
    for (const filters of [
      ['--from', iso(anchor - 20 * 3_600_000), '--to', iso(anchor - 2 * 3_600_000), '--level', 'warn', '--all'],
      ['--from', iso(anchor - 24 * 3_600_000), '--to', iso(anchor), '--service', 'api-gateway', '-q', 'Request', '--limit', '5'],
      ['--trace-id', acme().traces[0]!.traceId],
    ]) {
      const remoteRun = await stella(['obs', 'logs', ...filters, '--json', ...remote()])
      const localRun = await stella(['obs', 'logs', ...filters, '--json', '--from-file', file])
      expect(remoteRun.status).toBe(0)
      expect(JSON.parse(remoteRun.stdout).result.length).toBeGreaterThan(0)
      expect(localRun.stdout).toBe(remoteRun.stdout)
    }
  })

  it('obs timeline list --from-file and show --from-file', async () => {
    const file = jsonl('events.jsonl', [...acme().timeline].reverse())
    const from = acme().timeline[50]!.ts
    const to = acme().timeline[200]!.ts
    for (const filters of [
      ['--from', from, '--to', to, '--kind', 'job.started,job.completed', '--all'],
      ['--project', 'checkout', '--limit', '7'],
    ]) {
      const remoteRun = await stella(['obs', 'timeline', 'list', ...filters, '--json', ...remote()])
      const localRun = await stella(['obs', 'timeline', 'list', ...filters, '--json', '--from-file', file])
      expect(remoteRun.status).toBe(0)
      expect(JSON.parse(remoteRun.stdout).result.length).toBeGreaterThan(0)
      expect(localRun.stdout).toBe(remoteRun.stdout)
    }

    const limited = await stella(['obs', 'timeline', 'list', '--project', 'checkout', '--limit', '7', '--no-color', '--from-file', file])
    expect(limited.stderr).toBe('Warning: more events match than the 7 shown; pass --all for every one, or a larger --limit\n')

    const event = acme().timeline.find((e) => e.links.evidence !== undefined)!
    const remoteShow = await stella(['obs', 'timeline', 'show', event.eventId, '--json', ...remote()])
    const localShow = await stella(['obs', 'timeline', 'show', event.eventId, '--json', '--from-file', file])
    expect(localShow.stdout).toBe(remoteShow.stdout)
  })

  it('names the file and line of a malformed record, and a missing file', async () => {
    const path = join(home.path, 'broken.jsonl')
    writeFileSync(path, `${JSON.stringify(acme().timeline[0])}\n\n{"eventId": "evt_x", "ts": \n`)
    const broken = await stella(['obs', 'timeline', 'list', '--from-file', path])
    expect(broken.status).toBe(3)
    expect(broken.stderr).toMatch(new RegExp(`^Error: ${path}:3 is not JSON: .+\\nHint: The file must hold one JSON object per line \\(JSON lines\\)\\.\\n$`))

    const wrongKind = await stella(['obs', 'logs', '--from-file', jsonl('events.jsonl', acme().timeline.slice(0, 1))])
    expect(wrongKind.status).toBe(3)
    expect(wrongKind.stderr).toBe(`Error: ${join(home.path, 'events.jsonl')}:1 is not a log record with timeUnixNano\nHint: Check that the file holds the kind of records this command reads.\n`)

    const missing = await stella(['obs', 'logs', '--from-file', join(home.path, 'nope.jsonl')])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toBe(`Error: cannot read ${join(home.path, 'nope.jsonl')}: no such file or directory\nHint: Check the path given to --from-file.\n`)
  })
})

function withoutLinks(event: TimelineEventDetail): TimelineEvent {
  const {links: _links, ...rest} = event
  return rest
}
