// The searches and finds clients asked this daemon for, and how long each took to its first
// row: counted always (a few numbers), passed on to the metrics when --http is on.

export type SearchKind = 'search' | 'find'

export class SearchStats {
  /** Searches by `kind outcome`: `answered` (a first row came) or `empty`. */
  readonly count = new Map<string, number>()
  /** Told the seconds each answered search took to its first row (the metrics' histogram). */
  onFirstRow: ((kind: SearchKind, seconds: number) => void) | null = null

  /** Start timing one search: row() at each row it gives, end() once it ends. */
  start (kind: SearchKind, now: () => number = Date.now): { row: () => void, end: () => void } {
    const t0 = now()
    let answered = false
    return {
      row: () => {
        if (answered) return
        answered = true
        this.onFirstRow?.(kind, (now() - t0) / 1000)
      },
      end: () => {
        const key = `${kind} ${answered ? 'answered' : 'empty'}`
        this.count.set(key, (this.count.get(key) ?? 0) + 1)
      }
    }
  }
}
