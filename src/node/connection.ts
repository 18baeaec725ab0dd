// One peer connection: frames in and out of a secure link (secure.ts), validation, a per-peer
// rate limit, a bounded output buffer and a handshake deadline. It knows nothing of gossip or
// search; the node decides what each message means. The peer's id is the key its link proved.
import { EventEmitter } from 'node:events'
import { FrameDecoder, encodeFrame, WireError, MAX_OUTBUF } from '../wire/frame.js'
import { type LinkStream, MAX_BATCH } from './secure.js'
import { validateMessage, type Message, MAX_REASON_LENGTH } from '../wire/messages.js'
import { isRingMessage, validateRingMessage, type RingMessage } from '../wire/ring.js'
import { isRelayMessage, validateRelayMessage, type RelayMessage } from '../wire/relay.js'

/** What travels on a peer link: the peer protocol's messages, the ring's and the relay's. */
export type PeerMessage = Message | RingMessage | RelayMessage
import type { Clock, Timer } from './clock.js'
import type { Traffic } from './traffic.js'
import { TokenBucket } from '../util/rate.js'
import { intern } from '../util/intern.js'

export { TokenBucket }

/** Messages per second a peer may send on average... */
export const PEER_RATE = 200
/** ...and in one burst. Beyond that it is dropped as a flooder. */
export const PEER_BURST = 1000
/** Search queries a second a peer may send us on average (relays and its own searches)... */
export const QUERY_RATE = 100
/** ...and in one burst. A query over the budget is dropped and counts as a strike. */
export const QUERY_BURST = 800
/** Time a peer has to complete the handshake. */
export const HANDSHAKE_TIMEOUT = 10_000
/**
 * Misbehaviour a peer may show before it is dropped: each unasked-for `addrs`, each answer of
 * mostly junk addresses, each query over its query budget is one strike.
 */
export const MAX_STRIKES = 50

export interface ConnectionOptions {
  outbound: boolean
  /** The address we dialed (outbound only). */
  dialed?: string
  /** The id the dial must reach (a pin: see Expected): another key answering closes the link. */
  expected?: Expected
  /** A link we open for the ring (it says so in its hello): see Connection.ring. */
  ring?: boolean
  /** The remote side's host (IP) when the transport knows it. */
  remoteHost?: string
  /** What carries the link (tcp, ws, wss, mem, webrtc), when known: `connections` shows it. */
  transport?: string
  clock: Clock
  /** Where the node counts its links' frames and bytes by type. */
  traffic?: Traffic
}

/**
 * The key a dial must reach, and where that came from: `given` by the user (ID@ADDR), or
 * `seen` at the address by an earlier handshake (trust on first use, for the user's addresses).
 */
export interface Expected { id: string, pin: 'given' | 'seen' }

/** Why a dial that reached key `got` instead of the one expected ends (the one wording of it). */
export function mismatchReason (address: string, expected: Expected, got: string): string {
  return expected.pin === 'given'
    ? `identity mismatch: expected ${expected.id}, got ${got}`
    : `identity changed: ${address} was ${expected.id}, now ${got} (to accept the new key, remove the address and add it again, or add ${got}@${address})`
}

export interface CloseInfo {
  reason: string
  /** The peer misbehaved (bad frame, flood, refused handshake): counts as a failure. */
  fault: boolean
  /** A goodbye was said, by us or by the peer: the link ended by choice, not by failing. */
  farewell: boolean
}

export interface ConnectionEvents {
  open: []
  message: [PeerMessage]
  close: [CloseInfo]
}

/**
 * The frame each large ring answer came in as (FrameDecoder.raw): a node on the lookup's way back
 * passes the answer on unchanged (lookups.ts), so it goes out as those bytes, already checked
 * here as the next node will check them, and is not encoded again.
 */
const received = new WeakMap<object, Buffer>()

/**
 * The link a stream carries, kept on the stream: its listeners are one set of functions for every
 * link (Connection.streamListeners), which find their link here, where five closures a link end
 * cost each of a simulated node's ~35 link ends ~300 bytes.
 */
const LINK = Symbol('peernet link')
type Carrier = LinkStream & { [LINK]?: Connection }

/** One clock-reading function per clock, for its links' buckets: a closure a link cost each one more. */
const readers = new WeakMap<Clock, () => number>()
function readerOf (clock: Clock): () => number {
  let read = readers.get(clock)
  if (read === undefined) readers.set(clock, read = () => clock.now())
  return read
}

/**
 * What a link knows of the peer's addresses and sources before its hello, shared (frozen): two
 * empty arrays of its own cost every link end of every node ~64 bytes, for nothing.
 */
