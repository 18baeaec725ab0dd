// The peernet node: owns the address table, the connections, gossip and search.
// Everything that takes time or chance comes from opts.clock and opts.random.
import { EventEmitter } from 'node:events'
import { Readable, type Duplex } from 'node:stream'
import { Connection, TokenBucket, type CloseInfo } from './connection.js'
import { SeenCache } from './seen.js'
import { encodeFrame } from '../wire/frame.js'
import { type Clock, type Timer, realClock } from './clock.js'
import { type Random, randomHex, randomInt } from '../util/random.js'
import { AddressTable } from '../table/table.js'
import type { LevelLike } from '../table/db.js'
import type { Stats } from '../table/rules.js'
import { memPair } from '../transport/mem.js'
import { transport as defaultTransport, resolveTransportOption } from '../transport/index.js'
import { parseAddress, tryNormalizeAddress, normalizeAddress, sourceGroup } from '../transport/address.js'
import {
  type Message, type Hello, type Query, type Answer,
  PROTOCOL_VERSION, MAX_ADDRS_PER_MESSAGE, MAX_HELLO_ADDRS, MAX_HOP_LIMIT, checkSubnet
} from '../wire/messages.js'
import {
  DEFAULT_CONNECTIONS, DEFAULT_INTERVAL, DEFAULT_PURGE, DEFAULT_HOPS, DEFAULT_SEARCH_TIMEOUT, DEFAULT_NETWORK
} from './defaults.js'

/** Addresses sent in one gossip answer (at most MAX_ADDRS_PER_MESSAGE). */
export const DEFAULT_GOSSIP_SAMPLE = 32
/** How often the node tops up its connections from the table, ms. */
export const DEFAULT_DIAL_INTERVAL = 1000
/** Most inbound connections accepted at once. */
export const MAX_INBOUND = 64
/** Most dials in progress at once. */
export const MAX_PENDING_DIALS = 8
/** Most inbound connections still in their handshake; more are closed at once. */
export const MAX_HANDSHAKING = 64
/**
 * Queries this node relays for others, a second on average (node-wide), and in one burst:
 * what any one neighbour gets from us stays under its QUERY_RATE and QUERY_BURST, however
 * hard others push queries at us...
 */
export const RELAY_RATE = 100
export const RELAY_BURST = 500
/**
 * ...and the share of that any one peer's queries may use, so a peer flooding within its own
 * QUERY_RATE cannot crowd out the searches of everyone else.
 */
export const RELAY_PEER_RATE = 25
export const RELAY_PEER_BURST = 100
/** Answers this node relays back for others, a second and in one burst (node-wide). */
export const ANSWER_RELAY_RATE = 100
export const ANSWER_RELAY_BURST = 500
/** Most answers relayed back for one query id. */
export const MAX_RELAYED_ANSWERS = 64
/** An `addrs` answer with more than this share of unusable entries is junk... */
export const JUNK_SHARE = 0.5
/** ...and costs its sender this many strikes (MAX_STRIKES). */
export const JUNK_STRIKES = 10
/** Most query ids remembered (for "handle once" and the way back of answers)... */
export const MAX_SEEN = 10_000
/** ...each for this long, ms. */
export const SEEN_TTL = 60_000
/** Most of this node's own searches running at once. */
export const MAX_SEARCHES = 256
/** Candidate addresses of our own, learned from what dialers say they dialed. */
export const MAX_SELF_CANDIDATES = 4
/** After a user's disconnect, the address is not redialed from the table for this long, ms. */
export const DISCONNECT_HOLD = 60_000

