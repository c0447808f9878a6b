/**
 * No command that draws no dashboard may load Ink or React: they cost several times a whole
 * start-up. Every command in the manifest is run, for its help and for real, under a preload
 * that records each module the process resolves.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {type ContractServer, TOKENS, startContractServer} from '../contract-server/index.js'
import {projectRoot, runCli, scratchDir} from '../helpers/cli.js'
import {type OtlpEndpoint, startOtlpEndpoint} from '../helpers/otlp-endpoint.js'

const recorder = pathToFileURL(join(projectRoot, 'test', 'helpers', 'load-recorder', 'register.mjs')).href
const keyFixture = join(projectRoot, 'test', 'fixtures', 'keys', 'ed25519.pem')
const example = (...parts: string[]) => join(projectRoot, 'examples', ...parts)
const bundle = example('bundles', 'case-42.tgz')
const publicKey = example('keys', 'platform.pub.pem')
const attestedArtifact = join(projectRoot, 'test', 'fixtures', 'attest', 'app-1.2.3.bin')
const attestKey = join(projectRoot, 'test', 'fixtures', 'keys', 'ed25519-pub.pem')
const REMOTE = '$REMOTE'
const OTLP_ENDPOINT = '$OTLP_ENDPOINT'
const serverPublicKey = join(projectRoot, 'test', 'contract-server', 'keys', 'server.pub.pem')
const UI_PACKAGE = /\/node_modules\/(ink|react|react-dom|react-reconciler|yoga-layout|@inkjs\/[^/]+)\//

/**
 * A real, successful invocation of every command. A new command must add one here.
 * The string '$REMOTE' in an argument list stands for --server, --tenant and --token of a contract server,
 * and '$OTLP_ENDPOINT' for the URL of an OTLP/HTTP endpoint that accepts everything.
 */
const REAL_RUNS: Record<string, string[][]> = {
  'config:set': [['config', 'set', 'server', 'https://stella.example.com']],
  'config:get': [['config', 'get', 'server']],
  'config:list': [['config', 'list']],
  'config:unset': [['config', 'unset', 'server']],
  'config:use-context': [['config', 'use-context', 'default']],
  'keys:generate': [['keys', 'generate', '--out', 'recorded']],
  'keys:show': [['keys', 'show', keyFixture], ['keys', 'show', keyFixture, '--json']],
  'forensic:snapshot:create': [
    ['forensic', 'snapshot', 'create', '--from', example('evidence', 'case-42'), '--key', example('keys', 'platform.pem'), '--case', 'c', '--kind', 'job', '--out', 'b.tgz'],
    ['forensic', 'snapshot', 'create', '--case', 'c', '--scope', 'job', '--id', 'job-1', '--key', join(projectRoot, 'test', 'contract-server', 'keys', 'server.pub.pem'), '--poll-interval', '10ms', REMOTE],
  ],
  'forensic:snapshot:list': [['forensic', 'snapshot', 'list', REMOTE]],
  // The contract server seeds the same bundle ids every time: this is acme's evaluation eval-9.
  'forensic:snapshot:get': [['forensic', 'snapshot', 'get', 'eb_01M7W3SPH09AZGAPP713K241SP', REMOTE], ['forensic', 'snapshot', 'get', bundle]],
  'forensic:snapshot:download': [['forensic', 'snapshot', 'download', 'eb_01M7W3SPH09AZGAPP713K241SP', '--key', join(projectRoot, 'test', 'contract-server', 'keys', 'server.pub.pem'), '--out', 'd.tgz', REMOTE]],
  'forensic:hold': [['forensic', 'hold', 'case-42', '--reason', 'litigation hold', REMOTE]],
  'forensic:snapshot:show': [['forensic', 'snapshot', 'show', bundle]],
  'forensic:verify': [['forensic', 'verify', bundle, '--key', publicKey], ['forensic', 'verify', bundle, '--key', publicKey, '--extract', 'out']],
  'forensic:prove': [['forensic', 'prove', bundle, 'README.txt', '--out', 'p.json']],
  'forensic:verify-proof': [['forensic', 'verify-proof', example('bundles', 'case-42.README.proof.json'), '--file', example('evidence', 'case-42', 'README.txt'), '--bundle', bundle, '--key', publicKey]],
  // The artifact has its attestation beside it, which wins over the configured server.
  'forensic:attest:show': [['forensic', 'attest', 'show', attestedArtifact, '--key', attestKey]],
  'forensic:attest:verify': [['forensic', 'attest', 'verify', attestedArtifact, '--key', attestKey], ['forensic', 'attest', 'verify', attestedArtifact, '--key', attestKey, '--json']],
  'telemetry:deploy': [['telemetry', 'deploy', '--profile', 'default', '--key', join(projectRoot, 'test', 'contract-server', 'keys', 'server.pub.pem'), REMOTE]],
  'telemetry:profile:diff': [
    ['telemetry', 'profile', 'diff', join(projectRoot, 'test', 'fixtures', 'collector', 'base.yaml'), join(projectRoot, 'test', 'fixtures', 'collector', 'reordered.yaml')],
    ['telemetry', 'profile', 'diff', 'forensic', 'forensic', '--key', join(projectRoot, 'test', 'contract-server', 'keys', 'server.pub.pem'), REMOTE],
  ],
  'obs:health': [['obs', 'health', REMOTE]],
  'obs:slo': [['obs', 'slo', REMOTE]],
  'obs:logs': [['obs', 'logs', '--since', '24h', '--all', REMOTE]],
  // acme's second seeded trace; the fixture holds the checkout trace.
  'obs:trace': [
    ['obs', 'trace', '1dc0c7c65d194dad4c0b84e17ee2e642', REMOTE],
    ['obs', 'trace', '4bf92f3577b34da6a3ce929d0e0e4736', '--from', join(projectRoot, 'test', 'fixtures', 'otlp', 'traces', 'checkout.pb')],
  ],
  'obs:top': [
    ['obs', 'top', '--once', REMOTE],
    ['obs', 'top', '--from', join(projectRoot, 'test', 'fixtures', 'otlp', 'traces', 'checkout.pb'), '--speed', '0', '--once'],
  ],
  'obs:timeline:list': [['obs', 'timeline', 'list', '--all', REMOTE]],
  // The contract server seeds the same event ids every time; this one links a trace and a bundle.
  'obs:timeline:show': [['obs', 'timeline', 'show', 'evt_848107b5d0fabe97', REMOTE]],
  'telemetry:status': [['telemetry', 'status', REMOTE], ['telemetry', 'status', REMOTE, '--json']],
  'telemetry:incident:on': [['telemetry', 'incident', 'on', '--ttl', '2h', '--reason', 'INC-1234', REMOTE]],
  'telemetry:incident:off': [['telemetry', 'incident', 'off', REMOTE]],
  'telemetry:incident:status': [['telemetry', 'incident', 'status', REMOTE]],
  'telemetry:capture': [
    ['telemetry', 'capture', '--window', '24h', '--key', serverPublicKey, '--out', 'server.tgz', REMOTE],
    ['telemetry', 'capture', '--from', join(projectRoot, 'test', 'fixtures', 'otlp', 'traces', 'checkout.pb'), '--since', '2026-11-18T00:00:00Z', '--until', '2026-11-19T00:00:00Z', '--key', keyFixture, '--out', 'files.tgz'],
  ],
  // The first run makes the bundle that the second replays.
  'telemetry:replay': [
    ['telemetry', 'capture', '--window', '24h', '--key', serverPublicKey, '--out', 'export.tgz', REMOTE],
    ['telemetry', 'replay', 'export.tgz', '--endpoint', OTLP_ENDPOINT, '--key', serverPublicKey],
  ],
}

