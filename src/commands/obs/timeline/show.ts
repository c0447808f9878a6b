import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import type {TimelineEventDetail} from '../../../lib/api/types.js'
import {remoteFlags} from '../../../flags.js'
import {FileObsSource} from '../../../services/obs/file-source.js'
import {RemoteObsSource, type TimelineSource} from '../../../services/obs/source.js'
import {showTimelineEvent} from '../../../services/obs/timeline.js'
import {renderTimelineEvent} from '../../../ui/obs.js'

export default class ObsTimelineShow extends StellaCommand<typeof ObsTimelineShow> {
  static override summary = 'Show one timeline event: every field, its details, and where to look next.'
  static override description = `Prints the event's fields, its details as indented key/value lines, and its links: a trace (with the \`stella obs trace\` command that opens it) and an evidence bundle (with the \`stella forensic snapshot get\` command that fetches it), when the event has them.

--from-file looks the event up in a JSON-lines file of timeline events instead of the server.`

  static override examples = [
    '<%= config.bin %> obs timeline show evt_5f2a9c01d4e3b8a7',
    '<%= config.bin %> obs timeline show evt_5f2a9c01d4e3b8a7 --json',
    '<%= config.bin %> obs timeline show evt_5f2a9c01d4e3b8a7 --from-file events.jsonl',
  ]

  static override args = {
    id: Args.string({description: 'The event id (the EVENT column of `stella obs timeline list`).', required: true}),
  }

  static override flags = {
    ...remoteFlags,
    'from-file': Flags.string({description: 'Look the event up in this JSON-lines file instead of the server.'}),
  }

  async run(): Promise<TimelineEventDetail> {
    const file = this.flags['from-file']
    const source: TimelineSource = file === undefined ? new RemoteObsSource(await this.apiClient()) : new FileObsSource(file)
    const event = await showTimelineEvent(source, this.args.id)
    this.out(renderTimelineEvent(event))
    return event
  }
}
