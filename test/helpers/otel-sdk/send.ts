/**
 * An instrumented program built on the real OpenTelemetry JS SDK: a BasicTracerProvider with a
 * BatchSpanProcessor and a LoggerProvider with a BatchLogRecordProcessor, exporting through the
 * SDK's own OTLP/HTTP exporters (protobuf or JSON, gzip on or off) to a URL. It sends one known
 * set of spans (parents and children, two traces, attributes of every type, events, a link, an
 * error with an exception) and logs (every body type, trace context, an event name), and returns
 * what the SDK finished, read back through in-memory exporters, to compare with what arrives.
 */
import {type Attributes, type Context, type HrTime, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace} from '@opentelemetry/api'
import {type AnyValue as LogAnyValue, SeverityNumber} from '@opentelemetry/api-logs'
import {OTLPLogExporter as ProtoLogExporter} from '@opentelemetry/exporter-logs-otlp-proto'
import {OTLPLogExporter as JsonLogExporter} from '@opentelemetry/exporter-logs-otlp-http'
import {OTLPTraceExporter as ProtoTraceExporter} from '@opentelemetry/exporter-trace-otlp-proto'
import {OTLPTraceExporter as JsonTraceExporter} from '@opentelemetry/exporter-trace-otlp-http'
import {resourceFromAttributes} from '@opentelemetry/resources'
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  type LogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'
import {BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanExporter} from '@opentelemetry/sdk-trace-base'

export type SdkProtocol = 'proto' | 'json'
export type SdkCompression = 'gzip' | 'none'

export interface SendOptions {
  /** The OTLP/HTTP base URL, e.g. http://127.0.0.1:4318: the program posts to /v1/traces and /v1/logs under it. */
  url: string
  protocol: SdkProtocol
  compression: SdkCompression
  /** Start of the first span, ms since the epoch. */
  baseTimeMs?: number
}

export interface SentTelemetry {
  spans: ReadableSpan[]
  logs: ReadableLogRecord[]
  /** Export calls the SDK made and how they ended: every one must be a success. */
  exports: {signal: 'traces' | 'logs'; ok: boolean; error?: string}[]
}

type TraceCompression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>['compression']>

export const DEFAULT_BASE_TIME_MS = Date.parse('2026-11-22T10:00:00Z')

/** `ms` after the base, with a nanosecond part, so times that lost precision anywhere show it. */
function at(baseMs: number, ms: number, nanos = 0): HrTime {
  const total = baseMs + ms
  return [Math.floor(total / 1000), (total % 1000) * 1_000_000 + nanos]
}

