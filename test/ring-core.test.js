// RingCore (src/ring/protocol.ts) one node at a time, driven by hand: status and its events,
// TTL and loop protection, the asker's check of a false claim of responsibility, the ring link
// budget. Each peer here is a message written by the test.
import t from 'tap'
import { RingCore, checkAgrees, FINGER_EVERY, STAB_EVERY_MAX, TELL_DEPTH, JOIN_EVERY, CHECK_EVERY_MAX, CHECK_GROWTH, LOOKUP_TTL, LOOKUP_TIMEOUT, LOOKUP_RETRY, MAX_LOOKUP_RETRY, RING_LINK_SLACK, DEAD_ROUNDS, MAX_PENDING, MAX_ROUTES } from '../lib/ring/protocol.js'
import { ringLinkBudget } from '../lib/ring/routing.js'
import { generateKeyPair, idOf } from '../lib/node/identity.js'
import { addPow2, fingerIndex, fromBig, toBig } from '../lib/ring/ids.js'
import { validateRingMessage } from '../lib/wire/ring.js'
import { signRecord, recordPoint } from '../lib/ring/record.js'
import { seededRandom } from '../lib/util/random.js'

const NOW = 1_700_000_000_000
const QID = '00112233445566778899aabbccddeeff'
const hexId = d => d + '0'.repeat(63)

/** A core whose id starts with `first`, and what it sent, wanted and dropped. */
function core (first = '1', opts = {}) {
  let kp
  for (let i = 0; ; i++) {
    kp = generateKeyPair(Buffer.alloc(32, i))
    if (idOf(kp.publicKey)[0] === first) break
  }
  const out = { sent: [], wanted: [], dropped: [], events: [] }
  const c = new RingCore({
    keyPair: kp,
    network: 'peernet',
    random: seededRandom(1),
    addresses: () => ['mem://me'],
    now: NOW,
    send: (to, m) => out.sent.push({ to, m: validateRingMessage(JSON.parse(JSON.stringify(m))) }),
    wantLink: id => out.wanted.push(id),
    dropLink: id => out.dropped.push(id),
    ...opts
  })
  for (const ev of ['status', 'successor', 'predecessor']) c.on(ev, v => out.events.push([ev, v]))
  return { c, out }
}

const lookup = (extra = {}) => ({ type: 'ring.lookup', qid: QID, target: hexId('9'), at: hexId('9'), skip: 0, op: 'owner', hops: 1, ttl: LOOKUP_TTL, origin: { id: hexId('e'), addrs: [] }, ...extra })

t.test('status: lonely, unbalanced, joined, with events', async t => {
  const { c, out } = core('1')
  t.equal(c.status(), 'lonely')
  const B = hexId('8')
  c.linkUp(B, ['mem://b'])
  t.equal(c.status(), 'unbalanced', 'a link, but no successor that agrees yet')
  t.same(out.events.filter(e => e[0] === 'status'), [['status', { from: 'lonely', to: 'unbalanced' }]])
  t.ok(out.events.some(e => e[0] === 'successor' && e[1] === B), 'successor event')
  t.ok(out.events.some(e => e[0] === 'predecessor' && e[1] === B), 'predecessor event (a two-node ring)')
  c.linkUp(hexId('c'), ['mem://c'])
  c.receive(hexId('c'), { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [] })
  t.equal(c.status(), 'unbalanced', 'a stabilise answer from a link that is not the successor does not count')
  c.tick(NOW + 5000)
  const stab = out.sent.find(s => s.m.type === 'ring.stab')
  t.equal(stab?.to, B, 'a round stabilises with the successor')
  c.receive(B, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [] })
  t.equal(c.status(), 'joined', 'the successor names this node its predecessor')
  c.linkDown(B)
  c.linkDown(hexId('c'))
  t.equal(c.status(), 'lonely')
  t.equal(c.table.successor(), null)
  t.equal(c.table.predecessor(), null)
})

t.test('a node whose predecessor failed takes a new link for it only when it is the live link nearest before it', async t => {
  const { c } = core('5')
  c.linkUp(hexId('3'), [])
  c.linkUp(hexId('7'), [])
  t.equal(c.table.predecessor(), hexId('3'), 'its first link, before it')
  c.linkDown(hexId('3'))
  t.equal(c.table.predecessor(), null, 'failed')
  c.linkUp(hexId('6'), [])
  t.equal(c.table.predecessor(), null, 'a link just after this node is not taken for it (it would claim nearly the whole ring)')
  c.linkUp(hexId('4'), [])
  t.equal(c.table.predecessor(), hexId('4'), 'the live link nearest before it is')
})

t.test('messages from a node that is not a live link are ignored', async t => {
  const { c, out } = core('1')
  c.receive(hexId('8'), lookup())
  t.same(out.sent, [])
})

t.test('TTL: a lookup that has travelled its TTL is answered with an error, not forwarded', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  c.linkUp(S, [])
  c.linkUp(hexId('5'), [])
  c.receive(S, lookup({ hops: 4, ttl: 4 }))
  t.equal(out.sent.length, 1)
  t.equal(out.sent[0].to, S)
  t.match(out.sent[0].m.error, /TTL of 4 hops/)
  out.sent.length = 0
  c.receive(S, lookup({ qid: QID.replace('0', '1'), hops: 3, ttl: 4 }))
  t.equal(out.sent[0].m.type, 'ring.lookup', 'one hop less is forwarded')
  t.equal(out.sent[0].m.hops, 4)
})

t.test('loops: the same lookup twice is refused the second time', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  c.linkUp(S, [])
  c.linkUp(hexId('5'), [])
  c.receive(S, lookup())
  t.equal(out.sent[0].to, hexId('5'), 'forwarded to the closest link before the target')
  c.receive(hexId('5'), lookup({ hops: 9 }))
  t.match(out.sent[1].m.error, /routing loop/, 'coming round again: an error back')
  // The answer retraces the path, only from the hop it went to.
  const found = { type: 'ring.found', qid: QID, hops: 3, owner: { id: hexId('9'), addrs: [] }, pred: null }
  c.receive(S, found)
  t.equal(out.sent.length, 2, 'an answer from another link is dropped')
  c.receive(hexId('5'), found)
  t.same(out.sent[2], { to: S, m: found }, 'the answer goes back to where the lookup came from')
})

