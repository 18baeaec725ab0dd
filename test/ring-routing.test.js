// RoutingTable (src/ring/routing.ts): one node's successors, predecessor, flexible fingers and
// routing decision, against brute-force models over random ids.
import t from 'tap'
import {
  RoutingTable, SUCCESSORS, REPLICAS, LINKED_SUCCESSORS, MIN_ESTIMATE, MAX_KNOWN, ringLinkBudget, ringInboundCap, RING_NEIGHBOUR_SLACK
} from '../lib/ring/routing.js'
import { between, betweenOpen, fingerIndex, distance, addPow2, fromBig, toBig, arcFraction } from '../lib/ring/ids.js'
import { seededRandom, randomHex } from '../lib/util/random.js'

const id = (hexDigit, rest = '0') => hexDigit + rest.repeat(63)
const ADDR = ['mem://x']

/** Ids sorted clockwise from self. */
function clockwiseFrom (self, ids) {
  return ids.slice().sort((a, b) => (distance(self, a) < distance(self, b) ? -1 : 1))
}

t.test('alone: responsible for everything, nowhere to send', async t => {
  const r = new RoutingTable(id('8'))
  t.ok(r.isResponsible(id('0')))
  t.ok(r.isResponsible(id('8')))
  t.same(r.nextHop(id('3')), { kind: 'self' })
  t.equal(r.successor(), null)
  t.equal(r.estimateN(), 1)
})

t.test('nextHop: the closest live link before the target, or the successor for its arc, or self', async t => {
  const random = seededRandom(11)
  for (let trial = 0; trial < 30; trial++) {
    const self = randomHex(random, 32)
    const r = new RoutingTable(self)
    const links = Array.from({ length: 5 + Math.floor(random() * 40) }, () => randomHex(random, 32))
    for (const l of links) r.linkUp(l, ADDR)
    const order = clockwiseFrom(self, links)
    const succ = order[0]
    const pred = order[order.length - 1]
    r.notified(pred)
    t.equal(r.successor(), succ, 'the nearest link is the successor')
    for (let k = 0; k < 200; k++) {
      const target = randomHex(random, 32)
      const hop = r.nextHop(target)
      if (between(target, pred, self)) {
        if (hop.kind !== 'self') t.fail(`target in (pred, self]: self, got ${JSON.stringify(hop)}`)
        continue
      }
      if (between(target, self, succ)) {
        if (hop.kind !== 'final' || hop.to !== succ) t.fail('target in (self, succ]: the successor')
        continue
      }
      // The model: of the links in (self, target), the one nearest the target.
      const before = order.filter(l => betweenOpen(l, self, target) || l === target)
      const want = before[before.length - 1]
      if (hop.to !== want) t.fail(`closest before ${target}: ${want}, got ${JSON.stringify(hop)}`)
      if (want === target ? hop.kind !== 'final' : hop.kind !== 'forward') t.fail('kind')
    }
  }
  t.pass('matches the model')
})

t.test('notify: a node is not taken for the predecessor while a live link lies between it and this node', async t => {
  const r = new RoutingTable(id('8'))
  r.linkUp(id('6'), ADDR)
  r.linkUp(id('2'), ADDR)
  t.equal(r.predecessor(), null, 'no predecessor known')
  t.notOk(r.notified(id('2')), '2… says it is: 6…, a live link, lies between')
  t.equal(r.predecessor(), null)
  t.ok(r.notified(id('6')), '6… says it is: taken')
  t.notOk(r.notified(id('4')), '4… is farther than the predecessor')
  t.ok(r.notified(id('7')), '7… is nearer: taken, linked or not')
  t.equal(r.predecessor(), id('7'))
})

t.test('an overshoot goes back to the predecessor, never round the ring; avoid is never chosen', async t => {
  const self = id('8')
  const r = new RoutingTable(self)
  r.linkUp(id('6'), ADDR)
  r.linkUp(id('a'), ADDR)
  r.linkUp(id('2'), ADDR)
  r.notified(id('6'))
  const target = id('5')
  const sender = id('2')
  t.same(r.nextHop(target, sender), { kind: 'final', to: id('6') }, 'the sender thought 8… held 5…: back to 6…')
  t.same(r.nextHop(target), { kind: 'forward', to: id('2') }, 'without the final mark, greedy (clockwise)')
  t.same(r.nextHop(target, id('6')), { kind: 'forward', to: id('2') }, 'never back to the sender itself')
  t.same(r.nextHop(id('b')), { kind: 'forward', to: id('a') }, 'a… is the closest link before b…')
  t.not(r.nextHop(id('b'), undefined, id('a')).to, id('a'), 'the avoided successor is passed over')
  t.not(r.nextHop(id('c'), undefined, id('a')).to, id('a'), 'and is not the closest link either')
  t.same(r.nextHop(target, sender, id('6')), { kind: 'self' }, 'the overshot target is the predecessor\'s, which is to be passed over: this node, next after it, answers')
  t.same(r.nextHop(target, sender, id('a')), { kind: 'final', to: id('6') }, 'passing over another node changes nothing')
})

