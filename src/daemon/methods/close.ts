// close: stop the daemon. The answer (its pid) leaves first; the shutdown starts on the next turn.
import type { CloseRow } from '../../control/protocol.js'
import { method, none } from './method.js'

export const close = method<undefined, CloseRow>({
  name: 'close',
  params: none,
  async run (ctx, _, reply) {
    await reply.row({ pid: process.pid })
    setImmediate(() => { void ctx.shutdown() })
  }
})
