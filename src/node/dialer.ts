// The dialer: opens outbound links, keeps `connections` of them by drawing addresses from the
// table (which applies the backoff after failures), keeps the user's holds, and books how each
// dial ended. What is said on a link once it is open is the handshake's business.
import type { Duplex } from 'node:stream'
import { Connection, type CloseInfo } from './connection.js'
import { Holds } from './holds.js'
import type { PeerSet } from './peers.js'
import type { OwnAddresses } from './own.js'
import type { NodeContext } from './types.js'
import { parseAddress } from '../transport/address.js'
import type { LinkStream } from './secure.js'

/** How often the node tops up its connections from the table, ms. */
export const DEFAULT_DIAL_INTERVAL = 1000
/** Most dials in progress at once. */
export const MAX_PENDING_DIALS = 8

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
}

export class Dialer {
  readonly holds: Holds
  private readonly pending = new Map<string, Promise<void>>()

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

  /**
   * Open a link to address; resolves once its handshake is done (or a link to it exists).
   * With `expected` (an id), only that peer will do: another key answering is an identity
   * mismatch, and the link closes before anything of ours is sent on it.
   */
  dial (address: string, expected?: string): Promise<void> {
    const open = this.peers.openAt(address)
    if (open) return expected === undefined || open.peerId === expected ? Promise.resolve() : Promise.reject(mismatch(address, expected, open.peerId))
    const pending = this.pending.get(address)
    if (pending) return expected === undefined ? pending : pending.then(() => this.dial(address, expected))
    const p = new Promise<void>((resolve, reject) => {
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
      const c = new Connection(this.opts.secure(socket), { outbound: true, dialed: address, expected, remoteHost: parseAddress(address).host, clock: this.ctx.clock })
      c.once('close', (info: CloseInfo) => {
        // Lost to a link the peer opened to us at the same time: we are connected all the same.
        if (c.peerId !== '' && info.reason === DUPLICATE) resolve()
        else reject(new Error(`cannot connect to ${address}: ${info.reason}`))
      })
      c.once('open', () => resolve())
      this.opts.attach(c)
    })
    this.pending.set(address, p)
    const done = (): void => { this.pending.delete(address) }
    p.then(done, done)
    return p
  }

  /** Keep `connections` open by dialing from the table. */
  topUp (): void {
    if (this.ctx.closing) return
    // Only connections we dialed count: inbound ones are the remote's choice, and an attacker
    // who opens enough of them must not stop us from choosing peers of our own (eclipse).
    const want = this.opts.connections - this.peers.outbound() - this.pending.size
    const n = Math.min(want, MAX_PENDING_DIALS - this.pending.size)
    if (n <= 0) return
    const busy = this.peers.busy()
    const skip = (a: string): boolean => busy.has(a) || this.pending.has(a) || this.own.has(a) || this.holds.isHeldAddress(a)
    for (const a of this.ctx.table.dialCandidates(n, skip)) this.dial(a).catch(() => {})
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
  }
}

/** The error of a dial that reached another key than the one it expected. */
function mismatch (address: string, expected: string, got: string): Error {
  return new Error(`cannot connect to ${address}: identity mismatch: expected ${expected}, got ${got}`)
}
