// Messages by id on real nodes (the Peernet class, real Noise) over the in-memory transport, on
// one virtual clock: pn.send(id, message) over a live link and routed over the ring through a
// node between, pn.on('message'), and every way a send fails with a clear reason, never a hang.
// The protocol on its own (tampering, replays, the rate) is tested in ring-messages.test.js.
import t from 'tap'
import { VirtualClock, seededRandom, ActionError, MAX_MESSAGE, RUN_TIMEOUT } from '../lib/index.js'
import { memNet } from './lib/mem-nodes.js'
import { runUntil } from './lib/helpers.js'

/** A, with B and C each linked to A only (no addresses of their own: they only dial out). */
async function star (t) {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const opts = seed => ({ clock, random: seededRandom(seed), interval: 200 })
  const a = node('a', { ...opts(1), addresses: ['mem://a'] })
  const b = node('b', opts(2))
  const c = node('c', opts(3))
  await Promise.all([a, b, c].map(pn => pn.ready))
  await b.connect('mem://a')
  await c.connect('mem://a')
  await runUntil(clock, () => a.ringStatus() === 'joined')
  return { clock, a, b, c }
}

/** Waits for promise while the clock moves (a send's lookup is driven by the ring's clock). */
async function outcome (clock, promise) {
  let out = null
  promise.then(value => { out = { value } }, error => { out = { error } })
  await runUntil(clock, () => out !== null, 400)
  return out
}

const linked = (x, y) => x.peerList().some(p => p.id === y.id)

t.test('send reaches a node only linked through another (routed), and one linked directly; on(message) gets {from, message, time}', async t => {
  const { clock, a, b, c } = await star(t)
  const got = []
  c.on('message', m => got.push(m))
  t.notOk(linked(b, c), 'B has no link to C')
  const sentToC = () => a.peerList().find(p => p.id === c.id).tx
  const before = sentToC()
  t.same(await outcome(clock, b.send(c.id, 'hi')), { value: undefined }, 'acknowledged')
  t.ok(sentToC() > before, 'A carried it to C')
  t.same(got, [{ from: b.id, message: 'hi', time: clock.now() }], 'C got it from B, with the time it came')
  t.notOk(linked(b, c), 'still no link between B and C')
  // Over the live link: one hop, the same signed envelope.
  const atA = []
  a.on('message', m => atA.push(m))
  t.same(await outcome(clock, c.send(a.id.toUpperCase(), { n: 1, list: [true, null] })), { value: undefined }, 'an id in capitals is the same id')
  t.same(atA.map(m => [m.from, m.message]), [[c.id, { n: 1, list: [true, null] }]])
  // The seed's callback form.
  const viaCallback = await outcome(clock, new Promise(resolve => c.send(a.id, 42, err => resolve(err))))
  t.same(viaCallback, { value: null }, 'send(id, message, callback)')
  t.equal(atA.at(-1).message, 42)
})

t.test('a send fails with a clear reason: bad id, no JSON, too large, ourselves, nobody listening, a refusal, no such node, a timeout', async t => {
  const { clock, a, b, c } = await star(t)
  await t.rejects(b.send('c0ffee', 'x'), { name: 'TypeError', message: /send: the recipient must be a node id, 64 hex digits/ })
  await t.rejects(b.send(c.id, 1n), { name: 'TypeError', message: /send: the message must be JSON/ })
  await t.rejects(b.send(c.id, undefined), { name: 'TypeError', message: /must be a JSON value, not undefined/ })
  const most = 'x'.repeat(MAX_MESSAGE - 2)
  await t.rejects(b.send(c.id, most + 'x'), { name: 'RangeError', message: new RegExp(`send: the message is too large: ${MAX_MESSAGE + 1} bytes of JSON, over MAX_MESSAGE \\(${MAX_MESSAGE}\\)`) })
  await t.rejects(b.send(b.id, 'me'), { code: 'unreachable', message: /send: that id is this node's own: a message to ourselves goes nowhere/ })
  // Nobody listens on C: no acknowledgement says it was read.
  const none = (await outcome(clock, b.send(c.id, 'anyone?'))).error
  t.ok(none instanceof ActionError)
  t.equal(none.code, 'remote')
  t.match(none.message, /^send to [0-9a-f]{12}…: the recipient takes no messages \(nothing listens for them\)$/)
  // A listener that throws refuses the message; the sender gets the first line.
  c.on('message', m => { if (m.message === 'no') throw new Error('not this one\n    at secret (x.js:1:1)') })
  t.match((await outcome(clock, b.send(c.id, 'no'))).error?.message, /: not this one$/)
  t.same(await outcome(clock, b.send(c.id, most)), { value: undefined }, 'a message of MAX_MESSAGE bytes of JSON goes')
  // An id no node has: the node responsible for it says so, at once.
  const ghost = 'f'.repeat(63) + '0'
  const gone = (await outcome(clock, b.send(ghost, 'hello?'))).error
  t.equal(gone?.code, 'unreachable')
  t.match(gone.message, /no node with that id/)
  // A node that never answers (A drops what it should forward): the send times out, at its timeout.
  const forward = a.ring.core.lookups.onLookup
  a.ring.core.lookups.onLookup = () => {}
  const start = clock.now()
  const late = (await outcome(clock, b.send(c.id, 'lost', { timeout: 2000 }))).error
  a.ring.core.lookups.onLookup = forward
  t.equal(late?.code, 'timeout')
  t.match(late.message, /no reply within 2000 ms/)
  t.ok(clock.now() - start < RUN_TIMEOUT, 'within its own timeout, not the default')
  await t.rejects(b.send(c.id, 'x', { timeout: 0 }), /send: the timeout must be an integer of 1\.\.60000 ms/)
  // A node off the ring cannot send.
  const { node } = memNet(t)
  const off = node('off', { ring: false })
  await t.rejects(off.send(c.id, 'x'), /send: this node is not on the ring \(opts.ring is false\)/)
  // A send still waiting when its node closes ends with it.
  a.ring.core.lookups.onLookup = () => {}
  const waiting = b.send(c.id, 'x', { timeout: 30_000 })
  await runUntil(clock, () => b.actions.remote.inFlight.runs === 1)
  await b.close()
  await t.rejects(waiting, { code: 'unreachable', message: /peernet is closed/ })
  a.ring.core.lookups.onLookup = forward
})
