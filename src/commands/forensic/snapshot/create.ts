import {Flags} from '@oclif/core'

import {StellaCommand} from '../../../base-command.js'
import {durationFlag, remoteFlags} from '../../../flags.js'
import type {SnapshotKind} from '../../../lib/api/types.js'
import {BUNDLE_KINDS, type BundleKind} from '../../../lib/bundle/manifest.js'
import {UsageError} from '../../../lib/errors.js'
import {type RemoteSnapshotSummary, createRemoteSnapshot} from '../../../services/forensic/remote.js'
import {type SnapshotSummary, createSnapshot} from '../../../services/forensic/snapshot.js'
import {createDownloadProgress, createStatusLine, renderRemoteSnapshotSummary, renderSnapshotSummary} from '../../../ui/forensic.js'
import {createProgress} from '../../../ui/progress.js'

const SCOPES = {eval: 'evaluation', evaluation: 'evaluation', job: 'job', export: 'export'} as const satisfies Record<string, SnapshotKind>
const LOCAL_ONLY = ['subject-id', 'created-at', 'window-from', 'window-to'] as const
const SERVER_ONLY = ['id', 'scope', 'poll-interval', 'wait-timeout'] as const

export default class ForensicSnapshotCreate extends StellaCommand<typeof ForensicSnapshotCreate> {
  static override summary = 'Build and sign an evidence bundle from local files, or have the server snapshot a resource.'
  static override description = `Local (--from): writes a spec evidence bundle (tar.gz): a manifest of every file's size and SHA-256 sorted by path, the RFC 9162 Merkle root over them, and an in-toto statement signed with DSSE by each --key (a private key).
A file given with --from is stored under its own name; a directory's files under their paths relative to it. Symbolic links are refused.
The bundle is written to a temp file beside --out and renamed into place only when complete; an existing --out is never replaced without --force. With the same files, flags and --created-at the output is byte for byte the same.

Server (no --from): asks the server to snapshot an evaluation, job or export (--scope, --id) for a case, waits until it is built, downloads it and verifies it against the trusted --key(s) (public keys) before saving it at --out (default <bundle id>.tgz). A bundle that fails verification is not saved (exit 1); a snapshot the server could not build is exit 4.`

  static override examples = [
    '<%= config.bin %> forensic snapshot create --from ./evidence --key platform.pem --case case-42 --kind evaluation --out case-42.tgz',
    '<%= config.bin %> forensic snapshot create --from traces.pb --from logs.pb --key a.pem --key b.pem --case inc-7 --kind telemetry --window-from 2026-11-22T00:00:00Z --window-to 2026-11-23T00:00:00Z --out inc-7.tgz',
    '<%= config.bin %> forensic snapshot create --from ./export --key platform.pem --case c-1 --kind export --created-at 2026-11-22T10:00:00Z --out c-1.tgz --json',
    '<%= config.bin %> forensic snapshot create --case case-42 --scope eval --id eval-9 --key platform.pub.pem',
    '<%= config.bin %> forensic snapshot create --case inc-7 --scope job --id job-311 --key platform.pub.pem --out inc-7.tgz --wait-timeout 30m',
  ]

  static override flags = {
    from: Flags.string({description: 'Local: a file or directory to include (repeat for more). Without it the server builds the snapshot.', multiple: true}),
    key: Flags.string({description: 'Local: an Ed25519 private key (PKCS#8 PEM) to sign with. Server: a trusted public key to verify the download with. Repeat for more.', multiple: true}),
    case: Flags.string({description: 'Case id recorded in the bundle.', required: true}),
    kind: Flags.option({description: 'What the bundle holds. For a server snapshot, the same as --scope.', options: BUNDLE_KINDS})(),
    scope: Flags.option({description: 'Server: what to snapshot (eval is short for evaluation).', options: Object.keys(SCOPES) as (keyof typeof SCOPES)[], exclusive: ['kind']})(),
    id: Flags.string({description: 'Server: the id of the evaluation, job or export to snapshot.'}),
    'subject-id': Flags.string({description: 'Local: id of the subject (evaluation, job, …). Default: the case id.'}),
    'created-at': Flags.string({description: 'Local: creation time to record, UTC in whole seconds (2026-11-22T10:00:00Z). Default: now.'}),
    'window-from': Flags.string({description: 'Local: start of the telemetry window (kind telemetry).', dependsOn: ['window-to']}),
    'window-to': Flags.string({description: 'Local: end of the telemetry window (kind telemetry).', dependsOn: ['window-from']}),
    out: Flags.string({char: 'o', description: 'Where to write the bundle (.tgz). Required for a local bundle; a server snapshot defaults to <bundle id>.tgz.'}),
    force: Flags.boolean({description: 'Replace --out if it exists.'}),
    'poll-interval': durationFlag({description: 'Server: how often to ask whether the snapshot is built at first (it backs off to 5s).', default: 1000}),
    'wait-timeout': durationFlag({description: 'Server: how long to wait for the snapshot to be built.', default: 10 * 60 * 1000}),
    ...remoteFlags,
  }