t.test('a lookup passed back by the node it went to (which does not hold the point yet) goes on from here; its answer takes the way back the route knew', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  const N = hexId('5')
  const L = hexId('7')
  for (const id of [S, N, L]) c.linkUp(id, [])
  // Joined: its successor agrees (a node never joined passes such a lookup back: see the next test).
  c.receive(N, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [] })
  t.equal(c.status(), 'joined')
  out.sent.length = 0
  c.receive(S, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch' }))
  t.same([out.sent[0].to, out.sent[0].m.final], [N, true], 'sent to the successor, as the responsible node')
  // N passes it on past itself (see Lookups.held): to its successor, which is this node's next.
  const past = fromBig(toBig(N) + 1n)
  c.receive(N, lookup({ target: hexId('3'), at: past, op: 'fetch', avoid: N, hops: 2 }))
  t.same([out.sent[1].to, out.sent[1].m.type, out.sent[1].m.at], [L, 'ring.lookup', past], 'not a routing loop: on to the node after N')
  c.receive(N, lookup({ target: hexId('3'), at: past, op: 'fetch', avoid: N, hops: 5 }))
  t.same([out.sent[2].to, out.sent[2].m.error], [N, 'routing loop'], 'passed back by N again, no longer its hop: a loop')
  const found = { type: 'ring.found', qid: QID, hops: 3, owner: { id: L, addrs: [] }, pred: N, replica: true }
  c.receive(N, found)
  t.equal(out.sent.length, 3, 'an answer from N, no longer the hop, is dropped')
  c.receive(L, found)
  t.same(out.sent[3], { to: S, m: found }, 'the answer goes back to where the lookup first came from')
})

/** A core linked to 3… and 6…, its lookup for 5… sent to 3…: a claim by 3… is checked with 6…. */
function claimed (op) {
  const { c, out } = core('1')
  const M = hexId('3')
  const T = hexId('6')
  c.linkUp(M, [])
  c.linkUp(T, [])
  // 6… came in between 3… and this node: 3… was told it has a nearer successor. Not counted below.
  out.sent.length = 0
  const got = { result: null }
  c.lookup(hexId('5'), op, (err, res) => { got.result = { err, res } })
  return { c, out, M, T, got, qid: out.sent[0].m.qid }
}

