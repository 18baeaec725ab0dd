// A bounded map with expiry, oldest first: the memory of which query ids a node has handled
// and where their answers go back to. Every entry expires, so the same subnet can be searched
// again and again (each search has a fresh id), and a flood of ids cannot grow it past `max`.

export class SeenCache<V> {
  private readonly entries = new Map<string, { at: number, value: V }>()

  constructor (readonly max: number, readonly ttl: number, private readonly now: () => number) {}

  /** Entries still fresh (expired ones are dropped first). */
  get size (): number {
    this.expire(this.now())
    return this.entries.size
  }

  /** Record key; false when it was already there (and still fresh). */
  add (key: string, value: V): boolean {
    const now = this.now()
    this.expire(now)
    if (this.entries.has(key)) return false
    this.entries.set(key, { at: now, value })
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
    return true
  }

  get (key: string): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined || this.now() - e.at >= this.ttl) return undefined
    return e.value
  }

  private expire (now: number): void {
    // Oldest first, so the scan stops at the first fresh entry. (A clock that steps back
    // only delays expiry: an entry stamped in the future stays until its own ttl passes.)
    for (const [k, e] of this.entries) {
      if (now - e.at < this.ttl) break
      this.entries.delete(k)
    }
  }
}