t.test('a lookup never goes straight back to the node it came from (back), greedy or final', async t => {
  // The three-node ring of two nodes that only dial out (k1, k2) and one that listens (k0):
  // k2 cannot link to its true successor k1, so it holds k0 for it, and sends k0 a lookup for a
  // point in (k2, k1]; k0's closest link before that point is k2 itself. Sent back, the lookup
  // went to and fro until the loop check ended it; k0 must take its other link, k1.
  const [k1, k0, k2] = [id('3'), id('8'), id('c')]
  const r = new RoutingTable(k0)
  r.linkUp(k1, ADDR)
  r.linkUp(k2, ADDR)
  r.notified(k1)
  const point = id('1')
  t.same(r.nextHop(point), { kind: 'forward', to: k2 }, 'greedy, with nothing to pass over: k2 is closest before the point')
  t.not(r.nextHop(point, undefined, undefined, k2).to, k2, 'from k2: not back to it')
  t.same(r.nextHop(point, undefined, undefined, k2), { kind: 'final', to: k1 }, 'on to k1, which holds the point')
  t.same(r.nextHop(point, k2, undefined, k2), { kind: 'final', to: k1 }, 'the same for a final hop from k2')
  t.same(r.nextHop(k2, undefined, undefined, k2), { kind: 'final', to: k1 }, 'even for k2\'s own id: the lookup came from it')
})

t.test('successor list: nearest first, SUCCESSORS long, stabilised from the successor\'s answer', async t => {
  const self = id('1')
  const r = new RoutingTable(self)
  const ids = Array.from({ length: 40 }, (_, i) => fromBig(toBig(self) + BigInt(i + 1) * (1n << 240n)))
  r.linkUp(ids[0], ADDR)
  t.ok(r.stabilised(ids[0], self, ids.slice(1, 30)), 'its list becomes ours')
  t.same(r.successors(), ids.slice(0, SUCCESSORS), `the ${SUCCESSORS} nearest`)
  t.notOk(r.stabilised(ids[5], null, []), 'an answer from a node that is not the successor is ignored')
  const joiner = fromBig(toBig(self) + (1n << 239n))
  t.ok(r.stabilised(ids[0], joiner, ids.slice(1, 30)), 'the successor\'s predecessor between us is a nearer successor')
  t.equal(r.successor(), joiner)
  t.equal(r.successors().length, SUCCESSORS)
  r.linkUp(joiner, ADDR)
  t.ok(r.linkDown(joiner), 'losing the successor changes the list')
  t.equal(r.successor(), ids[0], 'the next one takes over')
  t.notOk(r.successors().includes(joiner))
  t.same(r.replicaTargets(), r.successors().slice(0, REPLICAS - 1), `REPLICAS − 1 = ${REPLICAS - 1} replica targets`)
  r.stabilised(ids[0], null, ids.slice(1, 30), x => x === ids[3])
  t.notOk(r.successors().includes(ids[3]), 'a node seen dead is left out')
})

t.test('predecessor: notify takes a nearer one only; a lost link clears it', async t => {
  const self = id('8')
  const r = new RoutingTable(self)
  t.ok(r.notified(id('2')))
  t.ok(r.notified(id('5')), 'nearer')
  t.notOk(r.notified(id('3')), 'further is refused')
  t.notOk(r.notified(self), 'never itself')
  t.ok(r.notified(id('7', 'f')), 'nearer still')
  t.ok(r.isResponsible(id('7', 'f') .replace(/f$/, 'e')) === false, 'a point before the predecessor is not ours')
  r.linkUp(id('7', 'f'), ADDR)
  t.ok(r.linkDown(id('7', 'f')))
  t.equal(r.predecessor(), null)
})

