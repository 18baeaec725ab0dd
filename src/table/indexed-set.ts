import { type Random, randomInt } from '../util/random.js'

/** A set with O(1) add, delete and uniform random pick (swap-remove over an array). */
export class IndexedSet<T> {
  private items: T[] = []
  private pos = new Map<T, number>()

  get size (): number { return this.items.length }

  has (x: T): boolean { return this.pos.has(x) }

  add (x: T): void {
    if (this.pos.has(x)) return
    this.pos.set(x, this.items.length)
    this.items.push(x)
  }

  delete (x: T): boolean {
    const i = this.pos.get(x)
    if (i === undefined) return false
    const last = this.items.pop() as T
    if (i < this.items.length) {
      this.items[i] = last
      this.pos.set(last, i)
    }
    this.pos.delete(x)
    return true
  }

  pick (random: Random): T | undefined {
    return this.items.length === 0 ? undefined : this.items[randomInt(random, this.items.length)]
  }

  values (): readonly T[] { return this.items }

  /** Whether the array and the position map agree (for AddressIndex.problem). */
  consistent (): boolean {
    if (this.pos.size !== this.items.length) return false
    return this.items.every((x, i) => this.pos.get(x) === i)
  }
}
