// Routed lookups, the recursive way: forwarded hop by hop over live links towards their target;
// the responsible node's answer retraces the path, each node on it remembering for a while
// where the lookup came from (a route) and where it sent it (only that hop may answer). TTL and
// the qid stop loops. The node's own lookups wait here for their answers, with a retry past a
// silent responsible node (to a replica) and a timeout, both driven by tick().
import { distance, fromBig, toBig } from './ids.js'
import { REPLICAS, type Hop, type RoutingTable } from './routing.js'
import { slotOf, type RingRecord } from './record.js'
import { RoundTrip } from './round-trip.js'
import { randomHex, type Random } from '../util/random.js'
import { MAX_SKIP, type LookupOp, type RingFound, type RingLookup, type RingMessage, type RingPeer } from '../wire/ring.js'
import type { Envelope } from '../wire/record.js'
import { MAX_ENVELOPE_TTL } from './envelope.js'

/**
 * Hops a lookup may travel: ~½·log2 N are needed (7 at N = 10,000); four times that leaves room
 * for detours around failed nodes, and a loop dies within it.
 */
export const LOOKUP_TTL = 32
/** How long a lookup waits for its answer before it fails, ms (a search's default timeout). */
export const LOOKUP_TIMEOUT = 5000
/**
 * The least a lookup waits before it is sent again past a silent responsible node (to a
 * replica), ms: a path of ~7 hops answers in well under a second on a fast network. Where this
 * node's lookups take longer to answer, it waits longer (RoundTrip: the smoothed round trip and
 * four times its variation), up to MAX_LOOKUP_RETRY. The attempt before is not given up
 * (Pending.earlier): a path that is only slow (links of 100 ms and more, a final hop that walks
 * back) still answers, and its answer counts.
 */
export const LOOKUP_RETRY = 1500
/**
 * The most a lookup waits before it is sent again, ms: half of LOOKUP_TIMEOUT, so one sent past
 * a silent node still has the other half for its answer.
 */
export const MAX_LOOKUP_RETRY = LOOKUP_TIMEOUT / 2
/**
 * Times a search's lookup whose route failed (a loop, its TTL: routing tables that disagree
 * while the ring moves) is sent again another way in, from a random link, before it fails. Each
 * costs another ~log N frames; a flood, the search's fallback, costs thousands.
 */
export const MAX_DETOURS = 2
/** Lookups passing through a node whose answers it can route back; the oldest goes first. */
export const MAX_ROUTES = 4096
/** Lookups of this node's own in flight: past it, a new one fails at once. */
export const MAX_PENDING = 1024

/** What the node responsible for a lookup's target answered. */
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
/** An answer as the responsible node gives it: a result, or an error the asker is told. */
export type Answer = LookupResult & { error?: string }

export interface LookupExtra { max?: number, records?: RingRecord[], envelope?: Envelope, avoid?: string }

/** What Lookups needs of the node it routes for (RingCore). */
export interface LookupHost {
  readonly id: string
  readonly table: RoutingTable
  readonly time: number
  me: () => RingPeer
  /** Whether the node is joined (its successor agrees, its predecessor is known). */
  joined: () => boolean
  /** Whether the node has ever been joined: until then its successor is a guess. */
  everJoined: () => boolean
  /** Live links whose peer said it was on the ring when the link opened. */
  onRingLinks: () => string[]
  /** Whether the link to id is one of those. */
  linkOnRing: (id: string) => boolean
  /**
   * Whether the node holds the records of the arc it is responsible for (of `point` in it): its
   * successor has taken it as predecessor (and so handed the arc over), it holds some for the
   * point already, or there is no successor to hold them instead.
   */
  holdsRange: (point?: string) => boolean
  /** Whether this node may hold records of point: responsible for it, or one of its replicas. */
  mayHold: (point: string) => boolean
  /** This node's answer to a lookup it is responsible for. */
  answer: (m: RingLookup) => LookupResult
  /** This node's answer to a routed envelope for it: given to done now, or later (an async handler). */
  deliver: (m: RingLookup, done: (r: Answer) => void) => void
  /** A node named by a passing lookup or answer (a finger or successor candidate). */
  consider: (p: RingPeer) => void
  /**
   * A lookup of this node's own is sent under qid; root is the qid it started with (a retry
   * goes under a new one). What a lookup costs can be told apart from upkeep by these.
   */
  sent: (qid: string, root: string, op: LookupOp) => void
}

