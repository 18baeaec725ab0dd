// The node's protocol logic over the in-memory transport: handshake, gossip, search, limits.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { peernet, PEER_BURST, PROTOCOL_VERSION, MAX_FRAME, DISCONNECT_HOLD, VirtualClock, seededRandom } from '../lib/index.js'
import { memNet, rawPeer, HEX, NONCE } from './lib/mem-nodes.js'
import { until, once, collect } from './lib/helpers.js'
import { flush } from './lib/parts.js'

const hello = (id, extra = {}) => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX(id), nonce: NONCE, addrs: [], ...extra })

/** Chain a-b-c-…: each node dials the one before it. */
async function chain (node, n, opts = {}) {
  const list = []
  for (let i = 0; i < n; i++) {
    const pn = node(`n${i}`, opts)
    if (i > 0) await pn.connect(list[i - 1].url)
    list.push(pn)
  }
  return list
}

/**
 * The rows a search gets before `later`, a search from the same node over the same links sent
 * after it, has its first answer: links deliver in order, so by then any answer to the first
 * would have arrived too. Negative results that rest on order, not on a timeout.
 */
async function rowsBefore (pn, [subnet, opts], [laterSubnet, laterOpts]) {
  const ac = new AbortController()
  const rows = []
  pn.search(subnet, { ...opts, timeout: 10_000, signal: ac.signal, flood: true }).on('data', r => rows.push(r))
  const later = await collect(pn.search(laterSubnet, { ...laterOpts, timeout: 10_000, max: 1, flood: true }))
  ac.abort()
  return { rows, later }
}

t.test('handshake: both sides see the connection, by address or id', async t => {
  const { node } = memNet(t)
  const a = node('a')
  const b = node('b', { addresses: ['mem://b'] })
  const seen = once(a, 'peer')
  await b.connect('mem://a')
  const p = await seen
  t.equal(p.direction, 'in')
  t.same([p.address, p.claimed], [null, 'mem://b'], 'inbound peer: the address it advertised is a claim')
  t.same(b.connections(), ['mem://a'])
  t.same(a.connections(), [b.id], 'so it goes by its id')
  const st = await b.getStats('mem://a')
  t.equal(st.connections.ok, 1)
  t.equal(st.saved, true, 'connect records the address as the user\'s')
})

t.test('connect saves the address only once connected: a failed one is not kept and redialed', async t => {
  const { node } = memNet(t)
  const a = node('a')
  await t.rejects(a.connect('mem://nobody'), /nobody listens/)
  t.notOk(a.table.has('mem://nobody'), 'a typo is not kept')
  t.equal(a.status().saved, 0)
  await a.save(['mem://saved-before'])
  await t.rejects(a.connect('mem://saved-before'), /nobody listens/)
  t.equal((await a.getStats('mem://saved-before')).saved, true, 'an address saved before stays saved')
  node('b')
  a.table.learn(['mem://b'], ['id:someone'])
  await a.connect('mem://b')
  const st = await a.getStats('mem://b')
  t.match(st, { saved: true, connections: { ok: 1, fail: 0 } }, 'a learned address becomes the user\'s, its success counted once')
})

t.test('a connection to oneself is detected and dropped, and not dialed again', async t => {
  const { node } = memNet(t)
  const a = node('a')
  await t.rejects(a.connect('mem://a'), /connected to itself/)
  t.same(a.connections(), [])
  await t.rejects(a.connect('mem://a'), /own address/)
})

t.test('nodes of different network ids refuse each other with a clear reason', async t => {
  const { node } = memNet(t)
  const a = node('a', { network: 'red' })
  const b = node('b', { network: 'blue' })
  const refused = once(a, 'refused')
  await t.rejects(b.connect('mem://a'), /network mismatch: this node is on "blue", the peer on "red"|peer refused: network mismatch/)
  t.match((await refused).reason, /network mismatch/)
  t.same(a.connections(), [])
  t.same(b.connections(), [])
})

t.test('a peer speaking another protocol version is refused', async t => {
  const { node, net } = memNet(t)
  node('a')
  const raw = rawPeer(net.dial('mem://a', 'x'))
  raw.send(hello('1', { version: PROTOCOL_VERSION + 1 }))
  const bye = await raw.next(m => m.type === 'bye')
  t.match(bye.reason, /protocol version/)
  await raw.closedP
})

