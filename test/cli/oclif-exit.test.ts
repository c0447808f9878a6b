/**
 * oclif 4 reports every failure under --json as exit 1, even `this.error(msg, {exit: N})`.
 * These commands run in-process through oclif's real Command.run and a real Config.
 */
import {Config} from '@oclif/core'
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest'

import {StellaCommand} from '../../src/base-command.js'
import {projectRoot} from '../helpers/cli.js'

class FailsWithOclifError extends StellaCommand<typeof FailsWithOclifError> {
  static override id = 'test:oclif-error'
  async run(): Promise<void> {
    this.error('the server is unreachable', {exit: 4})
  }
}

let config: Config
beforeAll(async () => {
  config = await Config.load(projectRoot)
})

async function runInProcess(argv: string[]): Promise<{exitCode: unknown; stdout: string; stderr: string}> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true))
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true))
  try {
    await FailsWithOclifError.run(argv, config)
  } finally {
    out.mockRestore()
    err.mockRestore()
  }

  return {exitCode: process.exitCode, stdout, stderr}
}

afterEach(() => {
  process.exitCode = undefined
})

describe('this.error(…, {exit}) keeps its exit code', () => {
  it('under --json, in the envelope and as the process exit code', async () => {
    const r = await runInProcess(['--json'])
    expect(r.exitCode).toBe(4)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({status: 4, error: {code: 'ERROR', message: 'the server is unreachable'}})
  })

  it('without --json, as one message on stderr', async () => {
    const r = await runInProcess([])
    expect(r.exitCode).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('Error: the server is unreachable\n')
  })
})
