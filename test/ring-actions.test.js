// Remote actions (src/ring/actions.ts) over the ring's routed envelopes, on RingCores wired
// through an in-process queue (test/lib/ring-net.js): a run reaches a node it has no link to and
// its result comes back; what a hostile node on the route can do (alter, forge, replay) is
// refused; every bound (payload, name, rate, runs, handlers, senders) is crossed.
import t from 'tap'
import { RingNet, farPair, settle } from './lib/ring-net.js'
import {
  RemoteActions, ActionError, sealRequest, sealReply, MAX_ACTION_NAME, MAX_ACTION_ERROR, RUN_TIMEOUT, MAX_RUNS, ACTION_RATE, ACTION_BURST, MAX_HANDLING, MAX_RATE_SENDERS, MAX_KEPT_REPLIES
} from '../lib/ring/actions.js'
import { sealEnvelope, MAX_ENVELOPE_BODY, MAX_ENVELOPE_TTL } from '../lib/ring/envelope.js'
import { LOOKUP_TIMEOUT } from '../lib/ring/protocol.js'
import { generateKeyPair, idOf } from '../lib/node/identity.js'
import { seededRandom, randomHex } from '../lib/util/random.js'

const tick = () => new Promise(resolve => setImmediate(resolve))

/** A settled ring of n nodes, each with its RemoteActions (routed as the node routes them). */
function ring (t, opts = {}) {
  const net = new RingNet({ n: 40, seed: 11, ...opts, onEnvelope: (node, e) => node.actions.receive(e) })
  let i = 0
  for (const node of net.nodes.values()) {
    const core = node.core
    node.actions = new RemoteActions({
      keyPair: node.keyPair,
      random: seededRandom(1000 + i++),
      now: () => net.now,
      route: (e, cb) => core.lookup(e.to, 'deliver', (err, res) => cb(err, res?.envelope), { envelope: e }, core.table.isLinked(e.to) ? e.to : undefined)
    })
  }
  t.ok(net.settle() >= 0, 'the ring settles')
  return net
}

t.test('a run reaches a node it has no link to, over the ring, and its result comes back', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  const seen = []
  b.actions.handle('add', (p, ctx) => { seen.push(ctx.from); return p.x + p.y })
  b.actions.handle('later', async p => { await tick(); return { twice: p * 2 } })
  let hops = 0
  net.alter = (from, to, m) => { if (m.type === 'ring.found' && to === a.id) hops = m.hops; return m }
  t.same(await settle(net, a.actions.run(b.id, 'add', { x: 2, y: 3 })), { value: 5 })
  t.ok(hops >= 2, `routed over ${hops} hops`)
  t.same(seen, [a.id], 'the handler is told the signed sender')
  t.same(await settle(net, a.actions.run(b.id, 'later', 21)), { value: { twice: 42 } }, 'an async handler answers later, along the reverse path')
  t.same((await settle(net, a.actions.run(a.id, 'nothing-here'))).error?.code, 'remote', 'a run on this node itself goes through the same checks')
  t.same(a.actions.inFlight.runs, 0, 'nothing left waiting')
})

t.test('a node not joined yet runs on another node through the ring, not on its own guess', async t => {
  const net = ring(t)
  const kp = generateKeyPair(Buffer.alloc(32, 9))
  const x = net.nodes.get(net.add(kp))
  x.actions = new RemoteActions({ keyPair: kp, random: seededRandom(77), now: () => net.now, route: (e, cb) => x.core.lookup(e.to, 'deliver', (err, res) => cb(err, res?.envelope), { envelope: e }) })
  // Linked to its successor only, x guesses it is its predecessor too: x would hold itself
  // responsible for almost the whole ring.
  const ids = net.ids.slice().sort()
  const succ = ids.find(id => id > x.id) ?? ids[0]
  net.link(x.id, succ)
  t.not(x.core.status(), 'joined')
  const target = net.nodes.get(ids.find(id => id !== succ && x.core.table.isResponsible(id)))
  target.actions.handle('hi', (p, { from }) => from)
  t.same(await settle(net, x.actions.run(target.id, 'hi')), { value: x.id })
})

