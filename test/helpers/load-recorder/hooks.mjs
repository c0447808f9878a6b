// ESM resolve hook: appends every resolved module URL to $STELLA_LOAD_LOG.
import {appendFileSync} from 'node:fs'

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context)
  if (process.env.STELLA_LOAD_LOG) appendFileSync(process.env.STELLA_LOAD_LOG, `${result.url}\n`)
  return result
}
