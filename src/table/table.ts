// The address table over LevelDB: the only code that reads or writes peernet's address keys.
// Just over ~400 lines: the table's whole API in one place (each write's rule beside its
// keys); the indexes, tombstones, queue and checks are in files of their own.
//
// Key layout (abstract-level sublevels, JSON values):
//   !meta!version   schema version          !meta!id      this node's id (its public key, hex)
//   !meta!key       the node's secret key (hex), when the db keeps it (a library node without
//                   opts.keyPair; a daemon keeps its key in DATADIR/key instead)
//   !addr!<addr>    AddressRecord           !tomb!<addr>  expiry time of a removal
//   !subnet!<name>  {joined: ms}
// (!service!<url> belongs to the daemon's ServiceStore, in services.ts.)
//
// Every record is mirrored in memory (AddressIndex), compactly (by slot, in columns: see
// records.ts), so that eviction, dialing and gossip can pick addresses at random in O(1);
// known() still streams from LevelDB. Writes go through one WriteQueue: a user's write is
// synced before it resolves, gossip's is not.
import {
  type AddressRecord, type Stats, type Vitals, newRecord, learnedRecord, asRecord, statsOf, isDead, dialable, badness, sourceCap, displaceCap, strictId,
  type Pin, startSlots, DEFAULT_TABLE_SIZE, DEFAULT_INFORMANT_SHARE, EVICTION_SAMPLE, TOMBSTONE_TTL, MAX_SAVED,
  MAX_SERVED_SUBNETS
} from './rules.js'
import { AddressIndex, sourceGroup } from './indexes.js'
import type { SlotSet } from './order.js'
import { type LevelLike, type SublevelLike, type BatchOp, type IteratorOptions, JSON_VALUES, TableError } from './db.js'
import { knownRowJson } from './known-text.js'
import { WriteQueue } from './write-queue.js'
import { Tombstones } from './tombstones.js'
import { RecentlyLearned } from './recent.js'
import { boundsProblem, diskProblem } from './check.js'
import { type Random, randomHex, SlotSampler } from '../util/random.js'

/**
 * Version 2: the id is the node's public key (64 hex digits), no longer a random 32-digit one.
 * A version 1 database is migrated on open: its id is replaced by the node's key's.
 */
export const SCHEMA_VERSION = 2

/** What the db keeps of the node's identity (the table stores it; the node decides it). */
export interface StoredIdentity { id: string | null, secret: string | null }

/**
 * Most bytes of records one batch of a scan reads from LevelDB before it ends early (a batch is
 * also at most its `size` records). LevelDB's own default, 16 KB, ended batches at ~80 records:
 * a 100,000-row `known` then took 1,250 trips to LevelDB's thread and as many socket writes.
 */
export const SCAN_BATCH_BYTES = 256 * 1024

/** The id an address comes with, if any: what the user gave (save), or a peer's hint (learn). */
export type IdOf = (address: string) => string | undefined

export interface TableOptions {
  /** Bound on gossip-learned addresses. */
  size?: number
  /** Largest share of the capacity one source may fill. */
  informantShare?: number
  random: Random
  now: () => number
  /**
   * Decides the node's identity from what the db kept (throws to refuse the db); the table
   * stores what it returns. Without it (tables on their own, in tests) the id is random.
   */
  identify?: (stored: StoredIdentity) => StoredIdentity
}

export class AddressTable {
  readonly capacity: number
  readonly share: number
  id = ''
  private readonly meta: SublevelLike
  private readonly addr: SublevelLike
  private readonly subnet: SublevelLike
  private readonly tomb: SublevelLike
  private readonly index: AddressIndex
  private readonly tombs: Tombstones
  private readonly joined = new Set<string>()
  private readonly recent = new RecentlyLearned()
  private readonly queue: WriteQueue
  /** Reused by eviction, gossip answers and purge, which would otherwise allocate per call. */
  private readonly sampler = new SlotSampler()
  private readonly scratch: Vitals & { user: boolean } = { user: false, last: 0, lastTry: 0, lastOk: 0, streak: 0 }

