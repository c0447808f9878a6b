import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {remoteFlags} from '../../../flags.js'
import {PROFILE_NAMES, type ProfileDiffResult, diffProfiles} from '../../../services/telemetry/profile.js'
import {renderProfileDiff} from '../../../ui/telemetry.js'

export default class TelemetryProfileDiff extends StellaCommand<typeof TelemetryProfileDiff> {
  static override summary = 'Show what differs between two collector configs: components, pipelines, processor order.'
  static override description = `A semantic diff of two OpenTelemetry Collector configs, not a text diff: key order, formatting and comments do not matter. It lists the receivers, processors, exporters, extensions and connectors that were added or removed, the settings that changed (as dotted paths, old → new), and per pipeline the receivers, processors and exporters added or removed and any change in processor order, which changes what the pipeline does. service.extensions and service.telemetry are compared too.
Each of A and B is a YAML file, or a profile name (${PROFILE_NAMES.join(', ')}) fetched from the server; write ./default for a local file with such a name. Server profiles are verified when --key is given (a bad signature is an error, exit 1); without --key they are compared unverified, with a warning.
Exit 0 when the configs are the same, 1 when they differ (like diff(1)); 3 when a file is not a valid YAML config (the message names the file and line).`

  static override examples = [
    '<%= config.bin %> telemetry profile diff default forensic --key platform.pub.pem',
    '<%= config.bin %> telemetry profile diff /etc/otelcol/default.yaml default --key platform.pub.pem',
    '<%= config.bin %> telemetry profile diff old.yaml new.yaml',
    '<%= config.bin %> telemetry profile diff old.yaml new.yaml --json',
  ]

  static override args = {
    a: Args.string({description: 'The config to compare from: a YAML file, or a profile name.', required: true}),
    b: Args.string({description: 'The config to compare to: a YAML file, or a profile name.', required: true}),
  }

  static override flags = {
    ...remoteFlags,
    key: Flags.string({description: 'A trusted public key of the profile signer, to verify server profiles (repeat for more).', multiple: true}),
  }

  async run(): Promise<ProfileDiffResult> {
    const result = await diffProfiles({
      a: this.args.a,
      b: this.args.b,
      keyPaths: this.flags.key ?? [],
      api: () => this.apiClient(),
      onWarning: (message) => this.warning(message),
    })
    if (!result.diff.equal) this.setNegative()
    this.out(renderProfileDiff(result))
    return result
  }
}
