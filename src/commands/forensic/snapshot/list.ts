import {Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {remoteFlags} from '../../../flags.js'
import {BUNDLE_KINDS} from '../../../lib/bundle/manifest.js'
import {type SnapshotList, listSnapshots} from '../../../services/forensic/remote.js'
import {renderMoreHint, renderSnapshotList} from '../../../ui/forensic.js'

export default class ForensicSnapshotList extends StellaCommand<typeof ForensicSnapshotList> {
  static override summary = 'List the evidence bundles the server holds for the tenant.'
  static override description = `One row per bundle: id, case, kind, status, creation time, the start of its Merkle root and of its signer's keyid.
Shows one page (--limit, default 100); --all follows every page. When more remain, stderr says how to get them and --json gives nextCursor.`

  static override examples = [
    '<%= config.bin %> forensic snapshot list',
    '<%= config.bin %> forensic snapshot list --case case-42 --kind evaluation',
    '<%= config.bin %> forensic snapshot list --all --json',
  ]

  static override flags = {
    case: Flags.string({description: 'Only bundles of this case.'}),
    kind: Flags.option({description: 'Only bundles of this kind.', options: BUNDLE_KINDS})(),
    limit: Flags.integer({description: 'Bundles per page (the server allows at most 1000).', min: 1, max: 1000}),
    all: Flags.boolean({description: 'Follow every page, not just the first.', exclusive: ['cursor']}),
    cursor: Flags.string({description: 'Start at this page (nextCursor of an earlier list).'}),
    ...remoteFlags,
  }

  async run(): Promise<SnapshotList> {
    const {flags} = this
    const list = await listSnapshots(await this.apiClient(), {
      all: flags.all,
      ...(flags.case === undefined ? {} : {caseId: flags.case}),
      ...(flags.kind === undefined ? {} : {kind: flags.kind}),
      ...(flags.limit === undefined ? {} : {limit: flags.limit}),
      ...(flags.cursor === undefined ? {} : {cursor: flags.cursor}),
    })
    this.out(renderSnapshotList(list))
    const more = renderMoreHint(list)
    if (more && !this.jsonEnabled()) process.stderr.write(`${more}\n`)
    return list
  }
}
