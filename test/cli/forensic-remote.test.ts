/**
 * The server forms of `stella forensic` against the contract server, over real sockets: the built
 * CLI creates, lists, fetches, holds and verifies bundles the server signs.
 */
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {formatSize} from '../../src/lib/units.js'
import {type ContractServer, type StoredBundle, TOKENS, startContractServer} from '../contract-server/index.js'
import {runCli, scratchDir, spawnCli} from '../helpers/cli.js'

let server: ContractServer
let home: {path: string; cleanup: () => void}
const at = (...parts: string[]) => join(home.path, ...parts)
const as = (token: string, tenant = 'acme') => ['--server', server.url, '--tenant', tenant, '--token', token]
const stella = (args: string[], token = TOKENS.acmeAdmin, tenant = 'acme') => runCli([...args, ...as(token, tenant)], {home: home.path})
const FAST = ['--poll-interval', '10ms']
const CHECKS = 'container, manifest, files, merkle, statement, signatures'

beforeAll(async () => {
  server = await startContractServer()
})
afterAll(async () => {
  await server.close()
})
beforeEach(() => {
  home = scratchDir()
  server.clearFaults()
  server.requests.length = 0
})
afterEach(() => home.cleanup())

const acme = () => server.state.tenants.acme
const seeded = (resourceId: string): StoredBundle => acme().bundles.find((b) => b.resourceId === resourceId)!
const contentRequests = (bundleId: string) => server.requests.filter((r) => r.method === 'GET' && r.path === `/evidence/${bundleId}/content`)
/** Every name in the scratch directory: no bundle, no temp file or directory may be left there. */
const leftovers = () => readdirSync(home.path).filter((name) => name !== '.config')

/** The summary the CLI must print for a bundle the server stores, saved at `out`. */
function expectedSummary(bundle: StoredBundle, out: string, source = 'server'): string {
  const manifest = bundle.manifest!
  const totalBytes = manifest.files.reduce((sum, file) => sum + file.size, 0)
  return [
    `bundle:    ${out}`,
    `bundle id: ${bundle.bundleId}`,
    `case:      ${bundle.caseId}`,
    `kind:      ${bundle.kind}`,
    `root:      ${manifest.merkle.root}`,
    `files:     ${manifest.files.length} (${formatSize(totalBytes)}; ${totalBytes} bytes)`,
    `size:      ${formatSize(bundle.bytes!.length)} compressed`,
    `created:   ${bundle.createdAt}`,
    `signed by: ${server.keyId}`,
    `source:    ${source}`,
    '',
    `VERIFIED before saving: ${CHECKS}`,
    '',
  ].join('\n')
}

