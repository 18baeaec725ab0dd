// Subnets this node answers searches for: join and part say what changed (a subnet joined
// before, or never joined, is named as such); subnets lists them.
import { checkSubnet } from '../../wire/messages.js'
import type { JoinRow, PartRow, SubnetRow } from '../../control/protocol.js'
import type { Peernet } from '../../node/node.js'
import { list, invalid, type Params } from '../params.js'
import { listing, single } from './method.js'

const subnetList = (p: Params): string[] => list(p, 'subnets').map(s => invalid(() => checkSubnet(s)))

/** The names asked for that did not change. */
function rest (asked: string[], changed: string[]): string[] {
  const done = new Set(changed)
  return [...new Set(asked)].filter(s => !done.has(s))
}

export const join = single('join', subnetList, async (ctx, subnets): Promise<JoinRow> => {
  const joined = await ctx.node.join(subnets)
  return { subnets, joined, already: rest(subnets, joined) }
})

export const part = single('part', subnetList, async (ctx, subnets): Promise<PartRow> => {
  const parted = await ctx.node.part(subnets)
  return { subnets, parted, notJoined: rest(subnets, parted) }
})

async function * joined (node: Peernet): AsyncGenerator<SubnetRow> {
  for await (const { key } of node.subnets()) yield { subnet: key }
}

export const subnets = listing('subnets', ctx => joined(ctx.node))
