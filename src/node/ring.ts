// The ring on a node's links: RingCore (src/ring, which does no I/O) told of every open peer
// link and every ring message, ticked on the node's clock, and acting through the peer set and
// the dialer. Every peer link is a ring link for routing; the links the ring asks for itself
// (successors, predecessor, fingers) are dialed as ID@ADDR, marked as the ring's (their own
// budget and inbound cap, apart from `connections` and MAX_INBOUND) and closed when it no
// longer wants them.
import { RingCore, RING_INTERVAL, type RingStatus, type LookupResult } from '../ring/protocol.js'
import type { RingMessage, RingPeer } from '../wire/ring.js'
import { MAX_HELLO_ADDRS } from '../wire/messages.js'
import type { Connection } from './connection.js'
import type { PeerSet } from './peers.js'
import type { Dialer } from './dialer.js'
import type { OwnAddresses } from './own.js'
import type { KeyPair } from './identity.js'
import type { NodeContext } from './types.js'

/**
 * How often the ring's clock is read, ms: lookups wait LOOKUP_RETRY (1.5 s) before a retry and
 * rounds are RING_INTERVAL long, so a tenth of a second is late by little and costs nothing
 * when nothing is due.
 */
export const RING_TICK = 100

export interface RingOptions {
  keyPair: KeyPair
  network: string
  /** Length of a ring round (stabilise, fingers, re-publishing), ms. */
  interval?: number
}

export class RingLinks {
  readonly core: RingCore

  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    dialer: Dialer,
    own: OwnAddresses,
    opts: RingOptions
  ) {
    this.core = new RingCore({
      keyPair: opts.keyPair,
      network: opts.network,
      random: ctx.random,
      addresses: () => own.announced.slice(0, MAX_HELLO_ADDRS),
      send: (to, m) => this.peers.get(to)?.send(m),
      // A failed dial is no news to the ring: it asks again later (WANT_RETRY), or finds another.
      wantLink: (id, addresses) => { dialer.dialPeer(id, addresses, true).catch(() => {}) },
      dropLink: id => {
        const c = this.peers.get(id)
        // Only a link the ring opened itself: gossip links and the user's stay.
        if (c !== undefined && c.ring && c.outbound) c.close('ring link no longer needed', false, true)
      },
      now: ctx.clock.now(),
      interval: opts.interval ?? RING_INTERVAL
    })
  }

  get id (): string { return this.core.id }

  /** A peer link opened: the ring may route over it, and learns the addresses it offered. */
  opened (c: Connection): void {
    this.core.linkUp(c.peerId, c.offered.slice(0, MAX_HELLO_ADDRS))
  }

  closed (c: Connection): void {
    this.core.linkDown(c.peerId)
  }

  receive (c: Connection, m: RingMessage): void {
    this.core.receive(c.peerId, m)
  }

  tick (): void {
    this.core.tick(this.ctx.clock.now())
  }

  status (): RingStatus { return this.core.status() }

  /** Inbound ring links to accept at most, for the size of ring this node sees. */
  inboundCap (): number { return this.core.inboundCap() }

  /** The node responsible for value (a lookup), as {id, addresses}. */
  owner (value: string): Promise<{ peer: RingPeer, hops: number }> {
    return new Promise((resolve, reject) => {
      this.core.ownerOf(value, (err: Error | null, res?: LookupResult) => {
        if (err !== null || res === undefined) reject(err ?? new Error('the lookup got no answer'))
        else resolve({ peer: res.owner, hops: res.hops })
      })
    })
  }

  isResponsibleFor (value: string): boolean { return this.core.isResponsibleFor(value) }

  /** Where this node stands: its status, neighbours and fingers, with what it knows of their addresses. */
  info (): RingInfo {
    const t = this.core.table
    const peer = (id: string): RingNode => ({ id, addresses: t.addressesOf(id) ?? [] })
    const pred = t.predecessor()
    return {
      status: this.status(),
      estimate: t.estimateN(),
      links: t.linkCount,
      predecessor: pred === null ? null : peer(pred),
      successors: t.successors().map(peer),
      fingers: t.fingers().flatMap(f => f.id === null ? [] : [{ range: f.range, ...peer(f.id) }])
    }
  }
}

export interface RingNode { id: string, addresses: string[] }
/**
 * `estimate`: the ring's size as this node guesses it from its successors' spread; `links`: the
 * peer links it routes over; a finger's `range` i holds ids in [id + 2^i, id + 2^(i+1)).
 */
export interface RingInfo {
  status: RingStatus
  estimate: number
  links: number
  predecessor: RingNode | null
  successors: RingNode[]
  fingers: Array<RingNode & { range: number }>
}
