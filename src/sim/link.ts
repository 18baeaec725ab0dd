// The simulation's in-memory links: what transport/mem.ts's Duplex pair does for a node, without
// Node's stream machinery. Each frame a sim node sends went through a Writable and a Readable
// (their states, buffers and callbacks), which the simulation paid for on every frame of every
// link; these ends are plain event emitters that do only what a Connection uses of a stream:
// 'data', 'end', 'close' and 'error', write(), end(), destroy() and writableLength.
//
// They keep mem.ts's timing event for event (the simulation's rows stay the same): a chunk is
// handed to the network's deliver() as it is written and emitted at once when delivered; an
// end is delivered the same way; 'end', 'close' and 'error' come on a later tick as a stream's
// do, and a destroyed end cuts its peer on a later microtask. Back-pressure is mem.ts's:
// MEM_LINK_BUFFER bytes in flight (twice that on a slow link), then writes wait (and count in
// writableLength).
// Tests of the node keep using mem.ts, whose ends are real streams.
//
// Nor are they EventEmitters: an emitter keeps its listeners in a dictionary-mode object of
// its own (about 600 B an end with a Connection's five listeners, two ends a link, ~31 links a
// node). An end keeps one slot per event it has (a function, or several in an array, as an
// emitter does) and calls them the way emit() does: in order, over a copy when there are several.
import type { Duplex } from 'node:stream'
import { parseAddress } from '../transport/address.js'
import { MEM_LINK_BUFFER, type Deliver, type MemHandler } from '../transport/mem.js'

type Listener = (...args: any[]) => void // eslint-disable-line @typescript-eslint/no-explicit-any
type Slot = Listener | Listener[] | null

/** The events an end has: the Connection's, and 'connect' for a dialed end. */
const EVENTS = ['data', 'end', 'error', 'close', 'handshake', 'connect'] as const
type EventName = (typeof EVENTS)[number]

/**
 * Deliveries waiting, in order, as what each is (the end that sent, the end it goes to, the chunk
 * or null for an end) in three arrays: a Deliver function costs a closure for every frame of every
 * link, which the simulation paid for in allocation and collection. The same deliveries in the
 * same order as a Deliver function's (mem.ts's), run by run().
 */
export class Outbox {
  private from: SimEnd[] = []
  private to: SimEnd[] = []
  private chunks: Array<Buffer | null> = []
  /** What take() set aside for run(); emptied by it and used again (no new arrays a step). */
  private taken: [SimEnd[], SimEnd[], Array<Buffer | null>] = [[], [], []]
  /**
   * Deliveries on a slow link (SimEnd.slow) already held back a step, by index in the posted
   * arrays and in those taken: they go at the next run(). Empty while no link is slow.
   */
  private late: boolean[] = []
  private lateTaken: boolean[] = []

  post (from: SimEnd, to: SimEnd, chunk: Buffer | null): void {
    if (this.late.length > 0) this.late.push(false)
    this.from.push(from)
    this.to.push(to)
    this.chunks.push(chunk)
  }

  /** post(), for a delivery a slow link held back a step already. */
  private postLate (from: SimEnd, to: SimEnd, chunk: Buffer | null): void {
    this.post(from, to, chunk)
    while (this.late.length < this.from.length) this.late.push(false)
    this.late[this.from.length - 1] = true
  }

  /** Set aside what was posted so far for run(): what is posted from now on waits for the next take(). */
  take (): this {
    const [from, to, chunks] = this.taken
    if (from.length > 0) throw new Error('Outbox.take() before the last take() was run')
    this.taken = [this.from, this.to, this.chunks]
    this.from = from
    this.to = to
    this.chunks = chunks
    const late = this.lateTaken
    late.length = 0
    this.lateTaken = this.late
    this.late = late
    return this
  }

  /** Deliver, in order, what the last take() set aside (a slow link's: a step later). */
  run (): void {
    const [from, to, chunks] = this.taken
    const late = this.lateTaken
    for (let i = 0; i < from.length; i++) {
      const chunk = chunks[i]
      // Every delivery of a slow link waits one step more, so its order stays its own.
      if (to[i].slow && late[i] !== true) {
        this.postLate(from[i], to[i], chunk)
        continue
      }
      if (chunk === null) SimEnd.arriveEnd(to[i])
      else from[i].arrive(to[i], chunk)
    }
    from.length = 0
    to.length = 0
    chunks.length = 0
  }
}

