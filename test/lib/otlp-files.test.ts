import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as zlib from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {tarEnd, tarHeader, tarPadding} from '../../src/lib/bundle/tar.js'
import {ExitCode} from '../../src/lib/errors.js'
import {readPrivateKeyFile} from '../../src/lib/keys/index.js'
import {type OtlpMessage, OtlpFileError, type ReadOtlpOptions, expandInputs, readOtlpInputs} from '../../src/lib/otlp/files.js'
import {decodeTraces} from '../../src/lib/otlp/index.js'
import {CaseInsensitiveSearch} from '../../src/lib/otlp/text-search.js'
import {buildBundle} from '../contract-server/evidence.js'
import {encodeLogsRequest, encodeTraceRequest, lengthPrefixed} from '../contract-server/otlp-proto.js'
import {projectRoot, scratchDir} from '../helpers/cli.js'
import {seededRandom} from '../helpers/random.js'

const FIXTURES = join(projectRoot, 'test/fixtures/otlp/files')
const MiB = 1 << 20
const TRACE = '5b8efff798038103d269b633813fc60c'
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c'
const hasZstd = typeof (zlib as unknown as {zstdDecompressSync?: unknown}).zstdDecompressSync === 'function'

let scratch: {path: string; cleanup: () => void}
beforeAll(() => {
  scratch = scratchDir('stella-otlp-files-')
})
afterAll(() => scratch.cleanup())

function file(name: string, content: string | Uint8Array): string {
  const path = join(scratch.path, name)
  mkdirSync(join(path, '..'), {recursive: true})
  writeFileSync(path, content)
  return path
}

function resourceSpans(traceId: string, names: readonly string[], filler = ''): unknown[] {
  return [{
    resource: {attributes: [{key: 'service.name', value: {stringValue: 'checkout'}}]},
    scopeSpans: [{
      scope: {name: 'test'},
      spans: names.map((name, i) => ({
        traceId,
        spanId: `${(i + 1).toString(16).padStart(16, '0')}`,
        name,
        kind: 2,
        startTimeUnixNano: '1764000000000000000',
        endTimeUnixNano: '1764000000250000000',
        attributes: filler === '' ? [] : [{key: 'filler', value: {stringValue: filler}}],
      })),
    }],
  }]
}

function resourceLogs(traceId: string, bodies: readonly string[]): unknown[] {
  return [{
    resource: {attributes: [{key: 'service.name', value: {stringValue: 'checkout'}}]},
    scopeLogs: [{scope: {name: 'test'}, logRecords: bodies.map((body) => ({timeUnixNano: '1764000000100000000', severityNumber: 9, body: {stringValue: body}, traceId, spanId: '0000000000000001'}))}],
  }]
}

const traceLine = (traceId: string, names: readonly string[], filler = ''): string => JSON.stringify({resourceSpans: resourceSpans(traceId, names, filler)})
const logsLine = (traceId: string, bodies: readonly string[]): string => JSON.stringify({resourceLogs: resourceLogs(traceId, bodies)})
const metricsLine = (): string => JSON.stringify({resourceMetrics: [{scopeMetrics: [{metrics: [{name: 'http.requests', sum: {dataPoints: [{asInt: '3', timeUnixNano: '1764000000000000000'}], aggregationTemporality: 2, isMonotonic: true}}]}]}]})

async function collect(inputs: readonly string[], options?: ReadOtlpOptions): Promise<OtlpMessage[]> {
  const messages: OtlpMessage[] = []
  for await (const message of readOtlpInputs(inputs, options)) messages.push(message)
  return messages
}

/** What the tests compare: everything but the bytes, which become text (JSON) or hex (protobuf). */
function summary(messages: readonly OtlpMessage[]): {source: string; format: string; signal: string; offset: number; content: string}[] {
  return messages.map((m) => ({source: m.source, format: m.format, signal: m.signal, offset: m.offset, content: Buffer.from(m.bytes).toString(m.format === 'json' ? 'utf8' : 'hex')}))
}

async function failure(run: () => Promise<unknown>): Promise<OtlpFileError> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(OtlpFileError)
    expect((error as OtlpFileError).exitCode).toBe(ExitCode.Input)
    return error as OtlpFileError
  }

  throw new Error('expected an OtlpFileError')
}

function mustContain(traceId: string): NonNullable<ReadOtlpOptions['mustContain']> {
  return {text: traceId, binary: Buffer.from(traceId, 'hex')}
}

