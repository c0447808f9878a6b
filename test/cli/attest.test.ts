import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import type {AttestationRecord} from '../../src/lib/api/types.js'
import {generatePrivateKey, publicKeyToPem} from '../../src/lib/keys/index.js'
import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {FIXTURE_ARTIFACT, fixtureDir, fixtureKey, provenanceStatement, sha256Hex, signStatement} from '../helpers/attest.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'

let home: {path: string; cleanup: () => void}
let server: ContractServer
const at = (...parts: string[]) => join(home.path, ...parts)
const stella = (args: string[]) => runCli(args, {home: home.path})
const SIDECAR = `${FIXTURE_ARTIFACT}.intoto.jsonl`
const KEYID = fixtureKey().public.keyid
const ARTIFACT_SHA256 = sha256Hex(readFileSync(join(fixtureDir, FIXTURE_ARTIFACT)))

beforeAll(async () => {
  server = await startContractServer()
})
afterAll(async () => server.close())

beforeEach(() => {
  home = scratchDir()
  copyFileSync(join(fixtureDir, FIXTURE_ARTIFACT), at(FIXTURE_ARTIFACT))
  copyFileSync(join(fixtureDir, SIDECAR), at(SIDECAR))
  copyFileSync(join(projectRoot, 'test', 'fixtures', 'keys', 'ed25519-pub.pem'), at('builder.pub.pem'))
  writeFileSync(at('other.pub.pem'), publicKeyToPem(generatePrivateKey().public))
  server.requests.length = 0
})
afterEach(() => home.cleanup())

const CHECKS_OK = [
  `  ✓ signature      signed by 1 trusted key (${KEYID.slice(0, 16)}); threshold 1 met`,
  '  ✓ payloadType    application/vnd.in-toto+json',
  '  ✓ statement      in-toto Statement v1 with 1 subject',
  `  ✓ subject        subject "${FIXTURE_ARTIFACT}" has the artifact's sha256`,
  '  ✓ predicateType  https://slsa.dev/provenance/v1 (SLSA provenance v1)',
]

const HEADER = [FIXTURE_ARTIFACT, `  sha256: ${ARTIFACT_SHA256}`, `  found:  1 attestation in ${SIDECAR}`, '']

