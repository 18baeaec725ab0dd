// peernet as another package sees it: ESM and CommonJS entry points, subpaths, type declarations,
// and the tarball `npm pack` makes of it.
import t from 'tap'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { tempDir } from './lib/helpers.js'
import { pack, ADVISORY_FLOORS, compareVersions } from './lib/user-project.js'

const root = new URL('..', import.meta.url).pathname
const require = createRequire(import.meta.url)

/**
 * Largest tarball we publish, in bytes. Bundling websocket-stream and transport-stream (with ssh2
 * and its optional native parts) takes it from about 0.1 MB to about 0.95 MB; more means
 * something else slipped into the bundle.
 */
const MAX_PACKED_BYTES = 1.5e6

function consumer (t) {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules', 'peernet'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0' }))
  return dir
}

const node = (dir, file) => execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' })

t.test('import peernet and peernet/transport (default and named exports)', async t => {
  const dir = consumer(t)
  writeFileSync(join(dir, 'a.mjs'), `
import peernet, { peernet as named, Peernet, MAX_FRAME } from 'peernet'
import transport, { transport as namedTransport, listen } from 'peernet/transport'
import createMemNetwork from 'peernet/transport/mem'
import { dialWebRTC, answerWebRTC, WEBRTC_TIMEOUT } from 'peernet/transport/webrtc'
console.log(typeof peernet, peernet === named, typeof Peernet, MAX_FRAME, typeof transport, transport === namedTransport, typeof listen, typeof createMemNetwork, typeof dialWebRTC, typeof answerWebRTC, WEBRTC_TIMEOUT)
`)
  t.equal(node(dir, 'a.mjs'), 'function true function 65536 function true function function function function 15000\n')
})

t.test("require('peernet') works from CommonJS", async t => {
  const dir = consumer(t)
  writeFileSync(join(dir, 'b.cjs'), `
const { peernet } = require('peernet')
const { transport } = require('peernet/transport')
console.log(typeof peernet, typeof transport)
`)
  t.equal(node(dir, 'b.cjs'), 'function function\n')
})

t.test("the seed's CommonJS calls: require('peernet')(db, opts) with transport: require('peernet/transport')", async t => {
  const dir = consumer(t)
  symlinkSync(join(root, 'node_modules', 'memory-level'), join(dir, 'node_modules', 'memory-level'))
  writeFileSync(join(dir, 'seed.cjs'), `
const peernet = require('peernet')
const { MemoryLevel } = require('memory-level')
const opts = { transport: require('peernet/transport'), interval: 0, bootstrap: false, purge: 0 }
const alice = peernet(new MemoryLevel(), opts)
const bob = peernet(new MemoryLevel(), opts)
peernet.listen('tcp', { host: '127.0.0.1' }, (stream, info) => alice.accept(stream, info)).then(async server => {
  await bob.connect(server.address)
  console.log(alice instanceof peernet.Peernet, peernet.default === peernet.peernet, bob.connections().length)
  await Promise.all([alice.close(), bob.close(), server.close()])
})
`)
  t.equal(node(dir, 'seed.cjs'), 'true true 1\n')
})

t.test('type declarations check in a strict TypeScript consumer', async t => {
  const dir = consumer(t)
  writeFileSync(join(dir, 'c.ts'), `
import peernet, { type SearchRow, type Stats } from 'peernet'
import transport from 'peernet/transport'
import { MemoryLevel } from 'memory-level'
const pn = peernet(new MemoryLevel(), { transport, interval: 0 })
pn.on('peer', p => { const dir: 'in' | 'out' = p.direction; void dir })
async function main (): Promise<void> {
  const s: Stats = await pn.getStats('tcp://127.0.0.1:1')
  for await (const row of pn.search('x', { timeout: 1 })) { const r = row as SearchRow; void r.hops }
  void s.connections.ok
  await pn.close()
}
void main()
`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
    files: ['c.ts']
  }))
  symlinkSync(join(root, 'node_modules', 'memory-level'), join(dir, 'node_modules', 'memory-level'))
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' })
    t.pass('tsc accepts the consumer')
  } catch (err) {
    t.fail(err.stdout || err.message)
  }
})

/** name → versions of every package.json under node_modules/ in an unpacked package. */
function bundledVersions (dir, out = new Map()) {
  const nm = join(dir, 'node_modules')
  if (!existsSync(nm)) return out
  for (const entry of readdirSync(nm)) {
    const names = entry.startsWith('@') ? readdirSync(join(nm, entry)).map(n => `${entry}/${n}`) : [entry]
    for (const name of names) {
      const pkg = join(nm, name, 'package.json')
      if (!existsSync(pkg)) continue
      out.set(name, [...(out.get(name) ?? []), JSON.parse(readFileSync(pkg, 'utf8')).version])
      bundledVersions(join(nm, name), out)
    }
  }
  return out
}

t.test('the tarball bundles websocket-stream and transport-stream with the ws and ssh2 our overrides chose', async t => {
  const { report, tarball } = await pack(t)
  t.ok(report.size < MAX_PACKED_BYTES, `tarball is ${report.size} bytes, under MAX_PACKED_BYTES (${MAX_PACKED_BYTES})`)
  t.same(report.bundled.filter(n => n === 'websocket-stream' || n === 'transport-stream').sort(), ['transport-stream', 'websocket-stream'])
  t.notOk(report.files.some(f => /^lib\/(sim|fuzz)\//.test(f.path)), 'no simulation or fuzz harness')
  // bin/peernet is CommonJS (bin/package.json) and enters the bundle `npm run build` made.
  for (const path of ['bin/peernet', 'bin/package.json', 'lib/cli/bundle.cjs']) t.ok(report.files.some(f => f.path === path), `the tarball has ${path}`)
  const dir = tempDir(t, 'pn-tgz-')
  execFileSync('tar', ['-xzf', tarball, '-C', dir])
  const versions = bundledVersions(join(dir, 'package'))
  for (const name of ['ws', 'ssh2']) {
    // The copy shipped is the one our overrides installed here, the one every test ran against.
    const shipped = versions.get(name) ?? []
    t.same(shipped, [require(`${name}/package.json`).version], `${name} in the tarball is the installed one`)
    for (const v of shipped) t.ok(compareVersions(v, ADVISORY_FLOORS[name]) >= 0, `${name} ${v} >= ${ADVISORY_FLOORS[name]}`)
  }
})
