/** Flag types shared by commands, so every duration and size on the command line reads the same way. */
import {Flags} from '@oclif/core'

import {parseDuration, parseSize} from './lib/units.js'

/** A duration flag (`500ms`, `2s`, `10m`, `24h`, `7d`, `1h30m`); the value is in milliseconds. */
export const durationFlag = Flags.custom<number>({
  helpValue: '<duration>',
  parse: async (input, _context, options) => parseDuration(input, `--${options.name}`),
})

/** A size flag (`512`, `64KiB`, `10MB`, `2GiB`); the value is in bytes. */
export const sizeFlag = Flags.custom<number>({
  helpValue: '<size>',
  parse: async (input, _context, options) => parseSize(input, `--${options.name}`),
})

/** Flags of every command that talks to a server: retries, time budget and TLS. */
export const remoteFlags = {
  retries: Flags.integer({description: 'Extra attempts for failures worth repeating (connection errors, 429, 502-504).', default: 3, min: 0, helpGroup: 'REMOTE'}),
  timeout: durationFlag({description: 'Time budget of one request including its retries (downloads: the longest silence).', default: 30_000, helpGroup: 'REMOTE'}),
  'ca-cert': Flags.string({description: 'PEM file of the CA that signed the server certificate (env: STELLA_CA_FILE; context: ca-file).', helpGroup: 'REMOTE'}),
  'client-cert': Flags.string({description: 'PEM client certificate for mutual TLS.', dependsOn: ['client-key'], helpGroup: 'REMOTE'}),
  'client-key': Flags.string({description: 'PEM private key of the client certificate.', dependsOn: ['client-cert'], helpGroup: 'REMOTE'}),
  insecure: Flags.boolean({description: 'Do not verify the server certificate. Unsafe: warns on every use.', helpGroup: 'REMOTE'}),
}
