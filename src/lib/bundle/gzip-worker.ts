/**
 * The worker half of `gunzipFile` (gzip-thread.ts): decodes the bundle file with `gunzipFdSync`
 * straight into the shared ring, slot after slot. This thread only ever blocks: on reads, in
 * zlib, and in Atomics.wait until the main thread has finished with the oldest slot.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {type GunzipWorkerData, type WorkerMessage, serializeError} from './gzip-thread.js'
import {gunzipFdSync} from './gzip-sync.js'

const {fd, ring, freed, slotSize} = workerData as GunzipWorkerData
const port = parentPort!
const slots = ring.byteLength / slotSize
/** How many slots the main thread has finished with, counted up forever; slots go round in order. */
const freedCount = new Int32Array(freed)
const post = (message: WorkerMessage): void => port.postMessage(message)
// Larger reads than in-thread: fewer calls into zlib and the file system.
const PIECE_SIZE = 2 << 20

let handedOver = 0
try {
  const compressedBytes = gunzipFdSync(fd, PIECE_SIZE, {
    next() {
      for (;;) {
        const done = Atomics.load(freedCount, 0)
        if (handedOver - done < slots) break
        Atomics.wait(freedCount, 0, done)
      }

      return new Uint8Array(ring, (handedOver % slots) * slotSize, slotSize)
    },
    filled(length, compressedBytes) {
      post({type: 'chunk', slot: handedOver % slots, length, compressedBytes})
      handedOver += 1
    },
  })
  post({type: 'end', compressedBytes})
} catch (error) {
  post({type: 'error', error: serializeError(error)})
}
