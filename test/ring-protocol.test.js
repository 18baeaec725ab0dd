// RingCore (src/ring/protocol.ts) on hundreds of nodes wired through an in-process queue
// (test/lib/ring-net.js): the ring forms from random links, every node names the same owner for
// a key, lookups take few hops and few frames, records survive half the nodes failing at once,
// and lookups get past a node that drops them. Seeded: every run is the same run.
import t from 'tap'
import { RingNet, percentile } from './lib/ring-net.js'
import { pointOf, valuePoint, signRecord, RECORD_TTL } from '../lib/ring/record.js'
import { generateKeyPair, idOf } from '../lib/node/identity.js'
import { between } from '../lib/ring/ids.js'
import { REPUBLISH } from '../lib/ring/records.js'
import { sealEnvelope, checkEnvelope, bodyOf } from '../lib/ring/envelope.js'
import { REPLICAS, SUCCESSORS, LINKED_SUCCESSORS, RING_NEIGHBOUR_SLACK, ringInboundCap } from '../lib/ring/routing.js'
import { LOOKUP_RETRY, LOOKUP_TIMEOUT, MAX_DETOURS } from '../lib/ring/protocol.js'
import { seededRandom, randomHex } from '../lib/util/random.js'

/** A key pair whose id lies in (a, b), ground from seeds padded with `fill` (the same every run). */
function keyBetween (a, b, fill) {
  for (let i = 0; ; i++) {
    const kp = generateKeyPair(Buffer.from(i.toString(16).padStart(64, fill), 'hex'))
    const id = idOf(kp.publicKey)
    if (between(id, a, b) && id !== b) return kp
  }
}

/** Each of ids publishes its member record of subnet "chat"; the subnet's point. */
function publishChat (net, ids) {
  for (const id of ids) net.run(id, (core, done) => { core.records.publish({ type: 'member', name: 'chat', addresses: [] }, done) })
  return pointOf('member', 'peernet', 'chat')
}

/**
 * A settled ring of n nodes (seeded) with a node that drops every lookup it is sent: none at
 * first, then whichever `dropping.id` names.
 */
function droppingRing (t, n, seed) {
  const dropping = { id: null }
  const net = new RingNet({ n, seed, drop: id => id === dropping.id })
  t.ok(net.settle() >= 0)
  return { net, dropping }
}

/** Runs a search of `name` from node `from`; its result and the frames it caused. */
function search (net, from, name, max = 10) {
  return net.run(from, (core, done) => core.records.search('member', name, max, done))
}

t.test('1,000 nodes: the ring forms, all agree on owners, lookups are short and cheap', async t => {
  const N = 1000
  const net = new RingNet({ n: N, seed: 1 })
  const rounds = net.settle(40)
  t.ok(rounds >= 0, `every successor and predecessor right after ${rounds} rounds`)
  net.round() // one more stabilise: each node hears that its successor agrees
  t.ok(net.live().every(x => x.core.status() === 'joined'), 'every node is joined')
  t.ok(net.live().every(x => x.core.table.successors().length === SUCCESSORS), `full successor lists (${SUCCESSORS})`)
  // The ring inbound cap: RING_NEIGHBOUR_SLACK more for the nodes that keep this one among their
  // linked successors (and a newcomer before it), not for the rest.
  const sorted = net.ids.slice().sort()
  const at = 500
  const x = net.nodes.get(sorted[at]).core
  const cap = ringInboundCap(x.table.estimateN())
  const before = k => sorted[(at - k + N) % N]
  t.ok([1, 2, LINKED_SUCCESSORS].every(k => x.inboundCap(before(k)) === cap + RING_NEIGHBOUR_SLACK), 'the nodes just before it: the cap and the slack')
  t.ok([3 * LINKED_SUCCESSORS, N / 2].every(k => x.inboundCap(before(k)) === cap) && x.inboundCap(sorted[at + 1]) === cap, 'nodes further before it, or after it: the cap')
  // Upkeep once settled: stabilise, successor checks, fingers, per node per round.
  const f0 = net.frames
  for (let r = 0; r < 8; r++) net.round()
  const upkeep = (net.frames - f0) / N / 8
  t.ok(upkeep <= 6, `upkeep ${upkeep.toFixed(2)} frames per node per round (≤ 6)`)
  const random = seededRandom(9)
  const hops = []
  const frames = []
  let agree = 0
  const KEYS = 400
  for (let i = 0; i < KEYS; i++) {
    const key = randomHex(random, 32)
    const from = net.ids[Math.floor(random() * N)]
    const r = net.run(from, (core, done) => core.lookup(key, 'owner', done))
    if (r.err) continue
    if (r.res.owner.id === net.owner(key)) agree++
    hops.push(r.res.hops)
    frames.push(r.frames)
  }
  t.equal(agree, KEYS, 'every lookup names the true owner (the first node at or after the key)')
  const bound = Math.log2(N) / 2 + 2
  const mean = frames.reduce((a, b) => a + b, 0) / frames.length
  t.ok(percentile(hops, 0.5) <= bound, `hops p50 ${percentile(hops, 0.5)} ≤ log2(N)/2 + 2 = ${bound.toFixed(1)}`)
  t.ok(mean <= 30 && percentile(frames, 0.99) <= 60, `frames per lookup: mean ${mean.toFixed(1)}, p99 ${percentile(frames, 0.99)}`)
  t.comment(`N=${N}: settled in ${rounds} rounds; hops p50 ${percentile(hops, 0.5)} p99 ${percentile(hops, 0.99)}; frames mean ${mean.toFixed(1)} p99 ${percentile(frames, 0.99)}; upkeep ${upkeep.toFixed(2)}/node/round`)
})

