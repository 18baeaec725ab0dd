// The live connections: connections lists them, connect opens one, disconnect closes one.
import { parsePinned, formatPinned, NETWORK_SCHEMES } from '../../transport/address.js'
import type { AddressRow, ConnectionRow, ConnectRow } from '../../control/protocol.js'
import { humanize } from '../../control/errors.js'
import { ControlError } from '../control.js'
import { str, invalid } from '../params.js'
import { listing, single } from './method.js'

export const connections = listing('connections', (ctx): ConnectionRow[] => ctx.node.peerList())

/** ADDR, or ID@ADDR: the node checks the key that answers (identity mismatch: ECONNECT). */
export const connect = single('connect', p => invalid(() => parsePinned(str(p, 'address'), { schemes: NETWORK_SCHEMES })), async (ctx, pinned): Promise<ConnectRow> => {
  try {
    await ctx.node.connect(formatPinned(pinned))
  } catch (err) {
    throw new ControlError('ECONNECT', humanize((err as Error).message))
  }
  const peer = ctx.node.peerList().find(p => p.address === pinned.address)
  return { address: pinned.address, id: peer?.id ?? null }
})

/** By address or by the id of a connected peer: the node tells which. */
export const disconnect = single('disconnect', p => str(p, 'address'), async (ctx, address): Promise<AddressRow> => {
  try {
    await ctx.node.disconnect(address)
  } catch (err) {
    throw new ControlError('ENOTCONN', (err as Error).message)
  }
  return { address }
})
