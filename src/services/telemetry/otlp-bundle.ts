/**
 * The OTLP content of telemetry bundles: `otlp/traces.pb`, `otlp/logs.pb` and `otlp/metrics.pb`,
 * each a stream of Export*ServiceRequest protobuf messages preceded by their length as a 4-byte
 * big-endian unsigned integer (the Collector file exporter's `proto` format). Written message by
 * message to files on disk while capturing, read message by message straight out of the tar.gz
 * while replaying — never unpacked, never held whole.
 */
import {createHash} from 'node:crypto'
import {type WriteStream, createWriteStream, mkdirSync} from 'node:fs'
import {once} from 'node:events'
import {join} from 'node:path'

import {gunzipSingleMember} from '../../lib/bundle/gzip.js'
import {TarParser} from '../../lib/bundle/tar.js'
import {InputError} from '../../lib/errors.js'
import type {Signal} from '../../lib/otlp/types.js'

export const SIGNAL_ORDER: readonly Signal[] = ['traces', 'logs', 'metrics']

export const OTLP_PATHS: Readonly<Record<Signal, string>> = {traces: 'otlp/traces.pb', logs: 'otlp/logs.pb', metrics: 'otlp/metrics.pb'}

/** The largest single message read back: far above any exporter's batch, far below the memory of the machine. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

export function signalOfPath(path: string): Signal | undefined {
  return SIGNAL_ORDER.find((signal) => OTLP_PATHS[signal] === path)
}

export interface SignalCounts {
  /** Export*ServiceRequest messages. */
  messages: number
  /** Spans, log records, or metric data points. */
  records: number
  /** Bytes of the file, length prefixes included. */
  bytes: number
}

export function emptyCounts(): Record<Signal, SignalCounts> {
  return {traces: {messages: 0, records: 0, bytes: 0}, logs: {messages: 0, records: 0, bytes: 0}, metrics: {messages: 0, records: 0, bytes: 0}}
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Waits until a write stream drains, or rejects with its error; either way no listener stays behind. */
function drained(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError)
      resolve()
    }

    const onError = (error: Error): void => {
      stream.off('drain', onDrain)
      reject(error)
    }

    if (stream.errored) {
      reject(stream.errored)
      return
    }

    stream.once('drain', onDrain)
    stream.once('error', onError)
  })
}

/**
 * One length-prefixed file per signal in a private directory, each opened when its first message
 * arrives (an empty signal has no file), written with backpressure so memory stays flat however
 * much is captured.
 */
export class OtlpSpool {
  readonly counts = emptyCounts()
  readonly #dir: string
  readonly #streams = new Map<Signal, WriteStream>()

  constructor(dir: string) {
    this.#dir = dir
    mkdirSync(join(dir, 'otlp'), {recursive: true, mode: 0o700})
  }

  async write(signal: Signal, message: Uint8Array, records: number): Promise<void> {
    let stream = this.#streams.get(signal)
    if (!stream) {
      stream = createWriteStream(this.pathOf(signal), {flags: 'wx', mode: 0o600, highWaterMark: 1 << 20})
      // A failure (the file cannot be created, the disk is full) is thrown from stream.errored by the
      // next write or by close(); this listener only keeps the 'error' event from ending the process.
      stream.on('error', () => {})
      this.#streams.set(signal, stream)
    }

    if (stream.errored) throw stream.errored

    const prefix = Buffer.allocUnsafe(4)
    prefix.writeUInt32BE(message.byteLength)
    stream.write(prefix)
    const more = stream.write(message)
    const counts = this.counts[signal]
    counts.messages++
    counts.records += records
    counts.bytes += 4 + message.byteLength
    if (!more) await drained(stream)
  }

  pathOf(signal: Signal): string {
    return join(this.#dir, OTLP_PATHS[signal])
  }

  /** The files written, in bundle-path form; closes them first. */
  async finish(): Promise<{path: string; source: string}[]> {
    await this.close()
    return SIGNAL_ORDER.filter((signal) => this.#streams.has(signal)).map((signal) => ({path: OTLP_PATHS[signal], source: this.pathOf(signal)}))
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#streams.values()].map(async (stream) => {
        if (!stream.closed) {
          stream.end()
          await once(stream, 'close')
        }

        if (stream.errored) throw stream.errored
      }),
    )
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Splits a length-prefixed byte stream into messages, across chunk boundaries. */
export class FrameSplitter {
  #header = Buffer.alloc(4)
  #headerFilled = 0
  #message: Uint8Array | undefined
  #messageFilled = 0
  #offset = 0

