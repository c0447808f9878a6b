/**
 * End to end with the real OpenTelemetry JS SDK, over real sockets: an instrumented program
 * exports spans and logs (protobuf or JSON, gzip or not) to `stella telemetry capture --listen`;
 * the bundle verifies with `stella forensic verify`; `stella telemetry replay` sends it to a second
 * receiver, where the same spans and logs arrive — ids, names, attributes, events, links, status
 * and times to the nanosecond — also when moved in time with --shift-to-now.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startOtlpReceiver} from '../../src/lib/otlp/receiver.js'
import type {LogRecordOtlp, SpanRecord} from '../../src/lib/otlp/types.js'
import {TEST_KEY, TEST_PUBLIC_KEY} from '../helpers/bundle-fixtures.js'
import {runCli, scratchDir, spawnCli} from '../helpers/cli.js'
import {byLogTime, bySpanId, normalLogRecord, normalSdkLog, normalSdkSpan, normalSpanRecord} from '../helpers/otel-sdk/normalize.js'
import {type SdkCompression, type SdkProtocol, type SentTelemetry, sendWithSdk} from '../helpers/otel-sdk/send.js'

let home: {path: string; cleanup: () => void}
beforeAll(() => {
  home = scratchDir('stella-e2e-')
})
afterAll(() => home.cleanup())

/** Runs `telemetry capture --listen` while the SDK program sends to it, stops it with Ctrl-C, and returns its JSON result. */
async function captureFromSdk(out: string, protocol: SdkProtocol, compression: SdkCompression): Promise<{sent: SentTelemetry; result: Record<string, unknown>}> {
  const child = spawnCli(['telemetry', 'capture', '--listen', '127.0.0.1:0', '--key', TEST_KEY, '--case', 'e2e', '--out', out, '--json'], {home: home.path})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      const match = /Listening for OTLP\/HTTP on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr)
      if (match) resolve(match[1]!)
    })
    void closed.then((status) => reject(new Error(`capture exited ${status} before listening: ${stderr}`)))
  })
  const sent = await sendWithSdk({url, protocol, compression})
  child.kill('SIGINT')
  const status = await closed
  expect(status, stderr).toBe(0)
  return {sent, result: JSON.parse(stdout).result}
}

/** Replays a bundle into a fresh receiver in this process and returns what arrived there. */
async function replayInto(bundle: string, extra: string[] = []): Promise<{spans: SpanRecord[]; logs: LogRecordOtlp[]; result: Record<string, unknown>}> {
  const receiver = await startOtlpReceiver({})
  const spans: SpanRecord[] = []
  const logs: LogRecordOtlp[] = []
  const consuming = (async () => {
    for await (const message of receiver.messages()) {
      if (message.signal === 'traces') spans.push(...(message.records as SpanRecord[]))
      if (message.signal === 'logs') logs.push(...(message.records as LogRecordOtlp[]))
    }
  })()
  try {
    const r = await runCli(['telemetry', 'replay', bundle, '--endpoint', receiver.url, '--key', TEST_PUBLIC_KEY, '--json', ...extra], {home: home.path})
    expect(r.stderr).toBe('')
    expect(r.status, r.stdout).toBe(0)
    return {spans, logs, result: JSON.parse(r.stdout).result}
  } finally {
    await receiver.close()
    await consuming
  }
}

const COMBINATIONS: [SdkProtocol, SdkCompression][] = [
  ['proto', 'gzip'],
  ['proto', 'none'],
  ['json', 'gzip'],
  ['json', 'none'],
]

describe('the OpenTelemetry SDK → capture --listen → verify → replay → a receiver', () => {
  const bundles = new Map<string, {bundle: string; sent: SentTelemetry}>()

  it.each(COMBINATIONS)('delivers the same spans and logs, exported as %s with compression %s', async (protocol, compression) => {
    const bundle = join(home.path, `sdk-${protocol}-${compression}.tgz`)
    const {sent, result} = await captureFromSdk(bundle, protocol, compression)
    expect(sent.exports.map((entry) => entry.ok)).toEqual([true, true])
    expect(sent.spans).toHaveLength(6)
    expect(sent.logs).toHaveLength(4)
    expect(result).toMatchObject({
      source: 'listen',
      caseId: 'e2e',
      signals: {traces: {records: 6}, logs: {records: 4}, metrics: {records: 0, messages: 0}},
      listen: {stoppedBy: 'signal'},
    })

    const verified = await runCli(['forensic', 'verify', bundle, '--key', TEST_PUBLIC_KEY], {home: home.path})
    expect(verified.stdout).toContain('VERIFIED: every check passed')
    expect(verified.status).toBe(0)

    const arrived = await replayInto(bundle)
    expect(arrived.result).toMatchObject({verified: true, accepted: 10, rejected: 0})
    expect(bySpanId(arrived.spans.map((span) => normalSpanRecord(span)))).toEqual(bySpanId(sent.spans.map(normalSdkSpan)))
    expect(byLogTime(arrived.logs.map((log) => normalLogRecord(log)))).toEqual(byLogTime(sent.logs.map(normalSdkLog)))
    bundles.set(`${protocol}/${compression}`, {bundle, sent})
  })

  it('with --shift-to-now delivers them moved by one offset, the latest timestamp at now', async () => {
    const {bundle, sent} = bundles.get('proto/gzip') ?? {}
    expect(bundle).toBeDefined()
    const before = BigInt(Date.now()) * 1_000_000n
    const arrived = await replayInto(bundle!, ['--shift-to-now'])
    const after = BigInt(Date.now()) * 1_000_000n
    const shift = BigInt(arrived.result.shiftNanos as string)
    expect(shift > 0n).toBe(true)
    expect(bySpanId(arrived.spans.map((span) => normalSpanRecord(span, shift)))).toEqual(bySpanId(sent!.spans.map(normalSdkSpan)))
    expect(byLogTime(arrived.logs.map((log) => normalLogRecord(log, shift)))).toEqual(byLogTime(sent!.logs.map(normalSdkLog)))
    const latest = [...arrived.spans.map((span) => span.endTimeUnixNano), ...arrived.logs.map((log) => log.observedTimeUnixNano)].reduce((a, b) => (a > b ? a : b))
    expect(latest >= before && latest <= after).toBe(true)
  })
})
