// Remote actions on real nodes: real tcp servers on 127.0.0.1, real LevelDB, real Noise links.
// pn.run(id, ...) routed over the ring through a node in between; pn.run(ID@ADDR, ...) over a
// link dialed with the id pinned; errors, timeouts and the frame limit end to end. The nodes
// run on a virtual clock (the links are real): the ring does no upkeep of its own, so the links
// stay as the test makes them, and a timeout is the clock moved on, not a wait.
import t from 'tap'
import { VirtualClock, ActionError, MAX_ENVELOPE_BODY } from '../lib/index.js'
import { realNode } from './lib/real-node.js'
import { until } from './lib/helpers.js'

/**
 * Three nodes linked A–B–C, with A, C, B in this order round the ring: A holds B its predecessor
 * and is responsible for (B, A], so a request for C leaves A for B, and B hands it to C.
 * A fourth node D, linked to nobody.
 */
async function chain (t) {
  const clock = new VirtualClock(Date.now())
  const nodes = []
  for (let i = 0; i < 4; i++) nodes.push(await realNode(t, 'tcp', { clock }))
  await Promise.all(nodes.map(pn => pn.ready))
  const [x, y, z] = nodes.slice(0, 3).sort((p, q) => p.id < q.id ? -1 : 1)
  const [A, C, B, D] = [x, y, z, nodes[3]]
  await A.connect(B.url)
  await C.connect(B.url)
  await until(() => B.connections().length === 2, { what: 'B to hold both links' })
  return { clock, A, B, C, D }
}

const linkedTo = (pn, other) => pn.peerList().some(p => p.id === other.id)

t.test('run over the ring through a node between, and over a direct link given as ID@ADDR', async t => {
  const { A, B, C, D } = await chain(t)
  const froms = []
  C.handle('add', ({ x, y }, { from }) => { froms.push(from); return x + y })
  C.handle('size', p => p.length)
  t.notOk(linkedTo(A, C), 'A has no link to C')
  // B's count of messages it sent C: the request passes through B.
  const sentToC = () => B.peerList().find(p => p.id === C.id).tx
  const before = sentToC()
  // The largest payload that fits travels in real frames, through B.
  const overhead = JSON.stringify(JSON.stringify({ action: 'size', payload: '' })).length
  const fits = 'x'.repeat(MAX_ENVELOPE_BODY - overhead)
  t.equal(await A.run(C.id, 'size', fits), fits.length, 'a payload of MAX_ENVELOPE_BODY fits a frame with the envelope, routed A → B → C')
  t.ok(sentToC() > before, 'B forwarded it')
  await t.rejects(A.run(C.id, 'size', fits + 'x'), /the payload is too large/, 'one byte more is refused before sending')
  // (C may link to A by now: the ring makes fingers of the nodes its lookups name.)
  t.equal(await A.run(C.id, 'add', { x: 20, y: 22 }), 42)
  t.same(froms, [A.id], 'the handler is told the signed sender')
  // The largest result that fits a reply comes back in a frame too.
  C.handle('echo', p => p)
  const replyOverhead = JSON.stringify(JSON.stringify({ re: '0'.repeat(32), ok: true, result: '' })).length
  const most = 'y'.repeat(MAX_ENVELOPE_BODY - replyOverhead)
  t.equal(await A.run(C.id, 'echo', most), most, 'a result of MAX_ENVELOPE_BODY comes back')
  await t.rejects(A.run(C.id, 'echo', most + 'y'), { code: 'remote', message: /the result is too large/ })
  // The seed's callback form.
  const viaCallback = await new Promise(resolve => A.run(C.id, 'add', { x: 1, y: 2 }, (err, v) => resolve([err, v])))
  t.same(viaCallback, [null, 3], 'run(target, name, payload, callback)')

  // Handlers may come before the node is ready; `unhandle` and the returned function remove them.
  const stop = D.handle('whoami', (p, { from }) => ({ me: D.id, you: from }))
  t.notOk(linkedTo(A, D), 'A has no link to D')
  t.same(await A.run(`${D.id}@${D.url}`, 'whoami'), { me: D.id, you: A.id }, 'ID@ADDR: dialed with the id pinned, run over that link')
  t.ok(linkedTo(A, D))
  stop()
  await t.rejects(A.run(D.id, 'whoami'), { code: 'remote', message: /unknown action whoami$/ }, 'unknown action: an error reply, not a hang')
  await t.rejects(A.run('not-an-id', 'add'), /the target must be a node id \(64 hex digits\) or ID@ADDR/)
  await t.rejects(A.run(`${C.id}@ws://`, 'add'), /ws:\/\//, 'a bad address: a clear error')
})

t.test('errors end to end: a wrong pin, a throwing handler, an id nobody has, a timeout', async t => {
  const { clock, A, C, D } = await chain(t)
  // The id pinned is checked: another node's key at that address fails the run.
  await t.rejects(A.run(`${C.id}@${D.url}`, 'add', { x: 1, y: 1 }), { code: 'unreachable', message: /identity mismatch/ })
  t.notOk(linkedTo(A, C), 'no link to C came of it')
  C.handle('boom', async () => { throw new Error('out of coffee\n    at brew (coffee.js:1:1)') })
  C.handle('never', () => new Promise(() => {}))
  const err = await A.run(C.id, 'boom').catch(e => e)
  t.ok(err instanceof ActionError)
  t.equal(err.code, 'remote')
  t.match(err.message, /^run boom on [0-9a-f]{12}…: out of coffee$/, 'one line, no stack')
  const ghost = 'f'.repeat(63) + '0'
  await t.rejects(A.run(ghost, 'boom'), { code: 'unreachable', message: /no node with that id/ }, 'an id nobody has: a clear error from the node responsible for it')
  let out = null
  A.run(C.id, 'never', null, { timeout: 1500 }).then(v => { out = v }, e => { out = e })
  // The ring's clock moves on until the run gives up (its lookup's deadline is the request's expiry).
  await until(() => { if (out === null) clock.advance(250); return out !== null }, { what: 'the run to time out' })
  t.equal(out?.code, 'timeout')
  t.match(out.message, /no reply within 1500 ms/)
  // A run still waiting when its node closes ends with it.
  const waiting = A.run(C.id, 'never', null, { timeout: 30_000 })
  await until(() => A.actions.remote.inFlight.runs === 1, { what: 'the run to wait for its reply' })
  await A.close()
  await t.rejects(waiting, { code: 'unreachable', message: /peernet is closed/ })
})
