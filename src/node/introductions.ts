// Introductions (peer-exchange's getNewPeer): ask a connected peer, the introducer, for one of
// its peers, and link to that one with the signalling relayed by the introducer. Every node is a
// "hub" this way, not a few servers. The asker runs `peernet.introduce` on the introducer over
// their link; the introducer answers with a sample of its other peers, each {id, addresses}
// (their own hello's word); the asker then reaches one it has no link to by reach.ts's steps:
// its signed presence record, else the addresses the introducer named (dialed as ID@ADDR, so
// only that key will do), else a dial-back whose request goes through the introducer. The new
// link is a normal peer link: encrypted to the new peer's key end to end, counted, gossiped.
import { KeyedBuckets, TokenBucket, takeBoth } from '../util/rate.js'
import { tryNormalizeAddress, NODE_ID } from '../transport/address.js'
import { sample } from '../util/random.js'
import { MAX_HELLO_ADDRS } from '../wire/messages.js'
import type { PeerSet } from './peers.js'
import type { Reach, Reached } from './reach.js'
import type { NodeContext } from './types.js'

/** The action an introduction request runs on the introducer (under RESERVED_PREFIX: the library's own). */
export const INTRODUCE_ACTION = 'peernet.introduce'
/** Peers an introducer names in one answer: enough to skip those the asker is linked to already. */
export const MAX_INTRODUCED = 8
/**
 * Introductions one asker may get from a node, per second, and the burst: a node grows its
 * links a few at a time; one asking more is scraping the introducer's peer list.
 */
export const INTRODUCE_RATE = 0.5
export const INTRODUCE_BURST = 5
/** Introductions a node gives per second in all, and the burst (ids cost nothing). */
export const INTRODUCE_TOTAL_RATE = 10
export const INTRODUCE_TOTAL_BURST = 50
/** Askers whose introduction rate is remembered (past it the least recent is forgotten). */
export const MAX_INTRODUCE_ASKERS = 1024
/**
 * Ids of its own links an asker may list for the introducer to leave out, so a sample is not
 * spent on peers it has: its links beyond these (a node keeps a few dozen) are left to chance.
 */
export const MAX_INTRODUCE_EXCLUDE = 64
/** How long the introducer may take to answer, ms: one round trip over a live link. */
export const INTRODUCE_TIMEOUT = 5_000

export interface Introduced { id: string, addresses: string[] }
export interface Introduction extends Reached { introducer: string }

/** Why x is no introducer's answer, or null: an array of at most MAX_INTRODUCED {id, addresses}. */
export function introducedProblem (x: unknown): string | null {
  if (!Array.isArray(x)) return 'the answer is not a list of peers'
  if (x.length > MAX_INTRODUCED) return `the answer names more than MAX_INTRODUCED (${MAX_INTRODUCED}) peers`
  for (const p of x as unknown[]) {
    if (p === null || typeof p !== 'object') return 'a peer in the answer is not an object'
    const { id, addresses } = p as { id?: unknown, addresses?: unknown }
    if (typeof id !== 'string' || !NODE_ID.test(id)) return 'a peer in the answer has no valid id'
    if (!Array.isArray(addresses) || addresses.length > MAX_HELLO_ADDRS || !addresses.every(a => typeof a === 'string' && tryNormalizeAddress(a) !== null)) return 'a peer in the answer has invalid addresses'
  }
  return null
}

export interface IntroductionParts {
  reach: Reach
  /** Run a remote action on a linked peer (the node's NodeActions.run). */
  run: (id: string, name: string, payload: unknown, timeout: number) => Promise<unknown>
  /** Whether this node introduces others (option `introductions`, default true). */
  enabled: boolean
  /** Whether the user disconnected peer id lately (held off: no introduction brings it back). */
  held: (id: string) => boolean
}

export class Introductions {
  private readonly perAsker: KeyedBuckets
  private readonly total: TokenBucket

  constructor (private readonly ctx: NodeContext, private readonly peers: PeerSet, private readonly parts: IntroductionParts) {
    const now = (): number => ctx.clock.now()
    this.perAsker = new KeyedBuckets(INTRODUCE_RATE, INTRODUCE_BURST, MAX_INTRODUCE_ASKERS, now)
    this.total = new TokenBucket(INTRODUCE_TOTAL_RATE, INTRODUCE_TOTAL_BURST, now)
  }

  /**
   * A new peer through `introducer` (a linked peer's id; a random linked peer when undefined):
   * the first of the peers it names that this node has no link to and can reach.
   */
  async getNewPeer (introducer?: string): Promise<Introduction> {
    const linked = [...this.peers].filter(c => c.peerId !== '').map(c => c.peerId)
    if (linked.length === 0) throw new Error('no connected peer to ask for an introduction')
    const by = introducer ?? linked[Math.floor(this.ctx.random() * linked.length)]
    if (this.peers.get(by) === undefined) throw new Error(`not connected to ${by}: an introducer must be a connected peer`)
    const have = linked.filter(id => id !== by).slice(0, MAX_INTRODUCE_EXCLUDE)
    const answer = await this.parts.run(by, INTRODUCE_ACTION, { have }, INTRODUCE_TIMEOUT)
    const why = introducedProblem(answer)
    if (why !== null) throw new Error(`${by} gave no introduction: ${why}`)
    const fresh = (answer as Introduced[]).filter(p => this.peers.get(p.id) === undefined && p.id !== this.ctx.table.id && !this.parts.held(p.id))
    if (fresh.length === 0) throw new Error(`${by} knows no peer this node has no link to`)
    const tried: string[] = []
    for (const p of fresh) {
      try {
        return { ...await this.parts.reach.connect(p.id, { via: by, addresses: p.addresses }), introducer: by }
      } catch (err) {
        tried.push((err as Error).message)
      }
    }
    throw new Error(`no introduced peer could be reached: ${tried.join('; ')}`)
  }

  /**
   * The introducer's side: a sample of its other peers for `from`, leaving out those the
   * request's `have` lists (the asker's own links), or a refusal (thrown).
   */
  introduce (from: string, payload: unknown): Introduced[] {
    if (!this.parts.enabled) throw new Error('this node does not introduce peers (introductions: false)')
    if (this.peers.get(from) === undefined) throw new Error('introductions are for connected peers')
    const have = (payload as { have?: unknown } | null)?.have ?? []
    if (!Array.isArray(have) || have.length > MAX_INTRODUCE_EXCLUDE || !have.every(id => typeof id === 'string')) throw new Error(`have must list at most MAX_INTRODUCE_EXCLUDE (${MAX_INTRODUCE_EXCLUDE}) ids`)
    const skip = new Set<string>(have as string[])
    const over = takeBoth(this.total, this.perAsker, from)
    if (over === 'busy') throw new Error(`busy: over INTRODUCE_TOTAL_RATE (${INTRODUCE_TOTAL_RATE} a second in all)`)
    if (over === 'refused') throw new Error(`refused: over INTRODUCE_RATE (${INTRODUCE_RATE} a second, burst ${INTRODUCE_BURST}) for this peer`)
    const others = [...this.peers].filter(c => c.peerId !== '' && c.peerId !== from && !skip.has(c.peerId))
    // A random sample: the same asker asking again meets other peers.
    return sample(this.ctx.random, others, MAX_INTRODUCED).map(c => ({
      id: c.peerId,
      addresses: [...new Set([c.address, ...c.offered].filter((a): a is string => typeof a === 'string'))].slice(0, MAX_HELLO_ADDRS)
    }))
  }
}
