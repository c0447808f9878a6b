/**
 * `stella telemetry deploy` and `stella telemetry profile diff` against the contract server over
 * real sockets, and offline from saved profiles. A tampering proxy in front of the server stands
 * for a compromised mirror or a man in the middle: it rewrites the signed profile in transit.
 */
import {existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import type {ProfileResponse} from '../../src/lib/api/types.js'
import {signEnvelope} from '../../src/lib/dsse/index.js'
import {readPrivateKeyFile, readPublicKeyFile} from '../../src/lib/keys/index.js'
import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'

let server: ContractServer
let home: {path: string; cleanup: () => void}
const at = (...parts: string[]) => join(home.path, ...parts)
const stella = (args: string[], env?: Record<string, string>) => runCli(args, {home: home.path, ...(env ? {env} : {})})
const remote = (url = server.url) => ['--server', url, '--tenant', 'acme', '--token', TOKENS.acmeAdmin]
const platformKey = join(projectRoot, 'examples', 'keys', 'platform.pem')
const platformPublicKey = join(projectRoot, 'examples', 'keys', 'platform.pub.pem')

/** The profile exactly as the server sends it, fetched without stella. */
async function fetchProfile(name: string): Promise<ProfileResponse> {
  const response = await fetch(`${server.url}/telemetry/config/profile/${name}`, {
    headers: {authorization: `Bearer ${TOKENS.acmeAdmin}`, 'x-stella-tenant': 'acme'},
  })
  expect(response.status).toBe(200)
  return (await response.json()) as ProfileResponse
}

function saveJson(name: string, value: unknown): string {
  writeFileSync(at(name), JSON.stringify(value))
  return at(name)
}

function json(stdout: string): {status: number; result: Record<string, unknown>; warnings: string[]} {
  return JSON.parse(stdout) as {status: number; result: Record<string, unknown>; warnings: string[]}
}

let serverKeyId: string
beforeAll(async () => {
  server = await startContractServer()
  serverKeyId = (await readPublicKeyFile(server.publicKeyPath)).keyid
})
afterAll(async () => server.close())
beforeEach(() => {
  home = scratchDir()
})
afterEach(() => home.cleanup())

const fields = (profile: string, version: string, file: string) =>
  `profile:     ${profile}\nversion:     ${version}\nverified by: ${serverKeyId}\nfile:        ${file}\n\n`

describe('stella telemetry deploy', () => {
  it('verifies the profile and writes exactly the signed bytes, atomically and nothing else', async () => {
    const r = await stella(['telemetry', 'deploy', '--profile', 'forensic', '--key', server.publicKeyPath, '--out', 'collector', ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(`${fields('forensic', '1.4.0', 'collector/forensic.yaml')}Created collector/forensic.yaml.\n`)
    const expected = await fetchProfile('forensic')
    expect(readFileSync(at('collector', 'forensic.yaml')).equals(Buffer.from(expected.config, 'utf8'))).toBe(true)
    expect(readdirSync(at('collector'))).toEqual(['forensic.yaml'])
    const fetched = server.requests.filter((request) => request.path.startsWith('/telemetry/config/profile/'))
    expect(fetched.map((request) => [request.method, request.path, request.headers['x-stella-tenant']])).toContainEqual(['GET', '/telemetry/config/profile/forensic', 'acme'])
  })

  it('says unchanged the second time and leaves the file alone', async () => {
    const first = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, ...remote()])
    expect(first.status).toBe(0)
    const before = statSync(at('default.yaml'))

    const again = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, ...remote()])
    expect(again.stderr).toBe('')
    expect(again.status).toBe(0)
    expect(again.stdout).toBe(`${fields('default', '1.4.0', 'default.yaml')}Unchanged: default.yaml already holds this signed configuration.\n`)
    const after = statSync(at('default.yaml'))
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs])

    const asJson = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, '--json', ...remote()])
    expect(asJson.status).toBe(0)
    expect(json(asJson.stdout)).toEqual({
      status: 0,
      result: {
        profile: 'default',
        version: '1.4.0',
        path: 'default.yaml',
        written: false,
        action: 'unchanged',
        dryRun: false,
        verifiedBy: [serverKeyId],
        diff: {equal: true, components: [], pipelines: [], extensions: {added: [], removed: []}, telemetry: [], other: []},
      },
      warnings: [],
    })
  })

  it('shows the semantic diff against the file already there before replacing it', async () => {
    const signed = (await fetchProfile('forensic')).config
    const older = `# hand-edited\n${signed.replace('timeout: 1s', 'timeout: 5s')}`
    expect(older).not.toBe(`# hand-edited\n${signed}`)
    writeFileSync(at('forensic.yaml'), older)

    const r = await stella(['telemetry', 'deploy', '--profile', 'forensic', '--key', server.publicKeyPath, ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(
      `${fields('forensic', '1.4.0', 'forensic.yaml')}` +
        'SECTION     ID     CHANGE   KEY      OLD   NEW\n' +
        'processors  batch  changed  timeout  "5s"  "1s"\n' +
        '\n' +
        'Updated forensic.yaml: 1 difference from the file that was there.\n',
    )
    expect(readFileSync(at('forensic.yaml'), 'utf8')).toBe(signed)
  })

  it('restores the signed bytes over a reformatted copy, and replaces a file that is not a valid config with a warning', async () => {
    const signed = (await fetchProfile('default')).config
    writeFileSync(at('default.yaml'), `# reviewed by ops\n${signed.replaceAll('[otlp]', '["otlp"]')}`)
    const reformatted = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, ...remote()])
    expect(reformatted.stderr).toBe('')
    expect(reformatted.status).toBe(0)
    expect(reformatted.stdout).toBe(
      `${fields('default', '1.4.0', 'default.yaml')}Rewrote default.yaml with the signed bytes (same configuration; only formatting or comments differed).\n`,
    )
    expect(readFileSync(at('default.yaml'), 'utf8')).toBe(signed)

    writeFileSync(at('default.yaml'), 'receivers: [unclosed\n')
    const broken = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, '--json', ...remote()])
    expect(broken.stderr).toBe('')
    expect(broken.status).toBe(0)
    const envelope = json(broken.stdout)
    expect(envelope.warnings).toEqual([
      'the file already there is not a valid collector config, so no diff can be shown (default.yaml: line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a ])',
    ])
    expect(envelope.result).toMatchObject({action: 'updated', written: true, diff: null})
    expect(readFileSync(at('default.yaml'), 'utf8')).toBe(signed)
  })

  it('with --dry-run shows the diff and writes nothing, not even the directory', async () => {
    const signed = (await fetchProfile('airgap')).config
    mkdirSync(at('existing'))
    const older = signed.replace('      max_backups: 20\n', '')
    writeFileSync(at('existing', 'airgap.yaml'), older)

    const update = await stella(['telemetry', 'deploy', '--profile', 'airgap', '--key', server.publicKeyPath, '--out', 'existing', '--dry-run', '--json', ...remote()])
    expect(update.stderr).toBe('')
    expect(update.status).toBe(0)
    expect(json(update.stdout).result).toEqual({
      profile: 'airgap',
      version: '1.2.1',
      path: 'existing/airgap.yaml',
      written: false,
      action: 'updated',
      dryRun: true,
      verifiedBy: [serverKeyId],
      diff: {
        equal: false,
        components: [{section: 'exporters', id: 'file/forensic', change: 'changed', changes: [{path: 'rotation.max_backups', change: 'added', new: 20}]}],
        pipelines: [],
        extensions: {added: [], removed: []},
        telemetry: [],
        other: [],
      },
    })
    expect(readFileSync(at('existing', 'airgap.yaml'), 'utf8')).toBe(older)
    expect(readdirSync(at('existing'))).toEqual(['airgap.yaml'])

    const create = await stella(['telemetry', 'deploy', '--profile', 'airgap', '--key', server.publicKeyPath, '--out', 'fresh', '--dry-run', ...remote()])
    expect(create.stderr).toBe('')
    expect(create.status).toBe(0)
    expect(create.stdout).toBe(`${fields('airgap', '1.2.1', 'fresh/airgap.yaml')}Would create fresh/airgap.yaml (dry run: nothing written).\n`)
    expect(existsSync(at('fresh'))).toBe(false)
  })

  it('refuses a profile signed by a key it was not told to trust', async () => {
    const r = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', platformPublicKey, ...remote()])
    const platformKeyId = (await readPublicKeyFile(platformPublicKey)).keyid
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `Error: profile "default" from the server is not signed by a trusted key (signed by keyid ${serverKeyId.slice(0, 16)}); trusted: ${platformKeyId.slice(0, 16)}; refusing to use it\n` +
        "Hint: Pass the platform's profile signing key with --key (`stella keys show KEY` prints its keyid). If it is already the right key, the profile was altered: do not deploy it.\n",
    )
    expect(existsSync(at('default.yaml'))).toBe(false)
  })

  it('exits 5 when the token lacks the telemetry admin scope, and writes nothing', async () => {
    const r = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, '--server', server.url, '--tenant', 'acme', '--token', TOKENS.acmeReader])
    expect(r.status).toBe(5)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('stella:telemetry:admin#tenant/acme')
    expect(r.stderr).toMatch(/^trace_id=[0-9a-f]{32}$/m)
    expect(existsSync(at('default.yaml'))).toBe(false)
  })

  it('needs a trusted key and a profile', async () => {
    const noKey = await stella(['telemetry', 'deploy', '--profile', 'default', ...remote()])
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toBe(
      'Error: no trusted public key was given; a profile is deployed only when a trusted key signed it\n' +
        "Hint: Pass the platform's profile signing key with --key (e.g. --key platform.pub.pem); repeat it for several keys.\n",
    )
    const noProfile = await stella(['telemetry', 'deploy', '--key', server.publicKeyPath, ...remote()])
    expect(noProfile.status).toBe(2)
    expect(noProfile.stderr).toBe('Error: say which profile to deploy\nHint: Pass --profile default|forensic|airgap to fetch it from the server, or --from FILE to deploy a saved profile.\n')
  })
})

