import {describe, expect, it} from 'vitest'

import {ExitCode, UsageError} from '../../src/lib/errors.js'
import {thrownBy} from '../helpers/errors.js'
import {formatDuration, formatSize, parseDuration, parseSize} from '../../src/lib/units.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['10m', 600_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['0s', 0],
    [' 15m ', 900_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each([
    ['', 'invalid duration "": it is empty'],
    ['30', 'invalid duration "30": a unit is missing'],
    ['1.5h', 'invalid duration "1.5h": use whole numbers with a smaller unit (e.g. 1500ms, 90m)'],
    ['5x', 'invalid duration "5x": "5x" is not a number followed by ms, s, m, h or d'],
    ['h', 'invalid duration "h": it does not start with a number'],
    ['5 min', 'invalid duration "5 min": "5 min" is not a number followed by ms, s, m, h or d'],
    ['10mins', 'invalid duration "10mins": "ins" is not a number followed by ms, s, m, h or d'],
    ['30m1h', 'invalid duration "30m1h": units must each appear once, largest first (e.g. 1h30m)'],
    ['1h1h', 'invalid duration "1h1h": units must each appear once, largest first (e.g. 1h30m)'],
    ['-5s', 'invalid duration "-5s": a duration cannot be negative'],
    ['99999999999999999d', 'invalid duration "99999999999999999d": it is too large'],
  ])('%j is refused with a usage error', (text, message) => {
    const error = thrownBy(() => parseDuration(text))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toBe(message)
    expect(error.code).toBe('INVALID_DURATION')
    expect(error.exitCode).toBe(ExitCode.Usage)
    expect(error.remedy).toBe('Write a whole number followed by ms, s, m, h or d, e.g. 500ms, 2s, 10m, 24h, 7d or 1h30m.')
  })

  it('names the flag in the message', () => {
    expect(() => parseDuration('soon', '--timeout')).toThrow('invalid --timeout "soon"')
  })

  it.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [86_400_000, '1d'],
    [93_784_005, '1d2h3m4s5ms'],
  ])('formats %d ms as %s, which parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
    expect(parseDuration(text)).toBe(ms)
  })
})

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['512B', 512],
    ['10KB', 10_000],
    ['64KiB', 65_536],
    ['10MB', 10_000_000],
    ['2GiB', 2_147_483_648],
    ['1tib', 1_099_511_627_776],
    ['3 MiB', 3_145_728],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  it.each([
    ['', 'invalid size "": it is empty'],
    ['1.5GB', 'invalid size "1.5GB": it is not a whole number with an optional unit'],
    ['10XB', 'invalid size "10XB": "XB" is not a known unit'],
    ['-1', 'invalid size "-1": it is not a whole number with an optional unit'],
    ['MiB', 'invalid size "MiB": it is not a whole number with an optional unit'],
    ['99999999TiB', 'invalid size "99999999TiB": it is too large'],
  ])('%j is refused', (text, message) => {
    const error = thrownBy(() => parseSize(text))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toBe(message)
    expect(error.code).toBe('INVALID_SIZE')
    expect(error.remedy).toBe(
      'Write a whole number of bytes, optionally with a unit: B, KB, MB, GB, TB (×1000) or KiB, MiB, GiB, TiB (×1024), e.g. 512, 64KiB, 10MB, 2GiB.',
    )
  })

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [1_048_576, '1 MiB'],
    [157_286_400, '150 MiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text)
  })
})
