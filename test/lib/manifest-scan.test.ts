/**
 * scanManifest reads manifest.json without building its JSON tree. Whenever it answers, the answer
 * must be exactly parseManifest's; it may decline (undefined) and leave the answer to parseManifest,
 * but never on a plain valid manifest, or the memory it saves would not be saved.
 */
import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {type CompactFileList, FileListBuilder} from '../../src/lib/bundle/file-ledger.js'
import {type Manifest, parseManifest} from '../../src/lib/bundle/manifest.js'
import {scanManifest} from '../../src/lib/bundle/manifest-scan.js'
import {seededRandom} from '../helpers/random.js'

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')

function manifestObject(paths: string[]): Record<string, unknown> {
  const files = [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map((path, i) => ({path, size: i * 7, sha256: sha(path)}))
  return {
    schema: 'https://stella-ops.org/schemas/evidence-bundle/v1',
    bundleId: 'eb_01JD8X3Q5R6S7T8V9W0XYZABCD',
    kind: 'telemetry',
    tenant: 'acme',
    caseId: 'case-42',
    createdAt: '2026-11-22T10:00:00Z',
    subject: {type: 'telemetry', id: 'capture-1'},
    window: {from: '2026-11-21T10:00:00Z', to: '2026-11-22T10:00:00Z'},
    files,
    merkle: {algorithm: 'rfc9162-sha256', leaf: 'path-nul-sha256', size: files.length, root: sha('root')},
  }
}

function filesOf(list: CompactFileList): Manifest['files'] {
  return Array.from({length: list.count}, (_, i) => ({
    path: Buffer.from(list.pathBytes.subarray(list.pathStart[i], list.pathStart[i + 1])).toString('utf8'),
    size: list.sizes[i]!,
    sha256: Buffer.from(list.digests.subarray(i * 32, i * 32 + 32)).toString('hex'),
  }))
}

/** The property: when the scanner answers, parseManifest succeeds with the same manifest. Returns whether it answered. */
function agrees(bytes: Uint8Array): boolean {
  const scanned = scanManifest(bytes)
  if (scanned === undefined) return false
  const parsed = parseManifest(bytes)
  const list = scanned.files.finish()
  expect({...scanned.head, files: filesOf(list)}).toEqual(parsed)
  expect(scanned.files.totalBytes).toBe(parsed.files.reduce((sum, file) => sum + file.size, 0))
  return true
}

const PATHS = ['otlp/traces.pb', 'otlp/logs.pb', 'notes/é-café.txt', 'a/b/c/d.json', 'emoji/😀.txt', 'z']

describe('scanManifest', () => {
  it.each([
    ['two-space JSON, as stella writes it', (m: object) => `${JSON.stringify(m, null, 2)}\n`],
    ['compact JSON', (m: object) => JSON.stringify(m)],
    ['tabs and CRLF', (m: object) => JSON.stringify(m, null, '\t').replaceAll('\n', '\r\n')],
    ['escaped characters in strings', (m: object) => JSON.stringify(m).replaceAll('/', '\\/').replaceAll('é', '\\u00e9')],
    ['numbers in exponent and decimal form', (m: object) => JSON.stringify(m).replace('"size":7', '"size":7.0').replace('"size":14', '"size":1.4e1')],
    ['unknown fields of every JSON type', (m: object) => JSON.stringify({x: [1, -2.5e-3, true, false, null, {y: 'z'}, []], ...m, z: {}}).replace('"size":0', '"extra":{"a":[null]},"size":0')],
    ['keys in another order', (m: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(m).reverse()))],
  ])('reads a valid manifest itself (%s), agreeing with parseManifest', (_label, write) => {
    expect(agrees(Buffer.from(write(manifestObject(PATHS))))).toBe(true)
  })

  it('reads an empty file list', () => {
    expect(agrees(Buffer.from(JSON.stringify(manifestObject([]))))).toBe(true)
  })

  it.each([
    ['a byte order mark', (text: string) => `\uFEFF${text}`],
    ['a duplicate top-level key', (text: string) => text.replace('"tenant":"acme"', '"tenant":"acme","tenant":"globex"')],
    ['a duplicate key in a file entry', (text: string) => text.replace('"size":0', '"size":0,"size":1')],
    ['a "__proto__" key', (text: string) => text.replace('"tenant":"acme"', '"tenant":"acme","__proto__":{}')],
    ['"files" twice', (text: string) => text.replace('"merkle"', '"files":[],"merkle"')],
  ])('leaves %s to parseManifest', (_label, edit) => {
    const bytes = Buffer.from(edit(JSON.stringify(manifestObject(PATHS))))
    expect(scanManifest(bytes)).toBeUndefined()
  })

  it.each([
    ['invalid UTF-8', (bytes: Buffer) => Buffer.concat([bytes.subarray(0, 20), Buffer.from([0xc3, 0x28]), bytes.subarray(20)])],
    ['trailing bytes', (bytes: Buffer) => Buffer.concat([bytes, Buffer.from(' x')])],
    ['"files" not an array', (bytes: Buffer) => Buffer.from(bytes.toString().replace(/"files":\[.*?\],"merkle"/, '"files":{},"merkle"'))],
    ['an unsorted file list', (bytes: Buffer) => Buffer.from(bytes.toString().replace('"path":"a/b/c/d.json"', '"path":"zz"'))],
    ['a path listed twice', (bytes: Buffer) => Buffer.from(bytes.toString().replace('"path":"emoji/😀.txt"', '"path":"a/b/c/d.json"'))],
    ['a bad digest', (bytes: Buffer) => Buffer.from(bytes.toString().replace(sha('z'), 'Z'.repeat(64)))],
    ['a wrong merkle size', (bytes: Buffer) => Buffer.from(bytes.toString().replace('"size":6', '"size":5'))],
  ])('declines a manifest with %s, which parseManifest rejects', (_label, edit) => {
    const bytes = edit(Buffer.from(JSON.stringify(manifestObject(PATHS))))
    expect(scanManifest(bytes)).toBeUndefined()
    expect(() => parseManifest(bytes)).toThrow(/manifest\.json/)
  })

  it('agrees with parseManifest on 3,000 damaged manifests (seeded truncations, byte flips, insertions)', () => {
    const random = seededRandom(0x5ca7)
    const base = Buffer.from(JSON.stringify(manifestObject(PATHS), null, 1))
    const alphabet = Buffer.from('{}[],:"\\ 0123456789.eE-+tfnul\n\tabc')
    let answered = 0
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(base)
      const at = Math.floor(random() * bytes.length)
      const damage = i % 3
      const damaged = damage === 0 ? bytes.subarray(0, at) : damage === 1 ? (bytes.fill(alphabet[Math.floor(random() * alphabet.length)]!, at, at + 1), bytes) : Buffer.concat([bytes.subarray(0, at), alphabet.subarray(Math.floor(random() * alphabet.length)).subarray(0, 1), bytes.subarray(at)])
      if (agrees(damaged)) answered += 1
    }

    // Flips inside string values keep many manifests valid; those the scanner must answer itself.
    expect(answered).toBeGreaterThan(100)
  })
})

