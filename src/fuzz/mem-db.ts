// A tiny in-memory store with the part of the abstract-level API the table uses, for the fuzz
// harness (no database package, no files left behind) and the simulation (ten thousand nodes:
// memory-level's red-black trees, transcoders and per-sublevel machinery cost each node about
// 100 KB and a sixth of the run's time). Values are kept as the JSON text LevelDB would hold,
// so a read returns a fresh copy, as from a real store, and a utf8 read returns that text.
import type { LevelLike, SublevelLike, ChainedBatchLike, IteratorOptions } from '../table/db.js'

interface MemOp { type: 'put' | 'del', sublevel: MemSublevel, key: string, value?: unknown }

type Rows = Array<[string, unknown]>

class MemSublevel implements SublevelLike {
  readonly data = new Map<string, string>()
  async get (key: string): Promise<unknown> {
    const text = this.data.get(key)
    return text === undefined ? undefined : JSON.parse(text)
  }

  /** Rows in key order, as LevelDB iterates; a snapshot, as an abstract-level iterator is. */
  iterator (opts?: IteratorOptions): AsyncIterable<[string, unknown]> & { nextv: (size: number) => Promise<Rows>, close: () => Promise<void> } {
    const utf8 = opts?.valueEncoding === 'utf8'
    const rows: Rows = [...this.data.keys()].sort().map(k => {
      const text = this.data.get(k) as string
      return [k, utf8 ? text : JSON.parse(text)]
    })
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

  /** Refuse writes from now on, as a closed store does; what it holds stays readable here. */
  async close (): Promise<void> {
    this.status = 'closed'
  }

  private async write (ops: MemOp[]): Promise<void> {
    if (this.status !== 'open') throw new Error('Database is not open')
    // Encoded first, then applied: a value JSON cannot encode fails the batch, writing nothing.
    const texts = ops.map(op => op.type === 'put' ? flat(JSON.stringify(op.value)) : undefined)
    ops.forEach((op, i) => {
      if (op.type === 'put') op.sublevel.data.set(op.key, texts[i] as string)
      else op.sublevel.data.delete(op.key)
    })
  }
}

/**
 * The text as one flat string. V8 returns a longer JSON.stringify result as a rope of pieces
 * (a cons string), about 135 bytes more than the flat text for an address record; reading a
 * character from inside it makes V8 flatten it in place, and the pieces become garbage
 * (200,000 records: 82 MB of heap as ropes, 55 MB flat). The text itself is unchanged.
 */
function flat (text: string): string {
  return text.charCodeAt(text.length >> 1) >= 0 ? text : text
}
