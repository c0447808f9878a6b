import {afterEach, describe, expect, it} from 'vitest'

import {ApiAuthError, ApiClient, type ApiClientOptions, ApiProblemError, ApiRequestError, SealedModeError, isLoopbackHost} from '../../src/lib/api/index.js'
import {AuthError, ExitCode, RemoteError, UsageError} from '../../src/lib/errors.js'
import {type Handler, type TestServer, sendJson, startServer} from '../helpers/api-server.js'
import {rejectionOf, thrownBy} from '../helpers/errors.js'

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/
const TOKEN = 'sekret-token-4f1c9a'

const servers: TestServer[] = []
const clients: ApiClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler)
  servers.push(server)
  return server
}

function client(server: string, options: Partial<ApiClientOptions> = {}): ApiClient {
  const made = new ApiClient({server, tenant: 'acme', version: '1.2.3', ...options})
  clients.push(made)
  return made
}

/** A port nothing listens on: taken from a server that was closed again. */
async function closedPort(): Promise<number> {
  const server = await startServer(() => {})
  await server.close()
  return server.port
}

describe('the header contract', () => {
  it('sends bearer, tenant, user agent, accept and one trace id with a new span per request', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {ok: true}))
    const api = client(server.url, {token: TOKEN})
    expect(await api.getJson('/obs/health')).toEqual({ok: true})
    expect(await api.getJson('/obs/slo')).toEqual({ok: true})

    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /obs/health', 'GET /obs/slo'])
    const [first, second] = server.requests.map((request) => request.headers)
    for (const headers of [first!, second!]) {
      expect(headers.authorization).toBe(`Bearer ${TOKEN}`)
      expect(headers['x-stella-tenant']).toBe('acme')
      expect(headers['user-agent']).toBe(`stella/1.2.3 node/${process.versions.node}`)
      expect(headers.accept).toBe('application/json')
      expect(headers.traceparent).toMatch(TRACEPARENT_RE)
    }

    const [, traceOne, spanOne] = TRACEPARENT_RE.exec(first!.traceparent as string)!
    const [, traceTwo, spanTwo] = TRACEPARENT_RE.exec(second!.traceparent as string)!
    expect(traceOne).toBe(api.traceId)
    expect(traceTwo).toBe(api.traceId)
    expect(api.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(spanOne).not.toBe(spanTwo)
  })

  it('omits Authorization without a token, and uses a given trace id', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}))
    const api = client(server.url, {traceId: '4bf92f3577b34da6a3ce929d0e0e4736'})
    await api.getJson('/obs/health')
    expect(server.requests[0]!.headers.authorization).toBeUndefined()
    expect(server.requests[0]!.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
  })

  it('a different client (invocation) gets a different trace id', () => {
    expect(client('http://127.0.0.1:1').traceId).not.toBe(client('http://127.0.0.1:1').traceId)
  })

  it('keeps a path prefix of the server URL and encodes the query, leaving out empty values', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}))
    const api = client(`${server.url}/stella/`)
    await api.getJson('/obs/logs', {from: '2026-01-01T00:00:00Z', q: 'a b&c', level: undefined, service: null, all: true, limit: 5})
    expect(server.requests[0]!.url).toBe('/stella/obs/logs?from=2026-01-01T00%3A00%3A00Z&q=a+b%26c&all=true&limit=5')
  })

  it('posts JSON and returns the parsed answer; expectStatus rejects another success status', async () => {
    const server = await serve((request, response) =>
      request.url === '/evidence/snapshot' ? sendJson(response, 202, {bundleId: 'b-1', status: 'pending'}) : sendJson(response, 200, {}),
    )
    const api = client(server.url, {token: TOKEN})
    const created = await api.postJson('/evidence/snapshot', {kind: 'job', resourceId: 'job-7', caseId: 'case-1'}, {expectStatus: [202]})
    expect(created).toEqual({bundleId: 'b-1', status: 'pending'})
    expect(server.requests[0]!.method).toBe('POST')
    expect(server.requests[0]!.headers['content-type']).toBe('application/json')
    expect(JSON.parse(server.requests[0]!.body)).toEqual({kind: 'job', resourceId: 'job-7', caseId: 'case-1'})

    const error = await rejectionOf(api.postJson('/evidence/verify', {bundleId: 'b-1'}, {expectStatus: [202]}))
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.code).toBe('BAD_RESPONSE')
    expect(error.message).toBe(`the server answered 200 OK to POST ${server.url}/evidence/verify, expected 202`)
  })

  it('logs one line per attempt with --verbose: method, URL, status, duration, trace id', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}))
    const lines: string[] = []
    const api = client(server.url, {verbose: true, log: (line) => lines.push(line), token: TOKEN})
    await api.getJson('/obs/logs', {limit: 5})
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^→ GET ${server.url}/obs/logs\\?limit=5 200 \\d+ms trace_id=${api.traceId}$`))
  })

  it('logs nothing for a successful call without --verbose', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}))
    const lines: string[] = []
    await client(server.url, {log: (line) => lines.push(line)}).getJson('/obs/health')
    expect(lines).toEqual([])
  })
})

describe('problem documents become typed errors', () => {
  const problem = (status: number, fields: Record<string, string>) =>
    serve((_request, response) => sendJson(response, status, {type: 'https://stella-ops.org/problems/x', status, ...fields}))

  it('400 guardrail keeps the reason (exit 4, HTTP_400)', async () => {
    const server = await problem(400, {title: 'Bad request', detail: 'The window is longer than 24h.', reason: 'window_too_long'})
    const api = client(server.url)
    const error = await rejectionOf(api.getJson('/obs/logs'))
    expect(error).toBeInstanceOf(ApiProblemError)
    expect(error).toBeInstanceOf(RemoteError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('HTTP_400')
    expect(error.message).toBe('Bad request: The window is longer than 24h. (reason: window_too_long)')
    expect(error.remedy).toBe('Correct the request as the message says and run it again.')
    const typed = error as ApiProblemError
    expect(typed.status).toBe(400)
    expect(typed.problem.reason).toBe('window_too_long')
    expect(typed.traceId).toBe(api.traceId)
    expect(server.requests).toHaveLength(1)
  })

  it('401 without a token says how to supply one (exit 5)', async () => {
    const server = await problem(401, {title: 'Unauthorized', detail: 'A bearer token is required.'})
    const api = client(server.url)
    const error = await rejectionOf(api.getJson('/obs/health'))
    expect(error).toBeInstanceOf(ApiAuthError)
    expect(error).toBeInstanceOf(AuthError)
    expect(error.exitCode).toBe(ExitCode.Auth)
    expect(error.code).toBe('UNAUTHENTICATED')
    expect(error.message).toBe('no API token was given, and the server requires one (Unauthorized: A bearer token is required.)')
    expect(error.remedy).toBe(
      'Supply a token with --token, the STELLA_TOKEN variable, or a token source in the context: `stella config set token-env NAME` or `stella config set token-file PATH`.',
    )
    expect((error as ApiAuthError).traceId).toBe(api.traceId)
  })

  it('401 with a token says the token was not accepted', async () => {
    const server = await problem(401, {title: 'Unauthorized', detail: 'The token has expired.'})
    const error = await rejectionOf(client(server.url, {token: TOKEN}).getJson('/obs/health'))
    expect(error.code).toBe('UNAUTHENTICATED')
    expect(error.message).toBe('the server did not accept the API token (Unauthorized: The token has expired.)')
    expect(error.remedy).toMatch(/^Check that the token is current and meant for this server\. Supply a token with --token/)
  })

  it('403 shows title, detail and the missing scope, and who can grant it (exit 5)', async () => {
    const server = await problem(403, {title: 'Forbidden', detail: 'Exporting evidence needs a scope the token lacks.', scope: 'stella:evidence:export#tenant/acme'})
    const error = await rejectionOf(client(server.url, {token: TOKEN}).getJson('/evidence/b-1/content'))
    expect(error).toBeInstanceOf(ApiAuthError)
    expect(error.exitCode).toBe(ExitCode.Auth)
    expect(error.code).toBe('FORBIDDEN')
    expect(error.message).toBe('Forbidden: Exporting evidence needs a scope the token lacks. (missing scope stella:evidence:export#tenant/acme)')
    expect(error.remedy).toBe('Ask a StellaOps administrator to grant the scope stella:evidence:export#tenant/acme, then run the command again.')
    expect((error as ApiAuthError).problem.scope).toBe('stella:evidence:export#tenant/acme')
  })

  it('404 names the tenant in the remedy', async () => {
    const server = await problem(404, {title: 'Not found', detail: 'Bundle b-9 does not exist in this tenant.', reason: 'not_found'})
    const error = await rejectionOf(client(server.url).getJson('/evidence/b-9'))
    expect(error.code).toBe('HTTP_404')
    expect(error.message).toBe('Not found: Bundle b-9 does not exist in this tenant.')
    expect(error.remedy).toBe('Check the id or name; it must exist in tenant acme.')
  })

  it('a 500 HTML page from a proxy is described, not parsed', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(500, {'content-type': 'text/html; charset=utf-8'})
      response.end('<!doctype html><html><head><title>Oops &amp; \u001b[31mupstream\u001b[0m failed</title></head><body><h1>500</h1></body></html>')
    })
    const error = await rejectionOf(client(server.url).getJson('/obs/health'))
    expect(error).toBeInstanceOf(ApiProblemError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('HTTP_500')
    // The escape sequences a hostile page could use to repaint the terminal are gone.
    expect(error.message).toBe('the server answered 500 Internal Server Error with a text/html page, not a problem document ("Oops & [31mupstream [0m failed")')
    expect((error as ApiProblemError).problem).toEqual({status: 500, title: 'Internal Server Error'})
    expect(server.requests).toHaveLength(1)
  })

  it('a 502 with an empty body says so', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(502)
      response.end()
    })
    const error = await rejectionOf(client(server.url, {retries: 0}).getJson('/obs/health'))
    expect(error.code).toBe('HTTP_502')
    expect(error.message).toBe('the server answered 502 Bad Gateway with an empty body, not a problem document')
  })

  it('a 2xx whose body is not JSON is BAD_RESPONSE', async () => {
    const server = await serve((request, response) => {
      if (request.url === '/login') {
        response.writeHead(200, {'content-type': 'text/html'})
        response.end('<html>Sign in</html>')
        return
      }

      response.writeHead(200, {'content-type': 'application/json'})
      response.end('{"services": [')
    })
    const api = client(server.url)
    const truncated = await rejectionOf(api.getJson('/obs/health'))
    expect(truncated).toBeInstanceOf(ApiRequestError)
    expect(truncated.exitCode).toBe(ExitCode.Remote)
    expect(truncated.code).toBe('BAD_RESPONSE')
    expect(truncated.message).toMatch(new RegExp(`^the server's answer to GET ${server.url}/obs/health is not valid JSON \\(.+\\)$`))
    expect((truncated as ApiRequestError).traceId).toBe(api.traceId)

    const page = await rejectionOf(api.getJson('/login'))
    expect(page.message).toBe(`the server's answer to GET ${server.url}/login is not valid JSON (it sent text/html)`)
  })
})