describe('stella forensic snapshot create (server)', () => {
  it('asks for a snapshot, polls until it is ready, downloads it, verifies it and saves it', async () => {
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'case-42', '--scope', 'eval', '--id', 'eval-100', '--key', server.publicKeyPath, ...FAST])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const created = acme().bundles.at(-1)!
    expect(created).toMatchObject({caseId: 'case-42', kind: 'evaluation', resourceId: 'eval-100', status: 'ready'})
    expect(r.stdout).toBe(expectedSummary(created, `${created.bundleId}.tgz`))
    expect(readFileSync(at(`${created.bundleId}.tgz`)).equals(created.bytes!)).toBe(true)
    expect(leftovers()).toEqual([`${created.bundleId}.tgz`])

    const snapshotRequests = server.requests.filter((req) => req.method === 'POST' && req.path === '/evidence/snapshot')
    expect(snapshotRequests.map((req) => req.body)).toEqual([{kind: 'evaluation', resourceId: 'eval-100', caseId: 'case-42'}])
    // The contract server answers pending until the second poll.
    expect(server.requests.filter((req) => req.path === `/evidence/${created.bundleId}`)).toHaveLength(2)

    const verified = await runCli(['forensic', 'verify', `${created.bundleId}.tgz`, '--key', server.publicKeyPath], {home: home.path})
    expect(verified.status).toBe(0)
    expect(verified.stdout).toContain(`VERIFIED: every check passed; root ${created.manifest!.merkle.root}`)
  })

  it('takes --kind as --scope, writes --out, and gives the local summary plus source and verification in --json', async () => {
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'inc-7', '--kind', 'job', '--id', 'job-77', '--key', server.publicKeyPath, '--out', 'inc-7.tgz', '--json', ...FAST])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const created = acme().bundles.at(-1)!
    const manifest = created.manifest!
    const envelope = JSON.parse(r.stdout)
    expect(envelope).toEqual({
      status: 0,
      warnings: [],
      result: {
        source: 'server',
        out: 'inc-7.tgz',
        bundleId: created.bundleId,
        caseId: 'inc-7',
        kind: 'job',
        root: manifest.merkle.root,
        fileCount: manifest.files.length,
        totalBytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
        bundleBytes: created.bytes!.length,
        signerKeyIds: [server.keyId],
        createdAt: created.createdAt,
        download: {resumes: 0, restarts: 0, sha256: expect.stringMatching(/^[0-9a-f]{64}$/)},
        verification: {
          ok: true,
          checks: ['container', 'manifest', 'files', 'merkle', 'statement', 'signatures'].map((check) => ({check, status: 'ok', message: expect.any(String)})),
          trustedKeyIds: [server.keyId],
          verifiedKeyIds: [server.keyId],
        },
      },
    })
    expect(existsSync(at('inc-7.tgz'))).toBe(true)
  })

  it('a snapshot the server could not build is exit 4 with the server\'s reason', async () => {
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'case-42', '--scope', 'job', '--id', 'fail-x', '--key', server.publicKeyPath, ...FAST])
    const failed = acme().bundles.at(-1)!
    expect(r.status).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `Error: the server could not build snapshot ${failed.bundleId}: evidence collection failed: job fail-x has no recorded evidence\n` +
        `Hint: Check the case, kind and resource id; the server keeps the failed snapshot, see \`stella forensic snapshot get ${failed.bundleId}\`.\n` +
        `trace_id=${server.requests.at(-1)!.headers.traceparent!.split('-')[1]}\n`,
    )
    expect(leftovers()).toEqual([])
  })

  it('gives up after --wait-timeout with exit 4, saying how to fetch the bundle later', async () => {
    server.state.readyAfterPolls = 1_000_000
    try {
      const r = await stella(['forensic', 'snapshot', 'create', '--case', 'case-42', '--scope', 'job', '--id', 'job-slow', '--key', server.publicKeyPath, '--poll-interval', '20ms', '--wait-timeout', '300ms'])
      const pending = acme().bundles.at(-1)!
      expect(r.status).toBe(4)
      expect(r.stderr).toBe(
        `Error: snapshot ${pending.bundleId} was still pending after 300ms\n` +
          `Hint: It may still finish: fetch it later with \`stella forensic snapshot download ${pending.bundleId} --key …\`, or wait longer with --wait-timeout.\n`,
      )
      // Backing off from 20ms by half each time, 300ms allows only a handful of polls.
      expect(pending.polls).toBeGreaterThanOrEqual(2)
      expect(pending.polls).toBeLessThanOrEqual(7)
      expect(leftovers()).toEqual([])
    } finally {
      server.state.readyAfterPolls = 2
    }
  })

  it('a bundle that fails verification is exit 1 and leaves nothing at --out, and no temp file', async () => {
    server.inject('GET /evidence/:id/content', {tamper: 'flip-byte'})
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'case-42', '--scope', 'export', '--id', 'export-9', '--key', server.publicKeyPath, '--out', 'x.tgz', ...FAST])
    const created = acme().bundles.at(-1)!
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`^Error: the bundle ${created.bundleId} from the server failed verification \\(container: .+\\); it was not saved\\n`))
    expect(r.stderr).toContain('Hint: Do not use this copy.')
    expect(leftovers()).toEqual([])
  })

  it('checks the trusted key before asking the server for work', async () => {
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'case-42', '--scope', 'job', '--id', 'job-1', ...FAST])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(
      'Error: a bundle from the server is verified before it is saved, and no trusted public key was given\n' +
        "Hint: Pass --key with the platform's public key (e.g. --key platform.pub.pem); repeat it for several keys.\n",
    )
    expect(server.requests).toEqual([])
  })

  it('a reader token may not create snapshots: exit 5 naming the missing scope', async () => {
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'case-42', '--scope', 'job', '--id', 'job-1', '--key', server.publicKeyPath, ...FAST], TOKENS.acmeReader)
    expect(r.status).toBe(5)
    const traceId = server.requests.at(-1)!.headers.traceparent!.split('-')[1]
    expect(r.stderr).toBe(
      'Error: Forbidden: POST /evidence/snapshot requires the scope stella:evidence:create#tenant/acme, which this token does not have. (missing scope stella:evidence:create#tenant/acme)\n' +
        'Hint: Ask a StellaOps administrator to grant the scope stella:evidence:create#tenant/acme, then run the command again.\n' +
        `trace_id=${traceId}\n`,
    )
  })

  it('refuses flags of the other form', async () => {
    const r = await stella(['forensic', 'snapshot', 'create', '--case', 'c', '--scope', 'job', '--id', 'j', '--created-at', '2026-11-22T10:00:00Z', '--key', server.publicKeyPath])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('Error: --created-at is only for a local bundle built with --from\nHint: Drop it, or choose the other form.\n')
    const telemetry = await stella(['forensic', 'snapshot', 'create', '--case', 'c', '--kind', 'telemetry', '--id', 'j', '--key', server.publicKeyPath])
    expect(telemetry.status).toBe(2)
    expect(telemetry.stderr).toMatch(/^Error: the server snapshots evaluations, jobs and exports; telemetry comes from `stella telemetry capture`\n/)
    const nothing = await stella(['forensic', 'snapshot', 'create', '--case', 'c'])
    expect(nothing.status).toBe(2)
    expect(nothing.stderr).toBe(
      'Error: say what to snapshot: --scope and --id for a server snapshot, or --from PATH for a local bundle\n' +
        'Hint: e.g. `stella forensic snapshot create --case case-42 --scope eval --id eval-9 --key platform.pub.pem`.\n',
    )
    expect(server.requests).toEqual([])
  })
})

