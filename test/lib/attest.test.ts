import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {
  type AttestationCheck,
  type InTotoStatement,
  flattenParameters,
  parseAttestationFile,
  parseStatement,
  sidecarPaths,
  subjectWithSha256,
  summarizeProvenance,
  verifyAttestation,
} from '../../src/lib/attest/index.js'
import {DsseError, type EnvelopeJson, parseEnvelope} from '../../src/lib/dsse/index.js'
import {toBase64, utf8} from '../../src/lib/encoding.js'
import {ExitCode} from '../../src/lib/errors.js'
import {generatePrivateKey} from '../../src/lib/keys/index.js'
import {attestArtifact, localAttestationSource, sha256OfFile} from '../../src/services/forensic/attest.js'
import {
  FIXTURE_ARTIFACT,
  FIXTURE_ARTIFACT_BYTES,
  SLSA_V1,
  STATEMENT_V1,
  fixtureDir,
  fixtureKey,
  fixtureSidecar,
  provenanceStatement,
  sha256Hex,
  signStatement,
  slsaPredicate,
} from '../helpers/attest.js'
import {scratchDir} from '../helpers/cli.js'
import {rejectionOf, thrownBy} from '../helpers/errors.js'

const ARTIFACT = utf8('the artifact bytes\n')
const DIGEST = sha256Hex(ARTIFACT)
const signer = fixtureKey()
const trust = {keys: [signer.public], threshold: 1}
const SIGNED_BY = `signed by 1 trusted key (${signer.public.keyid.slice(0, 16)}); threshold 1 met`

const verify = (envelope: EnvelopeJson, digest = DIGEST, trusted = trust) => verifyAttestation(parseEnvelope(envelope), digest, trusted)
const summary = (checks: AttestationCheck[]) => checks.map((check) => `${check.ok ? '✓' : '✗'} ${check.check}${check.reason ? ` ${check.reason}` : ''}: ${check.message}`)

/** The fixture predicate, with the fields the failure cases remove or break. */
interface MutablePredicate {
  buildDefinition: {buildType?: string; externalParameters?: unknown; resolvedDependencies: unknown}
  runDetails?: {builder: {id?: string}; metadata: {startedOn?: string}}
}

let dir: {path: string; cleanup: () => void}
beforeEach(() => {
  dir = scratchDir('stella-attest-')
})
afterEach(() => dir.cleanup())