t.test('two nodes dialing each other at once keep exactly one link', async t => {
  const { node } = memNet(t)
  const a = node('a', { addresses: ['mem://a'] })
  const b = node('b', { addresses: ['mem://b'] })
  await Promise.all([a.connect('mem://b'), b.connect('mem://a')])
  await until(() => a.connections().length === 1 && b.connections().length === 1 && a.status().handshaking === 0 && b.status().handshaking === 0)
  // One link each is not enough: both ends must have kept the same one, so one end dialed it.
  t.same([a.peerList()[0].direction, b.peerList()[0].direction].sort(), ['in', 'out'], 'both ends kept the same link')
})

t.test('gossip: a node learns the addresses its peers know', async t => {
  const { node } = memNet(t)
  // Gossip alone: the ring's stabilise answers would bring mem://c too, and sooner.
  const hub = node('hub', { addresses: ['mem://hub'], ring: false })
  const a = node('a', { addresses: ['mem://a'], interval: 10, ring: false })
  const c = node('c', { addresses: ['mem://c'], ring: false })
  await c.connect('mem://hub')
  await a.connect('mem://hub')
  await until(() => a.table.has('mem://c'), { what: 'a to learn mem://c' })
  const st = await a.getStats('mem://hub')
  t.ok(st.nodes.rx > 0, 'rx counted on the informant')
  t.equal((await hub.getStats('mem://a')).nodes.tx, 0, 'nothing counted on an address the asker only claims')
  await hub.connect('mem://a') // reaches a: mem://a answers for it now
  await until(async () => (await hub.getStats('mem://a')).nodes.tx > 0, { what: 'tx counted on the asker once its address is confirmed' })
  t.same(a.table.get('mem://c').sources.slice(0, 1), [`id:${hub.id}`], 'the informant is recorded')
  t.ok(hub.table.has('mem://a') && hub.table.has('mem://c'), 'hello addresses are learned')
})

t.test('addresses a peer pushes without being asked are ignored', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  const raw = rawPeer(net.dial('mem://a', 'x'))
  raw.send(hello('2'))
  await raw.next(m => m.type === 'hello')
  raw.send({ type: 'addrs', addrs: ['mem://pushed'] })
  raw.send({ type: 'getaddrs' })
  await raw.next(m => m.type === 'addrs')
  t.notOk(a.table.has('mem://pushed'))
})

t.test('gossiped addresses outside the allow-list are refused, never dialed', async t => {
  const { net } = memNet(t)
  const dialed = []
  const transport = addr => { dialed.push(addr); return net.dial(addr, 'a') }
  const a = peernet(new MemoryLevel(), { transport, interval: 10, bootstrap: true, dialInterval: 5, purge: 0, connections: 50 })
  t.teardown(() => a.close())
  const events = []
  a.on('gossip', e => events.push(e))
  net.listen('mem://evil', stream => {
    const raw = rawPeer(stream, { initiator: false, id: HEX('3') })
    raw.send(hello('3'))
    raw.next(m => m.type === 'getaddrs').then(() => raw.send({
      type: 'addrs',
      addrs: ['notaurl', 'file:///etc/passwd', 'ssh://x', '-', 'ls -la', 'http://127.0.0.1:1', 'constructor://x:1', 'mem://fine']
    }))
  })
  await a.connect('mem://evil')
  await until(() => events.some(e => e.dir === 'rx'), { what: 'the gossip answer' })
  const rx = events.find(e => e.dir === 'rx')
  t.equal(rx.refused, 7, 'seven refused')
  const known = (await collect(a.known())).map(r => r.address).sort()
  t.same(known, ['mem://evil', 'mem://fine'])
  await until(() => dialed.includes('mem://fine'), { what: 'the good address to be dialed' })
  t.same(dialed.filter(d => !d.startsWith('mem://')), [], 'nothing but mem:// was handed to the transport')
})

