// An in-memory transport for the simulation and protocol unit tests: addresses are mem://NAME,
// a "network" maps names to listeners, and a dial gives a pair of connected duplex streams.
// Never a stand-in for tcp/ws in integration tests.
import { Duplex } from 'node:stream'
import { parseAddress } from './address.js'

export interface MemInfo {
  /** The name of the side that dialed (its "host"), used for source groups. */
  host: string
}

export type MemHandler = (stream: Duplex, info: MemInfo) => void

class MemEnd extends Duplex {
  other: MemEnd | null = null

  override _read (): void {}

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const other = this.other
    // Delivered on a later microtask, as a socket would: a chain of nodes answering each
    // other must not recurse through every hop on one stack.
    if (other) queueMicrotask(() => { if (!other.destroyed) other.push(chunk) })
    cb()
  }

  override _final (cb: (err?: Error | null) => void): void {
    const other = this.other
    if (other) queueMicrotask(() => { if (!other.destroyed) other.push(null) })
    cb()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    const other = this.other
    this.other = null
    if (other) {
      other.other = null
      queueMicrotask(() => { other.push(null); other.destroy() })
    }
    cb(err)
  }
}

export function memPair (): [Duplex, Duplex] {
  const a = new MemEnd()
  const b = new MemEnd()
  a.other = b
  b.other = a
  return [a, b]
}

export class MemNetwork {
  private listeners = new Map<string, MemHandler>()

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
    const [mine, theirs] = memPair()
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

export function createMemNetwork (): MemNetwork {
  return new MemNetwork()
}

export default createMemNetwork
