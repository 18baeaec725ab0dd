// The live connections: connections lists them, connect opens one, disconnect closes one.
import { normalizeAddress } from '../../transport/address.js'
import type { AddressRow, ConnectionRow } from '../../control/protocol.js'
import { humanize } from '../../control/errors.js'
import { ControlError } from '../control.js'
import { str, invalid } from '../params.js'
import { listing, single } from './method.js'

export const connections = listing('connections', (ctx): ConnectionRow[] => ctx.node.peerList())

export const connect = single('connect', p => invalid(() => normalizeAddress(str(p, 'address'))), async (ctx, address): Promise<AddressRow> => {
  try {
    await ctx.node.connect(address)
  } catch (err) {
    throw new ControlError('ECONNECT', humanize((err as Error).message))
  }
  return { address }
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
