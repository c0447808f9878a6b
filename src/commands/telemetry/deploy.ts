import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import type {ProfileName} from '../../lib/api/types.js'
import {UsageError} from '../../lib/errors.js'
import {type DeployResult, PROFILE_NAMES, deployProfile, savedProfileSource, serverProfileSource} from '../../services/telemetry/profile.js'
import {renderDeployResult} from '../../ui/telemetry.js'

export default class TelemetryDeploy extends StellaCommand<typeof TelemetryDeploy> {
  static override summary = 'Fetch a signed collector profile, verify it, and write it to DIR/PROFILE.yaml.'
  static override description = `Fetches the OpenTelemetry Collector profile from the server (or reads a saved one with --from, for air-gapped sites) and verifies its DSSE envelope against the trusted --key(s): the payloadType must be ${'`application/vnd.stellaops.collector-config+yaml`'}, the signed payload must be byte for byte the config, and a trusted key must have signed it. An unsigned or mis-signed profile is refused (exit 1) and nothing is written.
Before writing, it shows what changes against the <profile>.yaml already in --out (a semantic diff of the collector config), or says it is unchanged. The file is written atomically with exactly the signed bytes; --dry-run shows the diff and writes nothing.
--from takes the JSON the server returns for the profile ({name, version, config, envelope}), e.g. saved with \`curl\` on a connected machine; it needs no server.
Exit 0 when deployed, unchanged or dry-run; 1 when the profile failed verification; 2 without --key or a profile; 3 when a key or file cannot be read.`

  static override examples = [
    '<%= config.bin %> telemetry deploy --profile forensic --key platform.pub.pem',
    '<%= config.bin %> telemetry deploy --profile default --key platform.pub.pem --out /etc/otelcol --dry-run',
    '<%= config.bin %> telemetry deploy --from forensic.profile.json --key platform.pub.pem --out /etc/otelcol',
    '<%= config.bin %> telemetry deploy --profile airgap --key platform.pub.pem --json',
  ]

  static override flags = {
    ...remoteFlags,
    profile: Flags.option({description: 'The profile to deploy (with --from: the profile the file must hold).', options: PROFILE_NAMES})(),
    from: Flags.string({description: 'A saved profile response (JSON) to deploy instead of fetching one; works offline.'}),
    key: Flags.string({description: "A trusted public key of the profile signer (SPKI PEM, JWK or hex; repeat for more).", multiple: true}),
    out: Flags.string({char: 'o', description: 'Directory to write <profile>.yaml into; created when missing.', default: '.'}),
    'dry-run': Flags.boolean({description: 'Verify and show the diff, but write nothing.', default: false}),
  }

  async run(): Promise<DeployResult> {
    const {flags} = this
    if (flags.from === undefined && flags.profile === undefined) {
      throw new UsageError('PROFILE_REQUIRED', 'say which profile to deploy', {
        remedy: `Pass --profile ${PROFILE_NAMES.join('|')} to fetch it from the server, or --from FILE to deploy a saved profile.`,
      })
    }

    const profile = flags.profile as ProfileName | undefined
    const source = flags.from === undefined ? serverProfileSource(() => this.apiClient(), profile as ProfileName) : savedProfileSource(flags.from)
    const result = await deployProfile({
      source,
      keyPaths: flags.key ?? [],
      outDir: flags.out,
      dryRun: flags['dry-run'],
      ...(profile === undefined ? {} : {expectedName: profile}),
      onWarning: (message) => this.warning(message),
    })
    this.out(renderDeployResult(result))
    return result
  }
}
