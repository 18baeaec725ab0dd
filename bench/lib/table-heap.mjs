// The address table's own memory per address, in one process: run with node --expose-gc, it
// opens an AddressTable over a fresh LevelDB, saves N addresses in the 1,000-address requests
// `peernet add -` sends, forces a full GC, and prints one JSON line: the growth of the JS heap
// and of array buffers over the empty table, per address. Garbage not yet collected and
// LevelDB's own caches are left out, which the daemon's RSS (bench/memory.mjs) includes.
//   node --expose-gc bench/lib/table-heap.mjs N DIR
import { join } from 'node:path'
import { Level } from 'level'
import { AddressTable, seededRandom } from '../../lib/index.js'
import { loopbackAddresses } from './common.mjs'

const n = Number(process.argv[2])
const dir = process.argv[3]
if (!(n > 0) || !dir || typeof globalThis.gc !== 'function') {
  process.stderr.write('usage: node --expose-gc bench/lib/table-heap.mjs N DIR\n')
  process.exit(2)
}

function used () {
  globalThis.gc()
  globalThis.gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, buffers: m.arrayBuffers }
}

const db = new Level(join(dir, 'db'))
const table = await AddressTable.open(db, { random: seededRandom(1), now: Date.now })
const before = used()
const addrs = loopbackAddresses(n)
for (let i = 0; i < n; i += 1000) await table.save(addrs.slice(i, i + 1000))
addrs.length = 0
const after = used()
if (table.size !== n) throw new Error(`the table holds ${table.size} addresses, expected ${n}`)
await table.close()
await db.close()
process.stdout.write(JSON.stringify({
  n,
  heapPerAddress: (after.heap - before.heap) / n,
  buffersPerAddress: (after.buffers - before.buffers) / n
}) + '\n')
