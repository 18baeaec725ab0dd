// The part of an abstract-level database peernet uses (level, classic-level, memory-level), so
// the table, the service store and the tests' recording wrappers all speak the same shape.

export interface LevelLike {
  sublevel (name: string, opts: { valueEncoding: 'json' }): SublevelLike
  // Typed loosely on purpose: each abstract-level store declares its own batch operation types.
  batch (ops: any[], opts?: { sync?: boolean }): Promise<void> // eslint-disable-line @typescript-eslint/no-explicit-any
  open? (): Promise<void>
  status?: string
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

export const JSON_VALUES = { valueEncoding: 'json' } as const

export class TableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'TableError'
  }
}
