// Relayed links: connect by id's last step (reach.ts), for two nodes that can neither dial each
// other nor open a WebRTC channel, through a peer both are linked to (peer-exchange's hubs). A
// circuit is a byte stream carried in `relay.*` frames (wire/relay.ts) over two ordinary links,
// A to the relay R and R to the target C; the link A and C run over it is a normal one, Noise
// handshake and all, pinned to the id each asked for: R sees ciphertext, and a relay that joins
// A to anyone but C makes the handshake fail (no impersonation). R's part is bounded: circuits in
// all and per peer, a rate per circuit each way, and a queue per direction past which the
// circuit is closed (a sender that ignores the rate it was given). `relay: false` turns it off.
//
// C consents first: A asks it over the ring (RELAY_ACTION, signed end to end) and C answers with
// the peers it would take a circuit through, remembering for RELAY_CONSENT that A may come
// through them; a circuit from anyone else, or through anyone else, is refused. So a relay
// cannot push links on its peers, and a node that only dials out gets no relayed link it did
// not agree to.
import { Duplex } from 'node:stream'
import { TokenBucket } from '../util/rate.js'
import { randomHex } from '../util/random.js'
import { MAX_RELAY_CHUNK, base64Bytes, type RelayMessage } from '../wire/relay.js'
import type { Connection } from './connection.js'
import type { PeerSet } from './peers.js'
import type { NodeContext } from './types.js'
import type { Timer } from './clock.js'
import { CIRCUIT_RATE, MAX_CIRCUITS, CIRCUITS_PER_PEER } from './defaults.js'

/** The request by which a node asks the one it wants to reach for its consent and its relays (the library's own). */
export const RELAY_ACTION = 'peernet.relay'
/** What carries a relayed link (`connections` shows it). */
export const RELAY_KIND = 'relay'
// CIRCUIT_RATE, MAX_CIRCUITS and CIRCUITS_PER_PEER, the settings' defaults, live in defaults.ts
// (the CLI shows them without loading this file).
export { CIRCUIT_RATE, MAX_CIRCUITS, CIRCUITS_PER_PEER }
/**
 * Bytes a relay holds for one direction of a circuit while the rate holds it back: a paced
 * sender needs only jitter's worth (a second or two at CIRCUIT_RATE); past it, the sender is not
 * pacing, and the circuit closes rather than the relay buffering for it.
 */
export const CIRCUIT_QUEUE = 128 * 1024
/**
 * relay.data frames a relay passes on per circuit and direction, a second, and their burst. The
 * frames of a circuit count against the rate of the link they go out on (PEER_RATE, 200 a
 * second for everything a peer sends): an opener that sends many small frames would make the
 * target drop its link to the relay as a flooder. Past this, queued data goes on merged into
 * fewer, larger frames; with CIRCUITS_PER_PEER circuits a link carries at most 4 × 20 a second.
 */
export const CIRCUIT_FRAME_RATE = 20
export const CIRCUIT_FRAME_BURST = 40
/** How long the far end has to accept a circuit, ms (the relay's wait; the opener waits twice this). */
export const CIRCUIT_OPEN_TIMEOUT = 5_000
/** How long a node's consent to a relayed link from a requester lasts, ms: the requester opens at once. */
export const RELAY_CONSENT = 30_000
/** Consents held at once (past it the oldest is forgotten: ids cost nothing). */
export const MAX_RELAY_CONSENTS = 64
/** Relays a request offers or an answer names: enough to find one in common, small in a frame. */
export const MAX_RELAY_CANDIDATES = 8
/** Relays the opener tries in turn before the step fails. */
export const RELAY_TRIES = 3
/** How long the relay step may take in all, ms: the request over the ring, a dial or two, the opens. */
export const RELAY_TIMEOUT = 20_000

const ID = /^[0-9a-f]{64}$/

export interface RelayOptions {
  /** Relay for others at all (default true). */
  enabled: boolean
  /** MAX_CIRCUITS, CIRCUITS_PER_PEER and CIRCUIT_RATE as this node's settings give them. */
  links: number
  perPeer: number
  rate: number
}

export const DEFAULT_RELAY: RelayOptions = { enabled: true, links: MAX_CIRCUITS, perPeer: CIRCUITS_PER_PEER, rate: CIRCUIT_RATE }

