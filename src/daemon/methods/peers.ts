// The live connections: connections lists them, connect opens one, introduce gets one through
// another, disconnect closes one.
import { parsePinned, formatPinned, NETWORK_SCHEMES, NODE_ID } from '../../transport/address.js'
import type { AddressRow, ConnectionRow, ConnectRow, IntroduceRow } from '../../control/protocol.js'
import { humanize } from '../../control/errors.js'
import { ControlError } from '../control.js'
import { str, invalid } from '../params.js'
import { listing, single } from './method.js'

export const connections = listing('connections', (ctx): ConnectionRow[] => ctx.node.peerList())

/**
 * ADDR, or ID@ADDR: the node checks the key that answers (identity mismatch: ECONNECT). An ID
 * alone: the node finds it through the ring (no route: ECONNECT, naming every path tried).
 */
export const connect = single('connect', p => invalid(() => {
  const a = str(p, 'address')
  return NODE_ID.test(a.toLowerCase()) ? a.toLowerCase() : formatPinned(parsePinned(a, { schemes: NETWORK_SCHEMES }))
}), async (ctx, target): Promise<ConnectRow> => {
  try {
    const r = await ctx.node.connect(target)
    return { address: r.address, id: r.id, path: r.path }
  } catch (err) {
    throw new ControlError('ECONNECT', humanize((err as Error).message))
  }
})

/** A new peer through a connected one (named by address or id; any when absent): ECONNECT when none. */
export const introduce = single('introduce', p => p.peer === undefined ? undefined : str(p, 'peer'), async (ctx, peer): Promise<IntroduceRow> => {
  try {
    const r = await ctx.node.getNewPeer(peer)
    return { id: r.id, address: r.address, path: r.path, introducer: r.introducer }
  } catch (err) {
    throw new ControlError('ECONNECT', humanize((err as Error).message))
  }
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
