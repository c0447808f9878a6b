import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {durationFlag, remoteFlags, sizeFlag} from '../../flags.js'
import {UsageError} from '../../lib/errors.js'
import {
  ListenTopSource,
  RemoteTopSource,
  ReplayTopSource,
  TOP_SORTS,
  type TopSnapshot,
  type TopSource,
  type TopView,
  fetchRemoteSnapshot,
  viewOf,
} from '../../services/obs/top.js'
import {parseListenAddress} from '../../services/telemetry/capture.js'
import {renderTopPlain} from '../../ui/top-plain.js'

const MIN_INTERVAL_MS = 100

/** A source the command drives: a replay also says when its files end. */
type LiveSource = TopSource & {ended?: Promise<void>}

/** Ink decides by `CI` alone whether it draws a live screen (is-in-ci); the command must agree with it. */
function inCi(env: NodeJS.ProcessEnv): boolean {
  const set = (name: string) => name in env && env[name] !== '0' && env[name] !== 'false'
  return set('CI') || set('CONTINUOUS_INTEGRATION')
}

const speedFlag = Flags.custom<number>({
  helpValue: '<factor>',
  async parse(input) {
    const speed = Number(input)
    if (input.trim() === '' || !Number.isFinite(speed) || speed < 0) {
      throw new UsageError('INVALID_SPEED', `--speed "${input}" is not a number of 0 or more`, {remedy: 'e.g. --speed 1 (as recorded), --speed 10 (ten times faster), --speed 0 (as fast as possible).'})
    }

    return speed
  },
})

export default class ObsTop extends StellaCommand<typeof ObsTop> {
  static override summary = 'Live dashboard of request rate, errors, latency, SLO burn and job queues per service and route.'
  static override description = `Which service, which route is burning: requests per second, error rate and latency P50/P95/P99 per service and per route, the SLOs with their burn rates over 1h, 6h and 24h, and the job queues — refreshed every --interval.

Sources:
- The server (default): polls /obs/health, /obs/slo, /obs/metrics and /telemetry/status (incident mode) at the same time. When a poll fails, the last good figures stay, marked "STALE since …" with the reason, and the next polls back off (interval × 2, × 4, … up to 30s); refused credentials end it at once (exit 5).
- --listen [host:]port: an OTLP/HTTP receiver (POST /v1/traces; logs and metrics are accepted and dropped) computes the figures from the server spans it receives, over a sliding 1-minute window: route from http.route and http.request.method (or the older http.method), error = span status ERROR or HTTP status 500 and above, percentiles within 1%. It binds loopback only unless --allow-non-loopback; its address goes to stderr.
- --from FILE|DIR|GLOB (repeatable): replays OpenTelemetry Collector file-exporter output or telemetry bundles on a virtual clock — at the recorded speed, --speed N times it, or with --speed 0 as fast as the files are read. When they end, the last figures stay.

Output: on a terminal, a live dashboard (keys: q quit, / filter, s sort, p pause, ↑/↓ or j/k move, Enter/Esc drill in/out, ? help). Without a terminal, with CI set, or with --plain: a plain-text snapshot every --interval (--once: one). --json: one snapshot as the {status, result, warnings} envelope; --json --watch: one snapshot per --interval as a line of JSON (no envelope). A one-time snapshot is taken at once from the server, after one --interval with --listen, and at the end of the files with --from.

--service, --filter, --sort and --limit choose what is shown (the header's totals stay those of everything).

Ctrl-C (or SIGTERM) ends a live view — dashboard, plain snapshots or JSON lines — cleanly with exit 0, the receiver closed and the terminal restored. Exit codes: 0 ok; 2 usage; 3 an input file is unreadable or malformed; 4 the server failed a one-time snapshot; 5 the server refused the credentials.`

  static override examples = [
    '<%= config.bin %> obs top',
    '<%= config.bin %> obs top --once --sort errors --limit 10',
    '<%= config.bin %> obs top --json | jq \'.result.services[] | select(.errorRate > 0.01) | .name\'',
    '<%= config.bin %> obs top --json --watch --interval 5s >> top.jsonl',
    '<%= config.bin %> obs top --listen 4318',
    '<%= config.bin %> obs top --from /var/lib/otelcol/file-exporter --speed 10',
    '<%= config.bin %> obs top --from capture.tgz --speed 0 --once --service checkout',
  ]