t.test('a lookup for an id no node has ends at the node responsible for it', async t => {
  const net = new RingNet({ n: 200, seed: 2 })
  t.ok(net.settle() >= 0)
  const ids = net.ids.slice().sort()
  // Just after a node's id: no node there, the next one is responsible.
  const key = (BigInt('0x' + ids[10]) + 1n).toString(16).padStart(64, '0')
  const r = net.run(ids[150], (core, done) => core.lookup(key, 'owner', done))
  t.equal(r.err, null)
  t.equal(r.res.owner.id, ids[11], 'the next node answers')
  t.equal(r.res.pred, ids[10], 'and names its predecessor, the node before the key')
  // A message for that id: routed there, and refused by the responsible node, not lost.
  const env = sealEnvelope(net.nodes.get(ids[150]).keyPair, key, { hi: 1 }, net.now + 10_000, seededRandom(1))
  const d = net.run(ids[150], (core, done) => core.lookup(key, 'deliver', done, { envelope: env }))
  t.match(d.err?.message, /no node with that id/, 'a clear error, not a hang')
})

t.test('a routed envelope reaches its node and the signed reply comes back', async t => {
  const net = new RingNet({
    n: 200,
    seed: 3,
    onEnvelope: (node, e) => sealEnvelope(node.keyPair, e.from, { echo: bodyOf(e) }, e.expires, seededRandom(2))
  })
  t.ok(net.settle() >= 0)
  const [a, b] = [net.ids[5], net.ids[170]]
  const env = sealEnvelope(net.nodes.get(a).keyPair, b, { ping: 1 }, net.now + 10_000, seededRandom(3))
  const r = net.run(a, (core, done) => core.lookup(b, 'deliver', done, { envelope: env }))
  t.equal(r.err, null)
  t.equal(checkEnvelope(r.res.envelope, a, net.now), null, 'the reply is signed by the target, to the sender')
  t.equal(r.res.envelope.from, b)
  t.same(bodyOf(r.res.envelope), { echo: { ping: 1 } })
})

t.test('copies for replicas past the linked successors are relayed, and a relay asked for goes no further than REPLICAS − 1', async t => {
  const net = new RingNet({ n: 200, seed: 4 })
  t.ok(net.settle() >= 0)
  const r = net.run(net.ids[0], (core, done) => { core.records.publish({ type: 'member', name: 'chat', addresses: ['mem://a'] }, done) })
  t.equal(r.err, null)
  const point = pointOf('member', 'peernet', 'chat')
  const owner = net.nodes.get(net.owner(point)).core
  const targets = owner.table.replicaTargets()
  const unlinked = targets.filter(id => !owner.table.isLinked(id))
  t.ok(LINKED_SUCCESSORS < REPLICAS - 1 && unlinked.length > 0, `the owner links ${targets.length - unlinked.length} of its ${targets.length} replica targets`)
  t.ok(targets.every(id => net.nodes.get(id).core.store.get(point, net.now).length === 1), 'every target holds the record, linked or not')
  // A peer asks for far more relays than there are replicas: the copies go no further.
  const x = net.nodes.get(targets[0])
  const record = x.core.store.get(point, net.now)[0]
  const from = [...x.links][0]
  net.queue = []
  x.core.receive(from, { type: 'ring.store', records: [record], relay: 16 })
  const sent = net.queue.filter(([f, , text]) => f === x.id && text !== null && JSON.parse(text).type === 'ring.store')
  t.ok(sent.length <= REPLICAS - 1, `${sent.length} copies relayed (at most REPLICAS − 1 = ${REPLICAS - 1})`)
  const near = x.core.table.successors().slice(0, REPLICAS - 1)
  t.ok(sent.length > 0 && sent.every(([, to]) => near.includes(to)), 'each to one of its REPLICAS − 1 nearest successors')
  t.ok(sent.every(([, , text]) => JSON.parse(text).relay === undefined), 'and none asks for a further relay')
  net.drain()
  // A record it did not take (its signature does not cover the changed seq) is not passed on.
  x.core.receive(from, { type: 'ring.store', records: [{ ...record, seq: record.seq + 1 }], relay: 3 })
  t.equal(net.queue.filter(([f]) => f === x.id).length, 0, 'a forged copy is not relayed')
  net.drain()
})

