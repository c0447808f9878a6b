/** The compiled CLI entry point that bin/run.js loads. */
import {execute, settings} from '@oclif/core'

// The published CLI always runs the compiled commands in dist/, whatever NODE_ENV says.
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
