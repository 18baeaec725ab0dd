// The handshake on its own: our hello, and what a peer's hello makes of a link.
import t from 'tap'
import { PROTOCOL_VERSION, MAX_HELLO_ADDRS, displaceCap } from '../lib/index.js'
import { Handshake, MAX_INBOUND } from '../lib/node/handshake.js'
import { Holds } from '../lib/node/holds.js'
import { Keepalive } from '../lib/node/keepalive.js'
import { DUPLICATE, SELF } from '../lib/node/dialer.js'
import { partsContext, link, flush } from './lib/parts.js'
import { NONCE } from './lib/mem-nodes.js'

/** A link whose secure handshake proved the key of `id` (what the secure layer does for the node). */
const proven = (c, id) => { c.remoteId = id; return c }
const hello = (id, extra = {}) => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id, nonce: NONCE, addrs: [], ...extra })

async function setup (t, opts = {}, context = {}) {
  const parts = await partsContext(t, context)
  const holds = new Holds(() => parts.clock.now())
  const keepalive = new Keepalive(parts.clock)
  const handshake = new Handshake(parts.ctx, parts.peers, parts.own, holds, keepalive, { network: 'peernet', maxInbound: MAX_INBOUND, ringInboundCap: () => 2, opened: () => {}, groupOf: h => 'g:' + h, ...opts })
  return { ...parts, handshake, holds, keepalive }
}