describe('stella telemetry deploy: tampered profiles', () => {
  let proxy: {url: string; close: () => Promise<void>}
  let rewrite: (profile: ProfileResponse) => ProfileResponse
  let otherKey: Awaited<ReturnType<typeof readPrivateKeyFile>>

  beforeAll(async () => {
    proxy = await startRewritingProxy(() => server.url, (profile) => rewrite(profile))
    otherKey = await readPrivateKeyFile(platformKey)
  })
  afterAll(async () => proxy.close())

  const cases: [string, (profile: ProfileResponse) => ProfileResponse, string, string][] = [
    [
      'a config changed after signing',
      (profile) => ({...profile, config: profile.config.replace('sampling_percentage: 10', 'sampling_percentage: 0')}),
      'PROFILE_CONFIG_MISMATCH',
      'profile "default" from the server has a config that is not what was signed (%SIGNED-1% bytes in "config", %SIGNED% bytes signed); refusing to use it',
    ],
    [
      'no envelope at all',
      ({envelope: _envelope, ...profile}) => profile as ProfileResponse,
      'PROFILE_UNSIGNED',
      'profile "default" from the server is not signed: it has no DSSE envelope; refusing to use it',
    ],
    [
      'an envelope without signatures',
      (profile) => ({...profile, envelope: {...profile.envelope, signatures: []}}),
      'PROFILE_UNSIGNED',
      'profile "default" from the server is not signed: its envelope has no signatures; refusing to use it',
    ],
    [
      'a signature that does not verify',
      (profile) => ({...profile, envelope: {...profile.envelope, signatures: profile.envelope.signatures.map((s) => ({...s, sig: `${s.sig.startsWith('A') ? 'B' : 'A'}${s.sig.slice(1)}`}))}}),
      'PROFILE_UNTRUSTED_SIGNATURE',
      `profile "default" from the server is not signed by a trusted key (signed by keyid %KEYID%); trusted: %KEYID%; refusing to use it`,
    ],
    [
      'the same config re-signed by another key under the trusted keyid',
      (profile) => {
        const envelope = signEnvelope(profile.envelope.payloadType, Buffer.from(profile.config, 'utf8'), [otherKey])
        return {...profile, envelope: {...envelope, signatures: envelope.signatures.map((s) => ({...s, keyid: serverKeyId}))}}
      },
      'PROFILE_UNTRUSTED_SIGNATURE',
      `profile "default" from the server is not signed by a trusted key (signed by keyid %KEYID%); trusted: %KEYID%; refusing to use it`,
    ],
    [
      'a signed payload of another type',
      (profile) => {
        const envelope = signEnvelope('application/vnd.in-toto+json', Buffer.from(profile.config, 'utf8'), [otherKey])
        return {...profile, envelope}
      },
      'PROFILE_WRONG_PAYLOAD_TYPE',
      'profile "default" from the server is signed as "application/vnd.in-toto+json", not as a collector config (application/vnd.stellaops.collector-config+yaml); refusing to use it',
    ],
    [
      'a damaged envelope',
      (profile) => ({...profile, envelope: {...profile.envelope, payload: '%%%'}}),
      'PROFILE_ENVELOPE_INVALID',
      'profile "default" from the server has a damaged signature envelope (profile "default" from the server: envelope: "payload" is not valid base64); refusing to use it',
    ],
  ]

  it.each(cases)('refuses %s with exit 1 and writes nothing', async (_what, tamper, code, message) => {
    rewrite = tamper
    const r = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, '--json', ...remote(proxy.url)])
    expect(r.status).toBe(1)
    expect(r.stderr).toBe('')
    const envelope = JSON.parse(r.stdout) as {status: number; error: {code: string; message: string}}
    expect(envelope.status).toBe(1)
    expect(envelope.error.code).toBe(code)
    const signed = Buffer.byteLength((await fetchProfile('default')).config)
    expect(envelope.error.message).toBe(message.replaceAll('%KEYID%', serverKeyId.slice(0, 16)).replace('%SIGNED-1%', String(signed - 1)).replace('%SIGNED%', String(signed)))
    expect(readdirSync(home.path).filter((name) => name.endsWith('.yaml') || name.endsWith('.tmp'))).toEqual([])
  })

  it('leaves a deployed file as it was when the new profile is refused', async () => {
    rewrite = (profile) => profile
    const good = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, ...remote(proxy.url)])
    expect(good.status).toBe(0)
    const deployed = readFileSync(at('default.yaml'))

    rewrite = (profile) => ({...profile, config: profile.config.replace('level: info', 'level: debug')})
    const bad = await stella(['telemetry', 'deploy', '--profile', 'default', '--key', server.publicKeyPath, ...remote(proxy.url)])
    expect(bad.status).toBe(1)
    expect(bad.stdout).toBe('')
    expect(readFileSync(at('default.yaml')).equals(deployed)).toBe(true)
    expect(readdirSync(home.path).filter((name) => name.endsWith('.yaml') || name.endsWith('.tmp'))).toEqual(['default.yaml'])
  })
})