t.test('records: published at the responsible node and its replicas, found, withdrawn', async t => {
  const net = new RingNet({ n: 200, seed: 4 })
  t.ok(net.settle() >= 0)
  const members = net.ids.slice(0, 5)
  for (const id of members) {
    const r = net.run(id, (core, done) => { core.records.publish({ type: 'member', name: 'chat', addresses: [`mem://${id.slice(0, 8)}`] }, done) })
    t.equal(r.err, null)
    t.equal(r.res, 1, 'stored by the responsible node')
  }
  const point = pointOf('member', 'peernet', 'chat')
  const holders = net.live().filter(x => x.core.store.get(point, net.now).length === members.length)
  t.ok(holders.length >= REPLICAS, `${holders.length} nodes hold all the records (≥ REPLICAS = ${REPLICAS})`)
  const s = search(net, net.ids[100], 'chat', 10)
  t.equal(s.err, null)
  t.same(new Set(s.res.records.map(r => r.id)), new Set(members), 'a search finds every member')
  t.equal(s.res.owner, net.owner(point))
  t.ok(s.frames <= 30, `in ${s.frames} frames`)
  t.equal(search(net, net.ids[100], 'chat', 2).res.records.length, 2, 'up to max')
  const none = search(net, net.ids[100], 'nobody-here', 10)
  t.equal(none.err, null, 'no members is an answer, not an error')
  t.same(none.res.records, [])
  net.run(members[0], (core, done) => { core.records.withdraw('member', 'chat', undefined, done) })
  const after = search(net, net.ids[100], 'chat', 10)
  t.notOk(after.res.records.some(r => r.id === members[0]), 'a withdrawn member is not found')
  t.equal(after.res.records.length, members.length - 1)
})

t.test('forged, other-network and malformed records in an answer are dropped by the asker', async t => {
  const net = new RingNet({ n: 100, seed: 5 })
  t.ok(net.settle() >= 0)
  const point = pointOf('member', 'peernet', 'chat')
  const owner = net.nodes.get(net.owner(point))
  // The owner lies: it holds (bypassing its checks) a forged record and one of another network.
  const good = signRecord(net.nodes.get(net.ids[1]).keyPair, { type: 'member', network: 'peernet', name: 'chat', addresses: [], seq: 1, expires: net.now + RECORD_TTL })
  const forged = { ...good, addresses: ['mem://evil'] }
  const other = signRecord(net.nodes.get(net.ids[2]).keyPair, { type: 'member', network: 'other', name: 'chat', addresses: [], seq: 1, expires: net.now + RECORD_TTL })
  // And records of the wrong shape, which the nodes on the way back pass on unchecked.
  const malformed = [{ ...good, seq: -1 }, { ...good, extra: 1 }, { type: 'member', name: 'chat' }]
  owner.core.store.pick = () => [good, forged, other, ...malformed]
  const s = search(net, net.ids.find(id => id !== owner.id), 'chat', 10)
  t.ok(s.res.hops > 1, `the answer came back over ${s.res.hops} hops`)
  t.same(s.res.records, [good], 'only the true record is returned')
})

