/** `stella forensic verify`: the offline verdict on a bundle, optionally extracting it once verified. */
import {startExtraction} from '../../lib/bundle/extract.js'
import type {VerifyReport} from '../../lib/bundle/report.js'
import {verifyBundle} from '../../lib/bundle/verify.js'
import {openBundle, readTrustedKeys} from './bundle-file.js'

export interface VerifyInput {
  bundle: string
  keyPaths: string[]
  threshold: number
  extractDir?: string
  onProgress?: (progress: {compressedBytes: number; totalCompressedBytes: number; files: number}) => void
}

export interface VerifyOutcome {
  bundle: string
  report: VerifyReport
  /** Where the content went, when --extract was given and everything verified. */
  extractedTo?: string
}

export async function verifyBundleFile(input: VerifyInput): Promise<VerifyOutcome> {
  const trustedKeys = await readTrustedKeys(input.keyPaths)
  const source = openBundle(input.bundle)
  const extraction = input.extractDir === undefined ? undefined : await startExtraction(input.extractDir)
  let report: VerifyReport
  try {
    report = await verifyBundle(source.file === undefined ? source.stream : {file: source.file, size: source.size}, {
      trustedKeys,
      threshold: input.threshold,
      ...(extraction ? {contentSink: extraction.sink} : {}),
      onProgress: (progress) => input.onProgress?.({compressedBytes: progress.compressedBytes, totalCompressedBytes: source.size, files: progress.files}),
    })
  } catch (error) {
    await extraction?.abort()
    throw error
  }

  if (!extraction) return {bundle: source.name, report}
  if (!report.ok) {
    await extraction.abort()
    return {bundle: source.name, report}
  }

  await extraction.commit()
  return {bundle: source.name, report, extractedTo: input.extractDir}
}
