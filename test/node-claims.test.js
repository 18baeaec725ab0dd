// An inbound peer's addresses are claims: they answer for the peer only once a dial of ours to
// one of them reaches that same peer. Until then nothing the node does for an address (dial it,
// count its statistics, disconnect it) is done to the peer that merely claims it.
import t from 'tap'
import { PROTOCOL_VERSION, VirtualClock, seededRandom } from '../lib/index.js'
import { memNet, rawPeer, HEX, NONCE } from './lib/mem-nodes.js'
import { until } from './lib/helpers.js'
import { flush } from './lib/parts.js'

const hello = (id, extra = {}) => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX(id), nonce: NONCE, addrs: [], ...extra })

/** A raw peer that dialed node `to` claiming `claims` as its addresses, its handshake done. */
async function impostor (net, to, id, claims) {
  const raw = rawPeer(net.dial(to, 'imp' + id))
  raw.send(hello(id, { addrs: claims }))
  await raw.next(m => m.type === 'hello')
  return raw
}

t.test('connect X reaches X, though an inbound peer already claims X', async t => {
  const { node, net } = memNet(t)
  const x = node('x')
  const a = node('a')
  const imp = await impostor(net, 'mem://a', 'e1', ['mem://x'])
  t.same(a.connections(), [HEX('e1')], 'the impostor goes by its id, not by the address it claims')
  t.same(a.peerList().map(p => [p.address, p.claimed]), [[null, 'mem://x']], 'its claim is shown as one')
  await a.connect('mem://x')
  t.equal(x.connections().length, 1, 'x has a link: the connect was no no-op')
  t.same(a.connections().sort(), [HEX('e1'), 'mem://x'].sort())
  t.ok(a.peerList().some(p => p.id === x.id && p.address === 'mem://x'))
  t.notOk(imp.closed, 'the impostor is left alone')
})

t.test('a claim is neither disconnected by the address nor credited with statistics', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  await a.save(['mem://x', 'mem://y', 'mem://z'])
  const imp = await impostor(net, 'mem://a', 'e2', ['mem://x'])
  imp.send({ type: 'getaddrs' })
  t.ok((await imp.next(m => m.type === 'addrs')).addrs.length > 0, 'the impostor was told addresses')
  t.equal((await a.getStats('mem://x')).nodes.tx, 0, 'what we told the impostor is not counted on mem://x')
  await t.rejects(a.disconnect('mem://x'), /not connected to mem:\/\/x/)
  // Sent after the disconnect: when its answer is in, a close of the link would have been too.
  imp.send({ type: 'getaddrs' })
  await Promise.race([imp.next(m => m.type === 'addrs' && imp.received.filter(r => r.type === 'addrs').length === 2), imp.closedP])
  t.notOk(imp.closed, 'disconnect mem://x did not close the impostor')
  await a.disconnect(HEX('e2'))
  await imp.closedP
  t.pass('by its id, it is disconnected')
})

t.test('the dialer does not skip an address because an inbound peer claims it', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const x = node('x', { clock, random: seededRandom(1) })
  const a = node('a', { clock, random: seededRandom(2), bootstrap: true, dialInterval: 100 })
  await a.save(['mem://x'])
  await impostor(net, 'mem://a', 'e3', ['mem://x'])
  await until(async () => { clock.advance(100); await flush(); return x.connections().length === 1 }, { what: 'a to dial x' })
  t.same(x.peerList().map(p => p.id), [a.id])
})

t.test('a dial that reaches the same peer confirms its claim; one link stays', async t => {
  const { node } = memNet(t)
  const a = node('a')
  const b = node('b', { addresses: ['mem://b'] })
  await b.connect('mem://a')
  await until(() => a.connections().length === 1, { what: 'a to see b' })
  t.same(a.connections(), [b.id], 'unconfirmed: by id')
  await a.connect('mem://b')
  await until(() => a.status().handshaking === 0 && b.status().handshaking === 0 && a.connections().length === 1 && b.connections().length === 1,
    { what: 'one link left' })
  t.same(a.connections(), ['mem://b'], 'confirmed: by the address')
  t.same(a.peerList().map(p => [p.address, p.claimed]), [['mem://b', null]])
  t.equal((await a.getStats('mem://b')).connections.ok, 1, 'the dial counted as a success')
})
