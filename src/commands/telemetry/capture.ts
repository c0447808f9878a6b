import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {durationFlag, remoteFlags, sizeFlag} from '../../flags.js'
import {UsageError} from '../../lib/errors.js'
import {formatDuration} from '../../lib/units.js'
import {type CaptureSummary, type CaptureWindow, captureFromFiles, captureFromListener, captureFromServer, parseListenAddress, parseWindowTime} from '../../services/telemetry/capture.js'
import {createCaptureProgress, renderCaptureSummary} from '../../ui/telemetry-capture.js'
import {dim} from '../../ui/style.js'

const WINDOW_FLAGS = ['window', 'since', 'until'] as const
const LISTEN_ONLY = ['duration', 'allow-non-loopback', 'max-body'] as const
const DEFAULT_CASE = 'telemetry-capture'
const EMPTY_REASON = {
  server: 'the server had none in the window',
  files: 'no record in the inputs falls inside the window',
  listen: 'nothing arrived while it listened',
} as const

export default class TelemetryCapture extends StellaCommand<typeof TelemetryCapture> {
  static override summary = 'Capture telemetry into a signed evidence bundle: from the server, from Collector files, or by listening for OTLP.'
  static override description = `Writes a spec telemetry bundle (kind telemetry, the window in its manifest) holding otlp/traces.pb, otlp/logs.pb and otlp/metrics.pb — length-prefixed OTLP protobuf, the Collector file exporter's proto format; a signal with no records has no file. The bundle appears at --out only when complete; an existing --out is never replaced without --force.

Server (neither --from nor --listen): streams GET /telemetry/exports/forensic/{window} into a temp directory beside --out (an interrupted transfer resumes with HTTP Range when the server allows it), verifies it against the trusted --key(s) (public keys), and saves it only if every check passes and it is a telemetry bundle (else exit 1, nothing saved).

Files (--from FILE|DIR|GLOB, repeatable): reads what the OpenTelemetry Collector file exporter wrote (JSON lines or proto, gzip-compressed or not; telemetry bundles too), keeps the records whose time falls in the window — a span's start, a log record's time (or observed time), a metric's latest point; records without a time are left out — and signs the bundle with --key (private keys). A telemetry bundle among the inputs is verified before any of its records is used: its files must match its manifest, Merkle root and statement, and with --verify-key (public keys) its signatures must verify too; one that fails stops the capture (exit 1, nothing written). Memory stays flat however large the input: each signal is written to a temp file as it is read.

Listen (--listen [host:]port): an OTLP/HTTP receiver (POST /v1/traces, /v1/logs, /v1/metrics; protobuf or JSON, gzip or not) records everything that arrives until --duration has passed or Ctrl-C (or SIGTERM); then it writes the bundle of what was received and exits 0. A second Ctrl-C abandons the capture and writes nothing. It binds loopback only unless --allow-non-loopback. The window in the manifest is when it listened. The address goes to stderr; on a terminal a live count too.

The window: --window DURATION (the last DURATION until now), or --since TIME [--until TIME] (RFC 3339, or a duration ago such as 2h). The server takes whole minutes, hours or days up to 7d.
Exit codes: 0 written; 1 the server's export, or a bundle given to --from, failed verification; 2 usage; 3 an input, key or --out could not be read or written, or an input is malformed; 4 the server failed; 5 the server refused the credentials (the export needs stella:evidence:export).`

  static override examples = [
    '<%= config.bin %> telemetry capture --window 24h --out inc-7.tgz --key platform.pub.pem',
    '<%= config.bin %> telemetry capture --since 2026-11-22T08:00:00Z --until 2026-11-22T12:00:00Z --case inc-7 --out inc-7.tgz --key platform.pub.pem',
    '<%= config.bin %> telemetry capture --from /var/lib/otelcol/file-exporter --window 6h --key capture.pem --case inc-7 --out inc-7.tgz',
    '<%= config.bin %> telemetry capture --from "exports/*.jsonl.gz" --since 2026-11-22T08:00:00Z --until 2026-11-22T09:00:00Z --key capture.pem --out slice.tgz --json',
    '<%= config.bin %> telemetry capture --listen 4318 --duration 10m --key capture.pem --out live.tgz',
    '<%= config.bin %> telemetry capture --listen 0.0.0.0:4318 --allow-non-loopback --key capture.pem --out live.tgz',
  ]

