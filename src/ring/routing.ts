// One node's view of the ring: its successor list, predecessor and flexible fingers, all drawn
// from the live links it has, and the routing decision made from them. No I/O and no timers:
// protocol.ts feeds it links and stabilise answers and acts on what it decides.
//
// Ids stay strings (see ids.ts); the live links are kept sorted, so the closest link before a
// target is a binary search and string compares, with no allocation per routed message.
import { arcFraction, between, betweenOpen, fingerIndex, ID_BITS } from './ids.js'
import { sameList } from '../util/same-list.js'
import { intern } from '../util/intern.js'

/**
 * Length of the successor list. After 50% of nodes fail at once, a node keeps a live successor
 * unless all SUCCESSORS of its list died: 2^-16 per node, 0.08 nodes expected among 5,000
 * survivors of 10,000, and those few find their way back by a lookup through their fingers.
 */
export const SUCCESSORS = 16
/**
 * Copies of each record: the responsible node and the next REPLICAS − 1. When half the nodes fail
 * at once, a record is lost only if all its holders fail: 2^-8 = 0.4% of records, under the 1%
 * the gate allows, and those come back when their live publishers re-publish. Each extra copy
 * costs one frame per publication, so no more than that.
 */
export const REPLICAS = 8
/**
 * Successors a node keeps live links to; the rest of the list is known by id and address only,
 * to dial when the nearer ones fail. Copies for the replicas past them go through the last
 * linked one, which relays them (Records.replicate). Each linked successor is a link here and an
 * inbound one there, and every join moves as many predecessors' lists: at 8 (all the replicas)
 * a settled node held ~16 of its ~40 link ends for them. At 4, the simulation's gate command took
 * 0.82 of the wall and 0.83 of the CPU, with 280 MB less peak RSS. A node keeps a linked
 * successor through a 50% failure unless all 4 die (1 in 16), else it dials the next in its list.
 */
export const LINKED_SUCCESSORS = 4
/**
 * Most nodes remembered by address without a link (successor-list entries, finger candidates,
 * owners seen in answers). Lookups passing through teach a node a new id each: without a bound,
 * a busy node would come to remember the whole network. The one learned (or heard of at new
 * addresses) longest ago goes first, never one of the successor list or the predecessor.
 */
export const MAX_KNOWN = 64
/** Smallest N assumed by the link budget: below it, log2 N is too noisy to size anything. */
export const MIN_ESTIMATE = 2

/** Ring links a node may hold for an estimated N: 2·log2 N (fingers and their inbound twins) + SUCCESSORS. */
export function ringLinkBudget (n: number): number {
  return Math.ceil(2 * Math.log2(Math.max(MIN_ESTIMATE, n))) + SUCCESSORS
}
/**
 * Inbound ring links a node accepts: as many as its own budget. Flexible fingers spread the
 * choice of fingers over the range, so an honest node is asked for about as many links as it
 * asks for; the cap stops a node chosen by everyone (or a flood of dials) from being overrun.
 */
export function ringInboundCap (n: number): number {
  return ringLinkBudget(n)
}
/**
 * Inbound ring links a node accepts past its cap from the nodes just before it (RoutingTable's
 * precedes): a newcomer whose successor it is, and the predecessors that keep it among their
 * LINKED_SUCCESSORS. Refused, a newcomer takes far nodes for its successors and routes lookups
 * for its arc to nodes that hold none of it. Bounded all the same: ids ground into that arc
 * take these and no more.
 */
export const RING_NEIGHBOUR_SLACK = LINKED_SUCCESSORS

/** Where a routed message goes next. */
export type Hop =
  | { kind: 'self' } // this node is responsible
  | { kind: 'final', to: string } // `to` is responsible, as far as this node knows
  | { kind: 'forward', to: string } // `to` is the live link closest before the target

/** Clockwise order from `self`: ids after it first, then those that wrap past the top. */
function clockwise (self: string): (a: string, b: string) => number {
  return (a, b) => {
    const wa = a <= self
    const wb = b <= self
    if (wa !== wb) return wa ? 1 : -1
    return a < b ? -1 : a > b ? 1 : 0
  }
}

