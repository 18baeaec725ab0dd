// The address table over LevelDB: the only code that reads or writes peernet's keys.
//
// Key layout (abstract-level sublevels, JSON values):
//   !meta!version   schema version          !meta!id      this node's random id
//   !addr!<addr>    AddressRecord           !tomb!<addr>  expiry time of a removal
//   !subnet!<name>  {joined: ms}            !service!<url> ServiceRecord (services to reopen)
//
// Every record is mirrored in memory so that eviction, dialing and gossip can pick addresses
// at random in O(1); known() still streams from LevelDB. Writes go through one queue, in
// order, grouped into batches; a batch holding a user's write is synced before it resolves.
import {
  type AddressRecord, newRecord, isDead, dialable, badness, sourceCap,
  DEFAULT_TABLE_SIZE, DEFAULT_INFORMANT_SHARE, EVICTION_SAMPLE, TOMBSTONE_TTL, MAX_TOMBSTONES, MAX_SAVED,
  MAX_SERVED_SUBNETS, MAX_RECENT
} from './rules.js'
import { IndexedSet } from './indexed-set.js'
import { type Random, randomHex, sample } from '../node/clock.js'

export const SCHEMA_VERSION = 1

/** The part of an abstract-level database peernet uses (level, classic-level, memory-level). */
export interface LevelLike {
  sublevel (name: string, opts: { valueEncoding: 'json' }): SublevelLike
  // Typed loosely on purpose: each abstract-level store declares its own batch operation types.
  batch (ops: any[], opts?: { sync?: boolean }): Promise<void> // eslint-disable-line @typescript-eslint/no-explicit-any
  open? (): Promise<void>
  status?: string
}
export interface SublevelLike {
  get (key: string): Promise<unknown>
  iterator (): AsyncIterable<[string, unknown]> & { nextv (size: number): Promise<Array<[string, unknown]>>, close (): Promise<void> }
}
export type BatchOp =
  | { type: 'put', sublevel: SublevelLike, key: string, value: unknown }
  | { type: 'del', sublevel: SublevelLike, key: string }

export interface TableOptions {
  /** Bound on gossip-learned addresses. */
  size?: number
  /** Largest share of the capacity one source may fill. */
  informantShare?: number
  random: Random
  now: () => number
}

export interface Stats {
  address: string
  saved: boolean
  connections: { ok: number, fail: number }
  nodes: { rx: number, tx: number }
  first: number | null
  last: number | null
  lastOk: number | null
  sources: string[]
  subnets: string[]
}

/** A service (listening socket) the daemon reopens after a restart. */
export interface ServiceRecord { address: string, protocol: 'tcp' | 'ws', host: string, port: number }

interface Pending {
  ops: BatchOp[]
  /** Where each key's op sits in ops, so a later write to the same key replaces it. */
  slots: Map<SublevelLike, Map<string, number>>
  sync: boolean
  done: Array<{ resolve: () => void, reject: (e: Error) => void }>
}

export class TableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'TableError'
  }
}

export class AddressTable {
  readonly capacity: number
  readonly share: number
  id = ''
  private readonly meta: SublevelLike
  private readonly addr: SublevelLike
  private readonly tomb: SublevelLike
  private readonly subnet: SublevelLike
  private readonly service: SublevelLike
  private readonly records = new Map<string, AddressRecord>()
  private readonly all = new IndexedSet<string>()
  private readonly learned = new IndexedSet<string>()
  private readonly bySource = new Map<string, IndexedSet<string>>()
  /** Addresses by dial group (see dialGroup), and the groups themselves, for dialCandidates. */
  private readonly byDialGroup = new Map<string, IndexedSet<string>>()
  private readonly dialGroups = new IndexedSet<string>()
  private readonly tombs = new Map<string, number>()
  private readonly joined = new Set<string>()
  /**
   * The addresses learned last, newest at the end (at most MAX_RECENT), for gossip answers;
   * one per source group (or informant), so an informant sending many fresh addresses gets
   * no more of them passed on than any other.
   */
  private readonly recent: Array<{ address: string, from: string }> = []
  /** Records changed in memory only (counters, last seen): see flushDirty. */
  private readonly dirty = new Set<string>()
  private saved = 0
  private queue: Pending | null = null
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  private constructor (private readonly db: LevelLike, private readonly opts: TableOptions) {
    this.capacity = opts.size ?? DEFAULT_TABLE_SIZE
    this.share = opts.informantShare ?? DEFAULT_INFORMANT_SHARE
    this.meta = db.sublevel('meta', { valueEncoding: 'json' })
    this.addr = db.sublevel('addr', { valueEncoding: 'json' })
    this.tomb = db.sublevel('tomb', { valueEncoding: 'json' })
    this.subnet = db.sublevel('subnet', { valueEncoding: 'json' })
    this.service = db.sublevel('service', { valueEncoding: 'json' })
  }

