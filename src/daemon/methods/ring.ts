// owner and ring: the node responsible for a value (a lookup over the ring), and this node's
// place on the ring (its status, neighbours and fingers, as it knows them; no message sent).
import { MAX_OWNER_VALUE, type OwnerRow, type RingRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { str, type Params } from '../params.js'
import { single, none } from './method.js'

function ownerValue (p: Params): string {
  const value = str(p, 'value')
  if (value === '') throw new ControlError('EINVAL', 'params.value must not be empty')
  if (value.length > MAX_OWNER_VALUE) throw new ControlError('EINVAL', `params.value is longer than ${MAX_OWNER_VALUE} characters (MAX_OWNER_VALUE)`)
  return value
}

export const owner = single('owner', ownerValue, async (ctx, value): Promise<OwnerRow> => {
  const e = await ctx.node.getEndpointFor(value)
  return { value, id: e.id, addresses: e.addresses, metadata: e.metadata, hops: e.hops }
})

export const ring = single('ring', none, async (ctx): Promise<RingRow> => ctx.node.ringInfo())
