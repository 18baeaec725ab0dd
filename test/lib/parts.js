// The node's parts on their own: a context like the one Peernet gives them (a real table on
// memory-level, a virtual clock, a seeded random source, events recorded), and links over the
// in-memory transport whose far end a test drives by hand.
import { MemoryLevel } from 'memory-level'
import { AddressTable, VirtualClock, seededRandom, memPair } from '../../lib/index.js'
import { Connection } from '../../lib/node/connection.js'
import { PeerSet } from '../../lib/node/peers.js'
import { OwnAddresses } from '../../lib/node/own.js'
import { rawPeer } from './mem-nodes.js'

/** A context for the node's parts; `events` holds every event as [type, data]. */
export async function partsContext (t, { seed = 1, start = 1_000_000, table: tableOpts = {} } = {}) {
  const clock = new VirtualClock(start)
  const random = seededRandom(seed)
  const table = await AddressTable.open(new MemoryLevel(), { random, now: () => clock.now(), ...tableOpts })
  t.teardown(() => table.close())
  const events = []
  const errors = []
  const ctx = {
    clock,
    random,
    table,
    ready: Promise.resolve(),
    closing: false,
    event: (type, data) => events.push([type, data]),
    fail: err => errors.push(err)
  }
  return { ctx, clock, table, events, errors, peers: new PeerSet(), own: new OwnAddresses() }
}

/**
 * A link as the node holds it, its far end a raw peer. `id` given: the handshake is done and the
 * link is in `peers` (when given) as that peer's.
 */
export function link (ctx, { id, outbound = false, ring = false, dialed, address, peers } = {}) {
  const [near, far] = memPair()
  const c = new Connection(near, { outbound, ring, dialed, clock: ctx.clock })
  if (address) c.address = address
  c.on('close', () => peers?.delete(c))
  if (id !== undefined) {
    c.accept(id)
    c.sources = ['id:' + id]
    peers?.add(c)
  } else {
    peers?.begin(c)
  }
  return { c, raw: rawPeer(far, { plain: true }) }
}

/** A stand-in link for the peer set alone: only the fields it reads. */
export function fakeLink (peerId, { outbound = false, ring = false, address, dialed, claimed, nonce = '', peerNonce = '' } = {}) {
  return { peerId, outbound, ring, address, dialed, claimed, nonce, peerNonce }
}

/** Let queued microtasks and I/O callbacks run. */
export const flush = async (n = 3) => { for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve)) }