t.test('a node never joined passes back a lookup it would send on as `final` (its successor is a guess) to a node on the ring, which routes around it', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  const N = hexId('8')
  // S said in its hello that it is on the ring: it can route around this node.
  c.linkUp(S, [], true)
  c.linkUp(N, [])
  out.sent.length = 0
  c.receive(S, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch' }))
  t.same(out.sent.map(x => [x.to, x.m.type, x.m.final, x.m.avoid]), [[S, 'ring.lookup', undefined, c.id]], 'back to where it came from, this node to be avoided')
  c.receive(S, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch', avoid: c.id, qid: 'ff'.repeat(16) }))
  t.equal(out.sent[1].to, N, 'not when it is itself to be avoided (it was passed back to it): on as it would')
  c.receive(N, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [] })
  t.equal(c.status(), 'joined')
  c.receive(S, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch', qid: 'ee'.repeat(16) }))
  t.same([out.sent.at(-1).to, out.sent.at(-1).m.final], [N, true], 'once joined, on to its successor')
  // A node that did not say it is on the ring gets it on as before (it has no better way).
  const d = core('1')
  d.c.linkUp(S, [])
  d.c.linkUp(N, [])
  d.out.sent.length = 0
  d.c.receive(S, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch' }))
  t.same(d.out.sent.map(x => [x.to, x.m.final]), [[N, true]], 'from a node not on the ring: on to the successor, as before')

  // The node before it, with the lookup on a route: routes around it.
  const b = core('0')
  const X = hexId('e')
  b.c.linkUp(X, [])
  b.c.linkUp(c.id, [])
  b.c.linkUp(N, [])
  b.c.receive(c.id, { type: 'ring.stabok', pred: { id: b.c.id, addrs: [] }, succs: [] })
  t.equal(b.c.status(), 'joined')
  b.out.sent.length = 0
  b.c.receive(X, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch', qid: 'dd'.repeat(16) }))
  t.same(b.out.sent.map(x => x.to), [c.id], 'sent to the node nearest before the target')
  b.c.receive(c.id, lookup({ target: hexId('3'), at: hexId('3'), op: 'fetch', qid: 'dd'.repeat(16), avoid: c.id, hops: 2 }))
  t.same(b.out.sent.slice(1).map(x => [x.to, x.m.final]), [[N, true]], 'passed back: on to the next node, around it')

  // The node's own lookup (a search from the node just before the newcomer): the same, and its answer is taken.
  const o = core('0')
  o.c.linkUp(c.id, [])
  o.c.linkUp(N, [])
  o.c.receive(c.id, { type: 'ring.stabok', pred: { id: o.c.id, addrs: [] }, succs: [] })
  o.out.sent.length = 0
  const got = []
  o.c.lookup(hexId('3'), 'owner', (err, res) => got.push([err, res?.owner.id]))
  const first = o.out.sent.find(x => x.m.type === 'ring.lookup')
  t.equal(first.to, c.id, 'its own lookup goes to the newcomer, nearest before the target')
  o.c.receive(c.id, { ...first.m, avoid: c.id, hops: 2 })
  const on = o.out.sent.filter(x => x.m.type === 'ring.lookup').at(-1)
  t.same([on.to, on.m.final], [N, true], 'passed back to its origin: on to the next node, around it')
  o.c.receive(N, { type: 'ring.found', qid: first.m.qid, hops: 3, owner: { id: N, addrs: [] }, pred: o.c.id })
  t.same(got, [[null, N]], 'and the next node\'s answer ends the lookup')
})

t.test('a false claim of responsibility: the asker asks the closer node it knows', async t => {
  const { c, out, M, T, got, qid } = claimed('owner')
  t.equal(out.sent[0].to, M, 'routed to the closest link before the target')
  c.receive(M, { type: 'ring.found', qid, hops: 1, owner: { id: M, addrs: [] }, pred: null })
  t.equal(got.result, null, 'the claim is not taken: 6… lies between the target and 3…')
  t.equal(out.sent[1].to, T)
  t.equal(out.sent[1].m.final, true)
  c.receive(T, { type: 'ring.found', qid, hops: 1, owner: { id: T, addrs: [] }, pred: hexId('2') })
  t.equal(got.result.res.owner.id, T, 'the node that owns it answers')
})

t.test('the closer node\'s answer is taken with what the first held (newest of each slot), and the first stands when the closer fails', async t => {
  const keys = [1, 2, 3].map(i => generateKeyPair(Buffer.alloc(32, 100 + i)))
  const rec = (kp, seq, tombstone = false) => signRecord(kp, { type: 'member', network: 'peernet', name: 'chat', addresses: [], seq, expires: NOW + 60_000, tombstone })
  const [a1, b1, b2, c1] = [rec(keys[0], 1), rec(keys[1], 1), rec(keys[1], 2, true), rec(keys[2], 1)]
  for (const closerFails of [false, true]) {
    const { c, out, M, T, got, qid } = claimed('fetch')
    c.receive(M, { type: 'ring.found', qid, hops: 2, owner: { id: M, addrs: [] }, pred: null, records: [a1, b1] })
    t.equal(out.sent[1].to, T, 'the closer node is asked')
    if (closerFails) {
      c.receive(T, { type: 'ring.found', qid, hops: 1, owner: { id: T, addrs: [] }, pred: null, error: 'routing loop' })
      t.same([got.result.err, got.result.res.owner.id, got.result.res.records], [null, M, [a1, b1]], 'the closer failed: the first answer stands')
    } else {
      // A node that joined a moment ago: it holds b's withdrawal and c, not a.
      c.receive(T, { type: 'ring.found', qid, hops: 1, owner: { id: T, addrs: [] }, pred: hexId('2'), records: [b2, c1] })
      t.equal(got.result.res.owner.id, T, 'the closer node is the owner')
      t.same(new Set(got.result.res.records.map(r => r.sig)), new Set([b2, c1, a1].map(r => r.sig)), 'with the records of both, the tombstone over the record it withdrew')
    }
  }
})

t.test('a node not joined yet routes its lookups on guesses: never `final`, and never answered by itself, retries included', async t => {
  const { c, out } = core('1')
  const A = hexId('3')
  const B = hexId('9')
  c.linkUp(A, [])
  c.linkUp(B, [])
  t.not(c.status(), 'joined')
  let result = null
  c.lookup(hexId('2'), 'fetch', (err, res) => { result = { err, res } })
  const first = out.sent.at(-1)
  t.equal(first.to, A, 'to the link it takes for its successor...')
  t.notOk(first.m.final, '...as routed, not as final: that link may lie far past the target')
  // A target this node's guessed predecessor puts in its own arc: asked of a random link, around
  // this node; when that link goes down, sent again over the other, not answered here.
  c.lookup(hexId('0'), 'fetch', (err, res) => { result = { err, res } })
  const own = out.sent.at(-1)
  t.same([own.m.avoid, own.m.final], [c.id, undefined], 'asked of a link, around this node')
  c.linkDown(own.to)
  t.equal(result, null, 'not answered by this node when its link went down')
  const again = out.sent.at(-1)
  t.same([again.to, again.m.type, again.m.avoid], [own.to === A ? B : A, 'ring.lookup', c.id], 'sent again over the other link, around this node')
})

t.test('a node not joined yet asks the ring through a link whose peer said it is on the ring (reachesRing), around itself', async t => {
  const { c, out } = core('1')
  const A = hexId('3')
  const J = hexId('5')
  const K = hexId('c')
  c.linkUp(A, [])
  t.notOk(c.reachesRing(), 'a link to a node that did not say it is on the ring: a search floods')
  c.linkUp(J, [], true)
  c.linkUp(K, [], true)
  t.not(c.status(), 'joined')
  t.ok(c.reachesRing(), 'a link to a node on the ring: a search may ask the ring')
  t.same(new Set(c.onRingLinks()), new Set([J, K]))
  c.lookup(hexId('4'), 'fetch', () => {})
  const sent = out.sent.at(-1)
  t.same([sent.to, sent.m.avoid, sent.m.final], [K, c.id, undefined], 'through the on-ring link nearest before the target (not A, its own greedy hop), as routed, around this node')
  c.lookup(hexId('7'), 'fetch', () => {})
  t.equal(out.sent.at(-1).to, J, 'another target, the on-ring link nearest before it')
  c.linkDown(J)
  c.linkDown(K)
  t.notOk(c.reachesRing(), 'the on-ring links went down: a search floods again')
  t.same(c.onRingLinks(), [])
  c.lookup(hexId('4'), 'fetch', () => {})
  t.equal(out.sent.at(-1).to, A, 'and a lookup takes its own way, as before')
  c.linkUp(J, [])
  t.notOk(c.reachesRing(), 'a link that comes up again without the word is not on the ring')
})

t.test('a new node sends its first join lookup at the round after its first link, not JOIN_EVERY rounds on', async t => {
  const { c, out } = core('1')
  const joins = () => out.sent.filter(s => s.m.type === 'ring.lookup' && s.m.op === 'owner' && s.m.target === addPow2(c.id, 0)).length
  c.linkUp(hexId('8'), ['mem://b'])
  c.linkUp(hexId('c'), ['mem://c'])
  c.tick(NOW + 5000)
  t.equal(joins(), 1, `round 1 (not ${JOIN_EVERY}): its successor looked up through a link`)
  c.tick(NOW + 10_000)
  t.equal(joins(), 2, `then every ${JOIN_EVERY} rounds until it is joined`)
})

t.test('a joined node\'s checks of its successor spread out to CHECK_EVERY_MAX rounds, and a spell unbalanced does not start them over; one that disagrees does', async t => {
  const { c, out } = core('1')
  const S = hexId('8')
  const P = hexId('e')
  c.linkUp(S, [])
  c.linkUp(P, [])
  let agree = true
  let owner = S
  const checks = []
  const run = (from, to) => {
    for (let r = from; r <= to; r++) {
      out.sent.length = 0
      c.tick(NOW + r * 5000)
      for (const { to: via, m } of out.sent) {
        if (m.type === 'ring.stab') c.receive(via, { type: 'ring.stabok', pred: { id: agree ? c.id : hexId('0'), addrs: [] }, succs: [] })
        if (m.type === 'ring.lookup' && m.target === addPow2(c.id, 0)) {
          checks.push(r)
          c.receive(via, { type: 'ring.found', qid: m.qid, hops: 2, owner: { id: owner, addrs: [] }, pred: c.id })
        }
      }
    }
  }
  run(1, 80)
  t.equal(c.status(), 'joined')
  const gaps = checks.slice(1).map((r, i) => r - checks[i])
  t.equal(gaps.at(-1), CHECK_EVERY_MAX, `the gap grows to CHECK_EVERY_MAX (${gaps})`)
  t.same(gaps.filter(g => g > JOIN_EVERY).slice(0, 2), [JOIN_EVERY * CHECK_GROWTH, CHECK_EVERY_MAX], `by CHECK_GROWTH (${CHECK_GROWTH}) a check that agrees`)
  const last = checks.at(-1)
  checks.length = 0
  agree = false // the successor takes another node for its predecessor a while: unbalanced
  run(81, 86)
  t.equal(c.status(), 'unbalanced')
  t.ok(checks.length >= 2, 'unbalanced, it looks its successor up every JOIN_EVERY rounds')
  agree = true
  run(87, last + CHECK_EVERY_MAX - 1)
  t.equal(c.status(), 'joined')
  t.same(checks.filter(r => r > 87), [], 'joined again: no check before its gap is out')
  owner = hexId('4') // the ring names a node nearer than its successor
  checks.length = 0
  run(last + CHECK_EVERY_MAX, last + 3 * CHECK_EVERY_MAX)
  t.ok(checks.length >= 3 && checks[2] - checks[1] === JOIN_EVERY, `a check that disagrees starts the gap over (${checks})`)
})

t.test('checkAgrees: a check bears out the successor unless it names a node nearer than it', async t => {
  const self = hexId('1')
  const succ = hexId('8')
  t.ok(checkAgrees(self, succ, succ), 'the successor itself')
  t.ok(checkAgrees(self, succ, hexId('9')), 'a node past it: the others do not know the successor yet')
  t.ok(checkAgrees(self, succ, hexId('0')), 'past it, the ring wrapped')
  t.notOk(checkAgrees(self, succ, hexId('5')), 'a node between this one and its successor: one it missed')
  t.notOk(checkAgrees(self, null, succ), 'no successor to bear out')
  t.ok(checkAgrees(hexId('e'), hexId('2'), hexId('3')), 'across the top of the ring, past the successor')
  t.notOk(checkAgrees(hexId('e'), hexId('2'), hexId('f')), 'across the top of the ring, before the successor')
})

t.test('a lookup that gets no answer fails at LOOKUP_TIMEOUT, retried in between', async t => {
  const { c, out } = core('1')
  c.linkUp(hexId('5'), [])
  c.linkUp(hexId('c'), [])
  let result = null
  c.lookup(hexId('9'), 'owner', err => { result = err })
  c.tick(NOW + LOOKUP_TIMEOUT - 1)
  t.equal(result, null, 'not yet')
  t.ok(out.sent.filter(s => s.m.type === 'ring.lookup').length >= 2, 'sent again past the silent node')
  c.tick(NOW + LOOKUP_TIMEOUT)
  t.match(result?.message, /timed out/)
})

/**
 * A core with a live link in every finger range but R (the one range a finger refresh can pick),
 * and K, in R, known by address (as a successor list names it).
 */
function oneEmptyRange () {
  const { c, out } = core('1')
  const R = 200
  for (let i = 0; i < 256; i++) if (i !== R) c.linkUp(addPow2(c.id, i), [])
  const K = addPow2(addPow2(c.id, R), 3)
  c.table.learn(K, ['mem://k'])
  const inR = () => out.sent.filter(s => s.m.type === 'ring.lookup' && fingerIndex(c.id, s.m.target) === R)
  let now = NOW
  const rounds = n => { for (let i = 0; i < n; i++) c.tick(now += 5000) }
  return { c, out, R, K, inR, rounds }
}

t.test('a finger range with a node known by address is filled by asking for that node, a lookup only once it fails', async t => {
  const { c, out, R, K, inR, rounds } = oneEmptyRange()
  t.equal(fingerIndex(c.id, K), R)
  rounds(FINGER_EVERY)
  t.ok(out.wanted.includes(K), 'the known node is asked for')
  t.same(inR(), [], 'with no lookup for its range')
  // The dial failed: the node is forgotten, and the next refresh looks the range up.
  c.linkDown(K)
  rounds(FINGER_EVERY)
  t.equal(inR().length, 1, 'a lookup for the range')
  t.equal(out.wanted.filter(id => id === K).length, 1, 'the failed node is not asked for again')
})

t.test('a known node seen going down is not asked for to fill a finger range: the range is looked up', async t => {
  const { c, out, K, inR, rounds } = oneEmptyRange()
  c.linkUp(K, ['mem://k'])
  c.linkDown(K) // its link failed: K is marked dead
  c.table.learn(K, ['mem://k']) // and named again by a successor's list that has not caught up
  rounds(FINGER_EVERY)
  t.notOk(out.wanted.includes(K), 'not asked for')
  t.equal(inR().length, 1, 'the range is looked up')
})

t.test('a known node asked for once to fill a finger range, whose link never comes, is not asked again: the range is looked up', async t => {
  const { out, K, inR, rounds } = oneEmptyRange()
  rounds(FINGER_EVERY)
  t.same(out.wanted.filter(id => id === K).length, 1, 'asked for')
  // No link came, and no failure either: K is still known, and past WANT_RETRY rounds.
  rounds(FINGER_EVERY)
  t.equal(out.wanted.filter(id => id === K).length, 1, 'not asked for again')
  t.equal(inR().length, 1, 'the range is looked up instead')
})

t.test('ring link budget: fingers learned from passing lookups are asked for up to the budget, no more', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  c.linkUp(S, [])
  c.linkUp(addPow2(c.id, 0), []) // the successor, right after this node: no origin is nearer
  const budget = ringLinkBudget(c.table.estimateN())
  const before = out.wanted.length
  // Origins in distinct empty finger ranges: each is worth a finger.
  for (let i = 0; i < budget + 10; i++) {
    const origin = addPow2(c.id, 250 - i)
    c.receive(S, lookup({ qid: (i + 1).toString(16).padStart(32, '0'), origin: { id: origin, addrs: ['mem://o'] }, target: c.id, at: c.id }))
  }
  const asked = out.wanted.length - before
  t.equal(c.ringLinks, asked)
  t.equal(asked, budget, `asked for ${asked} links: the budget, ${budget}`)
})

t.test('successor candidates may pass the budget by RING_LINK_SLACK, no more', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  c.linkUp(S, [])
  const budget = ringLinkBudget(c.table.estimateN())
  // Every origin lies between this node and its successor (0…, across the top): each would be
  // a nearer successor, so each is asked for, up to the slack.
  for (let i = 0; i < budget + RING_LINK_SLACK + 10; i++) {
    const origin = addPow2(c.id, 250 - i)
    c.receive(S, lookup({ qid: (i + 1).toString(16).padStart(32, '0'), origin: { id: origin, addrs: ['mem://o'] }, target: c.id, at: c.id }))
  }
  t.equal(out.wanted.length, budget + RING_LINK_SLACK)
})

t.test('ring.store copies are kept only for points the node may hold', async t => {
  const { c } = core('1')
  // A ring of many nodes as this one sees it: a predecessor 1/64 of the ring back, and a full
  // successor list close after it (so N is estimated large, and the replica arc is small).
  const S = fromBig(toBig(c.id) - (1n << 250n))
  c.linkUp(S, [])
  const succs = Array.from({ length: 16 }, (_, k) => fromBig(toBig(c.id) + BigInt(k + 1) * (1n << 240n)))
  c.linkUp(succs[0], [])
  c.receive(succs[0], { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: succs.slice(1).map(id => ({ id, addrs: [] })) })
  t.ok(c.table.estimateN() > 1000)
  const kp = generateKeyPair(Buffer.alloc(32, 77))
  // Names whose points fall in and out of this node's arc.
  const mk = name => signRecord(kp, { type: 'member', network: 'peernet', name, addresses: [], seq: 1, expires: NOW + 60_000 })
  let inside, outside
  for (let i = 0; (inside === undefined || outside === undefined) && i < 10_000; i++) {
    const r = mk(`n${i}`)
    if (c.mayHold(recordPoint(r)) && c.table.isResponsible(recordPoint(r))) inside ??= r
    else if (!c.mayHold(recordPoint(r))) outside ??= r
  }
  c.receive(S, { type: 'ring.store', records: [inside, outside] })
  t.equal(c.store.size, 1)
  t.same(c.store.recordsAt(recordPoint(inside)), [inside], 'the one in its arc')
})

t.test('a node seen gone is not taken back from a successor\'s list for DEAD_ROUNDS rounds', async t => {
  const { c } = core('1')
  const S = fromBig(toBig(c.id) + 1n)
  const X = fromBig(toBig(c.id) + 2n)
  const Y = fromBig(toBig(c.id) + 3n)
  c.linkUp(S, [])
  const stabok = () => c.receive(S, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: X, addrs: ['mem://x'] }, { id: Y, addrs: ['mem://y'] }] })
  stabok()
  t.same(c.table.successors(), [S, X, Y])
  c.linkDown(X) // the dial failed
  t.same(c.table.successors(), [S, Y], 'X leaves the list')
  stabok()
  t.same(c.table.successors(), [S, Y], 'the successor still lists X: not believed')
  let now = NOW
  for (let r = 0; r < DEAD_ROUNDS; r++) c.tick(now += 5000)
  stabok()
  t.same(c.table.successors(), [S, X, Y], `after DEAD_ROUNDS (${DEAD_ROUNDS}) rounds it is believed again`)
})

