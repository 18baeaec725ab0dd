// The ring on real nodes (the Peernet class, real Noise) over the in-memory transport, on one
// virtual clock: nodes that only know a neighbour's address join one ring, agree on the node
// responsible for a value, and say where they stand (ringStatus, status events). The ring's
// protocol on its own is tested in ring-*.test.js.
import t from 'tap'
import { VirtualClock, seededRandom, RING_WAIT } from '../lib/index.js'
import { pointOf } from '../lib/ring/record.js'
import { DEFAULT_NETWORK } from '../lib/node/defaults.js'
import { memNet, restartableRing } from './lib/mem-nodes.js'
import { runUntil } from './lib/helpers.js'

/** n nodes on one clock, each with the address of the one before it saved. */
async function ringOf (t, n, opts = {}) {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const nodes = []
  const add = (name, seed, more = {}) => node(name, { clock, random: seededRandom(seed), interval: 200, dialInterval: 100, connections: 2, bootstrap: true, addresses: [`mem://${name}`], ...opts, ...more })
  for (let i = 0; i < n; i++) nodes.push(add(`r${i}`, i + 1))
  await Promise.all(nodes.map(pn => pn.ready))
  for (let i = 1; i < n; i++) await nodes[i].save([`mem://r${i - 1}`])
  return { clock, nodes, add, net }
}

t.test('nodes that know one neighbour each join one ring and agree on the owner of a value', async t => {
  const { clock, nodes } = await ringOf(t, 10)
  t.equal(nodes[0].ringStatus(), 'lonely', 'a node with no peers is lonely')
  const changes = []
  const joinedEvents = []
  nodes[0].on('status', s => changes.push(['status', s]))
  nodes[0].on('status::*', s => changes.push(['status::*', s]))
  nodes[0].on('status::joined', s => joinedEvents.push(s))
  const joined = await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined'))
  t.ok(joined, `every node joined (${nodes.map(pn => pn.ringStatus()).join(' ')})`)
  t.same(changes.slice(0, 2), [['status', { from: 'lonely', to: 'unbalanced' }], ['status::*', { from: 'lonely', to: 'unbalanced' }]], 'status, and the seed\'s status::*, on each change')
  t.same(joinedEvents.at(-1), { from: 'unbalanced', to: 'joined' }, 'status::joined when it joins')

  // The ring order: each node's successor is the next id round the circle.
  const ids = nodes.map(pn => pn.id).sort()
  const succ = new Map(ids.map((id, i) => [id, ids[(i + 1) % ids.length]]))
  const seen = new Map()
  for (const pn of nodes) pn.on('successor', e => seen.set(pn.id, e.id))
  await runUntil(clock, () => false, 40)
  t.ok(nodes.every(pn => pn.ring.core.table.successor() === succ.get(pn.id)), 'each successor is the next id round the circle')

  const answers = []
  for (const pn of nodes) pn.getEndpointFor('foo').then(e => answers.push(e), err => answers.push(err))
  await runUntil(clock, () => answers.length === nodes.length)
  t.equal(answers.length, nodes.length)
  t.ok(answers.every(a => !(a instanceof Error)), 'every lookup got an answer')
  t.equal(new Set(answers.map(a => a.id)).size, 1, 'every node names the same owner')
  const owner = nodes.find(pn => pn.id === answers[0].id)
  t.ok(owner.isResponsibleFor('foo'), 'and the owner knows it is responsible')
  t.equal(nodes.filter(pn => pn.isResponsibleFor('foo')).length, 1, 'no other node thinks so')
  t.same(answers[0].addresses, [owner.url], 'the owner\'s addresses come with its id')
  t.same(answers[0].metadata, {}, 'no metadata set: an empty object')
})

t.test('getEndpointFor checks its value; a closed node refuses', async t => {
  const { nodes } = await ringOf(t, 1)
  await t.rejects(nodes[0].getEndpointFor(42), { name: 'TypeError' })
  t.throws(() => nodes[0].isResponsibleFor(null), { name: 'TypeError' })
  await nodes[0].close()
  await t.rejects(nodes[0].getEndpointFor('foo'), /closed/)
})

