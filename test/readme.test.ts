import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

// @ts-expect-error: a plain JavaScript build script without type declarations.
import {withCommandTable} from '../scripts/readme-commands.js'
import {cleanEnv, projectRoot, scratchDir} from './helpers/cli.js'

const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')

let home: {path: string; cleanup: () => void}
beforeEach(() => {
  home = scratchDir()
})
afterEach(() => home.cleanup())

describe('README.md', () => {
  it('lists exactly the commands of the manifest', () => {
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8'))
    expect(withCommandTable(readme, manifest)).toBe(readme)
  })

  it('has a quick start whose commands all work as described', () => {
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const commands = (block ?? '').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))
    expect(commands.length).toBeGreaterThanOrEqual(6)
    const env = cleanEnv(home.path, {TMPDIR: home.path})
    for (const command of commands) {
      const r = spawnSync('bash', ['-c', command], {cwd: projectRoot, env, encoding: 'utf8'})
      expect(r.status, `${command}\n${r.stderr}`).toBe(0)
      if (command.includes('echo "exit $?"')) expect(r.stdout).toBe('exit 3\n')
      else expect(r.stderr, command).toBe('')
    }

    // The keyid printed by stella is the one openssl computes in the next line.
    const keyid = /keyid:\s+([0-9a-f]{64})/.exec(execFileSync(process.execPath, ['bin/run.js', 'keys', 'show', 'examples/keys/platform.pub.pem'], {cwd: projectRoot, env}).toString())?.[1]
    const der = execFileSync('openssl', ['pkey', '-in', 'examples/keys/platform.pem', '-pubout', '-outform', 'DER'], {cwd: projectRoot})
    expect(execFileSync('openssl', ['dgst', '-sha256', '-r'], {input: der}).toString().split(' ')[0]).toBe(keyid)
  })
})