t.test('a peer sending garbage or an oversize frame is dropped; the node keeps serving', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  await a.join('x')

  const junk = rawPeer(net.dial('mem://a', 'j'))
  junk.write(Buffer.from([0, 0, 0, 5, 104, 101, 108, 108, 111]))
  const bye1 = await junk.next(m => m.type === 'bye')
  t.match(bye1.reason, /protocol violation: frame is not valid JSON/)

  const big = rawPeer(net.dial('mem://a', 'b'))
  const head = Buffer.alloc(4)
  head.writeUInt32BE(MAX_FRAME + 1)
  big.write(head)
  const bye2 = await big.next(m => m.type === 'bye')
  t.match(bye2.reason, /exceeds MAX_FRAME/)

  const wrong = rawPeer(net.dial('mem://a', 'w'))
  wrong.send(hello('4'))
  wrong.send({ type: 'query', qid: 'zz', subnet: 'x', hops: 1, limit: 3 })
  const bye3 = await wrong.next(m => m.type === 'bye')
  t.match(bye3.reason, /query.qid is malformed/)

  const early = rawPeer(net.dial('mem://a', 'e'))
  early.send({ type: 'getaddrs' })
  t.match((await early.next(m => m.type === 'bye')).reason, /expected hello/)

  await Promise.all([junk.closedP, big.closedP, wrong.closedP, early.closedP])
  const b = node('b')
  await b.connect('mem://a')
  const rows = await collect(b.search('x', { timeout: 500 }))
  t.same(rows.map(r => r.hops), [1], 'still answers an honest peer')
})

t.test('a peer that floods beyond PEER_BURST is dropped and recorded as a failure', async t => {
  const { node, net } = memNet(t)
  const a = node('a', { addresses: ['mem://a'] })
  net.listen('mem://flood', stream => {
    const raw = rawPeer(stream, { initiator: false, id: HEX('5') })
    raw.send(hello('5', { addrs: ['mem://flood'] }))
    raw.next(m => m.type === 'hello').then(() => {
      const frames = []
      for (let i = 0; i < PEER_BURST + 50; i++) frames.push(Buffer.from(JSON.stringify({ type: 'getaddrs' })))
      raw.write(Buffer.concat(frames.map(f => { const h = Buffer.alloc(4); h.writeUInt32BE(f.length); return Buffer.concat([h, f]) })))
    })
  })
  const gone = once(a, 'disconnect')
  await a.connect('mem://flood')
  t.match((await gone).reason, /flooding/)
  t.equal((await a.getStats('mem://flood')).connections.fail, 1)
})

t.test('search: a chain of 5 finds the far end with the right hop count', async t => {
  const { node } = memNet(t)
  const [first, , , , last] = await chain(node, 5)
  await first.join('chat')
  const rows = await collect(last.search('chat', { timeout: 1000, flood: true }))
  t.same(rows, [{ hash: 'chat', address: 'mem://n0', hops: 4, id: null, addresses: ['mem://n0'], via: 'flood' }], 'an accept-only node is found 4 hops away by the address it was dialed at')
  t.same((await last.getStats('mem://n0')).subnets, ['chat'], 'the answer is remembered against the address')
  const again = await collect(last.search('chat', { timeout: 1000, flood: true }))
  t.same(again.map(r => r.hops), [4], 'a repeated search works')
  const near = await rowsBefore(last, ['chat', { hops: 3 }], ['chat', { hops: 4 }])
  t.same(near.later.map(r => r.hops), [4], 'a hop limit of 4 reaches the member...')
  t.same(near.rows, [], '...and a limit of 3, sent first, does not: the hop limit is respected')
  await first.part('chat')
  await first.join('later')
  const parted = await rowsBefore(last, ['chat', {}], ['later', {}])
  t.same(parted.later.map(r => r.address), ['mem://n0'], 'the node still answers for a subnet it is in...')
  t.same(parted.rows, [], '...and no longer for the one it parted')
})

t.test('search: a query is handled once per node, answers come back once', async t => {
  const { node } = memNet(t)
  // a square with a diagonal: many paths from d to a
  const a = node('a'); const b = node('b'); const c = node('c'); const d = node('d')
  await b.connect('mem://a'); await c.connect('mem://a'); await d.connect('mem://b'); await d.connect('mem://c'); await c.connect('mem://b')
  await a.join('s')
  const handled = []
  for (const pn of [a, b, c]) pn.on('search', e => { if (e.dir === 'in') handled.push(pn.name) })
  const rows = await collect(d.search('s', { timeout: 500 }))
  t.equal(rows.length, 1)
  t.equal(rows[0].hops, 2)
  t.same(handled.sort(), ['a', 'b', 'c'], 'each node handled the query once')
})