interface Pending {
  root: string
  detours: number
  target: string
  op: LookupOp
  cb: LookupCallback
  started: number
  sent: number
  next: string
  checked: boolean
  msg: RingLookup
  /** The answer that a closer node was then asked to check (see onFound). */
  first?: RingFound
  /**
   * The attempts this lookup made before its retries (what each asked, its qid with it, and the
   * link it went out on: the owner's answer to an attempt that skipped none is checked as such,
   * whatever the retries skip): an answer to one still ends it. A retry for a node that is only
   * slow, not silent, gave up the way that was about to answer, and every later attempt as
   * well, each past its LOOKUP_RETRY: with half the nodes' links at 100 ms (300 nodes), a third
   * of the searches of the 100-member subnet failed, at 864 frames each on average.
   */
  earlier?: Array<{ next: string, msg: RingLookup }>
}
interface Route { prev: string, next: string, expires: number }

/** What an answer says, as a lookup's result. */
function resultOf (m: RingFound): LookupResult {
  return { owner: m.owner, pred: m.pred, hops: m.hops, replica: m.replica === true, records: m.records ?? [], stored: m.stored ?? 0, ...(m.envelope === undefined ? {} : { envelope: m.envelope }) }
}

/**
 * The records of two answers for one point, the newest of each slot (a tombstone included, so
 * it still hides what it withdrew): records are signed, so a node can only withhold them, and
 * what either answer holds is worth having.
 */
export function mergeRecords (a: RingRecord[], b: RingRecord[]): RingRecord[] {
  if (b.length === 0) return a
  const newest = new Map<string, RingRecord>()
  for (const r of [...a, ...b]) {
    const slot = slotOf(r)
    const held = newest.get(slot)
    if (held === undefined || r.seq > held.seq) newest.set(slot, r)
  }
  return [...newest.values()]
}

/** Of ids (not empty), the one nearest before point going clockwise (point itself first). */
export function nearestBefore (ids: string[], point: string): string {
  let best = ids[0]
  let gap = distance(best, point)
  for (const id of ids.slice(1)) {
    const d = distance(id, point)
    if (d < gap) [best, gap] = [id, d]
  }
  return best
}

/** The `final` mark of a hop to the node the sender holds responsible (see RoutingTable.nextHop). */
function finalFlag (hop: Hop): { final?: true } {
  return hop.kind === 'final' ? { final: true } : {}
}

/**
 * When a lookup of ours stops waiting. A delivered envelope waits until it expires (its sender
 * chose how long: a remote action's timeout, at most MAX_ENVELOPE_TTL); the rest LOOKUP_TIMEOUT.
 */
function deadline (m: RingLookup, started: number): number {
  return m.op === 'deliver' && m.envelope !== undefined ? Math.min(m.envelope.expires, started + MAX_ENVELOPE_TTL) : started + LOOKUP_TIMEOUT
}

/**
 * When tick() next has something to do for p: its deadline, or its retry, `retry` ms after it
 * went (none for an envelope).
 */
function dueOf (p: Pending, retry: number): number {
  return p.op === 'deliver' ? deadline(p.msg, p.started) : Math.min(deadline(p.msg, p.started), p.sent + retry)
}

/**
 * How much earlier than the due time it computed tick() looks at what waits, ms: the look itself
 * decides as it always did (a retry is due when now - sent reaches the wait), so a look a little
 * early changes nothing, and sent + the wait rounded up cannot make one late. A wait that grew
 * since a due time was worked out makes a look early; one that shrank moves the due time as much
 * earlier (sample).
 */
