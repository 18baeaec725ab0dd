// The STUN binding server (src/stun/server.ts) and client (src/stun/client.ts) over real UDP on
// loopback: a binding request is answered with the caller's own address and port, malformed
// datagrams are counted and survived, and the rate bounds (per source, overall, and the number
// of sources tracked) are each crossed. Clocks are held still so no bucket refills mid-test.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { StunServer, STUN_ANSWERS_PER_SECOND, STUN_ANSWER_BURST, MAX_STUN_SOURCES, STUN_TOTAL_ANSWERS_PER_SECOND } from '../lib/stun/server.js'
import { stunBinding, STUN_RETRANSMITS, STUN_RTO } from '../lib/stun/client.js'
import { buildBindingRequest, buildBindingResponse, buildUnknownAttributesResponse, parseBindingResponse, parseMessage, CLASS_ERROR, MAX_STUN_DATAGRAM } from '../lib/stun/codec.js'
import { until } from './lib/helpers.js'

async function server (t, opts = {}, host = '127.0.0.1') {
  const s = new StunServer(opts)
  t.teardown(() => s.close())
  const bound = await s.listen(host, 0)
  return { s, ...bound }
}

/** A UDP socket on a loopback address that keeps what it receives. */
async function peer (t, address = '127.0.0.1') {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4')
  const received = []
  socket.on('message', (msg, rinfo) => received.push({ msg, rinfo }))
  await new Promise(resolve => socket.bind(0, address, resolve))
  t.teardown(() => socket.close())
  return { socket, received, port: socket.address().port, send: (buf, port, host = address.includes(':') ? '::1' : '127.0.0.1') => socket.send(buf, port, host) }
}

t.test('a binding request is answered with the address and port it came from', async t => {
  const { s, address, port } = await server(t)
  t.equal(address, '127.0.0.1')
  t.ok(port > 0)
  const p = await peer(t)
  const req = buildBindingRequest()
  p.send(req, port)
  await until(() => p.received.length === 1, { what: 'an answer' })
  const r = parseBindingResponse(p.received[0].msg, req.subarray(8, 20))
  t.same(r, { ok: true, value: { address: '127.0.0.1', port: p.port, family: 4 } }, 'XOR-MAPPED-ADDRESS is the caller')
  const viaClient = await stunBinding('127.0.0.1', port)
  t.equal(viaClient.address, '127.0.0.1', 'stunBinding gets the mapped address')
  t.ok(viaClient.port > 0 && viaClient.port !== p.port, 'and its own socket\'s port')
  const st = s.stats()
  t.equal(st.received, 2)
  t.equal(st.answered, 2)
  t.same(st.dropped, {})
  t.equal(st.sources, 1, 'one source address, whatever its ports')
})

t.test('stunBinding from a known local port gets that port back', async t => {
  const { port } = await server(t)
  // A port known free: bound, then let go for the client (nothing else on 127.0.0.3 binds ports).
  const probe = createSocket('udp4')
  await new Promise(resolve => probe.bind(0, '127.0.0.3', resolve))
  const local = probe.address().port
  await new Promise(resolve => probe.close(resolve))
  const r = await stunBinding('127.0.0.1', port, { localAddress: '127.0.0.3', localPort: local })
  t.same(r, { address: '127.0.0.3', port: local, family: 4 })
})

t.test('IPv6 on ::1', async t => {
  const { address, port } = await server(t, {}, '::1')
  t.equal(address, '::1')
  const r = await stunBinding('::1', port)
  t.equal(r.address, '::1')
  t.equal(r.family, 6)
})

t.test('malformed datagrams are dropped and counted by reason; the server answers on', async t => {
  const { s, port } = await server(t)
  const p = await peer(t)
  const good = buildBindingRequest()
  const bad = [
    Buffer.alloc(0),
    Buffer.from('hello'),
    Buffer.alloc(MAX_STUN_DATAGRAM + 1),
    Buffer.concat([good.subarray(0, 4), Buffer.from([0, 0, 0, 0]), good.subarray(8)]),
    buildBindingResponse(good.subarray(8, 20), '127.0.0.1', 1),
    Buffer.concat([good, Buffer.alloc(4)])
  ]
  for (const b of bad) p.send(b, port)
  await until(() => s.stats().received === bad.length, { what: 'all datagrams in' })
  t.same(s.stats().dropped, { short: 2, 'too-long': 1, 'bad-cookie': 1, 'not-request': 1, 'length-mismatch': 1 })
  t.equal(s.stats().answered, 0)
  t.equal(p.received.length, 0, 'no answer to any')
  t.equal(s.stats().sources, 0, 'drops cost no rate-table entry')
  t.same((await stunBinding('127.0.0.1', port)).address, '127.0.0.1', 'still answering')
})

t.test('a request with an unknown comprehension-required attribute gets a 420', async t => {
  const { s, port } = await server(t)
  const p = await peer(t)
  const req = Buffer.from(buildBindingRequest(undefined, { fingerprint: false }))
  const withPriority = Buffer.concat([req, Buffer.from('002400046e0001ff', 'hex')])
  withPriority.writeUInt16BE(8, 2)
  p.send(withPriority, port)
  await until(() => p.received.length === 1, { what: 'an answer' })
  const m = parseMessage(p.received[0].msg).value
  t.equal(m.class, CLASS_ERROR)
  t.equal(s.stats().refused, 1)
})

