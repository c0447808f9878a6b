/**
 * Ed25519 keys: reading them in every form users actually hold (PEM PKCS#8 / SPKI as OpenSSL
 * writes them, JWK, raw hex, DER), writing them exactly as OpenSSL does, and naming them by
 * keyid. Anything that is not a usable Ed25519 key gets a KeyError that says what the file
 * holds instead and what to do about it. Errors never quote key material.
 */
import {createHash, randomBytes} from 'node:crypto'
import {type FileHandle, open} from 'node:fs/promises'

import {bytesEqual, fromBase64Strict, fromHex, fromUtf8Strict, toBase64, toBase64Url, toHex} from '../encoding.js'
import {InputError, type StellaErrorOptions} from '../errors.js'
import {fsErrorReason} from '../fs/reason.js'
import {bitStringBytes, contextTag, decodeOid, DerError, type DerElement, type DerReader, readDer, readerOf, Tag} from './der.js'
import {checkPublicKeyPoint, ed25519PublicKeyFromSeed} from './ed25519.js'

export interface Ed25519PublicKey {
  kind: 'public'
  algorithm: 'ed25519'
  /** The 32-byte encoded point (RFC 8032). */
  publicKey: Uint8Array
  /** SubjectPublicKeyInfo DER, as `openssl pkey -pubout -outform DER` writes it. */
  spki: Uint8Array
  /** Lowercase hex SHA-256 of `spki`: the DSSE keyid. */
  keyid: string
}

export interface Ed25519PrivateKey {
  kind: 'private'
  algorithm: 'ed25519'
  /** The 32-byte RFC 8032 secret key ("seed"). */
  seed: Uint8Array
  public: Ed25519PublicKey
}

export type Ed25519Key = Ed25519PublicKey | Ed25519PrivateKey

/**
 * Why a key could not be used:
 * - KEY_EMPTY: the file or input is empty
 * - KEY_MALFORMED: truncated or garbled PEM, base64, DER, JSON or hex (the message names the part)
 * - KEY_WRONG_ALGORITHM: a well-formed key, but RSA / EC / Ed448 / X25519 / DSA / …
 * - KEY_ENCRYPTED: an encrypted PKCS#8 key ("ENCRYPTED PRIVATE KEY")
 * - KEY_NOT_PRIVATE: a public key where signing needs the private key
 * - KEY_IS_CERTIFICATE: an X.509 certificate or certificate request instead of a key
 * - KEY_INVALID: well-formed but unusable: not a curve point, small order, or a PKCS#8 /
 *   JWK whose embedded public key does not belong to its private key
 * - KEY_UNSUPPORTED_FORMAT: an Ed25519 key in a format stella does not read (OpenSSH,
 *   OpenPGP, unknown PEM labels)
 * - KEY_UNREADABLE: the file could not be read (the OS reason is in the message)
 */
export type KeyErrorCode =
  | 'KEY_EMPTY'
  | 'KEY_MALFORMED'
  | 'KEY_WRONG_ALGORITHM'
  | 'KEY_ENCRYPTED'
  | 'KEY_NOT_PRIVATE'
  | 'KEY_IS_CERTIFICATE'
  | 'KEY_INVALID'
  | 'KEY_UNSUPPORTED_FORMAT'
  | 'KEY_UNREADABLE'

export class KeyError extends InputError {
  declare readonly code: KeyErrorCode

  constructor(code: KeyErrorCode, message: string, options?: StellaErrorOptions) {
    super(code, message, options)
  }
}

const ED25519_OID = '1.3.101.112'
// Ed25519 DER has a fixed shape (RFC 8410), so the encodings are a constant prefix plus the key.
const PKCS8_V1_PREFIX = fromHex('302e020100300506032b657004220420') as Uint8Array
const SPKI_PREFIX = fromHex('302a300506032b6570032100') as Uint8Array

/** Largest key file read; real ones are < 4 KiB, anything near this is the wrong file. */
const MAX_KEY_FILE_BYTES = 1024 * 1024