t.test('dialPeer: a peer at the first of its addresses that answers with its key; ring links are the ring\'s to drop', async t => {
  const { node } = memNet(t)
  const a = node('a')
  const b = node('b')
  const c = node('c')
  await Promise.all([a, b, c].map(pn => pn.ready))
  await t.rejects(a.dialer.dialPeer(b.id, ['mem://nobody', 'mem://c']), new RegExp(`nobody listens.*; .*identity mismatch: expected ${b.id}, got ${c.id}`), 'every address tried, each reason named')
  t.same(a.connections(), [], 'the other key\'s link is closed')
  await a.dialer.dialPeer(b.id, ['not an address', 'mem://nobody', 'mem://b'], true)
  const link = a.peers.get(b.id)
  t.ok(link.ring && link.outbound, 'linked, as a ring link')
  t.equal(b.peers.ringInbound(), 1, 'the far end counts it as an inbound ring link')
  t.equal(a.peers.outbound(), 0, 'not one of the `connections`')
  await a.dialer.dialPeer(b.id, ['mem://b'], true)
  t.equal(a.connections().length, 1, 'an open link to the peer will do')
  await a.connect('mem://c')
  a.ring.core.o.dropLink(c.id)
  a.ring.core.o.dropLink(b.id)
  t.same(a.connections(), ['mem://c'], 'dropLink closes the ring\'s own link, never a gossip or user link')
})

t.test('search asks the ring once joined: the member\'s signed record answers at once, "no members" is an answer, part leaves a tombstone, --flood floods', async t => {
  const { clock, nodes } = await ringOf(t, 10)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'joined')
  const [asker, member] = [nodes[7], nodes[3]]
  await member.join('chat')
  const search = async (pn, subnet, opts = {}) => {
    const rows = []
    let ended = false
    pn.search(subnet, { timeout: 20_000, ...opts }).on('data', r => rows.push(r)).on('end', () => { ended = true })
    const sent = countQueries(nodes)
    await runUntil(clock, () => ended)
    return { rows, ended, at: clock.now(), queries: countQueries(nodes) - sent }
  }
  // The member's record reaches its point within a round or two of the join.
  let found
  await runUntil(clock, () => false, 20)
  found = await search(asker, 'chat', { max: 1 })
  t.same(found.rows.map(r => ({ ...r, hops: typeof r.hops })), [{ hash: 'chat', address: member.url, hops: 'number', id: member.id, addresses: [member.url], via: 'ring' }], 'one row, via the ring, with the member\'s id')
  t.equal(found.queries, 0, 'no flood query was sent')
  const before = clock.now()
  found = await search(asker, 'nobody-here')
  t.same(found.rows, [], 'no members')
  t.ok(found.at - before < 20_000, 'the responsible node\'s "none" ends the search before its timeout')
  t.equal(found.queries, 0, 'and does not start a flood')

  found = await search(asker, 'chat', { flood: true })
  t.same(found.rows.map(r => [r.address, r.via, r.id]), [[member.url, 'flood', null]], '--flood: the member\'s answer by flood')
  t.ok(found.queries > 0, 'queries flooded')

  await member.part('chat')
  await runUntil(clock, () => false, 20)
  found = await search(asker, 'chat')
  t.same(found.rows, [], 'after part, the tombstone at the point hides the member')
})

t.test('a node not joined yet searches through a link to a node on the ring (its hello said so): the ring answers, not the flood', async t => {
  const { clock, nodes, add } = await ringOf(t, 10)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'joined')
  const member = nodes[3]
  await member.join('chat')
  await runUntil(clock, () => false, 20)
  const late = add('late', 99)
  await late.ready
  const rows = []
  let ended = false
  let statusAtStart = null
  late.on('search', e => { if (e.dir === 'out') statusAtStart ??= late.ringStatus() })
  // Made before its first link: it goes when the link to r7 opens, r7's hello saying joined.
  late.search('chat', { max: 1, timeout: 20_000 }).on('data', r => rows.push(r)).on('end', () => { ended = true })
  const sent = countQueries(nodes)
  late.connect('mem://r7').catch(() => {})
  await runUntil(clock, () => ended)
  t.not(statusAtStart, 'joined', `the search went while the node was not joined (${statusAtStart})`)
  t.ok(late.peers.get(nodes[7].id)?.peerJoined, 'r7 said in its hello it is on the ring')
  t.same(rows.map(r => [r.id, r.address, r.via]), [[member.id, member.url, 'ring']], 'the member\'s record, via the ring')
  t.equal(countQueries(nodes) - sent, 0, 'no flood query was sent')
})

