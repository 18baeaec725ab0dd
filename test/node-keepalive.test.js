// The keepalive on its own: one timer per watched link, pings only when the link is idle, a
// probe pings at once, an answer of any kind keeps the link, and a closed link is forgotten.
import t from 'tap'
import { PING_INTERVAL, PING_TIMEOUT, PING_DEFER } from '../lib/index.js'
import { Keepalive } from '../lib/node/keepalive.js'
import { partsContext, link, flush } from './lib/parts.js'

async function setup (t, { outbound = true, withoutAgain = false } = {}) {
  const parts = await partsContext(t)
  // A clock without again() (the real one has none): the keepalive sets a new timer each time.
  const { clock } = parts
  const plain = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: tm => clock.clearTimeout(tm) }
  const keepalive = new Keepalive(withoutAgain ? plain : clock)
  const { c, raw } = link(parts.ctx, { id: 'aa', peers: parts.peers, outbound })
  keepalive.watch(c)
  // As the node does: its 'close' listener tells the keepalive.
  c.on('close', () => keepalive.unwatch(c))
  return { ...parts, keepalive, c, raw }
}

const pings = raw => raw.received.filter(m => m.type === 'ping').length

t.test('a link that hears anything within PING_INTERVAL is not pinged; its timer follows the last message', async t => {
  const { keepalive, c, raw, clock } = await setup(t)
  t.equal(keepalive.size, 1)
  clock.advance(PING_INTERVAL - 1)
  raw.send({ type: 'getaddrs' })
  await flush()
  clock.advance(PING_INTERVAL - 1)
  // A frame the link would have sent before this one: none.
  c.send({ type: 'getaddrs' })
  await raw.next(m => m.type === 'getaddrs')
  t.equal(pings(raw), 0, 'heard from PING_INTERVAL - 1 ago: no ping yet')
  clock.advance(1)
  await raw.next(m => m.type === 'ping')
  t.equal(pings(raw), 1, 'idle for PING_INTERVAL: pinged')
})

t.test('a probe pings at once; an answer of any kind, not just a pong, keeps the link', async t => {
  const { keepalive, c, raw, clock } = await setup(t)
  keepalive.probe(c)
  await raw.next(m => m.type === 'ping')
  keepalive.probe(c)
  c.send({ type: 'getaddrs' })
  await raw.next(m => m.type === 'getaddrs')
  t.equal(pings(raw), 1, 'a second probe while a ping is out sends nothing')
  raw.send({ type: 'addrs', addrs: [] })
  await flush()
  clock.advance(PING_TIMEOUT)
  t.notOk(c.closed, 'heard from after the ping: alive')
})

t.test('no answer within PING_TIMEOUT: closed with a reason, not a fault; then forgotten', async t => {
  const { keepalive, c, raw, clock } = await setup(t)
  raw.silent = true
  keepalive.probe(c)
  clock.advance(PING_TIMEOUT - 1)
  t.notOk(c.closed)
  clock.advance(1)
  t.same(c.closeInfo, { reason: `no answer to ping within ${PING_TIMEOUT / 1000} s (PING_TIMEOUT)`, fault: false, farewell: false })
  t.equal(keepalive.size, 0, 'a closed link is not watched any more')
  keepalive.watch(c)
  t.equal(keepalive.size, 0, 'nor watched again')
})

t.test('only the end that dialed pings an idle link; the other stands by PING_DEFER longer, and the dialer\'s pings keep it standing by', async t => {
  const { c, raw, clock } = await setup(t, { outbound: false })
  clock.advance(PING_INTERVAL)
  await flush()
  t.equal(pings(raw), 0, 'accepted, idle for PING_INTERVAL: not pinged (the dialer would have)')
  // The dialer's ping, as it comes every PING_INTERVAL: the link never waits PING_DEFER more.
  for (let i = 0; i < 4; i++) {
    raw.send({ type: 'ping' })
    await flush()
    clock.advance(PING_INTERVAL)
    await flush()
  }
  t.equal(pings(raw), 0, 'pinged by the dialer every PING_INTERVAL: never pings itself')
  // The dialer falls silent: PING_DEFER - 1 more and still nothing; then this end pings.
  raw.silent = true
  clock.advance(PING_DEFER - 1)
  await flush()
  t.equal(pings(raw), 0, 'idle PING_INTERVAL + PING_DEFER - 1: not yet')
  clock.advance(1)
  await raw.next(m => m.type === 'ping')
  clock.advance(PING_TIMEOUT)
  t.ok(c.closed, 'a silent dialer is found within PING_INTERVAL + PING_DEFER + PING_TIMEOUT')
})

t.test('on a clock without again() (the real one), the same: idle links pinged round after round, a dead one closed, nothing left waiting', async t => {
  const { keepalive, c, raw, clock } = await setup(t, { withoutAgain: true })
  const waiting = clock.pending
  for (let i = 1; i <= 3; i++) {
    clock.advance(PING_INTERVAL)
    await raw.next(m => m.type === 'ping' && pings(raw) === i)
    await flush()
    t.equal(clock.pending, waiting, `round ${i}: one timer for the link, the spent ones not left behind`)
  }
  t.equal(pings(raw), 3, 'pinged every PING_INTERVAL while the peer answered')
  raw.silent = true
  clock.advance(PING_INTERVAL + PING_TIMEOUT)
  t.ok(c.closed, 'a dead peer is found within PING_INTERVAL + PING_TIMEOUT')
  t.equal(keepalive.size, 0, 'and forgotten')
  t.equal(clock.pending, waiting - 1, 'its timer gone')
})
