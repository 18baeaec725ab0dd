// The table's addresses as small integer ids ("slots"), off the JS heap. Each address is kept
// once, as UTF-8 bytes in one growing buffer, and found through an open-addressing hash table
// (linear probing, backward-shift delete) of slot numbers. As Map keys, the normalised address
// strings cost ~250 bytes each (a rope of the pieces each was concatenated from, its flat copy,
// the entry); this costs ~40, and the garbage collector has nothing to trace.
// Slots are reused after a delete, so columns indexed by slot (records.ts) stay as long as the
// most addresses ever held at once.
import { randomBytes } from 'node:crypto'
import { MAX_KEY_BYTES } from './rules.js'
import { TableError } from './db.js'

// An address's hash: FNV-1a over its UTF-8 bytes from a secret start, then mixed. An ASCII
// address is hashed and compared from its characters (which are its bytes), with no encoding.
const step = (h: number, byte: number): number => Math.imul(h ^ byte, 0x01000193)
function mix (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h >>> 0
}
function hashBytes (b: Uint8Array, n: number, seed: number): number {
  let h = seed
  for (let i = 0; i < n; i++) h = step(h, b[i])
  return mix(h)
}

/** A lone surrogate, which UTF-8 cannot carry (it would come back as U+FFFD). */
const LONE_SURROGATE = /\p{Cs}/u

export class AddressKeys {
  /** The addresses' bytes, back to back; deleted ones stay as garbage until makeRoom(). */
  private bytes = Buffer.alloc(4096)
  private used = 0
  private garbage = 0
  private off: Uint32Array
  private len: Uint16Array
  private hashes: Uint32Array
  /** Slot + 1 at each position of the hash table; 0 is empty. At most half full. */
  private table: Int32Array
  private readonly free: number[] = []
  /** Slots ever handed out: live ones plus the free ones. */
  private top = 0
  private count = 0
  /** Where lookups encode their key (3 bytes per UTF-16 unit at most). */
  private scratch = Buffer.alloc(1024)
  /** Per process, unguessable: peers cannot pick addresses that all land in one probe run. */
  private readonly seed = randomBytes(4).readUInt32LE(0)
  /** The address hashAscii() hashed last, and its hash. */
  private hashed: string | null = null
  private hash = 0

  /** Room for `slots` addresses before any column grows (and the hash table with them). */
  constructor (slots = 64) {
    this.off = new Uint32Array(slots)
    this.len = new Uint16Array(slots)
    this.hashes = new Uint32Array(slots)
    let size = 128
    while (size < slots * 2) size *= 2
    this.table = new Int32Array(size)
  }

  get size (): number { return this.count }

  /** The slot of address, or -1. */
  slotOf (address: string): number {
    const h = this.hashAscii(address)
    if (h < 0) return this.slotOfBytes(address)
    const n = address.length
    if (n > MAX_KEY_BYTES) return -1
    const { table: t, bytes } = this
    const mask = t.length - 1
    for (let i = h & mask; t[i] !== 0; i = (i + 1) & mask) {
      const slot = t[i] - 1
      if (this.hashes[slot] !== h || this.len[slot] !== n) continue
      const o = this.off[slot]
      let k = 0
      while (k < n && bytes[o + k] === address.charCodeAt(k)) k++
      if (k === n) return slot
    }
    return -1
  }

  /** Why address cannot be stored, or null when it can. */
  unstorable (address: string): string | null {
    const n = this.hashAscii(address) >= 0 ? address.length : this.encode(address)
    if (n < 0) return `cannot store ${JSON.stringify(address.slice(0, 80))}: it holds a lone surrogate`
    if (n > MAX_KEY_BYTES) return `cannot store an address longer than MAX_KEY_BYTES (${MAX_KEY_BYTES}) bytes`
    return null
  }

  /** Add address (not yet here, and storable); returns its slot. */
  add (address: string): number {
    let h = this.hashAscii(address)
    let n = address.length
    const encoded = h < 0
    if (encoded) {
      n = this.encode(address)
      h = hashBytes(this.scratch, n, this.seed)
    }
    if (n < 0 || n > MAX_KEY_BYTES) throw new TableError(this.unstorable(address) as string)
    if (this.used + n > this.bytes.length) this.makeRoom(n)
    // Byte by byte: for addresses this short, cheaper than a call into Buffer's native code.
    const { bytes: b, scratch, used: at } = this
    if (encoded) for (let i = 0; i < n; i++) b[at + i] = scratch[i]
    else for (let i = 0; i < n; i++) b[at + i] = address.charCodeAt(i)
    const slot = this.free.pop() ?? this.top++
    if (slot >= this.off.length) this.grow()
    this.off[slot] = this.used
    this.len[slot] = n
    this.hashes[slot] = h
    this.used += n
    this.count++
    if (this.count * 2 > this.table.length) this.rehash(this.table.length * 2)
    this.place(slot)
    return slot
  }