t.test('search ends at max, on abort, and at the timeout', async t => {
  const { node } = memNet(t)
  const hub = node('hub')
  const members = []
  for (let i = 0; i < 3; i++) {
    const m = node(`m${i}`, { addresses: [`mem://m${i}`] })
    await m.connect('mem://hub')
    await m.join('many')
    members.push(m)
  }
  const asker = node('asker')
  await asker.connect('mem://hub')
  t.equal((await collect(asker.search('many', { max: 2, timeout: 5000 }))).length, 2, 'max')
  const ac = new AbortController()
  const s = asker.search('nobody-here', { timeout: 60000 })
  const s2 = asker.search('nobody', { timeout: 60000, signal: ac.signal })
  ac.abort()
  t.same(await collect(s2), [], 'abort ends it')
  t.equal(asker.status().searches, 1)
  s.destroy()
  const all = await collect(asker.search('many', { max: 3, timeout: 10_000 }))
  t.same(all.map(r => r.address).sort(), ['mem://m0', 'mem://m1', 'mem://m2'])
  await t.rejects(collect(asker.search('', {})), /non-empty/)
  await t.rejects(collect(asker.search('x', { hops: 0 })), /hops must be/)
})

t.test('a member that knows no address of its own is filled in by the neighbour that dialed it', async t => {
  const { node, net } = memNet(t)
  net.listen('mem://quiet', stream => {
    const raw = rawPeer(stream, { initiator: false, id: HEX('6') })
    raw.send(hello('6'))
    raw.next(m => m.type === 'query').then(q => raw.send({ type: 'answer', qid: q.qid, subnet: q.subnet, address: '', hops: q.hops }))
  })
  const b = node('b')
  await b.connect('mem://quiet')
  const c = node('c')
  await c.connect('mem://b')
  const rows = await collect(c.search('q', { timeout: 500, flood: true }))
  t.same(rows, [{ hash: 'q', address: 'mem://quiet', hops: 2, id: null, addresses: ['mem://quiet'], via: 'flood' }])
})

t.test('an answer for a query nobody asked is dropped', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  const raw = rawPeer(net.dial('mem://a', 'r'))
  raw.send(hello('7'))
  await raw.next(m => m.type === 'hello')
  const events = []
  a.on('answer', e => events.push(e))
  raw.send({ type: 'answer', qid: 'ab'.repeat(8), subnet: 'x', address: 'mem://spam', hops: 1 })
  raw.send({ type: 'getaddrs' })
  await raw.next(m => m.type === 'addrs')
  t.same(events, [])
  t.notOk(a.table.has('mem://spam'))
})

t.test('bootstrap dials saved addresses; bootstrap:false does not', async t => {
  const { node } = memNet(t)
  node('target')
  const auto = node('auto', { bootstrap: true, dialInterval: 5 })
  const manual = node('manual')
  await auto.save(['mem://target'])
  await manual.save(['mem://target'])
  await until(() => auto.connections().length === 1, { what: 'auto to dial' })
  t.same(auto.connections(), ['mem://target'])
  t.same(manual.connections(), [])
  await t.rejects(auto.disconnect('mem://nowhere'), /not connected/)
})

t.test(`a user's disconnect keeps the peer off for DISCONNECT_HOLD (${DISCONNECT_HOLD} ms), both ways, by its id`, async t => {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const opts = { clock, bootstrap: true, dialInterval: 100 }
  const a = node('a', { ...opts, random: seededRandom(1), addresses: ['mem://a'] })
  const b = node('b', { ...opts, random: seededRandom(2), addresses: ['mem://b'] })
  await a.save(['mem://b'])
  await b.save(['mem://a'])
  const tick = async (ms = 100) => { clock.advance(ms); await flush() }
  await until(async () => { await tick(); return a.connections().length === 1 && b.connections().length === 1 }, { what: 'a and b to connect' })
  const refused = []
  b.on('refused', e => refused.push(e.reason))
  await a.disconnect(b.id)
  // Both keep dialing each other from their tables every dial interval: let 5 s of them run.
  for (let i = 0; i < 50; i++) await tick()
  t.same(a.connections(), [], 'a did not take b back')
  t.same(b.connections(), [], 'b did not get back in')
  t.ok(refused.length > 0, 'b tried')
  t.match(refused[0], /^peer refused: you were disconnected by the user of this node; retry in \d+ s$/, 'b was told why, and when to retry')
  // Once the hold has passed, they connect again.
  await tick(DISCONNECT_HOLD - 5000)
  await until(async () => { await tick(); return a.connections().length === 1 }, { what: 'a and b to connect again' })
  t.equal(a.connections()[0], 'mem://b')
})