/**
 * The empty queue every end starts with, shared: nearly all ends never queue a chunk (the link
 * has room, and the Connection reads at once), and two arrays of their own cost each of a
 * node's ~40 link ends ~64 bytes. Never pushed to: an end takes an array of its own first.
 */
const NONE: Buffer[] = []

export class SimEnd {
  other: SimEnd | FarEnd | null = null
  destroyed = false
  /** Bytes written and waiting for room on the link (a stream's writableLength). */
  writableLength = 0
  /** Bytes written here and not yet handed to the other end. */
  private inFlight = 0
  /** Writes waiting for room on the link, in order (NONE until one waits). */
  private waiting: Buffer[] = NONE
  /** end() was called: the end goes once the writes waiting have gone. */
  private ending = false
  private finished = false
  /** The other end's end came; and whether 'end' was emitted. */
  private eof = false
  private endEmitted = false
  private closeEmitted = false
  /** Chunks delivered while nobody read (no 'data' listener yet, or paused): a stream buffers them too (NONE until one does). */
  private unread: Buffer[] = NONE
  private unreadBytes = 0
  private paused = false
  private onData: Slot = null
  private onEnd: Slot = null
  private onError: Slot = null
  private onClose: Slot = null
  private onHandshake: Slot = null
  private onConnect: Slot = null
  /**
   * The set of its node's ends this end is in (the world's, to cut them at a crash), left as it
   * closes, just before its 'close': a field, where a 'close' listener cost a closure an end.
   */
  holder: Set<SimEnd> | null = null
  /**
   * Whether what reaches this end takes two steps rather than one (SimNetwork.slowLink): both
   * ends of a slow link are. The Outbox and CrossNet hold its deliveries; its window is twice
   * as large (window()).
   */
  slow = false

  constructor (private readonly deliver: Deliver | Outbox, private readonly onChunk?: (chunk: Buffer, from: Duplex) => void) {}

  // --- events: what a Connection (and the world) uses of an emitter ----------------------

  on (event: EventName, fn: Listener): this {
    const had = this.listeners(event)
    this.set(event, had === null ? fn : typeof had === 'function' ? [had, fn] : [...had, fn])
    if (event === 'data' && this.unread.length > 0) process.nextTick(() => this.drainUnread())
    return this
  }

  addListener (event: EventName, fn: Listener): this { return this.on(event, fn) }

  once (event: EventName, fn: Listener): this {
    const once = (...args: unknown[]): void => {
      this.off(event, once)
      fn(...args)
    }
    return this.on(event, once)
  }

  off (event: EventName, fn: Listener): this {
    const had = this.listeners(event)
    if (had === fn) this.set(event, null)
    else if (Array.isArray(had) && had.includes(fn)) {
      const rest = had.filter(f => f !== fn)
      this.set(event, rest.length === 1 ? rest[0] : rest)
    }
    return this
  }

  removeListener (event: EventName, fn: Listener): this { return this.off(event, fn) }

  listenerCount (event: EventName): number {
    const had = this.listeners(event)
    return had === null ? 0 : typeof had === 'function' ? 1 : had.length
  }

  /** As EventEmitter.emit: listeners in order (over a copy), and an 'error' nobody hears thrown. */
  emit (event: EventName, ...args: unknown[]): boolean {
    const had = this.listeners(event)
    if (had === null) {
      if (event === 'error') throw args[0] instanceof Error ? args[0] : new Error(`unhandled 'error' event (${String(args[0])})`)
      return false
    }
    if (typeof had === 'function') had.apply(this, args)
    else for (const fn of had.slice()) fn.apply(this, args)
    return true
  }

  private listeners (event: EventName): Slot {
    switch (event) {
      case 'data': return this.onData
      case 'end': return this.onEnd
      case 'error': return this.onError
      case 'close': return this.onClose
      case 'handshake': return this.onHandshake
      case 'connect': return this.onConnect
    }
    throw new Error(`a simulated link has no '${String(event)}' event (it has ${EVENTS.join(', ')})`)
  }

  private set (event: EventName, slot: Slot): void {
    switch (event) {
      case 'data': this.onData = slot; return
      case 'end': this.onEnd = slot; return
      case 'error': this.onError = slot; return
      case 'close': this.onClose = slot; return
      case 'handshake': this.onHandshake = slot; return
      case 'connect': this.onConnect = slot
    }
  }

  write (chunk: Buffer): boolean {
    if (this.destroyed || this.ending) return false
    if (this.waiting.length > 0 || (this.other !== null && this.held() >= this.window())) {
      if (this.waiting === NONE) this.waiting = []
      this.waiting.push(chunk)
      this.writableLength += chunk.length
      return false
    }
    this.send(chunk)
    return true
  }

