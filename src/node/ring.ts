// The ring on a node's links: RingCore (src/ring, which does no I/O) told of every open peer
// link and every ring message, ticked on the node's clock, and acting through the peer set and
// the dialer. Every peer link is a ring link for routing; the links the ring asks for itself
// (successors, predecessor, fingers) are dialed as ID@ADDR, marked as the ring's (their own
// budget and inbound cap, apart from `connections` and MAX_INBOUND) and closed when it no
// longer wants them.
import { RingCore, RING_INTERVAL, type RingCoreOptions, type RingStatus, type LookupResult } from '../ring/protocol.js'
import type { Published, SearchResult } from '../ring/records.js'
import type { VerifyContext } from '../ring/record.js'
import type { Offer, RingRecord } from '../wire/record.js'
import type { RingMessage, RingPeer } from '../wire/ring.js'
import { MAX_HELLO_ADDRS } from '../wire/messages.js'
import type { Connection, CloseInfo } from './connection.js'
import type { PeerSet } from './peers.js'
import type { Dialer } from './dialer.js'
import type { OwnAddresses } from './own.js'
import type { KeyPair } from './identity.js'
import type { NodeContext } from './types.js'

/**
 * How often, at most, the ring's clock is read, ms (a quarter of a round when rounds are
 * shorter): lookups wait at least LOOKUP_RETRY (1.5 s) before a retry, so half a second late is
 * little, and ten thousand simulated nodes tick no more than they must.
 */
export const RING_TICK = 500

export interface RingOptions {
  keyPair: KeyPair
  network: string
  /** Length of a ring round (stabilise, fingers, re-publishing), ms. */
  interval?: number
  /** The record check (default: verifyRecord; the simulation's skips the signature). */
  verify?: (record: unknown, ctx: VerifyContext) => string | null
  /** This node's metadata, in its presence record (checked by the node). */
  metadata?: Record<string, string>
  /** Answers routed envelopes for this node (remote actions: node/actions.ts). */
  onEnvelope?: RingCoreOptions['onEnvelope']
}

