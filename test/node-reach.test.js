// Connect by id on real nodes (the Peernet class, real Noise) over the in-memory transport, on
// one virtual clock: a ring of nodes, some of which only dial out (no listener, no address).
// pn.connect(ID) finds a node by its presence record and dials it as ID@ADDR; a node that
// cannot be dialed is asked, over the ring, to dial back; an id nobody holds is "no route",
// within the deadlines. The dial-back's guards: only the requester's own presence addresses,
// pinned to its id; a rate per requester and in all.
import t from 'tap'
import {
  DIALBACK_ACTION, DIALBACK_BURST, DIALBACK_TOTAL_BURST, PRESENCE_TIMEOUT, DIALBACK_TIMEOUT, RESERVED_PREFIX,
  INTRODUCE_ACTION, INTRODUCE_BURST, MAX_INTRODUCED, MAX_INTRODUCE_EXCLUDE, introducedProblem
} from '../lib/index.js'
import { ringOf, settle, linked, ask } from './lib/reach-net.js'

t.test('connect(ID): dial at the presence record\'s addresses, dial-back for a node that only dials out, linked when a link is open', async t => {
  const { clock, nodes } = await ringOf(t, 16, { dialOnly: [15] })
  const C = nodes[15]
  t.equal(C.status().addresses.length, 0, 'C has no address: it only dials out')

  // A node with no link to C: it cannot dial C, so C is asked to dial it back.
  const B = nodes.find(pn => pn !== C && !linked(pn, C))
  t.ok(B, 'some node has no link to C')
  const started = clock.now()
  const r = await settle(clock, B.connect(C.id))
  t.same(r, { id: C.id, path: 'dial-back', address: null }, 'reached by dial-back')
  t.ok(linked(B, C) && linked(C, B), 'both ends hold the link')
  t.equal(C.peerList().find(p => p.id === B.id).direction, 'out', 'C dialed it')
  t.ok(clock.now() - started < DIALBACK_TIMEOUT, 'well within the deadline')

  // Again: the link is open.
  t.same(await settle(clock, B.connect(C.id)), { id: C.id, path: 'linked', address: null }, 'an open link is reused')

  // Two listening nodes with no link between them: a plain dial at the presence address.
  // (A ring this small links every node to most others: D drops its link to E first, and
  // connecting by id lifts the hold that put on E.)
  const [D, E] = [nodes[1], nodes[2]]
  if (linked(D, E)) await settle(clock, D.disconnect(E.id))
  t.notOk(linked(D, E), 'two listening nodes without a link')
  t.same(await settle(clock, D.connect(E.id.toUpperCase())), { id: E.id, path: 'dial', address: `mem://${E.name}` }, 'reached by a dial at its presence address (the id in either case)')
  t.ok(linked(D, E), 'linked')

  // The callback form, and the address form's result.
  const viaCallback = await settle(clock, new Promise(resolve => C.connect(`mem://${E.name}`, (err, v) => resolve([err, v]))))
  t.same(viaCallback, [null, { id: E.id, path: 'dial', address: `mem://${E.name}` }], 'connect(ADDR) resolves to the same shape')
})

