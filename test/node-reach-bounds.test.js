// Connect by id's bounds, each crossed on the code that enforces it: the WebRTC sessions a node
// answers at once (in all and per id), the signalling request's deadline (and the attempt's own,
// not the link's handshake's), the introductions and dial-backs a node gives in all (a requester
// past its own rate spends none of them), the requesters whose dial-back rate is remembered, the
// time a dial-back's link has to open; and a target that restarts (found again by its new
// presence record) or dies in the middle of a WebRTC attempt (no route, clearly, and nothing
// left behind). WebRTC sessions are held open by a stand-in RTCPeerConnection on a virtual
// clock, except where the target dies: node-datachannel on 127.0.0.1 (skipped where unavailable).
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import {
  peernet, createMemNetwork, generateKeyPair, VirtualClock, seededRandom,
  SIGNAL_ACTION, SIGNAL_TIMEOUT, SIGNAL_FLUSH, MAX_WEBRTC_SESSIONS, MAX_WEBRTC_SESSIONS_PER_PEER,
  INTRODUCE_ACTION, INTRODUCE_BURST, INTRODUCE_TOTAL_BURST, INTRODUCE_TOTAL_RATE, MAX_INTRODUCE_ASKERS,
  DIALBACK_ACTION, DIALBACK_RATE, DIALBACK_BURST, DIALBACK_TOTAL_RATE, DIALBACK_TOTAL_BURST, MAX_DIALBACK_SENDERS, LINK_SETTLE
} from '../lib/index.js'
import { HANDSHAKE_TIMEOUT } from '../lib/node/connection.js'
import { WebRTCLinks } from '../lib/node/webrtc-links.js'
import { KeyedBuckets, TokenBucket, takeBoth } from '../lib/util/rate.js'
import { releaseWebRTC, webrtcUnavailable, loopbackOnly } from '../lib/transport/webrtc.js'
import { standInWrtc, SDP } from './lib/standin-webrtc.js'
import { ringOf, settle, linked, ask, memNode } from './lib/reach-net.js'
import { until, runUntil, flush } from './lib/helpers.js'

const ID = n => n.toString(16).padStart(64, '0')
const SID = n => n.toString(16).padStart(32, '0')
const offer = n => ({ sid: SID(n), signals: [{ type: 'offer', sdp: SDP }] })
/** Destroys a stream; resolves once its 'close' event has run (what frees its session). */
const end = stream => new Promise(resolve => { stream.once('close', resolve); stream.destroy() })

/** The answering side's WebRTCLinks on a virtual clock, its channels made by the stand-in. */
function answerer (t, parts = {}) {
  const clock = new VirtualClock(1_000_000)
  const { wrtc, made } = standInWrtc()
  const accepted = []
  const asked = []
  const links = new WebRTCLinks({ clock, random: seededRandom(1) }, {
    ask: async (...args) => { asked.push(args); return { ok: true } },
    accept: (stream, id) => accepted.push({ stream, id }),
    adopt: async () => {},
    options: { wrtc, timeout: 60_000 },
    ...parts
  })
  t.teardown(() => links.close())
  return { clock, links, made, accepted, asked }
}

