// IndexedSet: the same set whether it scans its array (up to SMALL_SET items) or keeps a
// position map (above), across the bound both ways.
import t from 'tap'
import { IndexedSet, SMALL_SET } from '../lib/table/indexed-set.js'
import { seededRandom, randomInt } from '../lib/util/random.js'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

t.test('a set grown past SMALL_SET and shrunk back agrees with a Set at every step', async t => {
  const random = seededRandom(5)
  const set = new IndexedSet()
  const ref = new Set()
  const n = SMALL_SET * 3
  let mapped = false
  const agree = what => {
    t.equal(set.size, ref.size, `${what}: size`)
    t.same([...set.values()].sort((a, b) => a - b), [...ref].sort((a, b) => a - b), `${what}: values`)
    t.ok(set.consistent(), `${what}: consistent`)
    if (set.pos !== null) mapped = true
  }
  for (let i = 0; i < n; i++) {
    set.add(i)
    set.add(i) // twice: still once
    ref.add(i)
  }
  agree('grown')
  t.ok(mapped, `a set of ${n} keeps a position map`)
  t.equal(set.has(n - 1), true)
  t.equal(set.has(n), false)
  while (ref.size > 0) {
    const x = [...ref][randomInt(random, ref.size)]
    t.equal(set.delete(x), true)
    t.equal(set.delete(x), false, 'deleting what is gone')
    ref.delete(x)
    t.equal(set.has(x), false)
    if (ref.size % 7 === 0) agree(`at ${ref.size}`)
  }
  t.equal(set.pos, null, 'small again: no position map')
  t.equal(set.pick(random), undefined, 'an empty set picks nothing')
})

t.test('pick draws every item of a large set', async t => {
  const random = seededRandom(9)
  const set = new IndexedSet()
  for (let i = 0; i < SMALL_SET + 1; i++) set.add('a' + i)
  const seen = new Set()
  for (let k = 0; k < 2000; k++) seen.add(set.pick(random))
  t.equal(seen.size, SMALL_SET + 1)
})

t.test('a small set holds its items at their size: no room kept for more', async t => {
  // A table keeps ~120 small sets a node (by source and dial group, ~6 slots each): their
  // arrays grown by a spread or a push held room for ~25 items each, 2.5 times the heap.
  // A full collection, on a flag set for this process (tap runs it without --expose-gc).
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc')
  const N = 20000
  const keep = []
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < N; i++) {
    const s = new IndexedSet()
    for (let k = 0; k < 6; k++) s.add(k)
    keep.push(s)
  }
  gc()
  const per = (process.memoryUsage().heapUsed - before) / N
  // The set (~40 B), its array (32 B) and six slots (16 + 48 B), and its place in `keep`.
  t.ok(per < 200, `${per.toFixed(0)} bytes a set of 6 (at their size: ~150; with room for 25: ~300)`)
  t.equal(keep.length, N)
})