t.test('an async reply may come after LOOKUP_TIMEOUT, while the request is valid', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  let release
  b.actions.handle('slow', () => new Promise(resolve => { release = resolve }))
  const p = a.actions.run(b.id, 'slow', null, 3 * LOOKUP_TIMEOUT)
  net.drain()
  await tick()
  t.ok(release, 'the handler runs')
  // Past the ring's lookup timeout and its routes' default life: the run still waits.
  for (let i = 0; i < 4; i++) net.advance(LOOKUP_TIMEOUT / 2)
  release('done')
  t.same(await settle(net, p), { value: 'done' })
})

t.test('errors: unknown action, a handler that throws, a silent node, a timeout, an id nobody has', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  b.actions.handle('boom', () => { throw new Error('it broke\n    at secret (file.js:1:1)') })
  b.actions.handle('reject', async () => { throw new TypeError('no good') })
  b.actions.handle('never', () => new Promise(() => {}))
  const unknown = (await settle(net, a.actions.run(b.id, 'nope', 1))).error
  t.ok(unknown instanceof ActionError && unknown.code === 'remote', 'an error reply, not a hang')
  t.match(unknown.message, /: unknown action nope$/)
  const boom = (await settle(net, a.actions.run(b.id, 'boom'))).error
  t.match(boom.message, /: it broke$/, 'the message only: one line, no stack')
  t.equal(boom.code, 'remote')
  t.match((await settle(net, a.actions.run(b.id, 'reject'))).error.message, /: no good$/, 'a rejection too')
  const never = (await settle(net, a.actions.run(b.id, 'never', null, 2000), { advance: 500 })).error
  t.equal(never.code, 'timeout')
  t.match(never.message, /no reply within 2000 ms/)
  const byDefault = (await settle(net, a.actions.run(b.id, 'never'), { advance: 1000 })).error
  t.match(byDefault?.message, new RegExp(`no reply within ${RUN_TIMEOUT} ms`), 'RUN_TIMEOUT by default')
  // An error's text is cut at MAX_ACTION_ERROR characters.
  b.actions.handle('long', () => { throw new Error('e'.repeat(MAX_ACTION_ERROR + 50)) })
  const long = (await settle(net, a.actions.run(b.id, 'long'))).error
  t.equal(long.message.split(': ').at(-1), 'e'.repeat(MAX_ACTION_ERROR), `at most MAX_ACTION_ERROR (${MAX_ACTION_ERROR}) characters`)
  // An id no node has: the node responsible for it says so at once.
  const ghost = randomHex(seededRandom(5), 32)
  const gone = (await settle(net, a.actions.run(ghost, 'add'))).error
  t.equal(gone.code, 'unreachable')
  t.match(gone.message, /no node with that id/)
  t.equal(a.actions.inFlight.runs, 0)
})

t.test('a node on the route can neither alter nor forge a request or a reply', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  let ran = 0
  b.actions.handle('pay', p => { ran++; return { paid: p.amount } })
  const onRoute = (from, m) => from !== a.id && from !== b.id && (m.type === 'ring.lookup' || m.type === 'ring.found')
  const tamper = async (what, change) => {
    // A run may leave a and b linked (an answer names a finger): each crosses other nodes.
    net.unlink(a.id, b.id, true)
    net.alter = (from, to, m) => onRoute(from, m) && m.envelope !== undefined ? change(m) : m
    const out = await settle(net, a.actions.run(b.id, 'pay', { amount: 1 }))
    net.alter = (from, to, m) => m
    return out
  }
  const body = m => ({ ...m, envelope: { ...m.envelope, body: m.envelope.body.replace('1', '1000') } })
  let out = await tamper('request body', m => m.type === 'ring.lookup' ? body(m) : m)
  t.match(out.error?.message, /refused: envelope signature does not verify/, 'an altered request is refused')
  t.equal(ran, 0, 'and its handler never runs')
  const mallory = net.nodes.get(net.ids.find(id => id !== a.id && id !== b.id))
  out = await tamper('request from', m => m.type === 'ring.lookup' ? { ...m, envelope: { ...m.envelope, from: mallory.id } } : m)
  t.match(out.error?.message, /refused: envelope signature does not verify/, 'a request with a forged sender is refused')
  t.equal(ran, 0)

  out = await tamper('reply body', m => m.type === 'ring.found' ? body(m) : m)
  t.equal(out.error?.code, 'refused')
  t.match(out.error.message, /reply refused: envelope signature does not verify/, 'an altered reply is refused')
  t.equal(ran, 1, 'the handler ran once, for the true request')
  // A reply the node on the way signs itself, to the right request: not the target's.
  out = await tamper('forged reply', m => {
    if (m.type !== 'ring.found') return m
    const req = { from: a.id, nonce: JSON.parse(m.envelope.body).re, expires: m.envelope.expires }
    return { ...m, envelope: sealReply(mallory.keyPair, req, { ok: true, result: { paid: 1e9 } }, seededRandom(3)) }
  })
  t.match(out.error?.message, /reply refused: the reply is not from the target/)
  // The target's true reply to an earlier request, put in place of this one's.
  let old = null
  net.alter = (from, to, m) => { if (m.type === 'ring.found' && to === a.id) old = m.envelope; return m }
  t.same(await settle(net, a.actions.run(b.id, 'pay', { amount: 2 })), { value: { paid: 2 } })
  out = await tamper('old reply', m => m.type === 'ring.found' ? { ...m, envelope: old } : m)
  t.match(out.error?.message, /reply refused: the reply answers another request/)
})

