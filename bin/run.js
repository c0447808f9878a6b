#!/usr/bin/env node
// dist/ is a bundle (see scripts/build.js): a few files to load instead of hundreds.
await import('../dist/run.js')