const DUE_MARGIN = 1

/**
 * How long a node on the way remembers a lookup's route back: an envelope's reply may come as
 * late as the envelope expires (clamped, as that time is the sender's word, unchecked here).
 */
function routeLife (m: RingLookup, now: number): number {
  return m.op === 'deliver' && m.envelope !== undefined ? Math.max(LOOKUP_TIMEOUT, Math.min(MAX_ENVELOPE_TTL, m.envelope.expires - now)) : LOOKUP_TIMEOUT
}

export class Lookups {
  private readonly pending = new Map<string, Pending>()
  private readonly routes = new Map<string, Route>()
  /** The qid of each earlier attempt of a lookup still pending, to the lookup's qid now. */
  private readonly attempts = new Map<string, string>()
  /**
   * No pending lookup is due (times out, or is retried) before this, nor does any route expire
   * before routesDue: earlier ticks look at neither. A node ticks ten times a round and nearly
   * always has nothing due, but walked both maps each time. Lowered as entries are set, and
   * worked out again at each look; an entry gone since leaves it early, which costs one look.
   */
  private pendingDue = Infinity
  private routesDue = Infinity
  /** How long this node's lookups take to be answered: how long one waits before a retry. */
  private readonly roundTrip = new RoundTrip(LOOKUP_RETRY, MAX_LOOKUP_RETRY)

  constructor (private readonly core: LookupHost, private readonly random: Random, private readonly send: (to: string, m: RingMessage) => void) {}

  /** Own lookups waiting for an answer, and routes remembered for others'. */
  get inFlight (): { pending: number, routes: number } {
    return { pending: this.pending.size, routes: this.routes.size }
  }

  tick (now: number): void {
    if (now >= this.pendingDue - DUE_MARGIN) {
      // Over the keys, not [qid, value] pairs: a pair an entry was garbage each time. What a
      // retry or a callback sets meanwhile comes up in this same walk (a Map's iteration goes on
      // to entries added during it). The new due time is set once the walk is done: a callback
      // that throws leaves the old one, so the next tick walks again and the lookups after it
      // still time out.
      let next = Infinity
      const wait = this.roundTrip.retryAfter
      for (const qid of this.pending.keys()) {
        const p = this.pending.get(qid) as Pending
        if (now >= deadline(p.msg, p.started)) this.finish(qid, new Error(p.op === 'deliver' ? 'no reply before the request expired' : `lookup timed out after ${LOOKUP_TIMEOUT} ms`))
        else if (now - p.sent >= wait && p.op !== 'deliver') this.retry(qid, p, 'past')
        else next = Math.min(next, dueOf(p, wait))
      }
      this.pendingDue = next
    }
    if (now >= this.routesDue) {
      this.routesDue = Infinity
      for (const qid of this.routes.keys()) {
        const expires = (this.routes.get(qid) as Route).expires
        if (expires <= now) this.routes.delete(qid)
        else this.routesDue = Math.min(this.routesDue, expires)
      }
    }
  }

  /** A lookup of this node's waits under qid (tick() looks at it when it falls due). */
  private wait (qid: string, p: Pending): void {
    this.pending.set(qid, p)
    this.pendingDue = Math.min(this.pendingDue, dueOf(p, this.roundTrip.retryAfter))
  }

  /** A round trip measured: a shorter wait brings every retry due as much sooner. */
  private sample (ms: number): void {
    const before = this.roundTrip.retryAfter
    this.roundTrip.sample(ms)
    const after = this.roundTrip.retryAfter
    if (after < before) this.pendingDue -= before - after
  }

  /** The wait before a lookup of this node's is sent again past a silent node, ms (see LOOKUP_RETRY). */
  get retryAfter (): number {
    return this.roundTrip.retryAfter
  }

