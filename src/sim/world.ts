// The simulated world: real Peernet nodes, each on its own memory-level, over one in-memory
// network (mem://nNNN), on one virtual clock. The sim never changes the node: it wraps the
// mem transport's streams to count frames and bytes and to give every frame a link latency on
// the virtual clock, and it watches table.learn to see who has heard of whom.
import type { Duplex } from 'node:stream'
import { MemoryLevel } from 'memory-level'
import { Peernet } from '../node/node.js'
import { VirtualClock } from '../node/clock.js'
import { seededRandom, type Random } from '../util/random.js'
import { MemNetwork } from '../transport/mem.js'
import type { LevelLike } from '../table/db.js'
import { IndexedSet } from '../table/indexed-set.js'

export interface WorldOptions {
  seed: number
  table: number
  sample: number
  connections: number
  /** Gossip interval, ms of virtual time. */
  interval: number
  /** Dial (top-up) interval, ms. */
  dialInterval: number
  /** One-way latency of every link, ms: the clock's step (see step()). */
  latency: number
  hops: number
}

export interface SimNode {
  idx: number
  url: string
  pn: Peernet | null
  db: MemoryLevel | null
  streams: Set<Duplex>
  stop: () => void
  alive: boolean
}

/** Message kinds, by the first letters of the frame's "type" (JSON keeps key order). */
export const KINDS = ['hello', 'getaddrs', 'addrs', 'query', 'answer', 'bye'] as const
export type Kind = (typeof KINDS)[number]
const HELLO = 0; const GETADDRS = 1; const ADDRS = 2; const QUERY = 3; const ANSWER = 4; const BYE = 5
// 4-byte length, then {"type":"…" : the type's first letter sits at byte 13.
const TYPE_AT = 4 + '{"type":"'.length
// Where the query id sits in query and answer frames, as the node encodes them.
const QID_LEN = 16
const QUERY_QID_AT = 4 + '{"type":"query","qid":"'.length
const ANSWER_QID_AT = 4 + '{"type":"answer","qid":"'.length

export interface Traffic { frames: number, bytes: number }

/** Watch an address: which nodes have ever stored it in their table. */
export interface Watch { url: string, known: Set<number> }

export class World {
  readonly clock = new VirtualClock(0)
  readonly net = new MemNetwork()
  readonly nodes: SimNode[] = []
  readonly live = new IndexedSet<number>()
  readonly frames = new Float64Array(KINDS.length)
  readonly bytes = new Float64Array(KINDS.length)
  /** Query and answer traffic per query id. */
  readonly byQid = new Map<string, Traffic>()
  readonly watches = new Map<string, Watch>()
  errors = 0
  firstError: string | null = null
  /** Frames (and ends) written since the last step: delivered one step later, in order. */
  private outbox: Array<() => void> = []

  constructor (readonly opts: WorldOptions) {}

  /** A random source for node idx, derived from the seed. */
  randomFor (idx: number): Random {
    return seededRandom((this.opts.seed ^ Math.imul(idx + 1, 0x9e3779b1)) >>> 0)
  }

  /** Create a node that saves `bootstrap` (addresses of earlier nodes) and dials from it. */
  addNode (bootstrap: string[]): SimNode {
    const idx = this.nodes.length
    const name = 'n' + idx
    const url = 'mem://' + name
    const o = this.opts
    const db = new MemoryLevel({ storeEncoding: 'utf8' })
    const node: SimNode = { idx, url, pn: null, db, streams: new Set(), stop: () => {}, alive: true }
    const pn = new Peernet(db as unknown as LevelLike, {
      transport: address => this.wrap(this.net.dial(address, name), node),
      clock: this.clock,
      random: this.randomFor(idx),
      interval: o.interval,
      dialInterval: o.dialInterval,
      connections: o.connections,
      tableSize: o.table,
      gossipSample: o.sample,
      hops: o.hops,
      addresses: [url],
      groupOf: host => 'mem:' + host
    })
    node.pn = pn
    pn.on('error', err => {
      this.errors++
      this.firstError ??= err.message
    })
    node.stop = this.net.listen(url, (stream, info) => {
      if (!node.alive) {
        stream.destroy()
        return
      }
      pn.accept(this.wrap(stream, node), info)
    })
    pn.ready.then(() => this.instrument(node), () => {})
    if (bootstrap.length > 0) pn.save(bootstrap).catch(() => {})
    this.nodes.push(node)
    this.live.add(idx)
    return node
  }