export interface PeernetOptions {
  /** Resolves an address to a duplex stream (default: peernet/transport, for tcp/ws/wss). */
  transport?: (address: string) => Duplex
  /** Print lifecycle events to stderr. */
  debug?: boolean
  /** Dial addresses from the table to keep `connections` open (default true). */
  bootstrap?: boolean
  /** ms between gossip rounds; 0 turns gossip off (default 5000). */
  interval?: number
  /** ms between purge passes; 0 turns purging off (default 60000). */
  purge?: number
  /** Connections to keep open (default 5). */
  connections?: number
  /** WebRTC implementation: not supported yet. */
  wrtc?: unknown
  /** Network id (default "peernet"). */
  network?: string
  /** Addresses this node can be dialed at, advertised to peers. */
  addresses?: string[]
  /** Bound on gossip-learned addresses (default 10000). */
  tableSize?: number
  /** Largest share of the table one informant or source group may fill (default 0.1). */
  informantShare?: number
  /** Default hop limit of searches (default 15). */
  hops?: number
  /** Addresses per gossip answer (default 32). */
  gossipSample?: number
  /** Most inbound connections (default 64). */
  maxInbound?: number
  /** ms between attempts to top up connections (default 1000). */
  dialInterval?: number
  clock?: Clock
  random?: Random
  /** Source group of a remote host (default: IPv4 /24, IPv6 /48). */
  groupOf?: (host: string) => string
}

export interface SearchOptions {
  /** Hop limit (default 15). */
  hops?: number
  /** ms to wait for answers (default 5000). */
  timeout?: number
  /** Stop after this many answers. */
  max?: number
  signal?: AbortSignal
}

export interface SearchRow {
  /** The subnet's name. */
  hash: string
  address: string
  /** Links between this node and the member; a direct neighbour is 1. */
  hops: number
}

export interface PeerInfo {
  id: string
  address: string | null
  direction: 'in' | 'out'
}

/** Every lifecycle event also comes as an `event` with its type, for logs. */
export interface PeernetEvents {
  ready: [{ id: string }]
  peer: [PeerInfo]
  disconnect: [PeerInfo & { reason: string }]
  'connect-failed': [{ address: string, reason: string }]
  refused: [{ address: string | null, reason: string }]
  gossip: [{ dir: 'ask' | 'rx' | 'tx', peer: string, count: number, added?: number, refused?: number }]
  search: [{ dir: 'out' | 'in', qid: string, subnet: string, hops: number, peer?: string }]
  answer: [{ dir: 'in' | 'out' | 'forward', qid: string, subnet: string, address: string, hops: number }]
  join: [{ subnet: string }]
  part: [{ subnet: string }]
  save: [{ count: number }]
  remove: [{ count: number }]
  purge: [{ dropped: number, tombstones: number }]
  close: []
  error: [Error]
  event: [PeernetEvent]
}
export interface PeernetEvent { type: string, time: number, [key: string]: unknown }

type Callback<T> = (err: Error | null, value?: T) => void

/** Run a promise, and hand its outcome to a node-style callback too when one is given. */
function settle<T> (p: Promise<T>, cb?: Callback<T>): Promise<T> {
  if (typeof cb === 'function') p.then(v => cb(null, v), (err: Error) => cb(err))
  return p
}

/** Where a query came from (null: our own search) and how many answers went back that way. */
interface Route { from: string | null, answers: number }

interface LocalSearch {
  subnet: string
  stream: Readable
  seen: Set<string>
  count: number
  max: number
  finish: () => void
}

export class Peernet extends EventEmitter<PeernetEvents> {
  readonly network: string
  readonly ready: Promise<void>
  table!: AddressTable
  private readonly opts: PeernetOptions
  private readonly clock: Clock
  private readonly random: Random
  private readonly transport: ((address: string) => Duplex) | undefined
  private readonly groupOf: (host: string) => string
  private readonly handshaking = new Set<Connection>()
  private readonly peers = new Map<string, Connection>()
  private readonly dialing = new Map<string, Promise<void>>()
  private readonly advertised: string[] = []
  private readonly candidates: string[] = []
  private readonly selfAddresses = new Set<string>()
  private readonly held = new Map<string, number>()
  private readonly seen: SeenCache<Route>
  private readonly relay: TokenBucket
  private readonly answerRelay: TokenBucket
  private readonly searches = new Map<string, LocalSearch>()
  private readonly timers = new Map<string, Timer>()
  private closing: Promise<void> | null = null
  private readonly startedAt: number