  constructor(
    private readonly where: string,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  /** Feeds bytes; `emit` gets every message completed by them (a copy, safe to keep). */
  push(chunk: Uint8Array, emit: (message: Uint8Array) => void): void {
    let at = 0
    while (at < chunk.byteLength) {
      if (this.#message === undefined) {
        const take = Math.min(4 - this.#headerFilled, chunk.byteLength - at)
        this.#header.set(chunk.subarray(at, at + take), this.#headerFilled)
        this.#headerFilled += take
        at += take
        if (this.#headerFilled < 4) break
        const length = this.#header.readUInt32BE(0)
        if (length > this.maxBytes) {
          throw new InputError('OTLP_MESSAGE_TOO_LARGE', `${this.where} holds a message of ${length} bytes at offset ${this.#offset}, more than the ${this.maxBytes}-byte limit`, {
            remedy: 'The file is damaged, or is not length-prefixed OTLP protobuf.',
          })
        }

        this.#message = new Uint8Array(length)
        this.#messageFilled = 0
        this.#headerFilled = 0
      }

      const take = Math.min(this.#message.byteLength - this.#messageFilled, chunk.byteLength - at)
      this.#message.set(chunk.subarray(at, at + take), this.#messageFilled)
      this.#messageFilled += take
      at += take
      if (this.#messageFilled === this.#message.byteLength) {
        const message = this.#message
        this.#message = undefined
        this.#offset += 4 + message.byteLength
        emit(message)
      }
    }
  }

  /** Throws if the stream ended inside a length prefix or a message. */
  end(): void {
    if (this.#headerFilled === 0 && this.#message === undefined) return
    throw new InputError('OTLP_TRUNCATED', `${this.where} ends inside a message (at offset ${this.#offset})`, {remedy: 'The file is damaged or was cut short; obtain a complete copy.'})
  }
}

export interface BundleOtlpMessage {
  signal: Signal
  /** Its path in the bundle and its index there, for error messages. */
  path: string
  index: number
  bytes: Uint8Array
}

export interface ReadBundleOtlpOptions {
  /** The verified manifest's digests: an OTLP file that differs from them is refused, at its end. */
  expected?: ReadonlyMap<string, {size: number; sha256: string}>
  onCompressedBytes?: (total: number) => void
  /** Bundle name for messages. */
  name: string
}

/**
 * The OTLP messages of a bundle, in archive order, straight out of its gzip stream: no
 * extraction, memory bounded by one decompressed chunk and one message.
 */
export async function* readBundleOtlp(source: AsyncIterable<Uint8Array>, options: ReadBundleOtlpOptions): AsyncGenerator<BundleOtlpMessage> {
  const ready: BundleOtlpMessage[] = []
  let current: {signal: Signal; path: string; splitter: FrameSplitter; hash: ReturnType<typeof createHash>; size: number; index: number} | undefined
  const parser = new TarParser({
    entry: (entry) => {
      const signal = entry.type === 'file' ? signalOfPath(entry.path) : undefined
      current = signal === undefined ? undefined : {signal, path: entry.path, splitter: new FrameSplitter(`${options.name}: ${entry.path}`), hash: createHash('sha256'), size: 0, index: 0}
    },
    data: (chunk) => {
      if (!current) return
      const entry = current
      entry.hash.update(chunk)
      entry.size += chunk.byteLength
      entry.splitter.push(chunk, (bytes) => ready.push({signal: entry.signal, path: entry.path, index: entry.index++, bytes}))
    },
    entryEnd: () => {
      if (!current) return
      current.splitter.end()
      const expected = options.expected?.get(current.path)
      if (options.expected && (!expected || expected.size !== current.size || expected.sha256 !== current.hash.digest('hex'))) {
        throw new InputError('BUNDLE_CHANGED', `${current.path} in ${options.name} is not the file that was verified`, {
          remedy: 'The bundle changed while it was being read; copy it somewhere nothing writes to, and replay that copy.',
        })
      }

      current = undefined
    },
  })

  for await (const chunk of gunzipSingleMember(source, options.onCompressedBytes ? {onCompressedBytes: options.onCompressedBytes} : {})) {
    parser.write(chunk)
    // Nothing is added while these are taken: the parser only runs between batches.
    yield* ready
    ready.length = 0
  }

  parser.end()
  yield* ready
}