  /** Take a live slot out; it may be handed out again. */
  delete (slot: number): void {
    const t = this.table
    const mask = t.length - 1
    let i = this.hashes[slot] & mask
    while (t[i] !== slot + 1) {
      // Never loop forever on a slot that is not here: its run ends at an empty place.
      if (t[i] === 0) throw new TableError(`slot ${slot} is not in the address hash table`)
      i = (i + 1) & mask
    }
    // Backward shift: pull later entries of the run into the hole, unless that would put one
    // before its home position, so no lookup ever stops early at an empty place.
    for (let j = (i + 1) & mask; t[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[t[j] - 1] & mask
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = t[j]
        i = j
      }
    }
    t[i] = 0
    this.garbage += this.len[slot]
    this.free.push(slot)
    this.count--
  }

  address (slot: number): string {
    return this.bytes.toString('utf8', this.off[slot], this.off[slot] + this.len[slot])
  }

  /** Every live slot (in hash table order). */
  * slots (): Generator<number> {
    for (const e of this.table) if (e !== 0) yield e - 1
  }

  /** The first way the hash table, the slots and the bytes disagree, as a sentence, or null. */
  problem (): string | null {
    let entries = 0
    const seen = new Set<number>()
    for (const slot of this.slots()) {
      entries++
      if (slot >= this.top) return `the address hash table names slot ${slot}, never handed out`
      if (seen.has(slot)) return `the address hash table names slot ${slot} twice`
      seen.add(slot)
      const a = this.address(slot)
      if (this.off[slot] + this.len[slot] > this.used) return `slot ${slot}'s bytes lie past the end of the address buffer`
      if (this.slotOf(a) !== slot) return `${a} (slot ${slot}) is not found by its own address`
    }
    if (entries !== this.count) return `the address hash table holds ${entries} slots but the count is ${this.count}`
    if (this.count * 2 > this.table.length) return `the address hash table is more than half full (${this.count} of ${this.table.length})`
    for (const s of this.free) if (seen.has(s)) return `slot ${s} is both free and in use`
    if (new Set(this.free).size + this.count !== this.top) return `${this.count} live and ${this.free.length} free slots are not the ${this.top} handed out`
    return null
  }

  // --- internals -------------------------------------------------------------------------

  /**
   * The hash of an all-ASCII address (its characters are its bytes), or -1 for any other. The
   * last one is kept: learning an address looks it up, checks it and adds it, three hashes.
   */
  private hashAscii (address: string): number {
    if (address === this.hashed) return this.hash
    const h = this.hashOf(address)
    this.hashed = address
    this.hash = h
    return h
  }

  private hashOf (address: string): number {
    let h = this.seed
    for (let i = 0; i < address.length; i++) {
      const c = address.charCodeAt(i)
      if (c >= 0x80) return -1
      h = step(h, c)
    }
    return mix(h)
  }

  /**
   * Encode address into scratch; its byte length, or -1 if it has a lone surrogate. One longer
   * than MAX_KEY_BYTES UTF-16 units has at least as many bytes: it is not encoded.
   */
  private encode (address: string): number {
    if (address.length > MAX_KEY_BYTES) return address.length
    if (address.length * 3 > this.scratch.length) this.scratch = Buffer.alloc(address.length * 3)
    const n = this.scratch.write(address, 0, 'utf8')
    if (n !== address.length && LONE_SURROGATE.test(address)) return -1
    return n
  }

  /** slotOf for an address that is not all ASCII: encoded first, then compared byte by byte. */
  private slotOfBytes (address: string): number {
    const n = this.encode(address)
    if (n < 0 || n > MAX_KEY_BYTES) return -1
    const h = hashBytes(this.scratch, n, this.seed)
    const { table: t, bytes, scratch } = this
    const mask = t.length - 1
    for (let i = h & mask; t[i] !== 0; i = (i + 1) & mask) {
      const slot = t[i] - 1
      if (this.hashes[slot] !== h || this.len[slot] !== n) continue
      const o = this.off[slot]
      let k = 0
      while (k < n && bytes[o + k] === scratch[k]) k++
      if (k === n) return slot
    }
    return -1
  }

  private place (slot: number): void {
    const t = this.table
    const mask = t.length - 1
    let i = this.hashes[slot] & mask
    while (t[i] !== 0) i = (i + 1) & mask
    t[i] = slot + 1
  }

  private rehash (size: number): void {
    const old = this.table
    this.table = new Int32Array(size)
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.place(old[i] - 1)
  }

  /**
   * Room for n more bytes: copy the live addresses into a buffer half as large again as they
   * need, leaving the deleted ones behind (so garbage lasts only until the buffer fills up).
   */
  private makeRoom (n: number): void {
    const next = Buffer.alloc(Math.max(4096, Math.ceil((this.used - this.garbage + n) * 1.5)))
    const { table: t, bytes: b } = this
    let at = 0
    for (let i = 0; i < t.length; i++) {
      if (t[i] === 0) continue
      const slot = t[i] - 1
      const o = this.off[slot]
      const l = this.len[slot]
      for (let k = 0; k < l; k++) next[at + k] = b[o + k]
      this.off[slot] = at
      at += l
    }
    this.bytes = next
    this.used = at
    this.garbage = 0
  }

  private grow (): void {
    const size = Math.ceil(this.off.length * 1.5)
    const off = new Uint32Array(size)
    const len = new Uint16Array(size)
    const hashes = new Uint32Array(size)
    off.set(this.off)
    len.set(this.len)
    hashes.set(this.hashes)
    this.off = off
    this.len = len
    this.hashes = hashes
  }
}
