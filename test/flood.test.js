// Floods from hostile peers over the in-memory transport: message floods, query floods with
// fresh ids, junk address answers. The flooder is rate-limited, then dropped; the caches stay at
// their caps and expire; the node goes on answering an honest peer. No timing-sensitive
// assertions: bursts are sent far above the limits, and time is a VirtualClock where it matters.
import t from 'tap'
import {
  PROTOCOL_VERSION, PEER_BURST, QUERY_BURST, QUERY_RATE, MAX_SEEN, MAX_SEEN_PER_PEER, SEEN_TTL, MAX_STRIKES, RELAY_BURST,
  VirtualClock, seededRandom, encodeFrame
} from '../lib/index.js'
import { memNet, rawPeer, HEX, NONCE } from './lib/mem-nodes.js'
import { collect } from './lib/helpers.js'

const hello = (id, extra = {}) => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX(id), nonce: NONCE, addrs: [], ...extra })
const qid = n => n.toString(16).padStart(16, '0')
const flush = async (n = 3) => { for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve)) }

/** A raw peer that dialed `to` from source `from` and finished its handshake. */
async function handshaken (net, to, from, id) {
  const p = rawPeer(net.dial(to, from))
  p.send(hello(id))
  await p.next(m => m.type === 'hello')
  return p
}

function frames (n, make) {
  const out = []
  for (let i = 0; i < n; i++) out.push(encodeFrame(make(i)))
  return Buffer.concat(out)
}

t.test('10,000 messages at once: the flooder is dropped, the node answers an honest peer', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  await a.join('x')
  const flooder = await handshaken(net, 'mem://a', 'f', 'f1')
  flooder.write(frames(10_000, () => ({ type: 'getaddrs' })))
  const bye = await flooder.next(m => m.type === 'bye')
  t.match(bye.reason, /flooding/, 'dropped as a flooder')
  await flooder.closedP
  const served = flooder.received.filter(m => m.type === 'addrs').length
  // PEER_BURST, plus what PEER_RATE refilled while the node worked through them.
  t.ok(served < PEER_BURST * 1.5, `about PEER_BURST (${PEER_BURST}) answers went out first (${served}), not 10,000`)
  const b = node('b')
  await b.connect('mem://a')
  const rows = await collect(b.search('x', { timeout: 1000, max: 1 }))
  t.equal(rows.length, 1, 'the honest peer gets its answer')
})

t.test('10,000 queries with fresh ids: rate-limited at QUERY_BURST, then dropped; relays stay within RELAY_BURST', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(1) })
  const honest = node('h', { clock, random: seededRandom(2) })
  await honest.join('x')
  await a.connect('mem://h')
  const relayed = []
  honest.on('search', e => { if (e.dir === 'in') relayed.push(e.qid) })
  const flooder = await handshaken(net, 'mem://a', 'f', 'f2')
  flooder.write(frames(10_000, i => ({ type: 'query', qid: qid(i + 1), subnet: 'nothing', hops: 1, limit: 5 })))
  const bye = await flooder.next(m => m.type === 'bye')
  t.match(bye.reason, /misbehaving.*queries over QUERY_RATE/, 'dropped for queries over its budget')
  await flooder.closedP
  await flush()
  t.ok(a.status().seen <= QUERY_BURST, `no more than QUERY_BURST (${QUERY_BURST}) queries were handled (${a.status().seen})`)
  t.ok(relayed.length <= RELAY_BURST, `the honest neighbour got at most RELAY_BURST (${RELAY_BURST}) relays (${relayed.length})`)
  t.same(a.connections(), ['mem://h'], 'and kept its link to the node')
  const rows = await collect(a.search('x', { timeout: 1000, max: 1 }).on('error', () => {}))
  // The search timer runs on the virtual clock: max: 1 ends it once the answer is in.
  t.equal(rows.length, 1, 'the node still gets answers from its honest peer')
})

/**
 * Peers each sending fresh queries at their full allowance (QUERY_BURST at once, then QUERY_RATE
 * a second) for `seconds` of virtual time; `each(second)` runs after every second. Queries of
 * limit 1, so nothing is relayed and the node only remembers them.
 */
async function floodAtAllowance (clock, peers, seconds, each = () => {}) {
  let n = 0
  for (let s = 0; s < seconds; s++) {
    const count = s === 0 ? QUERY_BURST : QUERY_RATE
    for (const p of peers) {
      p.write(frames(count, i => ({ type: 'query', qid: qid(1e9 + n + i), subnet: 'nothing', hops: 1, limit: 1 })))
      n += count
    }
    await flush()
    each(s)
    clock.advance(1000)
  }
  return n
}

/** An asker's query relayed to a member: returns how to answer it and see what came back. */
async function routedQuery (asker, member, id) {
  asker.send({ type: 'query', qid: id, subnet: 'chat', hops: 1, limit: 3 })
  await member.next(m => m.type === 'query' && m.qid === id)
  return async () => {
    member.send({ type: 'answer', qid: id, subnet: 'chat', address: 'mem://member', hops: 2 })
    // On the member's own link, after the answer: once its reply is in, the answer was handled.
    member.send({ type: 'getaddrs' })
    const before = member.received.filter(m => m.type === 'addrs').length
    await member.next(m => m.type === 'addrs' && member.received.filter(r => r.type === 'addrs').length > before)
    await flush()
    return asker.received.some(m => m.type === 'answer' && m.qid === id)
  }
}