t.test('a node whose link went down and came back up is believed at once: its own stabilise answer keeps it the successor', async t => {
  const { c } = core('1')
  const S = fromBig(toBig(c.id) + 1n)
  c.linkUp(S, [])
  c.linkDown(S) // a duplicate link replaced, or a first dial that failed
  c.linkUp(S, []) // and the link is up again
  t.same(c.table.successors(), [S])
  c.receive(S, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [] })
  t.same(c.table.successors(), [S], 'the live successor stays in the list (it was left with none, and the node never joined)')
  t.equal(c.status(), 'joined')
})

t.test('a joined node whose successor\'s answers change nothing stabilises every 2, then every STAB_EVERY_MAX rounds; a new successor, every round again', async t => {
  const { c, out } = core('1')
  const S = hexId('8')
  c.linkUp(S, [])
  const stabRounds = (from, to) => {
    const rounds = []
    for (let r = from; r <= to; r++) {
      out.sent.length = 0
      c.tick(NOW + r * 5000)
      for (const s of out.sent) {
        if (s.m.type !== 'ring.stab') continue
        rounds.push(r)
        // The successor's answer: this node is its predecessor, nothing else moved.
        c.receive(s.to, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [] })
      }
    }
    return rounds
  }
  t.equal(STAB_EVERY_MAX, 4)
  t.same(stabRounds(1, 16), [1, 3, 7, 11, 15], 'the gap after each answer doubles from 1 to STAB_EVERY_MAX')
  t.equal(c.status(), 'joined')
  const N = hexId('4') // a nearer successor
  c.linkUp(N, [])
  t.equal(c.table.successor(), N)
  t.same(stabRounds(17, 20), [17, 19], 'a new successor is stabilised with at the next round, then the gap grows again')
})

