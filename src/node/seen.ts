// A bounded map with expiry: the memory of which query ids a node has handled and where their
// answers go back to. Every entry expires after `ttl`, so the same subnet can be searched again
// and again (each search has a fresh id).
//
// Each entry counts against the share of the peer it came from, its owner. Past `perOwner`
// entries an owner's own oldest goes, so one peer's flood evicts its own entries and never
// another's. Past `max` entries in all (many busy peers, or one peer under many ids), the oldest
// entry of the largest share goes: a peer that sends little keeps its entries for as long as
// anyone else holds more. Finding the largest share is O(1): owners are kept in buckets by
// share, and a share only ever grows or shrinks by one.

interface Entry<V> { at: number, owner: string, value: V }

export class SeenCache<V> {
  /** Every entry, oldest first. */
  private readonly entries = new Map<string, Entry<V>>()
  /** Each owner's keys, oldest first. */
  private readonly owners = new Map<string, Set<string>>()
  /** Owners by the number of entries they hold (none with 0). */
  private readonly bySize = new Map<number, Set<string>>()
  private largest = 0

  constructor (
    readonly max: number,
    readonly perOwner: number,
    readonly ttl: number,
    private readonly now: () => number
  ) {}

  /** Entries still fresh (expired ones are dropped first). */
  get size (): number {
    this.expire(this.now())
    return this.entries.size
  }

  /** Fresh entries that count against owner. */
  held (owner: string): number {
    this.expire(this.now())
    return this.owners.get(owner)?.size ?? 0
  }

  /** Record key for owner; false when it was already there (and still fresh), whoever's it is. */
  add (key: string, owner: string, value: V): boolean {
    const now = this.now()
    this.expire(now)
    if (this.entries.has(key)) return false
    this.entries.set(key, { at: now, owner, value })
    let keys = this.owners.get(owner)
    if (keys === undefined) this.owners.set(owner, keys = new Set())
    keys.add(key)
    this.resized(owner, keys.size - 1, keys.size)
    if (keys.size > this.perOwner) this.evictOldest(owner)
    if (this.entries.size > this.max) this.evictOldest((this.bySize.get(this.largest) as Set<string>).values().next().value as string)
    return true
  }

  get (key: string): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined || this.now() - e.at >= this.ttl) return undefined
    return e.value
  }

  private evictOldest (owner: string): void {
    const key = (this.owners.get(owner) as Set<string>).values().next().value as string
    this.remove(key, this.entries.get(key) as Entry<V>)
  }

  private remove (key: string, e: Entry<V>): void {
    this.entries.delete(key)
    const keys = this.owners.get(e.owner) as Set<string>
    keys.delete(key)
    this.resized(e.owner, keys.size + 1, keys.size)
    if (keys.size === 0) this.owners.delete(e.owner)
  }

  /** An owner's share went from `from` to `to` entries (one up or one down). */
  private resized (owner: string, from: number, to: number): void {
    if (from > 0) {
      const was = this.bySize.get(from) as Set<string>
      was.delete(owner)
      if (was.size === 0) this.bySize.delete(from)
    }
    if (to > 0) {
      let now = this.bySize.get(to)
      if (now === undefined) this.bySize.set(to, now = new Set())
      now.add(owner)
    }
    if (to > this.largest) this.largest = to
    else if (from === this.largest && !this.bySize.has(from)) this.largest = to
  }

  private expire (now: number): void {
    // Oldest first, so the scan stops at the first fresh entry. (A clock that steps back
    // only delays expiry: an entry stamped in the future stays until its own ttl passes.)
    for (const [k, e] of this.entries) {
      if (now - e.at < this.ttl) break
      this.remove(k, e)
    }
  }
}
