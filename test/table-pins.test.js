// Pins in the address table: the id an address is held to (the user's ID@ADDR, the first key a
// handshake saw at a user's address, a peer's hint), kept through restarts, shown where known,
// and checked by check(). The node's side (dials refused, events) is in node-pins.test.js.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { AddressTable, seededRandom } from '../lib/index.js'
import { STORED_RECORD, knownRowJson } from '../lib/table/known-text.js'
import { tempLevel } from './lib/helpers.js'
import { openTable, checkAndClose } from './lib/table.js'

const A = (p, i = 0) => `tcp://${p}${i}.example:4000`
const ID = c => c.repeat(64)
const clock = () => 1000

t.test('save ID@ADDR pins strictly; a plain save pins nothing until a handshake proves a key', async t => {
  const table = await openTable(t, new MemoryLevel(), clock)
  t.same(await table.save([A('a'), A('b')], a => a === A('a') ? ID('a') : undefined), [A('a'), A('b')])
  t.same(table.pinOf(A('a')), { id: ID('a'), pin: 'given' }, 'the user\'s id is a pin')
  t.equal(table.pinOf(A('b')), null, 'a plain address: any key will do, the first time')
  t.equal(table.provenId(A('a')), null, 'a given id is not proven: gossip does not pass it on')
  table.recordKey(A('b'), ID('b'))
  t.same(table.pinOf(A('b')), { id: ID('b'), pin: 'seen' }, 'trust on first use: the key seen holds the address from now on')
  t.equal(table.provenId(A('b')), ID('b'))
  table.recordKey(A('a'), ID('a'))
  t.same(table.pinOf(A('a')), { id: ID('a'), pin: 'seen' }, 'a given id a handshake proved is seen')

  t.same(await table.save([A('b')]), [], 'a plain save of a pinned address changes nothing')
  t.same(table.pinOf(A('b')), { id: ID('b'), pin: 'seen' })
  t.same(await table.save([A('b')], () => ID('c')), [A('b')], 'add ID@ADDR of another id re-pins it, and says it changed')
  t.same(table.pinOf(A('b')), { id: ID('c'), pin: 'given' })
  t.same(await table.save([A('b')], () => ID('c')), [], 'the same pin again changes nothing')

  await table.remove([A('b')])
  t.same(await table.save([A('b')]), [A('b')])
  t.equal(table.pinOf(A('b')), null, 'rm then add starts afresh: the next key seen is trusted')
})

t.test('a peer\'s hint: kept, never a pin, never shown, replaced by a key a handshake proves', async t => {
  const table = await openTable(t, new MemoryLevel(), clock)
  t.equal(table.learn([A('h'), A('p')], ['id:x'], a => a === A('h') ? ID('1') : undefined), 2)
  t.same(table.get(A('h')), { ...table.get(A('h')), id: ID('1'), pin: 'hint' })
  t.equal(table.pinOf(A('h')), null, 'a hint holds no dial to it')
  t.equal(table.provenId(A('h')), null, 'nor is it passed on')
  table.learn([A('h')], ['id:y'], () => ID('2'))
  t.equal(table.get(A('h')).id, ID('1'), 'a second hint does not replace the first')
  table.learn([A('p')], ['id:y'], () => ID('2'))
  t.equal(table.get(A('p')).id, ID('2'), 'a known address without an id takes a hint')
  table.recordKey(A('h'), ID('9'))
  t.same(table.stats(A('h')), { ...table.stats(A('h')), id: ID('9'), pin: 'seen' }, 'the key a dial proved replaces the hint, with no failure booked')
  t.equal(table.get(A('h')).fail, 0)
  table.learn([A('h')], ['id:x'], () => ID('1'))
  t.equal(table.get(A('h')).id, ID('9'), 'a hint never replaces a proven key')

  table.learn([A('q')], ['id:x'], () => ID('3'))
  t.same(await table.save([A('q')]), [A('q')])
  t.equal(table.get(A('q')).id, undefined, 'saving a hinted address drops the hint: the user trusts the first key seen, not a peer')
  t.equal(table.pinOf(A('q')), null)
  table.recordKey(A('p'), ID('4'))
  await table.save([A('p')])
  t.same(table.pinOf(A('p')), { id: ID('4'), pin: 'seen' }, 'saving a learned address keeps the key a handshake proved there')
})