const GENERATE_REMEDY =
  'Use an Ed25519 key: create one with `stella keys generate` or `openssl genpkey -algorithm ed25519 -out key.pem`.'

// ---------------------------------------------------------------------------------------------
// Building keys

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function spkiOf(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes')
  return concat(SPKI_PREFIX, publicKey)
}

/** The DSSE keyid: lowercase hex SHA-256 of the key's SubjectPublicKeyInfo DER. */
export function keyidOf(publicKey: Uint8Array): string {
  return toHex(sha256(spkiOf(publicKey)))
}

/** 'SHA256:' + unpadded base64 of SHA-256(spki), in the style of `ssh-keygen -l`, for humans comparing keys. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return `SHA256:${toBase64(sha256(spkiOf(publicKey))).replace(/=+$/, '')}`
}

function makePublic(publicKey: Uint8Array): Ed25519PublicKey {
  const copy = new Uint8Array(publicKey) // never alias a caller's buffer
  const spki = spkiOf(copy)
  return {kind: 'public', algorithm: 'ed25519', publicKey: copy, spki, keyid: toHex(sha256(spki))}
}

function makePrivate(seed: Uint8Array): Ed25519PrivateKey {
  const copy = new Uint8Array(seed)
  return {kind: 'private', algorithm: 'ed25519', seed: copy, public: makePublic(ed25519PublicKeyFromSeed(copy))}
}

// ---------------------------------------------------------------------------------------------
// Error context

interface Context {
  /** Starts "<prefix>: problem" messages: "key file ./k.pem", "standard input", "key". */
  prefix: string
  /** The subject of "<noun> holds …" messages: "./k.pem", "standard input", "the key". */
  noun: string
  /** A file path to put into remedy commands, when there is one. */
  path: string | undefined
}

function contextOf(source: string | undefined, isPath = false): Context {
  if (source === undefined) return {prefix: 'key', noun: 'the key', path: undefined}
  // A label like "standard input" is not a path; only put path-looking sources into commands.
  if (isPath || /[/\\.]/.test(source)) return {prefix: `key file ${source}`, noun: source, path: source}
  return {prefix: source, noun: source, path: undefined}
}

function shellQuote(path: string): string {
  return /^[\w./:@%+=,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`
}

function fileArg(ctx: Context, placeholder = 'key.pem'): string {
  return ctx.path === undefined ? placeholder : shellQuote(ctx.path)
}

function malformed(ctx: Context, problem: string, remedy?: string): KeyError {
  return new KeyError('KEY_MALFORMED', `${ctx.prefix}: ${problem}`, {
    remedy: remedy ?? 'Check that this is the right file and that it was copied whole; an Ed25519 private key is PEM "BEGIN PRIVATE KEY", a public key PEM "BEGIN PUBLIC KEY".',
  })
}

function article(name: string): string {
  return /^(?:RSA|EC|Ed|X|SM|unrecognised)/.test(name) ? 'an' : 'a'
}

function wrongAlgorithm(ctx: Context, name: string, format = ''): KeyError {
  return new KeyError('KEY_WRONG_ALGORITHM', `stella signs with Ed25519; ${ctx.noun} holds ${article(name)} ${name} key${format}`, {
    remedy: GENERATE_REMEDY,
  })
}

function unsupportedFormat(ctx: Context, what: string, remedy: string): KeyError {
  return new KeyError('KEY_UNSUPPORTED_FORMAT', `${ctx.noun} holds ${what}, a format stella does not read`, {remedy})
}

function encrypted(ctx: Context): KeyError {
  const file = fileArg(ctx)
  return new KeyError('KEY_ENCRYPTED', `${ctx.noun} holds an encrypted private key (PEM "ENCRYPTED PRIVATE KEY"); stella reads only unencrypted PKCS#8 keys`, {
    remedy: `Decrypt it with \`openssl pkey -in ${file} -out plain.pem\` (it asks for the passphrase), keep plain.pem private, and use that.`,
  })
}

