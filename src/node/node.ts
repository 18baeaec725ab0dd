// The peernet node: the facade of the library. It owns the address table and the lifecycle
// (start, timers, close) and hands each job to its part: the peer set (peers.ts), the dialer
// (dialer.ts, with the user's holds in holds.ts), the handshake (handshake.ts), the keepalive
// (keepalive.ts), gossip (gossip.ts), search (search.ts), our own addresses (own.ts), remote
// actions (actions.ts) and messages (messages.ts), connect by id (reach.ts, webrtc-links.ts,
// relay.ts) and introductions (introductions.ts).
// Everything that takes time or chance comes from opts.clock and opts.random.
// Over ~400 lines on purpose: it is the whole public API (the seed's methods with callback and
// promise forms, their docs) plus the wiring; each rule behind it lives in its part.
import { EventEmitter } from 'node:events'
import { Readable, type Duplex } from 'node:stream'
import { Connection, type CloseInfo, type PeerMessage } from './connection.js'
import { type Clock, realClock } from './clock.js'
import { type Random, secureRandom } from '../util/random.js'
import { PeerSet, peerInfo } from './peers.js'
import { OwnAddresses } from './own.js'
import { Dialer, DEFAULT_DIAL_INTERVAL } from './dialer.js'
import { Handshake, MAX_INBOUND } from './handshake.js'
import { Keepalive } from './keepalive.js'
import { Gossip, DEFAULT_GOSSIP_SAMPLE } from './gossip.js'
import { Search } from './search.js'
import { Timers } from './timers.js'
import { RingLinks, RING_TICK, type RingInfo } from './ring.js'
import { NodeActions, type RunOptions } from './actions.js'
import { Reach, DIALBACK_ACTION, type Reached } from './reach.js'
import { Introductions, INTRODUCE_ACTION, type Introduction } from './introductions.js'
import { WebRTCLinks, SIGNAL_ACTION } from './webrtc-links.js'
import { Relays, RELAY_ACTION, RELAY_KIND, relayOptions, relayOptionsProblem } from './relay.js'
import type { RelayMessage } from '../wire/relay.js'
import { resolveWrtcOption, WEBRTC_KIND } from '../transport/webrtc.js'
import { NodeMessages, type SendOptions } from './messages.js'
import { Offers, type OfferRow, type FindOptions } from './offers.js'
import { Traffic } from './traffic.js'
import { SERVICE_NAME, metaProblem, type Offer } from '../wire/record.js'
import type { ActionHandler } from '../ring/actions.js'
import { RING_INTERVAL, type RingStatus } from '../ring/protocol.js'
import type { RingMessage } from '../wire/ring.js'
import { type Callback, settle } from './outcome.js'
import type { NodeContext, PeernetOptions, PeernetEvents, PeernetEvent, PeerInfo, SearchOptions, LifecycleEvent, Endpoint } from './types.js'
import { AddressTable } from '../table/table.js'
import type { LevelLike } from '../table/db.js'
import { type Stats, sourceCap } from '../table/rules.js'
import { type KnownRecordRow, knownRow } from '../table/known-text.js'
import { memPair } from '../transport/mem.js'
import { transport as defaultTransport, resolveTransportOption } from '../transport/index.js'
import { normalizeAddress, tryNormalizeAddress, sourceGroup, parsePinned, NODE_ID } from '../transport/address.js'
import { type KeyPair, checkKeyPair, resolveIdentity } from './identity.js'
import { noiseLayer, type SecureLayer } from './secure.js'
import { checkSubnet } from '../wire/messages.js'
import { DEFAULT_CONNECTIONS, DEFAULT_INTERVAL, DEFAULT_PURGE, DEFAULT_HOPS, DEFAULT_NETWORK } from './defaults.js'

export type { PeernetOptions, PeernetEvents, PeernetEvent, SearchOptions, SearchRow, PeerInfo } from './types.js'
export type { Callback } from './outcome.js'
export { DEFAULT_GOSSIP_SAMPLE, JUNK_SHARE, JUNK_STRIKES, MAX_ASKS_IN_FLIGHT } from './gossip.js'
export { DEFAULT_DIAL_INTERVAL, MAX_PENDING_DIALS } from './dialer.js'
export { DISCONNECT_HOLD } from './holds.js'
export { MAX_INBOUND, MAX_HANDSHAKING } from './handshake.js'
export { PING_INTERVAL, PING_TIMEOUT, PING_DEFER } from './keepalive.js'
export { MAX_SELF_CANDIDATES, MAX_SELF_ALIASES } from './own.js'
export {
  RELAY_RATE, RELAY_BURST, RELAY_PEER_RATE, RELAY_PEER_BURST, ANSWER_RELAY_RATE, ANSWER_RELAY_BURST,
  MAX_RELAYED_ANSWERS, MAX_SEEN, MAX_SEEN_PER_PEER, SEEN_TTL, MAX_SEARCHES, MAX_SEARCH_ANSWERS, MAX_SEARCH_TIMEOUT, RING_WAIT
} from './search.js'

/**
 * How often counters changed in memory (gossip counts, last seen) are written to the db, ms,
 * whatever the purge interval (a purge pass writes them too).
 */
