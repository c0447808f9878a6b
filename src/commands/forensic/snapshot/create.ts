import {Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {BUNDLE_KINDS, type BundleKind} from '../../../lib/bundle/manifest.js'
import {UsageError} from '../../../lib/errors.js'
import {type SnapshotSummary, createSnapshot} from '../../../services/forensic/snapshot.js'
import {renderSnapshotSummary} from '../../../ui/forensic.js'
import {createProgress} from '../../../ui/progress.js'

export default class ForensicSnapshotCreate extends StellaCommand<typeof ForensicSnapshotCreate> {
  static override summary = 'Build and sign an evidence bundle from local files.'
  static override description = `Writes a spec evidence bundle (tar.gz): a manifest of every file's size and SHA-256 sorted by path, the RFC 9162 Merkle root over them, and an in-toto statement signed with DSSE by each --key.
A file given with --from is stored under its own name; a directory's files under their paths relative to it. Symbolic links are refused.
The bundle is written to a temp file beside --out and renamed into place only when complete; an existing --out is never replaced without --force. With the same files, flags and --created-at the output is byte for byte the same.`

  static override examples = [
    '<%= config.bin %> forensic snapshot create --from ./evidence --key platform.pem --case case-42 --kind evaluation --out case-42.tgz',
    '<%= config.bin %> forensic snapshot create --from traces.pb --from logs.pb --key a.pem --key b.pem --case inc-7 --kind telemetry --window-from 2026-11-22T00:00:00Z --window-to 2026-11-23T00:00:00Z --out inc-7.tgz',
    '<%= config.bin %> forensic snapshot create --from ./export --key platform.pem --case c-1 --kind export --created-at 2026-11-22T10:00:00Z --out c-1.tgz --json',
  ]

  static override flags = {
    from: Flags.string({description: 'A file or directory to include (repeat for more).', required: true, multiple: true}),
    key: Flags.string({description: 'Ed25519 private key (PKCS#8 PEM) to sign with (repeat for more).', required: true, multiple: true}),
    case: Flags.string({description: 'Case id recorded in the bundle.', required: true}),
    kind: Flags.option({description: 'What the bundle holds.', options: BUNDLE_KINDS, required: true})(),
    'subject-id': Flags.string({description: 'Id of the subject (evaluation, job, …). Default: the case id.'}),
    'created-at': Flags.string({description: 'Creation time to record, UTC in whole seconds (2026-11-22T10:00:00Z). Default: now.'}),
    'window-from': Flags.string({description: 'Start of the telemetry window (kind telemetry).', dependsOn: ['window-to']}),
    'window-to': Flags.string({description: 'End of the telemetry window (kind telemetry).', dependsOn: ['window-from']}),
    out: Flags.string({char: 'o', description: 'Where to write the bundle (.tgz).', required: true}),
    force: Flags.boolean({description: 'Replace --out if it exists.'}),
  }

  async run(): Promise<SnapshotSummary> {
    const {flags} = this
    const kind = flags.kind as BundleKind
    const window = flags['window-from'] && flags['window-to'] ? {from: flags['window-from'], to: flags['window-to']} : undefined
    if (kind === 'telemetry' && !window) {
      throw new UsageError('WINDOW_REQUIRED', 'a telemetry bundle records the time window it covers', {remedy: 'Pass --window-from and --window-to (UTC times).'})
    }

    const progress = createProgress('bundling', {enabled: !this.jsonEnabled()})
    try {
      const summary = await createSnapshot({
        from: flags.from,
        keyPaths: flags.key,
        caseId: flags.case,
        kind,
        tenant: this.tenant() ?? 'local',
        ...(flags['subject-id'] ? {subjectId: flags['subject-id']} : {}),
        ...(flags['created-at'] ? {createdAt: flags['created-at']} : {}),
        ...(window ? {window} : {}),
        out: flags.out,
        force: flags.force,
        onProgress: (p) => progress.update({bytes: p.bytes, totalBytes: p.totalBytes, files: p.files, totalFiles: p.totalFiles}),
      })
      progress.done()
      this.out(renderSnapshotSummary(summary))
      return summary
    } finally {
      progress.done()
    }
  }
}