describe('retries', () => {
  it('honours Retry-After in seconds on 503, and logs the trace id once', async () => {
    const at: number[] = []
    const server = await serve((_request, response, _seen, index) => {
      at.push(Date.now())
      if (index === 0) sendJson(response, 503, {title: 'Service Unavailable', detail: 'Maintenance.'}, {'retry-after': '1'})
      else sendJson(response, 200, {ok: true})
    })
    const lines: string[] = []
    const api = client(server.url, {log: (line) => lines.push(line)})
    expect(await api.getJson('/obs/health')).toEqual({ok: true})
    expect(at).toHaveLength(2)
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950)
    expect(at[1]! - at[0]!).toBeLessThan(3000)
    expect(lines).toEqual([`GET ${server.url}/obs/health failed (503 Service Unavailable); retrying in 1s, attempt 2 of 4 trace_id=${api.traceId}`])
  })

  it('honours Retry-After as an HTTP date', async () => {
    const at: number[] = []
    const server = await serve((_request, response, _seen, index) => {
      at.push(Date.now())
      // Two seconds ahead; HTTP dates have whole seconds, so the wait is between 1 and 2 s.
      if (index === 0) sendJson(response, 503, {title: 'Service Unavailable'}, {'retry-after': new Date(Date.now() + 2000).toUTCString()})
      else sendJson(response, 200, {ok: true})
    })
    expect(await client(server.url).getJson('/obs/health')).toEqual({ok: true})
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900)
    expect(at[1]! - at[0]!).toBeLessThan(3500)
  })

  it('retries 429, with the trace id on the first notice only', async () => {
    const server = await serve((_request, response, _seen, index) => {
      if (index < 2) sendJson(response, 429, {title: 'Too Many Requests'}, {'retry-after': '0'})
      else sendJson(response, 200, {n: index})
    })
    const lines: string[] = []
    const api = client(server.url, {log: (line) => lines.push(line)})
    expect(await api.getJson('/obs/slo')).toEqual({n: 2})
    expect(server.requests).toHaveLength(3)
    expect(lines).toEqual([
      `GET ${server.url}/obs/slo failed (429 Too Many Requests); retrying in 0ms, attempt 2 of 4 trace_id=${api.traceId}`,
      `GET ${server.url}/obs/slo failed (429 Too Many Requests); retrying in 0ms, attempt 3 of 4`,
    ])
  })

  it('retries a GET whose connection was reset', async () => {
    const server = await serve((request, response, _seen, index) => {
      if (index === 0) request.socket.destroy()
      else sendJson(response, 200, {ok: true})
    })
    const lines: string[] = []
    const api = client(server.url, {log: (line) => lines.push(line)})
    expect(await api.getJson('/obs/health')).toEqual({ok: true})
    expect(server.requests).toHaveLength(2)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^GET ${server.url}/obs/health failed \\(CONNECTION_RESET\\); retrying in \\d+ms, attempt 2 of 4 trace_id=${api.traceId}$`))
  })

  it('never repeats a non-idempotent POST that failed on the connection', async () => {
    const server = await serve((request) => {
      request.socket.destroy()
    })
    const lines: string[] = []
    const api = client(server.url, {log: (line) => lines.push(line)})
    const error = await rejectionOf(api.postJson('/evidence/snapshot', {kind: 'job', resourceId: 'j', caseId: 'c'}))
    expect(server.requests).toHaveLength(1)
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('CONNECTION_RESET')
    expect(error.message).toBe(
      `the connection to ${server.url} was closed before the answer was complete; it was not retried, because repeating it might apply the change twice`,
    )
    expect(error.remedy).toBe('Check whether the change took effect before running the command again.')
    expect((error as ApiRequestError).traceId).toBe(api.traceId)
    expect(lines).toEqual([])
  })

  it('does not repeat a non-idempotent POST on 503 either, but does repeat an idempotent one', async () => {
    const server = await serve((_request, response, seen) => {
      const failures = server.requests.filter((request) => request.url === seen.url).length
      if (failures === 1) sendJson(response, 503, {title: 'Service Unavailable'}, {'retry-after': '0'})
      else sendJson(response, 200, {enabled: true})
    })
    const api = client(server.url)
    const error = await rejectionOf(api.postJson('/evidence/hold/c-1', {hold: true, reason: 'x'}))
    expect(error.code).toBe('HTTP_503')
    expect(error.message).toBe('Service Unavailable')
    expect(await api.postJson('/telemetry/incidents/mode', {enabled: true, reason: 'x'}, {idempotent: true})).toEqual({enabled: true})
    expect(server.requests.map((request) => request.url)).toEqual(['/evidence/hold/c-1', '/telemetry/incidents/mode', '/telemetry/incidents/mode'])
  })

  it('gives up after the retries and says how many attempts were made', async () => {
    const server = await serve((_request, response) => sendJson(response, 503, {title: 'Service Unavailable', detail: 'Maintenance.'}, {'retry-after': '0'}))
    const error = await rejectionOf(client(server.url, {retries: 2}).getJson('/obs/health'))
    expect(server.requests).toHaveLength(3)
    expect(error.code).toBe('HTTP_503')
    expect(error.message).toBe('Service Unavailable: Maintenance. (gave up after 3 attempts)')
    expect((error as ApiProblemError).attempts).toBe(3)
  })

  it('does not wait past the time budget when the server asks for longer', async () => {
    const server = await serve((_request, response) => sendJson(response, 503, {title: 'Service Unavailable'}, {'retry-after': '60'}))
    const started = Date.now()
    const error = await rejectionOf(client(server.url, {timeoutMs: 2000}).getJson('/obs/health'))
    expect(Date.now() - started).toBeLessThan(1500)
    expect(server.requests).toHaveLength(1)
    expect(error.message).toBe('Service Unavailable (gave up after 1 attempt: waiting 60s more would pass the 2s --timeout budget)')
  })

  it('retries a refused connection, then reports it with the attempts', async () => {
    const port = await closedPort()
    const error = await rejectionOf(client(`http://127.0.0.1:${port}`, {retries: 1}).getJson('/obs/health'))
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('CONNECTION_REFUSED')
    expect(error.message).toBe(`cannot connect to http://127.0.0.1:${port}: connection refused (gave up after 2 attempts)`)
    expect(error.remedy).toBe('Check the server URL and port, and that the server is running.')
  })

  it('a refused non-idempotent POST says nothing changed', async () => {
    const port = await closedPort()
    const error = await rejectionOf(client(`http://127.0.0.1:${port}`).postJson('/evidence/snapshot', {}))
    expect(error.code).toBe('CONNECTION_REFUSED')
    expect(error.message).toBe(`cannot connect to http://127.0.0.1:${port}: connection refused; it was not retried (the server was not reached, so nothing changed)`)
  })
})

