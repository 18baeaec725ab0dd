// The README's library examples run as written (in child processes, on loopback only).
import t from 'tap'
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { peernet } from '../lib/index.js'
import transport from '../lib/transport/index.js'
import { tempDir, until } from './lib/helpers.js'

const root = new URL('..', import.meta.url).pathname
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map(m => m[1])

/** Write a block inside the package (so `import 'peernet'` resolves to this checkout). */
function script (t, code) {
  const dir = mkdtempSync(join(root, 'test', '.example-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'example.mjs')
  writeFileSync(file, code)
  return file
}

function run (t, file, cwd) {
  const child = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { stdout: '', stderr: '', code: null }
  child.stdout.on('data', d => { out.stdout += d })
  child.stderr.on('data', d => { out.stderr += d })
  out.exited = new Promise(resolve => child.on('exit', code => { out.code = code; resolve(code) }))
  t.teardown(() => { if (out.code === null) child.kill('SIGKILL') })
  return out
}

t.test('the 20-line example finds the member and exits', async t => {
  t.ok(blocks.length >= 2, 'README has its examples')
  const out = run(t, script(t, blocks[0]), tempDir(t))
  t.equal(await out.exited, 0, out.stderr)
  t.match(out.stdout, /^chat member at tcp:\/\/127\.0\.0\.1:\d+, 1 hop\(s\) away\n$/)
})

t.test("the seed's websocket example accepts a peer", async t => {
  const out = run(t, script(t, blocks[1]), tempDir(t))
  const port = await until(() => /listening on (\d+)/.exec(out.stdout)?.[1], { what: 'the example to listen' })
  const pn = peernet(new MemoryLevel(), { transport, interval: 0, bootstrap: false, purge: 0 })
  t.teardown(() => pn.close())
  await pn.connect(`ws://127.0.0.1:${port}`)
  t.same(pn.connections(), [`ws://127.0.0.1:${port}`])
  await until(() => out.stderr.includes('[peernet] peer'), { what: 'the example to log the peer' })
  t.match(out.stderr, /\[peernet\] save \{"count":2\}/)
})
