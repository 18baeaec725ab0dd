// The address table's invariant check (AddressTable.check) and its writes' durability:
// check() finds each kind of broken index or bound and any difference from LevelDB; random
// sequences of operations keep every invariant; every user write reaches the database in a
// synced batch before it resolves, and gossip's writes are not synced.
import t from 'tap'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import {
  AddressTable, seededRandom, newRecord, TOMBSTONE_TTL, GRACE, MAX_AGE, MAX_RETRIES
} from '../lib/index.js'
import { ServiceStore } from '../lib/table/services.js'
import { WriteQueue } from '../lib/table/write-queue.js'
import { tempDir, tempLevel, collect, until } from './lib/helpers.js'
import { openTable, recording, arrayBatches } from './lib/table.js'

const DAY = 24 * 60 * 60 * 1000
const A = (p, i = 0) => `tcp://${p}${i}.example:4000`
const json = { valueEncoding: 'json' }

// --- check() finds what is broken ---------------------------------------------------------

/**
 * A table with a saved address, two learned ones (id:x in group:g, id:y), a tombstone and a
 * joined subnet, that passes check(); `corrupt` then breaks it. Not closed through openTable:
 * its invariants are meant to fail.
 */
async function broken (t, corrupt, opts = {}) {
  const db = new MemoryLevel()
  t.teardown(() => db.close())
  const table = await AddressTable.open(db, { size: 100, random: seededRandom(1), now: () => 1000, ...opts })
  t.teardown(() => table.close())
  await table.save([A('s')])
  table.learn([A('x')], ['id:x', 'group:g'])
  table.learn([A('y')], ['id:y'])
  await table.save([A('gone')])
  await table.remove([A('gone')])
  await table.join(['chat'])
  await t.resolves(table.check(), 'the table passes check() before it is corrupted')
  await corrupt(table, db)
  return table
}

// Inside the table: a slot by address, the columns, the keys' hash table.
const slot = (tbl, a) => tbl.index.slotOf(a)
const cols = tbl => tbl.index.records
const keys = tbl => tbl.index.records.keys
const order = tbl => tbl.index.order
const IndexedSet = tbl => tbl.index.dialGroups.constructor

