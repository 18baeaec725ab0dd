// The binding-only STUN codec (src/stun/codec.ts): RFC 5769's sample messages parse to the
// addresses the RFC gives (their FINGERPRINTs check), what we build parses back, and every way a
// datagram can be malformed is refused with its own reason, never a throw.
import t from 'tap'
import {
  parseMessage, parseBindingRequest, parseBindingResponse, buildBindingRequest, buildBindingResponse,
  buildUnknownAttributesResponse, buildMessage, fingerprint, messageType,
  MAX_STUN_DATAGRAM, MAX_SOFTWARE_BYTES, MAX_UNKNOWN_LISTED, MAGIC_COOKIE, HEADER_LENGTH, BINDING,
  CLASS_REQUEST, CLASS_SUCCESS, CLASS_ERROR, CLASS_INDICATION, ATTR_SOFTWARE, ATTR_FINGERPRINT, ATTR_XOR_MAPPED_ADDRESS,
  ATTR_MAPPED_ADDRESS, ATTR_UNKNOWN_ATTRIBUTES, ATTR_ERROR_CODE
} from '../lib/stun/codec.js'
import { ipToBytes, bytesToIp } from '../lib/stun/ip.js'

const hex = s => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const TX = hex('b7e7a701bc34d686fa87dfae')

// RFC 5769 §2.1-2.3, byte for byte (MESSAGE-INTEGRITY is carried but not checked: no credentials here).
const RFC5769_REQUEST = hex(`0001 0058 2112 a442 b7e7 a701 bc34 d686 fa87 dfae 8022 0010 5354 554e 2074 6573
  7420 636c 6965 6e74 0024 0004 6e00 01ff 8029 0008 932f f9b1 5126 3b36 0006 0009 6576 746a 3a68 3676
  5920 2020 0008 0014 9aea a70c bfd8 cb56 781e f2b5 b2d3 f249 c1b5 71a2 8028 0004 e57a 3bcf`)
const RFC5769_IPV4 = hex(`0101 003c 2112 a442 b7e7 a701 bc34 d686 fa87 dfae 8022 000b 7465 7374 2076 6563
  746f 7220 0020 0008 0001 a147 e112 a643 0008 0014 2b91 f599 fd9e 90c3 8c74 89f9 2af9 ba53 f06b e7d7
  8028 0004 c07d 4c96`)
const RFC5769_IPV6 = hex(`0101 0048 2112 a442 b7e7 a701 bc34 d686 fa87 dfae 8022 000b 7465 7374 2076 6563
  746f 7220 0020 0014 0002 a147 0113 a9fa a5d3 f179 bc25 f4b5 bed2 b9d9 0008 0014 a382 954e 4be6 7bf1
  1784 c97c 8292 c275 bfe3 ed41 8028 0004 c8fb 0b4c`)

t.test('RFC 5769 sample responses give their mapped addresses', async t => {
  t.same(parseBindingResponse(RFC5769_IPV4, TX), { ok: true, value: { address: '192.0.2.1', port: 32853, family: 4 } })
  t.same(parseBindingResponse(RFC5769_IPV6, TX), { ok: true, value: { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853, family: 6 } })
  t.same(parseBindingResponse(RFC5769_IPV4, Buffer.alloc(12)), { ok: false, reason: 'transaction-mismatch' })
})

t.test('RFC 5769 sample request: its FINGERPRINT checks, its required ICE attributes are unknown to us', async t => {
  const r = parseBindingRequest(RFC5769_REQUEST)
  t.ok(r.ok)
  t.same(r.value.transactionId, TX)
  t.same(r.value.unknownRequired, [0x0024, 0x0006, 0x0008], 'PRIORITY, USERNAME, MESSAGE-INTEGRITY (in order, once each)')
  const broken = Buffer.from(RFC5769_REQUEST)
  broken[30] ^= 1 // a byte of SOFTWARE: the CRC no longer matches
  t.same(parseBindingRequest(broken), { ok: false, reason: 'fingerprint-mismatch' })
})

