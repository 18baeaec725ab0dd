// The ring's messages (src/wire/ring.ts): valid ones pass, every bound and malformed field is a
// WireError (never a TypeError), so a peer's garbage drops the link and nothing else.
import t from 'tap'
import {
  validateRingMessage, packRecords, MAX_RING_TTL, MAX_RECORDS_PER_MESSAGE, RECORDS_ROOM, MAX_RING_PEERS, MAX_FETCH, MAX_RING_ERROR, MAX_SKIP, MAX_STORE_RELAY, MAX_STAB_ANSWER
} from '../lib/wire/ring.js'
import { WireError, MAX_FRAME } from '../lib/wire/frame.js'
import { MAX_HELLO_ADDRS, MAX_ADDRESS_LENGTH } from '../lib/wire/messages.js'
import { MAX_RECORD_BYTES } from '../lib/wire/record.js'
import { signRecord } from '../lib/ring/record.js'
import { generateKeyPair } from '../lib/node/identity.js'

const ID = 'a'.repeat(64)
const QID = '0123456789abcdef'
const peer = { id: ID, addrs: ['mem://a'] }
const rec = signRecord(generateKeyPair(Buffer.alloc(32, 3)), { type: 'member', network: 'peernet', name: 'chat', seq: 1, expires: 2e12 })
const valid = {
  lookup: { type: 'ring.lookup', qid: QID, target: ID, at: ID, skip: 0, op: 'fetch', hops: 1, ttl: 32, origin: peer, max: 10 },
  store: { type: 'ring.lookup', qid: QID, target: ID, at: ID, skip: 1, avoid: ID, final: true, op: 'store', hops: 1, ttl: 32, origin: peer, records: [rec] },
  found: { type: 'ring.found', qid: QID, hops: 3, owner: peer, pred: null, records: [rec], replica: true, error: 'x' },
  stored: { type: 'ring.found', qid: QID, hops: 3, owner: peer, pred: ID, stored: 1 },
  stab: { type: 'ring.stab', addrs: ['mem://a'] },
  stabok: { type: 'ring.stabok', pred: peer, succs: [peer, peer] },
  stabokNone: { type: 'ring.stabok', pred: null, succs: [] },
  stabHave: { type: 'ring.stab', addrs: ['mem://a'], have: 7 },
  stabokNumbered: { type: 'ring.stabok', pred: peer, succs: [peer], n: 7 },
  stabsame: { type: 'ring.stabsame', n: MAX_STAB_ANSWER },
  ringStore: { type: 'ring.store', records: [rec] }
}

function throwsWire (t, value, what) {
  try {
    validateRingMessage(value)
    t.fail(`${what}: accepted`)
  } catch (e) {
    t.ok(e instanceof WireError, `${what}: WireError (${e.message})`)
  }
}

t.test('valid messages pass, through JSON too', async t => {
  for (const [name, m] of Object.entries(valid)) t.same(validateRingMessage(JSON.parse(JSON.stringify(m))), m, name)
})

t.test('bounds, each crossed by one', async t => {
  const l = valid.lookup
  t.doesNotThrow(() => validateRingMessage({ ...l, ttl: MAX_RING_TTL, hops: MAX_RING_TTL }))
  throwsWire(t, { ...l, ttl: MAX_RING_TTL + 1 }, 'ttl over MAX_RING_TTL')
  throwsWire(t, { ...l, hops: MAX_RING_TTL + 1 }, 'hops over MAX_RING_TTL')
  throwsWire(t, { ...l, ttl: 0 }, 'ttl 0')
  t.doesNotThrow(() => validateRingMessage({ ...l, skip: MAX_SKIP }))
  throwsWire(t, { ...l, skip: MAX_SKIP + 1 }, 'skip over MAX_SKIP')
  t.doesNotThrow(() => validateRingMessage({ ...l, max: MAX_FETCH }))
  throwsWire(t, { ...l, max: MAX_FETCH + 1 }, 'max over MAX_FETCH')
  const many = Array.from({ length: MAX_RECORDS_PER_MESSAGE }, () => rec)
  t.doesNotThrow(() => validateRingMessage({ type: 'ring.store', records: many }))
  throwsWire(t, { type: 'ring.store', records: [...many, rec] }, 'records over MAX_RECORDS_PER_MESSAGE')
  t.equal(validateRingMessage({ type: 'ring.store', records: [rec], relay: MAX_STORE_RELAY }).relay, MAX_STORE_RELAY, 'a relay of MAX_STORE_RELAY')
  throwsWire(t, { type: 'ring.store', records: [rec], relay: MAX_STORE_RELAY + 1 }, 'a relay over MAX_STORE_RELAY')
  throwsWire(t, { type: 'ring.store', records: [rec], relay: 1.5 }, 'a relay not an integer')
  throwsWire(t, { type: 'ring.store', records: [rec], relay: '2' }, 'a relay not a number')
  // packRecords: batches within MAX_RECORDS_PER_MESSAGE and RECORDS_ROOM, nothing lost.
  const small = Array.from({ length: 300 }, (_, i) => ({ ...rec, seq: i }))
  const batches = packRecords(small)
  t.same(batches.map(b => b.length), [MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE, 300 - 2 * MAX_RECORDS_PER_MESSAGE], 'small records: by count')
  const big = { ...rec, meta: { m: 'x'.repeat(1000) }, addresses: Array.from({ length: 8 }, (_, i) => 'm'.repeat(250) + i) }
  const bigs = packRecords(Array.from({ length: 40 }, () => big))
  const size = b => Buffer.byteLength(JSON.stringify(b))
  t.ok(bigs.every(b => size(b) <= RECORDS_ROOM), 'large records: by bytes')
  t.ok(bigs.length > 1 && bigs.flat().length === 40, 'split, nothing lost')
  t.ok(size(bigs[0]) + size(big) > RECORDS_ROOM, 'each batch as full as it can be')
  const frame = { type: 'ring.found', qid: QID, hops: 64, owner: { id: ID, addrs: Array(8).fill('m'.repeat(256)) }, pred: ID, records: bigs[0], error: 'e'.repeat(MAX_RING_ERROR) }
  t.ok(size(frame) < MAX_FRAME, 'a full answer fits a frame')
  t.ok(Buffer.byteLength(JSON.stringify(big)) <= MAX_RECORD_BYTES)
  const peers = Array.from({ length: MAX_RING_PEERS }, () => peer)
  t.doesNotThrow(() => validateRingMessage({ type: 'ring.stabok', pred: null, succs: peers }))
  throwsWire(t, { type: 'ring.stabok', pred: null, succs: [...peers, peer] }, 'succs over MAX_RING_PEERS')
  const addrs = Array.from({ length: MAX_HELLO_ADDRS }, () => 'm'.repeat(MAX_ADDRESS_LENGTH))
  t.doesNotThrow(() => validateRingMessage({ type: 'ring.stab', addrs }))
  throwsWire(t, { type: 'ring.stab', addrs: [...addrs, 'mem://b'] }, 'addrs over MAX_HELLO_ADDRS')
  throwsWire(t, { type: 'ring.stab', addrs: ['m'.repeat(MAX_ADDRESS_LENGTH + 1)] }, 'an address over MAX_ADDRESS_LENGTH')
  for (const [m, key] of [[valid.stabHave, 'have'], [valid.stabokNumbered, 'n'], [valid.stabsame, 'n']]) {
    t.doesNotThrow(() => validateRingMessage({ ...m, [key]: MAX_STAB_ANSWER }))
    throwsWire(t, { ...m, [key]: MAX_STAB_ANSWER + 1 }, `${m.type}.${key} over MAX_STAB_ANSWER`)
    throwsWire(t, { ...m, [key]: 0 }, `${m.type}.${key} 0`)
    throwsWire(t, { ...m, [key]: 1.5 }, `${m.type}.${key} not an integer`)
    throwsWire(t, { ...m, [key]: '1' }, `${m.type}.${key} a string`)
  }
  throwsWire(t, { type: 'ring.stabsame' }, 'ring.stabsame without n')
  t.doesNotThrow(() => validateRingMessage({ ...valid.found, error: 'e'.repeat(MAX_RING_ERROR) }))
  throwsWire(t, { ...valid.found, error: 'e'.repeat(MAX_RING_ERROR + 1) }, 'error over MAX_RING_ERROR')
})

