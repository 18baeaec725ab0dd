// A WebRTC data channel as a transport: given only a signalling channel to the other side,
// dialWebRTC / answerWebRTC return a duplex stream at once (as net.connect does) that carries
// bytes once the channel opens. A node takes it as it takes a tcp or ws stream: the Noise
// handshake (node/secure.ts) runs over it end to end, so whoever carries the signals (the ring,
// an introducing peer) can delay or drop them but cannot read or impersonate.
//
// Written against the W3C RTCPeerConnection, so a browser's serves as well (opts.wrtc, as the
// peer-exchange seed takes it). In Node the default is node-datachannel's polyfill, loaded on
// the first attempt and never before (an optional dependency: without it this says "webrtc
// unavailable" and everything else works). Two of its ways matter here: it gathers candidates
// only with its non-standard `bindAddress` when loopback is all there is, and a connection not
// closed keeps the process alive: every stream closes its connection when it ends, and
// releaseWebRTC() closes what is left and stops the library's threads (a daemon's close).
import { createRequire } from 'node:module'
import { Duplex } from 'node:stream'
import { EventEmitter } from 'node:events'
import {
  validateSignal, checkCandidate, checkSdp, SignalError, CandidateRefused,
  MAX_CANDIDATES, MAX_SIGNALS, type Signal, type HostPolicy, type IceServer
} from './webrtc-signal.js'

export * from './webrtc-signal.js'

const require = createRequire(import.meta.url)

/** How long an attempt has to open its data channel (signals, ICE, DTLS, SCTP), ms: ~70 ms on loopback, seconds across NATs. */
export const WEBRTC_TIMEOUT = 15_000
/**
 * Largest message written to the channel: a stream's chunks are cut to this. 16 KiB is what
 * every implementation takes (larger ones are refused by some browsers), and the order of the
 * channel (reliable, ordered) puts the pieces back together as a byte stream.
 */
export const MAX_CHANNEL_MESSAGE = 16 * 1024
/** Bytes queued in the channel before a write waits ('bufferedamountlow'), as a socket's buffer. */
export const CHANNEL_HIGH_WATER = 1024 * 1024
/** ...and the level at which it goes on. */
export const CHANNEL_LOW_WATER = 256 * 1024
/** How often end() looks whether the channel has sent all it holds, ms (then it closes it). */
export const DRAIN_POLL = 10
/** The data channel's label: the other side takes only a channel of this name. */
export const CHANNEL_LABEL = 'peernet'

/** The transport's name, as `connections` may show it beside tcp, ws, wss and mem. */
export const WEBRTC_KIND = 'webrtc'

// --- the W3C interfaces used here (what a browser and the polyfill both have) --------------

interface RTCDataChannelLike {
  readonly readyState: string
  readonly label: string
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  binaryType: string
  send: (data: Uint8Array) => void
  close: () => void
  addEventListener: (type: string, fn: (e: any) => void) => void // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface RTCPeerConnectionLike {
  readonly iceConnectionState: string
  readonly connectionState: string
  readonly signalingState: string
  createDataChannel: (label: string, opts?: object) => RTCDataChannelLike
  createOffer: () => Promise<{ type: string, sdp?: string }>
  createAnswer: () => Promise<{ type: string, sdp?: string }>
  setLocalDescription: (d: { type: string, sdp?: string }) => Promise<void>
  setRemoteDescription: (d: { type: string, sdp: string }) => Promise<void>
  addIceCandidate: (c: { candidate: string, sdpMid: string }) => Promise<void>
  close: () => void
  addEventListener: (type: string, fn: (e: any) => void) => void // eslint-disable-line @typescript-eslint/no-explicit-any
  /** node-datachannel's polyfill: the pair ICE chose (not in the W3C interface). */
  selectedCandidatePair?: () => { remote?: { address?: string } } | null
}

/** What opts.wrtc must hold: an RTCPeerConnection constructor (a browser's, or the polyfill's). */
export interface WRTC {
  RTCPeerConnection: new (config: object) => unknown
}

/**
 * `opts.wrtc` as a node takes it (the seed's option): an object with an RTCPeerConnection
 * constructor (a browser's `window` will do), else a TypeError now rather than at the first
 * attempt. Unset means node-datachannel's, loaded when first needed.
 */
