import {readFileSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {OtlpSpool} from '../../src/services/telemetry/otlp-bundle.js'
import {scratchDir} from '../helpers/cli.js'

let scratch: {path: string; cleanup: () => void}
let spools = 0
beforeAll(() => {
  scratch = scratchDir('stella-otlp-spool-')
})
afterAll(() => scratch.cleanup())

const newSpool = (): OtlpSpool => new OtlpSpool(`${scratch.path}/${++spools}`)

describe('OtlpSpool', () => {
  it('writes length-prefixed messages with backpressure, leaving no listener behind however often it waits', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const spool = newSpool()
      // Each message is larger than the stream's 1 MiB buffer: every write waits for 'drain'.
      const messages = Array.from({length: 40}, (_, i) => Buffer.alloc((1 << 20) + i, i))
      for (const message of messages) await spool.write('traces', message, 1)
      expect(await spool.finish()).toEqual([{path: 'otlp/traces.pb', source: spool.pathOf('traces')}])
      const written = readFileSync(spool.pathOf('traces'))
      const expected = Buffer.concat(messages.flatMap((message) => {
        const prefix = Buffer.alloc(4)
        prefix.writeUInt32BE(message.length)
        return [prefix, message]
      }))
      expect(written.equals(expected)).toBe(true)
      expect(spool.counts.traces).toEqual({messages: 40, records: 40, bytes: expected.length})
      // Give a warning emitted on the last write its turn.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.map((warning) => warning.name)).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('a file that cannot be created fails the write that waits on it, or the next write, or close', async () => {
    const large = newSpool()
    writeFileSync(large.pathOf('logs'), 'already here')
    await expect(large.write('logs', Buffer.alloc(2 << 20), 1)).rejects.toMatchObject({code: 'EEXIST'})

    const small = newSpool()
    writeFileSync(small.pathOf('metrics'), 'already here')
    await small.write('metrics', Buffer.alloc(10), 1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    await expect(small.write('metrics', Buffer.alloc(10), 1)).rejects.toMatchObject({code: 'EEXIST'})
    await expect(small.close()).rejects.toMatchObject({code: 'EEXIST'})
    expect(readFileSync(small.pathOf('metrics'), 'utf8')).toBe('already here')
  })
})