t.test('MAX_WEBRTC_SESSIONS_PER_PEER and MAX_WEBRTC_SESSIONS: past each cap a new session is refused; a session that ends frees its place, an open one no longer counts', async t => {
  t.equal(MAX_WEBRTC_SESSIONS_PER_PEER, 2)
  t.ok(MAX_WEBRTC_SESSIONS % MAX_WEBRTC_SESSIONS_PER_PEER === 0, 'whole peers fill the node (the test below counts on it)')
  const { links, made, accepted } = answerer(t)
  const peerOf = i => ID(100 + i)
  let sid = 0
  // Each session taken: its stream, its id, its stand-in peer connection (made as it starts).
  const sessionOf = {}
  const byPeer = {}
  const take = from => {
    const n = ++sid
    t.same(links.receive(from, offer(n)), { ok: true })
    sessionOf[n] = { stream: links.sessions.get(`${from}:${SID(n)}`).stream, id: from, pc: made.at(-1) }
    ;(byPeer[from] ??= []).push(n)
    return n
  }

  // Per id: MAX_WEBRTC_SESSIONS_PER_PEER taken, the next refused, and nothing made for it.
  const first = [take(peerOf(0)), take(peerOf(0))]
  t.equal(links.size, MAX_WEBRTC_SESSIONS_PER_PEER, 'two sessions from one id')
  t.throws(() => links.receive(peerOf(0), offer(++sid)), { message: `refused: MAX_WEBRTC_SESSIONS_PER_PEER (${MAX_WEBRTC_SESSIONS_PER_PEER}) webrtc sessions from one id` }, 'a third from that id is refused')
  t.equal(links.size, MAX_WEBRTC_SESSIONS_PER_PEER, 'the refused one holds no session')
  t.equal(made.length, MAX_WEBRTC_SESSIONS_PER_PEER, 'and no peer connection was made for it')
  t.same(links.receive(peerOf(0), { sid: SID(first[0]), signals: [{ type: 'end' }] }), { ok: true }, 'a session it holds still takes its later signals')

  // In all: more ids, each within its own cap, until MAX_WEBRTC_SESSIONS; the next id is busy.
  for (let p = 1; p < MAX_WEBRTC_SESSIONS / MAX_WEBRTC_SESSIONS_PER_PEER; p++) for (let i = 0; i < MAX_WEBRTC_SESSIONS_PER_PEER; i++) take(peerOf(p))
  t.equal(links.size, MAX_WEBRTC_SESSIONS, 'MAX_WEBRTC_SESSIONS sessions at once')
  const fresh = peerOf(99)
  t.throws(() => links.receive(fresh, offer(++sid)), { message: `busy: MAX_WEBRTC_SESSIONS (${MAX_WEBRTC_SESSIONS}) webrtc sessions at once` }, 'an id with none of its own is refused as busy')
  t.equal(links.size, MAX_WEBRTC_SESSIONS)
  t.equal(made.length, MAX_WEBRTC_SESSIONS, 'no peer connection made past the cap')
  t.throws(() => links.receive(fresh, { sid: SID(++sid), signals: [{ type: 'end' }] }), /no such webrtc session \(a session starts with an offer\)/, 'signals of no session start none')

  // A session that ends (its stream closes) frees its place, in all and for its id.
  const gone = sessionOf[first[0]].stream
  await end(gone)
  t.ok(sessionOf[first[0]].pc.closed, 'its peer connection is closed')
  t.equal(links.size, MAX_WEBRTC_SESSIONS - 1, 'the ended session is gone')
  take(fresh)
  t.equal(links.size, MAX_WEBRTC_SESSIONS, 'its place taken by the id that was busy')
  t.throws(() => links.receive(peerOf(0), offer(++sid)), /busy: MAX_WEBRTC_SESSIONS/, 'full again: busy for the id that freed it too')

  // ...and for its id: peer 1, at its own cap, gets a place again when one of its sessions ends.
  t.throws(() => links.receive(peerOf(1), offer(++sid)), /busy|refused/, 'peer 1 at its cap (and the node full)')
  await end(sessionOf[byPeer[peerOf(1)][0]].stream)
  take(peerOf(1))
  t.equal(links.size, MAX_WEBRTC_SESSIONS, 'peer 1 took the place its ended session left')

  // A session whose channel opened no longer counts: neither for its id nor in all. (One
  // session of peer 3 ends first, so that the total leaves room for one more.)
  await end(sessionOf[byPeer[peerOf(3)][0]].stream)
  const [p2first] = byPeer[peerOf(2)]
  t.throws(() => links.receive(peerOf(2), offer(++sid)), /refused: MAX_WEBRTC_SESSIONS_PER_PEER/, 'peer 2 is at its own cap')
  const connected = new Promise(resolve => sessionOf[p2first].stream.once('connect', resolve))
  sessionOf[p2first].pc.open()
  await connected
  t.equal(accepted.length, 1, 'the only session handed over as a link is the one whose channel opened')
  t.equal(accepted[0].stream, sessionOf[p2first].stream)
  t.equal(accepted[0].id, peerOf(2), 'pinned to the id that signed its offer')
  take(peerOf(2))
  t.equal(byPeer[peerOf(2)].length, MAX_WEBRTC_SESSIONS_PER_PEER + 1, 'once one of its sessions is open, peer 2 starts another')
  t.throws(() => links.receive(peerOf(2), offer(++sid)), /refused: MAX_WEBRTC_SESSIONS_PER_PEER/, 'and its cap holds for those still opening')
  take(peerOf(97))
  t.equal(links.size, MAX_WEBRTC_SESSIONS + 1, 'an open session lasts as long as its stream, beside MAX_WEBRTC_SESSIONS opening')
  t.throws(() => links.receive(peerOf(98), offer(++sid)), /busy: MAX_WEBRTC_SESSIONS/, 'and the cap in all holds for those opening')

  // Closing ends every session: streams destroyed, peer connections closed.
  links.close()
  t.equal(links.size, 0, 'none left')
  await flush()
  t.ok(made.every(pc => pc.closed), 'every peer connection closed')
})

