import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {runInterruptCleanups} from '../../src/lib/cleanup.js'
import {ExitCode} from '../../src/lib/errors.js'
import {writeFileAtomic} from '../../src/lib/fs/atomic.js'
import {scratchDir} from '../helpers/cli.js'
import {thrownBy} from '../helpers/errors.js'

let dir: {path: string; cleanup: () => void}
beforeEach(() => {
  dir = scratchDir()
})
afterEach(() => dir.cleanup())

describe('writeFileAtomic', () => {
  it('writes the bytes with the requested mode and leaves no temp file', () => {
    const target = join(dir.path, 'secret.pem')
    writeFileAtomic(target, 'abc', {mode: 0o600})
    expect(readFileSync(target, 'utf8')).toBe('abc')
    expect(statSync(target).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir.path)).toEqual(['secret.pem'])
  })

  it('refuses to replace an existing file unless told to, and leaves it untouched', () => {
    const target = join(dir.path, 'out')
    writeFileSync(target, 'original')
    const error = thrownBy(() => writeFileAtomic(target, 'new'))
    expect(error.code).toBe('OUTPUT_EXISTS')
    expect(error.exitCode).toBe(ExitCode.Usage)
    expect(error.remedy).toBe('Choose another path, or pass --force to replace it.')
    expect(readFileSync(target, 'utf8')).toBe('original')
    expect(readdirSync(dir.path)).toEqual(['out'])
    writeFileAtomic(target, 'new', {overwrite: true})
    expect(readFileSync(target, 'utf8')).toBe('new')
  })

  it('a missing directory is an input error naming the target', () => {
    const target = join(dir.path, 'missing', 'out')
    const error = thrownBy(() => writeFileAtomic(target, 'x'))
    expect(error.code).toBe('OUTPUT_UNWRITABLE')
    expect(error.message).toContain(target)
  })

  it('forgets its interrupt cleanup once done', () => {
    const target = join(dir.path, 'done')
    writeFileAtomic(target, 'x')
    runInterruptCleanups()
    expect(readFileSync(target, 'utf8')).toBe('x')
  })
})
