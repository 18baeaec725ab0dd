// The ring's id space (src/ring/ids.ts): arcs on the circle, distances and finger ranges, checked
// against a plain BigInt model on random ids and on every edge (wrap-around, a === b, x at an end).
import t from 'tap'
import {
  ID_BITS, between, betweenOpen, compareIds, distance, addPow2, fingerIndex, arcFraction,
  toBig, fromBig, isId, randomInRange
} from '../lib/ring/ids.js'
import { seededRandom, randomHex } from '../lib/util/random.js'

const RING = 1n << 256n
const big = x => BigInt('0x' + x)
const hex = n => ((n % RING + RING) % RING).toString(16).padStart(64, '0')
const ZERO = '0'.repeat(64)
const TOP = 'f'.repeat(64)
const MID = '8' + '0'.repeat(63)

/** (a, b] clockwise, from the definition: 0 < x − a ≤ b − a (mod 2^256), the whole ring when a = b. */
function modelBetween (x, a, b) {
  const dx = ((big(x) - big(a)) % RING + RING) % RING
  const db = ((big(b) - big(a)) % RING + RING) % RING
  return db === 0n ? true : dx > 0n && dx <= db
}
function modelOpen (x, a, b) {
  const dx = ((big(x) - big(a)) % RING + RING) % RING
  const db = ((big(b) - big(a)) % RING + RING) % RING
  return db === 0n ? dx !== 0n : dx > 0n && dx < db
}

t.test('between and betweenOpen agree with the modular model on random ids and their neighbours', async t => {
  const random = seededRandom(1)
  let bad = 0
  for (let i = 0; i < 3000; i++) {
    const a = randomHex(random, 32)
    const b = random() < 0.1 ? a : randomHex(random, 32)
    // x near the ends matters most: the ends themselves and their neighbours.
    const pick = [randomHex(random, 32), a, b, hex(big(a) + 1n), hex(big(b) + 1n), hex(big(b) - 1n), ZERO, TOP]
    for (const x of pick) {
      if (between(x, a, b) !== modelBetween(x, a, b)) bad++
      if (betweenOpen(x, a, b) !== modelOpen(x, a, b)) bad++
    }
  }
  t.equal(bad, 0, 'no disagreement')
})

t.test('arcs: the ends, wrap-around past the top, and a === b', async t => {
  const a = '1' + '0'.repeat(63)
  const b = '9' + '0'.repeat(63)
  t.notOk(between(a, a, b), 'a is outside (a, b]')
  t.ok(between(b, a, b), 'b is inside (a, b]')
  t.notOk(betweenOpen(b, a, b), 'b is outside (a, b)')
  t.ok(between(ZERO, b, a), 'an arc from 9… to 1… wraps past the top: 0 is in it')
  t.ok(between(TOP, b, a), 'and so is ff…f')
  t.notOk(between(MID, b, a), '8… is not')
  t.ok(between(a, a, a), '(a, a] is the whole ring: a node alone is responsible for everything')
  t.ok(between(b, a, a), 'every point')
  t.notOk(betweenOpen(a, a, a), '(a, a) is every point but a')
  t.ok(betweenOpen(b, a, a), '...and includes the rest')
  t.ok(between(ZERO, TOP, ZERO), '(top, 0] holds 0')
  t.notOk(between(TOP, TOP, ZERO), '(top, 0] does not hold top')
})

t.test('compareIds is numeric order', async t => {
  const random = seededRandom(2)
  for (let i = 0; i < 500; i++) {
    const a = randomHex(random, 32)
    const b = randomHex(random, 32)
    const want = big(a) < big(b) ? -1 : big(a) > big(b) ? 1 : 0
    if (compareIds(a, b) !== want) t.fail(`${a} vs ${b}`)
  }
  t.equal(compareIds(ZERO, ZERO), 0)
  t.equal(compareIds(ZERO, TOP), -1)
  t.equal(compareIds(TOP, ZERO), 1)
})

