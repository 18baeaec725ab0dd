// WebRTC links with their signalling carried over the ring (or through an introducer): the
// third step of connect by id (reach.ts), for two nodes neither of which can dial the other.
// Each attempt is a session of its own (a random id): the signals of one turn (offer or answer,
// candidates, end) go as one request of the library's own, `peernet.signal`, signed end to end
// and sent by ask() like a message (so the nodes on the route can delay or drop them, never
// alter or forge them). The answering node takes a session only from the id that signed its
// offer, within MAX_WEBRTC_SESSIONS in all and MAX_WEBRTC_SESSIONS_PER_PEER per id, and takes
// the channel as a link pinned to that id: the Noise handshake over it proves the key end to end.
// The channel itself, its signal checks (sizes, candidates' addresses) and its deadline are
// transport/webrtc.ts's.
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { dialWebRTC, answerWebRTC, validateSignal, WEBRTC_KIND, type Signal, type WebRTCOptions, type Signaller } from '../transport/webrtc.js'
import { randomHex } from '../util/random.js'
import type { NodeContext } from './types.js'

/** The request that carries a session's signals (under RESERVED_PREFIX: the library's own). */
export const SIGNAL_ACTION = 'peernet.signal'
/** Most signals in one request: an offer or answer, its candidates and `end` come in a few. */
export const MAX_SIGNAL_BATCH = 8
/** How long signals wait to go together, ms: the candidates gathered in one burst share a request. */
export const SIGNAL_FLUSH = 20
/** How long one signalling request may wait for its acknowledgement, ms. */
export const SIGNAL_TIMEOUT = 10_000
/** WebRTC sessions a node answers at once: each holds a peer connection and its threads. */
export const MAX_WEBRTC_SESSIONS = 16
/** ...and from one id (ids cost nothing: MAX_WEBRTC_SESSIONS bounds them all). */
export const MAX_WEBRTC_SESSIONS_PER_PEER = 2

const SID = /^[0-9a-f]{32}$/

export interface WebRTCParts {
  /** A request of the library's own to id (NodeActions.ask), through `via` when given. */
  ask: (id: string, name: string, payload: unknown, timeout: number, via?: string) => Promise<unknown>
  /** Take an answered channel, once open, as an inbound link pinned to id. */
  accept: (stream: Duplex, id: string) => void
  /** Take a dialed channel, once open, as an outbound link pinned to id; resolves once the link is open. */
  adopt: (stream: Duplex, id: string) => Promise<void>
  /** How channels are made (ICE servers, bind address, opts.wrtc), or null: WebRTC is off. */
  options: WebRTCOptions | null
}

/** One attempt: its peer, its signaller, its stream; `open` once the channel is (late signals still come). */
interface Session { peer: string, signaller: EventEmitter & Signaller, stream: Duplex | null, open: boolean }

/** Why x is no `peernet.signal` request, or null: {sid, signals: 1..MAX_SIGNAL_BATCH signals}. */
export function signalRequestProblem (x: unknown): string | null {
  if (x === null || typeof x !== 'object') return 'a signal request must be an object'
  const { sid, signals } = x as { sid?: unknown, signals?: unknown }
  if (typeof sid !== 'string' || !SID.test(sid)) return 'a signal request needs a session id (32 hex digits)'
  if (!Array.isArray(signals) || signals.length === 0 || signals.length > MAX_SIGNAL_BATCH) return `a signal request carries 1 to MAX_SIGNAL_BATCH (${MAX_SIGNAL_BATCH}) signals`
  try {
    for (const s of signals) validateSignal(s)
  } catch (err) {
    return (err as Error).message
  }
  return null
}

export class WebRTCLinks {
  private readonly sessions = new Map<string, Session>()

  constructor (private readonly ctx: NodeContext, private readonly parts: WebRTCParts) {}

  get enabled (): boolean { return this.parts.options !== null }

  /** Sessions open now (both sides). */
  get size (): number { return this.sessions.size }

  /** A WebRTC link to id, its signals carried to it over the ring (through `via` first when given). */
  async connect (id: string, via?: string): Promise<void> {
    const options = this.parts.options
    if (options === null) throw new Error('webrtc is off')
    const sid = randomHex(this.ctx.random, 16)
    const s = this.session(id, sid, via)
    const stream = dialWebRTC(s.signaller, options)
    this.watch(s, stream, `${id}:${sid}`)
    // The link starts once the channel is open. Handed over before, the link's HANDSHAKE_TIMEOUT
    // (10 s) would bound the signals and ICE too: WEBRTC_TIMEOUT (or the `timeout` option) and
    // SIGNAL_TIMEOUT would never be reached, and every slow attempt would read "handshake timed out".
    await opened(stream)
    await this.parts.adopt(stream, id)
  }