export const FLUSH_INTERVAL = 30_000

/** Names or lists of names, as the seed's methods take them. */
type OneOrMany = string | string[]
const many = (x: OneOrMany): string[] => Array.isArray(x) ? x : [x]

/**
 * Methods that take a callback also return a promise. With a callback, the callback gets the
 * outcome. Without one, the promise does; a failure whose promise nobody looks at goes to the
 * `error` event when someone listens, and never ends the process (see outcome.ts).
 */
export class Peernet extends EventEmitter<PeernetEvents> {
  readonly network: string
  readonly ready: Promise<void>
  table!: AddressTable
  private readonly opts: PeernetOptions
  /** This node's key pair: given, or kept in the db; there once ready. */
  private keyPair: KeyPair | null = null
  private readonly givenKeyPair: KeyPair | null
  private readonly layer: SecureLayer
  private readonly clock: Clock
  private readonly random: Random
  private readonly ctx: NodeContext
  private readonly timers: Timers
  private readonly peers = new PeerSet()
  private readonly own = new OwnAddresses()
  private readonly dialer: Dialer
  private readonly handshake: Handshake
  private readonly keepalive: Keepalive
  private readonly gossip: Gossip
  private readonly searches: Search
  /** The ring on this node's links; there once ready (it needs the key pair). */
  private ring: RingLinks | null = null
  /** Remote actions: handlers of ours, runs on other nodes (node/actions.ts). */
  private readonly actions: NodeActions
  private readonly reach: Reach
  private readonly introductions: Introductions
  /** WebRTC links, their signals over the ring (node/webrtc-links.ts). */
  private readonly webrtc: WebRTCLinks
  /** Relayed links: circuits this node relays, and its own through others (node/relay.ts). */
  private readonly relays: Relays
  /** Messages by id: sent and received as requests of the library's own (node/messages.ts). */
  private readonly messages: NodeMessages
  private readonly services: Offers
  private closing: Promise<void> | null = null
  private readonly startedAt: number

  constructor (readonly db: LevelLike, opts: PeernetOptions = {}) {
    super()
    const wrtc = resolveWrtcOption(opts.wrtc)
    this.opts = opts
    this.givenKeyPair = opts.keyPair === undefined ? null : checkKeyPair(opts.keyPair)
    const relayWhy = relayOptionsProblem(opts.relay)
    if (relayWhy !== null) throw new TypeError(relayWhy)
    if (opts.metadata !== undefined) {
      const why = metaProblem(opts.metadata)
      if (why !== null) throw new TypeError(`opts.metadata: ${why}`)
    }
    this.layer = opts.insecureSimulationLayer ?? noiseLayer
    this.clock = opts.clock ?? realClock
    this.random = opts.random ?? secureRandom()
    this.network = opts.network ?? DEFAULT_NETWORK
    this.startedAt = this.clock.now()
    const node = this
    this.ctx = {
      clock: this.clock,
      random: this.random,
      get table () { return node.table },
      get ready () { return node.ready },
      get closing () { return node.closing !== null },
      event: (type, data) => this.event(type, data),
      fail: err => this.fail(err),
      traffic: new Traffic()
    }
    this.timers = new Timers(this.clock, err => this.fail(err))
    this.dialer = new Dialer(this.ctx, this.peers, this.own, {
      transport: resolveTransportOption(opts.transport) ?? defaultTransport,
      connections: opts.connections ?? DEFAULT_CONNECTIONS,
      attach: c => this.attach(c),
      secure: raw => this.layer(raw, true, this.keyPair as KeyPair),
      settled: () => this.searches.linked()
    })
    this.keepalive = new Keepalive(this.clock)
    this.handshake = new Handshake(this.ctx, this.peers, this.own, this.dialer.holds, this.keepalive, {
      network: this.network,
      maxInbound: opts.maxInbound ?? MAX_INBOUND,
      ringInboundCap: id => this.ring?.inboundCap(id) ?? 0,
      joined: () => this.ring?.routable() ?? false,
      opened: c => {
        this.ring?.opened(c)
        this.searches.linked()
      },
      groupOf: opts.groupOf ?? sourceGroup
    })
    this.gossip = new Gossip(this.ctx, this.peers, this.own, opts.gossipSample ?? DEFAULT_GOSSIP_SAMPLE)
    this.actions = new NodeActions(this.ctx, this.peers, this.dialer)
    const introductions = opts.introductions !== false
    const ask = async (id: string, name: string, payload: unknown, timeout: number, via?: string): Promise<unknown> =>
      await this.actions.ask(id, name, payload, timeout, 'run', via)
    this.reach = new Reach(this.ctx, this.peers, this.dialer, {
      ring: () => this.ring,
      run: ask,
      linked: (id, ms) => this.linkedTo(id, ms),
      introductions,
      webrtc: this.webrtcLink.bind(this),
      relay: async (id, via) => await this.relays.connect(id, via),
      own: () => this.own.announced
    })
    this.introductions = new Introductions(this.ctx, this.peers, { reach: this.reach, run: ask, enabled: introductions, held: id => this.dialer.holds.until(id) !== null })
    this.webrtc = new WebRTCLinks(this.ctx, {
      ask,
      accept: (stream, id) => this.incoming(stream, { transport: WEBRTC_KIND, expected: id }),
      adopt: async (stream, id) => await this.dialer.adopt(stream, id, WEBRTC_KIND),
      options: opts.webrtc === false ? null : { ...opts.webrtc, ...(wrtc === undefined ? {} : { wrtc }) }
    })
    this.relays = new Relays(this.ctx, this.peers, {
      ask,
      accept: (stream, id) => this.incoming(stream, { transport: RELAY_KIND, expected: id }),
      adopt: async (stream, id) => await this.dialer.adopt(stream, id, RELAY_KIND),
      dial: async id => await this.reach.dial(id),
      introductions,
      options: relayOptions(opts.relay)
    })
    this.actions.internal(RELAY_ACTION, (payload, { from }) => this.relays.request(from, payload))
    this.actions.internal(SIGNAL_ACTION, (payload, { from }) => this.webrtc.receive(from, payload))
    this.actions.internal(DIALBACK_ACTION, async (payload, { from }) => await this.reach.dialBack(from, payload))
    this.actions.internal(INTRODUCE_ACTION, (payload, { from }) => this.introductions.introduce(from, payload))
    this.messages = new NodeMessages(this.ctx, this.actions, m => {
      if (this.listenerCount('message') === 0) return false
      this.emit('message', m)
      return true
    })
    this.searches = new Search(this.ctx, this.peers, this.own, opts.hops ?? DEFAULT_HOPS, () => this.ring, () => this.dialer.dialing())
    this.services = new Offers(this.ctx, () => this.ring)
    for (const a of opts.addresses ?? []) this.advertise(a)
    this.ready = this.start()
    // A failed start surfaces through every method; don't also crash on an unhandled rejection.
    this.ready.catch(err => this.fail(err as Error))
  }

