/**
 * Extraction that cannot leave unverified bytes behind: content goes into a fresh temp directory
 * inside the target while the bundle streams; only after the whole bundle verified are the files
 * moved into the target. Paths were validated by the verifier (relative, no `..`), and the temp
 * directory is new and holds no links, so nothing can land outside it.
 */
import {rmSync} from 'node:fs'
import {type FileHandle, lstat, mkdir, mkdtemp, open, readdir, rename, rm} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {onInterrupt} from '../cleanup.js'
import {InputError, UsageError} from '../errors.js'
import {fsErrorReason} from '../fs/reason.js'
import type {ContentSink} from './verify.js'

export interface Extraction {
  sink: ContentSink
  /** Moves the extracted files into the target directory; returns how many top-level entries moved. */
  commit(): Promise<number>
  /** Removes everything extracted so far. */
  abort(): Promise<void>
}

export async function startExtraction(target: string): Promise<Extraction> {
  try {
    await mkdir(target, {recursive: true})
  } catch (error) {
    throw new InputError('EXTRACT_DIR_UNWRITABLE', `cannot create ${target}: ${fsErrorReason(error)}`, {remedy: 'Choose a directory you can write to.', cause: error})
  }

  const temp = await mkdtemp(join(target, '.stella-extract-'))
  // Interrupt handlers run synchronously, just before the process exits.
  const forget = onInterrupt(() => rmSync(temp, {recursive: true, force: true}))
  let chain: Promise<void> = Promise.resolve()
  let file: FileHandle | undefined
  let failure: unknown

  const enqueue = (step: () => Promise<void>) => {
    chain = chain.then(async () => {
      if (failure === undefined) await step()
    }).catch((error: unknown) => {
      failure ??= error
    })
  }

  const sink: ContentSink = {
    begin(path) {
      enqueue(async () => {
        const destination = join(temp, path)
        await mkdir(dirname(destination), {recursive: true})
        file = await open(destination, 'wx', 0o644)
      })
    },
    data(chunk) {
      enqueue(async () => {
        await file!.write(chunk)
      })
    },
    end() {
      enqueue(async () => {
        await file!.close()
        file = undefined
      })
    },
    flush: () => chain,
  }

  const cleanUp = async () => {
    await chain
    await file?.close().catch(() => {})
    await rm(temp, {recursive: true, force: true})
    forget()
  }

  return {
    sink,
    async commit() {
      await chain
      if (failure !== undefined) {
        await cleanUp()
        throw new InputError('EXTRACT_FAILED', `cannot extract into ${target}: ${fsErrorReason(failure)}`, {remedy: 'Check free space and permissions of the directory.', cause: failure})
      }

      const entries = await readdir(temp)
      const clashes: string[] = []
      for (const entry of entries) {
        if (await exists(join(target, entry))) clashes.push(entry)
      }

      if (clashes.length > 0) {
        await cleanUp()
        throw new UsageError('OUTPUT_EXISTS', `${target} already has ${clashes.slice(0, 5).join(', ')}${clashes.length > 5 ? ` and ${clashes.length - 5} more` : ''}`, {
          remedy: 'Extract into an empty or new directory; nothing was written.',
        })
      }

      for (const entry of entries) await rename(join(temp, entry), join(target, entry))
      await cleanUp()
      return entries.length
    },
    abort: cleanUp,
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch {
    return false
  }
}