t.test('a request we build is 28 bytes (header + FINGERPRINT) and parses back', async t => {
  const req = buildBindingRequest(TX)
  t.equal(req.length, 28)
  t.equal(req.readUInt16BE(0), 0x0001, 'Binding request type')
  t.equal(req.readUInt32BE(4), MAGIC_COOKIE)
  t.equal(req.readUInt32BE(24), fingerprint(req.subarray(0, 20)))
  t.same(parseBindingRequest(req), { ok: true, value: { transactionId: TX, unknownRequired: [] } })
  const bare = buildBindingRequest(TX, { fingerprint: false })
  t.equal(bare.length, HEADER_LENGTH)
  t.ok(parseBindingRequest(bare).ok, 'FINGERPRINT is optional on a request')
  t.equal(buildBindingRequest().subarray(8, 20).equals(buildBindingRequest().subarray(8, 20)), false, 'fresh transaction ids')
})

t.test('message types: method and class interleave as RFC 5389 §6 draws them', async t => {
  t.equal(messageType(BINDING, CLASS_REQUEST), 0x0001)
  t.equal(messageType(BINDING, CLASS_INDICATION), 0x0011)
  t.equal(messageType(BINDING, CLASS_SUCCESS), 0x0101)
  t.equal(messageType(BINDING, CLASS_ERROR), 0x0111)
  t.equal(messageType(0xfff, CLASS_ERROR), 0x3fff)
  const m = parseMessage(buildMessage(0xabc, CLASS_INDICATION, TX, []))
  t.equal(m.value.method, 0xabc)
  t.equal(m.value.class, CLASS_INDICATION)
})

t.test('success responses round-trip IPv4 and IPv6, XOR-MAPPED and MAPPED', async t => {
  for (const [address, port] of [['127.0.0.1', 54321], ['10.1.2.3', 1], ['::1', 3478], ['2001:db8::8:800:200c:417a', 65535], ['fe80::1', 0]]) {
    const res = buildBindingResponse(TX, address, port, { mapped: true, software: 'peernet' })
    const r = parseBindingResponse(res, TX)
    t.same(r, { ok: true, value: { address, port, family: address.includes(':') ? 6 : 4 } }, `${address} ${port}`)
    const m = parseMessage(res).value
    t.same(m.attributes.map(a => a.type), [ATTR_XOR_MAPPED_ADDRESS, ATTR_MAPPED_ADDRESS, ATTR_SOFTWARE, ATTR_FINGERPRINT])
    // The XORed form must not carry the address in the clear (§15.2's whole point).
    const ip = ipToBytes(address)
    t.notOk(m.attributes[0].value.subarray(4).equals(ip), 'XOR-MAPPED-ADDRESS is not the plain address')
    t.ok(m.attributes[1].value.subarray(4).equals(ip), 'MAPPED-ADDRESS is')
  }
  // MAPPED-ADDRESS alone (an RFC 3489-era server's answer) is read too.
  const plain = buildMessage(BINDING, CLASS_SUCCESS, TX, [parseMessage(buildBindingResponse(TX, '127.0.0.9', 7, { mapped: true })).value.attributes[1]])
  t.same(parseBindingResponse(plain, TX), { ok: true, value: { address: '127.0.0.9', port: 7, family: 4 } })
  t.same(parseBindingResponse(buildBindingResponse(TX, '::ffff:127.0.0.1', 9), TX).value.address, '::ffff:7f00:1', 'a mapped IPv4 stays IPv6 on the wire if given so')
  t.throws(() => buildBindingResponse(TX, 'localhost', 1), RangeError, 'names are not addresses')
  t.throws(() => buildBindingResponse(TX, '127.0.0.1', 65536), RangeError)
  t.throws(() => buildMessage(BINDING, CLASS_REQUEST, Buffer.alloc(11), []), RangeError)
})