describe('the file list the scanner fills', () => {
  it('is sized from the manifest: 5,000 files as stella writes them, collected without growing or copying', () => {
    const paths = Array.from({length: 5000}, (_, i) => `small/d${i % 97}/f-${i}-${'é'.repeat(i % 5)}.json`)
    const scanned = scanManifest(Buffer.from(`${JSON.stringify(manifestObject(paths), null, 2)}\n`))!
    const list = scanned.files.finish()
    const pathBytes = paths.reduce((sum, path) => sum + Buffer.byteLength(path), 0)
    expect(list.count).toBe(5000)
    expect(list.pathBytes.length).toBe(pathBytes)
    // Each array is a view of the one buffer allocated at the start, with no slack beyond one entry.
    expect(list.pathBytes.buffer.byteLength).toBe(pathBytes)
    expect(list.digests.buffer.byteLength).toBe(5001 * 32)
    expect(list.sizes.buffer.byteLength).toBe(5001 * 8)
    expect(list.pathStart.buffer.byteLength).toBe(5001 * 4)
  })

  it('grows past a capacity that was too small, and copies out of one far too large', () => {
    const files = Array.from({length: 300}, (_, i) => ({path: `f/${i}-😀`, size: i, sha256: sha(String(i))}))
    for (const capacity of [{files: 0, pathBytes: 0}, {files: 10, pathBytes: 100}, {files: 100_000, pathBytes: 1 << 20}]) {
      const builder = new FileListBuilder(capacity)
      for (const file of files) builder.add(file.path, file.size, file.sha256)
      const list = builder.finish()
      expect(filesOf(list)).toEqual(files)
      expect(list.pathBytes.buffer.byteLength).toBeLessThan(2 * list.pathBytes.length + 64)
      expect(list.digests.buffer.byteLength).toBeLessThan(2 * 300 * 32 + 64)
    }
  })

  it('fills a buffer to its last byte with a multi-byte path, without doubling it', () => {
    const path = 'ü'.repeat(20)
    const builder = new FileListBuilder({files: 1, pathBytes: 40})
    builder.add(path, 1, sha('x'))
    const list = builder.finish()
    expect(Buffer.from(list.pathBytes).toString()).toBe(path)
    expect(list.pathBytes.buffer.byteLength).toBe(40)
  })
})
