// The daemon's method table, the methods the control contract names for clients (METHODS,
// listed in the README and the man page) and the documented error codes (ERROR_CODES) agree:
// nothing answered that is not documented, nothing documented that is not answered. And the
// methods use the node through its facade, never its table.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempLevel } from './lib/helpers.js'
import { METHOD_TABLE } from '../lib/daemon/methods/index.js'
import { METHODS, ERROR_CODES } from '../lib/control/protocol.js'
import { peernet } from '../lib/index.js'
import { sourceCap, DEFAULT_INFORMANT_SHARE, DEFAULT_TABLE_SIZE } from '../lib/table/rules.js'

const LIB_DAEMON = new URL('../lib/daemon/', import.meta.url).pathname
const SRC_DAEMON = new URL('../src/daemon/', import.meta.url).pathname

/** The files under dir (recursively) whose names end in ext, as paths relative to it. */
const filesOf = (dir, ext) => readdirSync(dir, { recursive: true }).filter(f => f.endsWith(ext))

t.test('the method table holds exactly the methods of METHODS', async t => {
  t.same([...METHOD_TABLE.keys()].sort(), [...METHODS].sort(), 'the same names')
  for (const [name, m] of METHOD_TABLE) {
    t.equal(m.name, name, `${name}: filed under its own name`)
    t.type(m.params, 'function', `${name}: checks its params`)
    t.type(m.run, 'function', `${name}: runs`)
  }
})

t.test('the error codes the daemon sends are the documented ones', async t => {
  const sent = new Set()
  const files = filesOf(LIB_DAEMON, '.js')
  t.ok(files.some(f => f.startsWith('methods/')), 'the methods are read too')
  for (const f of files) {
    const src = readFileSync(join(LIB_DAEMON, f), 'utf8')
    for (const m of src.matchAll(/ControlError\('([A-Z]+)'|code: '([A-Z]+)'/g)) sent.add(m[1] ?? m[2])
  }
  // EGONE never leaves the daemon: it marks a client that went away.
  sent.delete('EGONE')
  t.same([...sent].sort(), Object.keys(ERROR_CODES).sort(), 'every code sent is documented, every documented code is sent')
})

t.test('the daemon reaches the node through the Peernet facade, not node.table', async t => {
  const files = filesOf(SRC_DAEMON, '.ts')
  t.ok(files.length > 10, 'the daemon\'s sources are read')
  for (const f of files) t.notMatch(readFileSync(join(SRC_DAEMON, f), 'utf8'), /\.table\b/, `${f} uses no node.table`)
})

t.test('Peernet.limits(): the table bounds status shows', async t => {
  for (const tableSize of [undefined, 300]) {
    const node = peernet(tempLevel(t), { tableSize, connections: 0, interval: 0, purge: 0, bootstrap: false })
    t.teardown(() => node.close())
    await node.ready
    const size = tableSize ?? DEFAULT_TABLE_SIZE
    t.same(node.limits(), { tableSize: size, sourceCap: sourceCap(size, DEFAULT_INFORMANT_SHARE) }, `tableSize ${tableSize}`)
  }
})
