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

t.test('several links\' frames of one turn: each link one write, in the order each first queued; a write that throws keeps no other link waiting', async t => {
  const order = []
  const links = ['a', 'b', 'c'].map(name => {
    const r = recorded()
    const write = r.c.socket.write.bind(r.c.socket)
    r.c.socket.write = chunk => {
      order.push(name)
      if (name === 'b') throw new Error('the write failed')
      return write(chunk)
    }
    return r
  })
  const [a, b, c] = links
  // The failed write is thrown from the microtask that flushed, after the others were flushed:
  // caught here, with tap's own handlers set aside until it is.
  const others = process.rawListeners('uncaughtException')
  for (const l of others) process.removeListener('uncaughtException', l)
  const restore = () => { for (const l of others.splice(0)) process.on('uncaughtException', l) }
  t.teardown(restore)
  const thrown = new Promise(resolve => process.once('uncaughtException', resolve))
  c.c.send({ type: 'ping' })
  b.c.send({ type: 'ping' })
  a.c.send({ type: 'ping' })
  c.c.send({ type: 'ping' })
  t.equal((await thrown).message, 'the write failed', 'the failure still surfaces')
  restore()
  await settle()
  t.same(order, ['c', 'b', 'a'], 'one write a link, in the order each queued its first frame')
  t.same(c.writes, [2 * encodeFrame({ type: 'ping' }).length], 'a link\'s frames of the turn in its one write')
  t.equal(a.got.length, 1, 'the link queued after the failing one was flushed all the same')
})