t.test('a search made while the node\'s first dials are under way waits for them: the first link to open is to a node not on the ring, the next to one that is, and the ring answers', async t => {
  const { clock, nodes, add, net } = await ringOf(t, 10)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'joined')
  const member = nodes[3]
  await member.join('chat')
  await runUntil(clock, () => false, 20)
  const { late, loner, release, sent, events } = await lateWithSlowDial(t, { clock, add, nodes, net })
  const rows = []
  let ended = false
  late.search('chat', { max: 1, timeout: 20_000 }).on('data', r => rows.push(r)).on('end', () => { ended = true })
  await runUntil(clock, () => late.peers.get(loner.id)?.peerJoined === false)
  t.same(events, [], 'linked only to a node not on the ring, with a dial under way: the search waits')
  await release()
  await runUntil(clock, () => ended)
  t.same(rows.map(r => [r.id, r.via]), [[member.id, 'ring']], 'the dial opened a way into the ring, and the ring answered')
  t.equal(events.length, 1, 'the search went once')
  t.equal(countQueries([...nodes, loner]) - sent, 0, 'no flood query was sent')
})

t.test('...but not past RING_WAIT, nor half the time the search has left: a dial that never opens leaves the search to the flood once the wait is over, and one that fails at once', async t => {
  const { clock, nodes, add, net } = await ringOf(t, 10)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'joined')
  for (const [how, timeout] of [['never', 20_000], ['never', RING_WAIT], ['refused', 20_000]]) {
    const { late, loner, release, events } = await lateWithSlowDial(t, { clock, add, nodes, net }, how)
    await loner.join('chat')
    const rows = []
    let ended = false
    const ends = clock.now() + timeout
    late.search('chat', { max: 1, timeout }).on('data', r => rows.push(r)).on('end', () => { ended = true })
    let linkedAt = null
    await runUntil(clock, () => { if (linkedAt === null && late.peers.get(loner.id) !== undefined) linkedAt = clock.now(); return linkedAt !== null })
    if (how === 'refused') await release()
    await runUntil(clock, () => ended)
    const what = `${how}, a ${timeout} ms search`
    t.same(rows.map(r => [r.address, r.via]), [[loner.url, 'flood']], `${what}: the loner answers the flood`)
    t.equal(events.length, 1, `${what}: the search went once`)
    t.ok(events[0] >= linkedAt, `${what}: not before its first link opened`)
    const wait = Math.min(RING_WAIT, (ends - linkedAt) / 2)
    if (how === 'never') t.equal(events[0] - linkedAt, wait, `${what}: it flooded ${wait} ms after its first link opened`)
    else t.ok(events[0] - linkedAt < wait, `${what}: it flooded when the dial failed (${events[0] - linkedAt} ms after its first link)`)
    await loner.close()
    await late.close()
  }
})

/** How many lateWithSlowDial made: each its own names and seeds. */
let slowDials = 0

/**
 * A new node `late` with a dial under way to the ring's r7 over mem://slowN (held until
 * release(): r7 accepts it then, or with how = 'refused' it fails) and a link to a node not on
 * the ring (ring: false), which opens first. `events` gets the time of each search of late's
 * that goes.
 */
async function lateWithSlowDial (t, { clock, add, nodes, net }, how = 'accept') {
  const n = ++slowDials
  const name = `slow${n}`
  const late = add(`late-${name}`, 90 + n)
  // It dials nobody: a link it opened to late as well would stand in for late's own, and a
  // flood answer sent over the one closed would be lost (a race of duplicate links, not of this).
  const loner = add(`loner-${name}`, 80 + n, { ring: false, connections: 0 })
  await Promise.all([late.ready, loner.ready])
  let held = null
  const stop = net.listen(`mem://${name}`, (stream, info) => { held = { stream, info } })
  t.teardown(stop)
  const release = async () => {
    await runUntil(clock, () => held !== null)
    if (how === 'refused') held.stream.destroy()
    else nodes[7].accept(held.stream, held.info)
  }
  const events = []
  late.on('search', e => { if (e.dir === 'out') events.push(clock.now()) })
  late.connect(`mem://${name}`).catch(() => {})
  late.connect(loner.url).catch(() => {})
  return { late, loner, release, sent: countQueries([...nodes, loner]), events }
}