export class RoutingTable {
  /** Live links: id → addresses. */
  private readonly links = new Map<string, string[]>()
  /** The same ids, sorted (string order is numeric order). */
  private sorted: string[] = []
  /**
   * The finger range of each of them, at the same index: worked out once a link, and an array
   * element rather than a map entry (one for every link of every node).
   */
  private readonly sortedRange: number[] = []
  /** Live links per finger range: whether a range is empty is one read. */
  private readonly perRange = new Uint32Array(ID_BITS)
  /** bestPerRange()'s answer, made again in place at each call. */
  private readonly best: Array<string | null> = new Array<string | null>(ID_BITS).fill(null)
  /** Addresses of nodes known but not linked (successor-list entries, lookup answers). */
  private readonly known = new Map<string, string[]>()
  private succs: string[] = []
  private pred: string | null = null
  private readonly order: (a: string, b: string) => number
  /** Bumped by every change to the links, the successor list or the predecessor: see version. */
  private changes = 0
  /** lowestFinger() and wanted() as of version lowestAt and wantedAt (-1: not yet). */
  private lowest = 0
  private lowestAt = -1
  private wantedSet: ReadonlySet<string> = new Set()
  private wantedAt = -1
  /** estimateN() as of version estimateAt (-1: not yet). */
  private estimate = 1
  private estimateAt = -1

  constructor (readonly self: string) {
    this.order = clockwise(self)
  }

  // --- links -------------------------------------------------------------------------------

  /** A live link to id is up. True when it changed the successor list. */
  linkUp (id: string, addresses: string[]): boolean {
    if (id === this.self) return false
    if (!this.links.has(id)) {
      const i = this.bisect(id)
      const r = fingerIndex(this.self, id)
      this.sorted.splice(i, 0, id)
      this.sortedRange.splice(i, 0, r)
      this.perRange[r]++
    }
    this.links.set(id, addresses)
    this.changes++
    this.known.delete(id)
    return this.mergeSuccessor(id)
  }

  /**
   * The link to id is gone. When it failed (or the node did), id leaves every role; when it was
   * closed by choice with a goodbye (a ring link one side no longer wanted), id is alive and
   * keeps its place in the successor list and as predecessor, known by its addresses. True when
   * succ/pred changed.
   */
  linkDown (id: string, failed = true): boolean {
    const addresses = this.links.get(id)
    if (addresses === undefined) return false
    this.links.delete(id)
    this.changes++
    const i = this.bisect(id)
    this.sorted.splice(i, 1)
    this.perRange[this.sortedRange.splice(i, 1)[0]]--
    if (failed) return this.forget(id)
    this.learn(id, addresses)
    return false
  }

  /** Forget a node (dead, or unreachable): out of the successor list and the predecessor role. */
  forget (id: string): boolean {
    const before = this.succs.length
    this.succs = this.succs.filter(s => s !== id)
    this.changes++
    const predGone = this.pred === id
    if (predGone) this.pred = null
    this.known.delete(id)
    return before !== this.succs.length || predGone
  }

  /**
   * A number that differs whenever the links, the successor list or the predecessor may have
   * changed since it was read (what is derived from them can be kept until it does).
   */
  get version (): number {
    return this.changes
  }

  isLinked (id: string): boolean {
    return this.links.has(id)
  }

  addressesOf (id: string): string[] | undefined {
    return this.links.get(id) ?? this.known.get(id)
  }

  /**
   * Remember where a node can be reached, without linking to it. A node heard of again at the
   * same addresses keeps its place: every successor-list answer names the same 16 nodes, and
   * moving each to the end (and interning a freshly parsed copy of its id) was a few per cent
   * of the simulation's time, for an order that only the nodes outside the list use.
   */
  learn (id: string, addresses: string[]): void {
    if (id === this.self || this.links.has(id)) return
    const had = this.known.get(id)
    if (had !== undefined && sameList(had, addresses)) return
    id = intern(id)
    this.known.delete(id) // re-inserted: the most recent last
    this.known.set(id, addresses)
    if (this.known.size <= MAX_KNOWN) return
    for (const old of this.known.keys()) {
      if (old !== this.pred && !this.succs.includes(old)) {
        this.known.delete(old)
        return
      }
    }
  }