const cases = [
  // the order: saved slots, then learned ones
  ['a learned record missing from the order', tbl => order(tbl).delete(slot(tbl, A('x')), false), /x0\.example:4000 is learned but not in the learned part of the order/],
  ['a saved record in the learned part', tbl => { order(tbl).delete(slot(tbl, A('s')), true); order(tbl).add(slot(tbl, A('s')), false) }, /s0\.example:4000 is user-saved but not in the saved part of the order/],
  ['a stray slot in the order', tbl => order(tbl).add(999, false), /the order holds 4 slots but there are 3 records/],
  ['a stray slot in the saved part', tbl => order(tbl).add(999, true), /the saved part of the order holds 2 slots but 1 records are user-saved/],
  // the learned indexes
  ['a record missing from one of its sources', tbl => tbl.index.bySource.get('group:g').delete(slot(tbl, A('x'))), /missing from bySource group:g/],
  ['a record in a source it does not name', tbl => tbl.index.bySource.get('id:y').add(slot(tbl, A('x'))), /bySource id:y holds tcp:\/\/x0\.example:4000, which does not name it/],
  ['a saved record in a source', tbl => tbl.index.bySource.get('id:y').add(slot(tbl, A('s'))), /bySource id:y holds tcp:\/\/s0\.example:4000, which does not name it/],
  ['a slot with no record in a source', tbl => tbl.index.bySource.get('id:y').add(999), /bySource id:y holds slot 999 \(no record\), which does not name it/],
  ['an empty source set kept', tbl => tbl.index.bySource.set('id:z', new (IndexedSet(tbl))()), /bySource id:z is empty but kept/],
  ['a record missing from its dial group', tbl => tbl.index.byDialGroup.get('id:y').delete(slot(tbl, A('y'))), /y0\.example:4000 is missing from byDialGroup id:y/],
  ['a source group kept apart as a dial group', tbl => { const set = new (IndexedSet(tbl))(); set.add(slot(tbl, A('x'))); tbl.index.byDialGroup.set('group:g', set) }, /byDialGroup group:g is kept apart from bySource's set for that source group/],
  ['a source group missing from dialGroups', tbl => tbl.index.dialGroups.delete('group:g'), /source group group:g is missing from dialGroups/],
  ['a record kept under the second source group it names', tbl => {
    tbl.learn([A('z')], ['id:z', 'group:a', 'group:b'])
    const set = new (IndexedSet(tbl))()
    set.add(slot(tbl, A('z')))
    tbl.index.bySource.set('group:b', set)
  }, /bySource group:b holds tcp:\/\/z0\.example:4000, which names another source group first/],
  ['a record in the wrong dial group', tbl => tbl.index.byDialGroup.get('id:y').add(slot(tbl, A('x'))), /byDialGroup id:y holds tcp:\/\/x0\.example:4000, which is not in that group/],
  ['a dial group missing from dialGroups', tbl => tbl.index.dialGroups.delete('id:y'), /byDialGroup id:y is missing from dialGroups/],
  ['the saved group missing from dialGroups', tbl => tbl.index.dialGroups.delete('saved'), /dialGroups lacks the saved group, with 1 saved addresses/],
  ['a stray dial group', tbl => tbl.index.dialGroups.add('group:ghost'), /dialGroups holds 4 groups but there are 3/],
  ['an indexed set holding an item twice', tbl => { const set = tbl.index.bySource.get('id:x'); set.items.push(set.values()[0]) }, /the bySource id:x set holds an item twice, or its position map is off/],
  // the keys: addresses as bytes, found through a hash table
  ['an address its hash does not find', tbl => { keys(tbl).hashes[slot(tbl, A('y'))] ^= 1 }, /tcp:\/\/y0\.example:4000 \(slot \d+\) is not found by its own address/],
  ['a wrong address count', tbl => { keys(tbl).count++ }, /the address hash table holds 3 slots but the count is 4/],
  ['a slot both free and in use', tbl => keys(tbl).free.push(slot(tbl, A('y'))), /slot \d+ is both free and in use/],
  ['a slot neither free nor in use', tbl => { keys(tbl).top++ }, /3 live and 1 free slots are not the 5 handed out/],
  ['an address past the end of its buffer', tbl => { keys(tbl).used = 0 }, /slot \d+'s bytes lie past the end of the address buffer/],
  // the columns: counter rows and lists
  ['two records sharing a counter row', tbl => { tbl.recordAttempt(A('x')); tbl.recordAttempt(A('y')); cols(tbl).more[slot(tbl, A('y'))] = cols(tbl).more[slot(tbl, A('x'))] }, /two records share counter row \d/],
  ['a counter row both free and in use', tbl => { tbl.recordAttempt(A('x')); cols(tbl).extras.free.push(0) }, /counter row 0 is both free and in use/],
  ['a counter row never handed out', tbl => { cols(tbl).more[slot(tbl, A('y'))] = 50 }, /counter row 49 was never handed out/],
  ['a counter row neither free nor in use', tbl => { tbl.recordAttempt(A('x')); cols(tbl).extras.top++ }, /1 counter rows in use and 0 free are not the 2 handed out/],
  ['a list counted once too often', tbl => { cols(tbl).lists.refs[cols(tbl).sources[slot(tbl, A('x'))]]++ }, /list \["id:x","group:g"\] is counted 2 times but held 1/],
  ['a list filed under another list', tbl => { cols(tbl).lists.lists[cols(tbl).sources[slot(tbl, A('y'))]] = ['id:q'] }, /list \d is not the list \["id:y"\] it is filed under/],
  ['a stray list number', tbl => cols(tbl).lists.lists.push(['id:q']), /2 lists held and 0 free are not the 3 numbered/],
  ['a saved count of another kind', tbl => tbl.index.records.add(newRecord(A('ghost'), 1000, true, [])), /ghost0\.example:4000 is user-saved but not in the saved part of the order/],
  // the bounds
  ['a source over its cap', tbl => tbl.index.add(newRecord(A('extra'), 1000, false, ['id:x'])), /source id:x accounts for 2 entries, over its cap 1/, { size: 10 }],
  ['more learned than the capacity', tbl => tbl.index.add(newRecord(A('extra'), 1000, false, ['id:e'])), /3 learned addresses exceed the capacity 2/, { size: 2, informantShare: 1 }],
  // memory against LevelDB
  ['a change in memory that was never written', tbl => { cols(tbl).first[slot(tbl, A('x'))] = 5 }, /the record of tcp:\/\/x0\.example:4000 differs between memory and LevelDB/],
  ['a record LevelDB lost', (tbl, db) => db.sublevel('addr', json).del(A('y')), /LevelDB holds 2 records but memory 3/],
  ['a record only LevelDB has', (tbl, db) => db.sublevel('addr', json).put(A('new'), newRecord(A('new'), 1000, false, [])), /tcp:\/\/new0\.example:4000 is in LevelDB but not in memory/],
  ['a tombstone LevelDB lost', (tbl, db) => db.sublevel('tomb', json).del(A('gone')), /LevelDB holds 0 tombstones but memory 1/],
  ['a tombstone with another expiry', (tbl, db) => db.sublevel('tomb', json).put(A('gone'), 5), /the tombstone of tcp:\/\/gone0\.example:4000 differs/],
  ['a subnet joined only in LevelDB', (tbl, db) => db.sublevel('subnet', json).put('other', { joined: 1 }), /subnet other is joined in LevelDB but not in memory/],
  ['a subnet LevelDB lost', (tbl, db) => db.sublevel('subnet', json).del('chat'), /LevelDB holds 0 joined subnets but memory 1/],
  ['another node id in LevelDB', (tbl, db) => db.sublevel('meta', json).put('id', '0'.repeat(32)), /the node id in LevelDB is not/]
]

for (const [what, corrupt, sentence, opts] of cases) {
  t.test(`check() names ${what}`, async t => {
    const table = await broken(t, corrupt, opts)
    await t.rejects(table.check(), { name: 'TableError', message: sentence })
  })
}

// --- random sequences keep every invariant ---------------------------------------------------

const POOL = Array.from({ length: 10 }, (_, i) => A('p', i))
const SOURCES = ['id:a', 'id:b', 'id:c', 'group:g1', 'group:g2']
const addr = fc.constantFrom(...POOL)
const addrs = fc.array(addr, { minLength: 1, maxLength: 4 })
const subnets = fc.subarray(['s1', 's2', 's3'], { minLength: 1 })
const op = fc.oneof(
  fc.record({ op: fc.constant('save'), addrs }),
  fc.record({ op: fc.constant('remove'), addrs }),
  fc.record({ op: fc.constant('learn'), addrs, sources: fc.subarray(SOURCES, { minLength: 1, maxLength: 2 }) }),
  fc.record({ op: fc.constant('attempt'), addr }),
  fc.record({ op: fc.constant('failure'), addr }),
  fc.record({ op: fc.constant('success'), addr }),
  fc.record({ op: fc.constant('nodes'), addr, rx: fc.nat(3), tx: fc.nat(3) }),
  fc.record({ op: fc.constant('served'), addr, subnet: fc.constantFrom('s1', 's2') }),
  fc.record({ op: fc.constant('join'), subnets }),
  fc.record({ op: fc.constant('part'), subnets }),
  fc.record({ op: fc.constant('purge') }),
  fc.record({ op: fc.constant('time'), ms: fc.constantFrom(1, GRACE, DAY, TOMBSTONE_TTL, MAX_AGE) }),
  fc.record({ op: fc.constant('reopen'), size: fc.integer({ min: 1, max: 8 }), share: fc.constantFrom(0.2, 0.5, 1) })
)

t.test('random sequences of save/remove/learn/record*/purge/reopen keep every invariant after every step', async t => {
  let runs = 0
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async ops => {
    runs++
    const db = new MemoryLevel()
    let now = 1000
    const open = (size, share) => AddressTable.open(db, { size, informantShare: share, random: seededRandom(runs), now: () => now })
    let table = await open(6, 0.5)
    // A small model of what the user asked for: saved addresses stay, removed ones go.
    const saved = new Set()
    try {
      for (const o of ops) {
        // What a remove will tombstone: what the table knows, or removed before.
        const known = o.op === 'remove' ? new Set(o.addrs.filter(a => table.has(a) || table.isTombstoned(a))) : null
        switch (o.op) {
          case 'save': await table.save(o.addrs); o.addrs.forEach(a => saved.add(a)); break
          case 'remove': await table.remove(o.addrs); o.addrs.forEach(a => saved.delete(a)); break
          case 'learn': table.learn(o.addrs, o.sources); break
          case 'attempt': table.recordAttempt(o.addr); break
          case 'failure': table.recordFailure(o.addr); break
          case 'success': table.recordSuccess(o.addr); break
          case 'nodes': table.recordNodes(o.addr, o.rx, o.tx); break
          case 'served': table.noteServed(o.addr, o.subnet); break
          case 'join': await table.join(o.subnets); break
          case 'part': await table.part(o.subnets); break
          case 'purge': table.purge(); break
          case 'time': now += o.ms; break
          case 'reopen': await table.close(); table = await open(o.size, o.share); break
        }
        await table.check()
        for (const a of saved) if (!table.get(a)?.user) throw new Error(`after ${o.op}: the saved ${a} is gone`)
        // A removed address is gone; one that was known (or removed before) is refused from gossip.
        if (o.op === 'remove') for (const a of o.addrs) if (table.has(a) || (known.has(a) && !table.isTombstoned(a))) throw new Error(`removed ${a} is still there`)
      }
    } finally {
      await table.close()
      await db.close()
    }
  }), { numRuns: 300, seed: 20240611, includeErrorInReport: true })
  t.ok(runs >= 300, `${runs} random sequences kept every invariant`)
})

