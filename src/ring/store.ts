// The records a node holds for the points it is responsible for (or a replica of). Every record
// is verified before it is stored; the store is bounded per point, per publishing id and in
// total; and it keeps each slot's highest seq (tombstones included) until that version expires,
// so an old record replayed later cannot undo a withdrawal. Chance and time are injected, so a
// seeded run repeats exactly.
import { between } from './ids.js'
import { recordPoint, slotOf, verifyRecord, type RingRecord, type VerifyContext } from './record.js'
import { recordShapeProblem } from '../wire/record.js'
import { randomInt, shuffle, type Random } from '../util/random.js'

/**
 * Most records (tombstones included) held for one point. A search asks for up to ~100 members
 * and a fair sample of many more is not needed; it bounds what a flood of joins can make one
 * node hold for one point.
 */
export const MAX_RECORDS_PER_POINT = 128
/**
 * Records at a full point that are never evicted for a newcomer: the ones held longest. Honest
 * members that were there before a flood of fresh keys keep their place (they refresh in place,
 * keeping their tenure); a flood can only churn the rest.
 */
export const TENURE_KEEP = 64
/** Records at a full point kept because they are the newest: a new member is always seen at once. */
export const NEWEST_KEEP = 32
/** Most slots one id holds at one point: a node may offer one service at a few URLs. */
export const MAX_SLOTS_PER_ID_AT_POINT = 4
/** Most points one id holds records at in this store (a node's subnets, services and presence). */
export const MAX_POINTS_PER_ID = 64
/**
 * Most records held in total. A node holds ~REPLICAS/N of all records (tens at N = 10,000); this
 * bounds what a flood at many points costs: ~MAX_RECORD_BYTES each at worst.
 */
export const MAX_STORED_RECORDS = 20_000

interface Entry {
  record: RingRecord
  point: string
  /** Order of first arrival of this slot at this point: tenure, kept across refreshes. */
  arrival: number
}

export interface RecordStoreOptions {
  network: string
  random: Random
  /** The check every record passes first (default verifyRecord; a simulation may stub it). */
  verify?: (record: unknown, ctx: VerifyContext) => string | null
}

export class RecordStore {
  private readonly points = new Map<string, Map<string, Entry>>()
  /** id → point → slots of that id at that point. */
  private readonly byId = new Map<string, Map<string, number>>()
  private arrivals = 0
  private count = 0
  private readonly network: string
  private readonly random: Random
  private readonly check: (record: unknown, ctx: VerifyContext) => string | null

  constructor (opts: RecordStoreOptions) {
    this.network = opts.network
    this.random = opts.random
    this.check = opts.verify ?? verifyRecord
  }

  /** Records held, tombstones included. */
  get size (): number {
    return this.count
  }

  get pointCount (): number {
    return this.points.size
  }

  /** Stores record when it is valid and newer than what is held: null, else why not. */
  put (x: unknown, now: number): string | null {
    // The shape first: the point and slot are computed from fields that must be bounded.
    const shape = recordShapeProblem(x)
    if (shape !== null) return shape
    const r = x as RingRecord
    const point = recordPoint(r)
    const at = this.points.get(point)
    const slot = slotOf(r)
    const held = at?.get(slot)
    const why = this.check(r, { network: this.network, now, held: held?.record.seq ?? null })
    if (why !== null) return why
    if (held !== undefined) {
      held.record = r
      return null
    }
    const ofId = this.byId.get(r.id)
    const here = ofId?.get(point) ?? 0
    if (here >= MAX_SLOTS_PER_ID_AT_POINT) return `id holds MAX_SLOTS_PER_ID_AT_POINT (${MAX_SLOTS_PER_ID_AT_POINT}) records at this point already`
    if (here === 0 && (ofId?.size ?? 0) >= MAX_POINTS_PER_ID) return `id holds records at MAX_POINTS_PER_ID (${MAX_POINTS_PER_ID}) points here already`
    const entries = at ?? new Map<string, Entry>()
    if (entries.size >= MAX_RECORDS_PER_POINT) this.evict(entries)
    else if (this.count >= MAX_STORED_RECORDS) return `store holds MAX_STORED_RECORDS (${MAX_STORED_RECORDS}) records`
    if (at === undefined) this.points.set(point, entries)
    entries.set(slot, { record: r, point, arrival: this.arrivals++ })
    this.count++
    this.countId(r.id, point, 1)
    return null
  }