t.test('a replayed request runs its handler once, and gets the reply the first got (MAX_KEPT_REPLIES)', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  let ran = 0
  b.actions.handle('once', () => ++ran)
  let captured = null
  let reply = null
  net.alter = (from, to, m) => {
    if (m.type === 'ring.lookup' && m.op === 'deliver') captured = m.envelope
    if (m.type === 'ring.found' && to === a.id && m.envelope !== undefined) reply = m.envelope
    return m
  }
  t.same(await settle(net, a.actions.run(b.id, 'once')), { value: 1 })
  net.alter = (from, to, m) => m
  // The same request again, by another route (a lookup sent again when its link went down, or
  // anyone who saw it): the handler does not run again; the reply is the one already signed.
  const mallory = net.nodes.get(net.ids.find(id => id !== a.id && id !== b.id))
  for (let i = 0; i < 3; i++) {
    const r = net.run(mallory.id, (core, done) => core.lookup(b.id, 'deliver', done, { envelope: captured }))
    t.same(r.res?.envelope, reply, 'the same signed reply')
  }
  t.equal(ran, 1, 'the handler ran once')
  // Past MAX_KEPT_REPLIES replies given since, it is forgotten: a replay is refused, still unrun.
  b.actions.handle('other', () => 0)
  // (From as many senders: one sender's rate would refuse most of them.)
  let replied = 0
  for (let i = 0; i < MAX_KEPT_REPLIES; i++) {
    const sender = generateKeyPair(Buffer.alloc(32, 0).fill(i % 256, 0, 1).fill(7, 1, 2))
    if (b.actions.receive(sealRequest(sender, b.id, 'other', i, net.now + 10_000, seededRandom(100 + i))).sig !== undefined) replied++
  }
  t.equal(replied, MAX_KEPT_REPLIES, 'MAX_KEPT_REPLIES other requests answered')
  t.match(b.actions.receive(captured).error, /refused: a replayed request/, 'the first request, past MAX_KEPT_REPLIES: refused')
  t.equal(ran, 1, 'never run again')
  // An envelope that fails its checks (expired here) never reaches a handler either.
  const stale = sealRequest(a.keyPair, b.id, 'once', null, net.now - 1, seededRandom(4))
  t.match(b.actions.receive(stale).error, /refused: envelope has expired/)
  const far = sealRequest(a.keyPair, b.id, 'once', null, net.now + MAX_ENVELOPE_TTL + 1000, seededRandom(4))
  t.match(b.actions.receive(far).error, /refused: envelope expires more than MAX_ENVELOPE_TTL/)
  t.equal(ran, 1)
})