t.test('SOFTWARE is cut to MAX_SOFTWARE_BYTES on a character boundary', async t => {
  const long = 'é'.repeat(100) // 200 bytes, each character 2
  const m = parseMessage(buildBindingResponse(TX, '127.0.0.1', 1, { software: long })).value
  const sw = m.attributes.find(a => a.type === ATTR_SOFTWARE).value
  t.ok(sw.length <= MAX_SOFTWARE_BYTES)
  t.equal(sw.length, MAX_SOFTWARE_BYTES - 1, '127 bytes would split a character: 126')
  t.equal(sw.toString('utf8'), 'é'.repeat(63))
})

t.test('a 420 answer names the unknown attributes, at most MAX_UNKNOWN_LISTED', async t => {
  const unknown = Array.from({ length: MAX_UNKNOWN_LISTED + 5 }, (_, i) => 0x0100 + i)
  const m = parseMessage(buildUnknownAttributesResponse(TX, unknown)).value
  t.equal(m.class, CLASS_ERROR)
  t.equal(m.method, BINDING)
  const code = m.attributes.find(a => a.type === ATTR_ERROR_CODE).value
  t.equal(code[2] * 100 + code[3], 420)
  t.equal(code.subarray(4).toString(), 'Unknown Attribute')
  const list = m.attributes.find(a => a.type === ATTR_UNKNOWN_ATTRIBUTES).value
  t.equal(list.length, MAX_UNKNOWN_LISTED * 2)
  t.equal(list.readUInt16BE(0), 0x0100)
})

t.test('every malformed datagram is refused with its reason', async t => {
  const req = buildBindingRequest(TX, { fingerprint: false })
  const withAttr = (type, value) => buildMessage(BINDING, CLASS_REQUEST, TX, [{ type, value }], false)
  const edit = (buf, f) => { const b = Buffer.from(buf); f(b); return b }
  const cases = [
    ['short', Buffer.alloc(0)],
    ['short', req.subarray(0, 19)],
    ['too-long', Buffer.concat([req, Buffer.alloc(MAX_STUN_DATAGRAM - 19)])],
    ['not-stun', edit(req, b => { b[0] |= 0x80 })],
    ['not-stun', edit(req, b => { b[0] |= 0x40 })],
    ['bad-cookie', edit(req, b => { b[4] ^= 1 })],
    ['length-unaligned', edit(withAttr(0x8001, Buffer.alloc(4)), b => b.writeUInt16BE(6, 2))],
    ['length-mismatch', edit(req, b => b.writeUInt16BE(4, 2))],
    ['length-mismatch', Buffer.concat([req, Buffer.alloc(4)])],
    ['attribute-overrun', edit(withAttr(0x8001, Buffer.alloc(4)), b => b.writeUInt16BE(5, 22))],
    ['attribute-overrun', edit(withAttr(0x8001, Buffer.alloc(4)), b => b.writeUInt16BE(0xffff, 22))],
    ['not-request', buildBindingResponse(TX, '127.0.0.1', 1)],
    ['not-request', buildMessage(BINDING, CLASS_INDICATION, TX, [])],
    ['not-request', buildUnknownAttributesResponse(TX, [1])],
    ['not-binding', buildMessage(0x003, CLASS_REQUEST, TX, [])],
    ['fingerprint-mismatch', edit(buildBindingRequest(TX), b => { b[27] ^= 1 })],
    ['fingerprint-misplaced', buildMessage(BINDING, CLASS_REQUEST, TX, [{ type: ATTR_FINGERPRINT, value: Buffer.alloc(4) }, { type: ATTR_SOFTWARE, value: Buffer.from('x') }], false)],
    ['fingerprint-misplaced', withAttr(ATTR_FINGERPRINT, Buffer.alloc(8))]
  ]
  for (const [reason, buf] of cases) t.same(parseBindingRequest(buf), { ok: false, reason }, `${reason} (${buf.length} bytes)`)
  const biggest = withAttr(0x8001, Buffer.alloc(MAX_STUN_DATAGRAM - HEADER_LENGTH - 4))
  t.equal(biggest.length, MAX_STUN_DATAGRAM)
  t.ok(parseBindingRequest(biggest).ok, 'MAX_STUN_DATAGRAM bytes exactly still parse')
  t.same(parseBindingRequest(withAttr(0x8001, Buffer.alloc(MAX_STUN_DATAGRAM - HEADER_LENGTH))), { ok: false, reason: 'too-long' }, 'one attribute more is too long')

  const res = (attrs) => buildMessage(BINDING, CLASS_SUCCESS, TX, attrs)
  const responseCases = [
    ['not-response', buildBindingRequest(TX)],
    ['not-binding', buildMessage(0x002, CLASS_SUCCESS, TX, [])],
    ['no-address', res([{ type: ATTR_SOFTWARE, value: Buffer.from('x') }])],
    ['bad-address', res([{ type: ATTR_XOR_MAPPED_ADDRESS, value: Buffer.alloc(2) }])],
    ['bad-address', res([{ type: ATTR_XOR_MAPPED_ADDRESS, value: Buffer.from([0, 3, 0, 1, 1, 2, 3, 4]) }])],
    ['bad-address', res([{ type: ATTR_XOR_MAPPED_ADDRESS, value: Buffer.from([0, 1, 0, 1, 1, 2, 3, 4, 5]) }])],
    ['bad-address', res([{ type: ATTR_MAPPED_ADDRESS, value: Buffer.from([0, 2, 0, 1, 1, 2, 3, 4]) }])],
    ['fingerprint-mismatch', edit(buildBindingResponse(TX, '127.0.0.1', 1), b => { b[b.length - 1] ^= 1 })],
    ['bad-cookie', edit(buildBindingResponse(TX, '127.0.0.1', 1), b => { b[5] ^= 1 })]
  ]
  for (const [reason, buf] of responseCases) t.same(parseBindingResponse(buf, TX), { ok: false, reason }, `response: ${reason}`)
})

