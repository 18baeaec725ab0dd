// A tiny in-memory store with the part of the abstract-level API the table uses, so the fuzz
// harness needs no database package (and leaves no files behind).
import type { LevelLike, SublevelLike } from '../table/db.js'

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

  async batch (ops: Array<{ type: 'put' | 'del', sublevel: MemSublevel, key: string, value?: unknown }>): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') op.sublevel.data.set(op.key, JSON.parse(JSON.stringify(op.value)))
      else op.sublevel.data.delete(op.key)
    }
  }
}
