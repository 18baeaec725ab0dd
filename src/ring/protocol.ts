// The ring's protocol, sans I/O: RingCore is told of links (linkUp, linkDown), messages
// (receive) and time (tick), and acts only through the callbacks it was given (send, wantLink,
// dropLink) and its events. The node wires it to real links; tests and the simulation wire it
// to an in-process queue. Lookups are recursive: forwarded hop by hop over live links to the
// node responsible for their target, whose answer retraces the path (each node on it remembers,
// for a while, where the lookup came from).
import { EventEmitter } from 'node:events'
import { addPow2, arcFraction, betweenOpen, fromBig, randomInRange, toBig } from './ids.js'
import { RoutingTable, REPLICAS, LINKED_SUCCESSORS, ringLinkBudget, type Hop } from './routing.js'
import { RecordStore } from './store.js'
import { Records } from './records.js'
import { type RingRecord, type VerifyContext } from './record.js'
import { idOf, type KeyPair } from '../node/identity.js'
import { randomHex, type Random } from '../util/random.js'
import { MAX_RECORDS_PER_MESSAGE, MAX_SKIP, type LookupOp, type RingFound, type RingLookup, type RingMessage, type RingPeer } from '../wire/ring.js'
import type { Envelope } from '../wire/record.js'

/** Default length of a round (stabilise, finger and upkeep period), ms: the gossip interval. */
export const RING_INTERVAL = 5000
/**
 * Hops a lookup may travel: ~½·log2 N are needed (7 at N = 10,000); four times that leaves room
 * for detours around failed nodes, and a loop dies within it.
 */
export const LOOKUP_TTL = 32
/** How long a lookup waits for its answer before it fails, ms (a search's default timeout). */
export const LOOKUP_TIMEOUT = 5000
/**
 * How long before a lookup is sent again past a silent responsible node (to a replica), ms: a
 * path of ~7 hops answers in well under a second on a real network.
 */
export const LOOKUP_RETRY = 1500
/** Lookups passing through a node whose answers it can route back; the oldest goes first. */
export const MAX_ROUTES = 4096
/** Lookups of this node's own in flight: past it, a new one fails at once. */
export const MAX_PENDING = 1024
/** Rounds between two finger lookups: one range at a time, so fingers cost ~1 frame a round. */
export const FINGER_EVERY = 4
/** Rounds before a finger range found empty is looked up again. */
export const FINGER_RETRY = 32
/** Rounds between two join lookups (for this node's own successor) while not joined. */
export const JOIN_EVERY = 2
/**
 * Most rounds between two checks of the successor by a lookup once joined. Stabilise alone
 * cannot repair a ring whose successor pointers go round the circle more than once (nodes
 * that all started at once from random links); a lookup for this node's own successor does.
 * The gap doubles from JOIN_EVERY each time the check agrees, up to this, so a settled ring
 * pays ~1 frame a node every few rounds for it.
 */
export const CHECK_EVERY_MAX = 32
/**
 * Ring links a node may ask for over its budget for its successors and predecessor (which are
 * never refused for a finger's sake), and no more: a flood of lookups naming nearer "successors"
 * makes a node dial this many at most.
 */
export const RING_LINK_SLACK = LINKED_SUCCESSORS + 1
/** Rounds before a link asked for and not made is asked for again. */
export const WANT_RETRY = 4

/** The `final` mark of a hop to the node the sender holds responsible (see RoutingTable.nextHop). */
function finalFlag (hop: Hop): { final?: true } {
  return hop.kind === 'final' ? { final: true } : {}
}

export type RingStatus = 'lonely' | 'unbalanced' | 'joined'

export interface LookupResult {
  owner: RingPeer
  pred: string | null
  hops: number
  replica: boolean
  records: RingRecord[]
  stored: number
  envelope?: Envelope
}
export type LookupCallback = (err: Error | null, result?: LookupResult) => void

export interface RingCoreOptions {
  keyPair: KeyPair
  network: string
  random: Random
  /** This node's own addresses, as it advertises them. */
  addresses: () => string[]
  send: (to: string, message: RingMessage) => void
  wantLink: (id: string, addresses: string[]) => void
  dropLink: (id: string) => void
  now: number
  interval?: number
  /** The record check (default verifyRecord; a simulation may stub it). */
  verify?: (record: unknown, ctx: VerifyContext) => string | null
  /** Answers a routed envelope addressed to this node (remote actions, messages). */
  onEnvelope?: (envelope: Envelope) => Envelope | null
}