t.test('half the nodes fail at once: records are found again within 3 rounds', async t => {
  const N = 400
  const net = new RingNet({ n: N, seed: 6 })
  t.ok(net.settle() >= 0)
  const random = seededRandom(6)
  const names = Array.from({ length: 60 }, (_, i) => `subnet-${i}`)
  const members = new Map()
  for (const name of names) {
    const ms = [0, 1, 2].map(() => net.ids[Math.floor(random() * N)])
    members.set(name, ms)
    for (const id of ms) net.run(id, (core, done) => { core.records.publish({ type: 'member', name, addresses: [] }, done) })
  }
  // Fail half the nodes at once, the searchers' subnets' members included.
  for (const id of net.ids) if (random() < 0.5) net.kill(id)
  for (let r = 0; r < 3; r++) net.round()
  const live = net.live().map(x => x.id)
  let found = 0
  for (const name of names) {
    const from = live[Math.floor(random() * live.length)]
    const s = search(net, from, name, 10)
    if (s.err === null && s.res.records.length > 0) found++
  }
  t.ok(found / names.length >= 0.99, `${found} of ${names.length} subnets found after 50% failed (≥ 99%)`)
})

t.test('a responsible node that drops lookups: a replica answers after LOOKUP_RETRY', async t => {
  const { net, dropping } = droppingRing(t, 200, 7)
  const members = net.ids.slice(0, 3)
  const point = publishChat(net, members)
  dropping.id = net.owner(point)
  const from = net.ids.find(id => id !== dropping.id && !members.includes(id))
  const before = net.now
  const s = search(net, from, 'chat', 10)
  t.equal(s.err, null, 'answered')
  t.ok(s.res.replica, 'by a replica')
  t.not(s.res.owner, dropping.id)
  t.equal(s.res.records.length, 3, 'with every record')
  t.ok(net.now - before >= LOOKUP_RETRY, 'after the retry delay, not before')
  // The search's own ticks come each 1,000 ms (RingNet.run): the retry goes at the first at or
  // past LOOKUP_RETRY, though the ticks before it had nothing due.
  t.equal(net.now - before, Math.ceil(LOOKUP_RETRY / 1000) * 1000, 'at the first tick it was due')
  // Routes expire (a tick past their time drops them), whatever lookups came since.
  const routes = () => net.live().flatMap(x => [...x.core.lookups.routes.values()])
  t.ok(routes().length > 0, 'the nodes on the way remember routes')
  const was = net.now
  net.advance(LOOKUP_TIMEOUT)
  t.ok(routes().every(r => r.expires > net.now), 'none held past its time')
  t.notOk(routes().some(r => r.expires <= was + LOOKUP_TIMEOUT), 'none of those from before')
})

t.test('a responsible node that is slow, not silent: its answer after LOOKUP_RETRY still ends the lookup (the retry does not give it up)', async t => {
  let slow = null
  const net = new RingNet({ n: 200, seed: 7, hold: (from, to, m) => m.type === 'ring.found' && slow !== null })
  t.ok(net.settle() >= 0)
  const members = net.ids.slice(0, 3)
  const point = publishChat(net, members)
  const owner = net.owner(point)
  const from = net.ids.find(id => id !== owner && !members.includes(id))
  // Every answer is held back (slow links everywhere) past the retry, which goes to a replica.
  slow = true
  let out = null
  net.nodes.get(from).core.records.search('member', 'chat', 10, (err, res) => { out = { err, res } })
  net.drain()
  net.advance(LOOKUP_RETRY)
  t.equal(out, null, 'no answer yet: the retry went past the owner')
  t.ok(net.held.some(([f]) => f === owner), 'the owner answered, slowly')
  // The owner's answer comes through; the replicas' never do.
  net.release(f => f === owner)
  t.not(out, null, 'the first attempt\'s answer ended the search')
  t.equal(out?.err, null)
  t.equal(out?.res.owner, owner, 'the owner\'s answer')
  t.notOk(out?.res.replica, 'not a replica\'s')
  t.equal(out?.res.records.length, 3, 'with every record')
  // An answer to a lookup that has ended is dropped, as before (none left waiting for it).
  slow = null
  net.release(() => true)
  t.equal(net.live().reduce((n, x) => n + x.core.lookups.attempts.size, 0), 0, 'no earlier attempt remembered once lookups end')
})

