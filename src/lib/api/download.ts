/**
 * Resumable downloads: bytes stream to a hidden `.part` file beside the target, hashed as they
 * arrive; a connection that drops mid-body is resumed with `Range` when the server said how long
 * the body is, and started over otherwise. Only a complete, fsynced file is moved to the target.
 * On any failure or abort the part file is removed and nothing exists at the target.
 */
import {createHash, randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import {type FileHandle, open} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import type {Dispatcher} from 'undici'

import {onInterrupt} from '../cleanup.js'
import {InputError, InterruptedError, type StellaError, isStellaError} from '../errors.js'
import {assertWritableTarget, moveIntoPlace} from '../fs/atomic.js'
import {fsErrorReason} from '../fs/reason.js'
import type {NetworkFailure} from './errors.js'
import {backoffDelay, isRetryableStatus, parseRetryAfter, sleep} from './retry.js'

export const DEFAULT_MAX_RESUMES = 5

export interface DownloadProgress {
  bytes: number
  /** Known when the server sent Content-Length. */
  totalBytes?: number
}

export interface DownloadOptions {
  query?: Record<string, string | number | boolean | undefined | null>
  /** Replace an existing target. Without it an existing target is an error and stays untouched. */
  overwrite?: boolean
  /** Aborting removes the part file and rejects with InterruptedError. */
  signal?: AbortSignal
  onProgress?: (progress: DownloadProgress) => void
  /** Reconnections after the body broke off (resumes and restarts together); default 5. */
  maxResumes?: number
}

export interface DownloadResult {
  path: string
  bytes: number
  /** Times the body was continued with a Range request. */
  resumes: number
  /** Times the bytes received so far were thrown away and the body fetched from the start. */
  restarts: number
  /** SHA-256 of the file, lowercase hex. */
  sha256: string
}

/** What the download needs of the client: one request with the standard headers, and errors in the user's terms. */
export interface DownloadTransport {
  readonly method: string
  readonly url: URL
  readonly retries: number
  /** Longest silence allowed: waiting for headers, or between two pieces of the body. */
  readonly timeoutMs: number
  open(extraHeaders: Record<string, string>, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData>
  readErrorBody(body: Dispatcher.ResponseData['body']): Promise<string>
  responseError(response: Dispatcher.ResponseData, body: string, attempts: number, suffix: string): StellaError
  classify(error: unknown): NetworkFailure
  networkError(failure: NetworkFailure, attempts: number, suffix: string, cause: unknown): StellaError
  timeoutError(attempts: number, what: string): StellaError
  badResponse(message: string, attempts: number): StellaError
  dropError(message: string, attempts: number, cause: unknown): StellaError
  /** A one-line notice that a failed attempt is retried. */
  retrying(delayMs: number, attempt: number, why: string): void
}

/** `<dir>/.<name>.<random>.part`: hidden, unique, on the target's filesystem so the final rename is atomic. */
export function partPathBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`)
}

/** `bytes <first>-<last>/<total>` of a 206, or undefined when unreadable. */
export function parseContentRange(value: string | undefined): {first: number; last: number; total: number | undefined} | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '')
  if (!match) return undefined
  return {first: Number(match[1]), last: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3])}
}

/** Drops a body we will not read; undici reports the abort as an error, which nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {})
  body.destroy()
}

function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function contentLength(response: Dispatcher.ResponseData): number | undefined {
  const value = header(response, 'content-length')
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined
}

/** If-Range needs a strong ETag; a weak one cannot promise byte-identical ranges, so fall back to Last-Modified. */
function validatorOf(response: Dispatcher.ResponseData): string | undefined {
  const etag = header(response, 'etag')
  if (etag !== undefined && !etag.startsWith('W/')) return etag
  return header(response, 'last-modified')
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

function isTimeout(error: unknown): boolean {
  return TIMEOUT_CODES.has((error as {code?: string} | undefined)?.code ?? '')
}

/** The body broke off: the connection dropped, stalled, or ended short. */
class Dropped extends Error {}

export async function downloadToFile(transport: DownloadTransport, target: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  assertWritableTarget(target, {overwrite: options.overwrite ?? false})
  const {signal} = options
  const interrupted = () => new InterruptedError(`the download was interrupted; nothing was saved at ${target}`)
  if (signal?.aborted) throw interrupted()

  const maxResumes = options.maxResumes ?? DEFAULT_MAX_RESUMES
  const temp = partPathBeside(target)
  const forget = onInterrupt(() => rmSync(temp, {force: true}))
  let file: FileHandle | undefined
  try {
    file = await openPart(temp, target)
    const result = await transfer(transport, file, {signal, maxResumes, onProgress: options.onProgress})
    await file.sync()
    await file.close()
    file = undefined
    moveIntoPlace(temp, target, {overwrite: options.overwrite ?? false})
    return {path: target, ...result}
  } catch (error) {
    await file?.close().catch(() => {})
    rmSync(temp, {force: true})
    if (signal?.aborted) throw interrupted()
    if (isFileError(error)) {
      throw new InputError('OUTPUT_UNWRITABLE', `cannot write ${target}: ${fsErrorReason(error)}`, {
        remedy: `Free space or choose another directory than ${dirname(target)}.`,
        cause: error,
      })
    }

    throw error
  } finally {
    forget()
  }
}

async function openPart(temp: string, target: string): Promise<FileHandle> {
  try {
    return await open(temp, 'wx', 0o644)
  } catch (error) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot write ${target}: ${fsErrorReason(error)}`, {
      remedy: `Check that the directory ${dirname(target)} exists and is writable.`,
      cause: error,
    })
  }
}

