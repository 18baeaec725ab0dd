// The address table by hand: add and rm say what changed (a user who re-adds or removes an
// unknown address is told so, not "done"); stats shows what is known of one address.
import { normalizeAddress, parsePinned, formatPinned } from '../../transport/address.js'
import type { AddRow, RmRow, StatsRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { list, str, invalid, type Params } from '../params.js'
import { single, type DaemonContext } from './method.js'

const addresses = (p: Params): string[] => list(p, 'addresses').map(a => invalid(() => normalizeAddress(a)))
/** add takes ID@ADDR too (the address is pinned to that id); `distinct` counts addresses, not pins. */
function pinnedAddresses (p: Params): { entries: string[], distinct: number } {
  const plain = new Set<string>()
  const entries = list(p, 'addresses').map(a => invalid(() => {
    const pinned = parsePinned(a)
    plain.add(pinned.address)
    return formatPinned(pinned)
  }))
  return { entries, distinct: plain.size }
}

export const add = single('add', pinnedAddresses, async (ctx, { entries, distinct }): Promise<AddRow> => {
  const added = (await ctx.node.save(entries)).length
  return { count: entries.length, added, already: distinct - added }
})

export const rm = single('rm', addresses, async (ctx, addresses): Promise<RmRow> => {
  const removed = (await ctx.node.remove(addresses)).length
  return { count: addresses.length, removed, unknown: new Set(addresses).size - removed }
})

/** `stats` takes an address, or the id of a connected peer (as `disconnect` does). */
function statsAddress (ctx: DaemonContext, given: string): string {
  if (given.includes('://')) return given
  const peer = ctx.node.peerList().find(p => p.id === given)
  if (!peer) throw new ControlError('ENOENT', `no connected peer has the id ${given.slice(0, 80)} (see peernet connections --json)`)
  if (peer.address === null) throw new ControlError('ENOENT', `peer ${given} has no address to keep statistics under (it dialed us and told none)`)
  return peer.address
}

/** An address is checked with the params; an id is looked up among the peers when it runs. */
function statsParams (p: Params): string {
  const given = str(p, 'address')
  return given.includes('://') ? invalid(() => normalizeAddress(given)) : given
}

export const stats = single('stats', statsParams, async (ctx, given): Promise<StatsRow> => {
  const address = statsAddress(ctx, given)
  const s = await ctx.node.getStats(address)
  const connected = ctx.node.peerList().some(p => p.address === address)
  if (s.first === null && !connected) throw new ControlError('ENOENT', `nothing is known about ${address}: it is not in the table (see peernet known)`)
  return s
})
