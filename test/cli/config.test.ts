import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {runCli, scratchDir} from '../helpers/cli.js'

let home: {path: string; cleanup: () => void}
let configFile: string
const stella = (args: string[], options: {env?: Record<string, string>; input?: string} = {}) => runCli(args, {home: home.path, ...options})

beforeEach(() => {
  home = scratchDir()
  configFile = join(home.path, '.config', 'stella', 'config.json')
})
afterEach(() => home.cleanup())

describe('stella config', () => {
  it('sets, lists, switches, gets and unsets context values', async () => {
    let r = await stella(['config', 'set', 'server', 'https://prod.example.com/', '--context', 'prod'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('Created context prod (now current).\nprod: server = https://prod.example.com\n')
    expect(r.status).toBe(0)
    expect(statSync(configFile).mode & 0o777).toBe(0o600)

    await stella(['config', 'set', 'tenant', 'acme', '--context', 'prod'])
    r = await stella(['config', 'set', 'token-env', 'PROD_TOKEN', '--context', 'prod'])
    expect(r.stdout).toBe('prod: token-env = PROD_TOKEN\n')
    r = await stella(['config', 'set', 'server', 'http://127.0.0.1:8080', '--context', 'lab'])
    expect(r.stdout).toBe('Created context lab.\nlab: server = http://127.0.0.1:8080\n')
    await stella(['config', 'set', 'sealed', 'true', '--context', 'lab'])

    r = await stella(['config', 'list'])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe([
      '  CONTEXT  SERVER                    TENANT  TOKEN           CA FILE  SEALED',
      '  lab      http://127.0.0.1:8080     -       -               -        yes',
      '* prod     https://prod.example.com  acme    env:PROD_TOKEN  -        no',
      `config file: ${configFile}`,
      '',
    ].join('\n'))

    r = await stella(['config', 'use-context', 'lab'])
    expect(r.stdout).toBe('Current context: lab (was prod)\n')
    r = await stella(['config', 'get', 'server'])
    expect(r.stdout).toBe('http://127.0.0.1:8080\n')
    r = await stella(['config', 'get', 'tenant', '--context', 'prod', '--json'])
    expect(JSON.parse(r.stdout)).toEqual({
      status: 0,
      result: {path: configFile, context: 'prod', key: 'tenant', value: 'acme', hidden: false, set: true},
      warnings: [],
    })

    r = await stella(['config', 'unset', 'sealed'])
    expect(r.stdout).toBe('lab: sealed removed\n')
    r = await stella(['config', 'get', 'sealed'])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')

    r = await stella(['config', 'list', '--json'])
    expect(JSON.parse(r.stdout).result).toEqual({
      path: configFile,
      currentContext: 'lab',
      contexts: [
        {name: 'lab', current: true, server: 'http://127.0.0.1:8080', sealed: false},
        {name: 'prod', current: false, server: 'https://prod.example.com', tenant: 'acme', token: 'env:PROD_TOKEN', sealed: false},
      ],
    })
  })

  it('refuses a plaintext token unless asked, and never prints it', async () => {
    let r = await stella(['config', 'set', 'token', 'tok-3f9a-secret'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(
      'Error: stella does not store a token in plain text unless asked to\n'
        + 'Hint: Point the context at the token instead: `stella config set token-env VAR` or `stella config set token-file PATH`; '
        + 'or add --allow-plaintext-token (and pass the token as - to read it from stdin).\n',
    )
    expect(existsSync(configFile)).toBe(false)

    r = await stella(['config', 'set', 'token', '-', '--allow-plaintext-token'], {input: 'tok-3f9a-secret\n'})
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('Created context default (now current).\ndefault: token = (hidden)\n')
    expect(JSON.parse(readFileSync(configFile, 'utf8')).contexts.default.token).toBe('tok-3f9a-secret')

    for (const args of [['config', 'list'], ['config', 'list', '--json'], ['config', 'get', 'token'], ['config', 'get', 'token', '--json']]) {
      r = await stella(args)
      expect(r.stdout + r.stderr).not.toContain('tok-3f9a-secret')
    }

    r = await stella(['config', 'get', 'token'])
    expect(r.stdout).toBe('(set, hidden)\n')
    r = await stella(['config', 'set', 'token-file', 'tokfile'])
    expect(r.stdout).toBe(`default: token-file = ${join(home.path, 'tokfile')}\ndefault: token removed (one token source per context)\n`)
  })

  it('names a corrupt config file and exits with the input code, also under --json', async () => {
    await stella(['config', 'set', 'tenant', 'acme'])
    writeFileSync(configFile, '{"contexts": {"default": {"tenant": "acme",}}}')
    let r = await stella(['config', 'list'])
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`^Error: the config file ${configFile} is corrupt: it is not valid JSON \\(.+\\)\\n`
      + 'Hint: Fix the file by hand, or move it away and recreate contexts with `stella config set`.\\n$'))

    r = await stella(['config', 'list', '--json'])
    expect(r.status).toBe(3)
    expect(r.stderr).toBe('')
    const envelope = JSON.parse(r.stdout)
    expect(envelope.status).toBe(3)
    expect(envelope.error.code).toBe('CONFIG_CORRUPT')
    expect(envelope.error.message).toContain(configFile)
  })

  it('refuses unknown contexts and keys with usage errors', async () => {
    await stella(['config', 'set', 'tenant', 'acme', '--context', 'prod'])
    let r = await stella(['config', 'use-context', 'staging'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('Error: there is no context named "staging"\n'
      + 'Hint: Known contexts: prod. Create one with `stella config set server URL --context staging`.\n')
    r = await stella(['config', 'set', 'colour', 'blue'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('Expected colour to be one of: server, tenant, token-env, token-file, token, ca-file, sealed')
    r = await stella(['config', 'set', 'server', 'ftp://x'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('Error: "ftp://x" is not an http(s) URL\nHint: Give the full server URL, e.g. https://stella.example.com.\n')
  })

  it('honours STELLA_CONFIG', async () => {
    const custom = join(home.path, 'elsewhere.json')
    const r = await stella(['config', 'set', 'tenant', 'acme'], {env: {STELLA_CONFIG: custom}})
    expect(r.status).toBe(0)
    expect(JSON.parse(readFileSync(custom, 'utf8')).contexts.default.tenant).toBe('acme')
    expect(existsSync(configFile)).toBe(false)
  })
})
