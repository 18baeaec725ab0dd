// One ordered queue of writes to a database. classic-level runs operations on a thread pool, so
// two unawaited writes could otherwise land out of order. Writes run one batch at a time, in the
// order they were queued; everything queued while a batch is on disk goes into the next batch
// together, and a batch holding a write someone waits for (a user's) is synced before it resolves.
import { type LevelLike, type SublevelLike, type BatchOp, TableError, writeBatch } from './db.js'

interface Pending {
  ops: BatchOp[]
  /** Where each key's op sits in ops, so a later write to the same key replaces it. */
  slots: Map<SublevelLike, Map<string, number>>
  sync: boolean
  done: Done[]
}

interface Done { resolve: () => void, reject: (e: Error) => void }

export class WriteQueue {
  private pending: Pending | null = null
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  /** Called when a write nobody waits for fails; the node replaces it to emit 'error'. */
  onError: (err: Error) => void = () => {}
  /**
   * Writes nobody waits for go nowhere: the store keeps nothing (LevelLike.keepsNothing). Batching
   * them for it, with the table's views of marked records (AddressTable.flushDirty), was ~7% of
   * what a simulated node allocated.
   */
  readonly discards: boolean

  constructor (private readonly db: LevelLike, private readonly what: string) {
    this.discards = db.keepsNothing === true
  }

  /** Write ops and resolve once they are synced to disk (a user's write, acknowledged after). */
  sync (ops: BatchOp[]): Promise<void> {
    return this.enqueue(ops, true)
  }

  /** Write ops nobody waits for, unsynced (gossip, counters); a failure goes to onError. */
  post (ops: BatchOp[]): void {
    if (ops.length === 0 || this.closed || this.discards) return
    // No promise of its own (gossip posts on every message): a failure reaches onError in a
    // microtask, where a rejected promise's catch() would have called it.
    this.add(ops, false, { resolve: noop, reject: err => queueMicrotask(() => this.onError(err)) })
  }

  /** Resolves once every write queued so far is on disk (or has failed). */
  async flushed (): Promise<void> {
    let w: Promise<void>
    do {
      w = this.writing
      await w
    } while (w !== this.writing)
  }

  /** Wait for every queued write, then refuse more. */
  async close (): Promise<void> {
    await this.flushed()
    this.closed = true
  }

  private enqueue (ops: BatchOp[], sync: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new TableError(`${this.what} is closed`))
    return new Promise((resolve, reject) => this.add(ops, sync, { resolve, reject }))
  }

  /** Put ops in the pending batch (begun if none is), and `done` in its list to settle. */
  private add (ops: BatchOp[], sync: boolean, done: Done): void {
    if (this.pending === null) {
      const q: Pending = this.pending = { ops: [], slots: new Map(), sync: false, done: [] }
      // The chain itself never rejects: each batch's failure goes to the writes it held.
      this.writing = this.writing.then(async () => {
        this.pending = null
        try {
          if (q.ops.length > 0) await writeBatch(this.db, q.ops, q.sync)
          for (const d of q.done) d.resolve()
        } catch (err) {
          for (const d of q.done) d.reject(err as Error)
        }
      })
    }
    // Many updates of one record between two batches (stats under a busy peer) cost one write.
    const q = this.pending
    for (const op of ops) {
      let slots = q.slots.get(op.sublevel)
      if (!slots) q.slots.set(op.sublevel, slots = new Map())
      const at = slots.get(op.key)
      if (at === undefined) {
        slots.set(op.key, q.ops.length)
        q.ops.push(op)
      } else {
        q.ops[at] = op
      }
    }
    q.sync ||= sync
    q.done.push(done)
  }
}

function noop (): void {}