describe('stella forensic snapshot download', () => {
  it('downloads and verifies a bundle, and refuses to replace a file without --force', async () => {
    const bundle = seeded('eval-9')
    const r = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'case-42.tgz'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(expectedSummary(bundle, 'case-42.tgz'))
    expect(readFileSync(at('case-42.tgz')).equals(bundle.bytes!)).toBe(true)

    writeFileSync(at('case-42.tgz'), 'mine')
    const again = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'case-42.tgz'])
    expect(again.status).toBe(2)
    expect(again.stderr).toBe('Error: case-42.tgz already exists\nHint: Choose another path, or pass --force to replace it.\n')
    expect(readFileSync(at('case-42.tgz'), 'utf8')).toBe('mine')
    const forced = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'case-42.tgz', '--force'])
    expect(forced.status).toBe(0)
    expect(readFileSync(at('case-42.tgz')).equals(bundle.bytes!)).toBe(true)
    expect(leftovers()).toEqual(['case-42.tgz'])
  })

  it('under a key that did not sign it, the bundle is not saved (exit 1)', async () => {
    const bundle = seeded('job-8812')
    const other = join(home.path, 'other.pub.pem')
    writeFileSync(other, readFileSync(new URL('../../examples/keys/platform.pub.pem', import.meta.url)))
    const r = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', other, '--json'])
    expect(r.status).toBe(1)
    const envelope = JSON.parse(r.stdout)
    expect(envelope.error.code).toBe('DOWNLOAD_NOT_VERIFIED')
    expect(envelope.error.message).toMatch(new RegExp(`^the bundle ${bundle.bundleId} from the server failed verification \\(signatures: .+\\); it was not saved$`))
    expect(leftovers()).toEqual(['other.pub.pem'])
  })

  it('resumes a download whose connection dropped, with a Range request', async () => {
    const bundle = seeded('eval-9')
    server.inject('GET /evidence/:id/content', {dropAfterBytes: 700}, {times: 1})
    const r = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'b.tgz', '--json'])
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).result.download).toMatchObject({resumes: 1, restarts: 0})
    const requests = contentRequests(bundle.bundleId)
    expect(requests).toHaveLength(2)
    expect(requests[0]!.headers.range).toBeUndefined()
    expect(requests[1]!.headers.range).toBe('bytes=700-')
    expect(readFileSync(at('b.tgz')).equals(bundle.bytes!)).toBe(true)
    expect(leftovers()).toEqual(['b.tgz'])
  })

  it('starts over when the dropped response had no Content-Length to resume from', async () => {
    const bundle = seeded('job-8812')
    server.inject('GET /evidence/:id/content', {noContentLength: true}, {times: 1})
    server.inject('GET /evidence/:id/content', {dropAfterBytes: 700}, {times: 1})
    const r = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'b.tgz', '--json'])
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).result.download).toMatchObject({resumes: 0, restarts: 1})
    const requests = contentRequests(bundle.bundleId)
    expect(requests).toHaveLength(2)
    expect(requests.map((req) => req.headers.range)).toEqual([undefined, undefined])
    expect(readFileSync(at('b.tgz')).equals(bundle.bytes!)).toBe(true)
    expect(leftovers()).toEqual(['b.tgz'])
  })

  it('Ctrl-C during a slow download exits 130 and leaves nothing behind', async () => {
    const bundle = seeded('export-311')
    server.inject('GET /evidence/:id/content', {delayMs: 30_000})
    const child = spawnCli(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'slow.tgz', ...as(TOKENS.acmeAdmin)], {home: home.path})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const deadline = Date.now() + 20_000
    while (contentRequests(bundle.bundleId).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(contentRequests(bundle.bundleId)).toHaveLength(1)
    // The download is under way: its temp directory exists beside --out.
    expect(leftovers().filter((name) => name.startsWith('.slow.tgz.'))).toHaveLength(1)
    child.kill('SIGINT')
    const status = await new Promise((resolve) => child.on('close', resolve))
    expect(status).toBe(130)
    expect(stderr).toContain('Interrupted (SIGINT); nothing was left half-written.')
    expect(leftovers()).toEqual([])
  })

  it('another tenant cannot see a bundle: 404, exit 4', async () => {
    const bundle = seeded('eval-9')
    const download = await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath], TOKENS.globexAdmin, 'globex')
    expect(download.status).toBe(4)
    expect(download.stderr).toMatch(new RegExp(`^Error: Not found: The bundle ${bundle.bundleId} does not exist in this tenant\\.\\nHint: Check the id or name; it must exist in tenant globex\\.\\ntrace_id=[0-9a-f]{32}\\n$`))
    expect(leftovers()).toEqual([])

    const get = await stella(['forensic', 'snapshot', 'get', bundle.bundleId], TOKENS.globexAdmin, 'globex')
    expect(get.status).toBe(4)
    expect(get.stderr).toMatch(new RegExp(`^Error: Not found: The bundle ${bundle.bundleId} does not exist in this tenant\\.\\n`))
  })
})

