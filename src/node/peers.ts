// The peer set: the open links, one per peer id (as hyperswarm's connection-set keeps one per
// remote public key), and the links still in their handshake. It holds links and the rule for
// choosing between two links to one peer; what a link means is for the other parts.
import type { Connection } from './connection.js'
import type { PeerInfo } from './types.js'

/**
 * The peer as events and listings show it: the address that answers for it, else (an inbound
 * peer no dial of ours has reached) the address it claims, as a claim.
 */
export function peerInfo (c: Connection): PeerInfo {
  const address = c.address ?? null
  return { id: c.peerId, address, claimed: address === null ? c.claimed ?? null : null, direction: c.outbound ? 'out' : 'in' }
}

/** The name a peer goes by in events: the address that answers for it, or its id. */
export function peerName (c: Connection): string {
  return c.address ?? c.peerId
}

export class PeerSet {
  private readonly byId = new Map<string, Connection>()
  /** Links whose handshake has not finished, either direction. */
  private readonly pending = new Set<Connection>()

  /** Open links. */
  get size (): number { return this.byId.size }
  /** Links in their handshake. */
  get handshaking (): number { return this.pending.size }

  /** The open links. */
  [Symbol.iterator] (): IterableIterator<Connection> { return this.byId.values() }

  get (id: string): Connection | undefined { return this.byId.get(id) }

  /** A link starting its handshake. */
  begin (c: Connection): void { this.pending.add(c) }

  /** A link whose handshake is done (c.peerId set): the peer's link from now on. */
  add (c: Connection): void {
    this.pending.delete(c)
    this.byId.set(c.peerId, c)
  }

  /** Forget a link; true when it was its peer's open link (another may have replaced it). */
  delete (c: Connection): boolean {
    this.pending.delete(c)
    if (c.peerId === '' || this.byId.get(c.peerId) !== c) return false
    this.byId.delete(c.peerId)
    return true
  }

  /** Every link, open or in its handshake. */
  all (): Connection[] { return [...this.byId.values(), ...this.pending] }

  /** Links, open or not, at `address` (dialed, or confirmed for the peer) or to peer id `address`. */
  find (address: string): Connection[] {
    return this.all().filter(c => c.address === address || c.dialed === address || c.peerId === address)
  }

  /** The open link dialed at, or confirmed at, address (a mere claim is not enough). */
  openAt (address: string): Connection | undefined {
    for (const c of this.byId.values()) if (c.address === address || c.dialed === address) return c
    return undefined
  }

  /** Addresses of every link, open or in its handshake: not worth dialing again. */
  busy (): Set<string> {
    const out = new Set<string>()
    for (const c of this.all()) {
      if (c.address) out.add(c.address)
      if (c.dialed) out.add(c.dialed)
    }
    return out
  }

  inbound (): number {
    let n = 0
    for (const c of this.byId.values()) if (!c.outbound) n++
    return n
  }

  outbound (): number { return this.byId.size - this.inbound() }

  inboundHandshakes (): number {
    let n = 0
    for (const c of this.pending) if (!c.outbound) n++
    return n
  }

  /**
   * The rule for two links to one peer: both ends may dial each other at once, and both keep
   * the link whose dialer has the lower id. True when `incoming` (not yet open) should replace
   * `existing`. (Two links in the same direction are settled by arrival order for now.)
   */
  static replaces (incoming: Connection, existing: Connection, selfId: string, peerId: string): boolean {
    const dialerOf = (x: Connection): string => x.outbound ? selfId : peerId
    return dialerOf(incoming) < dialerOf(existing)
  }
}
