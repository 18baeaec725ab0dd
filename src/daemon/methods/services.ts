// This node's services (see ../services.ts): listen opens one, unlisten closes one, servers
// lists them, own lists the addresses peers are told (open services and --advertise).
import { isAbsolute } from 'node:path'
import { parseAddress } from '../../transport/address.js'
import { SERVICE_PROTOCOLS, type ServiceProtocol } from '../../transport/index.js'
import type { AddressRow, ServerRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { str, optInt, invalid, type Params } from '../params.js'
import { listing, single } from './method.js'

interface ListenParams { protocol: ServiceProtocol, host: string, port: number, files: { cert?: string, key?: string } }

function listenParams (p: Params): ListenParams {
  const protocol = str(p, 'protocol') as ServiceProtocol
  if (!SERVICE_PROTOCOLS.includes(protocol)) throw new ControlError('EINVAL', `cannot listen on "${protocol}": use ws, wss or tcp`)
  const host = p.host === undefined ? '127.0.0.1' : str(p, 'host')
  return { protocol, host, port: optInt(p, 'port', 0, 65535) ?? 0, files: tlsParams(p, protocol) }
}

/** cert and key: absolute paths (the daemon's working directory is not the client's), for wss only. */
function tlsParams (p: Params, protocol: ServiceProtocol): { cert?: string, key?: string } {
  if (protocol !== 'wss') {
    if (p.cert !== undefined || p.key !== undefined) throw new ControlError('EINVAL', `params.cert and params.key are for wss, not ${protocol}`)
    return {}
  }
  const path = (key: string): string => {
    const v = str(p, key)
    if (!isAbsolute(v)) throw new ControlError('EINVAL', `params.${key} must be an absolute path (the daemon does not share the client's working directory)`)
    return v
  }
  return { cert: path('cert'), key: path('key') }
}

export const listen = single('listen', listenParams, async (ctx, { protocol, host, port, files }): Promise<ServerRow> => ctx.services.listen(protocol, host, port, files))

/** By the name listen printed, which may be bound to every interface (ws://0.0.0.0:P). */
export const unlisten = single('unlisten', p => invalid(() => parseAddress(str(p, 'address'), { local: true }).href), async (ctx, address): Promise<AddressRow> => {
  if (!await ctx.services.unlisten(address)) throw new ControlError('ENOENT', `no service at ${address} (see peernet servers)`)
  return { address }
})

export const servers = listing('servers', (ctx): ServerRow[] => ctx.services.rows())

export const own = listing('own', (ctx): AddressRow[] => ctx.node.addresses().map(address => ({ address })))
