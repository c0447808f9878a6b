/**
 * Artifacts with SLSA provenance v1 attestations (DSSE over an in-toto Statement v1), signed by
 * the server key, and the server's check of an attestation someone sends it.
 */
import {createHash} from 'node:crypto'

import type {AttestationRecord, AttestationVerifyResult} from '../../src/lib/api/types.js'
import {IN_TOTO_PAYLOAD_TYPE, parseEnvelope, signEnvelope, verifyEnvelope} from '../../src/lib/dsse/index.js'
import type {Ed25519PrivateKey} from '../../src/lib/keys/index.js'
import {seededRandom} from '../helpers/random.js'
import type {TenantId} from './auth.js'
import type {Artifact} from './state.js'

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1'
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1'

interface ArtifactSeed {
  name: string
  size: number
  subjectId: string
  buildType: string
  repository: string
  createdAt: string
}

const ARTIFACTS: Record<TenantId, ArtifactSeed[]> = {
  acme: [
    {name: 'acme-api-2.14.1.tar.gz', size: 6144, subjectId: 'job-8812', buildType: 'https://stella-ops.org/build-types/job/v1', repository: 'git+https://git.example/acme/api', createdAt: '2026-11-20T11:05:12Z'},
    {name: 'policy-bundle-14.tgz', size: 2048, subjectId: 'eval-9', buildType: 'https://stella-ops.org/build-types/job/v1', repository: 'git+https://git.example/acme/policies', createdAt: '2026-11-20T09:10:00Z'},
    {name: 'findings-export-311.csv', size: 3000, subjectId: 'export-311', buildType: 'https://stella-ops.org/build-types/export/v1', repository: 'git+https://git.example/acme/exports', createdAt: '2026-11-21T16:44:02Z'},
  ],
  globex: [
    {name: 'ledger-api-8.1.0.tar.gz', size: 5120, subjectId: 'job-g204', buildType: 'https://stella-ops.org/build-types/job/v1', repository: 'git+https://git.example/globex/ledger', createdAt: '2026-11-21T22:12:40Z'},
    {name: 'close-report-2026-10.pdf', size: 4096, subjectId: 'export-g9', buildType: 'https://stella-ops.org/build-types/export/v1', repository: 'git+https://git.example/globex/reports', createdAt: '2026-11-18T05:00:00Z'},
  ],
}

function seedOf(text: string): number {
  let h = 2166136261
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  return h >>> 0
}

function bytesOf(seed: ArtifactSeed): Buffer {
  const random = seededRandom(seedOf(seed.name))
  return Buffer.from(Array.from({length: seed.size}, () => Math.floor(random() * 256)))
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex')

function statementOf(seed: ArtifactSeed, digest: string, tenant: TenantId) {
  const started = new Date(Date.parse(seed.createdAt) - 4 * 60_000).toISOString().replace('.000Z', 'Z')
  return {
    _type: STATEMENT_V1,
    subject: [{name: seed.name, digest: {sha256: digest}}],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: seed.buildType,
        externalParameters: {source: {uri: seed.repository, ref: 'refs/heads/main'}, subjectId: seed.subjectId},
        internalParameters: {tenant, runner: 'stellaops-runner-v3'},
        resolvedDependencies: [
          {uri: `${seed.repository}@refs/heads/main`, digest: {gitCommit: sha256(`${seed.name}:commit`).slice(0, 40)}},
          {uri: 'oci://registry.example/stellaops/builder:3.2', digest: {sha256: sha256(`${seed.name}:builder`)}},
        ],
      },
      runDetails: {
        builder: {id: 'https://stella-ops.org/builders/runner/v3'},
        metadata: {invocationId: `inv-${sha256(seed.name).slice(0, 12)}`, startedOn: started, finishedOn: seed.createdAt},
      },
    },
  }
}

export function seedAttestations(tenant: TenantId, key: Ed25519PrivateKey): {artifacts: Artifact[]; attestations: AttestationRecord[]} {
  const artifacts: Artifact[] = []
  const attestations: AttestationRecord[] = []
  for (const [index, seed] of ARTIFACTS[tenant].entries()) {
    const bytes = bytesOf(seed)
    const digest = sha256(bytes)
    artifacts.push({name: seed.name, bytes})
    const payload = Buffer.from(JSON.stringify(statementOf(seed, digest, tenant)))
    attestations.push({
      id: `att_${tenant}_${String(index + 1).padStart(3, '0')}`,
      subjectId: seed.subjectId,
      subjectDigest: `sha256:${digest}`,
      signerKeyId: key.public.keyid,
      createdAt: seed.createdAt,
      envelope: signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [key]),
    })
  }

  attestations.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
  return {artifacts, attestations}
}

type Check = AttestationVerifyResult['checks'][number]

/** envelope → payloadType → statement → subject → signature; a failed step skips the ones that need it. */
export function verifyAttestation(envelope: unknown, subjectDigest: string, key: Ed25519PrivateKey): AttestationVerifyResult {
  const checks: Check[] = []
  const done = () => ({verified: checks.length === 5 && checks.every((c) => c.ok), checks})
  let parsed
  try {
    parsed = parseEnvelope(envelope, 'envelope')
    checks.push({name: 'envelope', ok: true, detail: `DSSE envelope with ${parsed.signatures.length} signature(s)`})
  } catch (error) {
    checks.push({name: 'envelope', ok: false, detail: (error as Error).message})
    return done()
  }

  const typeOk = parsed.payloadType === IN_TOTO_PAYLOAD_TYPE
  checks.push({name: 'payloadType', ok: typeOk, detail: typeOk ? IN_TOTO_PAYLOAD_TYPE : `payloadType is ${JSON.stringify(parsed.payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`})

  let statement: {_type?: unknown; subject?: unknown; predicateType?: unknown} | undefined
  try {
    statement = JSON.parse(Buffer.from(parsed.payload).toString('utf8')) as typeof statement
  } catch {
    statement = undefined
  }

  const statementOk = typeof statement === 'object' && statement !== null && statement._type === STATEMENT_V1 && Array.isArray(statement.subject)
  checks.push({name: 'statement', ok: statementOk, detail: statementOk ? `in-toto Statement v1, predicateType ${String(statement!.predicateType)}` : 'the payload is not an in-toto Statement v1'})

  const hex = subjectDigest.slice('sha256:'.length)
  const subjects = statementOk ? (statement!.subject as {name?: unknown; digest?: {sha256?: unknown}}[]) : []
  const match = subjects.find((s) => s?.digest?.sha256 === hex)
  checks.push({name: 'subject', ok: match !== undefined, detail: match ? `subject ${String(match.name)} has digest ${subjectDigest}` : `no subject has digest ${subjectDigest}`})

  const verdict = verifyEnvelope(parsed, [key.public])
  checks.push({name: 'signature', ok: verdict.ok, detail: verdict.ok ? `signed by ${key.public.keyid}` : 'no signature by a key the server trusts'})
  return done()
}