  constructor (readonly db: LevelLike, opts: PeernetOptions = {}) {
    super()
    if (opts.wrtc !== undefined) throw new Error('opts.wrtc: WebRTC is not supported yet in this version of peernet')
    this.opts = opts
    this.clock = opts.clock ?? realClock
    this.random = opts.random ?? Math.random
    this.transport = resolveTransportOption(opts.transport)
    this.groupOf = opts.groupOf ?? sourceGroup
    this.network = opts.network ?? DEFAULT_NETWORK
    this.startedAt = this.clock.now()
    this.seen = new SeenCache(MAX_SEEN, SEEN_TTL, () => this.clock.now())
    this.relay = new TokenBucket(RELAY_RATE, RELAY_BURST, () => this.clock.now())
    this.answerRelay = new TokenBucket(ANSWER_RELAY_RATE, ANSWER_RELAY_BURST, () => this.clock.now())
    for (const a of opts.addresses ?? []) this.advertise(a)
    this.ready = this.start()
    // A failed start surfaces through every method; don't also crash on an unhandled rejection.
    this.ready.catch(err => this.fail(err as Error))
  }

  get id (): string { return this.table?.id ?? '' }

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

  private async start (): Promise<void> {
    this.table = await AddressTable.open(this.db, {
      size: this.opts.tableSize,
      informantShare: this.opts.informantShare,
      random: this.random,
      now: () => this.clock.now()
    })
    this.table.onError = err => this.fail(err)
    if (this.closing) return
    this.event('ready', { id: this.table.id })
    this.every('gossip', this.opts.interval ?? DEFAULT_INTERVAL, () => this.gossip())
    this.every('purge', this.opts.purge ?? DEFAULT_PURGE, () => {
      const r = this.table.purge()
      if (r.dropped + r.tombstones > 0) this.event('purge', r)
    })
    if (this.opts.bootstrap !== false) {
      this.every('dial', this.opts.dialInterval ?? DEFAULT_DIAL_INTERVAL, () => this.topUp())
      this.topUp()
    }
  }

  private every (name: string, ms: number, fn: () => void): void {
    if (!(ms > 0)) return
    const tick = (): void => {
      if (this.closing) return
      try {
        fn()
      } catch (err) {
        this.fail(err as Error)
      }
      this.schedule(name, ms, tick)
    }
    this.schedule(name, ms, tick)
  }

  /** Run fn on the next turn of the clock, once however often it is asked for. */
  private soon (name: string, fn: () => void): void {
    if (this.timers.has(name)) return
    this.schedule(name, 0, () => {
      this.timers.delete(name)
      if (!this.closing) fn()
    })
  }

  private schedule (name: string, ms: number, fn: () => void): void {
    const t = this.clock.setTimeout(fn, ms)
    t.unref?.()
    this.timers.set(name, t)
  }