t.test('an answer that moves the list, or names another predecessor, keeps the stabilise every round', async t => {
  const { c, out } = core('1')
  const S = hexId('8')
  c.linkUp(S, [])
  const X = hexId('9')
  let round = 0
  const next = () => {
    out.sent.length = 0
    c.tick(NOW + ++round * 5000)
    return out.sent.some(s => s.m.type === 'ring.stab' && s.to === S)
  }
  t.ok(next())
  c.receive(S, { type: 'ring.stabok', pred: { id: hexId('0'), addrs: [] }, succs: [] })
  t.ok(next(), 'its predecessor is another node: every round')
  c.receive(S, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: X, addrs: ['mem://x'] }] })
  t.ok(next(), 'its list moved this node\'s: every round')
  c.receive(S, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: X, addrs: ['mem://x'] }] })
  t.notOk(next(), 'nothing moved: the next stabilise is 2 rounds on')
  t.ok(next())
})

t.test('a successor tells the predecessor a newcomer displaced, once the newcomer stabilises (not at its link)', async t => {
  const { c, out } = core('5')
  const P = hexId('2')
  const Q = hexId('4')
  c.linkUp(P, ['mem://p'])
  t.equal(c.table.predecessor(), P)
  out.sent.length = 0
  c.linkUp(Q, ['mem://q'])
  t.equal(c.table.predecessor(), Q, 'the live link nearest before it')
  t.same(out.sent.filter(s => s.to === P), [], 'a link alone (any peer can make one) tells P nothing')
  c.receive(Q, { type: 'ring.stab', addrs: ['mem://q'] })
  const toP = out.sent.filter(s => s.to === P)
  t.equal(toP.length, 1, 'Q stabilised here: P is told')
  t.equal(toP[0].m.type, 'ring.stabok')
  t.same(toP[0].m.pred, { id: Q, addrs: ['mem://q'] }, 'that Q is the predecessor now')
  t.ok(out.sent.some(s => s.to === Q && s.m.type === 'ring.stabok'), 'Q gets its answer')
  out.sent.length = 0
  c.receive(Q, { type: 'ring.stab', addrs: ['mem://q'] })
  t.same(out.sent.filter(s => s.to === P), [], 'once')
})

