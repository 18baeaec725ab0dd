// The relay's rules (node/relay.ts) on stand-in links and a virtual clock: what a relay does with
// each relay.* frame, every cap crossed (circuits in all, per peer, the rate and the queue past
// it), the target's consent, a relayed link never carried over another, a circuit id reused, a
// link's close taking its circuits with it; and the frames' own checks (wire/relay.ts).
import t from 'tap'
import { Relays, RelayStream } from '../lib/node/relay.js'
import { VirtualClock } from '../lib/node/clock.js'
import { seededRandom } from '../lib/util/random.js'
import {
  validateRelayMessage, MAX_RELAY_CHUNK, MAX_RELAY_RATE, WireError, CIRCUIT_RATE, MAX_CIRCUITS, CIRCUITS_PER_PEER, CIRCUIT_QUEUE,
  CIRCUIT_OPEN_TIMEOUT, CIRCUIT_FRAME_RATE, CIRCUIT_FRAME_BURST, RELAY_CONSENT, MAX_RELAY_CONSENTS, MAX_RELAY_CANDIDATES, relayRequestProblem, relayAnswerProblem
} from '../lib/index.js'

const ID = n => n.toString(16).padStart(64, '0')
const SELF = ID(0xffff)

/** A stand-in link: what it was sent, whether it was closed and why. */
function link (id, transport = 'tcp') {
  return { peerId: id, transport, open: true, sent: [], closed: null, send (m) { this.sent.push(m) }, close (reason) { this.closed = reason } }
}

/** A node's relay part over stand-in links to `ids`, on a virtual clock. */
function relays (ids, options = {}, parts = {}) {
  const clock = new VirtualClock(1_000_000)
  const links = new Map(ids.map(id => [id, link(id)]))
  // (A link in its handshake has no id yet: PeerSet's iterator gives open links only.)
  const peers = { get: id => links.get(id), [Symbol.iterator]: () => links.values() }
  const ctx = { clock, random: seededRandom(1), table: { id: SELF } }
  const accepted = []
  const r = new Relays(ctx, peers, {
    ask: async () => { throw new Error('no ring here') },
    accept: (stream, id) => accepted.push({ stream, id }),
    adopt: async () => {},
    dial: async () => { throw new Error('no dial here') },
    introductions: true,
    options: { enabled: true, links: MAX_CIRCUITS, perPeer: CIRCUITS_PER_PEER, rate: CIRCUIT_RATE, ...options },
    ...parts
  })
  return { r, clock, links, accepted }
}

const last = l => l.sent[l.sent.length - 1]
const rid = n => n.toString(16).padStart(16, '0')
const b64 = n => Buffer.alloc(n, 7).toString('base64')

/** A circuit from a to b through r, accepted by b: the rid b's side got. */
function circuit (r, a, b, n = 1) {
  r.receive(a, { type: 'relay.connect', rid: rid(n), to: b.peerId })
  const incoming = last(b)
  r.receive(b, { type: 'relay.accept', rid: incoming.rid })
  return incoming.rid
}

t.test('a relay carries a circuit between two of its peers: incoming to the target, accept back to the opener with the rate, data both ways, close both ways', async t => {
  const { r, links } = relays([ID(1), ID(2)])
  const [a, b] = [links.get(ID(1)), links.get(ID(2))]
  r.receive(a, { type: 'relay.connect', rid: rid(1), to: ID(2) })
  const incoming = last(b)
  t.match(incoming, { type: 'relay.incoming', from: ID(1), rate: CIRCUIT_RATE }, 'the target hears who asks, and the rate')
  t.equal(a.sent.length, 0, 'the opener waits for the target')
  r.receive(b, { type: 'relay.accept', rid: incoming.rid })
  t.same(last(a), { type: 'relay.accept', rid: rid(1), rate: CIRCUIT_RATE }, 'the opener hears it is open, and the rate')
  t.equal(r.size, 1)
  r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(100) })
  t.same(last(b), { type: 'relay.data', rid: incoming.rid, data: b64(100) }, 'a to b, under b\'s circuit id')
  r.receive(b, { type: 'relay.data', rid: incoming.rid, data: b64(5) })
  t.same(last(a), { type: 'relay.data', rid: rid(1), data: b64(5) }, 'b to a')
  r.receive(a, { type: 'relay.close', rid: rid(1), reason: 'done' })
  t.same(last(b), { type: 'relay.close', rid: incoming.rid, reason: 'done' }, 'a close goes on to the other side')
  t.equal(r.size, 0, 'and the circuit is gone')
  r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(1) })
  t.equal(b.sent.length, 3, 'data on a closed circuit goes nowhere')
})

