// Connect by id: a link to a node known only by its id (linkup's "nothing but an id"). The
// steps, in order, each under its own deadline, until one gives a link:
//   1. dial: the node's presence record, fetched from the ring and signed by its key, names its
//      addresses; each is dialed as ID@ADDR, so only that key will do;
//   2. dial-back: for a node that cannot be dialed (it only dials out, or sits behind a NAT), a
//      signed request routed over the ring asks it to dial us. It dials only the addresses of
//      OUR presence record (its own lookup, signed by our key), each as OUR_ID@ADDR, under a rate
//      per requester and in all: never an address a request names, so nobody can make a node
//      dial a victim (a reflector, a port scanner) by asking;
//   3. webrtc: when neither can dial the other, a WebRTC channel whose signals go over the ring
//      (node/webrtc-links.ts); the peer's candidates pass the same address checks as a dial;
//   4. relay: last, a circuit through a peer both are linked to (node/relay.ts), which the node
//      asked consents to and names.
// Whatever the path, the link runs the Noise handshake with the target's key end to end: a
// lying presence record or a node on the route can make a step fail, never stand in for it.
import { KeyedBuckets, TokenBucket, takeBoth } from '../util/rate.js'
import { RELAY_TIMEOUT } from './relay.js'
import type { RingLinks } from './ring.js'
import type { Dialer } from './dialer.js'
import type { PeerSet } from './peers.js'
import type { NodeContext } from './types.js'

/** How long the presence lookup may take, ms: a routed fetch answers in well under a second; retries included. */
export const PRESENCE_TIMEOUT = 8_000
/**
 * How long the dial step may take in all, ms: one HANDSHAKE_TIMEOUT's worth. An address that
 * does not answer (a firewall dropping SYNs) must not hold up the dial-back behind it.
 */
export const DIAL_TIMEOUT = 10_000
/**
 * How long the dial-back may take, ms: the request's route, the target's own lookup of our
 * presence (PRESENCE_TIMEOUT), its dials, and the reply's route back.
 */
export const DIALBACK_TIMEOUT = 20_000
/** After the dial-back's reply, how long our side may still be finishing its handshake, ms. */
export const LINK_SETTLE = 2_000
/** The action a dial-back request runs (under RESERVED_PREFIX: the library's own). */
export const DIALBACK_ACTION = 'peernet.dial-back'
/**
 * Dial-backs one requester may ask for, per second, and its burst: a node that wants a link
 * asks once, and again after a failure; a requester asking more only wants our traffic.
 */
export const DIALBACK_RATE = 0.1
export const DIALBACK_BURST = 3
/** Dial-backs a node makes per second in all, and the burst: what many ids (free to make) can get out of it together. */
export const DIALBACK_TOTAL_RATE = 2
export const DIALBACK_TOTAL_BURST = 10
/** Requesters whose dial-back rate is remembered (past it the least recent is forgotten: see KeyedBuckets). */
export const MAX_DIALBACK_SENDERS = 1024

export type ReachPath = 'linked' | 'dial' | 'dial-back' | 'webrtc' | 'relay'

export interface Reached { id: string, path: ReachPath, address: string | null }

/** The parts Reach needs of the node. */
export interface ReachParts {
  ring: () => RingLinks | null
  /** Run a remote action on id over the ring, through the linked peer `via` when given (the node's NodeActions.run). */
  run: (id: string, name: string, payload: unknown, timeout: number, via?: string) => Promise<unknown>
  /** Whether this node takes links from introductions (option `introductions`, default true). */
  introductions: boolean
  /** A WebRTC link to id, signalled over the ring (through `via` first when given): node/webrtc-links.ts. */
  webrtc: (id: string, via?: string) => Promise<void>
  /** A relayed link to id, its consent asked over the ring (through `via` first when given): node/relay.ts. */
  relay: (id: string, via?: string) => Promise<void>
  /** Resolves true once a link to id is open, false after ms. */
  linked: (id: string, ms: number) => Promise<boolean>
  /** This node's own addresses as its presence record gives them (none: nobody can dial it back). */
  own: () => readonly string[]
}

/** Rejects with Error(what) after ms unless p settles first. */
export function within<T> (ctx: NodeContext, p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = ctx.clock.setTimeout(() => reject(new Error(what)), ms)
    p.then(v => { ctx.clock.clearTimeout(t); resolve(v) }, (err: unknown) => { ctx.clock.clearTimeout(t); reject(err as Error) })
  })
}

export class Reach {
  private readonly perRequester: KeyedBuckets
  private readonly total: TokenBucket

  constructor (private readonly ctx: NodeContext, private readonly peers: PeerSet, private readonly dialer: Dialer, private readonly parts: ReachParts) {
    const now = (): number => ctx.clock.now()
    this.perRequester = new KeyedBuckets(DIALBACK_RATE, DIALBACK_BURST, MAX_DIALBACK_SENDERS, now)
    this.total = new TokenBucket(DIALBACK_TOTAL_RATE, DIALBACK_TOTAL_BURST, now)
  }

  /** The addresses of node id's presence record (verified), or null when the ring holds none. */
  private async presence (id: string): Promise<string[] | null> {
    const ring = this.parts.ring()
    if (ring === null) throw new Error('this node is not on the ring (opts.ring is false)')
    return await within(this.ctx, ring.presenceOf(id), PRESENCE_TIMEOUT, 'the presence lookup timed out')
  }

