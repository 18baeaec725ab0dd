// Links between two nodes over the in-memory transport: one link per peer whatever order the
// ends see their hellos in, a keepalive that ends dead links, a `disconnect` for every link that
// goes, and what a peer of the previous protocol version is told.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { peernet, MemNetwork, VirtualClock, seededRandom, PROTOCOL_VERSION, PING_INTERVAL, PING_TIMEOUT, PING_DEFER } from '../lib/index.js'
import { DUPLICATE } from '../lib/node/dialer.js'
import { memNet, rawPeer, HEX, NONCE, LOW, HIGH } from './lib/mem-nodes.js'
import { flush } from './lib/parts.js'

const hello = (id, extra = {}) => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id, nonce: NONCE, addrs: [], ...extra })

/** A raw peer's round trip: once the answer to this getaddrs is in, all sent before it is too. */
async function roundTrip (raw) {
  const before = raw.received.filter(m => m.type === 'addrs').length
  raw.send({ type: 'getaddrs' })
  await Promise.race([raw.next(m => m.type === 'addrs' && raw.received.filter(r => r.type === 'addrs').length > before), raw.closedP])
}

/** A raw peer listening at `address` that answers a dial with a hello of id `id`. */
function rawListener (net, address, id) {
  const links = []
  net.listen(address, stream => {
    const raw = rawPeer(stream, { initiator: false, id })
    links.push(raw)
    raw.next(m => m.type === 'hello').then(() => raw.send(hello(id)))
  })
  return links
}

t.test('two links in the same direction, their hellos seen in opposite orders at the two ends: both keep the same one', async t => {
  // Every delivery waits in `queue`, tagged with the stream end that wrote it, so the test picks
  // the order: b answers on its first link (b1) first, and a hears b2's answer before b1's.
  const queue = []
  let writer = null
  const net = new MemNetwork({
    onChunk: (chunk, from) => { writer = from },
    deliver: fn => { queue.push({ fn, from: writer }); writer = null }
  })
  const clock = new VirtualClock(1_000_000)
  const opts = { clock, interval: 0, bootstrap: false, purge: 0 }
  const a = peernet(new MemoryLevel(), { ...opts, random: seededRandom(11), transport: net.transport('a') })
  const b = peernet(new MemoryLevel(), { ...opts, random: seededRandom(12), transport: net.transport('b') })
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const ends = {}
  for (const name of ['b1', 'b2']) net.listen(`mem://${name}`, (s, info) => { ends[name] = s; b.accept(s, info) })
  await Promise.all([a.ready, b.ready])
  const dials = [a.connect('mem://b1'), a.connect('mem://b2')].map(p => p.catch(() => {}))
  let b2Spoke = false
  for (let quiet = 0; quiet < 5;) {
    await flush()
    const i = queue.findIndex(d => b2Spoke || d.from === null || d.from !== ends.b1)
    if (i < 0) { quiet++; continue }
    quiet = 0
    const [d] = queue.splice(i, 1)
    if (d.from !== null && d.from === ends.b2) b2Spoke = true
    d.fn()
  }
  await Promise.all(dials)
  t.ok(b2Spoke, 'b answered on b2')
  // A link one end keeps and the other closes is closed at both: one each means the same one.
  t.equal(a.connections().length, 1, 'a kept one link')
  t.equal(b.connections().length, 1, 'b kept one link')
  t.same([a.status().handshaking, b.status().handshaking], [0, 0])
})

t.test(`keepalive: an idle link a peer dialed is pinged after PING_INTERVAL + PING_DEFER (${PING_INTERVAL + PING_DEFER} ms); no answer within PING_TIMEOUT (${PING_TIMEOUT} ms) ends it`, async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(1) })
  const gone = []
  a.on('disconnect', d => gone.push(d.reason))
  const raw = rawPeer(net.dial('mem://a', 'r'))
  raw.send(hello(HEX('31')))
  await raw.next(m => m.type === 'hello')
  const pings = () => raw.received.filter(m => m.type === 'ping').length
  raw.send({ type: 'ping' })
  t.same(await raw.next(m => m.type === 'pong'), { type: 'pong' }, 'a ping is answered')

  // Busy: the peer says something every half interval, so the link is never idle.
  for (let i = 0; i < 6; i++) {
    clock.advance(PING_INTERVAL / 2)
    await roundTrip(raw)
  }
  t.equal(pings(), 0, 'a busy link is never pinged')

  // The peer dialed: it is the one to ping an idle link; a stands by for PING_DEFER more.
  clock.advance(PING_INTERVAL)
  await flush()
  t.equal(pings(), 0, 'not at PING_INTERVAL: the dialer pings first')
  clock.advance(PING_DEFER)
  await raw.next(m => m.type === 'ping')
  await roundTrip(raw) // the raw peer answered with a pong before this
  clock.advance(PING_TIMEOUT)
  await flush()
  t.same(gone, [], 'answered: the link stays')
  t.equal(a.connections().length, 1)

  // Idle again since the pong: the next ping goes out PING_INTERVAL + PING_DEFER after it. The peer is gone.
  raw.silent = true
  clock.advance(PING_INTERVAL + PING_DEFER - PING_TIMEOUT)
  await raw.next(m => m.type === 'ping' && pings() === 2)
  clock.advance(PING_TIMEOUT - 1)
  await flush()
  t.same(gone, [], 'not before PING_TIMEOUT')
  clock.advance(1)
  await flush()
  t.match(gone, [new RegExp(`^no answer to ping within ${PING_TIMEOUT / 1000} s \\(PING_TIMEOUT\\)$`)], 'a silent link ends with a reason')
  t.same(a.connections(), [])
  t.equal(a.keepalive.size, 0, 'and the keepalive forgets the link it closed itself')
})