  /** This node's id: its public key, 64 lowercase hex digits ('' until ready). */
  get id (): string { return this.table?.id ?? '' }

  /** This node's public key (null until ready). */
  get publicKey (): Uint8Array | null { return this.keyPair?.publicKey ?? null }

  /** The options in force, defaults filled in. */
  get options (): { network: string, connections: number, interval: number, purge: number, hops: number, bootstrap: boolean } {
    const o = this.opts
    return {
      network: this.network,
      connections: o.connections ?? DEFAULT_CONNECTIONS,
      interval: o.interval ?? DEFAULT_INTERVAL,
      purge: o.purge ?? DEFAULT_PURGE,
      hops: o.hops ?? DEFAULT_HOPS,
      bootstrap: o.bootstrap !== false
    }
  }

  /** The address table's bounds (once ready): its size, and the most one source may fill. */
  limits (): { tableSize: number, sourceCap: number } {
    return { tableSize: this.table.capacity, sourceCap: sourceCap(this.table.capacity, this.table.share) }
  }

  private async start (): Promise<void> {
    this.table = await AddressTable.open(this.db, {
      size: this.opts.tableSize,
      informantShare: this.opts.informantShare,
      random: this.random,
      now: () => this.clock.now(),
      identify: stored => {
        const r = resolveIdentity(this.givenKeyPair, stored)
        this.keyPair = r.keyPair
        return r.store
      }
    })
    this.table.onError = err => this.fail(err)
    if (this.closing) return
    await this.services.load(this.db, (key, why) => this.fail(new Error(`offer store: entry ${JSON.stringify(key)} skipped: ${why}`)))
    if (this.closing) return
    if (this.opts.ring !== false) this.startRing()
    this.event('ready', { id: this.table.id })
    const o = this.options
    this.timers.every('gossip', o.interval, () => this.gossip.round())
    this.timers.every('purge', o.purge, () => {
      const r = this.table.purge()
      if (r.dropped + r.tombstones > 0) this.event('purge', r)
    })
    this.timers.every('flush', FLUSH_INTERVAL, () => this.table.flushDirty())
    if (o.bootstrap) {
      this.timers.every('dial', this.opts.dialInterval ?? DEFAULT_DIAL_INTERVAL, () => this.dialer.topUp())
      this.dialer.topUp()
    }
  }

  private startRing (): void {
    // Ring rounds as long as gossip's (an interval of 0 turns gossip off, not the ring).
    const round = this.options.interval > 0 ? this.options.interval : RING_INTERVAL
    const ring = new RingLinks(this.ctx, this.peers, this.dialer, this.own, {
      keyPair: this.keyPair as KeyPair,
      network: this.network,
      interval: round,
      onEnvelope: e => this.actions.receive(e),
      ...(this.opts.metadata === undefined ? {} : { metadata: this.opts.metadata }),
      ...(this.opts.insecureSimulationVerify === undefined ? {} : { verify: this.opts.insecureSimulationVerify })
    })
    this.ring = ring
    this.actions.attach(ring, this.keyPair as KeyPair)
    for (const s of this.table.subnets()) ring.publishMember(s)
    this.services.publishAll()
    // Not a lifecycle event (the log would fill with the ring's upkeep): for whoever counts
    // what a lookup costs (the simulation).
    ring.core.on('lookup', (e: { qid: string, root: string, op: string }) => { if (this.listenerCount('lookup') > 0) this.emit('lookup', e) })
    ring.core.on('successor', (id: string | null) => this.ringEvent('successor', { id }))
    ring.core.on('predecessor', (id: string | null) => this.ringEvent('predecessor', { id }))
    ring.core.on('status', (s: { from: RingStatus, to: RingStatus }) => {
      this.event('status', s)
      // The p2p seed's names: status::* for every change, status::joined (…) for one state.
      this.emit('status::*', s)
      this.emit(`status::${s.to}`, s)
    })
    this.timers.every('ring', Math.min(RING_TICK, round / 4), () => ring.tick())
  }

