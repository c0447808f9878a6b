import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {writeFileAtomic} from '../../lib/fs/atomic.js'
import {type InclusionProofJson, proveFile} from '../../services/forensic/prove.js'
import {renderProof} from '../../ui/forensic.js'

export default class ForensicProve extends StellaCommand<typeof ForensicProve> {
  static override summary = "Write the inclusion proof of one file of a bundle."
  static override description = `Prints (or writes with --out) the RFC 9162 inclusion proof of PATH: its digest, its leaf index and the audit path to the bundle's Merkle root. With the proof and the file alone, a third party can check that the file belongs to the bundle (\`stella forensic verify-proof\`) without seeing the other files.
The file's content in the bundle is checked against the manifest first.`

  static override examples = [
    '<%= config.bin %> forensic prove case-42.tgz otlp/traces.pb --out traces.proof.json',
    '<%= config.bin %> forensic prove case-42.tgz reports/summary.pdf',
  ]

  static override args = {
    bundle: Args.string({description: 'The bundle (.tgz), or - for standard input.', required: true}),
    path: Args.string({description: 'The path of the file inside the bundle.', required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', description: 'Write the proof JSON to this file instead of standard output.'}),
    force: Flags.boolean({description: 'Replace --out if it exists.'}),
  }

  async run(): Promise<InclusionProofJson> {
    const proof = await proveFile(this.args.bundle, this.args.path)
    const text = `${JSON.stringify(proof, null, 2)}\n`
    if (this.flags.out !== undefined) {
      writeFileAtomic(this.flags.out, text, {overwrite: this.flags.force})
      this.out(renderProof(proof, this.flags.out))
    } else if (!this.jsonEnabled()) {
      process.stdout.write(text)
    }

    return proof
  }
}
