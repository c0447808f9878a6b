import {Args} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {useContext} from '../../services/config/index.js'

export default class ConfigUseContext extends StellaCommand<typeof ConfigUseContext> {
  static override summary = 'Make a context the current one.'
  static override examples = ['<%= config.bin %> config use-context prod']

  static override args = {
    name: Args.string({description: 'The context to use.', required: true}),
  }

  async run(): Promise<{path: string; previous?: string; current: string}> {
    const result = useContext(this.args.name)
    this.out(`Current context: ${result.current}${result.previous && result.previous !== result.current ? ` (was ${result.previous})` : ''}`)
    return result
  }
}
