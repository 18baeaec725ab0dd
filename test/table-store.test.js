// The address table's compact memory, piece by piece, against plain models: addresses as slots
// (AddressKeys: bytes, hash table, reuse), records as columns (Records: counter rows only when
// needed, shared lists), the saved-then-learned order (SlotOrder) and the list pool (ListPool).
// Each structure's own problem() must find nothing after every step.
import t from 'tap'
import fc from 'fast-check'
import { AddressKeys } from '../lib/table/address-slots.js'
import { Records } from '../lib/table/records.js'
import { SlotOrder } from '../lib/table/order.js'
import { ListPool } from '../lib/table/lists.js'
import { newRecord, seededRandom, MAX_KEY_BYTES, TableError } from '../lib/index.js'

// Addresses of every kind the keys must keep apart: ASCII, multi-byte, astral, empty, long.
const POOL = [
  ...Array.from({ length: 2500 }, (_, i) => `tcp://127.0.${i >> 8}.${i & 255}:${4000 + i}`),
  ...Array.from({ length: 300 }, (_, i) => `ws://h${i}.example/é${i}`),
  ...Array.from({ length: 100 }, (_, i) => `mem://😀${i}`),
  ...Array.from({ length: 50 }, (_, i) => `ws://long.example/${'x'.repeat(200 + i)}`),
  ''
]

t.test('AddressKeys: random adds and deletes agree with a Map, through growth, rehashes and compaction', async t => {
  const keys = new AddressKeys()
  const model = new Map()
  const inUse = new Set()
  const random = seededRandom(7)
  let highest = 0
  for (let step = 0; step < 30_000; step++) {
    const a = POOL[Math.floor(random() * POOL.length)]
    // Mostly adds at first, then mostly deletes, then adds again: the slots and bytes are reused.
    const adding = random() < (step < 10_000 ? 0.8 : step < 20_000 ? 0.2 : 0.7)
    if (adding && !model.has(a)) {
      const slot = keys.add(a)
      if (inUse.has(slot)) t.fail(`slot ${slot} handed out twice`)
      inUse.add(slot)
      model.set(a, slot)
      highest = Math.max(highest, slot)
    } else if (!adding && model.has(a)) {
      keys.delete(model.get(a))
      inUse.delete(model.get(a))
      model.delete(a)
    }
    if (step % 3000 === 2999) {
      t.equal(keys.problem(), null, `no problem after ${step + 1} steps`)
      t.equal(keys.size, model.size)
      for (const [b, slot] of model) if (keys.slotOf(b) !== slot || keys.address(slot) !== b) t.fail(`${b} is not at slot ${slot}`)
      for (const b of POOL) if (!model.has(b) && keys.slotOf(b) !== -1) t.fail(`${b} is found but was deleted`)
    }
  }
  t.ok(highest < POOL.length, `slots are reused: the highest handed out (${highest}) is below the ${POOL.length} distinct addresses`)
  t.same(new Set(keys.slots()), new Set(model.values()), 'slots() lists exactly the live slots')
})

t.test('AddressKeys: deleted addresses\' bytes do not pile up', async t => {
  const keys = new AddressKeys()
  const live = POOL.slice(0, 1000)
  const bytes = live.reduce((n, a) => n + Buffer.byteLength(a), 0)
  for (let round = 0; round < 50; round++) {
    const slots = live.map(a => keys.add(a))
    for (const s of slots) keys.delete(s)
  }
  for (const a of live) keys.add(a)
  t.equal(keys.problem(), null)
  t.ok(keys.bytes.length <= 3 * bytes + 4096, `after 50 rounds of 1000 adds and deletes the buffer is ${keys.bytes.length} bytes for ${bytes} live`)
})