// --- durability: user writes synced before they resolve; gossip not synced -----------------------

t.test('every user write reaches LevelDB in a synced batch before it resolves', async t => {
  const { db, log } = recording(tempLevel(t))
  const table = await openTable(t, db, () => 1000)
  const services = new ServiceStore(db)
  t.teardown(() => services.close())
  const service = { address: 'tcp://127.0.0.1:4000', protocol: 'tcp', host: '127.0.0.1', port: 4000 }
  const writes = [
    ['save', () => table.save([A('u')]), 'put addr!' + A('u')],
    ['remove', () => table.remove([A('u')]), 'put tomb!' + A('u')],
    ['join', () => table.join(['chat']), 'put subnet!chat'],
    ['part', () => table.part(['chat']), 'del subnet!chat'],
    ['saveService', () => services.save(service), 'put service!' + service.address],
    ['removeService', () => services.remove(service.address), 'del service!' + service.address]
  ]
  for (const [what, write, op] of writes) {
    await table.flushed()
    const from = log.length
    await write()
    // Copied when the write resolves: `done` then says whether its batch was on disk yet.
    const batches = log.slice(from).map(b => ({ ...b }))
    const mine = batches.filter(b => b.ops.includes(op))
    t.equal(mine.length, 1, `${what}: one batch holds ${op}`)
    t.same(mine.map(b => ({ sync: b.sync, done: b.done })), [{ sync: true, done: true }], `${what}: that batch was synced, and on disk before ${what} resolved`)
  }
})