t.test('pins last through a restart, and check() covers them', async t => {
  const db = tempLevel(t)
  const table = await AddressTable.open(db, { size: 100, random: seededRandom(1), now: clock })
  await table.save([A('a'), A('b')], a => a === A('a') ? ID('a') : undefined)
  table.recordKey(A('b'), ID('b'))
  table.learn([A('h')], ['id:x'], () => ID('1'))
  await checkAndClose(table)
  await db.close()
  await db.open()
  const again = await openTable(t, db, clock)
  t.same(again.pinOf(A('a')), { id: ID('a'), pin: 'given' })
  t.same(again.pinOf(A('b')), { id: ID('b'), pin: 'seen' })
  t.equal(again.get(A('h')).pin, 'hint')
})

t.test('known rows carry the id where known (given or seen), not a hint; the copied text agrees', async t => {
  const db = new MemoryLevel()
  const table = await openTable(t, db, clock)
  await table.save([A('g'), A('s'), A('n')], a => a === A('g') ? ID('a') : undefined)
  table.recordKey(A('s'), ID('b'))
  table.learn([A('h')], ['id:x'], () => ID('c'))
  await table.flushed()
  const rows = new Map()
  for await (const batch of table.scanKnownJson()) for (const j of batch) rows.set(JSON.parse(j).address, j)
  t.equal(rows.get(A('g')), `{"address":"${A('g')}","saved":true,"subnets":[],"id":"${ID('a')}"}`)
  t.equal(rows.get(A('s')), `{"address":"${A('s')}","saved":true,"subnets":[],"id":"${ID('b')}"}`)
  t.equal(rows.get(A('n')), `{"address":"${A('n')}","saved":true,"subnets":[]}`, 'no id: no field, the row is as it was')
  t.equal(rows.get(A('h')), `{"address":"${A('h')}","saved":false,"subnets":[]}`, 'a hint is not shown as known')
  // Each stored record matched the fast pattern, and the parsing path writes the same text.
  const addr = db.sublevel('addr', { valueEncoding: 'utf8' })
  for await (const [key, text] of addr.iterator()) {
    t.ok(STORED_RECORD.test(text), `${key}: the stored text is the pattern the rows are copied from`)
    const parsed = JSON.parse(text)
    t.equal(knownRowJson(key, text), knownRowJson(key, JSON.stringify(parsed, null, 1)), `${key}: copied and parsed rows agree`)
  }
})

t.test('a stored pin of the wrong shape is dropped on load; the address is kept', async t => {
  const db = new MemoryLevel()
  const addr = db.sublevel('addr', { valueEncoding: 'json' })
  const base = { user: true, sources: [], first: 1, last: 1, lastTry: 0, lastOk: 0, ok: 0, fail: 0, streak: 0, rx: 0, tx: 0, subnets: [] }
  await addr.put(A('x'), { address: A('x'), ...base, id: 'not hex', pin: 'seen' })
  await addr.put(A('y'), { address: A('y'), ...base, id: ID('a'), pin: 'trusted' })
  await addr.put(A('z'), { address: A('z'), ...base, id: ID('a') })
  const table = await openTable(t, db, clock)
  for (const a of [A('x'), A('y'), A('z')]) {
    t.ok(table.has(a), `${a} is kept`)
    t.equal(table.get(a).id, undefined, `${a}: its malformed pin is not`)
    t.equal(table.pinOf(a), null)
  }
  const known = []
  for await (const batch of table.scanKnownJson()) known.push(...batch)
  t.same(known.map(j => JSON.parse(j).id), [undefined, undefined, undefined])
})

t.test('check() names a pin without a key, a key without a pin, and a key row in two records', async t => {
  const cases = [
    ['a pin without a key', records => { records.keyRow[records.slotOf(A('b'))] = 0 }, /has a pin but no key/],
    ['a key without a pin', records => { records.pin[records.slotOf(A('a'))] = 0 }, /has a key but no pin/],
    ['a key row in two records', records => { records.keyRow[records.slotOf(A('b'))] = records.keyRow[records.slotOf(A('a'))] }, /two records share key row \d/],
    ['a key row both free and in use', records => { records.keys32.free.push(0) }, /key row 0 is both free and in use/]
  ]
  for (const [what, corrupt, sentence] of cases) {
    const db = new MemoryLevel()
    const table = await AddressTable.open(db, { size: 100, random: seededRandom(1), now: clock })
    await table.save([A('a'), A('b')], () => ID('e'))
    await table.check()
    corrupt(table.index.records)
    await t.rejects(table.check(), { name: 'TableError', message: sentence }, what)
    await db.close()
  }
})
