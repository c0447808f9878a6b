import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {ApiClient, type ApiClientOptions, ApiRequestError} from '../../src/lib/api/index.js'
import {ExitCode, InputError, UsageError} from '../../src/lib/errors.js'
import {type TestPki, type TestServer, makePki, sendJson, startServer, tlsOptions} from '../helpers/api-server.js'
import {scratchDir} from '../helpers/cli.js'
import {rejectionOf, thrownBy} from '../helpers/errors.js'

let dir: {path: string; cleanup: () => void}
let pki: TestPki
let server: TestServer
let mtlsServer: TestServer
let wrongNameServer: TestServer
const clients: ApiClient[] = []

beforeAll(async () => {
  dir = scratchDir('stella-tls-')
  pki = makePki(dir.path)
  const ok = (_request: unknown, response: Parameters<typeof sendJson>[0]) => sendJson(response, 200, {ok: true})
  server = await startServer(ok, tlsOptions(pki))
  mtlsServer = await startServer(ok, tlsOptions(pki, {ca: [readPem(pki.caFile)], requestCert: true, rejectUnauthorized: true}))
  wrongNameServer = await startServer(ok, {cert: readPem(pki.wrongNameCert), key: readPem(pki.wrongNameKey)})
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

afterAll(async () => {
  await Promise.all([server, mtlsServer, wrongNameServer].map((each) => each?.close()))
  dir.cleanup()
})

function readPem(path: string): string {
  return readFileSync(path, 'utf8')
}

function client(url: string, options: Partial<ApiClientOptions> = {}): ApiClient {
  const made = new ApiClient({server: url, tenant: 'acme', retries: 0, ...options})
  clients.push(made)
  return made
}

const CA_REMEDY = 'Pass --ca-cert FILE with the CA certificate that signed it (or set STELLA_CA_FILE, or `stella config set ca-file PATH`).'

describe('TLS', () => {
  it('trusts a server signed by the --ca-cert CA, by IP and by name', async () => {
    expect(await client(server.url, {caFile: pki.caFile}).getJson('/obs/health')).toEqual({ok: true})
    expect(await client(`https://localhost:${server.port}`, {caFile: pki.caFile}).getJson('/obs/health')).toEqual({ok: true})
  })

  it('without the CA the certificate is untrusted (no silent fallback)', async () => {
    const before = server.requests.length
    const error = await rejectionOf(client(server.url).getJson('/obs/health'))
    expect(server.requests).toHaveLength(before)
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('TLS_UNTRUSTED_CERT')
    expect(error.message).toBe(`the TLS certificate of ${server.url} is not trusted (unable to verify the first certificate)`)
    expect(error.remedy).toBe(CA_REMEDY)
  })

  it('a different CA does not vouch for it: --ca-cert replaces the default roots', async () => {
    const error = await rejectionOf(client(server.url, {caFile: pki.otherCaFile}).getJson('/obs/health'))
    expect(error.code).toBe('TLS_UNTRUSTED_CERT')
    expect(error.remedy).toBe(CA_REMEDY)
  })

  it('a certificate for another name is a hostname mismatch', async () => {
    const error = await rejectionOf(client(wrongNameServer.url, {caFile: pki.caFile}).getJson('/obs/health'))
    expect(error.code).toBe('TLS_HOSTNAME_MISMATCH')
    expect(error.message).toBe(`the TLS certificate of ${wrongNameServer.url} is not issued for 127.0.0.1`)
  })

  it('--insecure skips verification', async () => {
    const api = client(server.url, {insecure: true})
    expect(api.insecureWarning).toMatch(/^--insecure: the server certificate is NOT verified/)
    expect(await api.getJson('/obs/health')).toEqual({ok: true})
  })

  it('mutual TLS: with the client certificate the server answers', async () => {
    const api = client(mtlsServer.url, {caFile: pki.caFile, clientCert: pki.clientCert, clientKey: pki.clientKey})
    expect(await api.getJson('/obs/health')).toEqual({ok: true})
  })

  it('mutual TLS: without one the handshake fails with a clear error', async () => {
    const error = await rejectionOf(client(mtlsServer.url, {caFile: pki.caFile}).getJson('/obs/health'))
    expect(error).toBeInstanceOf(ApiRequestError)
    expect(error.exitCode).toBe(ExitCode.Remote)
    expect(error.code).toBe('TLS_HANDSHAKE_FAILED')
    expect(error.message).toBe(
      `the TLS handshake with ${mtlsServer.url} failed: the server requires a client certificate (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)`,
    )
    expect(error.remedy).toBe('Pass --client-cert FILE and --client-key FILE with a certificate the server trusts.')
  })

  it('https to a plain-HTTP port says the server does not speak TLS there', async () => {
    const plain = await startServer((_request, response) => sendJson(response, 200, {}))
    try {
      const error = await rejectionOf(client(`https://127.0.0.1:${plain.port}`).getJson('/obs/health'))
      expect(error.code).toBe('TLS_HANDSHAKE_FAILED')
      expect(error.message).toBe(`the TLS handshake with https://127.0.0.1:${plain.port} failed: the server does not speak TLS on this port`)
    } finally {
      await plain.close()
    }
  })
})

describe('TLS files are checked when the client is made', () => {
  it('a missing CA file is an input error naming it', () => {
    const path = join(dir.path, 'missing-ca.pem')
    const error = thrownBy(() => new ApiClient({server: server.url, tenant: 'acme', caFile: path}))
    expect(error).toBeInstanceOf(InputError)
    expect(error.exitCode).toBe(ExitCode.Input)
    expect(error.code).toBe('TLS_FILE_UNREADABLE')
    expect(error.message).toBe(`cannot read the CA certificate file ${path}: no such file or directory`)
  })

  it('a CA file without a certificate is an input error naming it', () => {
    const path = join(dir.path, 'not-a-ca.pem')
    writeFileSync(path, 'hello\n')
    const error = thrownBy(() => new ApiClient({server: server.url, tenant: 'acme', caFile: path}))
    expect(error.code).toBe('TLS_FILE_INVALID')
    expect(error.message).toBe(`the CA certificate file ${path} holds no PEM certificate (no BEGIN CERTIFICATE block)`)
  })

  it('a client key that does not belong to the certificate is refused', () => {
    const error = thrownBy(() => new ApiClient({server: server.url, tenant: 'acme', clientCert: pki.clientCert, clientKey: pki.serverKey}))
    expect(error.code).toBe('TLS_KEY_MISMATCH')
    expect(error.message).toBe(`the client key ${pki.serverKey} does not belong to the client certificate ${pki.clientCert}`)
  })

  it('a client certificate without its key is a usage error', () => {
    const error = thrownBy(() => new ApiClient({server: server.url, tenant: 'acme', clientCert: pki.clientCert}))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.code).toBe('CLIENT_CERT_INCOMPLETE')
    expect(error.remedy).toBe('Pass both --client-cert FILE and --client-key FILE.')
  })

  it('a key file that holds no key names the file', () => {
    const error = thrownBy(() => new ApiClient({server: server.url, tenant: 'acme', clientCert: pki.clientCert, clientKey: pki.clientCert}))
    expect(error.code).toBe('TLS_FILE_INVALID')
    expect(error.message).toBe(`the client key file ${pki.clientCert} holds no readable PEM private key`)
  })
})
