/**
 * Real evidence bundles for the contract server: generated evidence files, written and signed
 * with the project's bundle writer, read back like a stored bundle, and verified with the
 * project's verifier for the server's own opinion.
 */
import {randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Writable} from 'node:stream'
import {finished} from 'node:stream/promises'
import {gunzipSync} from 'node:zlib'

import type {BundleMetadata as WireBundleMetadata, DsseEnvelopeJson, ServerVerifyResult, SnapshotKind} from '../../src/lib/api/types.js'
import {ENVELOPE_NAME, MANIFEST_NAME, type Manifest, parseManifest} from '../../src/lib/bundle/manifest.js'
import {TarParser} from '../../src/lib/bundle/tar.js'
import {verifyBundle} from '../../src/lib/bundle/verify.js'
import {type BundleMetadata, writeBundle} from '../../src/lib/bundle/writer.js'
import type {Ed25519PrivateKey} from '../../src/lib/keys/index.js'
import {seededRandom} from '../helpers/random.js'
import type {TenantId} from './auth.js'
import type {StoredBundle} from './state.js'

export interface EvidenceFile {
  path: string
  bytes: Uint8Array
}

export interface BuiltBundle {
  bytes: Buffer
  manifest: Manifest
  envelope: DsseEnvelopeJson
}

/** Writes the files into a scratch directory (the writer reads from disk) and the bundle into memory. */
export async function buildBundle(files: readonly EvidenceFile[], metadata: BundleMetadata, key: Ed25519PrivateKey): Promise<BuiltBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'stella-contract-'))
  try {
    const inputs = []
    for (const [index, file] of files.entries()) {
      const source = join(dir, String(index))
      await writeFile(source, file.bytes)
      inputs.push({path: file.path, source})
    }

    const chunks: Buffer[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk)
        callback()
      },
    })
    await writeBundle(inputs, metadata, [key], sink)
    sink.end()
    await finished(sink)
    const bytes = Buffer.concat(chunks)
    const reserved = readReservedEntries(bytes)
    return {bytes, manifest: parseManifest(reserved.get(MANIFEST_NAME)!), envelope: JSON.parse(Buffer.from(reserved.get(ENVELOPE_NAME)!).toString('utf8')) as DsseEnvelopeJson}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/** manifest.json and manifest.dsse.json as stored in the archive, the way a server indexes an uploaded bundle. */
function readReservedEntries(bundle: Uint8Array): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>()
  let current: {path: string; parts: Buffer[]} | undefined
  const parser = new TarParser({
    entry: (entry) => (current = entry.path === MANIFEST_NAME || entry.path === ENVELOPE_NAME ? {path: entry.path, parts: []} : undefined),
    data: (chunk) => current?.parts.push(Buffer.from(chunk)),
    entryEnd: () => {
      if (current) found.set(current.path, Buffer.concat(current.parts))
      current = undefined
    },
  })
  parser.write(gunzipSync(bundle))
  parser.end()
  return found
}