t.test('MAX_DIALBACK_SENDERS: KeyedBuckets remembers that many requesters; past it the least recent is forgotten and starts from a full burst', async t => {
  let now = 0
  const b = new KeyedBuckets(DIALBACK_RATE, DIALBACK_BURST, MAX_DIALBACK_SENDERS, () => now)
  const drain = key => { for (let i = 0; i < DIALBACK_BURST; i++) t.ok(b.take(key), `${key}: request ${i + 1} of its burst`) }
  drain('first')
  drain('second')
  t.notOk(b.take('second'), 'second: past its burst')
  t.notOk(b.take('first'), 'first: past its burst (and now the most recent)')
  for (let i = 0; i < MAX_DIALBACK_SENDERS - 2; i++) b.take(`r${i}`)
  t.equal(b.size, MAX_DIALBACK_SENDERS, 'MAX_DIALBACK_SENDERS requesters remembered')
  t.notOk(b.take('first'), 'at the cap nobody is forgotten yet: first still refused')
  // One more requester: the least recent ('second') is forgotten.
  t.ok(b.take('newcomer'), 'a newcomer past the cap is taken')
  t.equal(b.size, MAX_DIALBACK_SENDERS, 'the table never grows past the cap')
  t.notOk(b.take('first'), 'a recent one is kept (still refused)')
  drain('second')
  t.notOk(b.take('second'), 'the forgotten one started from a full burst, and no more')
  t.equal(now, 0, 'no time passed: nothing was refilled')

  // What the node's Reach and Introductions build their per-requester rates with.
  const { nodes } = await ringOf(t, 2)
  const reach = nodes[0].reach
  t.match(reach.perRequester, { rate: DIALBACK_RATE, burst: DIALBACK_BURST, max: MAX_DIALBACK_SENDERS }, 'Reach remembers MAX_DIALBACK_SENDERS requesters')
  t.match(nodes[0].introductions.perAsker, { max: MAX_INTRODUCE_ASKERS }, 'Introductions, MAX_INTRODUCE_ASKERS askers')
})