function certificate(ctx: Context, request = false): KeyError {
  const file = fileArg(ctx, request ? 'request.pem' : 'cert.pem')
  return new KeyError('KEY_IS_CERTIFICATE', `${ctx.noun} holds ${request ? 'a certificate signing request' : 'an X.509 certificate'}, not a key`, {
    remedy: request
      ? `Extract its public key with \`openssl req -in ${file} -pubkey -noout > pub.pem\` and use pub.pem.`
      : `Extract its public key with \`openssl x509 -in ${file} -pubkey -noout > pub.pem\` and use pub.pem.`,
  })
}

function invalid(ctx: Context, problem: string): KeyError {
  return new KeyError('KEY_INVALID', `${ctx.prefix}: ${problem}`, {
    remedy: 'The key is damaged or was built by hand; use the key file exactly as `stella keys generate` or `openssl genpkey -algorithm ed25519` wrote it.',
  })
}

// ---------------------------------------------------------------------------------------------
// Algorithm names of foreign keys

const ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.113549.1.3.1': 'Diffie-Hellman',
  '1.2.840.10046.2.1': 'Diffie-Hellman',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.113': 'Ed448',
  '1.2.156.10197.1.301': 'SM2',
}

const CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.1': 'P-192',
  '1.3.132.0.33': 'P-224',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
  '1.2.156.10197.1.301': 'SM2',
}

function ecName(curveOid: string | undefined): string {
  const curve = curveOid === undefined ? undefined : CURVES[curveOid]
  return curve === undefined ? 'EC' : `EC ${curve}`
}

interface AlgorithmIdentifier {
  oid: string
  parameters: DerElement | undefined
}

function readAlgorithm(reader: DerReader): AlgorithmIdentifier {
  const alg = reader.readSequence('AlgorithmIdentifier')
  const oid = alg.readOid('algorithm OID')
  const parameters = alg.done ? undefined : alg.read()
  alg.end('AlgorithmIdentifier')
  return {oid, parameters}
}

function algorithmName(alg: AlgorithmIdentifier): string {
  if (alg.oid === '1.2.840.10045.2.1') {
    const curve = alg.parameters?.tag === Tag.Oid ? oidOf(alg.parameters) : undefined
    return ecName(curve)
  }
  return ALGORITHMS[alg.oid] ?? UNRECOGNISED
}

function oidOf(element: DerElement): string | undefined {
  try {
    return decodeOid(element)
  } catch {
    return undefined
  }
}

const UNRECOGNISED = 'unrecognised'

function checkEd25519Algorithm(ctx: Context, alg: AlgorithmIdentifier, where: string): void {
  if (alg.oid !== ED25519_OID) {
    const name = algorithmName(alg)
    throw wrongAlgorithm(ctx, name, name === UNRECOGNISED ? ` (algorithm OID ${alg.oid})` : '')
  }

  // RFC 8410 §3: the parameters MUST be absent (not even NULL).
  if (alg.parameters !== undefined) throw malformed(ctx, `the ${where} has parameters in its Ed25519 AlgorithmIdentifier, which RFC 8410 forbids`)
}

// ---------------------------------------------------------------------------------------------
// DER structures

/** PKCS#8 PrivateKeyInfo v1 / OneAsymmetricKey v2 (RFC 5958, RFC 8410). */
function parsePkcs8(der: Uint8Array, ctx: Context, where: string): Ed25519PrivateKey {
  const {element, reader} = readDer(der)
  if (element.tag !== Tag.Sequence) throw new DerError('expected SEQUENCE (PrivateKeyInfo)', 0)
  const version = reader.readSmallInteger('PKCS#8 version')
  if (version > 1) throw malformed(ctx, `the ${where} is PKCS#8 version ${version + 1}; only v1 and v2 exist`)
  const alg = readAlgorithm(reader)
  // Decide the algorithm before the rest, so a foreign key is named, not called malformed.
  checkEd25519Algorithm(ctx, alg, where)
  const privateKey = reader.readOctetString('privateKey')
  reader.optional(contextTag(0, true)) // attributes: nothing stella needs
  const embedded = reader.optional(contextTag(1, false))
  reader.end('PrivateKeyInfo')

  // RFC 8410 §7: privateKey holds CurvePrivateKey, itself an OCTET STRING of the 32-byte seed.
  let inner: DerElement | undefined
  try {
    inner = readDer(privateKey).element
  } catch (error) {
    if (!(error instanceof DerError)) throw error
  }

  if (inner?.tag !== Tag.OctetString) throw malformed(ctx, `the ${where} does not wrap the Ed25519 private key in an OCTET STRING (RFC 8410 CurvePrivateKey)`)
  if (inner.contents.length !== 32) throw malformed(ctx, `the ${where} holds a ${inner.contents.length}-byte private key; Ed25519 private keys are 32 bytes`)
  const key = makePrivate(inner.contents)

  if (embedded !== undefined) {
    const publicKey = bitStringBytes(embedded)
    if (!bytesEqual(publicKey, key.public.publicKey)) {
      throw invalid(ctx, `the public key embedded in the ${where} does not belong to its private key`)
    }
  }

  return key
}