t.test(`routes of honest searches survive every peer sending queries at its full allowance for SEEN_TTL (${SEEN_TTL} ms)`, async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(3) })
  const asker = await handshaken(net, 'mem://a', 'p', '51')
  const member = await handshaken(net, 'mem://a', 'r', '52')
  // Seven peers in all at their full budget: seven full shares (MAX_SEEN_PER_PEER) fit in
  // MAX_SEEN, so nothing but a peer's own budget limits what is remembered of it.
  const flooders = []
  for (let i = 0; i < 6; i++) flooders.push(await handshaken(net, 'mem://a', `s${i}`, `6${i}`))
  const handled = []
  a.on('search', e => { if (e.dir === 'in') handled.push(e.qid) })
  const answer = await routedQuery(asker, member, qid(1))
  // The asker floods too: each peer's ids count against its own share, MAX_SEEN_PER_PEER.
  const sent = await floodAtAllowance(clock, [asker, ...flooders], SEEN_TTL / 1000 - 1)
  t.ok(sent > 40_000, `${sent} queries at the full allowance of ${flooders.length + 1} peers`)
  t.ok([asker, member, ...flooders].every(p => !p.closed), 'no peer within its budget was dropped')
  t.ok(await answer(), 'the answer still finds its way back to the asker')
  flooders[0].send({ type: 'query', qid: qid(1), subnet: 'chat', hops: 2, limit: 3 })
  flooders[0].send({ type: 'getaddrs' })
  await flooders[0].next(m => m.type === 'addrs')
  t.equal(handled.filter(q => q === qid(1)).length, 1, 'and a late copy of the query is not handled twice')
})

t.test(`MAX_SEEN (${MAX_SEEN}): peers past it evict from the largest share; an honest route survives; all expire after SEEN_TTL`, async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(4) })
  const asker = await handshaken(net, 'mem://a', 'p', '53')
  const member = await handshaken(net, 'mem://a', 'r', '54')
  const n = Math.ceil(MAX_SEEN / MAX_SEEN_PER_PEER) + 1
  const flooders = []
  for (let i = 0; i < n; i++) flooders.push(await handshaken(net, 'mem://a', `s${i}`, (0x700 + i).toString(16)))
  const answer = await routedQuery(asker, member, qid(2))
  let most = 0
  let over = 0
  const sent = await floodAtAllowance(clock, flooders, SEEN_TTL / 1000 - 1, () => {
    const seen = a.status().seen
    most = Math.max(most, seen)
    if (seen > MAX_SEEN) over++
  })
  t.ok(sent > MAX_SEEN, `${sent} fresh ids from ${n} peers, each within its share, more than MAX_SEEN`)
  t.ok(flooders.every(p => !p.closed), 'no peer within its budget was dropped')
  t.equal(over, 0, 'the cache never held more than MAX_SEEN')
  t.equal(most, MAX_SEEN, 'it reached MAX_SEEN')
  t.ok(await answer(), 'the honest route, the smallest share, was not what got evicted')
  clock.advance(SEEN_TTL)
  t.equal(a.status().seen, 0, 'every entry expired after SEEN_TTL')
})

t.test('a route back expires with SEEN_TTL: a late answer is not relayed', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  node('a', { clock, random: seededRandom(4) })
  const asker = await handshaken(net, 'mem://a', 'p', '61')
  const member = await handshaken(net, 'mem://a', 'r', '62')
  const ask = id => {
    asker.send({ type: 'query', qid: id, subnet: 'chat', hops: 1, limit: 3 })
    return member.next(m => m.type === 'query' && m.qid === id)
  }
  const answer = id => member.send({ type: 'answer', qid: id, subnet: 'chat', address: 'mem://member', hops: 2 })

  await ask(qid(1))
  answer(qid(1))
  const back = await asker.next(m => m.type === 'answer' && m.qid === qid(1))
  t.equal(back.address, 'mem://member', 'a fresh route carries the answer back')

  await ask(qid(2))
  // A second at a time, so the peers answer the keepalive's pings as live peers do.
  for (let ms = 0; ms < SEEN_TTL; ms += 1000) {
    clock.advance(1000)
    await flush()
  }
  answer(qid(2))
  // Sent after the answer on the same node: when its reply is in, the answer would have been too.
  asker.send({ type: 'getaddrs' })
  await asker.next(m => m.type === 'addrs')
  t.notOk(asker.received.some(m => m.type === 'answer' && m.qid === qid(2)), 'after SEEN_TTL the answer goes nowhere')
})

t.test('answers to junk: a peer answering getaddrs with junk addresses is dropped after a few answers', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(5), interval: 100 })
  const junk = await handshaken(net, 'mem://a', 'j', '71')
  let answers = 0
  for (let round = 0; round < 100 && !junk.closed; round++) {
    clock.advance(100)
    await flush()
    const asked = junk.received.filter(m => m.type === 'getaddrs').length
    while (answers < asked) {
      answers++
      junk.send({ type: 'addrs', addrs: Array.from({ length: 100 }, (_, i) => i % 10 === 0 ? `mem://ok${answers}-${i}` : `file:///etc/passwd${i}`) })
    }
    await flush()
  }
  const bye = junk.received.find(m => m.type === 'bye')
  t.ok(bye, 'the junk peer was told bye')
  t.match(bye?.reason, /misbehaving.*junk/, 'for junk answers')
  t.ok(answers <= Math.ceil(MAX_STRIKES / 10) + 1, `after ${answers} junk answers`)
  t.notOk([...(await collect(a.known()))].some(r => r.address.startsWith('file:')), 'no junk was stored')
})

t.test('addrs pushed without being asked: ignored, and a peer that keeps pushing is dropped', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  const pusher = await handshaken(net, 'mem://a', 'u', '81')
  for (let i = 0; i <= MAX_STRIKES; i++) pusher.send({ type: 'addrs', addrs: [`mem://pushed${i}`] })
  const bye = await pusher.next(m => m.type === 'bye')
  t.match(bye.reason, /misbehaving.*nobody asked/)
  t.equal(a.status().known, 0, 'nothing pushed was stored')
})
