// Fixed-width rows handed out from one growing typed array, with a free list: for what a record
// keeps only when it has it (its counters once one is not zero, the key it is pinned to), so
// that the many records without take no room for it. A slot column holds row + 1 (0: no row).

type Data = Float64Array | Uint8Array

export class RowPool<T extends Data> {
  private top = 0
  private readonly free: number[] = []

  constructor (readonly width: number, public data: T) {}

  /** A row no one holds, its old contents still in it. */
  alloc (): number {
    const row = this.free.pop() ?? this.top++
    if ((row + 1) * this.width > this.data.length) this.data = grown(this.data, Math.max(this.data.length * 1.5, (row + 1) * this.width))
    return row
  }

  release (row: number): void { this.free.push(row) }

  /**
   * The first way `held` (the rows the column points at) disagrees with the pool, as a sentence
   * naming `what` the rows are, or null.
   */
  problem (held: ReadonlySet<number>, what: string): string | null {
    for (const row of held) if (row >= this.top) return `${what} row ${row} was never handed out`
    for (const row of this.free) if (held.has(row)) return `${what} row ${row} is both free and in use`
    if (held.size + new Set(this.free).size !== this.top) return `${held.size} ${what} rows in use and ${this.free.length} free are not the ${this.top} handed out`
    return null
  }
}

type Column = Data | Int32Array

/** A copy of column, `size` long (rounded up to a whole multiple of 64). */
export function grown<C extends Column> (column: C, size: number): C {
  const next = new (column.constructor as new (n: number) => C)(Math.ceil(size / 64) * 64)
  next.set(column)
  return next
}
