import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {type ProofVerdict, checkProof} from '../../services/forensic/prove.js'
import {renderProofVerdict} from '../../ui/forensic.js'

export default class ForensicVerifyProof extends StellaCommand<typeof ForensicVerifyProof> {
  static override summary = 'Check that a file belongs to a bundle, from its inclusion proof.'
  static override description = `Hashes FILE, checks the digest against the proof, and follows the audit path to a root. That root must be trusted: give it with --root (e.g. from a verified report or a timestamp), or give the bundle and its key with --bundle and --key to verify the bundle and use its root. Without either, the proof's own root is used and the answer only shows that the proof is consistent.
Exit 0 when the file is included under the trusted root, 1 when it is not.`

  static override examples = [
    '<%= config.bin %> forensic verify-proof traces.proof.json --file traces.pb --root 3f1c…e2',
    '<%= config.bin %> forensic verify-proof traces.proof.json --file traces.pb --bundle case-42.tgz --key platform.pub.pem',
  ]

  static override args = {
    proof: Args.string({description: 'The proof JSON written by `stella forensic prove`.', required: true}),
  }

  static override flags = {
    file: Flags.string({description: 'The file the proof is about.', required: true}),
    root: Flags.string({description: 'The trusted Merkle root (64 hex digits).', exclusive: ['bundle']}),
    bundle: Flags.string({description: 'Take the trusted root from this bundle, after verifying it with --key.', dependsOn: ['key']}),
    key: Flags.string({description: 'A trusted public key for --bundle (repeat for more).', multiple: true}),
    threshold: Flags.integer({description: 'With --bundle: how many distinct trusted keys must have signed.', default: 1, min: 1}),
  }

  async run(): Promise<ProofVerdict> {
    const verdict = await checkProof({
      proofPath: this.args.proof,
      filePath: this.flags.file,
      ...(this.flags.root === undefined ? {} : {root: this.flags.root}),
      ...(this.flags.bundle === undefined ? {} : {bundle: this.flags.bundle}),
      keyPaths: this.flags.key ?? [],
      threshold: this.flags.threshold,
    })
    if (verdict.rootSource === 'proof') this.warning("no trusted root was given (--root or --bundle): the proof's own root was used, which shows consistency, not authenticity")
    if (!verdict.ok) this.setNegative()
    this.out(renderProofVerdict(verdict))
    return verdict
  }
}
