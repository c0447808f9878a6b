/** Every key of the dashboard, as a change of the view: pure, no terminal. */
import {describe, expect, it} from 'vitest'

import {type CursorTable, INITIAL_VIEW, type KeyPress, type ViewState, reduceKey, selectedKey} from '../../src/ui/top/state.js'

const table: CursorTable = {keys: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], pageSize: 3}
const press = (state: ViewState, ...keys: (string | KeyPress)[]) => {
  let current = state
  for (const key of keys) {
    const result = reduceKey(current, typeof key === 'string' ? {input: key} : key, table)
    if (result.quit) return 'quit'
    current = result.state
  }

  return current
}

describe('keys', () => {
  it('q and Ctrl-C quit; Ctrl-C even while typing a filter or reading the help', () => {
    expect(press(INITIAL_VIEW, 'q')).toBe('quit')
    expect(press(INITIAL_VIEW, {input: 'c', ctrl: true})).toBe('quit')
    expect(press(INITIAL_VIEW, '/', {input: 'c', ctrl: true})).toBe('quit')
    expect(press(INITIAL_VIEW, '?', 'q')).toBe('quit')
    expect(press(INITIAL_VIEW, '/', 'q')).toMatchObject({draft: 'q'})
  })

  it('moves: j k and arrows by one, PgDn PgUp by a page, g G to the ends, never past them', () => {
    const at = (...keys: (string | KeyPress)[]) => selectedKey(press(INITIAL_VIEW, ...keys) as ViewState, table)
    expect(at()).toBe('a')
    expect(at('j', 'j', {input: '', downArrow: true})).toBe('d')
    expect(at('j', 'k', {input: '', upArrow: true})).toBe('a')
    expect(at({input: '', pageDown: true})).toBe('d')
    expect(at({input: '', pageDown: true}, {input: '', pageDown: true}, {input: '', pageDown: true})).toBe('g')
    expect(at('G', {input: '', pageUp: true})).toBe('d')
    expect(at('G', 'j')).toBe('g')
    expect(at('G', 'g', 'k')).toBe('a')
    expect(at({input: '', end: true})).toBe('g')
    expect(at('G', {input: '', home: true})).toBe('a')
  })

  it('a cursor on a row that left the table falls back to the first row', () => {
    expect(selectedKey({...INITIAL_VIEW, cursor: 'gone'}, table)).toBe('a')
    expect(selectedKey(INITIAL_VIEW, {keys: [], pageSize: 3})).toBeUndefined()
    expect(press({...INITIAL_VIEW, cursor: 'gone'}, 'j')).toMatchObject({cursor: 'b'})
  })

  it('filter: typed, edited (Backspace, Ctrl-U), applied with Enter (trimmed), cancelled with Esc', () => {
    expect(press(INITIAL_VIEW, '/', 'ab', 'c', {input: '', backspace: true})).toMatchObject({draft: 'ab', filter: ''})
    expect(press(INITIAL_VIEW, '/', 'abc', {input: 'u', ctrl: true}, 'x')).toMatchObject({draft: 'x'})
    expect(press(INITIAL_VIEW, '/', ' pay ', {input: '\r', return: true})).toEqual({...INITIAL_VIEW, filter: 'pay', draft: undefined, cursor: undefined})
    expect(press({...INITIAL_VIEW, filter: 'pay'}, '/', 'x', {input: '', escape: true})).toEqual({...INITIAL_VIEW, filter: 'pay', draft: undefined})
    // `/` starts from the filter in force; control characters are not typed.
    expect(press({...INITIAL_VIEW, filter: 'pay'}, '/', '\u0007', {input: '', tab: true})).toMatchObject({draft: 'pay'})
  })

  it('s cycles the sort; p toggles the pause; ? opens and closes the help, which holds the other keys', () => {
    expect(['s', 'ss', 'sss', 'ssss', 'sssss'].map((keys) => (press(INITIAL_VIEW, ...keys.split('')) as ViewState).sort)).toEqual(['errors', 'p95', 'p99', 'name', 'rate'])
    expect(press(INITIAL_VIEW, 'p')).toMatchObject({paused: true})
    expect(press(INITIAL_VIEW, 'p', 'p')).toMatchObject({paused: false})
    expect(press(INITIAL_VIEW, '?', 's', 'j', 'p')).toEqual({...INITIAL_VIEW, help: true})
    expect(press(INITIAL_VIEW, '?', '?')).toEqual(INITIAL_VIEW)
    expect(press(INITIAL_VIEW, '?', {input: '', escape: true})).toEqual(INITIAL_VIEW)
  })

  it('Enter drills into the selected row, Esc comes back to it; at the top, Esc clears the filter', () => {
    const drilled = press(INITIAL_VIEW, 'j', 'j', {input: '\r', return: true}) as ViewState
    expect(drilled).toMatchObject({drill: 'c', cursor: undefined, routeFilter: ''})
    // Enter inside a service does nothing more; `/` there filters the routes.
    expect(press(drilled, {input: '\r', return: true})).toEqual(drilled)
    const routesFiltered = press(drilled, '/', 'get', {input: '\r', return: true}) as ViewState
    expect(routesFiltered).toMatchObject({drill: 'c', routeFilter: 'get', filter: ''})
    expect(press(routesFiltered, {input: '', escape: true})).toEqual({...INITIAL_VIEW, cursor: 'c', drill: undefined, routeFilter: ''})
    expect(press({...INITIAL_VIEW, filter: 'x', cursor: 'b'}, {input: '', escape: true})).toEqual({...INITIAL_VIEW, cursor: undefined})
    expect(reduceKey(INITIAL_VIEW, {input: '\r', return: true}, {keys: [], pageSize: 3})).toEqual({state: INITIAL_VIEW, quit: false})
  })
})
