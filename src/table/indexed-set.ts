import { type Random, randomInt } from '../util/random.js'

/**
 * Up to this many items a set finds an item by scanning its array, and has no position map.
 * A table has a set per source and per dial group, most of them a few dozen slots: a Map for
 * each cost about 1.3 KB against ~0.3 KB for the array alone (a third of the simulation's heap
 * at 1,000 nodes), and scanning 32 small integers costs about what a Map lookup does.
 */
export const SMALL_SET = 32

/** A set with O(1) add, delete and uniform random pick (swap-remove over an array). */
export class IndexedSet<T> {
  private items: T[] = []
  /** Each item's index in items, once the set has held more than SMALL_SET items. */
  private pos: Map<T, number> | null = null
  /** Whether the last change was a delete (see addNew). */
  private room = false

  get size (): number { return this.items.length }

  has (x: T): boolean { return this.indexOf(x) >= 0 }

  add (x: T): void {
    if (this.indexOf(x) < 0) this.addNew(x)
  }

  /** Add x, which the caller knows is not here (no scan, no lookup). */
  addNew (x: T): void {
    this.pos?.set(x, this.items.length)
    // A small set's array grows by one, copied at its exact length by concat: a push would give
    // it room for 17 items at its first (V8 grows an array by half and 16), most of it never used
    // (a table's sets of a few slots each were a fifteenth of the simulation's heap), and so did
    // a spread, which V8 builds as a push grows. Scanning it costs as much already. After a
    // delete's pop the array has room for one more: a push then grows nothing.
    if (this.pos === null && !this.room) this.items = this.items.concat([x])
    else this.items.push(x)
    this.room = false
    if (this.pos === null && this.items.length > SMALL_SET) this.pos = new Map(this.items.map((y, i) => [y, i]))
  }

  delete (x: T): boolean {
    const i = this.indexOf(x)
    if (i < 0) return false
    const last = this.items.pop() as T
    this.room = true
    if (i < this.items.length) {
      this.items[i] = last
      this.pos?.set(last, i)
    }
    this.pos?.delete(x)
    // Back to scanning once small again (with room, so a set at the bound does not flip-flop).
    if (this.pos !== null && this.items.length <= SMALL_SET / 2) this.pos = null
    return true
  }

  pick (random: Random): T | undefined {
    return this.items.length === 0 ? undefined : this.items[randomInt(random, this.items.length)]
  }

  values (): readonly T[] { return this.items }

  /** Whether the array and the position map agree (for AddressIndex.problem). */
  consistent (): boolean {
    const pos = this.pos
    if (pos === null) return new Set(this.items).size === this.items.length
    if (pos.size !== this.items.length) return false
    return this.items.every((x, i) => pos.get(x) === i)
  }

  private indexOf (x: T): number {
    return this.pos === null ? this.items.indexOf(x) : this.pos.get(x) ?? -1
  }
}
