// known: every address in the table, streamed from the database a batch at a time, each row
// as the JSON text the table made of its stored record (no object made and serialised again).
import type { KnownRow } from '../../control/protocol.js'
import { method, none } from './method.js'

export const known = method<undefined, KnownRow>({
  name: 'known',
  params: none,
  async run (ctx, _, reply) {
    for await (const batch of ctx.node.knownJson()) {
      // Cut short (the client left, the daemon stops): an error row, never a false end.
      reply.signal.throwIfAborted()
      // A batch at a time, in one write; then we wait for the client to drain.
      await reply.rowsJson(batch)
    }
  }
})
