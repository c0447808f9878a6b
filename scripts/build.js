// Builds dist/: one esbuild pass over the entry point and every command, with shared code split
// into chunks. Node 20 has no compile cache, and loading hundreds of small modules (oclif alone is
// ~470) costs more than the commands themselves; a few bundled chunks start about a third faster.
// Packages that only a live dashboard needs stay outside, loaded from node_modules on demand.
import {build} from 'esbuild'
import {readdirSync, renameSync, rmSync} from 'node:fs'
import {join} from 'node:path'

const LOADED_ON_DEMAND = ['ink', 'ink-*', '@alcalzone/ansi-tokenize', 'react', 'react/*', 'react-dom', '@inkjs/*', 'yoga-layout', 'yoga-layout/*']
// oclif's development mode can reach for these; the published CLI never transpiles.
const DEVELOPMENT_ONLY = ['typescript', 'ts-node', 'tsx', 'tsx/*']

// Built beside dist/ and swapped in at the end, so a CLI started during a build finds a whole dist/.
const staging = `dist.build-${process.pid}`
rmSync(staging, {recursive: true, force: true})

const commands = readdirSync('src/commands', {recursive: true, encoding: 'utf8'})
  .filter((file) => file.endsWith('.ts'))
  .map((file) => join('src/commands', file))

// Libraries the benchmarks load from dist/ (bench/otlp-*.js, bench/top.js).
const BENCH_LIBRARIES = ['src/lib/otlp/index.ts', 'src/lib/otlp/files.ts', 'src/lib/otlp/receiver.ts', 'src/ui/top/index.tsx']
// Worker threads start from a file of their own.
const WORKERS = ['src/lib/bundle/gzip-worker.ts']

await build({
  entryPoints: ['src/run.ts', ...commands, ...BENCH_LIBRARIES, ...WORKERS],
  outdir: staging,
  outbase: 'src',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...LOADED_ON_DEMAND, ...DEVELOPMENT_ONLY],
  // Bundled CommonJS dependencies call require() for Node built-ins; ESM output needs one made for it.
  banner: {js: "import {createRequire as __stellaCreateRequire} from 'node:module'; const require = __stellaCreateRequire(import.meta.url);"},
  logLevel: 'warning',
})

const retired = `dist.old-${process.pid}`
try {
  renameSync('dist', retired)
} catch (error) {
  if (error.code !== 'ENOENT') throw error
}

renameSync(staging, 'dist')
rmSync(retired, {recursive: true, force: true})
