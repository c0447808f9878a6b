#!/usr/bin/env node
import {execute, settings} from '@oclif/core'

// The published entry point always runs the compiled commands in dist/, whatever NODE_ENV says.
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
