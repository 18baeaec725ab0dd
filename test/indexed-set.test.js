// IndexedSet: the same set whether it scans its array (up to SMALL_SET items) or keeps a
// position map (above), across the bound both ways.
import t from 'tap'
import { IndexedSet, SMALL_SET } from '../lib/table/indexed-set.js'
import { seededRandom, randomInt } from '../lib/util/random.js'

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