  private constructor (private readonly db: LevelLike, private readonly opts: TableOptions) {
    this.capacity = opts.size ?? DEFAULT_TABLE_SIZE
    this.index = new AddressIndex(startSlots(this.capacity))
    this.share = opts.informantShare ?? DEFAULT_INFORMANT_SHARE
    this.meta = db.sublevel('meta', JSON_VALUES)
    this.addr = db.sublevel('addr', JSON_VALUES)
    this.subnet = db.sublevel('subnet', JSON_VALUES)
    this.tomb = db.sublevel('tomb', JSON_VALUES)
    this.tombs = new Tombstones(this.tomb)
    this.queue = new WriteQueue(db, 'address table')
  }

  static async open (db: LevelLike, opts: TableOptions): Promise<AddressTable> {
    const t = new AddressTable(db, opts)
    await t.load()
    return t
  }

  /** Called when a background write fails; the node replaces it to emit 'error'. */
  set onError (fn: (err: Error) => void) { this.queue.onError = fn }

  private async load (): Promise<void> {
    if (this.db.open && this.db.status !== 'open') await this.db.open()
    const version = await this.meta.get('version')
    // Version 1 differs only by its id, which identify() replaces: no other key moves.
    if (version !== undefined && version !== 1 && version !== SCHEMA_VERSION) {
      throw new TableError(`database schema version ${String(version)} is not supported (this peernet reads versions 1 to ${SCHEMA_VERSION})`)
    }
    const id = await this.meta.get('id')
    const key = await this.meta.get('key')
    const stored: StoredIdentity = { id: typeof id === 'string' ? id : null, secret: typeof key === 'string' ? key : null }
    const identity = this.opts.identify?.(stored) ?? { id: typeof id === 'string' && /^[0-9a-f]{64}$/.test(id) ? id : randomHex(this.opts.random, 32), secret: stored.secret }
    this.id = identity.id as string
    if (version !== SCHEMA_VERSION || id !== this.id || stored.secret !== identity.secret) {
      await this.queue.sync([
        { type: 'put', sublevel: this.meta, key: 'version', value: SCHEMA_VERSION },
        { type: 'put', sublevel: this.meta, key: 'id', value: this.id },
        identity.secret === null
          ? { type: 'del', sublevel: this.meta, key: 'key' }
          : { type: 'put', sublevel: this.meta, key: 'key', value: identity.secret }
      ])
    }
    for await (const batch of this.scanBatches()) for (const r of batch) this.index.add(r)
    await this.tombs.load()
    for await (const [key] of this.subnet.iterator()) this.joined.add(key)
    this.fit()
  }

  /** Evict down to the bounds in force, which may be smaller than those the data was written under. */
  private fit (): void {
    const now = this.opts.now()
    const cap = sourceCap(this.capacity, this.share)
    const ops: BatchOp[] = []
    const shrink = (set: SlotSet, bound: number): void => {
      let room = true
      while (room && set.size > bound) room = this.evictFrom(set, now, ops)
    }
    for (const set of [...this.index.bySource.values()]) shrink(set, cap)
    shrink(this.index.learned, this.capacity)
    ops.push(...this.tombs.trim())
    this.queue.post(ops)
  }

  // --- reading -------------------------------------------------------------------------

  get size (): number { return this.index.size }
  get learnedCount (): number { return this.index.learned.size }
  get savedCount (): number { return this.index.saved }
  get tombstoneCount (): number { return this.tombs.size }

  has (address: string): boolean { return this.index.slotOf(address) >= 0 }

  /** The record of address, as a copy: changing it changes nothing in the table. */
  get (address: string): AddressRecord | undefined {
    const slot = this.index.slotOf(address)
    return slot < 0 ? undefined : this.index.records.get(slot)
  }

  /**
   * The id a dial of address must reach: the user's pin (given, or seen on a first connect), or
   * null when any key will do. With how it came to be, for the refusal's wording.
   */
  pinOf (address: string): { id: string, pin: 'given' | 'seen' } | null {
    const slot = this.index.slotOf(address)
    if (slot < 0) return null
    const { records } = this.index
    const id = strictId({ user: records.isUser(slot), id: records.idOf(slot), pin: records.pinOf(slot) })
    return id === null ? null : { id, pin: records.pinOf(slot) as 'given' | 'seen' }
  }

