// The simulation over several threads: each runs the same scenario with the same seed, so each
// makes the same choices (who joins, who is killed, who searches), but only runs the nodes it
// owns (node idx on thread idx % count). What crosses threads is exchanged at fixed points, in
// the same order on every thread: at each step, the frames written on links whose other end
// another thread runs (a step's latency, as the Outbox gives a local link), and at each
// interval's end the figures each thread holds for its own nodes. An exchange is synchronous
// (a message and a futex wait) and its two halves sit at fixed points (a step sends at its start
// and takes the others' part once its own timers and local frames are done), so what runs
// between them is the same in every run and a seed gives one result for a given thread count.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { FarEnd, SimEnd, refused, type CrossItem, type Outbox, type SimNetwork } from './link.js'
import { setFarKey } from './stand-in.js'
import type { Duplex } from 'node:stream'
import type { YoungGeneration } from './collect.js'

/** Threads a run may use: one per core on this machine and the next; each a share of the nodes. */
export const MAX_THREADS = 8
/** How long a thread waits for another's part of an exchange before it gives up, ms. */
export const EXCHANGE_TIMEOUT = 600_000

/** This thread's place in a parallel run: ports[j] reaches thread j (null for itself). */
export interface Part {
  index: number
  count: number
  ports: Array<MessagePort | null>
  /** One counter per thread, raised by a thread that sent it something (Atomics.wait on it). */
  signal: Int32Array
  /** How long to wait for another thread's part of an exchange, ms (EXCHANGE_TIMEOUT). */
  timeout?: number
  /** This thread's young generation, scavenged when any thread's is nearly full (CrossNet). */
  young?: YoungGeneration
}

/** Sends `mine` to every other thread and returns every thread's, by thread index. */
export function exchange<T> (part: Part, mine: T, transfer: ArrayBuffer[] = []): T[] {
  send(part, mine, transfer)
  return collect(part, mine)
}

/** The first half of an exchange: `mine` goes to every other thread (collect() takes theirs). */
export function send<T> (part: Part, mine: T, transfer: ArrayBuffer[] = []): void {
  for (let j = 0; j < part.count; j++) {
    const port = part.ports[j]
    if (port === null || j === part.index) continue
    // A transfer list goes with one message only: the other threads get copies.
    port.postMessage(mine, transfer.length > 0 && j === lastOther(part) ? transfer : [])
    Atomics.add(part.signal, j, 1)
    Atomics.notify(part.signal, j)
  }
}

/** The second half of an exchange: every thread's part, by thread index (`mine` as this one's). */
export function collect<T> (part: Part, mine: T): T[] {
  const all: T[] = new Array(part.count)
  all[part.index] = mine
  for (let j = 0; j < part.count; j++) {
    const port = part.ports[j]
    if (port === null || j === part.index) continue
    all[j] = receive(part, port) as T
  }
  return all
}

function lastOther (part: Part): number {
  return part.index === part.count - 1 ? part.count - 2 : part.count - 1
}

function receive (part: Part, port: MessagePort): unknown {
  const timeout = part.timeout ?? EXCHANGE_TIMEOUT
  const deadline = Date.now() + timeout
  for (;;) {
    const seen = Atomics.load(part.signal, part.index)
    const m = receiveMessageOnPort(port)
    if (m !== undefined) return m.message
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`thread ${part.index}: no word from another thread in ${timeout / 1000} s (EXCHANGE_TIMEOUT)`)
    Atomics.wait(part.signal, part.index, seen, Math.min(1000, left))
  }
}

/** One step's cross traffic as sent: its items, their chunks packed in one buffer. */
interface Packed {
  items: Array<Exclude<CrossItem, { k: 'data' }> | { k: 'data', link: number, at: number, len: number }>
  bytes: Uint8Array
  /** The sender's young generation was nearly full as it sent (scavengeTogether). */
  young: boolean
}

/** This thread's own place in a step's list of parts: deliver() skips it. */
const EMPTY_PACKED: Packed = { items: [], bytes: new Uint8Array(0), young: false }

/** What a CrossNet needs of its world. */
export interface CrossHost {
  /** The node listening at href, as its index, or null when it is no sim node's. */
  indexOf: (href: string) => number | null
  /** The address node idx listens at. */
  urlOf: (idx: number) => string
  alive: (idx: number) => boolean
  publicKey: (idx: number) => Uint8Array
  /** A lookup claimed by a sink on another thread: count its frames here to the same sink. */
  claimed: (qid: string, sink: number) => void
}

/**
 * The links between this thread's nodes and other threads': a dial to a node another thread
 * runs gets a local end whose far side is a FarEnd; what is written to it goes out with the
 * next step's exchange and comes out of the far thread's local end for the link then.
 */
export class CrossNet {
  /** Items for the next exchange, in the order written. */
  readonly out: CrossItem[] = []
  private readonly ends = new Map<number, SimEnd>()
  private nextLink: number
  /** This thread's young generation was nearly full at this step's send(). */
  private young = false
  /** Chunks (null: an end) for slow links' ends, held back from this step's deliver() to the next. */
  private later: Array<[SimEnd, Buffer | null]> = []

  constructor (
    private readonly part: Part,
    private readonly net: SimNetwork,
    private readonly outbox: Outbox,
    private readonly onChunk: (chunk: Buffer, from: Duplex) => void,
    private readonly host: CrossHost
  ) {
    this.nextLink = part.index
  }