t.test('a displaced predecessor whose link is gone is not told (nothing is sent to a node not linked)', async t => {
  const { c, out } = core('5')
  const P = hexId('2')
  const Q = hexId('4')
  c.linkUp(P, ['mem://p'])
  c.linkUp(Q, ['mem://q'])
  c.linkDown(P) // P died before Q stabilised here
  out.sent.length = 0
  c.receive(Q, { type: 'ring.stab', addrs: ['mem://q'] })
  t.same(out.sent.map(s => s.to), [Q], 'only Q gets an answer')
})

t.test('a node tells its predecessor when its successor list moves, at most once a round', async t => {
  const { c, out } = core('5')
  const P = hexId('2')
  c.linkUp(P, [])
  c.linkUp(hexId('8'), [])
  c.tick(NOW + 1000) // its links moved its list: said within round 0
  c.tick(NOW + 5000)
  out.sent.length = 0
  c.tick(NOW + 5100)
  t.same(out.sent.filter(s => s.to === P), [], 'nothing moved: nothing said')
  c.linkUp(hexId('7'), [])
  c.tick(NOW + 5200)
  const told = out.sent.filter(s => s.to === P && s.m.type === 'ring.stabok')
  t.equal(told.length, 1, 'a nearer successor: the predecessor hears the list')
  t.same(told[0].m.succs.map(p => p.id), [hexId('7'), hexId('8')], 'its list but the last (P, past the wrap), as a stabilise answer')
  out.sent.length = 0
  c.linkUp(hexId('9'), [])
  c.tick(NOW + 5300)
  t.same(out.sent.filter(s => s.to === P), [], 'not twice in a round')
  c.tick(NOW + 10000)
  t.same(out.sent.filter(s => s.to === P && s.m.type === 'ring.stabok').map(s => s.m.succs.map(p => p.id)), [[hexId('7'), hexId('8'), hexId('9')]], 'the next round')
})

t.test('a change past the first TELL_DEPTH successors is not told: it waits for the predecessor\'s own stabilise', async t => {
  const { c, out } = core('5')
  const P = hexId('2')
  const at = k => fromBig(toBig(c.id) + BigInt(k))
  c.linkUp(P, [])
  for (let k = 1; k <= TELL_DEPTH + 3; k++) c.linkUp(at(10 * k), [])
  c.tick(NOW + 5000)
  c.tick(NOW + 10000)
  out.sent.length = 0
  c.linkUp(at(10 * TELL_DEPTH + 5), []) // between the TELL_DEPTH-th successor and the next
  t.equal(c.table.successors().indexOf(at(10 * TELL_DEPTH + 5)), TELL_DEPTH, 'just past the first TELL_DEPTH')
  c.tick(NOW + 10100)
  t.same(out.sent.filter(s => s.to === P), [], 'not told')
  c.linkUp(at(10 * (TELL_DEPTH - 1) + 5), [])
  t.equal(c.table.successors().indexOf(at(10 * (TELL_DEPTH - 1) + 5)), TELL_DEPTH - 1, 'the last of the first TELL_DEPTH')
  c.tick(NOW + 10200)
  const told = out.sent.filter(s => s.to === P && s.m.type === 'ring.stabok')
  t.equal(told.length, 1, 'told')
  t.ok(told[0].m.succs.some(p => p.id === at(10 * TELL_DEPTH + 5)), 'with the whole list, the change past the first TELL_DEPTH too')
  out.sent.length = 0
  c.receive(P, { type: 'ring.stab', addrs: [] })
  t.ok(out.sent.some(s => s.to === P && s.m.type === 'ring.stabok'), 'and a stabilise is answered with it all')
})

t.test('successors new in a stabilise answer are asked for at once by a joined node (replicas get copies only once linked), at the round by one joining', async t => {
  const { c, out } = core('1')
  const S = hexId('4')
  c.linkUp(S, [])
  out.wanted.length = 0
  c.receive(S, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: hexId('5'), addrs: ['mem://5'] }] })
  t.same(out.wanted, [], 'not joined when the answer came: its list is still forming')
  t.equal(c.status(), 'joined')
  c.receive(S, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: hexId('5'), addrs: ['mem://5'] }, { id: hexId('6'), addrs: ['mem://6'] }] })
  t.same(out.wanted, [hexId('6')], 'joined: the new one, before the next round')
  c.tick(NOW + 5000)
  t.ok(out.wanted.includes(hexId('5')), 'the rest at the round')
})