  /** Lookups sent over a link that went down will never be answered through it: retry them now. */
  linkDown (id: string): void {
    for (const [qid, p] of this.pending) if (p.next === id) this.retry(qid, p, 'again')
  }

  /** Routes a lookup for target; cb gets the responsible node's answer or an error. */
  start (target: string, op: LookupOp, cb: LookupCallback, extra: LookupExtra = {}, via?: string): void {
    if (this.pending.size >= MAX_PENDING) return cb(new Error(`MAX_PENDING (${MAX_PENDING}) lookups in flight`))
    const qid = randomHex(this.random, 16)
    const asked: RingLookup = { type: 'ring.lookup', qid, target, at: target, skip: 0, op, hops: 0, ttl: LOOKUP_TTL, origin: this.core.me(), ...extra }
    const [hop, msg] = via !== undefined && this.core.table.isLinked(via) ? [{ kind: 'forward', to: via } as const, asked] : this.held(this.firstHop(asked), asked)
    // An envelope for this node itself waits here like any other (its handler may never answer).
    const next = hop.kind === 'self' ? this.core.id : hop.to
    if (hop.kind === 'self' && op !== 'deliver') return cb(null, this.core.answer(msg))
    this.wait(qid, { root: qid, detours: 0, target, op, cb, started: this.core.time, sent: this.core.time, next, checked: false, msg })
    if (hop.kind === 'self') return this.answerOwn(qid, msg)
    this.core.sent(qid, qid, op)
    this.send(hop.to, { ...msg, hops: 1, ...finalFlag(hop) })
  }

  /**
   * The first hop of a lookup of this node's own. A node not joined yet routes on guesses: its
   * own claim rests on a guessed predecessor (and it holds no records yet), so it asks the ring
   * instead, around this node: through the link nearest before the target among those whose
   * peer is on the ring (routing there is what a joined node's is), else from a random link
   * (an envelope for another id too: only its node can answer it; one for this node stays).
   * The link it takes for its successor may lie far past the target, so the lookup goes on as
   * routed, not as `final` (a final hop that overshot walks back one predecessor at a time,
   * and may run out of hops); a link to the target itself is taken as it is.
   */
  private firstHop (msg: RingLookup): Hop {
    const hop = this.core.table.nextHop(msg.at, undefined, msg.avoid)
    // An envelope for another node's id does not end here on this node's own view: a node that
    // cannot link to its true neighbour (both only dial out) holds itself responsible for the
    // neighbour's id. Asked through a link instead (this node passed over), the envelope
    // reaches the node of that id when a node on the way links to it, else the node
    // responsible for the id, which says there is none.
    if (hop.kind === 'self' && msg.op === 'deliver' && msg.target !== this.core.id) {
      const links = this.core.table.liveLinks().filter(id => id !== msg.avoid)
      if (links.length > 0) {
        msg.avoid = this.core.id
        return { kind: 'forward', to: nearestBefore(links, msg.at) }
      }
    }
    if (this.core.joined() || this.core.table.linkCount === 0) return hop
    if (hop.kind !== 'self' && hop.to === msg.at) return { kind: 'forward', to: hop.to }
    if (msg.op === 'deliver' && msg.target === this.core.id) return hop
    const onRing = this.core.onRingLinks().filter(id => id !== msg.avoid)
    if (onRing.length > 0) {
      msg.avoid = this.core.id
      return { kind: 'forward', to: nearestBefore(onRing, msg.at) }
    }
    if (hop.kind === 'forward') return hop
    if (hop.kind === 'final') return { kind: 'forward', to: hop.to }
    const links = this.core.table.liveLinks().filter(id => id !== msg.avoid)
    if (links.length === 0) return hop
    msg.avoid = this.core.id
    return { kind: 'forward', to: links[Math.floor(this.random() * links.length)] }
  }

