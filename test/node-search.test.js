// Search on its own: queries handled once, relayed within budget to the other peers, answered
// when a member, and answers routed back the way the query came.
import t from 'tap'
import { MAX_RELAYED_ANSWERS, RING_WAIT, displaceCap } from '../lib/index.js'
import { Search } from '../lib/node/search.js'
import { partsContext, link, flush } from './lib/parts.js'
import { collect } from './lib/helpers.js'

const query = (qid, extra = {}) => ({ type: 'query', qid, subnet: 's', hops: 1, limit: 3, ...extra })
const QID = 'ab'.repeat(8)

t.test('a query is handled once, answered when a member, relayed to the others only', async t => {
  const { ctx, peers, own, table, events } = await partsContext(t)
  own.advertise('mem://me')
  await table.join(['s'])
  const search = new Search(ctx, peers, own, 15)
  const a = link(ctx, { id: 'aa', peers })
  const b = link(ctx, { id: 'bb', peers })
  search.onQuery(a.c, query(QID))
  search.onQuery(b.c, query(QID))
  const answer = await a.raw.next(m => m.type === 'answer')
  t.same(answer, { type: 'answer', qid: QID, subnet: 's', address: 'mem://me', hops: 1 })
  const relayed = await b.raw.next(m => m.type === 'query')
  t.equal(relayed.hops, 2, 'relayed one hop further')
  await flush()
  t.notOk(a.raw.received.some(m => m.type === 'query'), 'not back to the sender')
  t.notOk(b.raw.received.some(m => m.type === 'answer'), 'the copy from b was not handled again')
  t.equal(events.filter(([type, e]) => type === 'search' && e.dir === 'in').length, 1)
  t.equal(search.seenSize, 1)
  search.onQuery(a.c, query('cd'.repeat(8), { hops: 3 }))
  await flush()
  t.equal(b.raw.received.filter(m => m.type === 'query').length, 1, 'a query at its hop limit is not relayed')
})

t.test(`answers go back the way the query came, at most MAX_RELAYED_ANSWERS (${MAX_RELAYED_ANSWERS}) per query`, async t => {
  const { ctx, peers, own } = await partsContext(t)
  const search = new Search(ctx, peers, own, 15)
  const asker = link(ctx, { id: 'aa', peers })
  const member = link(ctx, { id: 'bb', peers })
  search.onQuery(asker.c, query(QID))
  for (let i = 0; i <= MAX_RELAYED_ANSWERS; i++) search.onAnswer(member.c, { type: 'answer', qid: QID, subnet: 's', address: `mem://m${i}`, hops: 2 })
  search.onAnswer(member.c, { type: 'answer', qid: 'ef'.repeat(8), subnet: 's', address: 'mem://stray', hops: 2 })
  await flush()
  const back = asker.raw.received.filter(m => m.type === 'answer')
  t.equal(back.length, MAX_RELAYED_ANSWERS)
  t.same(back[0], { type: 'answer', qid: QID, subnet: 's', address: 'mem://m0', hops: 2 })
  t.notOk(back.some(m => m.address === 'mem://stray'), 'an answer nobody asked for is dropped')
})

t.test('our own search: sent to every peer, answers become rows and table entries, once each', async t => {
  const { ctx, peers, own, table, clock } = await partsContext(t)
  const search = new Search(ctx, peers, own, 7)
  const a = link(ctx, { id: 'aa', peers })
  const b = link(ctx, { id: 'bb', outbound: true, dialed: 'mem://b', peers })
  const stream = search.start('s', { timeout: 1000 })
  const rows = collect(stream)
  const q = await a.raw.next(m => m.type === 'query')
  t.match(q, { subnet: 's', hops: 1, limit: 7 })
  await b.raw.next(m => m.type === 'query')
  t.equal(search.size, 1)
  search.onAnswer(a.c, { type: 'answer', qid: q.qid, subnet: 's', address: 'mem://x', hops: 3 })
  search.onAnswer(b.c, { type: 'answer', qid: q.qid, subnet: 's', address: 'mem://x', hops: 1 })
  search.onAnswer(b.c, { type: 'answer', qid: q.qid, subnet: 's', address: '', hops: 1 })
  search.onAnswer(a.c, { type: 'answer', qid: q.qid, subnet: 'other', address: 'mem://y', hops: 1 })
  search.onQuery(a.c, { ...q, hops: 2 })
  clock.advance(1000)
  t.same(await rows, [{ hash: 's', address: 'mem://x', hops: 3, id: null, addresses: ['mem://x'], via: 'flood' }, { hash: 's', address: 'mem://b', hops: 1, id: null, addresses: ['mem://b'], via: 'flood' }],
    'once per address; an empty address filled in by the link we dialed; other subnets dropped')
  t.ok(table.has('mem://x'))
  t.equal(search.size, 0, 'ended at the timeout')
  t.notOk(b.raw.received.some(m => m.type === 'query' && m.hops === 3), 'our own query coming back is not relayed')
})

