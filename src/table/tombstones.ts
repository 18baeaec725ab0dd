// Tombstones: addresses the user removed, refused from gossip until their expiry, at most
// MAX_TOMBSTONES of them (the oldest go first). Kept in memory, oldest first, and in LevelDB
// under !tomb!<addr> (the expiry time); the table writes the ops these methods return.
import { MAX_TOMBSTONES } from './rules.js'
import type { SublevelLike, BatchOp } from './db.js'

export class Tombstones {
  /** Expiry time by address, oldest first (Map order). */
  private readonly until = new Map<string, number>()

  constructor (private readonly sub: SublevelLike) {}

  async load (): Promise<void> {
    // Keys come in address order: sort by age.
    const rows: Array<[string, number]> = []
    for await (const [key, value] of this.sub.iterator()) rows.push([key, Number(value)])
    for (const [key, until] of rows.sort((a, b) => a[1] - b[1])) this.until.set(key, until)
  }

  get size (): number { return this.until.size }
  /** Every tombstone and its expiry (for AddressTable.check). */
  get all (): ReadonlyMap<string, number> { return this.until }

  active (address: string, now: number): boolean {
    const until = this.until.get(address)
    return until !== undefined && until > now
  }

  /** Tombstone address until `until`, as the newest; an old tombstone of it is replaced. */
  add (address: string, until: number): BatchOp {
    this.until.delete(address)
    this.until.set(address, until)
    return { type: 'put', sublevel: this.sub, key: address, value: until }
  }

  /** Lift address's tombstone, if it has one. */
  lift (address: string): BatchOp[] {
    return this.until.delete(address) ? [{ type: 'del', sublevel: this.sub, key: address }] : []
  }

  /** Drop the oldest past MAX_TOMBSTONES. */
  trim (): BatchOp[] {
    const ops: BatchOp[] = []
    for (const a of this.until.keys()) {
      if (this.until.size <= MAX_TOMBSTONES) break
      ops.push(...this.lift(a))
    }
    return ops
  }

  /** Drop the expired ones. */
  expire (now: number): BatchOp[] {
    const ops: BatchOp[] = []
    for (const [a, until] of this.until) if (until <= now) ops.push(...this.lift(a))
    return ops
  }
}