interface Pending { target: string, op: LookupOp, cb: LookupCallback, started: number, sent: number, next: string, checked: boolean, msg: RingLookup }
interface Route { prev: string, next: string, expires: number }

export class RingCore extends EventEmitter {
  readonly id: string
  readonly table: RoutingTable
  readonly store: RecordStore
  readonly records: Records
  private readonly o: RingCoreOptions
  private readonly interval: number
  private now: number
  private round = 0
  private nextRound: number
  private readonly pending = new Map<string, Pending>()
  private readonly routes = new Map<string, Route>()
  private readonly asked = new Map<string, number>()
  private readonly fingerTried = new Map<number, number>()
  private readonly ours = new Set<string>()
  private agreed = false
  private checkGap = JOIN_EVERY
  private nextCheck = JOIN_EVERY
  private state: RingStatus = 'lonely'

  constructor (opts: RingCoreOptions) {
    super()
    this.o = opts
    this.id = idOf(opts.keyPair.publicKey)
    this.now = opts.now
    this.interval = opts.interval ?? RING_INTERVAL
    this.nextRound = this.now + this.interval
    this.table = new RoutingTable(this.id)
    const storeOpts = { network: opts.network, random: opts.random, ...(opts.verify === undefined ? {} : { verify: opts.verify }) }
    this.store = new RecordStore(storeOpts)
    this.records = new Records(this, opts.keyPair, opts.network, opts.verify)
  }

  /** Ring links this node asked for (and has, or is waiting for): what its budget counts. */
  get ringLinks (): number {
    return this.ours.size
  }

  get time (): number {
    return this.now
  }

  status (): RingStatus {
    return this.state
  }

  me (): RingPeer {
    return { id: this.id, addrs: this.o.addresses() }
  }

  // --- inputs ------------------------------------------------------------------------------

  linkUp (id: string, addresses: string[]): void {
    const before = this.snapshot()
    this.table.linkUp(id, addresses)
    this.asked.delete(id)
    // A live node between the predecessor and this one is a nearer predecessor.
    this.adoptPred(id)
    this.changed(before)
  }

  /** id may be the predecessor (it said so, or it is a live link before this node). */
  private adoptPred (id: string): void {
    const old = this.table.predecessor()
    if (this.table.notified(id) && old !== null) {
      // A node joined between the old predecessor and this one: the records of (old, id]
      // are its now. This node keeps copies (it is their first replica).
      this.records.handOver(id, this.store.inRange(old, id))
    }
  }

  linkDown (id: string): void {
    const before = this.snapshot()
    this.table.linkDown(id)
    this.ours.delete(id)
    // Lookups sent over the link will never be answered through it: retry them now.
    for (const [qid, p] of this.pending) if (p.next === id) this.retry(qid, p, false)
    this.changed(before)
  }

  receive (from: string, m: RingMessage): void {
    if (!this.table.isLinked(from)) return
    switch (m.type) {
      case 'ring.lookup': return this.onLookup(from, m)
      case 'ring.found': return this.onFound(from, m)
      case 'ring.stab': return this.onStab(from, m.addrs)
      case 'ring.stabok': {
        const before = this.snapshot()
        for (const p of [...m.succs, ...(m.pred === null ? [] : [m.pred])]) this.table.learn(p.id, p.addrs)
        this.table.stabilised(from, m.pred?.id ?? null, m.succs.map(p => p.id))
        this.agreed = m.pred?.id === this.id
        return this.changed(before)
      }
      case 'ring.store':
        for (const r of m.records) this.store.put(r, this.now)
    }
  }

  tick (now: number): void {
    this.now = now
    for (const [qid, p] of this.pending) {
      if (now - p.started >= LOOKUP_TIMEOUT) this.finish(qid, new Error(`lookup timed out after ${LOOKUP_TIMEOUT} ms`))
      else if (now - p.sent >= LOOKUP_RETRY && p.op !== 'deliver') this.retry(qid, p, true)
    }
    for (const [qid, r] of this.routes) if (r.expires <= now) this.routes.delete(qid)
    while (now >= this.nextRound) {
      this.nextRound += this.interval
      this.upkeep()
    }
  }

  // --- lookups -----------------------------------------------------------------------------