  /**
   * A node known by address (not linked) in finger range r but those `skip` names: the one
   * nearest the range's start (fingers()'s choice among links), or null.
   */
  knownIn (r: number, skip: (id: string) => boolean): string | null {
    let best: string | null = null
    for (const id of this.known.keys()) {
      if (fingerIndex(this.self, id) !== r || skip(id)) continue
      if (best === null || this.order(id, best) < 0) best = id
    }
    return best
  }

  /** Nodes remembered by address without a link. */
  get knownCount (): number {
    return this.known.size
  }

  /** Whether id would fill a finger range this node needs and has no live link in. */
  fillsGap (id: string): boolean {
    const r = this.rangeOf(id)
    return r >= this.lowestFinger() && r >= 0 && this.perRange[r] === 0
  }

  get linkCount (): number {
    return this.links.size
  }

  liveLinks (): string[] {
    return this.sorted.slice()
  }

  private bisect (id: string): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.sorted[mid] < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * The live link closest before x going clockwise (strictly before it), passing over `avoid`
   * (a node a retry routes around), or null if none.
   */
  private linkBefore (x: string, avoid?: string, back?: string): string | null {
    const n = this.sorted.length
    let i = this.bisect(x) - 1
    for (let k = 0; k < Math.min(n, 3); k++, i--) {
      const c = this.sorted[(i + n) % n]
      if (c !== x && c !== avoid && c !== back) return c
    }
    return null
  }

  // --- successors and predecessor ----------------------------------------------------------

  successor (): string | null {
    return this.succs[0] ?? null
  }

  successors (): string[] {
    return this.succs.slice()
  }

  /**
   * The successor list itself, not a copy: a list that changes is replaced, never edited in
   * place, so a reference kept from before tells whether it may have moved.
   */
  successorList (): readonly string[] {
    return this.succs
  }

  predecessor (): string | null {
    return this.pred
  }

  /**
   * Whether id is just before this node: between its predecessor and it (a newcomer it is the
   * successor of; any id while it has no predecessor), or about as near as the nodes that list it
   * among their linked successors, for the N it estimates.
   */
  precedes (id: string): boolean {
    if (id === this.self) return false
    if (this.pred === null || betweenOpen(id, this.pred, this.self)) return true
    return arcFraction(id, this.self) <= 2 * LINKED_SUCCESSORS / this.estimateN()
  }

  /**
   * Adds a candidate to the successor list: it stays the SUCCESSORS nearest known nodes after
   * this one, clockwise. True when the list changed. Put in its place in a copy, not a set of
   * the list sorted again: every link that comes up asks.
   */
  mergeSuccessor (id: string): boolean {
    if (id === this.self || this.succs.includes(id)) return false
    let at = this.succs.length
    while (at > 0 && this.order(id, this.succs[at - 1]) < 0) at--
    if (at >= SUCCESSORS) return false
    const next = this.succs.slice()
    next.splice(at, 0, intern(id))
    if (next.length > SUCCESSORS) next.length = SUCCESSORS
    this.succs = next
    this.changes++
    return true
  }

  /**
   * What the successor `from` answered to a stabilise: its predecessor and its successor list.
   * A predecessor between us and it is a nearer successor (a node that joined there); the rest
   * of our list is its list. Entries in `dead` (nodes this one saw fail) are left out.
   * True when the list changed.
   */
  stabilised (from: string, itsPred: string | null, itsSuccs: string[], dead: (id: string) => boolean = () => false): boolean {
    if (this.succs[0] !== from) return false
    // Its predecessor when nearer, it, its list, then the live links of ours (nearer ones stay:
    // the list is the nearest known); once each, in one set (a stabilise a node a round).
    const cands = new Set<string>()
    if (itsPred !== null && betweenOpen(itsPred, this.self, from)) cands.add(intern(itsPred))
    cands.add(from)
    for (const id of itsSuccs) cands.add(intern(id))
    for (const id of this.succs) if (this.links.has(id)) cands.add(id)
    const next: string[] = []
    for (const id of cands) if (id !== this.self && !dead(id)) next.push(id)
    next.sort(this.order)
    if (next.length > SUCCESSORS) next.length = SUCCESSORS
    // An answer that changes nothing (most of them, once the ring has settled) leaves the version
    // as it was: what is derived from the list (wanted(), the estimate, the replica targets) is
    // then kept, not made again after every stabilise.
    if (sameList(next, this.succs)) return false
    this.succs = next
    this.changes++
    return true
  }