t.test('gossip-learned writes are not synced (and still reach LevelDB)', async t => {
  const { db, log } = recording(tempLevel(t))
  let now = 1000
  const table = await openTable(t, db, () => now)
  const from = log.length
  table.learn([A('g1'), A('g2')], ['id:x'])
  table.recordAttempt(A('g1'))
  table.recordSuccess(A('g1'))
  table.recordNodes(A('g1'), 2, 3)
  table.noteServed(A('g1'), 'chat')
  for (let i = 0; i < MAX_RETRIES; i++) { table.recordAttempt(A('g2')); table.recordFailure(A('g2')) }
  await table.flushed()
  now += GRACE
  t.equal(table.purge().dropped, 1)
  await table.flushed()
  const batches = log.slice(from)
  const ops = batches.flatMap(b => b.ops)
  t.ok(ops.includes('put addr!' + A('g1')) && ops.includes('del addr!' + A('g2')), 'the gossip writes reached the database')
  t.same(batches.filter(b => b.sync), [], 'none of their batches was synced')
  t.same(await db.sublevel('addr', json).get(A('g1')), table.get(A('g1')))
})

t.test('the write queue: in order, one batch while another is on disk, a later write to a key replaces an earlier one', async t => {
  const db = new MemoryLevel()
  t.teardown(() => db.close())
  const sub = db.sublevel('q', json)
  // Each batch waits at a gate until the test opens it, so "while a batch is on disk" is a fact.
  const calls = []
  const gated = {
    sublevel: (n, o) => db.sublevel(n, o),
    batch: arrayBatches((ops, opts) => new Promise(resolve => calls.push({ ops: ops.map(o => `${o.key}=${o.value}`), sync: opts.sync, open: resolve }))
      .then(() => db.batch(ops, opts)))
  }
  const queue = new WriteQueue(gated, 'test queue')
  t.teardown(() => queue.close())
  const put = (key, value) => ({ type: 'put', sublevel: sub, key, value })
  let firstDone = false
  const first = queue.sync([put('a', 1)]).then(() => { firstDone = true })
  await until(() => calls.length === 1, { what: 'the first batch to start' })
  queue.post([put('b', 1)])
  queue.post([put('b', 2), put('c', 1)])
  const second = queue.sync([put('a', 2)])
  await Promise.resolve()
  t.equal(calls.length, 1, 'nothing else is written while the first batch is on disk')
  t.notOk(firstDone, 'and the first write has not resolved')
  calls[0].open()
  await first
  await until(() => calls.length === 2, { what: 'the second batch to start' })
  t.same(calls.map(c => ({ ops: c.ops, sync: c.sync })), [
    { ops: ['a=1'], sync: true },
    { ops: ['b=2', 'c=1', 'a=2'], sync: true }
  ], 'what was queued meanwhile went into one batch, the later write to b replacing the earlier; it holds a user write, so it is synced')
  calls[1].open()
  await second
  t.same(Object.fromEntries(await collect(sub.iterator())), { a: 2, b: 2, c: 1 })
})

