import {Args} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {type SnapshotShow, showSnapshot} from '../../../services/forensic/snapshot.js'
import {renderSnapshotShow} from '../../../ui/forensic.js'

export default class ForensicSnapshotShow extends StellaCommand<typeof ForensicSnapshotShow> {
  static override summary = "Show a bundle's manifest and files, without verifying it."
  static override description = 'Prints what the manifest of a bundle says: ids, kind, tenant, case, root, signers and the file table. Nothing is checked; use `stella forensic verify` for that. Use - to read standard input.'

  static override examples = ['<%= config.bin %> forensic snapshot show case-42.tgz', '<%= config.bin %> forensic snapshot show case-42.tgz --json']

  static override args = {
    bundle: Args.string({description: 'The bundle (.tgz), or - for standard input.', required: true}),
  }

  async run(): Promise<SnapshotShow> {
    const show = await showSnapshot(this.args.bundle)
    this.out(renderSnapshotShow(show))
    return show
  }
}
