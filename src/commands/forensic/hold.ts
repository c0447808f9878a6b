import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import type {HoldResult} from '../../lib/api/types.js'
import {setHold} from '../../services/forensic/remote.js'
import {renderHold} from '../../ui/forensic.js'

export default class ForensicHold extends StellaCommand<typeof ForensicHold> {
  static override summary = "Put a case's evidence on legal hold, or release it."
  static override description = 'While a case is on hold the server keeps every bundle of it past its retention. The reason is recorded with the change; it is required both ways.'

  static override examples = [
    '<%= config.bin %> forensic hold case-42 --reason "litigation hold, ticket LEGAL-7"',
    '<%= config.bin %> forensic hold case-42 --release --reason "LEGAL-7 closed"',
  ]

  static override args = {
    case: Args.string({description: 'The case id.', required: true}),
  }

  static override flags = {
    reason: Flags.string({description: 'Why the hold is placed or released (recorded by the server).', required: true}),
    release: Flags.boolean({description: 'Release the hold instead of placing it.'}),
    ...remoteFlags,
  }

  async run(): Promise<HoldResult> {
    const result = await setHold(await this.apiClient(), this.args.case, {hold: !this.flags.release, reason: this.flags.reason})
    this.out(renderHold(result))
    return result
  }
}