describe('stella forensic attest (local)', () => {
  it('show finds the sidecar, prints every check and the SLSA provenance, exit 0', async () => {
    const r = await stella(['forensic', 'attest', 'show', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(
      [
        ...HEADER,
        `Attestation 1 of 1: ${SIDECAR}:1`,
        ...CHECKS_OK,
        '',
        '  Provenance (SLSA v1)',
        '    builder:    https://github.com/actions/runner/github-hosted',
        '    build type: https://actions.github.io/buildtypes/workflow/v1',
        '    invocation: https://github.com/acme/app/actions/runs/1042/attempts/1',
        '    started:    2026-11-22T10:00:00Z',
        '    finished:   2026-11-22T10:04:12Z (took 4m12s)',
        '',
        '    EXTERNAL PARAMETER   VALUE',
        '    workflow.ref         refs/tags/v1.2.3',
        '    workflow.repository  https://github.com/acme/app',
        '    workflow.path        .github/workflows/release.yml',
        '',
        '    RESOLVED DEPENDENCY                               DIGEST',
        '    git+https://github.com/acme/app@refs/tags/v1.2.3  gitCommit:7fd1a60b01f91b31…',
        '    pkg:npm/left-pad@1.3.0                            sha256:f0b8a9c0c9b5a2f1…',
        '',
        '✓ The attestation passed every check.',
        '',
      ].join('\n'),
    )
  })

  it('verify passes the sidecar with exit 0, and fails it under another key with exit 1', async () => {
    const ok = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem'])
    expect(ok.stderr).toBe('')
    expect(ok.status).toBe(0)
    expect(ok.stdout).toBe([...HEADER, `Attestation 1 of 1: ${SIDECAR}:1`, ...CHECKS_OK, '', `VERIFIED: the attestation of ${FIXTURE_ARTIFACT} passed every check.`, ''].join('\n'))

    const wrongKey = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'other.pub.pem'])
    expect(wrongKey.stderr).toBe('')
    expect(wrongKey.status).toBe(1)
    expect(wrongKey.stdout).toBe(
      [
        ...HEADER,
        `Attestation 1 of 1: ${SIDECAR}:1`,
        '  ✗ signature      NO_TRUSTED_SIGNATURE: the signature does not verify with any trusted key',
        ...CHECKS_OK.slice(1),
        '',
        `NOT VERIFIED: 1 of 1 attestation failed (attestation 1: NO_TRUSTED_SIGNATURE). Do not rely on what they say about ${FIXTURE_ARTIFACT}.`,
        '',
      ].join('\n'),
    )

    // show reads and displays the same failure, and exits 0: it is a summary, not a verdict.
    const show = await stella(['forensic', 'attest', 'show', FIXTURE_ARTIFACT, '--key', 'other.pub.pem'])
    expect(show.status).toBe(0)
    expect(show.stdout).toContain('  Provenance (SLSA v1) (not verified: see the checks above)\n')
    expect(show.stdout).toMatch(/\n✗ 0 of 1 attestation passed every check\.\n$/)
  })

  it('--attestation reads the given files only: .dsse.json and every line of .intoto.jsonl', async () => {
    const key = fixtureKey()
    writeFileSync(at('build.dsse.json'), JSON.stringify(signStatement(provenanceStatement(ARTIFACT_SHA256), [key]), null, 2))
    const lines = [signStatement(provenanceStatement(sha256Hex('something else'), 'else.bin'), [key]), signStatement({...provenanceStatement(ARTIFACT_SHA256), predicateType: 'https://example.com/scan/v1', predicate: {}}, [key])]
    writeFileSync(at('more.intoto.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n'))

    const r = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem', '--attestation', 'build.dsse.json', '--attestation', 'more.intoto.jsonl'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1)
    const titles = r.stdout.split('\n').filter((line) => line.startsWith('Attestation ') || line.startsWith('  found:'))
    expect(titles).toEqual(['  found:  3 attestations in build.dsse.json, more.intoto.jsonl', 'Attestation 1 of 3: build.dsse.json', 'Attestation 2 of 3: more.intoto.jsonl:1', 'Attestation 3 of 3: more.intoto.jsonl:2'])
    expect(r.stdout).toContain(`  ✗ subject        SUBJECT_DIGEST_MISMATCH: no subject has the artifact's sha256 (${ARTIFACT_SHA256.slice(0, 16)}…); the statement is about "else.bin" sha256:${sha256Hex('something else').slice(0, 16)}…\n`)
    expect(r.stdout).toMatch(/\nNOT VERIFIED: 1 of 3 attestations failed \(attestation 2: SUBJECT_DIGEST_MISMATCH\)\. /)

    const show = await stella(['forensic', 'attest', 'show', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem', '--attestation', 'more.intoto.jsonl'])
    expect(show.status).toBe(0)
    expect(show.stdout).toContain('  Predicate https://example.com/scan/v1: no summary is available for this predicate type (--json has the whole statement).\n')
  })

  it('--json returns the typed result in the envelope, with status 1 when verify fails', async () => {
    const r = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem', '--json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const envelope = JSON.parse(r.stdout)
    expect(envelope).toEqual({
      status: 0,
      warnings: [],
      result: {
        artifact: {path: FIXTURE_ARTIFACT, sha256: ARTIFACT_SHA256},
        source: 'local',
        lookedIn: [SIDECAR],
        verified: true,
        attestations: [
          {
            source: `${SIDECAR}:1`,
            ok: true,
            checks: [
              {check: 'signature', ok: true, message: `signed by 1 trusted key (${KEYID.slice(0, 16)}); threshold 1 met`},
              {check: 'payloadType', ok: true, message: 'application/vnd.in-toto+json'},
              {check: 'statement', ok: true, message: 'in-toto Statement v1 with 1 subject'},
              {check: 'subject', ok: true, message: `subject "${FIXTURE_ARTIFACT}" has the artifact's sha256`},
              {check: 'predicateType', ok: true, message: 'https://slsa.dev/provenance/v1 (SLSA provenance v1)'},
            ],
            signedBy: [KEYID],
            statement: provenanceStatement(ARTIFACT_SHA256),
            provenance: {
              builderId: 'https://github.com/actions/runner/github-hosted',
              buildType: 'https://actions.github.io/buildtypes/workflow/v1',
              externalParameters: {workflow: {ref: 'refs/tags/v1.2.3', repository: 'https://github.com/acme/app', path: '.github/workflows/release.yml'}},
              resolvedDependencies: [
                {uri: 'git+https://github.com/acme/app@refs/tags/v1.2.3', digest: {gitCommit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d'}},
                {uri: 'pkg:npm/left-pad@1.3.0', digest: {sha256: 'f0b8a9c0c9b5a2f1d0e6c5a3b7e4d2c1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5'}},
              ],
              invocationId: 'https://github.com/acme/app/actions/runs/1042/attempts/1',
              startedOn: '2026-11-22T10:00:00Z',
              finishedOn: '2026-11-22T10:04:12Z',
              durationMs: 252_000,
            },
          },
        ],
      },
    })

    const failed = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'other.pub.pem', '--json'])
    expect(failed.status).toBe(1)
    const negative = JSON.parse(failed.stdout)
    expect(negative.status).toBe(1)
    expect(negative.result.verified).toBe(false)
    expect(negative.result.attestations[0].checks[0]).toEqual({check: 'signature', ok: false, reason: 'NO_TRUSTED_SIGNATURE', message: 'the signature does not verify with any trusted key'})
  })

  it('says where it looked when there is no attestation (exit 1), and exits 3 for unreadable inputs', async () => {
    writeFileSync(at('lonely.bin'), 'no attestation\n')
    const none = await stella(['forensic', 'attest', 'verify', 'lonely.bin', '--key', 'builder.pub.pem'])
    expect(none.stdout).toBe('')
    expect(none.status).toBe(1)
    expect(none.stderr).toBe(
      'Error: no attestation found for lonely.bin: looked for lonely.bin.intoto.jsonl and lonely.bin.dsse.json, and no server is configured\n' +
        'Hint: Put the attestation beside the artifact under one of those names, pass --attestation FILE, or ask a server with --server, --tenant and --token.\n',
    )
    const noneJson = await stella(['forensic', 'attest', 'show', 'lonely.bin', '--json'])
    expect(noneJson.status).toBe(1)
    expect(JSON.parse(noneJson.stdout).error).toMatchObject({code: 'NO_ATTESTATION'})

    const missing = await stella(['forensic', 'attest', 'show', 'nope.bin'])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toBe('Error: cannot read the artifact nope.bin: no such file or directory\nHint: Check the path: the artifact itself is hashed to find and check its attestations.\n')

    writeFileSync(at('broken.intoto.jsonl'), `${readFileSync(at(SIDECAR), 'utf8')}{"payloadType":\n`)
    const broken = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem', '--attestation', 'broken.intoto.jsonl'])
    expect(broken.status).toBe(3)
    expect(broken.stdout).toBe('')
    expect(broken.stderr).toMatch(/^Error: broken\.intoto\.jsonl line 2: is not valid JSON \(.+\)\nHint: Check that this is the right file; a DSSE envelope is /)

    const absent = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', 'builder.pub.pem', '--attestation', 'absent.dsse.json'])
    expect(absent.status).toBe(3)
    expect(absent.stderr).toBe('Error: cannot read the attestation absent.dsse.json: no such file or directory\nHint: Check the path, and that you are allowed to read the file.\n')

    const badKey = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT, '--key', SIDECAR])
    expect(badKey.status).toBe(3)
    expect(badKey.stderr).toMatch(/^Error: key file app-1\.2\.3\.bin\.intoto\.jsonl/)

    const noKey = await stella(['forensic', 'attest', 'verify', FIXTURE_ARTIFACT])
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toContain('Missing required flag key')

    const both = await stella(['forensic', 'attest', 'show', FIXTURE_ARTIFACT, '--local', '--remote'])
    expect(both.status).toBe(2)
  })
})

