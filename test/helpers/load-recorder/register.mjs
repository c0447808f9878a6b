// Preload (`node --import`) that records every module a process loads into $STELLA_LOAD_LOG:
// ESM through a resolve hook, CommonJS by wrapping require's resolver.
import {appendFileSync} from 'node:fs'
import Module, {register} from 'node:module'
import {pathToFileURL} from 'node:url'

register('./hooks.mjs', import.meta.url)

const log = process.env.STELLA_LOAD_LOG
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  const filename = resolveFilename.call(this, request, ...rest)
  if (log) appendFileSync(log, `${filename.startsWith('/') ? pathToFileURL(filename).href : filename}\n`)
  return filename
}