  /** The handler of `peernet.signal` from `from`: a session's signals (a new session starts with an offer). */
  receive (from: string, payload: unknown): { ok: true } {
    const why = signalRequestProblem(payload)
    if (why !== null) throw new Error(why)
    const { sid, signals } = payload as { sid: string, signals: Signal[] }
    const key = `${from}:${sid}`
    let s = this.sessions.get(key)
    if (s === undefined) {
      const options = this.parts.options
      if (options === null) throw new Error('refused: webrtc is off on this node')
      if (signals[0].type !== 'offer') throw new Error('no such webrtc session (a session starts with an offer)')
      let opening = 0
      let mine = 0
      for (const x of this.sessions.values()) {
        if (x.open) continue
        opening++
        if (x.peer === from) mine++
      }
      if (opening >= MAX_WEBRTC_SESSIONS) throw new Error(`busy: MAX_WEBRTC_SESSIONS (${MAX_WEBRTC_SESSIONS}) webrtc sessions at once`)
      if (mine >= MAX_WEBRTC_SESSIONS_PER_PEER) throw new Error(`refused: MAX_WEBRTC_SESSIONS_PER_PEER (${MAX_WEBRTC_SESSIONS_PER_PEER}) webrtc sessions from one id`)
      s = this.session(from, sid)
      const stream = answerWebRTC(s.signaller, options)
      this.watch(s, stream, key)
      // As on the dialing side: the link (and its handshake's deadline) starts with the channel.
      stream.once('connect', () => this.parts.accept(stream, from))
    }
    const target = s.signaller
    // On a later turn: the stream takes them as the network would deliver them.
    setImmediate(() => { for (const sig of signals) target.emit('signal', sig) })
    return { ok: true }
  }

  /**
   * A session lasts as long as its stream: signals may still come once the channel is open (the
   * last candidates, `end`), and are taken; only sessions not yet open count against the caps.
   */
  private watch (s: Session, stream: Duplex, key: string): void {
    s.stream = stream
    // Until its channel opens no link listens to the stream: an attempt that fails (its deadline,
    // a bad signal, a refusal) ends here, and 'close' frees its session, never an unhandled error.
    stream.on('error', () => {})
    stream.once('connect', () => { s.open = true })
    stream.once('close', () => { if (this.sessions.get(key) === s) this.sessions.delete(key) })
  }

  /** Ends every session (the node is closing). */
  close (): void {
    for (const s of this.sessions.values()) s.stream?.destroy()
    this.sessions.clear()
  }

  /** A session's signaller: what the stream sends goes to `peer` in batches, as SIGNAL_ACTION requests. */
  private session (peer: string, sid: string, via?: string): Session {
    let queue: Signal[] = []
    let timer: ReturnType<NodeContext['clock']['setTimeout']> | null = null
    const s: Session = { peer, signaller: Object.assign(new EventEmitter(), { send: (_: Signal): void => {} }), stream: null, open: false }
    const flush = (): void => {
      timer = null
      while (queue.length > 0) {
        const signals = queue.slice(0, MAX_SIGNAL_BATCH)
        queue = queue.slice(MAX_SIGNAL_BATCH)
        this.parts.ask(peer, SIGNAL_ACTION, { sid, signals }, SIGNAL_TIMEOUT, via).catch((err: Error) => {
          // The other side refused or never heard: an attempt not yet open cannot go on.
          if (!s.open) s.stream?.destroy(new Error(`signalling failed: ${err.message.replace(/^run \S+ on \S+: /, '')}`))
        })
      }
    }
    s.signaller.send = (signal: Signal): void => {
      queue.push(signal)
      if (timer === null) timer = this.ctx.clock.setTimeout(flush, SIGNAL_FLUSH)
    }
    this.sessions.set(`${peer}:${sid}`, s)
    return s
  }
}

/** Resolves once stream's channel is open; rejects with its error (or its end) if it fails first. */
function opened (stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null): void => {
      stream.off('connect', onConnect)
      stream.off('error', done)
      stream.off('close', onClose)
      if (err === null) resolve()
      else reject(err)
    }
    const onConnect = (): void => done(null)
    const onClose = (): void => done(new Error('webrtc: the attempt ended before its data channel opened'))
    stream.once('connect', onConnect)
    stream.once('error', done)
    stream.once('close', onClose)
  })
}

export { WEBRTC_KIND }
