/**
 * Gunzipping a bundle file on a second thread, for large bundles.
 *
 * The worker (`gzip-worker.ts`) reads the file and decodes it with `gunzipFdSync`: the same
 * header parser and end checks as `gunzipSingleMember`, the same errors; only where the work
 * happens differs. The main thread is left with what only it can do (tar parsing and SHA-256 of
 * every content byte), while reading, inflating and the CRC-32 happen beside it. The worker
 * inflates straight into a ring of shared 1 MiB slots: no buffer is allocated per chunk on either
 * thread and nothing is copied, so memory stays flat however large the bundle.
 */
import {closeSync, createReadStream, existsSync, openSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'

import {type GunzipOptions, type GzipErrorCode, GzipFormatError, gunzipSingleMember} from './gzip.js'
import {syncInflateAvailable} from './gzip-sync.js'

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
  /** Opened here, so the main thread closes it whatever becomes of the worker. */
  fd: number
  ring: SharedArrayBuffer
  /** One Int32: how many slots the main thread has finished with. */
  freed: SharedArrayBuffer
  slotSize: number
}

export type SerializedError =
  | {kind: 'gzip'; code: GzipErrorCode; detail: string; offset?: number}
  | {kind: 'system'; message: string; code: string; errno?: number; syscall?: string; path?: string}
  | {kind: 'other'; name: string; message: string}

/** Worker to main thread. Slots are handed over and freed in ring order; freeing counts up `freed`. */
export type WorkerMessage =
  | {type: 'chunk'; slot: number; length: number; compressedBytes: number}
  | {type: 'end'; compressedBytes: number}
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
  const script = file.size >= OFF_THREAD_MIN_BYTES && syncInflateAvailable() ? workerScript() : undefined
  if (script === undefined) return gunzipSingleMember(createReadStream(file.file, {highWaterMark: SLOT_SIZE}), options)
  return gunzipInWorker(script, file.file, options)
}

async function* gunzipInWorker(script: string, path: string, options: GunzipOptions): AsyncGenerator<Uint8Array> {
  const fd = openSync(path, 'r')
  const ring = new SharedArrayBuffer(SLOT_SIZE * SLOTS)
  const freed = new SharedArrayBuffer(4)
  const freedCount = new Int32Array(freed)
  const workerData: GunzipWorkerData = {fd, ring, freed, slotSize: SLOT_SIZE}
  let worker: Worker | undefined
  const inbox: WorkerMessage[] = []
  let failure: unknown
  let wake: (() => void) | undefined
  const notify = (): void => {
    const resolve = wake
    wake = undefined
    resolve?.()
  }

  try {
    worker = new Worker(script, {workerData})
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

    for (;;) {
      const message = inbox.shift()
      if (message === undefined) {
        if (failure !== undefined) throw failure
        await new Promise<void>((resolve) => (wake = resolve))
        continue
      }

      if (message.type === 'error') throw deserializeError(message.error)
      options.onCompressedBytes?.(message.compressedBytes)
      if (message.type === 'end') return
      yield new Uint8Array(ring, message.slot * SLOT_SIZE, message.length)
      Atomics.add(freedCount, 0, 1)
      Atomics.notify(freedCount, 0)
    }
  } finally {
    // The worker is stopped before its file is closed: it never reads a closed (or reused) descriptor.
    await worker?.terminate()
    closeSync(fd)
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
