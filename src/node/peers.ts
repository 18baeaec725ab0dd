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
  const claimed = address === null ? c.claimed : undefined
  return { id: c.peerId, address, ...(claimed === undefined ? {} : { claimed }), direction: c.outbound ? 'out' : 'in' }
}

/** The name a peer goes by in events: the address that answers for it, or its id. */
export function peerName (c: Connection): string {
  return c.address ?? c.peerId
}

export class PeerSet {
  private readonly byId = new Map<string, Connection>()
  /** Links whose handshake has not finished, either direction. */
  private readonly pending = new Set<Connection>()
  /**
   * Open links by kind (kindOf; each link says what it was counted as, Connection.counted): the
   * dialer asks for its outbound count on every top-up, which counting the links each time made
   * O(links).
   */
  private readonly counts = [0, 0, 0, 0]

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
    const was = this.byId.get(c.peerId)
    if (was !== undefined) this.counts[was.counted]--
    c.counted = kindOf(c.outbound, c.ring)
    this.counts[c.counted]++
    this.byId.set(c.peerId, c)
  }

  /** Forget a link; true when it was its peer's open link (another may have replaced it). */
  delete (c: Connection): boolean {
    this.pending.delete(c)
    if (c.peerId === '' || this.byId.get(c.peerId) !== c) return false
    this.byId.delete(c.peerId)
    this.counts[c.counted]--
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

  /**
   * Open links by direction, of one kind (ring links, or the gossip links that `connections` and
   * MAX_INBOUND count) or, without `ring`, of both.
   */
  count (outbound: boolean, ring?: boolean): number {
    if (ring !== undefined) return this.counts[kindOf(outbound, ring)]
    return this.counts[kindOf(outbound, false)] + this.counts[kindOf(outbound, true)]
  }

  inbound (): number { return this.count(false, false) }
  outbound (): number { return this.count(true, false) }
  ringInbound (): number { return this.count(false, true) }

  inboundHandshakes (): number {
    let n = 0
    for (const c of this.pending) if (!c.outbound) n++
    return n
  }

  /**
   * The rule for two links to one peer: true when `incoming` (its hello just in) should replace
   * `existing`, the peer's open link. Both ends of a pair of links must pick the same survivor,
   * whatever order each sees the hellos in, or each closes the link the other keeps and both are
   * lost. So the choice is a total order on links, computed from what both ends know of a link
   * once its hellos are exchanged, and the lower link wins:
   * - first who dialed it: the link dialed by the lower id (as version 1 did), which settles two
   *   links dialed in opposite directions at the same time;
   * - then, for two links dialed by the same end (a peer's tcp and ws address, or a peer back
   *   after a crash whose old link has not closed yet), the XOR of the two ends' nonces. Each
   *   end picks its nonce at random per link, so which of two such links survives is a coin
   *   toss, never arrival order; and the dialer, who sends its nonce first, cannot choose the
   *   outcome. A dead link that wins is found out by the keepalive (Keepalive.probe).
   * Equal keys (only by a peer reusing nonces on purpose) keep the existing link.
   */
  static replaces (incoming: Connection, existing: Connection, selfId: string, peerId: string): boolean {
    return linkKey(incoming, selfId, peerId) < linkKey(existing, selfId, peerId)
  }
}

/** Index of a kind of open link in PeerSet's counts. */
function kindOf (outbound: boolean, ring: boolean): number {
  return (outbound ? 1 : 0) + (ring ? 2 : 0)
}

/** A link's place in the order of PeerSet.replaces: the dialer's id, then the nonces' XOR. */
export function linkKey (c: Connection, selfId: string, peerId: string): string {
  return (c.outbound ? selfId : peerId) + ':' + xorHex(c.nonce, c.peerNonce)
}

/** XOR of two hex strings of one length (the validated nonces), digit by digit. */
function xorHex (a: string, b: string): string {
  let out = ''
  for (let i = 0; i < a.length; i++) out += (parseInt(a[i], 16) ^ parseInt(b[i] ?? '0', 16)).toString(16)
  return out
}
