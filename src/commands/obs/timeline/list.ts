import {Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import type {TimelineEvent} from '../../../lib/api/types.js'
import {UsageError} from '../../../lib/errors.js'
import {durationFlag, remoteFlags} from '../../../flags.js'
import {FileObsSource} from '../../../services/obs/file-source.js'
import {RemoteObsSource, type TimelineSource, readOptions} from '../../../services/obs/source.js'
import {followTimeline, latestEvents, listTimeline} from '../../../services/obs/timeline.js'
import {resolveWindow} from '../../../services/obs/window.js'
import {formatTimelineLine, renderTimelineTable} from '../../../ui/obs.js'

const MIN_INTERVAL_MS = 100

export default class ObsTimelineList extends StellaCommand<typeof ObsTimelineList> {
  static override summary = 'List timeline events (what happened to which resource, and who did it), oldest first; --follow for new ones.'
  static override description = `A table of events in the order the server keeps them (time, then event id): time, kind, actor, resource, the first 8 digits of the trace id, and the event id for \`stella obs timeline show\`.

The window is --from/--to (RFC 3339, or a duration ago such as 2h) or --since DURATION. --kind takes one kind or several separated by commas; --resource is a resource id; --project a project id.

--follow prints the last --limit matching events (every one with --all) as lines, then asks for newer events every --interval and prints them as they come, until Ctrl-C (exit 130). It cannot take --to, --json or --from-file; --jsonl prints each event as one line of JSON instead.

--from-file reads a JSON-lines file of timeline events with the same filters and gives the same result, with no server.`

  static override examples = [
    '<%= config.bin %> obs timeline list --since 6h',
    '<%= config.bin %> obs timeline list --kind job.failed,deploy.completed --project payments --all',
    '<%= config.bin %> obs timeline list --trace-id 4bf92f3577b34da6a3ce929d0e0e4736 --json',
    '<%= config.bin %> obs timeline list --follow --limit 20 --interval 5s',
    '<%= config.bin %> obs timeline list --from-file events.jsonl --kind job.failed',
  ]

  static override flags = {
    ...remoteFlags,
    from: Flags.string({description: 'Start of the window, inclusive: RFC 3339, or a duration ago (e.g. 2h).'}),
    to: Flags.string({description: 'End of the window, exclusive: RFC 3339, or a duration ago.'}),
    since: durationFlag({description: 'The window from this long ago until now, e.g. 15m or 7d.'}),
    kind: Flags.string({description: 'Only events of this kind; several separated by commas (e.g. job.failed,job.completed).'}),
    resource: Flags.string({description: 'Only events about this resource id.'}),
    project: Flags.string({description: 'Only events of this project id.'}),
    'trace-id': Flags.string({description: 'Only events of this trace (32 hex digits).'}),
    limit: Flags.integer({description: 'Without --all: how many events to print at most (default 100); with --follow, how many of the latest to print first. With --all: how many to fetch per page (default 1000).', min: 1}),
    all: Flags.boolean({description: 'Print every matching event, page after page.'}),
    follow: Flags.boolean({char: 'f', description: 'Keep polling for new events and print them, until Ctrl-C.'}),
    interval: durationFlag({description: 'How often --follow asks for new events.', default: 2000, defaultHelp: async () => '2s'}),
    jsonl: Flags.boolean({description: 'Print each event as one line of JSON, as it arrives (no envelope).', exclusive: ['json']}),
    'from-file': Flags.string({description: 'Read the events from this JSON-lines file instead of the server.'}),
  }

  async run(): Promise<TimelineEvent[]> {
    const {flags} = this
    const window = resolveWindow(flags)
    const query = {...window, kind: flags.kind, resource: flags.resource, project: flags.project, traceId: flags['trace-id']}
    const file = flags['from-file']
    if (flags.follow) this.checkFollow(window.to !== undefined, file !== undefined)
    const source: TimelineSource = file === undefined ? new RemoteObsSource(await this.apiClient()) : new FileObsSource(file)
    const line = (event: TimelineEvent) => process.stdout.write(`${flags.jsonl ? JSON.stringify(event) : formatTimelineLine(event)}\n`)

    if (flags.follow) {
      const latest = await latestEvents(source, query, readOptions(flags.limit, flags.all))
      for (const event of latest) line(event)
      const last = latest.at(-1)
      // Runs until Ctrl-C, which ends the process with 130 (see the base command).
      await followTimeline(source, query, {intervalMs: flags.interval, onEvent: line, ...(last ? {after: {ts: last.ts, eventId: last.eventId}} : {})})
      return []
    }

    const events = listTimeline(source, query, readOptions(flags.limit, flags.all))
    const shown: TimelineEvent[] = []
    for await (const event of events) {
      if (flags.jsonl) line(event)
      else shown.push(event)
    }

    if (!flags.jsonl) this.out(renderTimelineTable(shown))
    if (events.hasMore) this.warning(`more events match than the ${readOptions(flags.limit, flags.all).limit} shown; pass --all for every one, or a larger --limit`)
    return shown
  }

  private checkFollow(hasEnd: boolean, fromFile: boolean): void {
    const refuse = (what: string, remedy: string) => {
      throw new UsageError('FOLLOW_CONFLICT', `--follow cannot be combined with ${what}`, {remedy})
    }

    if (this.jsonEnabled()) refuse('--json: a JSON envelope ends, a follow does not', 'Use --jsonl to get each event as one line of JSON.')
    if (hasEnd) refuse('--to: it follows new events from now on', 'Drop --to, or list a fixed window without --follow.')
    if (fromFile) refuse('--from-file: a file does not receive new events', 'Drop --follow to list the events in the file.')
    if (this.flags.interval < MIN_INTERVAL_MS) refuse(`--interval below ${MIN_INTERVAL_MS}ms`, 'Poll at most ten times a second, e.g. --interval 1s.')
  }
}

