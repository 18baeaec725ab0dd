// What a node does with pins (the table's side is in table-pins.test.js): a plain address the
// user gives is held to the first key seen there (trust on first use, as ssh), a user's
// ID@ADDR is strict from the start, and a peer's ID@ADDR is a hint that a wrong id cannot turn
// into a failure against an honest address. Over the in-memory transport, with real Noise.
import t from 'tap'
import { PROTOCOL_VERSION } from '../lib/index.js'
import { memNet, rawPeer, HEX, NONCE } from './lib/mem-nodes.js'
import { until, collect } from './lib/helpers.js'

/**
 * mem://x, answered by whichever node `sw.to` is: one address whose key can change, as a host
 * whose node was reinstalled (or taken over) would.
 */
function switchAt (net, name) {
  const sw = { to: null }
  net.listen(`mem://${name}`, (stream, info) => sw.to.accept(stream, info))
  return sw
}

t.test('a plain address is held to the first key seen there; another key is refused as identity-changed until the user re-adds it', async t => {
  const { net, node } = memNet(t)
  const a = node('a')
  const b = node('b')
  const c = node('c')
  const x = switchAt(net, 'x')
  x.to = b
  await a.connect('mem://x')
  t.match(await a.getStats('mem://x'), { saved: true, id: b.id, pin: 'seen' }, 'the key that answered the first connect holds the address')
  t.same((await collect(a.known())).find(r => r.address === 'mem://x'), { address: 'mem://x', saved: true, subnets: [], id: b.id }, 'known shows it')

  await a.disconnect('mem://x')
  x.to = c
  const changed = []
  a.on('identity-changed', e => changed.push(e))
  await t.rejects(a.connect('mem://x'), { message: `cannot connect to mem://x: identity changed: mem://x was ${b.id}, now ${c.id} (to accept the new key, remove the address and add it again, or add ${c.id}@mem://x)` })
  t.same(changed, [{ address: 'mem://x', was: b.id, now: c.id }], 'logged as identity-changed')
  t.same(a.connections(), [], 'the link to the other key is closed')
  t.match(await a.getStats('mem://x'), { id: b.id, pin: 'seen', connections: { fail: 1 } }, 'the pin stands; the refused dial counts as a failure (it backs off)')

  t.same(await a.save([`${c.id}@mem://x`]), ['mem://x'], 'add ID@ADDR accepts the new key')
  await a.connect('mem://x')
  t.same(a.connections(), ['mem://x'])
  t.match(await a.getStats('mem://x'), { id: c.id, pin: 'seen' })

  await a.disconnect('mem://x')
  x.to = b
  await a.remove(['mem://x'])
  await a.save(['mem://x'])
  await a.connect('mem://x')
  t.match(await a.getStats('mem://x'), { id: b.id, pin: 'seen' }, 'rm then add: the next key seen is trusted afresh')
})

t.test('the table\'s own dials keep the pin: a saved address whose key changed is not linked', async t => {
  const { net, node } = memNet(t)
  const a = node('a', { connections: 1 })
  const b = node('b')
  const c = node('c')
  const x = switchAt(net, 'x')
  x.to = c
  await Promise.all([a, b, c].map(n => n.ready))
  await a.save([`${b.id}@mem://x`])
  const failed = []
  a.on('connect-failed', e => failed.push(e))
  a.dialer.topUp()
  await until(() => failed.length === 1, { what: 'the dial to fail' })
  t.same(failed, [{ address: 'mem://x', reason: `identity mismatch: expected ${b.id}, got ${c.id}` }], 'a given pin: the mismatch, named')
  t.same(a.connections(), [])
  t.same(c.connections(), [], 'nothing of a\'s got as far as a hello at the other key')
  x.to = b
  await a.connect('mem://x')
  t.match(await a.getStats('mem://x'), { id: b.id, pin: 'seen' }, 'proven once reached')
})

t.test('connect ID@ADDR: the wrong id fails with the mismatch and nothing is saved; an open link of another key fails it too', async t => {
  const { node } = memNet(t)
  const a = node('a')
  const b = node('b')
  await t.rejects(a.connect(`${HEX('nobody')}@mem://b`), { message: `cannot connect to mem://b: identity mismatch: expected ${HEX('nobody')}, got ${b.id}` })
  t.notOk(a.table.has('mem://b'), 'a failed connect saves nothing')
  await a.connect(`${b.id}@mem://b`)
  t.match(await a.getStats('mem://b'), { id: b.id, pin: 'seen' })
  await t.rejects(a.connect(`${HEX('nobody')}@mem://b`), /identity mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/)
  t.match(await a.getStats('mem://b'), { id: b.id, pin: 'seen' }, 'the failed pin did not replace the proven one')
})

t.test('a gossiped WRONGID@honestADDR is a hint: dialing it reaches the honest node, books no failure, and the proven key replaces the hint', async t => {
  const { net, node } = memNet(t)
  const a = node('a')
  const honest = node('honest')
  const liar = rawPeer(net.dial('mem://a', 'liar'))
  liar.send({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX('liar'), nonce: NONCE, addrs: [] })
  await liar.next(m => m.type === 'hello')
  await until(() => a.connections().length === 1, { what: 'the liar to be linked' })
  a.gossip.round()
  await liar.next(m => m.type === 'getaddrs')
  liar.send({ type: 'addrs', addrs: [`${HEX('wrong')}@mem://honest`, `${HEX('also')}@mem://elsewhere`] })
  await until(() => a.table.has('mem://honest'), { what: 'the gossip answer' })
  t.match(a.table.get('mem://honest'), { id: HEX('wrong'), pin: 'hint', user: false })
  t.notOk((await collect(a.known())).find(r => r.address === 'mem://honest').id, 'a hint is not shown as a known id')

  t.equal(await a.dialer.dial('mem://honest'), honest.id, 'the dial is not held to the hint')
  t.match(a.table.get('mem://honest'), { id: honest.id, pin: 'seen', fail: 0, ok: 1 }, 'no failure; the key proven replaces the hint')
})

t.test('getaddrs answers carry ids only where a handshake proved them, and our own', async t => {
  const { net, node } = memNet(t)
  const a = node('a', { addresses: ['mem://a'] })
  const b = node('b')
  await a.connect('mem://b')
  await a.save([`${HEX('given')}@mem://given`])
  a.table.learn(['mem://hinted'], ['id:x'], () => HEX('hint'))
  const asker = rawPeer(net.dial('mem://a', 'asker'))
  asker.send({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX('asker'), nonce: NONCE, addrs: [] })
  await asker.next(m => m.type === 'hello')
  asker.send({ type: 'getaddrs' })
  const { addrs } = await asker.next(m => m.type === 'addrs')
  t.equal(addrs[0], `${a.id}@mem://a`, 'our own address, with our id')
  t.ok(addrs.includes(`${b.id}@mem://b`), 'a proven id')
  t.ok(addrs.includes('mem://given'), 'a given id that no handshake proved yet is not passed on')
  t.ok(addrs.includes('mem://hinted'), 'nor is a hint')
})