describe('stella forensic snapshot list and get', () => {
  it('lists one page, says how to get more, and follows every page with --all', async () => {
    const page = await stella(['forensic', 'snapshot', 'list', '--limit', '2'])
    expect(page.status).toBe(0)
    const [first, second] = acme().bundles.slice(0, 2)
    const row = (b: StoredBundle) => [b.bundleId, b.caseId, b.kind, b.status, b.createdAt, `${b.manifest!.merkle.root.slice(0, 12)}…`, `${server.keyId.slice(0, 16)}…`]
    const lines = page.stdout.trimEnd().split('\n')
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['BUNDLE ID', 'CASE', 'KIND', 'STATUS', 'CREATED', 'ROOT', 'SIGNER'])
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([row(first!), row(second!)])
    expect(page.stderr).toMatch(/^More bundles: pass --all, or --cursor \S+ for the next page\.\n$/)

    const all = await stella(['forensic', 'snapshot', 'list', '--limit', '2', '--all', '--json'])
    expect(all.status).toBe(0)
    const result = JSON.parse(all.stdout).result
    expect(result.nextCursor).toBeNull()
    expect(result.items.map((item: {bundleId: string}) => item.bundleId)).toEqual(acme().bundles.map((b) => b.bundleId))
    // --all walked the pages: ceil(n / 2) requests, each after the first with a cursor.
    const lists = server.requests.filter((req) => req.path === '/evidence' && req.query.limit === '2')
    expect(lists.length).toBe(1 + Math.ceil(acme().bundles.length / 2))
    expect(lists.slice(2).every((req) => req.query.cursor !== undefined)).toBe(true)

    const filtered = await stella(['forensic', 'snapshot', 'list', '--case', 'case-7', '--json'])
    expect(JSON.parse(filtered.stdout).result).toEqual({items: [expect.objectContaining({bundleId: seeded('export-311').bundleId, caseId: 'case-7', kind: 'export'})], nextCursor: null})
  })

  it('gets a bundle\'s record and manifest, the same manifest as the local form on the downloaded file', async () => {
    const bundle = seeded('job-8812')
    const remote = await stella(['forensic', 'snapshot', 'get', bundle.bundleId])
    expect(remote.status).toBe(0)
    expect(remote.stdout.split('\n')[0]).toBe('Not verified: this is what the server says. `stella forensic snapshot download` fetches and verifies the bundle.')
    expect(remote.stdout).toContain(`\nbundle id:  ${bundle.bundleId}\nstatus:     ready\nkind:       job\ntenant:     acme\ncase:       case-42\nsubject:    job job-8812\ncreated:    ${bundle.createdAt}\n`)
    for (const file of bundle.manifest!.files) expect(remote.stdout).toContain(`\n${file.path.padEnd(Math.max(4, ...bundle.manifest!.files.map((f) => f.path.length)))}  `)

    expect((await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'job.tgz'])).status).toBe(0)
    const remoteJson = JSON.parse((await stella(['forensic', 'snapshot', 'get', bundle.bundleId, '--json'])).stdout).result
    const localJson = JSON.parse((await runCli(['forensic', 'snapshot', 'get', 'job.tgz', '--json'], {home: home.path})).stdout).result
    expect(remoteJson.source).toBe('server')
    expect(localJson.source).toBe('file')
    expect(remoteJson.manifest).toEqual(localJson.manifest)
    expect(remoteJson.manifest).toEqual(JSON.parse(JSON.stringify(bundle.manifest)))
    expect(remoteJson).toMatchObject({bundle: bundle.bundleId, status: 'ready', verified: false, signatures: [{keyid: server.keyId}], totalBytes: localJson.totalBytes})
  })
})

