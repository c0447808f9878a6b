import {Args, Flags} from '@oclif/core'

import {StellaCommand} from '../../base-command.js'
import {remoteFlags} from '../../flags.js'
import type {ServerVerifyResult} from '../../lib/api/types.js'
import {UsageError} from '../../lib/errors.js'
import {compareVerdicts, serverVerify} from '../../services/forensic/remote.js'
import {type VerifyOutcome, verifyBundleFile} from '../../services/forensic/verify.js'
import {renderVerdicts, renderVerifyOutcome} from '../../ui/forensic.js'
import {createProgress} from '../../ui/progress.js'

export default class ForensicVerify extends StellaCommand<typeof ForensicVerify> {
  static override summary = 'Verify an evidence bundle offline: every byte, the Merkle root and the signatures.'
  static override description = `Reads the bundle once, as a stream, without unpacking it, and checks in order: the container (one gzip member; regular files only; safe, unique paths), the manifest, every file's size and SHA-256, the Merkle root (recomputed, against manifest.json and root.merkle), the signed in-toto statement, and the DSSE signatures against the trusted --key(s).
Exit 0 only when every check passed; 1 when the bundle failed verification (the report says what differs); 3 when the bundle or a key could not be read.
With --extract DIR the content files are written into DIR only after everything verified. Use - to read the bundle from standard input.
With --server-check the server gives its own verdict on the same bundle id (from the manifest, or --bundle-id) after the local report; both are shown side by side. A disagreement is exit 1 (VERDICT_DISAGREEMENT); an unreachable server is exit 4, after the local report.`

  static override examples = [
    '<%= config.bin %> forensic verify case-42.tgz --key platform.pub.pem',
    '<%= config.bin %> forensic verify case-42.tgz --key a.pub.pem --key b.pub.pem --threshold 2',
    '<%= config.bin %> forensic verify case-42.tgz --key platform.pub.pem --extract ./case-42',
    'cat case-42.tgz | <%= config.bin %> forensic verify - --key platform.pub.pem --json',
    '<%= config.bin %> forensic verify case-42.tgz --key platform.pub.pem --server-check',
  ]

  static override args = {
    bundle: Args.string({description: 'The bundle (.tgz), or - for standard input.', required: true}),
  }

  static override flags = {
    key: Flags.string({description: 'A trusted public key (SPKI PEM, JWK or hex; repeat for more).', multiple: true, required: true}),
    threshold: Flags.integer({description: 'How many distinct trusted keys must have signed.', default: 1, min: 1}),
    extract: Flags.string({description: 'After a successful verification, write the content files into this directory.'}),
    'server-check': Flags.boolean({description: "Also ask the server for its verdict on the bundle, and compare."}),
    'bundle-id': Flags.string({description: "With --server-check: the server's bundle id, when not the one in the manifest.", dependsOn: ['server-check']}),
    ...remoteFlags,
  }

  async run(): Promise<VerifyOutcome & {server?: ServerVerifyResult}> {
    const progress = createProgress('verifying', {enabled: !this.jsonEnabled()})
    let outcome: VerifyOutcome
    try {
      outcome = await verifyBundleFile({
        bundle: this.args.bundle,
        keyPaths: this.flags.key,
        threshold: this.flags.threshold,
        ...(this.flags.extract === undefined ? {} : {extractDir: this.flags.extract}),
        onProgress: (p) => progress.update({bytes: p.compressedBytes, totalBytes: p.totalCompressedBytes, files: p.files}),
      })
    } finally {
      progress.done()
    }

    if (!outcome.report.ok) this.setNegative()
    this.out(renderVerifyOutcome(outcome))
    if (!this.flags['server-check']) return outcome

    // The local report is out before the server is asked, so it stands even if the server cannot be reached.
    const bundleId = this.flags['bundle-id'] ?? outcome.report.bundleId
    if (bundleId === undefined) {
      throw new UsageError('BUNDLE_ID_UNKNOWN', 'the bundle has no readable manifest, so its bundle id for --server-check is unknown', {remedy: 'Pass --bundle-id with the id the server knows it by.'})
    }

    const server = await serverVerify(await this.apiClient(), bundleId)
    this.out(`\n${renderVerdicts(outcome.report, server)}`)
    compareVerdicts(outcome.report, server)
    return {...outcome, server}
  }
}
