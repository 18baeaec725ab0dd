// The known rows the table makes as JSON text from stored records (what the daemon sends):
// always the text JSON.stringify writes of the row the record's parsed value gives, whether the
// record's text could be copied from or had to be parsed; and what the table stores is a text
// it can copy from.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { asRecord, newRecord, MAX_SERVED_SUBNETS } from '../lib/table/rules.js'
import { SCAN_BATCH_BYTES } from '../lib/table/table.js'
import { knownRow, knownRowJson, STORED_RECORD } from '../lib/table/known-text.js'
import { tempLevel, collect } from './lib/helpers.js'
import { openTable } from './lib/table.js'

/** The row's text the slow way: parse the whole record, pick the row, write it. */
function parsed (key, text) {
  const r = asRecord(key, JSON.parse(text))
  return r === undefined ? undefined : JSON.stringify(knownRow(r))
}

const KEY = 'tcp://127.0.0.1:9'
const record = (fields = {}) => ({ ...newRecord(KEY, 1764000000000, false, ['0123456789abcdef0123456789abcdef', 'ip4:127.0.0']), ...fields })
const stored = (fields = {}) => JSON.stringify(record(fields))

t.test('a record as the table writes it is copied from; its row is the one parsing gives', async t => {
  const cases = {
    learned: stored(),
    saved: stored({ user: true, sources: [] }),
    'a subnet': stored({ subnets: ['chat'] }),
    'subnets with commas, braces, spaces and more than ASCII': stored({ subnets: ['chat', 'a,b', 'ünï 🛰', '{row}', ' inner space '] }),
    'counters and times': stored({ lastTry: 5, lastOk: 6, ok: 7, fail: 8, streak: 9, rx: 10, tx: 11 })
  }
  for (const [what, text] of Object.entries(cases)) {
    t.match(text, STORED_RECORD, `${what}: copied from`)
    t.equal(knownRowJson(KEY, text), parsed(KEY, text), `${what}: the row parsing gives`)
  }
  t.equal(knownRowJson(KEY, stored({ subnets: ['x', 'y'] })), `{"address":"${KEY}","saved":false,"subnets":["x","y"]}`, 'written out')
})

t.test('anything else is parsed, and gives the row parsing gives', async t => {
  const cases = {
    'a subnet with a quote': stored({ subnets: ['say "hi"'] }),
    'a subnet with a backslash': stored({ subnets: ['back\\slash'] }),
    'a source with an escape': stored({ sources: ['a"b'] }),
    'a fraction': stored({ first: 1.5 }),
    'a negative number': stored({ last: -1 }),
    'a large number': stored({ rx: 1e21 }),
    'an extra field': stored({ extra: true }),
    'a missing field': JSON.stringify({ address: KEY, user: true, subnets: ['chat'] }),
    'another order': JSON.stringify({ user: true, ...record() }),
    'white space': JSON.stringify(record(), null, 1),
    'a field twice (the last counts)': stored().slice(0, -1) + ',"user":true,"subnets":["late"]}',
    'an escaped letter where none was needed': stored({ subnets: ['chat'] }).replace('"chat"', '"ch\\u0061t"')
  }
  for (const [what, text] of Object.entries(cases)) {
    t.notMatch(text, STORED_RECORD, `${what}: not copied from`)
    t.equal(knownRowJson(KEY, text), parsed(KEY, text), `${what}: the row parsing gives`)
  }
  t.equal(knownRowJson(KEY, cases['a field twice (the last counts)']), `{"address":"${KEY}","saved":true,"subnets":["late"]}`, 'a field twice: the last one, as JSON.parse reads it')
})

t.test('a row that is not a record is skipped; text that is not JSON throws as parsing does', async t => {
  t.equal(knownRowJson('tcp://127.0.0.1:10', stored()), undefined, 'stored under another address')
  t.equal(knownRowJson(KEY + '"', stored()), undefined, 'a key that differs by a quote')
  for (const text of ['null', '5', '"x"', '[]', '{}']) t.equal(knownRowJson(KEY, text), undefined, `${text}: not a record`)
  for (const text of ['', '{', stored().slice(0, -1), stored().replace('"user":false', '"user":False')]) {
    let expected
    try { JSON.parse(text) } catch (err) { expected = err }
    t.throws(() => knownRowJson(KEY, text), { name: expected.name, message: expected.message }, `${JSON.stringify(text.slice(0, 20))}: JSON.parse's own error`)
  }
})