t.test('a lookup whose callback throws as it times out: the next tick still times out the others', async t => {
  // Every lookup is dropped, so both time out, at the same tick; the first one's callback throws.
  const net = new RingNet({ n: 40, seed: 3, drop: () => true })
  t.ok(net.settle() >= 0)
  const core = net.nodes.get(net.ids[0]).core
  const got = []
  core.ownerOf('a', err => { got.push('a ' + err.message); throw new Error('the user\'s callback') })
  core.ownerOf('b', err => { got.push('b ' + err.message) })
  const start = net.now
  let thrown = 0
  // Half a second at a time (the node's ring tick), no round in between: no new lookup of the
  // node's own comes to wake the walk.
  while (net.now - start < LOOKUP_TIMEOUT + 1000) {
    try { net.advance(500) } catch (err) { thrown++; t.equal(err.message, 'the user\'s callback') }
  }
  t.equal(thrown, 1, 'the throw reaches the ticker once')
  t.same(got.map(g => g.split(' ')[0]).sort(), ['a', 'b'], 'both lookups ended')
  t.ok(got.every(g => /timed out|no answer/.test(g)), got.join('; '))
})

t.test('a store that skipped a slow responsible node reaches it all the same: the replica hands it back', async t => {
  const { net, dropping } = droppingRing(t, 200, 7)
  const point = pointOf('member', 'peernet', 'chat')
  dropping.id = net.owner(point)
  const member = net.ids.find(id => id !== dropping.id)
  const r = net.run(member, (core, done) => { core.records.publish({ type: 'member', name: 'chat', addresses: [] }, done) })
  t.equal(r.err, null)
  t.equal(r.res, 1, 'stored, by a replica (the owner dropped the store)')
  dropping.id = null
  t.equal(net.nodes.get(net.owner(point)).core.store.get(point, net.now).length, 1, 'the owner, which was only slow, holds the record too')
  const from = net.ids.find(id => id !== member && id !== net.owner(point))
  const s = search(net, from, 'chat', 10)
  t.equal(s.res.owner, net.owner(point), 'a search is answered by the owner')
  t.equal(s.res.records.length, 1, 'with the record')
})

t.test('a node joins before a point: it takes over the records there (handover), and all agree', async t => {
  const net = new RingNet({ n: 150, seed: 8 })
  t.ok(net.settle() >= 0)
  const members = net.ids.slice(0, 4)
  const point = publishChat(net, members)
  const owner = net.owner(point)
  // A key whose id falls between the point and its owner: the joiner becomes the first node
  // at or after the point.
  const joiner = net.add(keyBetween(point, owner, 'f'))
  net.link(joiner, net.ids[77]) // one link, to anyone
  net.drain()
  const rounds = net.settle()
  t.ok(rounds >= 0, `the ring takes the joiner in (${rounds} rounds)`)
  t.equal(net.owner(point), joiner, 'the joiner is now responsible for the point')
  t.equal(net.nodes.get(joiner).core.store.get(point, net.now).length, 4, 'and holds the records, handed over')
  // Until its successor has answered its stabilise (and so handed the arc over before), a joiner
  // that holds nothing for a point lets the successor answer for it, as a replica: its own "none"
  // could be wrong. (This one was handed the records as the link came up: they are set aside.)
  const core = net.nodes.get(joiner).core
  t.ok(core.holdsRange(point), 'it holds the point\'s records already')
  const held = core.store.recordsAt(point)
  core.store.prune(p => p !== point)
  t.notOk(core.holdsRange(point), 'without them, and the successor not having taken the joiner as predecessor yet...')
  let s = search(net, net.ids[120], 'chat', 10)
  t.same([s.res.owner, s.res.replica, s.res.records.length], [owner, true, 4], '...the old owner answers, as a replica')
  s = search(net, joiner, 'chat', 10)
  t.same([s.res.owner, s.res.records.length], [owner, 4], 'and so it does for the joiner\'s own search, which the ring takes past it (its own "none" would end it)')
  for (const r of held) core.store.put(r, net.now)
  for (let r = 0; r < 3 && !core.holdsRange(); r++) net.round()
  t.ok(core.holdsRange(), 'a round later it does')
  s = search(net, net.ids[120], 'chat', 10)
  t.equal(s.res.owner, joiner)
  t.equal(s.res.records.length, 4)
  // The p2p seed's getEndpointFor / isResponsibleFor, for a value.
  const value = 'foobar'
  const want = net.owner(valuePoint('peernet', value))
  for (const from of [net.ids[1], net.ids[60], joiner]) {
    const r = net.run(from, (core, done) => core.ownerOf(value, done))
    const got = r.err === null ? r.res.owner.id : (net.nodes.get(from).core.isResponsibleFor(value) ? from : null)
    t.equal(got, want, 'every node names the same owner for a value')
  }
  t.ok(net.nodes.get(want).core.isResponsibleFor(value))
  t.notOk(net.nodes.get(net.ids.find(id => id !== want)).core.isResponsibleFor(value))
})