t.test('precedes: the nodes just before this one (a newcomer it is the successor of, the predecessors that list it among their linked successors), whom the ring cap lets in RING_NEIGHBOUR_SLACK more of', async t => {
  t.equal(RING_NEIGHBOUR_SLACK, LINKED_SUCCESSORS, 'room for each predecessor that links to this node as a successor')
  const self = id('8')
  const r = new RoutingTable(self)
  t.ok(r.precedes(id('1')) && r.precedes(id('9')), 'with no predecessor: any node (it may be the predecessor to come)')
  t.notOk(r.precedes(self), 'never itself')
  // SUCCESSORS successors spread over 1/1000 of the ring: N is estimated at about 16,000.
  const step = (1n << 256n) / 16_000n
  const succs = Array.from({ length: SUCCESSORS }, (_, k) => fromBig(toBig(self) + step * BigInt(k + 1)))
  r.linkUp(succs[0], ADDR)
  r.stabilised(succs[0], self, succs.slice(1))
  /** The id a fraction f of the ring before this node. */
  const back = f => fromBig(toBig(self) - BigInt(Math.round(f * 2 ** 52)) * (1n << 204n))
  t.ok(r.notified(back(0.25)), 'a predecessor far behind (the ring around it not settled yet)')
  t.ok(r.precedes(back(0.1)), 'between the predecessor and this node: a newcomer whose successor this is')
  t.notOk(r.precedes(back(0.3)), 'before the predecessor, and far: no')
  t.notOk(r.precedes(succs[3]), 'after this node: no')
  t.ok(r.notified(back(1 / 16_000 / 4)), 'the true predecessor, near')
  const n = r.estimateN()
  t.ok(n > 10_000 && n < 25_000, `N estimated at ${n}`)
  const arc = 2 * LINKED_SUCCESSORS / n
  t.ok(r.precedes(back(arc / 2)), 'between the predecessor and this node')
  const near = back(arc * 0.9)
  const far = back(arc * 1.1)
  t.ok(arcFraction(near, self) < arc && arcFraction(far, self) > arc)
  t.ok(r.precedes(near), 'before the predecessor, but within the arc of the nodes that link to this one as a successor')
  t.notOk(r.precedes(far), 'just past that arc: no')
})

t.test('a link closed with a goodbye: the node keeps its roles, known by address; a failed one leaves them', async t => {
  const self = id('8')
  const r = new RoutingTable(self)
  r.linkUp(id('9'), ['mem://nine'])
  r.linkUp(id('a'), ['mem://a'])
  r.notified(id('7'))
  r.linkUp(id('7'), ['mem://seven'])
  // Round the circle from 8: 9, a, then 7.
  t.same(r.successors(), [id('9'), id('a'), id('7')])
  t.notOk(r.linkDown(id('9'), false), 'a goodbye changes no role')
  t.same(r.successors(), [id('9'), id('a'), id('7')], 'still the successor')
  t.notOk(r.isLinked(id('9')), 'without a link')
  t.same(r.addressesOf(id('9')), ['mem://nine'], 'known by its address, to be linked again')
  r.linkDown(id('7'), false)
  t.equal(r.predecessor(), id('7'), 'still the predecessor')
  t.ok(r.linkDown(id('a')), 'a failed link')
  t.same(r.successors(), [id('9'), id('7')], 'leaves the successor list')
})

t.test('flexible fingers: any live link of a range fills it; ranges below the successors are not needed', async t => {
  const self = id('0')
  const r = new RoutingTable(self)
  const random = seededRandom(12)
  const links = Array.from({ length: 200 }, () => randomHex(random, 32))
  for (const l of links) r.linkUp(l, ADDR)
  const fingers = r.fingers()
  const low = r.lowestFinger()
  const linked = r.successors().slice(0, LINKED_SUCCESSORS)
  t.equal(low, fingerIndex(self, linked[linked.length - 1]), 'the lowest range is the last linked successor\'s')
  t.equal(fingers[0].range, low)
  t.equal(fingers[fingers.length - 1].range, 255)
  t.same(r.successors(), clockwiseFrom(self, links).slice(0, SUCCESSORS), 'links that came up in any order: the nearest, in order')
  for (const f of fingers) {
    const inRange = links.filter(l => fingerIndex(self, l) === f.range)
    if (inRange.length === 0) t.equal(f.id, null, `range ${f.range} empty`)
    else if (f.id !== clockwiseFrom(self, inRange)[0]) t.fail(`finger ${f.range} is the link in its range nearest its start`)
  }
  t.same(r.emptyRanges(() => false), fingers.filter(f => f.id === null).map(f => f.range), 'emptyRanges: the ranges fingers() shows empty')
  // A sparse table: four successors in ranges 100–103, then links in ranges 200 and 250 only.
  const sparse = new RoutingTable(self)
  for (const i of [100, 101, 102, 103, 200, 250]) sparse.linkUp(addPow2(self, i), ADDR)
  const empty = sparse.fingers().filter(f => f.id === null).map(f => f.range)
  t.same(empty, Array.from({ length: 153 }, (_, i) => 103 + i).filter(x => x !== 103 && x !== 200 && x !== 250), 'every range from the last linked successor\'s but the filled ones is empty')
  t.same(sparse.emptyRanges(() => false), empty, 'emptyRanges: the ranges fingers() shows empty')
  t.same(sparse.emptyRanges(x => x === 104 || x === 255), empty.filter(x => x !== 104 && x !== 255), 'but those skipped')
  const w = r.wanted()
  for (const f of fingers) if (f.id !== null && !w.has(f.id)) t.fail('fingers are wanted')
  for (const s of linked) t.ok(w.has(s), 'linked successors are wanted')
  t.ok(w.size < links.length, 'not every link is wanted: the rest may be dropped')
  t.equal(r.rangeOf(addPow2(self, 200)), 200)
})