/** SubjectPublicKeyInfo (RFC 5280 §4.1, RFC 8410 §4). */
function parseSpki(der: Uint8Array, ctx: Context, where: string): Ed25519PublicKey {
  const {element, reader} = readDer(der)
  if (element.tag !== Tag.Sequence) throw new DerError('expected SEQUENCE (SubjectPublicKeyInfo)', 0)
  const alg = readAlgorithm(reader)
  checkEd25519Algorithm(ctx, alg, where)
  const publicKey = reader.readBitString('subjectPublicKey')
  reader.end('SubjectPublicKeyInfo')
  return publicFromBytes(publicKey, ctx, where)
}

function publicFromBytes(publicKey: Uint8Array, ctx: Context, where: string): Ed25519PublicKey {
  if (publicKey.length !== 32) throw malformed(ctx, `the ${where} holds a ${publicKey.length}-byte public key; Ed25519 public keys are 32 bytes`)
  const check = checkPublicKeyPoint(publicKey)
  if (check === 'not-a-point') throw invalid(ctx, `the ${where} is not a valid Ed25519 public key (not a canonical curve point encoding)`)
  if (check === 'small-order') throw invalid(ctx, `the ${where} is a small-order point, a weak key under which no signature verifies`)
  return makePublic(publicKey)
}

/** SEC1 ECPrivateKey: only read far enough to name the curve. */
function sec1CurveName(der: Uint8Array): string {
  try {
    const {reader} = readDer(der)
    reader.readSmallInteger()
    reader.readOctetString()
    const parameters = reader.optional(contextTag(0, true))
    return ecName(parameters === undefined ? undefined : readerOf(parameters).readOid())
  } catch {
    return 'EC'
  }
}

/** Binary DER of unknown kind: tell the structures apart by their first fields. */
function parseDerKey(der: Uint8Array, ctx: Context, where: string): Ed25519Key {
  const {element, reader} = readDer(der)
  if (element.tag !== Tag.Sequence) throw new DerError('expected SEQUENCE', 0)
  const first = reader.read()
  if (first.tag === Tag.Integer) {
    const second = reader.peekTag()
    if (second === Tag.Sequence) return parsePkcs8(der, ctx, where)
    if (second === Tag.OctetString) throw wrongAlgorithm(ctx, sec1CurveName(der)) // SEC1 EC key
    if (second === Tag.Integer) throw wrongAlgorithm(ctx, 'RSA') // PKCS#1 RSAPrivateKey
    throw malformed(ctx, `the ${where} is not a key structure stella knows`)
  }
  if (first.tag === Tag.Sequence) {
    const inner = readerOf(first).peekTag()
    if (inner === Tag.Oid) {
      if (reader.peekTag() === Tag.OctetString) throw encrypted(ctx) // EncryptedPrivateKeyInfo
      return parseSpki(der, ctx, where)
    }

    // Certificate / CertificationRequest: SEQUENCE { SEQUENCE { [0] version | INTEGER, … }, … }
    if (inner === contextTag(0, true) || inner === Tag.Integer) throw certificate(ctx)
  }

  throw malformed(ctx, `the ${where} is not a key structure stella knows`)
}

