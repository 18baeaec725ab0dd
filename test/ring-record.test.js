// The ring's signed records and envelopes (src/ring/record.ts, envelope.ts, wire/record.ts):
// every rule verifyRecord and checkEnvelope apply is crossed by a record that fails exactly it.
import t from 'tap'
import { generateKeyPair, idOf } from '../lib/node/identity.js'
import {
  signRecord, verifyRecord, pointOf, recordPoint, tombstoneOf, recordBytes, POINT_CACHE,
  MAX_RECORD_TTL, RECORD_TTL, MAX_RECORD_ADDRS, MAX_RECORD_BYTES, MAX_RECORD_META, MAX_RECORD_URL, MAX_RECORD_VERSION
} from '../lib/ring/record.js'
import { sealEnvelope, checkEnvelope, bodyOf, NonceCache, MAX_ENVELOPE_TTL, MAX_ENVELOPE_BODY, MAX_NONCES } from '../lib/ring/envelope.js'
import { recordShapeProblem, envelopeShapeProblem, ENVELOPE_ROOM, recordBytesAtMost, RECORD_FRAME_BYTES } from '../lib/wire/record.js'
import { MAX_ADDRESS_LENGTH, MAX_HELLO_ADDRS, MAX_SUBNET_LENGTH } from '../lib/wire/messages.js'
import { MAX_FRAME } from '../lib/wire/frame.js'
import { seededRandom } from '../lib/util/random.js'

const seed = n => Buffer.alloc(32, n)
const A = generateKeyPair(seed(1))
const B = generateKeyPair(seed(2))
const NOW = 1_700_000_000_000
const NET = 'peernet'
const ctx = (extra = {}) => ({ network: NET, now: NOW, ...extra })
const member = (extra = {}, kp = A) => signRecord(kp, { type: 'member', network: NET, name: 'chat', addresses: ['tcp://127.0.0.1:4000'], seq: 1, expires: NOW + RECORD_TTL, ...extra })

t.test('a signed record verifies; its point is that of its type, network and name', async t => {
  const r = member()
  t.equal(verifyRecord(r, ctx()), null)
  t.equal(r.id, idOf(A.publicKey))
  t.equal(recordPoint(r), pointOf('member', NET, 'chat'))
  t.match(recordPoint(r), /^[0-9a-f]{64}$/)
  const p = signRecord(A, { type: 'presence', network: NET, addresses: [], seq: 1, expires: NOW + 1000 })
  t.equal(p.name, p.id, 'a presence record is named by its id')
  t.equal(verifyRecord(p, ctx()), null)
  const s = signRecord(A, { type: 'service', network: NET, name: 'stun', url: 'stun:127.0.0.1:3478', version: '*', meta: { region: 'eu' }, seq: 1, expires: NOW + 1000 })
  t.equal(verifyRecord(s, ctx()), null)
  t.equal(verifyRecord(JSON.parse(JSON.stringify(s)), ctx()), null, 'survives a trip through JSON')
})

t.test('points: no two (type, network, name) share one, however the characters are split', async t => {
  t.not(pointOf('member', NET, 'service:stun'), pointOf('service', NET, 'stun'), 'the subnet "service:stun" is not the service "stun"')
  t.not(pointOf('member', 'ab', 'c'), pointOf('member', 'a', 'bc'), 'network and name cannot trade characters')
  t.not(pointOf('member', NET, 'chat'), pointOf('member', 'other', 'chat'), 'each network has its own points')
  t.not(pointOf('member', NET, 'x'), pointOf('service', NET, 'x'))
  t.equal(pointOf('member', NET, 'chat'), pointOf('member', NET, 'chat'), 'a pure function')
})

t.test('points: the memo past POINT_CACHE names starts over and gives the same points', async t => {
  const names = Array.from({ length: POINT_CACHE + 10 }, (_, i) => 'n' + i)
  const first = names.map(n => pointOf('member', NET, n))
  t.equal(new Set(first).size, names.length, 'each name its own point')
  // Asked again after the memo was cleared (at POINT_CACHE): the first names are hashed anew.
  t.same(names.map(n => pointOf('member', NET, n)), first, 'the same points, memo or not')
  t.not(pointOf('service', NET, 'n1'), first[1], 'the memo tells types apart')
  t.not(pointOf('member', NET + 'n', '1'), first[1], 'and where the network ends')
})