describe('expandInputs', () => {
  let root: string
  beforeAll(() => {
    root = join(scratch.path, 'tree')
    for (const name of ['b.json', 'a.json', 'sub/c.json', 'sub/deeper/d.pb', 'sub/.hidden.json', '.hidden/e.json', 'other/f.json', 'other/g.txt', 'rot-1.json', 'rot-2.json', 'rot-10.json']) {
      file(join('tree', name), '')
    }

    mkdirSync(join(root, 'empty'))
    symlinkSync(join(root, 'sub'), join(root, 'other', 'link-to-sub'))
    symlinkSync(join(root, 'a.json'), join(root, 'other', 'link-to-a.json'))
  })

  const relative = (paths: string[]): string[] => paths.map((path) => path.slice(root.length + 1))

  it('lists a directory recursively in path order, skipping hidden names and symbolic links to directories', async () => {
    expect(relative(await expandInputs([root]))).toEqual([
      'a.json', 'b.json', 'other/f.json', 'other/g.txt', 'other/link-to-a.json', 'rot-1.json', 'rot-10.json', 'rot-2.json', 'sub/c.json', 'sub/deeper/d.pb',
    ])
  })

  it('keeps the order of the inputs and reads a file named twice once', async () => {
    expect(relative(await expandInputs([join(root, 'b.json'), join(root, 'sub'), join(root, 'a.json'), join(root, 'b.json')]))).toEqual(['b.json', 'sub/c.json', 'sub/deeper/d.pb', 'a.json'])
  })

  it('matches *, ? and ** globs, sorted, hidden names only for a pattern that starts with a dot', async () => {
    expect(relative(await expandInputs([join(root, '*.json')]))).toEqual(['a.json', 'b.json', 'rot-1.json', 'rot-10.json', 'rot-2.json'])
    expect(relative(await expandInputs([join(root, 'rot-?.json')]))).toEqual(['rot-1.json', 'rot-2.json'])
    expect(relative(await expandInputs([join(root, '**/*.json')]))).toEqual([
      'a.json', 'b.json', 'other/f.json', 'other/link-to-a.json', 'rot-1.json', 'rot-10.json', 'rot-2.json', 'sub/c.json',
    ])
    expect(relative(await expandInputs([join(root, 'sub/**')]))).toEqual(['sub/c.json', 'sub/deeper/d.pb'])
    expect(relative(await expandInputs([join(root, 'sub/.*.json')]))).toEqual(['sub/.hidden.json'])
    // A directory a glob matches stands for its files.
    expect(relative(await expandInputs([join(root, 's*')]))).toEqual(['sub/c.json', 'sub/deeper/d.pb'])
  })

  it('matches a relative glob against the working directory', async () => {
    const cwd = process.cwd()
    process.chdir(root)
    try {
      expect(await expandInputs(['sub/*/*.pb', '*.json'])).toEqual(['sub/deeper/d.pb', 'a.json', 'b.json', 'rot-1.json', 'rot-10.json', 'rot-2.json'])
    } finally {
      process.chdir(cwd)
    }
  })

  it('says which input is missing, empty or matches nothing', async () => {
    const missing = await failure(() => expandInputs([join(root, 'nope.json')]))
    expect(missing.code).toBe('OTLP_INPUT_UNREADABLE')
    expect(missing.message).toBe(`${join(root, 'nope.json')}: cannot read it: no such file or directory`)

    const empty = await failure(() => expandInputs([join(root, 'empty')]))
    expect(empty.code).toBe('OTLP_NO_INPUT')
    expect(empty.message).toBe(`${join(root, 'empty')}: the directory holds no files (hidden files are skipped)`)

    const nothing = await failure(() => expandInputs([join(root, '*.yaml')]))
    expect(nothing.code).toBe('OTLP_NO_INPUT')
    expect(nothing.message).toBe(`${join(root, '*.yaml')}: no file matches this pattern`)
    expect(nothing.remedy).toBe('Check the pattern; quote it so the shell does not expand it first.')
  })
})