  end (): this {
    if (this.destroyed || this.ending) return this
    this.ending = true
    if (this.waiting.length === 0) this.final()
    return this
  }

  destroy (err?: Error): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.waiting = NONE
    this.writableLength = 0
    const other = this.other
    this.other = null
    if (other instanceof FarEnd) other.cut()
    else if (other !== null) {
      other.other = null
      queueMicrotask(() => other.cutByPeer())
    }
    process.nextTick(() => {
      if (err !== undefined) this.emit('error', err)
      this.holder?.delete(this)
      this.holder = null
      this.closeEmitted = true
      this.emit('close')
    })
    return this
  }

  /** The other end was destroyed (here or on another thread): this one's end comes, then it goes. */
  cutByPeer (): void {
    this.other = null
    this.take(null)
    this.destroy()
  }

  /** Stop reading: what arrives waits, and counts against the writer's room on the link. */
  pause (): this {
    this.paused = true
    return this
  }

  resume (): this {
    this.paused = false
    process.nextTick(() => this.drainUnread())
    return this
  }

  /**
   * Bytes the link holds from here before writes wait: MEM_LINK_BUFFER a step of its latency. A
   * link's window is its bandwidth-delay product (TCP's grows to it): a slow link, with a step
   * more each way, carries as many bytes a step as a fast one. With one window for both, a slow
   * link carried half, and the ~40 KB answers of a point many search queued on the slow links
   * near its owner past LOOKUP_RETRY.
   */
  private window (): number {
    return this.slow ? 2 * MEM_LINK_BUFFER : MEM_LINK_BUFFER
  }

  /** Bytes on the way from here: in flight, and delivered but not yet read. */
  private held (): number {
    const other = this.other
    return this.inFlight + (other instanceof SimEnd ? other.unreadBytes : 0)
  }

  private send (chunk: Buffer): void {
    const other = this.other
    if (other === null) return // the far end is gone: the bytes are lost, as on a reset socket
    this.onChunk?.(chunk, this as unknown as Duplex)
    if (other instanceof FarEnd) return other.ship(chunk)
    this.inFlight += chunk.length
    const d = this.deliver
    if (typeof d === 'function') d(() => this.arrive(other, chunk))
    else d.post(this, other, chunk)
  }

  /** A chunk this end sent reaches `other` (the end it was sent to, whatever became of this one's). */
  arrive (other: SimEnd, chunk: Buffer): void {
    this.inFlight -= chunk.length
    if (!other.destroyed) other.take(chunk)
    this.unblock()
  }

  /** This end's end reaches `other`. */
  static arriveEnd (other: SimEnd): void {
    if (!other.destroyed) other.take(null)
  }

  /** The writes waiting go as far as the link has room; then the end, if asked for. */
  private unblock (): void {
    while (this.waiting.length > 0 && !this.destroyed) {
      if (this.other !== null && this.held() >= this.window()) return
      const chunk = this.waiting.shift() as Buffer
      this.writableLength -= chunk.length
      this.send(chunk)
    }
    if (this.ending && !this.finished && this.waiting.length === 0 && !this.destroyed) this.final()
  }

  private final (): void {
    const other = this.other
    if (other instanceof FarEnd) other.ship(null)
    else if (other !== null) {
      const d = this.deliver
      if (typeof d === 'function') d(() => SimEnd.arriveEnd(other))
      else d.post(this, other, null)
    }
    process.nextTick(() => {
      this.finished = true
      // Both ways ended: the end is done with, as a stream destroys itself.
      if (this.endEmitted) this.destroy()
    })
  }

  /** A chunk (or the other end's end, null) arrives. */
  take (chunk: Buffer | null): void {
    if (this.destroyed) return
    if (chunk === null) {
      if (this.eof) return
      this.eof = true
      if (this.unread.length === 0) process.nextTick(() => this.emitEnd())
      return
    }
    if (this.paused || this.unread.length > 0 || this.onData === null) {
      if (this.unread === NONE) this.unread = []
      this.unread.push(chunk)
      this.unreadBytes += chunk.length
    } else if (typeof this.onData === 'function') {
      // emit()'s own path without its array of arguments: every frame of every link comes here.
      this.onData.call(this, chunk)
    } else {
      this.emit('data', chunk)
    }
  }

  /** Hand on what waited, now someone reads. */
  private drainUnread (): void {
    while (this.unread.length > 0 && !this.paused && !this.destroyed && this.listenerCount('data') > 0) {
      const c = this.unread.shift() as Buffer
      this.unreadBytes -= c.length
      this.emit('data', c)
    }
    if (this.unread.length > 0) return
    if (this.eof) this.emitEnd()
    const other = this.other
    if (other instanceof SimEnd) other.unblock()
  }

  private emitEnd (): void {
    if (this.closeEmitted || this.endEmitted) return
    this.endEmitted = true
    this.emit('end')
    if (this.finished) this.destroy()
  }
}

