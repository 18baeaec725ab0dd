#!/usr/bin/env node
// Bundle the CLI's client path into one CommonJS file, lib/cli/bundle.cjs, next to tsc's output
// (`npm run build` runs tsc, then this). bin/peernet requires it: a client command reads one
// file and never starts the ESM loader, where tsc's output is ~17 modules resolved, read and
// linked one by one; that was most of what `peernet connections` cost over a bare `node`.
// The command table, the parser, the client, start.js and yargs.js (without the yargs package)
// are in it; code of src/cli and src/control imported dynamically is bundled too and runs only
// when called. A dynamic import of anything else (the daemon) and every package (yargs) stay
// imports, of tsc's modules in lib/ and of node_modules, made only when a command needs them.
import { build } from 'esbuild'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const SRC = join(root, 'src')
const LIB = join(root, 'lib')
const BUNDLE = join(LIB, 'cli', 'bundle.cjs')
/** The src/ folders whose dynamically imported modules go into the bundle. */
const CLIENT = ['cli', 'control']

/** A dynamic import leaving the client: an import of tsc's module, relative to the bundle. */
const lazyLib = {
  name: 'lazy-lib',
  setup (b) {
    b.onResolve({ filter: /^\.\.?\// }, args => {
      if (args.kind !== 'dynamic-import') return undefined
      const target = relative(SRC, resolve(args.resolveDir, args.path))
      if (CLIENT.includes(target.split(sep)[0])) return undefined
      const path = relative(dirname(BUNDLE), join(LIB, target)).split(sep).join('/')
      return { path: path.startsWith('.') ? path : `./${path}`, external: true }
    })
  }
}

await build({
  entryPoints: [join(SRC, 'cli', 'main.ts')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // Its place in lib/cli/ keeps the paths that src/cli and src/control resolve against
  // import.meta.url (../../package.json, ../../bin/peernet) right.
  // Worked out when read (only --version and starting a daemon read it).
  define: { 'import.meta.url': '__meta.url' },
  // Strict first, as the modules were: a banner line before esbuild's "use strict" unmakes it.
  banner: { js: "'use strict'\nconst __meta = { get url () { return require('node:url').pathToFileURL(__filename).href } }" },
  // Less to read and parse at every start; the source map has the names.
  minify: true,
  plugins: [lazyLib],
  // Maps to src/ as tsc's do, without copying the sources in.
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning'
})
