// The addresses learned last, for gossip answers: half of each answer comes from them, so a new
// node's address spreads like news (a uniform sample alone reached < 1% of 10,000 simulated
// nodes in 40 rounds), while the other half, drawn uniformly, keeps old addresses circulating.
import { MAX_RECENT } from './rules.js'

interface Entry { address: string, from: string }

export class RecentlyLearned {
  /** Oldest first, at most MAX_RECENT. */
  private readonly list: Entry[] = []
  /**
   * Each entry by its group: every learned address asks whether its group has one, which a scan
   * of the list answered by comparing up to MAX_RECENT strings.
   */
  private readonly byFrom = new Map<string, Entry>()

  get size (): number { return this.list.length }

  /**
   * Note address, learned from source group (or informant) `from`. One entry per group: an
   * informant sending many fresh addresses gets no more of them passed on than any other.
   */
  add (address: string, from: string): void {
    const { list } = this
    const prev = this.byFrom.get(from)
    if (prev !== undefined) list.splice(list.indexOf(prev), 1)
    const e = { address, from }
    list.push(e)
    this.byFrom.set(from, e)
    if (list.length > MAX_RECENT) this.byFrom.delete((list.shift() as Entry).from)
  }

  /** The i-th newest (0 ≤ i < size): an index, not a generator, as every gossip answer reads them. */
  nthNewest (i: number): string { return this.list[this.list.length - 1 - i].address }
}
