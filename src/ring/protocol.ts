// The ring's protocol, sans I/O: RingCore is told of links (linkUp, linkDown), messages
// (receive) and time (tick), and acts only through the callbacks it was given (send, wantLink,
// dropLink) and its events. The node wires it to real links; tests and the simulation wire it
// to an in-process queue. Lookups are recursive: forwarded hop by hop over live links to the
// node responsible for their target, whose answer retraces the path (each node on it remembers,
// for a while, where the lookup came from).
import { EventEmitter } from 'node:events'
import { addPow2, arcFraction, betweenOpen, randomInRange } from './ids.js'
import { RoutingTable, REPLICAS, LINKED_SUCCESSORS, RING_NEIGHBOUR_SLACK, ringLinkBudget, ringInboundCap } from './routing.js'
import { RecordStore } from './store.js'
import { Records } from './records.js'
import { Lookups, type Answer, type LookupCallback, type LookupExtra, type LookupResult } from './lookups.js'
import { recordPoint, valuePoint, type VerifyContext } from './record.js'
import { idOf, type KeyPair } from '../node/identity.js'
import type { Random } from '../util/random.js'
import { sameList, samePrefix } from '../util/same-list.js'
import { MAX_RECORDS_PER_MESSAGE, MAX_RING_ERROR, MAX_STAB_ANSWER, packRecords, type LookupOp, type RingLookup, type RingMessage, type RingPeer, type RingStabOk } from '../wire/ring.js'
import type { Envelope, RingRecord } from '../wire/record.js'

export { LOOKUP_TTL, LOOKUP_TIMEOUT, LOOKUP_RETRY, MAX_LOOKUP_RETRY, MAX_ROUTES, MAX_PENDING, MAX_DETOURS } from './lookups.js'
export type { LookupCallback, LookupResult, LookupExtra } from './lookups.js'

/** Default length of a round (stabilise, finger and upkeep period), ms: the gossip interval. */
export const RING_INTERVAL = 5000
/** Rounds between two finger lookups: one range at a time, so fingers cost ~1 frame a round. */
export const FINGER_EVERY = 4
/** Rounds before a finger range found empty is looked up again. */
export const FINGER_RETRY = 32
/**
 * Rounds between two join lookups (for this node's own successor) while not joined; the first
 * goes at the round after the node's first link (a new node searches by the flood until joined).
 */
export const JOIN_EVERY = 2
/**
 * Most rounds between two checks of the successor by a lookup once joined. Stabilise alone
 * cannot repair a ring whose successor pointers go round the circle more than once (nodes
 * that all started at once from random links); a lookup for this node's own successor does.
 * The gap grows from JOIN_EVERY each time the check agrees (CHECK_GROWTH), up to this, so a
 * settled ring pays ~1 frame a node every few rounds for it. A spell unbalanced (a neighbour
 * came or went) leaves the gap as it was: the join lookups meanwhile check the same thing, and
 * only one that disagrees starts the gap over. Started over at every such spell, under 1% churn
 * a node checked every ~11 rounds, not 32: half the ring's lookups of its own in the churn phase.
 */
export const CHECK_EVERY_MAX = 32
/**
 * What a successor check that agrees multiplies the gap to the next by (up to CHECK_EVERY_MAX):
 * JOIN_EVERY, 8, 32. A check that agrees finds the node's own view borne out by the ring's;
 * one that disagrees starts the gap over at JOIN_EVERY whatever the growth. Doubling, a node
 * made four checks before its gap reached CHECK_EVERY_MAX, and after every check that
 * disagreed: the ring's most frequent lookup of its own (5,000 nodes, seed 1: 22,328 checks by
 * joined nodes in the run; 14,679 at 4).
 */
export const CHECK_GROWTH = 4
/**
 * Whether a check's answer (the node the ring names as self's successor) bears out self's
 * successor: it is that node, or one past it. Past it is the others' view lagging (a successor
 * that joined since, which their pointers do not show yet), not a hole in this node's: only a
 * node nearer than its successor, one it missed, sends the check back to JOIN_EVERY rounds.
 */