function withDer<T>(ctx: Context, derWhere: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    if (error instanceof DerError) throw malformed(ctx, `the ${derWhere} is malformed: ${error.message}`)
    throw error
  }
}

// ---------------------------------------------------------------------------------------------
// PEM

interface PemBlock {
  label: string
  body: string
  hasHeaders: boolean
}

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'])
const REQUEST_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'])

function readPemBlocks(text: string, ctx: Context): PemBlock[] {
  const blocks: PemBlock[] = []
  let current: {label: string; lines: string[]; hasHeaders: boolean} | undefined
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.trim()
    const begin = /^-----BEGIN ([A-Z0-9 ]+)-----$/.exec(line)
    const end = /^-----END ([A-Z0-9 ]+)-----$/.exec(line)
    if (current === undefined) {
      // Text outside blocks is allowed (RFC 7468 §2), as OpenSSL allows it.
      if (begin) current = {label: begin[1] ?? '', lines: [], hasHeaders: false}
      else if (line.startsWith('-----BEGIN')) throw malformed(ctx, 'the PEM BEGIN line is malformed')
      continue
    }

    if (end) {
      if (end[1] !== current.label) throw malformed(ctx, `the PEM block "BEGIN ${current.label}" ends with "END ${end[1]}"`)
      blocks.push({label: current.label, body: current.lines.join(''), hasHeaders: current.hasHeaders})
      current = undefined
    } else if (line.startsWith('-----')) {
      throw malformed(ctx, `the PEM block "${current.label}" has no END line before "${line}" (the file looks truncated or spliced)`)
    } else if (line.includes(':')) {
      current.hasHeaders = true // RFC 1421 headers, e.g. Proc-Type of legacy encrypted keys
    } else {
      current.lines.push(line)
    }
  }

  if (current !== undefined) throw malformed(ctx, `the PEM block "${current.label}" has no END line (the file looks truncated)`)
  return blocks
}

function pemDer(block: PemBlock, ctx: Context): Uint8Array {
  if (block.hasHeaders) throw malformed(ctx, `the PEM block "${block.label}" has RFC 1421 headers, which PKCS#8 and SPKI never have`)
  if (block.body === '') throw malformed(ctx, `the PEM block "${block.label}" is empty`)
  const der = fromBase64Strict(block.body)
  if (der === undefined) throw malformed(ctx, `the base64 body of the PEM block "${block.label}" is not valid base64 (garbled or cut short)`)
  return der
}

/** The key type inside an OpenSSH private key: its public part is stored in the clear. */
function opensshKeyType(block: PemBlock): string | undefined {
  const bytes = fromBase64Strict(block.body)
  if (bytes === undefined) return undefined
  const magic = 'openssh-key-v1\0'
  if (Buffer.from(bytes.subarray(0, magic.length)).toString('latin1') !== magic) return undefined
  let pos = magic.length
  const view = Buffer.from(bytes)
  const readString = (): Uint8Array | undefined => {
    if (pos + 4 > view.length) return undefined
    const length = view.readUInt32BE(pos)
    if (pos + 4 + length > view.length) return undefined
    const value = view.subarray(pos + 4, pos + 4 + length)
    pos += 4 + length
    return value
  }
  readString() // cipher name
  readString() // kdf name
  readString() // kdf options
  pos += 4 // number of keys
  const publicBlob = readString()
  if (publicBlob === undefined || publicBlob.length < 4) return undefined
  const typeLength = Buffer.from(publicBlob).readUInt32BE(0)
  return Buffer.from(publicBlob.subarray(4, 4 + typeLength)).toString('latin1')
}

function opensshAlgorithm(type: string): string | undefined {
  if (type.startsWith('ssh-rsa') || type.startsWith('rsa-sha2')) return 'RSA'
  if (type === 'ssh-dss') return 'DSA'
  if (type.startsWith('ecdsa-sha2-nistp')) return `EC P-${type.slice('ecdsa-sha2-nistp'.length)}`
  if (type.startsWith('sk-ecdsa')) return 'FIDO security-key ECDSA'
  if (type.startsWith('sk-ssh-ed25519')) return 'FIDO security-key Ed25519'
  if (type === 'ssh-ed448') return 'Ed448'
  return undefined
}

