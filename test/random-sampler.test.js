// SlotSampler: the same draws as sample() (the same calls of the random source, the same items
// in the same order), so the table's evictions and gossip answers stay what they were.
import t from 'tap'
import { SlotSampler, sample, seededRandom } from '../lib/util/random.js'

/** A source that counts its calls. */
function counted (seed) {
  const random = seededRandom(seed)
  const f = () => { f.calls++; return random() }
  f.calls = 0
  return f
}

t.test('draw() takes what sample() takes, with as many numbers drawn, reused call after call', async t => {
  const sampler = new SlotSampler()
  let cases = 0
  for (const n of [0, 1, 2, 7, 8, 9, 33, 64, 65, 200, 5000]) {
    const xs = Int32Array.from({ length: n }, (_, i) => i * 3 + 1)
    for (const k of [0, 1, 8, 64, 100]) {
      for (const seed of [1, 2, 3]) {
        const a = counted(seed * 1000 + n + k)
        const b = counted(seed * 1000 + n + k)
        const want = sample(a, xs, k)
        const got = sampler.draw(b, xs, k)
        t.same([...sampler.out.subarray(0, got)], [...want], `n ${n}, k ${k}, seed ${seed}: the same items`)
        t.equal(b.calls, a.calls, `n ${n}, k ${k}, seed ${seed}: the same draws`)
        cases++
      }
    }
  }
  t.equal(cases, 165)
})
