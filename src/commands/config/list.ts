import {StellaCommand} from '../../base-command.js'
import {type ContextList, listContexts} from '../../services/config/index.js'
import {renderContextList} from '../../ui/config.js'

export default class ConfigList extends StellaCommand<typeof ConfigList> {
  static override summary = 'List the contexts in the config file; * marks the current one.'
  static override description = 'Token sources are shown as env:VAR or file:PATH; a token itself is never shown.'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json']

  async run(): Promise<ContextList> {
    const list = listContexts()
    this.out(renderContextList(list))
    return list
  }
}