  private event<K extends Exclude<keyof PeernetEvents, 'event' | 'error' | 'close'>> (type: K, data: PeernetEvents[K][0]): void {
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

  // --- addresses of our own --------------------------------------------------------------

  /** Add an address this node can be dialed at; it is advertised to peers. */
  advertise (address: string): void {
    const a = normalizeAddress(address)
    if (!this.advertised.includes(a)) this.advertised.push(a)
    this.selfAddresses.add(a)
  }

  unadvertise (address: string): void {
    const a = normalizeAddress(address)
    const i = this.advertised.indexOf(a)
    if (i >= 0) this.advertised.splice(i, 1)
    if (!this.candidates.includes(a)) this.selfAddresses.delete(a)
  }

  /** Addresses this node believes it can be dialed at: advertised first, then candidates. */
  addresses (): string[] {
    return [...this.advertised, ...this.candidates.filter(c => !this.advertised.includes(c))]
  }

  private addCandidate (address: string): void {
    const i = this.candidates.indexOf(address)
    if (i >= 0) this.candidates.splice(i, 1)
    this.candidates.unshift(address)
    this.selfAddresses.add(address)
    while (this.candidates.length > MAX_SELF_CANDIDATES) {
      const dropped = this.candidates.pop() as string
      if (!this.advertised.includes(dropped)) this.selfAddresses.delete(dropped)
    }
  }

  // --- the table -------------------------------------------------------------------------

  save (nodes: string | string[], cb?: Callback<string[]>): Promise<string[]> {
    return settle((async () => {
      const list = (Array.isArray(nodes) ? nodes : [nodes]).map(normalizeAddress)
      await this.ready
      const changed = await this.table.save(list)
      this.event('save', { count: changed.length })
      return changed
    })(), cb)
  }

  remove (nodes: string | string[], cb?: Callback<string[]>): Promise<string[]> {
    return settle((async () => {
      const list = (Array.isArray(nodes) ? nodes : [nodes]).map(normalizeAddress)
      await this.ready
      const changed = await this.table.remove(list)
      this.event('remove', { count: changed.length })
      return changed
    })(), cb)
  }

  /** Every known address, streamed from the database: rows {address, saved, subnets}. */
  known (): Readable {
    const self = this
    return Readable.from((async function * () {
      for await (const batch of self.knownBatches()) yield * batch
    })())
  }

  /** known() in batches, for consumers that move many rows at once (the daemon). */
  async * knownBatches (): AsyncGenerator<Array<{ address: string, saved: boolean, subnets: string[] }>> {
    await this.ready
    for await (const batch of this.table.scanBatches()) yield batch.map(r => ({ address: r.address, saved: r.user, subnets: r.subnets }))
  }

  getStats (addr: string, cb?: Callback<Stats>): Promise<Stats> {
    return settle((async () => {
      const a = normalizeAddress(addr)
      await this.ready
      return this.table.stats(a)
    })(), cb)
  }

  // --- subnets ---------------------------------------------------------------------------

  join (subnet: string | string[], cb?: Callback<string[]>): Promise<string[]> {
    return settle((async () => {
      const list = (Array.isArray(subnet) ? subnet : [subnet]).map(checkSubnet)
      await this.ready
      const changed = await this.table.join(list)
      for (const s of changed) this.event('join', { subnet: s })
      return changed
    })(), cb)
  }

  part (subnet: string | string[], cb?: Callback<string[]>): Promise<string[]> {
    return settle((async () => {
      const list = (Array.isArray(subnet) ? subnet : [subnet]).map(checkSubnet)
      await this.ready
      const changed = await this.table.part(list)
      for (const s of changed) this.event('part', { subnet: s })
      return changed
    })(), cb)
  }

  /** Joined subnets: rows {key}. */
  subnets (): Readable {
    const self = this
    return Readable.from((async function * () {
      await self.ready
      for (const key of self.table.subnets()) yield { key }
    })())
  }

  // --- connections -----------------------------------------------------------------------

  /** Addresses (or, where a peer has none, ids) of the open connections. */
  connections (): string[] {
    return [...this.peers.values()].map(c => c.address ?? c.peerId)
  }

  /** Open connections with their details. */
  peerList (): Array<PeerInfo & { since: number, rx: number, tx: number }> {
    return [...this.peers.values()].map(c => ({ ...this.info(c), since: c.since, rx: c.received, tx: c.sent }))
  }

  /** Connect to addr (and save it as the user's); resolves once the handshake is done. */
  connect (addr: string, cb?: Callback<void>): Promise<void> {
    return settle((async () => {
      const a = normalizeAddress(addr)
      await this.ready
      if (this.closing) throw new Error('peernet is closed')
      if (this.selfAddresses.has(a)) throw new Error(`${a} is this node's own address`)
      this.held.delete(a)
      await this.table.save([a])
      await this.dial(a)
    })(), cb)
  }

  /** Close the connection to addr (an address or a peer id). */
  disconnect (addr: string, cb?: Callback<void>): Promise<void> {
    return settle((async () => {
      await this.ready
      const a = tryNormalizeAddress(addr) ?? addr
      let found = false
      for (const c of [...this.peers.values(), ...this.handshaking]) {
        if (c.address === a || c.dialed === a || c.peerId === addr) {
          found = true
          if (c.address) this.held.set(c.address, this.clock.now() + DISCONNECT_HOLD)
          c.close('disconnected by the user', false, true)
        }
      }
      if (!found) throw new Error(`not connected to ${addr}`)
    })(), cb)
  }

  /**
   * A duplex stream to wire a connection accepted by a server of yours to this node:
   * `socket.pipe(pn.createStream()).pipe(socket)`. Give `addr` when you know where the remote
   * can be dialed, and `info.host` (its IP) so the table can apply source-group limits.
   */
  createStream (addr?: string, info: { host?: string } = {}): Duplex {
    const [outer, inner] = memPair()
    const address = addr === undefined ? undefined : normalizeAddress(addr)
    this.ready.then(() => {
      if (this.closing) {
        inner.destroy()
        return
      }
      const c = new Connection(inner, { outbound: false, remoteHost: info.host, clock: this.clock })
      if (address) c.address = address
      this.attach(c)
    }, () => inner.destroy())
    return outer
  }

  /** Accept an incoming stream from a transport server (used by the daemon). */
  accept (stream: Duplex, info: { host?: string } = {}): void {
    if (this.closing) {
      stream.destroy()
      return
    }
    this.ready.then(() => this.attach(new Connection(stream, { outbound: false, remoteHost: info.host, clock: this.clock })), () => stream.destroy())
  }

  private dial (address: string): Promise<void> {
    const open = [...this.peers.values()].find(c => c.address === address || c.dialed === address)
    if (open) return Promise.resolve()
    const pending = this.dialing.get(address)
    if (pending) return pending
    const p = new Promise<void>((resolve, reject) => {
      this.table.recordAttempt(address)
      let socket: Duplex
      try {
        socket = this.transportFor()(address)
      } catch (err) {
        this.table.recordFailure(address)
        this.event('connect-failed', { address, reason: (err as Error).message })
        reject(err)
        return
      }
      const c = new Connection(socket, { outbound: true, dialed: address, remoteHost: parseAddress(address).host, clock: this.clock })
      c.once('close', (info: CloseInfo) => {
        if (c.peerId !== '' && info.reason === 'duplicate connection') resolve()
        else reject(new Error(`cannot connect to ${address}: ${info.reason}`))
      })
      c.once('open', () => resolve())
      this.attach(c)
    })
    this.dialing.set(address, p)
    const done = (): void => { this.dialing.delete(address) }
    p.then(done, done)
    return p
  }

  private transportFor (): (address: string) => Duplex {
    return this.transport ?? defaultTransport
  }

  /** Keep `connections` open by dialing from the table. */
  private topUp (): void {
    if (this.closing) return
    // Only connections we dialed count: inbound ones are the remote's choice, and an attacker
    // who opens enough of them must not stop us from choosing peers of our own (eclipse).
    const want = (this.opts.connections ?? DEFAULT_CONNECTIONS) - this.outboundCount() - this.dialing.size
    const room = MAX_PENDING_DIALS - this.dialing.size
    const n = Math.min(want, room)
    if (n <= 0) return
    const now = this.clock.now()
    for (const [a, until] of this.held) if (until <= now) this.held.delete(a)
    const busy = new Set<string>()
    for (const c of [...this.peers.values(), ...this.handshaking]) {
      if (c.address) busy.add(c.address)
      if (c.dialed) busy.add(c.dialed)
    }
    const skip = (a: string): boolean => busy.has(a) || this.dialing.has(a) || this.selfAddresses.has(a) || this.held.has(a)
    for (const a of this.table.dialCandidates(n, skip)) this.dial(a).catch(() => {})
  }

  private attach (c: Connection): void {
    if (!c.outbound && this.inboundHandshakes() >= MAX_HANDSHAKING) {
      c.close(`too many connections in handshake (MAX_HANDSHAKING is ${MAX_HANDSHAKING})`, false)
      this.event('refused', { address: null, reason: 'too many connections in handshake' })
      return
    }
    this.handshaking.add(c)
    c.relays = new TokenBucket(RELAY_PEER_RATE, RELAY_PEER_BURST, () => this.clock.now())
    c.on('message', m => {
      try {
        this.onMessage(c, m)
      } catch (err) {
        this.fail(err as Error)
      }
    })
    c.on('close', info => this.onClose(c, info))
    c.send({ type: 'hello', version: PROTOCOL_VERSION, network: this.network, id: this.table.id, addrs: this.advertised.slice(0, MAX_HELLO_ADDRS), ...(c.dialed ? { dialed: c.dialed } : {}) })
  }

  private info (c: Connection): PeerInfo {
    return { id: c.peerId, address: c.address ?? null, direction: c.outbound ? 'out' : 'in' }
  }

  private onClose (c: Connection, info: CloseInfo): void {
    this.handshaking.delete(c)
    const wasOpen = this.peers.get(c.peerId) === c
    if (wasOpen) this.peers.delete(c.peerId)
    // Only an address we dialed answers for the peer behind it: an inbound peer could
    // advertise someone else's address and misbehave to get that address purged.
    if (info.fault && c.outbound && c.dialed) this.table.recordFailure(c.dialed)
    if (wasOpen) {
      this.event('disconnect', { ...this.info(c), reason: info.reason })
      if (!this.closing && this.opts.bootstrap !== false) this.soon('redial', () => this.topUp())
    } else if (c.outbound && c.dialed && info.reason !== 'duplicate connection' && info.reason !== 'connected to itself') {
      if (!info.fault) this.table.recordFailure(c.dialed)
      this.event('connect-failed', { address: c.dialed, reason: info.reason })
    }
  }

  private onMessage (c: Connection, m: Message): void {
    if (!c.open) {
      if (m.type === 'bye') {
        this.event('refused', { address: c.address ?? null, reason: `peer refused: ${m.reason}` })
        c.close(`peer refused: ${m.reason}`, false)
      } else if (m.type !== 'hello') {
        c.close(`protocol violation: expected hello, got ${m.type}`, true, true)
      } else {
        this.onHello(c, m)
      }
      return
    }
    switch (m.type) {
      case 'hello': return c.close('protocol violation: second hello', true, true)
      case 'bye': return c.close(`peer left: ${m.reason}`, false)
      case 'getaddrs': return this.onGetAddrs(c)
      case 'addrs': return this.onAddrs(c, m.addrs)
      case 'query': return this.onQuery(c, m)
      case 'answer': return this.onAnswer(c, m)
    }
  }

  private onHello (c: Connection, m: Hello): void {
    const refuse = (reason: string, fault: boolean): void => {
      this.event('refused', { address: c.address ?? null, reason })
      c.close(reason, fault, true)
    }
    if (m.version !== PROTOCOL_VERSION) return refuse(`protocol version ${m.version} is not supported (this node speaks ${PROTOCOL_VERSION})`, true)
    if (m.network !== this.network) return refuse(`network mismatch: this node is on "${this.network}", the peer on "${m.network}"`, true)
    if (m.id === this.table.id) {
      if (c.dialed) this.selfAddresses.add(c.dialed)
      c.close('connected to itself', false)
      return
    }
    if (!c.outbound && this.inboundCount() >= (this.opts.maxInbound ?? MAX_INBOUND)) return refuse('too many connections', false)
    const existing = this.peers.get(m.id)
    if (existing) {
      // Both sides may dial each other at once; both keep the link whose dialer has the lower id.
      const dialerOf = (x: Connection): string => x.outbound ? this.table.id : m.id
      if (dialerOf(c) < dialerOf(existing)) {
        this.peers.delete(m.id)
        existing.close('duplicate connection', false)
      } else {
        c.peerId = m.id
        c.close('duplicate connection', false)
        return
      }
    }
    this.handshaking.delete(c)
    c.accept(m.id)
    this.peers.set(m.id, c)
    c.sources = ['id:' + m.id]
    if (c.remoteHost) c.sources.push('group:' + this.groupOf(c.remoteHost))
    const offered = this.acceptable(m.addrs)
    if (!c.outbound) {
      if (c.address === undefined) c.address = offered[0]
      const dialed = m.dialed === undefined ? null : tryNormalizeAddress(m.dialed)
      if (dialed) this.addCandidate(dialed)
    } else if (c.dialed) {
      this.table.recordSuccess(c.dialed)
    }
    if (offered.length > 0) this.table.learn(offered, c.sources)
    this.event('peer', this.info(c))
  }

  private inboundCount (): number {
    let n = 0
    for (const p of this.peers.values()) if (!p.outbound) n++
    return n
  }

  private outboundCount (): number {
    return this.peers.size - this.inboundCount()
  }

  private inboundHandshakes (): number {
    let n = 0
    for (const c of this.handshaking) if (!c.outbound) n++
    return n
  }

  /** The addresses of a list we may store or dial: allowed schemes, not our own. */
  private acceptable (list: string[]): string[] {
    const out: string[] = []
    for (const raw of list) {
      const a = tryNormalizeAddress(raw)
      if (a !== null && !this.selfAddresses.has(a) && !out.includes(a)) out.push(a)
    }
    return out
  }

  // --- gossip ----------------------------------------------------------------------------

  private gossip (): void {
    const open = [...this.peers.values()]
    if (open.length === 0) return
    const c = open[randomInt(this.random, open.length)]
    c.awaitingAddrs = true
    c.send({ type: 'getaddrs' })
    this.event('gossip', { dir: 'ask', peer: c.address ?? c.peerId, count: 0 })
  }

  private onGetAddrs (c: Connection): void {
    const k = Math.min(this.opts.gossipSample ?? DEFAULT_GOSSIP_SAMPLE, MAX_ADDRS_PER_MESSAGE)
    const mine = this.advertised.slice(0, k)
    const addrs = [...mine, ...this.table.sampleForGossip(k).filter(a => a !== c.address && !mine.includes(a))].slice(0, k)
    c.send({ type: 'addrs', addrs })
    if (c.address) this.table.recordNodes(c.address, 0, addrs.length)
    this.event('gossip', { dir: 'tx', peer: c.address ?? c.peerId, count: addrs.length })
  }

  private onAddrs (c: Connection, list: string[]): void {
    // Unasked-for: ignored, so a peer cannot push addresses at will; a peer that keeps
    // pushing is dropped.
    if (!c.awaitingAddrs) {
      c.strike('addrs nobody asked for')
      return
    }
    c.awaitingAddrs = false
    const ok = this.acceptable(list)
    let junk = 0
    for (const a of list) if (tryNormalizeAddress(a) === null) junk++
    if (junk > 0 && junk > list.length * JUNK_SHARE && !c.strike('addrs answer of junk', JUNK_STRIKES)) return
    const added = this.table.learn(ok, c.sources)
    if (c.address) this.table.recordNodes(c.address, list.length, 0)
    this.event('gossip', { dir: 'rx', peer: c.address ?? c.peerId, count: list.length, added, refused: list.length - ok.length })
  }

  // --- search ----------------------------------------------------------------------------

  /**
   * Search for members of subnet. Rows {hash, address, hops} arrive as answers come back;
   * the stream ends at the timeout, after `max` rows, or when `signal` aborts.
   */
  search (subnet: string, opts: SearchOptions = {}): Readable {
    const stream = new Readable({ objectMode: true, read () {} })
    let name: string
    try {
      name = checkSubnet(subnet)
      const limit = opts.hops ?? this.opts.hops ?? DEFAULT_HOPS
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HOP_LIMIT) throw new Error(`hops must be an integer in 1..${MAX_HOP_LIMIT}`)
      const timeout = opts.timeout ?? DEFAULT_SEARCH_TIMEOUT
      if (!(timeout >= 0)) throw new Error('timeout must be a number of ms')
      const max = opts.max ?? Infinity
      if (!(max > 0)) throw new Error('max must be a positive number')
      if (this.searches.size >= MAX_SEARCHES) throw new Error(`too many searches at once (MAX_SEARCHES is ${MAX_SEARCHES})`)
      const qid = randomHex(this.random, 8)
      let timer: Timer | null = null
      const finish = (): void => {
        if (!this.searches.has(qid)) return
        this.searches.delete(qid)
        if (timer) this.clock.clearTimeout(timer)
        opts.signal?.removeEventListener('abort', finish)
        stream.push(null)
      }
      if (opts.signal?.aborted) {
        queueMicrotask(() => stream.push(null))
        return stream
      }
      this.searches.set(qid, { subnet: name, stream, seen: new Set(), count: 0, max, finish })
      opts.signal?.addEventListener('abort', finish)
      timer = this.clock.setTimeout(finish, timeout)
      this.ready.then(() => {
        if (this.closing || !this.searches.has(qid)) return finish()
        this.seen.add(qid, { from: null, answers: 0 })
        const q: Query = { type: 'query', qid, subnet: name, hops: 1, limit }
        const frame = encodeFrame(q)
        for (const c of this.peers.values()) c.sendFrame(frame)
        this.event('search', { dir: 'out', qid, subnet: name, hops: 0 })
      }, err => stream.destroy(err as Error))
    } catch (err) {
      queueMicrotask(() => stream.destroy(err as Error))
    }
    return stream
  }

