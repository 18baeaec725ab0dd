// Resource limits of the node, each crossed: inbound connections, connections in handshake,
// pending dials, searches in flight, output queued for a peer that does not read; and inbound
// peers never take the place of outbound ones.
import t from 'tap'
import { setMaxListeners } from 'node:events'
import { MemoryLevel } from 'memory-level'
import {
  peernet, memPair, PROTOCOL_VERSION, MAX_INBOUND, MAX_HANDSHAKING, MAX_PENDING_DIALS, MAX_SEARCHES, HANDSHAKE_TIMEOUT,
  MAX_OUTBUF, DEFAULT_GOSSIP_SAMPLE, encodeFrame, VirtualClock, seededRandom
} from '../lib/index.js'
import { MEM_LINK_BUFFER } from '../lib/transport/mem.js'
import { memNet, rawPeer, HEX, NONCE } from './lib/mem-nodes.js'
import { until, once } from './lib/helpers.js'

const hello = id => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX(id), nonce: NONCE, addrs: [] })
const flush = async (n = 3) => { for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve)) }

t.test(`MAX_INBOUND (${MAX_INBOUND}): the next inbound peer is refused with a bye`, async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  const peers = []
  for (let i = 0; i < MAX_INBOUND; i++) {
    const p = rawPeer(net.dial('mem://a', `in${i}`))
    p.send(hello(`1${i}`))
    peers.push(p)
  }
  await until(() => a.status().inbound === MAX_INBOUND, { what: `${MAX_INBOUND} inbound peers` })
  const extra = rawPeer(net.dial('mem://a', 'extra'))
  extra.send(hello('2'))
  t.match((await extra.next(m => m.type === 'bye')).reason, /too many connections/)
  await extra.closedP
  t.equal(a.status().inbound, MAX_INBOUND, 'inbound stays at its cap')
  peers[0].stream.destroy()
  await until(() => a.status().inbound === MAX_INBOUND - 1, { what: 'a slot to free up' })
  const late = rawPeer(net.dial('mem://a', 'late'))
  late.send(hello('3'))
  await late.next(m => m.type === 'hello')
  await until(() => a.status().inbound === MAX_INBOUND, { what: 'the late peer to take the slot' })
  t.notOk(late.received.some(m => m.type === 'bye'), 'a freed slot takes a new peer')
})

t.test(`MAX_HANDSHAKING (${MAX_HANDSHAKING}): connections that never say hello are capped, then time out`, async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(1) })
  const silent = []
  for (let i = 0; i < MAX_HANDSHAKING + 10; i++) silent.push(rawPeer(net.dial('mem://a', `s${i}`)))
  await until(() => silent.filter(p => p.closed).length === 10, { what: 'the 10 extra to be closed' })
  t.equal(a.status().handshaking, MAX_HANDSHAKING, 'handshaking stays at its cap')
  const honest = node('h', { clock, random: seededRandom(2) })
  await t.rejects(honest.connect('mem://a'), /connection closed/, 'while full, even an honest peer waits')
  clock.advance(HANDSHAKE_TIMEOUT)
  await until(() => silent.every(p => p.closed), { what: 'every silent connection to time out' })
  t.equal(a.status().handshaking, 0)
  await honest.connect('mem://a')
  t.equal(a.status().inbound, 1, 'after the timeout an honest peer gets in')
})

t.test(`MAX_PENDING_DIALS (${MAX_PENDING_DIALS}): dials that never complete are capped`, async t => {
  const clock = new VirtualClock(1_000_000)
  const dialed = []
  const transport = address => {
    dialed.push(address)
    const [mine, theirs] = memPair()
    theirs.on('data', () => {}) // a black hole: never answers, never closes
    return mine
  }
  const pn = peernet(new MemoryLevel(), { transport, clock, random: seededRandom(3), interval: 0, purge: 0, connections: 50, dialInterval: 100 })
  t.teardown(() => pn.close())
  await pn.save(Array.from({ length: 30 }, (_, i) => `mem://hole${i}`))
  for (let i = 0; i < 5; i++) {
    clock.advance(100)
    await flush()
    t.ok(pn.status().dialing <= MAX_PENDING_DIALS, `dialing ${pn.status().dialing} <= ${MAX_PENDING_DIALS}`)
  }
  t.equal(pn.status().dialing, MAX_PENDING_DIALS, 'the cap is reached')
  t.equal(dialed.length, MAX_PENDING_DIALS, 'and no more dials were started')
  clock.advance(HANDSHAKE_TIMEOUT)
  await flush()
  clock.advance(100)
  await flush()
  t.ok(dialed.length > MAX_PENDING_DIALS, 'after the handshake timeout new dials go out')
})

t.test('inbound peers do not count toward the outbound target (an attacker cannot fill our choice)', async t => {
  const { node, net } = memNet(t)
  const targets = [node('t1'), node('t2')]
  const a = node('a', { bootstrap: true, connections: 2, dialInterval: 5 })
  const inbound = []
  for (let i = 0; i < 5; i++) {
    const p = rawPeer(net.dial('mem://a', `x${i}`))
    p.send(hello(`4${i}`))
    inbound.push(p)
  }
  await until(() => a.status().inbound === 5, { what: '5 inbound peers' })
  await a.save(targets.map(n => n.url))
  await until(() => a.status().outbound === 2, { what: 'the node to dial its 2 outbound peers anyway' })
  t.same(a.connections().filter(c => c.startsWith('mem://t')).sort(), ['mem://t1', 'mem://t2'])
})

t.test(`MAX_OUTBUF (${MAX_OUTBUF}): a peer that stops reading is dropped once that much waits for it`, async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  await a.ready
  // Long addresses, so each gossip answer is a few KB.
  const addrs = Array.from({ length: DEFAULT_GOSSIP_SAMPLE }, (_, i) => `mem://${String(i).padStart(58, 'x')}`)
  a.table.learn(addrs, ['id:filler'])
  const answer = encodeFrame({ type: 'addrs', addrs }).length
  const asks = Math.ceil((MAX_OUTBUF + MEM_LINK_BUFFER) / answer) + 10
  const slow = rawPeer(net.dial('mem://a', 'slow'))
  slow.send(hello('5'))
  await slow.next(m => m.type === 'hello')
  await until(() => a.status().inbound === 1, { what: 'the handshake' })
  slow.stream.pause()
  const gone = once(a, 'disconnect')
  // Within PEER_BURST, every ask is answered; nothing the peer sends is wrong, it only stops reading.
  slow.write(Buffer.concat(Array.from({ length: asks }, () => encodeFrame({ type: 'getaddrs' }))))
  const d = await gone
  t.match(d.reason, new RegExp(`peer is not reading \\(more than ${MAX_OUTBUF} bytes queued\\)`), `dropped after ${asks} answers of ${answer} bytes asked for`)
})

t.test(`MAX_SEARCHES (${MAX_SEARCHES}): one more search fails with a sentence`, async t => {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock })
  const ac = new AbortController()
  setMaxListeners(MAX_SEARCHES + 1, ac.signal)
  const running = Array.from({ length: MAX_SEARCHES }, () => a.search('x', { timeout: 60_000, signal: ac.signal }).on('data', () => {}))
  t.equal(a.status().searches, MAX_SEARCHES)
  const extra = a.search('x', { timeout: 60_000 })
  const err = await new Promise(resolve => extra.on('error', resolve))
  t.match(err.message, /too many searches at once \(MAX_SEARCHES is 256\)/)
  ac.abort()
  await Promise.all(running.map(s => new Promise(resolve => s.on('end', resolve))))
  t.equal(a.status().searches, 0, 'aborted searches free their slots')
})