t.test('a flood goes over the gossip links only: the ring\'s links are for routing', async t => {
  const { clock, nodes } = await ringOf(t, 10)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'joined')
  await nodes[3].join('chat')
  // Every query frame each link carries, by whether the link is the ring's.
  const sent = { ring: 0, gossip: 0 }
  const watched = new WeakSet()
  const watch = () => {
    for (const pn of nodes) {
      for (const c of pn.peers) {
        if (watched.has(c)) continue
        watched.add(c)
        const send = c.sendFrame.bind(c)
        c.sendFrame = frame => {
          if (frame.includes('"type":"query"')) sent[c.ring ? 'ring' : 'gossip']++
          send(frame)
        }
      }
    }
  }
  watch()
  const ringLinks = nodes.reduce((n, pn) => n + [...pn.peers].filter(c => c.ring).length, 0)
  t.ok(ringLinks > 0, `the ring opened links of its own (${ringLinks} ends)`)
  const rows = []
  let ended = false
  nodes[7].search('chat', { flood: true, timeout: 5000 }).on('data', r => rows.push(r)).on('end', () => { ended = true })
  await runUntil(clock, () => { watch(); return ended })
  t.same(rows.map(r => [r.address, r.via]), [[nodes[3].url, 'flood']], 'the member answers the flood')
  t.ok(sent.gossip > 0, `queries went over gossip links (${sent.gossip})`)
  t.equal(sent.ring, 0, 'and none over the ring\'s')
})

/** Flood queries the nodes have handled so far (each node's seen cache holds a query once). */
function countQueries (nodes) {
  return nodes.reduce((n, pn) => n + pn.searches.seenSize, 0)
}

t.test('ring: false keeps a node to gossip and the flood', async t => {
  const { node } = memNet(t)
  const a = node('a', { ring: false })
  const b = node('b', { ring: false })
  await b.join('chat')
  await a.connect('mem://b')
  t.equal(a.ringStatus(), 'lonely')
  await t.rejects(a.getEndpointFor('foo'), /not on the ring/)
  const rows = []
  for await (const r of a.search('chat', { max: 1, timeout: 5000 })) rows.push(r)
  t.same(rows.map(r => r.via), ['flood'], 'a search floods')
  t.notOk(b.peers.get(a.id).ring, 'and no link is the ring\'s')
})

t.test('a search made before the node has any link waits for its first one', async t => {
  const { node } = memNet(t)
  const a = node('a', { ring: false })
  const b = node('b', { ring: false })
  await Promise.all([a.ready, b.ready, b.join('chat')])
  const rows = []
  const search = (async () => { for await (const r of a.search('chat', { max: 1, timeout: 5000 })) rows.push(r) })()
  await a.connect('mem://b')
  await search
  t.same(rows.map(r => [r.address, r.via]), [['mem://b', 'flood']], 'it flooded once linked (over no link, it would have found nothing)')
})

t.test('a node whose one gossip link brought the query is a leaf of the gossip overlay: it relays over no ring link', async t => {
  const { node } = memNet(t)
  const a = node('a', { ring: false })
  const b = node('b', { ring: false })
  const c = node('c', { ring: false })
  await c.join('chat')
  await a.connect('mem://b')
  await b.connect('mem://c')
  // b's link to c stands for a ring link (the ring is off here, so nothing else acts on the mark).
  b.peers.get(c.id).ring = true
  c.peers.get(b.id).ring = true
  const rows = []
  for await (const r of a.search('chat', { max: 1, timeout: 500 })) rows.push(r)
  t.same(rows, [], 'b kept the query off its ring link: no answer')
  // With no gossip link at all, b's ring link carries the flood (every link, then).
  b.peers.get(a.id).ring = true
  a.peers.get(b.id).ring = true
  for await (const r of a.search('chat', { max: 1, timeout: 5000 })) rows.push(r)
  t.same(rows.map(r => [r.address, r.via]), [['mem://c', 'flood']], 'a node with ring links only floods over them')
  // b to c is one ordered link: had b relayed the first query, c would have heard it first.
  t.equal(c.searches.seenSize, 1, 'c heard the second query only')
})