t.test(`AddressKeys: an address of MAX_KEY_BYTES (${MAX_KEY_BYTES}) bytes is kept; one more is refused`, async t => {
  const keys = new AddressKeys()
  const longest = 'x'.repeat(MAX_KEY_BYTES)
  const slot = keys.add(longest)
  t.equal(keys.slotOf(longest), slot)
  t.equal(keys.address(slot), longest)
  for (const over of ['x'.repeat(MAX_KEY_BYTES + 1), 'é'.repeat(MAX_KEY_BYTES / 2 + 1)]) {
    t.match(keys.unstorable(over), /longer than MAX_KEY_BYTES/)
    t.throws(() => keys.add(over), { name: 'TableError', message: /MAX_KEY_BYTES/ })
    t.equal(keys.slotOf(over), -1)
  }
  t.equal(keys.size, 1, 'a refused address changes nothing')
  t.equal(keys.problem(), null)
})

t.test('AddressKeys: a lone surrogate is refused (UTF-8 cannot carry it), a surrogate pair is kept', async t => {
  const keys = new AddressKeys()
  keys.add('mem://\uFFFD')
  t.match(keys.unstorable('mem://\uD800'), /lone surrogate/)
  t.throws(() => keys.add('mem://\uD800'), TableError)
  t.equal(keys.slotOf('mem://\uD800'), -1, 'not mistaken for U+FFFD, which is what its bytes would be')
  const pair = keys.add('mem://\uD83D\uDE00')
  t.equal(keys.address(pair), 'mem://😀')
  t.equal(keys.problem(), null)
})

t.test('AddressKeys: deleting a slot that is not in use throws, and changes nothing', async t => {
  const keys = new AddressKeys()
  const a = keys.add('tcp://127.0.0.1:1')
  keys.delete(a)
  t.throws(() => keys.delete(a), { name: 'TableError', message: /not in the address hash table/ })
  t.throws(() => keys.delete(5000), TableError)
  t.equal(keys.size, 0)
  t.equal(keys.problem(), null)
})

// --- Records --------------------------------------------------------------------------------

const text = fc.string({ maxLength: 12 })
const record = fc.record({
  address: fc.string({ minLength: 1, maxLength: 30 }).filter(a => new AddressKeys().unstorable(a) === null),
  user: fc.boolean(),
  sources: fc.uniqueArray(text, { maxLength: 3 }),
  first: fc.double({ noNaN: true, noDefaultInfinity: true }),
  last: fc.double({ noNaN: true, noDefaultInfinity: true }),
  lastTry: fc.oneof(fc.constant(0), fc.double({ noNaN: true, noDefaultInfinity: true })),
  lastOk: fc.oneof(fc.constant(0), fc.nat()),
  ok: fc.oneof(fc.constant(0), fc.nat()),
  fail: fc.oneof(fc.constant(0), fc.nat()),
  streak: fc.oneof(fc.constant(0), fc.nat()),
  rx: fc.oneof(fc.constant(0), fc.maxSafeNat()),
  tx: fc.oneof(fc.constant(0), fc.maxSafeNat()),
  subnets: fc.array(text, { maxLength: 3 })
})

t.test('Records: what is added, set and deleted reads back exactly, and the columns stay consistent', async t => {
  await fc.assert(fc.property(fc.array(fc.tuple(record, fc.constantFrom('add', 'set', 'delete')), { maxLength: 60 }), steps => {
    const records = new Records()
    const model = new Map()
    for (const [r, op] of steps) {
      const slot = records.slotOf(r.address)
      if (op === 'delete') {
        if (slot >= 0) records.delete(slot)
        model.delete(r.address)
      } else if (slot >= 0) {
        records.set(slot, r)
        model.set(r.address, r)
      } else {
        records.add(r)
        model.set(r.address, r)
      }
      const problem = records.problem()
      if (problem !== null) throw new Error(problem)
    }
    if (records.size !== model.size) throw new Error(`${records.size} records, ${model.size} in the model`)
    for (const [a, r] of model) {
      const got = records.get(records.slotOf(a))
      if (JSON.stringify(got) !== JSON.stringify(r)) throw new Error(`${JSON.stringify(got)} is not ${JSON.stringify(r)}`)
      const v = records.vitals(records.slotOf(a))
      if (v.user !== r.user || v.last !== r.last || v.lastTry !== r.lastTry || v.lastOk !== r.lastOk || v.streak !== r.streak) throw new Error(`vitals of ${a} differ`)
    }
  }), { numRuns: 200, seed: 11 })
  t.pass('200 random sequences read back exactly')
})

