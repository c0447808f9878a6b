/**
 * Resolves the remote context a command runs with. Each setting comes from the first of:
 * the command-line flag, the `STELLA_*` environment variable, the selected config context.
 */
import {readFileSync, statSync} from 'node:fs'

import {InputError} from '../errors.js'
import {fsErrorReason} from '../fs/reason.js'
import {type ContextConfig, type StellaConfig, parseBoolean, parseServerUrl, parseTenant, unknownContext} from './index.js'

export interface ContextFlags {
  server?: string
  tenant?: string
  token?: string
  context?: string
  sealed?: boolean
}

export type SettingSource = 'flag' | 'env' | 'context'

export interface ResolvedContext {
  /** The config context used, if any. */
  contextName?: string
  server?: string
  tenant?: string
  /** The token. Never print it; print `tokenSource` instead. */
  token?: string
  /** Where the token came from, e.g. `--token`, `env:STELLA_TOKEN`, `file:/home/me/.stella-token`. */
  tokenSource?: string
  caFile?: string
  sealed: boolean
  /** Where each resolved setting came from, for `--verbose` and `config list`. */
  sources: Partial<Record<'server' | 'tenant' | 'token' | 'caFile' | 'sealed', SettingSource>>
  /** Non-fatal problems found while resolving (e.g. a token file readable by others). */
  warnings: string[]
}

type Env = Readonly<Record<string, string | undefined>>

export function resolveContext(flags: ContextFlags, env: Env, config: StellaConfig): ResolvedContext {
  const contextName = flags.context ?? (env.STELLA_CONTEXT || undefined) ?? config.currentContext
  let context: ContextConfig = {}
  if (contextName !== undefined) {
    const found = config.contexts[contextName]
    // A named context that does not exist is a mistake; a dangling current context just means "none".
    if (!found && (flags.context !== undefined || env.STELLA_CONTEXT)) throw unknownContext(config, contextName)
    context = found ?? {}
  }

  const resolved: ResolvedContext = {
    contextName: contextName !== undefined && config.contexts[contextName] ? contextName : undefined,
    sealed: false,
    sources: {},
    warnings: [],
  }

  const server = pick(flags.server, env.STELLA_SERVER, context.server)
  if (server) {
    resolved.server = parseServerUrl(server.value)
    resolved.sources.server = server.source
  }

  const tenant = pick(flags.tenant, env.STELLA_TENANT, context.tenant)
  if (tenant) {
    resolved.tenant = parseTenant(tenant.value)
    resolved.sources.tenant = tenant.source
  }

  const caFile = pick(undefined, env.STELLA_CA_FILE, context.caFile)
  if (caFile) {
    resolved.caFile = caFile.value
    resolved.sources.caFile = caFile.source
  }

  const sealedEnv = env.STELLA_SEALED === undefined ? undefined : parseBoolean(env.STELLA_SEALED, 'STELLA_SEALED')
  const sealed = pick(flags.sealed, sealedEnv, context.sealed)
  if (sealed) {
    resolved.sealed = sealed.value
    resolved.sources.sealed = sealed.source
  }

  resolveToken(flags, env, context, resolved)
  return resolved
}

function pick<T>(flag: T | undefined, env: T | undefined, context: T | undefined): {value: T; source: SettingSource} | undefined {
  if (flag !== undefined && flag !== '') return {value: flag, source: 'flag'}
  if (env !== undefined && env !== '') return {value: env, source: 'env'}
  if (context !== undefined && context !== '') return {value: context, source: 'context'}
  return undefined
}

function resolveToken(flags: ContextFlags, env: Env, context: ContextConfig, resolved: ResolvedContext): void {
  const set = (token: string, source: string, from: SettingSource) => {
    resolved.token = token
    resolved.tokenSource = source
    resolved.sources.token = from
  }

  if (flags.token) return set(flags.token, '--token', 'flag')
  if (env.STELLA_TOKEN) return set(env.STELLA_TOKEN, 'env:STELLA_TOKEN', 'env')
  if (context.tokenEnv) {
    const value = env[context.tokenEnv]
    if (!value) {
      throw new InputError('TOKEN_ENV_UNSET', `the context's token variable ${context.tokenEnv} is not set`, {
        remedy: `Export ${context.tokenEnv}, pass --token, or change the source with \`stella config set token-env NAME\`.`,
      })
    }

    return set(value.trim(), `env:${context.tokenEnv}`, 'context')
  }

  if (context.tokenFile) return set(readTokenFile(context.tokenFile, resolved), `file:${context.tokenFile}`, 'context')
  if (context.token) return set(context.token, 'config (plaintext)', 'context')
}

function readTokenFile(path: string, resolved: ResolvedContext): string {
  let token: string
  try {
    token = readFileSync(path, 'utf8').trim()
  } catch (error) {
    throw new InputError('TOKEN_FILE_UNREADABLE', `cannot read the token file ${path}: ${fsErrorReason(error)}`, {
      remedy: 'Create the file with the token as its only content (mode 0600), or change the source with `stella config set token-file PATH`.',
      cause: error,
    })
  }

  if (token === '') {
    throw new InputError('TOKEN_FILE_EMPTY', `the token file ${path} is empty`, {remedy: 'Write the token into the file, or pass --token.'})
  }

  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    resolved.warnings.push(`the token file ${path} is readable by other users; run \`chmod 600 ${path}\``)
  }

  return token
}

/** The tenant alone (flag, STELLA_TENANT, context), for local commands that record it but send nothing. */
export function resolveTenant(flags: ContextFlags, env: Env, config: StellaConfig): string | undefined {
  const contextName = flags.context ?? (env.STELLA_CONTEXT || undefined) ?? config.currentContext
  const context = contextName === undefined ? undefined : config.contexts[contextName]
  const tenant = pick(flags.tenant, env.STELLA_TENANT, context?.tenant)
  return tenant === undefined ? undefined : parseTenant(tenant.value)
}
