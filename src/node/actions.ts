// Remote actions on a node: ring/actions.ts's RemoteActions wired to the ring's routed lookups
// and to the dialer. A run's target is an id (the request is routed over the ring, or over a
// live link to that id when there is one) or ID@ADDR (a link to ADDR, dialed with the id pinned
// when there is none, then that link). Handlers may be added before the node is ready: they
// wait in the map RemoteActions is given once the ring starts.
import { RemoteActions, ActionError, addHandler, reservedProblem, RUN_TIMEOUT, type ActionHandler } from '../ring/actions.js'
import type { EnvelopeAnswer } from '../ring/protocol.js'
import type { Envelope } from '../wire/record.js'
import { parsePinned } from '../transport/address.js'
import type { RingLinks } from './ring.js'
import type { Dialer } from './dialer.js'
import type { PeerSet } from './peers.js'
import type { KeyPair } from './identity.js'
import type { NodeContext } from './types.js'

const ID = /^[0-9a-fA-F]{64}$/

export interface RunOptions {
  /** How long to wait for the reply, ms (default RUN_TIMEOUT, at most MAX_ENVELOPE_TTL). */
  timeout?: number
}

/** The target of a run: an id, and an address to reach it at when given as ID@ADDR. */
export function parseTarget (target: unknown): { id: string, address: string | null } {
  if (typeof target === 'string' && ID.test(target)) return { id: target.toLowerCase(), address: null }
  if (typeof target !== 'string' || !target.includes('@')) throw new TypeError('run: the target must be a node id (64 hex digits) or ID@ADDR')
  const { id, address } = parsePinned(target)
  if (id === null) throw new TypeError('run: the target must be a node id (64 hex digits) or ID@ADDR')
  return { id, address }
}

export class NodeActions {
  private readonly handlers = new Map<string, ActionHandler>()
  private remote: RemoteActions | null = null
  private ring: RingLinks | null = null

  constructor (private readonly ctx: NodeContext, private readonly peers: PeerSet, private readonly dialer: Dialer) {}

  /** The ring started (it needs the key pair): runs may go, requests may come. */
  attach (ring: RingLinks, keyPair: KeyPair): void {
    this.ring = ring
    this.remote = new RemoteActions({
      keyPair,
      random: this.ctx.random,
      now: () => this.ctx.clock.now(),
      handlers: this.handlers,
      route: (e, cb, via) => this.route(e, cb, via)
    })
  }

  handle (name: string, fn: ActionHandler): () => void {
    return addHandler(this.handlers, name, fn)
  }

  unhandle (name: string): boolean {
    if (reservedProblem(name) !== null) return false
    return this.handlers.delete(name)
  }

  /** The library's own handler of a reserved action (messages, dial-back, introductions), which handle() refuses. */
  internal (name: string, fn: ActionHandler): void {
    this.handlers.set(name, fn)
  }

  /** The node is closing: runs still waiting end now (the ring's clock that would time them out stops). */
  close (): void {
    this.remote?.close(new Error('peernet is closed'))
  }

  /** A request envelope for this node (the ring's onEnvelope). */
  receive (e: Envelope): EnvelopeAnswer | Promise<EnvelopeAnswer> {
    return this.remote?.receive(e) ?? null
  }

  async run (target: string, name: string, payload: unknown, opts: RunOptions = {}): Promise<unknown> {
    const { id, address } = parseTarget(target)
    const why = typeof name === 'string' ? reservedProblem(name) : null
    if (why !== null) throw new TypeError(`run: ${why}`)
    const remote = await this.remoteOnce('run')
    if (address !== null && this.peers.get(id) === undefined) {
      try {
        await this.dialer.dialPeer(id, [address])
      } catch (err) {
        throw new ActionError(`run ${String(name)} on ${id.slice(0, 12)}…: ${(err as Error).message}`, 'unreachable')
      }
    }
    return await remote.run(id, name, payload, opts.timeout ?? RUN_TIMEOUT)
  }

  /**
   * A request of the library's own (a message, a dial-back, an introduction) to node id, over a
   * live link to it when there is one, else through `via` when that is a linked peer (an
   * introducer), else routed: RemoteActions.ask, once the node is ready.
   */
  async ask (id: string, name: string, payload: unknown, timeout: number, verb: string, via?: string): Promise<unknown> {
    const remote = await this.remoteOnce(verb)
    return await remote.ask(id, name, payload, timeout, verb, via)
  }

  /** This node's RemoteActions once it is ready; an error when it is closed or not on the ring. */
  private async remoteOnce (verb: string): Promise<RemoteActions> {
    await this.ctx.ready
    if (this.ctx.closing) throw new Error('peernet is closed')
    if (this.remote === null) throw new Error(`${verb}: this node is not on the ring (opts.ring is false)`)
    return this.remote
  }

  /** This node's id once ready ('' before, or off the ring). */
  get id (): string { return this.remote?.id ?? '' }

  /**
   * Over the live link to the target when there is one (a direct link), else through `via` when
   * linked (an introducer), else routed over the ring.
   */
  private route (e: Envelope, cb: (err: Error | null, reply?: Envelope) => void, via?: string): void {
    const core = this.ring?.core
    if (core === undefined) return cb(new Error('this node is not on the ring'))
    const first = core.table.isLinked(e.to) ? e.to : via !== undefined && core.table.isLinked(via) ? via : undefined
    core.lookup(e.to, 'deliver', (err, res) => cb(err, res?.envelope), { envelope: e }, first)
  }
}
