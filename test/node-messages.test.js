// Messages by id on real nodes (the Peernet class, real Noise) over the in-memory transport, on
// one virtual clock: pn.send(id, message) over a live link and routed over the ring through a
// node between, pn.on('message'), and every way a send fails with a clear reason, never a hang.
// The protocol on its own (tampering, replays, the rate) is tested in ring-messages.test.js.
import t from 'tap'
import { VirtualClock, seededRandom, ActionError, MAX_MESSAGE, RUN_TIMEOUT } from '../lib/index.js'
import { memNet, HEX } from './lib/mem-nodes.js'
import { runUntil } from './lib/helpers.js'

/** A, with B and C each linked to A only (no addresses of their own: they only dial out). */
async function star (t, names = ['a', 'b', 'c']) {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const opts = seed => ({ clock, random: seededRandom(seed), interval: 200 })
  const a = node(names[0], { ...opts(1), addresses: [`mem://${names[0]}`] })
  const b = node(names[1], opts(2))
  const c = node(names[2], opts(3))
  await Promise.all([a, b, c].map(pn => pn.ready))
  await b.connect(a.url)
  await c.connect(a.url)
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
  // The action a message travels as is the library's own.
  t.throws(() => c.handle('peernet.message', () => 'mine'), /handle: action names starting with peernet\. are the library's own/)
  t.equal(c.unhandle('peernet.message'), false, 'and cannot be taken away')
  await t.rejects(b.run(c.id, 'peernet.message', 'x'), { name: 'TypeError', message: /run: action names starting with peernet\./ })
  t.same(await outcome(clock, b.send(c.id, 'still')), { value: undefined })
  t.equal(got.at(-1).message, 'still')
})

/** Whether x lies in (from, to] going clockwise round the ring of ids. */
const within = (x, from, to) => from < to ? from < x && x <= to : x > from || x <= to

t.test('whatever the order of the ids: B reaches C through A, even where B, unable to link to C, holds itself responsible for C\'s id', async t => {
  for (const wrongView of [true, false]) {
    // C's name picked so that C's id lies, or not, between A and B: B, linked to A alone, takes
    // A for its predecessor, and so holds itself responsible for (A, B].
    const [A, B] = [HEX('node a'), HEX('node b')]
    let n = 0
    while (within(HEX(`node c${n}`), A, B) !== wrongView) n++
    const { clock, a, b, c } = await star(t, ['a', 'b', `c${n}`])
    await runUntil(clock, () => b.ring.core.table.predecessor() === a.id)
    t.equal(b.ring.core.table.isResponsible(c.id), wrongView, wrongView ? 'B holds itself responsible for C\'s id' : 'B does not')
    const got = []
    c.on('message', m => got.push(m))
    t.same(await outcome(clock, b.send(c.id, 'hi')), { value: undefined }, 'acknowledged')
    t.same(got.map(m => [m.from, m.message]), [[b.id, 'hi']])
    await Promise.all([a, b, c].map(pn => pn.close()))
  }
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
