/**
 * Terminal styling. Colour is decided once per process by the base command
 * (`--color`/`--no-color`, NO_COLOR, FORCE_COLOR, TTY) and every renderer goes through here.
 */
let enabled = false

export function setColorEnabled(on: boolean): void {
  enabled = on
}

export function colorEnabled(): boolean {
  return enabled
}

/** Colour is on for a TTY unless NO_COLOR is set or TERM is dumb; the flag overrides both ways. */
export function shouldUseColor(flag: boolean | undefined, env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (flag !== undefined) return flag
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return isTTY && env.TERM !== 'dumb'
}

const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001B[${open}m${text}\u001B[${close}m` : text)

export const bold = wrap(1, 22)
export const dim = wrap(2, 22)
export const red = wrap(31, 39)
export const green = wrap(32, 39)
export const yellow = wrap(33, 39)
export const cyan = wrap(36, 39)

export const symbols = {
  ok: () => green('✓'),
  fail: () => red('✗'),
  warn: () => yellow('!'),
}