t.test('tampering with any field breaks the signature', async t => {
  const r = member({ meta: { a: '1' } })
  const changes = {
    type: 'service', network: 'other', name: 'chat2', addresses: ['tcp://127.0.0.1:4001'], seq: 2, expires: r.expires - 1,
    tombstone: true, meta: { a: '2' }
  }
  for (const [k, v] of Object.entries(changes)) {
    const forged = { ...r, [k]: v }
    const why = verifyRecord(forged, ctx({ network: forged.network }))
    t.ok(why !== null, `changing ${k} is caught: ${why}`)
  }
  t.match(verifyRecord({ ...r, id: idOf(B.publicKey) }, ctx()), /signature/, 'another id (its key did not sign)')
  t.match(verifyRecord({ ...r, sig: member({ seq: 9 }).sig }, ctx()), /signature/, 'another record\'s signature')
  t.match(verifyRecord({ ...r, meta: { a: '1', b: '' } }, ctx()), /signature/, 'an added meta key')
  const { meta, ...noMeta } = r
  t.match(verifyRecord(noMeta, ctx()), /signature/, 'meta removed')
  t.not(recordBytes({ ...r, meta: {} }).toString('hex'), recordBytes(noMeta).toString('hex'), 'an empty meta is not no meta')
  t.equal(recordBytes({ ...r, meta: { b: '2', a: '1' } }).toString('hex'), recordBytes({ ...r, meta: { a: '1', b: '2' } }).toString('hex'), 'meta key order does not matter')
})

t.test('network, type, time and seq', async t => {
  const r = member()
  t.match(verifyRecord(r, ctx({ network: 'other' })), /network/, 'another network')
  t.match(verifyRecord({ ...r, type: 'bogus' }, ctx()), /unknown record type/, 'unknown type')
  t.match(verifyRecord(member({ expires: NOW }), ctx()), /expired/, 'expires == now: expired')
  t.equal(verifyRecord(member({ expires: NOW + 1 }), ctx()), null, 'now + 1 is still valid')
  t.equal(verifyRecord(member({ expires: NOW + MAX_RECORD_TTL }), ctx()), null, 'now + MAX_RECORD_TTL is accepted')
  t.match(verifyRecord(member({ expires: NOW + MAX_RECORD_TTL + 1 }), ctx()), /MAX_RECORD_TTL/, 'one ms further is refused')
  t.ok(RECORD_TTL < MAX_RECORD_TTL, 'publishers leave a margin for clock skew')
  t.match(verifyRecord(member({ seq: 5 }), ctx({ held: 5 })), /not newer/, 'seq == held')
  t.match(verifyRecord(member({ seq: 4 }), ctx({ held: 5 })), /not newer/, 'seq < held')
  t.equal(verifyRecord(member({ seq: 6 }), ctx({ held: 5 })), null, 'seq > held')
  t.equal(verifyRecord(member({ seq: 0 }), ctx({ held: null })), null, 'nothing held')
})

t.test('a tombstone withdraws with a higher seq, signed by the same key', async t => {
  const r = member({ seq: 7 })
  const tomb = tombstoneOf(A, r, NOW + 1000)
  t.equal(tomb.seq, 8)
  t.equal(tomb.tombstone, true)
  t.same(tomb.addresses, [])
  t.equal(verifyRecord(tomb, ctx({ held: 7 })), null)
  t.match(verifyRecord(r, ctx({ held: tomb.seq })), /not newer/, 'the old record replayed cannot undo it')
  const svc = signRecord(A, { type: 'service', network: NET, name: 'stun', url: 'stun:a', seq: 1, expires: NOW + 1000 })
  t.equal(tombstoneOf(A, svc, NOW + 1000).url, 'stun:a', 'a service tombstone names the URL it withdraws')
})