describe('JSON lines', () => {
  it('yields one message per line with its signal and offset; blank lines and \\r\\n endings are fine', async () => {
    const lines = [traceLine(TRACE, ['GET /cart']), logsLine(TRACE, ['cart loaded']), metricsLine()]
    const path = file('lines.jsonl', `${lines[0]}\r\n\n   \n${lines[1]}\n${lines[2]}\n\n`)
    const second = lines[0]!.length + 2 + 1 + 4
    expect(summary(await collect([path]))).toEqual([
      {source: path, format: 'json', signal: 'traces', offset: 0, content: lines[0]},
      {source: path, format: 'json', signal: 'logs', offset: second, content: lines[1]},
      {source: path, format: 'json', signal: 'metrics', offset: second + lines[1]!.length + 1, content: lines[2]},
    ])
  })

  it('reads the fixture as the Collector file exporter writes it', async () => {
    const path = join(FIXTURES, 'traces.jsonl')
    const lines = readFileSync(path, 'utf8').split('\n')
    expect(summary(await collect([path]))).toEqual([
      {source: path, format: 'json', signal: 'traces', offset: 0, content: lines[0]},
      {source: path, format: 'json', signal: 'logs', offset: lines[0]!.length + 1, content: lines[1]},
    ])
  })

  it('keeps only the signals asked for', async () => {
    const path = file('signals.jsonl', `${traceLine(TRACE, ['a'])}\n${logsLine(TRACE, ['b'])}\n${metricsLine()}\n`)
    expect((await collect([path], {signals: ['logs', 'metrics']})).map((m) => m.signal)).toEqual(['logs', 'metrics'])
  })

  it('finds the signal of a line whose first key is another one, and skips an empty request', async () => {
    const line = `{"schemaUrl":"x", "resourceLogs":${JSON.stringify(resourceLogs(TRACE, ['x']))}}`
    const path = file('keys.jsonl', `{}\n${line}\n { "resourceSpans" : [] }\n`)
    expect(summary(await collect([path])).map(({signal, offset}) => ({signal, offset}))).toEqual([
      {signal: 'logs', offset: 3},
      {signal: 'traces', offset: 3 + line.length + 1},
    ])
  })

  it('rejects a line that is not JSON, or JSON of no signal, naming the file and offset', async () => {
    const first = traceLine(TRACE, ['a'])
    const broken = file('broken.jsonl', `${first}\n{"resource": [oops\n`)
    const notJson = await failure(() => collect([broken]))
    expect(notJson.code).toBe('OTLP_NOT_JSON')
    expect(notJson.message).toMatch(new RegExp(`^${broken}: a line of this JSON-lines file is not JSON: .+ \\(offset ${first.length + 1}\\)$`))
    expect(notJson.offset).toBe(first.length + 1)

    const other = file('other.jsonl', '{"level":"info","msg":"hello"}\n')
    const unknown = await failure(() => collect([other]))
    expect(unknown.code).toBe('OTLP_UNKNOWN_SIGNAL')
    expect(unknown.message).toBe(`${other}: a JSON object with "level", "msg" is not an OTLP export request (it has no resourceSpans, resourceLogs or resourceMetrics) (offset 0)`)
  })

  it('accepts a complete last line without a newline, and calls an unfinished one truncated', async () => {
    const first = traceLine(TRACE, ['a'])
    const complete = file('no-newline.jsonl', `${first}\n${logsLine(TRACE, ['b'])}  `)
    expect((await collect([complete])).map((m) => m.signal)).toEqual(['traces', 'logs'])

    const cut = file('cut.jsonl', `${first}\n${first.slice(0, 40)}`)
    const error = await failure(() => collect([cut]))
    expect(error.code).toBe('OTLP_TRUNCATED')
    expect(error.message).toBe(`${cut}: the last line is unfinished JSON without a newline (the file is cut short, or still being written) (offset ${first.length + 1})`)
  })

  it('rejects a line past maxMessageBytes, within a chunk and across chunks', async () => {
    const short = traceLine(TRACE, ['a'])
    const long = traceLine(TRACE, ['b'], 'x'.repeat(3000))
    const path = file('long.jsonl', `${short}\n${long}\n`)
    const error = await failure(() => collect([path], {maxMessageBytes: 2048}))
    expect(error.code).toBe('OTLP_TOO_LARGE')
    expect(error.message).toBe(`${path}: a line is longer than the 2048-byte limit (offset ${short.length + 1})`)

    const huge = file('huge.jsonl', `${short}\n${traceLine(TRACE, ['c'], 'y'.repeat(3 * MiB))}\n`)
    const across = await failure(() => collect([huge], {maxMessageBytes: 2 * MiB}))
    expect(across.message).toBe(`${huge}: a line is longer than the 2 MiB limit (offset ${short.length + 1})`)
    // The same with a search: the long line is still measured.
    const searched = await failure(() => collect([huge], {maxMessageBytes: 2 * MiB, mustContain: mustContain(TRACE)}))
    expect(searched.code).toBe('OTLP_TOO_LARGE')
  })

  it('reads a pretty-printed JSON document as one message', async () => {
    const document = `${JSON.stringify({resourceSpans: resourceSpans(TRACE, ['a', 'b'])}, null, 2)}\n`
    const path = file('pretty.json', document)
    expect(summary(await collect([path]))).toEqual([{source: path, format: 'json', signal: 'traces', offset: 0, content: document}])
    expect(await collect([path], {mustContain: mustContain(OTHER_TRACE)})).toEqual([])
  })

  it('yields nothing for an empty file or one of white space', async () => {
    expect(await collect([file('empty.jsonl', ''), file('space.jsonl', '\n\n  \n')])).toEqual([])
  })
})

