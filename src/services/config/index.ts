/** What the `stella config` commands do, on the config file; returns plain data, prints nothing. */
import {
  CONFIG_KEYS,
  type ContextConfig,
  configPath,
  describeTokenSource,
  findConfigKey,
  loadConfig,
  parseContextName,
  requireContext,
  saveConfig,
  setConfigValue,
  targetContextName,
  unknownContext,
  unsetConfigValue,
} from '../../lib/config/index.js'
import {UsageError} from '../../lib/errors.js'
import {readStdinText} from '../../stdin.js'

export interface ConfigChange {
  path: string
  context: string
  key: string
  /** The value as shown to people: never a token. */
  value?: string | boolean
  created: boolean
  current: boolean
  cleared: string[]
}

export interface SetConfigInput {
  key: string
  value: string
  context?: string
  allowPlaintextToken?: boolean
  /** Read when the value is `-`, so a token never has to appear on a command line. */
  stdin?: () => Promise<string>
}

export async function setConfig(input: SetConfigInput): Promise<ConfigChange> {
  const key = findConfigKey(input.key)
  if (key.secret && !input.allowPlaintextToken) {
    throw new UsageError('PLAINTEXT_TOKEN_REFUSED', 'stella does not store a token in plain text unless asked to', {
      remedy: 'Point the context at the token instead: `stella config set token-env VAR` or `stella config set token-file PATH`; '
        + 'or add --allow-plaintext-token (and pass the token as - to read it from stdin).',
    })
  }

  const raw = input.value === '-' ? (await (input.stdin ?? readStdinText)()).replace(/\r?\n$/, '') : input.value
  const value = key.parse(raw)
  const path = configPath()
  const config = loadConfig(path)
  const result = setConfigValue(config, targetContextName(config, input.context), key, value)
  saveConfig(path, result.config)
  return {
    path,
    context: result.context,
    key: key.name,
    value: key.secret ? undefined : value,
    created: result.created,
    current: result.config.currentContext === result.context,
    cleared: result.cleared,
  }
}

export interface ConfigValue {
  path: string
  context: string
  key: string
  value?: string | boolean
  /** True when the key holds a secret: the value is not shown, only whether it is set. */
  hidden: boolean
  set: boolean
}

export function getConfig(keyName: string, contextName?: string): ConfigValue {
  const key = findConfigKey(keyName)
  const path = configPath()
  const config = loadConfig(path)
  const name = requireTargetContext(config.currentContext, contextName)
  const stored = requireContext(config, name)[key.field]
  return {
    path,
    context: name,
    key: key.name,
    value: key.secret ? undefined : stored,
    hidden: Boolean(key.secret),
    set: stored !== undefined,
  }
}

export function unsetConfig(keyName: string, contextName?: string): ConfigChange {
  const key = findConfigKey(keyName)
  const path = configPath()
  const config = loadConfig(path)
  const name = requireTargetContext(config.currentContext, contextName)
  const result = unsetConfigValue(config, name, key)
  if (result.changed) saveConfig(path, result.config)
  return {path, context: name, key: key.name, created: false, current: config.currentContext === name, cleared: result.changed ? [key.name] : []}
}

export interface ContextSummary {
  name: string
  current: boolean
  server?: string
  tenant?: string
  /** `env:VAR`, `file:PATH` or `plaintext (hidden)`. */
  token?: string
  caFile?: string
  sealed: boolean
}

export interface ContextList {
  path: string
  currentContext?: string
  contexts: ContextSummary[]
}

export function listContexts(): ContextList {
  const path = configPath()
  const config = loadConfig(path)
  const contexts = Object.entries(config.contexts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, context]) => summarize(name, context, name === config.currentContext))
  return {path, currentContext: config.currentContext, contexts}
}

function summarize(name: string, context: ContextConfig, current: boolean): ContextSummary {
  return {
    name,
    current,
    server: context.server,
    tenant: context.tenant,
    token: describeTokenSource(context),
    caFile: context.caFile,
    sealed: context.sealed ?? false,
  }
}

export function useContext(name: string): {path: string; previous?: string; current: string} {
  parseContextName(name)
  const path = configPath()
  const config = loadConfig(path)
  if (!config.contexts[name]) throw unknownContext(config, name)
  const previous = config.currentContext
  if (previous !== name) saveConfig(path, {...config, currentContext: name})
  return {path, previous, current: name}
}

export const configKeyNames = CONFIG_KEYS.map((key) => key.name)

function requireTargetContext(current: string | undefined, named: string | undefined): string {
  const name = named ?? current
  if (name === undefined) {
    throw new UsageError('NO_CONTEXT', 'no context is selected and none was named', {
      remedy: 'Create one with `stella config set server URL`, or name one with --context.',
    })
  }

  return name
}