t.test('bounds: addresses, names, url, version, meta, total size', async t => {
  const addr = n => 'ws://127.0.0.1/' + 'a'.repeat(n - 'ws://127.0.0.1/'.length)
  t.equal(MAX_RECORD_ADDRS, MAX_HELLO_ADDRS)
  const many = Array.from({ length: MAX_RECORD_ADDRS }, (_, i) => `tcp://127.0.0.1:${4000 + i}`)
  t.equal(verifyRecord(member({ addresses: many }), ctx()), null, `${MAX_RECORD_ADDRS} addresses`)
  t.throws(() => member({ addresses: [...many, 'tcp://127.0.0.1:1'] }), /more than/, 'one more: signRecord refuses')
  t.match(recordShapeProblem({ ...member(), addresses: [...many, 'tcp://127.0.0.1:1'] }), /more than/, 'and a receiver too')
  t.equal(verifyRecord(member({ addresses: [addr(MAX_ADDRESS_LENGTH)] }), ctx()), null, 'an address of MAX_ADDRESS_LENGTH')
  t.throws(() => member({ addresses: [addr(MAX_ADDRESS_LENGTH + 1)] }), /address/, 'one character longer')
  t.throws(() => member({ addresses: [''] }), /address/, 'an empty address')
  t.equal(verifyRecord(member({ name: 'é'.repeat(MAX_SUBNET_LENGTH / 2) }), ctx()), null, `a name of ${MAX_SUBNET_LENGTH} bytes`)
  t.throws(() => member({ name: 'é'.repeat(MAX_SUBNET_LENGTH / 2) + 'x' }), /bytes/, 'one byte more')
  t.throws(() => member({ name: 'a\u200bb' }), /invisible/, 'the subnet-name rule applies')
  t.throws(() => signRecord(A, { type: 'service', network: NET, name: 'STUN', seq: 1, expires: NOW + 1 }), /service name/, 'service names are lowercase')
  t.doesNotThrow(() => signRecord(A, { type: 'service', network: NET, name: 'a'.repeat(64), seq: 1, expires: NOW + 1 }), 'a 64-character service name')
  t.throws(() => signRecord(A, { type: 'service', network: NET, name: 'a'.repeat(65), seq: 1, expires: NOW + 1 }), /service name/, '65 characters')
  t.match(recordShapeProblem({ ...member(), name: 'someone else' , type: 'presence' }), /presence/, 'a presence record named by another id')
  const svc = extra => signRecord(A, { type: 'service', network: NET, name: 'stun', seq: 1, expires: NOW + 1, ...extra })
  t.doesNotThrow(() => svc({ url: 'x'.repeat(MAX_RECORD_URL) }), 'a url of MAX_RECORD_URL bytes')
  t.throws(() => svc({ url: 'x'.repeat(MAX_RECORD_URL + 1) }), /url/, 'one byte more')
  t.doesNotThrow(() => svc({ version: 'v'.repeat(MAX_RECORD_VERSION) }))
  t.throws(() => svc({ version: 'v'.repeat(MAX_RECORD_VERSION + 1) }), /version/)
  t.throws(() => member({ url: 'x' }), /only a service/, 'a membership has no url')
  t.doesNotThrow(() => member({ meta: { k: 'v'.repeat(MAX_RECORD_META - 1) } }), 'meta of MAX_RECORD_META bytes')
  t.throws(() => member({ meta: { k: 'v'.repeat(MAX_RECORD_META) } }), /meta/, 'one byte more')
  t.throws(() => member({ meta: { k: 1 } }), /meta/, 'meta values are strings')
  t.match(recordShapeProblem({ ...member(), extra: 1 }), /unknown field/, 'an unsigned extra field')
  t.match(verifyRecord(null, ctx()), /object/)
  t.match(verifyRecord({ ...member(), seq: -1 }, ctx()), /seq/)
  t.match(verifyRecord({ ...member(), seq: 1.5 }, ctx()), /seq/)
  t.match(verifyRecord({ ...member(), expires: '1' }, ctx()), /expires/)
  // Total size: every field at its own bound comes to just under MAX_RECORD_BYTES; JSON escapes
  // (a quote is 1 byte of meta, 2 of JSON) are what can push a record over it.
  const longs = Array.from({ length: MAX_RECORD_ADDRS }, (_, i) => addr(MAX_ADDRESS_LENGTH - 1) + i)
  const sized = n => svc({ name: 's'.repeat(64), version: 'v'.repeat(MAX_RECORD_VERSION), addresses: longs, url: 'u'.repeat(MAX_RECORD_URL), meta: { m: '"'.repeat(64) + 'x'.repeat(n) } })
  const base = Buffer.byteLength(JSON.stringify(sized(0)))
  const fill = MAX_RECORD_BYTES - base
  t.ok(fill > 0 && 1 + 64 + fill + 1 <= MAX_RECORD_META, 'the test reaches the size bound with fields each within theirs')
  const exact = sized(fill)
  t.equal(Buffer.byteLength(JSON.stringify(exact)), MAX_RECORD_BYTES)
  t.equal(verifyRecord(exact, ctx()), null, 'a record of MAX_RECORD_BYTES')
  t.throws(() => sized(fill + 1), /MAX_RECORD_BYTES/, 'one byte more')
  t.ok(8 * MAX_RECORD_BYTES < MAX_FRAME - 8 * 1024, 'eight records fit in a frame with room to spare')
})

