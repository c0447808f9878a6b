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