t.test('a user\'s connect lifts the hold of the address', async t => {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(3) })
  const b = node('b', { clock, random: seededRandom(4) })
  await a.connect('mem://b')
  await a.disconnect('mem://b')
  await until(() => b.connections().length === 0, { what: 'b to see the link go' })
  await a.connect('mem://b')
  t.same(a.connections(), ['mem://b'])
})

t.test('a node dials the table on a virtual clock, with backoff after failures', async t => {
  const { net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const tries = []
  const transport = addr => { tries.push(clock.now()); return net.dial(addr, 'v') }
  const pn = peernet(new MemoryLevel(), { transport, clock, random: seededRandom(7), interval: 0, purge: 0, dialInterval: 100 })
  t.teardown(() => pn.close())
  await pn.save(['mem://absent'])
  const flush = () => new Promise(resolve => setImmediate(resolve))
  for (let i = 0; i < 100; i++) {
    clock.advance(100)
    await flush()
  }
  // backoff doubles: tries at ~0, 1 s, 2 s, 4 s after the first within 10 s
  t.ok(tries.length >= 3 && tries.length <= 6, `${tries.length} tries in 10 s of virtual time`)
  const gaps = tries.slice(1).map((x, i) => x - tries[i])
  t.ok(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]), `gaps grow: ${gaps}`)
  t.equal((await pn.getStats('mem://absent')).connections.fail, tries.length)
})

t.test('purge runs on its interval and drops dead learned addresses', async t => {
  const { net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const pn = peernet(new MemoryLevel(), { transport: net.transport('p'), clock, random: seededRandom(3), interval: 0, bootstrap: false, purge: 24 * 3600 * 1000 })
  t.teardown(() => pn.close())
  await pn.ready
  pn.table.learn(['mem://old'], ['id:x'])
  const purged = once(pn, 'purge')
  clock.advance(31 * 24 * 3600 * 1000)
  t.same(await purged, { dropped: 1, tombstones: 0 })
  t.notOk(pn.table.has('mem://old'))
})

t.test('callbacks work alongside promises; a wrtc with no RTCPeerConnection is refused clearly', async t => {
  const { node } = memNet(t)
  const a = node('a')
  await new Promise((resolve, reject) => a.save(['mem://x'], err => err ? reject(err) : resolve()))
  const stats = await new Promise((resolve, reject) => a.getStats('mem://x', (err, s) => err ? reject(err) : resolve(s)))
  t.equal(stats.saved, true)
  const err = await new Promise(resolve => a.save(['notaurl'], resolve))
  t.match(err.message, /invalid address/)
  await new Promise((resolve, reject) => a.join('j', err => err ? reject(err) : resolve()))
  t.same(await collect(a.subnets()), [{ key: 'j' }])
  t.throws(() => peernet(new MemoryLevel(), { wrtc: {} }), { name: 'TypeError', message: /opts\.wrtc must be an object with an RTCPeerConnection constructor/ })
  // The seed's form, as a browser gives it: taken (the node closes without ever using it).
  const withWrtc = peernet(new MemoryLevel(), { wrtc: { RTCPeerConnection: class {} }, bootstrap: false, interval: 0, purge: 0 })
  await withWrtc.ready
  await withWrtc.close()
  t.throws(() => peernet({}, {}), /abstract-level database/)
})

t.test('createStream wires a server-side connection into the node', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  await a.join('pipe')
  const b = node('b')
  net.listen('mem://piped', stream => { stream.pipe(b.createStream()).pipe(stream) })
  await a.connect('mem://piped')
  await b.join('pipe')
  const c = node('c')
  await c.connect('mem://a')
  const rows = await collect(c.search('pipe', { timeout: 500 }))
  t.same(rows.map(r => [r.address, r.hops]).sort(), [['mem://a', 1], ['mem://piped', 2]])
})

t.test('every lifecycle event also arrives as an `event` row; debug prints them', async t => {
  const { node } = memNet(t)
  const lines = []
  const orig = console.error
  console.error = (...args) => lines.push(args.join(' '))
  t.teardown(() => { console.error = orig })
  const a = node('a', { debug: true })
  const rows = []
  a.on('event', r => rows.push(r))
  await a.join('e')
  console.error = orig
  t.ok(rows.some(r => r.type === 'join' && r.subnet === 'e' && typeof r.time === 'number'))
  t.ok(lines.some(l => l.includes('[peernet] join')))
})
