// search: members of a subnet, a row per answer as it arrives, until the timeout or `max`.
import { MAX_SEARCH_TIMEOUT, type Peernet } from '../../node/node.js'
import { DEFAULT_SEARCH_TIMEOUT } from '../../node/defaults.js'
import { checkSubnet, MAX_HOP_LIMIT } from '../../wire/messages.js'
import type { SearchRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { str, optInt, optBool, invalid } from '../params.js'
import { method } from './method.js'

/**
 * Resolves true once the node has a connection: at once when it has one, after the dials and
 * handshakes under way when it has none yet (a daemon just started is still dialing from its
 * table), false when none is coming or `ms` runs out.
 */
function firstPeer (node: Peernet, ms: number, signal: AbortSignal): Promise<boolean> {
  const st = (): { connections: number, busy: boolean } => {
    const s = node.status()
    return { connections: s.connections, busy: s.dialing + s.handshaking > 0 }
  }
  const now = st()
  if (now.connections > 0 || !now.busy) return Promise.resolve(now.connections > 0)
  return new Promise(resolve => {
    const done = (v: boolean): void => {
      clearTimeout(timer)
      node.off('event', check)
      signal.removeEventListener('abort', abort)
      resolve(v)
    }
    const abort = (): void => done(false)
    // A dial's end is an event; its bookkeeping settles just after: look on the next turn.
    const check = (): void => {
      setImmediate(() => {
        const s = st()
        if (s.connections > 0 || !s.busy) done(s.connections > 0)
      })
    }
    const timer = setTimeout(() => done(false), ms)
    node.on('event', check)
    signal.addEventListener('abort', abort)
  })
}

interface SearchParams { subnet: string, max: number | undefined, timeout: number | undefined, hops: number | undefined, flood: boolean | undefined }

export const search = method<SearchParams, SearchRow>({
  name: 'search',
  params: p => ({
    subnet: invalid(() => checkSubnet(str(p, 'subnet'))),
    max: optInt(p, 'max', 1, Number.MAX_SAFE_INTEGER),
    timeout: optInt(p, 'timeout', 0, MAX_SEARCH_TIMEOUT),
    hops: optInt(p, 'hops', 1, MAX_HOP_LIMIT),
    flood: optBool(p, 'flood')
  }),
  async run (ctx, { subnet, ...opts }, reply) {
    // A query goes to the peers connected when it starts: with none, nobody could answer.
    if (!await firstPeer(ctx.node, opts.timeout ?? DEFAULT_SEARCH_TIMEOUT, reply.signal)) {
      reply.signal.throwIfAborted()
      throw new ControlError('ENOCONN', 'no answers: this node has no connections to search through; connect to a peer first (peernet connect ADDR)')
    }
    const timing = ctx.searchStats.start('search')
    try {
      for await (const row of ctx.node.search(subnet, { ...opts, signal: reply.signal })) {
        timing.row()
        await reply.row(row)
      }
    } finally {
      timing.end()
    }
    reply.signal.throwIfAborted()
  }
})