t.test('the write queue: a failed batch rejects its user writes, reports its gossip writes, and the queue goes on', async t => {
  const db = new MemoryLevel()
  t.teardown(() => db.close())
  const sub = db.sublevel('q', json)
  let fail = true
  const flaky = { sublevel: (n, o) => db.sublevel(n, o), batch: arrayBatches((ops, opts) => fail ? Promise.reject(new Error('disk full')) : db.batch(ops, opts)) }
  const queue = new WriteQueue(flaky, 'test queue')
  const reported = []
  queue.onError = err => reported.push(err.message)
  queue.post([{ type: 'put', sublevel: sub, key: 'g', value: 1 }])
  await t.rejects(queue.sync([{ type: 'put', sublevel: sub, key: 'u', value: 1 }]), /disk full/)
  t.same(reported, ['disk full'], 'the unawaited write in the failed batch went to onError')
  fail = false
  await queue.sync([{ type: 'put', sublevel: sub, key: 'u', value: 2 }])
  t.equal(await sub.get('u'), 2, 'later writes still land')
  await queue.close()
  await t.rejects(queue.sync([]), { name: 'TableError', message: 'test queue is closed' })
})

// --- the API around the split ------------------------------------------------------------------

t.test('the services live in their own store under the same keys (!service!<url>), across reopen', async t => {
  const dir = tempDir(t)
  const db = tempLevel(t, dir)
  const tcp = { address: 'tcp://127.0.0.1:4000', protocol: 'tcp', host: '127.0.0.1', port: 4000 }
  const ws = { address: 'ws://127.0.0.1:4001', protocol: 'ws', host: '127.0.0.1', port: 4001 }
  const store = new ServiceStore(db)
  await store.save(tcp)
  await store.save(ws)
  await store.remove(ws.address)
  await store.close()
  await t.rejects(store.save(ws), { name: 'TableError', message: /service store is closed/ })
  t.same(await collect(db.keys()), ['!service!tcp://127.0.0.1:4000'], 'the key layout older databases have')
  await db.close()

  const db2 = tempLevel(t, dir)
  const again = new ServiceStore(db2)
  t.teardown(() => again.close())
  t.same(await again.list(), [tcp], 'a reopened store lists what was saved')
  const table = await openTable(t, db2, () => 1000)
  t.equal(table.size, 0, 'and the address table does not see the services')
})

t.test('a store that keeps nothing (keepsNothing): user writes still reach it, gossip writes and marked records never do', async t => {
  const db = new MemoryLevel()
  t.teardown(() => db.close())
  const calls = []
  const sink = {
    keepsNothing: true,
    sublevel: (n, o) => db.sublevel(n, o),
    batch: arrayBatches((ops, opts) => { calls.push({ keys: ops.map(o => o.key), sync: opts.sync }); return db.batch(ops, opts) })
  }
  let now = 1000
  const table = await AddressTable.open(sink, { size: 4, random: seededRandom(5), now: () => now })
  t.teardown(() => table.close())
  const opened = calls.length
  await table.save([A('s')])
  t.same(calls.slice(opened).map(c => [c.keys, c.sync]), [[[A('s')], true]], 'a user write is written, synced, as to any store')
  const saved = calls.length
  // Learned past the source's share, told of again later (its record marked), purged.
  table.learn([A('g', 1), A('g', 2), A('g', 3), A('g', 4), A('g', 5)], ['id:x'])
  now += 60_000
  table.learn([A('g', 1)], ['id:y'])
  table.flushDirty()
  table.purge()
  await table.flushed()
  t.equal(table.size, 3, 'the table holds the saved address and the source\'s share of what it learned, in memory')
  t.same(calls.slice(saved), [], 'no gossip write or marked record was batched for it')
})
