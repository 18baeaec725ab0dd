// Search: this node's own searches, and the queries and answers it handles for others. Once the
// node has joined the ring (and while a new successor of a joined node awaits its agreement: see
// RingCore.routable), or while it is not joined yet but linked to a node whose hello said it is
// (RingCore.reachesRing: the lookup goes in through that link), a search is a lookup of the
// subnet's point: the responsible node (or a replica) answers with the members' signed records,
// each checked here, and that answer ends the search, even when it holds no member. Otherwise
// (no way into the ring, the ring is off, the lookup failed, or `flood` was asked for) a query
// floods hop by hop up to its limit; each node handles a query id once (the seen cache), answers
// when it is a member, relays within its budgets, and sends answers back the way the query came.
// A search made before the node has any link waits for its first; one made while the node has
// no way into the ring but dials under way waits for them too, a while (RING_WAIT).
import { Readable } from 'node:stream'
import { TokenBucket, QUERY_RATE, QUERY_BURST, type Connection } from './connection.js'
import { SeenCache } from './seen.js'
import type { PeerSet } from './peers.js'
import { peerName } from './peers.js'
import type { OwnAddresses } from './own.js'
import type { NodeContext, SearchOptions, SearchRow } from './types.js'
import type { Timer } from './clock.js'
import { randomHex } from '../util/random.js'
import { DEFAULT_SEARCH_TIMEOUT, MAX_SEARCH_TIMEOUT } from './defaults.js'
import { encodeFrame } from '../wire/frame.js'
import { tryNormalizeAddress } from '../transport/address.js'
import { type Query, type Answer, MAX_HOP_LIMIT, checkSubnet } from '../wire/messages.js'
import type { RingLinks } from './ring.js'
import type { RingRecord } from '../wire/record.js'

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
/**
 * How long a query id is remembered, ms: for "handle once", and for the way back of answers,
 * which matters only while the asker's search still waits for them, at most MAX_SEARCH_TIMEOUT.
 */
export const SEEN_TTL = MAX_SEARCH_TIMEOUT
/**
 * Most query ids remembered from one peer: all that its query budget (QUERY_BURST, then
 * QUERY_RATE a second) lets it send in SEEN_TTL, so a peer within its budget never loses a route
 * of its own; past that, it evicts its own oldest, never another peer's...
 */
export const MAX_SEEN_PER_PEER = QUERY_BURST + QUERY_RATE * SEEN_TTL / 1000
/**
 * ...and most in all (about 12 MB): room for 7 peers at their full budget at once.
 * Past it the largest share gives up its oldest entry, so a peer sending less than the
 * others keeps its routes. (Room for every peer's full budget would be MAX_INBOUND and the
 * outbound links, times MAX_SEEN_PER_PEER: over 400,000.)
 */
export const MAX_SEEN = 50_000
/**
 * How long a search made while the node has no way into the ring waits for the dials it has
 * under way, at most, ms (and never more than half its timeout, so a flood still has time to
 * be answered). A node just started opens its first links one by one, and the first to open may
 * be to a node not on the ring yet while the next is to one that is: by the ring, a search costs
 * ~log N frames; flooded, thousands. A second covers a dial and its handshake on most paths.
 */
export const RING_WAIT = 1000
/** Most of this node's own searches running at once. */
export const MAX_SEARCHES = 256
/** Most answers one search of ours takes (and learns into the table); then it ends. */
export const MAX_SEARCH_ANSWERS = 1000
export { MAX_SEARCH_TIMEOUT }

/** The owner of our own searches' seen entries (no peer has the empty id). */
const OURS = ''

/** Where a query came from (null: our own search) and how many answers went back that way. */
interface Route { from: string | null, answers: number }

interface LocalSearch {
  qid: string
  subnet: string
  stream: Readable
  /** Addresses (flood answers) and ids (ring records) that answered: at most `max` of them. */
  answered: Set<string>
  max: number
  /** Hop limit of the flood, if it comes to one. */
  limit: number
  /** `flood` was asked for: the ring is not asked. */
  floodOnly: boolean
  /** When its timeout ends it. */
  ends: number
  /** Until when it may wait for dials under way to open a way into the ring (set when it first does). */
  waitUntil: number | null
  /** The timer that ends that wait. */
  waitTimer: Timer | null
  finish: () => void
}

