// The address records in memory, as columns indexed by slot (address-slots.ts gives each address its
// slot) rather than one object each: a million user-saved addresses would otherwise be a million
// objects, strings and arrays for the collector to trace. Most records were never dialed, so
// their seven counters (all zero) take no room: a record gets a row of counters in `extras` the
// first time one of them is not zero; likewise a record pinned to an id gets a 32-byte row in
// `keys`. Sources and subnets are numbers in a ListPool.
// get() builds a record object for a caller; set() writes one back.
import { type AddressRecord, type Vitals, type Pin, PINS } from './rules.js'
import { AddressKeys } from './address-slots.js'
import { ListPool } from './lists.js'
import { RowPool, grown } from './rows.js'

/** The counters kept in `extras`, in row order. */
const COUNTERS = ['lastTry', 'lastOk', 'ok', 'fail', 'streak', 'rx', 'tx'] as const
const WIDTH = COUNTERS.length
/** Bytes of an id (an Ed25519 public key). */
const KEY_BYTES = 32

export class Records {
  private readonly keys: AddressKeys
  readonly lists = new ListPool()
  private user: Uint8Array
  private first: Float64Array
  private last: Float64Array
  private sources: Int32Array
  private subnets: Int32Array
  /** Row + 1 in extras, 0 for none (all counters zero). */
  private more: Int32Array
  private readonly extras = new RowPool(WIDTH, new Float64Array(64 * WIDTH))
  /** 1 + the index of the record's pin in PINS, 0 for none; its key is in row keyRow - 1. */
  private pin: Uint8Array
  private keyRow: Int32Array
  private readonly keys32 = new RowPool(KEY_BYTES, new Uint8Array(64 * KEY_BYTES))
  /**
   * 1 where a record changed in memory only and is to be written (AddressTable.flushDirty), and
   * the slots so marked, in order (a slot let go and handed out again may be listed twice; its
   * mark says whether it is due). A flag a slot and one reused list rather than a Set of
   * addresses: that set, emptied at every flush and grown again by every gossip answer, made new
   * hash tables that lived just long enough to be promoted, a twentieth of all the simulation's.
   */
  private dirty: Uint8Array
  private readonly dirtyList: number[] = []

  /**
   * Columns with room for `slots` records before any grows. The rows of counters and keys start
   * small all the same: only some records ever have them.
   */
  constructor (slots = 64) {
    this.keys = new AddressKeys(slots)
    this.user = new Uint8Array(slots)
    this.first = new Float64Array(slots)
    this.last = new Float64Array(slots)
    this.sources = new Int32Array(slots)
    this.subnets = new Int32Array(slots)
    this.more = new Int32Array(slots)
    this.pin = new Uint8Array(slots)
    this.keyRow = new Int32Array(slots)
    this.dirty = new Uint8Array(slots)
  }

  /** Mark slot's record to be written at the next takeDirty(). */
  markDirty (slot: number): void {
    if (this.dirty[slot] === 1) return
    this.dirty[slot] = 1
    this.dirtyList.push(slot)
  }

  /** Whether any record is marked. */
  get anyDirty (): boolean { return this.dirtyList.length > 0 }