t.test('MAX_PENDING own lookups in flight; MAX_ROUTES remembered for others, the oldest dropped', async t => {
  const { c, out } = core('1')
  const S = hexId('0')
  const X = hexId('5')
  c.linkUp(S, [])
  c.linkUp(X, [])
  const errors = []
  for (let i = 0; i < MAX_PENDING; i++) c.lookup(hexId('9'), 'owner', err => { if (err) errors.push(err) })
  t.same(errors, [], `${MAX_PENDING} lookups in flight`)
  c.lookup(hexId('9'), 'owner', err => errors.push(err))
  t.match(errors[0]?.message, /MAX_PENDING/, 'one more fails at once')
  const qid = i => (i + 1).toString(16).padStart(32, '0')
  for (let i = 0; i <= MAX_ROUTES; i++) c.receive(S, lookup({ qid: qid(i) }))
  const sent = out.sent.length
  const found = i => ({ type: 'ring.found', qid: qid(i), hops: 2, owner: { id: hexId('9'), addrs: [] }, pred: null })
  c.receive(X, found(0))
  t.equal(out.sent.length, sent, 'the oldest route was dropped: its answer goes nowhere')
  c.receive(X, found(MAX_ROUTES))
  t.equal(out.sent.length, sent + 1, 'the newest is routed back')
  t.equal(out.sent[sent].to, S)
})

t.test('routable: a joined node whose new successor awaits its agreement still routes; one never joined does not', async t => {
  const { RingNet } = await import('./lib/ring-net.js')
  const net = new RingNet({ n: 30, seed: 21 })
  t.ok(net.settle() >= 0)
  net.round()
  const x = net.live().find(n => n.core.status() === 'joined')
  const succ = x.core.table.successor()
  t.ok(x.core.routable(), 'joined: routable')
  // A new node between x and its successor: x's successor changes, and is not agreed yet.
  let kp
  for (let i = 0; i < 100_000; i++) {
    const seed = Buffer.alloc(32)
    seed.writeUInt32BE(0xbeef, 0)
    seed.writeUInt32BE(i, 4)
    kp = generateKeyPair(seed)
    const y = idOf(kp.publicKey)
    if (y > x.id && y < succ) break
    if (succ < x.id && (y > x.id || y < succ)) break
  }
  const y = net.add(kp)
  net.link(y, x.id)
  t.equal(x.core.table.successor(), y, 'the newcomer is the successor')
  t.equal(x.core.status(), 'unbalanced', 'not agreed yet')
  t.ok(x.core.routable(), 'but it was joined, and its successor is linked: still routable')
  t.notOk(net.nodes.get(y).core.routable(), 'the newcomer, never joined, is not')
})

t.test('an answer to a stabilise that repeats the last one sent goes as its number alone', async t => {
  const { c, out } = core('5')
  const P = hexId('3')
  c.linkUp(P, ['mem://p'])
  c.linkUp(hexId('7'), ['mem://7'])
  const ask = have => {
    out.sent.length = 0
    c.receive(P, have === undefined ? { type: 'ring.stab', addrs: ['mem://p'] } : { type: 'ring.stab', addrs: ['mem://p'], have })
    return out.sent.filter(s => s.to === P).map(s => s.m)
  }
  const [first] = ask()
  t.equal(first.type, 'ring.stabok')
  t.equal(first.n, 1, 'numbered')
  t.same(ask(first.n), [{ type: 'ring.stabsame', n: 1 }], 'the asker holds it, nothing changed: the number alone')
  t.equal(ask()[0].type, 'ring.stabok', 'an asker that names none gets it in full')
  const [second] = ask(5)
  t.equal(second.type, 'ring.stabok', 'one that names another number gets it in full')
  c.linkUp(hexId('8'), ['mem://8'])
  const [third] = ask(second.n)
  t.equal(third.type, 'ring.stabok', 'the successors changed: in full')
  t.ok(third.succs.some(p => p.id === hexId('8')) && third.n > second.n, 'with the change, numbered anew')
  t.same(ask(third.n), [{ type: 'ring.stabsame', n: third.n }])
  t.same(c.answersKept, { sent: 1, heard: 0 }, 'one answer kept, for the one linked peer that asked')
  c.linkDown(P)
  t.same(c.answersKept, { sent: 0, heard: 0 }, 'gone with the link')
  c.linkUp(P, ['mem://p'])
  t.equal(ask(third.n)[0].type, 'ring.stabok', 'a new link starts with full answers')
})

t.test('a repeated answer is taken as the one it names; one not held is passed over and asked for again', async t => {
  const { c, out } = core('1')
  const B = hexId('8')
  const X = hexId('a')
  c.linkUp(B, ['mem://b'])
  c.receive(B, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: X, addrs: ['mem://x'] }], n: 4 })
  t.same(c.table.successors(), [B, X])
  t.equal(c.status(), 'joined')
  t.same(c.answersKept, { sent: 0, heard: 1 })
  let now = NOW
  // Rounds until this node stabilises with B again: what its stabilise says.
  const stab = () => {
    out.sent.length = 0
    for (let i = 0; i <= 2 * STAB_EVERY_MAX; i++) {
      c.tick(now += 5000)
      const m = out.sent.find(s => s.to === B && s.m.type === 'ring.stab')?.m
      if (m !== undefined) return m
    }
  }
  t.equal(stab()?.have, 4, 'the next stabilise says which answer this node holds')
  c.table.forget(X)
  t.same(c.table.successors(), [B])
  c.receive(B, { type: 'ring.stabsame', n: 3 })
  t.same(c.table.successors(), [B], 'a number this node does not hold: passed over')
  c.receive(B, { type: 'ring.stabsame', n: 4 })
  t.same(c.table.successors(), [B, X], 'the answer held, taken again')
  c.linkDown(B)
  t.same(c.answersKept, { sent: 0, heard: 0 }, 'gone with the link')
  c.linkUp(B, ['mem://b'])
  c.table.forget(X)
  c.receive(B, { type: 'ring.stabsame', n: 4 })
  t.same(c.table.successors(), [B], 'a new link holds no answer yet')
  const again = stab()
  t.ok(again !== undefined && again.have === undefined, 'and its stabilise names none, so the answer comes in full')
})

/** A core (1…) linked to A (3…), `more` and B (9…), in that order, and its lookups for the target 5…. */
function linkedForTarget (more = []) {
  const { c, out } = core('1')
  const A = hexId('3')
  const B = hexId('9')
  for (const id of [A, ...more, B]) c.linkUp(id, [])
  const target = hexId('5')
  const lookups = () => out.sent.filter(s => s.m.type === 'ring.lookup' && s.m.target === target)
  return { c, out, A, B, target, lookups }
}