t.test('bounds: payload size, action name, timeout', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  b.actions.handle('size', p => p.length)
  b.actions.handle('echo', p => p)
  // The largest payload string whose request fits MAX_ENVELOPE_BODY, and one byte more.
  const overhead = JSON.stringify(JSON.stringify({ action: 'size', payload: '' })).length
  const fits = 'x'.repeat(MAX_ENVELOPE_BODY - overhead)
  t.same(await settle(net, a.actions.run(b.id, 'size', fits)), { value: fits.length }, 'a payload that just fits goes')
  const frames = net.frames
  const big = (await settle(net, a.actions.run(b.id, 'size', fits + 'x'))).error
  t.ok(big instanceof RangeError, 'one byte more is refused')
  t.match(big.message, /the payload is too large: the request is \d+ bytes, over MAX_ENVELOPE_BODY/)
  t.equal(net.frames, frames, 'before anything is sent')
  t.match((await settle(net, a.actions.run(b.id, 'echo', fits))).error?.message, /the result is too large/, 'a result too big for a reply is an error reply')
  t.match((await settle(net, a.actions.run(b.id, 'size', 1n))).error?.message, /the payload must be JSON-serialisable/)

  const name = 'n'.repeat(MAX_ACTION_NAME)
  b.actions.handle(name, () => 'long')
  t.same(await settle(net, a.actions.run(b.id, name)), { value: 'long' }, `a name of MAX_ACTION_NAME (${MAX_ACTION_NAME})`)
  t.throws(() => b.actions.handle(name + 'n', () => {}), /handle: an action name must be a string of 1\.\.64 characters/)
  t.match((await settle(net, a.actions.run(b.id, name + 'n'))).error?.message, /run: an action name must be/)
  t.match((await settle(net, a.actions.run(b.id, 'size', 'x', MAX_ENVELOPE_TTL + 1))).error?.message, /the timeout must be an integer of 1\.\.60000 ms/)
  t.match((await settle(net, a.actions.run('b0b', 'size', 'x'))).error?.message, /the target must be a node id/)
})

t.test(`rate: ACTION_BURST (${ACTION_BURST}) requests from one sender, then ACTION_RATE (${ACTION_RATE}) a second`, async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  const c = net.nodes.get(net.ids.find(id => id !== a.id && id !== b.id))
  let ran = 0
  b.actions.handle('hit', () => ++ran)
  const runs = []
  for (let i = 0; i <= ACTION_BURST; i++) runs.push(settle(net, a.actions.run(b.id, 'hit')))
  const out = await Promise.all(runs)
  t.equal(out.filter(o => 'value' in o).length, ACTION_BURST, 'a burst goes')
  t.match(out.at(-1).error?.message, /refused: over ACTION_RATE \(10 requests a second, burst 20\) for this sender/, 'the next is refused')
  t.equal(ran, ACTION_BURST, 'without running the handler')
  t.same(await settle(net, c.actions.run(b.id, 'hit')), { value: ACTION_BURST + 1 }, 'another sender is not held back')
  net.advance(1000 / ACTION_RATE)
  t.same(await settle(net, a.actions.run(b.id, 'hit')), { value: ACTION_BURST + 2 }, 'a token a 1/ACTION_RATE s later')
})

t.test(`MAX_RUNS (${MAX_RUNS}) runs waiting at once`, async t => {
  // b drops every lookup it should answer or forward: runs to it wait for their timeout.
  let silent = null
  const net = ring(t, { drop: id => id === silent })
  const [a, b] = farPair(net)
  silent = b.id
  const runs = []
  for (let i = 0; i < MAX_RUNS; i++) runs.push(a.actions.run(b.id, 'x', i, 1000).catch(err => err))
  net.drain()
  t.equal(a.actions.inFlight.runs, MAX_RUNS)
  const over = (await settle(net, a.actions.run(b.id, 'x', 0))).error
  t.match(over?.message, /run: MAX_RUNS \(256\) runs are already waiting for replies/)
  net.advance(1000)
  const errs = await Promise.all(runs)
  t.ok(errs.every(e => e.code === 'timeout'), 'the waiting runs time out')
  t.equal(a.actions.inFlight.runs, 0)
})

