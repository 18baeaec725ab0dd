// Connect by id's last step on real nodes (the Peernet class, real Noise) over the in-memory
// transport, one virtual clock: B, C and D only dial out (no address) and have WebRTC off, all
// linked to A. Nothing but a relay can join B and C: B.connect(C.id) asks C over the ring for its
// consent, and a circuit through A carries a normal link, Noise handshake and all, pinned to C's
// key. A relay that joins the circuit to anyone else makes that handshake fail.
import t from 'tap'
import { RELAY_KIND, RELAY_ACTION } from '../lib/index.js'
import { ringOf, settle, linked } from './lib/reach-net.js'

const noWebRTC = () => ({ webrtc: false })

t.test('two nodes nothing else can join reach each other by id through a relay both are linked to', async t => {
  const { clock, nodes } = await ringOf(t, 4, { dialOnly: [1, 2, 3], opts: noWebRTC })
  const [A, B, C] = nodes
  t.notOk(linked(B, C), 'B has no link to C')
  t.ok(linked(A, B) && linked(A, C), 'both are linked to A')

  const r = await settle(clock, B.connect(C.id))
  t.same(r, { id: C.id, path: 'relay', address: null }, 'reached through a relay')
  t.match(B.peerList().find(p => p.id === C.id), { transport: RELAY_KIND, direction: 'out', address: null }, 'B: an outbound link carried by the relay')
  t.match(C.peerList().find(p => p.id === B.id), { transport: RELAY_KIND, direction: 'in' }, 'C: the inbound end')
  t.ok((A.traffic().out.get('relay.data')?.frames ?? 0) > 0, 'A carried it')

  // A message over the relayed link, and its acknowledgement back.
  const got = new Promise(resolve => C.once('message', resolve))
  const sent = settle(clock, B.send(C.id, { over: 'relay' }))
  t.match(await got, { from: B.id, message: { over: 'relay' } }, 'a message over it')
  t.notOk((await sent) instanceof Error, 'acknowledged')

  // The relay's link to C goes: the relayed link goes with it.
  await settle(clock, A.disconnect(C.id))
  t.notOk(linked(B, C), 'the relayed link is gone with the relay\'s link')
})

t.test('relay: false on the only common peer: the last step fails, each step named', async t => {
  const { clock, nodes } = await ringOf(t, 4, { dialOnly: [1, 2, 3], opts: i => ({ webrtc: false, ...(i === 0 ? { relay: false } : {}) }) })
  const [, B, C] = nodes
  const err = await settle(clock, B.connect(C.id))
  t.ok(err instanceof Error)
  // (What the presence lookup and the dial-back say depends on the ring: C and D, side by side
  // on it, cannot link, and a lookup between them may loop.)
  t.match(err.message, new RegExp(`^no route to ${C.id}: .*dial-back .*, webrtc failed: webrtc is off.*, relay failed: every relay failed \\(.*this node does not relay \\(relay: false\\)\\)$`), 'every step, and the relay\'s refusal')
  t.notOk(linked(B, C))
})

t.test('a relay that joins the circuit to another node: the end-to-end handshake fails, no link to either', async t => {
  const { clock, nodes } = await ringOf(t, 4, { dialOnly: [1, 2, 3], opts: noWebRTC })
  const [A, B, C, D] = nodes
  // A, hostile, sends B's circuit for C on to D; D, its accomplice, takes it as if it had agreed.
  const real = A.relays.peers
  A.relays.peers = { get: id => real.get(id === C.id ? D.id : id), [Symbol.iterator]: () => real[Symbol.iterator]() }
  D.relays.expects.set(B.id, { until: Infinity, relays: new Set([A.id]) })
  const err = await settle(clock, B.connect(C.id))
  t.ok(err instanceof Error, 'it fails')
  t.match(err.message, new RegExp(`relay failed: every relay failed \\(.*identity mismatch: expected ${C.id}, got ${D.id}`), 'the handshake proves the key: D is not C')
  t.notOk(linked(B, C), 'no link to C')
  t.notOk(B.peerList().some(p => p.id === D.id && p.transport === RELAY_KIND), 'nor a relayed one to D')
})

t.test('a relayed link is refused without the target\'s consent; a consent request through an introducer a node that takes none refuses', async t => {
  const { clock, nodes } = await ringOf(t, 4, { dialOnly: [1, 2, 3], opts: i => ({ webrtc: false, ...(i === 3 ? { introductions: false } : {}) }) })
  const [A, B, C, D] = nodes
  // B opens a circuit through A without asking C first.
  const err = await settle(clock, B.relays.open(A.id, C.id))
  t.match(err.message, /did not ask this node for a relayed link/, 'C refuses a circuit it did not agree to')
  t.notOk(linked(B, C))
  const refused = await settle(clock, B.actions.ask(D.id, RELAY_ACTION, { relays: [], introduced: true }, 10_000, 'run', A.id))
  t.match(refused.message, /introductions: false/, 'an introduced request to a node that takes no introductions')
})

t.test('nodes that only dial out, side by side on the ring: a message and a relayed link still reach them, and their lookups do not loop', async t => {
  // k4 and k10 sit side by side on the ring (ids from the seeds), and neither can link to the
  // other: each holds the node after the other for its successor, so two nodes' views of the
  // ring differ there, and a lookup passed straight back between them looped ("no node with
  // that id" for k10, from k3). A lookup never goes straight back now (RoutingTable.nextHop).
  const { clock, nodes } = await ringOf(t, 14, { dialOnly: [3, 4, 10, 11], opts: noWebRTC })
  const [from, to] = [nodes[3], nodes[10]]
  const got = new Promise(resolve => to.once('message', resolve))
  const sent = await settle(clock, from.send(to.id, 'beside'))
  t.notOk(sent instanceof Error, sent?.message ?? 'a routed message is acknowledged')
  t.match(await got, { from: from.id, message: 'beside' })
  t.match(await settle(clock, from.connect(to.id)), { id: to.id, path: 'relay' }, 'and a relayed link')

  // The smallest such ring: one node that listens, two that only dial out. k2 cannot link to
  // its true successor k1 and holds k0 for it; a lookup of its own for a point past k1 went
  // back and forth between k2 and k0 (a routing loop).
  const small = await ringOf(t, 3, { dialOnly: [1, 2], opts: noWebRTC })
  const [k0, , k2] = small.nodes
  const found = await settle(small.clock, k2.ring.presenceOf(k0.id))
  t.same(found, k0.status().addresses, 'k2 finds k0\'s presence record')
})