  /**
   * Sends a lookup again under a new qid (an answer to the old one is ignored): over another
   * link when its first one went down (`again`); when it went unanswered (`past`), past the
   * responsible node (skip + 1), so the next of the REPLICAS holders answers instead; when its
   * route failed (`detour`), the same way but from a random link. A node on the path that drops
   * lookups may be skipped that way too when it is the last one; one in the middle makes every
   * attempt fail, and the search falls back to the flood.
   */
  private retry (qid: string, p: Pending, how: 'again' | 'past' | 'detour'): void {
    this.pending.delete(qid)
    const skip = p.msg.skip + (how === 'past' ? 1 : 0)
    if (skip >= Math.min(REPLICAS, MAX_SKIP)) {
      this.forgetAttempts(p)
      return p.cb(new Error('no answer from the responsible node or its replicas'))
    }
    const again = { ...p.msg, qid: randomHex(this.random, 16), skip }
    const [first, msg] = this.held(this.firstHop(again), again)
    let hop = first
    if (how !== 'again' && hop.kind !== 'self') {
      // Another way in: from a random link, so a node in the middle of the last path that
      // drops lookups is likely not on this one (the node it came through is passed over).
      const links = this.core.table.liveLinks().filter(id => id !== p.next)
      if (links.length > 0) hop = { kind: 'forward', to: links[Math.floor(this.random() * links.length)] }
    }
    if (hop.kind === 'self' && p.op !== 'deliver') {
      this.forgetAttempts(p)
      return p.cb(null, this.core.answer(msg))
    }
    const earlier = [...(p.earlier ?? []), { next: p.next, msg: p.msg }]
    for (const a of earlier) this.attempts.set(a.msg.qid, msg.qid)
    this.wait(msg.qid, { ...p, detours: p.detours + (how === 'detour' ? 1 : 0), sent: this.core.time, next: hop.kind === 'self' ? this.core.id : hop.to, msg, earlier })
    if (hop.kind === 'self') return this.answerOwn(msg.qid, msg)
    this.core.sent(msg.qid, p.root, p.op)
    this.send(hop.to, { ...msg, hops: 1, ...finalFlag(hop) })
  }

  onLookup (from: string, m: RingLookup): void {
    this.core.consider(m.origin)
    const route = this.routes.get(m.qid)
    // Passed back by the node it was sent to, which does not hold the point yet (see held): it
    // goes on from here, and its answer takes the way back the route already knows.
    const bounced = route !== undefined && route.next === from && m.avoid === from
    if (route !== undefined && !bounced) return this.reply(from, m, { error: 'routing loop' })
    const back = route !== undefined ? route.prev : from
    if (m.hops >= m.ttl) return this.reply(back, m, { error: `TTL of ${m.ttl} hops exceeded` })
    const own = this.pending.get(m.qid)
    const [hop, next] = this.decide(from, m)
    if (own !== undefined) return this.cameBack(own, next, hop)
    // A node not on the ring yet (never joined: its successor is a guess, from the few nodes it
    // has heard of, maybe far past its true one) is the nearest node before the target for the
    // nodes linked to it, which pass lookups to it. Sent on `final` to that guess, a lookup
    // overshoots, and walks back one predecessor at a time until its hops run out (traced at
    // 10,000 nodes: a newcomer just before a subnet's point failed every search for it for an
    // interval). It goes back to the node it came from instead, which routes around this one,
    // as when a node passes back a lookup for a point it does not hold yet (see held). Only to a
    // node on the ring (its hello said so): one that is not has no better way (in a network just
    // started, every node).
    if (hop.kind === 'final' && !this.core.everJoined() && m.avoid !== this.core.id && this.core.linkOnRing(from)) {
      this.remember(m, back, from)
      return this.forward({ kind: 'forward', to: from }, { ...m, avoid: this.core.id })
    }
    if (hop.kind === 'self') {
      if (route !== undefined) this.routes.delete(m.qid)
      // A delivered envelope's answer goes back when its handler is done (over the link it came
      // by, if that is still up: the nodes on the way keep its route as long as it is valid).
      if (next.op === 'deliver') return this.core.deliver(next, r => this.reply(back, next, r))
      // Asked as a replica (after a skip) of a point far behind it: a node on the way that took
      // some distant node for the point's owner sent the skip there. Its "none" would be taken
      // for the answer; an error sends the asker in again by another way.
      if (next.op === 'fetch' && next.at !== next.target && !this.core.mayHold(next.target)) return this.reply(back, next, { error: 'not a replica of the point' })
      return this.reply(back, next, this.core.answer(next))
    }
    this.remember(m, back, hop.to)
    this.forward(hop, next)
  }