describe('stella telemetry deploy --from (offline)', () => {
  it('deploys a saved profile without any server, with the same verification', async () => {
    const saved = saveJson('forensic.profile.json', await fetchProfile('forensic'))
    // No server flags, and a config pointing nowhere: nothing may be contacted.
    const env = {STELLA_SERVER: 'http://127.0.0.1:9'}
    const r = await stella(['telemetry', 'deploy', '--from', saved, '--key', server.publicKeyPath, '--out', 'otel', '--json'], env)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(json(r.stdout).result).toEqual({
      profile: 'forensic',
      version: '1.4.0',
      path: 'otel/forensic.yaml',
      written: true,
      action: 'created',
      dryRun: false,
      verifiedBy: [serverKeyId],
      diff: null,
    })
    expect(readFileSync(at('otel', 'forensic.yaml'), 'utf8')).toBe((await fetchProfile('forensic')).config)
  })

  it('refuses a saved profile whose config was edited, one for another profile, and files that are not profiles', async () => {
    const profile = await fetchProfile('default')
    const edited = saveJson('edited.json', {...profile, config: profile.config.replace('level: info', 'level: debug')})
    const r = await stella(['telemetry', 'deploy', '--from', edited, '--key', server.publicKeyPath])
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(
      `Error: saved profile ${edited} has a config that is not what was signed (${Buffer.byteLength(profile.config) + 1} bytes in "config", ${Buffer.byteLength(profile.config)} bytes signed); refusing to use it\n` +
        'Hint: The profile was altered after it was signed, or is not the one the platform published: do not deploy it. Fetch it again from a trusted server.\n',
    )
    expect(existsSync(at('default.yaml'))).toBe(false)

    const other = await stella(['telemetry', 'deploy', '--from', saveJson('p.json', profile), '--profile', 'forensic', '--key', server.publicKeyPath])
    expect(other.status).toBe(2)
    expect(other.stderr).toBe(`Error: saved profile ${at('p.json')} holds profile "default", not "forensic"\nHint: Leave out --profile to deploy "default", or give the file of the profile you meant.\n`)

    const traversal = await stella(['telemetry', 'deploy', '--from', saveJson('evil.json', {...profile, name: '../evil'}), '--key', server.publicKeyPath])
    expect(traversal.status).toBe(3)
    expect(traversal.stderr).toBe(
      `Error: saved profile ${at('evil.json')}: "name" "../evil" is not a profile name\n` +
        'Hint: Give the JSON the server returns for GET /telemetry/config/profile/{name}: {"name", "version", "config", "envelope"}.\n',
    )

    writeFileSync(at('yaml.json'), profile.config)
    const notJson = await stella(['telemetry', 'deploy', '--from', at('yaml.json'), '--key', server.publicKeyPath])
    expect(notJson.status).toBe(3)
    expect(notJson.stderr).toMatch(new RegExp(`^Error: saved profile ${at('yaml.json')}: it is not JSON \\(`))
  })
})

