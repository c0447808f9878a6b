/** Runs the built CLI (bin/run.js) as a real process, with its own HOME and config directory. */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
export const stellaBin = join(projectRoot, 'bin', 'run.js')

export interface CliResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string | Uint8Array
  cwd?: string
}

/** A scratch home for one test: config goes to `<home>/.config/stella/config.json`. */
export function scratchDir(prefix = 'stella-test-'): {path: string; cleanup: () => void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}

/** The environment a test CLI run sees: no inherited STELLA_* or colour settings. */
export function cleanEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('STELLA_') || key === 'NO_COLOR' || key === 'FORCE_COLOR' || key === 'XDG_CONFIG_HOME') continue
    env[key] = value
  }

  env.HOME = home
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }

  return env
}

export function spawnCli(args: readonly string[], options: CliOptions & {home: string}) {
  return spawn(process.execPath, [stellaBin, ...args], {
    cwd: options.cwd ?? options.home,
    env: cleanEnv(options.home, options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

export function runCli(args: readonly string[], options: CliOptions & {home: string}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (status, signal) => resolve({status, signal, stdout, stderr}))
    child.stdin.end(options.input ?? '')
  })
}
