// Gossip: on each round the node asks one random peer for addresses (getaddrs) and stores what
// comes back (addrs); it answers a peer's getaddrs with a sample of its table. Only answers we
// asked for are taken, and a peer that pushes or answers with junk collects strikes. An entry
// may carry the id it reaches (ID@ADDR): we send one only where our own handshake proved it,
// and take one as a hint (table.learn), never as a pin a dial is held to.
import type { Connection } from './connection.js'
import { type PeerSet, peerName } from './peers.js'
import type { OwnAddresses } from './own.js'
import type { NodeContext } from './types.js'
import { randomInt } from '../util/random.js'
import { tryParsePinned, formatPinned } from '../transport/address.js'
import { MAX_ADDRS_PER_MESSAGE } from '../wire/messages.js'

/** Addresses sent in one gossip answer (at most MAX_ADDRS_PER_MESSAGE). */
export const DEFAULT_GOSSIP_SAMPLE = 32
/** An `addrs` answer with more than this share of unusable entries is junk... */
export const JUNK_SHARE = 0.5
/** ...and costs its sender this many strikes (MAX_STRIKES). */
export const JUNK_STRIKES = 10
/**
 * Our getaddrs one peer may leave unanswered at once: each answer takes one off, so a peer
 * asked twice may answer twice; a peer with this many unanswered is not asked again until it
 * answers.
 */
export const MAX_ASKS_IN_FLIGHT = 4

export class Gossip {
  /** Our getaddrs each peer has not answered yet. */
  private readonly asks = new WeakMap<Connection, number>()
  private readonly sample: number

  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    private readonly own: OwnAddresses,
    sample: number
  ) {
    this.sample = Math.min(sample, MAX_ADDRS_PER_MESSAGE)
  }

  /** One round: ask a random peer for addresses. */
  round (): void {
    if (this.peers.size === 0) return
    // The k-th link in the set's order, walked to rather than copied out (every node, every round).
    let k = randomInt(this.ctx.random, this.peers.size)
    let c = null as unknown as Connection
    for (const p of this.peers) if (k-- === 0) { c = p; break }
    const asked = this.asks.get(c) ?? 0
    if (asked >= MAX_ASKS_IN_FLIGHT) return
    this.asks.set(c, asked + 1)
    c.send({ type: 'getaddrs' })
    this.ctx.event('gossip', { dir: 'ask', peer: peerName(c), count: 0 })
  }

  onGetAddrs (c: Connection): void {
    const { table } = this.ctx
    // Our announced addresses (up to the sample), then the table's sample without the asker's
    // and ours, cut at the sample: built in one array, no copies, and a proven id looked up
    // only for an address that goes out.
    const own = this.own.announced
    const mine = Math.min(own.length, this.sample)
    const addrs: string[] = []
    for (let i = 0; i < mine; i++) addrs.push(formatPinned({ id: table.id, address: own[i] }))
    for (const address of table.sampleForGossip(this.sample)) {
      if (addrs.length >= this.sample) break
      if (address === c.address || address === c.claimed || isAmong(own, mine, address)) continue
      addrs.push(formatPinned({ id: table.provenId(address), address }))
    }
    c.send({ type: 'addrs', addrs })
    // Statistics go to an address that answers for the peer, never to one it merely claims.
    if (c.address) this.ctx.table.recordNodes(c.address, 0, addrs.length)
    this.ctx.event('gossip', { dir: 'tx', peer: peerName(c), count: addrs.length })
  }

  onAddrs (c: Connection, list: string[]): void {
    // Unasked-for: ignored, so a peer cannot push addresses at will; a peer that keeps
    // pushing is dropped.
    const asked = this.asks.get(c) ?? 0
    if (asked === 0) {
      c.strike('addrs nobody asked for')
      return
    }
    this.asks.set(c, asked - 1)
    const plain: string[] = []
    const hints = new Map<string, string>()
    for (const entry of list) {
      const p = tryParsePinned(entry)
      if (p === null) continue
      plain.push(p.address)
      if (p.id !== null) hints.set(p.address, p.id)
    }
    const junk = list.length - plain.length
    if (junk > 0 && junk > list.length * JUNK_SHARE && !c.strike('addrs answer of junk', JUNK_STRIKES)) return
    const ok = this.own.acceptableNormal(plain)
    const added = this.ctx.table.learn(ok, c.sources, a => hints.get(a))
    if (c.address) this.ctx.table.recordNodes(c.address, list.length, 0)
    this.ctx.event('gossip', { dir: 'rx', peer: peerName(c), count: list.length, added, refused: list.length - ok.length })
  }
}

/** Whether a is one of the first n of list. */
function isAmong (list: readonly string[], n: number, a: string): boolean {
  for (let i = 0; i < n; i++) if (list[i] === a) return true
  return false
}
