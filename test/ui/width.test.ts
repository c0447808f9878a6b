/** Terminal columns, not characters: what lines tables up when names are Japanese or hold emoji. */
import {describe, expect, it} from 'vitest'

import {displayWidth, fitWidth, padWidth, sliceColumns} from '../../src/ui/width.js'

describe('displayWidth', () => {
  it('counts printable ASCII one column each', () => {
    expect(displayWidth('')).toBe(0)
    expect(displayWidth('checkout-api')).toBe(12)
  })

  it('counts CJK, Hangul and fullwidth forms two columns each', () => {
    expect(displayWidth('決済サービス')).toBe(12)
    expect(displayWidth('결제')).toBe(4)
    expect(displayWidth('ＡＢＣ')).toBe(6)
    expect(displayWidth('api-決済')).toBe(8)
  })

  it('counts emoji two columns, with or without the emoji selector', () => {
    expect(displayWidth('🔥')).toBe(2)
    expect(displayWidth('❤️')).toBe(2)
    expect(displayWidth('❤')).toBe(1)
  })

  it('counts combining marks, zero-width joiners and control characters as nothing', () => {
    expect(displayWidth('e\u0301')).toBe(1)
    expect(displayWidth('a\u200Db')).toBe(2)
    expect(displayWidth('a\u0007b')).toBe(2)
  })

  it('counts Latin letters, box drawing and block characters one column each', () => {
    expect(displayWidth('Zürich')).toBe(6)
    expect(displayWidth('›…░█▁')).toBe(5)
  })
})

describe('sliceColumns, fitWidth and padWidth', () => {
  it('slices by column and leaves out a wide character that would straddle the edge', () => {
    expect(sliceColumns('決済サービス', 0, 4)).toBe('決済')
    expect(sliceColumns('決済サービス', 0, 5)).toBe('決済')
    expect(sliceColumns('決済サービス', 2, 6)).toBe('済サ')
    expect(sliceColumns('abcdef', 2, 4)).toBe('cd')
  })

  it('keeps a combining mark with the letter it belongs to', () => {
    expect(sliceColumns('e\u0301x', 0, 1)).toBe('e\u0301')
    expect(sliceColumns('e\u0301x', 1, 2)).toBe('x')
  })

  it('cuts to the width with … and never splits a surrogate pair', () => {
    expect(fitWidth('checkout', 8)).toBe('checkout')
    expect(fitWidth('checkout-api', 8)).toBe('checkou…')
    expect(fitWidth('決済サービス', 8)).toBe('決済サ…')
    expect(fitWidth('決済サービス', 7)).toBe('決済サ…')
    expect(fitWidth('🔥🔥🔥', 4)).toBe('🔥…')
    expect(fitWidth('abc', 0)).toBe('')
  })

  it('pads to exactly the width, on either side', () => {
    expect(padWidth('決済', 6)).toBe('決済  ')
    expect(padWidth('決済', 6, 'right')).toBe('  決済')
    expect(padWidth('決済サービス', 7)).toBe('決済サ…')
    // A wide character that does not fit before the … leaves a column to pad.
    expect(padWidth('決済サービス', 8)).toBe('決済サ… ')
  })
})
