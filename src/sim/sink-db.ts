// The simulation's store: every write is taken and dropped, and every read finds nothing. A node
// reads its store only as it opens (every simulated node starts new: nothing to find) and when a
// user lists or checks what it knows, which the simulation never does; what the node works with
// is its table in memory (table/table.ts). Keeping the JSON text of every record written, as
// fuzz/mem-db.ts does, cost each simulated node ~50 KB and a twentieth of the run's time for
// text nobody read. A closed store refuses writes, as a real one does.
import type { LevelLike, SublevelLike, ChainedBatchLike } from '../table/db.js'

const EMPTY: SublevelLike = {
  get: async () => undefined,
  iterator: () => ({
    nextv: async () => [],
    close: async () => {},
    async * [Symbol.asyncIterator] () {}
  })
}

export class SinkDb implements LevelLike {
  status = 'open'
  readonly keepsNothing = true

  sublevel (): SublevelLike {
    return EMPTY
  }

  batch (): ChainedBatchLike
  batch (ops: unknown[]): Promise<void>
  batch (ops?: unknown[]): ChainedBatchLike | Promise<void> {
    if (ops !== undefined) return this.written()
    return {
      put: () => {},
      del: () => {},
      write: async () => await this.written(),
      close: async () => {}
    }
  }

  async close (): Promise<void> {
    this.status = 'closed'
  }

  private async written (): Promise<void> {
    if (this.status !== 'open') throw new Error('Database is not open')
  }
}