describe('stella telemetry profile diff', () => {
  it('gives the same diff for two server profiles as for the same profiles saved as files', async () => {
    const fromServer = await stella(['telemetry', 'profile', 'diff', 'default', 'forensic', '--key', server.publicKeyPath, '--json', ...remote()])
    expect(fromServer.stderr).toBe('')
    expect(fromServer.status).toBe(1)

    for (const name of ['default', 'forensic']) expect((await stella(['telemetry', 'deploy', '--profile', name, '--key', server.publicKeyPath, ...remote()])).status).toBe(0)
    const fromFiles = await stella(['telemetry', 'profile', 'diff', 'default.yaml', 'forensic.yaml', '--json'])
    expect(fromFiles.stderr).toBe('')
    expect(fromFiles.status).toBe(1)

    const served = json(fromServer.stdout)
    const files = json(fromFiles.stdout)
    expect(served.status).toBe(1)
    expect(served.result.a).toEqual({arg: 'default', source: 'server', profile: 'default', version: '1.4.0', verifiedBy: [serverKeyId]})
    expect(files.result.a).toEqual({arg: 'default.yaml', source: 'file', verifiedBy: null})
    expect(files.result.diff).toEqual(served.result.diff)
    expect(served.result.diff).toEqual(DEFAULT_TO_FORENSIC)

    const human = await stella(['telemetry', 'profile', 'diff', 'default.yaml', 'forensic.yaml'])
    expect(human.status).toBe(1)
    expect(human.stdout).toBe(`a: default.yaml (file)\nb: forensic.yaml (file)\n\n${DEFAULT_TO_FORENSIC_TABLE}\n\n15 differences between default.yaml and forensic.yaml.\n`)
  })

  it('exits 0 for the same profile, and warns when a server profile is compared without --key', async () => {
    const r = await stella(['telemetry', 'profile', 'diff', 'airgap', 'airgap', ...remote()])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(
      'a: airgap (server, version 1.2.1), not verified\nb: airgap (server, version 1.2.1), not verified\n\nNo differences: the two collector configurations are the same.\n',
    )
    expect(r.stderr).toBe('Warning: profile "airgap" from the server was not verified: no --key was given\n'.repeat(2))
  })

  it('compares a deployed file with the server profile, and refuses a tampered one when --key is given', async () => {
    const signed = (await fetchProfile('default')).config
    writeFileSync(at('deployed.yaml'), signed.replace('level: info', 'level: warn'))
    const r = await stella(['telemetry', 'profile', 'diff', 'deployed.yaml', 'default', '--key', server.publicKeyPath, ...remote()])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1)
    expect(r.stdout).toBe(
      `a: deployed.yaml (file)\nb: default (server, version 1.4.0), verified by ${serverKeyId.slice(0, 16)}\n\n` +
        'SECTION            ID  CHANGE   KEY         OLD     NEW\n' +
        'service.telemetry      changed  logs.level  "warn"  "info"\n' +
        '\n1 difference between deployed.yaml and default.\n',
    )

    const wrongKey = await stella(['telemetry', 'profile', 'diff', 'deployed.yaml', 'default', '--key', platformPublicKey, '--json', ...remote()])
    expect(wrongKey.status).toBe(1)
    expect((JSON.parse(wrongKey.stdout) as {error: {code: string}}).error.code).toBe('PROFILE_UNTRUSTED_SIGNATURE')
  })

  it('exits 3 naming the file and line of invalid YAML', async () => {
    const invalid = join(projectRoot, 'test', 'fixtures', 'collector', 'invalid.yaml')
    const r = await stella(['telemetry', 'profile', 'diff', join(projectRoot, 'test', 'fixtures', 'collector', 'base.yaml'), invalid])
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `Error: ${invalid}: line 9, column 1: All mapping items must start at the same column\n` +
        'Hint: Fix the YAML at that place; an OpenTelemetry Collector config is a mapping of receivers, processors, exporters, extensions, connectors and service.\n',
    )

    const missing = await stella(['telemetry', 'profile', 'diff', 'nope.yaml', invalid])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toBe(
      'Error: cannot read the collector config nope.yaml: no such file or directory\nHint: Check the path. To compare the server\'s profiles, give their names: default, forensic, airgap.\n',
    )
  })
})

