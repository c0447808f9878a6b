/**
 * stella's configuration: named contexts (server URL, tenant, token source, CA file, sealed mode)
 * and which one is current. Stored as JSON in the user's config directory with mode 0600.
 *
 * The token itself is kept out of the file: a context names where to find it (an environment
 * variable or a file). A plaintext token is stored only when the user asked for it explicitly.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve as resolvePath} from 'node:path'

import {InputError, UsageError} from '../errors.js'
import {writeFileAtomic} from '../fs/atomic.js'
import {fsErrorReason} from '../fs/reason.js'

export interface ContextConfig {
  server?: string
  tenant?: string
  /** Name of the environment variable that holds the token. */
  tokenEnv?: string
  /** Path of a file whose content is the token. */
  tokenFile?: string
  /** The token itself: only with --allow-plaintext-token. */
  token?: string
  caFile?: string
  sealed?: boolean
}

export interface StellaConfig {
  currentContext?: string
  contexts: Record<string, ContextConfig>
}

export const CONFIG_VERSION = 1

type Env = Readonly<Record<string, string | undefined>>

/** `STELLA_CONFIG` if set, else `$XDG_CONFIG_HOME/stella/config.json`, else the platform's user config dir. */
export function configPath(env: Env = process.env): string {
  if (env.STELLA_CONFIG) return resolvePath(env.STELLA_CONFIG)
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'stella', 'config.json')
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'stella', 'config.json')
  return join(env.HOME || homedir(), '.config', 'stella', 'config.json')
}

export function emptyConfig(): StellaConfig {
  return {contexts: {}}
}

/** Reads the config file; a missing file is an empty config, a corrupt one a clear error naming it. */
export function loadConfig(path: string): StellaConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig()
    throw new InputError('CONFIG_UNREADABLE', `cannot read the config file ${path}: ${fsErrorReason(error)}`, {
      remedy: `Check the file's permissions, or point STELLA_CONFIG at another file.`,
      cause: error,
    })
  }

  const corrupt = (why: string): never => {
    throw new InputError('CONFIG_CORRUPT', `the config file ${path} is corrupt: ${why}`, {
      remedy: `Fix the file by hand, or move it away and recreate contexts with \`stella config set\`.`,
    })
  }

  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    return corrupt(`it is not valid JSON (${(error as Error).message})`)
  }

  return validateConfig(data, corrupt)
}

function validateConfig(data: unknown, corrupt: (why: string) => never): StellaConfig {
  if (!isPlainObject(data)) return corrupt('the top level is not a JSON object')
  if (data.version !== undefined && data.version !== CONFIG_VERSION) {
    corrupt(`version ${JSON.stringify(data.version)} is not supported (this stella reads version ${CONFIG_VERSION})`)
  }

  if (data.currentContext !== undefined && typeof data.currentContext !== 'string') corrupt('"currentContext" is not a string')
  const contexts = data.contexts ?? {}
  if (!isPlainObject(contexts)) return corrupt('"contexts" is not an object')

  const config: StellaConfig = {contexts: {}}
  if (typeof data.currentContext === 'string') config.currentContext = data.currentContext
  for (const [name, raw] of Object.entries(contexts)) {
    if (!isPlainObject(raw)) return corrupt(`context "${name}" is not an object`)
    const context: ContextConfig = {}
    for (const field of ['server', 'tenant', 'tokenEnv', 'tokenFile', 'token', 'caFile'] as const) {
      const value = raw[field]
      if (value === undefined) continue
      if (typeof value !== 'string') corrupt(`context "${name}": "${field}" is not a string`)
      context[field] = value as string
    }

    if (raw.sealed !== undefined) {
      if (typeof raw.sealed !== 'boolean') corrupt(`context "${name}": "sealed" is not true or false`)
      context.sealed = raw.sealed as boolean
    }

    config.contexts[name] = context
  }

  return config
}

