import {Args} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {type KeyDescription, describeKey} from '../../services/keys/index.js'
import {readStdinBytes} from '../../stdin.js'
import {renderKeyDescription} from '../../ui/keys.js'

export default class KeysShow extends StellaCommand<typeof KeysShow> {
  static override summary = 'Show the kind, algorithm, keyid and public key of a key file.'
  static override description = `Reads a private key (PKCS#8 PEM) or a public key (SubjectPublicKeyInfo PEM, JWK, or 64 hex characters) and prints what it is. A private key's secret part is never printed. Use - to read standard input.`

  static override examples = [
    '<%= config.bin %> keys show stella.pem',
    '<%= config.bin %> keys show platform.pub.pem --json',
    'cat key.jwk | <%= config.bin %> keys show -',
  ]

  static override args = {
    keyfile: Args.string({description: 'The key file, or - for standard input.', required: true}),
  }

  async run(): Promise<KeyDescription> {
    const description = await describeKey(this.args.keyfile, readStdinBytes)
    this.out(renderKeyDescription(description))
    return description
  }
}