/** Why opts is no relay setting (false, or {links, linksPerPeer, rate} each optional), or null. */
export function relayOptionsProblem (opts: unknown): string | null {
  if (opts === undefined || opts === false || opts === true) return null
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) return 'opts.relay must be false or an object {links, linksPerPeer, rate}'
  for (const [k, v] of Object.entries(opts)) {
    if (!['links', 'linksPerPeer', 'rate'].includes(k)) return `opts.relay.${k} is not a relay option (links, linksPerPeer, rate)`
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'rate' ? 1024 : 0) || v > (k === 'rate' ? 1 << 30 : 10_000)) return `opts.relay.${k} must be a whole number${k === 'rate' ? ' of at least 1024 bytes a second' : ' from 0 to 10000'}`
  }
  return null
}

/** The node's relay options from opts.relay (checked by relayOptionsProblem first). */
export function relayOptions (opts: false | true | { links?: number, linksPerPeer?: number, rate?: number } | undefined): RelayOptions {
  if (opts === false) return { ...DEFAULT_RELAY, enabled: false }
  if (opts === undefined || opts === true) return DEFAULT_RELAY
  return { enabled: true, links: opts.links ?? MAX_CIRCUITS, perPeer: opts.linksPerPeer ?? CIRCUITS_PER_PEER, rate: opts.rate ?? CIRCUIT_RATE }
}

/**
 * One end of a circuit as a byte stream: writes leave as relay.data frames, paced at the rate
 * the relay gave (so a well-behaved end never fills the relay's queue); data frames come in as
 * reads. Ending or destroying it closes the circuit; the circuit's close ends it.
 */
export class RelayStream extends Duplex {
  readonly kind = RELAY_KIND
  private readonly pace: TokenBucket
  /** Frames a second, as the relay passes them on (CIRCUIT_FRAME_RATE): writes that wait go together (_writev). */
  private readonly frames: TokenBucket
  /** Why the circuit closed from the other side, once it did. */
  closeReason: string | null = null
  private done = false
  private wake: Timer | null = null

  constructor (private readonly ctx: NodeContext, private readonly link: Connection, readonly rid: string, rate: number, private readonly gone: () => void) {
    super()
    const now = (): number => ctx.clock.now()
    this.pace = new TokenBucket(rate, MAX_RELAY_CHUNK, now)
    this.frames = new TokenBucket(CIRCUIT_FRAME_RATE, CIRCUIT_FRAME_BURST, now)
  }

  override _read (): void {}

  /** Writes that waited for the rates leave together, as few frames as their bytes need. */
  override _writev (chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map(c => c.chunk)), 'buffer' as BufferEncoding, cb)
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let at = 0
    const next = (): void => {
      this.wake = null
      while (at < chunk.length) {
        if (this.done) return cb(new Error('relayed circuit closed'))
        const piece = chunk.subarray(at, at + MAX_RELAY_CHUNK)
        const wait = Math.max(this.pace.wait(piece.length), this.frames.wait())
        if (wait > 0) {
          this.wake = this.ctx.clock.setTimeout(next, wait)
          return
        }
        this.pace.take(piece.length)
        this.frames.take()
        this.link.send({ type: 'relay.data', rid: this.rid, data: piece.toString('base64') })
        at += piece.length
      }
      cb()
    }
    next()
  }

  override _final (cb: (err?: Error | null) => void): void {
    this.finish('ended')
    cb()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.finish(err?.message ?? 'closed')
    cb(err)
  }

  /** Bytes from the circuit. */
  deliver (data: string): void {
    if (!this.done) this.push(Buffer.from(data, 'base64'))
  }

  /** The circuit closed from the other side (or its link went): the stream ends. */
  closedBy (reason: string): void {
    if (this.done) return
    this.done = true
    this.clearWake()
    this.gone()
    this.closeReason = reason
    // The end of the stream, as a socket's: the link over it says the peer closed it.
    this.push(null)
    this.destroy()
  }

  private finish (reason: string): void {
    if (this.done) return
    this.done = true
    this.clearWake()
    this.gone()
    this.link.send({ type: 'relay.close', rid: this.rid, reason: reason.slice(0, 200) })
  }

  private clearWake (): void {
    if (this.wake !== null) this.ctx.clock.clearTimeout(this.wake)
    this.wake = null
  }
}

/** One direction of a circuit at the relay: its rate, and what waits for it. */
class Flow {
  readonly bucket: TokenBucket
  readonly frames: TokenBucket
  queue: Buffer[] = []
  queued = 0
  timer: Timer | null = null