/** Whole seconds in UTC, the only form a bundle's createdAt takes. */
export function bundleTime(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** `eb_` and a ULID with random low bits: two snapshots of the same resource in the same second still differ. */
export function newBundleId(at: Date): string {
  let value = (BigInt(at.getTime()) << 80n) | BigInt(`0x${randomBytes(10).toString('hex')}`)
  let text = ''
  for (let i = 0; i < 26; i++) {
    text = CROCKFORD[Number(value & 31n)]! + text
    value >>= 5n
  }

  return `eb_${text}`
}

const json = (value: unknown): Uint8Array => Buffer.from(`${JSON.stringify(value, null, 2)}\n`)
const text = (value: string): Uint8Array => Buffer.from(value)

function seedOf(...parts: string[]): number {
  let h = 2166136261
  for (const ch of parts.join('\u0000')) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  return h >>> 0
}

/** The evidence a platform would collect for a resource: deterministic for the same tenant, kind, resource and case. */
export function evidenceFiles(tenant: string, kind: SnapshotKind, resourceId: string, caseId: string): EvidenceFile[] {
  const random = seededRandom(seedOf(tenant, kind, resourceId, caseId))
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const digest = () => Array.from({length: 32}, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('')
  switch (kind) {
    case 'evaluation': {
      const components = Array.from({length: 6}, (_, i) => ({type: 'library', name: pick(['openssl', 'zlib', 'libxml2', 'log4j-core', 'jackson-databind', 'protobuf']), version: `${1 + i}.${Math.floor(random() * 20)}.${Math.floor(random() * 9)}`, hashes: [{alg: 'SHA-256', content: digest()}]}))
      const decision = random() < 0.5 ? 'allow' : 'deny'
      return [
        {path: 'evaluation.json', bytes: json({evaluationId: resourceId, tenant, caseId, policy: 'release-gate', policyVersion: 14, decision, rulesEvaluated: 42, rulesFailed: decision === 'deny' ? 2 : 0})},
        {path: 'inputs/sbom.cdx.json', bytes: json({bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components})},
        {path: 'inputs/context.json', bytes: json({environment: 'production', requestedBy: 'svc:release-controller', artifact: `registry.example/${tenant}/app@sha256:${digest()}`})},
        {path: 'logs/evaluator.log', bytes: text(Array.from({length: 12}, (_, i) => `rule ${String(i + 1).padStart(2, '0')} ${random() < 0.9 ? 'pass' : 'fail'} ${pick(['cve-threshold', 'license-allowlist', 'provenance-present', 'signature-valid'])}\n`).join(''))},
      ]
    }

    case 'job': {
      const lines = Array.from({length: 40}, (_, i) => `step ${i + 1}: ${pick(['fetch inputs', 'compile', 'run tests', 'package', 'upload'])} ok in ${Math.floor(random() * 900)} ms\n`)
      return [
        {path: 'job.json', bytes: json({jobId: resourceId, tenant, caseId, queue: 'default', image: `registry.example/${tenant}/builder:3.2`, exitCode: 0, attempts: 1})},
        {path: 'logs/stdout.log', bytes: text(lines.join(''))},
        {path: 'logs/stderr.log', bytes: text('warning: cache directory not found, starting cold\n')},
        {path: 'outputs/result.json', bytes: json({artifacts: [{name: `${resourceId}.tar.gz`, sha256: digest()}], testsPassed: 318, testsFailed: 0})},
      ]
    }

    case 'export': {
      const rows = Array.from({length: 50}, (_, i) => `F-${1000 + i},${pick(['critical', 'high', 'medium', 'low'])},${pick(['CVE-2026-1001', 'CVE-2026-2177', 'CVE-2025-9311'])},${pick(['open', 'fixed', 'accepted'])}\n`)
      return [
        {path: 'export.json', bytes: json({exportId: resourceId, tenant, caseId, format: 'csv', rows: rows.length})},
        {path: 'data/findings.csv', bytes: text(`id,severity,cve,state\n${rows.join('')}`)},
        {path: 'data/summary.json', bytes: json({rows: rows.length, generatedBy: 'svc:exporter'})},
      ]
    }
  }
}

/** A ready bundle for a snapshot request, signed by the server key. */
export async function buildSnapshot(tenant: string, kind: SnapshotKind, resourceId: string, caseId: string, createdAt: string, key: Ed25519PrivateKey, bundleId?: string): Promise<BuiltBundle> {
  const metadata: BundleMetadata = {kind, tenant, caseId, createdAt, subject: {type: kind, id: resourceId}, ...(bundleId ? {bundleId} : {})}
  return buildBundle(evidenceFiles(tenant, kind, resourceId, caseId), metadata, key)
}

/** Seeded bundles: fixed times, so their bytes and ids are the same on every start. */
const SEEDED_SNAPSHOTS: Record<TenantId, {kind: SnapshotKind; resourceId: string; caseId: string; createdAt: string}[]> = {
  acme: [
    {kind: 'evaluation', resourceId: 'eval-9', caseId: 'case-42', createdAt: '2026-11-20T09:15:00Z'},
    {kind: 'job', resourceId: 'job-8812', caseId: 'case-42', createdAt: '2026-11-20T11:02:31Z'},
    {kind: 'export', resourceId: 'export-311', caseId: 'case-7', createdAt: '2026-11-21T16:45:00Z'},
  ],
  globex: [
    {kind: 'evaluation', resourceId: 'eval-g17', caseId: 'case-g1', createdAt: '2026-11-19T08:00:00Z'},
    {kind: 'job', resourceId: 'job-g204', caseId: 'case-g2', createdAt: '2026-11-21T22:10:05Z'},
  ],
}

export async function seedBundles(tenant: TenantId, key: Ed25519PrivateKey): Promise<StoredBundle[]> {
  const bundles: StoredBundle[] = []
  for (const seed of SEEDED_SNAPSHOTS[tenant]) {
    const built = await buildSnapshot(tenant, seed.kind, seed.resourceId, seed.caseId, seed.createdAt, key)
    bundles.push({
      bundleId: built.manifest.bundleId,
      caseId: seed.caseId,
      kind: seed.kind,
      resourceId: seed.resourceId,
      outcome: 'ready',
      status: 'ready',
      createdAt: seed.createdAt,
      polls: 0,
      bytes: built.bytes,
      manifest: built.manifest,
      envelope: built.envelope,
    })
  }

  return bundles
}

/** The wire metadata of a stored bundle; root and manifest only once it is ready. */
export function metadataOf(bundle: StoredBundle, signerKeyId: string): WireBundleMetadata {
  const ready = bundle.status === 'ready'
  return {
    bundleId: bundle.bundleId,
    caseId: bundle.caseId,
    kind: bundle.kind,
    status: bundle.status,
    rootHash: ready ? (bundle.manifest?.merkle.root ?? '') : '',
    signerKeyId: ready ? (bundle.envelope?.signatures[0]?.keyid ?? signerKeyId) : signerKeyId,
    createdAt: bundle.createdAt,
    ...(bundle.status === 'failed' && bundle.error !== undefined ? {error: bundle.error} : {}),
  }
}

/** The server's own verification of the bytes it stores, with the project's verifier. */
export async function verifyStored(bundle: StoredBundle, key: Ed25519PrivateKey): Promise<ServerVerifyResult> {
  const bytes = bundle.bytes!
  const report = await verifyBundle(
    (async function* () {
      yield bytes
    })(),
    {trustedKeys: [key.public]},
  )
  return {bundleId: bundle.bundleId, verified: report.ok, checks: report.checks.map((check) => ({name: check.check, ok: check.status === 'ok', detail: check.message}))}
}
