// RoundTrip (src/ring/round-trip.ts): RFC 6298's retransmission timer over whole lookups, kept
// between the least and the most wait a node's lookups may have.
import t from 'tap'
import { RoundTrip } from '../lib/ring/round-trip.js'

const MIN = 1500
const MAX = 2500

t.test('no sample: the least wait; the first sets the round trip, and half of it as its variation', async t => {
  const r = new RoundTrip(MIN, MAX)
  t.equal(r.retryAfter, MIN)
  r.sample(200)
  t.equal(r.retryAfter, MIN, '200 + 4 × 100 is under the least: the least')
  const mid = new RoundTrip(MIN, MAX)
  mid.sample(700)
  t.equal(mid.retryAfter, 2100, '700 + 4 × 350')
  const slow = new RoundTrip(MIN, MAX)
  slow.sample(1000)
  t.equal(slow.retryAfter, MAX, '1000 + 4 × 500 is past the most: the most')
})

t.test('steady samples: the wait settles on the round trip; a varying one waits for its variation too', async t => {
  const steady = new RoundTrip(MIN, MAX)
  for (let i = 0; i < 100; i++) steady.sample(2000)
  t.ok(Math.abs(steady.retryAfter - 2000) < 1, `2 s round trips, no variation: ~2000 (${steady.retryAfter})`)
  const varying = new RoundTrip(MIN, MAX)
  for (let i = 0; i < 100; i++) varying.sample(i % 2 === 0 ? 1000 : 1400)
  const w = varying.retryAfter
  t.ok(w > 1400 && w <= MAX, `1.0 s and 1.4 s in turn: above the slower (${Math.round(w)})`)
})

t.test('bounds: the most is never passed, the least never undercut, and the wait follows the network both ways', async t => {
  const r = new RoundTrip(MIN, MAX)
  r.sample(60_000)
  t.equal(r.retryAfter, MAX, 'a minute: the most')
  for (let i = 0; i < 200; i++) r.sample(100)
  t.equal(r.retryAfter, MIN, 'then fast answers: back to the least')
  for (let i = 0; i < 200; i++) r.sample(2200)
  t.ok(r.retryAfter > 2190 && r.retryAfter <= MAX, 'then slow ones: up again')
})

t.test('a sample that is no time is ignored; bounds that make no wait are refused', async t => {
  const r = new RoundTrip(MIN, MAX)
  for (const bad of [NaN, -1, Infinity]) r.sample(bad)
  t.equal(r.retryAfter, MIN, 'nothing learned')
  r.sample(0)
  t.equal(r.retryAfter, MIN, 'an answer in no time counts (an answer at once)…')
  r.sample(2000)
  t.equal(r.retryAfter, 2000 / 8 + 4 * (2000 / 4), '…as the first sample, which the next moves from')
  t.throws(() => new RoundTrip(0, 10), RangeError)
  t.throws(() => new RoundTrip(10, 5), RangeError)
  t.doesNotThrow(() => new RoundTrip(10, 10))
})