describe('the time budget', () => {
  it('a server slower than --timeout is TIMEOUT, naming the budget', async () => {
    const server = await serve((_request, response) => {
      const timer = setTimeout(() => sendJson(response, 200, {}), 5000)
      response.on('close', () => clearTimeout(timer))
    })
    const api = client(server.url, {timeoutMs: 300})
    const started = Date.now()
    const error = await rejectionOf(api.getJson('/obs/health'))
    expect(Date.now() - started).toBeLessThan(2000)
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toBe(`GET ${server.url}/obs/health did not finish within the 300ms --timeout budget`)
    expect(error.remedy).toBe('Allow longer with --timeout (e.g. --timeout 2m), or check that the server is healthy.')
    expect((error as ApiRequestError).traceId).toBe(api.traceId)
  })

  it('the budget covers the retries too', async () => {
    const server = await serve((request, response, _seen, index) => {
      if (index === 0) {
        sendJson(response, 503, {title: 'Service Unavailable'}, {'retry-after': '0'})
        return
      }

      const timer = setTimeout(() => sendJson(response, 200, {}), 5000)
      response.on('close', () => clearTimeout(timer))
    })
    const error = await rejectionOf(client(server.url, {timeoutMs: 500}).getJson('/obs/health'))
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toBe(`GET ${server.url}/obs/health did not finish within the 500ms --timeout budget (2 attempts)`)
  })
})