describe('stella forensic hold', () => {
  it('places and releases a hold with its reason', async () => {
    const placed = await stella(['forensic', 'hold', 'case-42', '--reason', 'litigation hold, LEGAL-7'])
    expect(placed.status).toBe(0)
    const held = acme().holds['case-42']!
    expect(held).toMatchObject({caseId: 'case-42', hold: true, reason: 'litigation hold, LEGAL-7'})
    expect(placed.stdout).toBe(`case:    case-42\nhold:    on\nreason:  litigation hold, LEGAL-7\nchanged: ${held.changedAt}\n`)

    const released = await stella(['forensic', 'hold', 'case-42', '--release', '--reason', 'LEGAL-7 closed', '--json'])
    expect(released.status).toBe(0)
    expect(JSON.parse(released.stdout).result).toEqual({caseId: 'case-42', hold: false, reason: 'LEGAL-7 closed', changedAt: acme().holds['case-42']!.changedAt})
    expect(server.requests.filter((req) => req.path === '/evidence/hold/case-42').map((req) => req.body)).toEqual([
      {hold: true, reason: 'litigation hold, LEGAL-7'},
      {hold: false, reason: 'LEGAL-7 closed'},
    ])
  })

  it('requires a reason', async () => {
    const missing = await stella(['forensic', 'hold', 'case-42'])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain('Missing required flag reason')
    const empty = await stella(['forensic', 'hold', 'case-42', '--reason', '  '])
    expect(empty.status).toBe(2)
    expect(empty.stderr).toBe('Error: the reason is empty\nHint: Say why with --reason, e.g. --reason "litigation hold, ticket LEGAL-7".\n')
    expect(server.requests).toEqual([])
  })
})

