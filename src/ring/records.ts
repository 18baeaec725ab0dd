// The records side of a ring node: its own records (published, re-published before they expire,
// withdrawn by tombstone), the records it holds as a responsible node (accepted, copied to its
// replicas, handed over when responsibility moves), and searches (a fetch routed to a point,
// every record in the answer verified by the asker).
import { pointOf, recordPoint, signRecord, slotOf, verifyRecord, MAX_RECORD_TTL, RECORD_TTL, type RecordFields, type RingRecord, type RecordType, type VerifyContext } from './record.js'
import { packRecords } from '../wire/ring.js'
import { betweenOpen } from './ids.js'
import type { KeyPair } from '../node/identity.js'
import type { LookupResult, RingCore } from './protocol.js'

/**
 * How often a node re-signs and re-publishes each of its records, ms: a third of RECORD_TTL, so
 * a record survives two lost publications before it expires, and costs one publication (one
 * lookup: ~2·½·log2 N frames, plus REPLICAS − 1 copies) per record per REPUBLISH.
 */
export const REPUBLISH = Math.floor(RECORD_TTL / 3)

export type Published = Omit<RecordFields, 'seq' | 'expires' | 'network'>
export interface SearchResult { records: RingRecord[], hops: number, owner: string, replica: boolean }

interface Own {
  fields: Published
  record: RingRecord
  /** When it is published again. */
  due: number
  /** For a tombstone: when it may be forgotten (every copy of the withdrawn record expired). */
  until: number | undefined
}

export class Records {
  private readonly own = new Map<string, Own>()
  private lastSeq = 0
  /** Replica targets the last copy reached: when the list or its links change, new ones get copies. */
  private copiedTo = new Set<string>()
  private recopy = false
  /** The last predecessor known (not null): the start of this node's arc before a failure. */
  private lastPred: string | null = null
  private readonly check: (record: unknown, ctx: VerifyContext) => string | null

  constructor (private readonly core: RingCore, private readonly keyPair: KeyPair, private readonly network: string, verify?: (record: unknown, ctx: VerifyContext) => string | null) {
    this.check = verify ?? verifyRecord
  }

  /**
   * Signs and publishes a record of this node's at its point; cb gets how many were stored.
   * It is re-published every REPUBLISH, and at the next round when a publication fails. A
   * tombstone is re-published the same way until every copy of what it withdraws has expired.
   */
  publish (fields: Published, cb: (err: Error | null, stored?: number) => void = () => {}): RingRecord {
    const now = this.core.time
    // seq: the clock in ms, and always higher than the last one (a clock that steps back).
    this.lastSeq = Math.max(now, this.lastSeq + 1)
    const record = signRecord(this.keyPair, { ...fields, network: this.network, seq: this.lastSeq, expires: now + RECORD_TTL })
    const key = recordPoint(record) + ' ' + slotOf(record)
    const prev = this.own.get(key)
    const until = record.tombstone === true ? (prev?.until ?? now + MAX_RECORD_TTL) : undefined
    const entry: Own = { fields, record, due: now + REPUBLISH, until }
    this.own.set(key, entry)
    this.core.lookup(recordPoint(record), 'store', (err, res) => {
      if (err !== null || res === undefined) {
        if (this.own.get(key) === entry) entry.due = this.core.time // again at the next round
        return cb(err ?? new Error('no answer'))
      }
      cb(null, res.stored)
    }, { records: [record] })
    return record
  }

  /** Publishes the tombstone of a record of this node's (a `part`, a withdrawn service). */
  withdraw (type: RecordType, name: string, url?: string, cb?: (err: Error | null, stored?: number) => void): RingRecord {
    const f: Published = { type, name, tombstone: true }
    if (url !== undefined) f.url = url
    return this.publish(f, cb)
  }

  /**
   * Publishes this node's tombstones again (each still withdrawing a record that may live on):
   * the node joined after making them where it could not reach the ring.
   */
  republishTombstones (): void {
    for (const o of [...this.own.values()]) if (o.until !== undefined && o.until > this.core.time) this.publish(o.fields)
  }

  /** This node's own live records (not its tombstones). */
  mine (): RingRecord[] {
    return [...this.own.values()].filter(o => o.until === undefined).map(o => o.record)
  }

