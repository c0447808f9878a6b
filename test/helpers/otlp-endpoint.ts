/**
 * A scripted OTLP/HTTP endpoint on 127.0.0.1 for the sender tests: it records every request with
 * its raw body (and the body gunzipped when it came compressed), and answers each with whatever
 * the test says — a status, headers and body, or a connection reset.
 */
import {type IncomingHttpHeaders, createServer} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {gunzipSync} from 'node:zlib'

export interface EndpointRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** As it came over the wire. */
  raw: Buffer
  /** Gunzipped when Content-Encoding was gzip. */
  body: Buffer
  /** ms since the epoch. */
  at: number
}

export type Answer = {status: number; headers?: Record<string, string>; body?: Uint8Array | string} | 'reset'

export interface OtlpEndpoint {
  url: string
  requests: EndpointRequest[]
  close(): Promise<void>
}

/** Full success: 200 with an empty protobuf Export*ServiceResponse. */
export const OK: Answer = {status: 200, headers: {'content-type': 'application/x-protobuf'}}

export async function startOtlpEndpoint(answer: (request: EndpointRequest, index: number) => Answer = () => OK): Promise<OtlpEndpoint> {
  const requests: EndpointRequest[] = []
  const sockets = new Set<Socket>()
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks)
    const seen: EndpointRequest = {
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      raw,
      body: request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw,
      at: Date.now(),
    }
    requests.push(seen)
    const reply = answer(seen, requests.length - 1)
    if (reply === 'reset') {
      request.socket.destroy()
      return
    }

    const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body)
    response.writeHead(reply.status, {'content-length': body.byteLength, ...reply.headers})
    response.end(body)
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A google.rpc.Status protobuf: code (field 1) and message (field 2), as OTLP/HTTP error bodies carry. */
export function rpcStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8')
  if (text.length > 127 || code > 127) throw new RangeError('kept to one-byte lengths')
  return Buffer.concat([Buffer.from([0x08, code, 0x12, text.length]), text])
}
