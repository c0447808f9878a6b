/**
 * OTLP on disk: what the OpenTelemetry Collector's file exporter writes, and the otlp/ files of a
 * telemetry evidence bundle, read as a stream of OTLP export requests with bounded memory.
 *
 * Formats are told apart by content, never by file name:
 * - gzip (1f 8b): a whole compressed file, or an evidence bundle (a tar inside, its otlp/ entries read);
 * - zstd (28 b5 2f fd): a whole compressed file (the Collector's newer `compression: zstd`), when
 *   the runtime has zstd (Node.js 22.15 and later; Node.js 20 does not);
 * - `{` first: JSON lines, one Export*ServiceRequest OTLP/JSON object per line (the exporter's
 *   default); a file whose `{` ends its first line is one pretty-printed JSON document instead;
 * - a tar header: a plain (uncompressed) bundle;
 * - anything else: the `proto` format, each message preceded by its length as a 4-byte big-endian
 *   integer. A message that itself begins with the zstd or gzip magic was compressed on its own
 *   (the Collector's older `compression: zstd`) and may hold protobuf or OTLP/JSON.
 *
 * Files are read 1 MiB at a time (4 MiB when searching) into two buffers used in turn, so reading
 * the next chunk overlaps examining this one, and no fresh memory is touched per chunk; what is
 * yielded is copied out.
 * With `mustContain`, JSON lines are searched as raw bytes (one pass, any letter case) and only
 * the lines that hold the text are cut out, and protobuf messages are searched for the binary
 * form: finding one trace in a large file costs little more than reading it.
 */
import type {Dirent} from 'node:fs'
import {type FileHandle, open, readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {type Duplex, Readable, pipeline} from 'node:stream'
import * as zlib from 'node:zlib'

import {gunzipSingleMember} from '../bundle/gzip.js'
import {TarParser} from '../bundle/tar.js'
import {InputError} from '../errors.js'
import {fsErrorReason} from '../fs/reason.js'
import {decodeTraces, sniffSignal} from './index.js'
import {CaseInsensitiveSearch} from './text-search.js'
import type {Signal} from './types.js'

export interface OtlpMessage {
  /** The file, or `bundle.tgz:otlp/traces.pb` for a bundle entry. */
  source: string
  format: 'proto' | 'json'
  signal: Signal
  /** One Export*ServiceRequest: protobuf, or OTLP/JSON text as UTF-8. */
  bytes: Uint8Array
  /** Where the message starts in its source (in the decompressed data when the source is compressed). */
  offset: number
}

export interface ReadOtlpOptions {
  /** Only messages of these signals; default all. */
  signals?: readonly Signal[]
  /**
   * Only messages that hold this text (JSON: `text` in any ASCII letter case, as hex ids may be
   * written in either; it must not hold a newline) or these bytes (protobuf: `binary`); the others
   * are skipped without being parsed.
   */
  mustContain?: {text: string; binary: Uint8Array}
  /** A longer line or message is an error. Default 64 MiB (the OTLP spec's recommended limit). */
  maxMessageBytes?: number
  /** Called with each evidence bundle among the inputs before anything of it is read: it may refuse the bundle by throwing. */
  checkBundle?: (file: string) => Promise<void>
}

export type OtlpFileErrorCode =
  /** The input ends inside a message (a length prefix or the bytes it announces, or an unfinished last JSON line). */
  | 'OTLP_TRUNCATED'
  /** A line or message is longer than maxMessageBytes. */
  | 'OTLP_TOO_LARGE'
  /** A JSON line or document that is not JSON. */
  | 'OTLP_NOT_JSON'
  /** A message that is not an export request of any signal. */
  | 'OTLP_UNKNOWN_SIGNAL'
  /** zstd-compressed data on a runtime without zstd. */
  | 'OTLP_ZSTD_UNSUPPORTED'
  /** gzip or zstd data that does not decompress. */
  | 'OTLP_BAD_COMPRESSION'
  /** A bundle whose gzip or tar structure is broken. */
  | 'OTLP_BAD_ARCHIVE'
  /** A gzip/tar archive without otlp/ files that is not a telemetry bundle. */
  | 'OTLP_NOT_TELEMETRY_BUNDLE'
  | 'OTLP_INPUT_UNREADABLE'
  /** A directory without files, or a glob that matches nothing. */
  | 'OTLP_NO_INPUT'

const FORMAT_REMEDY = 'Give files the OpenTelemetry Collector file exporter wrote (JSON lines or the length-prefixed proto format), or a telemetry bundle.'

/** A file that cannot be read as OTLP; `offset` is where in it (in the decompressed data for a compressed file). */
export class OtlpFileError extends InputError {
  declare readonly code: OtlpFileErrorCode
  readonly source: string
  readonly offset: number | undefined

  constructor(code: OtlpFileErrorCode, source: string, offset: number | undefined, message: string, remedy: string = FORMAT_REMEDY, cause?: unknown) {
    super(code, `${source}: ${message}${offset === undefined ? '' : ` (offset ${offset})`}`, {remedy, cause})
    this.source = source
    this.offset = offset
  }
}

const MiB = 1 << 20
const CHUNK_SIZE = MiB
/**
 * Reads of an uncompressed file while searching (mustContain). Larger than CHUNK_SIZE: each read is
 * a trip through the threadpool and back, and `obs trace` over 1 GiB of cached files took 10% less
 * time in 4 MiB reads than in 1 MiB ones (8 MiB was slower again). Without a search every line is
 * copied out and held until the consumer takes it, so reads stay at CHUNK_SIZE: a `telemetry
 * capture` of 1 GiB peaked 22 MiB higher in 4 MiB reads.
 */
const SEARCH_READ_SIZE = 4 * MiB
/** How far into its allocation a read buffer starts (see readBuffer). */
const READ_BUFFER_SHIFT = 64
const DEFAULT_MAX_MESSAGE_BYTES = 64 * MiB
/** Bytes read up front to tell the format; of a gzip file, inflated to see whether it holds a tar. */
const HEAD_BYTES = 4096

const NEWLINE = 0x0a
const CR = 0x0d
const BRACE = 0x7b
const GZIP_MAGIC = [0x1f, 0x8b] as const
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const
/** ustar magic at offset 257 of a tar header block ("ustar", then NUL or space). */
const TAR_MAGIC_AT = 257
const TAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72] as const
const TAR_HEADER = 512

