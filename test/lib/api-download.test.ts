import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import type {ServerResponse} from 'node:http'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ApiClient, ApiProblemError, ApiRequestError} from '../../src/lib/api/index.js'
import {runInterruptCleanups} from '../../src/lib/cleanup.js'
import {ExitCode, InterruptedError, UsageError} from '../../src/lib/errors.js'
import {type Handler, type TestServer, sendJson, startServer} from '../helpers/api-server.js'
import {scratchDir} from '../helpers/cli.js'
import {rejectionOf} from '../helpers/errors.js'
import {seededRandom} from '../helpers/random.js'

const SIZE = 3 * 1024 * 1024 + 123
const CUT = 64 * 1024
const random = seededRandom(0x5eed)
const CONTENT = Buffer.from(Array.from({length: SIZE}, () => Math.floor(random() * 256)))
const SHA256 = createHash('sha256').update(CONTENT).digest('hex')
const ETAG = '"bundle-v1"'

let dir: {path: string; cleanup: () => void}
const servers: TestServer[] = []
const clients: ApiClient[] = []
beforeEach(() => {
  dir = scratchDir()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(servers.splice(0).map((server) => server.close()))
  dir.cleanup()
})

async function serve(handler: Handler): Promise<{server: TestServer; api: ApiClient}> {
  const server = await startServer(handler)
  servers.push(server)
  const api = new ApiClient({server: server.url, tenant: 'acme', token: 'tok-1', version: '1.2.3'})
  clients.push(api)
  return {server, api}
}

/** The whole file, with a length, ranges allowed and an ETag. */
function sendWhole(response: ServerResponse): void {
  response.writeHead(200, {'content-type': 'application/gzip', 'content-length': SIZE, 'accept-ranges': 'bytes', etag: ETAG})
  response.end(CONTENT)
}

/** The first CUT bytes, then the connection drops (after they surely arrived). */
function sendAndDrop(response: ServerResponse, headers: Record<string, string | number>): void {
  response.writeHead(200, {'content-type': 'application/gzip', ...headers})
  response.write(CONTENT.subarray(0, CUT), () => setTimeout(() => response.socket?.destroy(), 100))
}

function sendRange(response: ServerResponse, range: string): void {
  const start = Number(/^bytes=(\d+)-$/.exec(range)![1])
  response.writeHead(206, {'content-type': 'application/gzip', 'content-length': SIZE - start, 'content-range': `bytes ${start}-${SIZE - 1}/${SIZE}`, etag: ETAG})
  response.end(CONTENT.subarray(start))
}

const target = () => join(dir.path, 'bundle.tgz')

