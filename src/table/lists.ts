// Lists of strings kept once however many records hold them: a record's sources (every address
// one informant sends has the same two) and its subnets become a number. Counted, so a list no
// record holds any more is let go and its number reused.
import { sameList } from '../util/same-list.js'

const EMPTY: readonly string[] = Object.freeze([])

export class ListPool {
  /** The list under each number; 0 is the empty list, never counted nor let go. */
  private readonly lists: Array<readonly string[]> = [EMPTY]
  private readonly refs: number[] = [0]
  private readonly ids = new Map<string, number>()
  private readonly free: number[] = []

  /** Distinct non-empty lists held. */
  get size (): number { return this.ids.size }

  /**
   * The number the last intern() gave: a table learns a gossip answer's addresses with one list
   * of sources, so the next list is most often the same. Found by comparing it with the list under
   * that number (EMPTY once let go), it costs no JSON.stringify and no lookup; the number is the
   * one the lookup would find.
   */
  private last = 0

  /** The number of list, counted once more. */
  intern (list: readonly string[]): number {
    if (list.length === 0) return 0
    let id = this.last
    if (!sameList(this.lists[id], list)) {
      const key = JSON.stringify(list)
      id = this.ids.get(key) ?? this.put(key, list)
    }
    this.refs[id]++
    this.last = id
    return id
  }

  /** A new number for list, filed under key, counted 0 times. */
  private put (key: string, list: readonly string[]): number {
    const id = this.free.pop() ?? this.lists.length
    this.lists[id] = Object.freeze(list.slice())
    this.refs[id] = 0
    this.ids.set(key, id)
    return id
  }

  /** Count list `id` once less; let it go when nothing holds it. */
  release (id: number): void {
    if (id === 0 || --this.refs[id] > 0) return
    this.ids.delete(JSON.stringify(this.lists[id]))
    this.lists[id] = EMPTY
    this.free.push(id)
  }

  get (id: number): readonly string[] { return this.lists[id] }

  /**
   * The first way the pool disagrees with `held` (how many times each number is held), as a
   * sentence, or null.
   */
  problem (held: ReadonlyMap<number, number>): string | null {
    for (const [key, id] of this.ids) {
      if (JSON.stringify(this.lists[id]) !== key) return `list ${id} is not the list ${key} it is filed under`
      if (this.refs[id] !== (held.get(id) ?? 0)) return `list ${key} is counted ${this.refs[id]} times but held ${held.get(id) ?? 0}`
    }
    for (const id of held.keys()) {
      if (id !== 0 && this.ids.get(JSON.stringify(this.lists[id])) !== id) return `a record holds list ${id}, which is not in the pool`
    }
    if (this.ids.size + this.free.length + 1 !== this.lists.length) return `${this.ids.size} lists held and ${this.free.length} free are not the ${this.lists.length - 1} numbered`
    return null
  }
}