  static override flags = {
    interval: durationFlag({description: 'How often the figures are refreshed (and printed, in plain and JSON-lines output).', default: 2000, defaultHelp: async () => '2s'}),
    listen: Flags.string({description: 'Receive OTLP/HTTP on [host:]port (default host 127.0.0.1; port 0 picks one) and compute the figures from its spans.', helpValue: '[host:]port', exclusive: ['from']}),
    'allow-non-loopback': Flags.boolean({description: 'With --listen: allow binding an address other than loopback (anyone who can reach it can send data).'}),
    'max-body': sizeFlag({description: 'With --listen: the largest request body accepted, decompressed (413 beyond).'}),
    from: Flags.string({description: 'Replay OTLP from this file, directory, glob or telemetry bundle (repeat for more).', multiple: true, exclusive: ['listen']}),
    speed: speedFlag({description: 'With --from: replay N times faster than recorded; 0 as fast as possible. Default 1.'}),
    once: Flags.boolean({description: 'Print one plain-text snapshot and exit.', exclusive: ['watch']}),
    watch: Flags.boolean({description: 'With --json: print one snapshot per --interval, each as one line of JSON, until Ctrl-C (or the end of --from).'}),
    plain: Flags.boolean({description: 'Plain-text snapshots even on a terminal.'}),
    service: Flags.string({description: 'Only this service (exact name), and its SLOs; repeat for several.', multiple: true}),
    filter: Flags.string({description: 'Only services, routes, SLOs and job queues whose name holds TEXT (any letter case).', helpValue: 'TEXT'}),
    sort: Flags.option({options: TOP_SORTS, description: 'Order of services and routes, highest first (name: alphabetical).', default: 'rate' as const})(),
    limit: Flags.integer({description: 'At most N services, and N routes per service.', min: 1}),
    ...remoteFlags,
    // A poll is not retried: the source backs off between polls, and a retry would hide the failure for longer.
    retries: Flags.integer({description: 'Extra attempts of one request of a poll (between failed polls obs top backs off by itself).', default: 0, min: 0, helpGroup: 'REMOTE'}),
    timeout: durationFlag({description: 'Time budget of one request of a poll.', default: 10_000, defaultHelp: async () => '10s', helpGroup: 'REMOTE'}),
  }

  async run(): Promise<TopSnapshot | undefined> {
    const {flags} = this
    this.checkFlags()
    const view: TopView = {sort: flags.sort, ...(flags.service ? {services: flags.service} : {}), ...(flags.filter === undefined ? {} : {filter: flags.filter}), ...(flags.limit === undefined ? {} : {limit: flags.limit})}
    const json = this.jsonEnabled()
    const dashboard = !json && !flags.once && !flags.plain && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY) && !inCi(process.env)
    const live = json ? flags.watch : !flags.once

    if (!live && flags.listen === undefined && flags.from === undefined) {
      // One snapshot from the server: a failure is the command's failure, with its exit code.
      return this.show(viewOf(await fetchRemoteSnapshot(await this.apiClient()), view))
    }

