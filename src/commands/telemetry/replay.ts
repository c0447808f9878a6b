import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {durationFlag} from '../../flags.js'
import {ExitCode, UsageError} from '../../lib/errors.js'
import {DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_EXPORT_RETRIES, DEFAULT_MAX_RETRY_TIME_MS, type RetryNotice} from '../../lib/otlp/exporter.js'
import {DEFAULT_BATCH_SIZE, type ReplaySummary, replayBundle} from '../../services/telemetry/replay.js'
import {dim} from '../../ui/style.js'
import {createReplayProgress, renderReplaySummary} from '../../ui/telemetry-capture.js'

const INSECURE_WARNING = '--insecure: the endpoint certificate is NOT verified; anyone on the network path can read and change the telemetry sent. Use --ca-cert FILE instead.'

export default class TelemetryReplay extends StellaCommand<typeof TelemetryReplay> {
  static override summary = 'Verify a telemetry bundle, then send its OTLP to any OTLP/HTTP endpoint (a Collector, Tempo, Jaeger, …).'
  static override description = `First verifies the bundle as \`stella forensic verify\` does, against the trusted --key(s); a bundle that does not verify is refused and nothing is sent (exit 1). --no-verify skips that, with a warning.
Then streams otlp/traces.pb, otlp/logs.pb and otlp/metrics.pb out of the bundle (nothing is unpacked to disk; each file must still match what was verified) and POSTs them as OTLP/HTTP protobuf to <endpoint>/v1/traces, /v1/logs and /v1/metrics, gzip-compressed unless --compression none, --batch-size spans, log records or metrics per request (messages are split or merged to fit).
Retries follow the OTLP spec: 429, 502, 503 and 504, and dropped connections, are retried with exponential backoff and jitter, or after the Retry-After the endpoint asks for, up to --retries more attempts within --max-retry-time per request; any other error status is final and stops the replay.
--shift-to-now moves every timestamp (span start, end and events; log time and observed time; metric points and exemplars) by one offset, so that the latest one lands at now and the data shows up in "last hour" views. --rate limits the records sent per second.
Exit codes: 0 every record accepted; 1 the bundle failed verification (nothing sent); 2 usage; 3 the bundle or a key cannot be read, the bundle is not a telemetry bundle, or it holds OTLP that does not decode; 4 the endpoint rejected records (partial success; the summary says how many) or a request failed for good; 5 the endpoint refused the credentials (401/403).`

  static override examples = [
    '<%= config.bin %> telemetry replay inc-7.tgz --endpoint http://collector:4318 --key platform.pub.pem',
    '<%= config.bin %> telemetry replay inc-7.tgz --endpoint http://tempo:4318 --key platform.pub.pem --shift-to-now --rate 5000',
    '<%= config.bin %> telemetry replay inc-7.tgz --endpoint https://otlp.example.com/v1/traces --key platform.pub.pem --header "Authorization=Bearer $OTLP_TOKEN" --ca-cert ca.pem',
    '<%= config.bin %> telemetry replay inc-7.tgz --endpoint http://127.0.0.1:4318 --no-verify --batch-size 100 --json',
  ]

  static override args = {
    bundle: Args.string({description: 'The telemetry bundle (.tgz).', required: true}),
  }

  static override flags = {
    endpoint: Flags.string({description: 'The OTLP/HTTP endpoint: a base URL (http://collector:4318) or the full URL of one signal (…/v1/traces).', required: true}),
    key: Flags.string({description: 'A trusted public key (SPKI PEM, JWK or hex) to verify the bundle with; repeat for more.', multiple: true, exclusive: ['no-verify']}),
    threshold: Flags.integer({description: 'How many distinct trusted keys must have signed.', min: 1, exclusive: ['no-verify']}),
    'no-verify': Flags.boolean({description: 'Send the bundle without verifying it (warns). Only for bundles whose origin you know.'}),
    'batch-size': Flags.integer({description: 'Spans, log records or metrics per request.', default: DEFAULT_BATCH_SIZE, min: 1}),
    'shift-to-now': Flags.boolean({description: 'Move every timestamp by one offset so the latest lands at now.'}),
    rate: Flags.integer({description: 'At most this many records a second (spans, log records, metric data points).', min: 1}),
    compression: Flags.option({description: 'Compress request bodies.', options: ['gzip', 'none'] as const, default: 'gzip' as const})(),
    header: Flags.string({description: 'An extra request header, NAME=VALUE (repeat for more), e.g. "Authorization=Bearer …".', multiple: true}),
    retries: Flags.integer({description: 'Extra attempts for a request answered 429/502/503/504 or cut off.', default: DEFAULT_EXPORT_RETRIES, min: 0, helpGroup: 'ENDPOINT'}),
    timeout: durationFlag({description: 'Longest wait for an answer to one attempt.', default: DEFAULT_ATTEMPT_TIMEOUT_MS, helpGroup: 'ENDPOINT'}),
    'max-retry-time': durationFlag({description: 'Longest time one request may take with its retries and waits.', default: DEFAULT_MAX_RETRY_TIME_MS, helpGroup: 'ENDPOINT'}),
    'ca-cert': Flags.string({description: 'PEM file of the CA that signed the endpoint certificate.', helpGroup: 'ENDPOINT'}),
    'client-cert': Flags.string({description: 'PEM client certificate for mutual TLS.', dependsOn: ['client-key'], helpGroup: 'ENDPOINT'}),
    'client-key': Flags.string({description: 'PEM private key of the client certificate.', dependsOn: ['client-cert'], helpGroup: 'ENDPOINT'}),
    insecure: Flags.boolean({description: 'Do not verify the endpoint certificate. Unsafe: warns on every use.', helpGroup: 'ENDPOINT'}),
  }