  static async open (db: LevelLike, opts: TableOptions): Promise<AddressTable> {
    const t = new AddressTable(db, opts)
    await t.load()
    return t
  }

  private async load (): Promise<void> {
    if (this.db.open && this.db.status !== 'open') await this.db.open()
    const version = await this.meta.get('version')
    if (version !== undefined && version !== SCHEMA_VERSION) {
      throw new TableError(`database schema version ${String(version)} is not supported (this peernet reads version ${SCHEMA_VERSION})`)
    }
    const id = await this.meta.get('id')
    this.id = typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? id : randomHex(this.opts.random, 16)
    if (version === undefined || id !== this.id) {
      await this.enqueue([
        { type: 'put', sublevel: this.meta, key: 'version', value: SCHEMA_VERSION },
        { type: 'put', sublevel: this.meta, key: 'id', value: this.id }
      ], true)
    }
    for await (const [key, value] of this.addr.iterator()) {
      const r = value as AddressRecord
      if (r === null || typeof r !== 'object' || r.address !== key) continue
      this.index(r)
    }
    // Oldest first, as MAX_TOMBSTONES trimming expects (keys come in address order).
    const tombs: Array<[string, number]> = []
    for await (const [key, value] of this.tomb.iterator()) tombs.push([key, Number(value)])
    for (const [key, until] of tombs.sort((a, b) => a[1] - b[1])) this.tombs.set(key, until)
    for await (const [key] of this.subnet.iterator()) this.joined.add(key)
  }

  // --- reading -------------------------------------------------------------------------

  get size (): number { return this.records.size }
  get learnedCount (): number { return this.learned.size }
  get savedCount (): number { return this.saved }
  get tombstoneCount (): number { return this.tombs.size }

  has (address: string): boolean { return this.records.has(address) }
  get (address: string): AddressRecord | undefined { return this.records.get(address) }

  /** How many entries a source accounts for now. */
  sourceCount (source: string): number { return this.bySource.get(source)?.size ?? 0 }

  isTombstoned (address: string): boolean {
    const until = this.tombs.get(address)
    return until !== undefined && until > this.opts.now()
  }

  stats (address: string): Stats {
    const r = this.records.get(address)
    return {
      address,
      saved: r?.user ?? false,
      connections: { ok: r?.ok ?? 0, fail: r?.fail ?? 0 },
      nodes: { rx: r?.rx ?? 0, tx: r?.tx ?? 0 },
      first: r ? r.first : null,
      last: r ? r.last : null,
      lastOk: r && r.lastOk > 0 ? r.lastOk : null,
      sources: r ? r.sources.slice() : [],
      subnets: r ? r.subnets.slice() : []
    }
  }

  /** Every stored record, streamed from LevelDB in key order. */
  async * scan (): AsyncGenerator<AddressRecord> {
    for await (const batch of this.scanBatches()) yield * batch
  }

  /** The same, a batch of up to `size` records at a time (one promise a batch, not a row). */
  async * scanBatches (size = 512): AsyncGenerator<AddressRecord[]> {
    const it = this.addr.iterator()
    try {
      for (;;) {
        const entries = await it.nextv(size)
        if (entries.length === 0) return
        const out: AddressRecord[] = []
        for (const [key, value] of entries) {
          const r = value as AddressRecord
          if (r !== null && typeof r === 'object' && r.address === key) out.push(r)
        }
        yield out
      }
    } finally {
      await it.close()
    }
  }

  /** The dial group an address is drawn from: see dialCandidates. */
  static dialGroup (r: AddressRecord): string {
    if (r.user) return 'saved'
    return r.sources.find(s => s.startsWith('group:')) ?? r.sources.find(s => s.startsWith('id:')) ?? 'unknown'
  }

  /** How many dial groups the table holds now. */
  get dialGroupCount (): number { return this.dialGroups.size }