  constructor (ctx: NodeContext, rate: number) {
    const now = (): number => ctx.clock.now()
    // A burst of two chunks: a paced sender's chunk, and one more for jitter.
    this.bucket = new TokenBucket(rate, 2 * MAX_RELAY_CHUNK, now)
    this.frames = new TokenBucket(CIRCUIT_FRAME_RATE, CIRCUIT_FRAME_BURST, now)
  }

  /** The queue's head, merged with what follows it up to MAX_RELAY_CHUNK bytes: the next frame's data. */
  head (): Buffer {
    let n = 0
    let k = 0
    while (k < this.queue.length && n + this.queue[k].length <= MAX_RELAY_CHUNK) n += this.queue[k++].length
    if (k <= 1) return this.queue[0]
    const merged = Buffer.concat(this.queue.slice(0, k), n)
    this.queue.splice(0, k, merged)
    return merged
  }
}

/** A hop of a circuit: the link and the circuit's id on it. */
interface Hop { link: Connection, rid: string }

/** A circuit this node relays: from the opener (a) to the target (b), a flow each way. */
interface Circuit { a: Hop, b: Hop, open: boolean, done: boolean, timer: Timer | null, flows: [Flow, Flow] }

/** What a circuit id on a link is to this node: a circuit it relays (its side), or an end of its own. */
type Slot = { circuit: Circuit, side: 0 | 1 } | { end: RelayStream | null, pending?: { resolve: (s: RelayStream) => void, reject: (e: Error) => void, timer: Timer } }

export interface RelayParts {
  /** A request of the library's own to id (NodeActions.ask), through `via` when given. */
  ask: (id: string, name: string, payload: unknown, timeout: number, via?: string) => Promise<unknown>
  /** Take a relayed stream as an inbound link pinned to id. */
  accept: (stream: Duplex, id: string) => void
  /** Take a relayed stream as an outbound link pinned to id; resolves once it is open. */
  adopt: (stream: Duplex, id: string) => Promise<void>
  /** A direct link to id by its signed presence record (reach.ts's dial step). */
  dial: (id: string) => Promise<void>
  /** Whether this node takes links from introductions. */
  introductions: boolean
  options: RelayOptions
}

export class Relays {
  private readonly slots = new Map<Connection, Map<string, Slot>>()
  /** Circuits relayed now. */
  private circuits = 0
  /** Circuits relayed now by peer id (either end), and the relayed links taken in, by relay id (each within CIRCUITS_PER_PEER). */
  private readonly perPeer = new Map<string, number>()
  /** Consents given: requester id → until when, and through which relays. */
  private readonly expects = new Map<string, { until: number, relays: Set<string> }>()

  constructor (private readonly ctx: NodeContext, private readonly peers: PeerSet, private readonly parts: RelayParts) {}

  /** Circuits this node relays now. */
  get size (): number { return this.circuits }

  // --- the opener's side ---------------------------------------------------------------------

  /**
   * A relayed link to id: its consent and its relays asked for over the ring (through `via`
   * first when given), then a circuit through each relay in turn (linked first; one of its
   * peers we are not linked to is dialed first by its presence record), until one opens.
   */
  async connect (id: string, via?: string): Promise<void> {
    const mine = this.relayable().filter(p => p !== id).slice(0, MAX_RELAY_CANDIDATES)
    const answer = await this.parts.ask(id, RELAY_ACTION, via === undefined ? { relays: mine } : { relays: mine, introduced: true }, RELAY_TIMEOUT, via)
    const named = relayAnswerProblem(answer) === null ? (answer as { relays: string[] }).relays : null
    if (named === null) throw new Error('its answer named no relay we could use')
    if (named.length === 0) throw new Error('no relay (it has no peer to relay through)')
    const tried: string[] = []
    for (const r of named.filter(r => r !== id && r !== this.ctx.table.id).slice(0, RELAY_TRIES)) {
      try {
        if (this.peers.get(r) === undefined) await this.parts.dial(r)
        const stream = await this.open(r, id)
        await this.parts.adopt(stream, id)
        return
      } catch (err) {
        tried.push(`${r.slice(0, 8)}…: ${(err as Error).message}`)
      }
    }
    throw new Error(`every relay failed (${tried.join('; ')})`)
  }

