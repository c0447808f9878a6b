import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {type ConfigChange, configKeyNames, setConfig} from '../../services/config/index.js'
import {renderConfigChange} from '../../ui/config.js'

export default class ConfigSet extends StellaCommand<typeof ConfigSet> {
  static override summary = 'Set a value in a context (the current one, or --context NAME).'
  static override description = `Keys: ${configKeyNames.join(', ')}.
A context is created when first named; the first context becomes the current one.
The token is never stored in plain text unless --allow-plaintext-token is given: point the context at an environment variable (token-env) or a file (token-file) instead. Setting one token source clears the others.
Give - as the value to read it from standard input.`

  static override examples = [
    '<%= config.bin %> config set server https://stella.example.com --context prod',
    '<%= config.bin %> config set tenant acme --context prod',
    '<%= config.bin %> config set token-env STELLA_PROD_TOKEN --context prod',
    '<%= config.bin %> config set ca-file ./corp-ca.pem',
    'pass show stella/token | <%= config.bin %> config set token - --allow-plaintext-token',
  ]

  static override args = {
    key: Args.string({description: 'The key to set.', options: configKeyNames, required: true}),
    value: Args.string({description: 'The value, or - to read it from stdin.', required: true}),
  }

  static override flags = {
    'allow-plaintext-token': Flags.boolean({description: 'Allow storing the token itself in the config file.'}),
  }

  async run(): Promise<ConfigChange> {
    if (this.args.value === '-' && (process.stdin.isTTY || this.flags.verbose)) {
      process.stderr.write('Reading the value from standard input (end with Ctrl-D)…\n')
    }

    const change = await setConfig({
      key: this.args.key,
      value: this.args.value,
      context: this.flags.context,
      allowPlaintextToken: this.flags['allow-plaintext-token'],
    })
    this.out(renderConfigChange(change, 'set'))
    return change
  }
}
