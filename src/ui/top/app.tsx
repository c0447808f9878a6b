/**
 * The live dashboard: polls the source, keeps the viewer's choices, and draws the lines that
 * layout.ts composes (the same lines renderTopFrame joins into text).
 */
import {Box, type Key, Text, type TextProps, useApp, useInput, useStdout} from 'ink'
import {Fragment, type ReactNode, useEffect, useMemo, useRef, useState} from 'react'

import type {TopSnapshot, TopSource} from '../../services/obs/top-model.js'
import {displayWidth, sliceColumns} from '../width.js'
import {type Frame, type Line, type Segment, type Tone, composeFrame, lineText} from './layout.js'
import {SnapshotPoller, markStale} from './poller.js'
import {INITIAL_VIEW, type KeyPress, type ViewState, reduceKey} from './state.js'

export interface TopAppProps {
  source: TopSource
  intervalMs: number
  title: string
  /** Colour on or off, as the command decided it (never Ink's own guess). */
  color: boolean
}

/** When the terminal does not say its size (not a TTY). */
const FALLBACK_SIZE = {columns: 80, rows: 24}

interface Feed {
  snapshot?: TopSnapshot
  waitingError?: string
}

export function TopApp({source, intervalMs, title, color}: TopAppProps) {
  const {exit} = useApp()
  const {stdout} = useStdout()

  const [size, setSize] = useState(() => terminalSize(stdout))
  useEffect(() => {
    const onResize = () => setSize(terminalSize(stdout))
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout])

  const [feed, setFeed] = useState<Feed>({})
  const poller = useRef<SnapshotPoller | undefined>(undefined)
  useEffect(() => {
    const current = new SnapshotPoller(source, intervalMs, {
      snapshot: (snapshot) => setFeed({snapshot}),
      failure: (error, at) => setFeed((last) => (last.snapshot === undefined ? {waitingError: error} : {snapshot: markStale(last.snapshot, error, at, intervalMs)})),
    })
    poller.current = current
    current.start()
    return () => current.stop()
  }, [source, intervalMs])

  const [view, setView] = useState<ViewState>(INITIAL_VIEW)
  // Keys can arrive several in one read, before React renders again: each must see the last one's result.
  const latestView = useRef(view)

  const frame = useMemo(
    () => composeFrame({snapshot: feed.snapshot, waitingError: feed.waitingError, state: view, columns: size.columns, rows: size.rows, title}),
    [feed, view, size, title],
  )
  const latestFrame = useRef<Frame>(frame)
  latestFrame.current = frame

  useInput((input: string, key: Key) => {
    for (const press of keyPresses(input, key)) {
      const before = latestView.current
      const {state, quit} = reduceKey(before, press, latestFrame.current)
      if (quit) {
        exit()
        return
      }

      if (state === before) continue
      // Right away, not in an effect: an answer arriving after the P must not be drawn.
      if (state.paused !== before.paused) poller.current?.setPaused(state.paused)
      latestView.current = state
      setView(state)
    }
  })

  return <FrameView lines={frame.lines} color={color} />
}

/**
 * Ink hands over plain text that arrived in one read as one string ("jjj" when j is held down, or
 * a paste): it is taken as one key press per character.
 */
function keyPresses(input: string, key: Key): KeyPress[] {
  const chars = [...input]
  if (chars.length <= 1 || key.ctrl || key.meta || key.escape) return [{...key, input}]
  return chars.map((char): KeyPress => {
    if (char === '\r') return {input: char, return: true}
    if (char === '\u007F' || char === '\b') return {input: '', backspace: true}
    if (char === '\u0003') return {input: 'c', ctrl: true}
    return {input: char}
  })
}

function terminalSize(stdout: NodeJS.WriteStream): {columns: number; rows: number} {
  return {columns: stdout.columns || FALLBACK_SIZE.columns, rows: stdout.rows || FALLBACK_SIZE.rows}
}

const TONE_STYLES: Record<Tone, TextProps> = {
  title: {bold: true},
  heading: {bold: true, color: 'cyan'},
  columns: {dimColor: true},
  dim: {dimColor: true},
  ok: {color: 'green'},
  elevated: {color: 'yellow'},
  warning: {color: 'red'},
  critical: {color: 'red', bold: true},
  alert: {color: 'white', backgroundColor: 'red', bold: true},
  notice: {color: 'black', backgroundColor: 'yellow'},
}

/**
 * The frame as a few multi-line <Text>s rather than one per line: Ink's cost grows with the nodes it
 * lays out and measures. The lines of a table with sparklines go into two side-by-side blocks, the
 * sparklines apart: Ink measures text with block characters on a path many times slower than plain
 * ASCII, and a line pays that price for all its characters if it holds one.
 */
function FrameView({lines, color}: {lines: readonly Line[]; color: boolean}) {
  const blocks: {first: number; lines: Line[]; split?: number}[] = []
  lines.forEach((line, index) => {
    const last = blocks.at(-1)
    if (last !== undefined && last.split === line.split) last.lines.push(line)
    else blocks.push({first: index, lines: [line], split: line.split})
  })

  return (
    <Box flexDirection="column">
      {blocks.map((block) =>
        block.split === undefined ? (
          <Text key={block.first}>{textOf(block.lines, color)}</Text>
        ) : (
          <Box key={block.first}>
            <Box width={block.split} flexShrink={0}>
              <Text>{textOf(block.lines.map((line) => sliceLine(line, 0, block.split!)), color)}</Text>
            </Box>
            <Text>{textOf(block.lines.map((line) => sliceLine(line, block.split!)), color)}</Text>
          </Box>
        ),
      )}
    </Box>
  )
}

/** Lines as the children of one <Text>: a string without colour, styled pieces with it. */
function textOf(lines: readonly Line[], color: boolean): ReactNode {
  if (!color) return lines.map(lineText).join('\n')
  return lines.map((line, index) => {
    const pieces = line.segments.map((segment, position) =>
      segment.tone === undefined ? (
        segment.text
      ) : (
        <Text key={position} {...TONE_STYLES[segment.tone]}>
          {segment.text}
        </Text>
      ),
    )
    return (
      <Fragment key={index}>
        {index > 0 ? '\n' : ''}
        {line.selected ? <Text inverse>{pieces}</Text> : pieces}
      </Fragment>
    )
  })
}

/** The columns [from, to) of a line, with their tones. */
function sliceLine(line: Line, from: number, to = Number.POSITIVE_INFINITY): Line {
  const segments: Segment[] = []
  let position = 0
  for (const segment of line.segments) {
    const width = displayWidth(segment.text)
    const start = Math.max(from, position)
    const end = Math.min(to, position + width)
    if (start < end) segments.push({...segment, text: sliceColumns(segment.text, start - position, end - position)})
    position += width
  }

  return {segments, selected: line.selected}
}