  async run(): Promise<ReplaySummary> {
    const {args, flags} = this
    const verify = !flags['no-verify']
    if (verify && (flags.key ?? []).length === 0) {
      throw new UsageError('NO_TRUSTED_KEY', 'the bundle is verified before it is replayed, and no trusted public key was given', {
        remedy: "Pass --key with the signer's public key (e.g. --key platform.pub.pem), or --no-verify to send it unverified.",
      })
    }

    if (!verify) this.warning(`--no-verify: ${args.bundle} is sent WITHOUT being verified; its content may have been altered.`)
    if (flags.insecure) this.warning(INSECURE_WARNING)
    const progress = createReplayProgress({enabled: !this.jsonEnabled()})
    let summary: ReplaySummary
    try {
      summary = await replayBundle({
        bundle: args.bundle,
        keyPaths: flags.key ?? [],
        verify,
        ...(flags.threshold === undefined ? {} : {threshold: flags.threshold}),
        batchSize: flags['batch-size'],
        shiftToNow: flags['shift-to-now'],
        ...(flags.rate === undefined ? {} : {rate: flags.rate}),
        exporter: {
          endpoint: flags.endpoint,
          compression: flags.compression,
          headers: parseHeaders(flags.header ?? []),
          ...(flags['ca-cert'] === undefined ? {} : {caFile: flags['ca-cert']}),
          ...(flags['client-cert'] === undefined ? {} : {clientCert: flags['client-cert']}),
          ...(flags['client-key'] === undefined ? {} : {clientKey: flags['client-key']}),
          insecure: flags.insecure,
          retries: flags.retries,
          attemptTimeoutMs: flags.timeout,
          maxRetryTimeMs: flags['max-retry-time'],
          userAgent: `stella/${this.config.version} node/${process.versions.node}`,
          onRetry: (notice) => {
            progress.done()
            process.stderr.write(`${dim(retryLine(notice))}\n`)
          },
        },
        onProgress: (p) => progress.update(p),
      })
    } finally {
      progress.done()
    }

    const records = summary.signals.traces.records + summary.signals.logs.records + summary.signals.metrics.records
    if (records === 0) this.warning(`${args.bundle} holds no OTLP records (no otlp/traces.pb, otlp/logs.pb or otlp/metrics.pb with data); nothing was sent`)
    if (summary.rejected > 0) {
      this.status = ExitCode.Remote
      this.warning(`the endpoint rejected ${summary.rejected} of ${summary.accepted + summary.rejected} records${summary.endpointMessages.length > 0 ? `: ${summary.endpointMessages.join('; ')}` : ''}`)
    } else {
      for (const message of summary.endpointMessages) this.warning(`the endpoint said: ${message}`)
    }

    this.out(renderReplaySummary(summary))
    return summary
  }
}

function retryLine(notice: RetryNotice): string {
  const wait = notice.delayMs < 1000 ? `${notice.delayMs}ms` : `${(notice.delayMs / 1000).toFixed(1).replace(/\.0$/, '')}s`
  return `POST ${notice.url} failed (${notice.reason}); retrying in ${wait}${notice.retryAfter ? ' as Retry-After asked' : ''}, attempt ${notice.attempt}`
}

/** `NAME=VALUE` (also `NAME: VALUE`) into a header map; names are checked so a typo fails here, not at the endpoint. */
function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const value of values) {
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*[=:]\s*(.*)$/.exec(value)
    if (!match || /[\r\n]/.test(match[2]!)) {
      throw new UsageError('INVALID_HEADER', `--header "${value.split(/[=:]/)[0]}…" is not NAME=VALUE`, {remedy: 'e.g. --header "Authorization=Bearer <token>".'})
    }

    headers[match[1]!.toLowerCase()] = match[2]!.trim()
  }

  return headers
}