export class Search {
  private readonly seen: SeenCache<Route>
  private readonly relay: TokenBucket
  private readonly answerRelay: TokenBucket
  /** Each peer's share of what we relay (RELAY_PEER_RATE, RELAY_PEER_BURST). */
  private readonly relays = new WeakMap<Connection, TokenBucket>()
  private readonly running = new Map<string, LocalSearch>()
  /**
   * Searches not begun: made with no link at all (a node just started), which go at the first;
   * or with no way into the ring while dials are under way, which go when one opens it, or when
   * the dials are done or their wait is over (RING_WAIT), by the flood.
   */
  private readonly waiting = new Set<LocalSearch>()

  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    private readonly own: OwnAddresses,
    /** The hop limit of a search that names none. */
    private readonly hops: number,
    /** The ring, once the node has one (it is made when the node is ready). */
    private readonly ring: () => RingLinks | null = () => null,
    /** Whether the node has a dial under way whose link has not opened yet. */
    private readonly dialing: () => boolean = () => false
  ) {
    const now = (): number => ctx.clock.now()
    this.seen = new SeenCache(MAX_SEEN, MAX_SEEN_PER_PEER, SEEN_TTL, now)
    this.relay = new TokenBucket(RELAY_RATE, RELAY_BURST, now)
    this.answerRelay = new TokenBucket(ANSWER_RELAY_RATE, ANSWER_RELAY_BURST, now)
  }

  /** Our searches running now. */
  get size (): number { return this.running.size }
  /** Query ids remembered now. */
  get seenSize (): number { return this.seen.size }

  /**
   * Search for members of subnet (a string, or a Buffer holding one). Rows arrive as answers
   * come back; the stream ends at the timeout, after `max` rows, or when `signal` aborts. Bad
   * options end it with an error on the stream when it has an error listener, else through the
   * node's `error` event (so a caller who listens to neither is not crashed).
   */
  start (subnet: string | Uint8Array, opts: SearchOptions = {}): Readable {
    const stream = new Readable({ objectMode: true, read () {} })
    try {
      const name = checkSubnet(subnet instanceof Uint8Array ? Buffer.from(subnet).toString('utf8') : subnet)
      const limit = opts.hops ?? this.hops
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HOP_LIMIT) throw new Error(`hops must be an integer in 1..${MAX_HOP_LIMIT}`)
      const timeout = opts.timeout ?? DEFAULT_SEARCH_TIMEOUT
      if (!(timeout >= 0 && timeout <= MAX_SEARCH_TIMEOUT)) throw new Error(`timeout must be a number of ms in 0..${MAX_SEARCH_TIMEOUT} (MAX_SEARCH_TIMEOUT)`)
      const max = Math.min(opts.max ?? Infinity, MAX_SEARCH_ANSWERS)
      if (!(max > 0)) throw new Error('max must be a positive number')
      if (this.running.size >= MAX_SEARCHES) throw new Error(`too many searches at once (MAX_SEARCHES is ${MAX_SEARCHES})`)
      if (opts.signal?.aborted) {
        queueMicrotask(() => stream.push(null))
        return stream
      }
      const qid = randomHex(this.ctx.random, 8)
      let timer: Timer | null = null
      const finish = (): void => {
        if (!this.running.has(qid)) return
        this.running.delete(qid)
        this.waiting.delete(s)
        if (timer) this.ctx.clock.clearTimeout(timer)
        if (s.waitTimer !== null) this.ctx.clock.clearTimeout(s.waitTimer)
        opts.signal?.removeEventListener('abort', finish)
        stream.push(null)
      }
      const s: LocalSearch = { qid, subnet: name, stream, answered: new Set(), max, limit, floodOnly: opts.flood === true, ends: this.ctx.clock.now() + timeout, waitUntil: null, waitTimer: null, finish }
      this.running.set(qid, s)
      opts.signal?.addEventListener('abort', finish)
      timer = this.ctx.clock.setTimeout(finish, timeout)
      this.ctx.ready.then(() => {
        if (this.ctx.closing || !this.running.has(qid)) return finish()
        this.begin(s)
      }, err => {
        finish()
        this.fail(stream, err as Error)
      })
    } catch (err) {
      queueMicrotask(() => this.fail(stream, err as Error))
    }
    return stream
  }

  /**
   * A peer link opened, or a dial ended: searches waiting for one may go now. (Flooded over no
   * link, a search made the moment a node starts would find nothing, though the node is a dial
   * away from the network.)
   */
  linked (): void {
    if (this.waiting.size === 0) return
    const waiting = [...this.waiting]
    this.waiting.clear()
    for (const s of waiting) this.begin(s)
  }

  /**
   * How a search goes: by the ring when the node is on it or linked to it, else by the flood;
   * over no link, or while a dial under way may open a way into the ring (for RING_WAIT from
   * its first link, at most half the time it has left), not yet.
   */
  private begin (s: LocalSearch): void {
    if (!this.running.has(s.qid)) return
    if (this.peers.size === 0) {
      this.waiting.add(s)
      return
    }
    const ring = s.floodOnly ? null : this.ring()
    const reached = ring !== null && ring.reachesRing()
    const now = this.ctx.clock.now()
    // The wait counts from the search's first link (a node's first dial may take a while).
    s.waitUntil ??= now + Math.min(RING_WAIT, (s.ends - now) / 2)
    if (ring !== null && !reached && now < s.waitUntil && this.dialing()) {
      this.waiting.add(s)
      s.waitTimer ??= this.ctx.clock.setTimeout(() => {
        s.waitTimer = null
        s.waitUntil = 0 // over: it floods now, if the ring is still out of reach
        this.waiting.delete(s)
        this.begin(s)
      }, s.waitUntil - now)
      return
    }
    // It goes now, once: a wait it had is over.
    if (s.waitTimer !== null) {
      this.ctx.clock.clearTimeout(s.waitTimer)
      s.waitTimer = null
    }
    if (ring !== null && reached) this.viaRing(s, ring)
    else this.flood(s)
  }

  /**
   * Ask the ring: the records of the subnet's point, as the responsible node (or a replica)
   * holds them. Its answer ends the search, members or none; a lookup that fails (no route, no
   * answer in time) falls back to the flood.
   */
  private viaRing (s: LocalSearch, ring: RingLinks): void {
    this.ctx.event('search', { dir: 'out', qid: s.qid, subnet: s.subnet, hops: 0 })
    ring.members(s.subnet, s.max).then(res => {
      if (!this.running.has(s.qid)) return
      // Each member once, up to the search's max.
      const fresh: RingRecord[] = []
      for (const r of res.records) {
        if (s.answered.size >= s.max) break
        if (r.id === this.ctx.table.id || s.answered.has(r.id)) continue
        s.answered.add(r.id)
        fresh.push(r)
      }
      this.members(s, fresh, res.hops, res.owner)
      if (this.running.has(s.qid)) s.finish()
    }, () => {
      if (this.running.has(s.qid)) this.flood(s)
    })
  }

  /**
   * The members' records the ring gave a search of ours (checked by the ring: signature, point,
   * expiry), as rows. Their addresses are learned as one answer from the node that gave it, as a
   * gossip answer's are: a full table takes at most displaceCap of them (DISPLACE_SHARE), rather
   * than one entry each of a hundred members.
   */
  private members (s: LocalSearch, records: readonly RingRecord[], hops: number, owner: string): void {
    const lists = records.map(r => this.own.acceptable(r.addresses))
    // Each address is its member's own word, signed: a hint of its id (the first member's, should
    // two name one address).
    const hints = new Map<string, string>()
    const all: string[] = []
    records.forEach((r, i) => {
      for (const a of lists[i]) {
        if (hints.has(a)) continue
        hints.set(a, r.id)
        all.push(a)
      }
    })
    if (all.length > 0) this.ctx.table.learn(all, ['id:' + owner], a => hints.get(a))
    for (const a of all) this.ctx.table.noteServed(a, s.subnet)
    for (let i = 0; i < records.length; i++) {
      const r = records[i]
      const addresses = lists[i]
      const address = addresses[0] ?? null
      this.ctx.event('answer', { dir: 'in', qid: s.qid, subnet: s.subnet, address: address ?? r.id, hops })
      const row: SearchRow = { hash: s.subnet, address, hops, id: r.id, addresses, via: 'ring' }
      s.stream.push(row)
      // Its reader may have ended it.
      if (!this.running.has(s.qid)) return
    }
  }

  /** Flood a query to every link, hop by hop up to the search's limit. */
  private flood (s: LocalSearch): void {
    this.seen.add(s.qid, OURS, { from: null, answers: 0 })
    const q: Query = { type: 'query', qid: s.qid, subnet: s.subnet, hops: 1, limit: s.limit }
    const frame = encodeFrame(q)
    for (const c of this.floodLinks(null)) c.sendFrame(frame, 'query')
    this.ctx.event('search', { dir: 'out', qid: s.qid, subnet: s.subnet, hops: 0 })
  }

  /**
   * The links a flood goes on (but `except`): the gossip links, as the ring's are for routing
   * and the gossip overlay is connected on its own (over every ring link too, a flood would cost
   * about four times the frames); every link on a node that has no gossip link. (A node whose
   * one gossip link brought the query is a leaf of that overlay: it relays nowhere.)
   */
  private floodLinks (except: Connection | null): Connection[] {
    const all: Connection[] = []
    let gossip = false
    for (const c of this.peers) {
      gossip ||= !c.ring
      if (c !== except) all.push(c)
    }
    return gossip ? all.filter(c => !c.ring) : all
  }

  /** End every search of ours (the node is closing). */
  close (): void {
    for (const s of [...this.running.values()]) s.finish()
  }

  onQuery (c: Connection, q: Query): void {
    // Over its budget: not handled, not relayed, and a strike (a flood ends in a drop).
    if (!c.queries.take()) {
      c.strike('queries over QUERY_RATE')
      return
    }
    if (q.hops > q.limit) return
    if (this.running.has(q.qid)) return // our own query, come back around
    if (!this.seen.add(q.qid, c.peerId, { from: c.peerId, answers: 0 })) return // handled once
    this.ctx.event('search', { dir: 'in', qid: q.qid, subnet: q.subnet, hops: q.hops, peer: peerName(c) })
    if (this.ctx.table.isMember(q.subnet)) {
      const address = this.own.list()[0] ?? ''
      c.send({ type: 'answer', qid: q.qid, subnet: q.subnet, address, hops: q.hops })
      this.ctx.event('answer', { dir: 'out', qid: q.qid, subnet: q.subnet, address, hops: q.hops })
    }
    // The peer's own share first, so a flooder spends its share and not everyone's.
    if (q.hops < q.limit && this.relayShare(c).take() && this.relay.take()) {
      const frame = encodeFrame({ ...q, hops: q.hops + 1 })
      for (const p of this.floodLinks(c)) p.sendFrame(frame, 'query')
    }
  }

  onAnswer (c: Connection, m: Answer): void {
    const own = this.running.get(m.qid)
    const route = own ? undefined : this.seen.get(m.qid)
    if (!own && (route === undefined || route.from === null)) return // nobody asked (or asked long ago)
    let address = m.address === '' ? null : tryNormalizeAddress(m.address)
    // A member that knows no address for itself answers with ""; the neighbour that dialed
    // it fills in the address it dialed. Anyone else drops such an answer.
    if (m.address === '' && c.outbound && c.dialed) address = c.dialed
    if (address === null || this.own.has(address)) return
    if (own) return this.answered(own, c, m, address)
    const r = route as Route
    const to = this.peers.get(r.from as string)
    if (!to || to === c || r.answers >= MAX_RELAYED_ANSWERS || !this.answerRelay.take()) return
    r.answers++
    to.send({ ...m, address })
    this.ctx.event('answer', { dir: 'forward', qid: m.qid, subnet: m.subnet, address, hops: m.hops })
  }

  /** An answer to a search of ours. */
  private answered (s: LocalSearch, c: Connection, m: Answer, address: string): void {
    if (s.subnet !== m.subnet || s.answered.has(address)) return
    s.answered.add(address)
    this.ctx.table.learn([address], c.sources)
    this.ctx.table.noteServed(address, m.subnet)
    this.ctx.event('answer', { dir: 'in', qid: m.qid, subnet: m.subnet, address, hops: m.hops })
    const row: SearchRow = { hash: m.subnet, address, hops: m.hops, id: null, addresses: [address], via: 'flood' }
    s.stream.push(row)
    if (s.answered.size >= s.max) s.finish()
  }

  /** End a search's stream with err: on the stream when someone listens there, else as the node's error. */
  private fail (stream: Readable, err: Error): void {
    if (stream.listenerCount('error') > 0) {
      stream.destroy(err)
    } else {
      stream.push(null)
      this.ctx.fail(err)
    }
  }

  private relayShare (c: Connection): TokenBucket {
    let b = this.relays.get(c)
    if (b === undefined) this.relays.set(c, b = new TokenBucket(RELAY_PEER_RATE, RELAY_PEER_BURST, () => this.ctx.clock.now()))
    return b
  }
}