  /**
   * Up to n addresses worth dialing now, chosen at random; skip() vetoes candidates.
   * A source group is drawn first, then an address within it (as addrman draws a bucket,
   * then an entry): an informant or /24 that fills its whole share of the table with
   * addresses still wins no more dials than any other group. The user's addresses are one
   * group of their own.
   */
  dialCandidates (n: number, skip: (address: string) => boolean): string[] {
    const now = this.opts.now()
    const out: string[] = []
    const tried = new Set<string>()
    const tries = Math.max(n * 8, 64)
    for (let i = 0; i < tries && out.length < n && this.dialGroups.size > 0; i++) {
      const g = this.dialGroups.pick(this.opts.random) as string
      const a = (this.byDialGroup.get(g) as IndexedSet<string>).pick(this.opts.random) as string
      if (tried.has(a)) continue
      tried.add(a)
      const r = this.records.get(a) as AddressRecord
      if (skip(a) || !dialable(r, now) || (!r.user && isDead(r, now))) continue
      out.push(a)
    }
    return out
  }

  /** Up to k live addresses at random, to answer a peer's request. */
  sampleForGossip (k: number): string[] {
    const now = this.opts.now()
    const out: string[] = []
    const take = (a: string): void => {
      const r = this.records.get(a)
      if (r !== undefined && !out.includes(a) && !isDead(r, now)) out.push(a)
    }
    // Half the answer from what we learned last, so a new node's address spreads like news
    // (a uniform sample alone reached < 1% of 10,000 simulated nodes in 40 rounds), the rest
    // uniform, so old addresses keep circulating.
    for (let i = this.recent.length - 1; i >= 0 && out.length < Math.ceil(k / 2); i--) take(this.recent[i].address)
    for (const a of sample(this.opts.random, this.all.values(), k * 2)) {
      if (out.length >= k) break
      take(a)
    }
    return out
  }

  // --- subnets ---------------------------------------------------------------------------

  isMember (subnet: string): boolean { return this.joined.has(subnet) }
  subnets (): string[] { return [...this.joined].sort() }

  /** Join subnets; resolves to the names that were not joined before. */
  async join (names: string[]): Promise<string[]> {
    const changed = [...new Set(names)].filter(n => !this.joined.has(n))
    for (const n of changed) this.joined.add(n)
    await this.enqueue(changed.map(n => ({ type: 'put', sublevel: this.subnet, key: n, value: { joined: this.opts.now() } })), true)
    return changed
  }

  /** Part subnets; resolves to the names that were joined. */
  async part (names: string[]): Promise<string[]> {
    const changed = [...new Set(names)].filter(n => this.joined.has(n))
    for (const n of changed) this.joined.delete(n)
    await this.enqueue(changed.map(n => ({ type: 'del', sublevel: this.subnet, key: n })), true)
    return changed
  }

  // --- services ---------------------------------------------------------------------------

  async services (): Promise<ServiceRecord[]> {
    const out: ServiceRecord[] = []
    for await (const [, value] of this.service.iterator()) out.push(value as ServiceRecord)
    return out
  }

  async saveService (s: ServiceRecord): Promise<void> {
    await this.enqueue([{ type: 'put', sublevel: this.service, key: s.address, value: s }], true)
  }

  async removeService (address: string): Promise<void> {
    await this.enqueue([{ type: 'del', sublevel: this.service, key: address }], true)
  }

  // --- user writes (synced) ----------------------------------------------------------------

  /** Save normalised addresses as the user's; resolves to those that were not the user's before. */
  async save (addresses: string[]): Promise<string[]> {
    const now = this.opts.now()
    const ops: BatchOp[] = []
    const fresh = [...new Set(addresses.filter(a => !this.records.get(a)?.user))]
    if (this.saved + fresh.length > MAX_SAVED) throw new TableError(`cannot save more than MAX_SAVED (${MAX_SAVED}) addresses`)
    for (const a of addresses) {
      let r = this.records.get(a)
      if (r === undefined) {
        r = newRecord(a, now, true, [])
        this.index(r)
      } else if (!r.user) {
        this.unindex(r)
        r.user = true
        r.sources = []
        this.index(r)
      }
      ops.push({ type: 'put', sublevel: this.addr, key: a, value: r })
      if (this.tombs.delete(a)) ops.push({ type: 'del', sublevel: this.tomb, key: a })
    }
    await this.enqueue(ops, true)
    return fresh
  }