export function checkAgrees (self: string, successor: string | null, answered: string): boolean {
  return successor !== null && (answered === successor || betweenOpen(successor, self, answered))
}
/**
 * Most rounds between two stabilises of a joined node whose successor's answers change nothing.
 * A successor tells its predecessor of a change itself: a new predecessor between them (the old
 * one is told when the newcomer stabilises), or its list of successors moved (within a round).
 * So the periodic stabilise only catches what such a word missed. Every round it was two frames
 * a node a round, a fifth of all the simulation's frames, nearly all answers that changed nothing.
 */
export const STAB_EVERY_MAX = 4
/**
 * How deep in a node's successor list a change must be for its predecessor to be told at once
 * (tellPredecessor): REPLICAS − 1 entries. The predecessor's list is this one's shifted by one, so
 * a change passes back along the ring as far as the nodes whose replica targets (their first
 * REPLICAS − 1 successors) it moves, and one more. The rest of a list, kept to fail over to when
 * many nodes fail at once, catches up at the next stabilise, at most STAB_EVERY_MAX rounds on.
 * Told through all SUCCESSORS, each join moved ~16 nodes' lists one answer each (~1.5 KB): in the
 * 10,000-node join ~1.3 unasked answers a node an interval.
 */
export const TELL_DEPTH = REPLICAS - 1
/**
 * Ring links a node may ask for over its budget for its successors and predecessor (which are
 * never refused for a finger's sake), and no more: a flood of lookups naming nearer "successors"
 * makes a node dial this many at most.
 */
export const RING_LINK_SLACK = LINKED_SUCCESSORS + 1
/**
 * Rounds a node seen to go down is not taken back from a successor's list: about the time the
 * successor needs to notice too (its own stabilise, or its link to it failing).
 */
export const DEAD_ROUNDS = 4
/** Most nodes remembered as gone (the oldest is forgotten first). */
export const MAX_DEAD = 256
/** Rounds before a link asked for and not made is asked for again. */
export const WANT_RETRY = 4

export type RingStatus = 'lonely' | 'unbalanced' | 'joined'
/** What changed() compares: successor, predecessor, replicaKey(), the successor list. */
type Snapshot = [string | null, string | null, readonly string[], readonly string[]]
/**
 * What a node says to a routed envelope for it: a signed reply, an error it cannot sign for (the
 * envelope failed its checks: the asker is told why, unsigned), or nothing ("no reply").
 */
