// A tiny in-memory store with the part of the abstract-level API the table uses, for the fuzz
// harness (no database package, no files left behind; the simulation, which never reads a store
// back, uses sim/sink-db.ts, and used this before: memory-level's red-black trees, transcoders
// and per-sublevel machinery cost each node about 100 KB and a sixth of the run's time). Values
// are kept as the JSON text LevelDB would hold, so a read returns a fresh copy, as from a real
// store, and a utf8 read returns that text.
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
    if (ops === undefined) return this.chained()
    const b = this.chained()
    try {
      for (const op of ops) {
        if (op.type === 'put') b.put(op.key, op.value, op)
        else b.del(op.key, op)
      }
    } catch (err) {
      return Promise.reject(err)
    }
    return b.write()
  }

  /** Refuse writes from now on, as a closed store does; what it holds stays readable here. */
  async close (): Promise<void> {
    this.status = 'closed'
  }

  /**
   * A chained batch: each value encoded as it is put (as abstract-level does: a value JSON
   * cannot encode fails there), the whole batch applied at write(), or nothing of it.
   */
  private chained (): ChainedBatchLike & { write: () => Promise<void> } {
    const subs: MemSublevel[] = []
    const keys: string[] = []
    const texts: Array<string | undefined> = []
    const add = (key: string, text: string | undefined, sublevel: SublevelLike): void => {
      subs.push(sublevel as MemSublevel)
      keys.push(key)
      texts.push(text)
    }
    return {
      put: (key, value, opts) => add(key, encode(value), opts.sublevel),
      del: (key, opts) => add(key, undefined, opts.sublevel),
      write: async () => {
        if (this.status !== 'open') throw new Error('Database is not open')
        for (let i = 0; i < keys.length; i++) {
          const text = texts[i]
          if (text === undefined) subs[i].data.delete(keys[i])
          else subs[i].data.set(keys[i], text)
        }
      },
      close: async () => {}
    }
  }
}

function encode (value: unknown): string {
  const text: unknown = JSON.stringify(value)
  if (typeof text !== 'string') throw new Error(`a value JSON cannot encode: ${String(value)}`)
  return flat(text)
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