t.test('SIGNAL_TIMEOUT: a signalling request never acknowledged fails the attempt after SIGNAL_TIMEOUT, not before; a refusal fails it at once', async t => {
  // Real nodes on one virtual clock, their channels made by the stand-in (which never connects).
  const { wrtc } = standInWrtc()
  const { clock, nodes } = await ringOf(t, 4, { opts: () => ({ wrtc, webrtc: { timeout: 600_000 } }) })
  const [A, T] = [nodes[0], nodes[2]]
  // T takes the request and never answers it (a handler that never settles: no acknowledgement).
  const heard = []
  T.actions.internal(SIGNAL_ACTION, payload => { heard.push(payload); return new Promise(() => {}) })
  const started = clock.now()
  let failed = null
  const attempt = A.webrtc.connect(T.id).catch(err => { failed = err })
  await runUntil(clock, () => heard.length > 0)
  t.match(heard[0], { signals: [{ type: 'offer' }] }, 'T heard the offer')
  t.equal(A.webrtc.size, 1, 'the attempt is under way')
  // Up to just before the deadline the attempt waits.
  await runUntil(clock, () => failed !== null || clock.now() >= started + SIGNAL_FLUSH + SIGNAL_TIMEOUT - 100, Infinity, 50)
  t.equal(failed, null, 'no failure before SIGNAL_TIMEOUT')
  t.equal(A.webrtc.size, 1, 'still under way')
  await runUntil(clock, () => failed !== null, 100)
  await attempt
  t.ok(failed instanceof Error, 'the attempt failed')
  t.match(failed.message, new RegExp(`signalling failed: no reply within ${SIGNAL_TIMEOUT} ms`), 'for want of the acknowledgement')
  t.ok(clock.now() - started >= SIGNAL_TIMEOUT, 'once SIGNAL_TIMEOUT had passed')
  await runUntil(clock, () => A.webrtc.size === 0, 20)
  t.equal(A.webrtc.size, 0, 'its session is gone')
  t.notOk(A.peerList().some(p => p.transport === 'webrtc'), 'no webrtc link')

  // A refusal comes back at once: the attempt fails with it, in T's words.
  T.actions.internal(SIGNAL_ACTION, () => { throw new Error('refused: not now') })
  const at = clock.now()
  const refused = await settle(clock, A.webrtc.connect(T.id))
  t.match(refused.message, /signalling failed: refused: not now/, 'the refusal, named')
  t.ok(clock.now() - at < SIGNAL_TIMEOUT, 'without waiting for the deadline')
  await runUntil(clock, () => A.webrtc.size === 0, 20)
  t.equal(A.webrtc.size, 0)
})

t.test('a WebRTC attempt is bounded by its own deadline, not by the link\'s HANDSHAKE_TIMEOUT: the link starts when the channel opens', async t => {
  // Signals acknowledged both ways, a channel that never opens (the stand-in), and a `timeout`
  // far away: past HANDSHAKE_TIMEOUT (and SIGNAL_TIMEOUT) the attempt is still under way.
  const { wrtc, made } = standInWrtc()
  const { clock, nodes } = await ringOf(t, 4, { opts: () => ({ wrtc, webrtc: { timeout: 600_000 } }) })
  const [A, T] = [nodes[0], nodes[2]]
  let failed = null
  const attempt = A.webrtc.connect(T.id).catch(err => { failed = err })
  await runUntil(clock, () => T.webrtc.size === 1)
  t.equal(T.webrtc.size, 1, 'T took the offer')
  const started = clock.now()
  await runUntil(clock, () => failed !== null || clock.now() > started + HANDSHAKE_TIMEOUT + SIGNAL_TIMEOUT, Infinity, 250)
  t.equal(failed, null, 'not cut at HANDSHAKE_TIMEOUT')
  t.equal(A.webrtc.size, 1, 'A\'s session still under way')
  t.equal(T.webrtc.size, 1, 'and T\'s')
  t.ok(made.length >= 2 && made.every(pc => !pc.closed), 'no peer connection closed')
  // Its own end (here: the node closing its sessions) fails it, in the stream's words.
  A.webrtc.close()
  await attempt
  t.match(failed?.message, /webrtc|closed|ended/, `the attempt ends with its stream (${failed?.message})`)
  t.equal(A.webrtc.size, 0)
})

