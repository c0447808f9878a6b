import {Parser} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {formatError, toStellaError} from '../../src/base-command.js'
import {durationFlag, sizeFlag} from '../../src/flags.js'
import {ExitCode} from '../../src/lib/errors.js'
import {rejectionOf} from '../helpers/errors.js'

const flags = {window: durationFlag({default: 86_400_000}), 'max-size': sizeFlag()}

describe('duration and size flags through the oclif parser', () => {
  it('parse to milliseconds and bytes', async () => {
    const parsed = await Parser.parse(['--window', '1h30m', '--max-size', '64KiB'], {flags})
    expect(parsed.flags).toEqual({window: 5_400_000, 'max-size': 65_536})
    expect((await Parser.parse([], {flags})).flags).toEqual({window: 86_400_000})
  })

  it('refuse anything else with a usage error that names the flag, without oclif\'s rewording', async () => {
    const duration = toStellaError(await rejectionOf(Parser.parse(['--window', '5 min'], {flags})), 'telemetry:capture')
    expect(duration.exitCode).toBe(ExitCode.Usage)
    expect(duration.code).toBe('INVALID_DURATION')
    expect(formatError(duration)).toBe(
      'Error: invalid --window "5 min": "5 min" is not a number followed by ms, s, m, h or d\n'
        + 'Hint: Write a whole number followed by ms, s, m, h or d, e.g. 500ms, 2s, 10m, 24h, 7d or 1h30m.\n',
    )

    const size = toStellaError(await rejectionOf(Parser.parse(['--max-size', '1.5GB'], {flags})), 'telemetry:capture')
    expect(size.exitCode).toBe(ExitCode.Usage)
    expect(size.code).toBe('INVALID_SIZE')
    expect(size.message).toBe('invalid --max-size "1.5GB": it is not a whole number with an optional unit')
  })
})