t.test('keepalive: a link the peer ends is forgotten at once, its timer with it (the node tells the keepalive)', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(3) })
  const raw = rawPeer(net.dial('mem://a', 'r'))
  raw.send(hello(HEX('32')))
  await raw.next(m => m.type === 'hello')
  await roundTrip(raw)
  t.equal(a.keepalive.size, 1, 'the open link is watched')
  const timers = clock.pending
  const gone = new Promise(resolve => a.once('disconnect', resolve))
  raw.raw.destroy() // the peer's process is gone: its link drops, no goodbye
  await gone
  t.equal(a.keepalive.size, 0, 'forgotten as it closed, not when its ping would have been due')
  t.ok(clock.pending < timers, 'its timer is gone too')
})

t.test('a peer back from a crash gets in once its dead link has been found dead, not never', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(2) })
  const old = rawListener(net, 'mem://x', HIGH)
  await a.connect('mem://x')
  const gone = []
  a.on('disconnect', d => gone.push(d.reason))
  t.ok(a.id < HIGH, 'the link a dialed wins over any link the peer dials (lower dialer id)')
  // The peer crashed: its old link says nothing more, and it dials in again.
  old[0].silent = true
  const again = rawPeer(net.dial('mem://a', 'x'))
  again.send(hello(HIGH))
  t.equal((await again.next(m => m.type === 'bye')).reason, DUPLICATE, 'refused while the old link looks alive')
  clock.advance(PING_TIMEOUT)
  await flush()
  t.match(gone, [/no answer to ping/], 'the duplicate made a ping the old link at once: silent, it ended')
  const third = rawPeer(net.dial('mem://a', 'x'))
  third.send(hello(HIGH))
  await third.next(m => m.type === 'hello')
  await roundTrip(third)
  t.notOk(third.received.some(m => m.type === 'bye'), 'the peer is back in')
  t.same(a.connections(), [HIGH])
})

t.test('a link replaced by a newer one to the same peer gets its own disconnect event', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  const old = rawListener(net, 'mem://low', LOW)
  await a.connect('mem://low')
  const gone = []
  a.on('disconnect', d => gone.push(d))
  // The peer dials us too; it has the lower id, so the link it dialed is the one both keep.
  const newer = rawPeer(net.dial('mem://a', 'low'))
  newer.send(hello(LOW))
  await newer.next(m => m.type === 'hello')
  t.equal((await old[0].next(m => m.type === 'bye')).reason, DUPLICATE, 'the old link is told why it goes')
  await roundTrip(newer)
  t.same(gone.map(d => [d.id, d.direction, d.reason]), [[LOW, 'out', DUPLICATE]], 'a disconnect event for the replaced link')
  t.same(a.peerList().map(p => [p.id, p.direction]), [[LOW, 'in']])
})

t.test('a peer of protocol version 1 (no keepalive, no link nonce) is refused at hello with both versions named', async t => {
  const { net, node } = memNet(t)
  node('a')
  const old = rawPeer(net.dial('mem://a', 'old'))
  // A version 1 hello, as those nodes send it: no nonce.
  old.send({ type: 'hello', version: 1, network: 'peernet', id: HEX('41'), addrs: [] })
  const bye = await old.next(m => m.type === 'bye')
  t.equal(bye.reason, `protocol version 1 is not supported (this node speaks ${PROTOCOL_VERSION})`)
  t.notOk(old.received.some(m => m.type === 'hello'), 'and gets no hello')
  await old.closedP
})

t.test('close() stops the node\'s timed jobs at once: a clock that moves before close\'s next turn runs none of them', async t => {
  // A virtual clock can fire timers in the same turn as close() (the simulation's kill did: a
  // crashed node ran one more ring round and dialed live nodes).
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(1), interval: 1000 })
  const raw = rawPeer(net.dial('mem://a', 'r'))
  raw.send(hello(HEX('32')))
  await raw.next(m => m.type === 'hello')
  const asks = () => raw.received.filter(m => m.type === 'getaddrs').length
  clock.advance(1000)
  await raw.next(m => m.type === 'getaddrs')
  t.equal(asks(), 1, 'a gossip round asks the peer')
  const closing = a.close()
  clock.advance(10_000)
  await closing
  await raw.closedP
  t.equal(asks(), 1, 'no round ran after close()')
})