t.test('a node whose lookups are answered slowly waits longer before a retry, up to MAX_LOOKUP_RETRY; answered fast again, LOOKUP_RETRY', async t => {
  const { c, out, A, B, target, lookups } = linkedForTarget()
  let now = NOW
  /** A lookup answered (by A, the first hop) `ms` after it went out; whether it was sent again meanwhile. */
  const answeredAfter = ms => {
    out.sent.length = 0
    let result = null
    c.lookup(target, 'owner', (err, res) => { result = { err, res } })
    const [first] = lookups()
    c.tick(now += ms)
    const again = lookups().length > 1
    c.receive(first.to, { type: 'ring.found', qid: first.m.qid, hops: 2, owner: { id: B, addrs: [] }, pred: A })
    t.equal(result?.res?.owner.id, B, 'answered')
    return again
  }
  t.equal(c.lookups.retryAfter, LOOKUP_RETRY, 'no lookup answered yet: LOOKUP_RETRY')
  t.notOk(answeredAfter(1400), 'an answer within it')
  t.equal(c.lookups.retryAfter, MAX_LOOKUP_RETRY, 'one slow answer: the wait is the round trip and four times its variation, at most MAX_LOOKUP_RETRY')
  for (let i = 0; i < 10; i++) answeredAfter(2000)
  t.notOk(answeredAfter(2000), 'answers past LOOKUP_RETRY, once the wait grew, are not sent again')
  t.ok(c.lookups.retryAfter > LOOKUP_RETRY && c.lookups.retryAfter <= MAX_LOOKUP_RETRY, `answers ~2 s after: waits ${Math.round(c.lookups.retryAfter)} ms`)
  // A lookup nobody answers is still sent again, once the longer wait is over.
  out.sent.length = 0
  c.lookup(target, 'owner', () => {})
  const wait = c.lookups.retryAfter
  c.tick(now += LOOKUP_RETRY + 1)
  t.equal(lookups().length, 1, 'not at LOOKUP_RETRY')
  c.tick(now += wait - LOOKUP_RETRY)
  t.equal(lookups().length, 2, 'at the wait it learned')
  c.tick(now += LOOKUP_TIMEOUT)
  for (let i = 0; i < 40; i++) answeredAfter(300)
  t.equal(c.lookups.retryAfter, LOOKUP_RETRY, 'answered fast again: back to LOOKUP_RETRY')
  t.ok(answeredAfter(LOOKUP_RETRY + 1), 'and an answer later than that is sent again meanwhile')
})

t.test('an error answered to an earlier attempt of a lookup is passed over while the retry is on its way; the retry\'s answer ends it', async t => {
  const { c, A, B, target, lookups } = linkedForTarget()
  let result = null
  c.lookup(target, 'owner', (err, res) => { result = { err, res } })
  const [first] = lookups()
  t.ok(first !== undefined, 'the first attempt went out')
  c.tick(NOW + LOOKUP_RETRY + 1)
  const retry = lookups().find(s => s.m.qid !== first.m.qid)
  t.ok(retry !== undefined, 'unanswered past LOOKUP_RETRY: tried again under another qid')
  c.receive(first.to, { type: 'ring.found', qid: first.m.qid, hops: 1, owner: { id: first.to, addrs: [] }, pred: null, error: 'no route' })
  t.equal(result, null, 'the earlier attempt\'s error does not end the lookup')
  c.receive(retry.to, { type: 'ring.found', qid: retry.m.qid, hops: 2, owner: { id: B, addrs: ['mem://b'] }, pred: A })
  t.not(result, null, 'the retry\'s answer ends it')
  t.equal(result?.err, null)
  t.equal(result?.res.owner.id, B)
})

t.test('the owner\'s answer to an attempt before a retry past it is checked against a closer link, as the first attempt\'s would be', async t => {
  const C = hexId('6')
  const { c, out, A, B, target, lookups } = linkedForTarget([C])
  let result = null
  c.lookup(target, 'owner', (err, res) => { result = { err, res } })
  const [first] = lookups()
  t.equal(first.m.skip, 0)
  c.tick(NOW + LOOKUP_RETRY + 1)
  const retry = lookups().find(s => s.m.qid !== first.m.qid)
  t.equal(retry?.m.skip, 1, 'unanswered past LOOKUP_RETRY: sent again past the owner, to a replica')
  out.sent.length = 0
  // The first attempt's answer comes late, claiming a node past C, the link nearer the target.
  c.receive(first.to, { type: 'ring.found', qid: first.m.qid, hops: 2, owner: { id: B, addrs: [] }, pred: A })
  t.equal(result, null, 'not taken as it stands')
  const check = lookups().find(s => s.to === C)
  t.ok(check !== undefined && check.m.final === true && check.m.skip === 0, 'C is asked, as the owner (skipping none)')
  c.receive(C, { type: 'ring.found', qid: check.m.qid, hops: 1, owner: { id: C, addrs: [] }, pred: A })
  t.equal(result?.err, null)
  t.equal(result?.res.owner.id, C, 'the closer node\'s answer')
})

t.test('a successor that predates ring.stabsame (its answers unnumbered): its answers are taken as before, and a stabilise to it names none', async t => {
  const { c, out } = core('1')
  const B = hexId('8')
  const X = hexId('a')
  c.linkUp(B, ['mem://b'])
  c.receive(B, { type: 'ring.stabok', pred: { id: c.id, addrs: [] }, succs: [{ id: X, addrs: ['mem://x'] }] })
  t.same(c.table.successors(), [B, X], 'taken')
  t.equal(c.status(), 'joined')
  t.same(c.answersKept, { sent: 0, heard: 0 }, 'nothing kept: there is no number to repeat')
  let stab
  for (let r = 1; r <= 2 * STAB_EVERY_MAX && stab === undefined; r++) {
    c.tick(NOW + r * 5000)
    stab = out.sent.find(s => s.to === B && s.m.type === 'ring.stab')?.m
  }
  t.ok(stab !== undefined && stab.have === undefined, 'its stabilise says it holds none, so it is answered in full')
})
