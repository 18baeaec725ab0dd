// The part of an abstract-level database peernet uses (level, classic-level, memory-level), so
// the table, the service store and the tests' recording wrappers all speak the same shape.

export interface LevelLike {
  sublevel (name: string, opts: { valueEncoding: 'json' }): SublevelLike
  // Typed loosely on purpose: each abstract-level store declares its own batch operation types.
  batch (ops: any[], opts?: { sync?: boolean }): Promise<void> // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A chained batch, as every abstract-level store makes one (see writeBatch). */
  batch (): ChainedBatchLike
  open? (): Promise<void>
  status?: string
  /**
   * The store keeps nothing it is given (the simulation's SinkDb): writes nobody waits for are
   * dropped before they are queued (WriteQueue.post), as the store would drop them anyway.
   */
  readonly keepsNothing?: boolean
}

export interface SublevelLike {
  get (key: string): Promise<unknown>
  iterator (opts?: IteratorOptions): AsyncIterable<[string, unknown]> & { nextv (size: number): Promise<Array<[string, unknown]>>, close (): Promise<void> }
}

/**
 * Values as the sublevel's JSON, or as the text they are stored as; how many bytes of entries
 * one nextv() may read ahead (classic-level's option; other stores have no such limit).
 */
export interface IteratorOptions { valueEncoding: 'json' | 'utf8', highWaterMarkBytes?: number }

export type BatchOp =
  | { type: 'put', sublevel: SublevelLike, key: string, value: unknown }
  | { type: 'del', sublevel: SublevelLike, key: string }

export interface ChainedBatchLike {
  put (key: string, value: unknown, opts: { sublevel: SublevelLike }): unknown
  del (key: string, opts: { sublevel: SublevelLike }): unknown
  write (opts: { sync: boolean }): Promise<void>
  close (): Promise<void>
}

/**
 * Write ops as one batch, synced or not. Through a chained batch: abstract-level spends about
 * a quarter of the time per op there that it spends in an array batch (1,000 puts of address
 * records: ~2 ms against ~8 ms of the daemon's one thread, most of `add -`'s time per request),
 * and the keys and values written are the same.
 */
export async function writeBatch (db: LevelLike, ops: BatchOp[], sync: boolean): Promise<void> {
  // A chained batch needs an open store; an array batch waits for one still opening (and says
  // why a closed one refuses), so that path is kept for any state but open.
  if (db.status !== undefined && db.status !== 'open') return await db.batch(ops, { sync })
  const b = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') b.put(op.key, op.value, { sublevel: op.sublevel })
      else b.del(op.key, { sublevel: op.sublevel })
    }
  } catch (err) {
    await b.close()
    throw err
  }
  await b.write({ sync })
}

export const JSON_VALUES = { valueEncoding: 'json' } as const

export class TableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'TableError'
  }
}