describe('pagination', () => {
  const ITEMS = Array.from({length: 25}, (_unused, index) => ({id: index}))

  /** Pages over 25 items; the cursor is the offset; pages hold at most `cap` items whatever the limit. */
  const pagedServer = (cap = 1000) =>
    serve((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x')
      const offset = Number(url.searchParams.get('cursor') ?? '0')
      const limit = Math.min(Number(url.searchParams.get('limit') ?? '100'), cap)
      const items = ITEMS.slice(offset, offset + limit)
      const next = offset + items.length
      sendJson(response, 200, {items, nextCursor: next < ITEMS.length ? String(next) : null})
    })

  const collect = async <T>(stream: AsyncIterable<T>) => {
    const out: T[] = []
    for await (const item of stream) out.push(item)
    return out
  }

  it('without --all stops after the limit and says more exist', async () => {
    const server = await pagedServer()
    const stream = client(server.url).paginate<{id: number}>('/timeline', {kind: 'deploy'}, {limit: 10})
    expect((await collect(stream)).map((item) => item.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(stream.hasMore).toBe(true)
    expect(stream.nextCursor).toBe('10')
    expect(server.requests.map((request) => request.url)).toEqual(['/timeline?kind=deploy&limit=10'])
  })

  it('with --all follows the cursor across 3 pages to the end', async () => {
    const server = await pagedServer()
    const stream = client(server.url).paginate<{id: number}>('/timeline', {}, {all: true, limit: 10})
    expect((await collect(stream)).map((item) => item.id)).toEqual(ITEMS.map((item) => item.id))
    expect(stream.hasMore).toBe(false)
    expect(stream.nextCursor).toBeNull()
    expect(server.requests.map((request) => request.url)).toEqual(['/timeline?limit=10', '/timeline?limit=10&cursor=10', '/timeline?limit=10&cursor=20'])
  })

  it('--all asks for pages of 1000 by default', async () => {
    const server = await pagedServer()
    const stream = client(server.url).paginate('/timeline', {}, {all: true})
    expect(await collect(stream)).toHaveLength(25)
    expect(server.requests.map((request) => request.url)).toEqual(['/timeline?limit=1000'])
  })

  it('a limit larger than the server pages reads on until the limit, asking only for what is still wanted', async () => {
    const server = await pagedServer(10)
    const stream = client(server.url).paginate('/obs/logs', {}, {limit: 12})
    expect(await collect(stream)).toHaveLength(12)
    expect(stream.hasMore).toBe(true)
    expect(stream.nextCursor).toBe('12')
    expect(server.requests.map((request) => request.url)).toEqual(['/obs/logs?limit=12', '/obs/logs?limit=2&cursor=10'])
  })

  it('a limit beyond the end reads everything and reports no more', async () => {
    const server = await pagedServer(10)
    const stream = client(server.url).paginate('/obs/logs', {}, {limit: 30})
    expect(await collect(stream)).toHaveLength(25)
    expect(stream.hasMore).toBe(false)
    expect(server.requests.map((request) => request.url)).toEqual(['/obs/logs?limit=30', '/obs/logs?limit=20&cursor=10', '/obs/logs?limit=10&cursor=20'])
  })

  it('starts at a given cursor', async () => {
    const server = await pagedServer()
    const stream = client(server.url).paginate<{id: number}>('/timeline', {}, {cursor: '20'})
    expect((await collect(stream)).map((item) => item.id)).toEqual([20, 21, 22, 23, 24])
    expect(stream.hasMore).toBe(false)
    expect(server.requests.map((request) => request.url)).toEqual(['/timeline?limit=100&cursor=20'])
  })

  it('a reader that stops early still learns that more exist', async () => {
    const server = await pagedServer()
    const stream = client(server.url).paginate<{id: number}>('/timeline', {}, {all: true})
    for await (const item of stream) if (item.id === 3) break
    expect(stream.hasMore).toBe(true)
  })

  it('a page that is not {items, nextCursor} is BAD_RESPONSE', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {events: []}))
    const error = await rejectionOf(collect(client(server.url).paginate('/timeline')))
    expect(error.code).toBe('BAD_RESPONSE')
    expect(error.message).toBe(`the server's answer to GET ${server.url}/timeline?limit=100 is not a page ({items, nextCursor})`)
  })

  it('refuses a limit below 1', () => {
    const error = thrownBy(() => client('http://127.0.0.1:1').paginate('/timeline', {}, {limit: 0}))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.code).toBe('INVALID_LIMIT')
  })
})