t.test('a replica asked past a silent owner that does not hold the point yet (it just joined) passes the lookup on to the next, which does', async t => {
  const { net, dropping } = droppingRing(t, 150, 8)
  const members = net.ids.slice(0, 4)
  const point = publishChat(net, members)
  const owner = net.owner(point)
  const next = net.live().map(x => x.id).sort().find(id => id > owner) ?? net.ids.slice().sort()[0]
  // A joiner right after the owner: the first replica of the point once the ring takes it in.
  const joiner = net.add(keyBetween(owner, next, 'e'))
  net.link(joiner, net.ids[77])
  net.drain()
  t.ok(net.settle() >= 0, 'the ring takes the joiner in')
  const core = net.nodes.get(joiner).core
  core.store.prune(p => p !== point)
  core.seated = false // as before its successor's stabilise answer: the arc not handed over yet
  // and no word from the successor comes in the meantime: its answer (asked for or not) would seat it.
  const receive = core.receive.bind(core)
  core.receive = (from, m) => { if (m.type !== 'ring.stabok') receive(from, m) }
  t.notOk(core.holdsRange(point), 'the joiner holds nothing of the point, and knows it may not hold the arc yet')
  dropping.id = owner
  const from = net.ids.find(id => id !== owner && id !== joiner && !members.includes(id))
  const s = search(net, from, 'chat', 10)
  t.equal(s.err, null, 'answered')
  t.same([s.res.owner, s.res.replica, s.res.records.length], [next, true, 4], 'by the replica after the joiner, with every record (the joiner\'s "none" would have been taken)')
})

t.test('a node asked as a replica of a point far behind it (a skip sent there by a node with a wrong view) answers an error, not "none"', async t => {
  const net = new RingNet({ n: 150, seed: 8 })
  // Whole lists: whether a node may hold a point reads its estimate of N, made from its list.
  t.ok(net.settleLists() >= 0)
  const point = pointOf('member', 'peernet', 'chat')
  const ids = net.live().map(x => x.id).sort()
  const far = ids[(ids.indexOf(net.owner(point)) + 40) % ids.length]
  const x = net.nodes.get(far)
  t.notOk(x.core.mayHold(point), 'forty nodes on, the node holds no copy of the point')
  const sent = []
  const send = x.core.lookups.send
  x.core.lookups.send = (to, m) => { sent.push({ to, m }); send(to, m) }
  const from = x.core.table.predecessor()
  const asked = { type: 'ring.lookup', qid: 'ab'.repeat(8), target: point, at: far, skip: 0, op: 'fetch', hops: 3, ttl: 32, origin: { id: from, addrs: [] }, final: true }
  x.core.receive(from, asked)
  t.same(sent.map(s => [s.to, s.m.type, s.m.error]), [[from, 'ring.found', 'not a replica of the point']], 'an error back the way it came')
  sent.length = 0
  const near = net.nodes.get(ids[(ids.indexOf(net.owner(point)) + 1) % ids.length])
  near.core.lookups.send = (to, m) => sent.push({ to, m })
  near.core.receive(near.core.table.predecessor(), { ...asked, qid: 'cd'.repeat(8), at: near.id, origin: { id: near.core.table.predecessor(), addrs: [] } })
  t.same(sent.map(s => [s.m.type, s.m.error, s.m.replica]), [['ring.found', undefined, true]], 'the owner\'s next node, a replica, answers')
})

t.test('churn: 1% of nodes leave and 1% join each round; searches keep succeeding', async t => {
  const N = 300
  const net = new RingNet({ n: N, seed: 9 })
  t.ok(net.settle() >= 0)
  const random = seededRandom(10)
  const names = Array.from({ length: 20 }, (_, i) => `churn-${i}`)
  const members = new Map(names.map(n => [n, []]))
  for (const name of names) {
    for (let k = 0; k < 3; k++) {
      const id = net.ids[Math.floor(random() * N)]
      members.get(name).push(id)
      net.run(id, (core, done) => { core.records.publish({ type: 'member', name, addresses: [] }, done) })
    }
  }
  let ok = 0
  let total = 0
  let fresh = 0
  for (let r = 0; r < 20; r++) {
    const live = net.live().map(x => x.id)
    for (let k = 0; k < N / 100; k++) net.kill(live[Math.floor(random() * live.length)])
    for (let k = 0; k < N / 100; k++) {
      const id = net.add(generateKeyPair(Buffer.from((++fresh).toString(16).padStart(64, 'e'), 'hex')))
      const others = net.live().map(x => x.id)
      for (let l = 0; l < 4; l++) net.link(id, others[Math.floor(random() * others.length)])
    }
    net.round()
    for (const name of names) {
      const from = net.live().map(x => x.id)[Math.floor(random() * net.live().length)]
      if (!members.get(name).some(id => net.nodes.get(id).alive)) continue
      total++
      const s = search(net, from, name, 10)
      if (s.err === null && s.res.records.length > 0) ok++
    }
  }
  t.ok(ok / total >= 0.99, `${ok} of ${total} searches under churn found members`)
})

