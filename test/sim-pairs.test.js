// eachPair (sim/world.ts): the graph figures' walk over every link, each pair once whichever
// end lists it, against the plain way (a Set of "lower,higher" keys) on seeded random graphs
// with one-sided links, peers listed twice, dead nodes and nodes with no links.
import t from 'tap'
import { adjacency, eachPair } from '../lib/sim/world.js'
import { seededRandom } from '../lib/util/random.js'

function reference (live, near) {
  const seen = new Set()
  const out = []
  for (const i of live) {
    for (const j of near[i]) {
      const key = `${Math.min(i, j)},${Math.max(i, j)}`
      if (seen.has(key)) continue
      seen.add(key)
      out.push(key)
    }
  }
  return out.sort()
}

// The lists as the threads pack them ([i, count, j…] a node), split between `threads` packs.
function packed (live, near, n, threads = 1) {
  const parts = Array.from({ length: threads }, () => [])
  for (const i of live) parts[i % threads].push(i, near[i].length, ...near[i])
  return adjacency(n, parts.map(p => Int32Array.from(p)))
}

function randomGraph (rnd, n) {
  const live = []
  for (let i = 0; i < n; i++) if (rnd() < 0.8) live.push(i)
  // Live in a shuffled order, as the world's IndexedSet gives them.
  for (let i = live.length - 1; i > 0; i--) {
    const k = Math.floor(rnd() * (i + 1));
    [live[i], live[k]] = [live[k], live[i]]
  }
  const near = new Array(n)
  for (const i of live) near[i] = []
  for (const i of live) {
    for (const j of live) {
      if (i === j || rnd() > 0.2) continue
      near[i].push(j)
      if (rnd() < 0.7) near[j].push(i) // most links listed at both ends, some at one
      if (rnd() < 0.05) near[i].push(j) // now and then twice
    }
  }
  return { live, near }
}

t.test('each pair once, whichever end lists it', async t => {
  const rnd = seededRandom(11)
  for (let round = 0; round < 50; round++) {
    const n = 1 + Math.floor(rnd() * 40)
    const { live, near } = randomGraph(rnd, n)
    const got = []
    let backwards = 0
    eachPair(live, packed(live, near, n, 1 + round % 3), (a, b) => { if (!(a < b)) backwards++; got.push(`${a},${b}`) })
    t.equal(backwards, 0, 'lower end first')
    t.same(got.slice().sort(), reference(live, near), `graph ${round} (${n} nodes)`)
    t.equal(new Set(got).size, got.length, 'no pair twice')
  }
})

t.test('a link one end lists is counted from either end', async t => {
  const near = [[], [0], [], [0, 0, 1]] // 1 and 3 list 0 (3 twice); 3 lists 1; 0 lists nobody
  const got = []
  eachPair([3, 2, 1, 0], packed([3, 2, 1, 0], near, 4), (a, b) => got.push(`${a},${b}`))
  t.same(got.sort(), ['0,1', '0,3', '1,3'])
})

t.test('adjacency: each node list from whichever pack holds it, in order; none for the rest', async t => {
  const g = adjacency(5, [Int32Array.from([3, 2, 4, 0, 0, 0]), Int32Array.from([1, 3, 2, 2, 0])])
  const list = i => Array.from(g.adj.subarray(g.from[i], g.from[i + 1]))
  t.same([0, 1, 2, 3, 4].map(list), [[], [2, 2, 0], [], [4, 0], []])
})