export function resolveWrtcOption (x: unknown): WRTC | undefined {
  if (x === undefined || x === null) return undefined
  if (typeof x === 'object' || typeof x === 'function') {
    if (typeof (x as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function') return x as WRTC
  }
  throw new TypeError('opts.wrtc must be an object with an RTCPeerConnection constructor, such as a browser\'s window or require(\'node-datachannel/polyfill\')')
}

// --- the native module, loaded lazily -------------------------------------------------------

interface NodeDataChannel { cleanup: () => void }

/** The native module and its polyfill once loaded; the reason when they cannot be. */
let native: { wrtc: WRTC, lib: NodeDataChannel } | null = null
let unavailable: string | null = null

/** WebRTC cannot run here: node-datachannel is not installed, or its native part did not load. */
export class WebRTCUnavailable extends Error {
  constructor (why: string) {
    super(`webrtc unavailable: ${why}`)
    this.name = 'WebRTCUnavailable'
  }
}

/** node-datachannel's RTCPeerConnection, loaded at the first call; throws WebRTCUnavailable. */
export function loadWebRTC (): WRTC {
  if (native !== null) return native.wrtc
  if (unavailable !== null) throw new WebRTCUnavailable(unavailable)
  try {
    const wrtc = require('node-datachannel/polyfill') as WRTC
    const lib = require('node-datachannel') as NodeDataChannel
    native = { wrtc, lib }
    return wrtc
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    unavailable = e.code === 'MODULE_NOT_FOUND' && /'node-datachannel/.test(e.message)
      ? 'the optional dependency node-datachannel is not installed (npm install node-datachannel)'
      : `node-datachannel did not load: ${e.message.split('\n')[0]}`
    throw new WebRTCUnavailable(unavailable)
  }
}

/** Whether WebRTC can run here: null when it can, else why not (loads the native module). */
export function webrtcUnavailable (): string | null {
  try {
    loadWebRTC()
    return null
  } catch (err) {
    return (err as Error).message
  }
}

/** Connections of node-datachannel's alive now (each keeps the process alive until closed). */
const live = new Set<WebRTCStream>()

/**
 * Close every WebRTC connection of this process and stop node-datachannel's threads (its
 * cleanup()): at a daemon's close, and at the end of a test, so nothing is left to keep the
 * process alive. Resolves once done; at once when node-datachannel was never loaded. A later
 * attempt starts the threads again.
 */
export async function releaseWebRTC (): Promise<void> {
  if (native === null) return
  for (const s of [...live]) s.destroy()
  // After the closed connections' own callbacks have run: cleanup() joins the threads they run on.
  await new Promise(resolve => setImmediate(resolve))
  native.lib.cleanup()
}

// --- signalling -----------------------------------------------------------------------------

/**
 * A signalling channel to the other side: `send` carries our signals to it, 'signal' events
 * bring its signals (unchecked: they are checked here). An EventEmitter with a send method
 * will do; so will the ring's or an introducer's relay. The channel is the caller's to close.
 */
export interface Signaller {
  send: (signal: Signal) => void
  on: (event: 'signal', fn: (signal: unknown) => void) => unknown
  removeListener: (event: 'signal', fn: (signal: unknown) => void) => unknown
}

/** Two signallers wired to each other in this process (tests, a bench, two nodes in one process). */
export function signalPair (): [Signaller & EventEmitter, Signaller & EventEmitter] {
  const make = (): Signaller & EventEmitter => Object.assign(new EventEmitter(), { send: (_s: Signal): void => {} })
  const a = make()
  const b = make()
  // A later turn, as a network would deliver it (and a listener added after send still hears it).
  a.send = s => { const copy = JSON.parse(JSON.stringify(s)) as unknown; setImmediate(() => b.emit('signal', copy)) }
  b.send = s => { const copy = JSON.parse(JSON.stringify(s)) as unknown; setImmediate(() => a.emit('signal', copy)) }
  return [a, b]
}

// --- the stream -----------------------------------------------------------------------------

export interface WebRTCOptions {
  /** ICE servers (the `ice` setting); none by default: host candidates only. */
  iceServers?: IceServer[]
  /**
   * Where to gather our candidates (the `webrtc-bind` setting): an IP of this machine. Unset:
   * every interface but loopback (node-datachannel's default); on loopback alone give 127.0.0.1.
   */
  bind?: string
  /** Which hosts the peer's candidates may name, on top of parseAddress's rules (default: any it takes). */
  allowHost?: HostPolicy
  /** Deadline of the attempt, ms (WEBRTC_TIMEOUT). */
  timeout?: number
  /** An RTCPeerConnection of your own (a browser's: `{ RTCPeerConnection }`); default node-datachannel's. */
  wrtc?: WRTC
}

/** A data channel as a byte stream. 'connect' once it is open (writes wait until then). */
export class WebRTCStream extends Duplex {
  /** The transport's name, for `connections` (see WEBRTC_KIND). */
  readonly kind = WEBRTC_KIND
  readonly initiator: boolean
  /** The peer's host as ICE reached it, once connected (for the table's source groups). */
  remoteHost: string | undefined
  connected = false
  private pc: RTCPeerConnectionLike | null = null
  private channel: RTCDataChannelLike | null = null
  private readonly signaller: Signaller
  private readonly opts: WebRTCOptions
  private readonly onSignal: (s: unknown) => void
  private readonly timer: NodeJS.Timeout
  private usesNative = false
  /** A write waiting for the channel to open or to drain. */
  private waiting: (() => void) | null = null
  private heard = 0
  private candidates = 0
  private readonly refused: string[] = []
  /** Candidates that came before the offer or answer they belong to (ICE takes them after it). */
  private early: Array<{ candidate: string, sdpMid: string }> = []
  private described = false
  /**
   * The dialer's own candidates, held until the peer's answer is set. Sent at once, they let
   * the answerer's ICE checks reach us while node-datachannel is still taking in the answer:
   * ICE then connects and DTLS starts before the answer's fingerprint is in place, and fails
   * ("unknown CA"), about one attempt in a hundred on loopback. Held, the peer cannot reach us
   * before we can check it; our own checks start with its candidates, so nothing is slower.
   */
  private held: Signal[] | null
  private released = false
  /** end() waiting for the channel to drain before it closes it. */
  private draining: { timer: NodeJS.Timeout, close: () => void } | null = null

  constructor (initiator: boolean, signaller: Signaller, opts: WebRTCOptions = {}) {
    super({ allowHalfOpen: false })
    this.initiator = initiator
    this.held = initiator ? [] : null
    this.signaller = signaller
    this.opts = opts
    this.onSignal = s => this.receive(s)
    const ms = opts.timeout ?? WEBRTC_TIMEOUT
    this.timer = setTimeout(() => this.destroy(this.timeoutError(ms)), ms)
    signaller.on('signal', this.onSignal)
    try {
      this.start()
    } catch (err) {
      // Unavailable, or a bad configuration: the stream fails as a dial does, on a later turn.
      process.nextTick(() => this.destroy(err as Error))
    }
  }

  private start (): void {
    const wrtc = this.opts.wrtc ?? loadWebRTC()
    this.usesNative = this.opts.wrtc === undefined
    const config: Record<string, unknown> = { iceServers: this.opts.iceServers ?? [] }
    // Not in the W3C dictionary (a browser ignores it): where node-datachannel gathers.
    if (this.opts.bind !== undefined) config.bindAddress = this.opts.bind
    const pc = new wrtc.RTCPeerConnection(config) as RTCPeerConnectionLike
    this.pc = pc
    if (this.usesNative) live.add(this)
    pc.addEventListener('icecandidate', e => {
      const c = e.candidate as { candidate?: string, sdpMid?: string | null } | null
      if (c == null || typeof c.candidate !== 'string' || c.candidate === '') return this.sendCandidate({ type: 'end' })
      const line = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate
      // Ours pass the policy too: only addresses we would let a peer dial us at leave.
      try {
        checkCandidate(line, this.opts.allowHost)
      } catch {
        return
      }
      this.sendCandidate({ type: 'candidate', candidate: line, mid: c.sdpMid ?? '0' })
    })
    pc.addEventListener('connectionstatechange', () => {
      // Read when the event is handled, not when it happened: 'failed' may already read 'closed'.
      const state = pc.connectionState
      if (!this.connected && (state === 'failed' || state === 'closed')) this.destroy(new Error(`webrtc: the connection failed before its data channel opened (${this.progress()})`))
      else if (state === 'failed' || state === 'closed' || state === 'disconnected') {
        // The connection went before its channel said 'close' (that event may never come once
        // the peer connection is gone): the same end, so a reader still sees it.
        this.push(null)
        this.release()
      }
    })
    if (this.initiator) {
      // Reliable and ordered: a byte stream, as TCP is.
      this.attach(pc.createDataChannel(CHANNEL_LABEL))
      void this.describe(async () => await pc.createOffer())
    } else {
      pc.addEventListener('datachannel', e => {
        const ch = e.channel as RTCDataChannelLike
        if (this.channel !== null || ch.label !== CHANNEL_LABEL) return ch.close()
        this.attach(ch)
      })
    }
  }

  /** Make our offer or answer, set it and send it. */
  private async describe (make: () => Promise<{ type: string, sdp?: string }>): Promise<void> {
    try {
      const d = await make()
      if (this.destroyed || this.pc === null) return
      // node-datachannel has set its offer already (it negotiates by itself); setting it again
      // makes it anew, and a candidate the peer sends for the first can then find no ICE
      // transport. A browser's offer waits in 'stable' for this call, as the standard has it.
      if (!(d.type === 'offer' && this.pc.signalingState === 'have-local-offer')) await this.pc.setLocalDescription(d)
      // A browser may put its candidates in the SDP: they leave only as trickled ones do.
      this.send({ type: d.type as 'offer' | 'answer', sdp: checkSdp(d.sdp ?? '', this.opts.allowHost).sdp })
    } catch (err) {
      this.destroy(err as Error)
    }
  }

  /** One of our candidates (or the end of them): now, or once the answer is set (see held). */
  private sendCandidate (s: Signal): void {
    if (this.held !== null) this.held.push(s)
    else this.send(s)
  }

  private send (s: Signal): void {
    if (this.destroyed) return
    try {
      this.signaller.send(s)
    } catch (err) {
      this.destroy(new Error(`webrtc: the signalling channel failed: ${(err as Error).message}`))
    }
  }

  /** A signal from the peer: checked, then handed to ICE; a bad one ends the attempt. */
  private receive (raw: unknown): void {
    if (this.destroyed || this.pc === null) return
    try {
      if (++this.heard > MAX_SIGNALS) throw new SignalError(`more than MAX_SIGNALS (${MAX_SIGNALS}) signals in one attempt`)
      const s = validateSignal(raw)
      if (s.type === 'offer' || s.type === 'answer') this.onDescription(s.type, s.sdp)
      else if (s.type === 'candidate') this.onCandidate(s.candidate, s.mid)
    } catch (err) {
      this.destroy(err as Error)
    }
  }

  private onDescription (type: 'offer' | 'answer', raw: string): void {
    const pc = this.pc as RTCPeerConnectionLike
    const wanted = this.initiator ? 'answer' : 'offer'
    if (type !== wanted) throw new SignalError(`an ${type} where the ${this.initiator ? 'dialing' : 'answering'} side expects an ${wanted}`)
    if (this.described) throw new SignalError(`a second ${type}`)
    const { sdp, candidates, refused } = checkSdp(raw, this.opts.allowHost)
    this.count(candidates.length, refused)
    this.described = true
    void (async () => {
      try {
        await pc.setRemoteDescription({ type, sdp })
        if (!this.initiator) await this.describe(async () => await pc.createAnswer())
        const held = this.held ?? []
        this.held = null
        for (const h of held) this.send(h)
        const early = this.early
        this.early = []
        for (const c of early) await pc.addIceCandidate(c)
      } catch (err) {
        this.destroy(new SignalError(`the peer's ${type} was not taken: ${(err as Error).message}`))
      }
    })()
  }

  private onCandidate (line: string, mid: string): void {
    let c
    try {
      c = checkCandidate(line, this.opts.allowHost)
    } catch (err) {
      if (!(err instanceof CandidateRefused)) throw err
      this.count(0, [err.message])
      return
    }
    this.count(1, [])
    const candidate = { candidate: c.line, sdpMid: mid }
    if (!this.described) {
      this.early.push(candidate)
      return
    }
    (this.pc as RTCPeerConnectionLike).addIceCandidate(candidate).catch((err: Error) => {
      this.destroy(new SignalError(`a candidate was not taken: ${err.message}`))
    })
  }

  /** Book candidates taken and refused; past MAX_CANDIDATES in all, the attempt ends. */
  private count (taken: number, refused: string[]): void {
    this.candidates += taken + refused.length
    this.refused.push(...refused)
    if (this.candidates > MAX_CANDIDATES) throw new SignalError(`more than MAX_CANDIDATES (${MAX_CANDIDATES}) candidates in one attempt`)
  }

  private attach (ch: RTCDataChannelLike): void {
    this.channel = ch
    ch.binaryType = 'arraybuffer'
    ch.bufferedAmountLowThreshold = CHANNEL_LOW_WATER
    ch.addEventListener('open', () => this.onOpen())
    if (ch.readyState === 'open') this.onOpen()
    ch.addEventListener('message', e => {
      const d = e.data as ArrayBuffer | string
      // Text has no place on this channel: the stream is bytes.
      if (typeof d === 'string') return this.destroy(new Error('webrtc: the peer sent text on the data channel'))
      this.push(Buffer.from(d))
    })
    ch.addEventListener('bufferedamountlow', () => this.wake())
    ch.addEventListener('close', () => {
      // Closed (by the peer, or by our end()): what it sent is all there is. The stream ends
      // once read (and, allowHalfOpen being off, is then destroyed); the connection's native
      // resources go now, whether or not anyone reads.
      this.push(null)
      this.release()
    })
    ch.addEventListener('error', e => {
      const err = (e as { error?: Error }).error
      this.destroy(new Error(`webrtc: data channel error: ${err?.message ?? 'unknown'}`))
    })
  }

  private onOpen (): void {
    if (this.connected || this.destroyed) return
    this.connected = true
    clearTimeout(this.timer)
    // The signalling channel has done its work; nothing more from it is read.
    this.signaller.removeListener('signal', this.onSignal)
    try {
      this.remoteHost = this.pc?.selectedCandidatePair?.()?.remote?.address ?? undefined
    } catch {}
    this.emit('connect')
    this.wake()
  }

  private wake (): void {
    const w = this.waiting
    this.waiting = null
    w?.()
  }

  private progress (): string {
    const ice = this.pc?.iceConnectionState ?? 'not started'
    const refused = this.refused.length === 0 ? '' : `; ${this.refused.length} candidates refused, the last: ${this.refused[this.refused.length - 1]}`
    return `ICE ${ice}, ${this.heard} signals heard${refused}`
  }

  private timeoutError (ms: number): Error {
    const err = new Error(`webrtc: the data channel did not open within WEBRTC_TIMEOUT (${ms} ms; ${this.progress()})`)
    ;(err as NodeJS.ErrnoException).code = 'ETIMEDOUT'
    return err
  }

  override _read (): void {}

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const go = (): void => {
      const ch = this.channel
      if (this.released || ch === null || ch.readyState !== 'open') return cb(new Error('webrtc: the data channel is closed'))
      try {
        for (let i = 0; i < chunk.length; i += MAX_CHANNEL_MESSAGE) ch.send(chunk.subarray(i, i + MAX_CHANNEL_MESSAGE))
      } catch (err) {
        return cb(err as Error)
      }
      if (ch.bufferedAmount <= CHANNEL_HIGH_WATER) return cb()
      this.waiting = () => cb()
    }
    if (this.connected) go()
    else this.waiting = go
  }

  override _final (cb: (err?: Error | null) => void): void {
    // A data channel has no half-close: once what we wrote has left, the channel closes.
    const ch = this.channel
    const drained = (): boolean => this.released || ch === null || ch.bufferedAmount === 0
    const close = (): void => {
      if (this.draining !== null) clearInterval(this.draining.timer)
      this.draining = null
      try {
        ch?.close()
      } catch {}
      cb()
    }
    if (!this.connected || drained()) return close()
    // Polled: 'bufferedamountlow' fires on crossing its threshold, and may have fired already.
    this.draining = { timer: setInterval(() => { if (drained()) close() }, DRAIN_POLL), close }
  }

  /** Close the channel and the connection, once: no timer, signal or native thread is left for this attempt. */
  private release (): void {
    clearTimeout(this.timer)
    this.signaller.removeListener('signal', this.onSignal)
    if (this.released) return
    this.released = true
    try {
      this.channel?.close()
      this.pc?.close()
    } catch {}
    if (this.usesNative) live.delete(this)
    // A write that waited for the channel or its room ends here (with an error: see _write).
    this.wake()
    this.draining?.close()
  }

  override _destroy (err: Error | null, cb: (err: Error | null) => void): void {
    this.release()
    cb(err)
  }
}

/**
 * Open a WebRTC data channel to the peer on the other end of `signaller` (we make the offer).
 * Returns the stream at once; it emits 'connect' once the channel is open, or an error (bad
 * signal, failed ICE, WEBRTC_TIMEOUT passed, webrtc unavailable). The caller is the
 * initiator of what runs over it (the node dials: its Noise handshake starts).
 */
export function dialWebRTC (signaller: Signaller, opts: WebRTCOptions = {}): WebRTCStream {
  return new WebRTCStream(true, signaller, opts)
}

/** Answer the offer that comes over `signaller`: the other end of dialWebRTC (the node accepts). */
export function answerWebRTC (signaller: Signaller, opts: WebRTCOptions = {}): WebRTCStream {
  return new WebRTCStream(false, signaller, opts)
}