function fromOpenssh(ctx: Context, type: string | undefined, kind: 'private' | 'public'): never {
  const algorithm = type === undefined ? undefined : opensshAlgorithm(type)
  if (algorithm !== undefined) throw wrongAlgorithm(ctx, algorithm, ' (OpenSSH format)')
  throw unsupportedFormat(ctx, `an OpenSSH ${kind} key${type === undefined ? '' : ` (${type})`}`,
    kind === 'private'
      ? 'stella reads Ed25519 keys as PEM PKCS#8, which ssh-keygen cannot write for Ed25519; create a signing key with `stella keys generate` or `openssl genpkey -algorithm ed25519 -out key.pem`.'
      : 'Give stella the PEM public key ("BEGIN PUBLIC KEY"), e.g. from `openssl pkey -in key.pem -pubout`, or its JWK or 64-hex form.')
}

function parsePem(text: string, ctx: Context): Ed25519Key {
  const blocks = readPemBlocks(text, ctx)
  // Curve/DSA parameter blocks sit next to keys (`openssl ecparam -genkey`); they are not keys.
  const relevant = blocks.filter((b) => !b.label.endsWith('PARAMETERS'))
  const certificates = relevant.filter((b) => CERTIFICATE_LABELS.has(b.label) || REQUEST_LABELS.has(b.label))
  const keys = relevant.filter((b) => !certificates.includes(b))
  if (keys.length > 1) throw malformed(ctx, `holds ${keys.length} PEM keys; stella expects exactly one key per file`)
  const block = keys[0]
  if (block === undefined) {
    const cert = certificates[0]
    if (cert !== undefined) throw certificate(ctx, REQUEST_LABELS.has(cert.label))
    throw malformed(ctx, 'holds no PEM key block')
  }

  const where = `PEM "${block.label}" block`
  switch (block.label) {
    case 'PRIVATE KEY':
      return withDer(ctx, `DER inside the ${where}`, () => parsePkcs8(pemDer(block, ctx), ctx, where))
    case 'PUBLIC KEY':
      return withDer(ctx, `DER inside the ${where}`, () => parseSpki(pemDer(block, ctx), ctx, where))
    case 'ENCRYPTED PRIVATE KEY':
      throw encrypted(ctx)
    case 'RSA PRIVATE KEY':
    case 'RSA PUBLIC KEY':
      throw wrongAlgorithm(ctx, 'RSA')
    case 'DSA PRIVATE KEY':
      throw wrongAlgorithm(ctx, 'DSA')
    case 'EC PRIVATE KEY': {
      const der = block.hasHeaders ? undefined : fromBase64Strict(block.body)
      throw wrongAlgorithm(ctx, der === undefined ? 'EC' : sec1CurveName(der))
    }
    case 'OPENSSH PRIVATE KEY':
      return fromOpenssh(ctx, opensshKeyType(block), 'private')
    case 'PGP PRIVATE KEY BLOCK':
    case 'PGP PUBLIC KEY BLOCK':
      throw unsupportedFormat(ctx, 'an OpenPGP key', GENERATE_REMEDY)
    case 'SSH2 PUBLIC KEY':
      throw unsupportedFormat(ctx, 'an SSH2 (RFC 4716) public key', 'Give stella the PEM public key ("BEGIN PUBLIC KEY"), e.g. from `openssl pkey -in key.pem -pubout`.')
    default:
      throw unsupportedFormat(ctx, `a PEM "${block.label}" block`, 'stella reads PEM "PRIVATE KEY" (PKCS#8) and "PUBLIC KEY" (SPKI) Ed25519 keys, JWK, and 64-hex public keys.')
  }
}

// ---------------------------------------------------------------------------------------------
// JWK (RFC 7517, RFC 8037)