t.test('records are re-signed and re-published before they expire', async t => {
  const net = new RingNet({ n: 60, seed: 10 })
  t.ok(net.settle() >= 0)
  const m = net.ids[3]
  net.run(m, (core, done) => { core.records.publish({ type: 'member', name: 'chat', addresses: [] }, done) })
  const first = net.nodes.get(m).core.records.mine()[0]
  // Time passes in rounds (each a tick) until past the first record's expiry.
  const end = first.expires + 1000
  while (net.now < end) net.round()
  const s = search(net, net.ids[30], 'chat', 10)
  t.equal(s.res.records.length, 1, 'still found after the first version expired')
  t.ok(s.res.records[0].seq > first.seq, 'a newer version')
  t.ok(s.res.records[0].expires > first.expires)
  t.ok(REPUBLISH < RECORD_TTL / 2, 'published at least twice within a TTL')
})

t.test('the responsible node fails: its successor takes over and restores REPLICAS copies', async t => {
  const net = new RingNet({ n: 150, seed: 11 })
  // Whole successor lists: the copies go to the owner's true next REPLICAS − 1, no other node.
  t.ok(net.settle() >= 0 && net.settleLists() >= 0)
  net.run(net.ids[5], (core, done) => { core.records.publish({ type: 'member', name: 'chat', addresses: [] }, done) })
  const point = pointOf('member', 'peernet', 'chat')
  const holders = () => net.live().filter(x => x.core.store.get(point, net.now).length > 0).length
  // Successors the owner links to during these rounds get their copies as they link.
  for (let r = 0; r < 3; r++) net.round()
  t.equal(holders(), REPLICAS, `REPLICAS (${REPLICAS}) copies`)
  net.kill(net.owner(point))
  t.equal(holders(), REPLICAS - 1, 'one fewer')
  for (let r = 0; r < 3; r++) net.round()
  t.equal(holders(), REPLICAS, 'the new owner copied the arc it took over to its replicas')
  t.equal(net.nodes.get(net.owner(point)).core.store.get(point, net.now).length, 1)
})

t.test('a replica that fails and comes back (same key, empty store) gets its copy again from the responsible node', async t => {
  // Fewer nodes than REPLICAS: every other node is a replica target, so the failure shrinks the
  // owner's target list and no new target takes its place. The owner must forget the target it
  // copied to, or the node that comes back is taken as covered and never gets a copy.
  const net = new RingNet({ n: 6, seed: 2 })
  t.ok(net.settle() >= 0, 'the ring settles')
  const point = publishChat(net, [net.ids[0]])
  const owner = net.nodes.get(net.owner(point))
  for (let r = 0; r < 3; r++) net.round()
  const targets = owner.core.table.replicaTargets()
  t.equal(targets.length, net.ids.length - 1, 'every other node is a target')
  const gone = targets[2]
  const { keyPair } = net.nodes.get(gone)
  net.kill(gone)
  for (let r = 0; r < 3; r++) net.round()
  t.notOk(owner.core.table.replicaTargets().includes(gone), 'the failed node left the targets')
  t.equal(net.add(keyPair), gone, 'back with the same id')
  net.link(gone, net.ids.find(id => id !== owner.id && id !== gone))
  const holds = () => net.nodes.get(gone).core.store.get(point, net.now).length === 1
  t.ok(net.roundsUntil(holds, 4) >= 0, 'it holds the record again within 4 rounds')
})

