// The dialer on its own: dials and their outcome, top-up within its bounds, and the booking of
// how a dialed link ended.
import t from 'tap'
import { memPair, MAX_PENDING_DIALS } from '../lib/index.js'
import { Dialer, DUPLICATE, SELF } from '../lib/node/dialer.js'
import { partsContext, flush, fakeLink } from './lib/parts.js'

/** A dialer whose transport hands out streams that never answer; `links` holds what it attached. */
async function setup (t, { connections = 3, transport } = {}) {
  const parts = await partsContext(t)
  const dialed = []
  const links = []
  const far = []
  const dialer = new Dialer(parts.ctx, parts.peers, parts.own, {
    connections,
    transport: transport ?? (address => {
      dialed.push(address)
      const [mine, theirs] = memPair()
      theirs.on('data', () => {})
      far.push(theirs)
      return mine
    }),
    attach: c => { parts.peers.begin(c); links.push(c) },
    // The parts' links run plain: the secure layer is the node's (test/identity.test.js).
    secure: raw => raw
  })
  return { ...parts, dialer, dialed, links, far }
}

t.test('a dial resolves when its link opens; a second dial of the address shares it', async t => {
  const { dialer, dialed, links, table } = await setup(t)
  await table.save(['mem://a'])
  const p = dialer.dial('mem://a')
  t.equal(dialer.dial('mem://a'), p, 'one dial per address at a time')
  t.equal(dialer.size, 1)
  t.same(dialed, ['mem://a'])
  links[0].accept('aa')
  await p
  t.equal(dialer.size, 0)
  t.ok(table.get('mem://a').lastTry > 0, 'the attempt is recorded')
})

t.test('an address with an open link is not dialed again', async t => {
  const { dialer, dialed, peers, links } = await setup(t)
  const p = dialer.dial('mem://a')
  links[0].accept('aa')
  peers.add(links[0])
  await p
  await dialer.dial('mem://a')
  t.same(dialed, ['mem://a'])
})

t.test('a dial expecting an id: an open link of another peer at the address fails it as an identity mismatch', async t => {
  const { dialer, peers, links } = await setup(t)
  const p = dialer.dial('mem://a')
  links[0].accept('aa')
  peers.add(links[0])
  await p
  await dialer.dial('mem://a', 'aa')
  await t.rejects(dialer.dial('mem://a', 'bb'), /cannot connect to mem:\/\/a: identity mismatch: expected bb, got aa/)
})

t.test('a dial that fails rejects with the reason; a transport that throws is a connect-failed', async t => {
  const { dialer, far, events } = await setup(t)
  const p = dialer.dial('mem://gone')
  await flush()
  far[0].destroy()
  await t.rejects(p, /cannot connect to mem:\/\/gone: connection closed/)
  const throwing = await setup(t, { transport: () => { throw new Error('no route') } })
  await throwing.table.save(['mem://x'])
  await t.rejects(throwing.dialer.dial('mem://x'), /no route/)
  t.same(throwing.events, [['connect-failed', { address: 'mem://x', reason: 'no route' }]])
  t.equal(throwing.table.get('mem://x').fail, 1)
  t.same(events, [], 'the first dialer reported nothing itself: the node books a close (closed())')
})

t.test('a dial that lost to the peer\'s own link to us still resolves', async t => {
  const { dialer, links } = await setup(t)
  const p = dialer.dial('mem://a')
  links[0].peerId = 'aa'
  links[0].close(DUPLICATE, false)
  await p
  t.pass('resolved')
})

t.test('topUp dials up to `connections`, skipping our own, busy and held addresses', async t => {
  const { dialer, dialed, table, own, peers, links } = await setup(t, { connections: 3 })
  own.advertise('mem://me')
  await table.save(['mem://me', 'mem://busy', 'mem://held', 'mem://a', 'mem://b', 'mem://c', 'mem://d'])
  const p = dialer.dial('mem://busy')
  dialer.holds.hold('ee', ['mem://held'])
  dialer.topUp()
  t.equal(dialed.length, 3, 'connections counts the dials in progress')
  t.notOk(dialed.includes('mem://me') || dialed.includes('mem://held'), 'not our own, not held')
  t.equal(dialed.filter(a => a === 'mem://busy').length, 1, 'not dialed twice')
  links[0].accept('bb')
  peers.add(links[0])
  await p
  dialer.topUp()
  t.equal(dialed.length, 3, 'an open outbound link counts too')
})

t.test('topUp skips the addresses a linked peer told us of as its own, and no others', async t => {
  const { dialer, dialed, table, peers } = await setup(t, { connections: 8 })
  const X = 'aa'.repeat(32)
  const Y = 'bb'.repeat(32)
  // X dialed us and offered its addresses in its hello: learned from X, held to X's key.
  table.learn(['mem://x1', 'mem://x2'], ['id:' + X], () => X)
  // X offers mem://x3 as well, but Y told us of it first: X's claim keeps no dial from it.
  table.learn(['mem://x3'], ['id:' + Y], () => undefined)
  table.learn(['mem://x3'], ['id:' + X], () => X)
  t.equal(table.claimantOf('mem://x3'), null, 'x3 came from Y')
  // Y's own address, but Y is not linked.
  table.learn(['mem://y1'], ['id:' + Y], () => Y)
  const x = fakeLink(X)
  x.offered = ['mem://x1', 'mem://x2', 'mem://x3']
  peers.add(x)
  dialer.topUp()
  t.same(dialed.sort(), ['mem://x3', 'mem://y1'], 'x1 and x2 would reach X again')
  // X's link gone: its addresses are worth a dial again.
  peers.delete(x)
  dialer.topUp()
  t.same(dialed.sort(), ['mem://x1', 'mem://x2', 'mem://x3', 'mem://y1'])
})

t.test(`topUp never has more than MAX_PENDING_DIALS (${MAX_PENDING_DIALS}) dials in progress`, async t => {
  const { dialer, dialed, table } = await setup(t, { connections: 50 })
  await table.save(Array.from({ length: 30 }, (_, i) => `mem://n${i}`))
  dialer.topUp()
  dialer.topUp()
  t.equal(dialer.size, MAX_PENDING_DIALS)
  t.equal(dialed.length, MAX_PENDING_DIALS)
})

t.test('closed(): what counts against the address we dialed', async t => {
  const { dialer, table, events } = await setup(t)
  await table.save(['mem://a'])
  const out = { outbound: true, dialed: 'mem://a' }
  dialer.closed(out, { reason: DUPLICATE, fault: false, farewell: false }, false)
  dialer.closed(out, { reason: SELF, fault: false, farewell: false }, false)
  t.equal(table.get('mem://a').fail, 0, 'a duplicate or a link to ourselves is no failure')
  dialer.closed(out, { reason: 'peer left', fault: false, farewell: false }, true)
  t.equal(table.get('mem://a').fail, 0, 'an open link that ends is no failure')
  dialer.closed(out, { reason: 'flooding', fault: true, farewell: false }, true)
  t.equal(table.get('mem://a').fail, 1, 'a fault is')
  dialer.closed(out, { reason: 'refused', fault: false, farewell: false }, false)
  t.equal(table.get('mem://a').fail, 2, 'a link that never opened is')
  dialer.closed({ outbound: false, address: 'mem://a' }, { reason: 'flooding', fault: true, farewell: false }, true)
  t.equal(table.get('mem://a').fail, 2, 'an inbound peer never counts against an address it claims')
  t.same(events.map(e => e[0]), ['connect-failed'])
})