/** settle() in steps of 1 ms: a round trip over a link, with next to no time for buckets to refill. */
async function settleFine (clock, p) {
  let out
  let done = false
  p.then(v => { out = v; done = true }, err => { out = err; done = true })
  await runUntil(clock, () => done, 2000, 1)
  return out
}

t.test('INTRODUCE_TOTAL_BURST: past it introductions are refused as busy, even to an asker within its own burst; an asker past its own rate spends none of it', async t => {
  // Enough askers linked to T to spend INTRODUCE_TOTAL_BURST within their own bursts, and one more.
  const need = INTRODUCE_TOTAL_BURST / INTRODUCE_BURST + 1
  const { clock, nodes } = await ringOf(t, need + 1)
  const T = nodes[0]
  for (const pn of nodes.slice(1)) if (!linked(pn, T)) await settle(clock, pn.connect('mem://k0'))
  const askers = nodes.slice(1)
  t.ok(askers.every(pn => linked(T, pn)), `${askers.length} askers linked to T`)
  const fresh = askers.pop()
  const introduce = pn => {
    try {
      return Array.isArray(T.introductions.introduce(pn.id, null)) ? 'answered' : 'not a list'
    } catch (err) {
      return err.message
    }
  }
  const tally = (pn, n) => {
    const out = {}
    for (let i = 0; i < n; i++) { const r = introduce(pn); out[r] = (out[r] ?? 0) + 1 }
    return out
  }
  const at = clock.now()
  // One asker far past its own burst: refused by its own rate, and the node's total untouched.
  const own = `refused: over INTRODUCE_RATE (0.5 a second, burst ${INTRODUCE_BURST}) for this peer`
  t.same(tally(askers[0], INTRODUCE_BURST + INTRODUCE_TOTAL_BURST), { answered: INTRODUCE_BURST, [own]: INTRODUCE_TOTAL_BURST }, 'its burst answered, then refused by its own rate')
  // The others, each within its own burst, spend the rest of the total: every one answered.
  let answered = INTRODUCE_BURST
  for (const pn of askers.slice(1)) answered += tally(pn, INTRODUCE_BURST).answered ?? 0
  t.equal(answered, INTRODUCE_TOTAL_BURST, 'INTRODUCE_TOTAL_BURST introductions answered (the refused ones spent none of it)')
  t.equal(clock.now(), at, 'at one instant: nothing refilled')

  // One more, from an asker within its own burst, over the wire: busy, in the node's words.
  const busy = await settleFine(clock, ask(fresh, T.id, INTRODUCE_ACTION, null))
  t.ok(busy instanceof Error, 'refused')
  t.match(busy.message, new RegExp(`: busy: over INTRODUCE_TOTAL_RATE \\(${INTRODUCE_TOTAL_RATE} a second in all\\)$`), 'busy: past INTRODUCE_TOTAL_BURST')
  t.ok(clock.now() - at < 1000 / INTRODUCE_TOTAL_RATE, 'within less time than one introduction takes to refill')

  // The busy refusal spent none of its own allowance: once the total refills, its whole burst.
  clock.advance(1000)
  t.same(tally(fresh, INTRODUCE_BURST + 1), { answered: INTRODUCE_BURST, [own]: 1 }, 'its whole burst, then its own rate')
})

t.test('takeBoth: a request against a bound in all and one per key spends a token of each, or of neither', async t => {
  let now = 0
  const total = new TokenBucket(1, 2, () => now)
  const keyed = new KeyedBuckets(1, 1, 8, () => now)
  t.equal(takeBoth(total, keyed, 'a'), null, 'a: taken')
  t.equal(takeBoth(total, keyed, 'a'), 'refused', 'a: past its own burst')
  t.equal(takeBoth(total, keyed, 'a'), 'refused', '...however often it asks')
  t.equal(takeBoth(total, keyed, 'b'), null, 'b: taken (a\'s refusals spent none of the total)')
  t.equal(takeBoth(total, keyed, 'c'), 'busy', 'c: the total is spent')
  now += 1000
  t.equal(takeBoth(total, keyed, 'c'), null, 'c, once the total refilled: its own burst was untouched by the busy refusal')
})

