import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import {type TelemetryStatusReport, getTelemetryStatus} from '../../services/telemetry/status.js'
import {renderTelemetryStatus} from '../../ui/telemetry-status.js'

export default class TelemetryStatus extends StellaCommand<typeof TelemetryStatus> {
  static override summary = 'Show the telemetry profile, incident mode and the health of every collector.'
  static override description = `Prints the collector profile in force and its version, whether incident mode is on (when it expires, the sampling rate), and one row per collector: healthy or not, when it last reported, its export failures and how full its queue is (highlighted above 80%).

Exits 0 whatever the collectors report; with --fail-unhealthy it exits 1 when any collector is unhealthy, for scripts and health checks.`

  static override examples = [
    '<%= config.bin %> telemetry status',
    '<%= config.bin %> telemetry status --fail-unhealthy',
    '<%= config.bin %> telemetry status --json',
  ]

  static override flags = {
    ...remoteFlags,
    'fail-unhealthy': Flags.boolean({description: 'Exit 1 when any collector reports itself unhealthy.'}),
  }

  async run(): Promise<TelemetryStatusReport> {
    const report = await getTelemetryStatus(await this.apiClient())
    this.out(renderTelemetryStatus(report))
    if (this.flags['fail-unhealthy'] && report.unhealthyCollectors.length > 0) this.setNegative()
    return report
  }
}