  /**
   * The peer that told us of address as its own, if one did: the table learned it first from
   * that peer (its informant) and holds it to that peer's key (on its word, or a proof). Null
   * for an address anyone else brought (the user, another peer).
   */
  claimantOf (address: string): string | null {
    const slot = this.index.slotOf(address)
    if (slot < 0) return null
    const { records } = this.index
    const id = records.idOf(slot)
    return id !== undefined && records.sourcesOf(slot).includes('id:' + id) ? id : null
  }

  /** The id a handshake at address proved (what gossip may pass on as ID@ADDR), or null. */
  provenId (address: string): string | null {
    const slot = this.index.slotOf(address)
    return slot >= 0 && this.index.records.pinOf(slot) === 'seen' ? this.index.records.idOf(slot) as string : null
  }

  /** How many entries a source accounts for now. */
  sourceCount (source: string): number { return this.index.bySource.get(source)?.size ?? 0 }

  isTombstoned (address: string): boolean { return this.tombs.active(address, this.opts.now()) }

  stats (address: string): Stats { return statsOf(address, this.get(address)) }

  /** Every stored record, streamed from LevelDB in key order. */
  async * scan (): AsyncGenerator<AddressRecord> {
    for await (const batch of this.scanBatches()) yield * batch
  }

  /** The same, a batch of up to `size` records at a time (one promise a batch, not a row). */
  async * scanBatches (size = 512): AsyncGenerator<AddressRecord[]> {
    for await (const entries of this.entries(size, JSON_VALUES)) {
      yield entries.map(([key, value]) => asRecord(key, value)).filter(r => r !== undefined)
    }
  }

  /** Each record's known row as JSON text, a batch at a time, from its stored text (known-text.ts). */
  async * scanKnownJson (size = 512): AsyncGenerator<string[]> {
    for await (const entries of this.entries(size, { valueEncoding: 'utf8' })) {
      yield entries.map(([key, value]) => knownRowJson(key, value as string)).filter(j => j !== undefined)
    }
  }

  private async * entries (size: number, opts: IteratorOptions): AsyncGenerator<Array<[string, unknown]>> {
    const it = this.addr.iterator({ ...opts, highWaterMarkBytes: SCAN_BATCH_BYTES })
    try {
      for (;;) {
        const entries = await it.nextv(size)
        if (entries.length === 0) return
        yield entries
      }
    } finally {
      await it.close()
    }
  }

  /**
   * Up to n addresses worth dialing now, chosen at random; skip() vetoes candidates.
   * A source group is drawn first, then an address within it (as addrman draws a bucket,
   * then an entry): an informant or /24 that fills its whole share of the table with
   * addresses still wins no more dials than any other group. The user's addresses are one
   * group of their own.
   */
  dialCandidates (n: number, skip: (address: string) => boolean): string[] {
    const { records, dialGroups } = this.index
    const now = this.opts.now()
    const out: string[] = []
    const tried = new Set<number>()
    const tries = Math.max(n * 8, 64)
    for (let i = 0; i < tries && out.length < n && dialGroups.size > 0; i++) {
      const g = dialGroups.pick(this.opts.random) as string
      const slot = (this.index.members(g) as SlotSet).pick(this.opts.random) as number
      if (tried.has(slot)) continue
      tried.add(slot)
      const a = records.address(slot)
      const r = records.vitals(slot)
      if (skip(a) || !dialable(r, now) || (!r.user && isDead(r, now))) continue
      out.push(a)
    }
    return out
  }

  /** Up to k live addresses at random, to answer a peer's request. */
  sampleForGossip (k: number): string[] {
    const { records } = this.index
    const now = this.opts.now()
    const out: string[] = []
    // The slots taken, to tell a repeat by its slot (one a record): an address is read out of
    // the table only for a slot that is taken.
    const taken: number[] = []
    const takes = (slot: number): boolean => slot >= 0 && !taken.includes(slot) && !isDead(records.readVitals(slot, this.scratch), now)
    // Half the answer from what we learned last (see RecentlyLearned), the rest uniform.
    const { recent } = this
    for (let i = 0; i < recent.size && out.length < Math.ceil(k / 2); i++) {
      const a = recent.nthNewest(i)
      const slot = this.index.slotOf(a)
      if (!takes(slot)) continue
      taken.push(slot)
      out.push(a)
    }
    const { sampler } = this
    const n = sampler.draw(this.opts.random, this.index.all.values(), k * 2)
    for (let i = 0; i < n && out.length < k; i++) {
      const slot = sampler.out[i]
      if (!takes(slot)) continue
      taken.push(slot)
      out.push(records.address(slot))
    }
    return out
  }