  /**
   * A link to node id by the steps above; rejects naming every step tried and how it ended.
   * Through an introducer (`via`, a linked peer of id's): the addresses it named for id are
   * dialed too (after the presence record's, and as ID@ADDR all the same), and the dial-back
   * request goes through it.
   */
  async connect (id: string, opts: { via?: string, addresses?: readonly string[] } = {}): Promise<Reached> {
    if (this.peers.get(id) !== undefined) return { id, path: 'linked', address: this.peers.get(id)?.address ?? null }
    const tried: string[] = []
    let presence: string[] | null = null
    try {
      presence = await this.presence(id)
    } catch (err) {
      tried.push(`presence lookup failed (${(err as Error).message})`)
    }
    if (presence === null && tried.length === 0) tried.push('no presence record')
    if (presence !== null && presence.length === 0) tried.push('its presence record lists no address')
    const addresses = [...new Set([...presence ?? [], ...opts.addresses ?? []])]
    if (addresses.length > 0) {
      try {
        await within(this.ctx, this.dialer.dialPeer(id, addresses), DIAL_TIMEOUT, 'timed out')
        return { id, path: 'dial', address: this.peers.get(id)?.address ?? null }
      } catch (err) {
        tried.push(`dial (${addresses.length} address${addresses.length === 1 ? '' : 'es'}) failed: ${(err as Error).message}`)
      }
    }
    if (this.peers.get(id) !== undefined) return { id, path: 'linked', address: this.peers.get(id)?.address ?? null }
    // A node with no address of its own cannot be dialed back: asking would only spend the
    // target's dial-back allowance (and say nothing of whether the id exists).
    if (this.parts.own().length === 0 && presence !== null) {
      tried.push('no dial-back (this node has no address to be dialed at)')
    } else {
      try {
        await this.parts.run(id, DIALBACK_ACTION, opts.via === undefined ? null : { introduced: true }, DIALBACK_TIMEOUT, opts.via)
        if (await this.parts.linked(id, LINK_SETTLE)) return { id, path: 'dial-back', address: this.peers.get(id)?.address ?? null }
        tried.push('dial-back: it reported a link that never opened here')
      } catch (err) {
        // No record, and the ring routes the id to another node: nobody holds that id. (A
        // routing loop says less: two nodes that only dial out, side by side on the ring, loop.)
        if (presence === null && opts.via === undefined && /no node with that id/.test((err as Error).message)) throw new Error(`no route to ${id}: not found (no presence record, and no node with that id on the ring)`)
        tried.push(`dial-back ${dialBackWords(err as Error)}`)
      }
    }
    if (this.peers.get(id) !== undefined) return { id, path: 'linked', address: this.peers.get(id)?.address ?? null }
    // Neither side could dial the other (both only dial out, or sit behind NATs): a WebRTC
    // channel, its offer and answer carried over the ring, finds a way between them.
    try {
      await this.parts.webrtc(id, opts.via)
      return { id, path: 'webrtc', address: null }
    } catch (err) {
      tried.push(`webrtc failed: ${(err as Error).message}`)
    }
    if (this.peers.get(id) !== undefined) return { id, path: 'linked', address: this.peers.get(id)?.address ?? null }
    // Last: through a peer both are linked to, at the relay's rate.
    try {
      await within(this.ctx, this.parts.relay(id, opts.via), RELAY_TIMEOUT, 'timed out')
      return { id, path: 'relay', address: null }
    } catch (err) {
      tried.push(`relay failed: ${(err as Error).message.replace(/^run \S+ on \S+: /, '')}`)
    }
    throw new Error(`no route to ${id}: ${tried.join(', ')}`)
  }

  /** A direct link to id at the addresses of its presence record (the first step alone: a relay to reach). */
  async dial (id: string): Promise<void> {
    const addresses = await this.presence(id)
    if (addresses === null || addresses.length === 0) throw new Error('no address to dial it at')
    await within(this.ctx, this.dialer.dialPeer(id, addresses), DIAL_TIMEOUT, 'the dial timed out')
  }

  /**
   * The dial-back action's handler on the node asked: checks, then a link to the requester at
   * the addresses of its own presence record, as FROM@ADDR. Throws (an error reply) on refusal.
   */
  async dialBack (from: string, payload: unknown): Promise<{ linked: true }> {
    if (this.peers.get(from) !== undefined) return { linked: true }
    // A peer this node's user disconnected: the dial would reach it, and the handshake here
    // would then drop the link, after the requester's side had already counted it as opened.
    const held = this.dialer.holds.until(from)
    if (held !== null) throw new Error(`refused: ${this.dialer.holds.refusal(held).bye}`)
    const introduced = payload !== null && typeof payload === 'object' && (payload as { introduced?: unknown }).introduced === true
    if (introduced && !this.parts.introductions) throw new Error('refused: this node takes no links from introductions (introductions: false)')
    // A busy refusal spends none of the requester's allowance, nor its own refusal any of the total.
    const over = takeBoth(this.total, this.perRequester, from)
    if (over === 'busy') throw new Error(`busy: over DIALBACK_TOTAL_RATE (${DIALBACK_TOTAL_RATE} a second in all)`)
    if (over === 'refused') throw new Error(`refused: over DIALBACK_RATE (one per ${1 / DIALBACK_RATE} s, burst ${DIALBACK_BURST}) for this requester`)
    const addresses = await this.presence(from)
    if (addresses === null || addresses.length === 0) throw new Error('your presence record lists no address to dial back')
    await within(this.ctx, this.dialer.dialPeer(from, addresses), DIAL_TIMEOUT, 'the dial timed out')
    return { linked: true }
  }
}

/** How a dial-back failed, in the words of `no route to …` (the run's error says most of it). */
function dialBackWords (err: Error): string {
  const code = (err as Error & { code?: string }).code
  const why = err.message.replace(/^run \S+ on \S+: /, '')
  if (code === 'timeout') return 'timed out'
  if (code === 'unreachable') return `could not reach it (${why})`
  return `failed: ${why}`
}