/** Two connected ends (mem.ts's memPair). */
export function simPair (deliver: Deliver | Outbox, onChunk?: (chunk: Buffer, from: Duplex) => void): [SimEnd, SimEnd] {
  const a = new SimEnd(deliver, onChunk)
  const b = new SimEnd(deliver, onChunk)
  a.other = b
  b.other = a
  return [a, b]
}

/** What a dial to an address nobody listens at ends with, as a socket's refused connect. */
export function refused (href: string): Error {
  return Object.assign(new Error(`connection refused: nobody listens at ${href}`), { code: 'ECONNREFUSED' })
}

/** mem.ts's MemNetwork with SimEnd links. */
export class SimNetwork {
  private readonly listeners = new Map<string, MemHandler>()

  constructor (private readonly deliver: Deliver | Outbox, private readonly onChunk?: (chunk: Buffer, from: Duplex) => void) {}

  /** The handler listening at href, if any. */
  listener (href: string): MemHandler | undefined {
    return this.listeners.get(href)
  }

  /** Accept connections at mem://name; returns a function that stops listening. */
  listen (address: string, handler: MemHandler): () => void {
    const { href } = parseAddress(address)
    if (!href.startsWith('mem://')) throw new Error(`not a mem:// address: ${href}`)
    if (this.listeners.has(href)) throw new Error(`${href} is already in use`)
    this.listeners.set(href, handler)
    return () => { if (this.listeners.get(href) === handler) this.listeners.delete(href) }
  }

  /**
   * Links to addresses another thread listens at (parallel.ts): `dial` gives the local end of
   * one, or null for an address of this thread's.
   */
  far: ((href: string, from: string) => SimEnd | null) | null = null

  /** Whether a link from `from` to href is slow (each way two steps); none are unless set. */
  slowLink: ((from: string, href: string) => boolean) | null = null

  /** slowLink's word for a link from `from` to href (false when unset). */
  isSlow (from: string, href: string): boolean {
    return this.slowLink?.(from, href) === true
  }

  /** Dial mem://name; `from` names the dialing side for the listener's source-group rules. */
  dial (address: string, from = 'anonymous'): Duplex {
    const href = parseAddress(address).href
    const far = this.far?.(href, from) ?? null
    if (far !== null) return far as unknown as Duplex
    const [mine, theirs] = simPair(this.deliver, this.onChunk)
    if (this.isSlow(from, href)) mine.slow = theirs.slow = true
    queueMicrotask(() => {
      const handler = this.listeners.get(href)
      if (!handler) {
        mine.destroy(refused(href))
        return
      }
      mine.emit('connect')
      handler(theirs as unknown as Duplex, { host: from })
    })
    return mine as unknown as Duplex
  }
}

// --- links between nodes run by different threads (parallel.ts) ----------------------------

/** What goes from one thread's ends to the other's at a step: by link id, in the order written. */
export type CrossItem =
  | { k: 'connect', link: number, from: number, to: number, host: string }
  | { k: 'data', link: number, chunk: Uint8Array }
  | { k: 'end', link: number }
  | { k: 'cut', link: number }
  | { k: 'claim', qid: string, sink: number }

/**
 * The far end of a link whose other end another thread runs: what a local end writes to it,
 * ends and cuts goes into the thread's cross list, sent at the next step and delivered there
 * then, as the Outbox delivers a local link's a step later. It holds the far node's key for the
 * stand-in secure layer (stand-in.ts), which reads it where it reads a local end's.
 */
export class FarEnd {
  other: null = null
  destroyed = false

  constructor (readonly link: number, private readonly out: CrossItem[]) {}

  ship (chunk: Buffer | null): void {
    if (this.destroyed) return
    if (chunk === null) this.out.push({ k: 'end', link: this.link })
    else this.out.push({ k: 'data', link: this.link, chunk })
  }

  cut (): void {
    if (this.destroyed) return
    this.destroyed = true
    this.out.push({ k: 'cut', link: this.link })
  }
}
