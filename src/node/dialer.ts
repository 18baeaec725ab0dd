// The dialer: opens outbound links, keeps `connections` of them by drawing addresses from the
// table (which applies the backoff after failures), keeps the user's holds, and books how each
// dial ended. What is said on a link once it is open is the handshake's business.
import type { Duplex } from 'node:stream'
import { Connection, type CloseInfo, type Expected, mismatchReason } from './connection.js'
import { Holds } from './holds.js'
import type { PeerSet } from './peers.js'
import type { OwnAddresses } from './own.js'
import type { NodeContext } from './types.js'
import { parseAddress, tryNormalizeAddress } from '../transport/address.js'
import type { LinkStream } from './secure.js'

/** How often the node tops up its connections from the table, ms. */
export const DEFAULT_DIAL_INTERVAL = 1000
/** Most dials in progress at once. */
export const MAX_PENDING_DIALS = 8
/** Most of a peer's addresses dialPeer tries, one after another (a hello carries MAX_HELLO_ADDRS). */
export const MAX_PEER_ADDRESSES = 4

/** Close reasons that end a dial without counting against the address. */
export const DUPLICATE = 'duplicate connection'
export const SELF = 'connected to itself'

export interface DialerOptions {
  /** Resolves an address to a duplex stream. */
  transport: (address: string) => Duplex
  /** Outbound links to keep. */
  connections: number
  /** Hands a new link to the node (handshake, messages). */
  attach: (c: Connection) => void
  /** The secure link over a stream we dialed (secure.ts). */
  secure: (raw: Duplex) => LinkStream
  /** A dial ended, its link open or not (searches waiting on the node's first links look again). */
  settled?: () => void
}

