// A tiny in-memory store with the part of the abstract-level API the table uses, so the fuzz
// harness needs no database package (and leaves no files behind).
import type { LevelLike, SublevelLike, ChainedBatchLike } from '../table/db.js'

interface MemOp { type: 'put' | 'del', sublevel: MemSublevel, key: string, value?: unknown }

class MemSublevel implements SublevelLike {
  readonly data = new Map<string, unknown>()
  async get (key: string): Promise<unknown> { return this.data.get(key) }
  iterator (): AsyncIterable<[string, unknown]> & { nextv: (size: number) => Promise<Array<[string, unknown]>>, close: () => Promise<void> } {
    const rows: Array<[string, unknown]> = [...this.data.keys()].sort().map(k => [k, this.data.get(k)])
    let at = 0
    return {
      nextv: async size => rows.slice(at, at += size),
      close: async () => {},
      async * [Symbol.asyncIterator] () { yield * rows }
    }
  }
}

export class MemDb implements LevelLike {
  private readonly subs = new Map<string, MemSublevel>()
  status = 'open'

  sublevel (name: string): MemSublevel {
    let s = this.subs.get(name)
    if (!s) this.subs.set(name, s = new MemSublevel())
    return s
  }

  batch (): ChainedBatchLike
  batch (ops: MemOp[]): Promise<void>
  batch (ops?: MemOp[]): ChainedBatchLike | Promise<void> {
    if (ops === undefined) {
      // A chained batch: the ops gathered, then written as one array batch.
      const gathered: MemOp[] = []
      return {
        put: (key, value, opts) => gathered.push({ type: 'put', sublevel: opts.sublevel as MemSublevel, key, value }),
        del: (key, opts) => gathered.push({ type: 'del', sublevel: opts.sublevel as MemSublevel, key }),
        write: async () => await this.write(gathered),
        close: async () => {}
      }
    }
    return this.write(ops)
  }

  private async write (ops: MemOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') op.sublevel.data.set(op.key, JSON.parse(JSON.stringify(op.value)))
      else op.sublevel.data.delete(op.key)
    }
  }
}
