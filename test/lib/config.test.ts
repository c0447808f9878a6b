import {mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {
  type StellaConfig,
  configPath,
  findConfigKey,
  loadConfig,
  saveConfig,
  setConfigValue,
  unsetConfigValue,
} from '../../src/lib/config/index.js'
import {resolveContext} from '../../src/lib/config/resolve.js'
import {ExitCode} from '../../src/lib/errors.js'
import {scratchDir} from '../helpers/cli.js'
import {thrownBy} from '../helpers/errors.js'

let dir: {path: string; cleanup: () => void}
beforeEach(() => {
  dir = scratchDir()
})
afterEach(() => dir.cleanup())

describe('configPath', () => {
  it('prefers STELLA_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    expect(configPath({STELLA_CONFIG: '/etc/stella.json', XDG_CONFIG_HOME: '/x', HOME: '/h'})).toBe('/etc/stella.json')
    expect(configPath({XDG_CONFIG_HOME: '/x', HOME: '/h'})).toBe('/x/stella/config.json')
    expect(configPath({HOME: '/h'})).toBe('/h/.config/stella/config.json')
  })
})

describe('loadConfig / saveConfig', () => {
  it('treats a missing file as an empty config', () => {
    expect(loadConfig(join(dir.path, 'none.json'))).toEqual({contexts: {}})
  })

  it('writes mode 0600 in a 0700 directory, atomically, and reads back what it wrote', () => {
    const path = join(dir.path, 'cfg', 'stella', 'config.json')
    const config: StellaConfig = {currentContext: 'prod', contexts: {prod: {server: 'https://s.example', tenant: 'acme', tokenEnv: 'T', sealed: true}}}
    saveConfig(path, config)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir.path, 'cfg', 'stella')).mode & 0o777).toBe(0o700)
    expect(loadConfig(path)).toEqual(config)
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1)
    // No temp file is left beside it.
    expect(readdirSync(join(dir.path, 'cfg', 'stella'))).toEqual(['config.json'])
  })

  it('tightens a config file that was world-readable', () => {
    const path = join(dir.path, 'config.json')
    writeFileSync(path, '{"contexts":{}}', {mode: 0o644})
    saveConfig(path, loadConfig(path))
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  it.each([
    ['{not json', 'it is not valid JSON'],
    ['[]', 'the top level is not a JSON object'],
    ['{"contexts": []}', '"contexts" is not an object'],
    ['{"contexts": {"a": 1}}', 'context "a" is not an object'],
    ['{"contexts": {"a": {"server": 5}}}', 'context "a": "server" is not a string'],
    ['{"contexts": {"a": {"sealed": "yes"}}}', 'context "a": "sealed" is not true or false'],
    ['{"version": 9, "contexts": {}}', 'version 9 is not supported (this stella reads version 1)'],
    ['{"currentContext": 3}', '"currentContext" is not a string'],
  ])('a corrupt file (%s) is an input error naming the file', (text, why) => {
    const path = join(dir.path, 'config.json')
    writeFileSync(path, text)
    const error = thrownBy(() => loadConfig(path))
    expect(error.code).toBe('CONFIG_CORRUPT')
    expect(error.exitCode).toBe(ExitCode.Input)
    expect(error.message).toContain(`the config file ${path} is corrupt: ${why}`)
    expect(error.remedy).toBe('Fix the file by hand, or move it away and recreate contexts with `stella config set`.')
  })

  it('an unreadable path is its own error', () => {
    const path = join(dir.path, 'adir')
    mkdirSync(path)
    const error = thrownBy(() => loadConfig(path))
    expect(error.code).toBe('CONFIG_UNREADABLE')
    expect(error.message).toContain(path)
  })
})

describe('setConfigValue / unsetConfigValue', () => {
  it('creates the first context as current and keeps one token source per context', () => {
    let config: StellaConfig = {contexts: {}}
    const first = setConfigValue(config, undefined, findConfigKey('server'), 'https://a.example')
    expect(first).toMatchObject({context: 'default', created: true, cleared: []})
    expect(first.config.currentContext).toBe('default')
    config = setConfigValue(first.config, 'default', findConfigKey('token-file'), '/t').config
    const swap = setConfigValue(config, 'default', findConfigKey('token-env'), 'TOK')
    expect(swap.cleared).toEqual(['token-file'])
    expect(swap.config.contexts.default).toEqual({server: 'https://a.example', tokenEnv: 'TOK'})
    const other = setConfigValue(swap.config, 'staging', findConfigKey('tenant'), 'acme')
    expect(other.config.currentContext).toBe('default')
    const removed = unsetConfigValue(other.config, 'default', findConfigKey('token-env'))
    expect(removed.changed).toBe(true)
    expect(removed.config.contexts.default).toEqual({server: 'https://a.example'})
    expect(unsetConfigValue(removed.config, 'default', findConfigKey('token-env')).changed).toBe(false)
  })

  it.each([
    ['server', 'ftp://x', 'INVALID_SERVER_URL'],
    ['server', 'not a url', 'INVALID_SERVER_URL'],
    ['server', 'https://user:pw@x.example', 'INVALID_SERVER_URL'],
    ['tenant', 'has space', 'INVALID_TENANT'],
    ['token-env', '$TOKEN', 'INVALID_CONFIG_VALUE'],
    ['sealed', 'maybe', 'INVALID_BOOLEAN'],
    ['ca-file', '/nonexistent/ca.pem', 'CA_FILE_UNREADABLE'],
  ])('%s %j is refused with %s', (key, value, code) => {
    expect(thrownBy(() => findConfigKey(key).parse(value)).code).toBe(code)
  })

  it('normalises server URLs and refuses unknown keys', () => {
    expect(findConfigKey('server').parse('https://s.example/api/')).toBe('https://s.example/api')
    const error = thrownBy(() => findConfigKey('colour'))
    expect(error.code).toBe('UNKNOWN_CONFIG_KEY')
    expect(error.remedy).toBe('Use one of: server, tenant, token-env, token-file, token, ca-file, sealed.')
  })
})