interface TransferOptions {
  signal: AbortSignal | undefined
  maxResumes: number
  onProgress: ((progress: DownloadProgress) => void) | undefined
}

async function transfer(transport: DownloadTransport, file: FileHandle, options: TransferOptions): Promise<Omit<DownloadResult, 'path'>> {
  let hash = createHash('sha256')
  let bytes = 0
  let totalBytes: number | undefined
  let validator: string | undefined
  /** The first answer's length is known and ranges were not refused: a drop can be resumed. */
  let resumable = false
  let attempts = 0
  let recoveries = 0
  let resumes = 0
  let restarts = 0

  const progress = () => options.onProgress?.(totalBytes === undefined ? {bytes} : {bytes, totalBytes})
  const startOver = async () => {
    if (bytes > 0) restarts++
    await file.truncate(0)
    hash = createHash('sha256')
    bytes = 0
    progress()
  }

  for (;;) {
    const resuming = bytes > 0 && resumable
    if (bytes > 0 && !resuming) await startOver()
    const rangeHeaders: Record<string, string> = resuming ? {range: `bytes=${bytes}-`, ...(validator ? {'if-range': validator} : {})} : {}
    attempts++

    let response: Dispatcher.ResponseData
    try {
      response = await transport.open(rangeHeaders, options.signal)
    } catch (error) {
      if (options.signal?.aborted) throw error
      if (isTimeout(error)) throw transport.timeoutError(attempts, 'answer')
      const failure = transport.classify(error)
      if (!failure.retryable || attempts > transport.retries) {
        throw transport.networkError(failure, attempts, attempts > 1 ? ` (gave up after ${attempts} attempts)` : '', error)
      }

      await pause(transport, backoffDelay(attempts), attempts, failure.code, options.signal)
      continue
    }

    const status = response.statusCode
    if (resuming && status === 206) {
      const range = parseContentRange(header(response, 'content-range'))
      if (!range || range.first !== bytes || (range.total !== undefined && range.total !== totalBytes)) {
        // A range we did not ask for: drop it and fetch the whole body again.
        discard(response.body)
        resumable = false
        continue
      }

      resumes++
    } else if (status === 200) {
      // A fresh body: the first answer, a restart, or the server ignoring (or refusing, via If-Range) our Range.
      if (bytes > 0) await startOver()
      totalBytes = contentLength(response)
      validator = validatorOf(response)
      resumable = totalBytes !== undefined && header(response, 'accept-ranges')?.trim().toLowerCase() !== 'none'
      progress()
    } else if (resuming && status === 416) {
      discard(response.body)
      resumable = false
      continue
    } else if (status >= 200 && status < 300) {
      discard(response.body)
      throw transport.badResponse(`the server answered ${status} to a download request, expected 200 with the whole file`, attempts)
    } else {
      const body = await transport.readErrorBody(response.body)
      const retryable = isRetryableStatus(status)
      if (!retryable || attempts > transport.retries) {
        throw transport.responseError(response, body, attempts, retryable && attempts > 1 ? ` (gave up after ${attempts} attempts)` : '')
      }

      const asked = parseRetryAfter(header(response, 'retry-after'))
      if (asked !== undefined && asked > transport.timeoutMs) {
        throw transport.responseError(response, body, attempts, ` (gave up after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: the server asked to wait longer than the --timeout of ${Math.round(transport.timeoutMs / 1000)}s)`)
      }

      await pause(transport, asked ?? backoffDelay(attempts), attempts, `${status}`, options.signal)
      continue
    }

    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        await writeAll(file, chunk, bytes)
        hash.update(chunk)
        bytes += chunk.byteLength
        progress()
      }

      if (totalBytes !== undefined && bytes !== totalBytes) throw new Dropped(`the body ended after ${bytes} of ${totalBytes} bytes`)
      return {bytes, resumes, restarts, sha256: hash.digest('hex')}
    } catch (error) {
      if (options.signal?.aborted || isStellaError(error) || isFileError(error)) throw error
      // A drop before any byte is just a failed attempt; after some, a resume or a restart.
      if (recoveries >= options.maxResumes) {
        throw transport.dropError(
          `the download from ${transport.url.href} broke off ${recoveries + 1} times; gave up after ${options.maxResumes} reconnections (${bytes}${totalBytes === undefined ? '' : ` of ${totalBytes}`} bytes received)`,
          attempts,
          error,
        )
      }

      recoveries++
      attempts = 0
      await pause(transport, backoffDelay(recoveries), recoveries, resumable ? 'the connection dropped; resuming' : 'the connection dropped; starting over', options.signal, true)
    }
  }
}

async function writeAll(file: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let written = 0
  while (written < chunk.byteLength) {
    const {bytesWritten} = await file.write(chunk, written, chunk.byteLength - written, position + written)
    written += bytesWritten
  }
}

function isFileError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT' || code === 'EBADF' || code === 'EROFS'
}

async function pause(transport: DownloadTransport, delayMs: number, attempt: number, why: string, signal: AbortSignal | undefined, quiet = false): Promise<void> {
  if (!quiet) transport.retrying(delayMs, attempt + 1, why)
  await sleep(delayMs, signal)
}