  /** Routes a lookup for target; cb gets the responsible node's answer or an error. */
  lookup (target: string, op: LookupOp, cb: LookupCallback, extra: { max?: number, records?: RingRecord[], envelope?: Envelope, avoid?: string } = {}, via?: string): void {
    if (this.pending.size >= MAX_PENDING) return cb(new Error(`MAX_PENDING (${MAX_PENDING}) lookups in flight`))
    const qid = randomHex(this.o.random, 16)
    const msg: RingLookup = { type: 'ring.lookup', qid, target, at: target, skip: 0, op, hops: 0, ttl: LOOKUP_TTL, origin: this.me(), ...extra }
    const hop: Hop = via !== undefined && this.table.isLinked(via) ? { kind: 'forward', to: via } : this.table.nextHop(target)
    if (hop.kind === 'self') return cb(null, this.answerHere(msg))
    this.pending.set(qid, { target, op, cb, started: this.now, sent: this.now, next: hop.to, checked: false, msg })
    this.o.send(hop.to, { ...msg, hops: 1, ...finalFlag(hop) })
  }

  /**
   * Sends a lookup again under a new qid (an answer to the old one is ignored): over another
   * link when its first one went down, or, when it went unanswered (`past`), past the
   * responsible node (skip + 1), so the next of the REPLICAS holders answers instead. A node
   * on the path that drops lookups may be skipped that way too when it is the last one; one in
   * the middle makes every attempt fail, and the search falls back to the flood.
   */
  private retry (qid: string, p: Pending, past: boolean): void {
    this.pending.delete(qid)
    const skip = p.msg.skip + (past ? 1 : 0)
    if (skip >= Math.min(REPLICAS, MAX_SKIP)) return p.cb(new Error('no answer from the responsible node or its replicas'))
    const msg = { ...p.msg, qid: randomHex(this.o.random, 16), skip }
    const hop = this.table.nextHop(msg.at, undefined, msg.avoid)
    if (hop.kind === 'self') return p.cb(null, this.answerHere(msg))
    this.pending.set(msg.qid, { ...p, sent: this.now, next: hop.to, msg })
    this.o.send(hop.to, { ...msg, hops: 1, ...finalFlag(hop) })
  }

  private onLookup (from: string, m: RingLookup): void {
    this.consider(m.origin)
    if (this.routes.has(m.qid) || this.pending.has(m.qid)) return this.reply(from, m, { error: 'routing loop' })
    if (m.hops >= m.ttl) return this.reply(from, m, { error: `TTL of ${m.ttl} hops exceeded` })
    let hop: Hop = this.table.nextHop(m.at, m.final === true ? from : undefined, m.avoid)
    if (hop.kind !== 'forward' && m.skip > 0) {
      // A retry past a silent node: the responsible one (this node, or the next hop) is skipped,
      // and the lookup goes on to the node after it, a replica.
      const skipped = hop.kind === 'self' ? this.id : hop.to
      m = { ...m, at: fromBig(toBig(skipped) + 1n), skip: m.skip - 1, avoid: skipped }
      if (hop.kind === 'self') {
        const s = this.table.successor()
        if (s === null || !this.table.isLinked(s)) return this.reply(from, m, this.answerHere(m))
        hop = { kind: 'final', to: s }
      } else hop = this.table.nextHop(m.at, undefined, m.avoid)
    }
    if (hop.kind === 'self') return this.reply(from, m, this.answerHere(m))
    if (this.routes.size >= MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string)
    this.routes.set(m.qid, { prev: from, next: hop.to, expires: this.now + LOOKUP_TIMEOUT })
    const { final: _final, ...rest } = m
    this.o.send(hop.to, { ...rest, hops: m.hops + 1, ...finalFlag(hop) })
  }

  /** This node's answer to a lookup it is responsible for (or a replica of, after a skip). */
  private answerHere (m: RingLookup): LookupResult {
    const res: LookupResult = { owner: this.me(), pred: this.table.predecessor(), hops: m.hops, replica: m.at !== m.target, records: [], stored: 0 }
    if (m.op === 'fetch') res.records = this.store.pick(m.target, Math.min(m.max ?? MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE), this.now)
    if (m.op === 'store') res.stored = this.records.accept(m.target, m.records ?? [])
    if (m.op === 'deliver' && m.envelope !== undefined) {
      const reply = m.target === this.id ? this.o.onEnvelope?.(m.envelope) ?? null : null
      if (reply !== null) res.envelope = reply
    }
    return res
  }

