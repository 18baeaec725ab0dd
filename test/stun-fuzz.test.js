// Seeded fuzzing of the STUN codec and a live STUN server: mutated valid requests (bit flips,
// cuts, growth, rewritten length fields, spliced attributes) and random bytes. The parsers never
// throw, and the server takes every datagram, survives a socket error, and still answers an
// honest client at the end. Seeded: a failure repeats with the same seed.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { seededRandom } from '../lib/util/random.js'
import { parseMessage, parseBindingRequest, parseBindingResponse, buildBindingRequest, buildBindingResponse, buildUnknownAttributesResponse, MAX_STUN_DATAGRAM } from '../lib/stun/codec.js'
import { StunServer } from '../lib/stun/server.js'
import { stunBinding } from '../lib/stun/client.js'
import { until } from './lib/helpers.js'

function fuzzer (seed) {
  const random = seededRandom(seed)
  const int = n => Math.floor(random() * n)
  const bytes = n => Buffer.from(Array.from({ length: n }, () => int(256)))
  const tx = () => bytes(12)
  const valid = () => [
    () => buildBindingRequest(tx()),
    () => buildBindingRequest(tx(), { fingerprint: false }),
    () => buildBindingResponse(tx(), int(2) ? '127.0.0.1' : '::1', int(65536), { mapped: int(2) === 1, software: 'x'.repeat(int(200)) }),
    () => buildUnknownAttributesResponse(tx(), [int(0x8000)])
  ][int(4)]()
  const mutate = buf => {
    const b = Buffer.from(buf)
    if (b.length < 24) return b // cut short already: nothing left to rewrite
    switch (int(7)) {
      case 0: for (let i = int(4) + 1; i > 0; i--) b[int(b.length)] ^= 1 << int(8); return b // bit flips
      case 1: return b.subarray(0, int(b.length)) // cut
      case 2: return Buffer.concat([b, bytes(int(64))]) // grown
      case 3: b.writeUInt16BE(int(65536), 2); return b // the header's length
      case 4: b.writeUInt16BE(int(65536), 22); return b // the first attribute's length
      case 5: { // an attribute spliced in first or last, the header's length kept true
        const v = bytes(int(40))
        const a = Buffer.alloc(4)
        a.writeUInt16BE(int(65536), 0)
        a.writeUInt16BE(v.length, 2)
        const at = int(2) ? 20 : b.length // first, or last (after any FINGERPRINT)
        const out = Buffer.concat([b.subarray(0, at), a, v, Buffer.alloc((4 - v.length % 4) % 4), b.subarray(at)])
        out.writeUInt16BE(out.length - 20, 2)
        return out
      }
      default: b.writeUInt16BE(int(65536) & 0x3fff, 0); return b // another type
    }
  }
  const next = () => {
    const r = random()
    if (r < 0.15) return bytes(int(MAX_STUN_DATAGRAM + 40))
    if (r < 0.25) return valid()
    let b = valid()
    for (let i = int(3) + 1; i > 0; i--) b = mutate(b)
    return b
  }
  return { next }
}

t.test('the codec: 50,000 fuzzed datagrams, no throw, every outcome a result or a known reason', async t => {
  const f = fuzzer(0x57a7)
  const reasons = new Map()
  let ok = 0
  let threw = 0
  for (let i = 0; i < 50_000; i++) {
    const b = f.next()
    try {
      parseMessage(b)
      parseBindingResponse(b)
      parseBindingResponse(b, b.subarray(8, 20))
      const r = parseBindingRequest(b)
      if (r.ok) ok++
      else reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1)
    } catch (err) {
      if (threw++ < 3) t.fail(`threw on ${b.toString('hex')}: ${err.stack}`)
    }
  }
  t.equal(threw, 0, 'never threw')
  t.ok(ok > 1000, `${ok} parsed as binding requests`)
  const expected = ['short', 'too-long', 'not-stun', 'bad-cookie', 'length-mismatch', 'length-unaligned', 'attribute-overrun', 'not-request', 'not-binding', 'fingerprint-mismatch', 'fingerprint-misplaced']
  for (const why of expected) t.ok(reasons.get(why) > 0, `reached ${why} (${reasons.get(why)})`)
  t.same([...reasons.keys()].filter(k => !expected.includes(k)), [], 'no other reason')
})

t.test('the same seed gives the same datagrams', async t => {
  const a = fuzzer(7)
  const b = fuzzer(7)
  for (let i = 0; i < 100; i++) t.ok(a.next().equals(b.next()))
})

t.test('a live server: 3,000 fuzzed datagrams and a socket error survived, an honest client answered', async t => {
  const errors = []
  const s = new StunServer({ now: () => 0, burst: 1e9, totalRate: 1e9, onError: err => errors.push(err) })
  t.teardown(() => s.close())
  const { port } = await s.listen('127.0.0.1', 0)
  const socket = createSocket('udp4')
  socket.on('message', () => {})
  await new Promise(resolve => socket.bind(0, '127.0.0.1', resolve))
  t.teardown(() => socket.close())
  const f = fuzzer(0xbeef)
  let sent = 0
  // In batches, each waited for: a burst bigger than the socket's receive buffer would be lost
  // to the kernel, and every datagram is to reach the server.
  for (let batch = 0; batch < 30; batch++) {
    for (let i = 0; i < 100; i++) {
      const b = f.next()
      if (b.length === 0) continue // an empty datagram is sent as one, but counts for nothing here
      socket.send(b, port, '127.0.0.1')
      sent++
    }
    await until(() => s.stats().received === sent, { what: `batch ${batch} in` })
  }
  // The socket's own error path: counted and told, never fatal.
  s.socket.emit('error', new Error('an injected socket error'))
  t.equal(s.stats().socketErrors, 1)
  t.equal(errors[0].message, 'an injected socket error')
  const st = s.stats()
  const dropped = Object.values(st.dropped).reduce((a, b) => a + b, 0)
  t.equal(st.dropped.internal, undefined, 'no input reached a bug')
  await until(() => s.stats().answered + s.stats().refused + dropped === sent, { what: 'every datagram answered or dropped' })
  t.ok(s.stats().answered > 100, `${s.stats().answered} answered`)
  t.equal((await stunBinding('127.0.0.1', port)).address, '127.0.0.1', 'an honest client is still answered')
})