describe('mustContain', () => {
  it('keeps the lines that hold the id in any letter case, and nothing else', async () => {
    const mixed = `${TRACE.slice(0, 10).toUpperCase()}${TRACE.slice(10)}`
    const lines = [traceLine(TRACE, ['a']), traceLine(OTHER_TRACE, ['b']), traceLine(TRACE.toUpperCase(), ['c']), logsLine(TRACE, ['d']), logsLine(OTHER_TRACE, ['e']), logsLine(mixed, ['f'])]
    const path = file('search.jsonl', `${lines.join('\n')}\n`)
    const found = await collect([path], {mustContain: mustContain(TRACE.toUpperCase())})
    expect(found.map((m) => Buffer.from(m.bytes).toString())).toEqual([lines[0], lines[2], lines[3], lines[5]])
    const offsetOf = (index: number): number => lines.slice(0, index).reduce((sum, line) => sum + line.length + 1, 0)
    expect(found.map((m) => m.offset)).toEqual([0, offsetOf(2), offsetOf(3), offsetOf(5)])
  })

  it.each([1, 2, 16, 31])('finds an id that straddles a 1 MiB chunk boundary (%i bytes before it), in a line begun two chunks earlier', async (before) => {
    const prefix = '{"resourceSpans":[],"note":"'
    const filler = 'f'.repeat(2 * MiB - before - prefix.length)
    const line = `${prefix}${filler}${TRACE.toUpperCase()}"}`
    const other = `${prefix}${'g'.repeat(100)}"}`
    const path = file(`straddle-${before}.jsonl`, `${line}\n${other}\n`)
    expect(line.indexOf(TRACE.toUpperCase())).toBe(2 * MiB - before)
    const found = await collect([path], {mustContain: mustContain(TRACE)})
    expect(found.map((m) => ({offset: m.offset, length: m.bytes.length}))).toEqual([{offset: 0, length: line.length}])
    expect(Buffer.from(found[0]!.bytes).toString()).toBe(line)
  })

  // The fast path cuts lines out around hits in raw 1 MiB chunks; a plain split-and-filter is the oracle.
  it.each([1, 2, 3, 4])('agrees with splitting the file into lines and filtering them (seed %i)', async (seed) => {
    const random = seededRandom(seed)
    const ids = [TRACE, TRACE.toUpperCase(), OTHER_TRACE, 'c'.repeat(32)]
    const parts: string[] = []
    let size = 0
    while (size < 5 * MiB) {
      const roll = random()
      const filler = 'f'.repeat(roll < 0.05 ? Math.floor(random() * 1.5 * MiB) : Math.floor(random() * 4000))
      const id = ids[Math.floor(random() * ids.length)]!
      const line = roll < 0.1 ? '' : roll < 0.6 ? traceLine(id, ['s'], filler) : logsLine(id, [filler])
      const ending = random() < 0.2 ? '\r\n' : '\n'
      parts.push(line + ending)
      size += line.length + ending.length
    }

    const content = parts.join('')
    const path = file(`random-${seed}.jsonl`, content)
    const expected: {offset: number; text: string}[] = []
    let offset = 0
    for (const part of parts) {
      const text = part.replace(/\r?\n$/, '')
      if (text.trim() !== '' && text.toLowerCase().includes(TRACE)) expected.push({offset, text})
      offset += part.length
    }

    const found = await collect([path], {mustContain: mustContain(TRACE)})
    expect(found.map((m) => ({offset: m.offset, text: Buffer.from(m.bytes).toString()}))).toEqual(expected)
    expect(expected.length).toBeGreaterThan(3)
    // Without a search every non-blank line comes out.
    expect((await collect([path])).length).toBe(parts.filter((part) => part.trim() !== '').length)
  })
})

