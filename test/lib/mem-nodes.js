// Nodes over the in-memory transport, for protocol tests. Each node listens at mem://<name>.
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { MemoryLevel } from 'memory-level'
import { peernet, createMemNetwork, encodeFrame, FrameDecoder, generateKeyPair, idOf, MAX_BATCH, VirtualClock, seededRandom } from '../../lib/index.js'
import { pointOf } from '../../lib/ring/record.js'
import { DEFAULT_NETWORK } from '../../lib/node/defaults.js'
import { runUntil } from './helpers.js'

const require = createRequire(import.meta.url)
const NoiseSecretStream = require('@hyperswarm/secret-stream')

export function memNet (t) {
  const net = createMemNetwork()
  const nodes = []
  /** A node listening at mem://name; opts go to peernet(). */
  function node (name, opts = {}) {
    const db = opts.db ?? new MemoryLevel()
    // A key of its name: ids (which order links, PeerSet.replaces) are the same every run.
    const pn = peernet(db, { transport: net.transport(name), interval: 0, bootstrap: false, purge: 0, keyPair: keyOf(HEX('node ' + name)), ...opts })
    const stop = net.listen(`mem://${name}`, (stream, info) => pn.accept(stream, info))
    pn.name = name
    pn.url = `mem://${name}`
    nodes.push(pn)
    t.teardown(async () => { stop(); await pn.close() })
    return pn
  }
  return { net, node, nodes }
}

/**
 * Four nodes on one clock, joined in one ring; the first, `a`, keeps its key and store, so
 * `restart()` starts it again (with no link: the clock has not moved). `nameFor(type, prefix)`:
 * a name whose point neither `a` (alone, it holds itself responsible for every point) nor
 * `first`, its successor and so its first link on a restart (which takes the arc between them
 * when they meet), is responsible for: a record reaches that point's holders only by being
 * published.
 */
export async function restartableRing (t, tag) {
  const { node } = memNet(t)
  const clock = new VirtualClock(1_000_000)
  const opts = { clock, interval: 200, dialInterval: 100, connections: 2, bootstrap: true }
  const db = new MemoryLevel()
  const keyPair = generateKeyPair()
  const a = node(`${tag}0`, { ...opts, random: seededRandom(1), db, keyPair, addresses: [`mem://${tag}0`] })
  const others = [1, 2, 3].map(i => node(`${tag}${i}`, { ...opts, random: seededRandom(i + 1), addresses: [`mem://${tag}${i}`] }))
  await Promise.all([a, ...others].map(pn => pn.ready))
  for (let i = 0; i < 3; i++) await others[i].save([`mem://${tag}${i}`])
  const joined = await runUntil(clock, () => [a, ...others].every(pn => pn.ringStatus() === 'joined'))
  const ids = [a, ...others].map(pn => pn.id).sort()
  const ownerOf = point => ids.find(id => id >= point) ?? ids[0]
  const first = others.find(pn => pn.id === ownerOf(`${a.id}+`))
  const nameFor = (type, prefix) => Array.from({ length: 200 }, (_, i) => `${prefix}${i}`).find(n => ![a.id, first.id].includes(ownerOf(pointOf(type, DEFAULT_NETWORK, n))))
  const restart = async () => {
    await a.close()
    const again = node(`${tag}0b`, { ...opts, random: seededRandom(9), db, keyPair, addresses: [`mem://${tag}0b`] })
    await again.ready
    return again
  }
  return { clock, a, others, first, joined, nameFor, restart }
}

/**
 * A hand-driven peer: dials `address` on `net` (or listens at mem://name), speaks raw frames,
 * so tests can send exactly what a hostile or odd peer would. It answers a ping with a pong, as
 * every peer of this protocol version does, until a test sets `silent` (a peer gone dead).
 * Its frames run over a Noise link, as a node's do, with the key of `id` (a HEX() id; a fresh
 * key without one); a peer that dials (`initiator`, the default) takes the id of the first
 * hello it sends, so `send(hello(HEX('aa')))` makes it node HEX('aa'). `plain: true` speaks
 * frames straight on the stream (a part's link in unit tests, or a peer that skips Noise).
 */
export function rawPeer (raw, { plain = false, initiator = true, id } = {}) {
  if (plain) return framePeer(raw)
  let secure = null
  let peer = null
  const start = keyPair => {
    secure = new NoiseSecretStream(initiator, raw, { keyPair })
    secure.on('error', () => {})
    peer.attach(secure)
  }
  peer = framePeer(null, msg => {
    if (secure === null) start(keyOf(msg?.type === 'hello' && msg.id !== undefined ? msg.id : id))
  })
  peer.raw = raw
  // Closed before it ever spoke (a peer that never says anything is closed all the same).
  raw.on('close', () => peer.markClosed())
  raw.on('end', () => peer.markClosed())
  if (!initiator || id !== undefined) start(keyOf(id))
  return peer
}

/** A Noise link over raw (any duplex: a mem end, a TCP socket), as the peer of id HEX(...) (or a fresh key). */
export function noiseOver (raw, initiator, id) {
  const s = new NoiseSecretStream(initiator, raw, { keyPair: keyOf(id) })
  s.on('error', () => {})
  return s
}

const KEYS = new Map()
/** The key pair behind a HEX() id (a fresh one for anything else). */
function keyOf (id) { return KEYS.get(id) ?? generateKeyPair() }

/** A node id for tests: the public key of a key pair drawn from `name`, the same every run. */
export const HEX = name => {
  const keyPair = generateKeyPair(createHash('sha256').update('peernet test key ' + name).digest())
  const id = idOf(keyPair.publicKey)
  KEYS.set(id, keyPair)
  return id
}

function framePeer (stream, beforeWrite = () => {}) {
  const dec = new FrameDecoder()
  const received = []
  const waiters = []
  let closed = false
  let peer = null
  let resolveClosed
  const closedP = new Promise(resolve => { resolveClosed = resolve })
  const attach = stream => {
    peer.stream = stream
    stream.on('data', chunk => {
    for (const m of dec.push(chunk)) {
      received.push(m)
      if (m.type === 'ping' && !peer.silent) peer.stream.write(encodeFrame({ type: 'pong' }))
      for (const w of waiters.slice()) if (w.match(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m) }
    }
    })
    stream.on('close', () => { closed = true; resolveClosed() })
    stream.on('end', () => { closed = true; resolveClosed() })
    stream.on('error', () => {})
  }
  peer = {
    stream,
    received,
    silent: false,
    attach,
    markClosed () { closed = true; resolveClosed() },
    get closed () { return closed },
    closedP,
    send (msg) { beforeWrite(msg); peer.stream.write(encodeFrame(msg)) },
    // In pieces a node could send: one encrypted message holds at most MAX_BATCH bytes.
    write (buf) {
      beforeWrite(null)
      for (let i = 0; i < buf.length; i += MAX_BATCH) peer.stream.write(buf.subarray(i, i + MAX_BATCH))
    },
    next (match = () => true) {
      const found = received.find(match)
      if (found) return Promise.resolve(found)
      return new Promise(resolve => waiters.push({ match, resolve }))
    }
  }
  if (stream !== null) attach(stream)
  return peer
}

/** Of the ids HEX(0..63), the lowest and the highest (for rules that order peers by id). */
const SOME = Array.from({ length: 64 }, (_, i) => HEX(String(i))).sort()
export const LOW = SOME[0]
export const HIGH = SOME[SOME.length - 1]

/** A link nonce for hand-written hellos (every hello carries one from protocol version 2). */
export const NONCE = '0123456789abcdef'