  /** The route of a lookup passing through: where its answer goes back to, and where it went. */
  private remember (m: RingLookup, prev: string, next: string): void {
    if (!this.routes.has(m.qid) && this.routes.size >= MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string)
    const expires = this.core.time + routeLife(m, this.core.time)
    this.routes.set(m.qid, { prev, next, expires })
    this.routesDue = Math.min(this.routesDue, expires)
  }

  /** Where a lookup goes from here (and the lookup as it goes on: a skip rewrites it). */
  private decide (from: string, m: RingLookup): [Hop, RingLookup] {
    let hop: Hop = this.core.table.nextHop(m.at, m.final === true ? from : undefined, m.avoid, from)
    if (hop.kind !== 'forward' && m.skip > 0) {
      // A retry past a silent node: the responsible one (this node, or the next hop) is skipped,
      // and the lookup goes on to the node after it, a replica.
      const skipped = hop.kind === 'self' ? this.core.id : hop.to
      m = { ...m, at: fromBig(toBig(skipped) + 1n), skip: m.skip - 1, avoid: skipped }
      if (hop.kind === 'self') {
        const s = this.core.table.successor()
        hop = s === null || !this.core.table.isLinked(s) ? { kind: 'self' } : { kind: 'final', to: s }
      } else hop = this.core.table.nextHop(m.at, undefined, m.avoid, from)
    }
    return this.held(hop, m)
  }

  /**
   * A fetch that ends at this node (`self`), for a point whose records it does not hold yet: a
   * node that just joined is responsible (or the replica asked) before the arc has been handed
   * over to it, and its "none" would be wrong, and taken as the answer. Its successor, which
   * held the arc until now (or holds a copy), answers instead, as a replica: the lookup goes on
   * past this node, as a retry past a silent one does. Any other hop stays as it is.
   */
  private held (hop: Hop, m: RingLookup): [Hop, RingLookup] {
    if (hop.kind !== 'self' || m.op !== 'fetch' || this.core.holdsRange(m.target)) return [hop, m]
    const s = this.core.table.successor()
    if (s === null || !this.core.table.isLinked(s)) return [hop, m]
    return [{ kind: 'final', to: s }, { ...m, at: fromBig(toBig(this.core.id) + 1n), avoid: this.core.id }]
  }

  private forward (hop: Hop & { to: string }, m: RingLookup): void {
    const { final: _final, ...rest } = m
    this.send(hop.to, { ...rest, hops: m.hops + 1, ...finalFlag(hop) })
  }

  /**
   * This node's own lookup, routed back through it (it started at a random link, and this node
   * lies on the greedy way from there): it carries on from here, and waits for the answer from
   * its new next hop. The nodes between keep routes that expire unused.
   */
  private cameBack (p: Pending, m: RingLookup, hop: Hop): void {
    if (hop.kind === 'self' && m.op === 'deliver') {
      p.next = this.core.id
      return this.answerOwn(m.qid, m)
    }
    if (hop.kind === 'self') return this.finish(m.qid, null, this.core.answer(m))
    p.next = hop.to
    this.forward(hop, m)
  }