describe('CaseInsensitiveSearch', () => {
  const naive = (haystack: string, needle: string, from: number, end: number): number => haystack.slice(0, end).toLowerCase().indexOf(needle.toLowerCase(), from)

  it.each([1, 2, 3, 7, 32, 300])('finds what a lower-cased indexOf finds, for a %i-byte text', (length) => {
    const random = seededRandom(length)
    const alphabet = 'abcdefABCDEF0123456789"{}:,xyzXYZ'
    const letter = (): string => alphabet[Math.floor(random() * alphabet.length)]!
    for (let round = 0; round < 200; round++) {
      const needle = Array.from({length}, letter).join('')
      const pieces: string[] = []
      for (let i = 0; i < 20; i++) {
        pieces.push(Array.from({length: Math.floor(random() * 40)}, letter).join(''))
        if (random() < 0.3) pieces.push([...needle].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join(''))
      }

      const haystack = pieces.join('')
      const bytes = Buffer.from(haystack)
      const search = new CaseInsensitiveSearch(needle)
      const from = Math.floor(random() * 10)
      const end = haystack.length - Math.floor(random() * 10)
      expect(search.indexIn(bytes, from, end), `${needle} in ${haystack} [${from}, ${end})`).toBe(naive(haystack, needle, from, end))
    }
  })

  // Long inputs are searched in four lanes: every occurrence must still be found, first one first,
  // wherever it falls (inside a lane, across the seam of two, at either end) and however many.
  it.each([2, 3, 16, 32, 100])('finds every occurrence in long hex-like text, across lane seams, for a %i-byte text', (length) => {
    const random = seededRandom(1000 + length)
    const hex = '0123456789abcdefABCDEF'
    const text = (n: number): string => Array.from({length: n}, () => hex[Math.floor(random() * hex.length)]!).join('')
    for (let round = 0; round < 40; round++) {
      const needle = text(length)
      const size = 1100 + Math.floor(random() * 60_000)
      const chars = [...text(size)]
      const quarter = Math.floor((size - length + 1) / 4)
      // Around each lane's start (offsets are window ends, so a window ending there starts length - 1 before).
      const seams = [0, 1, 2, 3].map((lane) => lane * quarter)
      const spots = [...seams.flatMap((seam) => [seam - length, seam - 1, seam, seam + 1].map((at) => at + length - 1 - Math.floor(random() * length))), Math.floor(random() * size), size - length]
      for (const at of spots) {
        if (at < 0 || at + length > size || random() < 0.4) continue
        for (let i = 0; i < length; i++) chars[at + i] = random() < 0.5 ? needle[i]!.toUpperCase() : needle[i]!.toLowerCase()
      }

      const haystack = chars.join('')
      const bytes = Buffer.from(haystack)
      const search = new CaseInsensitiveSearch(needle)
      const expected: number[] = []
      for (let at = naive(haystack, needle, 0, size); at !== -1; at = naive(haystack, needle, at + 1, size)) expected.push(at)
      const found: number[] = []
      for (let at = search.indexIn(bytes, 0, size); at !== -1; at = search.indexIn(bytes, at + 1, size)) found.push(at)
      expect(found, `${needle} (${size} bytes)`).toEqual(expected)
      const from = Math.floor(random() * 100)
      const end = size - Math.floor(random() * 100)
      expect(search.indexIn(bytes, from, end)).toBe(naive(haystack, needle, from, end))
    }
  })
})

