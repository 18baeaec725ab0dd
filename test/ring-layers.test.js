// The ring's core is sans-IO and sits below the node: src/ring/ imports only the ring, the wire
// format, util/ and the identity's key functions (node/identity.ts), and no module that does
// I/O (net, fs, timers, child processes). Read from the sources, so a new import shows here.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const RING = fileURLToPath(new URL('../src/ring/', import.meta.url))
const ALLOWED = [/^\.\/[a-z-]+\.js$/, /^\.\.\/wire\/[a-z-]+\.js$/, /^\.\.\/util\/[a-z-]+\.js$/, /^\.\.\/node\/identity\.js$/, /^node:(module|events)$/]

t.test('src/ring imports only the ring, wire, util, node/identity and no I/O', async t => {
  const files = readdirSync(RING).filter(f => f.endsWith('.ts'))
  t.ok(files.length >= 8, 'the ring has its sources')
  for (const f of files) {
    const text = readFileSync(join(RING, f), 'utf8')
    const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'([^']+)'/gm)].map(m => m[1])
    const bad = specs.filter(s => !ALLOWED.some(re => re.test(s)))
    t.same(bad, [], `${f}: ${specs.length} imports, all allowed`)
  }
})