    const source = await this.openSource(!dashboard)
    try {
      if (!live) return this.show(viewOf(await this.oneSnapshot(source), view))
      if (dashboard) await this.dashboard(source, view)
      else await this.loop(source, view, json)
      return undefined
    } finally {
      await source.close()
    }
  }

  private checkFlags(): void {
    const {flags} = this
    const refuse = (names: string[], why: string) => {
      const given = names.filter((name) => this.argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)))
      if (given.length > 0) throw new UsageError('FLAG_NOT_APPLICABLE', `${given.map((name) => `--${name}`).join(', ')} ${given.length > 1 ? 'are' : 'is'} ${why}`, {remedy: 'Drop it, or choose the source it belongs to.'})
    }

    if (flags.listen === undefined) refuse(['allow-non-loopback', 'max-body'], 'only for --listen')
    if (flags.from === undefined) refuse(['speed'], 'only for --from')
    if (flags.interval < MIN_INTERVAL_MS) {
      throw new UsageError('INTERVAL_TOO_SHORT', `--interval ${flags.interval}ms is below ${MIN_INTERVAL_MS}ms`, {remedy: 'Refresh at most ten times a second, e.g. --interval 1s.'})
    }

    if (flags.watch && !this.jsonEnabled()) {
      throw new UsageError('WATCH_NEEDS_JSON', '--watch is for --json: plain output already prints a snapshot every --interval', {remedy: 'Add --json for one line of JSON per snapshot, or drop --watch.'})
    }
  }

  /** The source of a live view (or of a local one-time snapshot); says where a receiver listens when no dashboard shows it. */
  private async openSource(announce: boolean): Promise<LiveSource> {
    const {flags} = this
    if (flags.listen !== undefined) {
      const {host, port} = parseListenAddress(flags.listen)
      const source = await ListenTopSource.start({host, port, allowNonLoopback: flags['allow-non-loopback'], ...(flags['max-body'] === undefined ? {} : {maxBodyBytes: flags['max-body']})})
      if (announce) process.stderr.write(`Listening for OTLP/HTTP on ${source.url} (POST /v1/traces).\n`)
      return source
    }

    if (flags.from !== undefined) return ReplayTopSource.open(flags.from, {speed: flags.speed ?? 1})
    return new RemoteTopSource(await this.apiClient(), {intervalMs: flags.interval})
  }

  /** A local one-time snapshot: what one interval brought (--listen), or the end of the files (--from). */
  private async oneSnapshot(source: LiveSource): Promise<TopSnapshot> {
    if (source.ended !== undefined) await source.ended
    else await new Promise((resolve) => setTimeout(resolve, this.flags.interval))
    return source.snapshot()
  }

  private show(snapshot: TopSnapshot): TopSnapshot {
    this.out(renderTopPlain(snapshot))
    return snapshot
  }

  /** Plain snapshots or JSON lines, one per interval, until a signal or the end of a replay. */
  private async loop(source: LiveSource, view: TopView, json: boolean): Promise<void> {
    const stop = new AbortController()
    const restore = stopOnSignals(stop)
    const interval = this.flags.interval
    let first = true
    try {
      let next = Date.now()
      for (;;) {
        const snapshot = viewOf(await source.snapshot(), view)
        if (stop.signal.aborted) return
        if (json) process.stdout.write(`${JSON.stringify(snapshot)}\n`)
        else process.stdout.write(`${first ? '' : '\n'}${renderTopPlain(snapshot)}\n`)
        first = false
        if (snapshot.finished) return
        // Ticks keep to the interval however long a snapshot took; missed ones are skipped.
        next += interval
        const now = Date.now()
        if (next < now) next = now + interval - ((now - next) % interval)
        await pause(next - now, stop.signal, source.ended)
        if (stop.signal.aborted) return
      }
    } finally {
      restore()
    }
  }

  private async dashboard(source: LiveSource, view: TopView): Promise<void> {
    // Refused credentials end the command before anything is drawn, as in the other modes.
    if (source instanceof RemoteTopSource) await source.snapshot()
    // React's development build checks and warns at every render: not for an operator's terminal.
    process.env.NODE_ENV ??= 'production'
    const {runTopDashboard} = await import('../../ui/top/index.js')
    const viewed: TopSource = {snapshot: async () => viewOf(await source.snapshot(), view), close: () => source.close()}
    // The dashboard quits on SIGINT and SIGTERM itself (exit 0); the usual handlers would exit 130 under it.
    const restore = setAsideSignalHandlers()
    try {
      await runTopDashboard(viewed, {intervalMs: this.flags.interval})
    } finally {
      restore()
    }
  }
}

/** Waits `ms`, or less when stopped or when a replay ends (its last figures are then shown at once). */
async function pause(ms: number, stop: AbortSignal, ended: Promise<void> | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  await Promise.race([
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
      onAbort = () => resolve()
      stop.addEventListener('abort', onAbort, {once: true})
    }),
    ...(ended === undefined ? [] : [ended.catch(() => {})]),
  ])
  clearTimeout(timer)
  if (onAbort) stop.removeEventListener('abort', onAbort)
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

/** Removes the SIGINT and SIGTERM handlers; the returned function puts them back. */
function setAsideSignalHandlers(): () => void {
  const saved = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]))
  for (const signal of SIGNALS) for (const listener of saved.get(signal) ?? []) process.removeListener(signal, listener)
  let restored = false
  return () => {
    if (restored) return
    restored = true
    for (const signal of SIGNALS) for (const listener of saved.get(signal) ?? []) process.once(signal, listener)
  }
}

/**
 * Ctrl-C and SIGTERM end a live view: it has no other end, so that is success (exit 0). The first
 * one stops the loop; the usual handlers are back from then on, so a second one exits at once.
 */
function stopOnSignals(stop: AbortController): () => void {
  const putBack = setAsideSignalHandlers()
  const restore = () => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal)
    putBack()
  }

  const onSignal = () => {
    restore()
    stop.abort()
  }

  for (const signal of SIGNALS) process.once(signal, onSignal)
  return restore
}
