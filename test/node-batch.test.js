// A connection's batching: the frames queued in one turn leave as one write (one encrypted
// message on a secure link), never more than MAX_BATCH bytes, and a goodbye after a full turn
// still leaves, in order.
import t from 'tap'
import { memPair, VirtualClock, encodeFrame, FrameDecoder, MAX_BATCH } from '../lib/index.js'
import { Connection } from '../lib/node/connection.js'

function recorded () {
  const [near, far] = memPair()
  const writes = []
  const write = near.write.bind(near)
  near.write = chunk => { writes.push(chunk.length); return write(chunk) }
  const got = []
  const dec = new FrameDecoder()
  far.on('data', chunk => got.push(...dec.push(chunk)))
  const c = new Connection(near, { outbound: true, dialed: 'mem://x', clock: new VirtualClock(1) })
  return { c, writes, got }
}
const settle = () => new Promise(resolve => setImmediate(resolve))

t.test(`the frames of one turn are one write, split at MAX_BATCH (${MAX_BATCH} bytes)`, async t => {
  const { c, writes, got } = recorded()
  for (let i = 0; i < 3; i++) c.send({ type: 'ping' })
  await settle()
  t.same(writes, [3 * encodeFrame({ type: 'ping' }).length], 'three small frames, one write')
  const big = { type: 'addrs', addrs: Array.from({ length: 100 }, (_, i) => `tcp://127.0.0.1:${10000 + i}`) }
  const size = encodeFrame(big).length
  const n = Math.ceil(2.5 * MAX_BATCH / size)
  writes.length = 0
  for (let i = 0; i < n; i++) c.send(big)
  await settle()
  t.ok(writes.length >= 3, `${n} frames of ${size} bytes: ${writes.length} writes`)
  t.ok(writes.every(w => w <= MAX_BATCH), 'none over MAX_BATCH')
  t.equal(writes.reduce((a, b) => a + b, 0), n * size, 'every byte')
  await settle()
  t.equal(got.length, 3 + n, 'every frame arrives')
})

t.test('a goodbye after a nearly full turn leaves after it, each write within MAX_BATCH', async t => {
  const { c, writes, got } = recorded()
  const big = { type: 'addrs', addrs: Array.from({ length: 100 }, (_, i) => `tcp://127.0.0.1:${10000 + i}`) }
  const size = encodeFrame(big).length
  let n = Math.floor(MAX_BATCH / size)
  for (let i = 0; i < n; i++) c.send(big)
  // Pings until the turn has no room left for the bye.
  const byeLength = encodeFrame({ type: 'bye', reason: 'a reason to go' }).length
  const pingLength = encodeFrame({ type: 'ping' }).length
  let total = n * size
  while (MAX_BATCH - total >= byeLength) { c.send({ type: 'ping' }); total += pingLength; n++ }
  c.close('a reason to go', false, true)
  await settle()
  await settle()
  t.same(writes, [total, byeLength], 'the turn, then the bye on its own')
  t.ok(writes.every(w => w <= MAX_BATCH), 'none over MAX_BATCH')
  t.equal(got.length, n + 1)
  t.same(got[got.length - 1], { type: 'bye', reason: 'a reason to go' }, 'the bye comes last')
})