describe('the proto format (length-prefixed)', () => {
  const trace = encodeTraceRequest(resourceSpans(TRACE, ['GET /cart', 'SELECT']))
  const other = encodeTraceRequest(resourceSpans(OTHER_TRACE, ['POST /pay']))
  const logs = encodeLogsRequest(resourceLogs(TRACE, ['cart loaded']))

  it('yields each message with the signal its content says and its offset', async () => {
    const path = file('data.pb', lengthPrefixed([trace, logs, Buffer.alloc(0), other]))
    expect(summary(await collect([path]))).toEqual([
      {source: path, format: 'proto', signal: 'traces', offset: 0, content: trace.toString('hex')},
      {source: path, format: 'proto', signal: 'logs', offset: 4 + trace.length, content: logs.toString('hex')},
      {source: path, format: 'proto', signal: 'traces', offset: 12 + trace.length + logs.length, content: other.toString('hex')},
    ])
    expect((await collect([path], {signals: ['logs']})).map((m) => m.offset)).toEqual([4 + trace.length])
  })

  it('keeps only messages holding the binary id', async () => {
    const path = file('search.pb', lengthPrefixed([trace, other, logs]))
    expect((await collect([path], {mustContain: mustContain(OTHER_TRACE)})).map((m) => m.offset)).toEqual([4 + trace.length])
    expect((await collect([path], {mustContain: mustContain(TRACE)})).map((m) => m.signal)).toEqual(['traces', 'logs'])
  })

  it('reassembles messages and prefixes split across 1 MiB chunks', async () => {
    const random = seededRandom(7)
    const messages: Buffer[] = []
    let size = 0
    while (size < 4 * MiB) {
      const filler = 'z'.repeat(Math.floor(random() * 700_000))
      const message = random() < 0.5 ? encodeTraceRequest(resourceSpans(random() < 0.5 ? TRACE : OTHER_TRACE, ['s'], filler)) : encodeLogsRequest(resourceLogs(OTHER_TRACE, [filler]))
      messages.push(message)
      size += message.length + 4
    }

    const path = file('big.pb', lengthPrefixed(messages))
    const found = await collect([path])
    expect(found.map((m) => Buffer.from(m.bytes).equals(messages[found.indexOf(m)]!))).toEqual(messages.map(() => true))
    let offset = 0
    expect(found.map((m) => m.offset)).toEqual(messages.map((message) => {
      const at = offset
      offset += message.length + 4
      return at
    }))
    const withTrace = messages.filter((message) => message.includes(Buffer.from(TRACE, 'hex')))
    expect((await collect([path], {mustContain: mustContain(TRACE)})).map((m) => Buffer.from(m.bytes).toString('hex'))).toEqual(withTrace.map((m) => m.toString('hex')))
  })

  it('calls a message cut short, or a prefix cut short, truncated', async () => {
    const body = lengthPrefixed([trace, logs])
    const cut = file('cut.pb', body.subarray(0, body.length - 10))
    const error = await failure(() => collect([cut]))
    expect(error.code).toBe('OTLP_TRUNCATED')
    expect(error.message).toBe(`${cut}: the last message is cut short: its length prefix says ${logs.length} bytes, only ${logs.length - 10} follow (offset ${4 + trace.length})`)

    const prefix = file('cut-prefix.pb', body.subarray(0, 4 + trace.length + 2))
    const inPrefix = await failure(() => collect([prefix]))
    expect(inPrefix.code).toBe('OTLP_TRUNCATED')
    expect(inPrefix.message).toBe(`${prefix}: the data ends inside a 4-byte length prefix (2 of 4 bytes) (offset ${4 + trace.length})`)
  })

  it('refuses a length past maxMessageBytes, and data that is no OTLP at all', async () => {
    const [small, big] = [trace, logs].sort((a, b) => a.length - b.length) as [Buffer, Buffer]
    expect(small.length).toBeLessThan(big.length)
    const path = file('large.pb', lengthPrefixed([small, big]))
    const error = await failure(() => collect([path], {maxMessageBytes: small.length}))
    expect(error.code).toBe('OTLP_TOO_LARGE')
    expect(error.message).toBe(`${path}: a length prefix says ${big.length} bytes, more than the ${small.length}-byte limit; is this an OTLP file? JSON lines begin with "{", the proto format with a 4-byte big-endian length (offset ${4 + small.length})`)

    const text = file('notes.txt', 'hello, this is not telemetry\n')
    expect((await failure(() => collect([text]))).message).toBe(`${text}: a length prefix says 1751477356 bytes, more than the 64 MiB limit; is this an OTLP file? JSON lines begin with "{", the proto format with a 4-byte big-endian length (offset 0)`)

    const garbage = file('garbage.pb', lengthPrefixed([Buffer.from([0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff])]))
    const unknown = await failure(() => collect([garbage]))
    expect(unknown.code).toBe('OTLP_UNKNOWN_SIGNAL')
    expect(unknown.message).toBe(`${garbage}: a 7-byte message is not an OTLP trace, logs or metrics export request (offset 0)`)
  })

  it('skips a well-formed request that holds no record', async () => {
    const empty = encodeTraceRequest([{resource: {attributes: [{key: 'service.name', value: {stringValue: 'idle'}}]}, scopeSpans: [{scope: {name: 'test'}, spans: []}]}])
    expect(await collect([file('no-records.pb', lengthPrefixed([empty]))])).toEqual([])
  })

  it('inflates messages compressed one by one (gzip here, zstd where the runtime has it)', async () => {
    const json = Buffer.from(logsLine(TRACE, ['in json']))
    const path = file('per-message.bin', lengthPrefixed([zlib.gzipSync(trace), zlib.gzipSync(json)]))
    expect(summary(await collect([path]))).toEqual([
      {source: path, format: 'proto', signal: 'traces', offset: 0, content: trace.toString('hex')},
      {source: path, format: 'json', signal: 'logs', offset: 4 + zlib.gzipSync(trace).length, content: json.toString()},
    ])

    const fixture = join(FIXTURES, 'traces-zstd-messages.bin')
    if (hasZstd) {
      const lines = readFileSync(join(FIXTURES, 'traces.jsonl'), 'utf8').split('\n')
      expect((await collect([fixture])).map((m) => Buffer.from(m.bytes).toString())).toEqual(lines.slice(0, 2))
    } else {
      const error = await failure(() => collect([fixture]))
      expect(error.code).toBe('OTLP_ZSTD_UNSUPPORTED')
      expect(error.message).toBe(`${fixture}: a message is zstd-compressed, and this Node.js (${process.version}) cannot decompress zstd (offset 0)`)
      expect(error.remedy).toBe('Run stella on Node.js 22.15 or later, which has zstd built in, or let the Collector file exporter write without `compression`.')
    }
  })
})

