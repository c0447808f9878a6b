import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {type GeneratedKeyPair, generateKeyPair} from '../../services/keys/index.js'
import {renderGeneratedKeyPair} from '../../ui/keys.js'

export default class KeysGenerate extends StellaCommand<typeof KeysGenerate> {
  static override summary = 'Generate an Ed25519 signing key pair.'
  static override description = `Writes PREFIX.pem (PKCS#8 private key, mode 0600) and PREFIX.pub.pem (SubjectPublicKeyInfo public key), the same formats as \`openssl genpkey -algorithm ed25519\` and \`openssl pkey -pubout\`, and prints the keyid: the SHA-256 of the public key's DER form, which names the key in signatures.
Existing files are never replaced without --force.`

  static override examples = [
    '<%= config.bin %> keys generate --out signing/platform',
    '<%= config.bin %> keys generate --out ci-signer --json',
  ]

  static override flags = {
    out: Flags.string({char: 'o', default: 'stella', description: 'Path prefix of the two key files.'}),
    force: Flags.boolean({description: 'Replace existing key files.'}),
  }

  async run(): Promise<GeneratedKeyPair> {
    const pair = generateKeyPair(this.flags.out, this.flags.force)
    this.out(renderGeneratedKeyPair(pair))
    return pair
  }
}