t.test('an answer\'s records are passed on unchecked for shape: the asker checks them', async t => {
  // Each node on the way back would check ~35 KB of records again; the asker drops what fails
  // (Records.search), and no node on the way is blamed for a record it could not have known bad.
  const odd = [{ ...rec, seq: -1 }, { ...rec, extra: 1 }, {}]
  t.same(validateRingMessage({ ...valid.found, records: odd }).records, odd)
  // A lookup's and a store's records are still checked one by one: their receiver keeps them.
  throwsWire(t, { ...valid.store, records: [{ ...rec, seq: -1 }] }, 'a malformed record to store')
  throwsWire(t, { type: 'ring.store', records: [{}] }, 'a malformed record copied')
})

t.test('malformed fields', async t => {
  const l = valid.lookup
  throwsWire(t, null, 'null')
  throwsWire(t, [], 'an array')
  throwsWire(t, { type: 'ring.nope' }, 'unknown type')
  throwsWire(t, { ...l, op: 'delete' }, 'unknown op')
  throwsWire(t, { ...l, qid: 'xyz' }, 'bad qid')
  throwsWire(t, { ...l, target: ID.toUpperCase() }, 'upper-case id')
  throwsWire(t, { ...l, at: ID.slice(1) }, 'short id')
  throwsWire(t, { ...l, origin: { id: ID } }, 'origin without addrs')
  throwsWire(t, { ...l, origin: null }, 'origin null')
  throwsWire(t, { ...l, final: false }, 'final other than true')
  throwsWire(t, { ...l, avoid: 'x' }, 'bad avoid')
  throwsWire(t, { ...l, hops: 1.5 }, 'fractional hops')
  throwsWire(t, { ...l, records: [{ ...rec, seq: -1 }] }, 'a malformed record')
  throwsWire(t, { ...l, records: {} }, 'records not an array')
  throwsWire(t, { ...l, envelope: { from: ID } }, 'a malformed envelope')
  throwsWire(t, { ...valid.found, pred: 'x' }, 'bad pred')
  throwsWire(t, { ...valid.found, replica: 'yes' }, 'replica not a boolean')
  throwsWire(t, { ...valid.found, stored: -1 }, 'negative stored')
  throwsWire(t, { ...valid.found, records: [rec, null] }, 'an answer\'s record not an object')
  throwsWire(t, { ...valid.found, records: [rec, [rec]] }, 'an answer\'s record an array')
  throwsWire(t, { ...valid.found, records: Array.from({ length: MAX_RECORDS_PER_MESSAGE + 1 }, () => rec) }, 'an answer\'s records over MAX_RECORDS_PER_MESSAGE')
  throwsWire(t, { type: 'ring.stabok', pred: null, succs: [{ id: 'x', addrs: [] }] }, 'bad peer in succs')
  throwsWire(t, { type: 'ring.stabok', pred: null, succs: 'no' }, 'succs not an array')
  throwsWire(t, { type: 'ring.stab', addrs: [1] }, 'an address not a string')
})
