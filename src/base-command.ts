/**
 * The command every stella command extends: global flags, context resolution, the JSON
 * envelope, and the single place where errors become a message, a remedy and an exit code.
 */
import {Command, Errors, Flags, Interfaces} from '@oclif/core'

import {configPath, loadConfig} from './lib/config/index.js'
import {type ResolvedContext, resolveContext, resolveTenant} from './lib/config/resolve.js'
import {runInterruptCleanups} from './lib/cleanup.js'
import {ExitCode, type ExitCodeValue, StellaError, UsageError, isStellaError} from './lib/errors.js'
import {bold, dim, red, setColorEnabled, shouldUseColor, yellow} from './ui/style.js'
import type {ApiClient} from './lib/api/client.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof StellaCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** `{status, result, warnings}` on success; `status` is the exit code (0, or 1 for a negative check). */
export interface SuccessEnvelope<R> {
  status: number
  result: R
  warnings: string[]
}

/** `{status, error: {code, message, remedy}}` on failure. */
export interface ErrorEnvelope {
  status: number
  error: {code: string; message: string; remedy?: string; traceId?: string}
}

const GLOBAL = 'GLOBAL'

export abstract class StellaCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    verbose: Flags.boolean({description: 'Say more about what happens; show stack traces of errors.', helpGroup: GLOBAL}),
    color: Flags.boolean({
      allowNo: true,
      description: 'Colour the output. Default: on for a terminal, off when NO_COLOR is set.',
      helpGroup: GLOBAL,
    }),
    context: Flags.string({description: 'Config context to use (env: STELLA_CONTEXT).', helpGroup: GLOBAL}),
    server: Flags.string({description: 'StellaOps server URL (env: STELLA_SERVER).', helpGroup: GLOBAL}),
    tenant: Flags.string({description: 'Tenant id (env: STELLA_TENANT).', helpGroup: GLOBAL}),
    token: Flags.string({description: 'API token (env: STELLA_TOKEN). Prefer a token source in the context.', helpGroup: GLOBAL}),
    sealed: Flags.boolean({
      allowNo: true,
      description: 'Sealed mode: refuse any server that is not loopback (env: STELLA_SEALED).',
      helpGroup: GLOBAL,
    }),
  }

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  /** The exit status of a successful run: 0, or ExitCode.Negative when a check said no. */
  protected status: ExitCodeValue = ExitCode.Ok
  private readonly warnings: string[] = []

  public override async init(): Promise<void> {
    await super.init()
    // Decide colour before parsing so that even usage errors follow NO_COLOR.
    setColorEnabled(shouldUseColor(this.argv.includes('--no-color') ? false : undefined, process.env, Boolean(process.stderr.isTTY)))
    installProcessHandlers(() => this.jsonEnabled())
    // A parse failure is reported by catch(); without this oclif adds a "did not parse" warning.
    this.parsed = true
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof StellaCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
    setColorEnabled(shouldUseColor(this.flags.color, process.env, Boolean(process.stdout.isTTY)) && !this.jsonEnabled())
  }

  /** The remote context from flags, STELLA_* environment and the config file. */
  protected remoteContext(): ResolvedContext {
    const resolved = resolveContext(this.flags, process.env, loadConfig(configPath()))
    for (const warning of resolved.warnings) this.warning(warning)
    return resolved
  }

  /**
   * The API client for this invocation, from the remote context and the remote flags. Loaded on
   * demand so that local commands never load the HTTP stack.
   */
  protected async apiClient(): Promise<ApiClient> {
    if (this.#apiClient) return this.#apiClient
    const context = this.remoteContext()
    if (!context.server) {
      throw new UsageError('MISSING_SERVER', 'no server to talk to', {
        remedy: 'Pass --server URL, set STELLA_SERVER, or `stella config set server URL`.',
      })
    }

    if (!context.tenant) {
      throw new UsageError('MISSING_TENANT', `no tenant for ${context.server}`, {
        remedy: 'Pass --tenant ID, set STELLA_TENANT, or `stella config set tenant ID`.',
      })
    }

    const flags = this.flags as Record<string, unknown>
    const {ApiClient, INSECURE_WARNING} = await import('./lib/api/client.js')
    if (flags.insecure === true) this.warning(INSECURE_WARNING)
    const caFile = (flags['ca-cert'] as string | undefined) ?? context.caFile
    this.#apiClient = new ApiClient({
      server: context.server,
      tenant: context.tenant,
      ...(context.token === undefined ? {} : {token: context.token}),
      ...(caFile === undefined ? {} : {caFile}),
      ...(typeof flags['client-cert'] === 'string' ? {clientCert: flags['client-cert']} : {}),
      ...(typeof flags['client-key'] === 'string' ? {clientKey: flags['client-key']} : {}),
      insecure: flags.insecure === true,
      sealed: context.sealed,
      ...(typeof flags.retries === 'number' ? {retries: flags.retries} : {}),
      ...(typeof flags.timeout === 'number' ? {timeoutMs: flags.timeout} : {}),
      version: this.config.version,
      verbose: Boolean(this.flags.verbose),
      log: (line) => process.stderr.write(`${dim(line)}\n`),
    })
    return this.#apiClient
  }

  #apiClient: ApiClient | undefined

  /** The tenant from --tenant, STELLA_TENANT or the context, for local commands that only record it. */
  protected tenant(): string | undefined {
    return resolveTenant(this.flags, process.env, loadConfig(configPath()))
  }

  /** Writes a result line to stdout (suppressed under --json, where only the envelope goes out). */
  protected out(text = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(`${text}\n`)
  }

  /** A warning: on stderr now, and in the JSON envelope's `warnings`. */
  protected warning(message: string): void {
    this.warnings.push(message)
    if (!this.jsonEnabled()) process.stderr.write(`${yellow('Warning:')} ${message}\n`)
  }

  /** Detail for --verbose, on stderr. */
  protected detail(message: string): void {
    if (this.flags?.verbose) process.stderr.write(`${dim(message)}\n`)
  }

  /** Ends a run whose answer is negative (e.g. a failed verification) while still returning its result. */
  protected setNegative(): void {
    this.status = ExitCode.Negative
  }

  public override toSuccessJson(result: unknown): SuccessEnvelope<unknown> {
    return {status: this.status, result, warnings: this.warnings}
  }

  public override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    if (!error && this.status !== ExitCode.Ok) process.exitCode = this.status
    await this.#apiClient?.close()
    await super.finally(error)
  }

  /** Every failure ends here: one clear message, a remedy, the right exit code, no stack unless --verbose. */
  public override async catch(thrown: Error & {exitCode?: number}): Promise<void> {
    if (thrown instanceof Errors.ExitError) throw thrown
    const error = toStellaError(thrown, this.id ?? '')
    // Set the status ourselves: oclif would turn `--json` failures into exit 1.
    process.exitCode = error.exitCode
    const traceId = (thrown as {traceId?: string}).traceId
    if (this.jsonEnabled()) {
      const envelope: ErrorEnvelope = {status: error.exitCode, error: {code: error.code, message: error.message, remedy: error.remedy}}
      if (traceId) envelope.error.traceId = traceId
      this.logJson(envelope)
    } else {
      process.stderr.write(formatError(error, traceId))
    }

    if (this.verboseRequested()) process.stderr.write(`${dim(`code: ${error.code}\n${thrown.stack ?? ''}`)}\n`)
  }

  private verboseRequested(): boolean {
    return Boolean(this.flags?.verbose) || this.argv.includes('--verbose')
  }
}