t.test('distance, toBig/fromBig and arcFraction', async t => {
  t.equal(distance(ZERO, TOP), RING - 1n, 'the long way round')
  t.equal(distance(TOP, ZERO), 1n, 'one step past the top wraps')
  t.equal(distance(MID, MID), 0n)
  t.equal(fromBig(toBig(TOP) + 1n), ZERO, 'fromBig wraps')
  t.equal(fromBig(-1n), TOP, 'and below zero')
  t.equal(arcFraction(ZERO, MID), 0.5)
  t.equal(arcFraction(MID, ZERO), 0.5, 'wraps')
  t.equal(arcFraction(MID, MID), 0)
  t.ok(Math.abs(arcFraction(TOP, '0'.repeat(12) + '1' + '0'.repeat(51))) < 1e-12, 'a tiny arc over the top is tiny')
  // Against the top 52 bits read as a number, for random ids and every hex digit in each place.
  const random = seededRandom(11)
  const top = x => Number(BigInt('0x' + x.slice(0, 13))) / 2 ** 52
  const reference = (a, b) => { const f = top(b) - top(a); return f < 0 ? f + 1 : f }
  const ids = []
  for (let k = 0; k < 200; k++) ids.push(randomHex(random, 32))
  for (const d of '0123456789abcdef') for (let i = 0; i < 13; i++) ids.push('0'.repeat(i) + d + 'f'.repeat(63 - i))
  let same = 0
  for (let k = 0; k < ids.length; k++) if (arcFraction(ids[k], ids[(k * 7 + 1) % ids.length]) === reference(ids[k], ids[(k * 7 + 1) % ids.length])) same++
  t.equal(same, ids.length, 'the same fraction as the top 52 bits parsed as a number, for every pair tried')
  t.ok(isId(ZERO) && !isId(ZERO.slice(1)) && !isId('G' + ZERO.slice(1)) && !isId(ZERO.toUpperCase().replace('0', 'A')), 'isId: 64 lowercase hex only')
})

t.test('addPow2 and fingerIndex: every range edge, and the index bounds', async t => {
  const random = seededRandom(3)
  for (let k = 0; k < 50; k++) {
    const n = randomHex(random, 32)
    for (const i of [0, 1, 7, 128, 254, 255]) {
      const start = addPow2(n, i)
      t.equal(start, hex(big(n) + (1n << BigInt(i))), `n + 2^${i}`)
      t.equal(fingerIndex(n, start), i, `n + 2^${i} is in range ${i}`)
      const last = hex(big(n) + (1n << BigInt(i + 1)) - 1n)
      t.equal(fingerIndex(n, last), i, `n + 2^${i + 1} − 1 is still in range ${i}`)
      if (i < 255) t.equal(fingerIndex(n, addPow2(n, i + 1)), i + 1, `n + 2^${i + 1} starts range ${i + 1}`)
    }
    t.equal(fingerIndex(n, n), -1, 'n itself is in no range')
  }
  t.equal(addPow2(TOP, 0), ZERO, 'wraps past the top')
  t.throws(() => addPow2(ZERO, -1), RangeError, 'index below 0')
  t.throws(() => addPow2(ZERO, ID_BITS), RangeError, 'index ID_BITS is out of the ring')
  t.doesNotThrow(() => addPow2(ZERO, ID_BITS - 1), 'ID_BITS − 1 is the last')
})

t.test('fingerIndex agrees with the bit length of the BigInt distance on random pairs', async t => {
  const random = seededRandom(4)
  let bad = 0
  for (let k = 0; k < 5000; k++) {
    const n = randomHex(random, 32)
    // Near pairs too: p sharing a long prefix with n (small distances, borrows across words).
    const p = random() < 0.5 ? randomHex(random, 32) : n.slice(0, Math.floor(random() * 64)) + randomHex(random, 32).slice(0, 64 - Math.floor(random() * 64))
    const q = p.slice(0, 64).padEnd(64, '0')
    const d = ((big(q) - big(n)) % RING + RING) % RING
    const want = d === 0n ? -1 : d.toString(2).length - 1
    if (fingerIndex(n, q) !== want) bad++
  }
  t.equal(bad, 0)
})

t.test('randomInRange draws from the lower half of finger range i, spread over it', async t => {
  const random = seededRandom(5)
  const n = randomHex(random, 32)
  t.equal(randomInRange(n, 0, random), addPow2(n, 0), 'range 0 holds one point')
  for (const i of [1, 2, 33, 64, 200, 255]) {
    const seen = new Set()
    for (let k = 0; k < 200; k++) {
      const p = randomInRange(n, i, random)
      const d = ((big(p) - big(n)) % RING + RING) % RING
      if (fingerIndex(n, p) !== i) t.fail(`range ${i}: ${p} is in range ${fingerIndex(n, p)}`)
      if (d >= (1n << BigInt(i)) + (1n << BigInt(i - 1))) t.fail(`range ${i}: past the lower half`)
      seen.add(p)
    }
    t.ok(seen.size >= (i > 8 ? 190 : 1), `range ${i}: ${seen.size} distinct points of 200`)
  }
})