describe('sealed mode', () => {
  const REMEDY = 'Use a loopback server, or leave sealed mode for this run with --no-sealed, STELLA_SEALED=0, or `stella config set sealed false`.'

  it.each([
    ['https://stella.example.com', 'https://stella.example.com'],
    ['http://10.0.0.1:1', 'http://10.0.0.1:1'],
    ['https://[2001:db8::1]:8443/stella', 'https://[2001:db8::1]:8443'],
  ])('refuses %s in the constructor, before any lookup or socket', (server, origin) => {
    // Thrown synchronously by the constructor: no DNS lookup or connection can have started.
    const error = thrownBy(() => new ApiClient({server, tenant: 'acme', sealed: true}))
    expect(error).toBeInstanceOf(SealedModeError)
    expect(error).toBeInstanceOf(UsageError)
    expect(error.exitCode).toBe(ExitCode.Usage)
    expect(error.code).toBe('SEALED_NON_LOOPBACK')
    expect(error.message).toBe(`sealed mode allows only loopback servers (127.0.0.0/8, ::1, localhost); ${origin} is not one`)
    expect(error.remedy).toBe(REMEDY)
  })

  it('a listening server reached through a non-loopback name is never contacted', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}))
    // The name resolves nowhere here; what matters is that the refusal comes first and no socket opens.
    expect(() => new ApiClient({server: `http://stella.example.com:${server.port}`, tenant: 'acme', sealed: true})).toThrow(SealedModeError)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(server.connections).toBe(0)
  })

  it('allows 127.0.0.1 and localhost, and talks to them', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {ok: true}))
    expect(await client(server.url, {sealed: true}).getJson('/obs/health')).toEqual({ok: true})
    expect(await client(`http://localhost:${server.port}`, {sealed: true}).getJson('/obs/health')).toEqual({ok: true})
    expect(server.requests).toHaveLength(2)
  })

  it('allows ::1 and the rest of 127.0.0.0/8', () => {
    for (const server of ['http://[::1]:8080', 'http://127.8.9.10', 'http://[::ffff:127.0.0.1]', 'http://LOCALHOST.']) {
      expect(() => client(server, {sealed: true})).not.toThrow()
    }

    expect(isLoopbackHost('127.0.0.1')).toBe(true)
    expect(isLoopbackHost('[::1]')).toBe(true)
    expect(isLoopbackHost('128.0.0.1')).toBe(false)
    expect(isLoopbackHost('localhost.example.com')).toBe(false)
    expect(isLoopbackHost('[::2]')).toBe(false)
  })
})

