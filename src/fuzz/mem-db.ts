// A tiny in-memory store with the part of the abstract-level API the table uses, so the fuzz
// harness needs no database package (and leaves no files behind).
import type { LevelLike, SublevelLike } from '../table/table.js'

class MemSublevel implements SublevelLike {
  readonly data = new Map<string, unknown>()
  async get (key: string): Promise<unknown> { return this.data.get(key) }
  async * iterator (): AsyncGenerator<[string, unknown]> {
    for (const k of [...this.data.keys()].sort()) yield [k, this.data.get(k)]
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