t.test('records: the size bound that spares encoding never says less than the encoding', async t => {
  const bytes = r => Buffer.byteLength(JSON.stringify(r), 'utf8')
  // Every field there, every string empty, both numbers at their largest: the framing alone.
  const frame = { type: '', network: '', id: '', name: '', addresses: [], seq: Number.MAX_SAFE_INTEGER, expires: Number.MAX_SAFE_INTEGER, tombstone: true, url: '', version: '', meta: {}, sig: '' }
  t.ok(bytes(frame) - 7 * 2 <= RECORD_FRAME_BYTES, `the framing (${bytes(frame) - 14} bytes) is within RECORD_FRAME_BYTES`)
  // Strings that JSON makes longest: control characters (six bytes each), lone surrogates, and
  // characters of three and four UTF-8 bytes.
  const random = seededRandom(11)
  const worst = ['\u0001', '\ud800', '"', '\\', '\u20ac', '\u{1f600}', 'a']
  const text = n => Array.from({ length: n }, () => worst[Math.floor(random() * worst.length)]).join('')
  for (let i = 0; i < 200; i++) {
    const r = { ...frame, type: 'service', network: text(8), id: text(4), name: text(6), addresses: [text(5), text(3)], seq: i, url: text(9), version: text(2), meta: { [text(3)]: text(7), k: text(2) }, sig: text(4) }
    if (recordBytesAtMost(r) < bytes(r)) return t.fail(`bound ${recordBytesAtMost(r)} under ${bytes(r)} bytes for ${JSON.stringify(r)}`)
  }
  t.pass('200 records of the costliest characters: the bound holds')
  const m = member()
  t.ok(recordBytesAtMost(m) <= MAX_RECORD_BYTES && recordBytesAtMost(m) >= bytes(m), 'a usual record is shown to fit without encoding it')
})

