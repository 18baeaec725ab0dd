// This node's services (see ../services.ts): listen opens one, unlisten closes one, servers
// lists them, own lists the addresses peers are told (open services and --advertise).
import { isAbsolute } from 'node:path'
import { parseAddress } from '../../transport/address.js'
import { parseStunUrl } from '../../stun/url.js'
import { LISTEN_PROTOCOLS, type ListenProtocol } from '../services.js'
import type { AddressRow, ServerRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { str, optInt, invalid, type Params } from '../params.js'
import { listing, single } from './method.js'

interface ListenParams { protocol: ListenProtocol, host: string, port: number, files: { cert?: string, key?: string } }

function listenParams (p: Params): ListenParams {
  const protocol = str(p, 'protocol') as ListenProtocol
  if (!LISTEN_PROTOCOLS.includes(protocol)) throw new ControlError('EINVAL', `cannot listen on "${protocol}": use ws, wss, tcp or stun`)
  const host = p.host === undefined ? '127.0.0.1' : str(p, 'host')
  return { protocol, host, port: optInt(p, 'port', 0, 65535) ?? 0, files: tlsParams(p, protocol) }
}

/** cert and key: absolute paths (the daemon's working directory is not the client's), for wss only. */
function tlsParams (p: Params, protocol: ListenProtocol): { cert?: string, key?: string } {
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

/** By the name listen printed, which may be bound to every interface (ws://0.0.0.0:P), or stun:HOST:PORT. */
export const unlisten = single('unlisten', p => invalid(() => serviceName(str(p, 'address'))), async (ctx, address): Promise<AddressRow> => {
  if (!await ctx.services.unlisten(address)) throw new ControlError('ENOENT', `no service at ${address} (see peernet servers)`)
  return { address }
})

function serviceName (address: string): string {
  return /^stun:/i.test(address) ? parseStunUrl(address).href : parseAddress(address, { local: true }).href
}

export const servers = listing('servers', (ctx): ServerRow[] => ctx.services.rows())

export const own = listing('own', (ctx): AddressRow[] => ctx.node.addresses().map(address => ({ address })))
