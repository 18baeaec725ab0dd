// The wire codec: length-prefixed JSON frames (FrameDecoder / encodeFrame) and the field-by-field
// validation of every protocol message (validateMessage). Everything a peer sends passes through
// these two, so every bad input must end in a WireError and nothing else.
import t from 'tap'
import {
  MAX_FRAME, WireError, encodeFrame, FrameDecoder, validateMessage, seededRandom,
  PROTOCOL_VERSION, MAX_ADDRS_PER_MESSAGE, MAX_HELLO_ADDRS, MAX_SUBNET_LENGTH, MAX_NETWORK_LENGTH,
  MAX_HOP_LIMIT, MAX_ADDRESS_LENGTH, MAX_PINNED_LENGTH
} from '../lib/index.js'
// Not re-exported from the package root; the compiled module is the same one the node uses.
import { MAX_REASON_LENGTH, checkSubnet, subnetProblem } from '../lib/wire/messages.js'
import { KEEP_RAW } from '../lib/wire/frame.js'

const ID = '0123456789abcdef0123456789abcdef'
const QID = '0123456789abcdef'
const NONCE = 'fedcba9876543210'

/** A frame with an arbitrary body (string or bytes) and a correct length header. */
function rawFrame (body) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')
  const h = Buffer.alloc(4)
  h.writeUInt32BE(b.length, 0)
  return Buffer.concat([h, b])
}

function header (size) {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(size, 0)
  return h
}

/** Nested arrays, `depth` deep, as JSON text (built iteratively: no recursion in the test). */
function deepArrays (depth, inner = '') {
  return '['.repeat(depth) + inner + ']'.repeat(depth)
}

function deepObjects (depth) {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

/** Assert that fn throws a WireError, and nothing else (a TypeError or RangeError is a bug). */
function throwsWire (t, fn, what) {
  let err = null
  try {
    fn()
  } catch (e) {
    err = e
  }
  if (err === null) return t.fail(`${what}: did not throw`)
  t.ok(err instanceof WireError, `${what}: throws WireError`, {
    got: err && err.name,
    message: String(err && err.message).slice(0, 200)
  })
}

const valid = {
  // From version 3 a hello carries no id: the peer is the key its link proved.
  hello: { type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', addrs: ['tcp://127.0.0.1:4000', 'ws://127.0.0.1:4001'], nonce: NONCE },
  helloDialed: { type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', addrs: [], dialed: 'tcp://127.0.0.1:4000', nonce: NONCE },
  getaddrs: { type: 'getaddrs' },
  addrs: { type: 'addrs', addrs: ['tcp://127.0.0.1:4000', 'ws://127.0.0.1:4001/peer'] },
  query: { type: 'query', qid: QID, subnet: 'chat', hops: 1, limit: 8 },
  answer: { type: 'answer', qid: QID + QID, subnet: 'chat', address: 'tcp://127.0.0.1:4000', hops: 2 },
  bye: { type: 'bye', reason: 'shutting down' },
  ping: { type: 'ping' },
  pong: { type: 'pong' }
}

t.test('encodeFrame / FrameDecoder round trip', async t => {
  const values = [
    ...Object.values(valid),
    { unicode: 'héllo wörld ✓ 𝄞', empty: '', n: -1.5e-7, nested: { a: [1, [2, [3]]] } },
    [],
    'just a string',
    42,
    null,
    true
  ]
  for (const v of values) {
    const frame = encodeFrame(v)
    t.ok(Buffer.isBuffer(frame), 'encodeFrame gives a Buffer')
    t.equal(frame.readUInt32BE(0), frame.length - 4, 'header is the body length in bytes')
    t.equal(frame.subarray(4).toString('utf8'), JSON.stringify(v), 'body is the JSON text')
    const out = new FrameDecoder().push(frame)
    t.same(out, [v], `round trip of ${JSON.stringify(v).slice(0, 40)}`)
  }
  for (const v of Object.values(valid)) {
    t.same(validateMessage(new FrameDecoder().push(encodeFrame(v))[0]), v, `${v.type} survives encode, decode and validate`)
  }
  // The header counts bytes, not characters.
  const s = 'é𝄞'
  t.equal(encodeFrame(s).readUInt32BE(0), Buffer.byteLength(JSON.stringify(s)))
  // An empty chunk is harmless.
  const d = new FrameDecoder()
  t.same(d.push(Buffer.alloc(0)), [])
  t.same(d.push(encodeFrame(1)), [1])
  t.same(d.push(Buffer.alloc(0)), [])
})

t.test('frames split at every byte boundary, and many frames in one chunk', async t => {
  const values = [valid.hello, valid.getaddrs, 'é𝄞', valid.query, [], valid.bye]
  const stream = Buffer.concat(values.map(v => encodeFrame(v)))

  let ok = 0
  for (let i = 0; i <= stream.length; i++) {
    const d = new FrameDecoder()
    const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))]
    if (JSON.stringify(got) === JSON.stringify(values)) ok++
    else t.fail(`split at byte ${i} gave ${JSON.stringify(got)}`)
  }
  t.equal(ok, stream.length + 1, 'every two-piece split decodes to the same frames')

  // Three pieces: every pair of cut points over a shorter stream.
  const small = Buffer.concat([encodeFrame(valid.getaddrs), encodeFrame('x'), encodeFrame(valid.bye)])
  let pairs = 0
  for (let i = 0; i <= small.length; i++) {
    for (let j = i; j <= small.length; j++) {
      const d = new FrameDecoder()
      const got = [...d.push(small.subarray(0, i)), ...d.push(small.subarray(i, j)), ...d.push(small.subarray(j))]
      if (JSON.stringify(got) !== JSON.stringify([valid.getaddrs, 'x', valid.bye])) t.fail(`cuts ${i},${j} gave ${JSON.stringify(got)}`)
      else pairs++
    }
  }
  t.ok(pairs > 0, `${pairs} three-piece splits decode correctly`)

  // One byte at a time: nothing comes out until a frame's last byte.
  const d = new FrameDecoder()
  const got = []
  const ends = []
  let pos = 0
  for (const v of values) { pos += encodeFrame(v).length; ends.push(pos - 1) }
  for (let i = 0; i < stream.length; i++) {
    const out = d.push(stream.subarray(i, i + 1))
    if (out.length > 0) {
      t.ok(ends.includes(i), `a frame completes at byte ${i}, the last byte of a frame`)
      t.equal(out.length, 1)
    }
    got.push(...out)
  }
  t.same(got, values, 'byte-at-a-time decodes every frame')

  // Many frames in one chunk, and the decoder is clean afterwards.
  const many = []
  for (let i = 0; i < 2000; i++) many.push(i % 3 === 0 ? valid.query : { i, s: 'x'.repeat(i % 50) })
  const big = new FrameDecoder()
  t.same(big.push(Buffer.concat(many.map(v => encodeFrame(v)))), many, '2000 frames in one chunk')
  t.same(big.push(encodeFrame('after')), ['after'], 'decoder still works after a big chunk')

  // A chunk that ends part-way through the next frame's header keeps the partial header.
  const d2 = new FrameDecoder()
  const two = Buffer.concat([encodeFrame('a'), encodeFrame('b')])
  const aLen = encodeFrame('a').length
  t.same(d2.push(two.subarray(0, aLen + 2)), ['a'])
  t.same(d2.push(two.subarray(aLen + 2)), ['b'])

  // An empty body is a 0-length frame: not JSON.
  t.throws(() => new FrameDecoder().push(header(0)), WireError, 'empty body is not JSON')
})

