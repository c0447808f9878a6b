import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import {FileTraceSource, RemoteTraceSource, type TraceJson, type TraceSource, parseTraceId, showTrace, traceJson} from '../../services/obs/trace.js'
import {dim} from '../../ui/style.js'
import {traceLines} from '../../ui/trace.js'

export default class ObsTrace extends StellaCommand<typeof ObsTrace> {
  static override summary = 'Show one trace as a waterfall: its spans, their logs and events, the critical path.'
  static override description = `Prints the trace's span tree: one line per span with its service, its name (indented by depth, children in start order), its duration and a bar placed on the trace's time axis, scaled to the terminal width. Under each span come its events and its log records, interleaved in time. A span marked * is on the critical path, ! has status ERROR. Spans whose parent is not in the trace are grouped under a heading that says so; log records that name no span of the trace, and (from the server) the trace's timeline events, follow. A summary ends it: span count, services, duration, errors and the critical path.

The critical path is the chain of spans that decides when the trace ends. Walking back from the end of a span, its child that finished last is on the path (a child that outlives its parent counts up to the parent's end); the walk goes on from that child's start with the child that finished last before it, and so on, so children that overlapped a chosen one (ran in parallel) are not on it. Each chosen child is explained the same way. The top-level spans are children of the whole trace.

From the server it reads /obs/trace/{id}, the trace's log records and its timeline events, at the same time. With --from it reads OpenTelemetry Collector file-exporter output instead (JSON lines or length-prefixed protobuf, plain or gzip-compressed; files, directories, globs) or telemetry bundles, decoding only the lines and messages that hold the trace id. Files have no timeline.

The trace id is 32 hex digits in any case. An id the server or the files do not have exits 3, saying where stella looked.

--json gives the assembled trace: every span with its depth, children, critical flag and own time on the critical path, the log records, the timeline events and the summary; times are nanoseconds as decimal strings.`

  static override examples = [
    '<%= config.bin %> obs trace 4bf92f3577b34da6a3ce929d0e0e4736',
    '<%= config.bin %> obs trace 4BF92F3577B34DA6A3CE929D0E0E4736 --depth 3 --service policy-engine',
    '<%= config.bin %> obs trace 4bf92f3577b34da6a3ce929d0e0e4736 --from /var/lib/otelcol/file-exporter/',
    "<%= config.bin %> obs trace 4bf92f3577b34da6a3ce929d0e0e4736 --from 'otel/*.jsonl' --from capture.tgz --attributes",
    '<%= config.bin %> obs trace 4bf92f3577b34da6a3ce929d0e0e4736 --json | jq \'.result.spans[] | select(.critical) | .name\'',
  ]

  static override args = {
    traceId: Args.string({description: 'The trace id: 32 hex digits, any case.', required: true}),
  }

  static override flags = {
    ...remoteFlags,
    from: Flags.string({
      description: 'Read the trace from these OTLP files, directories, globs or telemetry bundles instead of the server (repeatable).',
      multiple: true,
      helpValue: '<path>',
    }),
    depth: Flags.integer({description: 'Show this many levels of the tree (1: the roots only); each span at the last level says how many it hides.', min: 1}),
    service: Flags.string({description: 'Show only the spans of this service (repeatable), with their ancestors dimmed as context.', multiple: true}),
    attributes: Flags.boolean({description: 'Show the attributes of each span and of its resource under it.'}),
    logs: Flags.boolean({description: 'Show the log records of the trace (--no-logs: leave them out).', allowNo: true, default: true}),
    events: Flags.boolean({description: 'Show the events of each span (--no-events: leave them out).', allowNo: true, default: true}),
    width: Flags.integer({description: 'Width of the waterfall in columns. Default: the terminal width, or 100 when stdout is not a terminal.', min: 40}),
  }

  async run(): Promise<TraceJson | undefined> {
    const {flags} = this
    // A malformed id is a usage error before anything is read or a server is needed.
    const traceId = parseTraceId(this.args.traceId)
    const source: TraceSource = flags.from === undefined ? new RemoteTraceSource(await this.apiClient()) : new FileTraceSource(flags.from)
    const report = await showTrace(source, traceId)
    for (const warning of report.warnings) this.warning(warning)
    if (this.jsonEnabled()) return traceJson(report)

    const width = flags.width ?? (process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : 100)
    const lines = traceLines(report.trace, {
      width,
      ...(flags.depth === undefined ? {} : {depth: flags.depth}),
      ...(flags.service === undefined ? {} : {services: flags.service}),
      attributes: flags.attributes,
      logs: flags.logs,
      events: flags.events,
    })
    // Written in batches: one write per line would cost more than drawing a large trace.
    let batch = ''
    for (const line of lines) {
      batch += `${line}\n`
      if (batch.length >= 65_536) {
        process.stdout.write(batch)
        batch = ''
      }
    }

    if (report.origin.kind === 'server' && report.origin.deepLink) batch += `${dim(`Console: ${report.origin.deepLink}`)}\n`
    process.stdout.write(batch)
    return undefined
  }
}