describe('download', () => {
  it('writes the exact bytes with their SHA-256, reporting progress, and leaves no temp file', async () => {
    const {server, api} = await serve((_request, response) => sendWhole(response))
    const progress: {bytes: number; totalBytes?: number}[] = []
    const result = await api.download('/evidence/b-1/content', target(), {onProgress: (p) => progress.push(p)})
    expect(result).toEqual({path: target(), bytes: SIZE, resumes: 0, restarts: 0, sha256: SHA256})
    expect(readFileSync(target()).equals(CONTENT)).toBe(true)
    expect(readdirSync(dir.path)).toEqual(['bundle.tgz'])
    expect(progress.at(-1)).toEqual({bytes: SIZE, totalBytes: SIZE})
    const headers = server.requests[0]!.headers
    expect(headers.accept).toBe('*/*')
    expect(headers.authorization).toBe('Bearer tok-1')
    expect(headers['x-stella-tenant']).toBe('acme')
    expect(headers.traceparent).toMatch(new RegExp(`^00-${api.traceId}-[0-9a-f]{16}-01$`))
    expect(headers.range).toBeUndefined()
  })

  it('resumes with Range and If-Range after the connection dropped mid-body, when the length was sent', async () => {
    const {server, api} = await serve((request, response, _seen, index) => {
      if (index === 0) sendAndDrop(response, {'content-length': SIZE, 'accept-ranges': 'bytes', etag: ETAG})
      else sendRange(response, request.headers.range!)
    })
    const result = await api.download('/evidence/b-1/content', target())
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]!.headers.range).toBe(`bytes=${CUT}-`)
    expect(server.requests[1]!.headers['if-range']).toBe(ETAG)
    expect(result).toEqual({path: target(), bytes: SIZE, resumes: 1, restarts: 0, sha256: SHA256})
    expect(readFileSync(target()).equals(CONTENT)).toBe(true)
    expect(readdirSync(dir.path)).toEqual(['bundle.tgz'])
  })

  it('starts over when the dropped body had no length (chunked)', async () => {
    const {server, api} = await serve((_request, response, _seen, index) => {
      if (index === 0) sendAndDrop(response, {})
      else {
        response.writeHead(200, {'content-type': 'application/gzip'})
        response.end(CONTENT)
      }
    })
    const progress: number[] = []
    const result = await api.download('/telemetry/exports/forensic/24h', target(), {onProgress: (p) => progress.push(p.bytes)})
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]!.headers.range).toBeUndefined()
    expect(result).toEqual({path: target(), bytes: SIZE, resumes: 0, restarts: 1, sha256: SHA256})
    expect(readFileSync(target()).equals(CONTENT)).toBe(true)
    // The progress went back to zero when the bytes so far were thrown away.
    expect(progress).toContain(0)
  })

  it('starts over when the server answers a Range request with 200', async () => {
    const {server, api} = await serve((_request, response, _seen, index) => {
      if (index === 0) sendAndDrop(response, {'content-length': SIZE, 'accept-ranges': 'bytes', etag: ETAG})
      else sendWhole(response)
    })
    const result = await api.download('/evidence/b-1/content', target())
    expect(server.requests[1]!.headers.range).toBe(`bytes=${CUT}-`)
    expect(result).toEqual({path: target(), bytes: SIZE, resumes: 0, restarts: 1, sha256: SHA256})
    expect(readFileSync(target()).equals(CONTENT)).toBe(true)
  })

  it('does not trust a 206 for another range: it fetches the whole file again', async () => {
    const {server, api} = await serve((_request, response, _seen, index) => {
      if (index === 0) sendAndDrop(response, {'content-length': SIZE, etag: ETAG})
      else if (index === 1) {
        response.writeHead(206, {'content-range': `bytes 0-9/${SIZE}`, 'content-length': 10})
        response.end(CONTENT.subarray(0, 10))
      } else sendWhole(response)
    })
    const result = await api.download('/evidence/b-1/content', target())
    expect(server.requests.map((request) => request.headers.range)).toEqual([undefined, `bytes=${CUT}-`, undefined])
    expect(result).toEqual({path: target(), bytes: SIZE, resumes: 0, restarts: 1, sha256: SHA256})
    expect(readFileSync(target()).equals(CONTENT)).toBe(true)
  })

  it('gives up after maxResumes reconnections, leaving nothing behind', async () => {
    const {server, api} = await serve((request, response) => {
      if (request.headers.range) {
        const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range)![1])
        response.writeHead(206, {'content-length': SIZE - start, 'content-range': `bytes ${start}-${SIZE - 1}/${SIZE}`})
        response.write(CONTENT.subarray(start, start + CUT), () => setTimeout(() => response.socket?.destroy(), 100))
      } else sendAndDrop(response, {'content-length': SIZE})
    })
    const error = await rejectionOf(api.download('/evidence/b-1/content', target(), {maxResumes: 2}))
    expect(server.requests).toHaveLength(3)
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('DOWNLOAD_INTERRUPTED')
    expect(error.message).toBe(`the download from ${server.url}/evidence/b-1/content broke off 3 times; gave up after 2 reconnections (${3 * CUT} of ${SIZE} bytes received)`)
    expect((error as ApiRequestError).traceId).toBe(api.traceId)
    expect(readdirSync(dir.path)).toEqual([])
  })

  it('an abort removes the part file, leaves nothing at the target and is InterruptedError', async () => {
    const {api} = await serve((_request, response) => {
      response.writeHead(200, {'content-length': SIZE})
      // Half the body, then silence: the abort lands mid-transfer.
      response.write(CONTENT.subarray(0, CUT))
    })
    const controller = new AbortController()
    const error = await rejectionOf(
      api.download('/evidence/b-1/content', target(), {signal: controller.signal, onProgress: (p) => p.bytes >= CUT && controller.abort()}),
    )
    expect(error).toBeInstanceOf(InterruptedError)
    expect(error.exitCode).toBe(ExitCode.Interrupted)
    expect(error.message).toBe(`the download was interrupted; nothing was saved at ${target()}`)
    expect(existsSync(target())).toBe(false)
    expect(readdirSync(dir.path)).toEqual([])
  })

  it('streams into a hidden .part file that an interrupt cleanup removes', async () => {
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const {api} = await serve(async (_request, response) => {
      response.writeHead(200, {'content-length': SIZE})
      response.write(CONTENT.subarray(0, CUT))
      await released
      response.socket?.destroy()
    })
    const controller = new AbortController()
    let seen: string[] = []
    const download = api.download('/evidence/b-1/content', target(), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytes < CUT || seen.length > 0) return
        seen = readdirSync(dir.path)
        // What Ctrl-C does before the process exits.
        runInterruptCleanups()
        controller.abort()
        release()
      },
    })
    await rejectionOf(download)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatch(/^\.bundle\.tgz\.[0-9a-f]{12}\.part$/)
    expect(readdirSync(dir.path)).toEqual([])
  })

  it('refuses an existing target unless overwrite, without asking the server', async () => {
    const {server, api} = await serve((_request, response) => sendWhole(response))
    writeFileSync(target(), 'keep me')
    const error = await rejectionOf(api.download('/evidence/b-1/content', target()))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.code).toBe('OUTPUT_EXISTS')
    expect(error.message).toBe(`${target()} already exists`)
    expect(readFileSync(target(), 'utf8')).toBe('keep me')
    expect(server.requests).toHaveLength(0)

    const result = await api.download('/evidence/b-1/content', target(), {overwrite: true})
    expect(result.sha256).toBe(SHA256)
    expect(readFileSync(target()).equals(CONTENT)).toBe(true)
    expect(readdirSync(dir.path)).toEqual(['bundle.tgz'])
  })

  it('an error status is a typed error and leaves no file', async () => {
    const {api} = await serve((_request, response) => sendJson(response, 404, {title: 'Not found', detail: 'Bundle b-404 does not exist in this tenant.'}))
    const error = await rejectionOf(api.download('/evidence/b-404/content', target()))
    expect(error).toBeInstanceOf(ApiProblemError)
    expect(error.code).toBe('HTTP_404')
    expect(error.message).toBe('Not found: Bundle b-404 does not exist in this tenant.')
    expect(readdirSync(dir.path)).toEqual([])
  })

  it('retries a 503 before the body, honouring Retry-After', async () => {
    const {server, api} = await serve((_request, response, _seen, index) => {
      if (index === 0) sendJson(response, 503, {title: 'Service Unavailable'}, {'retry-after': '0'})
      else sendWhole(response)
    })
    const result = await api.download('/evidence/b-1/content', target(), {query: {format: 'tgz'}})
    expect(server.requests.map((request) => request.url)).toEqual(['/evidence/b-1/content?format=tgz', '/evidence/b-1/content?format=tgz'])
    expect(result).toEqual({path: target(), bytes: SIZE, resumes: 0, restarts: 0, sha256: SHA256})
  })

  it('a directory that does not exist is an input error naming the target', async () => {
    const {api} = await serve((_request, response) => sendWhole(response))
    const missing = join(dir.path, 'no', 'such', 'bundle.tgz')
    const error = await rejectionOf(api.download('/evidence/b-1/content', missing))
    expect(error.code).toBe('OUTPUT_UNWRITABLE')
    expect(error.exitCode).toBe(ExitCode.Input)
    expect(error.message).toBe(`cannot write ${missing}: no such file or directory`)
  })
})