  private onQuery (c: Connection, q: Query): void {
    // Over its budget: not handled, not relayed, and a strike (a flood ends in a drop).
    if (!c.queries.take()) {
      c.strike('queries over QUERY_RATE')
      return
    }
    if (q.hops > q.limit) return
    if (this.searches.has(q.qid)) return // our own query, come back around
    if (!this.seen.add(q.qid, { from: c.peerId, answers: 0 })) return // handled once
    this.event('search', { dir: 'in', qid: q.qid, subnet: q.subnet, hops: q.hops, peer: c.address ?? c.peerId })
    if (this.table.isMember(q.subnet)) {
      const address = this.addresses()[0] ?? ''
      c.send({ type: 'answer', qid: q.qid, subnet: q.subnet, address, hops: q.hops })
      this.event('answer', { dir: 'out', qid: q.qid, subnet: q.subnet, address, hops: q.hops })
    }
    // The peer's own share first, so a flooder spends its share and not everyone's.
    if (q.hops < q.limit && c.relays.take() && this.relay.take()) {
      const next: Query = { ...q, hops: q.hops + 1 }
      const frame = encodeFrame(next)
      for (const p of this.peers.values()) if (p !== c) p.sendFrame(frame)
    }
  }

  private onAnswer (c: Connection, m: Answer): void {
    const own = this.searches.get(m.qid)
    const route = own ? undefined : this.seen.get(m.qid)
    if (!own && (route === undefined || route.from === null)) return // nobody asked (or asked long ago)
    let address = m.address === '' ? null : tryNormalizeAddress(m.address)
    // A member that knows no address for itself answers with ""; the neighbour that dialed
    // it fills in the address it dialed. Anyone else drops such an answer.
    if (m.address === '' && c.outbound && c.dialed) address = c.dialed
    if (address === null || this.selfAddresses.has(address)) return
    if (own) {
      const s = own
      if (s.subnet !== m.subnet || s.seen.has(address)) return
      s.seen.add(address)
      this.table.learn([address], c.sources)
      this.table.noteServed(address, m.subnet)
      this.event('answer', { dir: 'in', qid: m.qid, subnet: m.subnet, address, hops: m.hops })
      s.stream.push({ hash: m.subnet, address, hops: m.hops })
      if (++s.count >= s.max) s.finish()
      return
    }
    const r = route as Route
    const to = this.peers.get(r.from as string)
    if (!to || to === c || r.answers >= MAX_RELAYED_ANSWERS || !this.answerRelay.take()) return
    r.answers++
    to.send({ ...m, address })
    this.event('answer', { dir: 'forward', qid: m.qid, subnet: m.subnet, address, hops: m.hops })
  }