  static override flags = {
    out: Flags.string({char: 'o', description: 'Where to write the bundle (.tgz).', required: true}),
    window: durationFlag({description: 'The last DURATION until now, e.g. 15m, 24h, 7d.', exclusive: ['since', 'until']}),
    since: Flags.string({description: 'Start of the window: an RFC 3339 time, or a duration ago (2h).'}),
    until: Flags.string({description: 'End of the window (exclusive): an RFC 3339 time, or a duration ago. Default: now.', dependsOn: ['since']}),
    key: Flags.string({description: 'Server: a trusted public key to verify the export with. --from/--listen: an Ed25519 private key (PKCS#8 PEM) to sign with. Repeat for more.', multiple: true}),
    case: Flags.string({description: `Case id recorded in the bundle. Default: ${DEFAULT_CASE} (the server's own default for an export).`}),
    from: Flags.string({description: 'Collector file-exporter output to read: a file, directory or glob (repeat for more).', multiple: true, exclusive: ['listen']}),
    listen: Flags.string({description: 'Receive OTLP/HTTP on [host:]port (default host 127.0.0.1; port 0 picks one) and record it.', helpValue: '[host:]port'}),
    duration: durationFlag({description: 'With --listen: stop recording after this long. Default: until Ctrl-C.'}),
    'allow-non-loopback': Flags.boolean({description: 'With --listen: allow binding an address other than loopback (anyone who can reach it can send data).'}),
    'max-body': sizeFlag({description: 'With --listen: the largest request body accepted, decompressed (413 beyond).'}),
    'verify-key': Flags.string({
      description: 'With --from: a trusted public key that telemetry bundles among the inputs must be signed with; repeat for more. Without it, their files are still checked against their manifest and root, and a warning says their signatures were not.',
      multiple: true,
    }),
    force: Flags.boolean({description: 'Replace --out if it exists.'}),
    ...remoteFlags,
  }

  async run(): Promise<CaptureSummary> {
    const {flags} = this
    if (flags.listen === undefined) this.refuseFlags(LISTEN_ONLY, 'only for --listen')
    if (flags.from === undefined) this.refuseFlags(['verify-key'], 'only for --from')
    for (const name of ['window', 'duration'] as const) {
      if (flags[name] === 0) throw new UsageError('EMPTY_DURATION', `--${name} 0 captures nothing`, {remedy: `Give a duration longer than 0, e.g. --${name} 15m.`})
    }

    const progress = createCaptureProgress({enabled: !this.jsonEnabled()})
    let summary: CaptureSummary
    try {
      if (flags.listen !== undefined) summary = await this.listen(flags.listen, progress.update)
      else if (flags.from !== undefined) summary = await this.fromFiles(flags.from, progress.update)
      else summary = await this.fromServer(progress.update)
    } finally {
      progress.done()
    }

    for (const problem of summary.undecodable ?? []) this.warning(`not counted, does not decode: ${problem}`)
    for (const file of summary.unsignedInputs ?? []) this.warning(`${file}: its files match its manifest, but who signed it was not checked (no --verify-key); its records are now signed with --key`)
    if (summary.fileCount === 0) this.warning(`the bundle holds no telemetry: ${EMPTY_REASON[summary.source]}`)
    this.out(renderCaptureSummary(summary))
    return summary
  }

  private async fromServer(onProgress: Parameters<typeof captureFromServer>[1]['onProgress']): Promise<CaptureSummary> {
    const {flags} = this
    const fixed = flags.window === undefined ? this.fixedWindow() : undefined
    const client = await this.apiClient()
    return captureFromServer(client, {
      window: fixed === undefined ? {durationMs: flags.window!} : {from: fixed.from.toISOString(), to: fixed.to.toISOString()},
      ...(flags.case === undefined ? {} : {caseId: flags.case}),
      out: flags.out,
      force: flags.force,
      keyPaths: flags.key ?? [],
      ...(onProgress ? {onProgress} : {}),
    })
  }

