import {Args} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {remoteFlags} from '../../../flags.js'
import {type SnapshotGet, getSnapshot} from '../../../services/forensic/get.js'
import {renderRemoteSnapshotShow, renderSnapshotShow} from '../../../ui/forensic.js'

export default class ForensicSnapshotGet extends StellaCommand<typeof ForensicSnapshotGet> {
  static override summary = "Show a bundle's record and manifest: from the server by bundle id, or from a local .tgz."
  static override description = `With a bundle id (eb_…) asks the server for the bundle's status, case, kind, root, signer and manifest. With a path to a bundle (or - for standard input) prints that bundle's manifest, as \`snapshot show\` does.
Both forms give the same manifest in --json. Nothing is verified: \`stella forensic snapshot download\` fetches and verifies, \`stella forensic verify\` checks a local bundle.`

  static override examples = [
    '<%= config.bin %> forensic snapshot get eb_01KAQ7Z3M4N5P6Q7R8S9T0V1W2',
    '<%= config.bin %> forensic snapshot get eb_01KAQ7Z3M4N5P6Q7R8S9T0V1W2 --json',
    '<%= config.bin %> forensic snapshot get case-42.tgz',
  ]

  static override args = {
    bundle: Args.string({description: 'A bundle id on the server, or a local bundle (.tgz) or - for standard input.', required: true}),
  }

  static override flags = {...remoteFlags}

  async run(): Promise<SnapshotGet> {
    const got = await getSnapshot(this.args.bundle, () => this.apiClient())
    this.out(got.source === 'server' ? renderRemoteSnapshotShow(got) : renderSnapshotShow(got))
    return got
  }
}
