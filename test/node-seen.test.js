// The seen cache on its own: each entry counts against the share of the peer it came from; one
// peer past its share evicts its own oldest; past the global bound the largest share gives one
// up; everything expires.
import t from 'tap'
import { SeenCache } from '../lib/node/seen.js'

const keys = (prefix, n, from = 0) => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`)

t.test('one owner past its share evicts its own oldest, never another\'s', async t => {
  const now = 0
  const seen = new SeenCache(100, 5, 1000, () => now)
  for (const k of keys('b', 3)) seen.add(k, 'B', k)
  for (const k of keys('a', 20)) t.ok(seen.add(k, 'A', k))
  t.equal(seen.held('A'), 5)
  t.same(keys('a', 20).filter(k => seen.get(k) !== undefined), keys('a', 5, 15), 'A keeps its newest five')
  t.same(keys('b', 3).map(k => seen.get(k)), keys('b', 3), 'B keeps all of its own')
  t.equal(seen.size, 8)
})

t.test('past the global bound, the largest share gives up its oldest', async t => {
  const now = 0
  const seen = new SeenCache(10, 8, 1000, () => now)
  for (const k of keys('a', 8)) seen.add(k, 'A', k)
  for (const k of keys('b', 2)) seen.add(k, 'B', k)
  t.equal(seen.size, 10)
  t.ok(seen.add('c0', 'C', 'c0'))
  t.equal(seen.size, 10, 'one over: one out')
  t.same([seen.held('A'), seen.held('B'), seen.held('C')], [7, 2, 1])
  t.equal(seen.get('a0'), undefined, 'A, the largest, lost its oldest')
  for (const k of keys('c', 6, 1)) seen.add(k, 'C', k)
  t.same([seen.held('A'), seen.held('B'), seen.held('C')], [4, 2, 4], 'each entry over the bound costs the share that is largest at that moment')
  t.same(keys('b', 2).map(k => seen.get(k)), keys('b', 2), 'the small share is untouched')
})

t.test('a key is handled once whoever sends it, and counts for the first sender only', async t => {
  const now = 0
  const seen = new SeenCache(10, 5, 1000, () => now)
  t.ok(seen.add('q', 'A', 1))
  t.notOk(seen.add('q', 'B', 2))
  t.equal(seen.get('q'), 1)
  t.same([seen.held('A'), seen.held('B')], [1, 0])
})

t.test('entries expire after ttl; the shares with them', async t => {
  let now = 0
  const seen = new SeenCache(10, 8, 1000, () => now)
  for (const k of keys('a', 8)) seen.add(k, 'A', k)
  now = 500
  for (const k of keys('b', 2)) seen.add(k, 'B', k)
  now = 999
  t.equal(seen.get('a0'), 'a0')
  now = 1000
  t.equal(seen.get('a0'), undefined, 'gone at ttl')
  t.equal(seen.size, 2)
  t.same([seen.held('A'), seen.held('B')], [0, 2])
  // The largest share is now B's: crossing the bound again takes from it, not from the gone A.
  for (const k of keys('c', 8)) seen.add(k, 'C', k)
  t.ok(seen.add('d0', 'D', 'd0'))
  t.same([seen.held('B'), seen.held('C'), seen.held('D')], [2, 7, 1])
  now = 1500
  t.equal(seen.size, 8, 'B\'s entries went at their own ttl')
  now = 2000
  t.equal(seen.size, 0)
  t.ok(seen.add('a0', 'A', 'again'), 'an expired key is new again')
})
