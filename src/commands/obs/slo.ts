import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import {RemoteObsSource} from '../../services/obs/source.js'
import {type SloReport, getSlo} from '../../services/obs/status.js'
import {renderSlo} from '../../ui/obs.js'

export default class ObsSlo extends StellaCommand<typeof ObsSlo> {
  static override summary = 'Show every service level objective: SLI against target, burn rates and error budget left.'
  static override description = `One row per SLO, worst first (breach, warning, ok): the journey it protects, its target and current SLI, the error-budget burn rate over the last 1h, 6h and 24h, the share of the error budget left, and its status.

A burn rate of 1 spends the budget exactly over the SLO window. Burn rates are yellow from 1 and red from the multi-window paging thresholds of the Google SRE workbook: 14.4 over 1h, 6 over 6h, 3 over 24h.

Exits 0 whatever the SLOs report; with --fail-on warning (or breach) it exits 1 when any SLO shown is at least that bad.`

  static override examples = [
    '<%= config.bin %> obs slo',
    '<%= config.bin %> obs slo --service api-gateway --service policy-engine',
    '<%= config.bin %> obs slo --fail-on breach --json',
  ]

  static override flags = {
    ...remoteFlags,
    service: Flags.string({description: 'Only the SLOs of this service; repeat for several.', multiple: true}),
    'fail-on': Flags.option({options: ['warning', 'breach'] as const, description: 'Exit 1 when any SLO shown has this status or a worse one.'})(),
  }

  async run(): Promise<SloReport> {
    const failOn = this.flags['fail-on']
    const services = this.flags.service ?? []
    const report = await getSlo(new RemoteObsSource(await this.apiClient()), {services, ...(failOn === undefined ? {} : {failOn})})
    this.out(renderSlo(report, services.length > 0))
    if (report.failing.length > 0) this.setNegative()
    return report
  }
}