t.test(`MAX_HANDLING (${MAX_HANDLING}) handlers at work at once`, async t => {
  const net = ring(t)
  const b = net.nodes.get(net.ids[0])
  const releases = []
  b.actions.handle('hold', () => new Promise(resolve => releases.push(resolve)))
  const senders = net.ids.slice(1, 1 + Math.ceil((MAX_HANDLING + 5) / ACTION_BURST)).map(id => net.nodes.get(id))
  const runs = []
  for (const s of senders) for (let i = 0; i < ACTION_BURST; i++) runs.push(s.actions.run(b.id, 'hold', i).then(v => ({ v }), e => ({ e })))
  for (let i = 0; i < 5; i++) { net.drain(); await tick() }
  t.equal(releases.length, MAX_HANDLING, 'MAX_HANDLING handlers run')
  t.equal(b.actions.inFlight.handling, MAX_HANDLING)
  for (const r of releases) r('ok')
  const out = await settle(net, Promise.all(runs))
  const busy = out.value.filter(o => /refused: busy/.test(o.e?.message))
  t.equal(busy.length, runs.length - MAX_HANDLING, 'the rest are refused as busy')
  t.equal(out.value.filter(o => o.v === 'ok').length, MAX_HANDLING)
  t.equal(b.actions.inFlight.handling, 0)
})

t.test('a handler that never settles holds its place until its request expires', async t => {
  const net = ring(t)
  const b = net.nodes.get(net.ids[0])
  let started = 0
  b.actions.handle('stuck', () => { started++; return new Promise(() => {}) })
  const senders = net.ids.slice(1).map(id => net.nodes.get(id))
  const runs = []
  for (let i = 0; i < MAX_HANDLING; i++) runs.push(senders[i % senders.length].actions.run(b.id, 'stuck', i, 2000).catch(e => e))
  for (let i = 0; i < 5; i++) { net.drain(); await tick() }
  t.equal(started, MAX_HANDLING)
  const c = senders.at(-1)
  t.match((await settle(net, c.actions.run(b.id, 'stuck', 0, 2000))).error?.message, /refused: busy/)
  const errs = await settle(net, Promise.all(runs), { advance: 500 })
  t.ok(errs.value.every(e => e.code === 'timeout'), 'the runs time out')
  net.advance(60_000 / ACTION_RATE) // c's rate back
  const late = settle(net, c.actions.run(b.id, 'stuck', 0, 2000), { advance: 500 })
  t.equal((await late).error?.code, 'timeout', 'a new request is taken once the stuck ones expired')
  t.equal(started, MAX_HANDLING + 1)
})

t.test(`MAX_RATE_SENDERS (${MAX_RATE_SENDERS}) senders' rates remembered`, async t => {
  let now = 1_000_000
  const me = generateKeyPair(Buffer.alloc(32, 7))
  const actions = new RemoteActions({ keyPair: me, random: seededRandom(1), now: () => now, route: () => {} })
  actions.handle('x', () => 1)
  const random = seededRandom(2)
  const keys = []
  let answered = 0
  let most = 0
  for (let i = 0; i <= MAX_RATE_SENDERS; i++) {
    const kp = generateKeyPair(Buffer.from(randomHex(random, 32), 'hex'))
    keys.push(kp)
    if (actions.receive(sealRequest(kp, idOf(me.publicKey), 'x', null, now + 1000, random)).sig) answered++
    most = Math.max(most, actions.inFlight.senders)
  }
  t.equal(answered, MAX_RATE_SENDERS + 1, 'every sender answered')
  t.equal(most, MAX_RATE_SENDERS, 'never more than MAX_RATE_SENDERS remembered')
  t.equal(actions.inFlight.senders, MAX_RATE_SENDERS, 'the one heard from least recently is forgotten')
  // The first sender, forgotten, starts again with a full burst; a remembered one does not.
  const burst = kp => {
    let n = 0
    for (let i = 0; i < ACTION_BURST + 1; i++) if (actions.receive(sealRequest(kp, idOf(me.publicKey), 'x', null, now + 1000, random)).sig) n++
    return n
  }
  t.equal(burst(keys.at(-1)), ACTION_BURST - 1, 'a remembered sender has its burst less the one it used')
  t.equal(burst(keys[0]), ACTION_BURST, 'a forgotten sender starts with a full burst')
  // Not an action: an envelope whose body is no request is an error reply, signed.
  const odd = sealEnvelope(keys[5], idOf(me.publicKey), [1, 2], now + 1000, random)
  t.equal(actions.receive(odd).from, idOf(me.publicKey))
})
