// A ring answer passed back along its lookup's path leaves a node as the bytes it came in
// (connection.ts, FrameDecoder.raw): checked on the way in as the next node will check it, and
// not encoded again. A small one, or any other message, is encoded from the value as usual.
import t from 'tap'
import { memPair, VirtualClock, encodeFrame } from '../lib/index.js'
import { Connection } from '../lib/node/connection.js'
import { KEEP_RAW } from '../lib/wire/frame.js'
import { signRecord } from '../lib/ring/record.js'
import { generateKeyPair } from '../lib/node/identity.js'

const settle = () => new Promise(resolve => setImmediate(resolve))
const ID = 'a'.repeat(64)
const rec = signRecord(generateKeyPair(Buffer.alloc(32, 3)), { type: 'member', network: 'peernet', name: 'chat', addresses: ['mem://n1'], seq: 1, expires: 2e12 })

/** A connection fed by `feed`, and one whose writes are recorded: a node in the middle. */
function relay () {
  const clock = new VirtualClock(1)
  const [feed, inEnd] = memPair()
  const inbound = new Connection(inEnd, { outbound: false, clock })
  const [outEnd, far] = memPair()
  const outbound = new Connection(outEnd, { outbound: true, dialed: 'mem://x', clock })
  const sent = []
  far.on('data', chunk => sent.push(chunk))
  const got = []
  inbound.on('message', m => { got.push(m); outbound.send(m) })
  return { feed, got, sent }
}

t.test('a large answer goes on as the bytes it came in; a small one is encoded again', async t => {
  // An unknown field rides along in the bytes, and is dropped from the value by validation.
  const answer = n => ({ type: 'ring.found', qid: '0123456789abcdef', hops: 2, owner: { id: ID, addrs: [] }, pred: null, records: Array(n).fill(rec), extra: 1 })
  let n = 1
  while (encodeFrame(answer(n)).length - 4 < KEEP_RAW) n++
  const large = encodeFrame(answer(n))
  const small = encodeFrame(answer(1))
  const { feed, got, sent } = relay()
  feed.write(large)
  await settle(); await settle()
  t.equal(got.length, 1)
  t.equal(got[0].extra, undefined, 'the value is the validated message')
  t.ok(Buffer.concat(sent).equals(large), `${large.length - 4} bytes (KEEP_RAW ${KEEP_RAW}): passed on as they came`)
  sent.length = 0
  feed.write(small)
  await settle(); await settle()
  const { extra: _, ...plain } = answer(1)
  t.ok(Buffer.concat(sent).equals(encodeFrame(plain)), 'a small one: encoded from its value')
})