  /** A circuit to `to` through the linked peer `relay`: resolves with our end once the far end accepted. */
  open (relay: string, to: string): Promise<RelayStream> {
    const link = this.peers.get(relay)
    if (link === undefined) return Promise.reject(new Error('not linked to the relay'))
    const rid = randomHex(this.ctx.random, 8)
    return new Promise((resolve, reject) => {
      const timer = this.ctx.clock.setTimeout(() => {
        this.drop(link, rid)
        reject(new Error('the relay did not answer'))
      }, 2 * CIRCUIT_OPEN_TIMEOUT)
      this.slotsOf(link).set(rid, { end: null, pending: { resolve, reject, timer } })
      link.send({ type: 'relay.connect', rid, to })
    })
  }

  // --- the target's side ---------------------------------------------------------------------

  /**
   * The handler of RELAY_ACTION from `from` (who wants a relayed link to us): the relays we would
   * take its circuit through, ours in common with those it offers first, then up to
   * MAX_RELAY_CANDIDATES of our other peers (it may dial one); remembered as our consent.
   */
  request (from: string, payload: unknown): { relays: string[] } {
    const why = relayRequestProblem(payload)
    if (why !== null) throw new Error(why)
    const offered = (payload as { relays: string[] }).relays
    if ((payload as { introduced?: unknown }).introduced === true && !this.parts.introductions) throw new Error('refused: this node takes no links from introductions (introductions: false)')
    const ours = this.relayable().filter(p => p !== from)
    const common = offered.filter(p => ours.includes(p))
    const relays = [...common, ...ours.filter(p => !common.includes(p))].slice(0, MAX_RELAY_CANDIDATES)
    if (relays.length > 0) {
      this.expects.delete(from)
      if (this.expects.size >= MAX_RELAY_CONSENTS) this.expects.delete(this.expects.keys().next().value as string)
      this.expects.set(from, { until: this.ctx.clock.now() + RELAY_CONSENT, relays: new Set(relays) })
    }
    return { relays }
  }

  // --- frames --------------------------------------------------------------------------------

  /** A relay.* frame from a linked peer. */
  receive (c: Connection, m: RelayMessage): void {
    const slots = this.slotsOf(c)
    const slot = slots.get(m.rid)
    switch (m.type) {
      case 'relay.connect':
        if (slot !== undefined) return c.close('protocol violation: relay circuit id in use', true, true)
        return this.relay(c, m.rid, m.to)
      case 'relay.incoming':
        if (slot !== undefined) return c.close('protocol violation: relay circuit id in use', true, true)
        return this.incoming(c, m.rid, m.from, m.rate)
      case 'relay.accept':
        if (slot === undefined) return
        if ('circuit' in slot) return this.accepted(slot.circuit, slot.side)
        if (slot.pending !== undefined) {
          const { resolve, timer } = slot.pending
          this.ctx.clock.clearTimeout(timer)
          // Paced at the relay's rate: its own setting, not ours, is what the circuit carries.
          const end = new RelayStream(this.ctx, c, m.rid, m.rate ?? this.parts.options.rate, () => this.drop(c, m.rid))
          slots.set(m.rid, { end })
          resolve(end)
        }
        return
      case 'relay.data':
        if (slot === undefined) return
        if ('circuit' in slot) return this.forward(slot.circuit, slot.side, m.data)
        if (slot.end !== null) slot.end.deliver(m.data)
        else c.close('protocol violation: relay.data before relay.accept', true, true)
        return
      case 'relay.close':
        if (slot === undefined) return
        if ('circuit' in slot) return this.teardown(slot.circuit, m.reason, slot.side)
        this.drop(c, m.rid)
        if (slot.pending !== undefined) {
          this.ctx.clock.clearTimeout(slot.pending.timer)
          slot.pending.reject(new Error(m.reason))
        }
        slot.end?.closedBy(m.reason)
    }
  }

  /** A link closed: its circuits with it (the far side told), its ends ended. */
  closed (c: Connection): void {
    const slots = this.slots.get(c)
    if (slots === undefined) return
    this.slots.delete(c)
    for (const slot of slots.values()) {
      if ('circuit' in slot) this.teardown(slot.circuit, `the relay lost its link to ${c.peerId.slice(0, 8)}…`, slot.side)
      else if (slot.pending !== undefined) {
        this.ctx.clock.clearTimeout(slot.pending.timer)
        slot.pending.reject(new Error('the link to the relay closed'))
      } else slot.end?.closedBy('the link to the relay closed')
    }
  }