t.test('estimateN from the successor list\'s spread; link budget', async t => {
  for (const N of [50, 1000, 10_000]) {
    const random = seededRandom(N)
    const ids = Array.from({ length: N }, () => randomHex(random, 32)).sort()
    const ests = []
    for (let i = 0; i < Math.min(200, N); i++) {
      const self = ids[i]
      const r = new RoutingTable(self)
      const next = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map(k => ids[(i + k) % N])
      r.linkUp(next[0], ADDR)
      r.stabilised(next[0], self, next.slice(1))
      r.notified(ids[(i - 1 + N) % N])
      ests.push(r.estimateN())
    }
    ests.sort((a, b) => a - b)
    const median = ests[ests.length >> 1]
    t.ok(median > N * 0.8 && median < N * 1.25, `N = ${N}: median estimate ${median}`)
  }
  t.equal(ringLinkBudget(1), ringLinkBudget(MIN_ESTIMATE), 'estimates below MIN_ESTIMATE count as it')
  t.equal(ringLinkBudget(10_000), Math.ceil(2 * Math.log2(10_000)) + SUCCESSORS)
  t.ok(ringLinkBudget(10_000) > ringLinkBudget(100), 'grows with N')
  t.equal(ringInboundCap(10_000), ringLinkBudget(10_000))
})

t.test('MAX_KNOWN bounds the nodes remembered without a link, keeping the successor list\'s', async t => {
  const self = id('1')
  const r = new RoutingTable(self)
  const random = seededRandom(13)
  const succ = fromBig(toBig(self) + 1n)
  r.linkUp(succ, ADDR)
  const list = Array.from({ length: 10 }, (_, i) => fromBig(toBig(self) + BigInt(i + 2)))
  r.stabilised(succ, null, list)
  for (const x of list) r.learn(x, ['mem://s'])
  for (let i = 0; i < MAX_KNOWN + 50; i++) r.learn(randomHex(random, 32), ADDR)
  t.equal(r.knownCount, MAX_KNOWN, 'bounded')
  t.ok(list.every(x => r.addressesOf(x)?.[0] === 'mem://s'), 'successor-list entries are kept, though learned first')
})

t.test('past MAX_KNOWN the node learned longest ago goes; heard of again at the same addresses it keeps its place, at new ones it is new', async t => {
  const r = new RoutingTable(id('1'))
  const random = seededRandom(14)
  const ids = Array.from({ length: MAX_KNOWN }, () => randomHex(random, 32))
  for (const x of ids) r.learn(x, ADDR)
  r.learn(ids[0], [...ADDR]) // the same addresses, in another list
  r.learn(ids[1], ['mem://moved'])
  r.learn(randomHex(random, 32), ADDR)
  t.equal(r.addressesOf(ids[0]), undefined, 'the first learned went, though heard of again')
  t.same(r.addressesOf(ids[1]), ['mem://moved'], 'the one at new addresses stays, with them')
  r.learn(randomHex(random, 32), ADDR)
  t.equal(r.addressesOf(ids[2]), undefined, 'then the next oldest')
  t.equal(r.knownCount, MAX_KNOWN)
})

t.test('closerOwner: a claim of responsibility checked against the links this node has', async t => {
  const r = new RoutingTable(id('0'))
  r.linkUp(id('5'), ADDR)
  r.linkUp(id('9'), ADDR)
  t.equal(r.closerOwner(id('4'), id('9')), id('5'), '5… lies between 4… and the claimed 9…')
  t.equal(r.closerOwner(id('4'), id('5')), null, 'the true owner passes')
  t.equal(r.closerOwner(id('5'), id('9')), id('5'), 'a node at the point itself owns it')
  t.equal(r.closerOwner(id('6'), id('9')), null)
})
