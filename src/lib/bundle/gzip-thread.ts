/**
 * Gunzipping a bundle file on a second thread, for large bundles.
 *
 * The worker (`gzip-worker.ts`) reads the file and runs the same strict single-member decoder
 * as `gunzipSingleMember`; only where the work happens differs. The main thread is left with
 * what only it can do (tar parsing and SHA-256 of every content byte), while reading, inflating
 * and the CRC-32 happen beside it. The decompressed bytes come back through a ring of shared
 * 1 MiB slots: nothing is copied on the main thread, and no buffer is allocated there per chunk,
 * so a verify of gigabytes does not keep the main thread's garbage collector busy either.
 */
import {createReadStream, existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'

import {type GunzipOptions, type GzipErrorCode, GzipFormatError, gunzipSingleMember} from './gzip.js'

/** A bundle on disk: the worker can read it itself. */
export interface BundleFile {
  file: string
  /** Its size in bytes; small files are gunzipped in-thread, where starting a worker would cost more than it saves. */
  size: number
}

/** From this size up, a second thread pays for its start (tens of milliseconds) several times over. */
export const OFF_THREAD_MIN_BYTES = 32 << 20

const SLOT_SIZE = 1 << 20
/** 8 MiB of decompressed bytes in flight: enough to keep both threads busy. */
const SLOTS = 8

export interface GunzipWorkerData {
  path: string
  ring: SharedArrayBuffer
  slotSize: number
}

export type SerializedError =
  | {kind: 'gzip'; code: GzipErrorCode; detail: string; offset?: number}
  | {kind: 'system'; message: string; code: string; errno?: number; syscall?: string; path?: string}
  | {kind: 'other'; name: string; message: string}

/** Worker to main thread. The main thread answers each chunk with its slot number once it is done with it. */
export type WorkerMessage =
  | {type: 'chunk'; slot: number; length: number; compressedBytes: number}
  | {type: 'end'}
  | {type: 'error'; error: SerializedError}

export function isBundleFile(source: unknown): source is BundleFile {
  return typeof source === 'object' && source !== null && typeof (source as BundleFile).file === 'string' && typeof (source as BundleFile).size === 'number'
}

/**
 * `gunzipSingleMember` over a file: the same bytes, errors and checks. Large files are decoded on
 * a worker thread; then each yielded chunk is a view of a shared slot that is reused once the
 * consumer asks for the next chunk, so a consumer must copy what it keeps.
 */
export function gunzipFile(file: BundleFile, options: GunzipOptions = {}): AsyncGenerator<Uint8Array> {
  const script = file.size >= OFF_THREAD_MIN_BYTES ? workerScript() : undefined
  if (script === undefined) return gunzipSingleMember(createReadStream(file.file, {highWaterMark: SLOT_SIZE}), options)
  return gunzipInWorker(script, file.file, options)
}

async function* gunzipInWorker(script: string, path: string, options: GunzipOptions): AsyncGenerator<Uint8Array> {
  const ring = new SharedArrayBuffer(SLOT_SIZE * SLOTS)
  const workerData: GunzipWorkerData = {path, ring, slotSize: SLOT_SIZE}
  const worker = new Worker(script, {workerData})
  const inbox: WorkerMessage[] = []
  let failure: unknown
  let wake: (() => void) | undefined
  const notify = (): void => {
    const resolve = wake
    wake = undefined
    resolve?.()
  }

  worker.on('message', (message: WorkerMessage) => {
    inbox.push(message)
    notify()
  })
  worker.on('error', (error) => {
    failure ??= error
    notify()
  })
  worker.on('exit', (code) => {
    failure ??= new Error(`the decompression thread stopped (exit code ${code})`)
    notify()
  })

  try {
    for (;;) {
      const message = inbox.shift()
      if (message === undefined) {
        if (failure !== undefined) throw failure
        await new Promise<void>((resolve) => (wake = resolve))
        continue
      }

      if (message.type === 'end') return
      if (message.type === 'error') throw deserializeError(message.error)
      options.onCompressedBytes?.(message.compressedBytes)
      yield new Uint8Array(ring, message.slot * SLOT_SIZE, message.length)
      worker.postMessage(message.slot)
    }
  } finally {
    await worker.terminate()
  }
}

/** dist/lib/bundle/gzip-worker.js, found from the bundled chunk (dist/chunks/) and from the sources alike. */
let script: string | null | undefined
function workerScript(): string | undefined {
  if (script === undefined) {
    script = null
    for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
      const candidate = join(dir, 'dist', 'lib', 'bundle', 'gzip-worker.js')
      if (existsSync(candidate)) {
        script = candidate
        break
      }

      if (dirname(dir) === dir) break
    }
  }

  return script ?? undefined
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof GzipFormatError) return {kind: 'gzip', code: error.code, detail: error.detail, ...(error.offset === undefined ? {} : {offset: error.offset})}
  const system = error as NodeJS.ErrnoException
  if (error instanceof Error && typeof system.code === 'string') {
    return {kind: 'system', message: error.message, code: system.code, ...(system.errno === undefined ? {} : {errno: system.errno}), ...(system.syscall === undefined ? {} : {syscall: system.syscall}), ...(system.path === undefined ? {} : {path: system.path})}
  }

  return {kind: 'other', name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error)}
}

function deserializeError(error: SerializedError): Error {
  switch (error.kind) {
    case 'gzip': {
      return new GzipFormatError(error.code, error.detail, error.offset)
    }

    case 'system': {
      const {code, errno, syscall, path} = error
      return Object.assign(new Error(error.message), {code, errno, syscall, path})
    }

    default: {
      return Object.assign(new Error(error.message), {name: error.name})
    }
  }
}