  // --- subnets (synced) --------------------------------------------------------------------

  isMember (subnet: string): boolean { return this.joined.has(subnet) }
  subnets (): string[] { return [...this.joined].sort() }

  /** Join subnets; resolves to the names that were not joined before. */
  async join (names: string[]): Promise<string[]> {
    const changed = [...new Set(names)].filter(n => !this.joined.has(n))
    for (const n of changed) this.joined.add(n)
    await this.queue.sync(changed.map(n => ({ type: 'put', sublevel: this.subnet, key: n, value: { joined: this.opts.now() } })))
    return changed
  }

  /** Part subnets; resolves to the names that were joined. */
  async part (names: string[]): Promise<string[]> {
    const changed = [...new Set(names)].filter(n => this.joined.has(n))
    for (const n of changed) this.joined.delete(n)
    await this.queue.sync(changed.map(n => ({ type: 'del', sublevel: this.subnet, key: n })))
    return changed
  }

  // --- user writes (synced) ----------------------------------------------------------------

  /**
   * Save normalised addresses as the user's; resolves to those that were not the user's before,
   * or whose pin this changed. `given` names the id an address must reach (the user's ID@ADDR):
   * a strict pin. An address saved without one keeps a key a handshake proved (trust on first
   * use starts there), never a peer's mere hint.
   */
  async save (addresses: string[], given: IdOf = () => undefined): Promise<string[]> {
    const now = this.opts.now()
    const ops: BatchOp[] = []
    const { records } = this.index
    const distinct = new Set(addresses)
    for (const a of distinct) {
      const why = records.unstorable(a)
      if (why !== null) throw new TableError(why)
    }
    const fresh = [...distinct].filter(a => !this.isSaved(a))
    if (this.index.saved + fresh.length > MAX_SAVED) throw new TableError(`cannot save more than MAX_SAVED (${MAX_SAVED}) addresses`)
    const changed: string[] = []
    for (const a of distinct) {
      const slot = this.index.slotOf(a)
      const id = given(a)
      let r: AddressRecord
      if (slot >= 0 && records.isUser(slot)) {
        r = records.get(slot)
        if (id === undefined || id === r.id) continue
        records.set(slot, pinTo(r, id, 'given'))
      } else {
        if (slot < 0) {
          r = newRecord(a, now, true, [])
        } else {
          r = records.get(slot)
          this.index.delete(slot)
          if (r.pin === 'hint') pinTo(r, undefined)
          r.user = true
          r.sources = []
        }
        if (id !== undefined && id !== r.id) pinTo(r, id, 'given')
        this.index.add(r)
      }
      changed.push(a)
      ops.push({ type: 'put', sublevel: this.addr, key: a, value: r })
      ops.push(...this.tombs.lift(a))
    }
    await this.queue.sync(ops)
    return changed
  }

  /**
   * Remove addresses and refuse them from gossip for TOMBSTONE_TTL; resolves to those that were
   * in the table. An address that is neither known nor removed already is left alone: no
   * tombstone for what was never there (a removed one has its tombstone renewed).
   */
  async remove (addresses: string[]): Promise<string[]> {
    const until = this.opts.now() + TOMBSTONE_TTL
    const ops: BatchOp[] = []
    const removed: string[] = []
    for (const a of new Set(addresses)) {
      const slot = this.index.slotOf(a)
      if (slot >= 0) {
        this.index.delete(slot)
        removed.push(a)
      } else if (!this.tombs.all.has(a)) {
        continue
      }
      ops.push({ type: 'del', sublevel: this.addr, key: a }, this.tombs.add(a, until))
    }
    ops.push(...this.tombs.trim())
    await this.queue.sync(ops)
    return removed
  }

  // --- gossip writes (not synced) ------------------------------------------------------------