const SIGNAL_KEYS: readonly (readonly [string, Signal])[] = [
  ['resourceSpans', 'traces'],
  ['resourceLogs', 'logs'],
  ['resourceMetrics', 'metrics'],
]

// ---------------------------------------------------------------------------------------
// Inputs: files, directories, globs
// ---------------------------------------------------------------------------------------

const GLOB_CHARS = /[*?]/

/**
 * The files the inputs name, in order: a file as given, a directory's files recursively (hidden
 * ones skipped), a glob's matches (`*` and `?` within a path segment, `**` across any number of
 * directories; hidden names only match a pattern that starts with a dot). Each directory or glob
 * is sorted; a file named twice is read once.
 */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const seen = new Set<string>()
  const files: string[] = []
  for (const input of inputs) {
    const matches = GLOB_CHARS.test(input) && !(await exists(input)) ? await expandGlob(input) : await expandPath(input)
    for (const file of matches) {
      if (seen.has(file)) continue
      seen.add(file)
      files.push(file)
    }
  }

  return files
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

async function expandPath(input: string): Promise<string[]> {
  let info
  try {
    info = await stat(input)
  } catch (error) {
    throw new OtlpFileError('OTLP_INPUT_UNREADABLE', input, undefined, `cannot read it: ${fsErrorReason(error)}`, 'Check the path.', error)
  }

  if (!info.isDirectory()) return [input]
  const files = sortPaths(await walk(input))
  if (files.length === 0) throw new OtlpFileError('OTLP_NO_INPUT', input, undefined, 'the directory holds no files (hidden files are skipped)', 'Point at the directory the Collector file exporter writes to.')
  return files
}

/** Every non-hidden file below `dir`; symbolic links to directories are not followed (no cycles). */
async function walk(dir: string, out: string[] = []): Promise<string[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch (error) {
    throw new OtlpFileError('OTLP_INPUT_UNREADABLE', dir, undefined, `cannot list it: ${fsErrorReason(error)}`, 'Check the directory and its permissions.', error)
  }

  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await walk(path, out)
    else if (entry.isFile()) out.push(path)
    else if (entry.isSymbolicLink() && (await isFile(path))) out.push(path)
  }

  return out
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Plain code-unit order: the same on every machine, whatever the locale. */
function sortPaths(paths: string[]): string[] {
  return paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

async function expandGlob(pattern: string): Promise<string[]> {
  const segments = pattern.split('/')
  const absolute = segments[0] === ''
  // The leading segments without wildcards name where matching starts.
  let first = 0
  while (first < segments.length - 1 && !GLOB_CHARS.test(segments[first]!)) first++
  const base = absolute ? `/${segments.slice(1, first).join('/')}` : segments.slice(0, first).join('/')
  const matches: string[] = []
  await matchGlob(base === '' ? '.' : base, base === '', segments.slice(first), matches)
  const files: string[] = []
  for (const match of new Set(matches)) {
    const info = await stat(match).catch(() => undefined)
    if (info?.isDirectory()) files.push(...(await walk(match)))
    else if (info?.isFile()) files.push(match)
  }

  if (files.length === 0) throw new OtlpFileError('OTLP_NO_INPUT', pattern, undefined, 'no file matches this pattern', 'Check the pattern; quote it so the shell does not expand it first.')
  return sortPaths([...new Set(files)])
}

/** `relative`: `dir` is the implicit "." of a relative pattern, left out of the paths produced. */
async function matchGlob(dir: string, relative: boolean, segments: readonly string[], out: string[]): Promise<void> {
  const at = (name: string): string => (relative ? name : join(dir, name))
  if (segments.length === 0) {
    out.push(dir)
    return
  }

  const [segment, ...rest] = segments as [string, ...string[]]
  if (segment === '**') {
    // Zero directories, then one more level for each (non-hidden) directory.
    await matchGlob(dir, relative, rest, out)
    for (const entry of await listDir(dir)) {
      if (!entry.name.startsWith('.') && entry.isDirectory()) await matchGlob(at(entry.name), false, segments, out)
    }

    return
  }

  if (!GLOB_CHARS.test(segment)) {
    if (segment === '' || segment === '.') return matchGlob(dir, relative, rest, out)
    const next = at(segment)
    if (await exists(next)) await matchGlob(next, false, rest, out)
    return
  }

  const matcher = segmentMatcher(segment)
  const names = (await listDir(dir)).map((entry) => entry.name).filter((name) => (segment.startsWith('.') || !name.startsWith('.')) && matcher.test(name))
  for (const name of sortPaths(names)) await matchGlob(at(name), false, rest, out)
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, {withFileTypes: true})
  } catch {
    return []
  }
}