function jwkBytes(jwk: Record<string, unknown>, member: 'x' | 'd', ctx: Context): Uint8Array {
  const value = jwk[member]
  if (typeof value !== 'string') throw malformed(ctx, `the JWK member "${member}" is ${value === undefined ? 'missing' : 'not a string'}`)
  const bytes = fromBase64Strict(value)
  if (bytes === undefined) throw malformed(ctx, `the JWK member "${member}" is not valid base64url`)
  if (bytes.length !== 32) throw malformed(ctx, `the JWK member "${member}" is ${bytes.length} bytes; Ed25519 keys are 32 bytes`)
  return bytes
}

function parseJwk(text: string, ctx: Context): Ed25519Key {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // The parser's own message quotes the input, which may be a private key: do not pass it on.
    throw malformed(ctx, 'looks like a JWK but is not valid JSON')
  }

  if (isObject(value) && Array.isArray(value.keys)) {
    if (value.keys.length !== 1) throw malformed(ctx, `is a JWK Set with ${value.keys.length} keys; stella expects exactly one key`)
    value = value.keys[0]
  }

  if (!isObject(value)) throw malformed(ctx, 'is JSON but not a JWK object')
  const {kty, crv} = value
  if (kty === 'RSA') throw wrongAlgorithm(ctx, 'RSA')
  if (kty === 'EC') throw wrongAlgorithm(ctx, typeof crv === 'string' ? `EC ${crv}` : 'EC')
  if (kty === 'oct') throw wrongAlgorithm(ctx, 'symmetric (JWK "oct")')
  if (kty !== 'OKP') throw malformed(ctx, `the JWK has ${typeof kty === 'string' ? `an unknown "kty" (${kty})` : 'no "kty"'}`)
  if (crv === 'Ed448' || crv === 'X25519' || crv === 'X448') throw wrongAlgorithm(ctx, crv)
  if (crv !== 'Ed25519') throw malformed(ctx, `the JWK has ${typeof crv === 'string' ? `an unknown OKP "crv" (${crv})` : 'no "crv"'}`)

  const x = jwkBytes(value, 'x', ctx)
  if (value.d === undefined) return publicFromBytes(x, ctx, 'JWK')
  const key = makePrivate(jwkBytes(value, 'd', ctx))
  if (!bytesEqual(key.public.publicKey, x)) throw invalid(ctx, 'the JWK "x" does not belong to its private key "d"')
  return key
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ---------------------------------------------------------------------------------------------
// Entry points

function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.every((b) => b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)
}

function parseWith(data: Uint8Array | string, ctx: Context): Ed25519Key {
  let text: string
  if (typeof data === 'string') {
    text = data
  } else {
    if (data.length === 0) throw new KeyError('KEY_EMPTY', `${ctx.prefix} is empty`, {remedy: 'Pass the key file itself; it may not have been written.'})
    // DER starts with a SEQUENCE (0x30, also ASCII '0' as in a hex key) and has control bytes.
    if (data[0] === 0x30 && !looksLikeText(data)) return withDer(ctx, 'DER key', () => parseDerKey(data, ctx, 'DER key'))
    const decoded = fromUtf8Strict(data)
    if (decoded === undefined) throw malformed(ctx, 'is neither text (PEM, JWK, hex) nor DER')
    text = decoded
  }

  text = text.replace(/^\uFEFF/, '')
  const trimmed = text.trim()
  if (trimmed === '') throw new KeyError('KEY_EMPTY', `${ctx.prefix} is empty`, {remedy: 'Pass the key file itself; it may not have been written.'})
  if (text.includes('-----BEGIN')) return parsePem(text, ctx)
  if (trimmed.startsWith('{')) return parseJwk(trimmed, ctx)
  if (/^[0-9a-fA-F]+$/.test(trimmed)) {
    if (trimmed.length !== 64) throw malformed(ctx, `holds ${trimmed.length} hex digits; a raw Ed25519 public key is 64`)
    return publicFromBytes(fromHex(trimmed) as Uint8Array, ctx, 'hex public key')
  }

  const openssh = /^((?:ssh|ecdsa-sha2|sk-ssh|sk-ecdsa)-[\w@.-]+)\s+[A-Za-z0-9+/=]+/.exec(trimmed)
  if (openssh) return fromOpenssh(ctx, openssh[1], 'public')
  throw malformed(ctx, 'is not a PEM, JWK or hex key')
}