export class RingLinks {
  readonly core: RingCore
  /**
   * This node's own records by slot (presence, a member record per joined subnet), as last
   * published: published again as soon as the node joins the ring and whenever its addresses
   * change (RingCore's records re-publish them before they expire, as they were).
   */
  private readonly mine = new Map<string, Omit<Published, 'addresses'>>()
  /** This node's metadata, as its presence record carries it. */
  readonly metadata: Record<string, string>
  /**
   * Whether a record of ours went out while this node was not joined (and so where a node with
   * a wrong view of the ring sent it, or nowhere, as the only node): all of them are published
   * again when it joins. True until the first join, and again when it is cut off (lonely).
   */
  private adrift = true

  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    dialer: Dialer,
    private readonly own: OwnAddresses,
    opts: RingOptions
  ) {
    this.core = new RingCore({
      keyPair: opts.keyPair,
      network: opts.network,
      random: ctx.random,
      addresses: () => this.addresses(),
      send: (to, m) => this.peers.get(to)?.send(m),
      // A failed dial is a link that went down before it came up: the ring stops counting it
      // and asks again later (WANT_RETRY), or finds another.
      wantLink: (id, addresses) => {
        dialer.dialPeer(id, addresses, true).catch(() => { if (this.peers.get(id) === undefined) this.core.linkDown(id) })
      },
      dropLink: id => {
        const c = this.peers.get(id)
        // Only a link the ring opened itself: gossip links and the user's stay.
        if (c !== undefined && c.ring && c.outbound) c.close('ring link no longer needed', false, true)
      },
      now: ctx.clock.now(),
      interval: opts.interval ?? RING_INTERVAL,
      ...(opts.verify === undefined ? {} : { verify: opts.verify }),
      ...(opts.onEnvelope === undefined ? {} : { onEnvelope: opts.onEnvelope })
    })
    // A node that just joined publishes what it has: before, its lookups had nowhere to go. Not
    // at every return to joined: a node is unbalanced a while whenever its successor or
    // predecessor changes (under churn, every few rounds), and what it published while joined
    // stays where it went. At 10,000 nodes joining, those re-publications were two of every three.
    this.core.on('status', (s: { to: RingStatus }) => {
      if (s.to === 'lonely') this.adrift = true
      if (s.to !== 'joined' || !this.adrift) return
      this.adrift = false
      this.republish()
      // Tombstones too: one made while alone was stored by this node only (it held itself
      // responsible for every point), and the record it withdraws lives on at the point's
      // replicas (the owner may get the tombstone in a handover; they do not).
      this.core.records.republishTombstones()
    })
    this.metadata = opts.metadata ?? {}
    this.mine.set('presence', Object.keys(this.metadata).length > 0 ? { type: 'presence', meta: this.metadata } : { type: 'presence' })
    this.republish()
  }

  /**
   * Publish (or withdraw) a member record of ours; its addresses are this node's own at the
   * time. (Presence is published once, at the start, with the node's metadata.)
   */
  publishMember (name: string, withdraw = false): void {
    const slot = `member ${name}`
    if (withdraw) {
      this.mine.delete(slot)
      this.withdraw('member', name)
      return
    }
    const fields = { type: 'member' as const, name }
    this.mine.set(slot, fields)
    this.publish(fields)
  }

  /** Publish a service this node offers, at its name's point (slot: id and url). */
  publishService (o: Offer): void {
    const fields: Omit<Published, 'addresses'> = { type: 'service', name: o.name, url: o.url }
    if (o.version !== undefined) fields.version = o.version
    if (o.meta !== undefined) fields.meta = o.meta
    this.mine.set(`service ${o.name} ${o.url}`, fields)
    this.publish(fields)
  }

  /** Withdraw a service this node offered: a tombstone for its slot. */
  withdrawService (o: { name: string, url: string }): void {
    this.mine.delete(`service ${o.name} ${o.url}`)
    this.withdraw('service', o.name, o.url)
  }

  /** Publish every record of ours again (the node joined, or its addresses changed). */
  republish (): void {
    for (const fields of this.mine.values()) this.publish(fields)
  }

  private publish (fields: Omit<Published, 'addresses'>): void {
    if (this.core.status() !== 'joined') this.adrift = true
    this.core.records.publish({ ...fields, addresses: this.addresses() })
  }

  private withdraw (type: 'member' | 'service', name: string, url?: string): void {
    if (this.core.status() !== 'joined') this.adrift = true
    this.core.records.withdraw(type, name, url)
  }

  /** The members of subnet the ring holds (a fetch at its point), verified, up to max. */
  members (subnet: string, max: number): Promise<SearchResult> { return this.fetch('member', subnet, max) }

  /** The offers of service name the ring holds (a fetch at its point), verified, up to max. */
  findServices (name: string, max: number): Promise<SearchResult> { return this.fetch('service', name, max) }

  /** The metadata of node id, from its presence record ({} when it has none, or none is found). */
  async metadataOf (id: string): Promise<Record<string, string>> {
    if (id === this.id) return { ...this.metadata }
    return { ...((await this.presenceRecord(id))?.meta ?? {}) }
  }

  /**
   * The addresses node id's presence record gives (signed by its key: only it can say where
   * it is), or null when the ring holds no such record.
   */
  async presenceOf (id: string): Promise<string[] | null> {
    return (await this.presenceRecord(id))?.addresses ?? null
  }

  private async presenceRecord (id: string): Promise<RingRecord | null> {
    const res = await this.fetch('presence', id, 1)
    return res.records.find(r => r.id === id) ?? null
  }

  private fetch (type: 'presence' | 'member' | 'service', name: string, max: number): Promise<SearchResult> {
    return new Promise((resolve, reject) => {
      this.core.records.search(type, name, max, (err, res) => {
        if (err !== null || res === undefined) reject(err ?? new Error('the lookup got no answer'))
        else resolve(res)
      })
    })
  }

  /**
   * Calls fn once a search from this node may ask the ring (see reachesRing), checked as its
   * status changes; returns a function that stops waiting.
   */
  whenReachable (fn: () => void): () => void {
    const check = (): void => {
      if (!this.reachesRing()) return
      this.core.off('status', check)
      fn()
    }
    this.core.on('status', check)
    return () => { this.core.off('status', check) }
  }

  /** This node's addresses as its hello gives them: what its records and the ring tell others. */
  private addresses (): string[] {
    return this.own.announced.slice(0, MAX_HELLO_ADDRS)
  }

  get id (): string { return this.core.id }

  /** A peer link opened: the ring may route over it, and learns the addresses it offered. */
  opened (c: Connection): void {
    this.core.linkUp(c.peerId, c.offered.slice(0, MAX_HELLO_ADDRS), c.peerJoined)
  }

  closed (c: Connection, info: CloseInfo): void {
    // A goodbye (a link one side no longer wanted, a node leaving) is not a failure, but a fault is.
    this.core.linkDown(c.peerId, !info.farewell || info.fault)
  }

  receive (c: Connection, m: RingMessage): void {
    this.core.receive(c.peerId, m)
  }

  tick (): void {
    this.core.tick(this.ctx.clock.now())
  }

  status (): RingStatus { return this.core.status() }

  /** Whether this node's lookups reach the ring (RingCore.routable): its hellos say so. */
  routable (): boolean { return this.core.routable() }

  /** Whether a search may go by the ring (RingCore.reachesRing): on it, or linked to a node that is. */
  reachesRing (): boolean { return this.core.reachesRing() }

  /** Inbound ring links to accept at most when id asks, for the size of ring this node sees. */
  inboundCap (id: string): number { return this.core.inboundCap(id) }

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
