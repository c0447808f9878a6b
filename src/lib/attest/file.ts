/**
 * Attestation files as they travel beside artifacts: one DSSE envelope as a JSON document
 * (`.dsse.json`), or JSON Lines with one envelope per line (`.intoto.jsonl`, as SLSA builders
 * and Sigstore tooling write them). A file that holds no readable envelope is an input error
 * naming the file and line; whether the envelopes verify is a separate question.
 */
import {type Envelope, parseEnvelope} from '../dsse/index.js'
import {fromUtf8Strict} from '../encoding.js'
import {InputError} from '../errors.js'

export interface AttestationFileEntry {
  /** `file` for a single envelope, `file:line` for JSON Lines. */
  source: string
  envelope: Envelope
}

/** The two names looked for beside an artifact, in the order they are read. */
export function sidecarPaths(artifactPath: string): string[] {
  return [`${artifactPath}.intoto.jsonl`, `${artifactPath}.dsse.json`]
}

function nonBlankLines(text: string): Array<{line: number; text: string}> {
  return text
    .split(/\r?\n/)
    .map((line, index) => ({line: index + 1, text: line.trim()}))
    .filter((entry) => entry.text !== '')
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Reads every envelope in an attestation file. A name ending in `.jsonl` is read line by line;
 * anything else as one JSON document, or as JSON Lines when it is not one document but every
 * line is JSON (a `.intoto.jsonl` saved under another name).
 */
export function parseAttestationFile(bytes: Uint8Array, name: string): AttestationFileEntry[] {
  const decoded = fromUtf8Strict(bytes)
  if (decoded === undefined) return [{source: name, envelope: parseEnvelope(bytes, name)}] // parseEnvelope names the encoding problem
  const text = decoded.replace(/^\uFEFF/, '')
  const lines = nonBlankLines(text)
  if (lines.length === 0) {
    throw new InputError('ATTESTATION_EMPTY', `${name} is empty`, {remedy: 'Pass a file holding a DSSE envelope (.dsse.json) or one envelope per line (.intoto.jsonl).'})
  }

  const jsonLines = name.endsWith('.jsonl') || (lines.length > 1 && !parsesAsJson(text) && lines.every((line) => parsesAsJson(line.text)))
  if (!jsonLines) return [{source: name, envelope: parseEnvelope(text, name)}]
  return lines.map((line) => ({source: `${name}:${line.line}`, envelope: parseEnvelope(line.text, `${name} line ${line.line}`)}))
}