  /**
   * Makes room at a full point, never taking one of the NEWEST_KEEP newest. First from the
   * publisher holding the most slots here, when one holds several (one node's many URLs must not
   * crowd out other nodes); else a random record that is not among the TENURE_KEEP held longest,
   * so the band between tenure and the newest is a random sample of the rest.
   */
  private evict (entries: Map<string, Entry>): void {
    const order = [...entries.values()].sort((a, b) => a.arrival - b.arrival)
    const open = order.slice(0, Math.max(1, order.length - NEWEST_KEEP))
    const slots = new Map<string, number>()
    for (const e of open) slots.set(e.record.id, (slots.get(e.record.id) ?? 0) + 1)
    const most = Math.max(...slots.values())
    if (most > 1) {
      const heavy = open.filter(e => slots.get(e.record.id) === most)
      this.remove(entries, heavy[randomInt(this.random, heavy.length)])
      return
    }
    const lo = Math.min(TENURE_KEEP, open.length - 1)
    this.remove(entries, open[lo + randomInt(this.random, open.length - lo)])
  }

  private remove (entries: Map<string, Entry>, e: Entry): void {
    entries.delete(slotOf(e.record))
    if (entries.size === 0) this.points.delete(e.point)
    this.count--
    this.countId(e.record.id, e.point, -1)
  }

  private countId (id: string, point: string, delta: number): void {
    let m = this.byId.get(id)
    if (m === undefined) this.byId.set(id, m = new Map())
    const n = (m.get(point) ?? 0) + delta
    if (n > 0) m.set(point, n)
    else m.delete(point)
    if (m.size === 0) this.byId.delete(id)
  }

  /** Whether this very record (its slot, seq and signature) is the one held. */
  holds (r: RingRecord): boolean {
    const held = this.points.get(recordPoint(r))?.get(slotOf(r))?.record
    return held !== undefined && held.seq === r.seq && held.sig === r.sig
  }

  /** Live (unexpired, not withdrawn) records at point. */
  get (point: string, now: number): RingRecord[] {
    const out: RingRecord[] = []
    for (const e of this.points.get(point)?.values() ?? []) {
      if (e.record.tombstone !== true && e.record.expires > now) out.push(e.record)
    }
    return out
  }

  /**
   * Up to max live records at point, a fair sample: one record per publishing id first, ids in
   * random order, so no publisher fills an answer; then more records of the same ids if room.
   */
  pick (point: string, max: number, now: number): RingRecord[] {
    const live = shuffle(this.random, this.get(point, now))
    const seen = new Set<string>()
    const first: RingRecord[] = []
    const rest: RingRecord[] = []
    for (const r of live) {
      if (seen.has(r.id)) rest.push(r)
      else { seen.add(r.id); first.push(r) }
    }
    return first.concat(rest).slice(0, Math.max(0, max))
  }

  /** Every record held at point, tombstones included (what a replica needs to copy). */
  recordsAt (point: string): RingRecord[] {
    return [...this.points.get(point)?.values() ?? []].map(e => e.record)
  }

  /** Records (tombstones included) whose point lies in the arc (a, b]: a handover's content. */
  inRange (a: string, b: string): RingRecord[] {
    const out: RingRecord[] = []
    for (const [point, entries] of this.points) {
      if (between(point, a, b)) for (const e of entries.values()) out.push(e.record)
    }
    return out
  }

  /** Drops every point keep() refuses (this node is no longer responsible nor a replica). */
  prune (keep: (point: string) => boolean): number {
    // Over the maps themselves, not copies (each node runs this and sweep every round): a Map
    // iterator goes on past the deletion of the entry it is at, and only ever that one is deleted.
    // Over the keys, not [point, entries] pairs: a pair a point held each round was 3% of what a
    // simulated node allocated.
    let dropped = 0
    for (const point of this.points.keys()) {
      if (keep(point)) continue
      const entries = this.points.get(point) as Map<string, Entry>
      for (const e of entries.values()) this.remove(entries, e)
      dropped++
    }
    return dropped
  }

  /** Drops expired records and tombstones; how many went. */
  sweep (now: number): number {
    let n = 0
    for (const entries of this.points.values()) {
      for (const e of entries.values()) {
        if (e.record.expires <= now) { this.remove(entries, e); n++ }
      }
    }
    return n
  }

  /** The points held, for handover and re-replication. */
  heldPoints (): string[] {
    return [...this.points.keys()]
  }
}