  /**
   * Store addresses a peer told us about. `sources` names who told us (the informant and its
   * source group); each may fill at most `share` of the capacity, past which its own worst entry
   * makes room. `hint` gives the id a peer said an address reaches (unchecked: a record keeps
   * the first hint until a handshake proves a key). Of the new addresses, at most
   * displaceCap(addresses.length) take the place of entries held (DISPLACE_SHARE); the rest are
   * left out. Returns how many were new.
   */
  learn (addresses: readonly string[], sources: readonly string[], hint: IdOf = () => undefined): number {
    const now = this.opts.now()
    const cap = sourceCap(this.capacity, this.share)
    const ops: BatchOp[] = []
    let added = 0
    const { records } = this.index
    // What newRecord would make of sources, and its dial group: once a call, not once an address.
    let distinct: string[] | null = null
    let group = ''
    const maxDisplaced = displaceCap(addresses.length)
    let displaced = 0
    for (const a of addresses) {
      const known = this.index.slotOf(a)
      if (known >= 0) {
        if (records.lastOf(known) < now) {
          records.setLast(known, now)
          records.markDirty(known)
        }
        const id = hint(a)
        if (id !== undefined && records.pinOf(known) === undefined) {
          // Only the pin changes: no record is built to write it.
          records.setPin(known, id, 'hint')
          records.markDirty(known)
        }
        continue
      }
      if (this.isTombstoned(a) || records.unstorable(a) !== null) continue
      // Room made by evicting counts against the answer's share (DISPLACE_SHARE).
      const displacing = this.index.learned.size >= this.capacity || this.atCap(sources, cap)
      if (displacing && displaced >= maxDisplaced) continue
      let room = true
      for (const s of sources) {
        const set = this.index.bySource.get(s)
        if (set !== undefined && set.size >= cap) room = this.evictFrom(set, now, ops)
        if (!room) break
      }
      if (room && this.index.learned.size >= this.capacity) room = this.evictFrom(this.index.learned, now, ops)
      if (!room) continue
      if (displacing) displaced++
      if (distinct === null) {
        distinct = [...new Set(sources)]
        group = sourceGroup(distinct)
      }
      const r = learnedRecord(a, now, false, distinct.slice())
      const id = hint(a)
      if (id !== undefined) pinTo(r, id, 'hint')
      this.index.add(r)
      ops.push({ type: 'put', sublevel: this.addr, key: a, value: r })
      this.recent.add(a, group)
      added++
    }
    this.queue.post(ops)
    return added
  }

  /** Remember that address answered a search for subnet. */
  noteServed (address: string, subnet: string): void {
    // Asked of every member in every answer a search gets (a hundred a search): most are noted
    // already, and are told apart without building the record.
    const slot = this.index.slotOf(address)
    if (slot < 0 || this.index.records.subnetsOf(slot).includes(subnet)) return
    this.update(address, r => {
      r.subnets.push(subnet)
      if (r.subnets.length > MAX_SERVED_SUBNETS) r.subnets.shift()
    })
  }

  recordAttempt (address: string): void {
    this.update(address, r => { r.lastTry = this.opts.now() })
  }

  recordSuccess (address: string): void {
    this.update(address, r => {
      const now = this.opts.now()
      r.ok++
      r.streak = 0
      r.lastOk = now
      r.last = now
    })
  }

  /**
   * A handshake at address (dialed by us) proved key id: the record is pinned to it from now on.
   * For the user's addresses the dial was held to any pin they had, so this is their first key
   * (trust on first use) or the same; for learned ones it replaces whatever a peer hinted.
   */
  recordKey (address: string, id: string): void {
    const slot = this.index.slotOf(address)
    const { records } = this.index
    if (slot < 0 || (records.pinOf(slot) === 'seen' && records.idOf(slot) === id)) return
    this.update(address, r => { pinTo(r, id, 'seen') })
  }

  recordFailure (address: string): void {
    this.update(address, r => {
      r.fail++
      r.streak++
    })
  }

  recordNodes (address: string, rx: number, tx: number): void {
    if (rx === 0 && tx === 0) return
    const slot = this.index.slotOf(address)
    if (slot < 0) return
    this.index.records.addCounts(slot, rx, tx)
    this.index.records.markDirty(slot)
  }

  /**
   * Write the records whose counters or last-seen time changed. Those change on nearly every
   * gossip message, so they stay in memory until the next purge pass or close (or until the
   * record is written for another reason) instead of costing a write each.
   */
  flushDirty (): void {
    const { records } = this.index
    if (!records.anyDirty) return
    // Each record's view is made only for a store that keeps what it is given.
    if (this.queue.discards) return records.takeDirty(() => {})
    const ops: BatchOp[] = []
    records.takeDirty(slot => {
      const a = records.address(slot)
      // A view, not a copy: the value is only written (its lists are frozen).
      ops.push({ type: 'put', sublevel: this.addr, key: a, value: records.view(slot, a) })
    })
    this.queue.post(ops)
  }