  /** Searches a point: cb gets the verified records the responsible node (or a replica) holds. */
  search (type: RecordType, name: string, max: number, cb: (err: Error | null, res?: SearchResult) => void): void {
    const point = pointOf(type, this.network, name)
    this.core.lookup(point, 'fetch', (err, res?: LookupResult) => {
      if (err !== null || res === undefined) return cb(err ?? new Error('no answer'))
      const now = this.core.time
      // Nothing a responder says is taken on trust: each record is checked as a store checks it
      // (its shape too: the nodes on the way back only made sure each is an object).
      // The point is a hash of (type, network, name): the same fields, compared, say the same.
      const records = res.records.filter(r => r.type === type && r.name === name && r.tombstone !== true && this.check(r, { network: this.network, now }) === null)
      cb(null, { records: records.slice(0, max), hops: res.hops, owner: res.owner.id, replica: res.replica })
    }, { max })
  }

  /** Records a publisher sent for point: stored when valid, then copied to the replicas. */
  accept (point: string, records: RingRecord[]): number {
    const ok: RingRecord[] = []
    for (const r of records) {
      if (recordPoint(r) === point && this.core.store.put(r, this.core.time) === null) ok.push(r)
    }
    if (ok.length === 0) return 0
    this.replicate(ok, this.core.table.replicaTargets())
    // A store that reached this node for a point before its arc came past the responsible node
    // (a retry after LOOKUP_RETRY without an answer: that node may only have been slow). The node
    // before this one gets a copy too when it is linked (it keeps what it may hold): else the
    // point's owner, alive and answering searches, would lack the record until it is re-published.
    const pred = this.core.table.predecessor()
    if (pred !== null && !this.core.table.isResponsible(point) && this.core.table.isLinked(pred)) this.handOver(pred, ok)
    return ok.length
  }

  /**
   * Sends records to a node now responsible for them (a joiner before this one), or a replica;
   * with `relay`, it passes them on to that many of its own nearest successors.
   */
  handOver (to: string, records: RingRecord[], relay = 0): void {
    for (const batch of packRecords(records)) this.core.sendTo(to, relay > 0 ? { type: 'ring.store', records: batch, relay } : { type: 'ring.store', records: batch })
  }

  /**
   * Copies of records for the replica targets (this node's successors, in order), or for those
   * of them in `only`. A node links its LINKED_SUCCESSORS nearest (and may link others, as
   * fingers): the targets after a linked one up to the next linked one get theirs from it, which
   * relays them to as many of its own nearest successors (in a settled ring, the same nodes).
   * Returns the targets covered: those linked, and each run of others after one.
   */
  replicate (records: RingRecord[], targets: readonly string[], only: ReadonlySet<string> | null = null): string[] {
    const table = this.core.table
    const covered: string[] = []
    for (let i = 0; i < targets.length; i++) {
      if (!table.isLinked(targets[i])) continue
      let gap = 0
      while (i + 1 + gap < targets.length && !table.isLinked(targets[i + 1 + gap])) gap++
      const after = targets.slice(i + 1, i + 1 + gap)
      covered.push(targets[i], ...after)
      if (gap > 0 && (only === null || after.some(id => only.has(id)))) this.handOver(targets[i], records, gap)
      else if (only === null || only.has(targets[i])) this.handOver(targets[i], records)
    }
    return covered
  }

  /**
   * The predecessor changed. When it moved back (the old one failed), this node is now
   * responsible for the arc between the two, whose records it holds as a replica: its own
   * replicas get them, so the arc keeps REPLICAS copies without waiting for re-publication.
   */
  predecessorChanged (pred: string | null): void {
    const last = this.lastPred
    if (pred === null) return
    this.lastPred = pred
    if (last === null || !betweenOpen(last, pred, this.core.id)) return
    const grown = this.core.store.inRange(pred, last)
    if (grown.length === 0) return
    this.replicate(grown, this.core.table.replicaTargets())
  }

  /** The successor list changed: new replica targets get copies at the next round. */
  successorsChanged (): void {
    this.recopy = true
  }

  /** Once a round: re-publish what is due, copy to new replicas. */
  upkeep (now: number): void {
    for (const [key, o] of [...this.own]) {
      if (o.until !== undefined && o.until <= now) this.own.delete(key)
      else if (o.due <= now) this.publish(o.fields)
    }
    if (!this.recopy) return
    this.recopy = false
    const pred = this.core.table.predecessor()
    if (pred === null) return
    const targets = this.core.table.replicaTargets()
    const fresh = targets.filter(id => !this.copiedTo.has(id))
    // A target that left the list is forgotten, so it gets copies again if it comes back.
    if (fresh.length === 0) {
      this.copiedTo = new Set(targets)
      return
    }
    const mineToHold = this.core.store.inRange(pred, this.core.id)
    // Nothing to copy covers every target: what this node takes on later goes out as it comes.
    this.copiedTo = new Set(mineToHold.length === 0 ? targets : this.replicate(mineToHold, targets, new Set(fresh)))
  }
}