  private reply (to: string, m: RingLookup, r: Partial<LookupResult> & { error?: string }): void {
    const found: RingFound = { type: 'ring.found', qid: m.qid, hops: m.hops, owner: r.owner ?? this.me(), pred: r.pred ?? this.table.predecessor() }
    if (r.replica === true) found.replica = true
    if (r.records !== undefined && r.records.length > 0) found.records = r.records
    if (r.stored !== undefined && m.op === 'store') found.stored = r.stored
    if (r.envelope !== undefined) found.envelope = r.envelope
    if (m.op === 'deliver' && r.error === undefined && r.envelope === undefined) found.error = m.target === this.id ? 'no reply' : 'no node with that id'
    if (r.error !== undefined) found.error = r.error
    this.o.send(to, found)
  }

  private onFound (from: string, m: RingFound): void {
    this.consider(m.owner)
    const route = this.routes.get(m.qid)
    if (route !== undefined) {
      if (route.next !== from) return
      this.routes.delete(m.qid)
      return this.o.send(route.prev, m)
    }
    const p = this.pending.get(m.qid)
    if (p === undefined || p.next !== from) return
    if (m.error !== undefined) return this.finish(m.qid, new Error(m.error))
    // The asker's check of the claim: a node it links to that lies between the target and the
    // claimed owner owns the target more plausibly; ask it directly, once.
    const closer = p.msg.skip === 0 && !p.checked ? this.table.closerOwner(p.target, m.owner.id) : null
    if (closer !== null) {
      this.pending.set(m.qid, { ...p, next: closer, checked: true })
      return this.o.send(closer, { ...p.msg, hops: 1, final: true })
    }
    this.finish(m.qid, null, {
      owner: m.owner, pred: m.pred, hops: m.hops, replica: m.replica === true, records: m.records ?? [], stored: m.stored ?? 0, ...(m.envelope === undefined ? {} : { envelope: m.envelope })
    })
  }

  private finish (qid: string, err: Error | null, res?: LookupResult): void {
    const p = this.pending.get(qid)
    if (p === undefined) return
    this.pending.delete(qid)
    p.cb(err, res)
  }

  // --- stabilise and links -----------------------------------------------------------------

  private onStab (from: string, addrs: string[]): void {
    const before = this.snapshot()
    this.table.learn(from, addrs)
    this.adoptPred(from)
    const peerOf = (id: string): RingPeer => ({ id, addrs: this.table.addressesOf(id) ?? [] })
    const pred = this.table.predecessor()
    this.o.send(from, { type: 'ring.stabok', pred: pred === null ? null : peerOf(pred), succs: this.table.successors().slice(0, -1).map(peerOf) })
    this.changed(before)
  }

  /** A node seen on a lookup's way: a finger if it fills a range this node has none in. */
  private consider (p: RingPeer): void {
    if (p.id === this.id || this.table.isLinked(p.id)) return
    this.table.learn(p.id, p.addrs)
    // Nearer than the successor or the predecessor: worth a link (it then takes the role).
    const s = this.table.successor()
    const pred = this.table.predecessor()
    if ((s !== null && betweenOpen(p.id, this.id, s)) || (pred !== null && betweenOpen(p.id, pred, this.id))) return this.want(p.id, true)
    if (this.table.fillsGap(p.id)) this.want(p.id)
  }

  /** Asks for a link to id; over the budget only when `needed` (successors, predecessor). */
  private want (id: string, needed = false): void {
    if (this.table.isLinked(id) || id === this.id) return
    const last = this.asked.get(id)
    if (last !== undefined && this.round - last < WANT_RETRY) return
    if (this.ours.size >= ringLinkBudget(this.table.estimateN()) + (needed ? RING_LINK_SLACK : 0)) return
    const addrs = this.table.addressesOf(id)
    if (addrs === undefined) return
    this.asked.set(id, this.round)
    this.ours.add(id)
    this.o.wantLink(id, addrs)
  }