export async function sendWithSdk(options: SendOptions): Promise<SentTelemetry> {
  const base = options.baseTimeMs ?? DEFAULT_BASE_TIME_MS
  const exports: SentTelemetry['exports'] = []
  const compression = options.compression as TraceCompression
  const resource = resourceFromAttributes({'service.name': 'checkout', 'service.version': '2.4.1', 'deployment.environment': 'e2e'})

  const traceConfig = {url: `${options.url}/v1/traces`, compression, timeoutMillis: 5000}
  const traceExporter = options.protocol === 'proto' ? new ProtoTraceExporter(traceConfig) : new JsonTraceExporter(traceConfig)
  const finishedSpans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(recordingSpanExporter(traceExporter, exports), {scheduledDelayMillis: 50}), new SimpleSpanProcessor(finishedSpans)],
  })

  const logConfig = {url: `${options.url}/v1/logs`, compression, timeoutMillis: 5000}
  const logExporter = options.protocol === 'proto' ? new ProtoLogExporter(logConfig) : new JsonLogExporter(logConfig)
  const finishedLogs = new InMemoryLogRecordExporter()
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({exporter: recordingLogExporter(logExporter, exports), scheduledDelayMillis: 50}), new SimpleLogRecordProcessor({exporter: finishedLogs})],
  })

  const tracer = tracerProvider.getTracer('stella-e2e', '1.0.0')
  const logger = loggerProvider.getLogger('stella-e2e-logs', '1.0.0')
  const inside = (parent: ReturnType<typeof tracer.startSpan>): Context => trace.setSpan(ROOT_CONTEXT, parent)

  const everyType: Attributes = {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'cache.hit': false,
    'sample.ratio': 0.75,
    'negative.int': -42,
    'big.int': 9_007_199_254_740_991,
    'tags': ['blue', 'green'],
    'ports': [8080, 8443],
    'weights': [0.5, 1.25],
    'switches': [true, false],
    'empty.string': '',
    'unicode': 'Grüße, 世界 ✓',
  }
  const root = tracer.startSpan('GET /checkout', {kind: SpanKind.SERVER, startTime: at(base, 0, 123), attributes: everyType}, ROOT_CONTEXT)
  root.addEvent('cache miss', {'cache.key': 'cart:42', 'cache.shard': 3}, at(base, 10, 7))

  const query = tracer.startSpan('SELECT orders', {kind: SpanKind.CLIENT, startTime: at(base, 20), attributes: {'db.system': 'postgresql', 'db.rows': 3}}, inside(root))
  query.addEvent('rows fetched', {count: 3}, at(base, 70))
  query.setStatus({code: SpanStatusCode.OK})
  query.end(at(base, 80, 999_999))

  const charge = tracer.startSpan('charge card', {kind: SpanKind.CLIENT, startTime: at(base, 100), attributes: {'payment.provider': 'acme-pay', 'payment.amount': 12.5}}, inside(root))
  const post = tracer.startSpan('POST /payments', {kind: SpanKind.INTERNAL, startTime: at(base, 110)}, inside(charge))
  post.end(at(base, 200))
  charge.recordException(new Error('card declined'), at(base, 210))
  charge.setStatus({code: SpanStatusCode.ERROR, message: 'card declined'})
  charge.end(at(base, 220))

  logger.emit({
    timestamp: at(base, 5, 1),
    observedTimestamp: at(base, 6, 2),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: 'checkout started',
    attributes: {'user.id': 'u-1', attempt: 1, 'ratio': 0.5, 'vip': true},
    context: inside(root),
  })
  logger.emit({
    timestamp: at(base, 215),
    observedTimestamp: at(base, 216),
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: {code: 'E42', detail: {retryable: false, attempts: 2}, tags: ['card', 'declined']} as LogAnyValue,
    attributes: {'payment.amount': 12.5},
    context: inside(charge),
  })
  logger.emit({
    eventName: 'payment.debug',
    timestamp: at(base, 150),
    observedTimestamp: at(base, 151),
    severityNumber: SeverityNumber.DEBUG,
    severityText: 'DEBUG',
    body: new Uint8Array([0, 1, 2, 253, 254, 255]),
    context: inside(post),
  })
  logger.emit({
    timestamp: at(base, 299),
    observedTimestamp: at(base, 300),
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: ['mixed', 7, 2.5, true],
    attributes: {'no.trace': true},
  })

  root.end(at(base, 250, 456))

  const refund = tracer.startSpan('process refund', {
    kind: SpanKind.CONSUMER,
    startTime: at(base, 400),
    links: [{context: charge.spanContext(), attributes: {'link.reason': 'refund of a declined charge'}}],
  }, ROOT_CONTEXT)
  const publish = tracer.startSpan('publish refund', {kind: SpanKind.PRODUCER, startTime: at(base, 410)}, inside(refund))
  publish.end(at(base, 420))
  refund.end(at(base, 430))

  await tracerProvider.forceFlush()
  await loggerProvider.forceFlush()
  // Read before shutdown: the in-memory exporters forget everything when they shut down.
  const spans = [...finishedSpans.getFinishedSpans()]
  const logs = [...finishedLogs.getFinishedLogRecords()]
  await tracerProvider.shutdown()
  await loggerProvider.shutdown()
  return {spans, logs, exports}
}

/** Passes the batches on to the real exporter and notes how each export ended. */
function recordingSpanExporter(inner: SpanExporter, exports: SentTelemetry['exports']): SpanExporter {
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        exports.push({signal: 'traces', ok: result.code === 0, ...(result.error ? {error: result.error.message} : {})})
        done(result)
      })
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  }
}

function recordingLogExporter(inner: LogRecordExporter, exports: SentTelemetry['exports']): LogRecordExporter {
  return {
    export(logs, done) {
      inner.export(logs, (result) => {
        exports.push({signal: 'logs', ok: result.code === 0, ...(result.error ? {error: result.error.message} : {})})
        done(result)
      })
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  }
}
