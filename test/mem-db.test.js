// The in-memory store of the fuzz harness (fuzz/mem-db.ts): the table on it
// behaves as on memory-level (check() compares memory with what the store holds, and a table
// reopened on the store finds the same records), and it keeps LevelDB's rules for values.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { AddressTable, seededRandom } from '../lib/index.js'
import { MemDb } from '../lib/fuzz/mem-db.js'
import { collect } from './lib/helpers.js'

const A = (p, i = 0) => `tcp://${p}${i}.example:4000`
const json = { valueEncoding: 'json' }

async function scenario (db) {
  let now = 1000
  const opts = { size: 30, random: seededRandom(3), now: () => now }
  const table = await AddressTable.open(db, opts)
  await table.save([A('s'), A('s', 1)])
  for (let i = 0; i < 40; i++) table.learn([A('x', i), A('y', i)], [`id:${i}`, `group:g${i % 20}`])
  table.recordAttempt(A('s'))
  table.recordSuccess(A('s'))
  table.recordNodes(A('s', 1), 3, 4)
  await table.remove([A('s', 1), A('x', 39)])
  await table.join(['chat', 'other'])
  await table.part(['other'])
  now += 5000
  await table.check()
  const rows = (await collect(table.scan())).map(r => JSON.stringify(r))
  const id = table.id
  await table.close()
  const again = await AddressTable.open(db, opts)
  await again.check()
  const reread = (await collect(again.scan())).map(r => JSON.stringify(r))
  const known = []
  for await (const batch of again.scanKnownJson()) known.push(...batch)
  const state = { id: again.id === id, rows, reread, known, subnets: again.subnets(), tombstoned: again.isTombstoned(A('s', 1)) }
  await again.close()
  return state
}

t.test('a table on MemDb holds what a table on memory-level holds', async t => {
  const level = new MemoryLevel()
  t.teardown(() => level.close())
  const want = await scenario(level)
  const got = await scenario(new MemDb())
  t.ok(got.id, 'the reopened table keeps its id')
  t.ok(got.rows.length > 10, `records: ${got.rows.length}`)
  t.same(got.reread, got.rows, 'reopened: the same records')
  t.same(got, want, 'the same records, known rows, subnets and tombstones as on memory-level')
})

t.test('values are kept as LevelDB keeps them', async t => {
  const db = new MemDb()
  const sub = db.sublevel('addr', json)
  const value = { a: [1, 2], s: 'é' }
  await db.batch([{ type: 'put', sublevel: sub, key: 'k', value }])
  value.a.push(3)
  const got = await sub.get('k')
  t.same(got, { a: [1, 2], s: 'é' }, 'a copy as written: changing the object afterwards changes nothing')
  got.a.push(4)
  t.same(await sub.get('k'), { a: [1, 2], s: 'é' }, 'each read is a fresh copy')
  t.same(await collect(sub.iterator({ valueEncoding: 'utf8' })), [['k', '{"a":[1,2],"s":"é"}']], 'utf8 reads give the stored text')
  t.equal(await sub.get('missing'), undefined)

  // A batch is all or nothing: a value JSON cannot encode fails it before anything is written.
  await t.rejects(db.batch([{ type: 'put', sublevel: sub, key: 'k2', value: 1 }, { type: 'put', sublevel: sub, key: 'k3', value: 1n }]))
  await t.rejects(db.batch([{ type: 'put', sublevel: sub, key: 'k2', value: undefined }]))
  t.same((await collect(sub.iterator())).map(([k]) => k), ['k'], 'nothing of a failed batch was written')

  // Keys come back in order, and a chained batch's del removes.
  const b = db.batch()
  for (const k of ['c', 'a', 'b']) b.put(k, k, { sublevel: sub })
  b.del('k', { sublevel: sub })
  await b.write({ sync: false })
  t.same(await collect(sub.iterator()), [['a', 'a'], ['b', 'b'], ['c', 'c']])

  await db.close()
  await t.rejects(db.batch([{ type: 'put', sublevel: sub, key: 'z', value: 1 }]), /not open/, 'a closed store refuses writes')
})