  owns (idx: number): boolean { return idx % this.part.count === this.part.index }

  /** The local end of a link to href, when another thread runs the node there; null otherwise. */
  dial (href: string, from: string): SimEnd | null {
    const to = this.host.indexOf(href)
    if (to === null || this.owns(to)) return null
    const mine = new SimEnd(this.outbox, this.onChunk)
    mine.slow = this.net.isSlow(from, href)
    if (!this.host.alive(to)) {
      // As a local dial to nobody: refused on a later microtask.
      queueMicrotask(() => mine.destroy(refused(href)))
      return mine
    }
    const link = this.nextLink
    this.nextLink += this.part.count
    mine.other = this.far(link, to)
    this.ends.set(link, mine)
    this.out.push({ k: 'connect', link, from: Number(from.slice(1)), to, host: from })
    queueMicrotask(() => { if (!mine.destroyed) mine.emit('connect') })
    return mine
  }

  /** Tell the other threads that qid's frames are sink's (a lookup claimed here). */
  claim (qid: string, sink: number): void {
    this.out.push({ k: 'claim', qid, sink })
  }

  /**
   * This step's exchange, its first half: what was written here during the last step goes. The
   * other threads' comes back with receive(), which a step calls only once its own timers and
   * local frames are done: what the others sent is delivered after those anyway, so a thread
   * waits only when another is more than that behind, not at every step's start.
   */
  send (): void {
    const items = this.out.splice(0)
    let total = 0
    for (const it of items) if (it.k === 'data') total += it.chunk.length
    // One buffer of its own (not a slice of Node's pool), handed over rather than copied.
    const bytes = new Uint8Array(new ArrayBuffer(total))
    this.young = this.part.young?.full() ?? false
    const packed: Packed = { items: [], bytes, young: this.young }
    let at = 0
    for (const it of items) {
      if (it.k !== 'data') {
        packed.items.push(it)
        continue
      }
      bytes.set(it.chunk, at)
      packed.items.push({ k: 'data', link: it.link, at, len: it.chunk.length })
      at += it.chunk.length
    }
    send(this.part, packed, [bytes.buffer as ArrayBuffer])
  }

  /** What the other threads sent at this step's send(), by thread index (this thread's own left out). */
  receive (): Packed[] {
    return collect(this.part, EMPTY_PACKED)
  }

  /** Deliver what the other threads sent at this step, theirs in thread order. */
  deliver (all: Packed[]): void {
    // What slow links took a step ago, first: as a local slow link's, a step after the rest.
    const later = this.later
    this.later = []
    for (const [end, chunk] of later) if (!end.destroyed) end.take(chunk)
    for (let j = 0; j < all.length; j++) {
      if (j === this.part.index) continue
      const { items, bytes } = all[j]
      // Claims first: the frames they name may come from this thread's nodes in this very step.
      for (const it of items) if (it.k === 'claim') this.host.claimed(it.qid, it.sink)
      for (const it of items) {
        switch (it.k) {
          // Every thread gets every other's items: a link to another thread's node is not
          // this one's to accept (it would find no listener here and cut the link).
          case 'connect': if (this.owns(it.to)) this.accept(it.link, it.from, it.to, it.host); break
          case 'data': {
            const end = this.ends.get(it.link)
            if (end === undefined || end.destroyed) break
            const chunk = Buffer.from(bytes.buffer, bytes.byteOffset + it.at, it.len)
            if (end.slow) this.later.push([end, chunk])
            else end.take(chunk)
            break
          }
          case 'end': {
            const end = this.ends.get(it.link)
            if (end === undefined || end.destroyed) break
            if (end.slow) this.later.push([end, null])
            else end.take(null)
            break
          }
          case 'cut': {
            const end = this.ends.get(it.link)
            this.ends.delete(it.link)
            if (end !== undefined && !end.destroyed) end.cutByPeer()
            break
          }
        }
      }
    }
  }

  /**
   * Every thread scavenges at the end of a step where any said it was nearly full, all at the
   * same point, each on its own core (main.ts runs scavenges without helper threads). A
   * scavenge on one thread alone stalled the others at their next exchange for most of its
   * length (~50 ms at 10,000 nodes), and its helpers took the core the other thread ran on.
   */
  scavengeTogether (all: readonly Packed[]): void {
    const young = this.part.young
    if (young === undefined) return
    if (this.young || all.some(p => p.young)) young.scavenge()
  }

  /** Forget the ends that are gone (once an interval: a cut may never come for them). */
  sweep (): void {
    for (const [link, end] of this.ends) if (end.destroyed) this.ends.delete(link)
  }

  private accept (link: number, from: number, to: number, host: string): void {
    const theirs = new SimEnd(this.outbox, this.onChunk)
    theirs.slow = this.net.isSlow(host, this.host.urlOf(to))
    theirs.other = this.far(link, from)
    const handler = this.host.alive(to) ? this.net.listener(this.host.urlOf(to)) : undefined
    if (handler === undefined) {
      // Nobody there any more: the dialer's end is cut, as a reset.
      (theirs.other as FarEnd).cut()
      return
    }
    this.ends.set(link, theirs)
    handler(theirs as unknown as Duplex, { host })
  }

  private far (link: number, node: number): FarEnd {
    const far = new FarEnd(link, this.out)
    setFarKey(far, this.host.publicKey(node))
    return far
  }
}