describe('stella forensic verify --server-check', () => {
  async function downloaded(resourceId: string): Promise<StoredBundle> {
    const bundle = seeded(resourceId)
    expect((await stella(['forensic', 'snapshot', 'download', bundle.bundleId, '--key', server.publicKeyPath, '--out', 'b.tgz'])).status).toBe(0)
    return bundle
  }

  /** The side-by-side table: one row per check, then the verdicts; columns two spaces apart. */
  const table = (local: string[], server: string[]) => {
    const names = ['CHECK', 'container', 'manifest', 'files', 'merkle', 'statement', 'signatures', 'verdict']
    const left = ['LOCAL', ...local]
    const width = Math.max(...left.map((cell) => cell.length))
    return names.map((name, i) => `${name.padEnd(10)}  ${left[i]!.padEnd(width)}  ${['SERVER', ...server][i]}`).join('\n')
  }
  const ok = [...Array.from({length: 6}, () => '✓ ok'), 'VERIFIED']

  it('shows the local report, then both verdicts side by side when they agree', async () => {
    const bundle = await downloaded('eval-9')
    const r = await stella(['forensic', 'verify', 'b.tgz', '--key', server.publicKeyPath, '--server-check'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`VERIFIED: every check passed; root ${bundle.manifest!.merkle.root}\n\n${table(ok, ok)}\n`)
    expect(server.requests.filter((req) => req.path === '/evidence/verify').map((req) => req.body)).toEqual([{bundleId: bundle.bundleId}])

    const json = JSON.parse((await stella(['forensic', 'verify', 'b.tgz', '--key', server.publicKeyPath, '--server-check', '--json'])).stdout)
    expect(json.status).toBe(0)
    expect(json.result.report.ok).toBe(true)
    expect(json.result.server).toMatchObject({bundleId: bundle.bundleId, verified: true})
  })

  it('is exit 1 VERDICT_DISAGREEMENT when the server no longer vouches for its copy', async () => {
    const bundle = await downloaded('job-8812')
    const original = bundle.bytes!
    const damaged = Buffer.from(original)
    damaged[damaged.length - 12]! ^= 0xff
    bundle.bytes = damaged
    try {
      const r = await stella(['forensic', 'verify', 'b.tgz', '--key', server.publicKeyPath, '--server-check'])
      expect(r.status).toBe(1)
      expect(r.stdout).toContain('VERIFIED: every check passed;')
      expect(r.stdout).toMatch(/\nverdict\s+VERIFIED\s+NOT VERIFIED\n/)
      expect(r.stderr).toMatch(new RegExp(`^Error: the verdicts disagree: locally the bundle is verified, the server says NOT verified for ${bundle.bundleId} \\(the server's failed checks: container: .+\\)\\n`))
      const json = JSON.parse((await stella(['forensic', 'verify', 'b.tgz', '--key', server.publicKeyPath, '--server-check', '--json'])).stdout)
      expect(json).toMatchObject({status: 1, error: {code: 'VERDICT_DISAGREEMENT'}})
    } finally {
      bundle.bytes = original
    }
  })

  it('is exit 1 VERDICT_DISAGREEMENT when the local copy was altered but the server vouches for its own', async () => {
    const bundle = await downloaded('export-311')
    const copy = readFileSync(at('b.tgz'))
    copy[copy.length - 12]! ^= 0xff
    writeFileSync(at('b.tgz'), copy)
    const r = await stella(['forensic', 'verify', 'b.tgz', '--key', server.publicKeyPath, '--server-check', '--bundle-id', bundle.bundleId])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain('NOT VERIFIED: ')
    expect(r.stdout).toMatch(/\nverdict\s+NOT VERIFIED\s+VERIFIED\n/)
    expect(r.stderr).toMatch(new RegExp(`^Error: the verdicts disagree: locally the bundle is NOT verified, the server says verified for ${bundle.bundleId} \\(the local failed checks: container: .+\\)\\nHint: Your copy differs from what the server holds: download the bundle again and verify that copy\\.\\n$`))
  })

  it('prints the local report first, then exits 4 when the server cannot be reached', async () => {
    await downloaded('eval-9')
    const closed = await startContractServer()
    const url = closed.url
    await closed.close()
    const r = await runCli(['forensic', 'verify', 'b.tgz', '--key', server.publicKeyPath, '--server-check', '--server', url, '--tenant', 'acme', '--token', TOKENS.acmeAdmin, '--retries', '0'], {home: home.path})
    expect(r.status).toBe(4)
    expect(r.stdout).toContain('VERIFIED: every check passed;')
    expect(r.stderr).toMatch(new RegExp(`^Error: cannot connect to ${url.replaceAll('.', '\\.')}: connection refused\\nHint: Check the server URL and port, and that the server is running\\.\\ntrace_id=[0-9a-f]{32}\\n$`))
  })
})
