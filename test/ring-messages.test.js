// Messages by id (src/ring/messages.ts) over the ring's routed envelopes, on RingCores wired
// through an in-process queue (test/lib/ring-net.js): a message reaches a node it has no link to
// and its signed acknowledgement comes back; what a node on the route can do (alter the body,
// forge `from`, fake the acknowledgement, replay) is refused; MAX_MESSAGE and the sender's rate
// are crossed; the library's action names are its own.
import t from 'tap'
import { RingNet, farPair, settle } from './lib/ring-net.js'
import { RemoteActions, ActionError, sealRequest, sealReply, ACTION_BURST, ACTION_RATE, RESERVED_PREFIX } from '../lib/ring/actions.js'
import { MESSAGE_ACTION, MAX_MESSAGE, MESSAGE_WRAPPER, messageHandler, messageText } from '../lib/ring/messages.js'
import { MAX_ENVELOPE_BODY } from '../lib/ring/envelope.js'
import { seededRandom, randomHex } from '../lib/util/random.js'


/** A settled ring; each node's RemoteActions answers messages into node.inbox (or refuses, as node.refuse says). */
function ring (t, opts = {}) {
  const net = new RingNet({ n: 30, seed: 12, ...opts, onEnvelope: (node, e) => node.actions.receive(e) })
  let i = 0
  for (const node of net.nodes.values()) {
    const core = node.core
    node.inbox = []
    node.refuse = null
    node.actions = new RemoteActions({
      keyPair: node.keyPair,
      random: seededRandom(2000 + i++),
      now: () => net.now,
      handlers: new Map([[MESSAGE_ACTION, messageHandler(m => {
        if (node.refuse !== null) throw new Error(node.refuse)
        node.inbox.push(m)
      })]]),
      route: (e, cb) => core.lookup(e.to, 'deliver', (err, res) => cb(err, res?.envelope), { envelope: e }, core.table.isLinked(e.to) ? e.to : undefined)
    })
    node.send = (to, message, timeout = 5000) => node.actions.ask(to, MESSAGE_ACTION, message, timeout, 'send')
  }
  t.ok(net.settle() >= 0, 'the ring settles')
  return net
}

t.test('a message reaches a node it has no link to; the acknowledgement is the signed reply', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  let hops = 0
  net.alter = (from, to, m) => { if (m.type === 'ring.found' && to === a.id) hops = m.hops; return m }
  t.same(await settle(net, a.send(b.id, { text: 'hi', n: [1, 2] })), { value: null }, 'acknowledged')
  t.ok(hops >= 2, `routed over ${hops} hops`)
  t.same(b.inbox, [{ from: a.id, message: { text: 'hi', n: [1, 2] } }], 'delivered once, with the signed sender')
  b.refuse = 'the inbox is full'
  const refused = (await settle(net, a.send(b.id, 'more'))).error
  t.ok(refused instanceof ActionError)
  t.equal(refused.code, 'remote', 'a refusal the recipient signs')
  t.match(refused.message, /^send to [0-9a-f]{12}…: the inbox is full$/)
  t.equal(b.inbox.length, 1)
  const ghost = randomHex(seededRandom(6), 32)
  const gone = (await settle(net, a.send(ghost, 'anyone?'))).error
  t.equal(gone.code, 'unreachable', 'an id no node has: unreachable')
  t.match(gone.message, /^send to [0-9a-f]{12}…: no node with that id$/, 'said at once by the node responsible for it')
  t.equal(a.actions.inFlight.runs, 0, 'nothing left waiting')
})

t.test(`MAX_MESSAGE (${MAX_MESSAGE} bytes of JSON) fits an envelope whatever it holds; one byte more is refused on both sides`, async t => {
  t.ok(2 * MAX_MESSAGE + MESSAGE_WRAPPER <= MAX_ENVELOPE_BODY, 'twice MAX_MESSAGE and the wrapper fit MAX_ENVELOPE_BODY')
  const net = ring(t)
  const [a, b] = farPair(net)
  // The worst case: every character of the JSON text escaped once more in the envelope's body.
  const quotes = '"'.repeat((MAX_MESSAGE - 2) / 2)
  t.equal(Buffer.byteLength(JSON.stringify(quotes)), MAX_MESSAGE, 'a string of quotes whose JSON is MAX_MESSAGE bytes')
  t.same(await settle(net, a.send(b.id, quotes)), { value: null }, 'it goes, routed')
  t.equal(b.inbox.at(-1).message, quotes)
  const over = messageText(quotes + '"')
  t.match(over, { tooLarge: true, problem: /the message is too large: \d+ bytes of JSON, over MAX_MESSAGE/ }, 'one character more is too large')
  t.match(messageText(1n), { tooLarge: false, problem: /the message must be JSON/ })
  t.match(messageText(undefined), { tooLarge: false, problem: /the message must be a JSON value, not undefined/ })
  // A hostile sender seals what it likes, within MAX_ENVELOPE_BODY: the recipient checks it again.
  const big = 'x'.repeat(MAX_MESSAGE)
  const req = sealRequest(a.keyPair, b.id, MESSAGE_ACTION, big, net.now + 1000, seededRandom(8))
  const reply = b.actions.receive(req)
  t.match(JSON.parse(reply.body), { ok: false, error: /the message is too large/ }, 'an oversize message is refused, signed')
  t.equal(b.inbox.length, 1, 'and not delivered')
})