t.test('a relay refuses: relay off, a target it has no link to, itself or the opener, a relayed link at either end', async t => {
  const off = relays([ID(1), ID(2)], { enabled: false })
  off.r.receive(off.links.get(ID(1)), { type: 'relay.connect', rid: rid(1), to: ID(2) })
  t.match(last(off.links.get(ID(1))), { type: 'relay.close', rid: rid(1), reason: /relay: false/ }, 'relay: false')
  t.equal(off.links.get(ID(2)).sent.length, 0, 'the target never hears of it')

  const { r, links } = relays([ID(1), ID(2)])
  const a = links.get(ID(1))
  r.receive(a, { type: 'relay.connect', rid: rid(1), to: ID(9) })
  t.match(last(a), { reason: /not linked to/ }, 'a target it has no link to')
  r.receive(a, { type: 'relay.connect', rid: rid(2), to: ID(1) })
  t.match(last(a), { reason: /its own opener or to the relay/ }, 'the opener itself')
  r.receive(a, { type: 'relay.connect', rid: rid(3), to: SELF })
  t.match(last(a), { reason: /its own opener or to the relay/ }, 'the relay itself')
  links.set(ID(3), link(ID(3), 'relay'))
  r.receive(a, { type: 'relay.connect', rid: rid(4), to: ID(3) })
  t.match(last(a), { reason: /over a relayed link/ }, 'a target reached over a relayed link')
  r.receive(links.get(ID(3)), { type: 'relay.connect', rid: rid(5), to: ID(1) })
  t.match(last(links.get(ID(3))), { reason: /over a relayed link/ }, 'an opener on a relayed link')
  t.equal(r.size, 0, 'nothing relayed')
})

t.test('caps: circuits in all (MAX_CIRCUITS, setting relay-links) and per peer (CIRCUITS_PER_PEER, relay-links-per-peer)', async t => {
  t.equal(MAX_CIRCUITS, 32)
  t.equal(CIRCUITS_PER_PEER, 4)
  const ids = Array.from({ length: 2 * MAX_CIRCUITS + 2 }, (_, i) => ID(i + 1))
  const { r, links } = relays(ids)
  for (let i = 0; i < MAX_CIRCUITS; i++) circuit(r, links.get(ids[2 * i]), links.get(ids[2 * i + 1]), i + 1)
  t.equal(r.size, MAX_CIRCUITS, 'MAX_CIRCUITS relayed')
  const [x, y] = [links.get(ids[2 * MAX_CIRCUITS]), links.get(ids[2 * MAX_CIRCUITS + 1])]
  r.receive(x, { type: 'relay.connect', rid: rid(999), to: y.peerId })
  t.match(last(x), { type: 'relay.close', reason: /busy: relay-links \(32\)/ }, 'one more is refused')
  t.equal(y.sent.length, 0, 'its target never hears of it')
  // One closes: room for one more.
  r.receive(links.get(ids[0]), { type: 'relay.close', rid: rid(1), reason: 'bye' })
  circuit(r, x, y, 1000)
  t.equal(r.size, MAX_CIRCUITS, 'a closed circuit makes room')

  const per = relays([ID(1), ID(2), ID(3)])
  const [a, b, c] = [1, 2, 3].map(i => per.links.get(ID(i)))
  for (let i = 0; i < CIRCUITS_PER_PEER; i++) circuit(per.r, a, i % 2 === 0 ? b : c, i + 1)
  per.r.receive(b, { type: 'relay.connect', rid: rid(50), to: ID(1) })
  t.match(last(b), { reason: /relay-links-per-peer \(4\)/ }, 'the target over its share is refused')
  per.r.receive(a, { type: 'relay.connect', rid: rid(51), to: ID(3) })
  t.match(last(a), { reason: /relay-links-per-peer/ }, 'the opener over its share is refused')
  per.r.receive(b, { type: 'relay.connect', rid: rid(52), to: ID(3) })
  t.match(last(c), { type: 'relay.incoming', from: ID(2) }, 'two others with shares left still get one')

  const set = relays([ID(1), ID(2), ID(3)], { links: 1 })
  circuit(set.r, set.links.get(ID(1)), set.links.get(ID(2)))
  set.r.receive(set.links.get(ID(3)), { type: 'relay.connect', rid: rid(2), to: ID(2) })
  t.match(last(set.links.get(ID(3))), { reason: /busy: relay-links \(1\)/ }, 'the setting is the cap')
})

