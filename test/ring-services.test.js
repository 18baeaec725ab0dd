// Service records (issue 14) on a ring of RingCores in one process (test/lib/ring-net.js): a
// find never returns a forged, replayed or expired offer, and the answers are a fair sample of
// the offering nodes however many offers one of them makes.
import t from 'tap'
import { RingNet } from './lib/ring-net.js'
import { pointOf, signRecord, tombstoneOf, RECORD_TTL } from '../lib/ring/record.js'
import { MAX_SLOTS_PER_ID_AT_POINT } from '../lib/ring/store.js'

/** A find of service `name` from node `from`. */
function find (net, from, name, max = 10) {
  return net.run(from, (core, done) => core.records.search('service', name, max, done))
}

const offer = (url, more = {}) => ({ type: 'service', name: 'stun', url, addresses: [], ...more })

t.test('fairness: 1,000 offers of one service from 50 nodes; 20 finds of 5 see many offering nodes, none often', async t => {
  const net = new RingNet({ n: 120, seed: 21 })
  t.ok(net.settle() >= 0)
  const offering = net.ids.slice(0, 50)
  let stored = 0
  for (const id of offering) {
    for (let k = 0; k < 20; k++) {
      const r = net.run(id, (core, done) => { core.records.publish(offer(`stun:127.0.0.1:${3000 + k}`), done) })
      stored += r.res ?? 0
    }
  }
  t.equal(stored, 50 * MAX_SLOTS_PER_ID_AT_POINT, `the responsible node kept MAX_SLOTS_PER_ID_AT_POINT (${MAX_SLOTS_PER_ID_AT_POINT}) offers of each node, refused the rest`)
  const askers = net.ids.slice(50, 70)
  const rows = []
  const frames = []
  for (const id of askers) {
    const f = find(net, id, 'stun', 5)
    frames.push(f.frames)
    t.equal(f.err, null)
    t.equal(f.res.records.length, 5, 'max 5: five offers')
    t.equal(new Set(f.res.records.map(r => r.id)).size, 5, 'from five different nodes')
    rows.push(...f.res.records)
  }
  // A find is a search's lookup (a fetch of the name's point): the same budget, 30 frames at most.
  t.ok(Math.max(...frames) <= 30, `frames a find: mean ${(frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(1)}, most ${Math.max(...frames)} (≤ 30, as a search)`)
  const per = new Map()
  for (const r of rows) per.set(r.id, (per.get(r.id) ?? 0) + 1)
  const most = Math.max(...per.values())
  t.ok(per.size >= 25, `${per.size} distinct offering ids in ${rows.length} rows (≥ 25)`)
  t.ok(most <= rows.length / 10, `no id in more than 10% of rows (the most: ${most})`)
})

t.test('a find never returns a forged, replayed or expired offer', async t => {
  const net = new RingNet({ n: 80, seed: 22 })
  t.ok(net.settle() >= 0)
  const point = pointOf('service', 'peernet', 'stun')
  const ownerId = net.owner(point)
  const asker = net.ids.find(id => id !== ownerId)
  const kp = net.nodes.get(net.ids[1]).keyPair
  const now = net.now
  const good = signRecord(kp, { ...offer('stun:127.0.0.1:1'), network: 'peernet', seq: 5, expires: now + RECORD_TTL })
  const forged = { ...good, url: 'stun:127.0.0.1:666' }
  const expired = signRecord(kp, { ...offer('stun:127.0.0.1:2'), network: 'peernet', seq: 5, expires: now - 1 })
  const member = signRecord(kp, { type: 'member', name: 'stun', addresses: [], network: 'peernet', seq: 5, expires: now + RECORD_TTL })
  // The responsible node lies: it hands out whatever it likes.
  const owner = net.nodes.get(ownerId)
  const pick = owner.core.store.pick.bind(owner.core.store)
  owner.core.store.pick = () => [good, forged, expired, member]
  t.same(find(net, asker, 'stun').res.records, [good], 'only the true offer: not the altered url, the expired one, nor a member record of the same name')
  owner.core.store.pick = pick

  // Replayed: the offer, withdrawn by its tombstone, sent again to the responsible node.
  const r = net.run(net.ids[1], (core, done) => { core.records.publish(offer('stun:127.0.0.1:3'), done) })
  t.equal(r.res, 1, 'published')
  const published = net.nodes.get(net.ids[1]).core.records.mine().find(x => x.url === 'stun:127.0.0.1:3')
  t.equal(find(net, asker, 'stun').res.records.length, 1, 'found')
  net.run(net.ids[1], (core, done) => { core.records.withdraw('service', 'stun', 'stun:127.0.0.1:3', done) })
  t.same(find(net, asker, 'stun').res.records, [], 'withdrawn: not found')
  const accepted = owner.core.records.accept(point, [published])
  t.equal(accepted, 0, 'the old record replayed to the responsible node is refused: its seq is below the tombstone\'s')
  t.same(find(net, asker, 'stun').res.records, [], 'and still not found')
  const tomb = tombstoneOf(kp, published, now + RECORD_TTL)
  t.equal(owner.core.records.accept(point, [tomb]), 0, 'a replayed tombstone is no newer either')
})
