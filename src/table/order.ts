// Every slot in one array, the user-saved ones first, then the learned ones, with each slot's
// position: a uniform pick among all, the saved or the learned slots is one random index, and a
// slot joins or leaves either part in O(1) (swap-remove, as IndexedSet). Eight bytes a slot,
// where an IndexedSet of addresses costs a Map entry and an array element for each.
import { type Random, randomInt } from '../util/random.js'

/** A set of slots to pick from at random, and to sample (see AddressTable.evictFrom). */
export interface SlotSet {
  readonly size: number
  pick (random: Random): number | undefined
  values (): readonly number[]
}

export class SlotOrder {
  private list = new Int32Array(64)
  private pos = new Int32Array(64)
  private n = 0
  private nSaved = 0

  /** The user-saved slots, the learned ones, all of them. */
  readonly saved: SlotSet = this.part(() => 0, () => this.nSaved)
  readonly learned: SlotSet = this.part(() => this.nSaved, () => this.n)
  readonly all: SlotSet = this.part(() => 0, () => this.n)

  /** Add slot (not here) to the saved part or the learned part. */
  add (slot: number, saved: boolean): void {
    if (this.n === this.list.length) this.list = grown(this.list, this.n * 1.5)
    if (slot >= this.pos.length) this.pos = grown(this.pos, slot * 1.5)
    this.put(slot, this.n++)
    if (saved) {
      // The first learned slot moves to the end; slot takes its place at the end of the saved part.
      this.swap(this.nSaved, this.n - 1)
      this.nSaved++
    }
  }

  /** Take slot (here, in the part `saved` says) out. */
  delete (slot: number, saved: boolean): void {
    let i = this.pos[slot]
    if (saved) {
      // Move it to the end of the saved part, then across the boundary into the learned part.
      this.swap(i, --this.nSaved)
      i = this.nSaved
    }
    this.swap(i, --this.n)
    this.pos[slot] = -1
  }

  /** Whether slot is in the part `saved` says (for AddressIndex.problem). */
  holds (slot: number, saved: boolean): boolean {
    const i = slot < this.pos.length ? this.pos[slot] : -1
    return i >= 0 && i < this.n && this.list[i] === slot && (i < this.nSaved) === saved
  }

  // --- internals -------------------------------------------------------------------------

  private put (slot: number, i: number): void {
    this.list[i] = slot
    this.pos[slot] = i
  }

  private swap (i: number, j: number): void {
    if (i === j) return
    const a = this.list[i]
    this.put(this.list[j], i)
    this.put(a, j)
  }

  private part (from: () => number, to: () => number): SlotSet {
    const list = (): Int32Array => this.list
    return {
      get size () { return to() - from() },
      pick: random => to() > from() ? list()[from() + randomInt(random, to() - from())] : undefined,
      // A typed-array view, live until the next change: sample() and SlotSampler read only its
      // length, its elements and slice(), which typed arrays have too, so no copy of a million slots is made.
      values: () => list().subarray(from(), to()) as unknown as readonly number[]
    }
  }
}

function grown (column: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.ceil(size / 64) * 64 + 64)
  next.set(column)
  return next
}