t.test('DIALBACK_TOTAL_BURST, crossed at one instant: a requester past its own rate spends none of it; past it, busy even within a requester\'s own burst, which the refusal leaves whole', async t => {
  const { clock, nodes } = await ringOf(t, 4)
  const T = nodes[0]
  // Requesters are ids (free to make). A dial-back's checks run before its first wait: a call
  // is refused at once (its rejection handled within the microtasks that follow), or looked
  // into (T goes on to look up the requester's presence, which needs I/O and the clock).
  const pending = []
  const tally = async (from, n) => {
    const out = {}
    for (let i = 0; i < n; i++) {
      let why = 'looked into'
      pending.push(T.reach.dialBack(from, null).catch(err => { why = err.message }))
      await null
      await null
      out[why] = (out[why] ?? 0) + 1
    }
    return out
  }
  const own = `refused: over DIALBACK_RATE (one per ${1 / DIALBACK_RATE} s, burst ${DIALBACK_BURST}) for this requester`
  const busy = `busy: over DIALBACK_TOTAL_RATE (${DIALBACK_TOTAL_RATE} a second in all)`
  const at = clock.now()
  t.same(await tally(ID(1), DIALBACK_BURST + 20), { 'looked into': DIALBACK_BURST, [own]: 20 }, 'one requester: its burst looked into, then refused by its own rate')
  let looked = DIALBACK_BURST
  let r = 2
  for (; looked < DIALBACK_TOTAL_BURST && r < 2 + DIALBACK_TOTAL_BURST; r++) looked += (await tally(ID(r), Math.min(DIALBACK_BURST, DIALBACK_TOTAL_BURST - looked)))['looked into'] ?? 0
  t.equal(looked, DIALBACK_TOTAL_BURST, 'DIALBACK_TOTAL_BURST looked into, the refusals spending none of it')
  t.same(await tally(ID(r), 1), { [busy]: 1 }, 'one more, from a requester within its own burst: busy')
  t.equal(clock.now(), at, 'at one instant: nothing refilled')
  clock.advance((DIALBACK_BURST + 1) * 1000 / DIALBACK_TOTAL_RATE)
  t.same(await tally(ID(r), DIALBACK_BURST + 1), { 'looked into': DIALBACK_BURST, [own]: 1 }, 'once the total refilled: its whole burst (the busy refusal spent none of it)')
  await settle(clock, Promise.all(pending))
})

t.test('LINK_SETTLE: a dial-back reported as linked whose link opens here within LINK_SETTLE counts; one that never opens is named', async t => {
  // T only dials out; T's dial-back handler replies "linked" and dials the requester when the
  // test says: within LINK_SETTLE, or never. The requesters are nodes T has no link to in a
  // settled ring (so none on its own). WebRTC and relays off: the later steps fail at once.
  // (16 nodes: T links to its LINKED_SUCCESSORS, fingers, its predecessor and its gossip links.)
  const { clock, nodes } = await ringOf(t, 16, { dialOnly: [15], opts: () => ({ webrtc: false, relay: false }) })
  const T = nodes[15]
  const [B, C] = nodes.filter(pn => pn !== T && !linked(pn, T) && !linked(T, pn))
  t.ok(B && C, 'two listening nodes T has no link to')
  let replied = null
  let dialAfter = null
  T.actions.internal(DIALBACK_ACTION, (payload, { from }) => {
    replied = clock.now()
    const to = nodes.find(pn => pn.id === from)
    if (dialAfter !== null) clock.setTimeout(() => { T.connect(`mem://${to.name}`).catch(() => {}) }, dialAfter)
    return { linked: true }
  })

  // Never: B waits LINK_SETTLE for it, then says so (and goes on to the other steps).
  const seen = []
  B.on('peer', p => { if (p.id === T.id) seen.push(clock.now()) })
  const err = await settle(clock, B.connect(T.id))
  t.ok(err instanceof Error, 'no route')
  t.match(err.message, new RegExp(`^no route to ${T.id}: .*dial-back: it reported a link that never opened here, webrtc failed: .*relay failed: `), 'the dial-back named: a link reported that never opened')
  t.ok(replied !== null && clock.now() - replied >= LINK_SETTLE, 'after waiting LINK_SETTLE for it')
  t.same(seen, [], 'no link from T ever opened at B')

  // Within LINK_SETTLE (half of it after the reply): the dial-back counts.
  dialAfter = LINK_SETTLE / 2
  replied = null
  const r = await settle(clock, C.connect(T.id))
  t.same(r, { id: T.id, path: 'dial-back', address: null }, 'a link opened LINK_SETTLE / 2 after the reply: dial-back')
  t.ok(clock.now() - replied >= LINK_SETTLE / 2, 'it waited for it')
  t.match(T.peerList().find(p => p.id === C.id), { direction: 'out' }, 'T dialed it')
})