t.test('a search that waited for the ring, and went by it when a link opened the way, is not started again when its wait would have ended', async t => {
  const { ctx, peers, own, clock } = await partsContext(t)
  let reaches = false
  const asked = []
  let answer = null
  const ring = { reachesRing: () => reaches, members: subnet => { asked.push(subnet); return new Promise(resolve => { answer = resolve }) } }
  const search = new Search(ctx, peers, own, 7, () => ring, () => true)
  const a = link(ctx, { id: 'aa', peers })
  const rows = collect(search.start('s', { timeout: 5000 }))
  await flush()
  t.same(asked, [], 'no way into the ring yet and a dial under way: it waits')
  clock.advance(RING_WAIT / 2)
  reaches = true
  search.linked()
  t.same(asked, ['s'], 'a link opened the way: it goes by the ring')
  // The ring's answer is slow: the search is still running when its wait would have ended.
  clock.advance(RING_WAIT)
  await flush()
  t.same(asked, ['s'], 'asked once: its wait timer went when it did')
  t.notOk(a.raw.received.some(m => m.type === 'query'), 'and it did not flood')
  answer({ records: [], hops: 2, owner: 'ff'.repeat(32) })
  t.same(await rows, [], 'the ring\'s "no members" ends it')
  t.equal(search.size, 0)
})

t.test('a ring answer\'s members are learned as one answer: a full table takes displaceCap of their addresses, and every member is a row', async t => {
  // No share cap: the answer's one informant may fill the table.
  const { ctx, peers, own, table, clock } = await partsContext(t, { table: { size: 4, informantShare: 1 } })
  t.equal(table.learn(['mem://k0', 'mem://k1', 'mem://k2', 'mem://k3'], ['id:old']), 4, 'the table is full')
  // Unheard of for a minute: the entries eviction takes first, before a member just learned.
  clock.advance(60_000)
  const records = Array.from({ length: 8 }, (_, i) => ({ id: i.toString(16).repeat(64), addresses: [`mem://m${i}`] }))
  const ring = { reachesRing: () => true, members: async () => ({ records, hops: 3, owner: 'ff'.repeat(32) }) }
  const search = new Search(ctx, peers, own, 7, () => ring, () => false)
  link(ctx, { id: 'aa', peers })
  const rows = await collect(search.start('big', { timeout: 5000 }))
  t.same(rows.map(r => [r.id, r.address, r.via]), records.map(r => [r.id, r.addresses[0], 'ring']), 'a row a member')
  const learned = records.filter(r => table.has(r.addresses[0]))
  t.equal(learned.length, displaceCap(records.length), `displaceCap(${records.length}) of the members take an entry's place`)
  t.equal(table.learnedCount, 4)
  for (const r of learned) t.same(table.stats(r.addresses[0]).subnets, ['big'], 'noted as serving the subnet')
})

t.test('close ends every running search', async t => {
  const { ctx, peers, own } = await partsContext(t)
  const search = new Search(ctx, peers, own, 15)
  const rows = collect(search.start('s', { timeout: 60_000 }))
  search.close()
  t.same(await rows, [])
  t.equal(search.size, 0)
})