/** A name in a test's description, ASCII only: a raw U+2028 would break the TAP line. */
const show = name => JSON.stringify(name).replace(/[^\x20-\x7e]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** Subnet names that are refused, each for a reason a reader could not see. */
const BAD_SUBNETS = [
  ' chat', 'chat ', '\tchat', '\u00a0chat', 'chat\u3000', // white space at an end
  'ch\u200bat', 'chat\u200d', '\u200cx', '\u2060x', '\ufeffchat', 'x\u00ady', // zero-width and other format characters
  '\u202egnp.exe', 'a\u202ab', 'a\u2066b\u2069', 'a\u200eb', // bidi overrides, embeddings, isolates, marks
  'a\u2028b', 'a\u2029b', 'a\u0085b', // line and paragraph separators, NEL
  'a\ud800b', 'a\udc00', // lone surrogates: no UTF-8 form
  'a\u115fb', 'a\u3164b', 'a\ufe0fb', // default-ignorable fillers and selectors
  'é'.repeat(MAX_SUBNET_LENGTH / 2 + 1), 'a'.repeat(MAX_SUBNET_LENGTH + 1), '€'.repeat(43) // over MAX_SUBNET_LENGTH bytes
]

t.test('decoders buffer apart: a partial frame on one is never seen by another', async t => {
  // Decoders start with one shared empty list of buffered chunks and come back to it once they
  // hold none: two decoders buffering at once, again and again, each give exactly their frames.
  const a = new FrameDecoder()
  const b = new FrameDecoder()
  for (let round = 0; round < 3; round++) {
    const fa = encodeFrame({ who: 'a', round })
    const fb = encodeFrame({ who: 'b', round, pad: 'x'.repeat(round) })
    t.same(a.push(fa.subarray(0, 3)), [], 'a holds a partial header')
    t.same(b.push(fb.subarray(0, 7)), [], 'b holds a partial body')
    t.same(a.push(Buffer.concat([fa.subarray(3), encodeFrame(round)])), [{ who: 'a', round }, round], 'a completes its own frames')
    t.same(b.push(fb.subarray(7)), [{ who: 'b', round, pad: 'x'.repeat(round) }], 'b completes its own frame')
    // A whole frame with a tail: the tail stays with the decoder it came to.
    t.same(a.push(Buffer.concat([encodeFrame('whole'), fa.subarray(0, 5)])), ['whole'], 'a keeps a tail')
    t.same(b.push(encodeFrame('b alone')), ['b alone'], 'b is not handed a\'s tail')
    t.same(a.push(fa.subarray(5)), [{ who: 'a', round }], 'a finishes its tail')
  }
})

t.test('sizeOf names each frame of the last push, header included, and no frame past them', async t => {
  const d = new FrameDecoder()
  const frames = [encodeFrame(valid.getaddrs), encodeFrame('x'), encodeFrame(valid.bye)]
  t.equal(d.push(Buffer.concat(frames)).length, 3)
  t.same([0, 1, 2].map(i => d.sizeOf(i)), frames.map(f => f.length), 'three frames in one chunk: three sizes')
  t.throws(() => d.sizeOf(3), RangeError, 'past the frames pushed')
  // A later push of fewer frames: the sizes kept from the first are not its own.
  t.equal(d.push(frames[1]).length, 1)
  t.equal(d.sizeOf(0), frames[1].length)
  t.throws(() => d.sizeOf(1), RangeError, 'a size left from an earlier push is not named')
  t.throws(() => d.sizeOf(-1), RangeError)
  // A frame split over two pushes counts in the push that completes it.
  t.equal(d.push(frames[0].subarray(0, 5)).length, 0)
  t.throws(() => d.sizeOf(0), RangeError, 'a push that completed nothing has no sizes')
  t.equal(d.push(frames[0].subarray(5)).length, 1)
  t.equal(d.sizeOf(0), frames[0].length)
})

t.test('frames of KEEP_RAW bytes or more are kept as their bytes beside their values', async t => {
  // A string value of a given body size: JSON adds its two quotes.
  const body = n => 'x'.repeat(n - 2)
  const small = encodeFrame(body(KEEP_RAW - 1))
  const large = encodeFrame(body(KEEP_RAW))
  const d = new FrameDecoder()
  t.same(d.push(small), [body(KEEP_RAW - 1)])
  t.equal(d.raw, null, 'one byte under KEEP_RAW: no bytes kept')
  t.same(d.push(Buffer.concat([small, large, small])), [body(KEEP_RAW - 1), body(KEEP_RAW), body(KEEP_RAW - 1)])
  t.equal(d.raw.length, 2, 'kept by the index of its value')
  t.equal(d.raw[0], undefined)
  t.ok(d.raw[1].equals(large), 'at KEEP_RAW: the whole frame, header and body')
  // A frame that came in pieces (the buffered path) is kept as well.
  t.same(d.push(large.subarray(0, 100)), [])
  t.equal(d.raw, null)
  t.same(d.push(large.subarray(100)), [body(KEEP_RAW)])
  t.ok(d.raw[0].equals(large))
})

t.test('subnet names: one rule, refused with a sentence; the limit counts bytes of UTF-8', async t => {
  for (const name of BAD_SUBNETS) {
    t.type(subnetProblem(name), 'string', show(name))
    t.throws(() => checkSubnet(name), { name: 'Error' }, show(name))
  }
  t.match(subnetProblem('ch\u200bat'), /invisible or control characters \(U\+200B at character 3\)/)
  t.match(subnetProblem('\u{1F600}\u200b'), /at character 2/, 'positions count characters, not UTF-16 units')
  t.match(subnetProblem(' x'), /must not start or end with white space/)
  t.match(subnetProblem('é'.repeat(65)), /is 130 bytes long; at most 128 bytes of UTF-8/)
  const ok = ['chat', 'my chat', 'a\u00a0b', 'чат', '聊天', '\u{1F600}', 'é'.repeat(MAX_SUBNET_LENGTH / 2), 'a'.repeat(MAX_SUBNET_LENGTH), '€'.repeat(42) + 'ab']
  for (const name of ok) {
    t.equal(subnetProblem(name), null, show(name))
    t.equal(checkSubnet(name), name, 'returned as given: never changed')
    t.same(validateMessage({ ...valid.query, subnet: name }).subnet, name, `on the wire: ${show(name)}`)
  }
  t.equal(Buffer.byteLength('€'.repeat(42) + 'ab'), MAX_SUBNET_LENGTH, 'exactly MAX_SUBNET_LENGTH bytes')
})

t.test('text where a length should be is named: the peer speaks another protocol', async t => {
  const text = s => Buffer.from(s, 'latin1')
  // A ws service answers a tcp:// dial with "HTTP/1.1 400 Bad Request": "HTTP" is 1213486160.
  t.throws(() => new FrameDecoder().push(text('HTTP/1.1 400 Bad Request\r\n')), { name: 'WireError', message: /^the peer answered in HTTP: it is a websocket or web server, not peernet over tcp \(dial it as ws:\/\/\)$/ })
  t.throws(() => new FrameDecoder().push(text('GET / HTTP/1.1\r\n')), { message: /sent an HTTP request: it is a websocket or web client/ })
  t.throws(() => new FrameDecoder().push(text('SSH-2.0-OpenSSH\r\n')), { message: /sent text \("SSH-"…\), not peernet frames/ })
  t.throws(() => new FrameDecoder().push(Buffer.from([0x7f, 0xff, 0xff, 0xff])), { message: /frame of 2147483647 bytes exceeds MAX_FRAME/ }, 'binary: the size')
  // In pieces, the name comes with the fourth byte.
  const d = new FrameDecoder()
  t.same(d.push(text('HT')), [])
  t.throws(() => d.push(text('TP/1.1')), { message: /answered in HTTP/ })
})

t.test('an oversize length header throws before the body arrives', async t => {
  for (const size of [MAX_FRAME + 1, 2 * MAX_FRAME, 0x7fffffff, 0xffffffff]) {
    const d = new FrameDecoder()
    t.throws(() => d.push(header(size)), { name: 'WireError', message: /exceeds MAX_FRAME/ }, `header of ${size} alone`)
  }
  // The header arriving in pieces: the throw comes with its fourth byte.
  const d = new FrameDecoder()
  const h = header(MAX_FRAME + 1)
  t.same(d.push(h.subarray(0, 1)), [])
  t.same(d.push(h.subarray(1, 3)), [])
  t.throws(() => d.push(h.subarray(3)), WireError, 'throws as soon as the header is complete')
  // After a good frame in the same chunk.
  t.throws(() => new FrameDecoder().push(Buffer.concat([encodeFrame(1), header(MAX_FRAME + 1)])), WireError)

  // Exactly MAX_FRAME is allowed: the header alone waits for the body.
  const body = Buffer.from(JSON.stringify('x'.repeat(MAX_FRAME - 2)))
  t.equal(body.length, MAX_FRAME)
  const ok = new FrameDecoder()
  t.same(ok.push(header(MAX_FRAME)), [], 'a MAX_FRAME header waits for its body')
  t.same(ok.push(body), ['x'.repeat(MAX_FRAME - 2)], 'a MAX_FRAME body decodes')
})

t.test('a body that is not JSON throws WireError', async t => {
  const bodies = ['not json', '{', '{"type":"bye",}', "{'a':1}", 'undefined', 'NaN', '\ufeff{}', '[1,2', '"unterminated', '1 2']
  for (const b of bodies) {
    throwsWire(t, () => new FrameDecoder().push(rawFrame(b)), JSON.stringify(b))
  }
  throwsWire(t, () => new FrameDecoder().push(rawFrame(Buffer.from([0xff, 0xfe, 0x00]))), 'binary garbage')
  // A bad frame after a good one in the same chunk still throws.
  throwsWire(t, () => new FrameDecoder().push(Buffer.concat([encodeFrame(1), rawFrame('nope')])), 'good then bad')
})

t.test('encodeFrame refuses values over MAX_FRAME', async t => {
  t.throws(() => encodeFrame({ type: 'addrs', addrs: ['x'.repeat(MAX_FRAME)] }), { name: 'WireError', message: /exceeds MAX_FRAME/ })
  t.throws(() => encodeFrame('x'.repeat(MAX_FRAME - 1)), WireError, 'MAX_FRAME + 1 bytes of JSON')
  t.equal(encodeFrame('x'.repeat(MAX_FRAME - 2)).length, MAX_FRAME + 4, 'exactly MAX_FRAME bytes is fine')
  // Bytes, not characters: 2-byte characters overflow at half the count.
  t.throws(() => encodeFrame('é'.repeat(MAX_FRAME / 2)), WireError, 'multi-byte characters counted as bytes')
})

t.test('validateMessage accepts every valid message type', async t => {
  for (const [name, m] of Object.entries(valid)) {
    t.same(validateMessage(m), m, name)
  }
  // Unknown extra fields are dropped, not passed on.
  const extra = validateMessage({ ...valid.query, extra: 1, __proto__x: 2 })
  t.same(Object.keys(extra).sort(), ['hops', 'limit', 'qid', 'subnet', 'type'], 'extra fields dropped')
  t.same(validateMessage({ type: 'getaddrs', junk: [1, 2, 3] }), { type: 'getaddrs' })
  t.notOk('dialed' in validateMessage(valid.hello), 'no dialed key when none was sent')

  // Boundaries that are still valid.
  const a = 'tcp://' + 'a'.repeat(MAX_ADDRESS_LENGTH - 6)
  t.equal(a.length, MAX_ADDRESS_LENGTH)
  const ok = [
    { ...valid.hello, version: 0 },
    { ...valid.hello, version: 0xffff },
    { ...valid.hello, network: 'n'.repeat(MAX_NETWORK_LENGTH) },
    { ...valid.hello, network: 'ünïcødé ✓' },
    { ...valid.hello, addrs: new Array(MAX_HELLO_ADDRS).fill('tcp://127.0.0.1:1') },
    { ...valid.hello, addrs: [a], dialed: a },
    { ...valid.hello, dialed: '' },
    { ...valid.hello, ring: true },
    { ...valid.hello, ring: false },
    { ...valid.hello, joined: true },
    // A version 1 hello (no nonce) must get as far as the version check, to be told why it is refused.
    { type: 'hello', version: 1, network: 'peernet', addrs: [] },
    { ...valid.hello, nonce: '0'.repeat(16) },
    { type: 'addrs', addrs: [] },
    { type: 'addrs', addrs: new Array(MAX_ADDRS_PER_MESSAGE).fill(a) },
    // The longest address with the id it reaches before it (ID@ADDR): exactly MAX_PINNED_LENGTH.
    { type: 'addrs', addrs: new Array(MAX_ADDRS_PER_MESSAGE).fill('f'.repeat(64) + '@' + a) },
    { type: 'addrs', addrs: ['', 'not even an address'] }, // shape only: the receiver parses each one
    { ...valid.query, qid: 'f'.repeat(16) },
    { ...valid.query, qid: 'f'.repeat(32) },
    { ...valid.query, subnet: 's'.repeat(MAX_SUBNET_LENGTH) },
    { ...valid.query, hops: MAX_HOP_LIMIT, limit: MAX_HOP_LIMIT },
    { ...valid.query, hops: 1, limit: 1 },
    { ...valid.answer, address: '' },
    { ...valid.answer, address: a },
    { ...valid.answer, hops: MAX_HOP_LIMIT },
    { type: 'bye', reason: '' },
    { type: 'bye', reason: 'r'.repeat(MAX_REASON_LENGTH) }
  ]
  for (const m of ok) t.same(validateMessage(m), m, `boundary ${JSON.stringify(m).slice(0, 70)}`)
})

t.test('validateMessage rejects every wrong field with a WireError', async t => {
  const wrongTypes = [null, 1, -1, 1.5, '', 'x', true, false, [], ['x'], {}, { a: 1 }]
  const bad = []
  const add = (m, why) => bad.push([m, why])
  const without = (m, k) => { const c = { ...m }; delete c[k]; return c }

  // Every field of every message, missing and of every wrong type.
  const fieldsOf = {
    hello: ['version', 'network', 'addrs', 'nonce'],
    addrs: ['addrs'],
    query: ['qid', 'subnet', 'hops', 'limit'],
    answer: ['qid', 'subnet', 'address', 'hops'],
    bye: ['reason']
  }
  const kinds = { version: 'int', hops: 'int', limit: 'int', addrs: 'list' }
  for (const [type, fields] of Object.entries(fieldsOf)) {
    const base = valid[type]
    for (const f of fields) {
      add(without(base, f), `${type} without ${f}`)
      for (const w of wrongTypes) {
        const kind = kinds[f] ?? 'string'
        if (kind === 'int' && typeof w === 'number' && Number.isInteger(w) && w >= 1) continue
        if (kind === 'string' && typeof w === 'string') continue
        // An empty string is still a string; it is refused only where a pattern demands content.
        if (kind === 'list' && Array.isArray(w) && w.every(x => typeof x === 'string')) continue
        add({ ...base, [f]: w }, `${type}.${f} = ${JSON.stringify(w)}`)
      }
    }
  }
  // hello.dialed: present but not a string or too long (JSON cannot carry undefined).
  for (const w of [null, 1, true, [], {}]) add({ ...valid.hello, dialed: w }, `hello.dialed = ${JSON.stringify(w)}`)
  for (const w of [null, 1, 'yes', [], {}]) add({ ...valid.hello, joined: w }, `hello.joined = ${JSON.stringify(w)}`)
  add({ ...valid.hello, dialed: 'x'.repeat(MAX_ADDRESS_LENGTH + 1) }, 'hello.dialed too long')

  // Too-long strings.
  add({ ...valid.hello, network: 'n'.repeat(MAX_NETWORK_LENGTH + 1) }, 'network too long')
  add({ ...valid.query, subnet: 's'.repeat(MAX_SUBNET_LENGTH + 1) }, 'query.subnet too long')
  add({ ...valid.answer, subnet: 's'.repeat(MAX_SUBNET_LENGTH + 1) }, 'answer.subnet too long')
  add({ ...valid.answer, address: 'x'.repeat(MAX_ADDRESS_LENGTH + 1) }, 'answer.address too long')
  add({ type: 'bye', reason: 'r'.repeat(MAX_REASON_LENGTH + 1) }, 'bye.reason too long')
  add({ type: 'addrs', addrs: ['x'.repeat(MAX_PINNED_LENGTH + 1)] }, 'addrs entry too long (an ID@ADDR may be MAX_PINNED_LENGTH)')
  add({ ...valid.hello, addrs: ['x'.repeat(MAX_ADDRESS_LENGTH + 1)] }, 'hello.addrs entry too long')
  for (const ring of [1, 'true', null, {}]) add({ ...valid.hello, ring }, `hello.ring ${JSON.stringify(ring)}`)

  // Too many addresses.
  add({ type: 'addrs', addrs: new Array(MAX_ADDRS_PER_MESSAGE + 1).fill('tcp://127.0.0.1:1') }, 'MAX_ADDRS_PER_MESSAGE + 1')
  add({ ...valid.hello, addrs: new Array(MAX_HELLO_ADDRS + 1).fill('tcp://127.0.0.1:1') }, 'MAX_HELLO_ADDRS + 1')
  add({ type: 'addrs', addrs: new Array(100000).fill('') }, '100000 addrs')
  for (const e of [null, 1, true, [], {}, ['ok', 2]]) add({ type: 'addrs', addrs: ['tcp://127.0.0.1:1', e] }, `addrs entry ${JSON.stringify(e)}`)

  // Hops, limits and versions out of range.
  for (const h of [0, -1, 1.5, 0.999, MAX_HOP_LIMIT + 1, 1e300, -1e300, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, NaN, Infinity, -Infinity, '1', '01']) {
    add({ ...valid.query, hops: h }, `query.hops = ${String(h)}`)
    add({ ...valid.query, limit: h }, `query.limit = ${String(h)}`)
    add({ ...valid.answer, hops: h }, `answer.hops = ${String(h)}`)
  }
  for (const v of [-1, 0x10000, 1.5, NaN, Infinity, '1']) add({ ...valid.hello, version: v }, `hello.version = ${String(v)}`)
  for (const nonce of ['', 'f'.repeat(15), 'f'.repeat(17), NONCE.toUpperCase(), NONCE.slice(0, 15) + 'g', NONCE + '\n', 'f'.repeat(32)]) {
    add({ ...valid.hello, nonce }, `hello.nonce = ${JSON.stringify(nonce)}`)
  }

  // Bad qid formats.
  for (const qid of ['', 'f'.repeat(15), 'f'.repeat(33), QID.toUpperCase(), QID.slice(0, 15) + 'g', QID + '\n', QID + ' ', '-' + QID.slice(1), 'f'.repeat(64)]) {
    add({ ...valid.query, qid }, `query.qid = ${JSON.stringify(qid)}`)
    add({ ...valid.answer, qid }, `answer.qid = ${JSON.stringify(qid)}`)
  }
  // Names: empty, or with control characters.
  for (const name of ['', 'a\u0000b', 'line\nbreak', 'tab\there', '\u001f', 'del\u007f']) {
    add({ ...valid.hello, network: name }, `network = ${JSON.stringify(name)}`)
    add({ ...valid.query, subnet: name }, `query.subnet = ${JSON.stringify(name)}`)
    add({ ...valid.answer, subnet: name }, `answer.subnet = ${JSON.stringify(name)}`)
  }
  // Subnet names on the wire follow the local rule (checkSubnet): none a user could not join.
  for (const name of BAD_SUBNETS) {
    add({ ...valid.query, subnet: name }, `query.subnet = ${show(name)}`)
    add({ ...valid.answer, subnet: name }, `answer.subnet = ${show(name)}`)
  }

  // Unknown or malformed types.
  for (const type of ['HELLO', 'Hello', 'hello ', 'foo', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(10000), 1, 0, null, true, [], ['hello'], {}]) {
    add({ ...valid.hello, type }, `type = ${JSON.stringify(type).slice(0, 30)}`)
  }
  add({ reason: 'no type' }, 'no type at all')

  // Not an object at all.
  for (const v of [null, undefined, 0, 1, NaN, 'hello', '', true, false, [], [valid.bye], [['type', 'bye']], () => {}]) {
    add(v, `top-level ${typeof v === 'function' ? 'function' : JSON.stringify(v)}`)
  }

  for (const [m, why] of bad) throwsWire(t, () => validateMessage(m), why)
})

t.test('a message type that is an object or an array must still give a WireError', async t => {
  // These all come out of JSON.parse of a frame a peer sent. validateMessage's unknown-type
  // branch formats the type with String(o.type), which for these throws TypeError/RangeError.
  const bodies = {
    'type {"toString":1}': '{"type":{"toString":1}}',
    'type {"toString":1,"valueOf":1}': '{"type":{"toString":1,"valueOf":1}}',
    'type {"toString":{}}': '{"type":{"toString":{}}}',
    'type [{"toString":1}]': '{"type":[{"toString":1}]}',
    'type nested 10,000 arrays deep': '{"type":' + deepArrays(10000) + '}'
  }
  for (const [why, body] of Object.entries(bodies)) {
    const values = new FrameDecoder().push(rawFrame(body))
    t.equal(values.length, 1, `${why}: decodes`)
    throwsWire(t, () => validateMessage(values[0]), why)
  }
})

t.test('deeply nested JSON does not crash decoding; validation rejects it', async t => {
  // 32766 nested arrays: 65532 bytes, just under MAX_FRAME.
  const depth = (MAX_FRAME - 4) / 2
  const frames = {
    '10,000 nested arrays': rawFrame(deepArrays(10000)),
    [`${depth} nested arrays (just under MAX_FRAME)`]: rawFrame(deepArrays(depth)),
    '10,000 nested objects': rawFrame(deepObjects(10000)),
    'addrs holding 10,000 nested arrays': rawFrame(`{"type":"addrs","addrs":${deepArrays(10000)}}`),
    'addrs entry of 10,000 nested arrays': rawFrame(`{"type":"addrs","addrs":[${deepArrays(10000)}]}`),
    'query.hops of 10,000 nested objects': rawFrame(`{"type":"query","qid":"${QID}","subnet":"s","hops":${deepObjects(10000)},"limit":1}`),
    'bye.reason of 10,000 nested arrays': rawFrame(`{"type":"bye","reason":${deepArrays(10000)}}`)
  }
  for (const [why, frame] of Object.entries(frames)) {
    t.ok(frame.length - 4 <= MAX_FRAME, `${why}: fits in a frame`)
    let values
    try {
      values = new FrameDecoder().push(frame)
    } catch (err) {
      // Refusing it is fine too, as long as it is a WireError.
      t.ok(err instanceof WireError, `${why}: decoding refuses it with a WireError`, { got: err.name, message: err.message })
      continue
    }
    t.equal(values.length, 1, `${why}: decodes without crashing`)
    throwsWire(t, () => validateMessage(values[0]), why)
  }
  // Unknown extra fields are ignored, however deep: such a hello is accepted, and the deep part
  // is dropped rather than handed on.
  const hello = new FrameDecoder().push(rawFrame(JSON.stringify(valid.hello).slice(0, -1) + ',"x":' + deepArrays(10000) + '}'))[0]
  t.same(validateMessage(hello), valid.hello, 'deep unknown field is dropped')
  // And the decoder still works after a deep frame.
  const d = new FrameDecoder()
  t.equal(d.push(rawFrame(deepArrays(depth))).length, 1)
  t.same(d.push(encodeFrame(valid.bye)), [valid.bye])
})

t.test('seeded mini-fuzz: every input yields messages or throws WireError', async t => {
  const random = seededRandom(0x5eed)
  const int = n => Math.floor(random() * n)
  const pick = xs => xs[int(xs.length)]

  const keys = ['type', 'version', 'network', 'id', 'addrs', 'dialed', 'qid', 'subnet', 'hops', 'limit', 'address', 'reason',
    'toString', 'valueOf', '__proto__', 'constructor', 'length', '0', '']
  const types = ['hello', 'getaddrs', 'addrs', 'query', 'answer', 'bye', 'HELLO', '', 'x']
  const strings = ['', 'x', ID, QID, 'chat', 'peernet', 'tcp://127.0.0.1:1', 'ws://127.0.0.1:2/p', 'mem://a', '\u0000', '\n',
    'é𝄞', '\ud800', 'x'.repeat(257), 'f'.repeat(33), '__proto__']
  const numbers = [0, 1, -1, 1.5, 2, 63, 64, 65, 0xffff, 0x10000, 1e300, -0, Number.MAX_SAFE_INTEGER]

  function randomValue (depth) {
    const r = int(depth > 4 ? 6 : 9)
    if (r === 0) return null
    if (r === 1) return random() < 0.5
    if (r === 2) return pick(numbers)
    if (r === 3 || r === 4) return random() < 0.3 ? pick(types) : pick(strings)
    if (r === 5) return random() * 1e6 - 5e5
    if (r === 6 || r === 7) {
      const o = {}
      const n = int(7)
      for (let i = 0; i < n; i++) o[pick(keys)] = randomValue(depth + 1)
      return o
    }
    const n = int(r === 8 && random() < 0.05 ? 120 : 6)
    const a = []
    for (let i = 0; i < n; i++) a.push(random() < 0.7 ? pick(strings) : randomValue(depth + 1))
    return a
  }

  /** A valid message with one field changed, removed or added. */
  function mutatedMessage () {
    const m = { ...pick(Object.values(valid)) }
    const k = random() < 0.8 ? pick(Object.keys(m)) : pick(keys)
    const r = int(4)
    if (r === 0) delete m[k]
    else if (r === 1) m[k] = randomValue(1)
    else if (r === 2) m[pick(keys)] = randomValue(1)
    // r === 3: unchanged
    return m
  }

  function mutateBytes (buf) {
    const b = Buffer.from(buf)
    const n = 1 + int(4)
    let out = b
    for (let i = 0; i < n; i++) {
      const r = int(6)
      if (out.length === 0) break
      const at = int(out.length)
      if (r === 0) out[at] = int(256)
      else if (r === 1) out[at] ^= 1 << int(8)
      else if (r === 2) out = Buffer.concat([out.subarray(0, at), Buffer.from([int(256)]), out.subarray(at)])
      else if (r === 3) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)])
      else if (r === 4) out = out.subarray(0, at)
      else out = Buffer.concat([out.subarray(0, at), Buffer.from(pick(['{', '}', '[', ']', '"', ',', ':', '\\', 'null', '1e999', '"type"', '"hello"'])), out.subarray(at)])
    }
    return out
  }

  function input () {
    const r = int(10)
    if (r === 0) {
      // Raw random bytes, sometimes starting with a plausible header.
      const n = int(40)
      const b = Buffer.alloc(n)
      for (let i = 0; i < n; i++) b[i] = int(256)
      if (n >= 4 && random() < 0.5) b.writeUInt32BE(int(n), 0)
      return b
    }
    if (r === 1) {
      // A header with a random size, maybe followed by some body.
      const size = pick([0, 1, 2, MAX_FRAME, MAX_FRAME + 1, int(2 ** 32), int(100)])
      return Buffer.concat([header(size), Buffer.from(JSON.stringify(mutatedMessage())).subarray(0, int(200))])
    }
    if (r === 2) {
      // A body mutated at the byte level under a correct header.
      return rawFrame(mutateBytes(Buffer.from(JSON.stringify(mutatedMessage()))))
    }
    if (r === 3) {
      // A whole frame, header included, mutated at the byte level.
      return mutateBytes(encodeFrame(mutatedMessage()))
    }
    if (r === 4) {
      // Several frames in one stream, one of them maybe broken.
      const parts = []
      const n = 1 + int(5)
      for (let i = 0; i < n; i++) parts.push(random() < 0.2 ? mutateBytes(encodeFrame(mutatedMessage())) : encodeFrame(mutatedMessage()))
      return Buffer.concat(parts)
    }
    if (r === 5 && random() < 0.1) {
      // Something deep, at a random place.
      const depth = int(20000)
      const m = JSON.stringify(mutatedMessage())
      const k = pick(keys)
      return rawFrame(m.slice(0, -1) + (m.length > 2 ? ',' : '') + JSON.stringify(k) + ':' + (random() < 0.5 ? deepArrays(depth) : deepObjects(depth)) + '}')
    }
    if (r === 6) return rawFrame(JSON.stringify(randomValue(0)))
    // Valid-shaped messages with one field changed.
    const v = mutatedMessage()
    try {
      return encodeFrame(v)
    } catch {
      return rawFrame(JSON.stringify(v))
    }
  }

  const N = 20000
  let messages = 0
  let wireErrors = 0
  const others = []
  for (let i = 0; i < N; i++) {
    const buf = input()
    const d = new FrameDecoder()
    try {
      // Feed in 1-3 randomly cut pieces.
      const cuts = [int(buf.length + 1), int(buf.length + 1)].sort((a, b) => a - b)
      const pieces = random() < 0.5 ? [buf] : [buf.subarray(0, cuts[0]), buf.subarray(cuts[0], cuts[1]), buf.subarray(cuts[1])]
      for (const p of pieces) {
        for (const v of d.push(p)) {
          const m = validateMessage(v)
          if (m === null || typeof m !== 'object' || typeof m.type !== 'string') throw new Error('validateMessage returned a non-message')
          messages++
        }
      }
    } catch (err) {
      if (err instanceof WireError) wireErrors++
      else others.push({ i, error: `${err.name}: ${err.message}`.slice(0, 120), input: buf.toString('utf8', 0, 160) })
    }
  }
  t.equal(others.length, 0, `no error other than WireError in ${N} inputs`, { count: others.length, first: others.slice(0, 5) })
  t.ok(messages > 1000, `the fuzz reaches valid messages too (${messages})`)
  t.ok(wireErrors > 1000, `and plenty of WireErrors (${wireErrors})`)
})
