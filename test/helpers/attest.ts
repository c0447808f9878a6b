/** Statements, SLSA provenance and signed envelopes for the attestation tests. */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {type EnvelopeJson, IN_TOTO_PAYLOAD_TYPE, signEnvelope} from '../../src/lib/dsse/index.js'
import {utf8} from '../../src/lib/encoding.js'
import {type Ed25519PrivateKey, parsePrivateKey} from '../../src/lib/keys/index.js'

export const fixtureDir = fileURLToPath(new URL('../fixtures/attest/', import.meta.url))
export const FIXTURE_ARTIFACT = 'app-1.2.3.bin'
export const FIXTURE_ARTIFACT_BYTES = 'app 1.2.3: an artifact for the attestation tests\n'
export const fixtureKey = (): Ed25519PrivateKey => parsePrivateKey(readFileSync(new URL('../fixtures/keys/ed25519.pem', import.meta.url)))

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex')

export const SLSA_V1 = 'https://slsa.dev/provenance/v1'
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1'

export function slsaPredicate(): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: {ref: 'refs/tags/v1.2.3', repository: 'https://github.com/acme/app', path: '.github/workflows/release.yml'},
      },
      internalParameters: {github: {event_name: 'push', repository_id: '1234'}},
      resolvedDependencies: [
        {uri: 'git+https://github.com/acme/app@refs/tags/v1.2.3', digest: {gitCommit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d'}},
        {uri: 'pkg:npm/left-pad@1.3.0', digest: {sha256: 'f0b8a9c0c9b5a2f1d0e6c5a3b7e4d2c1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5'}},
      ],
    },
    runDetails: {
      builder: {id: 'https://github.com/actions/runner/github-hosted'},
      metadata: {invocationId: 'https://github.com/acme/app/actions/runs/1042/attempts/1', startedOn: '2026-11-22T10:00:00Z', finishedOn: '2026-11-22T10:04:12Z'},
    },
  }
}

/** An in-toto Statement v1 with SLSA provenance v1 about one subject. */
export function provenanceStatement(subjectSha256: string, name = FIXTURE_ARTIFACT): Record<string, unknown> {
  return {_type: STATEMENT_V1, subject: [{name, digest: {sha256: subjectSha256}}], predicateType: SLSA_V1, predicate: slsaPredicate()}
}

/** Signs `statement` (an object, serialised compactly, or the exact payload text). */
export function signStatement(statement: unknown, keys: Ed25519PrivateKey[], payloadType = IN_TOTO_PAYLOAD_TYPE): EnvelopeJson {
  const payload = typeof statement === 'string' ? statement : JSON.stringify(statement)
  return signEnvelope(payloadType, utf8(payload), keys)
}

/** The checked-in sidecar `test/fixtures/attest/app-1.2.3.bin.intoto.jsonl`: what this gives, byte for byte. */
export function fixtureSidecar(): string {
  return `${JSON.stringify(signStatement(provenanceStatement(sha256Hex(FIXTURE_ARTIFACT_BYTES)), [fixtureKey()]))}\n`
}