export class Dialer {
  readonly holds: Holds
  private readonly pending = new Map<string, Promise<string>>()
  /** How many of the pending dials are for the ring (they are not `connections`' to make). */
  private ringPending = 0

  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    private readonly own: OwnAddresses,
    private readonly opts: DialerOptions
  ) {
    this.holds = new Holds(() => ctx.clock.now())
  }

  /** Dials in progress. */
  get size (): number { return this.pending.size }

  /** Whether a dial is under way whose link has not opened yet. */
  dialing (): boolean {
    for (const a of this.pending.keys()) if (this.peers.openAt(a) === undefined) return true
    return false
  }

  /**
   * Open a link to address; resolves to the peer's id once its handshake is done (or a link to
   * it exists). Only the key of a pin will do: `given` (the user's ID@ADDR), else the one the
   * table holds the address to (strict for the user's addresses once a key was seen there).
   * Another key answering ends the dial, and the link closes before anything of ours is sent.
   */
  dial (address: string, given?: string, ring = false): Promise<string> {
    const expected: Expected | null = given !== undefined ? { id: given, pin: 'given' } : this.ctx.table.pinOf(address)
    const open = this.peers.openAt(address)
    if (open) {
      return expected === null || open.peerId === expected.id
        ? Promise.resolve(open.peerId)
        : Promise.reject(new Error(`cannot connect to ${address}: ${mismatchReason(address, expected, open.peerId)}`))
    }
    const pending = this.pending.get(address)
    if (pending) return expected === null ? pending : pending.then(() => this.dial(address, given, ring))
    const p = new Promise<string>((resolve, reject) => {
      this.ctx.table.recordAttempt(address)
      let socket: Duplex
      try {
        socket = this.opts.transport(address)
      } catch (err) {
        this.ctx.table.recordFailure(address)
        this.ctx.event('connect-failed', { address, reason: (err as Error).message })
        reject(err)
        return
      }
      const { host, scheme } = parseAddress(address)
      const c = new Connection(this.opts.secure(socket), { outbound: true, dialed: address, expected: expected ?? undefined, ring, remoteHost: host, transport: scheme, clock: this.ctx.clock, traffic: this.ctx.traffic })
      // The dial's outcome is the link's first 'open' or 'close'; once open, a close says nothing
      // of it, so both listeners go then (they and the promise's functions were held by every
      // outbound link for its life).
      const closed = (info: CloseInfo): void => {
        // Lost to a link the peer opened to us at the same time: we are connected all the same.
        if (c.peerId !== '' && info.reason === DUPLICATE) resolve(c.peerId)
        else reject(new Error(`cannot connect to ${address}: ${info.reason}`))
      }
      const opened = (): void => {
        c.off('open', opened)
        c.off('close', closed)
        resolve(c.peerId)
      }
      c.on('close', closed)
      c.on('open', opened)
      this.opts.attach(c)
    })
    this.pending.set(address, p)
    if (ring) this.ringPending++
    const done = (): void => {
      this.pending.delete(address)
      if (ring) this.ringPending--
      this.opts.settled?.()
    }
    p.then(done, done)
    return p
  }

  /**
   * A link over a stream opened some other way (a WebRTC channel), ours as if dialed: only the
   * key of `id` will do (another key ends it in the handshake). Resolves once open.
   */
  adopt (stream: Duplex, id: string, transport: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const c = new Connection(this.opts.secure(stream), { outbound: true, expected: { id, pin: 'given' }, transport, clock: this.ctx.clock, traffic: this.ctx.traffic })
      const closed = (info: CloseInfo): void => {
        if (c.peerId !== '' && info.reason === DUPLICATE) resolve()
        else reject(new Error(info.reason))
      }
      const opened = (): void => {
        c.off('close', closed)
        resolve()
      }
      c.on('close', closed)
      c.once('open', opened)
      this.opts.attach(c)
    })
  }

  /**
   * A link to peer `id`, at the first of its addresses that answers with its key (each is dialed
   * as ID@ADDR, one after another); resolves once linked, or at once when a link to it is open.
   * `ring`: the link is the ring's (its budget, not `connections`'). Rejects with every
   * address's reason when none worked.
   */
  async dialPeer (id: string, addresses: readonly string[], ring = false): Promise<void> {
    if (this.peers.get(id) !== undefined) return
    const reasons: string[] = []
    for (const raw of addresses.slice(0, MAX_PEER_ADDRESSES)) {
      const a = tryNormalizeAddress(raw)
      if (a === null || this.own.has(a)) continue
      try {
        await this.dial(a, id, ring)
        return
      } catch (err) {
        reasons.push((err as Error).message)
        if (this.ctx.closing) break
      }
    }
    throw new Error(reasons.length === 0 ? `no address to dial ${id} at` : reasons.join('; '))
  }

  /** Keep `connections` open by dialing from the table. */
  topUp (): void {
    if (this.ctx.closing) return
    // Only connections we dialed count: inbound ones are the remote's choice, and an attacker
    // who opens enough of them must not stop us from choosing peers of our own (eclipse).
    const want = this.opts.connections - this.peers.outbound() - (this.pending.size - this.ringPending)
    const n = Math.min(want, MAX_PENDING_DIALS - this.pending.size)
    if (n <= 0) return
    const busy = this.peers.busy()
    const skip = (a: string): boolean => busy.has(a) || this.pending.has(a) || this.own.has(a) || this.holds.isHeldAddress(a) || this.linkedAt(a)
    for (const a of this.ctx.table.dialCandidates(n, skip)) this.dial(a).catch(() => {})
  }

  /**
   * Whether address is a linked peer's own, as that peer told us (its hello offers it): a dial
   * there reaches the same peer and ends as a duplicate link, a top-up's dial spent on no new
   * peer. Each end of a new link learns the other's addresses from its hello, and the end that
   * did not dial drew them among its next candidates (in the simulation's join, about two
   * duplicate links for every node that joined). Only an address this peer introduced: one we
   * knew of from anyone else (the user, another peer) is dialed as before, so a peer claiming
   * another node's address cannot keep us from dialing that node.
   */
  private linkedAt (address: string): boolean {
    const id = this.ctx.table.claimantOf(address)
    return id !== null && this.peers.get(id)?.offered.includes(address) === true
  }

  /** Book how a link we dialed ended: a failure against the address, a connect-failed event. */
  closed (c: Connection, info: CloseInfo, wasOpen: boolean): void {
    const a = c.dialed
    if (!c.outbound || a === undefined) return
    const benign = info.reason === DUPLICATE || info.reason === SELF
    // Only an address we dialed answers for the peer behind it: an inbound peer could
    // advertise someone else's address and misbehave to get that address purged.
    if (info.fault || (!wasOpen && !benign)) this.ctx.table.recordFailure(a)
    if (!wasOpen && !benign) this.ctx.event('connect-failed', { address: a, reason: info.reason })
    // A key the user's address was known by (trust on first use) changed: worth a line of its own.
    if (c.mismatched !== null && c.expected?.pin === 'seen') this.ctx.event('identity-changed', { address: a, was: c.expected.id, now: c.mismatched })
  }
}
