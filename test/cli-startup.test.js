// The client path stays lean: a command that talks to a running daemon loads the CLI, the
// control contract and a few small modules of constants and checks, never the node, the
// table, the transports, the daemon, yargs or any package. Start-up time is a feature.
import t from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { datadir, BIN } from './lib/cli.js'
import { tempDir } from './lib/helpers.js'

const LIB = new URL('../lib/', import.meta.url).href

/** Modules below cli/ and control/ that the client may load: constants and pure checks. */
const ALLOWED = ['node/defaults.js', 'table/rules.js', 'transport/address.js', 'wire/frame.js', 'wire/messages.js']

/** A loader hook that reports every file: URL the program loads, at its exit. */
const HOOK = `
import { register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'
const { port1, port2 } = new MessageChannel()
const seen = []
port1.on('message', u => seen.push(u))
port1.unref()
register('data:text/javascript,' + encodeURIComponent(
  'let port; export function initialize (d) { port = d.port }' +
  'export async function load (url, ctx, next) { if (url.startsWith("file:")) port.postMessage(url); return next(url, ctx) }'
), { data: { port: port2 }, transferList: [port2] })
process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(seen) + '\\n'))
`

/** Run bin/peernet with the hook; resolves {code, stdout, loaded: [paths under lib/ or elsewhere]}. */
function traced (t, d, args) {
  const hook = join(tempDir(t), 'hook.mjs')
  writeFileSync(hook, HOOK)
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--import', hook, BIN, ...args], { env: d.env(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', x => { stdout += x })
    child.stderr.on('data', x => { stderr += x })
    child.on('error', reject)
    child.on('close', code => {
      const m = /^LOADED (.*)$/m.exec(stderr)
      if (!m) return reject(new Error(`no list of loaded modules: ${stderr}`))
      const loaded = JSON.parse(m[1]).filter(u => !u.endsWith('/bin/peernet')).map(u => u.startsWith(LIB) ? u.slice(LIB.length) : u)
      resolve({ code, stdout, loaded })
    })
  })
}

t.test('client commands load only the CLI, the control contract and small checks', async t => {
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  for (const args of [['status'], ['known', '--json'], ['connections'], ['add', 'tcp://127.0.0.1:9'], ['log', '--no-follow', '-n', '3'], ['stats', 'tcp://127.0.0.1:9']]) {
    const r = await traced(t, d, args)
    t.equal(r.code, 0, `${args.join(' ')} ran`)
    t.ok(r.loaded.includes('cli/run.js'), `${args.join(' ')}: the hook saw the client load`)
    const extra = r.loaded.filter(p => !/^(cli|control)\//.test(p) && !ALLOWED.includes(p))
    t.same(extra, [], `${args.join(' ')}: nothing else (no node, table, transport, daemon, yargs or package)`)
    t.notOk(r.loaded.includes('cli/start.js'), `${args.join(' ')}: the daemon starter only when one must be started`)
  }
})