t.test('a node on the route can neither alter a message, forge its sender, nor fake its acknowledgement', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  const mallory = net.nodes.get(net.ids.find(id => id !== a.id && id !== b.id && !net.nodes.get(id).links.has(b.id)) ?? net.ids.find(id => id !== a.id && id !== b.id))
  const onRoute = (from, m) => from !== a.id && from !== b.id && (m.type === 'ring.lookup' || m.type === 'ring.found')
  const tamper = async change => {
    net.alter = (from, to, m) => onRoute(from, m) && m.envelope !== undefined ? change(m) : m
    const out = await settle(net, a.send(b.id, 'pay 1'))
    net.alter = (from, to, m) => m
    return out
  }
  let out = await tamper(m => m.type === 'ring.lookup' ? { ...m, envelope: { ...m.envelope, body: m.envelope.body.replace('pay 1', 'pay 9') } } : m)
  t.match(out.error?.message, /refused: envelope signature does not verify/, 'an altered body is refused')
  out = await tamper(m => m.type === 'ring.lookup' ? { ...m, envelope: { ...m.envelope, from: mallory.id } } : m)
  t.match(out.error?.message, /refused: envelope signature does not verify/, 'a forged `from` is refused')
  // A node on the route that seals a message of its own in the sender's name: its own key, its own id.
  const forged = sealRequest(mallory.keyPair, b.id, MESSAGE_ACTION, 'from a, honest', net.now + 1000, seededRandom(9))
  forged.from = a.id
  t.match(b.actions.receive(forged).error, /refused: envelope signature does not verify/, 'a message signed by another key than `from`\'s is refused')
  t.equal(b.inbox.length, 0, 'nothing was delivered')
  // The acknowledgement, dropped and faked by the node on the way: not the recipient's.
  out = await tamper(m => {
    if (m.type !== 'ring.found') return m
    const req = { from: a.id, nonce: JSON.parse(m.envelope.body).re, expires: m.envelope.expires }
    return { ...m, envelope: sealReply(mallory.keyPair, req, { ok: true, result: null }, seededRandom(3)) }
  })
  t.equal(out.error?.code, 'refused')
  t.match(out.error.message, /reply refused: the reply is not from the target/, 'a faked acknowledgement is refused')
  t.equal(b.inbox.length, 1, '(the message itself did arrive: only its acknowledgement was faked)')
})

t.test('a replayed message is delivered once', async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  let captured = null
  net.alter = (from, to, m) => { if (m.type === 'ring.lookup' && m.op === 'deliver') captured = m.envelope; return m }
  t.same(await settle(net, a.send(b.id, 'once')), { value: null })
  net.alter = (from, to, m) => m
  const mallory = net.nodes.get(net.ids.find(id => id !== a.id && id !== b.id))
  for (let i = 0; i < 3; i++) {
    const r = net.run(mallory.id, (core, done) => core.lookup(b.id, 'deliver', done, { envelope: captured }))
    t.ok(r.res?.envelope, 'answered with the acknowledgement already given (ring-actions: MAX_KEPT_REPLIES)')
  }
  t.equal(b.inbox.length, 1, 'delivered once')
})

t.test(`the sender's rate: ACTION_BURST (${ACTION_BURST}) messages, then ACTION_RATE (${ACTION_RATE}) a second, shared with its actions`, async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  const c = net.nodes.get(net.ids.find(id => id !== a.id && id !== b.id))
  b.actions.handle('ping', () => 'pong')
  t.same(await settle(net, a.actions.run(b.id, 'ping')), { value: 'pong' }, 'an action takes one of the burst')
  const sends = []
  for (let i = 0; i < ACTION_BURST; i++) sends.push(settle(net, a.send(b.id, i)))
  const out = await Promise.all(sends)
  t.equal(out.filter(o => 'value' in o).length, ACTION_BURST - 1, 'the rest of the burst goes')
  t.match(out.at(-1).error?.message, /refused: over ACTION_RATE \(10 requests a second, burst 20\) for this sender/, 'the next is refused')
  t.equal(b.inbox.length, ACTION_BURST - 1)
  t.same(await settle(net, c.send(b.id, 'me too')), { value: null }, 'another sender is not held back')
  net.advance(1000 / ACTION_RATE)
  t.same(await settle(net, a.send(b.id, 'later')), { value: null }, 'a token a 1/ACTION_RATE s later')
})

t.test(`action names starting with ${RESERVED_PREFIX} are the library's own`, async t => {
  const net = ring(t)
  const [a, b] = farPair(net)
  t.throws(() => b.actions.handle(MESSAGE_ACTION, () => 'mine'), /handle: action names starting with peernet\. are the library's own/)
  t.throws(() => b.actions.handle('peernet.other', () => 1), /the library's own/)
  await t.rejects(a.actions.run(b.id, MESSAGE_ACTION, 'x'), /run: action names starting with peernet\. are the library's own/)
  t.equal(b.actions.unhandle(MESSAGE_ACTION), false, 'nor can a user take its handler away')
  t.same(await settle(net, a.send(b.id, 'still mine')), { value: null }, 'the library\'s handler is untouched')
  t.equal(b.inbox.length, 1)
})
