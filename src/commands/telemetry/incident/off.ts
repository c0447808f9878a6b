import {Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import type {IncidentMode} from '../../../lib/api/types.js'
import {remoteFlags} from '../../../flags.js'
import {setIncidentMode} from '../../../services/telemetry/status.js'
import {renderIncidentMode} from '../../../ui/telemetry-status.js'

export default class TelemetryIncidentOff extends StellaCommand<typeof TelemetryIncidentOff> {
  static override summary = 'Turn incident mode off now, before its TTL runs out.'
  static override description = 'Sampling falls back to the profile\'s normal rate. Turning off a mode that is already off is not an error: the result is the same state.'

  static override examples = [
    '<%= config.bin %> telemetry incident off',
    '<%= config.bin %> telemetry incident off --reason "INC-1234 resolved"',
  ]

  static override flags = {
    ...remoteFlags,
    reason: Flags.string({description: 'Why, recorded with the change.'}),
  }

  async run(): Promise<IncidentMode> {
    const mode = await setIncidentMode(await this.apiClient(), {enabled: false, reason: this.flags.reason})
    this.out(renderIncidentMode(mode))
    return mode
  }
}