t.test('a publication that fails is retried at the next round; a withdrawal hides the record', async t => {
  let dropping = false
  const net = new RingNet({ n: 60, seed: 12, drop: () => dropping })
  t.ok(net.settle() >= 0)
  const m = net.ids[3]
  const core = net.nodes.get(m).core
  dropping = true
  const r = net.run(m, (c, done) => { c.records.publish({ type: 'member', name: 'chat', addresses: [] }, done) })
  t.ok(r.err, `the publication failed: ${r.err?.message}`)
  dropping = false
  t.equal(search(net, net.ids[30], 'chat', 10).res.records.length, 0, 'nothing stored yet')
  net.round()
  t.equal(search(net, net.ids[30], 'chat', 10).res.records.length, 1, 'stored by the retry at the next round')
  net.run(m, (c, done) => { c.records.withdraw('member', 'chat', undefined, done) })
  t.same(core.records.mine(), [], 'no longer among its records')
  t.equal(search(net, net.ids[30], 'chat', 10).res.records.length, 0, 'and not found')
})

t.test('a node in the middle of the path that drops lookups: the retry comes in another way', async t => {
  const { net, dropping } = droppingRing(t, 300, 13)
  const members = net.ids.slice(0, 3)
  const point = publishChat(net, members)
  const owner = net.owner(point)
  // A searcher whose first hop is a forward (not the owner itself): that hop drops everything.
  const from = net.ids.find(id => {
    const hop = net.nodes.get(id).core.table.nextHop(point)
    return hop.kind === 'forward' && hop.to !== owner && !members.includes(hop.to)
  })
  dropping.id = net.nodes.get(from).core.table.nextHop(point).to
  const s = search(net, from, 'chat', 10)
  t.equal(s.err, null, 'answered')
  t.equal(s.res.records.length, 3, 'with every record')
})

t.test(`MAX_DETOURS (${MAX_DETOURS}): a search whose route fails goes another way in that many times, then fails; other lookups do not`, async t => {
  const net = new RingNet({ n: 40, seed: 12 })
  t.ok(net.settle() >= 0)
  const from = net.ids[5]
  let sent = 0
  let failing = true
  // Every answer to `from` says its route failed (a hostile or confused node on each way).
  net.alter = (a, to, m) => {
    if (m.type === 'ring.lookup' && a === from && m.hops === 1) sent++
    if (m.type === 'ring.found' && to === from && failing) return { ...m, error: 'routing loop' }
    return m
  }
  const s = net.run(from, (core, done) => core.records.search('member', 'chat', 10, done))
  t.match(s.err?.message, /routing loop/, 'the search fails in the end, with the last answer\'s error')
  t.equal(sent, 1 + MAX_DETOURS, `sent once and again ${MAX_DETOURS} times`)
  sent = 0
  const o = net.run(from, (core, done) => core.ownerOf('x', done))
  t.match(o.err?.message, /routing loop/)
  t.equal(sent, 1, 'an owner lookup is not sent again: the ring\'s own come round at their next round')
  // One failed way in, then an honest one: the search is answered.
  sent = 0
  net.alter = (a, to, m) => {
    if (m.type === 'ring.lookup' && a === from && m.hops === 1) sent++
    if (m.type === 'ring.found' && to === from && sent === 1) return { ...m, error: 'routing loop' }
    return m
  }
  failing = false
  const ok = net.run(from, (core, done) => core.records.search('member', 'chat', 10, done))
  t.equal(ok.err, null, 'the detour is answered')
  t.equal(sent, 2)
})

t.test('a node that was alone hands its records over to the first node to link to it, at once', async t => {
  // A lone node holds its own record; a newcomer that becomes responsible for its point must
  // have it before anyone asks (its "no members" would be taken as the answer).
  const net = new RingNet({ n: 2, seed: 14, initial: 0 })
  const [a, b] = net.ids
  const [lo, hi] = a < b ? [a, b] : [b, a]
  // A name whose point lies in (a, b]: b's, once the two are linked.
  let name = null
  for (let i = 0; i < 10_000 && name === null; i++) {
    const p = pointOf('member', 'peernet', 'n' + i)
    const inB = b === hi ? (p > lo && p <= hi) : (p > hi || p <= lo)
    if (inB) name = 'n' + i
  }
  t.ok(name !== null)
  const point = pointOf('member', 'peernet', name)
  const pub = net.run(a, (core, done) => { core.records.publish({ type: 'member', name, addresses: [] }, done) })
  t.equal(pub.err, null, 'alone, it holds its record itself')
  t.equal(net.nodes.get(a).core.store.get(point, net.now).length, 1)
  net.link(a, b)
  net.drain()
  t.equal(net.nodes.get(b).core.store.get(point, net.now).length, 1, 'the newcomer holds it as soon as the link is up, before any round')
})
