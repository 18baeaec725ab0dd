// The simulation counts frames by reading their first bytes (sim/frame-kind.ts): it must read
// every frame as JSON.parse does, whatever the key order or the characters in it.
import t from 'tap'
import { frameKind, FrameKinds, MAX_SHARED_KINDS } from '../lib/sim/frame-kind.js'
import { encodeFrame } from '../lib/index.js'

const HEX = 'ab'.repeat(16)
const messages = [
  { type: 'getaddrs' },
  { type: 'addrs', addrs: ['mem://n1', 'tcp://127.0.0.1:4000'] },
  { type: 'query', qid: HEX, subnet: 'chat', hops: 1, limit: 15 },
  { type: 'answer', qid: HEX, subnet: 'chat', address: 'mem://n9', hops: 3 },
  { type: 'ping' },
  { type: 'ring.lookup', qid: HEX, target: HEX + HEX, at: HEX + HEX, skip: 0, op: 'fetch', hops: 2, ttl: 32, origin: { id: HEX + HEX, addrs: [] } },
  { type: 'ring.found', qid: HEX, hops: 3, owner: { id: HEX + HEX, addrs: ['mem://n2'] }, pred: null },
  { type: 'ring.stab', addrs: ['mem://n3'] },
  { type: 'bye', reason: 'a "quoted" reason \\ with é' },
  // the slow path: another key order, escapes, a query id that is not plain, no type at all
  { qid: HEX, type: 'query', subnet: 's', hops: 1, limit: 2 },
  { type: 'answer', qid: 'q"1\\', subnet: 's', address: '', hops: 1 },
  { type: 'qu\u00e9ry', qid: HEX },
  { type: 'answer', subnet: 's', qid: HEX },
  { hello: 1 },
  { type: 7, qid: 8 }
]

const expected = m => ({ type: String(m.type), qid: typeof m.qid === 'string' ? m.qid : null })

t.test('each frame reads as JSON.parse reads it', async t => {
  for (const m of messages) {
    const f = encodeFrame(m)
    t.same(frameKind(f, 4, f.length), expected(m), JSON.stringify(m))
  }
  const bad = Buffer.from('{"type":"query","qid":"ab"')
  t.equal(frameKind(bad, 0, bad.length), null, 'a frame that is not JSON is nothing')
})

t.test('past MAX_SHARED_KINDS types, each frame still reads right', async t => {
  for (let i = 0; i < MAX_SHARED_KINDS + 20; i++) {
    const f = encodeFrame({ type: 'kind' + i })
    const k = frameKind(f, 4, f.length)
    if (k.type !== 'kind' + i || k.qid !== null) return t.fail(`type ${i} read as ${JSON.stringify(k)}`)
  }
  const ping = encodeFrame({ type: 'ping' })
  t.same(frameKind(ping, 4, ping.length), { type: 'ping', qid: null }, 'a shared kind, the same as ever')
  t.ok(Object.isFrozen(frameKind(ping, 4, ping.length)), 'and not to be changed by whoever reads it')
})

t.test('a chunk of many frames, and frames split across chunks', async t => {
  const all = Buffer.concat(messages.map(m => encodeFrame(m)))
  const whole = new FrameKinds().read(all, {})
  t.same(whole, messages.map(expected), 'one chunk of every frame')
  // Cut the same bytes at every 7th byte: the frames still come out, in order, once each.
  const kinds = new FrameKinds()
  const end = {}
  const got = []
  for (let at = 0; at < all.length; at += 7) got.push(...kinds.read(all.subarray(at, at + 7), end))
  t.same(got, messages.map(expected), 'split at every 7th byte')
  // Another end of the same reader is not affected by the first one's split frames.
  t.same(kinds.read(encodeFrame(messages[2]), {}), [expected(messages[2])])
  t.equal(kinds.read(Buffer.from([0, 0, 0, 3, 0x7b, 0x7d, 0x7d]), {}), null, 'garbage is nothing')
})

t.test('the same chunk twice (a flooded query written to every peer) reads the same', async t => {
  const kinds = new FrameKinds()
  const f = encodeFrame(messages[2])
  t.same(kinds.read(f, {}), [expected(messages[2])])
  t.same(kinds.read(f, {}), [expected(messages[2])])
})
