import {Args} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {type ConfigChange, configKeyNames, unsetConfig} from '../../services/config/index.js'
import {renderConfigChange} from '../../ui/config.js'

export default class ConfigUnset extends StellaCommand<typeof ConfigUnset> {
  static override summary = 'Remove a value from a context (the current one, or --context NAME).'
  static override examples = ['<%= config.bin %> config unset ca-file', '<%= config.bin %> config unset token --context prod']

  static override args = {
    key: Args.string({description: 'The key to remove.', options: configKeyNames, required: true}),
  }

  async run(): Promise<ConfigChange> {
    const change = unsetConfig(this.args.key, this.flags.context)
    this.out(renderConfigChange(change, 'unset'))
    return change
  }
}