/** One path segment's pattern: `*` any run of characters, `?` one character, everything else literal. */
function segmentMatcher(segment: string): RegExp {
  const source = [...segment].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')
  return new RegExp(`^${source}$`, 'su')
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/** What every framer needs: where its messages go and which to keep. */
interface FrameContext {
  source: string
  /** Set for a bundle entry whose name says its signal (otlp/traces.pb). */
  signal: Signal | undefined
  signals: ReadonlySet<Signal> | undefined
  /** mustContain.text, for JSON. */
  search: CaseInsensitiveSearch | undefined
  /** mustContain.binary, for protobuf. */
  binary: Uint8Array | undefined
  maxMessageBytes: number
  /** Offsets are in decompressed data: said in errors. */
  compressed: boolean
  /** The chunks pushed are reused once push() returns: whatever is kept must be copied. */
  copy: boolean
  out: OtlpMessage[]
}

interface Framer {
  push(chunk: Uint8Array): void
  end(): void
}

/**
 * The OTLP export requests held by the inputs (see expandInputs), in file order and within a file
 * in the order written. Throws OtlpFileError (an InputError) naming the file and offset.
 */
export async function* readOtlpInputs(inputs: readonly string[], options: ReadOtlpOptions = {}): AsyncGenerator<OtlpMessage> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`)
  const signals = options.signals === undefined ? undefined : new Set(options.signals)
  const {text, binary} = options.mustContain ?? {text: '', binary: new Uint8Array(0)}
  if (text.includes('\n')) throw new RangeError('mustContain.text cannot hold a newline: JSON lines are searched line by line')
  const settings: ReadSettings = {
    signals,
    search: text === '' ? undefined : new CaseInsensitiveSearch(text),
    binary: binary.length === 0 ? undefined : binary,
    maxMessageBytes,
  }
  // One pair of read buffers for all the files, read one after another: fresh ones for each file
  // cost a page fault per 4 KiB and external memory that the garbage collector answers to.
  const readBuffers = new ReadBuffers(settings.search === undefined && settings.binary === undefined ? CHUNK_SIZE : SEARCH_READ_SIZE)
  for (const file of await expandInputs(inputs)) yield* readFile(file, settings, readBuffers, options.checkBundle)
}

type ReadSettings = Pick<FrameContext, 'signals' | 'search' | 'binary' | 'maxMessageBytes'>

async function* readFile(file: string, settings: ReadSettings, readBuffers: ReadBuffers, checkBundle: ReadOtlpOptions['checkBundle']): AsyncGenerator<OtlpMessage> {
  let handle: FileHandle
  try {
    handle = await open(file)
  } catch (error) {
    throw new OtlpFileError('OTLP_INPUT_UNREADABLE', file, undefined, `cannot read it: ${fsErrorReason(error)}`, 'Check the path and its permissions.', error)
  }

  try {
    const head = Buffer.allocUnsafe(HEAD_BYTES)
    const {bytesRead} = await handle.read(head, 0, head.length, 0)
    const start = head.subarray(0, bytesRead)
    // Decompressors hold on to their input, so they get fresh chunks (and hand out fresh ones).
    const fresh = (): AsyncGenerator<Uint8Array> => readChunks(handle, file, undefined)
    const context = (compressed: boolean): FrameContext => ({...settings, source: file, signal: undefined, compressed, copy: !compressed, out: []})
    const gzip = startsWith(start, GZIP_MAGIC)
    const bundle = gzip ? isTar(peekGunzip(start)) : isTar(start)
    if (bundle && checkBundle !== undefined) await checkBundle(file)
    if (gzip) {
      if (bundle) {
        yield* frame(gunzipChunks(file, fresh()), new TarFramer(context(true)))
      } else {
        yield* frame(decompressChunks(file, fresh(), zlib.createGunzip({chunkSize: CHUNK_SIZE}), 'gzip'), topLevelFramer(context(true)))
      }
    } else if (startsWith(start, ZSTD_MAGIC)) {
      const zstd = zstdRuntime()
      if (zstd === undefined) throw zstdUnsupported(file, 'file')
      yield* frame(decompressChunks(file, fresh(), zstd.createZstdDecompress({chunkSize: CHUNK_SIZE}), 'zstd'), topLevelFramer(context(true)))
    } else {
      yield* frame(readChunks(handle, file, readBuffers.pair()), topLevelFramer(context(false)))
    }
  } finally {
    await handle.close().catch(() => {})
  }
}

/** Pushes every chunk through the framer and hands on what it produced, chunk by chunk. */
async function* frame(chunks: AsyncIterable<Uint8Array>, framer: Framer & {context: FrameContext}): AsyncGenerator<OtlpMessage> {
  const out = framer.context.out
  for await (const chunk of chunks) {
    framer.push(chunk)
    if (out.length > 0) yield* drain(out)
  }

  framer.end()
  yield* drain(out)
}

function* drain(out: OtlpMessage[]): Generator<OtlpMessage> {
  // Taken out first: the consumer may stop early, and nothing is held for it.
  const messages = out.splice(0, out.length)
  yield* messages
}

/**
 * The file's bytes, the next read already under way while a chunk is examined. With `reuse`, the
 * two buffers take turns, each read filling one: a chunk is read over once the consumer has asked
 * for the next one (fresh memory costs a page fault per 4 KiB: with a new buffer per chunk,
 * reading a cached file took twice as long). Without, each 1 MiB chunk is fresh (decompressors
 * keep them).
 */
async function* readChunks(handle: FileHandle, file: string, reuse: readonly [Buffer, Buffer] | undefined): AsyncGenerator<Uint8Array> {
  let position = 0
  let turn = 0
  const size = reuse ? reuse[0].length : CHUNK_SIZE
  const read = (at: number) => handle.read(reuse ? reuse[turn++ & 1]! : Buffer.allocUnsafe(size), 0, size, at)
  let next: ReturnType<typeof read> | undefined = read(0)
  try {
    for (;;) {
      let result
      try {
        result = await next
      } catch (error) {
        next = undefined
        throw new OtlpFileError('OTLP_INPUT_UNREADABLE', file, position, `cannot read it: ${fsErrorReason(error)}`, 'Check the file and the disk.', error)
      }

      if (result.bytesRead === 0) {
        next = undefined
        return
      }

      position += result.bytesRead
      next = read(position)
      yield result.buffer.subarray(0, result.bytesRead)
    }
  } finally {
    // A read still under way must settle before the file is closed under it (or its buffer reused).
    await next?.catch(() => {})
  }
}

/** The two read buffers of uncompressed files, allocated when the first such file is read. */
class ReadBuffers {
  readonly #size: number
  #pair: [Buffer, Buffer] | undefined

  constructor(size: number) {
    this.#size = size
  }

  pair(): readonly [Buffer, Buffer] {
    this.#pair ??= [readBuffer(this.#size), readBuffer(this.#size)]
    return this.#pair
  }
}

/**
 * A read buffer that does not start on a page boundary. On the Linux machines this was measured
 * on, reading a cached file into a page-aligned buffer at page-aligned offsets took the kernel
 * three to four times as long as reading it 64 bytes further on (0.43 s against 0.10 s per GiB).
 */
function readBuffer(size: number): Buffer {
  return Buffer.allocUnsafeSlow(size + READ_BUFFER_SHIFT).subarray(READ_BUFFER_SHIFT)
}

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false
  return true
}

function isTar(head: Uint8Array): boolean {
  return head.length >= TAR_HEADER && startsWith(head, TAR_MAGIC, TAR_MAGIC_AT)
}

/**
 * What the first few KiB of a gzip file inflate to (a few MiB at most); empty when they do not
 * inflate: the streaming pass then reports why.
 */
function peekGunzip(head: Uint8Array): Uint8Array {
  try {
    return zlib.gunzipSync(head, {finishFlush: zlib.constants.Z_SYNC_FLUSH})
  } catch {
    return new Uint8Array(0)
  }
}

/** An evidence bundle: exactly one gzip member, as the bundle format requires. */
async function* gunzipChunks(file: string, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* gunzipSingleMember(chunks)
  } catch (error) {
    throw archiveError(file, error)
  }
}

/** A gzip or tar format error of a bundle, said of the file it is in. */
function archiveError(file: string, error: unknown): unknown {
  if (error instanceof OtlpFileError || !(error instanceof InputError)) return error
  const code = error.code === 'GZIP_TRUNCATED' || error.code === 'TAR_TRUNCATED' ? 'OTLP_TRUNCATED' : 'OTLP_BAD_ARCHIVE'
  return new OtlpFileError(code, file, undefined, error.message, error.remedy, error)
}

async function* decompressChunks(file: string, chunks: AsyncIterable<Uint8Array>, stream: Duplex, kind: 'gzip' | 'zstd'): AsyncGenerator<Uint8Array> {
  // Errors of either side surface in the loop below; leaving it early destroys both.
  pipeline(Readable.from(chunks), stream, () => {})
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) yield chunk
  } catch (error) {
    if (error instanceof OtlpFileError) throw error
    const code = (error as {code?: string}).code
    const truncated = code === 'Z_BUF_ERROR' || /unexpected end/i.test((error as Error).message)
    throw truncated
      ? new OtlpFileError('OTLP_TRUNCATED', file, undefined, `the ${kind} data ends too soon (the file is cut short, or still being written)`, 'Read the file again once it is complete.', error)
      : new OtlpFileError('OTLP_BAD_COMPRESSION', file, undefined, `the ${kind} data is corrupt: ${(error as Error).message}`, 'Obtain a fresh copy of the file.', error)
  } finally {
    stream.destroy()
  }
}

interface ZstdRuntime {
  createZstdDecompress(options?: {chunkSize?: number}): Duplex
  zstdDecompressSync(buffer: Uint8Array, options?: {maxOutputLength?: number}): Buffer
}

/** zstd is built into node:zlib from Node.js 22.15 on; Node.js 20 has none. */
function zstdRuntime(): ZstdRuntime | undefined {
  const candidate = zlib as unknown as Partial<ZstdRuntime>
  return typeof candidate.createZstdDecompress === 'function' && typeof candidate.zstdDecompressSync === 'function' ? (candidate as ZstdRuntime) : undefined
}

function zstdUnsupported(source: string, what: 'file' | 'message', offset?: number): OtlpFileError {
  const remedy = what === 'file'
    ? 'Decompress it first (`zstd -d FILE`), or run stella on Node.js 22.15 or later, which has zstd built in.'
    : 'Run stella on Node.js 22.15 or later, which has zstd built in, or let the Collector file exporter write without `compression`.'
  const message = what === 'file'
    ? `the file is zstd-compressed, and this Node.js (${process.version}) cannot decompress zstd`
    : `a message is zstd-compressed, and this Node.js (${process.version}) cannot decompress zstd`
  return new OtlpFileError('OTLP_ZSTD_UNSUPPORTED', source, offset, message, remedy)
}

// ---------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------

function topLevelFramer(context: FrameContext): Framer & {context: FrameContext} {
  return new AutoFramer(context, true)
}

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === NEWLINE || byte === CR

/**
 * Decides the format from the first bytes: `{` starts JSON (lines, or one document when the `{`
 * ends its line), a tar header a plain bundle, anything else the length-prefixed proto format.
 */
class AutoFramer implements Framer {
  readonly context: FrameContext
  readonly #allowTar: boolean
  #held: Uint8Array[] = []
  #heldLength = 0
  #inner: Framer | undefined

  constructor(context: FrameContext, allowTar: boolean) {
    this.context = context
    this.#allowTar = allowTar
  }

  push(chunk: Uint8Array): void {
    if (this.#inner !== undefined) return this.#inner.push(chunk)
    if (chunk.length === 0) return
    this.#held.push(chunk)
    this.#heldLength += chunk.length
    const decided = this.#decide(false)
    if (decided) return this.#start(decided)
    if (this.#heldLength > this.context.maxMessageBytes) return this.#start(this.#decide(true) ?? 'proto')
    // It waits for the next chunk: a copy, as the reader fills its buffers again. (Most files are
    // decided by their first chunk, which the framer then takes as any other, without a copy.)
    if (this.context.copy && this.#held.length === 1 && this.#held[0] === chunk) this.#held = [copyOf(chunk)]
  }

  end(): void {
    if (this.#inner === undefined) {
      const decided = this.#decide(true)
      if (decided === undefined) return // empty, or only white space
      this.#start(decided)
    }

    this.#inner!.end()
  }

  #start(kind: 'lines' | 'document' | 'proto' | 'tar'): void {
    const context = this.context
    const inner = kind === 'lines' ? new LineFramer(context) : kind === 'document' ? new DocumentFramer(context) : kind === 'tar' ? new TarFramer(context) : new LengthPrefixedFramer(context)
    this.#inner = inner
    const held = this.#held
    this.#held = []
    for (const chunk of held) inner.push(chunk)
  }

  /** The format, or undefined while the bytes so far cannot tell (and at the end: nothing but white space). */
  #decide(final: boolean): 'lines' | 'document' | 'proto' | 'tar' | undefined {
    const head = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held)
    if (this.#held.length > 1) this.#held = [head]
    let i = 0
    if (startsWith(head, [0xef, 0xbb, 0xbf])) i = 3 // a UTF-8 byte order mark
    while (i < head.length && isSpace(head[i]!)) i++
    // Nothing but white space: an empty file of either format.
    if (i === head.length) return undefined
    if (head[i] !== BRACE) {
      if (!this.#allowTar) return 'proto'
      if (head.length < TAR_HEADER && !final) return undefined
      return isTar(head) ? 'tar' : 'proto'
    }

    // JSON: a document when nothing follows the `{` on its line.
    for (let j = i + 1; j < head.length; j++) {
      const byte = head[j]!
      if (byte === NEWLINE) return 'document'
      if (!isSpace(byte)) return 'lines'
    }

    return final ? 'lines' : undefined
  }
}

/** The signal a JSON line's first key names, read from the raw bytes; undefined when it is not one of the three. */
function signalOfFirstKey(line: Uint8Array): Signal | undefined {
  let i = 0
  while (i < line.length && isSpace(line[i]!)) i++
  if (line[i] !== BRACE) return undefined
  i++
  while (i < line.length && isSpace(line[i]!)) i++
  if (line[i] !== 0x22) return undefined
  for (const [key, signal] of SIGNAL_KEYS) {
    if (line.length < i + key.length + 2 || line[i + key.length + 1] !== 0x22) continue
    let same = true
    for (let k = 0; k < key.length; k++) {
      if (line[i + 1 + k] !== key.charCodeAt(k)) {
        same = false
        break
      }
    }

    if (same) return signal
  }

  return undefined
}

/**
 * The signal of a JSON request whose first key did not say: parsed, and its top-level keys
 * looked at. Undefined for an empty object (a request without data).
 */
function signalOfParsedJson(bytes: Uint8Array, context: FrameContext, offset: number): Signal | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (error) {
    throw new OtlpFileError('OTLP_NOT_JSON', context.source, offset, `a line of this JSON-lines file is not JSON: ${(error as Error).message}`, FORMAT_REMEDY, error)
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpFileError('OTLP_UNKNOWN_SIGNAL', context.source, offset, 'a JSON line is not an object', FORMAT_REMEDY)
  }

  for (const [key, signal] of SIGNAL_KEYS) if (key in value) return signal
  const keys = Object.keys(value)
  if (keys.length === 0) return undefined
  throw new OtlpFileError('OTLP_UNKNOWN_SIGNAL', context.source, offset, `a JSON object with ${keys.slice(0, 3).map((key) => JSON.stringify(key)).join(', ')} is not an OTLP export request (it has no resourceSpans, resourceLogs or resourceMetrics)`, FORMAT_REMEDY)
}

function contains(bytes: Uint8Array, search: CaseInsensitiveSearch): boolean {
  return search.indexIn(bytes) !== -1
}

function copyOf(view: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafe(view.byteLength)
  copy.set(view)
  return copy
}

function tooLarge(context: FrameContext, offset: number, what: string): OtlpFileError {
  return new OtlpFileError('OTLP_TOO_LARGE', context.source, offset, `${what} is longer than the ${formatLimit(context.maxMessageBytes)} limit${context.compressed ? ' (offset in the decompressed data)' : ''}`, 'Raise the message size limit, or check that this is an OTLP file.')
}

function formatLimit(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes}-byte`
}

/** JSON lines: one export request per line, blank lines skipped, `\r\n` endings accepted. */
class LineFramer implements Framer {
  readonly context: FrameContext
  /** Stream offset of the next byte pushed. */
  #position = 0
  /** The unfinished line: parts of earlier chunks (copies when chunks are reused). */
  #carry: Uint8Array[] = []
  #carryLength = 0
  #carryStart = 0
  /** With a search: the unfinished line, in a buffer reused from line to line. */
  #tail = Buffer.allocUnsafe(256 * 1024)
  #tailLength = 0
  #tailStart = 0
  #tailMatched = false

  constructor(context: FrameContext) {
    this.context = context
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const search = this.context.search
    if (search !== undefined) {
      this.#pushSearching(bytes, search)
      this.#position += bytes.length
      return
    }

    let at = 0
    if (this.#carryLength > 0) {
      const newline = bytes.indexOf(NEWLINE)
      if (newline === -1) {
        this.#hold(bytes, 0)
        this.#position += bytes.length
        return
      }

      this.#carry.push(bytes.subarray(0, newline))
      this.#carryLength += newline
      this.#checkCarry()
      const line = Buffer.concat(this.#carry, this.#carryLength)
      const start = this.#carryStart
      this.#carry = []
      this.#carryLength = 0
      if (search === undefined || contains(line, search)) this.#line(line, start, true)
      at = newline + 1
    }

    if (search === undefined) this.#split(bytes, at)
    else this.#search(bytes, at, search)
    this.#position += bytes.length
  }

  end(): void {
    if (this.context.search !== undefined) return this.#endSearching(this.context.search)
    if (this.#carryLength === 0) return
    const line = Buffer.concat(this.#carry, this.#carryLength)
    this.#carry = []
    this.#carryLength = 0
    const trimmed = trimLine(line)
    if (trimmed.length === 0) return
    // A last line without its newline is fine if complete; a writer cut short leaves it unfinished.
    try {
      JSON.parse(trimmed.toString('utf8'))
    } catch {
      throw new OtlpFileError('OTLP_TRUNCATED', this.context.source, this.#carryStart, 'the last line is unfinished JSON without a newline (the file is cut short, or still being written)', 'Read the file again once the writer has finished it.')
    }

    const search = this.context.search
    if (search === undefined || contains(trimmed, search)) this.#line(trimmed, this.#carryStart, true)
  }

  /**
   * With a search, the unfinished line at the end of a chunk goes into one reused buffer, searched
   * once as it arrives; the line is cut out only when it holds the text. Lines of Collector files
   * are often hundreds of KB, so copying every chunk's tail into a fresh buffer and joining it with
   * the next chunk's head cost more than the search itself.
   */
  #pushSearching(bytes: Buffer, search: CaseInsensitiveSearch): void {
    let at = 0
    if (this.#tailLength > 0) {
      const newline = bytes.indexOf(NEWLINE)
      const head = bytes.subarray(0, newline === -1 ? bytes.length : newline)
      this.#tailMatched ||= this.#straddles(head, search) || search.indexIn(head) !== -1
      this.#appendTail(head)
      if (newline === -1) return
      if (this.#tailMatched) this.#line(Buffer.from(this.#tail.subarray(0, this.#tailLength)), this.#tailStart, true)
      this.#tailLength = 0
      at = newline + 1
    }

    this.#search(bytes, at, search)
  }

  #endSearching(search: CaseInsensitiveSearch): void {
    if (this.#tailLength === 0) return
    const line = trimLine(Buffer.from(this.#tail.subarray(0, this.#tailLength)))
    this.#tailLength = 0
    if (line.length === 0) return
    try {
      JSON.parse(line.toString('utf8'))
    } catch {
      throw new OtlpFileError('OTLP_TRUNCATED', this.context.source, this.#tailStart, 'the last line is unfinished JSON without a newline (the file is cut short, or still being written)', 'Read the file again once the writer has finished it.')
    }

    if (this.#tailMatched || contains(line, search)) this.#line(line, this.#tailStart, true)
  }

  /** Whether the text spans the end of the held tail and the start of `head`. */
  #straddles(head: Buffer, search: CaseInsensitiveSearch): boolean {
    const reach = search.length - 1
    if (reach === 0) return false
    const before = this.#tail.subarray(Math.max(0, this.#tailLength - reach), this.#tailLength)
    const window = Buffer.concat([before, head.subarray(0, reach)])
    return search.indexIn(window) !== -1
  }

  #appendTail(part: Buffer): void {
    const length = this.#tailLength + part.length
    if (length > this.context.maxMessageBytes) throw tooLarge(this.context, this.#tailStart, 'a line')
    if (length > this.#tail.length) {
      const grown = Buffer.allocUnsafe(Math.max(length, this.#tail.length * 2))
      this.#tail.copy(grown, 0, 0, this.#tailLength)
      this.#tail = grown
    }

    part.copy(this.#tail, this.#tailLength)
    this.#tailLength = length
  }

  /** Every line of the chunk from `at`. */
  #split(bytes: Buffer, at: number): void {
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, at)
      if (newline === -1) break
      if (newline - at > this.context.maxMessageBytes) throw tooLarge(this.context, this.#position + at, 'a line')
      this.#line(bytes.subarray(at, newline), this.#position + at, false)
      at = newline + 1
    }

    this.#hold(bytes, at)
  }

  /**
   * Only the lines that hold the text: the raw bytes up to the chunk's last newline are searched
   * in one pass, and a line is cut out around each hit. The text holds no newline, so a hit
   * before the last newline lies in a whole line.
   */
  #search(bytes: Buffer, at: number, search: CaseInsensitiveSearch): void {
    const last = bytes.lastIndexOf(NEWLINE)
    if (last >= at) {
      let from = at
      for (;;) {
        const hit = search.indexIn(bytes, from, last)
        if (hit === -1) break
        const start = Math.max(at, bytes.lastIndexOf(NEWLINE, hit) + 1)
        const end = bytes.indexOf(NEWLINE, hit + search.length)
        if (end - start > this.context.maxMessageBytes) throw tooLarge(this.context, this.#position + start, 'a line')
        this.#line(bytes.subarray(start, end), this.#position + start, false)
        from = end + 1
      }

      at = last + 1
    }

    if (at >= bytes.length) return
    const rest = bytes.subarray(at)
    this.#tailStart = this.#position + at
    this.#tailMatched = search.indexIn(rest) !== -1
    this.#appendTail(rest)
  }

  #hold(bytes: Buffer, at: number): void {
    if (at >= bytes.length) return
    if (this.#carryLength === 0) this.#carryStart = this.#position + at
    const rest = bytes.subarray(at)
    this.#carry.push(this.context.copy ? copyOf(rest) : rest)
    this.#carryLength += rest.length
    this.#checkCarry()
  }

  #checkCarry(): void {
    if (this.#carryLength > this.context.maxMessageBytes) throw tooLarge(this.context, this.#carryStart, 'a line')
  }

  /** `owned`: the bytes are already this framer's (not a view into a chunk that will be reused). */
  #line(raw: Buffer, offset: number, owned: boolean): void {
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, -1) : raw
    let first = 0
    while (first < line.length && isSpace(line[first]!)) first++
    if (first === line.length) return
    const context = this.context
    const signal = context.signal ?? signalOfFirstKey(line) ?? signalOfParsedJson(line, context, offset)
    if (signal === undefined) return
    if (context.signals !== undefined && !context.signals.has(signal)) return
    context.out.push({source: context.source, format: 'json', signal, bytes: owned || !context.copy ? line : copyOf(line), offset})
  }
}

function trimLine(line: Buffer): Buffer {
  let end = line.length
  while (end > 0 && isSpace(line[end - 1]!)) end--
  return line.subarray(0, end)
}

/** One pretty-printed OTLP/JSON document (it must fit within maxMessageBytes). */
class DocumentFramer implements Framer {
  readonly context: FrameContext
  #parts: Uint8Array[] = []
  #length = 0

  constructor(context: FrameContext) {
    this.context = context
  }

  push(chunk: Uint8Array): void {
    this.#length += chunk.length
    if (this.#length > this.context.maxMessageBytes) throw tooLarge(this.context, 0, 'a JSON document')
    this.#parts.push(this.context.copy ? copyOf(chunk) : chunk)
  }

  end(): void {
    const bytes = Buffer.concat(this.#parts, this.#length)
    this.#parts = []
    const context = this.context
    if (context.search !== undefined && !contains(bytes, context.search)) return
    const signal = context.signal ?? signalOfParsedJson(bytes, context, 0)
    if (signal === undefined || (context.signals !== undefined && !context.signals.has(signal))) return
    context.out.push({source: context.source, format: 'json', signal, bytes, offset: 0})
  }
}

/** The Collector file exporter's proto format: each message preceded by its length, 4 bytes big-endian. */
class LengthPrefixedFramer implements Framer {
  readonly context: FrameContext
  #position = 0
  readonly #prefix = new Uint8Array(4)
  #prefixFilled = 0
  /** Bytes the current message still needs; -1 while reading a prefix. */
  #needed = -1
  #length = 0
  #start = 0
  #parts: Uint8Array[] = []

  constructor(context: FrameContext) {
    this.context = context
  }

  push(chunk: Uint8Array): void {
    let at = 0
    while (at < chunk.length) {
      if (this.#needed === -1) {
        if (this.#prefixFilled === 0 && chunk.length - at >= 4) {
          this.#begin((chunk[at]! * 0x1000000) + ((chunk[at + 1]! << 16) | (chunk[at + 2]! << 8) | chunk[at + 3]!), this.#position + at)
          at += 4
        } else {
          if (this.#prefixFilled === 0) this.#start = this.#position + at
          this.#prefix[this.#prefixFilled++] = chunk[at++]!
          if (this.#prefixFilled === 4) {
            const p = this.#prefix
            this.#prefixFilled = 0
            this.#begin((p[0]! * 0x1000000) + ((p[1]! << 16) | (p[2]! << 8) | p[3]!), this.#start)
          }
        }

        continue
      }

      const available = chunk.length - at
      if (this.#parts.length === 0 && available >= this.#needed) {
        const body = chunk.subarray(at, at + this.#needed)
        at += this.#needed
        this.#needed = -1
        this.#message(body, !this.context.copy)
        continue
      }

      const take = Math.min(this.#needed, available)
      const part = chunk.subarray(at, at + take)
      this.#parts.push(this.context.copy ? copyOf(part) : part)
      this.#needed -= take
      at += take
      if (this.#needed === 0) {
        const body = Buffer.concat(this.#parts, this.#length)
        this.#parts = []
        this.#needed = -1
        this.#message(body, true)
      }
    }

    this.#position += chunk.length
  }

  end(): void {
    if (this.#prefixFilled > 0) {
      throw new OtlpFileError('OTLP_TRUNCATED', this.context.source, this.#start, `the data ends inside a 4-byte length prefix (${this.#prefixFilled} of 4 bytes)`, 'The file is cut short, or still being written; read it again once it is complete.')
    }

    if (this.#needed > 0) {
      const got = this.#length - this.#needed
      throw new OtlpFileError('OTLP_TRUNCATED', this.context.source, this.#start, `the last message is cut short: its length prefix says ${this.#length} bytes, only ${got} follow`, 'The file is cut short, or still being written; read it again once it is complete.')
    }
  }

  #begin(length: number, start: number): void {
    if (length > this.context.maxMessageBytes) {
      throw new OtlpFileError('OTLP_TOO_LARGE', this.context.source, start, `a length prefix says ${length} bytes, more than the ${formatLimit(this.context.maxMessageBytes)} limit${this.context.compressed ? ' (offset in the decompressed data)' : ''}; is this an OTLP file? JSON lines begin with "{", the proto format with a 4-byte big-endian length`, 'Give only OTLP files: when a directory holds other files too, name the OTLP ones or use a glob (e.g. "otel/*.pb").')
    }

    this.#start = start
    this.#length = length
    // An empty message is an empty request: nothing to read, nothing to yield.
    this.#needed = length === 0 ? -1 : length
  }

  /** `owned`: the bytes may be kept as they are (not a view into a chunk that will be reused). */
  #message(raw: Uint8Array, owned: boolean): void {
    const context = this.context
    const offset = this.#start
    const body = this.#decompress(raw, offset)
    const keep = (): Uint8Array => (owned || body !== raw ? body : copyOf(body))
    let first = 0
    while (first < body.length && isSpace(body[first]!)) first++
    if (first === body.length) return
    if (body[first] === BRACE) {
      // OTLP/JSON in a length-prefixed file: what the Collector writes with format json and compression on.
      if (context.search !== undefined && !contains(body, context.search)) return
      const signal = context.signal ?? signalOfFirstKey(body) ?? signalOfParsedJson(body, context, offset)
      if (signal === undefined || (context.signals !== undefined && !context.signals.has(signal))) return
      context.out.push({source: context.source, format: 'json', signal, bytes: keep(), offset})
      return
    }

    if (context.binary !== undefined && Buffer.from(body.buffer, body.byteOffset, body.byteLength).indexOf(context.binary) === -1) return
    const signal = context.signal ?? sniffSignal(body)
    if (signal === undefined) {
      if (holdsNoRecords(body)) return
      throw new OtlpFileError('OTLP_UNKNOWN_SIGNAL', context.source, offset, `a ${body.length}-byte message is not an OTLP trace, logs or metrics export request`, FORMAT_REMEDY)
    }

    if (context.signals !== undefined && !context.signals.has(signal)) return
    context.out.push({source: context.source, format: 'proto', signal, bytes: keep(), offset})
  }

  /** A message compressed on its own (zstd by the Collector; gzip accepted too) is inflated within the size limit. */
  #decompress(body: Uint8Array, offset: number): Uint8Array {
    const gzip = startsWith(body, GZIP_MAGIC)
    const zstd = !gzip && startsWith(body, ZSTD_MAGIC)
    if (!gzip && !zstd) return body
    const kind = gzip ? 'gzip' : 'zstd'
    const maxOutputLength = this.context.maxMessageBytes
    try {
      if (gzip) return zlib.gunzipSync(body, {maxOutputLength})
      const runtime = zstdRuntime()
      if (runtime === undefined) throw zstdUnsupported(this.context.source, 'message', offset)
      return runtime.zstdDecompressSync(body, {maxOutputLength})
    } catch (error) {
      if (error instanceof OtlpFileError) throw error
      if ((error as {code?: string}).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(this.context, offset, `a ${kind}-compressed message, decompressed,`)
      throw new OtlpFileError('OTLP_BAD_COMPRESSION', this.context.source, offset, `a ${kind}-compressed message does not decompress: ${(error as Error).message}`, 'Obtain a fresh copy of the file.', error)
    }
  }
}

/**
 * A well-formed request without a single record cannot tell its signal, and carries nothing:
 * the three requests share their outer layers, so it reads as a trace request with no spans.
 */
function holdsNoRecords(body: Uint8Array): boolean {
  try {
    return decodeTraces(body).length === 0
  } catch {
    return false
  }
}

const MAX_MANIFEST_BYTES = MiB

/**
 * A tar archive (an evidence bundle): each otlp/ file is framed on its own as it streams by,
 * with its signal taken from its name (otlp/traces.pb) when the name says it.
 */
class TarFramer implements Framer {
  readonly context: FrameContext
  readonly #parser: TarParser
  #entry: Framer | undefined
  #otlpEntries = 0
  #manifest: Uint8Array[] | undefined
  #manifestLength = 0
  #inManifest = false

  constructor(context: FrameContext) {
    this.context = context
    this.#parser = new TarParser({
      entry: (entry) => {
        this.#entry = undefined
        this.#inManifest = entry.type === 'file' && entry.path === 'manifest.json'
        if (this.#inManifest) this.#manifest = []
        if (entry.type !== 'file' || !entry.path.startsWith('otlp/')) return
        this.#otlpEntries++
        const signal = signalOfEntryName(entry.path)
        if (signal !== undefined && context.signals !== undefined && !context.signals.has(signal)) return
        this.#entry = new AutoFramer({...context, source: `${context.source}:${entry.path}`, signal, compressed: false}, false)
      },
      data: (chunk) => {
        if (this.#entry !== undefined) this.#entry.push(chunk)
        else if (this.#inManifest && this.#manifestLength + chunk.length <= MAX_MANIFEST_BYTES) {
          this.#manifest!.push(Uint8Array.prototype.slice.call(chunk))
          this.#manifestLength += chunk.length
        }
      },
      entryEnd: () => {
        this.#entry?.end()
        this.#entry = undefined
        this.#inManifest = false
      },
    })
  }

  push(chunk: Uint8Array): void {
    try {
      this.#parser.write(chunk)
    } catch (error) {
      throw this.#wrap(error)
    }
  }

  end(): void {
    try {
      this.#parser.end()
    } catch (error) {
      throw this.#wrap(error)
    }

    if (this.#otlpEntries === 0 && !this.#isTelemetryBundle()) {
      throw new OtlpFileError('OTLP_NOT_TELEMETRY_BUNDLE', this.context.source, undefined, 'this archive holds no otlp/ files and is not a telemetry bundle', 'Give a telemetry bundle (`stella telemetry capture` writes one), or the Collector file exporter\'s files.')
    }
  }

  #isTelemetryBundle(): boolean {
    if (this.#manifest === undefined) return false
    try {
      const manifest = JSON.parse(Buffer.concat(this.#manifest).toString('utf8')) as {kind?: unknown}
      return manifest.kind === 'telemetry'
    } catch {
      return false
    }
  }

  #wrap(error: unknown): unknown {
    return archiveError(this.context.source, error)
  }
}

function signalOfEntryName(path: string): Signal | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1)
  const stem = name.slice(0, name.indexOf('.') === -1 ? name.length : name.indexOf('.'))
  return stem === 'traces' || stem === 'logs' || stem === 'metrics' ? stem : undefined
}
