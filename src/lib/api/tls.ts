/**
 * The TLS material of a client, read and checked once when the client is made, so a wrong path
 * or a key that does not match its certificate is reported before any request, naming the file.
 */
import {X509Certificate, createPrivateKey} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {InputError, UsageError} from '../errors.js'
import {fsErrorReason} from '../fs/reason.js'

export interface TlsFiles {
  caFile?: string
  clientCert?: string
  clientKey?: string
}

export interface TlsMaterial {
  /** Replaces the default roots when set. */
  ca?: string
  cert?: string
  key?: string
}

const CERT_BLOCK_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const material: TlsMaterial = {}
  if (files.caFile) {
    material.ca = readPem(files.caFile, 'CA certificate file')
    parseCertificates(material.ca, files.caFile, 'CA certificate file')
  }

  if (Boolean(files.clientCert) !== Boolean(files.clientKey)) {
    throw new UsageError('CLIENT_CERT_INCOMPLETE', files.clientCert ? 'a client certificate needs its key' : 'a client key needs its certificate', {
      remedy: 'Pass both --client-cert FILE and --client-key FILE.',
    })
  }

  if (files.clientCert && files.clientKey) {
    material.cert = readPem(files.clientCert, 'client certificate file')
    material.key = readPem(files.clientKey, 'client key file')
    const [certificate] = parseCertificates(material.cert, files.clientCert, 'client certificate file')
    checkClientKey(material.key, files.clientKey, certificate as X509Certificate, files.clientCert)
  }

  return material
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new InputError('TLS_FILE_UNREADABLE', `cannot read the ${what} ${path}: ${fsErrorReason(error)}`, {
      remedy: 'Check the path; the file must be PEM text.',
      cause: error,
    })
  }
}

function parseCertificates(pem: string, path: string, what: string): X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK_RE) ?? []
  if (blocks.length === 0) {
    throw new InputError('TLS_FILE_INVALID', `the ${what} ${path} holds no PEM certificate (no BEGIN CERTIFICATE block)`, {
      remedy: 'Give a PEM file; convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`.',
    })
  }

  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block)
    } catch (error) {
      throw new InputError('TLS_FILE_INVALID', `certificate ${index + 1} in the ${what} ${path} is malformed`, {
        remedy: 'Check the file is an intact PEM certificate, e.g. with `openssl x509 -in FILE -noout -text`.',
        cause: error,
      })
    }
  })
}

function checkClientKey(pem: string, path: string, certificate: X509Certificate, certPath: string): void {
  let key
  try {
    key = createPrivateKey(pem)
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(pem)
    throw new InputError('TLS_FILE_INVALID', `the client key file ${path} ${encrypted ? 'is encrypted' : 'holds no readable PEM private key'}`, {
      remedy: encrypted
        ? 'Give an unencrypted key, e.g. `openssl pkey -in FILE -out FILE.plain.pem` (keep it mode 0600).'
        : 'Give the PEM private key that belongs to the client certificate.',
      cause: error,
    })
  }

  if (!certificate.checkPrivateKey(key)) {
    throw new InputError('TLS_KEY_MISMATCH', `the client key ${path} does not belong to the client certificate ${certPath}`, {
      remedy: 'Pass the key the certificate was issued for.',
    })
  }
}