export const NOTHING: readonly string[] = Object.freeze([])

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly outbound: boolean
  readonly dialed?: string
  readonly remoteHost?: string
  /** What carries the link (see ConnectionOptions.transport), or null when not known. */
  readonly transport: string | null
  /** Set by the node once the handshake is accepted. */
  peerId = ''
  /** The id the dial must reach, if any (see ConnectionOptions.expected). */
  readonly expected?: Expected
  /**
   * Opened for the ring (by us, or by a peer whose hello said so): counted against the ring's
   * link budget and inbound cap, not against `connections` or MAX_INBOUND (see PeerSet).
   */
  ring: boolean
  /** The peer's hello said it was on the ring (Hello.joined): the ring's way in for a node not joined. */
  peerJoined = false
  /** The key that answered when it was not the one expected (the link is closed then). */
  mismatched: string | null = null
  /** The peer's id as its link proved it (hex of its static key), once the secure handshake is done. */
  remoteId: string | null = null
  /**
   * The address that answers for this peer: the one we dialed, one a dial of ours found to reach
   * this same peer, or the one the local user gave with the stream. Never just the peer's word.
   */
  address?: string
  /** What an inbound peer says it can be dialed at, while no dial of ours has confirmed it. */
  claimed?: string
  /** The usable addresses its hello offered (a claim, not a proof). */
  offered: readonly string[] = NOTHING
  /** This end's nonce for this link, and the peer's, from the hellos (see PeerSet.replaces). */
  nonce = ''
  peerNonce = ''
  /** Who told us, for the table's per-source caps. */
  sources: readonly string[] = NOTHING
  open = false
  closed = false
  /** Closed by its stream (an error, an end) or the handshake deadline, not by a rule of ours. */
  linkFailed = false
  closeInfo: CloseInfo | null = null
  readonly since: number
  received = 0
  sent = 0
  /** When bytes last came from the peer (keepalive.ts pings a link silent for PING_INTERVAL). */
  lastHeard: number
  /** Misbehaviour so far (see MAX_STRIKES). */
  strikes = 0
  /** The kind the peer set counted this link as, while it is its peer's open link (peers.ts). */
  counted = -1
  /** The keepalive's watch over this link, while it has one (keepalive.ts's; opaque here). */
  watch: object | null = null

  private readonly decoder = new FrameDecoder()
  /** Frames queued this turn: they leave as one write, so one encrypted message (MAX_BATCH). */
  private batch: Buffer[] = []
  private batched = 0
  private readonly clock: Clock
  private readonly traffic: Traffic | undefined
  private readonly bucket: TokenBucket
  private queryBucket: TokenBucket | null = null
  private handshakeTimer: Timer | null

  constructor (readonly socket: LinkStream, opts: ConnectionOptions) {
    super()
    this.outbound = opts.outbound
    this.dialed = opts.dialed
    this.expected = opts.expected
    this.ring = opts.ring === true
    this.remoteHost = opts.remoteHost
    this.transport = opts.transport ?? null
    this.clock = opts.clock
    this.traffic = opts.traffic
    this.since = opts.clock.now()
    this.lastHeard = this.since
    this.bucket = new TokenBucket(PEER_RATE, PEER_BURST, readerOf(opts.clock))
    if (opts.outbound) this.address = opts.dialed
    this.handshakeTimer = this.clock.setTimeout(() => this.fail('handshake timed out', true), HANDSHAKE_TIMEOUT)
    this.handshakeTimer.unref?.()
    ;(socket as Carrier)[LINK] = this
    const on = Connection.streamListeners
    socket.on('handshake', on.handshake)
    socket.on('data', on.data)
    socket.on('error', on.error)
    socket.on('end', on.end)
    socket.on('close', on.close)
  }

  /** The listeners every link's stream has, each finding its link on the stream (LINK). */
  private static readonly streamListeners = {
    handshake (this: Carrier): void { this[LINK]?.onSecured() },
    data (this: Carrier, chunk: Buffer): void { this[LINK]?.onData(chunk) },
    error (this: Carrier, err: Error): void { this[LINK]?.fail(err.message || String(err), false) },
    end (this: Carrier): void { this[LINK]?.fail('connection closed by peer', false) },
    close (this: Carrier): void { this[LINK]?.fail('connection closed', false) }
  }

  /**
   * This peer's budget of search queries (QUERY_RATE, QUERY_BURST), made at its first query: a
   * bucket starts full, as one made with the link would be by then, and most links carry none.
   */
  get queries (): TokenBucket {
    return this.queryBucket ??= new TokenBucket(QUERY_RATE, QUERY_BURST, readerOf(this.clock))
  }

  /** The link itself ended it (see linkFailed). */
  private fail (reason: string, fault: boolean): void {
    if (this.closed) return
    this.linkFailed = true
    this.close(reason, fault)
  }

  /** Mark the handshake done. */
  accept (peerId: string): void {
    this.peerId = intern(peerId)
    this.open = true
    this.stopHandshakeTimer()
    this.emit('open')
  }

  send (msg: PeerMessage): void {
    this.sendFrame((msg.type === 'ring.found' ? received.get(msg) : undefined) ?? encodeFrame(msg), msg.type)
  }

  /** Send a frame already encoded (one encoding for a message sent to many peers) of a message of type. */
  sendFrame (frame: Buffer, type: string): void {
    if (this.closed) return
    this.traffic?.note('out', type, frame.length)
    if (this.batched + frame.length > MAX_BATCH) this.flush()
    if (this.batch.length === 0) {
      if (Connection.queued.length === 0) queueMicrotask(Connection.flushQueued)
      Connection.queued.push(this)
    }
    this.batch.push(frame)
    this.batched += frame.length
    this.sent++
    if (this.socket.writableLength + this.batched > MAX_OUTBUF) this.close(`peer is not reading (more than ${MAX_OUTBUF} bytes queued)`, true)
  }

  /**
   * The links with frames queued this turn, in the order their first frame was: one microtask
   * flushes them all. A microtask a link, each with a closure of its own, was one for nearly
   * every frame a node sent.
   */
  private static readonly queued: Connection[] = []

  private static flushQueued (this: void): void {
    const queued = Connection.queued
    // A link queued while this runs (a write that set off more) is flushed in this same pass.
    let failed: { err: unknown } | null = null
    for (let i = 0; i < queued.length; i++) {
      // One link's failure is not the others': they are flushed, then it is thrown, as a
      // microtask of its own would have thrown it.
      try {
        queued[i].flush()
      } catch (err) {
        failed ??= { err }
      }
    }
    queued.length = 0
    if (failed !== null) throw failed.err
  }

  /** Write the frames queued so far as one chunk. */
  private flush (): void {
    if (this.batch.length === 0) return
    const chunk = this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch, this.batched)
    this.batch.length = 0 // emptied, not replaced: a flush for nearly every frame a link sends
    this.batched = 0
    if (!this.closed) this.socket.write(chunk)
  }

  /** The secure handshake is done: the peer is the key it proved; a dial for another key ends here. */
  private onSecured (): void {
    const key = this.socket.remotePublicKey
    if (this.closed || key === null || key === undefined) return
    this.remoteId = intern(Buffer.from(key).toString('hex'))
    if (this.expected !== undefined && this.remoteId !== this.expected.id) {
      this.mismatched = this.remoteId
      this.close(mismatchReason(this.dialed ?? '', this.expected, this.remoteId), false)
    }
  }

  /** Count one strike against the peer; past MAX_STRIKES it is dropped. Returns false once closed. */
  strike (why: string, weight = 1): boolean {
    if (this.closed) return false
    this.strikes += weight
    if (this.strikes <= MAX_STRIKES) return true
    this.close(`misbehaving: more than ${MAX_STRIKES} strikes (last: ${why})`, true, true)
    return false
  }

  /**
   * Close, telling the peer why when `tell` (when it can still hear it): the reason itself, or
   * the text given as `tell` when the peer should read something else than our log.
   */
  close (reason: string, fault: boolean, tell: boolean | string = false, farewell = tell !== false): void {
    if (this.closed) return
    this.closed = true
    this.open = false
    this.closeInfo = { reason, fault, farewell }
    this.stopHandshakeTimer()
    if (tell !== false) {
      try {
        const bye = encodeFrame({ type: 'bye', reason: (typeof tell === 'string' ? tell : reason).slice(0, MAX_REASON_LENGTH) })
        // The frames queued this turn first, then the bye: with them if they leave room (one
        // encrypted message never holds more than MAX_BATCH).
        if (this.batched + bye.length > MAX_BATCH) {
          this.socket.write(Buffer.concat(this.batch))
          this.batch = []
        }
        this.batch.push(bye)
        this.socket.write(Buffer.concat(this.batch))
      } catch {}
      this.batch = []
      this.batched = 0
      this.socket.end()
      // Give the bye a moment to leave, then make sure the socket is gone.
      const t = this.clock.setTimeout(() => this.socket.destroy(), 1000)
      t.unref?.()
    } else {
      this.socket.destroy()
    }
    this.emit('close', this.closeInfo)
  }

  private stopHandshakeTimer (): void {
    if (this.handshakeTimer) this.clock.clearTimeout(this.handshakeTimer)
    this.handshakeTimer = null
  }

  private onData (chunk: Buffer): void {
    if (this.closed) return
    // A layer that proves the key without a 'handshake' event (the simulation's stand-in).
    if (this.remoteId === null) this.onSecured()
    if (this.closed) return
    this.lastHeard = this.clock.now()
    let values: unknown[]
    try {
      values = this.decoder.push(chunk)
    } catch (err) {
      this.close(`protocol violation: ${(err as Error).message}`, true, true)
      return
    }
    // Taken, not left on the decoder: it would hold the chunk (a large frame, 4 KB or more)
    // until the link's next chunk, however long that is in coming.
    const raw = this.decoder.raw
    this.decoder.raw = null
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      if (this.closed) return
      if (!this.bucket.take()) {
        this.close(`flooding: more than ${PEER_RATE} messages/s`, true, true)
        return
      }
      let msg: PeerMessage
      try {
        msg = isRingMessage(v) ? validateRingMessage(v) : isRelayMessage(v) ? validateRelayMessage(v) : validateMessage(v)
      } catch (err) {
        this.close(`protocol violation: ${(err as WireError).message}`, true, true)
        return
      }
      this.received++
      this.traffic?.note('in', msg.type, this.decoder.sizeOf(i))
      if (raw !== null && raw[i] !== undefined && msg.type === 'ring.found') received.set(msg, raw[i])
      this.emit('message', msg)
    }
  }
}