  /**
   * Remove addresses and refuse them from gossip for TOMBSTONE_TTL; resolves to those that were
   * in the table. An address that is neither known nor removed already is left alone: no
   * tombstone for what was never there.
   */
  async remove (addresses: string[]): Promise<string[]> {
    const until = this.opts.now() + TOMBSTONE_TTL
    const ops: BatchOp[] = []
    const removed: string[] = []
    for (const a of addresses) {
      const r = this.records.get(a)
      if (r) {
        this.unindex(r)
        removed.push(a)
      } else if (!this.tombs.has(a)) {
        continue
      }
      ops.push({ type: 'del', sublevel: this.addr, key: a })
      this.tombs.delete(a)
      this.tombs.set(a, until)
      ops.push({ type: 'put', sublevel: this.tomb, key: a, value: until })
    }
    ops.push(...this.trimTombstones())
    await this.enqueue(ops, true)
    return removed
  }

  // --- gossip writes (not synced) ------------------------------------------------------------

  /**
   * Store addresses a peer told us about. `sources` names who told us (the informant and its
   * source group); each may fill at most `share` of the capacity, past which its own worst entry
   * makes room. Returns how many were new.
   */
  learn (addresses: string[], sources: string[]): number {
    const now = this.opts.now()
    const cap = sourceCap(this.capacity, this.share)
    const ops: BatchOp[] = []
    let added = 0
    for (const a of addresses) {
      const known = this.records.get(a)
      if (known) {
        if (known.last < now) {
          known.last = now
          this.dirty.add(a)
        }
        continue
      }
      if (this.isTombstoned(a)) continue
      // `while`, not `if`: a table reopened with a smaller bound shrinks back under it.
      let room = true
      for (const s of sources) {
        const set = this.bySource.get(s)
        while (room && set !== undefined && set.size >= cap) room = this.evictFrom(set, now, ops)
      }
      while (room && this.learned.size >= this.capacity) room = this.evictFrom(this.learned, now, ops)
      if (!room) continue
      const r = newRecord(a, now, false, sources)
      this.index(r)
      ops.push({ type: 'put', sublevel: this.addr, key: a, value: r })
      const from = AddressTable.dialGroup(r)
      const prev = this.recent.findIndex(e => e.from === from)
      if (prev >= 0) this.recent.splice(prev, 1)
      this.recent.push({ address: a, from })
      if (this.recent.length > MAX_RECENT) this.recent.shift()
      added++
    }
    this.write(ops)
    return added
  }