describe('compressed files', () => {
  it('reads gzip-compressed JSON lines and proto files, several members included', async () => {
    const lines = `${traceLine(TRACE, ['a'])}\n${logsLine(TRACE, ['b'])}\n`
    const path = file('lines.jsonl.gz', Buffer.concat([zlib.gzipSync(lines.slice(0, 100)), zlib.gzipSync(lines.slice(100))]))
    expect(summary(await collect([path]))).toEqual(summary(await collect([file('plain.jsonl', lines)])).map((m) => ({...m, source: path})))

    const proto = lengthPrefixed([encodeTraceRequest(resourceSpans(TRACE, ['a']))])
    // Named .json: the content decides, not the name.
    const protoPath = file('misnamed.json', zlib.gzipSync(proto))
    expect((await collect([protoPath])).map((m) => [m.format, m.signal])).toEqual([['proto', 'traces']])
  })

  it('says when gzip data is corrupt or cut short, with offsets in the decompressed data', async () => {
    const gz = zlib.gzipSync(`${traceLine(TRACE, ['a'])}\n`.repeat(50))
    const cut = file('cut.jsonl.gz', gz.subarray(0, gz.length - 30))
    const truncated = await failure(() => collect([cut]))
    expect(truncated.code).toBe('OTLP_TRUNCATED')
    expect(truncated.message).toBe(`${cut}: the gzip data ends too soon (the file is cut short, or still being written)`)

    const corrupt = Buffer.from(gz)
    corrupt.fill(0xff, 20, 40)
    const bad = file('corrupt.jsonl.gz', corrupt)
    const error = await failure(() => collect([bad]))
    expect(error.code).toBe('OTLP_BAD_COMPRESSION')
    expect(error.message).toMatch(new RegExp(`^${bad}: the gzip data is corrupt: `))

    const long = file('long.jsonl.gz', zlib.gzipSync(`${traceLine(TRACE, ['a'], 'x'.repeat(5000))}\n`))
    expect((await failure(() => collect([long], {maxMessageBytes: 4096}))).message).toBe(`${long}: a line is longer than the 4096-byte limit (offset in the decompressed data) (offset 0)`)
  })

  it('reads a zstd-compressed file where the runtime has zstd, and says how to read it where not', async () => {
    const path = join(FIXTURES, 'traces.jsonl.zst')
    if (hasZstd) {
      expect((await collect([path])).map((m) => m.signal)).toEqual(['traces', 'logs'])
      return
    }

    const error = await failure(() => collect([path]))
    expect(error.code).toBe('OTLP_ZSTD_UNSUPPORTED')
    expect(error.message).toBe(`${path}: the file is zstd-compressed, and this Node.js (${process.version}) cannot decompress zstd`)
    expect(error.remedy).toBe('Decompress it first (`zstd -d FILE`), or run stella on Node.js 22.15 or later, which has zstd built in.')
  })
})

describe('bundles', () => {
  const traces = [encodeTraceRequest(resourceSpans(TRACE, ['GET /cart'])), encodeTraceRequest(resourceSpans(OTHER_TRACE, ['POST /pay']))]
  const logs = [encodeLogsRequest(resourceLogs(TRACE, ['cart loaded']))]
  let bundle: string

  beforeAll(async () => {
    const key = await readPrivateKeyFile(join(projectRoot, 'test/contract-server/keys/server.pem'))
    const built = await buildBundle(
      [{path: 'otlp/traces.pb', bytes: lengthPrefixed(traces)}, {path: 'otlp/logs.pb', bytes: lengthPrefixed(logs)}],
      {kind: 'telemetry', tenant: 'acme', caseId: 'case-1', createdAt: '2026-11-22T10:00:00Z', subject: {type: 'telemetry', id: 'forensic/1h'}, window: {from: '2026-11-22T09:00:00Z', to: '2026-11-22T10:00:00Z'}},
      key,
    )
    bundle = file('capture.tgz', built.bytes)
  })

  it('streams the otlp/ entries of a telemetry bundle, their signal from their name', async () => {
    expect(summary(await collect([bundle]))).toEqual([
      {source: `${bundle}:otlp/logs.pb`, format: 'proto', signal: 'logs', offset: 0, content: logs[0]!.toString('hex')},
      {source: `${bundle}:otlp/traces.pb`, format: 'proto', signal: 'traces', offset: 0, content: traces[0]!.toString('hex')},
      {source: `${bundle}:otlp/traces.pb`, format: 'proto', signal: 'traces', offset: 4 + traces[0]!.length, content: traces[1]!.toString('hex')},
    ])
    expect((await collect([bundle], {signals: ['traces'], mustContain: mustContain(OTHER_TRACE)})).map((m) => m.offset)).toEqual([4 + traces[0]!.length])
  })

  it('reads a plain tar too, and says so when an archive holds no OTLP', async () => {
    const content = lengthPrefixed(traces)
    const tar = Buffer.concat([tarHeader({path: 'otlp/traces.pb', size: content.length, type: 'file', mtime: 0}), content, tarPadding(content.length), tarEnd()])
    expect((await collect([file('plain.tar', tar)])).length).toBe(2)

    const note = Buffer.from('{"kind":"evaluation"}')
    const other = file('evaluation.tgz', zlib.gzipSync(Buffer.concat([tarHeader({path: 'manifest.json', size: note.length, type: 'file', mtime: 0}), note, tarPadding(note.length), tarEnd()])))
    const error = await failure(() => collect([other]))
    expect(error.code).toBe('OTLP_NOT_TELEMETRY_BUNDLE')
    expect(error.message).toBe(`${other}: this archive holds no otlp/ files and is not a telemetry bundle`)
  })

  it('reports a damaged bundle as the archive error of that file', async () => {
    const bytes = readFileSync(bundle)
    const cut = file('cut.tgz', bytes.subarray(0, bytes.length - 100))
    const error = await failure(() => collect([cut]))
    expect(error.code).toBe('OTLP_TRUNCATED')
    expect(error.message).toMatch(new RegExp(`^${cut}: `))
  })
})

