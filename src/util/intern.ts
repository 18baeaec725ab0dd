// One copy of a string many places keep. A peer's id is a new string wherever it was parsed (its
// link's key, its hello, every ring message naming it), and each map, list and link that keeps
// it kept its own copy: at 1,000 simulated nodes, 143 copies of 64 hex digits a node, a tenth of
// the heap in strings that were all duplicates. Interned where they are kept, they are one.
//
// Bounded: two generations of at most INTERN_GENERATION entries each. A value found in the old
// one moves to the new; when the new one is full the old one is dropped. So a peer that sends
// ids without end (any peer can make up ids) only ages out the ones nobody uses, and costs at
// most the bound; a value not interned any more is still the same value, merely a copy again.

/**
 * Entries in one generation of the table (two are kept). Room for every id of a 10,000-node
 * simulation and its churn in one; at most ~8 MB however many ids peers make up.
 */
export const INTERN_GENERATION = 1 << 15

export class Interner<T> {
  private young = new Map<string, T>()
  private old = new Map<string, T>()

  constructor (readonly generation = INTERN_GENERATION) {}

  /** The value kept for key, made by make() the first time (or once it aged out). */
  get (key: string, make: (key: string) => T): T {
    let v = this.young.get(key)
    if (v !== undefined) return v
    v = this.old.get(key)
    if (v === undefined) v = make(key)
    else this.old.delete(key)
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(key, v)
    return v
  }

  /** Entries kept (both generations). */
  get size (): number {
    return this.young.size + this.old.size
  }
}

const strings = new Interner<string>()
const same = (s: string): string => s

/** The one copy of s kept (s itself the first time). */
export function intern (s: string): string {
  return strings.get(s, same)
}
