// Identity keys and the secure layer, through the library: the id is the public key, the key
// is kept (given, or in the db), a version 1 db is migrated, dials check the key they expect,
// and whatever a peer does to the secure handshake or the ciphertext ends in a refusal.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import {
  peernet, generateKeyPair, idOf, IdentityError, SCHEMA_VERSION, VirtualClock, seededRandom, encodeFrame,
  HANDSHAKE_TIMEOUT, PROTOCOL_VERSION, MAX_SEALED_MESSAGE, parsePinned
} from '../lib/index.js'
import { memNet, rawPeer, noiseOver, HEX, NONCE } from './lib/mem-nodes.js'
import { until, collect } from './lib/helpers.js'
import { checkKeyPair, keyPairOf } from '../lib/node/identity.js'

const quiet = { interval: 0, bootstrap: false, purge: 0 }
const hello = id => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id, nonce: NONCE, addrs: [] })

t.test('opts.keyPair: the id is the public key; without one the db keeps a key, and a db refuses any other key', async t => {
  const kp = generateKeyPair()
  const db = new MemoryLevel()
  const a = peernet(db, { ...quiet, keyPair: kp })
  await a.ready
  t.equal(a.id, idOf(kp.publicKey))
  t.match(a.id, /^[0-9a-f]{64}$/)
  await a.close()
  const other = peernet(db, { ...quiet, keyPair: generateKeyPair() })
  await t.rejects(other.ready, IdentityError, 'another key for that db')
  await t.rejects(other.ready, /this database belongs to node [0-9a-f]{64}, not to the key pair given/)
  const keyless = peernet(db, quiet)
  await t.rejects(keyless.ready, /whose key it does not keep: pass that node's key pair as opts.keyPair/)

  const db2 = new MemoryLevel()
  const b = peernet(db2, quiet)
  await b.ready
  const id = b.id
  await b.close()
  const again = peernet(db2, quiet)
  await again.ready
  t.equal(again.id, id, 'the key kept in the db is the same identity after a reopen')
  await again.close()

  t.throws(() => peernet(new MemoryLevel(), { keyPair: { publicKey: kp.publicKey, secretKey: kp.secretKey.subarray(0, 63) } }), /not an Ed25519 secret key: it is 63 bytes, not 64/)
  t.throws(() => peernet(new MemoryLevel(), { keyPair: { publicKey: generateKeyPair().publicKey, secretKey: kp.secretKey } }), /publicKey is not the public key of/)
  t.throws(() => peernet(new MemoryLevel(), { keyPair: 'key' }), TypeError)
})

t.test('a database of version 1 (a random 32-digit id) is migrated on open: the key\'s id, version 2, the table kept', async t => {
  const db = new MemoryLevel()
  const before = peernet(db, quiet)
  await before.save('tcp://127.0.0.1:7000')
  await before.close()
  // As version 1 left it: its random id, no key.
  const meta = db.sublevel('meta', { valueEncoding: 'json' })
  await meta.put('version', 1)
  await meta.put('id', '0123456789abcdef0123456789abcdef')
  await meta.del('key')
  const kp = generateKeyPair()
  const node = peernet(db, { ...quiet, keyPair: kp })
  await node.ready
  t.equal(node.id, idOf(kp.publicKey))
  t.equal(SCHEMA_VERSION, 2)
  t.equal(await meta.get('version'), SCHEMA_VERSION)
  t.equal(await meta.get('id'), node.id)
  t.same((await collect(node.known())).map(r => r.address), ['tcp://127.0.0.1:7000'], 'the addresses are kept')
  await node.close()
})

t.test('ID@ADDR: parsed in one place; connect checks the key and fails on another', async t => {
  t.same(parsePinned('ws://127.0.0.1:1'), { id: null, address: 'ws://127.0.0.1:1' })
  t.same(parsePinned('AB'.repeat(32) + '@WS://127.0.0.1:1'), { id: 'ab'.repeat(32), address: 'ws://127.0.0.1:1' })
  t.throws(() => parsePinned('abc@ws://127.0.0.1:1'), /the id before "@" must be a node id, 64 hex digits/)
  const { node } = memNet(t)
  const a = node('a')
  const b = node('b')
  const c = node('c')
  await Promise.all([a.ready, b.ready, c.ready])
  const failed = []
  a.on('connect-failed', e => failed.push(e))
  await t.rejects(a.connect(`${c.id}@mem://b`), new RegExp(`^cannot connect to mem://b: identity mismatch: expected ${c.id}, got ${b.id}$`))
  t.same(a.connections(), [], 'the link is closed')
  t.equal(b.connections().length, 0)
  t.match(failed, [{ address: 'mem://b', reason: /identity mismatch/ }])
  await a.connect(`${b.id}@mem://b`)
  t.same(a.peerList().map(p => [p.id, p.address]), [[b.id, 'mem://b']], 'the peer is the key that answered')
  await t.rejects(a.connect(`${c.id}@mem://b`), /identity mismatch: expected .* got /, 'an open link of another key does not do either')
})

t.test('a peer presenting our own key is ourselves; one presenting the key of a linked peer falls under the duplicate rule', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  const b = node('b')
  await a.ready
  const self = rawPeer(net.dial('mem://a', 'x'), { id: a.id })
  self.send(hello(a.id))
  t.equal((await self.next(m => m.type === 'bye')).reason, 'connected to itself')
  t.same(a.connections(), [])
  await b.connect('mem://a')
  const twin = rawPeer(net.dial('mem://a', 'y'), { id: HEX('node b') })
  twin.send(hello(HEX('node b')))
  // Both links have the one key: one of them goes (which one is the rule's coin toss).
  await until(() => twin.closed || twin.received.some(m => m.type === 'bye') || b.connections().length === 0, { what: 'one of the two links to go' })
  await until(() => a.peerList().length === 1)
  t.same(a.peerList().map(p => p.id), [b.id], 'one link for that key')
})

