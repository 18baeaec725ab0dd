// The CLI's client path is one file: `npm run build` bundles it (scripts/bundle.mjs) into
// lib/cli/bundle.cjs and bin/peernet enters it, so a client command reads bin/peernet and the
// bundle and nothing else of ours: no module of the node, the table, the wire, the transports or
// the daemon, no yargs, and no ES module at all (the ESM loader's start-up is part of what it
// saves). How fast that is, bench/cli-startup.mjs measures.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { datadir, BIN } from './lib/cli.js'
import { tempDir } from './lib/helpers.js'

const LIB = fileURLToPath(new URL('../lib/', import.meta.url))
const BUNDLE = join(LIB, 'cli', 'bundle.cjs')

/**
 * A preload that writes down every file the process loads, one URL a line: CommonJS modules
 * from require.cache at exit, ES modules from a resolve hook as they are imported.
 */
function recorder (t) {
  const dir = tempDir(t)
  const log = join(dir, 'loaded.txt')
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs'
let log
export function initialize (data) { log = data.log }
export async function resolve (specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(log, r.url + '\\n')
  return r
}
`)
  const preload = join(dir, 'record.cjs')
  writeFileSync(preload, `const { appendFileSync } = require('node:fs')
const { pathToFileURL } = require('node:url')
const log = ${JSON.stringify(log)}
require('node:module').register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log } })
process.on('exit', () => appendFileSync(log, Object.keys(require.cache).filter(f => f !== __filename).map(f => pathToFileURL(f).href + '\\n').join('')))
`)
  /** Run peernet with the preload; resolves {code, stderr, loaded}: the files (not node: builtins) it loaded. */
  const run = (d, args) => new Promise((resolve, reject) => {
    writeFileSync(log, '')
    // env -u: tap adds its own hook to every child's NODE_OPTIONS (see test/lib/cli.js).
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--require', preload, BIN, ...args], { env: d.env(), stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', chunk => { stderr += chunk })
    child.on('error', reject)
    child.on('close', code => {
      // The recorder's own hooks module is seen by the hook at times, depending on timing.
      const loaded = [...new Set(readFileSync(log, 'utf8').split('\n').filter(u => u.startsWith('file:')))].map(u => fileURLToPath(u)).filter(f => !f.startsWith(dir))
      resolve({ code, stderr, loaded })
    })
  })
  return run
}

/**
 * What the bundle may hold besides src/cli and src/control: the constants and checks of the
 * layers below that the command table and the parser show or apply. A module of the node, the
 * table, the wire or a transport that is not here (one that does work) does not belong in a
 * client command; the daemon and packages are never bundled. (webrtc-signal: the checks of the
 * ice and webrtc-bind settings; the WebRTC transport itself, webrtc.ts, is not here.)
 */
const FROM_BELOW = ['node/defaults.ts', 'table/rules.ts', 'transport/address.ts', 'wire/frame.ts', 'wire/messages.ts', 'wire/record.ts', 'wire/relay.ts', 'stun/url.ts', 'transport/webrtc-signal.ts']

t.test('npm run build made the bundle, of the client path only', async t => {
  t.ok(existsSync(BUNDLE), `${BUNDLE} exists`)
  // Its source map names every source it holds.
  const sources = JSON.parse(readFileSync(`${BUNDLE}.map`, 'utf8')).sources.map(s => s.replace(/^(\.\.\/)+src\//, ''))
  t.ok(sources.includes('cli/main.ts') && sources.includes('cli/run.ts') && sources.includes('cli/client.ts'), 'the CLI is in it')
  t.same(sources.filter(s => !/^(cli|control)\//.test(s) && !FROM_BELOW.includes(s)), [], 'nothing else from src/ but the constants and checks in FROM_BELOW')
})

t.test('a client command loads bin/peernet and the bundle, nothing else of ours', async t => {
  const run = recorder(t)
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  for (const args of [['connections'], ['status', '--json'], ['--version'], ['known', '--json'], ['add', 'tcp://127.0.0.1:9'], ['log', '--no-follow', '-n', '3'], ['stats', 'tcp://127.0.0.1:9'], ['listen', 'stun'], ['unlisten', 'stun:127.0.0.1:9']]) {
    const r = await run(d, args)
    t.equal(r.code, args[0] === 'unlisten' ? 1 : 0, `peernet ${args.join(' ')}: ${r.stderr}`) // no service there: a failure, as the daemon says
    t.same(r.loaded.filter(f => /\/(node|table|wire|transport|daemon|stun)\/[^/]+\.js$|\/node_modules\//.test(f)), [], `peernet ${args.join(' ')} loads no node, table, wire, transport, daemon, stun or package module`)
    t.same(r.loaded.sort(), [BIN, BUNDLE].sort(), `peernet ${args.join(' ')} loads exactly bin/peernet and the bundle`)
  }
})

t.test('yargs, which the bundle leaves out, loads when a command line needs it', async t => {
  // Also shows the recorder sees ES modules imported from the bundle (yargs is one).
  const run = recorder(t)
  const help = await run(datadir(t), ['--help'])
  t.equal(help.code, 0, help.stderr)
  t.ok(help.loaded.some(f => /\/node_modules\/yargs\/index\.mjs$/.test(f)), '--help loads yargs, found from the bundle in lib/cli/')
  t.same(help.loaded.filter(f => f.startsWith(LIB)), [BUNDLE], 'and nothing of lib/ but the bundle')
})
