import {StellaCommand} from '../../../base-command.js'
import type {IncidentMode} from '../../../lib/api/types.js'
import {remoteFlags} from '../../../flags.js'
import {getIncidentMode} from '../../../services/telemetry/status.js'
import {renderIncidentMode} from '../../../ui/telemetry-status.js'

export default class TelemetryIncidentStatus extends StellaCommand<typeof TelemetryIncidentStatus> {
  static override summary = 'Show whether incident mode is on, until when, and who turned it on and why.'
  static override description = 'Incident mode raises trace sampling across the pipeline for a limited time. This prints its state for the tenant: on or off, its expiry, the sampling rate, the reason given and who changed it last.'

  static override examples = ['<%= config.bin %> telemetry incident status', '<%= config.bin %> telemetry incident status --json']

  static override flags = {...remoteFlags}

  async run(): Promise<IncidentMode> {
    const mode = await getIncidentMode(await this.apiClient())
    this.out(renderIncidentMode(mode))
    return mode
  }
}