t.test('envelopes: signed end to end, addressed, time-bounded, size-bounded', async t => {
  const random = seededRandom(5)
  const to = idOf(B.publicKey)
  const e = sealEnvelope(A, to, { hello: 'world', n: [1, 2] }, NOW + 1000, random)
  t.equal(checkEnvelope(e, to, NOW), null)
  t.same(bodyOf(e), { hello: 'world', n: [1, 2] })
  t.equal(checkEnvelope(JSON.parse(JSON.stringify(e)), to, NOW), null, 'survives JSON')
  t.match(checkEnvelope(e, idOf(A.publicKey), NOW), /another node/, 'to someone else')
  t.match(checkEnvelope({ ...e, body: '{"hello":"w0rld","n":[1,2]}' }, to, NOW), /signature/, 'body altered')
  t.match(checkEnvelope({ ...e, from: to }, to, NOW), /signature/, 'from forged')
  t.match(checkEnvelope({ ...e, to: idOf(A.publicKey) }, idOf(A.publicKey), NOW), /signature/, 'redirected')
  t.match(checkEnvelope({ ...e, nonce: 'f'.repeat(32) }, to, NOW), /signature/, 'nonce changed')
  t.match(checkEnvelope(e, to, NOW + 1000), /expired/, 'at expiry')
  t.equal(checkEnvelope(sealEnvelope(A, to, 1, NOW + MAX_ENVELOPE_TTL, random), to, NOW), null, 'MAX_ENVELOPE_TTL ahead')
  t.match(checkEnvelope(sealEnvelope(A, to, 1, NOW + MAX_ENVELOPE_TTL + 1, random), to, NOW), /MAX_ENVELOPE_TTL/, 'one ms more')
  t.match(checkEnvelope({ ...e, nonce: 'x' }, to, NOW), /nonce/)
  t.match(envelopeShapeProblem({ ...e, body: 1 }), /body/)
  t.equal(bodyOf({ ...e, body: 'not json' }), undefined)
  // Body bound: measured as the frame carries it (a JSON string, quotes escaped).
  // A string body's JSON text is "x…x" (k + 2); carried as a JSON string: \"x…x\" in quotes (k + 6).
  const big = n => 'x'.repeat(n - 6)
  t.doesNotThrow(() => sealEnvelope(A, to, big(MAX_ENVELOPE_BODY), NOW + 1000, random), 'a body of MAX_ENVELOPE_BODY')
  t.throws(() => sealEnvelope(A, to, big(MAX_ENVELOPE_BODY + 1), NOW + 1000, random), /MAX_ENVELOPE_BODY/, 'one byte more')
  t.throws(() => sealEnvelope(A, to, '"'.repeat(MAX_ENVELOPE_BODY / 3), NOW + 1000, random), /MAX_ENVELOPE_BODY/, 'escaping counts')
  t.ok(ENVELOPE_ROOM >= 8 * 1024, 'room for the envelope fields and routing header in a frame')
})

t.test('NonceCache refuses replays, and stays bounded without forgetting how to refuse them', async t => {
  const c = new NonceCache(8)
  const from = 'a'.repeat(64)
  const n = i => i.toString(16).padStart(32, '0')
  t.ok(c.accept(from, n(1), 100, 0))
  t.notOk(c.accept(from, n(1), 100, 0), 'the same nonce again')
  t.ok(c.accept('b'.repeat(64), n(1), 100, 0), 'the same nonce from another sender is another message')
  for (let i = 2; i <= 6; i++) t.ok(c.accept(from, n(i), 100 + i, 0))
  t.equal(c.size, 7)
  t.ok(c.accept(from, n(7), 200, 0), 'the 8th fills it')
  t.ok(c.accept(from, n(8), 300, 0), 'the 9th makes it forget the soonest-expiring')
  t.ok(c.size <= 8, 'bounded')
  t.notOk(c.accept(from, n(1), 100, 0), 'a forgotten nonce replayed is still refused (at or under the floor)')
  t.ok(c.accept(from, n(99), 400, 0), 'a new message expiring later is fine')
  const d = new NonceCache(4)
  for (let i = 0; i < 4; i++) d.accept(from, n(i), 10, 0)
  t.ok(d.accept(from, n(50), 20, 11), 'expired entries are dropped first, floor untouched')
  t.ok(d.accept(from, n(51), 11, 11), 'an envelope expiring after the expired ones is not under the floor')
  const full = new NonceCache()
  for (let i = 0; i <= MAX_NONCES; i++) full.accept(from, n(i), 1000 + i, 0)
  t.ok(full.size <= MAX_NONCES, 'the default cache holds at most MAX_NONCES')
  t.notOk(full.accept(from, n(0), 1000, 0), 'and still refuses the first nonce it had to forget')
})