  /** One round: stabilise with the successor, join, a finger, links, records. */
  private upkeep (): void {
    this.round++
    const before = this.snapshot()
    const succ = this.table.successor()
    if (succ !== null && this.table.isLinked(succ)) this.o.send(succ, { type: 'ring.stab', addrs: this.o.addresses() })
    for (const id of this.table.successors().slice(0, LINKED_SUCCESSORS)) this.want(id, true)
    const pred = this.table.predecessor()
    if (pred !== null) this.want(pred, true)
    if (this.state !== 'joined') this.checkGap = JOIN_EVERY
    if (this.table.linkCount > 0 && (this.round >= this.nextCheck || (this.state !== 'joined' && this.round % JOIN_EVERY === 0))) {
      this.nextCheck = this.round + this.checkGap
      // Started at a random link and routed around this node: from this node itself, or through
      // it, the lookup could only reach the successor it already has; from elsewhere it comes
      // in along other nodes' pointers.
      const links = this.table.liveLinks()
      const via = links[Math.floor(this.o.random() * links.length)]
      this.lookup(addPow2(this.id, 0), 'owner', (err, res) => {
        if (err !== null || res === undefined || res.owner.id === this.id) return
        const agreed = res.owner.id === this.table.successor()
        this.checkGap = agreed ? Math.min(CHECK_EVERY_MAX, this.checkGap * 2) : JOIN_EVERY
        this.table.learn(res.owner.id, res.owner.addrs)
        this.want(res.owner.id, true)
      }, { avoid: this.id }, via)
    }
    if (this.round % FINGER_EVERY === 0) this.refreshFinger()
    this.dropSurplus()
    this.records.upkeep(this.now)
    this.store.sweep(this.now)
    const n = this.table.estimateN()
    this.store.prune(point => this.table.isResponsible(point) || arcFraction(point, this.id) <= 2 * REPLICAS / n)
    this.changed(before)
  }

  /** Looks up one empty finger range (not tried lately): the node found there becomes its finger. */
  private refreshFinger (): void {
    if (this.state === 'lonely') return
    const empty = this.table.fingers().filter(f => f.id === null && this.round - (this.fingerTried.get(f.range) ?? -Infinity) >= FINGER_RETRY)
    if (empty.length === 0) return
    const range = empty[Math.floor(this.o.random() * empty.length)].range
    this.fingerTried.set(range, this.round)
    this.lookup(randomInRange(this.id, range, this.o.random), 'owner', (err, res) => {
      if (err !== null || res === undefined) return
      this.table.learn(res.owner.id, res.owner.addrs)
      if (this.table.rangeOf(res.owner.id) === range) this.want(res.owner.id)
    })
  }

  /** Drops ring links this node asked for that it no longer wants, once over its budget. */
  private dropSurplus (): void {
    // A link asked for and never made (the dial failed) stops counting against the budget.
    for (const id of [...this.ours]) {
      if (!this.table.isLinked(id) && this.round - (this.asked.get(id) ?? 0) >= WANT_RETRY) this.ours.delete(id)
    }
    for (const [id, round] of this.asked) if (this.round - round >= WANT_RETRY) this.asked.delete(id)
    const budget = ringLinkBudget(this.table.estimateN())
    if (this.ours.size <= budget) return
    const keep = this.table.wanted()
    for (const id of [...this.ours]) {
      if (this.ours.size <= budget) break
      if (keep.has(id)) continue
      this.ours.delete(id)
      if (this.table.isLinked(id)) this.o.dropLink(id)
    }
  }

  // --- state and events --------------------------------------------------------------------

  private snapshot (): [string | null, string | null, string] {
    return [this.table.successor(), this.table.predecessor(), this.replicaKey()]
  }

  /** The linked replica targets, as one string: a change means copies are due. */
  private replicaKey (): string {
    return this.table.replicaTargets().filter(id => this.table.isLinked(id)).join()
  }

  private changed ([succ, pred, replicas]: [string | null, string | null, string]): void {
    const s = this.table.successor()
    const p = this.table.predecessor()
    if (replicas !== this.replicaKey()) this.records.successorsChanged()
    if (s !== succ) {
      this.agreed = false
      if (s !== null) this.want(s, true)
      this.emit('successor', s)
    }
    if (p !== pred) this.emit('predecessor', p)
    const status: RingStatus = this.table.linkCount === 0
      ? 'lonely'
      : s !== null && p !== null && this.table.isLinked(s) && this.agreed ? 'joined' : 'unbalanced'
    if (status !== this.state) {
      const from = this.state
      this.state = status
      this.emit('status', { from, to: status })
    }
  }

  /** Sends to a live link (the records side uses it for replicas and handover). */
  sendTo (id: string, m: RingMessage): void {
    if (this.table.isLinked(id)) this.o.send(id, m)
  }
}