t.test('a Uint8Array view into a larger buffer parses as its own bytes', async t => {
  const req = buildBindingRequest(TX)
  const big = new Uint8Array(100)
  big.set(req, 13)
  t.same(parseBindingRequest(big.subarray(13, 13 + req.length)).value.transactionId, TX)
})

t.test('IP text and bytes', async t => {
  t.same([...ipToBytes('127.0.0.1')], [127, 0, 0, 1])
  t.same(ipToBytes('::1'), Buffer.from('00000000000000000000000000000001', 'hex'))
  t.same(ipToBytes('::ffff:127.0.0.1'), Buffer.from('00000000000000000000ffff7f000001', 'hex'))
  t.same(ipToBytes('fe80::1%lo'), ipToBytes('fe80::1'), 'a scope is not on the wire')
  t.same(ipToBytes('1:2:3:4:5:6:7:8'), Buffer.from('00010002000300040005000600070008', 'hex'))
  for (const bad of ['', 'localhost', '1.2.3', '256.0.0.1', ':::', '1::2::3', '[::1]']) t.equal(ipToBytes(bad), null, JSON.stringify(bad))
  t.equal(bytesToIp(Buffer.from('20010db8000000000000000000000001', 'hex')), '2001:db8::1', 'RFC 5952 canonical')
  t.throws(() => bytesToIp(Buffer.alloc(5)), RangeError)
})

t.test('amplification: an answer is at most 3.2 times its request (SECURITY.md)', async t => {
  const smallest = buildBindingRequest(TX, { fingerprint: false }).length
  t.equal(smallest, 20)
  t.equal(buildBindingResponse(TX, '2001:db8::1', 65535, { software: 'peernet' }).length, 64, 'the largest success answer the daemon sends')
  for (let n = 1; n <= MAX_UNKNOWN_LISTED + 2; n++) {
    const request = 20 + 4 * n // n unknown attributes, empty
    const answer = buildUnknownAttributesResponse(TX, Array.from({ length: n }, (_, i) => i + 0x10)).length
    t.ok(answer <= 76 && answer / request <= 3.2, `${n} unknown: ${answer} bytes for ${request}`)
  }
})