let contract: ContractServer
let otlpEndpoint: OtlpEndpoint
beforeAll(async () => {
  contract = await startContractServer()
  otlpEndpoint = await startOtlpEndpoint()
})
afterAll(async () => {
  await contract.close()
  await otlpEndpoint.close()
})

const expandRemote = (args: string[]) =>
  args.flatMap((arg) => (arg === REMOTE ? ['--server', contract.url, '--tenant', 'acme', '--token', TOKENS.acmeAdmin] : arg === OTLP_ENDPOINT ? [otlpEndpoint.url] : [arg]))

let home: {path: string; cleanup: () => void}
beforeEach(() => {
  home = scratchDir()
})
afterEach(() => home.cleanup())

async function loadedModules(args: string[]): Promise<string[]> {
  const log = join(home.path, `loads-${Math.random().toString(16).slice(2)}.log`)
  const r = await runCli(args, {home: home.path, env: {NODE_OPTIONS: `--import ${recorder}`, STELLA_LOAD_LOG: log}})
  expect(r.stderr, args.join(' ')).toBe('')
  expect(r.status, args.join(' ')).toBe(0)
  return readFileSync(log, 'utf8').split('\n').filter(Boolean)
}

describe('lazy UI', () => {
  const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
  const commandIds = Object.keys(manifest.commands).sort()

  it('the recorder sees package loads from node_modules, ESM and CommonJS alike', async () => {
    const loads = await loadedModules(['help', 'keys'])
    expect(loads.some((url) => url.includes('/node_modules/@oclif/plugin-help/lib/commands/help.js'))).toBe(true)
    // Bundled CommonJS code resolves Node built-ins through require.
    expect(loads).toContain('fs')
  })

  it('every command has a real run to check', () => {
    expect(commandIds.length).toBeGreaterThan(0)
    expect(Object.keys(REAL_RUNS).sort()).toEqual(commandIds)
  })

  it.each(commandIds)('%s loads neither Ink nor React, for --help or for real', async (id) => {
    await loadedModules(['config', 'set', 'server', 'https://stella.example.com'])
    const runs = [[...id.split(':'), '--help'], ...(REAL_RUNS[id] ?? []).map(expandRemote)]
    for (const args of runs) {
      const ui = (await loadedModules(args)).filter((url) => UI_PACKAGE.test(url))
      expect(ui, args.join(' ')).toEqual([])
    }
  })
})