describe('resolveContext', () => {
  const config: StellaConfig = {
    currentContext: 'prod',
    contexts: {
      prod: {server: 'https://prod.example', tenant: 'acme', tokenEnv: 'PROD_TOKEN', sealed: false},
      lab: {server: 'http://127.0.0.1:8080', tenant: 'lab', tokenFile: '/nonexistent/token', sealed: true},
    },
  }

  it('takes each setting from flag, then STELLA_* environment, then the context', () => {
    const fromContext = resolveContext({}, {PROD_TOKEN: 'secret-1'}, config)
    expect(fromContext).toMatchObject({
      contextName: 'prod',
      server: 'https://prod.example',
      tenant: 'acme',
      token: 'secret-1',
      tokenSource: 'env:PROD_TOKEN',
      sealed: false,
      sources: {server: 'context', tenant: 'context', token: 'context', sealed: 'context'},
    })

    const fromEnv = resolveContext({}, {STELLA_SERVER: 'https://env.example', STELLA_TENANT: 'envt', STELLA_TOKEN: 't2', STELLA_SEALED: '1', PROD_TOKEN: 'x'}, config)
    expect(fromEnv).toMatchObject({server: 'https://env.example', tenant: 'envt', token: 't2', tokenSource: 'env:STELLA_TOKEN', sealed: true})
    expect(fromEnv.sources).toEqual({server: 'env', tenant: 'env', token: 'env', sealed: 'env'})

    const fromFlags = resolveContext(
      {server: 'https://flag.example', tenant: 'flagt', token: 't3', sealed: false},
      {STELLA_SERVER: 'https://env.example', STELLA_TENANT: 'envt', STELLA_TOKEN: 't2', STELLA_SEALED: '1'},
      config,
    )
    expect(fromFlags).toMatchObject({server: 'https://flag.example', tenant: 'flagt', token: 't3', tokenSource: '--token', sealed: false})
    expect(fromFlags.sources).toEqual({server: 'flag', tenant: 'flag', token: 'flag', sealed: 'flag'})
  })

  it('selects the context by --context, then STELLA_CONTEXT, then the current one', () => {
    const env = {STELLA_CONTEXT: 'prod', PROD_TOKEN: 'x'}
    expect(() => resolveContext({context: 'lab'}, env, config)).toThrow('cannot read the token file /nonexistent/token')
    const labNoToken: StellaConfig = {...config, contexts: {...config.contexts, lab: {...config.contexts.lab, tokenFile: undefined}}}
    expect(resolveContext({context: 'lab'}, env, labNoToken)).toMatchObject({contextName: 'lab', sealed: true, server: 'http://127.0.0.1:8080'})
    expect(resolveContext({}, {STELLA_CONTEXT: 'lab'}, labNoToken).contextName).toBe('lab')
  })

  it('an unknown named context is a usage error listing the known ones', () => {
    const error = thrownBy(() => resolveContext({context: 'nope'}, {}, config))
    expect(error.code).toBe('UNKNOWN_CONTEXT')
    expect(error.exitCode).toBe(ExitCode.Usage)
    expect(error.remedy).toContain('Known contexts: prod, lab.')
  })

  it('a token variable that is not set says which one', () => {
    const error = thrownBy(() => resolveContext({}, {}, config))
    expect(error.code).toBe('TOKEN_ENV_UNSET')
    expect(error.message).toBe("the context's token variable PROD_TOKEN is not set")
  })

  it('reads a token file, warns when others can read it, and never puts the token in messages', () => {
    const tokenFile = join(dir.path, 'token')
    writeFileSync(tokenFile, 'file-secret\n', {mode: 0o644})
    const cfg: StellaConfig = {currentContext: 'a', contexts: {a: {tokenFile}}}
    const resolved = resolveContext({}, {}, cfg)
    expect(resolved.token).toBe('file-secret')
    expect(resolved.tokenSource).toBe(`file:${tokenFile}`)
    expect(resolved.warnings).toEqual([`the token file ${tokenFile} is readable by other users; run \`chmod 600 ${tokenFile}\``])
    expect(JSON.stringify(resolved.warnings)).not.toContain('file-secret')
    writeFileSync(tokenFile, '  \n')
    expect(thrownBy(() => resolveContext({}, {}, cfg)).code).toBe('TOKEN_FILE_EMPTY')
  })

  it('a bad STELLA_SEALED value is refused', () => {
    expect(thrownBy(() => resolveContext({}, {STELLA_SEALED: 'sure'}, {contexts: {}})).code).toBe('INVALID_BOOLEAN')
  })
})
