import {Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import type {IncidentMode} from '../../../lib/api/types.js'
import {durationFlag, remoteFlags} from '../../../flags.js'
import {setIncidentMode} from '../../../services/telemetry/status.js'
import {renderIncidentMode} from '../../../ui/telemetry-status.js'

export default class TelemetryIncidentOn extends StellaCommand<typeof TelemetryIncidentOn> {
  static override summary = 'Turn incident mode on for a limited time: full sampling while an incident is investigated.'
  static override description = `Asks the server to raise sampling across the telemetry pipeline until the TTL runs out, then fall back on its own. A reason is required; it is recorded with who made the change. Running it again while incident mode is on sets a new expiry (now + TTL).

The TTL must be from 1m to 24h; the server refuses anything else.`

  static override examples = [
    '<%= config.bin %> telemetry incident on --ttl 2h --reason "INC-1234 checkout latency"',
    '<%= config.bin %> telemetry incident on --ttl 30m --reason "reproducing INC-1234" --json',
  ]

  static override flags = {
    ...remoteFlags,
    ttl: durationFlag({description: 'How long incident mode stays on, from 1m to 24h (e.g. 30m, 2h, 24h).', default: 3_600_000, defaultHelp: async () => '1h'}),
    // Checked by the service rather than by oclif, so a missing reason gets an example of one.
    reason: Flags.string({description: 'Required. Why: an incident id or a short note, recorded with the change.'}),
  }

  async run(): Promise<IncidentMode> {
    const mode = await setIncidentMode(await this.apiClient(), {enabled: true, ttlMs: this.flags.ttl, reason: this.flags.reason})
    this.out(renderIncidentMode(mode))
    return mode
  }
}
