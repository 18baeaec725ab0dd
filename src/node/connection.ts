// One peer connection: frames in and out of a duplex stream, validation, a per-peer rate
// limit, a bounded output buffer and a handshake deadline. It knows nothing of gossip or
// search; the node decides what each message means.
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { FrameDecoder, encodeFrame, WireError, MAX_OUTBUF } from '../wire/frame.js'
import { validateMessage, type Message, MAX_REASON_LENGTH } from '../wire/messages.js'
import type { Clock, Timer } from './clock.js'

/** Messages per second a peer may send on average... */
export const PEER_RATE = 200
/** ...and in one burst. Beyond that it is dropped as a flooder. */
export const PEER_BURST = 1000
/** Time a peer has to complete the handshake. */
export const HANDSHAKE_TIMEOUT = 10_000

export interface ConnectionOptions {
  outbound: boolean
  /** The address we dialed (outbound only). */
  dialed?: string
  /** The remote side's host (IP) when the transport knows it. */
  remoteHost?: string
  clock: Clock
}

export interface CloseInfo {
  reason: string
  /** The peer misbehaved (bad frame, flood, refused handshake): counts as a failure. */
  fault: boolean
}

export interface ConnectionEvents {
  open: []
  message: [Message]
  close: [CloseInfo]
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly outbound: boolean
  readonly dialed?: string
  readonly remoteHost?: string
  /** Set by the node once the handshake is accepted. */
  peerId = ''
  /** The address this peer is known by: dialed, or the first it advertised. */
  address?: string
  /** Who told us, for the table's per-source caps. */
  sources: string[] = []
  open = false
  closed = false
  closeInfo: CloseInfo | null = null
  /** Waiting for an answer to our getaddrs. */
  awaitingAddrs = false
  readonly since: number
  received = 0
  sent = 0

  private readonly decoder = new FrameDecoder()
  private readonly clock: Clock
  private tokens = PEER_BURST
  private refilled: number
  private handshakeTimer: Timer | null

  constructor (readonly socket: Duplex, opts: ConnectionOptions) {
    super()
    this.outbound = opts.outbound
    this.dialed = opts.dialed
    this.remoteHost = opts.remoteHost
    this.clock = opts.clock
    this.since = this.refilled = opts.clock.now()
    if (opts.outbound) this.address = opts.dialed
    this.handshakeTimer = this.clock.setTimeout(() => this.close('handshake timed out', true), HANDSHAKE_TIMEOUT)
    this.handshakeTimer.unref?.()
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err: Error) => this.close(err.message || String(err), false))
    socket.on('end', () => this.close('connection closed by peer', false))
    socket.on('close', () => this.close('connection closed', false))
  }

  /** Mark the handshake done. */
  accept (peerId: string): void {
    this.peerId = peerId
    this.open = true
    this.stopHandshakeTimer()
    this.emit('open')
  }

  send (msg: Message): void {
    if (this.closed) return
    this.socket.write(encodeFrame(msg))
    this.sent++
    if (this.socket.writableLength > MAX_OUTBUF) this.close(`peer is not reading (more than ${MAX_OUTBUF} bytes queued)`, true)
  }

  /** Close, telling the peer why (when it can still hear it). */
  close (reason: string, fault: boolean, tell = false): void {
    if (this.closed) return
    this.closed = true
    this.open = false
    this.closeInfo = { reason, fault }
    this.stopHandshakeTimer()
    if (tell) {
      try {
        this.socket.write(encodeFrame({ type: 'bye', reason: reason.slice(0, MAX_REASON_LENGTH) }))
      } catch {}
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
    let values: unknown[]
    try {
      values = this.decoder.push(chunk)
    } catch (err) {
      this.close(`protocol violation: ${(err as Error).message}`, true, true)
      return
    }
    for (const v of values) {
      if (this.closed) return
      if (!this.take()) {
        this.close(`flooding: more than ${PEER_RATE} messages/s`, true, true)
        return
      }
      let msg: Message
      try {
        msg = validateMessage(v)
      } catch (err) {
        this.close(`protocol violation: ${(err as WireError).message}`, true, true)
        return
      }
      this.received++
      this.emit('message', msg)
    }
  }

  /** Token bucket: PEER_RATE per second, PEER_BURST deep. */
  private take (): boolean {
    const now = this.clock.now()
    this.tokens = Math.min(PEER_BURST, this.tokens + (now - this.refilled) * PEER_RATE / 1000)
    this.refilled = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}