  /** A crash: the node stops listening and its links drop (peers see them close, no goodbye). */
  kill (node: SimNode): void {
    if (!node.alive) return
    node.alive = false
    this.live.delete(node.idx)
    node.stop()
    const pn = node.pn as Peernet
    const db = node.db as MemoryLevel
    const closing = pn.close()
    for (const s of [...node.streams]) s.destroy()
    node.streams.clear()
    closing.catch(() => {}).then(() => db.close()).catch(() => {})
    node.pn = null
    node.db = null
  }

  /**
   * Advance virtual time by one link latency: what was written during the last step is
   * handed to the mem transport (which delivers on microtasks), timers fire, then every
   * message and table write that follows settles before the next step.
   */
  async step (ms: number): Promise<void> {
    const out = this.outbox
    this.outbox = []
    this.clock.advance(ms)
    for (let i = 0; i < out.length; i++) out[i]()
    await new Promise<void>(resolve => setImmediate(resolve))
  }

  livePeernet (idx: number): Peernet {
    return this.nodes[idx].pn as Peernet
  }

  /** Open links between live nodes, each once (i < j). */
  edges (): Array<[number, number]> {
    const out: Array<[number, number]> = []
    const seen = new Set<number>()
    for (const i of this.live.values()) {
      for (const j of this.neighbours(i)) {
        if (!this.nodes[j]?.alive) continue
        const a = Math.min(i, j); const b = Math.max(i, j)
        const key = a * 4_194_304 + b
        if (seen.has(key)) continue
        seen.add(key)
        out.push([a, b])
      }
    }
    return out
  }

  neighbours (i: number): number[] {
    const pn = this.nodes[i].pn
    if (!pn) return []
    const out: number[] = []
    for (const a of pn.connections()) {
      if (a.startsWith('mem://n')) out.push(Number(a.slice(7)))
    }
    return out
  }

  watch (url: string): Watch {
    const w: Watch = { url, known: new Set() }
    this.watches.set(url, w)
    return w
  }

  // --- instrumentation ----------------------------------------------------------------------

  /** Record, for watched addresses, which tables have stored them. */
  private instrument (node: SimNode): void {
    const t = node.pn?.table
    if (!t) return
    const learn = t.learn.bind(t)
    const watches = this.watches
    t.learn = (addresses: string[], sources: string[]): number => {
      const added = learn(addresses, sources)
      if (watches.size > 0) {
        for (const a of addresses) {
          const w = watches.get(a)
          if (w !== undefined && t.has(a)) w.known.add(node.idx)
        }
      }
      return added
    }
  }

  /**
   * Count what the node writes, and deliver it a link latency later on the virtual clock.
   * `end` follows the same queue so a goodbye still leaves before the end of the stream.
   */
  private wrap (s: Duplex, owner: SimNode): Duplex {
    owner.streams.add(s)
    s.once('close', () => owner.streams.delete(s))
    const write = s.write.bind(s) as (chunk: Buffer) => boolean
    const end = s.end.bind(s) as () => Duplex
    const w = s as unknown as { write: (chunk: Buffer) => boolean, end: () => Duplex }
    w.write = (chunk: Buffer): boolean => {
      this.count(chunk)
      this.outbox.push(() => { if (!s.destroyed && !s.writableEnded) write(chunk) })
      return true
    }
    w.end = (): Duplex => {
      this.outbox.push(() => { if (!s.destroyed && !s.writableEnded) end() })
      return s
    }
    return s
  }

  private count (chunk: Buffer): void {
    let k: number
    switch (chunk[TYPE_AT]) {
      case 0x68: k = HELLO; break
      case 0x67: k = GETADDRS; break
      case 0x61: k = chunk[TYPE_AT + 1] === 0x64 ? ADDRS : ANSWER; break
      case 0x71: k = QUERY; break
      default: k = BYE
    }
    this.frames[k]++
    this.bytes[k] += chunk.length
    if (k === QUERY || k === ANSWER) {
      const at = k === QUERY ? QUERY_QID_AT : ANSWER_QID_AT
      const qid = chunk.toString('latin1', at, at + QID_LEN)
      let e = this.byQid.get(qid)
      if (e === undefined) this.byQid.set(qid, e = { frames: 0, bytes: 0 })
      e.frames++
      e.bytes += chunk.length
    }
  }
}
