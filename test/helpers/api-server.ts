/** Real HTTP(S) servers on 127.0.0.1 for the API client tests, and a throwaway PKI made with the openssl CLI. */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import http, {type IncomingHttpHeaders, type IncomingMessage, type ServerResponse} from 'node:http'
import https from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import {join} from 'node:path'

export interface SeenRequest {
  method: string
  /** Path and query, as sent. */
  url: string
  headers: IncomingHttpHeaders
  body: string
}

export type Handler = (request: IncomingMessage, response: ServerResponse, seen: SeenRequest, index: number) => void | Promise<void>

export interface TestServer {
  url: string
  port: number
  requests: SeenRequest[]
  /** Connections accepted (TCP), to prove a client never connected. */
  connections: number
  close(): Promise<void>
}

export async function startServer(handler: Handler, tls?: https.ServerOptions): Promise<TestServer> {
  const requests: SeenRequest[] = []
  const sockets = new Set<Socket>()
  const listener = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const seen = {method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8')}
    requests.push(seen)
    try {
      await handler(request, response, seen, requests.length - 1)
    } catch (error) {
      response.destroy(error as Error)
    }
  }

  const server = tls ? https.createServer(tls, listener) : http.createServer(listener)
  const state = {connections: 0}
  server.on(tls ? 'secureConnection' : 'connection', () => state.connections++)
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  // A failed TLS handshake is part of several tests, not a server problem.
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return state.connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'content-length': Buffer.byteLength(text), ...headers})
  response.end(text)
}

export interface TestPki {
  dir: string
  caFile: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
  otherCaFile: string
  /** A server certificate, signed by the CA, that names only stella.example.com. */
  wrongNameCert: string
  wrongNameKey: string
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, {cwd: dir, stdio: 'pipe'})
}

function newKey(dir: string, name: string): void {
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name)
}

function signed(dir: string, name: string, subject: string, ca: string, extensions: string): void {
  newKey(dir, `${name}.key`)
  openssl(dir, 'req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`)
  writeFileSync(join(dir, `${name}.ext`), extensions)
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`)
}

/** A CA, a server certificate for 127.0.0.1/localhost/::1, a client certificate, and an unrelated second CA. */
export function makePki(dir: string): TestPki {
  for (const ca of ['ca', 'other-ca']) {
    newKey(dir, `${ca}.key`)
    openssl(dir, 'req', '-x509', '-new', '-key', `${ca}.key`, '-subj', `/CN=Stella Test ${ca}`, '-days', '2', '-out', `${ca}.pem`)
  }

  signed(dir, 'server', '/CN=localhost', 'ca', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  signed(dir, 'client', '/CN=stella-client', 'ca', 'extendedKeyUsage=clientAuth\n')
  signed(dir, 'wrong-name', '/CN=stella.example.com', 'ca', 'subjectAltName=DNS:stella.example.com\nextendedKeyUsage=serverAuth\n')
  const path = (name: string) => join(dir, name)
  return {
    dir,
    caFile: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    otherCaFile: path('other-ca.pem'),
    wrongNameCert: path('wrong-name.pem'),
    wrongNameKey: path('wrong-name.key'),
  }
}

export function tlsOptions(pki: TestPki, extra: https.ServerOptions = {}): https.ServerOptions {
  return {cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ...extra}
}
