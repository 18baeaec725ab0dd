// Services by name (issue 14): offer and withdraw say what changed, offers lists this node's
// (the user's and services.json's, apart), find streams the offers the ring holds for a name.
import { checkOffer, SERVICE_NAME } from '../../wire/record.js'
import { MAX_SEARCH_TIMEOUT } from '../../node/node.js'
import { MAX_FIND } from '../../node/offers.js'
import type { FindRow, OfferedRow, OffersRow, WithdrawRow, ReloadRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { str, optInt, invalid, type Params } from '../params.js'
import { method, single, listing, none } from './method.js'

function serviceName (p: Params): string {
  const name = str(p, 'name')
  if (!SERVICE_NAME.test(name)) throw new ControlError('EINVAL', 'params.name must be a service name: [a-z0-9][a-z0-9.-]{0,63}')
  return name
}

function optStr (p: Params, key: string): string | undefined {
  return p[key] === undefined || p[key] === null ? undefined : str(p, key)
}

export const offer = single('offer', p => invalid(() => checkOffer({
  name: p.name,
  url: p.url,
  ...(p.version === undefined || p.version === null ? {} : { version: p.version }),
  ...(p.meta === undefined || p.meta === null ? {} : { meta: p.meta })
})), async (ctx, o): Promise<OfferedRow> => {
  try {
    return { ...o, offered: await ctx.node.offer(o) }
  } catch (err) {
    if (err instanceof RangeError) throw new ControlError('ELIMIT', err.message)
    throw err
  }
})

export const withdraw = single('withdraw', p => ({ name: serviceName(p), url: optStr(p, 'url') }), async (ctx, { name, url }): Promise<WithdrawRow> => {
  return { name, url: url ?? null, withdrawn: await ctx.node.withdraw(name, url) }
})

export const offers = listing<OffersRow>('offers', ctx => ctx.node.offers())

interface FindParams { name: string, max: number | undefined, timeout: number | undefined }

export const find = method<FindParams, FindRow>({
  name: 'find',
  params: p => ({ name: serviceName(p), max: optInt(p, 'max', 1, MAX_FIND), timeout: optInt(p, 'timeout', 0, MAX_SEARCH_TIMEOUT) }),
  async run (ctx, { name, ...opts }, reply) {
    const timing = ctx.searchStats.start('find')
    try {
      for await (const row of ctx.node.find(name, { ...opts, signal: reply.signal })) {
        timing.row()
        await reply.row(row as FindRow)
      }
    } catch (err) {
      reply.signal.throwIfAborted()
      if (err instanceof ControlError) throw err
      throw new ControlError('ENORING', (err as Error).message)
    } finally {
      timing.end()
    }
    reply.signal.throwIfAborted()
  }
})

export const reload = single('reload', none, async (ctx): Promise<ReloadRow> => {
  try {
    const r = ctx.reloadServices()
    return { file: ctx.paths.services, changed: r.changed, services: r.services, left: r.changed ? r.left.length : 0 }
  } catch (err) {
    throw new ControlError('EFILE', (err as Error).message)
  }
})
