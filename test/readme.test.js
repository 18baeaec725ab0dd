// The README's library examples run as written, in a project of a user's that installed the
// packed peernet as the README says (child processes, loopback only).
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { peernet } from '../lib/index.js'
import transport from '../lib/transport/index.js'
import { until } from './lib/helpers.js'
import { root, userProject, installed, ADVISORY_FLOORS, compareVersions } from './lib/user-project.js'

const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map(m => m[1])

function run (t, file, cwd, args = []) {
  const child = spawn(process.execPath, [file, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { stdout: '', stderr: '', code: null }
  child.stdout.on('data', d => { out.stdout += d })
  child.stderr.on('data', d => { out.stderr += d })
  out.exited = new Promise(resolve => child.on('exit', code => { out.code = code; resolve(code) }))
  t.teardown(() => { if (out.code === null) child.kill('SIGKILL') })
  return out
}

t.test('in a project that installed the packed peernet and level', async t => {
  t.ok(blocks.length >= 2, 'README has its examples')
  t.match(readme, /npm install \S+peernet-\S+\.tgz level/, 'README says to install the tarball and level')
  const { dir } = await userProject(t)

  await t.test('no known-vulnerable version anywhere in the tree', async t => {
    const tree = await installed(dir)
    for (const name of ['ws', 'ssh2']) t.ok(tree.some(([n]) => n === name), `${name} is in the tree`)
    for (const [name, version, path] of tree) {
      const floor = ADVISORY_FLOORS[name]
      if (floor) t.ok(compareVersions(version, floor) >= 0, `${name}@${version} >= ${floor} (${path.slice(dir.length + 1)})`)
    }
  })

  await t.test('the installed peernet command runs: its bundle, and yargs for --help, are found', async t => {
    const bin = join(dir, 'node_modules', '.bin', 'peernet')
    const version = run(t, bin, dir, ['--version'])
    t.equal(await version.exited, 0, version.stderr)
    t.equal(version.stdout, `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`)
    const help = run(t, bin, dir, ['--help'])
    t.equal(await help.exited, 0, help.stderr)
    t.match(help.stdout, /^peernet <command> \[options\]\n/)
  })

  await t.test('the 20-line example finds the member and exits', async t => {
    writeFileSync(join(dir, 'example1.mjs'), blocks[0])
    const out = run(t, 'example1.mjs', dir)
    t.equal(await out.exited, 0, out.stderr)
    t.match(out.stdout, /^chat member at tcp:\/\/127\.0\.0\.1:\d+, 1 hop\(s\) away\n$/)
  })

  await t.test("the seed's websocket example accepts a peer", async t => {
    writeFileSync(join(dir, 'example2.mjs'), blocks[1])
    const out = run(t, 'example2.mjs', dir)
    const port = await until(() => /listening on (\d+)/.exec(out.stdout)?.[1], { what: 'the example to listen' })
    const pn = peernet(new MemoryLevel(), { transport, interval: 0, bootstrap: false, purge: 0 })
    t.teardown(() => pn.close())
    await pn.connect(`ws://127.0.0.1:${port}`)
    t.same(pn.connections(), [`ws://127.0.0.1:${port}`])
    await until(() => out.stderr.includes('[peernet] peer'), { what: 'the example to log the peer' })
    t.match(out.stderr, /\[peernet\] save \{"count":2\}/)
  })
})
