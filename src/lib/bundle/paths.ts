/**
 * Bundle paths (spec: Container): `/`-separated, relative, valid UTF-8, no NUL, no backslash,
 * no `.`/`..`/empty segments, at most 4096 bytes. Compared and sorted by their UTF-8 bytes.
 */
export const MAX_PATH_BYTES = 4096

export type PathProblem = 'empty' | 'too-long' | 'nul' | 'invalid-utf8' | 'backslash' | 'absolute' | 'dot-segment' | 'empty-segment'

const PROBLEM_TEXT: Record<PathProblem, string> = {
  'empty': 'is empty',
  'too-long': `is longer than ${MAX_PATH_BYTES} bytes`,
  'nul': 'contains a NUL byte',
  'invalid-utf8': 'is not valid UTF-8',
  'backslash': 'contains a backslash',
  'absolute': 'is absolute',
  'dot-segment': 'has a "." or ".." segment',
  'empty-segment': 'has an empty segment ("//" or a trailing "/")',
}

export function describePathProblem(problem: PathProblem): string {
  return PROBLEM_TEXT[problem]
}

const utf8Decoder = new TextDecoder('utf-8', {fatal: true})
// Text with an unpaired surrogate has no UTF-8 encoding.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The first problem of a path given as raw bytes, or undefined when it is a valid bundle path. */
export function pathProblemOfBytes(bytes: Uint8Array): PathProblem | undefined {
  if (bytes.length === 0) return 'empty'
  if (bytes.length > MAX_PATH_BYTES) return 'too-long'
  if (bytes.includes(0)) return 'nul'
  let text: string
  try {
    text = utf8Decoder.decode(bytes)
  } catch {
    return 'invalid-utf8'
  }

  return pathProblem(text)
}

/** The first problem of a path given as a string (which is valid UTF-16 text by construction). */
export function pathProblem(path: string): PathProblem | undefined {
  if (path === '') return 'empty'
  if (path.includes('\0')) return 'nul'
  if (LONE_SURROGATE.test(path)) return 'invalid-utf8'
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return 'too-long'
  if (path.includes('\\')) return 'backslash'
  if (path.startsWith('/')) return 'absolute'
  for (const segment of path.split('/')) {
    if (segment === '.' || segment === '..') return 'dot-segment'
    if (segment === '') return 'empty-segment'
  }

  return undefined
}

/**
 * Orders strings by their UTF-8 bytes. UTF-8 byte order is code point order, which differs from
 * JavaScript's UTF-16 order for characters above U+FFFF, so surrogate pairs are compared as code points.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // A surrogate (U+D800–U+DFFF) stands for a code point above U+FFFF: it sorts after every BMP character.
    const xHigh = x >= 0xd8_00 && x <= 0xdf_ff
    const yHigh = y >= 0xd8_00 && y <= 0xdf_ff
    if (xHigh !== yHigh) return xHigh ? 1 : -1
    return x - y
  }

  return a.length - b.length
}

/** Every proper ancestor directory of a path: `a/b/c` → `a`, `a/b`. */
export function ancestorsOf(path: string): string[] {
  const ancestors: string[] = []
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) ancestors.push(path.slice(0, i))
  return ancestors
}