  /** successor / predecessor, and the p2p seed's names for them (environment::successor, …). */
  private ringEvent (type: 'successor' | 'predecessor', data: { id: string | null }): void {
    this.event(type, data)
    this.emit(`environment::${type}`, data)
  }

  private event<K extends LifecycleEvent> (type: K, data: PeernetEvents[K][0]): void {
    // Many events fire per message: build nothing when nobody listens.
    if (!this.opts.debug && this.listenerCount(type) === 0 && this.listenerCount('event') === 0) return
    const row: PeernetEvent = { type, time: this.clock.now(), ...data }
    if (this.opts.debug) console.error('[peernet]', type, JSON.stringify(data))
    ;(this.emit as (k: string, v: unknown) => boolean)(type, data)
    this.emit('event', row)
  }

  private fail (err: Error): void {
    if (this.opts.debug) console.error('[peernet] error', err.message)
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /** Run an API call; the outcome as outcome.ts says. */
  private call<T> (work: () => Promise<T>, cb?: Callback<T>): Promise<T> {
    return settle(work(), cb, err => this.fail(err))
  }

  // --- addresses of our own --------------------------------------------------------------

  /** Add an address this node can be dialed at; it is advertised to peers. */
  advertise (address: string): void {
    this.own.advertise(address)
    this.addressesChanged()
  }

  unadvertise (address: string): void {
    this.own.unadvertise(address)
    this.addressesChanged()
  }

  /** Our records on the ring say where we are: published again (once, however many changes come at once). */
  private addressesChanged (): void {
    if (this.ring !== null) this.timers.soon('republish', () => this.ring?.republish())
  }

  /** Addresses this node believes it can be dialed at: advertised first, then candidates. */
  addresses (): string[] { return this.own.list() }

  // --- the table -------------------------------------------------------------------------

  /**
   * Save addresses (ADDR or ID@ADDR) as the user's; resolves to those that were not the user's
   * before, or whose pin this changed.
   */
  save (nodes: OneOrMany, cb?: Callback<string[]>): Promise<string[]> {
    // ID@ADDR pins the address to that id (strict); a plain ADDR takes the first key seen there.
    const given = new Map<string, string>()
    const check = (x: string): string => {
      const { id, address } = parsePinned(x)
      if (id !== null) given.set(address, id)
      return address
    }
    return this.write(nodes, check, list => this.table.save(list, a => given.get(a)), changed => this.event('save', { count: changed.length }), cb)
  }

  /** Remove addresses (refused from gossip for a while); resolves to those that were known. */
  remove (nodes: OneOrMany, cb?: Callback<string[]>): Promise<string[]> {
    return this.write(nodes, normalizeAddress, list => this.table.remove(list), changed => this.event('remove', { count: changed.length }), cb)
  }

  /**
   * A user's write of a list (addresses or subnets): each item checked, stored once ready; the
   * items it changed are told as events and resolved.
   */
  private write (items: OneOrMany, check: (x: string) => string, store: (list: string[]) => Promise<string[]>, told: (changed: string[]) => void, cb?: Callback<string[]>): Promise<string[]> {
    return this.call(async () => {
      const list = many(items).map(x => check(x))
      await this.ready
      const changed = await store(list)
      told(changed)
      return changed
    }, cb)
  }

  /** Every known address, streamed from the database: rows {address, saved, subnets}. */
  known (): Readable {
    const self = this
    return Readable.from((async function * () {
      for await (const batch of self.knownBatches()) yield * batch
    })())
  }

  /** known() in batches, for consumers that move many rows at once. */
  async * knownBatches (): AsyncGenerator<KnownRecordRow[]> {
    await this.ready
    for await (const batch of this.table.scanBatches()) yield batch.map(knownRow)
  }

  /** knownBatches() as each row's JSON text (what JSON.stringify writes), for the daemon to send as it is. */
  async * knownJson (): AsyncGenerator<string[]> {
    await this.ready
    yield * this.table.scanKnownJson()
  }

  getStats (addr: string, cb?: Callback<Stats>): Promise<Stats> {
    return this.call(async () => {
      const a = normalizeAddress(addr)
      await this.ready
      return this.table.stats(a)
    }, cb)
  }

  // --- subnets ---------------------------------------------------------------------------

  /** Join subnets; resolves to those not joined before. */
  join (subnet: OneOrMany, cb?: Callback<string[]>): Promise<string[]> {
    return this.write(subnet, checkSubnet, list => this.table.join(list), changed => {
      for (const s of changed) {
        this.ring?.publishMember(s)
        this.event('join', { subnet: s })
      }
    }, cb)
  }

  /** Part subnets; resolves to those that were joined. */
  part (subnet: OneOrMany, cb?: Callback<string[]>): Promise<string[]> {
    return this.write(subnet, checkSubnet, list => this.table.part(list), changed => {
      for (const s of changed) {
        // A signed tombstone at the subnet's point: replaying the old record cannot undo it.
        this.ring?.publishMember(s, true)
        this.event('part', { subnet: s })
      }
    }, cb)
  }

  /** Joined subnets: rows {key}. */
  subnets (): Readable {
    const self = this
    return Readable.from((async function * () {
      await self.ready
      for (const key of self.table.subnets()) yield { key }
    })())
  }

  /**
   * Search for members of subnet (a string, or a Buffer as the seed has it). Rows {hash,
   * address, hops} arrive as answers come back; the stream ends at the timeout (at most
   * MAX_SEARCH_TIMEOUT), after `max` rows (at most MAX_SEARCH_ANSWERS), or when `signal`
   * aborts. An error ends the stream with `error` when the stream has a listener for it, else
   * goes to the node's `error` event (when listened to).
   */
  search (subnet: string | Uint8Array, opts: SearchOptions = {}): Readable {
    return this.searches.start(subnet, opts)
  }

  // --- services (issue 14) ------------------------------------------------------------------

  /**
   * Offer a service: `{name, url, version?, meta?}` (checkOffer's rules), kept across restarts
   * and published on the ring as a signed service record. Resolves true when it is new or
   * changed, false when offered so already.
   */
  offer (service: Offer, cb?: Callback<boolean>): Promise<boolean> {
    return this.call(async () => {
      await this.ready
      if (this.closing) throw new Error('peernet is closed')
      return await this.services.offer(service)
    }, cb)
  }

  /** Withdraw the offers of service name (only the one at url, when given); resolves to those withdrawn. */
  withdraw (name: string, url?: string, cb?: Callback<OfferRow[]>): Promise<OfferRow[]> {
    return this.call(async () => {
      if (typeof name !== 'string' || !SERVICE_NAME.test(name)) throw new TypeError('withdraw: service name must match [a-z0-9][a-z0-9.-]{0,63}')
      await this.ready
      if (this.closing) throw new Error('peernet is closed')
      return await this.services.withdraw(name, url)
    }, cb)
  }

  /** The services this node offers: its user's (`source: "offer"`), a services file's (`"file"`) and its servers' (`"listen"`). */
  offers (): OfferRow[] { return this.services.list() }

  /**
   * The services of a services file (the daemon's services.json), replacing the last set;
   * published like offers but not kept by the node. Returns those left out past MAX_OFFERS.
   */
  setServiceFile (list: Offer[]): Offer[] { return this.services.setOffers('file', list) }

  /**
   * The services the daemon's own servers are (`listen stun` is the service `stun`), replacing
   * the last set; published like offers, not kept by the node. Returns those left out past MAX_OFFERS.
   */
  setListenerOffers (list: Offer[]): Offer[] { return this.services.setOffers('listen', list) }

  /**
   * Find offers of service name on the ring: rows {name, url, version?, meta?, id, addresses,
   * hops}, each from a record signed by the offering node. Waits within the timeout until this
   * node can ask the ring (joined, or linked to a peer on it); an error when it never can or the
   * lookup fails.
   */
  find (name: string, opts: FindOptions = {}): Readable {
    if (typeof name !== 'string' || !SERVICE_NAME.test(name)) throw new TypeError('find: service name must match [a-z0-9][a-z0-9.-]{0,63}')
    return this.services.find(name, opts)
  }

  // --- the ring ----------------------------------------------------------------------------

  /**
   * Where this node stands on the ring: `lonely` (no peers), `unbalanced` (successor or
   * predecessor missing, or not agreed yet), `joined`. A `status` event says when it changes.
   */
  ringStatus (): RingStatus { return this.ring?.status() ?? 'lonely' }

  /**
   * The node responsible for value (a string), found by a lookup over the ring:
   * `{id, addresses, metadata}` (metadata `{}` when the node set none).
   */
  getEndpointFor (value: string, cb?: Callback<Endpoint>): Promise<Endpoint> {
    return this.call(async () => {
      if (typeof value !== 'string') throw new TypeError('getEndpointFor: value must be a string')
      await this.ready
      if (this.closing) throw new Error('peernet is closed')
      if (this.ring === null) throw new Error('this node is not on the ring (opts.ring is false)')
      const { peer, hops } = await this.ring.owner(value)
      // Its metadata from its signed presence record: a second lookup, and no record (a node
      // that just joined) is metadata {}, not a failure.
      const metadata = await this.ring.metadataOf(peer.id).catch(() => ({}))
      return { id: peer.id, addresses: peer.addrs, metadata, hops }
    }, cb)
  }

  /** This node's place on the ring: status, predecessor, successors and fingers. */
  ringInfo (): RingInfo {
    return this.ring?.info() ?? { status: 'lonely', estimate: 1, links: 0, predecessor: null, successors: [], fingers: [] }
  }

  /** Whether this node is responsible for value, as far as it knows (no message is sent). */
  isResponsibleFor (value: string): boolean {
    if (typeof value !== 'string') throw new TypeError('isResponsibleFor: value must be a string')
    return this.ring?.isResponsibleFor(value) ?? false
  }

  // --- remote actions (the p2p seed's handle / remote(...).run) ---------------------------

  /**
   * Handle action `name`: fn(payload, {from}) → a value or a promise of one, sent back to the
   * node that ran it (a throw or rejection goes back as an error, its message only). Returns a
   * function that stops handling it. May be called before the node is ready.
   */
  handle (name: string, fn: ActionHandler): () => void { return this.actions.handle(name, fn) }

  /** Stop handling action `name`; whether it was handled. */
  unhandle (name: string): boolean { return this.actions.unhandle(name) }

  /**
   * Run action `name` on node `target` (an id, or ID@ADDR to reach it over a link to ADDR) with
   * payload (JSON); resolves to the handler's result. Request and reply are signed end to end.
   * Rejects with an ActionError (`code`: remote, timeout, refused, unreachable) or, for bad
   * arguments and a payload over MAX_ENVELOPE_BODY, at once with a TypeError / RangeError.
   */
  run (target: string, name: string, payload?: unknown, opts: RunOptions | Callback<unknown> = {}, cb?: Callback<unknown>): Promise<unknown> {
    // The seed's form: run(target, name, payload, callback).
    if (typeof opts === 'function') return this.run(target, name, payload, {}, opts)
    return this.call(async () => await this.actions.run(target, name, payload, opts), cb)
  }

  // --- messages by id (the linkup seed's send / on('message')) -----------------------------

  /**
   * Send message (any JSON value, at most MAX_MESSAGE bytes of JSON) to node `id`: over a live
   * link to it when there is one, else routed over the ring, signed end to end. Resolves once
   * the recipient's signed acknowledgement is back; rejects with an ActionError (`code`:
   * timeout, unreachable — no way there, no node with that id, or refused by its checks such as
   * ACTION_RATE —, refused — the acknowledgement failed ours —, remote — the recipient refused
   * it, saying why), or at once with a TypeError / RangeError for a bad id, a message that is no
   * JSON or over MAX_MESSAGE, and an ActionError for our own id. The recipient gets it as the
   * `message` event, `{from, message, time}`; a node with no `message` listener refuses
   * messages, and a listener that throws refuses that one (the sender gets the error's first line).
   */
  send (id: string, message: unknown, opts: SendOptions | Callback<void> = {}, cb?: Callback<void>): Promise<void> {
    if (typeof opts === 'function') return this.send(id, message, {}, opts)
    return this.call(async () => await this.messages.send(id, message, opts), cb)
  }

  // --- connections -----------------------------------------------------------------------

  /**
   * The open connections, each by the address that answers for the peer, or by its id (an
   * inbound peer whose claimed address no dial of ours has confirmed: see peerList's `claimed`).
   */
  connections (): string[] {
    return [...this.peers].map(c => c.address ?? c.peerId)
  }

  /** Open connections with their details; `claimed` is always there (null: no unconfirmed claim). */
  peerList (): Array<Omit<PeerInfo, 'claimed'> & { claimed: string | null, transport: string | null, since: number, rx: number, tx: number }> {
    return [...this.peers].map(c => {
      const p = peerInfo(c)
      return { id: p.id, address: p.address, claimed: p.claimed ?? null, direction: p.direction, transport: c.transport, since: c.since, rx: c.received, tx: c.sent }
    })
  }

  /**
   * Connect to addr; resolves once the handshake is done, to `{id, path, address}`. Once
   * connected, addr is saved as the user's (so it is redialed after restarts); an address that
   * never answers is not saved, so a typo is not redialed forever. Lifts a hold left by an
   * earlier disconnect of that address. `ID@ADDR` is strict: a node of another key answering
   * there fails the connect (`identity mismatch: expected ID, got OTHER`) and its link is closed.
   *
   * addr may be an id alone (64 hex digits): the node is found through the ring and reached by
   * the first path that works (reach.ts): `dial` (its presence record's addresses, as ID@ADDR),
   * `dial-back` (it dials us), `webrtc` (a channel signalled over the ring: neither can dial
   * the other) or `relay` (a circuit through a peer both are linked to: relay.ts); `linked`
   * when a link was open already. Rejects with
   * `no route to ID: …`, naming each path tried and how it ended.
   */
  connect (addr: string, cb?: Callback<Reached>): Promise<Reached> {
    return this.call(async () => {
      // A node id alone (either case): reached through the ring.
      if (typeof addr === 'string' && NODE_ID.test(addr.toLowerCase())) return await this.connectId(addr.toLowerCase())
      const { id, address: a } = parsePinned(addr)
      await this.ready
      if (this.closing) throw new Error('peernet is closed')
      if (this.own.has(a)) throw new Error(`${a} is this node's own address`)
      this.dialer.holds.lift(a)
      const fresh = !this.table.has(a)
      const peer = await this.dialer.dial(a, id ?? undefined)
      await this.table.save([a], () => id ?? undefined)
      // The dial's success found no record to count on: count it on the new one.
      if (fresh) this.table.recordSuccess(a)
      // The key that answered holds the address from now on (proven, so no longer a mere pin).
      this.table.recordKey(a, peer)
      return { id: peer, path: 'dial', address: a }
    }, cb)
  }

  private async connectId (id: string): Promise<Reached> {
    await this.ready
    if (this.closing) throw new Error('peernet is closed')
    if (id === this.id) throw new Error(`${id} is this node's own id`)
    this.dialer.holds.liftId(id)
    return await this.reach.connect(id)
  }

  /**
   * A new peer through a connected one (peer-exchange's getNewPeer): `peer` (an address or id
   * of a connected peer; a random one when undefined) names some of its peers, and this node
   * links to one it has no link to, by its presence record, the addresses the introducer named
   * (as ID@ADDR) or a dial-back asked through the introducer. Resolves to
   * `{id, address, path, introducer}`.
   */
  getNewPeer (peer?: string | Callback<Introduction>, cb?: Callback<Introduction>): Promise<Introduction> {
    if (typeof peer === 'function') return this.getNewPeer(undefined, peer)
    return this.call(async () => {
      await this.ready
      if (this.closing) throw new Error('peernet is closed')
      let by: string | undefined
      if (peer !== undefined) {
        const a = tryNormalizeAddress(peer) ?? String(peer).toLowerCase()
        const found = this.peers.find(a)
        if (found.length === 0 || found[0].peerId === '') throw new Error(`not connected to ${String(peer)}: an introducer must be a connected peer`)
        by = found[0].peerId
      }
      return await this.introductions.getNewPeer(by)
    }, cb)
  }

  /** A WebRTC link to id (reach.ts's third step), or why not: off, or the attempt failed. */
  private async webrtcLink (id: string, via?: string): Promise<void> {
    if (!this.webrtc.enabled) throw new Error('webrtc is off on this node (webrtc: false)')
    await this.webrtc.connect(id, via)
  }

  /** Resolves true once a link to peer id is open (at once when one is), false after ms. */
  private linkedTo (id: string, ms: number): Promise<boolean> {
    if (this.peers.get(id) !== undefined) return Promise.resolve(true)
    return new Promise(resolve => {
      const onPeer = (p: PeerInfo): void => { if (p.id === id) done(true) }
      const t = this.clock.setTimeout(() => done(false), ms)
      const done = (ok: boolean): void => {
        this.clock.clearTimeout(t)
        this.off('peer', onPeer)
        resolve(ok)
      }
      this.on('peer', onPeer)
    })
  }

  /**
   * Close the connection to addr (an address or a peer id), and keep that peer off for
   * DISCONNECT_HOLD: it is not dialed, and its links to us are refused with a reason it can log.
   */
  disconnect (addr: string, cb?: Callback<void>): Promise<void> {
    return this.call(async () => {
      await this.ready
      const a = tryNormalizeAddress(addr) ?? addr
      const found = this.peers.find(a)
      if (found.length === 0) throw new Error(`not connected to ${addr}`)
      for (const c of found) {
        const addresses = [c.dialed, c.address, ...c.offered].filter((x): x is string => x !== undefined)
        this.dialer.holds.hold(c.peerId === '' ? null : c.peerId, addresses)
        c.close('disconnected by the user', false, true)
      }
    }, cb)
  }

  /**
   * A duplex stream to wire a connection accepted by a server of yours to this node:
   * `socket.pipe(pn.createStream()).pipe(socket)`. Give `addr` when you know where the remote
   * can be dialed, and `info.host` (its IP) so the table can apply source-group limits.
   */
  createStream (addr?: string, info: { host?: string } = {}): Duplex {
    const [outer, inner] = memPair()
    const address = addr === undefined ? undefined : normalizeAddress(addr)
    this.incoming(inner, info, address)
    return outer
  }

  /**
   * Accept an incoming stream from a transport server (used by the daemon): `info.host` is the
   * remote IP (source-group limits), `info.transport` what carries it (tcp, ws, ...; a stream's
   * own `kind`, as a WebRTC stream has, when not given), shown by `connections`.
   */
  accept (stream: Duplex, info: { host?: string, transport?: string, expected?: string } = {}): void {
    this.incoming(stream, info)
  }

  /**
   * An inbound stream: a link once the node is ready, unless it is closing by then. With
   * `info.expected` only that key will do (a WebRTC channel asked for by that id).
   */
  private incoming (stream: Duplex, info: { host?: string, transport?: string, expected?: string }, address?: string): void {
    const take = (): void => {
      // Checked again once ready: close() may have been called while the table opened.
      if (this.closing) {
        stream.destroy()
        return
      }
      const kind = (stream as { kind?: unknown }).kind
      const transport = info.transport ?? (typeof kind === 'string' ? kind : undefined)
      const expected = info.expected === undefined ? undefined : { id: info.expected, pin: 'given' as const }
      const c = new Connection(this.layer(stream, false, this.keyPair as KeyPair), { outbound: false, remoteHost: info.host, transport, expected, clock: this.clock, traffic: this.ctx.traffic })
      if (address) c.address = address
      this.attach(c)
    }
    if (this.closing) stream.destroy()
    else this.ready.then(take, () => stream.destroy())
  }

  /** A new link, either direction: into its handshake, messages to the part they concern. */
  private attach (c: Connection): void {
    if (!this.handshake.admit(c)) return
    const on = this.linkListeners
    c.on('message', on.message)
    c.on('close', on.close)
    c.on('open', on.open) // emitted once, at the handshake's end
    if (c.outbound) this.handshake.greet(c)
  }

  /**
   * What every link's events go to: one set of functions for all of this node's links (the link
   * is the emitter they are called on), where three closures a link cost each of a simulated
   * node's ~35 link ends ~200 bytes more.
   */
  private readonly linkListeners = ((node: Peernet) => ({
    message (this: Connection, m: PeerMessage): void {
      try {
        node.route(this, m)
      } catch (err) {
        node.fail(err as Error)
      }
    },
    close (this: Connection, info: CloseInfo): void { node.onClose(this, info) },
    open (this: Connection): void { node.keepalive.watch(this) }
  }))(this)

  private route (c: Connection, m: PeerMessage): void {
    if (!c.open) return this.handshake.onMessage(c, m)
    // Validated as the ring's when its type says so (Connection): the ring's to handle.
    if (m.type.startsWith('ring.')) return this.ring?.receive(c, m as RingMessage)
    if (m.type.startsWith('relay.')) return this.relays.receive(c, m as RelayMessage)
    switch (m.type) {
      case 'hello': return c.close('protocol violation: second hello', true, true)
      case 'bye': return c.close(`peer left: ${m.reason}`, false, false, true)
      case 'getaddrs': return this.gossip.onGetAddrs(c)
      case 'addrs': return this.gossip.onAddrs(c, m.addrs)
      case 'query': return this.searches.onQuery(c, m)
      case 'answer': return this.searches.onAnswer(c, m)
      case 'ping': return this.keepalive.onPing(c)
      case 'pong': return // it was heard: that is all a pong is for (keepalive.ts)
    }
  }

  private onClose (c: Connection, info: CloseInfo): void {
    this.keepalive.unwatch(c)
    const wasOpen = this.peers.delete(c)
    // A node shutting down closes its links itself (or its process is gone): what they were for
    // goes with it. No failure is held against the peer, nothing redials, the ring is not mended
    // around a node that is leaving it. At the simulation's kill (half of 5,000 nodes at once)
    // the dying nodes mending their rings link by link as they went were a fifth of the
    // interval's CPU.
    if (this.closing) {
      this.relays.closed(c)
      if (wasOpen) this.event('disconnect', { ...peerInfo(c), reason: info.reason })
      return
    }
    // A link that ended by itself before its hello was taken (a failed, stalled or garbled
    // secure handshake, plaintext, a bad ciphertext): refused, with the link's reason. (A dial
    // the network refused, where nobody spoke, is a connect-failed alone.)
    if (!wasOpen && c.linkFailed && (!c.outbound || c.socket.heard === true || info.fault)) {
      const stage = c.remoteId === null ? 'secure handshake failed' : 'link failed before hello'
      this.event('refused', { address: c.dialed ?? null, reason: `${stage}: ${info.reason}` })
    }
    this.dialer.closed(c, info, wasOpen)
    this.relays.closed(c)
    if (!wasOpen) return
    this.ring?.closed(c, info)
    this.event('disconnect', { ...peerInfo(c), reason: info.reason })
    if (this.options.bootstrap) this.timers.soon('redial', () => this.dialer.topUp())
  }

  // --- lifecycle -------------------------------------------------------------------------

  /** Node state for status displays. */
  status (): { id: string, network: string, uptime: number, connections: number, inbound: number, outbound: number, handshaking: number, dialing: number, known: number, saved: number, learned: number, tombstones: number, subnets: number, searches: number, seen: number, ring: RingStatus, addresses: string[] } {
    const t = this.table
    return {
      id: this.id,
      network: this.network,
      uptime: this.clock.now() - this.startedAt,
      connections: this.peers.size,
      inbound: this.peers.count(false),
      outbound: this.peers.count(true),
      handshaking: this.peers.handshaking,
      dialing: this.dialer.size,
      known: t?.size ?? 0,
      saved: t?.savedCount ?? 0,
      learned: t?.learnedCount ?? 0,
      tombstones: t?.tombstoneCount ?? 0,
      subnets: t?.subnets().length ?? 0,
      searches: this.searches.size,
      seen: this.searches.seenSize,
      ring: this.ringStatus(),
      addresses: this.addresses()
    }
  }

  /** What this node's links carried since it started: frames and bytes by message type, in and out. */
  traffic (): Traffic { return this.ctx.traffic }

  /** Stop timers, say goodbye to every peer, end running searches, flush the table. */
  close (cb?: Callback<void>): Promise<void> {
    if (!this.closing) {
      // At once, not after the turn below: a virtual clock may fire timers within this turn.
      this.timers.clear()
      this.closing = (async () => {
        await null // so this.closing is set before the goodbyes below run their close handlers
        this.searches.close()
        this.actions.close()
        this.webrtc.close()
        this.relays.close()
        for (const c of this.peers.all()) c.close('node is shutting down', false, true)
        try {
          await this.ready
        } catch {
          return
        }
        await this.services.close()
        await this.table.close()
        this.emit('close')
      })()
    }
    return this.call(async () => { await this.closing }, cb)
  }
}