t.test('connect(ID): an id nobody holds is "no route" within the deadlines, never a hang; our own id and bad ids are refused', async t => {
  const { clock, nodes } = await ringOf(t, 8)
  const A = nodes[0]
  const started = clock.now()
  const err = await settle(clock, A.connect('ab'.repeat(32)))
  t.ok(err instanceof Error, 'it fails')
  t.equal(err.message, `no route to ${'ab'.repeat(32)}: not found (no presence record, and no node with that id on the ring)`, 'not found, and how that is known')
  t.ok(clock.now() - started <= PRESENCE_TIMEOUT + DIALBACK_TIMEOUT, 'within the deadlines')
  t.match((await settle(clock, A.connect(A.id))).message, /this node's own id/)
  t.match((await settle(clock, A.connect('ab'.repeat(31)))).message, /./, 'a short id is no address either')
})

t.test('dial-back goes only to the requester\'s own presence addresses, pinned to its id: a record naming another node\'s address gets no link there', async t => {
  // k15 only dials out; k14 claims V's address as its own. V is a node T has no link to (in a
  // ring of 16, T links to its successors, its predecessor and its gossip links; which those are
  // depends on the ring's timing, so the first V that fits is taken): a dial of T's to V's
  // address is then the dial-back's own. (A link that was there, cut by V's user, would have T's
  // gossip redial it meanwhile, and be refused by V's hold.)
  let ring = null
  let V
  for (const v of [13, 12, 11, 10, 9, 8]) {
    const r = await ringOf(t, 16, { dialOnly: [15], advertise: { 14: [`mem://k${v}`] } })
    if (!linked(r.nodes[v], r.nodes[15]) && !linked(r.nodes[15], r.nodes[v])) {
      ring = r
      V = r.nodes[v]
      break
    }
  }
  t.ok(ring !== null, 'a node T has no link to, for V')
  const { clock, nodes } = ring
  const [X, T] = [nodes[14], nodes[15]]
  t.notOk(linked(X, T), 'nor X (it has no address of its own)')
  // X cannot dial T (no address), so it asks for a dial-back; T looks up X's presence record,
  // finds k5's address there, and dials it as X: k5 answers with its own key, and the link ends
  // in the handshake, before T sends anything of its own.
  const vHellos = () => V.ctx.traffic.in.get('hello')?.frames ?? 0
  const before = vHellos()
  const err = await settle(clock, ask(X, T.id, DIALBACK_ACTION, null))
  t.match(err.message, /identity mismatch|expected/, 'the dial-back fails at the key check')
  t.notOk(linked(T, X), 'T holds no link to X')
  t.notOk(linked(V, T) && V.peerList().find(p => p.id === T.id).direction === 'in', 'V got no link from T')
  t.equal(vHellos(), before, 'V never heard a hello over it')
})

t.test('dial-back rates: DIALBACK_BURST per requester, DIALBACK_TOTAL_BURST in all; the node\'s own actions are not the user\'s', async t => {
  // k8..k11 only dial out: a dial-back to them fails (no address), so each request is charged.
  // They drop their links to T first (a requester linked already is answered at once; one T's
  // user disconnected is refused before any rate: see below).
  const { clock, nodes } = await ringOf(t, 12, { dialOnly: [8, 9, 10, 11] })
  const T = nodes[0]
  for (const pn of nodes.slice(8)) if (linked(T, pn)) await settle(clock, pn.disconnect(T.id))
  const askT = pn => settle(clock, ask(pn, T.id, DIALBACK_ACTION, null))
  const first = nodes[8]
  for (let i = 0; i < DIALBACK_BURST; i++) t.match((await askT(first)).message, /lists no address/, `request ${i + 1} is looked into`)
  t.match((await askT(first)).message, /over DIALBACK_RATE/, 'past DIALBACK_BURST a requester is refused')
  // The total: more requesters, each within its own burst.
  let refusals = 0
  let asked = DIALBACK_BURST + 1
  for (const pn of nodes.slice(9, 12)) {
    for (let i = 0; i < DIALBACK_BURST; i++) {
      const m = (await askT(pn)).message
      asked++
      if (/over DIALBACK_TOTAL_RATE/.test(m)) refusals++
    }
  }
  t.ok(asked > DIALBACK_TOTAL_BURST + 1, `${asked} requests in all`)
  t.ok(refusals > 0, `past DIALBACK_TOTAL_BURST requests are refused as busy (${refusals})`)

  t.throws(() => T.handle(`${RESERVED_PREFIX}mine`, () => 1), /the library's own/, 'a user cannot take an action name under RESERVED_PREFIX')
  t.equal(T.unhandle(DIALBACK_ACTION), false, 'nor remove one of the library\'s')
  await t.rejects(T.run(first.id, DIALBACK_ACTION, null), /the library's own/, 'nor run one')
})

t.test('getNewPeer: a connected peer names some of its own, and this node links to one it had no link to', async t => {
  const { clock, nodes } = await ringOf(t, 16, { dialOnly: [15] })
  // An asker and an introducer linked to it, with a peer the asker has no link to.
  let asker, introducer
  for (const a of nodes) {
    for (const p of a.peerList()) {
      const P = nodes.find(n => n.id === p.id)
      if (P.peerList().some(q => q.id !== a.id && !linked(a, nodes.find(n => n.id === q.id)))) [asker, introducer] = [a, P]
    }
    if (asker) break
  }
  t.ok(asker, 'an asker, and an introducer with a peer the asker has no link to')
  const before = new Set(asker.peerList().map(p => p.id))
  const r = await settle(clock, asker.getNewPeer(introducer.id))
  t.notOk(r instanceof Error, r.message)
  t.equal(r.introducer, introducer.id, 'through the introducer named')
  t.notOk(before.has(r.id), 'a peer it had no link to')
  t.ok(linked(asker, nodes.find(n => n.id === r.id)), 'now linked to it')
  t.ok(['dial', 'dial-back'].includes(r.path), `reached by ${r.path}`)

  // The seed's form: a random connected peer, callback.
  const viaCallback = await settle(clock, new Promise(resolve => asker.getNewPeer((err, v) => resolve(err ?? v))))
  t.ok(viaCallback instanceof Error ? /knows no peer this node has no link to|no introduced peer/.test(viaCallback.message) : viaCallback.introducer !== undefined, 'getNewPeer(callback)')
  t.match((await settle(clock, asker.getNewPeer('ab'.repeat(32)))).message, /not connected to .*an introducer must be a connected peer/)

  // The introducer's rate: INTRODUCE_BURST answers to one asker, then a refusal.
  const T = introducer
  const askOf = nodes.find(n => linked(n, T) && n !== asker)
  const answers = []
  for (let i = 0; i <= INTRODUCE_BURST; i++) answers.push(await settle(clock, ask(askOf, T.id, INTRODUCE_ACTION, null)))
  t.ok(answers.slice(0, INTRODUCE_BURST).every(a => Array.isArray(a) && a.length <= MAX_INTRODUCED && a.every(p => p.id !== askOf.id)), 'answers: up to MAX_INTRODUCED peers, never the asker')
  t.match(answers.at(-1).message, /over INTRODUCE_RATE/, 'past INTRODUCE_BURST the asker is refused')
  const tooMany = await settle(clock, ask(asker, T.id, INTRODUCE_ACTION, { have: Array(MAX_INTRODUCE_EXCLUDE + 1).fill('ab'.repeat(32)) }))
  t.match(tooMany.message, /MAX_INTRODUCE_EXCLUDE/, 'a have list past MAX_INTRODUCE_EXCLUDE is refused')
  // An asker with no link to the introducer is refused.
  const stranger = nodes.find(n => !linked(n, T) && n !== T)
  if (stranger) t.match((await settle(clock, ask(stranger, T.id, INTRODUCE_ACTION, null))).message, /for connected peers/, 'introductions are for connected peers')
})

t.test('introductions: false: the node introduces nobody, and refuses a dial-back asked through an introduction', async t => {
  const { clock, nodes } = await ringOf(t, 6, { opts: i => i === 0 ? { introductions: false } : {} })
  const N = nodes[0]
  const peer = nodes.find(n => linked(n, N))
  t.match((await settle(clock, ask(peer, N.id, INTRODUCE_ACTION, null))).message, /does not introduce/, 'no introductions from it')
  await settle(clock, peer.disconnect(N.id))
  t.match((await settle(clock, ask(peer, N.id, DIALBACK_ACTION, { introduced: true }))).message, /takes no links from introductions/, 'no link from an introduction')
  // A peer N's user disconnected: no dial-back (the link would be dropped here at its hello,
  // after the requester had counted it as opened).
  const other = nodes.find(n => n !== N && n !== peer && linked(n, N))
  await settle(clock, N.disconnect(other.id))
  t.match((await settle(clock, ask(other, N.id, DIALBACK_ACTION, null))).message, /refused: you were disconnected by the user of this node/, 'a held peer is refused')
  t.notOk(linked(N, other), 'and not linked')
})

t.test('introducedProblem: an introducer\'s answer is checked before use', async t => {
  const id = 'ab'.repeat(32)
  t.equal(introducedProblem([{ id, addresses: ['tcp://127.0.0.1:1'] }]), null)
  t.match(introducedProblem({}), /not a list/)
  t.match(introducedProblem(Array(MAX_INTRODUCED + 1).fill({ id, addresses: [] })), /MAX_INTRODUCED/)
  t.match(introducedProblem([null]), /not an object/)
  t.match(introducedProblem([{ id: 'AB'.repeat(32), addresses: [] }]), /no valid id/)
  t.match(introducedProblem([{ id, addresses: ['nonsense'] }]), /invalid addresses/)
  t.match(introducedProblem([{ id, addresses: Array(9).fill('tcp://127.0.0.1:1') }]), /invalid addresses/)
})

t.test('every node\'s presence record is found from every other once the ring has formed', async t => {
  // With these seeds k4 joins before k1 after k5 had stored its record at k1: the handover k1
  // got from its successor held k4's part of the arc too, which k1 kept as a replica while k4,
  // holding none, answered "none" for k5 until k5 re-published (REPUBLISH, minutes later). The
  // part of a handover that is not the receiver's arc goes on to its predecessor.
  const { clock, nodes } = await ringOf(t, 8)
  const missed = []
  for (const target of nodes) {
    for (const from of nodes) {
      if (from === target) continue
      const found = await settle(clock, from.ring.presenceOf(target.id))
      if (!Array.isArray(found) || found[0] !== `mem://${target.name}`) missed.push(`${from.name}→${target.name}`)
    }
  }
  t.same(missed, [], 'found, with its address')
})
