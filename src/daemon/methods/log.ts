// log: replay the last events, then follow new ones until the daemon stops (see ../log.ts).
import { LOG_BUFFER, type LogRow } from '../../control/protocol.js'
import { serveLog } from '../log.js'
import { optInt } from '../params.js'
import { method } from './method.js'

export const log = method<{ lines: number | undefined, follow: boolean }, LogRow>({
  name: 'log',
  params: p => ({ lines: optInt(p, 'lines', 0, LOG_BUFFER), follow: p.follow !== false }),
  run: async (ctx, opts, reply) => serveLog(ctx.log, opts, reply, ctx.stopping)
})