export function formatError(error: StellaError, traceId?: string): string {
  let text = `${bold(red('Error:'))} ${error.message}\n`
  if (error.remedy) text += `${dim('Hint:')} ${error.remedy}\n`
  if (traceId) text += `trace_id=${traceId}\n`
  return text
}

/** Maps anything thrown to a StellaError: ours as they are, oclif's parse errors to usage errors. */
export function toStellaError(thrown: unknown, commandId: string): StellaError {
  if (isStellaError(thrown)) {
    // oclif rewrites the message of an error thrown by a flag's parser; ours already names the flag.
    const wrapped = /^Parsing --\S+ \n\t([\s\S]*)\nSee more help with --help$/.exec(thrown.message)
    if (wrapped?.[1] !== undefined) thrown.message = wrapped[1]
    return thrown
  }
  const helpHint = `See \`stella ${commandId.replaceAll(':', ' ')} --help\`.`.replace('stella  ', 'stella ')
  if (thrown instanceof Errors.CLIError) {
    const exit = thrown.oclif?.exit
    const message = thrown.message.replace(/\n\s*See more help with --help\s*$/, '').trim()
    if (exit === 2 || exit === undefined || 'parse' in thrown) return new UsageError('USAGE', message, {remedy: helpHint, cause: thrown})
    return new StellaError(exit as ExitCodeValue, 'ERROR', message, {cause: thrown})
  }

  const message = thrown instanceof Error ? thrown.message : String(thrown)
  return new StellaError(ExitCode.Internal, 'INTERNAL', `unexpected error: ${message}`, {
    remedy: 'This is a bug in stella. Run again with --verbose and report the output.',
    cause: thrown,
  })
}

let handlersInstalled = false

/** Ctrl-C: undo half-done work (temp files), say so, exit 130. A closed stdout pipe ends quietly. */
function installProcessHandlers(jsonEnabled: () => boolean): void {
  if (handlersInstalled) return
  handlersInstalled = true
  const interrupted = (signal: NodeJS.Signals) => {
    runInterruptCleanups()
    const code = signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted
    if (jsonEnabled()) {
      const envelope: ErrorEnvelope = {status: code, error: {code: 'INTERRUPTED', message: `interrupted by ${signal}`}}
      process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
    } else {
      process.stderr.write(`\n${red('Interrupted')} (${signal}); nothing was left half-written.\n`)
    }

    process.exit(code)
  }

  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}
