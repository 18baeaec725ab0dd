// RecordStore (src/ring/store.ts): what responsible nodes hold. Verified records only, newest seq
// wins (tombstones included), bounded per point (with a fair sample under a flood), per id and in
// total, expiry, and the records of an arc for handover.
import t from 'tap'
import { generateKeyPair } from '../lib/node/identity.js'
import { signRecord, tombstoneOf, pointOf, recordPoint, RECORD_TTL } from '../lib/ring/record.js'
import {
  RecordStore, MAX_RECORDS_PER_POINT, TENURE_KEEP, NEWEST_KEEP, MAX_SLOTS_PER_ID_AT_POINT, MAX_POINTS_PER_ID, MAX_STORED_RECORDS
} from '../lib/ring/store.js'
import { between } from '../lib/ring/ids.js'
import { seededRandom, randomHex } from '../lib/util/random.js'

const NET = 'peernet'
const NOW = 1_700_000_000_000
const key = n => generateKeyPair(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'))
const join = (kp, extra = {}) => signRecord(kp, { type: 'member', network: NET, name: 'chat', addresses: ['tcp://127.0.0.1:4000'], seq: 1, expires: NOW + RECORD_TTL, ...extra })
const store = (seed = 1, extra = {}) => new RecordStore({ network: NET, random: seededRandom(seed), ...extra })
/** Well-formed but unsigned records, for a store whose check is stubbed (volume tests). */
const fake = (id, name, extra = {}) => ({ type: 'member', network: NET, id, name, addresses: [], seq: 1, expires: NOW + 1000, sig: '0'.repeat(128), ...extra })
const trusting = seed => store(seed, { verify: () => null })
const CHAT = pointOf('member', NET, 'chat')

t.test('stores verified records, refuses the rest with the reason', async t => {
  const s = store()
  const A = key(1)
  const r = join(A)
  t.equal(s.put(r, NOW), null)
  t.same(s.get(CHAT, NOW), [r])
  t.match(s.put({ ...r, seq: 2 }, NOW), /signature/, 'a forged update')
  t.match(s.put(join(A, { network: 'other' }), NOW), /network/)
  t.match(s.put({ nonsense: true }, NOW), /type/)
  t.match(s.put(null, NOW), /object/)
  t.equal(s.size, 1)
  t.same(s.get(CHAT, r.expires), [], 'not returned once expired, even before a sweep')
})

t.test('newest seq wins; a tombstone hides the record and a replay cannot undo it; tombstones expire', async t => {
  const s = store()
  const A = key(1)
  const r1 = join(A, { seq: 1 })
  const r2 = join(A, { seq: 2, addresses: ['tcp://127.0.0.1:4001'] })
  t.equal(s.put(r1, NOW), null)
  t.equal(s.put(r2, NOW), null, 'a newer version replaces')
  t.same(s.get(CHAT, NOW), [r2])
  t.match(s.put(r1, NOW), /not newer/, 'the older one replayed')
  t.match(s.put(r2, NOW), /not newer/, 'the same one again')
  const tomb = tombstoneOf(A, r2, NOW + RECORD_TTL + 1000)
  t.equal(s.put(tomb, NOW), null)
  t.same(s.get(CHAT, NOW), [], 'withdrawn')
  t.equal(s.size, 1, 'the tombstone is held')
  t.match(s.put(r2, NOW), /not newer/, 'replaying the record cannot undo the withdrawal')
  t.same(s.recordsAt(CHAT), [tomb], 'replicas copy the tombstone')
  t.equal(s.sweep(r2.expires), 0, 'the tombstone outlives the record it withdrew')
  t.equal(s.sweep(tomb.expires), 1, 'and then goes')
  t.equal(s.size, 0)
  t.equal(s.pointCount, 0)
  t.equal(s.put(join(A, { seq: 9, expires: tomb.expires + 1000 }), tomb.expires), null, 'a later join is taken')
})

t.test('a flood of joins for one point keeps the members held longest and the newest', async t => {
  const s = store(3)
  const honest = []
  for (let i = 1; i <= 40; i++) {
    const r = join(key(i))
    honest.push(r.id)
    t.equal(s.put(r, NOW), null)
  }
  const flood = []
  for (let i = 1000; i < 2000; i++) {
    const r = join(key(i))
    flood.push(r.id)
    if (s.put(r, NOW) !== null) t.fail('a valid join is taken, evicting another')
  }
  const held = new Set(s.get(CHAT, NOW).map(r => r.id))
  t.equal(held.size, MAX_RECORDS_PER_POINT, 'capped at MAX_RECORDS_PER_POINT')
  t.equal(honest.filter(id => held.has(id)).length, 40, `all 40 earlier members are kept (within TENURE_KEEP = ${TENURE_KEEP})`)
  t.ok(flood.slice(-NEWEST_KEEP).every(id => held.has(id)), `the ${NEWEST_KEEP} newest are kept`)
  // A refresh keeps its tenure: a member that re-publishes is not a newcomer.
  const again = join(key(1), { seq: 2 })
  t.equal(s.put(again, NOW), null)
  for (let i = 2000; i < 2500; i++) s.put(join(key(i)), NOW)
  t.ok(s.get(CHAT, NOW).some(r => r.id === again.id && r.seq === 2), 'a refreshed member keeps its place')
})

t.test('an honest set larger than TENURE_KEEP: the extra members are a random sample, not all pushed out', async t => {
  const s = trusting(4)
  const id = i => i.toString(16).padStart(64, '0')
  for (let i = 0; i < 100; i++) s.put(fake(id(i), 'chat'), NOW)
  for (let i = 1000; i < 1100; i++) s.put(fake(id(i), 'chat'), NOW)
  const held = s.get(CHAT, NOW).map(r => parseInt(r.id, 16))
  t.equal(held.length, MAX_RECORDS_PER_POINT)
  t.equal(held.filter(i => i < TENURE_KEEP).length, TENURE_KEEP, 'the tenured are all there')
  t.ok(held.filter(i => i >= TENURE_KEEP && i < 100).length > 0, 'some later honest members survive the flood by chance')
})

t.test('per-id bounds: slots at a point, points per id; total bound', async t => {
  const s = store()
  const A = key(1)
  const svc = url => signRecord(A, { type: 'service', network: NET, name: 'stun', url, seq: 1, expires: NOW + 1000 })
  for (let i = 0; i < MAX_SLOTS_PER_ID_AT_POINT; i++) t.equal(s.put(svc(`stun:127.0.0.1:${i}`), NOW), null, `url ${i}`)
  t.match(s.put(svc('stun:127.0.0.1:99'), NOW), /MAX_SLOTS_PER_ID_AT_POINT/, 'one URL more')
  t.equal(s.put(signRecord(A, { type: 'service', network: NET, name: 'stun', url: 'stun:127.0.0.1:0', seq: 2, expires: NOW + 1000 }), NOW), null, 'an update of a held slot is fine')
  const t2 = trusting(5)
  const id = 'a'.repeat(64)
  for (let i = 0; i < MAX_POINTS_PER_ID; i++) t.equal(t2.put(fake(id, `s${i}`), NOW), null)
  t.match(t2.put(fake(id, 'one-more'), NOW), /MAX_POINTS_PER_ID/, 'one point more')
  t.equal(t2.put(fake(id, 's0', { seq: 2 }), NOW), null, 'updating a held point is fine')
  t.equal(t2.put(fake('b'.repeat(64), 'one-more'), NOW), null, 'another id is not limited by it')
})

t.test('MAX_STORED_RECORDS bounds the whole store', async t => {
  const s = trusting(6)
  const random = seededRandom(6)
  let n = 0
  let id = randomHex(random, 32)
  while (s.size < MAX_STORED_RECORDS) {
    if (n % MAX_POINTS_PER_ID === 0) id = randomHex(random, 32)
    if (s.put(fake(id, `n${n}`), NOW) !== null) t.fail('refused below the bound')
    n++
  }
  t.match(s.put(fake('c'.repeat(64), 'over'), NOW), /MAX_STORED_RECORDS/, 'one more is refused')
  t.equal(s.size, MAX_STORED_RECORDS)
  t.equal(s.sweep(NOW + 1000), MAX_STORED_RECORDS, 'all expire')
  t.equal(s.put(fake('c'.repeat(64), 'over', { expires: NOW + 5000 }), NOW + 1000), null, 'room again')
})

t.test('inRange gives the records of an arc (wrapping), prune drops points, pick is a fair sample', async t => {
  const s = trusting(7)
  const names = Array.from({ length: 200 }, (_, i) => `n${i}`)
  for (const name of names) s.put(fake('d'.repeat(64).slice(0, 63) + (name.length % 10), name), NOW)
  const a = 'c' + '0'.repeat(63)
  const b = '4' + '0'.repeat(63)
  const got = s.inRange(a, b)
  const want = [...s.heldPoints()].filter(p => between(p, a, b))
  t.ok(want.length > 20 && want.length < 180, 'the arc holds some points, not all')
  t.same(new Set(got.map(recordPoint)), new Set(want), 'exactly the points in (a, b], across the wrap')
  t.equal(s.prune(p => !between(p, a, b)), want.length, 'prune drops those points')
  t.equal(s.inRange(a, b).length, 0)

  const f = trusting(8)
  for (let i = 0; i < 50; i++) {
    const id = i.toString(16).padStart(64, '0')
    for (let u = 0; u < MAX_SLOTS_PER_ID_AT_POINT; u++) {
      f.put({ ...fake(id, 'stun', { type: 'service', url: `stun:127.0.0.1:${u}` }) }, NOW)
    }
  }
  const STUN = pointOf('service', NET, 'stun')
  t.equal(f.get(STUN, NOW).length, MAX_RECORDS_PER_POINT, '200 offers: the point is full')
  t.equal(new Set(f.get(STUN, NOW).map(r => r.id)).size, 50, 'every publisher kept: the ones with most URLs gave way')
  const five = f.pick(STUN, 5, NOW)
  t.equal(five.length, 5)
  t.equal(new Set(five.map(r => r.id)).size, 5, 'five distinct publishers, not one publisher\'s five URLs')
  t.equal(f.pick(STUN, 60, NOW).length, 60, 'more than one per id when asked for more than there are ids')
  t.equal(f.pick(STUN, 1000, NOW).length, MAX_RECORDS_PER_POINT, 'no more than held')
  t.equal(new Set(f.pick(STUN, 60, NOW).slice(0, 50).map(r => r.id)).size, 50, 'every id before any repeats')
  t.same(f.pick(STUN, 0, NOW), [])
})