/** Writes the config atomically with mode 0600 in a 0700 directory. */
export function saveConfig(path: string, config: StellaConfig): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const body = {version: CONFIG_VERSION, currentContext: config.currentContext, contexts: config.contexts}
  writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`, {mode: 0o600, overwrite: true})
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ---------------------------------------------------------------------------------------------
// Settable keys

export interface ConfigKey {
  /** The name users type: `stella config set <name> <value>`. */
  name: string
  field: keyof ContextConfig
  description: string
  /** Validates and normalises a value given on the command line. */
  parse(value: string): string | boolean
  /** Keys that hold a token source are mutually exclusive: setting one clears the others. */
  tokenSource?: boolean
  secret?: boolean
}

const TENANT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const CONTEXT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const CONFIG_KEYS: readonly ConfigKey[] = [
  {name: 'server', field: 'server', description: 'StellaOps server URL (https://…)', parse: parseServerUrl},
  {name: 'tenant', field: 'tenant', description: 'tenant id sent as X-Stella-Tenant', parse: parseTenant},
  {
    name: 'token-env',
    field: 'tokenEnv',
    description: 'name of the environment variable holding the API token',
    tokenSource: true,
    parse(value) {
      if (!ENV_NAME_RE.test(value)) {
        throw new UsageError('INVALID_CONFIG_VALUE', `"${value}" is not an environment variable name`, {
          remedy: 'Give the variable name only, e.g. STELLA_PROD_TOKEN (not its value, not $STELLA_PROD_TOKEN).',
        })
      }

      return value
    },
  },
  {
    name: 'token-file',
    field: 'tokenFile',
    description: 'path of a file holding the API token',
    tokenSource: true,
    parse: (value) => resolvePath(value),
  },
  {
    name: 'token',
    field: 'token',
    description: 'the API token itself, stored in plain text (needs --allow-plaintext-token)',
    tokenSource: true,
    secret: true,
    parse(value) {
      if (value.trim() === '') throw new UsageError('INVALID_CONFIG_VALUE', 'the token is empty', {remedy: 'Give a non-empty token.'})
      return value.trim()
    },
  },
  {name: 'ca-file', field: 'caFile', description: 'PEM file of CA certificates to trust for the server', parse: parseCaFile},
  {name: 'sealed', field: 'sealed', description: 'refuse any server that is not loopback (true/false)', parse: (value) => parseBoolean(value, 'sealed')},
]

export function findConfigKey(name: string): ConfigKey {
  const key = CONFIG_KEYS.find((candidate) => candidate.name === name)
  if (!key) {
    throw new UsageError('UNKNOWN_CONFIG_KEY', `"${name}" is not a config key`, {
      remedy: `Use one of: ${CONFIG_KEYS.map((k) => k.name).join(', ')}.`,
    })
  }

  return key
}

export function parseServerUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError('INVALID_SERVER_URL', `"${value}" is not a URL`, {remedy: 'Give the full server URL, e.g. https://stella.example.com.'})
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('INVALID_SERVER_URL', `"${value}" is not an http(s) URL`, {remedy: 'Give the full server URL, e.g. https://stella.example.com.'})
  }

  if (url.username || url.password) {
    throw new UsageError('INVALID_SERVER_URL', 'the server URL must not contain credentials', {
      remedy: 'Remove user:password@ from the URL and supply a token with --token, STELLA_TOKEN or `stella config set token-env`.',
    })
  }

  if (url.search || url.hash) {
    throw new UsageError('INVALID_SERVER_URL', `"${value}" has a query or fragment`, {remedy: 'Give the server base URL only.'})
  }

  return url.href.replace(/\/+$/, '')
}

export function parseTenant(value: string): string {
  if (!TENANT_RE.test(value)) {
    throw new UsageError('INVALID_TENANT', `"${value}" is not a tenant id`, {
      remedy: 'A tenant id is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit.',
    })
  }

  return value
}

export function parseContextName(value: string): string {
  if (!CONTEXT_NAME_RE.test(value)) {
    throw new UsageError('INVALID_CONTEXT_NAME', `"${value}" is not a valid context name`, {
      remedy: 'A context name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.',
    })
  }

  return value
}

function parseCaFile(value: string): string {
  const path = resolvePath(value)
  try {
    readFileSync(path)
  } catch (error) {
    throw new InputError('CA_FILE_UNREADABLE', `cannot read the CA file ${path}: ${fsErrorReason(error)}`, {
      remedy: 'Give the path of a readable PEM file of CA certificates.',
      cause: error,
    })
  }

  return path
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on'])
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', ''])

export function parseBoolean(value: string, what: string): boolean {
  const word = value.trim().toLowerCase()
  if (TRUE_WORDS.has(word)) return true
  if (FALSE_WORDS.has(word)) return false
  throw new UsageError('INVALID_BOOLEAN', `${what}: "${value}" is neither true nor false`, {remedy: 'Use true or false (or 1/0, yes/no, on/off).'})
}

// ---------------------------------------------------------------------------------------------
// Editing

/** The context that `set`/`unset`/`get` act on: the named one, else the current one. */
export function targetContextName(config: StellaConfig, named: string | undefined): string | undefined {
  return named ?? config.currentContext
}

export interface SetResult {
  config: StellaConfig
  context: string
  created: boolean
  /** Token-source keys that were cleared because another one was set. */
  cleared: string[]
}

export function setConfigValue(config: StellaConfig, contextName: string | undefined, key: ConfigKey, value: string | boolean): SetResult {
  const name = parseContextName(contextName ?? 'default')
  const created = !(name in config.contexts)
  const context: ContextConfig = {...config.contexts[name]}
  const cleared: string[] = []
  if (key.tokenSource) {
    for (const other of CONFIG_KEYS) {
      if (other.tokenSource && other !== key && context[other.field] !== undefined) {
        delete context[other.field]
        cleared.push(other.name)
      }
    }
  }

  ;(context as Record<string, unknown>)[key.field] = value
  const next: StellaConfig = {currentContext: config.currentContext, contexts: {...config.contexts, [name]: context}}
  // With no current context yet, the one just edited becomes current, so `config set server …` just works.
  next.currentContext ??= name

  return {config: next, context: name, created, cleared}
}

export function unsetConfigValue(config: StellaConfig, contextName: string, key: ConfigKey): {config: StellaConfig; changed: boolean} {
  const context = requireContext(config, contextName)
  if (context[key.field] === undefined) return {config, changed: false}
  const next = {...context}
  delete next[key.field]
  return {config: {...config, contexts: {...config.contexts, [contextName]: next}}, changed: true}
}

export function requireContext(config: StellaConfig, name: string): ContextConfig {
  const context = config.contexts[name]
  if (!context) throw unknownContext(config, name)
  return context
}

export function unknownContext(config: StellaConfig, name: string): UsageError {
  const known = Object.keys(config.contexts)
  return new UsageError('UNKNOWN_CONTEXT', `there is no context named "${name}"`, {
    remedy: known.length > 0
      ? `Known contexts: ${known.join(', ')}. Create one with \`stella config set server URL --context ${name}\`.`
      : `No context exists yet. Create one with \`stella config set server URL --context ${name}\`.`,
  })
}

/** How a context's token is found, for display: never the token itself. */
export function describeTokenSource(context: ContextConfig): string | undefined {
  if (context.tokenEnv) return `env:${context.tokenEnv}`
  if (context.tokenFile) return `file:${context.tokenFile}`
  if (context.token) return 'plaintext (hidden)'
  return undefined
}