t.test('the rate: data within it goes at once, over it waits in a queue of CIRCUIT_QUEUE bytes at most, past that the circuit closes', async t => {
  const rate = 10_000
  const { r, clock, links } = relays([ID(1), ID(2)], { rate })
  const [a, b] = [links.get(ID(1)), links.get(ID(2))]
  const far = circuit(r, a, b)
  const before = b.sent.length
  // The burst (two chunks) goes at once.
  r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(MAX_RELAY_CHUNK) })
  r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(MAX_RELAY_CHUNK) })
  t.equal(b.sent.length, before + 2, 'two chunks at once (the burst)')
  r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(1000) })
  t.equal(b.sent.length, before + 2, 'the next waits for the rate')
  clock.advance(99)
  t.equal(b.sent.length, before + 2, 'not before its time')
  clock.advance(1)
  t.same(last(b), { type: 'relay.data', rid: far, data: b64(1000) }, 'then goes, in order')
  // A sender that ignores the rate: held up to CIRCUIT_QUEUE, then the circuit closes.
  const chunks = Math.floor(CIRCUIT_QUEUE / MAX_RELAY_CHUNK)
  for (let i = 0; i < chunks; i++) r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(MAX_RELAY_CHUNK) })
  t.equal(r.size, 1, `${chunks} chunks queued (CIRCUIT_QUEUE)`)
  r.receive(a, { type: 'relay.data', rid: rid(1), data: b64(1) })
  t.equal(r.size, 0, 'one byte more closes it')
  t.match(last(a), { type: 'relay.close', rid: rid(1), reason: /over the relay's rate/ }, 'the opener is told')
  t.match(last(b), { type: 'relay.close', rid: far, reason: /over the relay's rate/ }, 'so is the target')
  const sent = b.sent.length
  clock.advance(60_000)
  t.equal(b.sent.length, sent, 'nothing queued goes out after the close')
})

t.test('frames: past CIRCUIT_FRAME_BURST at once (CIRCUIT_FRAME_RATE a second), small frames go on merged, bytes unchanged and in order', async t => {
  const { r, clock, links } = relays([ID(1), ID(2)])
  const [a, b] = [links.get(ID(1)), links.get(ID(2))]
  circuit(r, a, b)
  const before = b.sent.length
  // 200 frames of 10 bytes each, numbered: a sender trying to make the target drop the relay.
  const sent = Array.from({ length: 200 }, (_, i) => Buffer.alloc(10, i))
  for (const d of sent) r.receive(a, { type: 'relay.data', rid: rid(1), data: d.toString('base64') })
  const out = () => b.sent.slice(before).filter(m => m.type === 'relay.data')
  t.equal(out().length, CIRCUIT_FRAME_BURST, 'CIRCUIT_FRAME_BURST frames at once')
  clock.advance(1000 / CIRCUIT_FRAME_RATE)
  t.equal(out().length, CIRCUIT_FRAME_BURST + 1, 'then one a 1/CIRCUIT_FRAME_RATE s, carrying all that waited')
  t.same(Buffer.concat(out().map(m => Buffer.from(m.data, 'base64'))), Buffer.concat(sent), 'the same bytes, in order')
  t.equal(r.size, 1, 'the circuit stays open')
})

t.test('the far end has CIRCUIT_OPEN_TIMEOUT to answer; data before the open closes the circuit', async t => {
  const { r, clock, links } = relays([ID(1), ID(2)])
  const [a, b] = [links.get(ID(1)), links.get(ID(2))]
  r.receive(a, { type: 'relay.connect', rid: rid(1), to: ID(2) })
  clock.advance(CIRCUIT_OPEN_TIMEOUT - 1)
  t.equal(r.size, 1, 'still waiting')
  clock.advance(1)
  t.equal(r.size, 0, 'gone at the deadline')
  t.match(last(a), { type: 'relay.close', reason: /did not answer/ })
  r.receive(a, { type: 'relay.connect', rid: rid(2), to: ID(2) })
  r.receive(a, { type: 'relay.data', rid: rid(2), data: b64(3) })
  t.equal(r.size, 0, 'data before the accept: closed')
  t.match(last(b), { type: 'relay.close', reason: /before the circuit opened/ })
})

t.test('a circuit id in use again on a link is a protocol violation; a link that closes takes its circuits with it', async t => {
  const { r, links } = relays([ID(1), ID(2), ID(3)])
  const [a, b, c] = [1, 2, 3].map(i => links.get(ID(i)))
  const far = circuit(r, a, b)
  r.receive(a, { type: 'relay.connect', rid: rid(1), to: ID(3) })
  t.match(a.closed, /circuit id in use/, 'the link is closed')
  r.closed(a)
  t.equal(r.size, 0, 'its circuit with it')
  t.match(last(b), { type: 'relay.close', rid: far, reason: /lost its link/ }, 'the other side is told')
  t.equal(c.sent.length, 0)
})

t.test('the target takes a circuit only from a requester it consented to, through a relay it named, within its share', async t => {
  const { r, clock, links, accepted } = relays([ID(1), ID(2), ID(3)])
  const [relay, other] = [links.get(ID(1)), links.get(ID(2))]
  const from = ID(77)
  relay.peerId = ID(1)
  r.receive(relay, { type: 'relay.incoming', rid: rid(1), from, rate: 5000 })
  t.match(last(relay), { type: 'relay.close', rid: rid(1), reason: /did not ask this node/ }, 'no consent: refused')
  // The request (over the ring, signed by `from`): common relays first.
  const answer = r.request(from, { relays: [ID(3), ID(50)] })
  t.same(answer.relays.slice(0, 1), [ID(3)], 'the relay in common comes first')
  t.same(new Set(answer.relays), new Set([ID(1), ID(2), ID(3)]), 'then its other peers')
  r.receive(other, { type: 'relay.incoming', rid: rid(2), from: ID(78), rate: 5000 })
  t.match(last(other), { reason: /did not ask/ }, 'another requester: refused')
  r.receive(relay, { type: 'relay.incoming', rid: rid(3), from, rate: 5000 })
  t.same(last(relay), { type: 'relay.accept', rid: rid(3) }, 'the requester through a relay named: accepted')
  t.equal(accepted.length, 1)
  t.equal(accepted[0].id, from, 'taken as a link pinned to the requester')
  t.ok(accepted[0].stream instanceof RelayStream)
  r.receive(relay, { type: 'relay.incoming', rid: rid(4), from, rate: 5000 })
  t.match(last(relay), { reason: /did not ask/ }, 'a consent is used once')
  // Through a relay it did not name; and a consent that has expired.
  const later = ID(79)
  r.request(later, { relays: [] })
  links.set(ID(4), link(ID(4)))
  r.receive(links.get(ID(4)), { type: 'relay.incoming', rid: rid(5), from: later, rate: 5000 })
  t.match(last(links.get(ID(4))), { reason: /did not ask/ }, 'a relay it did not name: refused')
  clock.advance(RELAY_CONSENT + 1)
  r.receive(relay, { type: 'relay.incoming', rid: rid(6), from: later, rate: 5000 })
  t.match(last(relay), { reason: /did not ask/ }, 'a consent past RELAY_CONSENT: refused')

  // The target's end: data in is read, a write leaves as relay.data, the circuit's close ends it.
  const end = accepted[0].stream
  const got = []
  end.on('data', d => got.push(d))
  r.receive(relay, { type: 'relay.data', rid: rid(3), data: Buffer.from('hello').toString('base64') })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(Buffer.concat(got).toString(), 'hello', 'data in is read')
  end.write(Buffer.from('back'))
  t.same(last(relay), { type: 'relay.data', rid: rid(3), data: Buffer.from('back').toString('base64') }, 'a write leaves as relay.data')
  const ended = new Promise(resolve => end.once('close', resolve))
  r.receive(relay, { type: 'relay.close', rid: rid(3), reason: 'bye' })
  await ended
  t.equal(end.closeReason, 'bye', 'the circuit\'s close ends the stream')
})

t.test('the target\'s share per relay (CIRCUITS_PER_PEER) and its consents (MAX_RELAY_CONSENTS) are bounded', async t => {
  const { r, links, accepted } = relays([ID(1)])
  const relay = links.get(ID(1))
  for (let i = 0; i <= CIRCUITS_PER_PEER; i++) {
    r.request(ID(100 + i), { relays: [] })
    r.receive(relay, { type: 'relay.incoming', rid: rid(i + 1), from: ID(100 + i), rate: 5000 })
  }
  t.equal(accepted.length, CIRCUITS_PER_PEER, 'CIRCUITS_PER_PEER through one relay')
  t.match(last(relay), { type: 'relay.close', reason: /relay-links-per-peer/ }, 'one more refused')
  // One ends: room again.
  accepted[0].stream.destroy()
  r.request(ID(300), { relays: [] })
  r.receive(relay, { type: 'relay.incoming', rid: rid(50), from: ID(300), rate: 5000 })
  t.equal(accepted.length, CIRCUITS_PER_PEER + 1, 'a closed one makes room')

  const c = relays([ID(1)])
  for (let i = 0; i <= MAX_RELAY_CONSENTS; i++) c.r.request(ID(1000 + i), { relays: [] })
  c.r.receive(c.links.get(ID(1)), { type: 'relay.incoming', rid: rid(1), from: ID(1000), rate: 5000 })
  t.match(last(c.links.get(ID(1))), { reason: /did not ask/ }, 'past MAX_RELAY_CONSENTS the oldest consent is forgotten')
  c.r.receive(c.links.get(ID(1)), { type: 'relay.incoming', rid: rid(2), from: ID(1001), rate: 5000 })
  t.match(last(c.links.get(ID(1))), { type: 'relay.accept' }, 'the next oldest still holds')
})

t.test('the opener\'s end paces its writes at the relay\'s rate, in chunks of MAX_RELAY_CHUNK', async t => {
  const { r, clock, links } = relays([ID(1)])
  const relay = links.get(ID(1))
  const opened = r.open(ID(1), ID(9))
  const connect = last(relay)
  t.match(connect, { type: 'relay.connect', to: ID(9) })
  r.receive(relay, { type: 'relay.accept', rid: connect.rid, rate: 16_384 })
  const end = await opened
  let done = false
  end.write(Buffer.alloc(3 * MAX_RELAY_CHUNK + 10), () => { done = true })
  const data = () => relay.sent.filter(m => m.type === 'relay.data')
  t.equal(data().length, 1, 'one chunk (the burst) at once')
  t.equal(Buffer.from(data()[0].data, 'base64').length, MAX_RELAY_CHUNK, 'of MAX_RELAY_CHUNK bytes')
  clock.advance(1000)
  t.equal(data().length, 2, 'the next a second later (16 KiB a second)')
  clock.advance(2000)
  t.equal(data().length, 4, 'then the rest')
  await new Promise(resolve => setImmediate(resolve))
  t.ok(done, 'the write is done once all of it left')
  // Many small writes: at most CIRCUIT_FRAME_BURST frames at once, then what waited leaves
  // together (_writev), all of it in order, in far fewer frames than writes.
  const before = data().length
  const small = Array.from({ length: 100 }, (_, i) => Buffer.alloc(10, i))
  for (const d of small) end.write(d)
  t.ok(data().length - before <= CIRCUIT_FRAME_BURST, `at most CIRCUIT_FRAME_BURST frames at once (${data().length - before})`)
  for (let i = 0; i < 20; i++) {
    clock.advance(1000 / CIRCUIT_FRAME_RATE)
    await new Promise(resolve => setImmediate(resolve))
  }
  t.same(Buffer.concat(data().slice(before).map(m => Buffer.from(m.data, 'base64'))), Buffer.concat(small), 'all of it, in order')
  t.ok(data().length - before < small.length, `in fewer frames than writes (${data().length - before})`)
  // A relay that never answers: the open fails after twice CIRCUIT_OPEN_TIMEOUT.
  let err = null
  r.open(ID(1), ID(8)).catch(e => { err = e })
  clock.advance(2 * CIRCUIT_OPEN_TIMEOUT)
  await new Promise(resolve => setImmediate(resolve))
  t.match(err, /did not answer/)
  // A refusal reaches the opener as the relay's reason.
  const refused = r.open(ID(1), ID(7))
  r.receive(relay, { type: 'relay.close', rid: last(relay).rid, reason: 'not linked to 0000…' })
  await t.rejects(refused, /not linked to/)
  await t.rejects(r.open(ID(5), ID(7)), /not linked to the relay/)
})

t.test('RELAY_ACTION requests and answers are checked: up to MAX_RELAY_CANDIDATES ids', async t => {
  t.equal(relayRequestProblem({ relays: [] }), null)
  t.equal(relayRequestProblem({ relays: [ID(1)] }), null)
  t.match(relayRequestProblem(null), /object/)
  t.match(relayRequestProblem({ relays: Array(MAX_RELAY_CANDIDATES + 1).fill(ID(1)) }), /MAX_RELAY_CANDIDATES/)
  t.match(relayRequestProblem({ relays: ['nope'] }), /MAX_RELAY_CANDIDATES/)
  t.match(relayAnswerProblem({ relays: 'x' }), /relay answer/)
  t.equal(relayAnswerProblem({ relays: [ID(2)] }), null)
  const { r } = relays([ID(1)])
  t.throws(() => r.request(ID(5), { relays: [1] }), /MAX_RELAY_CANDIDATES/, 'the handler refuses a bad request')
  const off = relays([ID(1)], {}, { introductions: false })
  t.throws(() => off.r.request(ID(5), { relays: [], introduced: true }), /introductions: false/, 'an introduced request to a node that takes none')
  const many = relays(Array.from({ length: 20 }, (_, i) => ID(i + 1)))
  t.equal(many.r.request(ID(99), { relays: [] }).relays.length, MAX_RELAY_CANDIDATES, 'an answer names at most MAX_RELAY_CANDIDATES')
})

t.test('relay frames are validated field by field', async t => {
  const ok = [
    { type: 'relay.connect', rid: rid(1), to: ID(1) },
    { type: 'relay.incoming', rid: rid(1), from: ID(1), rate: 1 },
    { type: 'relay.accept', rid: rid(1) },
    { type: 'relay.accept', rid: rid(1), rate: MAX_RELAY_RATE },
    { type: 'relay.data', rid: rid(1), data: b64(MAX_RELAY_CHUNK) },
    { type: 'relay.close', rid: rid(1), reason: '' }
  ]
  for (const m of ok) t.same(validateRelayMessage(m), m, `${m.type} passes`)
  const bad = [
    { type: 'relay.connect', rid: 'x', to: ID(1) },
    { type: 'relay.connect', rid: rid(1), to: 'ab' },
    { type: 'relay.incoming', rid: rid(1), from: ID(1), rate: 0 },
    { type: 'relay.incoming', rid: rid(1), from: ID(1), rate: MAX_RELAY_RATE + 1 },
    { type: 'relay.incoming', rid: rid(1), from: ID(1) },
    { type: 'relay.accept', rid: rid(1), rate: 1.5 },
    { type: 'relay.data', rid: rid(1), data: b64(MAX_RELAY_CHUNK + 1) },
    { type: 'relay.data', rid: rid(1), data: '' },
    { type: 'relay.data', rid: rid(1), data: 'abc' },
    { type: 'relay.data', rid: rid(1), data: 'ab!=' },
    { type: 'relay.close', rid: rid(1), reason: 'x'.repeat(201) },
    { type: 'relay.nope', rid: rid(1) },
    null,
    []
  ]
  for (const m of bad) t.throws(() => validateRelayMessage(m), WireError, `${JSON.stringify(m)?.slice(0, 60)} is refused`)
})

t.test('opts.relay is checked: false, or {links, linksPerPeer, rate} within bounds', async t => {
  const { peernet, createMemNetwork } = await import('../lib/index.js')
  const { MemoryLevel } = await import('memory-level')
  const make = relay => () => peernet(new MemoryLevel(), { transport: createMemNetwork().transport('x'), relay })
  t.throws(make({ rate: 1023 }), /opts\.relay\.rate must be a whole number of at least 1024/)
  t.throws(make({ links: -1 }), /opts\.relay\.links must be a whole number from 0 to 10000/)
  t.throws(make({ linksPerPeer: 1.5 }), /opts\.relay\.linksPerPeer/)
  t.throws(make({ burst: 1 }), /opts\.relay\.burst is not a relay option/)
  t.throws(make('yes'), /opts\.relay must be false or an object/)
  for (const ok of [false, true, undefined, {}, { links: 0 }, { rate: 1024, linksPerPeer: 1 }]) {
    const pn = make(ok)()
    t.ok(pn, `${JSON.stringify(ok)} is taken`)
    await pn.close()
  }
})