/** What changes from the server's default profile to its forensic one. */
const DEFAULT_TO_FORENSIC = {
  equal: false,
  components: [
    {section: 'processors', id: 'batch', change: 'changed', changes: [{path: 'send_batch_size', change: 'changed', old: 8192, new: 2048}, {path: 'timeout', change: 'changed', old: '5s', new: '1s'}]},
    {section: 'processors', id: 'memory_limiter', change: 'changed', changes: [{path: 'limit_mib', change: 'changed', old: 1536, new: 3072}, {path: 'spike_limit_mib', change: 'changed', old: 512, new: 768}]},
    {section: 'processors', id: 'tail_sampling', change: 'changed', changes: [{path: 'decision_wait', change: 'changed', old: '10s', new: '30s'}, {path: 'num_traces', change: 'changed', old: 50000, new: 200000}, {path: 'policies[0].name', change: 'changed', old: 'errors', new: 'everything'}, {path: 'policies[0].status_code', change: 'removed', old: {status_codes: ['ERROR']}}, {path: 'policies[0].type', change: 'changed', old: 'status_code', new: 'always_sample'}, {path: 'policies[1]', change: 'removed', old: {name: 'slow', type: 'latency', latency: {threshold_ms: 500}}}, {path: 'policies[2]', change: 'removed', old: {name: 'baseline', type: 'probabilistic', probabilistic: {sampling_percentage: 10}}}]},
    {section: 'exporters', id: 'file/forensic', change: 'added', changes: [], new: {path: '/var/lib/stellaops/forensic/otlp.jsonl', format: 'json', rotation: {max_megabytes: 512, max_backups: 20}}},
  ],
  pipelines: [
    {id: 'logs', change: 'changed', receivers: {added: [], removed: []}, processors: {added: [], removed: [], reordered: false, old: ['memory_limiter', 'batch'], new: ['memory_limiter', 'batch']}, exporters: {added: ['file/forensic'], removed: []}, changes: []},
    {id: 'metrics', change: 'changed', receivers: {added: [], removed: []}, processors: {added: [], removed: [], reordered: false, old: ['memory_limiter', 'batch'], new: ['memory_limiter', 'batch']}, exporters: {added: ['file/forensic'], removed: []}, changes: []},
    {id: 'traces', change: 'changed', receivers: {added: [], removed: []}, processors: {added: [], removed: [], reordered: false, old: ['memory_limiter', 'tail_sampling', 'batch'], new: ['memory_limiter', 'tail_sampling', 'batch']}, exporters: {added: ['file/forensic'], removed: []}, changes: []},
  ],
  extensions: {added: [], removed: []},
  telemetry: [],
  other: [],
}

