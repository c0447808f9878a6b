import {Args} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {type ConfigValue, configKeyNames, getConfig} from '../../services/config/index.js'

export default class ConfigGet extends StellaCommand<typeof ConfigGet> {
  static override summary = 'Print one value of a context (the current one, or --context NAME).'
  static override description = 'Prints the stored value alone on stdout, for scripts. A plaintext token is never printed, only whether it is set. Exits 1 when the key is not set.'
  static override examples = ['<%= config.bin %> config get server', '<%= config.bin %> config get tenant --context prod --json']

  static override args = {
    key: Args.string({description: 'The key to read.', options: configKeyNames, required: true}),
  }

  async run(): Promise<ConfigValue> {
    const value = getConfig(this.args.key, this.flags.context)
    if (!value.set) this.setNegative()
    else this.out(value.hidden ? '(set, hidden)' : String(value.value))
    return value
  }
}