describe('the token never leaks', () => {
  it('and a short token does not cut words of server text apart', async () => {
    const server = await serve((_request, response) => sendJson(response, 403, {title: 'Forbidden', detail: 'token t cannot connect (t)'}))
    const api = client(server.url, {token: 't'})
    const error = await rejectionOf(api.getJson('/obs/health'))
    expect(error.message).toBe('Forbidden: token [redacted] cannot connect ([redacted])')
  })

  it('not through server text echoed into errors, verbose lines or retry notices', async () => {
    const server = await serve((_request, response, _seen, index) => {
      if (index === 0) sendJson(response, 503, {title: 'Service Unavailable', detail: `token ${TOKEN} is throttled`}, {'retry-after': '0'})
      else sendJson(response, 403, {title: 'Forbidden', detail: `Bearer ${TOKEN} lacks a scope`, scope: `stella:obs:read#${TOKEN}`})
    })
    const lines: string[] = []
    const api = client(server.url, {token: TOKEN, verbose: true, log: (line) => lines.push(line)})
    const error = await rejectionOf(api.getJson('/obs/health'))
    expect(error.code).toBe('FORBIDDEN')
    expect(error.message).toBe('Forbidden: Bearer [redacted] lacks a scope (missing scope stella:obs:read#[redacted])')
    expect(lines.length).toBeGreaterThanOrEqual(3)
    const everything = [error.message, error.remedy, error.stack, JSON.stringify(error), ...lines].join('\n')
    expect(everything).not.toContain(TOKEN)
  })

  it('not through connection errors', async () => {
    const port = await closedPort()
    const lines: string[] = []
    const error = await rejectionOf(client(`http://127.0.0.1:${port}`, {token: TOKEN, retries: 1, verbose: true, log: (line) => lines.push(line)}).getJson('/x'))
    expect([error.message, error.remedy, error.stack, ...lines].join('\n')).not.toContain(TOKEN)
    expect(lines).toHaveLength(3)
  })

  it('a token that cannot be a header value is refused without being echoed', () => {
    const error = thrownBy(() => new ApiClient({server: 'http://127.0.0.1:1', tenant: 'acme', token: 'abc\ndef'}))
    expect(error.code).toBe('INVALID_TOKEN')
    expect(error.message).not.toContain('abc')
  })
})

