// The simulation's store (src/sim/sink-db.ts): a table opens on it empty and works on in memory,
// every write is taken, and a closed store refuses writes as a real one does.
import t from 'tap'
import { AddressTable, seededRandom } from '../lib/index.js'
import { SinkDb } from '../lib/sim/sink-db.js'
import { collect } from './lib/helpers.js'

t.test('a table on the sink: empty at open, in memory after, nothing read back', async t => {
  const db = new SinkDb()
  const table = await AddressTable.open(db, { size: 30, random: seededRandom(3), now: () => 1000 })
  t.equal(table.size, 0)
  await table.save(['tcp://a.example:4000'])
  table.learn(['tcp://b.example:4000'], ['id:x'])
  await table.join(['chat'])
  t.equal(table.size, 2, 'the table holds what it was given')
  t.ok(table.isMember('chat'))
  t.same(await collect(table.scan()), [], 'the store keeps none of it')
  await table.close()
  await db.close()
  await t.rejects(db.batch([{ type: 'put', sublevel: db.sublevel(), key: 'k', value: 1 }]), /not open/, 'closed: an array batch is refused')
  await t.rejects(db.batch().write({ sync: false }), /not open/, 'and a chained one')
})