describe('stella forensic attest (server)', () => {
  const remote = (tenant = 'acme', token = TOKENS.acmeAdmin) => ['--server', server.url, '--tenant', tenant, '--token', token]
  const artifactOf = (name: string) => {
    const artifact = server.state.tenants.acme.artifacts.find((a) => a.name === name)
    if (!artifact) throw new Error(`no seeded artifact ${name}`)
    writeFileSync(at(name), artifact.bytes)
    return {name, sha256: sha256Hex(artifact.bytes), record: server.state.tenants.acme.attestations.find((a) => a.subjectDigest === `sha256:${sha256Hex(artifact.bytes)}`)!}
  }

  it('asks GET /attestations?subjectDigest when no file lies beside the artifact, and verifies locally', async () => {
    const artifact = artifactOf('acme-api-2.14.1.tar.gz')
    const r = await stella(['forensic', 'attest', 'show', artifact.name, '--key', server.publicKeyPath, ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.slice(0, 11)).toEqual([
      artifact.name,
      `  sha256: ${artifact.sha256}`,
      `  found:  1 attestation from ${server.url} (tenant acme)`,
      '',
      `Attestation 1 of 1: ${artifact.record.id} (server)`,
      `  ✓ signature      signed by 1 trusted key (${server.keyId.slice(0, 16)}); threshold 1 met`,
      '  ✓ payloadType    application/vnd.in-toto+json',
      '  ✓ statement      in-toto Statement v1 with 1 subject',
      `  ✓ subject        subject "${artifact.name}" has the artifact's sha256`,
      '  ✓ predicateType  https://slsa.dev/provenance/v1 (SLSA provenance v1)',
      '',
    ])
    expect(r.stdout).toContain('    builder:    https://stella-ops.org/builders/runner/v3\n')
    expect(r.stdout).toContain('    source.uri          git+https://git.example/acme/api\n')
    expect(server.requests.filter((request) => request.path === '/attestations').map((request) => request.query)).toEqual([{subjectDigest: `sha256:${artifact.sha256}`, limit: '1000'}])
    expect(server.requests[0]?.headers['x-stella-tenant']).toBe('acme')

    const verify = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, ...remote()])
    expect(verify.status).toBe(0)
    expect(verify.stdout).toMatch(/\nVERIFIED: the attestation of acme-api-2\.14\.1\.tar\.gz passed every check\.\n$/)
  })

  it('gives the same typed result from the server and from the same envelope in a local file', async () => {
    const artifact = artifactOf('policy-bundle-14.tgz')
    const remoteRun = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, '--json', ...remote()])
    writeFileSync(at('policy.dsse.json'), JSON.stringify(artifact.record.envelope))
    const localRun = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, '--json', '--attestation', 'policy.dsse.json'])
    expect(remoteRun.status).toBe(0)
    expect(localRun.status).toBe(0)
    const fromServer = JSON.parse(remoteRun.stdout).result
    const fromFile = JSON.parse(localRun.stdout).result
    expect(fromServer.source).toBe('server')
    expect(fromFile.source).toBe('local')
    expect(fromServer.attestations.map(({id, source, ...rest}: {id: string; source: string}) => ({id, source, rest}))).toEqual([{id: artifact.record.id, source: 'server', rest: expect.anything()}])
    const strip = ({id: _id, source: _source, ...rest}: {id?: string; source: string}) => rest
    expect(fromServer.attestations.map(strip)).toEqual(fromFile.attestations.map(strip))
    expect(fromServer.artifact).toEqual(fromFile.artifact)
    expect(fromServer.verified).toBe(true)
    expect(fromServer.attestations[0].provenance.builderId).toBe('https://stella-ops.org/builders/runner/v3')
  })

  it('keeps tenants apart: globex does not see acme attestations, nor may it ask for acme', async () => {
    const artifact = artifactOf('acme-api-2.14.1.tar.gz')
    const globex = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, ...remote('globex', TOKENS.globexAdmin)])
    expect(globex.stdout).toBe('')
    expect(globex.status).toBe(1)
    expect(globex.stderr).toBe(
      `Error: no attestation found for ${artifact.name} (sha256:${artifact.sha256}) on ${server.url} (tenant globex)\n` +
        'Hint: Check that this is the artifact that was built and the tenant it was built for, or check a local attestation with --attestation FILE.\n',
    )

    const crossTenant = await stella(['forensic', 'attest', 'show', artifact.name, ...remote('acme', TOKENS.globexAdmin)])
    expect(crossTenant.stdout).toBe('')
    expect(crossTenant.status).toBe(5)
    const denied =
      'Error: Forbidden: GET /attestations requires the scope stella:attest:read#tenant/acme, which this token does not have. (missing scope stella:attest:read#tenant/acme)\n' +
      'Hint: Ask a StellaOps administrator to grant the scope stella:attest:read#tenant/acme, then run the command again.\n'
    expect(crossTenant.stderr.slice(0, denied.length)).toBe(denied)
    expect(crossTenant.stderr.slice(denied.length)).toMatch(/^trace_id=[0-9a-f]{32}\n$/)

    const noScope = await stella(['forensic', 'attest', 'show', artifact.name, ...remote('acme', TOKENS.noScopes)])
    expect(noScope.status).toBe(5)
    expect(noScope.stderr.slice(0, denied.length)).toBe(denied)
  })

  it('exits 4 with the trace id when the server fails', async () => {
    const artifact = artifactOf('acme-api-2.14.1.tar.gz')
    server.inject('GET /attestations', {status: 503, problem: {title: 'Service Unavailable', detail: 'The attestation store is down.'}})
    try {
      const r = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, '--retries', '0', ...remote()])
      expect(r.stdout).toBe('')
      expect(r.status).toBe(4)
      expect(r.stderr).toContain('The attestation store is down.')
      expect(r.stderr).toMatch(/\ntrace_id=[0-9a-f]{32}\n$/)
    } finally {
      server.clearFaults()
    }
  })

  it('reads every page (1000 a page), and reports a server record whose envelope is not DSSE as a failed attestation', async () => {
    const artifact = artifactOf('findings-export-311.csv')
    const acme = server.state.tenants.acme
    const saved = [...acme.attestations]
    const copies: AttestationRecord[] = Array.from({length: 1000}, (_, i) => ({...artifact.record, id: `att_copy_${String(i).padStart(4, '0')}`}))
    const broken: AttestationRecord = {...artifact.record, id: 'att_broken', envelope: {payloadType: 'application/vnd.in-toto+json', payload: '***', signatures: []}}
    acme.attestations.push(...copies, broken)
    try {
      // show without --key: no signature to check, so a thousand envelopes cost no Ed25519 time.
      const r = await stella(['forensic', 'attest', 'show', artifact.name, '--json', ...remote()])
      expect(r.status).toBe(0)
      const result = JSON.parse(r.stdout).result
      expect(result.attestations).toHaveLength(1002)
      expect(result.attestations.filter((a: {checks: {ok: boolean}[]}) => a.checks.slice(1).every((check) => check.ok))).toHaveLength(1001)
      expect(result.attestations.at(-1)).toEqual({
        id: 'att_broken',
        source: 'server',
        ok: false,
        checks: [
          {check: 'signature', ok: false, reason: 'DSSE_BAD_BASE64', message: 'the envelope of attestation att_broken: "payload" is not valid base64'},
          {check: 'payloadType', ok: false, reason: 'NOT_CHECKED', message: 'not checked: the envelope is not valid DSSE'},
          {check: 'statement', ok: false, reason: 'NOT_CHECKED', message: 'not checked: the envelope is not valid DSSE'},
          {check: 'subject', ok: false, reason: 'NOT_CHECKED', message: 'not checked: the envelope is not valid DSSE'},
          {check: 'predicateType', ok: false, reason: 'NOT_CHECKED', message: 'not checked: the envelope is not valid DSSE'},
        ],
        signedBy: [],
      })
      expect(server.requests.filter((request) => request.path === '/attestations')).toHaveLength(2)
    } finally {
      acme.attestations.splice(0, acme.attestations.length, ...saved)
    }
  })

  it('chooses: a file beside the artifact wins over a configured server; --local never asks; --remote always does', async () => {
    const artifact = artifactOf('acme-api-2.14.1.tar.gz')
    writeFileSync(at(`${artifact.name}.dsse.json`), JSON.stringify(artifact.record.envelope))
    const beside = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, '--json', ...remote()])
    expect(beside.status).toBe(0)
    expect(JSON.parse(beside.stdout).result).toMatchObject({source: 'local', lookedIn: [`${artifact.name}.dsse.json`]})
    expect(server.requests).toEqual([])

    const forced = await stella(['forensic', 'attest', 'verify', artifact.name, '--key', server.publicKeyPath, '--json', '--remote', ...remote()])
    expect(forced.status).toBe(0)
    expect(JSON.parse(forced.stdout).result).toMatchObject({source: 'server', lookedIn: [`${server.url} (tenant acme)`]})
    expect(server.requests).toHaveLength(1)

    writeFileSync(at('lonely.bin'), 'x')
    const local = await stella(['forensic', 'attest', 'show', 'lonely.bin', '--local', ...remote()])
    expect(local.status).toBe(1)
    expect(local.stderr).toContain('Error: no attestation found for lonely.bin: looked for lonely.bin.intoto.jsonl and lonely.bin.dsse.json\n')
    expect(server.requests).toHaveLength(1)
  })
})