  private reply (to: string, m: RingLookup, r: Partial<LookupResult> & { error?: string }): void {
    const found: RingFound = { type: 'ring.found', qid: m.qid, hops: m.hops, owner: r.owner ?? this.core.me(), pred: r.pred ?? this.core.table.predecessor() }
    if (r.replica === true) found.replica = true
    if (r.records !== undefined && r.records.length > 0) found.records = r.records
    if (r.stored !== undefined && m.op === 'store') found.stored = r.stored
    if (r.envelope !== undefined) found.envelope = r.envelope
    if (r.error !== undefined) found.error = r.error
    this.send(to, found)
  }

  onFound (from: string, m: RingFound): void {
    this.core.consider(m.owner)
    const route = this.routes.get(m.qid)
    if (route !== undefined) {
      if (route.next !== from) return
      this.routes.delete(m.qid)
      return this.send(route.prev, m)
    }
    let qid = m.qid
    let p = this.pending.get(qid)
    // The attempt this answers: the one pending, or one before a retry.
    let asked: RingLookup
    if (p === undefined) {
      // An answer to an attempt before a retry: it ends the lookup as well, unless it is an
      // error (the attempt after it is on its way).
      const now = this.attempts.get(qid)
      p = now === undefined ? undefined : this.pending.get(now)
      const attempt = m.error === undefined ? p?.earlier?.find(a => a.msg.qid === qid && a.next === from) : undefined
      if (p === undefined || attempt === undefined) return
      asked = attempt.msg
      qid = now as string
    } else {
      if (p.next !== from) return
      asked = p.msg
      // How long a whole path took to answer, from a lookup's first try (Karn's rule: an answer
      // after a retry may be to either copy) and not from the one-hop check of a claim.
      if (m.error === undefined && p.earlier === undefined && !p.checked) this.sample(this.core.time - p.sent)
    }
    // A closer node was asked to check the first answer, and failed to answer: the first stands.
    if (m.error !== undefined && p.first !== undefined) return this.finish(qid, null, resultOf(p.first))
    if (m.error !== undefined) {
      // A search's route that failed may work from elsewhere (its fallback, a flood, costs
      // thousands of frames); the ring's own lookups come round again at their next round.
      // Only with another link to go in by: the same way again meets the same failure.
      if (p.op === 'fetch' && p.detours < MAX_DETOURS && this.core.table.liveLinks().some(id => id !== p.next)) return this.retry(qid, p, 'detour')
      return this.finish(qid, new Error(m.error))
    }
    // The asker's check of the claim: a node it links to that lies between the target and the
    // claimed owner owns the target more plausibly; ask it directly, once. A node whose id is
    // the target owns it: nothing lies between (and a delivered envelope asked again would be a
    // replay to its node).
    const closer = asked.skip === 0 && !p.checked && m.owner.id !== p.target ? this.core.table.closerOwner(p.target, m.owner.id) : null
    if (closer !== null) {
      this.wait(qid, { ...p, next: closer, checked: true, first: m })
      return this.send(closer, { ...asked, qid, hops: 1, final: true })
    }
    // The closer node's answer, with what the first held (a node that joined a moment ago may
    // be the closer one and not hold the point's records yet).
    const res = resultOf(m)
    if (p.first !== undefined) res.records = mergeRecords(res.records, p.first.records ?? [])
    this.finish(qid, null, res)
  }

  /** This node's own envelope, for itself: its answer ends the lookup (unless it timed out first). */
  private answerOwn (qid: string, m: RingLookup): void {
    this.core.deliver(m, r => {
      if (this.pending.get(qid)?.next === this.core.id) this.finish(qid, r.error === undefined ? null : new Error(r.error), r)
    })
  }

  private finish (qid: string, err: Error | null, res?: LookupResult): void {
    const p = this.pending.get(qid)
    if (p === undefined) return
    this.pending.delete(qid)
    this.forgetAttempts(p)
    p.cb(err, res)
  }

  /** A lookup ended: answers to its earlier attempts count no more. */
  private forgetAttempts (p: Pending): void {
    for (const a of p.earlier ?? []) this.attempts.delete(a.msg.qid)
  }
}
