import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {remoteFlags} from '../../../flags.js'
import {type AttestResult, attestArtifact, attestationSourceFor} from '../../../services/forensic/attest.js'
import {renderAttestVerify} from '../../../ui/attest.js'

export default class ForensicAttestVerify extends StellaCommand<typeof ForensicAttestVerify> {
  static override summary = "Verify an artifact's attestations: exit 0 only when every one found passes every check."
  static override description = `Hashes the artifact (SHA-256), finds the attestations about it and checks each: the DSSE signature against the trusted --key(s) (--threshold distinct keys), the payload type application/vnd.in-toto+json, the in-toto Statement v1, the artifact's sha256 among the statement's subjects, and the predicate type (an SLSA provenance v1 predicate must be well formed).

Where the attestations come from: the files given with --attestation (a .dsse.json envelope, or .intoto.jsonl with one envelope per line); else ARTIFACT.intoto.jsonl and ARTIFACT.dsse.json beside the artifact when they exist; else the server (GET /attestations?subjectDigest=sha256:…, every page) when one is configured. --local and --remote force the choice. Verification is always done here, never left to the server.

Exit 0 only when at least one attestation was found and every one found passed every check: an attestation that names this artifact but does not verify is a reason to look, not to ignore. Exit 1 when one failed or none was found; 3 when the artifact, an attestation file or a key cannot be read.`

  static override examples = [
    '<%= config.bin %> forensic attest verify app.tar --key builder.pub.pem',
    '<%= config.bin %> forensic attest verify app.tar --attestation provenance.intoto.jsonl --key builder.pub.pem',
    '<%= config.bin %> forensic attest verify app.tar --key a.pub.pem --key b.pub.pem --threshold 2',
    '<%= config.bin %> forensic attest verify app.tar --remote --key builder.pub.pem --json',
  ]

  static override args = {
    artifact: Args.string({description: 'The artifact file the attestations are about.', required: true}),
  }

  static override flags = {
    ...remoteFlags,
    key: Flags.string({description: 'A trusted public key (SPKI PEM, JWK or hex; repeat for more).', multiple: true, required: true}),
    threshold: Flags.integer({description: 'How many distinct trusted keys must have signed each attestation.', default: 1, min: 1}),
    attestation: Flags.string({description: 'An attestation file: a DSSE envelope (.dsse.json) or one envelope per line (.intoto.jsonl). Repeat for more.', multiple: true}),
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
    const result = await attestArtifact({artifact: this.args.artifact, source, keyPaths: this.flags.key, threshold: this.flags.threshold})
    if (!result.verified) this.setNegative()
    this.out(renderAttestVerify(result))
    return result
  }
}