  async run(): Promise<RemoteSnapshotSummary | SnapshotSummary> {
    return this.flags.from === undefined ? this.createOnServer() : this.createLocally(this.flags.from)
  }

  private async createLocally(from: string[]): Promise<SnapshotSummary> {
    const {flags} = this
    this.refuseFlags(SERVER_ONLY, 'only for a server snapshot; a local bundle is built from --from')
    if (!flags.key) throw new UsageError('KEY_REQUIRED', 'a local bundle is signed, and no --key was given', {remedy: 'Pass --key with an Ed25519 private key, e.g. --key platform.pem (create one with `stella keys generate`).'})
    if (!flags.kind) throw new UsageError('KIND_REQUIRED', 'say what the bundle holds with --kind', {remedy: `Pass --kind ${BUNDLE_KINDS.join('|')}.`})
    if (!flags.out) throw new UsageError('OUT_REQUIRED', 'say where to write the bundle with --out', {remedy: 'Pass --out FILE.tgz.'})
    const kind = flags.kind as BundleKind
    const window = flags['window-from'] && flags['window-to'] ? {from: flags['window-from'], to: flags['window-to']} : undefined
    if (kind === 'telemetry' && !window) {
      throw new UsageError('WINDOW_REQUIRED', 'a telemetry bundle records the time window it covers', {remedy: 'Pass --window-from and --window-to (UTC times).'})
    }

    const progress = createProgress('bundling', {enabled: !this.jsonEnabled()})
    try {
      const summary = await createSnapshot({
        from,
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

  private async createOnServer(): Promise<RemoteSnapshotSummary> {
    const {flags} = this
    this.refuseFlags(LOCAL_ONLY, 'only for a local bundle built with --from')
    if (!flags.id) {
      throw new UsageError('SNAPSHOT_SOURCE_REQUIRED', 'say what to snapshot: --scope and --id for a server snapshot, or --from PATH for a local bundle', {
        remedy: 'e.g. `stella forensic snapshot create --case case-42 --scope eval --id eval-9 --key platform.pub.pem`.',
      })
    }

    const kind = this.serverKind()

    const client = await this.apiClient()
    const enabled = !this.jsonEnabled()
    const status = createStatusLine({enabled})
    const progress = createDownloadProgress({enabled})
    const finish = () => {
      status.done()
      progress.done()
    }

    try {
      const summary = await createRemoteSnapshot(client, {
        caseId: flags.case,
        kind,
        resourceId: flags.id,
        ...(flags.out === undefined ? {} : {out: flags.out}),
        force: flags.force,
        keyPaths: flags.key ?? [],
        pollIntervalMs: flags['poll-interval'],
        waitTimeoutMs: flags['wait-timeout'],
        onStatus: (s) => status.update(`waiting for ${s.bundleId}: ${s.status} (${Math.round(s.elapsedMs / 1000)}s)`),
        onProgress: (p) => {
          status.done()
          progress.update(p)
        },
      })
      finish()
      this.out(renderRemoteSnapshotSummary(summary))
      return summary
    } finally {
      finish()
    }
  }

  /** --scope, or --kind as its alias; telemetry bundles are not made this way. */
  private serverKind(): SnapshotKind {
    const {scope, kind} = this.flags
    if (scope !== undefined) return SCOPES[scope]
    if (kind === undefined) {
      throw new UsageError('SCOPE_REQUIRED', 'say what the server should snapshot with --scope eval|job|export', {remedy: 'Or pass --from with local files to build a bundle here.'})
    }

    if (kind === 'telemetry') {
      throw new UsageError('SCOPE_UNSUPPORTED', 'the server snapshots evaluations, jobs and exports; telemetry comes from `stella telemetry capture`', {
        remedy: 'Use --scope eval|job|export, or --from with local files for a telemetry bundle built here.',
      })
    }

    return kind
  }

  private refuseFlags(names: readonly string[], why: string): void {
    const given = names.filter((name) => this.argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)))
    if (given.length > 0) throw new UsageError('FLAG_NOT_APPLICABLE', `${given.map((name) => `--${name}`).join(', ')} ${given.length > 1 ? 'are' : 'is'} ${why}`, {remedy: 'Drop it, or choose the other form.'})
  }
}