describe('in-toto Statement v1', () => {
  it('parses a statement and finds the subject by sha256, in either hex case', () => {
    const statement = parseStatement(utf8(JSON.stringify({...provenanceStatement(DIGEST), subject: [{name: 'other', digest: {sha256: '00'.repeat(32)}}, {name: 'app', digest: {sha256: DIGEST.toUpperCase(), sha512: 'ab'}}]})))
    expect(statement._type).toBe(STATEMENT_V1)
    expect(statement.predicateType).toBe(SLSA_V1)
    expect(subjectWithSha256(statement, DIGEST)?.name).toBe('app')
    expect(subjectWithSha256(statement, 'ff'.repeat(32))).toBeUndefined()
  })

  it.each([
    ['not JSON', '{"_type": ', 'STATEMENT_NOT_JSON', /^the payload is not JSON \(/],
    ['JSON but not an object', '[1]', 'STATEMENT_NOT_JSON', 'the payload is JSON but not an object'],
    ['no _type', JSON.stringify({subject: []}), 'STATEMENT_TYPE', `"_type" is missing, not "${STATEMENT_V1}"`],
    ['Statement v0.1', JSON.stringify({...provenanceStatement(DIGEST), _type: 'https://in-toto.io/Statement/v0.1'}), 'STATEMENT_TYPE', `"_type" is "https://in-toto.io/Statement/v0.1", not "${STATEMENT_V1}"`],
    ['an empty subject', JSON.stringify({...provenanceStatement(DIGEST), subject: []}), 'STATEMENT_SCHEMA', '"subject" must be a non-empty list'],
    ['a subject without digest', JSON.stringify({...provenanceStatement(DIGEST), subject: [{name: 'a'}]}), 'STATEMENT_SCHEMA', '"subject[0].digest" must be a non-empty object of algorithm to digest strings'],
    ['a numeric digest', JSON.stringify({...provenanceStatement(DIGEST), subject: [{name: 'a', digest: {sha256: 1}}]}), 'STATEMENT_SCHEMA', '"subject[0].digest" must be a non-empty object of algorithm to digest strings'],
    ['no predicateType', JSON.stringify({...provenanceStatement(DIGEST), predicateType: undefined}), 'STATEMENT_SCHEMA', '"predicateType" must be a non-empty string'],
    ['a list as predicate', JSON.stringify({...provenanceStatement(DIGEST), predicate: []}), 'STATEMENT_SCHEMA', '"predicate" must be an object'],
  ])('rejects %s', (_what, text, code, message) => {
    const error = thrownBy(() => parseStatement(utf8(text)))
    expect(error.code).toBe(code)
    expect(error.exitCode).toBe(ExitCode.Input)
    if (typeof message === 'string') expect(error.message).toBe(message)
    else expect(error.message).toMatch(message)
  })

  it('rejects a payload that is not UTF-8', () => {
    expect(thrownBy(() => parseStatement(Uint8Array.of(0x7b, 0xff, 0x7d))).message).toBe('the payload is not UTF-8 text')
  })
})

describe('SLSA provenance v1', () => {
  it('summarises builder, build type, parameters, dependencies, invocation and duration', () => {
    expect(summarizeProvenance(slsaPredicate())).toEqual({
      builderId: 'https://github.com/actions/runner/github-hosted',
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {workflow: {ref: 'refs/tags/v1.2.3', repository: 'https://github.com/acme/app', path: '.github/workflows/release.yml'}},
      resolvedDependencies: [
        {uri: 'git+https://github.com/acme/app@refs/tags/v1.2.3', digest: {gitCommit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d'}},
        {uri: 'pkg:npm/left-pad@1.3.0', digest: {sha256: 'f0b8a9c0c9b5a2f1d0e6c5a3b7e4d2c1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5'}},
      ],
      invocationId: 'https://github.com/acme/app/actions/runs/1042/attempts/1',
      startedOn: '2026-11-22T10:00:00Z',
      finishedOn: '2026-11-22T10:04:12Z',
      durationMs: 252_000,
    })
  })

  it('needs only the required fields', () => {
    const minimal = {buildDefinition: {buildType: 'https://example.com/make/v1', externalParameters: {}}, runDetails: {builder: {id: 'https://example.com/ci'}}}
    expect(summarizeProvenance(minimal)).toEqual({builderId: 'https://example.com/ci', buildType: 'https://example.com/make/v1', externalParameters: {}, resolvedDependencies: []})
  })

  it.each([
    ['no builder id', (p: MutablePredicate) => delete p.runDetails!.builder.id, 'runDetails.builder.id is missing'],
    ['no build type', (p: MutablePredicate) => delete p.buildDefinition.buildType, 'buildDefinition.buildType is missing'],
    ['no external parameters', (p: MutablePredicate) => delete p.buildDefinition.externalParameters, 'buildDefinition.externalParameters must be an object'],
    ['no runDetails', (p: MutablePredicate) => delete p.runDetails, 'runDetails is missing'],
    ['a bad startedOn', (p: MutablePredicate) => (p.runDetails!.metadata.startedOn = 'yesterday'), 'runDetails.metadata.startedOn is "yesterday", not an RFC 3339 timestamp'],
    ['an empty dependency', (p: MutablePredicate) => (p.buildDefinition.resolvedDependencies as unknown[]).push({name: 'x'}), 'buildDefinition.resolvedDependencies[2] has none of uri, digest and content'],
    ['dependencies that are not a list', (p: MutablePredicate) => (p.buildDefinition.resolvedDependencies = {}), 'buildDefinition.resolvedDependencies must be a list'],
  ])('rejects a predicate with %s', (_what, change, message) => {
    const predicate = slsaPredicate() as unknown as MutablePredicate
    change(predicate)
    const error = thrownBy(() => summarizeProvenance(predicate))
    expect(error.code).toBe('PREDICATE_MALFORMED')
    expect(error.message).toBe(message)
  })

  it('flattens external parameters to short dotted lines', () => {
    expect(flattenParameters({workflow: {ref: 'main', inputs: {debug: true, list: [1, 2]}}, empty: {}, long: 'x'.repeat(80), multi: 'a\n  b'}, 20)).toEqual([
      ['workflow.ref', 'main'],
      ['workflow.inputs.debug', 'true'],
      ['workflow.inputs.list', '[1,2]'],
      ['empty', '{}'],
      ['long', `${'x'.repeat(19)}…`],
      ['multi', 'a b'],
    ])
  })
})

describe('verifying an attestation', () => {
  it('passes a signed provenance statement about the artifact, with every check and the summary', () => {
    const verdict = verify(signStatement(provenanceStatement(DIGEST), [signer]))
    expect(summary(verdict.checks)).toEqual([
      `✓ signature: ${SIGNED_BY}`,
      '✓ payloadType: application/vnd.in-toto+json',
      '✓ statement: in-toto Statement v1 with 1 subject',
      `✓ subject: subject "${FIXTURE_ARTIFACT}" has the artifact's sha256`,
      `✓ predicateType: ${SLSA_V1} (SLSA provenance v1)`,
    ])
    expect(verdict.ok).toBe(true)
    expect(verdict.signedBy).toEqual([signer.public.keyid])
    expect(verdict.statement).toEqual(provenanceStatement(DIGEST))
    expect(verdict.provenance?.builderId).toBe('https://github.com/actions/runner/github-hosted')
  })

  it('fails the signature under the wrong key, and still reads the statement', () => {
    const verdict = verify(signStatement(provenanceStatement(DIGEST), [generatePrivateKey()]))
    expect(summary(verdict.checks)[0]).toBe('✗ signature NO_TRUSTED_SIGNATURE: the signature does not verify with any trusted key')
    expect(verdict.checks.slice(1).every((check) => check.ok)).toBe(true)
    expect(verdict.ok).toBe(false)
    expect(verdict.signedBy).toEqual([])
  })

  it('fails a tampered payload: the signature no longer covers it', () => {
    const envelope = signStatement(provenanceStatement(DIGEST), [signer])
    const forged = {...provenanceStatement(DIGEST), predicate: {...slsaPredicate(), runDetails: {builder: {id: 'https://evil.example.com'}}}}
    const verdict = verify({...envelope, payload: toBase64(utf8(JSON.stringify(forged)))})
    expect(summary(verdict.checks)[0]).toBe('✗ signature NO_TRUSTED_SIGNATURE: the signature does not verify with any trusted key')
    expect(verdict.ok).toBe(false)
    expect(verdict.provenance?.builderId).toBe('https://evil.example.com')
  })

  it('fails a changed payloadType twice: the signature covers the type, and the payload is not read as a statement', () => {
    const envelope = signStatement(provenanceStatement(DIGEST), [signer])
    const verdict = verify({...envelope, payloadType: 'application/json'})
    expect(summary(verdict.checks)).toEqual([
      '✗ signature NO_TRUSTED_SIGNATURE: the signature does not verify with any trusted key',
      '✗ payloadType PAYLOAD_TYPE: the payload type is "application/json", not "application/vnd.in-toto+json"',
      '✗ statement NOT_CHECKED: not checked: the payload does not say it is an in-toto statement',
      '✗ subject NOT_CHECKED: not checked: the payload does not say it is an in-toto statement',
      '✗ predicateType NOT_CHECKED: not checked: the payload does not say it is an in-toto statement',
    ])
    expect(verdict.statement).toBeUndefined()
  })

  it('fails a payloadType the signer itself chose wrongly, with a valid signature', () => {
    const verdict = verify(signStatement(provenanceStatement(DIGEST), [signer], 'application/json'))
    expect(verdict.checks.map((check) => check.ok)).toEqual([true, false, false, false, false])
  })

  it('fails a statement about another artifact, naming what it is about', () => {
    const other = sha256Hex('another artifact')
    const verdict = verify(signStatement(provenanceStatement(other, 'other.bin'), [signer]))
    expect(summary(verdict.checks)[3]).toBe(`✗ subject SUBJECT_DIGEST_MISMATCH: no subject has the artifact's sha256 (${DIGEST.slice(0, 16)}…); the statement is about "other.bin" sha256:${other.slice(0, 16)}…`)
    expect(verdict.checks.filter((check) => !check.ok).map((check) => check.check)).toEqual(['subject'])
  })

  it('fails subjects that have no sha256 at all', () => {
    const statement = {...provenanceStatement(DIGEST), subject: [{name: 'a', digest: {sha512: 'ab'}}, {name: 'b', digest: {gitCommit: 'cd', md5: 'ef'}}]}
    expect(summary(verify(signStatement(statement, [signer])).checks)[3]).toBe('✗ subject SUBJECT_NO_SHA256: no subject has a sha256 digest (sha512, gitCommit/md5), so none can be the artifact')
  })

  it('fails the wrong statement type and does not look further', () => {
    const verdict = verify(signStatement({...provenanceStatement(DIGEST), _type: 'https://in-toto.io/Statement/v0.1'}, [signer]))
    expect(summary(verdict.checks).slice(2)).toEqual([
      `✗ statement STATEMENT_TYPE: "_type" is "https://in-toto.io/Statement/v0.1", not "${STATEMENT_V1}"`,
      '✗ subject NOT_CHECKED: not checked: the payload is not an in-toto Statement v1',
      '✗ predicateType NOT_CHECKED: not checked: the payload is not an in-toto Statement v1',
    ])
    expect(verdict.checks[0]?.ok).toBe(true)
  })

  it('fails a signed payload that is not JSON', () => {
    const verdict = verify(signStatement('{"_type": "https://in-toto.io/Statement/v1",', [signer]))
    expect(verdict.checks[2]).toMatchObject({check: 'statement', ok: false, reason: 'STATEMENT_NOT_JSON'})
    expect(verdict.checks[2]?.message).toMatch(/^the payload is not JSON \(/)
  })

  it('fails a malformed SLSA provenance predicate, and passes any other predicate type without a summary', () => {
    const broken = {...provenanceStatement(DIGEST), predicate: {buildDefinition: {}}}
    expect(summary(verify(signStatement(broken, [signer])).checks)[4]).toBe('✗ predicateType PREDICATE_MALFORMED: the SLSA provenance v1 predicate is malformed: runDetails is missing')

    const custom = {...provenanceStatement(DIGEST), predicateType: 'https://example.com/scan/v1', predicate: {result: 'clean'}}
    const verdict = verify(signStatement(custom, [signer]))
    expect(verdict.ok).toBe(true)
    expect(summary(verdict.checks)[4]).toBe('✓ predicateType: https://example.com/scan/v1')
    expect(verdict.provenance).toBeUndefined()
  })

  it('counts distinct trusted keys against the threshold, and reports an unchecked signature without keys', () => {
    const second = generatePrivateKey()
    const both = {keys: [signer.public, second.public], threshold: 2}
    expect(verify(signStatement(provenanceStatement(DIGEST), [signer, second]), DIGEST, both).ok).toBe(true)
    expect(summary(verify(signStatement(provenanceStatement(DIGEST), [signer, signer]), DIGEST, both).checks)[0]).toBe(
      `✗ signature THRESHOLD_NOT_MET: 1 distinct trusted key signed (${signer.public.keyid.slice(0, 16)}); the threshold is 2`,
    )
    expect(summary(verify(signStatement(provenanceStatement(DIGEST), [signer]), DIGEST, {keys: [], threshold: 1}).checks)[0]).toBe('✗ signature NO_TRUSTED_KEY: not checked: no trusted key was given (1 signature present)')
    expect(summary(verify({...signStatement(provenanceStatement(DIGEST), [signer]), signatures: []}).checks)[0]).toBe('✗ signature NO_SIGNATURES: the envelope has no signatures')
  })
})

describe('attestation files', () => {
  const write = (name: string, text: string) => {
    const path = join(dir.path, name)
    writeFileSync(path, text)
    return path
  }

  it('reads one envelope from a .dsse.json, pretty-printed or not', () => {
    const envelope = signStatement(provenanceStatement(DIGEST), [signer])
    const path = write('a.dsse.json', JSON.stringify(envelope, null, 2))
    const entries = parseAttestationFile(readFileSync(path), path)
    expect(entries.map((entry) => entry.source)).toEqual([path])
    expect(verifyAttestation(entries[0]!.envelope, DIGEST, trust).ok).toBe(true)
  })

  it('reads every envelope of a .intoto.jsonl, skipping blank lines, each named by its line', () => {
    const lines = [
      JSON.stringify(signStatement(provenanceStatement(DIGEST), [signer])),
      '',
      JSON.stringify(signStatement(provenanceStatement(sha256Hex('other')), [signer])),
      JSON.stringify(signStatement(provenanceStatement(DIGEST), [generatePrivateKey()])),
    ]
    const path = write('a.intoto.jsonl', `${lines.join('\n')}\n`)
    const entries = parseAttestationFile(readFileSync(path), path)
    expect(entries.map((entry) => entry.source)).toEqual([`${path}:1`, `${path}:3`, `${path}:4`])
    expect(entries.map((entry) => verifyAttestation(entry.envelope, DIGEST, trust).checks.filter((check) => !check.ok).map((check) => check.reason))).toEqual([
      [],
      ['SUBJECT_DIGEST_MISMATCH'],
      ['NO_TRUSTED_SIGNATURE'],
    ])

    // The same lines saved under another name are still read as JSON Lines.
    const renamed = write('provenance.txt', lines.join('\r\n'))
    expect(parseAttestationFile(readFileSync(renamed), renamed).map((entry) => entry.source)).toEqual([`${renamed}:1`, `${renamed}:3`, `${renamed}:4`])
  })

  it('names the file and line of malformed JSON, and refuses empty files and envelopes of the wrong shape', () => {
    const good = JSON.stringify(signStatement(provenanceStatement(DIGEST), [signer]))
    const jsonl = write('b.intoto.jsonl', `${good}\n{"payloadType": "x", "payload": \n`)
    const error = thrownBy(() => parseAttestationFile(readFileSync(jsonl), jsonl))
    expect(error).toBeInstanceOf(DsseError)
    expect(error.code).toBe('DSSE_MALFORMED_JSON')
    expect(error.exitCode).toBe(ExitCode.Input)
    expect(error.message).toMatch(new RegExp(`^${jsonl.replaceAll('.', '\\.')} line 2: is not valid JSON \\(`))

    const json = write('c.dsse.json', '{"payloadType": "x",')
    expect(thrownBy(() => parseAttestationFile(readFileSync(json), json)).message).toMatch(new RegExp(`^${json.replaceAll('.', '\\.')}: is not valid JSON \\(`))

    const empty = write('d.dsse.json', '\n \n')
    expect(thrownBy(() => parseAttestationFile(readFileSync(empty), empty))).toMatchObject({code: 'ATTESTATION_EMPTY', message: `${empty} is empty`})

    const shape = write('e.dsse.json', '{"payloadType": "x", "payload": "eA=="}')
    expect(thrownBy(() => parseAttestationFile(readFileSync(shape), shape))).toMatchObject({code: 'DSSE_BAD_FIELD', message: `${shape}: "signatures" is missing`})

    const binary = write('f.dsse.json', '')
    writeFileSync(binary, Uint8Array.of(0xff, 0xfe, 0x00))
    expect(thrownBy(() => parseAttestationFile(readFileSync(binary), binary))).toMatchObject({code: 'DSSE_MALFORMED_JSON', message: `${binary}: is not UTF-8 text`})
  })

  it('looks for ARTIFACT.intoto.jsonl and ARTIFACT.dsse.json beside the artifact', () => {
    expect(sidecarPaths('dist/app.tar')).toEqual(['dist/app.tar.intoto.jsonl', 'dist/app.tar.dsse.json'])
  })
})

describe('the local source', () => {
  it('hashes the artifact as a stream, finds both sidecars and verifies each envelope', async () => {
    const artifact = join(dir.path, 'app.tar')
    writeFileSync(artifact, ARTIFACT)
    expect(await sha256OfFile(artifact)).toBe(DIGEST)
    writeFileSync(`${artifact}.dsse.json`, JSON.stringify(signStatement(provenanceStatement(DIGEST, 'app.tar'), [signer])))
    writeFileSync(`${artifact}.intoto.jsonl`, `${JSON.stringify(signStatement(provenanceStatement(DIGEST, 'app.tar'), [signer]))}\n`)

    const result = await attestArtifact({artifact, source: localAttestationSource([]), keyPaths: [join(fixtureDir, '..', 'keys', 'ed25519-pub.pem')], threshold: 1})
    expect(result.artifact).toEqual({path: artifact, sha256: DIGEST})
    expect(result.source).toBe('local')
    expect(result.lookedIn).toEqual([`${artifact}.intoto.jsonl`, `${artifact}.dsse.json`])
    expect(result.attestations.map((attestation) => [attestation.source, attestation.ok])).toEqual([[`${artifact}.intoto.jsonl:1`, true], [`${artifact}.dsse.json`, true]])
    expect(result.verified).toBe(true)
  })

  it('says where it looked when there is no attestation, and exits 3 for an unreadable artifact', async () => {
    const artifact = join(dir.path, 'lonely.bin')
    writeFileSync(artifact, 'x')
    const none = await rejectionOf(attestArtifact({artifact, source: localAttestationSource([]), keyPaths: [], threshold: 1}))
    expect(none).toMatchObject({code: 'NO_ATTESTATION', exitCode: ExitCode.Negative, message: `no attestation found for ${artifact}: looked for ${artifact}.intoto.jsonl and ${artifact}.dsse.json`})

    const missing = await rejectionOf(attestArtifact({artifact: join(dir.path, 'nope'), source: localAttestationSource([]), keyPaths: [], threshold: 1}))
    expect(missing).toMatchObject({code: 'ARTIFACT_UNREADABLE', exitCode: ExitCode.Input, message: `cannot read the artifact ${join(dir.path, 'nope')}: no such file or directory`})
    const directory = await rejectionOf(attestArtifact({artifact: dir.path, source: localAttestationSource([]), keyPaths: [], threshold: 1}))
    expect(directory.message).toBe(`cannot read the artifact ${dir.path}: it is a directory`)
  })
})

describe('the checked-in fixture', () => {
  it('is exactly what signing its statement gives, and verifies with the fixture key', () => {
    expect(readFileSync(join(fixtureDir, FIXTURE_ARTIFACT), 'utf8')).toBe(FIXTURE_ARTIFACT_BYTES)
    const sidecar = join(fixtureDir, `${FIXTURE_ARTIFACT}.intoto.jsonl`)
    expect(readFileSync(sidecar, 'utf8')).toBe(fixtureSidecar())
    const [entry] = parseAttestationFile(readFileSync(sidecar), sidecar)
    const verdict = verifyAttestation(entry!.envelope, sha256Hex(FIXTURE_ARTIFACT_BYTES), trust)
    expect(verdict.ok).toBe(true)
    expect((verdict.statement as InTotoStatement).subject).toEqual([{name: FIXTURE_ARTIFACT, digest: {sha256: sha256Hex(FIXTURE_ARTIFACT_BYTES)}}])
  })
})
