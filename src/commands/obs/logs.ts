import {Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import {UsageError} from '../../lib/errors.js'
import {LOG_LEVELS, type LogLevel, type LogRecord, readLogs} from '../../services/obs/logs.js'
import {LocalLogSource, namesLocalInput} from '../../services/obs/otlp-logs.js'
import {type LogSource, RemoteObsSource, readOptions} from '../../services/obs/source.js'
import {checkLogWindow, resolveWindow} from '../../services/obs/window.js'
import {formatLogLine} from '../../ui/obs.js'
import {dim} from '../../ui/style.js'

export default class ObsLogs extends StellaCommand<typeof ObsLogs> {
  static override summary = 'Read log records: by time window, trace, service, level or text, one line each.'
  static override description = `Prints one line per record, oldest first: time, level, service, the first 8 digits of the trace id, and the body. Pages are fetched as they are printed, so --all over a large window starts at once and holds one page at a time.

The window is --from/--to (RFC 3339, or a duration ago such as 2h), or --since (a duration ago, or a time) until --to or now. The server answers at most 24h per query, so a longer window is refused before any request. Without a window the server reads the last hour (or, with --trace-id alone, the whole trace).

--level X selects X and everything more severe. --query matches the body, ignoring case.

--json prints one envelope whose result is the array of records; it holds every record until the end, so for --all over a large window prefer --jsonl, which streams one record per line.

--from-file reads local files instead of the server, with the same filters and the same result: JSON lines of the same records (what --jsonl writes), or OpenTelemetry Collector file-exporter output (OTLP JSON lines or length-prefixed protobuf, plain or gzip-compressed), directories of it, globs, and telemetry bundles. It is repeatable. There, no window means all the records. A --from value that is neither a time nor a duration but names an existing file, directory or glob match is read as a local input too (\`--from ./otel/\`).

--until is another name for --to, --grep for --query.`

  static override examples = [
    '<%= config.bin %> obs logs --since 30m --level warn',
    '<%= config.bin %> obs logs --trace-id 4bf92f3577b34da6a3ce929d0e0e4736',
    '<%= config.bin %> obs logs --from 2026-11-22T08:00:00Z --to 2026-11-22T12:00:00Z --service api-gateway -q timeout --all',
    '<%= config.bin %> obs logs --since 24h --all --jsonl > logs.jsonl',
    '<%= config.bin %> obs logs --from-file logs.jsonl --level error',
    "<%= config.bin %> obs logs --from /var/lib/otelcol/file-exporter/ --trace-id 4bf92f3577b34da6a3ce929d0e0e4736",
    "<%= config.bin %> obs logs --from-file 'otel/*.jsonl' --from-file capture.tgz --service api-gateway --since 2h --until 1h --grep timeout",
  ]

  static override flags = {
    ...remoteFlags,
    from: Flags.string({description: 'Start of the window, inclusive: RFC 3339, or a duration ago (e.g. 2h). An existing file, directory or glob match is read as --from-file.'}),
    to: Flags.string({description: 'End of the window, exclusive: RFC 3339, or a duration ago. Default: now.', aliases: ['until']}),
    since: Flags.string({description: 'Start of the window as a duration ago (e.g. 15m, 6h) or an RFC 3339 time; it runs until --to, or now.'}),
    'trace-id': Flags.string({description: 'Only the records of this trace (32 hex digits).'}),
    service: Flags.string({description: 'Only the records of this service (its service.name).'}),
    level: Flags.custom<LogLevel>({
      description: `Only records at this level or more severe: ${Object.keys(LOG_LEVELS).join(', ')} (any case).`,
      helpValue: Object.keys(LOG_LEVELS).join('|'),
      async parse(input) {
        const level = input.toLowerCase()
        if (!Object.hasOwn(LOG_LEVELS, level)) {
          throw new UsageError('INVALID_LEVEL', `invalid --level "${input}": not a log level`, {remedy: `Give one of ${Object.keys(LOG_LEVELS).join(', ')}.`})
        }

        return level as LogLevel
      },
    })(),
    query: Flags.string({char: 'q', description: 'Only records whose body contains this text (ignoring case).', aliases: ['grep']}),
    limit: Flags.integer({description: 'Without --all: how many records to print at most (default 100). With --all: how many to fetch per page (default 1000).', min: 1}),
    all: Flags.boolean({description: 'Print every matching record, page after page.'}),
    jsonl: Flags.boolean({description: 'Print each record as one line of JSON, as it arrives (no envelope).', exclusive: ['json']}),
    'from-file': Flags.string({
      description: 'Read the records from this file, directory, glob or telemetry bundle instead of the server (repeatable): JSON lines of records, or OTLP.',
      multiple: true,
    }),
  }

  async run(): Promise<LogRecord[]> {
    const {flags} = this
    const inputs = [...(flags['from-file'] ?? [])]
    let from = flags.from
    if (from !== undefined && (await namesLocalInput(from))) {
      inputs.push(from)
      from = undefined
    }

    const window = resolveWindow({...flags, from})
    if (inputs.length === 0) checkLogWindow(window)
    const source: LogSource = inputs.length === 0 ? new RemoteObsSource(await this.apiClient()) : new LocalLogSource(inputs)
    const query = {...window, traceId: flags['trace-id'], service: flags.service, level: flags.level, q: flags.query}
    const records = readLogs(source, query, readOptions(flags.limit, flags.all))

    // Only --json needs the records kept; every other form prints each one and lets it go.
    const kept: LogRecord[] = []
    let count = 0
    for await (const record of records) {
      count += 1
      if (this.jsonEnabled()) kept.push(record)
      else if (flags.jsonl) process.stdout.write(`${JSON.stringify(record)}\n`)
      else this.out(formatLogLine(record))
    }

    if (records.hasMore) this.warning(`more records match than the ${readOptions(flags.limit, flags.all).limit} shown; pass --all for every one, or a larger --limit`)
    if (count === 0 && !this.jsonEnabled() && !flags.jsonl) process.stderr.write(`${dim('No log records match.')}\n`)
    return kept
  }
}