  /**
   * A node says it may be our predecessor (Chord's notify). True when it became it. Not when a
   * live link lies between it and this node: that one is nearer, so it is not (Chord takes any
   * notifier while the predecessor is unknown, and a node whose own successor list is wrong, one
   * just started, would then give this node an arc it does not own, and its "none" for points
   * there, until the true predecessor's next notify).
   */
  notified (id: string): boolean {
    if (id === this.self || id === this.pred) return false
    const near = this.linkBefore(this.self)
    if (near !== null && near !== id && betweenOpen(near, id, this.self)) return false
    if (this.pred === null || betweenOpen(id, this.pred, this.self)) {
      this.pred = intern(id)
      this.changes++
      return true
    }
    return false
  }

  /** The predecessor, or the best guess for it: the live link closest before this node. */
  private predOrGuess (): string | null {
    return this.pred ?? this.linkBefore(this.self)
  }

  // --- responsibility and routing ------------------------------------------------------------

  /** Whether point lies in (predecessor, self]: this node is responsible for it. */
  isResponsible (point: string): boolean {
    const p = this.predOrGuess()
    return p === null || between(point, p, this.self)
  }

  /**
   * Where a message for target goes next. `cameFrom` (the node it came from, on a route that
   * was heading for target) stops a message that overshot from going round the ring: when the
   * target lies behind this node, it goes back to the predecessor. `avoid` is never chosen, nor
   * is `back`, the node the message just came from: a hop straight back makes no progress, and
   * two nodes whose views of the ring differ (one that cannot link to its true successor holds
   * the next one for it) would pass the message to and fro until the route's loop check ends it.
   */
  nextHop (target: string, cameFrom?: string, avoid?: string, back?: string): Hop {
    if (this.isResponsible(target)) return { kind: 'self' }
    if (this.links.has(target) && target !== avoid && target !== back) return { kind: 'final', to: target }
    const pred = this.pred
    if (cameFrom !== undefined && pred !== null && pred !== cameFrom && between(target, cameFrom, pred)) {
      if (pred !== avoid && pred !== back && this.links.has(pred)) return { kind: 'final', to: pred }
      // The target is the predecessor's, which the message is to pass over (a node not joined
      // yet asks around itself): the node after it is this one.
      if (pred === avoid) return { kind: 'self' }
    }
    const s = this.succs.find(id => this.links.has(id) && id !== avoid && id !== back)
    if (s !== undefined && between(target, this.self, s)) return { kind: 'final', to: s }
    const c = this.linkBefore(target, avoid, back)
    if (c !== null && betweenOpen(c, this.self, target)) return { kind: 'forward', to: c }
    if (s !== undefined) return { kind: 'final', to: s }
    return c === null ? { kind: 'self' } : { kind: 'forward', to: c }
  }

  /**
   * A live link or known node that owns target more plausibly than `claimed`: one at target or
   * between target and the claimed owner (the owner is the first node at or after the point).
   * null when the claim is the best this node can tell. Catches a node that claims
   * responsibility it does not have, as far as this node's view reaches.
   */
  closerOwner (target: string, claimed: string): string | null {
    if (this.self === target && claimed !== target) return target
    const n = this.sorted.length
    if (n === 0) return null
    const c = this.sorted[this.bisect(target) % n] // the first live link at or after target
    return c !== claimed && (c === target || betweenOpen(c, target, claimed)) ? c : null
  }

  /** The nodes copies of this node's records go to: the next REPLICAS − 1 successors. */
  replicaTargets (): string[] {
    return this.succs.slice(0, REPLICAS - 1)
  }

