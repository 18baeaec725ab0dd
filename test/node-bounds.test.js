// Per-search bounds, outstanding gossip asks, the default random source, the flush of counters,
// and a stream accepted while the node closes: each bound crossed.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import {
  peernet, memPair, VirtualClock, seededRandom, PROTOCOL_VERSION,
  MAX_SEARCH_ANSWERS, MAX_SEARCH_TIMEOUT, MAX_ASKS_IN_FLIGHT, FLUSH_INTERVAL
} from '../lib/index.js'
import { secureRandom } from '../lib/util/random.js'
import { memNet, rawPeer, HEX, NONCE } from './lib/mem-nodes.js'
import { until, collect } from './lib/helpers.js'
import { flush } from './lib/parts.js'

const hello = id => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX(id), nonce: NONCE, addrs: [] })

/** A raw peer dialed into node `name`, its handshake done. */
async function rawLink (net, name, id) {
  const raw = rawPeer(net.dial(`mem://${name}`, 'raw' + id))
  raw.send(hello(id))
  await raw.next(m => m.type === 'hello')
  return raw
}

t.test(`MAX_SEARCH_ANSWERS (${MAX_SEARCH_ANSWERS}): a search takes no more answers, then ends`, async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(1) })
  // Two peers, each within its own message burst, together answer more than the cap.
  const raws = [await rawLink(net, 'a', '1'), await rawLink(net, 'a', '2')]
  const rows = collect(a.search('big', { timeout: 10_000, flood: true }))
  const per = Math.ceil((MAX_SEARCH_ANSWERS + 100) / 2)
  await Promise.all(raws.map(async (raw, r) => {
    const q = await raw.next(m => m.type === 'query')
    for (let i = 0; i < per; i++) raw.send({ type: 'answer', qid: q.qid, subnet: 'big', address: `mem://m${r}-${i}`, hops: 1 })
  }))
  await until(() => a.status().searches === 0 || a.table.size >= MAX_SEARCH_ANSWERS + 100, { what: 'the search to end or take every answer' })
  clock.advance(10_000)
  t.equal((await rows).length, MAX_SEARCH_ANSWERS, 'rows stop at the cap')
  await flush()
  t.equal(a.table.size, MAX_SEARCH_ANSWERS, 'and so do addresses learned from them')
  const again = collect(a.search('big', { timeout: 0, max: MAX_SEARCH_ANSWERS * 10 }))
  await flush()
  clock.advance(0)
  t.same(await again, [], 'a larger max is accepted (and capped)')
})

t.test(`MAX_SEARCH_TIMEOUT (${MAX_SEARCH_TIMEOUT} ms): longer is refused with a sentence`, async t => {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(2) })
  const ended = s => new Promise(resolve => s.on('error', resolve).on('end', () => resolve(null)).resume())
  const longest = ended(a.search('x', { timeout: MAX_SEARCH_TIMEOUT }))
  const over = ended(a.search('x', { timeout: MAX_SEARCH_TIMEOUT + 1 }))
  await flush()
  clock.advance(MAX_SEARCH_TIMEOUT + 1)
  t.equal(await longest, null, 'the longest allowed search runs and ends')
  t.match(await over, /timeout must be a number of ms in 0\.\.60000 \(MAX_SEARCH_TIMEOUT\)/)
})

t.test(`MAX_ASKS_IN_FLIGHT (${MAX_ASKS_IN_FLIGHT}): a peer asked several times may answer each; never more asks than that`, async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(3), interval: 100 })
  const raw = await rawLink(net, 'a', '3')
  for (let i = 0; i < MAX_ASKS_IN_FLIGHT + 5; i++) {
    clock.advance(100)
    await flush()
  }
  const asks = () => raw.received.filter(m => m.type === 'getaddrs').length
  t.equal(asks(), MAX_ASKS_IN_FLIGHT, 'a peer that does not answer is asked no more')
  for (let i = 0; i <= MAX_ASKS_IN_FLIGHT; i++) raw.send({ type: 'addrs', addrs: [`mem://x${i}`] })
  raw.send({ type: 'getaddrs' })
  await raw.next(m => m.type === 'addrs')
  for (let i = 0; i < MAX_ASKS_IN_FLIGHT; i++) t.ok(a.table.has(`mem://x${i}`), `answer ${i + 1} is taken`)
  t.notOk(a.table.has(`mem://x${MAX_ASKS_IN_FLIGHT}`), 'one answer more than asked for is not')
  clock.advance(100)
  await until(() => asks() === MAX_ASKS_IN_FLIGHT + 1, { what: 'the peer to be asked again once it answered' })
  t.pass('once it answered, it is asked again')
})

t.test('without an injected random source, ids come from node:crypto, not Math.random', async t => {
  const orig = Math.random
  Math.random = () => 0
  t.teardown(() => { Math.random = orig })
  const { node } = memNet(t)
  const a = node('a')
  const b = node('b')
  await Promise.all([a.ready, b.ready])
  const qids = []
  a.on('search', e => qids.push(e.qid))
  await collect(a.search('x', { timeout: 0 }))
  Math.random = orig
  t.not(a.id, '0'.repeat(32))
  t.not(a.id, b.id)
  t.not(qids[0], '0'.repeat(16))
  const random = secureRandom()
  const draws = Array.from({ length: 5000 }, random)
  t.ok(draws.every(x => x >= 0 && x < 1), 'in [0, 1)')
  t.equal(new Set(draws).size, draws.length, 'no repeats in 5,000 draws of 53 bits')
})

t.test(`with purge: 0, counters changed in memory reach the db every FLUSH_INTERVAL (${FLUSH_INTERVAL} ms)`, async t => {
  const clock = new VirtualClock(1_000_000)
  const db = new MemoryLevel()
  const pn = peernet(db, { clock, random: seededRandom(4), interval: 0, bootstrap: false, purge: 0 })
  t.teardown(() => pn.close())
  await pn.save(['mem://x'])
  pn.table.recordNodes('mem://x', 5, 0)
  const stored = async () => (await db.sublevel('addr', { valueEncoding: 'json' }).get('mem://x')).rx
  clock.advance(FLUSH_INTERVAL - 1)
  await flush()
  t.equal(await stored(), 0, 'not yet')
  clock.advance(1)
  await until(async () => await stored() === 5, { what: 'the counter on disk' })
  t.pass('flushed without a purge pass or a close')
})

t.test('a stream handed to accept() while the node is still opening, then closed, is dropped', async t => {
  const clock = new VirtualClock(1_000_000)
  const pn = peernet(new MemoryLevel(), { clock, random: seededRandom(5), interval: 0, bootstrap: false, purge: 0 })
  const [near, far] = memPair()
  far.on('data', () => {})
  pn.accept(near)
  await pn.close()
  await flush()
  t.ok(near.destroyed, 'not attached to a closed node')
  t.equal(pn.status().handshaking, 0)
})
