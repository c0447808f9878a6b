import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {remoteFlags} from '../../../flags.js'
import {type AttestResult, attestArtifact, attestationSourceFor} from '../../../services/forensic/attest.js'
import {renderAttestShow} from '../../../ui/attest.js'

export default class ForensicAttestShow extends StellaCommand<typeof ForensicAttestShow> {
  static override summary = "Show an artifact's attestations: each check ✓/✗ and a summary of its SLSA provenance."
  static override description = `Hashes the artifact (SHA-256), finds the attestations about it and shows, for each, five checks: the DSSE signature against the trusted --key(s), the payload type, the in-toto Statement v1, the artifact's digest among the subjects, and the predicate type. For SLSA provenance v1 it prints the builder, build type, invocation, start and finish, the external parameters and the resolved dependencies.

Where the attestations come from: the files given with --attestation (a .dsse.json envelope, or .intoto.jsonl with one envelope per line); else ARTIFACT.intoto.jsonl and ARTIFACT.dsse.json beside the artifact when they exist; else the server (GET /attestations?subjectDigest=sha256:…, every page) when one is configured. --local and --remote force the choice.

Exit 0 when the attestations could be read and shown, even when a check failed (it shows ✗); use \`stella forensic attest verify\` for a pass/fail exit code. Without --key the signature check fails with NO_TRUSTED_KEY. Exit 1 when no attestation was found, 3 when the artifact, an attestation file or a key cannot be read.`

  static override examples = [
    '<%= config.bin %> forensic attest show app.tar --key builder.pub.pem',
    '<%= config.bin %> forensic attest show app.tar --attestation app.tar.intoto.jsonl --key builder.pub.pem',
    '<%= config.bin %> forensic attest show app.tar --remote --server https://stella.example.com --tenant acme --key builder.pub.pem',
    '<%= config.bin %> forensic attest show app.tar --key builder.pub.pem --json',
  ]

  static override args = {
    artifact: Args.string({description: 'The artifact file the attestations are about.', required: true}),
  }

  static override flags = {
    ...remoteFlags,
    attestation: Flags.string({description: 'An attestation file: a DSSE envelope (.dsse.json) or one envelope per line (.intoto.jsonl). Repeat for more.', multiple: true}),
    key: Flags.string({description: 'A trusted public key (SPKI PEM, JWK or hex; repeat for more).', multiple: true}),
    threshold: Flags.integer({description: 'How many distinct trusted keys must have signed each attestation.', default: 1, min: 1}),
    local: Flags.boolean({description: 'Only look beside the artifact (or in --attestation files), never ask a server.', exclusive: ['remote']}),
    remote: Flags.boolean({description: 'Ask the server even when attestation files lie beside the artifact.', exclusive: ['local', 'attestation']}),
  }

  async run(): Promise<AttestResult> {
    const files = this.flags.attestation ?? []
    const source = await attestationSourceFor({
      artifact: this.args.artifact,
      attestationFiles: files,
      prefer: this.flags.local ? 'local' : this.flags.remote ? 'remote' : 'auto',
      flags: this.flags,
      api: () => this.apiClient(),
    })
    const result = await attestArtifact({artifact: this.args.artifact, source, keyPaths: this.flags.key ?? [], threshold: this.flags.threshold})
    this.out(renderAttestShow(result))
    return result
  }
}