describe('reading', () => {
  it('reads files one after another, in the order expandInputs gives', async () => {
    const dir = join(scratch.path, 'ordered')
    const a = file('ordered/a.jsonl', `${traceLine(TRACE, ['a'])}\n`)
    const b = file('ordered/b.pb', lengthPrefixed([encodeTraceRequest(resourceSpans(TRACE, ['b']))]))
    const names = (await collect([dir])).map((m) => decodeTraces(m.format === 'proto' ? m.bytes : encodeTraceRequest(JSON.parse(Buffer.from(m.bytes).toString()).resourceSpans))[0]!.name)
    expect(names).toEqual(['a', 'b'])
    expect((await collect([b, a])).map((m) => m.source)).toEqual([b, a])
  })

  it('reads several large files through the same read buffers, each file its own bytes', async () => {
    // Lines of ~100 KB, files of 9 and 6 MiB: many 4 MiB reads, and lines across every read boundary.
    const lines = (traceId: string, count: number, letter: string): string[] => Array.from({length: count}, (_, i) => traceLine(i % 7 === 3 ? traceId : OTHER_TRACE, [`${letter}${i}`], letter.repeat(100_000 + i)))
    const first = lines(TRACE, 90, 'x')
    const second = lines(TRACE, 60, 'y')
    const a = file('shared/a.jsonl', `${first.join('\n')}\n`)
    const b = file('shared/b.jsonl', `${second.join('\n')}\n`)
    const c = file('shared/c.jsonl', `${first.join('\n')}\n`)
    for (const options of [undefined, {mustContain: mustContain(TRACE)}]) {
      const together = summary(await collect([a, b, c], options))
      const apart = [...summary(await collect([a], options)), ...summary(await collect([b], options)), ...summary(await collect([c], options))]
      expect(together).toEqual(apart)
      const wanted = (all: string[]): string[] => (options ? all.filter((line) => line.includes(TRACE)) : all)
      expect(together.map((m) => m.content)).toEqual([...wanted(first), ...wanted(second), ...wanted(first)])
    }
  })

  it('holds a file whose format is not told by its first reads, through buffers read over again', async () => {
    // White space longer than several reads before the first line: the format waits for the JSON.
    const lines = [traceLine(TRACE, ['after the blank']), traceLine(OTHER_TRACE, ['other']), traceLine(TRACE, ['last'])]
    for (const blank of [5 * MiB + 17, 9 * MiB + 3]) {
      const path = file(`blank-${blank}.jsonl`, `${' '.repeat(blank - 1)}\n${lines.join('\n')}\n`)
      const other = file(`after-${blank}.jsonl`, `${lines[1]}\n`)
      for (const options of [undefined, {mustContain: mustContain(TRACE)}]) {
        const contents = summary(await collect([path, other], options)).map((m) => m.content)
        expect(contents, `${blank} ${options ? 'searching' : 'all'}`).toEqual(options ? [lines[0], lines[2]] : [...lines, lines[1]])
      }
    }

    // A file of length prefixes read in pieces shorter than a tar header is still the proto format.
    const proto = file('short-first.pb', lengthPrefixed([encodeTraceRequest(resourceSpans(TRACE, ['p']))]))
    expect((await collect([proto])).map((m) => m.format)).toEqual(['proto'])
  })

  it('stops reading when the consumer stops', async () => {
    const path = file('many.jsonl', `${traceLine(TRACE, ['a'], 'p'.repeat(1000))}\n`.repeat(5000))
    let seen = 0
    for await (const message of readOtlpInputs([path])) {
      expect(message.signal).toBe('traces')
      if (++seen === 3) break
    }

    expect(seen).toBe(3)
  })
})
