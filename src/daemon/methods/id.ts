// id: this node's id, its public key (the daemon's key file, DATADIR/key).
import type { IdRow } from '../../control/protocol.js'
import { single, none } from './method.js'

export const id = single('id', none, async (ctx): Promise<IdRow> => ({ id: ctx.node.id }))