  /** Remember that address answered a search for subnet. */
  noteServed (address: string, subnet: string): void {
    const r = this.records.get(address)
    if (!r || r.subnets.includes(subnet)) return
    r.subnets.push(subnet)
    if (r.subnets.length > MAX_SERVED_SUBNETS) r.subnets.shift()
    this.write([{ type: 'put', sublevel: this.addr, key: address, value: r }])
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

  recordFailure (address: string): void {
    this.update(address, r => {
      r.fail++
      r.streak++
    })
  }

  recordNodes (address: string, rx: number, tx: number): void {
    const r = this.records.get(address)
    if (!r || (rx === 0 && tx === 0)) return
    r.rx += rx
    r.tx += tx
    this.dirty.add(address)
  }

  /**
   * Write the records whose counters or last-seen time changed. Those change on nearly every
   * gossip message, so they stay in memory until the next purge pass or close (or until the
   * record is written for another reason) instead of costing a write each.
   */
  flushDirty (): void {
    const ops: BatchOp[] = []
    for (const a of this.dirty) {
      const r = this.records.get(a)
      if (r) ops.push({ type: 'put', sublevel: this.addr, key: a, value: r })
    }
    this.dirty.clear()
    this.write(ops)
  }

  /** One purge pass: drop dead gossip-learned addresses and expired tombstones. */
  purge (): { dropped: number, tombstones: number } {
    this.flushDirty()
    const now = this.opts.now()
    const ops: BatchOp[] = []
    let dropped = 0
    for (const a of this.learned.values().slice()) {
      const r = this.records.get(a) as AddressRecord
      if (!isDead(r, now)) continue
      this.unindex(r)
      ops.push({ type: 'del', sublevel: this.addr, key: a })
      dropped++
    }
    let tombstones = 0
    for (const [a, until] of this.tombs) {
      if (until > now) continue
      this.tombs.delete(a)
      ops.push({ type: 'del', sublevel: this.tomb, key: a })
      tombstones++
    }
    this.write(ops)
    return { dropped, tombstones }
  }

  /** Wait for every queued write, then refuse more. */
  async close (): Promise<void> {
    await this.flushed()
    this.closed = true
  }

  /** Resolves once every write queued so far is on disk (or has failed). */
  async flushed (): Promise<void> {
    if (!this.closed) this.flushDirty()
    while (this.queue !== null) await this.enqueue([], false).catch(() => {})
    await this.writing.catch(() => {})
  }

  // --- internals -------------------------------------------------------------------------

  private update (address: string, fn: (r: AddressRecord) => void): void {
    const r = this.records.get(address)
    if (!r) return
    fn(r)
    this.write([{ type: 'put', sublevel: this.addr, key: address, value: r }])
  }

  private evictFrom (set: IndexedSet<string>, now: number, ops: BatchOp[]): boolean {
    let worst: AddressRecord | undefined
    for (const a of sample(this.opts.random, set.values(), EVICTION_SAMPLE)) {
      const r = this.records.get(a) as AddressRecord
      if (r.user) continue
      if (worst === undefined || badness(r, now) > badness(worst, now)) worst = r
    }
    if (worst === undefined) return false
    this.unindex(worst)
    ops.push({ type: 'del', sublevel: this.addr, key: worst.address })
    return true
  }

  private index (r: AddressRecord): void {
    this.records.set(r.address, r)
    this.all.add(r.address)
    const g = AddressTable.dialGroup(r)
    let members = this.byDialGroup.get(g)
    if (!members) {
      this.byDialGroup.set(g, members = new IndexedSet())
      this.dialGroups.add(g)
    }
    members.add(r.address)
    if (r.user) {
      this.saved++
      return
    }
    this.learned.add(r.address)
    for (const s of r.sources) {
      let set = this.bySource.get(s)
      if (!set) this.bySource.set(s, set = new IndexedSet())
      set.add(r.address)
    }
  }

  private unindex (r: AddressRecord): void {
    this.records.delete(r.address)
    this.all.delete(r.address)
    const g = AddressTable.dialGroup(r)
    const members = this.byDialGroup.get(g)
    if (members) {
      members.delete(r.address)
      if (members.size === 0) {
        this.byDialGroup.delete(g)
        this.dialGroups.delete(g)
      }
    }
    if (r.user) {
      this.saved--
      return
    }
    this.learned.delete(r.address)
    for (const s of r.sources) {
      const set = this.bySource.get(s)
      if (!set) continue
      set.delete(r.address)
      if (set.size === 0) this.bySource.delete(s)
    }
  }

  private trimTombstones (): BatchOp[] {
    const ops: BatchOp[] = []
    for (const a of this.tombs.keys()) {
      if (this.tombs.size <= MAX_TOMBSTONES) break
      this.tombs.delete(a)
      ops.push({ type: 'del', sublevel: this.tomb, key: a })
    }
    return ops
  }

  /** Queue a write that nobody waits for; a failure surfaces through onError. */
  private write (ops: BatchOp[]): void {
    if (ops.length === 0 || this.closed) return
    this.enqueue(ops, false).catch(err => this.onError(err as Error))
  }

  /** Called when a background write fails; the node replaces it to emit 'error'. */
  onError: (err: Error) => void = () => {}

  /**
   * Writes run one batch at a time, in the order they were queued: classic-level runs
   * operations on a thread pool, so two unawaited writes could otherwise land out of order.
   * Everything queued while a batch is on disk goes into the next batch together.
   */
  private enqueue (ops: BatchOp[], sync: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new TableError('address table is closed'))
    return new Promise((resolve, reject) => {
      if (this.queue === null) {
        const q: Pending = this.queue = { ops: [], slots: new Map(), sync: false, done: [] }
        this.writing = this.writing.then(async () => {
          this.queue = null
          try {
            if (q.ops.length > 0) await this.db.batch(q.ops, { sync: q.sync })
            for (const d of q.done) d.resolve()
          } catch (err) {
            for (const d of q.done) d.reject(err as Error)
          }
        })
      }
      // Many updates of one record between two batches (stats under a busy peer) cost one write.
      for (const op of ops) {
        let slots: Map<string, number> | undefined = this.queue.slots.get(op.sublevel)
        if (!slots) this.queue.slots.set(op.sublevel, slots = new Map())
        const at = slots.get(op.key)
        if (at === undefined) {
          slots.set(op.key, this.queue.ops.length)
          this.queue.ops.push(op)
        } else {
          this.queue.ops[at] = op
        }
      }
      this.queue.sync ||= sync
      this.queue.done.push({ resolve, reject })
    })
  }
}