t.test('a stalled secure handshake ends at HANDSHAKE_TIMEOUT with a refusal; nothing is recorded against an address we did not dial', async t => {
  const { node, net } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const a = node('a', { clock, random: seededRandom(3) })
  await a.ready
  const refused = []
  a.on('refused', e => refused.push(e))
  const stall = net.dial('mem://a', 'stall')
  stall.on('data', () => {})
  await until(() => a.status().handshaking === 1)
  clock.advance(HANDSHAKE_TIMEOUT)
  await until(() => refused.length === 1)
  t.same(refused, [{ address: null, reason: 'secure handshake failed: handshake timed out' }])
  t.equal(a.status().known, 0, 'no address was booked')
})

/** A Noise client over a mem dial whose raw writes are recorded (and can be held back). */
function recorded (net, to, from) {
  const raw = net.dial(to, from)
  const sent = []
  const write = raw.write.bind(raw)
  let hold = null
  raw.write = chunk => { sent.push(Buffer.from(chunk)); if (hold) { hold.push(Buffer.from(chunk)); return true } return write(chunk) }
  const secure = noiseOver(raw, true)
  return { raw, sent, secure, write, holdNext: () => { hold = []; return hold }, release: () => { hold = null } }
}

t.test('a replayed handshake fails; so does a bad ciphertext, and nothing after it is read; each is refused with its reason', async t => {
  const { node, net } = memNet(t)
  const a = node('a')
  await a.ready
  const refused = []
  const gone = []
  const told = []
  a.on('refused', e => refused.push(e))
  a.on('disconnect', e => gone.push(e))
  a.on('gossip', e => told.push(e))

  // A real client's handshake, recorded, then replayed byte for byte on a new link.
  const first = recorded(net, 'mem://a', 'r1')
  first.secure.write(encodeFrame(hello()))
  await new Promise(resolve => first.secure.once('connect', resolve))
  await until(() => first.sent.length >= 2)
  const replay = net.dial('mem://a', 'r2')
  replay.on('data', () => {})
  replay.on('error', () => {})
  for (const chunk of first.sent) replay.write(chunk)
  await until(() => refused.length === 1)
  t.match(refused[0], { address: null, reason: /^secure handshake failed: / }, 'the replay is refused')

  // A link that opens, then a bad ciphertext followed by a valid one: dropped at the bad one.
  const c = recorded(net, 'mem://a', 'r3')
  c.secure.write(encodeFrame({ ...hello(), id: undefined }))
  c.secure.on('data', () => {})
  await until(() => a.peerList().length === 2, { what: 'the link open' })
  const held = c.holdNext()
  c.secure.write(encodeFrame({ type: 'getaddrs' }))
  await until(() => held.length === 1)
  c.release()
  const bad = Buffer.alloc(3 + 40, 7)
  bad.writeUIntLE(40, 0, 3)
  c.write(Buffer.concat([bad, held[0]]))
  await until(() => gone.length === 1)
  t.equal(gone[0].reason, 'a message failed to decrypt (a bad or replayed ciphertext)', 'the link is dropped, saying why')
  t.notOk(told.some(e => e.dir === 'tx'), 'the valid getaddrs after the bad message was never read')

  // A message longer than any we send: dropped before it is buffered.
  const big = net.dial('mem://a', 'r4')
  big.on('error', () => {})
  const head = Buffer.alloc(3)
  head.writeUIntLE(MAX_SEALED_MESSAGE + 1, 0, 3)
  big.write(head)
  await until(() => refused.length === 2)
  t.match(refused[1].reason, /over MAX_SEALED_MESSAGE/)
  t.equal(a.status().known, 0, 'no failure booked anywhere')
  // Unharmed: an honest node still gets in.
  const b = node('b')
  await b.connect('mem://a')
  t.equal(a.connections().length, 2)
})

t.test('a node\'s key pair is held in memory of its own, not in a slice of the shared 8 KB buffer pool', async t => {
  const kp = generateKeyPair()
  // A copy by Buffer.from would be a pool slice: it would keep 8 KB alive for the node's life.
  t.equal(Buffer.from(kp.publicKey).buffer.byteLength > 32, true, 'a small Buffer.from copy shares the pool (what the check below tells apart)')
  const held = checkKeyPair(kp)
  t.equal(held.publicKey.buffer.byteLength, 32)
  t.equal(held.secretKey.buffer.byteLength, 64)
  t.same(Buffer.from(held.publicKey), Buffer.from(kp.publicKey))
  t.same(Buffer.from(held.secretKey), Buffer.from(kp.secretKey))
  const fromSecret = keyPairOf(kp.secretKey)
  t.equal(fromSecret.secretKey.buffer.byteLength, 64)
  t.same(Buffer.from(fromSecret.publicKey), Buffer.from(kp.publicKey))
})
