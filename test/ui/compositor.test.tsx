/**
 * The faster compositor against Ink's own: for dashboard frames and for random writes with colours,
 * overlaps, wide and combining characters and other escapes, the text must be exactly Ink's.
 */
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {render} from 'ink-testing-library'
import {afterEach, describe, expect, it, vi} from 'vitest'

import {type ComposedOutput, type InkOutput, type InkOutputClass, composeOutput, installCompositor, installInkCompositor, narrowCheckOf} from '../../src/ui/compositor.js'
import {TopApp} from '../../src/ui/top/app.js'
import {FixedSource, localSnapshot, remoteSnapshot} from './top-fixtures.js'

// Ink's Output class, from the Ink that ink-testing-library renders with.
const inkOutputUrl = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('ink')), 'output.js')).href
const Output = ((await import(inkOutputUrl)) as {default: InkOutputClass}).default
const inkGet = installCompositor(Output)
// Ink colours text through its own chalk, which sees no terminal here.
const inkChalk = pathToFileURL(createRequire(inkOutputUrl).resolve('chalk')).href
;((await import(inkChalk)) as {default: {level: number}}).default.level = 1
const isNarrow = narrowCheckOf(Output, inkGet)

type Write = [x: number, y: number, text: string]
type Operation = Write | 'clip' | 'unclip'

function outputOf(width: number, height: number, operations: Operation[]): InkOutput & {get(): ComposedOutput} {
  const output = new Output({width, height}) as unknown as InkOutput & {get(): ComposedOutput; clip(clip: object): void; unclip(): void; write(x: number, y: number, text: string, options: object): void}
  for (const operation of operations) {
    if (operation === 'clip') output.clip({x1: 1, x2: width - 1, y1: undefined, y2: undefined})
    else if (operation === 'unclip') output.unclip()
    else output.write(operation[0], operation[1], operation[2], {transformers: []})
  }

  return output
}

const inkText = (output: InkOutput) => inkGet.call(output as never)

describe('composeOutput', () => {
  it('places styled lines as Ink does: same codes, unstyled gaps, trailing spaces trimmed', () => {
    const output = outputOf(12, 3, [
      [0, 0, '\u001B[1mab\u001B[22m c  '],
      [6, 0, '\u001B[31m▁▂█\u001B[39m'],
      [2, 1, '\u001B[7m\u001B[36mx\u001B[39m\u001B[27m'],
    ])
    const composed = composeOutput(output, isNarrow)
    expect(composed).toEqual({output: '\u001B[1mab\u001B[22m c  \u001B[31m▁▂█\u001B[39m\n  \u001B[7m\u001B[36mx\u001B[39m\u001B[27m\n', height: 3})
    expect(composed).toEqual(inkText(output))
  })

  it('a later write covers an earlier one, and the styles of what it covers go with it', () => {
    const output = outputOf(10, 1, [[0, 0, '\u001B[41mabcdefgh\u001B[49m'], [3, 0, 'XY']])
    expect(composeOutput(output, isNarrow)).toEqual(inkText(output))
    expect(inkText(output).output).toBe('\u001B[41mabc\u001B[49mXY\u001B[41mfgh\u001B[49m')
  })

  it('lines off the grid are skipped as Ink skips them', () => {
    for (const y of [-2, -1, 1, 2, 3]) {
      const output = outputOf(6, 3, [[0, y, 'one\ntwo\nthree\nfour']])
      expect(composeOutput(output, isNarrow)).toEqual(inkText(output))
    }
  })

  it('leaves to Ink what it does not take: clipping, wide and combining characters, links, other escapes, overflow', () => {
    const cases: [number, Operation[]][] = [
      [8, ['clip', [0, 0, 'abcdefghij'], 'unclip']],
      [8, [[0, 0, 'ab決済c']]],
      [8, [[0, 0, 'cafe\u0301']]],
      [8, [[0, 0, 'ok 😀']]],
      [8, [[0, 0, '\u001B]8;;https://example.com\u0007link\u001B]8;;\u0007']]],
      [8, [[0, 0, 'a\u001B[2Jb']]],
      [8, [[0, 0, 'tab\there']]],
      [4, [[0, 0, 'longer than the row']]],
    ]
    for (const [width, operations] of cases) {
      const output = outputOf(width, 1, operations)
      expect(composeOutput(output, isNarrow)).toBeUndefined()
      // Through the installed get: Ink's own answer.
      expect(output.get()).toEqual(inkText(output))
    }
  })

  it('random frames of colours, overlaps and characters of every kind: always Ink’s text', () => {
    let seed = 42
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return Math.floor((seed / 2 ** 31) * n)
    }

    const pieces = ['a', 'Z', '7', ' ', '  ', '%', '·', '…', '─', '│', '▁', '▄', '█', 'é', 'ß', 'Ω', 'Ж', '→', '決', '😀', 'e\u0301', '\u200D', '\t']
    const codes = ['0', '1', '2', '22', '3', '4', '7', '27', '31', '39', '42', '49', '93', '1;31', '38;5;208', '48;2;10;20;30', '']
    const text = () => {
      const lines = Array.from({length: 1 + random(3)}, () => {
        let line = ''
        for (let i = random(14); i > 0; i--) line += random(3) === 0 ? `\u001B[${codes[random(codes.length)]}m` : pieces[random(random(4) === 0 ? pieces.length : 18)]
        return line
      })
      return lines.join('\n')
    }

    let fast = 0
    const runs = 3000
    for (let run = 0; run < runs; run++) {
      const width = 1 + random(24)
      const height = 1 + random(5)
      const operations: Operation[] = Array.from({length: 1 + random(4)}, (): Operation => (random(60) === 0 ? 'clip' : [random(width), random(height + 2) - 1, text()]))
      const output = outputOf(width, height, operations)
      const expected = inkText(output)
      const composed = composeOutput(output, isNarrow)
      if (composed !== undefined) {
        fast++
        expect(composed, JSON.stringify({width, height, operations})).toEqual(expected)
      }

      expect(output.get()).toEqual(expected)
    }

    // Most of them take the fast path, or this would prove little.
    expect(fast).toBeGreaterThan(runs / 3)
  })
})