const DEFAULT_TO_FORENSIC_TABLE = [
  'SECTION            ID              CHANGE   KEY                      OLD                                                           NEW',
  'processors         batch           changed  send_batch_size          8192                                                          2048',
  'processors         batch           changed  timeout                  "5s"                                                          "1s"',
  'processors         memory_limiter  changed  limit_mib                1536                                                          3072',
  'processors         memory_limiter  changed  spike_limit_mib          512                                                           768',
  'processors         tail_sampling   changed  decision_wait            "10s"                                                         "30s"',
  'processors         tail_sampling   changed  num_traces               50000                                                         200000',
  'processors         tail_sampling   changed  policies[0].name         "errors"                                                      "everything"',
  'processors         tail_sampling   removed  policies[0].status_code  {"status_codes":["ERROR"]}',
  'processors         tail_sampling   changed  policies[0].type         "status_code"                                                 "always_sample"',
  'processors         tail_sampling   removed  policies[1]              {"name":"slow","type":"latency","latency":{"threshold_ms":5…',
  'processors         tail_sampling   removed  policies[2]              {"name":"baseline","type":"probabilistic","probabilistic":{…',
  'exporters          file/forensic   added                                                                                           {"path":"/var/lib/stellaops/forensic/otlp.jsonl","format":"…',
  'service.pipelines  logs            added    exporters                                                                              file/forensic',
  'service.pipelines  metrics         added    exporters                                                                              file/forensic',
  'service.pipelines  traces          added    exporters                                                                              file/forensic',
].join('\n')

/** An HTTP proxy to `target` that passes everything through but rewrites profile responses. */
async function startRewritingProxy(target: () => string, rewrite: (profile: ProfileResponse) => ProfileResponse): Promise<{url: string; close: () => Promise<void>}> {
  const proxy: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string> = {}
    for (const name of ['authorization', 'x-stella-tenant', 'traceparent', 'user-agent', 'accept']) {
      const value = req.headers[name]
      if (typeof value === 'string') headers[name] = value
    }

    fetch(`${target()}${req.url ?? '/'}`, {method: req.method ?? 'GET', headers})
      .then(async (upstream) => {
        let body = Buffer.from(await upstream.arrayBuffer())
        if (upstream.ok && (req.url ?? '').startsWith('/telemetry/config/profile/')) {
          body = Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8')) as ProfileResponse)))
        }

        res.writeHead(upstream.status, {'content-type': upstream.headers.get('content-type') ?? 'application/json', 'content-length': String(body.length)})
        res.end(body)
      })
      .catch((error: unknown) => res.writeHead(502).end(String(error)))
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()))
  const {port} = proxy.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections()
        proxy.close(() => resolve())
      }),
  }
}
