// Services by name (issue 14) on real nodes (the Peernet class, real Noise) over the in-memory
// transport, on one virtual clock: an offer is a signed service record on the ring, found by a
// node that has no link to the offering one; offers persist; withdraw publishes a tombstone;
// every bound of an offer is checked before anything is stored.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { VirtualClock, seededRandom, MAX_OFFERS, MAX_FIND, checkOffer, generateKeyPair } from '../lib/index.js'
import { memNet, restartableRing } from './lib/mem-nodes.js'
import { runUntil } from './lib/helpers.js'
import { pointOf } from '../lib/ring/record.js'
import { DEFAULT_NETWORK } from '../lib/node/defaults.js'

async function ringOf (t, n, opts = {}) {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const nodes = []
  const add = (name, seed, more = {}) => node(name, { clock, random: seededRandom(seed), interval: 200, dialInterval: 100, connections: 2, bootstrap: true, addresses: [`mem://${name}`], ...opts, ...more })
  for (let i = 0; i < n; i++) nodes.push(add(`s${i}`, i + 1))
  await Promise.all(nodes.map(pn => pn.ready))
  for (let i = 1; i < n; i++) await nodes[i].save([`mem://s${i - 1}`])
  t.ok(await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined')), 'every node joined the ring')
  return { clock, nodes, add }
}

/** Rows of a find, driving the clock until it ends. */
async function findAll (clock, pn, name, opts = {}) {
  const rows = []
  let end = null
  const s = pn.find(name, opts)
  s.on('data', r => rows.push(r))
  s.on('end', () => { end = 'end' })
  s.on('error', err => { end = err })
  await runUntil(clock, () => end !== null, 4000)
  return { rows, end }
}

/** A node none of whose links reach `of`. */
function notLinkedTo (nodes, of) {
  return nodes.find(pn => pn !== of && !pn.peerList().some(p => p.id === of.id))
}

t.test('an offer is found by name from a node not linked to the offering one', async t => {
  const { clock, nodes } = await ringOf(t, 8)
  const offering = nodes[0]
  t.equal(await offering.offer({ name: 'stun', url: 'stun:127.0.0.1:3478', version: '1', meta: { region: 'lab' } }), true, 'a new offer')
  t.equal(await offering.offer({ name: 'stun', url: 'stun:127.0.0.1:3478', version: '1', meta: { region: 'lab' } }), false, 'the same offer again changes nothing')
  await nodes[3].offer({ name: 'stun', url: 'stun:127.0.0.1:3479' })
  await runUntil(clock, () => false, 40)
  const asker = notLinkedTo(nodes, offering) ?? nodes[5]
  const { rows, end } = await findAll(clock, asker, 'stun')
  t.equal(end, 'end', 'the find ends')
  t.same(rows.map(r => r.url).sort(), ['stun:127.0.0.1:3478', 'stun:127.0.0.1:3479'], 'both offers, by url')
  const row = rows.find(r => r.url.endsWith(':3478'))
  t.equal(row.id, offering.id, 'the offering node\'s id, from its signed record')
  t.same(row.addresses, [offering.url], 'and its addresses')
  t.equal(row.version, '1')
  t.same(row.meta, { region: 'lab' })
  t.ok(row.hops >= 0)

  const one = await findAll(clock, asker, 'stun', { max: 1 })
  t.equal(one.rows.length, 1, 'max 1: one row')

  const none = await findAll(clock, asker, 'turn')
  t.same([none.rows, none.end], [[], 'end'], 'a name nobody offers: no rows, an answer all the same')

  // Withdraw: a tombstone replaces the record on the ring.
  const gone = await offering.withdraw('stun')
  t.same(gone.map(o => [o.url, o.source]), [['stun:127.0.0.1:3478', 'offer']], 'withdraw names what it withdrew')
  t.same(await offering.withdraw('stun'), [], 'nothing left to withdraw')
  await runUntil(clock, () => false, 40)
  const after = await findAll(clock, asker, 'stun')
  t.same(after.rows.map(r => r.url), ['stun:127.0.0.1:3479'], 'the withdrawn offer is no longer found')
  t.same(offering.offers(), [], 'and no longer listed')
})

t.test('offers persist across a restart and are published again; the file\'s set is listed apart', async t => {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const db = new MemoryLevel()
  const opts = { clock, random: seededRandom(1), interval: 200, dialInterval: 100, connections: 2, bootstrap: true }
  const keyPair = generateKeyPair()
  const a = node('p0', { ...opts, db, keyPair, addresses: ['mem://p0'] })
  await a.ready
  await a.offer({ name: 'echo', url: 'tcp://127.0.0.1:7', meta: { k: 'v' } })
  t.same(a.setServiceFile([{ name: 'echo', url: 'tcp://127.0.0.1:7' }, { name: 'time', url: 'udp://127.0.0.1:37', version: '*' }]), [], 'the file\'s set, all taken')
  t.same(a.offers().map(o => [o.name, o.url, o.source]), [['echo', 'tcp://127.0.0.1:7', 'file'], ['echo', 'tcp://127.0.0.1:7', 'offer'], ['time', 'udp://127.0.0.1:37', 'file']], 'listed by name and url, each with its source')
  await a.close()

  const a2 = node('p0b', { ...opts, db, keyPair, addresses: ['mem://p0b'] })
  await a2.ready
  t.same(a2.offers().map(o => [o.name, o.source, o.meta]), [['echo', 'offer', { k: 'v' }]], 'the user\'s offer is back; the file\'s is the daemon\'s to set again')
  const b = node('p1', { ...opts, random: seededRandom(2), addresses: ['mem://p1'] })
  const c = node('p2', { ...opts, random: seededRandom(3), addresses: ['mem://p2'] })
  await Promise.all([b.ready, c.ready])
  await b.save(['mem://p0b'])
  await c.save(['mem://p1'])
  t.ok(await runUntil(clock, () => [a2, b, c].every(pn => pn.ringStatus() === 'joined')), 'three nodes joined')
  await runUntil(clock, () => false, 40)
  const { rows } = await findAll(clock, c, 'echo')
  t.same(rows.map(r => [r.url, r.id]), [['tcp://127.0.0.1:7', a2.id]], 'the restarted node\'s offer is found')
})

t.test('offers are checked before anything is stored; MAX_OFFERS bounds them', async t => {
  const { node } = memNet(t)
  const a = node('o0')
  await a.ready
  const bad = [
    [{ name: 'Stun', url: 'stun:h:1' }, /service name/],
    [{ name: 'stun', url: '' }, /url/],
    [{ name: 'stun', url: 'no-scheme' }, /SCHEME:REST/],
    [{ name: 'stun', url: 'stun:a b' }, /white space/],
    [{ name: 'stun', url: 'stun:' + 'x'.repeat(508) }, /over 512 bytes/],
    [{ name: 'stun', url: 'stun:h:1', version: 'x'.repeat(65) }, /version/],
    [{ name: 'stun', url: 'stun:h:1', meta: { k: 'v'.repeat(1024) } }, /meta is over 1024 bytes/],
    [{ name: 'stun', url: 'stun:h:1', meta: { k: 1 } }, /flat object of strings/],
    [{ name: 'stun', url: 'stun:h:1', extra: 1 }, /no field "extra"/],
    [null, /must be an object/]
  ]
  for (const [o, re] of bad) await t.rejects(a.offer(o), re, JSON.stringify(o)?.slice(0, 60))
  t.same(a.offers(), [], 'nothing stored')
  t.doesNotThrow(() => checkOffer({ name: 'stun', url: 'stun:' + 'x'.repeat(507) }), 'a url of exactly 512 bytes is taken')

  for (let i = 0; i < MAX_OFFERS; i++) await a.offer({ name: 'svc' + i, url: 'tcp://127.0.0.1:' + (1000 + i) })
  await t.rejects(a.offer({ name: 'one-more', url: 'tcp://127.0.0.1:1' }), /MAX_OFFERS/, 'one past MAX_OFFERS is refused')
  t.equal(await a.offer({ name: 'svc0', url: 'tcp://127.0.0.1:1000', version: '2' }), true, 'a change to one held is still taken')
  t.same(a.setServiceFile([{ name: 'file', url: 'tcp://127.0.0.1:2' }]).map(o => o.name), ['file'], 'the file\'s entries past MAX_OFFERS are left out, and named')
  t.throws(() => a.find('Bad Name'), { name: 'TypeError' })
  await t.rejects(a.withdraw('Bad Name'), { name: 'TypeError' })
  t.ok(MAX_FIND >= 1)
})

t.test('find: a node alone answers from what it holds; one not joined waits within its timeout, then says so', async t => {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('w0', { clock, addresses: ['mem://w0'] })
  await a.ready
  await a.offer({ name: 'stun', url: 'stun:127.0.0.1:3478' })
  const alone = await findAll(clock, a, 'stun', { timeout: 1000 })
  t.same([alone.rows.map(r => r.url), alone.end], [['stun:127.0.0.1:3478'], 'end'], 'lonely: responsible for every point, it answers itself')

  // A peer that is not on the ring (ring: false) never agrees to be a successor: unbalanced.
  const b = node('w1', { clock, ring: false, addresses: ['mem://w1'] })
  await b.ready
  await a.connect('mem://w1')
  t.equal(a.ringStatus(), 'unbalanced')
  const { rows, end } = await findAll(clock, a, 'stun', { timeout: 1000 })
  t.same(rows, [])
  t.match(end?.message, /not joined the ring \(it is unbalanced\)/, 'unbalanced: it says it has not joined')

  const ctrl = new AbortController()
  const s = a.find('stun', { signal: ctrl.signal, timeout: 60_000 })
  let ended = false
  s.on('end', () => { ended = true })
  s.resume()
  ctrl.abort()
  await runUntil(clock, () => ended, 10)
  t.ok(ended, 'an abort ends it')
})

t.test('a damaged offer in the database is skipped at start, and said so; the others are published', async t => {
  const { node } = memNet(t)
  const db = new MemoryLevel()
  const keyPair = generateKeyPair()
  const a = node('d0', { db, keyPair })
  await a.ready
  await a.offer({ name: 'echo', url: 'tcp://127.0.0.1:7' })
  await a.close()
  // What a crash, a bad disk or a hand edit could leave: a value that is no offer, a key that is not its own.
  const sub = db.sublevel('offer', { valueEncoding: 'json' })
  await sub.put('stun stun:127.0.0.1:1', { name: 'stun', url: 'no scheme', since: 1 })
  await sub.put('time udp://127.0.0.1:37', { name: 'other', url: 'udp://127.0.0.1:37', since: 1 })
  const errors = []
  const b = node('d0b', { db, keyPair })
  b.on('error', err => errors.push(err.message))
  await b.ready
  t.same(b.offers().map(o => o.name), ['echo'], 'the good offer is back')
  t.equal(errors.length, 2, 'each damaged entry is said')
  t.match(errors[0], /^offer store: entry "stun stun:127\.0\.0\.1:1" skipped: service url "no scheme"/)
  t.match(errors[1], /^offer store: entry "time udp:\/\/127\.0\.0\.1:37" skipped: damaged entry/)
})

t.test('a withdraw made by a restarted node before it has any link reaches the ring once it joins', async t => {
  const { clock, a, others, first, joined, nameFor, restart } = await restartableRing(t, 'w')
  t.ok(joined, 'four nodes joined')
  // A name whose point neither the restarted node nor its first link owns: the tombstone
  // reaches the point's holders only by being published (restartableRing).
  const name = nameFor('service', 'svc')
  await a.offer({ name, url: 'stun:127.0.0.1:3478' })
  await runUntil(clock, () => false, 40)
  const asker = others[2]
  t.same((await findAll(clock, asker, name)).rows.map(r => r.url), ['stun:127.0.0.1:3478'], 'the offer is found')
  const a2 = await restart()
  // No link yet (the clock has not moved): the tombstone can only be stored by the node itself.
  t.same((await a2.withdraw(name)).map(o => o.url), ['stun:127.0.0.1:3478'], 'withdrawn')
  await a2.save([first.url])
  t.ok(await runUntil(clock, () => a2.ringStatus() === 'joined'), 'the restarted node joined')
  await runUntil(clock, () => false, 40)
  t.same((await findAll(clock, asker, name)).rows, [], 'the withdrawn offer is no longer found')
  // Nor held by the point's replicas, which answer when the owner does not.
  const point = pointOf('service', DEFAULT_NETWORK, name)
  const holding = others.filter(pn => pn.ring.core.store.get(point, clock.now()).length > 0)
  t.same(holding.map(pn => pn.id), [], 'no node holds the offer any longer: the tombstone replaced it everywhere')
})