t.test('the table scans its stored records as rows of known text, in key order, in LevelDB and memory-level', async t => {
  for (const [name, db] of [['LevelDB', tempLevel(t)], ['memory-level', new MemoryLevel()]]) {
    if (name === 'memory-level') t.teardown(() => db.close())
    let now = 1764000000000
    const table = await openTable(t, db, () => now, { size: 1000 })
    const saved = Array.from({ length: 600 }, (_, i) => `tcp://127.0.${i >> 8}.${i & 255}:7000`)
    await table.save(saved)
    table.learn(['ws://127.1.0.1:81', 'tcp://127.1.0.2:82'], ['0123456789abcdef0123456789abcdef', 'ip4:127.0.0'])
    table.noteServed('ws://127.1.0.1:81', 'chat')
    table.noteServed('ws://127.1.0.1:81', 'say "hi"')
    table.noteServed(saved[3], 'chat')
    now += 1000
    table.recordAttempt(saved[5])
    table.recordSuccess(saved[5])
    table.recordAttempt(saved[6])
    table.recordFailure(saved[6])
    await table.flushed()
    const stored = await collect(db.sublevel('addr', { valueEncoding: 'utf8' }).iterator())
    t.equal(stored.length, 602, `${name}: every record`)
    t.same(stored.filter(([, text]) => !STORED_RECORD.test(text)).map(([key]) => key), ['ws://127.1.0.1:81'],
      `${name}: what the table stores is copied from, but for a subnet name that needs an escape`)
    const batches = await collect(table.scanKnownJson())
    t.ok(batches.length > 1 && batches.every(b => b.length <= 512), `${name}: in batches (${batches.map(b => b.length).join(', ')})`)
    const fromObjects = (await collect(table.scan())).map(r => JSON.stringify(knownRow(r)))
    t.same(batches.flat(), fromObjects, `${name}: the rows scan() gives, as JSON text, in the same order`)
  }
})

t.test(`a scan's batch is 512 records, or ends early past SCAN_BATCH_BYTES (${SCAN_BATCH_BYTES}) of them`, async t => {
  const db = tempLevel(t)
  const table = await openTable(t, db, () => 1764000000000, { size: 1000 })
  // Small records (~250 bytes): whole batches of 512, not LevelDB's default of ~16 KB (~60 records).
  const small = Array.from({ length: 600 }, (_, i) => `tcp://127.0.${i >> 8}.${i & 255}:7000`)
  await table.save(small)
  t.same((await collect(table.scanKnownJson())).map(b => b.length), [512, 88], 'small records: 512, then the rest')
  // Large records (~2 KB: MAX_SERVED_SUBNETS long names each): batches end past SCAN_BATCH_BYTES.
  const large = Array.from({ length: 400 }, (_, i) => `tcp://127.1.${i >> 8}.${i & 255}:7000`)
  await table.save(large)
  for (const a of large) for (let s = 0; s < MAX_SERVED_SUBNETS; s++) table.noteServed(a, `${s}-`.padEnd(120, 'x'))
  await table.flushed()
  const bytes = ([key, value]) => Buffer.byteLength(key) + Buffer.byteLength(value)
  const stored = await collect(db.sublevel('addr', { valueEncoding: 'utf8' }).iterator())
  const sizes = (await collect(table.scanKnownJson())).map(b => b.length)
  t.equal(sizes.reduce((a, b) => a + b, 0), 1000, 'every record, once')
  let at = 0
  for (const n of sizes.slice(0, -1)) {
    const batch = stored.slice(at, at + n)
    at += n
    if (n === 512) continue
    t.ok(batch.slice(0, -1).map(bytes).reduce((a, b) => a + b, 0) <= SCAN_BATCH_BYTES, `a batch of ${n} ended at the first record past the bound`)
    t.ok(batch.map(bytes).reduce((a, b) => a + b, 0) > SCAN_BATCH_BYTES - 6 * n, 'and not before it (LevelDB counts each key with its 6-byte sublevel prefix)')
  }
  t.ok(sizes.some(n => n < 512 && n > 100), `large records: batches that ended early, each of more than 100 (${sizes.join(', ')})`)
})