/** A public key from its 32 raw bytes; KEY_MALFORMED / KEY_INVALID unless it is a usable point. */
export function publicKeyFromBytes(raw32: Uint8Array): Ed25519PublicKey {
  return publicFromBytes(raw32, contextOf(undefined), 'raw public key')
}

/**
 * Reads an Ed25519 key in any supported form, detected by content: PEM PKCS#8 private key,
 * PEM SPKI public key, JWK (OKP, public or with "d"), 64 hex digits of public key, or DER.
 * `source` names the input in messages: a file path, or a label such as "standard input".
 */
export function parseKey(data: Uint8Array | string, source?: string): Ed25519Key {
  return parseWith(data, contextOf(source))
}

function requirePrivate(key: Ed25519Key, ctx: Context): Ed25519PrivateKey {
  if (key.kind === 'private') return key
  throw new KeyError('KEY_NOT_PRIVATE', `${ctx.noun} holds a public key; signing needs the private key`, {
    remedy: 'Pass the private key file (PEM "BEGIN PRIVATE KEY"), e.g. one made by `stella keys generate`.',
  })
}

export function parsePrivateKey(data: Uint8Array | string, source?: string): Ed25519PrivateKey {
  const ctx = contextOf(source)
  return requirePrivate(parseWith(data, ctx), ctx)
}

/** A private key is accepted too: its public half is returned. */
export function parsePublicKey(data: Uint8Array | string, source?: string): Ed25519PublicKey {
  const key = parseKey(data, source)
  return key.kind === 'private' ? key.public : key
}

async function readKeyBytes(path: string): Promise<Uint8Array> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    const stat = await handle.stat()
    if (stat.isDirectory()) throw new KeyError('KEY_UNREADABLE', `key file ${path}: cannot read it: it is a directory`, {remedy: 'Pass the path of the key file itself.'})
    if (stat.isFile() && stat.size > MAX_KEY_FILE_BYTES) {
      throw new KeyError('KEY_MALFORMED', `key file ${path}: is ${stat.size} bytes, far larger than any key`, {remedy: 'Check that this is the right file.'})
    }
    return new Uint8Array(await handle.readFile())
  } catch (error) {
    if (error instanceof KeyError) throw error
    throw new KeyError('KEY_UNREADABLE', `key file ${path}: cannot read it: ${fsErrorReason(error)}`, {
      remedy: 'Check the path, and that you are allowed to read the file.',
      cause: error,
    })
  } finally {
    await handle?.close()
  }
}

export async function readKeyFile(path: string): Promise<Ed25519Key> {
  return parseWith(await readKeyBytes(path), contextOf(path, true))
}

export async function readPrivateKeyFile(path: string): Promise<Ed25519PrivateKey> {
  const ctx = contextOf(path, true)
  return requirePrivate(parseWith(await readKeyBytes(path), ctx), ctx)
}

export async function readPublicKeyFile(path: string): Promise<Ed25519PublicKey> {
  const key = await readKeyFile(path)
  return key.kind === 'private' ? key.public : key
}

export function generatePrivateKey(): Ed25519PrivateKey {
  return makePrivate(new Uint8Array(randomBytes(32)))
}

function pem(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** PKCS#8 v1, byte-for-byte what `openssl genpkey -algorithm ed25519` writes. */
export function privateKeyToPem(key: Ed25519PrivateKey): string {
  return pem('PRIVATE KEY', concat(PKCS8_V1_PREFIX, key.seed))
}

/** SubjectPublicKeyInfo, as `openssl pkey -pubout` writes it. */
export function publicKeyToPem(key: Ed25519PublicKey): string {
  return pem('PUBLIC KEY', key.spki)
}

/** RFC 8037 public JWK. */
export function publicKeyToJwk(key: Ed25519PublicKey): {kty: 'OKP'; crv: 'Ed25519'; x: string} {
  return {kty: 'OKP', crv: 'Ed25519', x: toBase64Url(key.publicKey)}
}