describe('narrow characters, as Ink measures them', () => {
  it('one cell: Latin, Greek, Cyrillic, punctuation, arrows, box drawing and blocks', () => {
    for (const char of ['é', 'ß', 'Ω', 'Ж', '·', '…', '→', '─', '│', '▁', '█', '\u00A0']) expect(isNarrow(char), char).toBe(true)
  })

  it('not one cell of its own: wide, joining, emoji, controls, other scripts', () => {
    for (const char of ['決', 'サ', '한', '\u0301', '\u200D', '\uFE0F', '⌚', '\u0085', '\u0E33', '\uD83D']) expect(isNarrow(char), char).toBe(false)
  })
})

describe('the dashboard through the installed compositor', () => {
  const mounted: {unmount: () => void}[] = []
  afterEach(() => {
    for (const app of mounted.splice(0)) app.unmount()
    vi.restoreAllMocks()
  })

  it.each([
    ['a server snapshot', 200, 60, remoteSnapshot],
    ['a server snapshot', 80, 24, remoteSnapshot],
    ['a snapshot from spans, with sparklines', 200, 60, localSnapshot],
    ['a snapshot from spans, with sparklines', 120, 40, localSnapshot],
  ])('%s at %ix%i in colour: every frame composed by the fast path, exactly as Ink composes it', async (_, columns, rows, snapshot) => {
    const seen: InkOutput[] = []
    const installedGet = Output.prototype.get
    vi.spyOn(Output.prototype, 'get').mockImplementation(function (this: InkOutput) {
      seen.push(this)
      return installedGet.call(this as never)
    })
    const app = render(<TopApp source={new FixedSource(snapshot())} intervalMs={20} title="stella obs top" color />)
    mounted.push(app)
    Object.defineProperty(app.stdout, 'columns', {value: columns, configurable: true})
    Object.defineProperty(app.stdout, 'rows', {value: rows, configurable: true})
    app.stdout.emit('resize')
    await vi.waitFor(() => expect(app.lastFrame()).toContain('SERVICES'), {timeout: 3000, interval: 5})
    app.stdin.write('j')
    await vi.waitFor(() => expect(app.lastFrame()).toContain('\u001B[7m'), {timeout: 3000, interval: 5})

    // How many frames Ink composes depends on its CI mode; the one with the selected row must be among them.
    const frames = seen.filter((output) => output.width === columns)
    expect(frames.some((output) => inkText(output).output.includes('\u001B[7m'))).toBe(true)
    for (const output of frames) {
      const composed = composeOutput(output, isNarrow)
      expect(composed).toBeDefined()
      expect(composed).toEqual(inkText(output))
    }
  })

  it('installs into the Ink that import("ink") loads, once', async () => {
    expect(await installInkCompositor()).toBe(Output)
    expect(await installInkCompositor()).toBe(Output)
    expect(installCompositor(Output)).toBe(inkGet)
    expect(Output.prototype.get).not.toBe(inkGet)
  })
})
