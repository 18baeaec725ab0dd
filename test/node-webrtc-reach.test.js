// Connect by id's third step on real nodes: B and C only dial out (no listener, no address), both
// linked to A. Neither can dial the other, so no dial-back can work either: B.connect(C.id)
// opens a WebRTC channel (node-datachannel, bound to 127.0.0.1, no ICE server) whose signals go
// over the ring through A, and the Noise handshake over it proves C's key. Real clock: WebRTC's
// own timers are real.
import t from 'tap'
import { createMemNetwork, MAX_SIGNAL_BATCH, signalRequestProblem, SIGNAL_ACTION } from '../lib/index.js'
import { releaseWebRTC, webrtcUnavailable, loopbackOnly } from '../lib/transport/webrtc.js'
import { until } from './lib/helpers.js'
import { memNode } from './lib/reach-net.js'

const unavailable = webrtcUnavailable()

t.test('two nodes that only dial out reach each other by id over WebRTC, signalled through a third', { skip: unavailable ?? false }, async t => {
  t.teardown(releaseWebRTC)
  const net = createMemNetwork()
  const webrtc = { bind: '127.0.0.1', allowHost: loopbackOnly }
  const make = (name, seed, listens, opts = {}) => memNode(t, net, name, seed, listens, { webrtc, ...opts })
  // (A relays for nobody: the last step, a relayed link, would join B and the node with WebRTC off.)
  const A = make('wa', 1, true, { relay: false })
  const B = make('wb', 2, false)
  const C = make('wc', 3, false)
  const off = make('wd', 4, false, { webrtc: false })
  await Promise.all([A, B, C, off].map(pn => pn.ready))
  for (const pn of [B, C, off]) await pn.connect('mem://wa')
  await until(() => [A, B, C].every(pn => pn.ringStatus() !== 'lonely') && A.connections().length === 3, { what: 'B, C and D linked to A' })
  t.notOk(B.peerList().some(p => p.id === C.id), 'B has no link to C (neither can dial the other)')

  const r = await B.connect(C.id)
  t.same(r, { id: C.id, path: 'webrtc', address: null }, 'reached over WebRTC')
  const atB = B.peerList().find(p => p.id === C.id)
  const atC = C.peerList().find(p => p.id === B.id)
  t.match(atB, { transport: 'webrtc', direction: 'out', address: null }, 'B: an outbound link carried by webrtc')
  t.match(atC, { transport: 'webrtc', direction: 'in' }, 'C: the inbound end')

  // The link carries what any link does: a message, straight over it.
  const got = new Promise(resolve => C.once('message', resolve))
  await B.send(C.id, { over: 'webrtc' })
  t.match(await got, { from: B.id, message: { over: 'webrtc' } }, 'a message over the new link')

  // A node with WebRTC off refuses the offer; the error names every step.
  await t.rejects(B.connect(off.id), /no route to .*dial-back .*webrtc failed: signalling failed: .*webrtc is off.*relay failed: .*relay: false/, 'webrtc off: refused, each step named')
})

t.test('signalRequestProblem: a peernet.signal request is checked before any session starts', async t => {
  const sid = 'ab'.repeat(16)
  t.equal(SIGNAL_ACTION, 'peernet.signal')
  t.equal(signalRequestProblem({ sid, signals: [{ type: 'end' }] }), null)
  t.match(signalRequestProblem(null), /must be an object/)
  t.match(signalRequestProblem({ sid: 'x', signals: [{ type: 'end' }] }), /session id/)
  t.match(signalRequestProblem({ sid, signals: [] }), /MAX_SIGNAL_BATCH/)
  t.match(signalRequestProblem({ sid, signals: Array(MAX_SIGNAL_BATCH + 1).fill({ type: 'end' }) }), /MAX_SIGNAL_BATCH/)
  t.match(signalRequestProblem({ sid, signals: [{ type: 'offer' }] }), /offer without an sdp/)
  t.match(signalRequestProblem({ sid, signals: [{ type: 'end', extra: 1 }] }), /unknown field/)
})
