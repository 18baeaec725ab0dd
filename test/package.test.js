// peernet as another package sees it: ESM and CommonJS entry points, subpaths, type declarations.
import t from 'tap'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { tempDir } from './lib/helpers.js'

const root = new URL('..', import.meta.url).pathname

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
console.log(typeof peernet, peernet === named, typeof Peernet, MAX_FRAME, typeof transport, transport === namedTransport, typeof listen, typeof createMemNetwork)
`)
  t.equal(node(dir, 'a.mjs'), 'function true function 65536 function true function function\n')
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
