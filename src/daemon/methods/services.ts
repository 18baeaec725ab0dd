// This node's services (see ../services.ts): listen opens one, unlisten closes one, servers
// lists them, own lists the addresses peers are told (open services and --advertise).
import { parseAddress } from '../../transport/address.js'
import type { AddressRow, ServerRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { str, optInt, invalid, type Params } from '../params.js'
import { listing, single } from './method.js'

function listenParams (p: Params): { protocol: 'ws' | 'tcp', host: string, port: number } {
  const protocol = str(p, 'protocol')
  if (protocol !== 'ws' && protocol !== 'tcp') throw new ControlError('EINVAL', `cannot listen on "${protocol}": use ws or tcp`)
  const host = p.host === undefined ? '127.0.0.1' : str(p, 'host')
  return { protocol, host, port: optInt(p, 'port', 0, 65535) ?? 0 }
}

export const listen = single('listen', listenParams, async (ctx, { protocol, host, port }): Promise<ServerRow> => ctx.services.listen(protocol, host, port))

/** By the name listen printed, which may be bound to every interface (ws://0.0.0.0:P). */
export const unlisten = single('unlisten', p => invalid(() => parseAddress(str(p, 'address'), { local: true }).href), async (ctx, address): Promise<AddressRow> => {
  if (!await ctx.services.unlisten(address)) throw new ControlError('ENOENT', `no service at ${address} (see peernet servers)`)
  return { address }
})

export const servers = listing('servers', (ctx): ServerRow[] => ctx.services.rows())

export const own = listing('own', (ctx): AddressRow[] => ctx.node.addresses().map(address => ({ address })))
