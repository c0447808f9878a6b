/**
 * Evidence bundles given as input to other commands (`obs trace`, `obs logs`, `telemetry capture
 * --from`): each is checked before any of its records is used, so altered evidence is never shown
 * or signed again as if it were whole.
 */
import {NegativeResultError} from '../../lib/errors.js'
import type {Ed25519PublicKey} from '../../lib/keys/index.js'

export interface InputBundleCheck {
  /** Keys the bundles must be signed with; none: only their content is checked. */
  trustedKeys: readonly Ed25519PublicKey[]
  threshold?: number
  /** Told of each bundle whose content was checked but whose signatures were not (no trusted key). */
  onUnsigned?: (file: string) => void
}

/**
 * A check for ReadOtlpOptions.checkBundle: the bundle's files must match its manifest, its Merkle
 * root and its statement, as `forensic verify` finds them; with trusted keys, its signatures must
 * verify too. Anything else is a NegativeResultError (exit 1) naming what failed.
 */
export function inputBundleCheck(options: InputBundleCheck): (file: string) => Promise<void> {
  const checkSignatures = options.trustedKeys.length > 0
  return async (file) => {
    // Loaded only when a bundle is among the inputs: reading Collector files never pays for the verifier.
    const [{verifyBundle}, {openBundle}] = await Promise.all([import('../../lib/bundle/verify.js'), import('./bundle-file.js')])
    const report = await verifyBundle(openBundle(file).stream, {trustedKeys: options.trustedKeys, ...(options.threshold === undefined ? {} : {threshold: options.threshold})})
    const failed = report.checks.filter((check) => check.status === 'failed' && (checkSignatures || check.check !== 'signatures'))
    if (failed.length > 0) {
      throw new NegativeResultError('INPUT_BUNDLE_NOT_VERIFIED', `${file} does not verify (${failed.map((check) => `${check.check}: ${check.message}`).join('; ')}); none of its records were used`, {
        remedy: `See \`stella forensic verify ${file} --key …\` for the full report, and use only bundles that verify.`,
      })
    }

    if (!checkSignatures) options.onUnsigned?.(file)
  }
}

/** The check of commands that only read a bundle's records (`obs trace`, `obs logs`, `obs top`): its content, without keys. */
export const checkBundleContent = inputBundleCheck({trustedKeys: []})