/** ringOf's n nodes, their ids in ring order, each node by its id, and the id after an id. */
async function sortedRing (t, n) {
  const r = await ringOf(t, n)
  const ids = r.nodes.map(pn => pn.id).sort()
  return { ...r, ids, byId: new Map(r.nodes.map(pn => [pn.id, pn])), next: id => ids[(ids.indexOf(id) + 1) % ids.length] }
}

const table = pn => pn.ring.core.table

t.test('a ring link the peer closed with a goodbye leaves both ends in their roles; a link that failed does not', async t => {
  const { clock, nodes, ids, byId, next } = await sortedRing(t, 6)
  const inOrder = () => nodes.every(pn => pn.ringStatus() === 'joined' && table(pn).successor() === next(pn.id) && table(pn).predecessor() === ids[(ids.indexOf(pn.id) + ids.length - 1) % ids.length])
  t.ok(await runUntil(clock, inOrder), 'joined, each with its true successor and predecessor')
  /** Closes the link between two neighbours from the far end (b's), and waits for a to hear. */
  const closeFromFar = async (a, b, tell) => {
    const link = a.peers.get(b.id)
    t.ok(link?.open, 'the neighbours are linked')
    const heard = new Promise(resolve => link.once('close', resolve))
    b.peers.get(a.id).close(tell ? 'ring link no longer needed' : 'test: the link broke', false, tell)
    // No clock step: no ring round runs (it would link them again) before the checks.
    return heard
  }

  // a's successor b says goodbye: b no longer wanted the link, and is alive.
  const a = byId.get(ids[0])
  const b = byId.get(ids[1])
  const bye = await closeFromFar(a, b, true)
  t.match(bye, { farewell: true, fault: false }, 'a heard a goodbye')
  t.notOk(table(a).isLinked(b.id), 'a has no link to b')
  t.equal(table(a).successor(), b.id, 'b is still a\'s successor')
  t.same(table(a).addressesOf(b.id), [b.url], 'known by its address, to link again when a role needs it')
  t.notOk(a.ring.core.dead.has(b.id), 'and not marked dead')
  t.equal(table(b).predecessor(), a.id, 'a is still b\'s predecessor')
  // Its status waits for the link (joined wants a linked successor); the next round dials it.
  t.ok(await runUntil(clock, () => table(a).isLinked(b.id) && a.ringStatus() === 'joined'), 'a links b again and is joined')
  t.equal(table(a).successor(), b.id, 'b still its successor')

  // c's successor d: their link fails (no goodbye, the stream just ends).
  const c = byId.get(ids[3])
  const d = byId.get(ids[4])
  const failed = await closeFromFar(c, d, false)
  t.match(failed, { farewell: false }, 'c heard no goodbye')
  t.not(table(c).successor(), d.id, 'd is no longer c\'s successor')
  t.notOk(table(c).successors().includes(d.id), 'nor in its successor list')
  t.ok(c.ring.core.dead.has(d.id), 'd is marked dead at c')
  t.not(table(d).predecessor(), c.id, 'and c is no longer d\'s predecessor')
})

t.test('a node shutting down leaves its ring as it was: each link closes with a disconnect, and nothing is mended, redialed or held against a peer', async t => {
  const { clock, nodes } = await sortedRing(t, 5)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'every node joined')
  const pn = nodes[0]
  const peers = pn.peers.all().map(c => c.peerId).sort()
  t.ok(peers.length >= 2, 'it has links to close')
  const succ = table(pn).successor()
  const pred = table(pn).predecessor()
  const seen = []
  for (const e of ['status', 'successor', 'predecessor', 'connect-failed', 'disconnect']) pn.on(e, x => seen.push([e, x]))
  const dials = []
  const dialPeer = pn.dialer.dialPeer.bind(pn.dialer)
  pn.dialer.dialPeer = (...args) => { dials.push(args[0]); return dialPeer(...args) }
  await pn.close()
  t.same(seen.filter(([e]) => e === 'disconnect').map(([, x]) => x.id).sort(), peers, 'a disconnect for each link')
  t.same(seen.filter(([e]) => e !== 'disconnect'), [], 'no ring event, no failed dial')
  t.same(dials, [], 'nothing dialed')
  t.equal(pn.ringStatus(), 'joined', 'its ring is as it was when it left')
  t.equal(table(pn).successor(), succ, 'successor kept')
  t.equal(table(pn).predecessor(), pred, 'predecessor kept')
})