  /** Ends everything (the node is closing). */
  close (): void {
    for (const c of [...this.slots.keys()]) this.closed(c)
    this.expects.clear()
  }

  // --- the relay's side ----------------------------------------------------------------------

  /** relay.connect from `a`: a circuit to `to`, within the caps, once `to` accepts. */
  private relay (a: Connection, rid: string, to: string): void {
    const refuse = (reason: string): void => a.send({ type: 'relay.close', rid, reason })
    const o = this.parts.options
    if (!o.enabled) return refuse('refused: this node does not relay (relay: false)')
    if (a.transport === RELAY_KIND) return refuse('refused: no circuit over a relayed link')
    if (to === a.peerId || to === this.ctx.table.id) return refuse('refused: a circuit to its own opener or to the relay')
    const b = this.peers.get(to)
    if (b === undefined) return refuse(`not linked to ${to.slice(0, 8)}…`)
    if (b.transport === RELAY_KIND) return refuse('refused: no circuit over a relayed link')
    if (this.circuits >= o.links) return refuse(`busy: relay-links (${o.links}) circuits at once`)
    if ((this.perPeer.get(a.peerId) ?? 0) >= o.perPeer || (this.perPeer.get(to) ?? 0) >= o.perPeer) return refuse(`refused: relay-links-per-peer (${o.perPeer}) circuits for one peer`)
    const circuit: Circuit = {
      a: { link: a, rid },
      b: { link: b, rid: randomHex(this.ctx.random, 8) },
      open: false,
      done: false,
      timer: null,
      flows: [new Flow(this.ctx, o.rate), new Flow(this.ctx, o.rate)]
    }
    this.circuits++
    this.count(a.peerId, 1)
    this.count(to, 1)
    this.slotsOf(a).set(rid, { circuit, side: 0 })
    this.slotsOf(b).set(circuit.b.rid, { circuit, side: 1 })
    circuit.timer = this.ctx.clock.setTimeout(() => this.teardown(circuit, 'the far end did not answer'), CIRCUIT_OPEN_TIMEOUT)
    b.send({ type: 'relay.incoming', rid: circuit.b.rid, from: a.peerId, rate: o.rate })
  }

  /** relay.accept on a circuit we relay: from the target, it opens, and the opener hears so. */
  private accepted (circuit: Circuit, side: 0 | 1): void {
    if (side !== 1 || circuit.open) return
    circuit.open = true
    if (circuit.timer !== null) this.ctx.clock.clearTimeout(circuit.timer)
    circuit.timer = null
    circuit.a.link.send({ type: 'relay.accept', rid: circuit.a.rid, rate: this.parts.options.rate })
  }

  /** relay.data from one side: on to the other within the rate, queued up to CIRCUIT_QUEUE, else the circuit closes. */
  private forward (circuit: Circuit, side: 0 | 1, data: string): void {
    if (!circuit.open) return this.teardown(circuit, 'data before the circuit opened')
    const flow = circuit.flows[side]
    const to = side === 0 ? circuit.b : circuit.a
    const n = base64Bytes(data)
    // Within both rates and nothing waiting: on at once, as it came (no decoding).
    if (flow.queue.length === 0 && flow.bucket.wait(n) === 0 && flow.frames.take()) {
      flow.bucket.take(n)
      to.link.send({ type: 'relay.data', rid: to.rid, data })
      return
    }
    if (flow.queued + n > CIRCUIT_QUEUE) return this.teardown(circuit, `over the relay's rate (${this.parts.options.rate} bytes a second; CIRCUIT_QUEUE ${CIRCUIT_QUEUE} bytes held)`)
    flow.queue.push(Buffer.from(data, 'base64'))
    flow.queued += n
    if (flow.timer === null) this.drain(circuit, flow, to)
  }

  /** Sends what waits, merged into frames of up to MAX_RELAY_CHUNK, as both rates allow; else waits for them. */
  private drain (circuit: Circuit, flow: Flow, to: Hop): void {
    flow.timer = null
    while (flow.queue.length > 0) {
      const data = flow.head()
      const wait = Math.max(flow.bucket.wait(data.length), flow.frames.wait())
      if (wait > 0) {
        flow.timer = this.ctx.clock.setTimeout(() => this.drain(circuit, flow, to), wait)
        return
      }
      flow.bucket.take(data.length)
      flow.frames.take()
      flow.queue.shift()
      flow.queued -= data.length
      to.link.send({ type: 'relay.data', rid: to.rid, data: data.toString('base64') })
    }
  }

