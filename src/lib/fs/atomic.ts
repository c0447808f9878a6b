/**
 * Atomic file writes: nothing half-written is ever left at a user's path.
 * Data goes to a temp file in the target's directory (same filesystem, so rename is atomic),
 * is fsynced, then moved into place; the directory is fsynced so the rename survives a crash.
 */
import {randomBytes} from 'node:crypto'
import {closeSync, createWriteStream, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {finished} from 'node:stream/promises'
import {basename, dirname, join} from 'node:path'

import {onInterrupt} from '../cleanup.js'
import {InputError, UsageError} from '../errors.js'
import {fsErrorReason} from './reason.js'

export interface AtomicWriteOptions {
  /** File mode of the new file, e.g. 0o600 for secrets. Default 0o644. */
  mode?: number
  /** Replace an existing file. Without it an existing target is an error and stays untouched. */
  overwrite?: boolean
}

/** A temp path beside `target`, hidden and unique, so a crash leaves no file at `target` itself. */
export function tempPathBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
}

export function writeFileAtomic(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  refuseDirectory(target)
  const temp = tempPathBeside(target)
  const forget = onInterrupt(() => rmSync(temp, {force: true}))
  try {
    const fd = openTemp(temp, target, options.mode ?? 0o644)
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      let offset = 0
      while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }

    if (options.overwrite) replaceTarget(temp, target)
    else moveIntoPlaceExclusive(temp, target)
    fsyncDirectory(dirname(target))
  } catch (error) {
    rmSync(temp, {force: true})
    throw error
  } finally {
    forget()
  }
}

/**
 * Streams a file into place atomically: `write` gets a stream onto a temp file beside `target`;
 * only when it resolves is the file fsynced and moved to `target`. On any failure or Ctrl-C the
 * temp file is removed and `target` is untouched.
 */
export async function writeStreamAtomic<T>(target: string, options: AtomicWriteOptions, write: (out: NodeJS.WritableStream) => Promise<T>): Promise<T> {
  assertWritableTarget(target, options)
  const temp = tempPathBeside(target)
  const forget = onInterrupt(() => rmSync(temp, {force: true}))
  const fd = openTemp(temp, target, options.mode ?? 0o644)
  let closed = false
  try {
    const out = createWriteStream('', {fd, autoClose: false, highWaterMark: 1 << 20})
    const result = await write(out)
    out.end()
    await finished(out)
    fsyncSync(fd)
    closeSync(fd)
    closed = true
    if (options.overwrite) replaceTarget(temp, target)
    else moveIntoPlaceExclusive(temp, target)
    fsyncDirectory(dirname(target))
    return result
  } catch (error) {
    if (!closed) closeSync(fd)
    rmSync(temp, {force: true})
    throw error
  } finally {
    forget()
  }
}

/** Refuses an existing `target` unless `overwrite`: checked before long work, so it fails fast. */
export function assertWritableTarget(target: string, options: AtomicWriteOptions = {}): void {
  refuseDirectory(target)
  if (!options.overwrite && existsSync(target)) throw outputExists(target)
}

/**
 * Refuses an output that is one of the files a command reads (the same file by device and inode,
 * whatever the path says): --force would destroy an input or a key before it is read.
 */
export function assertNotAnInput(target: string, inputs: readonly {path: string; what: string}[]): void {
  const out = statSync(target, {throwIfNoEntry: false})
  if (out === undefined) return
  for (const {path, what} of inputs) {
    const input = statSync(path, {throwIfNoEntry: false})
    if (input === undefined || input.dev !== out.dev || input.ino !== out.ino) continue
    throw new UsageError('OUTPUT_IS_INPUT', `${target} is ${what} (${path}): writing there would destroy it`, {remedy: 'Write the output to another path.'})
  }
}

/** A directory is never replaced by a file, --force or not. */
function refuseDirectory(target: string): void {
  if (!statSync(target, {throwIfNoEntry: false})?.isDirectory()) return
  throw new UsageError('OUTPUT_IS_DIRECTORY', `${target} is a directory`, {remedy: `Give the path of a file to write, e.g. ${join(target, 'out.tgz')}.`})
}

/** rename(2) over an existing file; what stops it (a directory put there meanwhile, permissions) said as an output error. */
function replaceTarget(temp: string, target: string): void {
  try {
    renameSync(temp, target)
  } catch (error) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot write ${target}: ${fsErrorReason(error)}`, {remedy: `Check ${target} and the permissions of ${dirname(target)}.`, cause: error})
  }
}

/**
 * Moves a complete file, written and checked elsewhere on the same filesystem, to `target`:
 * for work that must finish (e.g. verify a download) between writing and publishing.
 */
export function moveIntoPlace(temp: string, target: string, options: AtomicWriteOptions = {}): void {
  if (options.overwrite) replaceTarget(temp, target)
  else moveIntoPlaceExclusive(temp, target)
  fsyncDirectory(dirname(target))
}

function openTemp(temp: string, target: string, mode: number): number {
  try {
    // 'wx' with an explicit mode: the file is born with its final permissions, never world-readable for a moment.
    return openSync(temp, 'wx', mode)
  } catch (error) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot write ${target}: ${fsErrorReason(error)}`, {
      remedy: `Check that the directory ${dirname(target)} exists and is writable.`,
      cause: error,
    })
  }
}

/** link() fails atomically if the target exists, so "refuse to overwrite" has no race. */
function moveIntoPlaceExclusive(temp: string, target: string): void {
  try {
    linkSync(temp, target)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw outputExists(target)
    // Filesystems without hard links: fall back to check-then-rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error
    if (existsSync(target)) throw outputExists(target)
    renameSync(temp, target)
    return
  }

  rmSync(temp, {force: true})
}

function outputExists(target: string): UsageError {
  return new UsageError('OUTPUT_EXISTS', `${target} already exists`, {
    remedy: 'Choose another path, or pass --force to replace it.',
  })
}

function fsyncDirectory(directory: string): void {
  let fd: number | undefined
  try {
    fd = openSync(directory, 'r')
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse to fsync a directory; the file itself is already durable.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