describe('the constructor checks its options', () => {
  it('refuses a server that is not an http(s) URL, and a missing tenant', () => {
    expect(thrownBy(() => new ApiClient({server: 'ftp://h', tenant: 'acme'})).code).toBe('INVALID_SERVER_URL')
    expect(thrownBy(() => new ApiClient({server: 'not a url', tenant: 'acme'})).code).toBe('INVALID_SERVER_URL')
    const missing = thrownBy(() => new ApiClient({server: 'http://127.0.0.1:1', tenant: ''}))
    expect(missing.code).toBe('MISSING_TENANT')
    expect(missing.exitCode).toBe(ExitCode.Usage)
  })

  it('refuses a malformed trace id', () => {
    expect(thrownBy(() => new ApiClient({server: 'http://127.0.0.1:1', tenant: 'acme', traceId: 'xyz'})).code).toBe('INVALID_TRACE_ID')
  })

  it('exposes the --insecure warning only when verification is off', () => {
    expect(client('https://127.0.0.1:1').insecureWarning).toBeUndefined()
    expect(client('https://127.0.0.1:1', {insecure: true}).insecureWarning).toBe(
      '--insecure: the server certificate is NOT verified. Anyone on the network path can read and change this traffic, the API token included. Use --ca-cert FILE instead.',
    )
  })
})