t.test(`per-source rate: past the burst (${STUN_ANSWER_BURST} by default) answers stop and drops are counted`, async t => {
  t.ok(STUN_ANSWER_BURST >= STUN_RETRANSMITS + 1, 'a client\'s retransmissions fit in a burst')
  t.ok(STUN_ANSWERS_PER_SECOND * 1000 / STUN_RTO >= 1)
  let now = 1000
  const { s, port } = await server(t, { rate: 1, now: () => now }) // default burst
  const p = await peer(t)
  const n = STUN_ANSWER_BURST + 5
  for (let i = 0; i < n; i++) p.send(buildBindingRequest(), port)
  await until(() => s.stats().received === n, { what: 'all requests in' })
  await until(() => s.stats().answered === STUN_ANSWER_BURST, { what: 'the burst answered' })
  t.equal(s.stats().dropped['rate-limited'], 5)
  await until(() => p.received.length === STUN_ANSWER_BURST, { what: 'the answers' })
  // Another source is not held back by the first one's flood.
  t.equal((await stunBinding('127.0.0.1', port, { localAddress: '127.0.0.2' })).address, '127.0.0.2')
  // A second later, one token back: one more answer, the next dropped.
  now += 1000
  p.send(buildBindingRequest(), port)
  p.send(buildBindingRequest(), port)
  await until(() => s.stats().received === n + 3, { what: 'two more in' })
  await until(() => s.stats().answered === STUN_ANSWER_BURST + 2, { what: 'one refilled answer' })
  t.equal(s.stats().dropped['rate-limited'], 6)
})

t.test('overall rate: many sources together stop at totalRate', async t => {
  t.ok(STUN_TOTAL_ANSWERS_PER_SECOND >= 100 * STUN_ANSWERS_PER_SECOND, 'room for 100 sources at their full rate')
  const { s, port } = await server(t, { totalRate: 2, now: () => 0 })
  for (const a of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
    const p = await peer(t, a)
    p.send(buildBindingRequest(), port)
    await until(() => s.stats().received === Number(a.at(-1)) - 1, { what: `${a} in` })
  }
  await until(() => s.stats().answered === 2, { what: 'two answers' })
  t.same(s.stats().dropped, { busy: 1 })
})

t.test(`source table: at most maxSources (${MAX_STUN_SOURCES} by default), the oldest forgotten`, async t => {
  const { s, port } = await server(t, { burst: 1, rate: 1, maxSources: 2, now: () => 0 })
  const [a, b, c] = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map(x => peer(t, x)))
  const ask = async (p, answered, dropped) => {
    p.send(buildBindingRequest(), port)
    await until(() => s.stats().answered === answered && (s.stats().dropped['rate-limited'] ?? 0) === dropped, { what: `answered ${answered}, dropped ${dropped}` })
  }
  await ask(a, 1, 0)
  await ask(a, 1, 1) // a's one token is spent
  await ask(b, 2, 1)
  t.equal(s.stats().sources, 2)
  await ask(c, 3, 1) // the table is full: a, heard from least recently, is forgotten
  t.equal(s.stats().sources, 2, 'still two')
  await ask(a, 4, 1) // a is new again, with a full burst (b, now the oldest, is forgotten)
  await ask(a, 4, 2) // and a's token is spent again: eviction did not lift the limit of those kept
  t.equal(s.stats().sources, 2)
})

t.test('listen: a port taken rejects and leaves nothing open; close twice is fine', async t => {
  const { port } = await server(t)
  const s2 = new StunServer()
  await t.rejects(s2.listen('127.0.0.1', port), { code: 'EADDRINUSE' })
  t.equal(s2.address(), null)
  await s2.close()
  const s3 = new StunServer()
  await s3.listen('127.0.0.1', 0)
  await t.rejects(s3.listen('127.0.0.1', 0), /already listening/)
  t.ok(s3.address().port > 0)
  await s3.close()
  await s3.close()
  t.equal(s3.address(), null)
})

t.test('the client: junk and others\' answers ignored, an error answer and silence reported', async t => {
  const fake = await peer(t)
  const replies = []
  fake.socket.on('message', (msg, rinfo) => {
    const tx = msg.subarray(8, 20)
    for (const r of replies) fake.socket.send(typeof r === 'function' ? r(tx, rinfo) : r, rinfo.port, rinfo.address)
  })
  // Junk, a response to some other transaction, then the right one.
  replies.push(Buffer.from('junk'), buildBindingResponse(Buffer.alloc(12), '127.0.0.9', 9), (tx, rinfo) => buildBindingResponse(tx, rinfo.address, rinfo.port))
  const r = await stunBinding('127.0.0.1', fake.port)
  t.equal(r.address, '127.0.0.1')
  replies.length = 0
  replies.push(tx => buildUnknownAttributesResponse(tx, [0x24]))
  await t.rejects(stunBinding('127.0.0.1', fake.port), /answered with error 420 Unknown Attribute/)
  replies.length = 0
  const before = fake.received.length
  await t.rejects(stunBinding('127.0.0.1', fake.port, { timeout: STUN_RTO * 2 }), /no STUN answer from 127\.0\.0\.1:\d+ within/)
  t.ok(fake.received.length - before >= 2, 'the request was sent again before giving up')
})
