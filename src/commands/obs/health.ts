import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import {RemoteObsSource} from '../../services/obs/source.js'
import {type HealthReport, getHealth} from '../../services/obs/status.js'
import {renderHealth} from '../../ui/obs.js'

export default class ObsHealth extends StellaCommand<typeof ObsHealth> {
  static override summary = 'Show the health of every service: status, traffic, errors, latency and saturation.'
  static override description = `One row per service, worst first (down, then degraded, then ok; by name within a status): its version, status, running instances, requests per second, error rate, latency percentiles, CPU and queue depth, then a one-line summary.

Exits 0 whatever the services report. With --fail-on degraded (or down) it exits 1 when any service is at least that bad, for scripts and health checks; the table and the JSON result are printed either way.`

  static override examples = [
    '<%= config.bin %> obs health',
    '<%= config.bin %> obs health --fail-on down',
    '<%= config.bin %> obs health --json',
  ]

  static override flags = {
    ...remoteFlags,
    'fail-on': Flags.option({options: ['degraded', 'down'] as const, description: 'Exit 1 when any service has this status or a worse one.'})(),
  }

  async run(): Promise<HealthReport> {
    const failOn = this.flags['fail-on']
    const report = await getHealth(new RemoteObsSource(await this.apiClient()), failOn === undefined ? {} : {failOn})
    this.out(renderHealth(report))
    if (report.failing.length > 0) this.setNegative()
    return report
  }
}