  /** One purge pass: drop dead gossip-learned addresses and expired tombstones. */
  purge (): { dropped: number, tombstones: number } {
    this.flushDirty()
    const now = this.opts.now()
    const ops: BatchOp[] = []
    let dropped = 0
    const { records } = this.index
    // The dead are found first, then dropped in the same order: no copy of the learned slots
    // (up to the capacity) each pass, when there are seldom any to drop.
    const dead: number[] = []
    for (const slot of this.index.learned.values()) if (isDead(records.readVitals(slot, this.scratch), now)) dead.push(slot)
    for (const slot of dead) {
      ops.push({ type: 'del', sublevel: this.addr, key: records.address(slot) })
      this.index.delete(slot)
      dropped++
    }
    const expired = this.tombs.expire(now)
    this.queue.post([...ops, ...expired])
    return { dropped, tombstones: expired.length }
  }

  /** Wait for every queued write, then refuse more. */
  async close (): Promise<void> {
    this.flushDirty()
    await this.queue.close()
  }

  /** Resolves once every write queued so far is on disk (or has failed). */
  async flushed (): Promise<void> {
    this.flushDirty()
    await this.queue.flushed()
  }

  /**
   * The invariants (as Bitcoin Core's addrman checks its own): the indexes agree with the
   * records and each other, the bounds hold, and, once flushed, LevelDB holds what memory does.
   * Throws a TableError naming the first broken invariant. For tests and debugging: it reads
   * every record, so call it when the table is quiet.
   */
  async check (): Promise<void> {
    await this.flushed()
    const problem = this.index.problem() ?? boundsProblem(this.index, this.capacity, this.share, this.tombs.size, this.recent.size) ??
      await diskProblem({ meta: this.meta, addr: this.addr, tomb: this.tomb, subnet: this.subnet },
        { id: this.id, version: SCHEMA_VERSION, record: a => this.get(a), size: this.size, tombs: this.tombs.all, joined: this.joined })
    if (problem !== null) throw new TableError(`address table check failed: ${problem}`)
  }

  // --- internals -------------------------------------------------------------------------

  private isSaved (address: string): boolean {
    const slot = this.index.slotOf(address)
    return slot >= 0 && this.index.records.isUser(slot)
  }

  /** Change address's record with fn and write it (not synced). */
  private update (address: string, fn: (r: AddressRecord) => void): void {
    const slot = this.index.slotOf(address)
    if (slot < 0) return
    const r = this.index.records.get(slot)
    fn(r)
    this.index.records.set(slot, r)
    this.queue.post([{ type: 'put', sublevel: this.addr, key: address, value: r }])
  }

  /** Whether any of sources already accounts for cap entries. */
  private atCap (sources: readonly string[], cap: number): boolean {
    for (const s of sources) if ((this.index.bySource.get(s)?.size ?? 0) >= cap) return true
    return false
  }

  /** Evict the worst of a sample of set's learned entries; false when it holds none. */
  private evictFrom (set: SlotSet, now: number, ops: BatchOp[]): boolean {
    const { records } = this.index
    let worst = -1
    let worstBadness = 0
    const { sampler } = this
    const n = sampler.draw(this.opts.random, set.values(), EVICTION_SAMPLE)
    for (let i = 0; i < n; i++) {
      const slot = sampler.out[i]
      const r = records.readVitals(slot, this.scratch)
      if (r.user) continue
      const b = badness(r, now)
      if (worst < 0 || b > worstBadness) {
        worst = slot
        worstBadness = b
      }
    }
    if (worst < 0) return false
    ops.push({ type: 'del', sublevel: this.addr, key: records.address(worst) })
    this.index.delete(worst)
    return true
  }
}

/** Pin r to id (how it came to be: pin), or unpin it (id undefined). Returns r. */
function pinTo (r: AddressRecord, id: string | undefined, pin: Pin = 'seen'): AddressRecord {
  if (id === undefined) {
    delete r.id
    delete r.pin
  } else {
    r.id = id
    r.pin = pin
  }
  return r
}