export type EnvelopeAnswer = Envelope | { error: string } | null

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
  /**
   * Answers a routed envelope addressed to this node (remote actions, messages), at once or by a
   * promise: the answer goes back along the reverse path whenever it comes (see deliver).
   */
  onEnvelope?: (envelope: Envelope) => EnvelopeAnswer | Promise<EnvelopeAnswer>
}

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
  private readonly lookups: Lookups
  private readonly asked = new Map<string, number>()
  private readonly fingerTried = new Map<number, number>()
  /** Per finger range, the node known by address last asked for to fill it (refreshFinger). */
  private readonly fingerAsked = new Map<number, string>()
  private readonly ours = new Set<string>()
  /** Nodes seen to go down, and the round it happened. */
  private readonly dead = new Map<string, number>()
  private agreed = false
  /** replicaKey() as of the routing table's version replicaKeyAt (-1: not made yet). */
  private replicaKeyIds: readonly string[] = []
  private replicaKeyAt = -1
  private checkGap = JOIN_EVERY
  private nextCheck = JOIN_EVERY
  /** Rounds between stabilises: 1, doubling up to STAB_EVERY_MAX while the answers change nothing. */
  private stabGap = 1
  private nextStab = 0
  /** Whether the predecessor is to hear of a change in this node's successors (see tellPredecessor). */
  private tellDue = false
  private toldRound = -1
  /** The predecessor a nearer one displaced, told when the nearer one stabilises (onStab). */
  private displaced: string | null = null
  private state: RingStatus = 'lonely'
  private wasJoined = false
  /** Whether a successor has taken this node as its predecessor yet, or it spent a round alone (see holdsRange). */
  private seated = false
  /** The round this node got its first link: its first join lookup is at the next. */
  private firstLinkRound = -1
  /** Live links whose peer said it was on the ring when the link opened (see onRingLinks). */
  private readonly onRing = new Set<string>()
  /**
   * The last answer to a stabilise sent to each linked peer (answerTo), and the last numbered one
   * heard from each: a repeat goes as its number alone. Kept per link, gone when it goes (a new
   * link starts with full answers), so no larger than the links.
   */
  private readonly answered = new Map<string, Answered>()
  private readonly heard = new Map<string, RingStabOk>()
  private answers = 0

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
    this.lookups = new Lookups(this, opts.random, opts.send)
  }

  /**
   * Inbound ring links this node should accept at most when id asks for one (the node counts the
   * ones it has): its own budget for the N it estimates (routing.ts's ringInboundCap), and
   * RING_NEIGHBOUR_SLACK more for a node just before it.
   */
  inboundCap (id: string): number {
    return ringInboundCap(this.table.estimateN()) + (this.table.precedes(id) ? RING_NEIGHBOUR_SLACK : 0)
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

  joined (): boolean {
    return this.state === 'joined'
  }

  /**
   * Whether lookups from this node reach the ring: it is joined, or it was and still has a linked
   * successor and a predecessor (a successor that just changed is agreed at the next stabilise,
   * a round later; the ring around it has not moved meanwhile).
   */
  routable (): boolean {
    if (this.state === 'joined') return true
    const s = this.table.successor()
    return this.wasJoined && s !== null && this.table.isLinked(s) && this.table.predecessor() !== null
  }

  /** Whether this node has ever been joined (see Lookups.onLookup: until then its successor is a guess). */
  everJoined (): boolean {
    return this.wasJoined
  }

  /**
   * Whether a search from this node may ask the ring: its own lookups reach it (routable), or
   * it has a link to a node that is on it, through which a node not joined yet asks (Lookups'
   * first hop). A node just started is linked to the ring long before it joins (two or three
   * rounds), and a search it floods meanwhile is answered by whoever the flood reaches.
   */
  reachesRing (): boolean {
    return this.routable() || this.onRing.size > 0
  }

  /** Live links whose peer said it was on the ring when the link opened (its hello). */
  onRingLinks (): string[] {
    return [...this.onRing]
  }

  linkOnRing (id: string): boolean {
    return this.onRing.has(id)
  }

  /**
   * Whether this node holds the records of its arc: a successor took it as predecessor (handing
   * the arc over first), it was the only node for a round (it held them all), it holds some
   * records of `point` already, or it has no linked successor to hold them instead.
   */
  holdsRange (point?: string): boolean {
    // Records for the point came straight from their publishers (a ring still forming).
    if (this.seated || (point !== undefined && this.store.recordsAt(point).length > 0)) return true
    const s = this.table.successor()
    return s === null || !this.table.isLinked(s)
  }

  me (): RingPeer {
    return { id: this.id, addrs: this.o.addresses() }
  }

  // --- inputs ------------------------------------------------------------------------------

  /** A link to id is up; `joined`: the peer said it was on the ring (see reachesRing). */
  linkUp (id: string, addresses: string[], joined = false): void {
    if (this.table.linkCount === 0 && this.firstLinkRound < 0) this.firstLinkRound = this.round
    const before = this.snapshot()
    this.table.linkUp(id, addresses)
    if (joined) this.onRing.add(id)
    else this.onRing.delete(id)
    this.asked.delete(id)
    this.forgetAnswers(id)
    // A live link proves the node alive: a dead mark from a link that went before (a duplicate
    // replaced, a dial that failed) would keep it out of the successor list from its own answers.
    this.dead.delete(id)
    // A live node between the predecessor and this one is a nearer predecessor.
    this.adoptPred(id)
    this.changed(before)
  }

  /** id may be the predecessor (it said so, or it is a live link before this node). */
  private adoptPred (id: string): void {
    const old = this.table.predecessor()
    // A node that was alone (no predecessor, this its only link) and its first peer: all of
    // (this node, id] is the newcomer's, which must hold it before it answers searches for it,
    // not a round later (its "no members" would be taken as the answer).
    const from = old ?? (this.table.linkCount === 1 ? this.id : null)
    if (this.table.notified(id) && from !== null) {
      // A node joined between the old predecessor and this one: the records of (old, id]
      // are its now. This node keeps copies (it is their first replica).
      this.records.handOver(id, this.store.inRange(from, id))
    }
  }

  /**
   * The link to id went down, or a dial asked for by wantLink failed: id leaves every role, and
   * stabilise answers that still list it are not believed for DEAD_ROUNDS rounds. A link closed
   * with a goodbye (`failed` false: one side no longer wanted it) says nothing of the node: it
   * keeps its roles, known by address, and is linked again when a role needs it.
   */
  linkDown (id: string, failed = true): void {
    const before = this.snapshot()
    if (!failed) {
      this.table.linkDown(id, false)
    } else {
      if (!this.table.linkDown(id)) this.table.forget(id)
      this.dead.set(id, this.round)
      if (this.dead.size > MAX_DEAD) this.dead.delete(this.dead.keys().next().value as string)
    }
    this.ours.delete(id)
    this.onRing.delete(id)
    this.forgetAnswers(id)
    // Lookups sent over the link will never be answered through it: retry them now.
    this.lookups.linkDown(id)
    this.changed(before)
  }

  receive (from: string, m: RingMessage): void {
    if (!this.table.isLinked(from)) return
    switch (m.type) {
      case 'ring.lookup': return this.lookups.onLookup(from, m)
      case 'ring.found': return this.lookups.onFound(from, m)
      case 'ring.stab': return this.onStab(from, m.addrs, m.have)
      case 'ring.stabok':
        // Kept whoever sent it: a later `ring.stabsame` from that peer names it.
        if (m.n !== undefined) this.heard.set(from, m)
        return this.onStabOk(from, m)
      case 'ring.stabsame': {
        // The answer it repeats, taken again; one this node does not hold (or no longer) is
        // passed over, and the next stabilise says what it holds, so the answer comes in full.
        const held = this.heard.get(from)
        if (held !== undefined && held.n === m.n) this.onStabOk(from, held)
        return
      }
      case 'ring.store': {
        // Copies from a responsible node or a handover: only for points this node may hold.
        const fresh: RingRecord[] = []
        for (const r of m.records) if (this.mayHold(recordPoint(r)) && this.store.put(r, this.now) === null) fresh.push(r)
        // A handover comes from a successor that took this node for its predecessor; part of
        // the arc it gave may be a node's before this one (a joiner this node has taken for its
        // own predecessor since): those records go on to it, or it answers "none" for them until
        // their publishers re-publish. Each node passes a record on once (a second copy is no
        // longer fresh), towards the node that holds its point.
        if (fresh.length > 0 && this.table.successors().includes(from)) {
          const pred = this.table.predecessor()
          const on = fresh.filter(r => !this.table.isResponsible(recordPoint(r)))
          if (pred !== null && pred !== from && on.length > 0 && this.table.isLinked(pred)) this.records.handOver(pred, on)
        }
        // Copies for replicas past the sender's links (Records.replicate): on to this node's
        // nearest successors, no more than REPLICAS − 1 of them, and no further (no relay
        // onward). Only records this node took or holds already: checked, and for its own arc.
        if (m.relay !== undefined && m.relay > 0) {
          const mine = m.records.filter(r => this.store.holds(r))
          if (mine.length > 0) for (const id of this.table.successors().slice(0, Math.min(m.relay, REPLICAS - 1))) this.records.handOver(id, mine)
        }
        return
      }
    }
  }

  tick (now: number): void {
    this.now = now
    this.lookups.tick(now)
    if (now >= this.nextRound) {
      // One round however late the tick (a process that slept does not make up a burst).
      this.nextRound += this.interval
      if (this.nextRound <= now) this.nextRound = now + this.interval
      this.upkeep()
    }
    // After the round: a word held back by the last one goes now, and so do the round's changes.
    if (this.tellDue) this.tellPredecessor()
  }

  // --- lookups (lookups.ts routes them; this node answers those it is responsible for) ------

  /** Routes a lookup for target; cb gets the responsible node's answer or an error. */
  lookup (target: string, op: LookupOp, cb: LookupCallback, extra: LookupExtra = {}, via?: string): void {
    this.lookups.start(target, op, cb, extra, via)
  }

  /** The node responsible for value (the p2p seed's getEndpointFor), by a lookup. */
  ownerOf (value: string, cb: LookupCallback): void {
    this.lookup(valuePoint(this.o.network, value), 'owner', cb)
  }

  /** Whether this node is responsible for value, as far as it knows (no message). */
  isResponsibleFor (value: string): boolean {
    return this.table.isResponsible(valuePoint(this.o.network, value))
  }

  /** This node's answer to a lookup it is responsible for (or a replica of, after a skip). */
  answer (m: RingLookup): LookupResult {
    const res: LookupResult = { owner: this.me(), pred: this.table.predecessor(), hops: m.hops, replica: m.at !== m.target, records: [], stored: 0 }
    // As many as asked for that fit one answer (a fair sample: pick is random, one per id first).
    if (m.op === 'fetch') res.records = packRecords(this.store.pick(m.target, Math.min(m.max ?? MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE), this.now))[0] ?? []
    if (m.op === 'store') res.stored = this.records.accept(m.target, m.records ?? [])
    return res
  }

  /**
   * This node's answer to a routed envelope it is responsible for: onEnvelope's, given to done
   * when it comes. The reply travels back along the reverse path as the lookup's answer, which
   * the nodes on the way keep for as long as the envelope is valid (lookups.ts): no second
   * route is needed, and the reply takes the way the request proved to work.
   */
  deliver (m: RingLookup, done: (r: Answer) => void): void {
    const res: Answer = { owner: this.me(), pred: this.table.predecessor(), hops: m.hops, replica: false, records: [], stored: 0 }
    const handler = this.o.onEnvelope
    if (m.target !== this.id || m.envelope === undefined) return done({ ...res, error: 'no node with that id' })
    if (handler === undefined) return done({ ...res, error: 'no reply' })
    const settle = (a: EnvelopeAnswer): void => {
      if (a === null) done({ ...res, error: 'no reply' })
      else if ('sig' in a) done({ ...res, envelope: a })
      else done({ ...res, error: a.error.slice(0, MAX_RING_ERROR) })
    }
    let out: EnvelopeAnswer | Promise<EnvelopeAnswer>
    try {
      out = handler(m.envelope)
    } catch {
      return settle({ error: 'the envelope handler failed' })
    }
    if (out instanceof Promise) out.then(settle, () => settle({ error: 'the envelope handler failed' }))
    else settle(out)
  }

  // --- stabilise and links -----------------------------------------------------------------

  /** A successor's answer to a stabilise (asked for or told), or a repeat of one held. */
  private onStabOk (from: string, m: RingStabOk): void {
    // Only the successor's answer counts (any other link's is one it was not asked for).
    if (from !== this.table.successor()) return
    const before = this.snapshot()
    for (const p of [...m.succs, ...(m.pred === null ? [] : [m.pred])]) this.table.learn(p.id, p.addrs)
    const had = this.table.successorList()
    const joined = this.state === 'joined'
    const moved = this.table.stabilised(from, m.pred?.id ?? null, m.succs.map(p => p.id), id => this.isDead(id))
    this.agreed = m.pred?.id === this.id
    // The next stabilise is a gap after this answer (asked for or told): doubled while the
    // answers change nothing, one round after one that did.
    this.stabGap = this.agreed && !moved && this.table.successor() === from ? Math.min(STAB_EVERY_MAX, this.stabGap * 2) : 1
    this.nextStab = this.round + this.stabGap
    // The successor hands the arc over before it answers (onStab): from now on this node
    // holds it, whatever its successor later becomes.
    if (this.agreed) this.seated = true
    // A joined node links successors new to its list now, not at the next round: they are
    // replicas, which get copies only once linked (an answer may come unasked, between
    // rounds). Those it had are asked for at the round as before (one that said goodbye is
    // not redialed the moment any answer comes), and so is all of a list still forming (a
    // node joining, whose list changes at every answer: a link to each entry at once was 5%
    // more frames in the join, hellos and goodbyes for entries gone a round later).
    if (moved && joined) this.wantSuccessors(had)
    return this.changed(before)
  }

  private onStab (from: string, addrs: string[], have?: number): void {
    const before = this.snapshot()
    this.table.learn(from, addrs)
    this.adoptPred(from)
    this.o.send(from, this.answerTo(from, have))
    this.changed(before)
    // The node it displaced is told now that it has a nearer successor (Chord leaves that to
    // its next stabilise, which may be STAB_EVERY_MAX rounds off). Only once the newcomer
    // stabilised here: a node that merely linked (any peer can) names no successor to anyone.
    const old = this.displaced
    if (old !== null && this.table.predecessor() === from) {
      this.displaced = null
      if (this.table.isLinked(old) && betweenOpen(from, old, this.id)) this.o.send(old, this.answerTo(old))
    }
  }

  /**
   * This node's answer to a stabilise for `to`: its predecessor and its successors (all but the
   * last), numbered; or, when `to` said it holds the last one sent to it (`have`) and nothing in
   * it changed, that number alone.
   */
  private answerTo (to: string, have?: number): RingMessage {
    const addrsOf = (id: string): string[] => this.table.addressesOf(id) ?? NO_ADDRS
    const pred = this.table.predecessor()
    const ids = this.table.successorList().slice(0, -1)
    const addrs = ids.map(addrsOf)
    const predAddrs = pred === null ? NO_ADDRS : addrsOf(pred)
    const last = this.answered.get(to)
    if (have !== undefined && last !== undefined && last.n === have && last.pred === pred && sameList(last.predAddrs, predAddrs) &&
      sameList(last.ids, ids) && last.addrs.every((a, i) => sameList(a, addrs[i]))) return { type: 'ring.stabsame', n: have }
    this.answers = this.answers % MAX_STAB_ANSWER + 1
    // What it said, kept by reference (ids and address lists as the table holds them), not the message.
    this.answered.set(to, { n: this.answers, pred, predAddrs, ids, addrs })
    return { type: 'ring.stabok', pred: pred === null ? null : { id: pred, addrs: predAddrs }, succs: ids.map((id, i) => ({ id, addrs: addrs[i] })), n: this.answers }
  }

  private forgetAnswers (id: string): void {
    this.answered.delete(id)
    this.heard.delete(id)
  }

  /** Answers sent and held, by linked peer (see answered): for tests of their bound. */
  get answersKept (): { sent: number, heard: number } {
    return { sent: this.answered.size, heard: this.heard.size }
  }

  /**
   * The predecessor hears this node's successors when the first TELL_DEPTH of them moved,
   * unasked (its stabilise may be STAB_EVERY_MAX rounds off): at most once a round, so a change
   * passes back along the ring a node at a time, as far as TELL_DEPTH says.
   */
  private tellPredecessor (): void {
    if (this.toldRound === this.round) return
    const pred = this.table.predecessor()
    this.tellDue = false
    if (pred === null || !this.table.isLinked(pred)) return
    this.toldRound = this.round
    this.o.send(pred, this.answerTo(pred))
  }

  /** A node seen on a lookup's way: a finger if it fills a range this node has none in. */
  consider (p: RingPeer): void {
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
    // A round alone: whatever this node holds, it holds as the whole ring's only node (a node
    // that just started is linked before its first round).
    if (this.table.linkCount === 0) this.seated = true
    const before = this.snapshot()
    const succ = this.table.successor()
    if (this.state !== 'joined') this.stabGap = 1
    if (succ !== null && this.table.isLinked(succ) && this.round >= this.nextStab) {
      this.nextStab = this.round + this.stabGap
      const have = this.heard.get(succ)?.n
      this.o.send(succ, have === undefined ? { type: 'ring.stab', addrs: this.o.addresses() } : { type: 'ring.stab', addrs: this.o.addresses(), have })
    }
    this.wantSuccessors()
    const pred = this.table.predecessor()
    if (pred !== null) this.want(pred, true)
    if (this.table.linkCount > 0 && (this.round >= this.nextCheck || (this.state !== 'joined' && (this.round % JOIN_EVERY === 0 || this.round === this.firstLinkRound + 1)))) {
      this.nextCheck = this.round + this.checkGap
      // Started at a random link and routed around this node: from this node itself, or through
      // it, the lookup could only reach the successor it already has; from elsewhere it comes
      // in along other nodes' pointers.
      const links = this.table.liveLinks()
      const via = links[Math.floor(this.o.random() * links.length)]
      this.lookup(addPow2(this.id, 0), 'owner', (err, res) => {
        if (err !== null || res === undefined || res.owner.id === this.id) return
        this.checkGap = checkAgrees(this.id, this.table.successor(), res.owner.id) ? Math.min(CHECK_EVERY_MAX, this.checkGap * CHECK_GROWTH) : JOIN_EVERY
        this.table.learn(res.owner.id, res.owner.addrs)
        this.want(res.owner.id, true)
      }, { avoid: this.id }, via)
    }
    if (this.round % FINGER_EVERY === 0) this.refreshFinger()
    this.dropSurplus()
    this.records.upkeep(this.now)
    this.store.sweep(this.now)
    this.store.prune(point => this.mayHold(point))
    this.changed(before)
  }

  /** Asks for links to the successors it keeps linked (but those in `had`). */
  private wantSuccessors (had: readonly string[] = []): void {
    for (const id of this.table.successors().slice(0, LINKED_SUCCESSORS)) if (!had.includes(id)) this.want(id, true)
  }

  /** Looks up one empty finger range (not tried lately): the node found there becomes its finger. */
  private refreshFinger (): void {
    if (this.state === 'lonely') return
    const empty = this.table.emptyRanges(r => this.round - (this.fingerTried.get(r) ?? -Infinity) < FINGER_RETRY)
    if (empty.length === 0) return
    const range = empty[Math.floor(this.o.random() * empty.length)]
    // A node this one knows of in the range already (most often from its successor's list: the
    // lowest ranges lie within it) is asked for without a lookup, once; a lookup finds another
    // if that link does not come up (a dial that fails forgets the node).
    const known = this.table.knownIn(range, id => this.dead.has(id) || this.fingerAsked.get(range) === id)
    if (known !== null) {
      this.fingerAsked.set(range, known)
      return this.want(known)
    }
    this.fingerTried.set(range, this.round)
    this.lookup(randomInRange(this.id, range, this.o.random), 'owner', (err, res) => {
      if (err !== null || res === undefined) return
      this.table.learn(res.owner.id, res.owner.addrs)
      if (this.table.rangeOf(res.owner.id) === range) this.want(res.owner.id)
    })
  }

  /** Drops ring links this node asked for that it no longer wants. */
  private dropSurplus (): void {
    // Every link held costs a keepalive when idle and the peer an inbound slot: one that no
    // longer serves (a finger bettered, a successor pushed down the list, a candidate that was
    // not nearer after all) goes at once, with a goodbye (the node keeps its roles: linkDown).
    // A link asked for and never made (the dial failed) stops counting against the budget. One
    // pass over a copy (a goodbye may want another link at once, not to be judged by this
    // `keep`), before `asked` forgets the old rounds.
    const keep = this.table.wanted()
    for (const id of [...this.ours]) {
      const linked = this.table.isLinked(id)
      if (keep.has(id) && (linked || this.round - (this.asked.get(id) ?? 0) < WANT_RETRY)) continue
      this.ours.delete(id)
      if (linked) this.o.dropLink(id)
    }
    for (const [id, round] of this.asked) if (this.round - round >= WANT_RETRY) this.asked.delete(id)
  }

  // --- state and events --------------------------------------------------------------------

  private snapshot (): Snapshot {
    return [this.table.successor(), this.table.predecessor(), this.replicaKey(), this.table.successorList()]
  }

  /**
   * The replica targets, the linked ones first: a change means copies are due. Read before and
   * after every link event and stabilise; made again only when the routing table changed. A
   * list compared id by id, not the ids joined in a string: a node's string of seven ids, made at
   * each change of its table, lived just long enough to be promoted (a thirtieth of the
   * simulation's promotions).
   */
  private replicaKey (): readonly string[] {
    const v = this.table.version
    if (this.replicaKeyAt !== v) {
      // The targets, and which are linked: a copy goes over a link, or is relayed past one.
      const targets = this.table.replicaTargets()
      this.replicaKeyIds = [...targets.filter(id => this.table.isLinked(id)), '', ...targets]
      this.replicaKeyAt = v
    }
    return this.replicaKeyIds
  }

  private changed ([succ, pred, replicas, list]: Snapshot): void {
    const s = this.table.successor()
    const p = this.table.predecessor()
    if (!sameList(replicas, this.replicaKey())) this.records.successorsChanged()
    // The predecessor builds its list from this one's: it hears of a change in the first
    // TELL_DEPTH (tellPredecessor); the rest it gets at its next stabilise.
    if (!samePrefix(list, this.table.successorList(), TELL_DEPTH)) this.tellDue = true
    if (s !== succ) {
      this.agreed = false
      // A new successor is stabilised with at the next round.
      this.stabGap = 1
      this.nextStab = Math.min(this.nextStab, this.round + 1)
      if (s !== null) this.want(s, true)
      this.emit('successor', s)
    }
    if (p !== pred) {
      // A node came in between the old predecessor and this one: the old one hears of it once
      // the newcomer stabilises here (see onStab), not on a link or a hello alone.
      this.displaced = pred !== null && p !== null && betweenOpen(p, pred, this.id) ? (this.displaced ?? pred) : this.displaced
      this.records.predecessorChanged(p)
      this.emit('predecessor', p)
    }
    const status: RingStatus = this.table.linkCount === 0
      ? 'lonely'
      : s !== null && p !== null && this.table.isLinked(s) && this.agreed ? 'joined' : 'unbalanced'
    if (status !== this.state) {
      const from = this.state
      this.state = status
      if (status === 'joined') this.wasJoined = true
      this.emit('status', { from, to: status })
    }
  }

  /**
   * Whether this node may hold records of point: it is responsible, or the point lies within
   * about twice the arc of REPLICAS nodes before it (it is one of the replicas, with a margin
   * for the estimate of N).
   */
  mayHold (point: string): boolean {
    return this.table.isResponsible(point) || arcFraction(point, this.id) <= 2 * REPLICAS / this.table.estimateN()
  }

  /** Whether id went down (or could not be dialed) within the last DEAD_ROUNDS rounds. */
  private isDead (id: string): boolean {
    const at = this.dead.get(id)
    return at !== undefined && this.round - at < DEAD_ROUNDS
  }

  /** A lookup of ours went out (Lookups): the `lookup` event, for whoever counts traffic. */
  sent (qid: string, root: string, op: LookupOp): void {
    if (this.listenerCount('lookup') > 0) this.emit('lookup', { qid, root, op })
  }

  /** Sends to a live link (the records side uses it for replicas and handover). */
  sendTo (id: string, m: RingMessage): void {
    if (this.table.isLinked(id)) this.o.send(id, m)
  }
}

/** No addresses known: one shared list, so two answers naming such a node compare as the same. */
const NO_ADDRS: string[] = []

/** An answer to a stabilise as sent (answerTo): its number, and what it named. */
interface Answered { n: number, pred: string | null, predAddrs: readonly string[], ids: readonly string[], addrs: ReadonlyArray<readonly string[]> }