  /** Each marked slot once, in the order marked, unmarked as it goes. */
  takeDirty (fn: (slot: number) => void): void {
    const list = this.dirtyList
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]
      if (this.dirty[slot] === 0) continue
      this.dirty[slot] = 0
      fn(slot)
    }
    list.length = 0
  }

  get size (): number { return this.keys.size }

  slotOf (address: string): number { return this.keys.slotOf(address) }
  /** Why address cannot be stored, or null when it can. */
  unstorable (address: string): string | null { return this.keys.unstorable(address) }
  address (slot: number): string { return this.keys.address(slot) }
  isUser (slot: number): boolean { return this.user[slot] === 1 }
  sourcesOf (slot: number): readonly string[] { return this.lists.get(this.sources[slot]) }
  /** The number of slot's source list in `lists`. */
  sourcesIdOf (slot: number): number { return this.sources[slot] }
  subnetsOf (slot: number): readonly string[] { return this.lists.get(this.subnets[slot]) }
  lastOf (slot: number): number { return this.last[slot] }
  setLast (slot: number, t: number): void { this.last[slot] = t }

  /** What isDead, dialable and badness read, without building the whole record. */
  vitals (slot: number): Vitals & { user: boolean } {
    return this.readVitals(slot, { user: false, last: 0, lastTry: 0, lastOk: 0, streak: 0 })
  }

  /** The same, written into v (a caller's own, reused: eviction reads eight records a time). */
  readVitals (slot: number, v: Vitals & { user: boolean }): Vitals & { user: boolean } {
    const x = (this.more[slot] - 1) * WIDTH
    const e = this.extras.data
    v.user = this.user[slot] === 1
    v.last = this.last[slot]
    v.lastTry = x < 0 ? 0 : e[x]
    v.lastOk = x < 0 ? 0 : e[x + 1]
    v.streak = x < 0 ? 0 : e[x + 4]
    return v
  }

  /** The record in slot, as a new object the caller may change (set() writes it back). */
  get (slot: number): AddressRecord {
    const r = this.view(slot)
    r.sources = r.sources.slice()
    r.subnets = r.subnets.slice()
    return r
  }

  /**
   * The record in slot for reading only (a write's value): its sources and subnets are the
   * pool's own frozen lists, not copies. flushDirty writes hundreds of records a pass, and
   * has each one's address already.
   */
  view (slot: number, address = this.keys.address(slot)): AddressRecord {
    const x = (this.more[slot] - 1) * WIDTH
    const e = this.extras.data
    const r: AddressRecord = {
      address,
      user: this.user[slot] === 1,
      sources: this.lists.get(this.sources[slot]) as string[],
      first: this.first[slot],
      last: this.last[slot],
      lastTry: x < 0 ? 0 : e[x],
      lastOk: x < 0 ? 0 : e[x + 1],
      ok: x < 0 ? 0 : e[x + 2],
      fail: x < 0 ? 0 : e[x + 3],
      streak: x < 0 ? 0 : e[x + 4],
      rx: x < 0 ? 0 : e[x + 5],
      tx: x < 0 ? 0 : e[x + 6],
      subnets: this.lists.get(this.subnets[slot]) as string[]
    }
    const pin = this.pinOf(slot)
    if (pin !== undefined) {
      r.id = this.idOf(slot)
      r.pin = pin
    }
    return r
  }

  /**
   * Add to slot's rx and tx counters (not both 0), as get(), a change and set() would: with no
   * record built (every gossip message counts them), nor its id turned to hex and back.
   */
  addCounts (slot: number, rx: number, tx: number): void {
    let row = this.more[slot] - 1
    if (row < 0) {
      row = this.extras.alloc()
      this.more[slot] = row + 1
      this.extras.data.fill(0, row * WIDTH, row * WIDTH + WIDTH)
    }
    this.extras.data[row * WIDTH + 5] += rx
    this.extras.data[row * WIDTH + 6] += tx
  }

  /** Pin slot's record to id (as set() of the record pinned so would). */
  setPin (slot: number, id: string, pin: Pin): void {
    this.writePin(slot, id, pin)
  }

  /** How slot's record came by its id, if it has one. */
  pinOf (slot: number): Pin | undefined { return this.pin[slot] === 0 ? undefined : PINS[this.pin[slot] - 1] }

  /** The id slot's record is pinned to (hex), or undefined. */
  idOf (slot: number): string | undefined {
    if (this.pin[slot] === 0) return undefined
    const at = (this.keyRow[slot] - 1) * KEY_BYTES
    return Buffer.from(this.keys32.data.buffer, this.keys32.data.byteOffset + at, KEY_BYTES).toString('hex')
  }

  /** Add r, whose address is not here yet; returns its slot. */
  add (r: AddressRecord): number {
    const slot = this.keys.add(r.address)
    if (slot >= this.user.length) this.grow()
    this.sources[slot] = this.lists.intern(r.sources)
    this.subnets[slot] = this.lists.intern(r.subnets)
    this.more[slot] = 0
    this.pin[slot] = 0
    this.keyRow[slot] = 0
    this.write(slot, r)
    return slot
  }

  /** Write r's fields into slot (r.address must be the slot's). */
  set (slot: number, r: AddressRecord): void {
    this.relist(this.sources, slot, r.sources)
    this.relist(this.subnets, slot, r.subnets)
    this.write(slot, r)
  }

  delete (slot: number): void {
    this.lists.release(this.sources[slot])
    this.lists.release(this.subnets[slot])
    if (this.more[slot] !== 0) this.extras.release(this.more[slot] - 1)
    this.more[slot] = 0
    this.dirty[slot] = 0
    this.unpin(slot)
    this.keys.delete(slot)
  }

  /** Every live slot. */
  slots (): Iterable<number> { return this.keys.slots() }

  /** The first way the columns disagree with themselves, as a sentence, or null. */
  problem (): string | null {
    const keys = this.keys.problem()
    if (keys !== null) return keys
    const held = new Map<number, number>()
    const hold = (id: number): void => { held.set(id, (held.get(id) ?? 0) + 1) }
    const rows = new Set<number>()
    const keyRows = new Set<number>()
    for (const slot of this.slots()) {
      hold(this.sources[slot])
      hold(this.subnets[slot])
      const row = this.more[slot] - 1
      if (row >= 0) {
        if (rows.has(row)) return `two records share counter row ${row}`
        rows.add(row)
      }
      const keyRow = this.keyRow[slot] - 1
      if ((keyRow >= 0) !== (this.pin[slot] !== 0)) return `${this.address(slot)} has ${keyRow >= 0 ? 'a key but no pin' : 'a pin but no key'}`
      if (keyRow >= 0) {
        if (keyRows.has(keyRow)) return `two records share key row ${keyRow}`
        keyRows.add(keyRow)
      }
    }
    return this.extras.problem(rows, 'counter') ?? this.keys32.problem(keyRows, 'key') ?? this.lists.problem(held) ?? this.dirtyProblem()
  }

  /** The first way the marks to write disagree with the slots and their list, or null. */
  private dirtyProblem (): string | null {
    const live = new Set(this.slots())
    const listed = new Set(this.dirtyList)
    for (let slot = 0; slot < this.dirty.length; slot++) {
      if (this.dirty[slot] === 0) continue
      if (!live.has(slot)) return `slot ${slot} is marked to be written but holds no record`
      if (!listed.has(slot)) return `slot ${slot} is marked to be written but not listed`
    }
    return null
  }

  // --- internals -------------------------------------------------------------------------

  private write (slot: number, r: AddressRecord): void {
    this.user[slot] = r.user ? 1 : 0
    this.first[slot] = r.first
    this.last[slot] = r.last
    this.writePin(slot, r.id, r.pin)
    let row = this.more[slot] - 1
    if (row < 0) {
      if (COUNTERS.every(f => r[f] === 0)) return
      row = this.extras.alloc()
      this.more[slot] = row + 1
    }
    for (let i = 0; i < WIDTH; i++) this.extras.data[row * WIDTH + i] = r[COUNTERS[i]]
  }

  private writePin (slot: number, id: string | undefined, pin: Pin | undefined): void {
    if (id === undefined || pin === undefined) return this.unpin(slot)
    let row = this.keyRow[slot] - 1
    if (row < 0) {
      row = this.keys32.alloc()
      this.keyRow[slot] = row + 1
    }
    this.keys32.data.set(Buffer.from(id, 'hex'), row * KEY_BYTES)
    this.pin[slot] = PINS.indexOf(pin) + 1
  }

  private unpin (slot: number): void {
    if (this.keyRow[slot] !== 0) this.keys32.release(this.keyRow[slot] - 1)
    this.keyRow[slot] = 0
    this.pin[slot] = 0
  }

  /** Point column[slot] at list, counting the new list before letting the old one go. */
  private relist (column: Int32Array, slot: number, list: readonly string[]): void {
    const old = column[slot]
    const cur = this.lists.get(old)
    if (cur.length === list.length && cur.every((s, i) => s === list[i])) return
    column[slot] = this.lists.intern(list)
    this.lists.release(old)
  }

  private grow (): void {
    const size = Math.ceil(this.user.length * 1.5)
    this.user = grown(this.user, size)
    this.first = grown(this.first, size)
    this.last = grown(this.last, size)
    this.sources = grown(this.sources, size)
    this.subnets = grown(this.subnets, size)
    this.more = grown(this.more, size)
    this.pin = grown(this.pin, size)
    this.keyRow = grown(this.keyRow, size)
    this.dirty = grown(this.dirty, size)
  }
}