  // --- fingers and size --------------------------------------------------------------------

  /**
   * Estimated number of nodes: the successor list holds k nodes spread over a k/N share of the
   * ring, so N ≈ k / spread (the predecessor adds one more gap). Reads several gaps, so one
   * ground key does not sway it much; at least the nodes it knows.
   */
  estimateN (): number {
    // Asked for each point a node holds, each round, and for every link it weighs: worked out
    // once a version.
    if (this.estimateAt !== this.changes) {
      this.estimate = this.estimateFromList()
      this.estimateAt = this.changes
    }
    return this.estimate
  }

  private estimateFromList (): number {
    const k = this.succs.length
    if (k === 0) return 1
    const last = this.succs[k - 1]
    const from = this.pred ?? this.self
    const gaps = this.pred === null ? k : k + 1
    const spread = arcFraction(from, last)
    if (spread <= 0) return gaps + 1
    return Math.max(gaps + 1, Math.round(gaps / spread))
  }

  /**
   * The lowest finger range worth filling: the one holding the last linked successor (ranges
   * below lie entirely inside the successor links). 0 when the list is short.
   */
  lowestFinger (): number {
    // Asked for every node a lookup passing through shows (fillsGap): worked out once a version.
    if (this.lowestAt === this.changes) return this.lowest
    let linked = 0
    let last: string | undefined
    for (const id of this.succs) {
      if (!this.links.has(id)) continue
      if (++linked <= LINKED_SUCCESSORS) last = id
    }
    this.lowest = last === undefined || linked < LINKED_SUCCESSORS ? 0 : Math.max(0, fingerIndex(this.self, last))
    this.lowestAt = this.changes
    return this.lowest
  }

  /**
   * The flexible fingers: for each range from lowestFinger() up, one live link in it (the one
   * nearest the range's start: a stable choice), or null when no live link falls in it.
   */
  fingers (): Array<{ range: number, id: string | null }> {
    const best = this.bestPerRange()
    const out: Array<{ range: number, id: string | null }> = []
    for (let r = this.lowestFinger(); r < ID_BITS; r++) out.push({ range: r, id: best[r] })
    return out
  }

  /**
   * The finger ranges from lowestFinger() up that hold no live link, but those `skip` names:
   * what fingers() shows as null, without an entry made for every range (most hold a link).
   */
  emptyRanges (skip: (range: number) => boolean): number[] {
    const out: number[] = []
    for (let r = this.lowestFinger(); r < ID_BITS; r++) if (this.perRange[r] === 0 && !skip(r)) out.push(r)
    return out
  }

  /**
   * The live link of each range nearest the range's start (null for none), in an array kept
   * for the next call: wanted() asks after every change to the links.
   */
  private bestPerRange (): ReadonlyArray<string | null> {
    const best = this.best.fill(null)
    const { sorted, sortedRange } = this
    for (let i = 0; i < sorted.length; i++) {
      const id = sorted[i]
      const r = sortedRange[i]
      const cur = best[r]
      if (cur === null || this.order(id, cur) < 0) best[r] = id
    }
    return best
  }

  /** The finger range id would fill as seen from this node. */
  rangeOf (id: string): number {
    return fingerIndex(this.self, id)
  }

  /**
   * Links this node wants for the ring: its predecessor, the LINKED_SUCCESSORS nearest
   * successors, and one finger per range. A ring link outside this set may be dropped.
   */
  wanted (): ReadonlySet<string> {
    // Asked every round: made again only when the links, successors or predecessor changed.
    if (this.wantedAt === this.changes) return this.wantedSet
    const out = new Set<string>()
    if (this.pred !== null) out.add(this.pred)
    for (let i = 0; i < this.succs.length && i < LINKED_SUCCESSORS; i++) out.add(this.succs[i])
    const best = this.bestPerRange()
    for (let r = this.lowestFinger(); r < ID_BITS; r++) if (best[r] !== null) out.add(best[r] as string)
    this.wantedSet = out
    this.wantedAt = this.changes
    return out
  }
}