t.test('Records: counters take a row only once one is not zero; lists are shared, and let go', async t => {
  const records = new Records()
  const slots = Array.from({ length: 1000 }, (_, i) => records.add(newRecord(`tcp://127.0.0.1:${2000 + i}`, 1000, false, ['id:x', 'group:g'])))
  t.equal(records.extras.top, 0, 'a thousand fresh records hold no counter row')
  t.equal(records.lists.size, 1, 'and one list of sources between them')
  const r = records.get(slots[5])
  r.lastTry = 2000
  records.set(slots[5], r)
  t.equal(records.extras.top, 1, 'a record tried once holds one')
  t.equal(records.get(slots[5]).lastTry, 2000)
  records.delete(slots[5])
  const again = records.add({ ...newRecord('tcp://127.0.0.1:9', 1000, true, []), ok: 1, subnets: ['chat'] })
  t.equal(records.extras.top, 1, 'the freed row is handed out again')
  t.equal(records.get(again).ok, 1)
  for (const s of slots) if (s !== slots[5]) records.delete(s)
  t.equal(records.lists.size, 1, 'the sources list is let go with its last record; the subnets list stays')
  t.equal(records.problem(), null)
})

// --- SlotOrder, ListPool ----------------------------------------------------------------------

t.test('SlotOrder: saved slots, then learned ones, agree with two sets through random changes', async t => {
  await fc.assert(fc.property(fc.array(fc.tuple(fc.nat(200), fc.boolean()), { maxLength: 300 }), steps => {
    const order = new SlotOrder()
    const saved = new Set()
    const learned = new Set()
    const random = seededRandom(3)
    for (const [slot, user] of steps) {
      if (saved.has(slot) || learned.has(slot)) {
        order.delete(slot, saved.has(slot))
        saved.delete(slot)
        learned.delete(slot)
      } else {
        order.add(slot, user)
        ;(user ? saved : learned).add(slot)
      }
      for (const [part, model] of [[order.saved, saved], [order.learned, learned], [order.all, new Set([...saved, ...learned])]]) {
        if (part.size !== model.size) throw new Error(`a part holds ${part.size}, its model ${model.size}`)
        const values = [...part.values()]
        if (values.length !== model.size || !values.every(s => model.has(s))) throw new Error(`a part holds ${values}, its model ${[...model]}`)
        const picked = part.pick(random)
        if (model.size === 0 ? picked !== undefined : !model.has(picked)) throw new Error(`picked ${picked}`)
      }
      for (let s = 0; s <= 200; s++) {
        if (order.holds(s, true) !== saved.has(s) || order.holds(s, false) !== learned.has(s)) throw new Error(`holds(${s}) is wrong`)
      }
    }
  }), { numRuns: 200, seed: 5 })
  t.pass('200 random sequences agree')
})

t.test('ListPool: one number per distinct list, counted, and reused once let go', async t => {
  const pool = new ListPool()
  t.equal(pool.intern([]), 0, 'the empty list is 0, never counted')
  const a = pool.intern(['id:x', 'group:g'])
  t.equal(pool.intern(['id:x', 'group:g']), a)
  const b = pool.intern(['group:g', 'id:x'])
  t.not(b, a, 'order matters')
  t.same(pool.get(a), ['id:x', 'group:g'])
  t.equal(pool.problem(new Map([[a, 2], [b, 1]])), null)
  t.match(pool.problem(new Map([[a, 1], [b, 1]])), /counted 2 times but held 1/)
  pool.release(a)
  pool.release(a)
  t.equal(pool.size, 1)
  t.equal(pool.intern(['chat']), a, 'its number is reused')
  t.equal(pool.problem(new Map([[a, 1], [b, 1]])), null)
})