t.test('connect by id after the target restarts (same key, a new node with a new database at a new address): its new presence record is found, and connect works again', async t => {
  const { clock, nodes, net } = await ringOf(t, 8)
  // (k2: a node whose first presence record the ring holds where its lookups go. Not every one's
  // is, a few seconds into a ring this small: see the report of h/bounds.)
  const [A, T] = [nodes[0], nodes[2]]
  const key = generateKeyPair(Buffer.alloc(32, 3))
  t.equal(T.id, key.publicKey.toString('hex'), 'T\'s key, made again below')
  if (linked(A, T)) await settle(clock, A.disconnect(T.id))
  t.same(await settle(clock, A.connect(T.id)), { id: T.id, path: 'dial', address: `mem://${T.name}` }, 'reached at its address')

  // T goes as a process would (listener and node), and comes back elsewhere with nothing kept but its key.
  T.unlisten()
  await settle(clock, T.close())
  await runUntil(clock, () => !linked(A, T))
  t.notOk(linked(A, T), 'A saw it go')
  const name = 'k2-again'
  const T2 = peernet(new MemoryLevel(), {
    transport: net.transport(name), clock, random: seededRandom(99), keyPair: key,
    interval: 200, dialInterval: 100, connections: 2, purge: 0, addresses: [`mem://${name}`]
  })
  const stop = net.listen(`mem://${name}`, (s, info) => T2.accept(s, info))
  t.teardown(async () => { stop(); await T2.close() })
  await T2.ready
  t.equal(T2.id, T.id, 'the same id')
  await T2.save([`mem://${nodes[1].name}`])
  t.ok(await runUntil(clock, () => T2.ringStatus() === 'joined'), 'back on the ring')
  // Rounds enough for its new presence record to be published where it belongs.
  await runUntil(clock, () => false, 60)
  if (linked(A, T2)) await settle(clock, A.disconnect(T2.id))
  t.notOk(linked(A, T2), 'A has no link to it')
  const r = await settle(clock, A.connect(T.id))
  t.same(r, { id: T.id, path: 'dial', address: `mem://${name}` }, 'reached by a dial at its new address: the new presence record, not the old one')
  t.ok(linked(A, T2) && linked(T2, A), 'linked, both ends')
  // And from another node (whatever link it had to T's new self dropped first).
  const D = nodes[1]
  if (linked(D, T2)) await settle(clock, D.disconnect(T2.id))
  t.same(await settle(clock, D.connect(T.id)), { id: T.id, path: 'dial', address: `mem://${name}` }, 'another node reaches it there too')
})

/**
 * As node-webrtc-reach: B and C only dial out, both linked to A (which relays for nobody); real
 * node-datachannel on 127.0.0.1, real clock. kill(B, C) sets up C's death during B.connect(C.id)
 * and returns a function giving the promise of C's close once it is under way.
 */
