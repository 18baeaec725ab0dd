// An in-memory transport for the simulation and protocol unit tests: addresses are mem://NAME,
// a "network" maps names to listeners, and a dial gives a pair of connected duplex streams.
// Never a stand-in for tcp/ws in integration tests.
//
// Back-pressure is a socket's: a link holds up to MEM_LINK_BUFFER bytes in flight and unread at
// the far end; past that a write waits until the reader reads, so write() returns false and the
// writer's writableLength grows as it would over TCP to a peer that stopped reading.
import { Duplex } from 'node:stream'
import { parseAddress } from './address.js'

/** Bytes one direction of a link holds (in flight, and unread by the reader) before writes wait. */
export const MEM_LINK_BUFFER = 64 * 1024

export interface MemInfo {
  /** The name of the side that dialed (its "host"), used for source groups. */
  host: string
}

export type MemHandler = (stream: Duplex, info: MemInfo) => void

/** Runs one delivery (of a chunk or an end) from one end of a link to the other. */
export type Deliver = (fn: () => void) => void

export interface MemNetworkOptions {
  /**
   * How deliveries are run: by default on a later microtask, as a socket would (a chain of
   * nodes answering each other must not recurse through every hop on one stack). The
   * simulation holds them for a link latency on its virtual clock. Deliveries run in order.
   */
  deliver?: Deliver
  /** Sees each chunk as a link takes it, with the end that wrote it (the simulation counts). */
  onChunk?: (chunk: Buffer, from: Duplex) => void
}

class MemEnd extends Duplex {
  other: MemEnd | null = null
  /** Bytes written here and not yet handed to the other end. */
  private inFlight = 0
  /** A write waiting for room on the link (Writable hands us one chunk at a time). */
  private blocked: { chunk: Buffer, cb: (err?: Error | null) => void } | null = null

  constructor (private readonly deliver: Deliver, private readonly onChunk?: (chunk: Buffer, from: Duplex) => void) {
    super()
  }

  /** Bytes on the way from here: in flight, and delivered but not yet read. */
  private held (): number {
    return this.inFlight + (this.other?.readableLength ?? 0)
  }

  override _read (): void {
    // Our reader wants more: a write waiting for room on the way here may go on.
    this.other?.unblock()
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.other !== null && this.held() >= MEM_LINK_BUFFER) {
      this.blocked = { chunk, cb }
      return
    }
    this.send(chunk)
    cb()
  }

  override _final (cb: (err?: Error | null) => void): void {
    const other = this.other
    if (other) this.deliver(() => { if (!other.destroyed) other.push(null) })
    cb()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    const other = this.other
    this.other = null
    this.blocked = null
    if (other) {
      other.other = null
      queueMicrotask(() => { other.push(null); other.destroy() })
    }
    cb(err)
  }

  private send (chunk: Buffer): void {
    const other = this.other
    if (!other) return // the far end is gone: the bytes are lost, as on a reset socket
    this.onChunk?.(chunk, this)
    this.inFlight += chunk.length
    this.deliver(() => {
      this.inFlight -= chunk.length
      if (!other.destroyed) other.push(chunk)
      this.unblock()
    })
  }

  /** Take a waiting write once the link has room again. */
  private unblock (): void {
    const b = this.blocked
    if (b === null || this.held() >= MEM_LINK_BUFFER) return
    this.blocked = null
    this.send(b.chunk)
    b.cb()
  }
}

export function memPair (opts: MemNetworkOptions = {}): [Duplex, Duplex] {
  const deliver = opts.deliver ?? queueMicrotask
  const a = new MemEnd(deliver, opts.onChunk)
  const b = new MemEnd(deliver, opts.onChunk)
  a.other = b
  b.other = a
  return [a, b]
}

export class MemNetwork {
  private listeners = new Map<string, MemHandler>()

  constructor (private readonly opts: MemNetworkOptions = {}) {}

  /** Accept connections at mem://name; returns a function that stops listening. */
  listen (address: string, handler: MemHandler): () => void {
    const { href } = parseAddress(address)
    if (!href.startsWith('mem://')) throw new Error(`not a mem:// address: ${href}`)
    if (this.listeners.has(href)) throw new Error(`${href} is already in use`)
    this.listeners.set(href, handler)
    return () => { if (this.listeners.get(href) === handler) this.listeners.delete(href) }
  }

  /** Dial mem://name. `from` names the dialing side for the listener's source-group rules. */
  dial (address: string, from = 'anonymous'): Duplex {
    const [mine, theirs] = memPair(this.opts)
    const href = parseAddress(address).href
    queueMicrotask(() => {
      const handler = this.listeners.get(href)
      if (!handler) {
        mine.destroy(Object.assign(new Error(`connection refused: nobody listens at ${href}`), { code: 'ECONNREFUSED' }))
        return
      }
      mine.emit('connect')
      handler(theirs, { host: from })
    })
    return mine
  }

  /** A transport function for peernet(db, {transport}); `from` as for dial. */
  transport (from?: string): (address: string) => Duplex {
    return address => this.dial(address, from)
  }

  get size (): number { return this.listeners.size }
}

export function createMemNetwork (opts?: MemNetworkOptions): MemNetwork {
  return new MemNetwork(opts)
}

export default createMemNetwork