t.test('our hello: version, network, id, advertised addresses (bounded), the address we dialed', async t => {
  const { ctx, handshake, own, table } = await setup(t)
  for (let i = 0; i < MAX_HELLO_ADDRS + 2; i++) own.advertise(`mem://me${i}`)
  const { c, raw } = link(ctx, { outbound: true, dialed: 'mem://them' })
  handshake.greet(c)
  const m = await raw.next()
  t.match(c.nonce, /^[0-9a-f]{16}$/, 'a fresh nonce for the link')
  t.same(m, { type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', addrs: own.announced.slice(0, MAX_HELLO_ADDRS), dialed: 'mem://them', nonce: c.nonce })
})

t.test('an inbound hello opens the link: our hello answers it; sources, a claimed address (only a claim), a candidate of ours, addresses learned', async t => {
  const { ctx, handshake, peers, own, table, events } = await setup(t)
  const { c, raw } = link(ctx, { peers })
  handshake.onMessage(proven(c, 'aa'), hello('aa', { addrs: ['mem://a', 'junk', 'mem://a2'], dialed: 'mem://me' }))
  t.match(await raw.next(), { type: 'hello', network: 'peernet' })
  t.ok(c.open)
  t.equal(peers.get('aa'), c)
  t.equal(c.address, undefined, 'no address answers for it: it only says so')
  t.equal(c.claimed, 'mem://a', 'it claims the first address it offers')
  t.equal(c.peerNonce, NONCE)
  t.same(own.list(), ['mem://me'], 'what it dialed is a candidate address of ours')
  t.ok(table.has('mem://a') && table.has('mem://a2'))
  t.same(events, [['peer', { id: 'aa', address: null, claimed: 'mem://a', direction: 'in' }]])
})

t.test('a hello into a full table: its addresses displace at most displaceCap(n) entries, the rest are left out', async t => {
  const { ctx, handshake, peers, table } = await setup(t, {}, { table: { size: 4, informantShare: 1 } })
  table.learn(['mem://old0', 'mem://old1', 'mem://old2', 'mem://old3'], ['id:zz'])
  t.equal(table.learnedCount, 4, 'the table is full')
  const offered = ['mem://a0', 'mem://a1', 'mem://a2', 'mem://a3']
  const { c } = link(ctx, { peers })
  handshake.onMessage(proven(c, 'aa'), hello('aa', { addrs: offered }))
  t.ok(c.open, 'the link opens all the same')
  t.equal(displaceCap(offered.length), 1)
  t.same(offered.filter(a => table.has(a)), ['mem://a0'], 'the first offered address took one entry\'s place')
  t.equal(table.learnedCount, 4, 'the table stays at its bound')
})

t.test('an outbound hello counts a success on the address we dialed', async t => {
  const { ctx, handshake, peers, table } = await setup(t)
  await table.save(['mem://b'])
  const { c } = link(ctx, { peers, outbound: true, dialed: 'mem://b', address: 'mem://b' })
  handshake.onMessage(proven(c, 'bb'), hello('bb'))
  t.equal(table.get('mem://b').ok, 1)
})

t.test('refusals: our own id, another network, another version, a message before hello, too many inbound', async t => {
  const { ctx, handshake, peers, own, table } = await setup(t, { maxInbound: 1 })
  const self = link(ctx, { peers, outbound: true, dialed: 'mem://alias' })
  handshake.onMessage(proven(self.c, table.id), hello(table.id))
  t.equal(self.c.closeInfo.reason, SELF)
  t.ok(own.has('mem://alias'), 'the address is remembered as ours')
  const red = link(ctx, { peers })
  handshake.onMessage(proven(red.c, 'cc'), hello('cc', { network: 'red' }))
  t.match((await red.raw.next(m => m.type === 'bye')).reason, /network mismatch/)
  const old = link(ctx, { peers })
  handshake.onMessage(proven(old.c, 'dd'), hello('dd', { version: PROTOCOL_VERSION + 1 }))
  t.match((await old.raw.next(m => m.type === 'bye')).reason, /protocol version/)
  const early = link(ctx, { peers })
  handshake.onMessage(early.c, { type: 'getaddrs' })
  t.match((await early.raw.next(m => m.type === 'bye')).reason, /expected hello/)
  const first = link(ctx, { peers })
  handshake.onMessage(proven(first.c, 'ee'), hello('ee'))
  const second = link(ctx, { peers })
  handshake.onMessage(proven(second.c, 'ff'), hello('ff'))
  t.match((await second.raw.next(m => m.type === 'bye')).reason, /too many connections/)
  t.equal(peers.size, 1)
  for (const r of [red, old, early, second]) t.notOk(r.raw.received.some(m => m.type === 'hello'), 'a refused dialer gets a bye and no hello')
})

t.test('a held peer is refused by its id, whatever address it comes from, and told when to retry', async t => {
  const { ctx, handshake, peers, holds, events } = await setup(t)
  holds.hold('aa', ['mem://a'])
  const { c, raw } = link(ctx, { peers, address: 'mem://elsewhere' })
  handshake.onMessage(proven(c, 'aa'), hello('aa'))
  t.match((await raw.next()).reason, /^you were disconnected by the user of this node; retry in 60 s$/, 'the first thing it hears')
  t.notOk(c.open)
  t.match(events, [['refused', { address: 'mem://elsewhere', reason: 'peer held after the user disconnected it (60 s left)' }]])
  const out = link(ctx, { peers, outbound: true, dialed: 'mem://a3' })
  handshake.onMessage(proven(out.c, 'aa'), hello('aa'))
  t.notOk(out.c.open, 'a link we dialed that reaches a held peer closes too')
  t.ok(holds.isHeldAddress('mem://a3'), 'and its address is held with the peer')
})

t.test('a second link to a peer: the loser closes as a duplicate, one link stays', async t => {
  const { ctx, handshake, peers, table } = await setup(t)
  const low = '0'.repeat(32)
  t.ok(low < table.id)
  const first = link(ctx, { peers })
  handshake.onMessage(proven(first.c, low), hello(low))
  // We dialed the peer too; the peer has the lower id, so the link it dialed (first) stays.
  const mine = link(ctx, { peers, outbound: true, dialed: 'mem://low' })
  handshake.onMessage(proven(mine.c, low), hello(low))
  await flush()
  t.equal(mine.c.closeInfo.reason, DUPLICATE)
  t.equal(peers.get(low), first.c)
  t.equal(peers.size, 1)
})

t.test('ring links: the dialer says so in its hello; inbound ones have their own cap, apart from MAX_INBOUND; the ring hears of each open link', async t => {
  const opened = []
  const { ctx, handshake, peers } = await setup(t, { maxInbound: 1, ringInboundCap: id => (id.startsWith('n') ? 2 : 1), opened: c => opened.push(c.peerId) })
  const out = link(ctx, { outbound: true, ring: true, dialed: 'mem://r' })
  handshake.greet(out.c)
  t.equal((await out.raw.next()).ring, true, 'a ring dial says ring: true')
  const plain = link(ctx, { outbound: true, dialed: 'mem://p' })
  handshake.greet(plain.c)
  t.notOk('ring' in await plain.raw.next(), 'a gossip dial says nothing of the ring')

  const gossip = link(ctx, { peers })
  handshake.onMessage(proven(gossip.c, 'g1'), hello('g1'))
  const ring = link(ctx, { peers })
  handshake.onMessage(proven(ring.c, 'r1'), hello('r1', { ring: true }))
  t.ok(ring.c.open && ring.c.ring, 'a ring link is let in past a full MAX_INBOUND')
  t.same([peers.inbound(), peers.ringInbound()], [1, 1], 'each counted against its own cap')
  const ring2 = link(ctx, { peers })
  handshake.onMessage(proven(ring2.c, 'r2'), hello('r2', { ring: true }))
  t.match((await ring2.raw.next(m => m.type === 'bye')).reason, /too many ring connections/, 'past the ring cap: refused')
  const near = link(ctx, { peers })
  handshake.onMessage(proven(near.c, 'n1'), hello('n1', { ring: true }))
  t.ok(near.c.open, 'the cap is the ring\'s for the id asking: one it gives more room (a node just before it) is let in')
  t.equal(peers.ringInbound(), 2)
  const near2 = link(ctx, { peers })
  handshake.onMessage(proven(near2.c, 'n2'), hello('n2', { ring: true }))
  t.match((await near2.raw.next(m => m.type === 'bye')).reason, /too many ring connections/, 'and past that room, refused as well')
  const gossip2 = link(ctx, { peers })
  handshake.onMessage(proven(gossip2.c, 'g2'), hello('g2'))
  t.match((await gossip2.raw.next(m => m.type === 'bye')).reason, /too many connections/, 'and past MAX_INBOUND as before')
  t.same(opened, ['g1', 'r1', 'n1'], 'the ring hears of the links that opened, and only those')
})

t.test('a node on the ring says so in its hello (joined); the link keeps what the peer said', async t => {
  let joined = false
  const { ctx, handshake, peers } = await setup(t, { joined: () => joined })
  const before = link(ctx, { outbound: true, dialed: 'mem://a' })
  handshake.greet(before.c)
  t.notOk('joined' in await before.raw.next(), 'not on the ring: nothing said')
  joined = true
  const after = link(ctx, { outbound: true, dialed: 'mem://b' })
  handshake.greet(after.c)
  t.equal((await after.raw.next()).joined, true, 'on the ring: joined: true')

  const on = link(ctx, { peers })
  handshake.onMessage(proven(on.c, 'j1'), hello('j1', { joined: true }))
  const off = link(ctx, { peers })
  handshake.onMessage(proven(off.c, 'j2'), hello('j2'))
  t.same([on.c.peerJoined, off.c.peerJoined], [true, false], 'each link keeps what its peer\'s hello said')
})