async function diesMidWebRTC (t, prefix, seed, kill) {
  const net = createMemNetwork()
  // (A deadline of 2 s: C's death leaves B waiting for it at worst.)
  const webrtc = { bind: '127.0.0.1', allowHost: loopbackOnly, timeout: 2_000 }
  const make = (name, seed, listens, opts = {}) => memNode(t, net, name, seed, listens, { webrtc, ...opts })
  const A = make(`${prefix}-a`, seed, true, { relay: false })
  const B = make(`${prefix}-b`, seed + 1, false)
  const C = make(`${prefix}-c`, seed + 2, false)
  await Promise.all([A, B, C].map(pn => pn.ready))
  for (const pn of [B, C]) await pn.connect(`mem://${prefix}-a`)
  await until(() => [A, B, C].every(pn => pn.ringStatus() !== 'lonely') && A.connections().length === 2, { what: 'B and C linked to A' })
  t.notOk(linked(B, C), 'B has no link to C')

  const killed = kill(B, C)
  const err = await B.connect(C.id).then(() => null, e => e)
  t.ok(killed() !== null, 'C died during the attempt')
  await killed()
  t.ok(err instanceof Error, 'connect rejects')
  t.match(err.message, new RegExp(`^no route to ${C.id}: .*webrtc failed: (signalling failed: |webrtc: )\\S.*relay failed: `), 'no route: webrtc failed, each step named')
  t.comment(err.message)
  t.notOk(linked(B, C), 'no link')
  await until(() => B.webrtc.size === 0, { what: 'B\'s session gone' })
  t.equal(B.webrtc.size, 0, 'no WebRTC session left at B')
  t.equal(C.webrtc.size, 0, 'nor at C')
}

t.test('the target dies in the middle of a WebRTC attempt: connect rejects with no route, webrtc failed, and nothing is left behind', { skip: webrtcUnavailable() ?? false }, async t => {
  t.teardown(releaseWebRTC)
  // C dies once B has its answer (ICE under way): B's next signals find no node with C's id.
  await diesMidWebRTC(t, 'da', 11, (B, C) => {
    let killed = null
    B.actions.internal(SIGNAL_ACTION, (payload, { from }) => {
      const r = B.webrtc.receive(from, payload)
      if (from === C.id && killed === null) killed = C.close()
      return r
    })
    return () => killed
  })
  // C dies as soon as it has taken the offer (its answer never leaves): B's own deadline ends it.
  await diesMidWebRTC(t, 'ea', 21, (B, C) => {
    let killed = null
    C.actions.internal(SIGNAL_ACTION, (payload, { from }) => {
      const r = C.webrtc.receive(from, payload)
      if (killed === null) killed = new Promise(resolve => setImmediate(resolve)).then(() => C.close())
      return r
    })
    return () => killed
  })
})

t.test('an attempt whose channel never opens ends at its deadline on both sides, the answering one with no link listening to its error', async t => {
  const { wrtc } = standInWrtc()
  const { clock, nodes } = await ringOf(t, 4, { opts: () => ({ wrtc, webrtc: { timeout: 100 } }) })
  const [A, T] = [nodes[0], nodes[2]]
  let failed = null
  A.webrtc.connect(T.id).catch(err => { failed = err })
  // The deadline is the stream's, on the real clock; the signals go on the virtual one.
  for (let i = 0; i < 1000 && (failed === null || A.webrtc.size > 0 || T.webrtc.size > 0); i++) {
    clock.advance(10)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  t.match(failed?.message, /^webrtc: the data channel did not open within WEBRTC_TIMEOUT \(100 ms; /, 'the dialing side fails at its deadline')
  t.equal(A.webrtc.size, 0, 'its session gone')
  t.equal(T.webrtc.size, 0, 'and the answering side\'s (its error ended it: the node is still here)')
  t.equal(T.ringStatus(), 'joined', 'T goes on')
})