t.test('a node publishes its records again when it joins with records sent while it was not joined, not at every return to joined', async t => {
  const { clock, nodes, ids, byId, next } = await sortedRing(t, 6)
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined' && table(pn).successor() === next(pn.id))), 'joined, in order')
  const a = byId.get(ids[0])
  const b = byId.get(ids[1])
  const records = a.ring.core.records
  const published = []
  const publish = records.publish.bind(records)
  records.publish = (f, cb) => { published.push(f.name === undefined ? f.type : `${f.type} ${f.name}`); return publish(f, cb) }
  const statuses = []
  a.on('status', s => statuses.push(s.to))
  /** a's successor link goes (with a goodbye): a is unbalanced until a round links b again. */
  const shake = async () => {
    statuses.length = 0
    b.peers.get(a.id).close('ring link no longer needed', false, true)
    t.ok(await runUntil(clock, () => statuses.includes('unbalanced') && a.ringStatus() === 'joined'), 'unbalanced, then joined again')
  }
  await shake()
  t.same(published, [], 'nothing published again: what went out while joined stays where it went')
  // A subnet joined while unbalanced went out with a view that may be wrong: at the join, all go again.
  let sent = false
  const once = s => {
    if (sent || s.to !== 'unbalanced') return
    sent = true
    a.ring.publishMember('chat')
  }
  a.on('status', once)
  await shake()
  a.off('status', once)
  t.same(published, ['member chat', 'presence', 'member chat'], 'the member record while unbalanced, then every record of a\'s at the join')
  published.length = 0
  await shake()
  t.same(published, [], 'and not again after')
  // Cut off (every link gone: lonely), it may have published to itself alone: at its next join, all go again.
  statuses.length = 0
  for (const c of a.peers.all()) c.close('test: cut off', false)
  t.ok(await runUntil(clock, () => statuses.includes('lonely') && a.ringStatus() === 'joined'), 'lonely, then joined again')
  t.same(published, ['presence', 'member chat'], 'every record of a\'s at the join after it was cut off')
  // A part while unbalanced: its tombstone went out with a view that may be wrong, so at the
  // join it goes again, as the records do.
  await shake()
  published.length = 0
  let parted = false
  const part = s => {
    if (parted || s.to !== 'unbalanced') return
    parted = true
    a.ring.publishMember('chat', true)
  }
  a.on('status', part)
  await shake()
  a.off('status', part)
  t.same(published, ['member chat', 'presence', 'member chat'], 'a part while unbalanced (its tombstone is a member record): at the join, a\'s records and its tombstone again')
})

t.test('a part made by a restarted node before it has any link reaches the ring once it joins: no node keeps the member record', async t => {
  const { clock, a, others, first, joined, nameFor, restart } = await restartableRing(t, 'p')
  t.ok(joined, 'four nodes joined')
  // A subnet whose point neither the restarted node nor its first link owns: the tombstone
  // reaches the point's holders only by being published (restartableRing).
  const subnet = nameFor('member', 'room')
  await a.join(subnet)
  await runUntil(clock, () => false, 40)
  const point = pointOf('member', DEFAULT_NETWORK, subnet)
  const holders = () => others.filter(pn => pn.ring.core.store.get(point, clock.now()).length > 0).map(pn => pn.id)
  t.ok(holders().length > 0, 'the member record is held on the ring')
  const a2 = await restart()
  // No link yet (the clock has not moved): the tombstone can only be stored by the node itself.
  await a2.part(subnet)
  t.equal(a2.ringStatus(), 'lonely', 'parted while alone')
  await a2.save([first.url])
  t.ok(await runUntil(clock, () => a2.ringStatus() === 'joined'), 'the restarted node joined')
  await runUntil(clock, () => false, 40)
  t.same(holders(), [], 'no node holds the member record any longer: the tombstone replaced it everywhere')
})