  private async fromFiles(from: string[], onProgress: Parameters<typeof captureFromFiles>[0]['onProgress']): Promise<CaptureSummary> {
    const {flags} = this
    const now = new Date()
    const window: CaptureWindow = flags.window === undefined ? this.fixedWindow(now) : {from: new Date(now.getTime() - flags.window), to: now}
    return captureFromFiles({
      from,
      window,
      keyPaths: flags.key ?? [],
      verifyKeyPaths: flags['verify-key'] ?? [],
      caseId: flags.case ?? DEFAULT_CASE,
      tenant: this.tenant() ?? 'local',
      out: flags.out,
      force: flags.force,
      ...(onProgress ? {onProgress} : {}),
    })
  }

  private async listen(address: string, onProgress: Parameters<typeof captureFromListener>[0]['onProgress']): Promise<CaptureSummary> {
    const {flags} = this
    this.refuseFlags(WINDOW_FLAGS, 'not for --listen: the window of a live capture is the time it listened')
    const {host, port} = parseListenAddress(address)
    const stop = new AbortController()
    const restore = this.stopOnFirstSignal(stop)
    try {
      return await captureFromListener({
        host,
        port,
        allowNonLoopback: flags['allow-non-loopback'],
        ...(flags['max-body'] === undefined ? {} : {maxBodyBytes: flags['max-body']}),
        ...(flags.duration === undefined ? {} : {durationMs: flags.duration}),
        stop: stop.signal,
        keyPaths: flags.key ?? [],
        caseId: flags.case ?? DEFAULT_CASE,
        tenant: this.tenant() ?? 'local',
        out: flags.out,
        force: flags.force,
        onListening: (url) => {
          const until = flags.duration === undefined ? 'until Ctrl-C' : `for ${formatDuration(flags.duration)} or until Ctrl-C`
          process.stderr.write(`Listening for OTLP/HTTP on ${url} (POST /v1/traces, /v1/logs, /v1/metrics), ${until}.\n`)
        },
        ...(onProgress ? {onProgress} : {}),
      })
    } finally {
      restore()
    }
  }

  /**
   * The first SIGINT or SIGTERM ends the recording (the bundle of what arrived is then written);
   * from then on the usual handlers are back, so a second one abandons the capture.
   */
  private stopOnFirstSignal(stop: AbortController): () => void {
    const signals = ['SIGINT', 'SIGTERM'] as const
    const saved = new Map(signals.map((signal) => [signal, process.listeners(signal)]))
    let restored = false
    const restore = () => {
      if (restored) return
      restored = true
      for (const signal of signals) {
        process.removeListener(signal, onSignal)
        for (const listener of saved.get(signal) ?? []) process.once(signal, listener)
      }
    }

    const onSignal = (signal: NodeJS.Signals) => {
      restore()
      if (!this.jsonEnabled()) process.stderr.write(`\n${dim(`${signal}: stopped listening; writing the bundle (Ctrl-C again abandons it)…`)}\n`)
      stop.abort(signal)
    }

    for (const signal of signals) {
      process.removeAllListeners(signal)
      process.once(signal, onSignal)
    }

    return restore
  }

  /** --since/--until as a window; without them a window is required. */
  private fixedWindow(now = new Date()): CaptureWindow {
    const {since, until} = this.flags
    if (since === undefined) {
      throw new UsageError('WINDOW_REQUIRED', 'say which time window to capture', {remedy: 'Pass --window DURATION (e.g. --window 24h), or --since TIME [--until TIME].'})
    }

    return {from: parseWindowTime(since, '--since', now), to: until === undefined ? now : parseWindowTime(until, '--until', now)}
  }

  private refuseFlags(names: readonly string[], why: string): void {
    const given = names.filter((name) => this.argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)))
    if (given.length > 0) throw new UsageError('FLAG_NOT_APPLICABLE', `${given.map((name) => `--${name}`).join(', ')} ${given.length > 1 ? 'are' : 'is'} ${why}`, {remedy: 'Drop it, or choose the other form.'})
  }
}
