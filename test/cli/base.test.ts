import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {runCli, scratchDir, spawnCli} from '../helpers/cli.js'

let home: {path: string; cleanup: () => void}
const stella = (args: string[], env: Record<string, string> = {}) => runCli(args, {home: home.path, env})
const ANSI = new RegExp(String.fromCharCode(27) + String.raw`\[`)

beforeEach(() => {
  home = scratchDir()
})
afterEach(() => home.cleanup())

describe('the base command', () => {
  it('puts one success envelope on stdout under --json', async () => {
    const r = await stella(['config', 'set', 'tenant', 'acme', '--json'])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({
      status: 0,
      result: {
        path: join(home.path, '.config', 'stella', 'config.json'),
        context: 'default',
        key: 'tenant',
        value: 'acme',
        created: true,
        current: true,
        cleared: [],
      },
      warnings: [],
    })
  })

  it('keeps the exit code of an error under --json (oclif would make it 1)', async () => {
    const r = await stella(['config', 'get', 'server', '--json'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({
      status: 2,
      error: {
        code: 'NO_CONTEXT',
        message: 'no context is selected and none was named',
        remedy: 'Create one with `stella config set server URL`, or name one with --context.',
      },
    })
  })

  it('turns parse errors into usage errors (exit 2) with a hint and no stack trace', async () => {
    let r = await stella(['config', 'list', '--frobnicate'])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('Error: Nonexistent flag: --frobnicate\nHint: See `stella config list --help`.\n')

    r = await stella(['config', 'set', 'tenant'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('Error: Missing 1 required arg:\nvalue')
    expect(r.stderr).not.toMatch(/\n\s+at /)

    r = await stella(['config', 'list', '--frobnicate', '--json'])
    expect(r.status).toBe(2)
    expect(JSON.parse(r.stdout).error).toEqual({code: 'USAGE', message: 'Nonexistent flag: --frobnicate', remedy: 'See `stella config list --help`.'})
  })

  it('shows the stack only with --verbose', async () => {
    const plain = await stella(['config', 'use-context', 'nope'])
    expect(plain.stderr).not.toMatch(/\n\s+at /)
    const verbose = await stella(['config', 'use-context', 'nope', '--verbose'])
    expect(verbose.status).toBe(2)
    expect(verbose.stderr).toContain('code: UNKNOWN_CONTEXT')
    expect(verbose.stderr).toMatch(/UsageError: there is no context named "nope"\n\s+at /)
  })

  it('colours only when asked or on a terminal, and never under NO_COLOR or --no-color', async () => {
    expect((await stella(['config', 'use-context', 'nope'])).stderr).not.toMatch(ANSI)
    expect((await stella(['config', 'use-context', 'nope', '--color'])).stderr).toMatch(ANSI)
    expect((await stella(['config', 'use-context', 'nope'], {FORCE_COLOR: '1'})).stderr).toMatch(ANSI)
    expect((await stella(['config', 'use-context', 'nope'], {FORCE_COLOR: '1', NO_COLOR: '1'})).stderr).not.toMatch(ANSI)
    expect((await stella(['config', 'use-context', 'nope', '--no-color'], {FORCE_COLOR: '1'})).stderr).not.toMatch(ANSI)
  })

  it('exits 130 on Ctrl-C and writes nothing', async () => {
    const child = spawnCli(['config', 'set', 'token', '-', '--allow-plaintext-token', '--verbose'], {home: home.path})
    let stderr = ''
    child.stderr.setEncoding('utf8')
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk
        if (stderr.includes('Reading the value from standard input')) resolve()
      })
    })
    child.stdin.write('partial-tok')
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(stderr).toContain('Interrupted (SIGINT); nothing was left half-written.')
    expect(stderr).not.toContain('partial-tok')
    expect(existsSync(join(home.path, '.config', 'stella', 'config.json'))).toBe(false)
  })

  it('has -h, --help and --version, and lists the topics', async () => {
    const help = await stella(['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^ {2}config +Manage contexts: server URL, tenant, token source, CA, sealed mode$/m)
    expect(help.stdout).toMatch(/^ {2}keys +Create and inspect Ed25519 signing keys$/m)
    expect(help.stdout).toMatch(/^ {2}forensic +Prove what happened: evidence bundles, offline verification,/m)
    const short = await stella(['config', 'set', '-h'])
    expect(short.status).toBe(0)
    expect(short.stdout).toContain('USAGE\n  $ stella config set KEY VALUE')
    expect(short.stdout).toContain('GLOBAL FLAGS')
    expect(short.stdout).toContain('--json')
    const version = await stella(['--version'])
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}
    expect(version.stdout).toMatch(new RegExp(`^stella/${pkg.version.replaceAll('.', '\\.')} `))
  })

  it('an unknown command is a usage error', async () => {
    const r = await stella(['frobnicate'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('command frobnicate not found')
  })
})
