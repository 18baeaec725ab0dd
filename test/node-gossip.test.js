// Gossip on its own: asking, answering, and what is taken from an answer.
import t from 'tap'
import { JUNK_STRIKES, MAX_STRIKES } from '../lib/index.js'
import { Gossip } from '../lib/node/gossip.js'
import { partsContext, link } from './lib/parts.js'

t.test('a round asks one open peer; its answer is learned with the peer as the source', async t => {
  const { ctx, peers, own, table, events } = await partsContext(t)
  const gossip = new Gossip(ctx, peers, own, 32)
  gossip.round()
  t.same(events, [], 'no peer, no ask')
  const { c, raw } = link(ctx, { id: 'aa', outbound: true, dialed: 'mem://a', address: 'mem://a', peers })
  await table.save(['mem://a'])
  gossip.round()
  await raw.next(m => m.type === 'getaddrs')
  gossip.onAddrs(c, ['mem://x', 'mem://y', 'notaurl'])
  t.ok(table.has('mem://x') && table.has('mem://y'))
  t.same(table.get('mem://x').sources, ['id:aa'])
  t.equal(table.get('mem://a').rx, 3, 'counted against the informant\'s address')
  t.same(events.map(e => e[1].dir), ['ask', 'rx'])
  t.match(events[1][1], { count: 3, added: 2, refused: 1 })
})

t.test('addrs nobody asked for are not taken, and cost a strike', async t => {
  const { ctx, peers, own, table } = await partsContext(t)
  const gossip = new Gossip(ctx, peers, own, 32)
  const { c } = link(ctx, { id: 'aa', peers })
  gossip.onAddrs(c, ['mem://pushed'])
  t.notOk(table.has('mem://pushed'))
  t.equal(c.strikes, 1)
})

t.test(`an answer of mostly junk costs JUNK_STRIKES (${JUNK_STRIKES}); enough of them drop the peer`, async t => {
  const { ctx, peers, own } = await partsContext(t)
  const gossip = new Gossip(ctx, peers, own, 32)
  const { c } = link(ctx, { id: 'aa', peers })
  let answers = 0
  while (!c.closed) {
    gossip.round()
    gossip.onAddrs(c, ['junk', 'more junk', 'mem://fine'])
    answers++
  }
  t.equal(answers, Math.floor(MAX_STRIKES / JUNK_STRIKES) + 1)
  t.match(c.closeInfo.reason, /misbehaving.*addrs answer of junk/)
})

t.test('getaddrs: our announced addresses first, then a sample, never the asker\'s own address', async t => {
  const { ctx, peers, own, table } = await partsContext(t)
  own.advertise('mem://me')
  const gossip = new Gossip(ctx, peers, own, 3)
  await table.save(['mem://asker', 'mem://p', 'mem://q', 'mem://r'])
  const { c, raw } = link(ctx, { id: 'aa', address: 'mem://asker', peers })
  gossip.onGetAddrs(c)
  const { addrs } = await raw.next(m => m.type === 'addrs')
  t.equal(addrs.length, 3, 'the sample size')
  t.equal(addrs[0], `${table.id}@mem://me`, 'our own addresses with our id')
  t.notOk(addrs.some(a => a.endsWith('mem://asker')))
  t.ok(addrs.slice(1).every(a => a.startsWith('mem://')), 'no id where no handshake of ours proved one')
  t.equal(table.get('mem://asker').tx, 3)
})