  /** A circuit ends: both hops forgotten, the side(s) other than `from` told why. */
  private teardown (circuit: Circuit, reason: string, from?: 0 | 1): void {
    if (circuit.done) return
    circuit.done = true
    this.drop(circuit.a.link, circuit.a.rid)
    this.drop(circuit.b.link, circuit.b.rid)
    this.circuits--
    this.count(circuit.a.link.peerId, -1)
    this.count(circuit.b.link.peerId, -1)
    if (circuit.timer !== null) this.ctx.clock.clearTimeout(circuit.timer)
    for (const f of circuit.flows) if (f.timer !== null) this.ctx.clock.clearTimeout(f.timer)
    const text = reason.slice(0, 200)
    if (from !== 0) circuit.a.link.send({ type: 'relay.close', rid: circuit.a.rid, reason: text })
    if (from !== 1) circuit.b.link.send({ type: 'relay.close', rid: circuit.b.rid, reason: text })
  }

  // --- the target's end of a circuit ---------------------------------------------------------

  /** relay.incoming from relay `r`: a circuit from `from`, taken when we consented to it through r. */
  private incoming (r: Connection, rid: string, from: string, rate: number): void {
    const refuse = (reason: string): void => r.send({ type: 'relay.close', rid, reason })
    const consent = this.expects.get(from)
    if (consent === undefined || consent.until < this.ctx.clock.now() || !consent.relays.has(r.peerId)) return refuse(`refused: ${from.slice(0, 8)}… did not ask this node for a relayed link through this relay`)
    if (r.transport === RELAY_KIND) return refuse('refused: no circuit over a relayed link')
    if (this.peers.get(from) !== undefined) return refuse('refused: already linked')
    if ((this.perPeer.get(r.peerId) ?? 0) >= this.parts.options.perPeer) return refuse(`refused: relay-links-per-peer (${this.parts.options.perPeer}) relayed links through one relay`)
    this.expects.delete(from)
    this.count(r.peerId, 1)
    const end = new RelayStream(this.ctx, r, rid, rate, () => {
      this.drop(r, rid)
      this.count(r.peerId, -1)
    })
    this.slotsOf(r).set(rid, { end })
    r.send({ type: 'relay.accept', rid })
    this.parts.accept(end, from)
  }

  // --- bookkeeping ---------------------------------------------------------------------------

  /** Our linked peers a circuit may go through: ids of open links (not those in their handshake), none of them itself relayed. */
  private relayable (): string[] {
    const out: string[] = []
    for (const c of this.peers) if (c.transport !== RELAY_KIND) out.push(c.peerId)
    return out
  }

  private slotsOf (c: Connection): Map<string, Slot> {
    let s = this.slots.get(c)
    if (s === undefined) {
      s = new Map()
      this.slots.set(c, s)
    }
    return s
  }

  private drop (c: Connection, rid: string): void {
    const s = this.slots.get(c)
    if (s === undefined) return
    s.delete(rid)
    if (s.size === 0) this.slots.delete(c)
  }

  private count (id: string, by: 1 | -1): void {
    const n = (this.perPeer.get(id) ?? 0) + by
    if (n <= 0) this.perPeer.delete(id)
    else this.perPeer.set(id, n)
  }
}

/** Why x is no RELAY_ACTION request ({relays: up to MAX_RELAY_CANDIDATES ids}), or null. */
export function relayRequestProblem (x: unknown): string | null {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return 'a relay request must be an object'
  return idsProblem((x as { relays?: unknown }).relays, 'a relay request')
}

/** Why x is no answer to RELAY_ACTION ({relays: up to MAX_RELAY_CANDIDATES ids}), or null. */
export function relayAnswerProblem (x: unknown): string | null {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return 'a relay answer must be an object'
  return idsProblem((x as { relays?: unknown }).relays, 'a relay answer')
}

function idsProblem (v: unknown, what: string): string | null {
  if (!Array.isArray(v) || v.length > MAX_RELAY_CANDIDATES || !v.every(x => typeof x === 'string' && ID.test(x))) return `${what} names up to MAX_RELAY_CANDIDATES (${MAX_RELAY_CANDIDATES}) relays by id`
  return null
}
