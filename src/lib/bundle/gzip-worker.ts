/**
 * The worker half of `gunzipFile` (gzip-thread.ts): reads the bundle file, decodes it with
 * `gunzipSingleMember`, and fills the shared ring slot by slot. A slot is handed to the main
 * thread when full (or at the end) and comes back when the main thread is done with it.
 */
import {createReadStream} from 'node:fs'
import {parentPort, workerData} from 'node:worker_threads'

import {gunzipSingleMember} from './gzip.js'
import {type GunzipWorkerData, type WorkerMessage, serializeError} from './gzip-thread.js'

const {path, ring, slotSize} = workerData as GunzipWorkerData
const port = parentPort!
const bytes = new Uint8Array(ring)
const freeSlots = Array.from({length: ring.byteLength / slotSize}, (_, slot) => slot)
let slotFreed: (() => void) | undefined

port.on('message', (slot: number) => {
  freeSlots.push(slot)
  const resolve = slotFreed
  slotFreed = undefined
  resolve?.()
})

const post = (message: WorkerMessage): void => port.postMessage(message)
// 2 MiB: 4 MiB pieces were faster still, but put 4 GiB bundles over 200 MiB of peak RSS.
const PIECE_SIZE = 2 << 20

async function run(): Promise<void> {
  let compressedBytes = 0
  let slot = -1
  let filled = 0
  const handOver = (): void => {
    post({type: 'chunk', slot, length: filled, compressedBytes})
    slot = -1
    filled = 0
  }

  // Larger pieces than in-thread: fewer trips through zlib's stream plumbing, which runs on this thread.
  const source = createReadStream(path, {highWaterMark: PIECE_SIZE})
  for await (const chunk of gunzipSingleMember(source, {chunkSize: PIECE_SIZE, onCompressedBytes: (total) => (compressedBytes = total)})) {
    for (let at = 0; at < chunk.length;) {
      if (slot < 0) {
        while (freeSlots.length === 0) await new Promise<void>((resolve) => (slotFreed = resolve))
        slot = freeSlots.shift()!
      }

      const n = Math.min(slotSize - filled, chunk.length - at)
      bytes.set(chunk.subarray(at, at + n), slot * slotSize + filled)
      filled += n
      at += n
      if (filled === slotSize) handOver()
    }
  }

  if (filled > 0) handOver()
  post({type: 'end'})
}

run().catch((error: unknown) => post({type: 'error', error: serializeError(error)}))