  // --- lifecycle -------------------------------------------------------------------------

  /** Node state for status displays. */
  status (): { id: string, network: string, uptime: number, connections: number, inbound: number, outbound: number, handshaking: number, dialing: number, known: number, saved: number, learned: number, tombstones: number, subnets: number, searches: number, seen: number, addresses: string[] } {
    const t = this.table
    return {
      id: this.id,
      network: this.network,
      uptime: this.clock.now() - this.startedAt,
      connections: this.peers.size,
      inbound: this.inboundCount(),
      outbound: this.outboundCount(),
      handshaking: this.handshaking.size,
      dialing: this.dialing.size,
      known: t?.size ?? 0,
      saved: t?.savedCount ?? 0,
      learned: t?.learnedCount ?? 0,
      tombstones: t?.tombstoneCount ?? 0,
      subnets: t?.subnets().length ?? 0,
      searches: this.searches.size,
      seen: this.seen.size,
      addresses: this.addresses()
    }
  }

  /** Stop timers, say goodbye to every peer, end running searches, flush the table. */
  close (cb?: Callback<void>): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        await null // so this.closing is set before the goodbyes below run their close handlers
        for (const t of this.timers.values()) this.clock.clearTimeout(t)
        this.timers.clear()
        for (const s of [...this.searches.values()]) s.finish()
        for (const c of [...this.peers.values(), ...this.handshaking]) c.close('node is shutting down', false, true)
        try {
          await this.ready
        } catch {
          return
        }
        await this.table.close()
        this.emit('close')
      })()
    }
    return settle(this.closing, cb)
  }
}
