// known: every address in the table, streamed from the database a batch at a time.
import type { KnownRow } from '../../control/protocol.js'
import { method, none } from './method.js'

export const known = method<undefined, KnownRow>({
  name: 'known',
  params: none,
  async run (ctx, _, reply) {
    for await (const batch of ctx.node.knownBatches()) {
      // Cut short (the client left, the daemon stops): an error row, never a false end.
      reply.signal.throwIfAborted()
      // A batch at a time: its rows queue together, then we wait for the client to drain.
      await Promise.all(batch.map(row => reply.row(row)))
    }
  }
})
