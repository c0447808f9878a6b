import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {remoteFlags} from '../../../flags.js'
import {type RemoteSnapshotSummary, downloadVerified} from '../../../services/forensic/remote.js'
import {createDownloadProgress, renderRemoteSnapshotSummary} from '../../../ui/forensic.js'

export default class ForensicSnapshotDownload extends StellaCommand<typeof ForensicSnapshotDownload> {
  static override summary = 'Download a bundle from the server and verify it before saving it.'
  static override description = `Fetches the bundle into a temp directory beside --out (an interrupted transfer resumes with HTTP Range, or starts over), verifies every byte, the Merkle root and the signatures against the trusted --key(s), and only then moves it to --out.
A bundle that fails verification is not saved (exit 1) and nothing is left behind, also on Ctrl-C. An existing --out is never replaced without --force.`

  static override examples = [
    '<%= config.bin %> forensic snapshot download eb_01KAQ7Z3M4N5P6Q7R8S9T0V1W2 --key platform.pub.pem',
    '<%= config.bin %> forensic snapshot download eb_01KAQ7Z3M4N5P6Q7R8S9T0V1W2 --key platform.pub.pem --out case-42.tgz --json',
  ]

  static override args = {
    id: Args.string({description: 'The bundle id (eb_…).', required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', description: 'Where to save the bundle. Default: <bundle id>.tgz.'}),
    key: Flags.string({description: "A trusted public key (SPKI PEM, JWK or hex) to verify the bundle with; repeat for more.", multiple: true, required: true}),
    force: Flags.boolean({description: 'Replace --out if it exists.'}),
    ...remoteFlags,
  }

  async run(): Promise<RemoteSnapshotSummary> {
    const {args, flags} = this
    const client = await this.apiClient()
    const progress = createDownloadProgress({enabled: !this.jsonEnabled()})
    try {
      const summary = await downloadVerified(client, {
        bundleId: args.id,
        out: flags.out ?? `${args.id}.tgz`,
        force: flags.force,
        keyPaths: flags.key,
        onProgress: (p) => progress.update(p),
      })
      progress.done()
      this.out(renderRemoteSnapshotSummary(summary))
      return summary
    } finally {
      progress.done()
    }
  }
}
