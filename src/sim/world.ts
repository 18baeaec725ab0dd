// The simulated world: real Peernet nodes, each on a store that keeps nothing (sink-db.ts), over one in-memory
// network (mem://nNNN), on one virtual clock. The sim never changes the node: the network holds
// every delivery for a link latency on the virtual clock and shows the world each frame a link
// takes (decoded as a peer would), and the nodes' events tell it who has heard of whom.
// Back-pressure is the mem transport's own (link.ts keeps it), so a peer that falls behind meets
// MAX_OUTBUF as it would over TCP. In a run over several threads (parallel.ts), each thread's
// world knows every node (its address, key and life) and runs its own share of them.
import type { Duplex } from 'node:stream'
import { Peernet } from '../node/node.js'
import { VirtualClock } from '../node/clock.js'
import { seededRandom, randomHex, type Random } from '../util/random.js'
import { SimNetwork, Outbox, type SimEnd } from './link.js'
import { FrameKinds } from './frame-kind.js'
import { generateKeyPair } from '../node/identity.js'
import { simulationStandInLayer } from './stand-in.js'
import { recordProblem } from '../ring/record.js'
import { IndexedSet } from '../table/indexed-set.js'
import { SinkDb } from './sink-db.js'
import { CrossNet, exchange, type Part } from './parallel.js'
import { idOf } from '../node/identity.js'

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
  /**
   * Share of nodes (0..1) on slow links: every link to or from one takes two steps each way, not
   * one (isSlowNode). None by default.
   */
  slowLinks?: number
  /** This thread's share of a run over several threads (parallel.ts); none: every node here. */
  part?: Part
}

/**
 * Whether node idx is one of a run's `share` of nodes on slow links: by a hash of its index and
 * the seed, so every thread, and every run with that seed, picks the same nodes.
 */
export function isSlowNode (seed: number, idx: number, share: number): boolean {
  if (!(share > 0)) return false
  const h = Math.imul((seed ^ Math.imul(idx + 1, 0x85ebca6b)) >>> 0, 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) / 2 ** 32 < share
}

export interface SimNode {
  idx: number
  url: string
  pn: Peernet | null
  db: SinkDb | null
  /** Its link ends not closed yet. */
  streams: Set<SimEnd>
  /** Its open links, by the other end's index, in the order they opened (a node of this thread's). */
  links: Set<number>
  stop: () => void
  alive: boolean
}

/** Message kinds, in the order the report shows them. */
export const KINDS = ['hello', 'getaddrs', 'addrs', 'query', 'answer', 'bye', 'ping', 'pong', 'ring.lookup', 'ring.found', 'ring.stab', 'ring.stabok', 'ring.stabsame', 'ring.store'] as const
const KIND_INDEX = new Map<string, number>(KINDS.map((k, i) => [k, i]))
/** The ring's kinds: what is not a search's (or a measurement's) of these is the ring's upkeep. */
export const RING_KINDS: ReadonlyArray<(typeof KINDS)[number]> = KINDS.filter(k => k.startsWith('ring.'))
/** Kinds that carry a qid: a flooded query and its answers, a ring lookup and its answer. */
const QID_KINDS = new Set(['query', 'answer', 'ring.lookup', 'ring.found'])

export interface Traffic { frames: number, bytes: number }
/**
 * The traffic of one search or measurement: every qid it went under (a ring lookup's retries
 * have their own, a search's flood its own). `id` names it on every thread (newSink()).
 */
export interface Sink extends Traffic { id: number, qids: string[] }

/**
 * A watched address (a probe's), and this thread's nodes that may hold it in their tables: those
 * that ever stored it (known: an address reaches a table from outside only with an event
 * noticeWatched sees), and those given it to bootstrap from (saved, with no such event).
 */
export interface Watch { url: string, known: Set<number>, saved: Set<number> }

export class World {
  readonly clock = new VirtualClock(0)
  /** mem.ts's network with lighter ends (link.ts): the same deliveries, in the same order. */
  readonly net: SimNetwork
  readonly nodes: SimNode[] = []
  readonly live = new IndexedSet<number>()
  readonly frames = new Float64Array(KINDS.length)
  readonly bytes = new Float64Array(KINDS.length)
  /** Traffic per query id: every flooded query's, and the ring lookups claimed by a Sink. */
  readonly byQid = new Map<string, Traffic>()
  /** Ring frames that went to a claimed lookup (searches, measurements): not upkeep. */
  claimedRing = 0
  /** Per node: the Sinks its next lookups of an op belong to, in order (until the next step). */
  private readonly claims = new Map<number, Array<{ op: string, sink: Sink }>>()
  /** Node ids by node index (known once each node is ready). */
  readonly ids: string[] = []
  /** Lookup roots claimed, to the Sink their retries go to as well. */
  private readonly roots = new Map<string, Sink>()
  readonly watches = new Map<string, Watch>()
  /** Node index by node id, for the links a node lists (an inbound peer may go by its id alone). */
  private readonly byId = new Map<string, number>()
  /** Node index by url: a node is only ever listening at its own (mem://nIDX). */
  private readonly byUrl = new Map<string, number>()
  /** packLinks' room, kept from one interval to the next. */
  private linkBuf: Int32Array = new Int32Array(1024)
  errors = 0
  firstError: string | null = null
  /** Deliveries (frames and ends) the links took since the last step: run one step later, in order. */
  private readonly outbox = new Outbox()
  /** What each stream end writes, frame by frame. */
  private readonly kinds = new FrameKinds()
  /** Links to other threads' nodes, in a run over several threads. */
  private readonly cross: CrossNet | null = null
  /** Every node's public key, by index (a far end shows its node's). */
  private readonly keys: Uint8Array[] = []
  /** Sinks by id, for the threads that count a sink's frames without running its search. */
  private readonly sinks = new Map<number, Sink>()
  private sinkCount = 0

  constructor (readonly opts: WorldOptions) {
    const onChunk = (chunk: Buffer, from: Duplex): void => this.count(chunk, from)
    this.net = new SimNetwork(this.outbox, onChunk)
    const share = opts.slowLinks ?? 0
    if (share > 0) {
      const slow = (name: string): boolean => /^n\d+$/.test(name) && isSlowNode(opts.seed, Number(name.slice(1)), share)
      this.net.slowLink = (from, href) => slow(from) || slow(href.slice('mem://'.length))
    }
    const part = opts.part
    if (part !== undefined && part.count > 1) {
      const cross = new CrossNet(part, this.net, this.outbox, onChunk, {
        indexOf: href => this.byUrl.get(href) ?? null,
        urlOf: idx => this.nodes[idx].url,
        alive: idx => this.nodes[idx]?.alive === true,
        publicKey: idx => this.keys[idx],
        claimed: (qid, id) => {
          const sink = this.sinks.get(id)
          if (sink !== undefined) this.attach(qid, sink)
        }
      })
      this.net.far = (href, from) => cross.dial(href, from)
      this.cross = cross
    }
  }

  /** Whether this thread runs node idx (every node, in a run on one thread). */
  owns (idx: number): boolean {
    return this.cross === null || this.cross.owns(idx)
  }

  /** Every thread's `mine`, by thread index (just [mine] on one thread): see parallel.ts. */
  gather<T> (mine: T): T[] {
    const part = this.opts.part
    return part === undefined || part.count <= 1 ? [mine] : exchange(part, mine)
  }

  /** A new sink; the same id on every thread, as every thread makes the same ones in turn. */
  newSink (): Sink {
    const sink: Sink = { id: this.sinkCount++, frames: 0, bytes: 0, qids: [] }
    if (this.cross !== null) this.sinks.set(sink.id, sink)
    return sink
  }

  /**
   * Frames under qid (a claimed lookup's, a search's flood) count to sink, here and (told at the
   * next step) on the other threads.
   */
  claimQid (qid: string, sink: Sink): void {
    this.attach(qid, sink)
    this.cross?.claim(qid, sink.id)
  }

  private attach (qid: string, sink: Sink): void {
    sink.qids.push(qid)
    this.byQid.set(qid, sink)
  }

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
    this.byUrl.set(url, idx)
    const random = this.randomFor(idx)
    // Keys from the seed, so one seed gives one run (ids order links: PeerSet.replaces), and
    // every thread knows every node's.
    const keyPair = generateKeyPair(Buffer.from(randomHex(random, 32), 'hex'))
    this.keys[idx] = keyPair.publicKey
    if (!this.owns(idx)) {
      const id = idOf(keyPair.publicKey)
      this.byId.set(id, idx)
      this.ids[idx] = id
      const far: SimNode = { idx, url, pn: null, db: null, streams: new Set(), links: new Set(), stop: () => {}, alive: true }
      this.nodes.push(far)
      this.live.add(idx)
      return far
    }
    const db = new SinkDb()
    const node: SimNode = { idx, url, pn: null, db, streams: new Set(), links: new Set(), stop: () => {}, alive: true }
    const pn = new Peernet(db, {
      transport: address => this.track(this.net.dial(address, name), node),
      keyPair,
      insecureSimulationLayer: simulationStandInLayer,
      insecureSimulationVerify: recordProblem,
      // Its timers carry its index + 1: a crash drops them at once (killAll()).
      clock: this.clock.owned(idx + 1),
      random,
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
    pn.on('ready', e => {
      this.byId.set(e.id, idx)
      this.ids[idx] = e.id
    })
    pn.on('lookup', e => this.onLookup(idx, e))
    pn.on('error', err => {
      this.errors++
      this.firstError ??= err.message
    })
    // Every way an address reaches a table from outside ends in one of these events: a
    // handshake's addresses ('peer'), a gossip answer ('gossip' rx), a search answer ('answer' in).
    // A peer event is also a link opened, and a disconnect one closed (linked).
    pn.on('peer', e => {
      this.noticeWatched(node)
      this.linked(node, e.id, true)
    })
    pn.on('disconnect', e => { this.linked(node, e.id, false) })
    pn.on('gossip', e => { if (e.dir === 'rx') this.noticeWatched(node) })
    pn.on('answer', e => { if (e.dir === 'in') this.noticeWatched(node) })
    node.stop = this.net.listen(url, (stream, info) => {
      if (!node.alive) {
        stream.destroy()
        return
      }
      pn.accept(this.track(stream, node), info)
    })
    if (bootstrap.length > 0) pn.save(bootstrap).catch(() => {})
    for (const u of bootstrap) this.watches.get(u)?.saved.add(idx)
    this.nodes.push(node)
    this.live.add(idx)
    return node
  }

  /** A crash: the node stops listening and its links drop (peers see them close, no goodbye). */
  kill (node: SimNode): void {
    this.killAll([node])
  }

  /**
   * Crash these nodes at once. Each is closed (which clears what it knows to clear), and then,
   * as a crashed process's would, every timer it has goes, in one pass over the clock's, and
   * any its close sets later never waits: a close's own (a goodbye's second to leave) held a
   * dead node's whole state a second longer, through the busiest second after the kill.
   */
  killAll (nodes: readonly SimNode[]): void {
    const owners = new Set<number>()
    for (const node of nodes) {
      if (!node.alive) continue
      this.crash(node)
      owners.add(node.idx + 1)
    }
    if (owners.size > 0) this.clock.retire(owners)
  }

  private crash (node: SimNode): void {
    node.alive = false
    this.live.delete(node.idx)
    if (!this.owns(node.idx)) return
    node.stop()
    // The listen closure holds the node's Peernet: a dead node kept its whole state (table,
    // ring, timers' closures) for the rest of the run, a third of the heap after the kill.
    node.stop = () => {}
    const pn = node.pn as Peernet
    const db = node.db as SinkDb
    const closing = pn.close()
    for (const s of [...node.streams]) s.destroy()
    node.streams.clear()
    node.links.clear()
    closing.catch(() => {}).then(() => db.close()).catch(() => {})
    node.pn = null
    node.db = null
  }

  /**
   * Advance virtual time by one link latency: timers fire, what the links took during the last
   * step is delivered, then every message and table write that follows settles before the next
   * step.
   */
  async step (ms: number): Promise<void> {
    this.claims.clear()
    // What the links took before the timers fire: a timer's frames wait for the next step.
    const out = this.outbox.take()
    // And what the links to other threads' nodes took goes to them; theirs come in after this
    // thread's own, so they are waited for only then (CrossNet.send).
    this.cross?.send()
    this.clock.advance(ms)
    out.run()
    if (this.cross !== null) {
      const all = this.cross.receive()
      this.cross.deliver(all)
      this.cross.scavengeTogether(all)
    }
    await new Promise<void>(resolve => setImmediate(resolve))
  }

  livePeernet (idx: number): Peernet {
    if (!this.owns(idx)) throw new Error(`node ${idx} is another thread's`)
    return this.nodes[idx].pn as Peernet
  }

  /**
   * Each open link between live nodes once, as (lower index, higher index): a pair counts when
   * either end lists it. Over typed arrays, with no Set of every pair: the sim's graph figures
   * walk every link of every node each interval.
   */
  forEachLink (fn: (a: number, b: number) => void): void {
    const live = this.live.values()
    // Each thread lists its own nodes' links; every thread gets every list.
    eachPair(live, adjacency(this.nodes.length, this.gather(this.packLinks(live))), fn)
  }

  /**
   * A link of node's opened (a peer event: its peer set took it) or closed (a disconnect: it was
   * the peer's open link). Every thread knows every node's id (addNode). Kept as they come, so
   * the graph figures need not ask each node for its links every interval: naming and looking up
   * every link of every node was four fifths of their time at 10,000 nodes.
   */
  private linked (node: SimNode, id: string, open: boolean): void {
    const j = this.byId.get(id)
    if (j === undefined) return
    if (open) node.links.add(j)
    else node.links.delete(j)
  }

  /** This thread's live nodes' links to live nodes, in one Int32Array: [i, count, j…] a node. */
  private packLinks (live: readonly number[]): Int32Array {
    let out: Int32Array = this.linkBuf
    let k = 0
    for (const i of live) {
      if (!this.owns(i)) continue
      const links = this.nodes[i].links
      if (out.length < k + 2 + links.size) out = grown(out, k + 2 + links.size)
      out[k++] = i
      const count = k++
      for (const j of links) if (this.nodes[j].alive) out[k++] = j
      out[count] = k - count - 1
    }
    this.linkBuf = out
    return out.slice(0, k)
  }

  /** Open links between live nodes, each once (i < j). */
  edges (): Array<[number, number]> {
    const out: Array<[number, number]> = []
    this.forEachLink((a, b) => { out.push([a, b]) })
    return out
  }

  watch (url: string): Watch {
    const w: Watch = { url, known: new Set(), saved: new Set() }
    this.watches.set(url, w)
    return w
  }

  /**
   * The next ring lookup for op that node idx starts (before the next step) is sink's, with its
   * retries: a search's fetch (its 'search' event comes just before), a measurement's owner lookup.
   */
  claim (idx: number, op: string, sink: Sink): void {
    const list = this.claims.get(idx)
    if (list === undefined) this.claims.set(idx, [{ op, sink }])
    else list.push({ op, sink })
  }

  /** Forget a sink's qids (its search ended and was counted). */
  release (sink: Sink): void {
    for (const q of sink.qids) {
      this.byQid.delete(q)
      this.roots.delete(q)
    }
    this.sinks.delete(sink.id)
  }

  /** Once an interval: forget what is gone (the links to other threads' nodes that closed). */
  tidy (): void {
    this.cross?.sweep()
  }

  // --- observation -----------------------------------------------------------------------

  private onLookup (idx: number, e: { qid: string, root: string, op: string }): void {
    let sink = this.roots.get(e.root)
    if (sink === undefined && e.qid === e.root) {
      const list = this.claims.get(idx)
      const at = list === undefined ? -1 : list.findIndex(c => c.op === e.op)
      if (at < 0) return
      sink = (list as Array<{ op: string, sink: Sink }>).splice(at, 1)[0].sink
      this.roots.set(e.root, sink)
    }
    if (sink === undefined) return
    this.claimQid(e.qid, sink)
  }

  /** Note, for watched addresses, whether node's table has stored them. */
  private noticeWatched (node: SimNode): void {
    if (this.watches.size === 0) return
    const t = node.pn?.table
    if (!t) return
    for (const w of this.watches.values()) if (!w.known.has(node.idx) && t.has(w.url)) w.known.add(node.idx)
  }

  /** Remember a stream of node's, so a crash can cut it. */
  private track (s: Duplex, owner: SimNode): Duplex {
    const end = s as unknown as SimEnd
    owner.streams.add(end)
    end.holder = owner.streams
    return s
  }

  /** Count a chunk a link took, by the kind (and query id) of the frames in it. */
  private count (chunk: Buffer, from: Duplex): void {
    const frames = this.kinds.read(chunk, from)
    if (frames === null) return // not ours to judge: the receiving node drops the link
    // A frame's share of the chunk's bytes (a node writes one frame a chunk).
    const bytes = chunk.length / frames.length
    for (const m of frames) {
      const k = KIND_INDEX.get(m.type)
      if (k === undefined) continue
      this.frames[k]++
      this.bytes[k] += bytes
      if (m.qid === null || !QID_KINDS.has(m.type)) continue
      let e = this.byQid.get(m.qid)
      if (e === undefined) {
        // A ring lookup nobody claimed is upkeep; a flooded query is counted under its own qid.
        if (m.type.startsWith('ring.')) continue
        this.byQid.set(m.qid, e = { frames: 0, bytes: 0 })
      } else if (m.type.startsWith('ring.')) this.claimedRing++
      e.frames++
      e.bytes += bytes
    }
  }
}

/** Links by node, in one block: node i lists adj[from[i]] up to adj[from[i + 1]]. */
export interface Adjacency { from: Int32Array, adj: Int32Array }

/**
 * The Adjacency of nodes 0..n-1 from lists packed as World.packLinks packs them ([i, count, j…]
 * a node), one a thread; a node in none lists nobody.
 */
export function adjacency (n: number, packed: readonly Int32Array[]): Adjacency {
  const from = new Int32Array(n + 1)
  for (const p of packed) for (let k = 0; k < p.length; k += 2 + p[k + 1]) from[p[k] + 1] = p[k + 1]
  for (let i = 0; i < n; i++) from[i + 1] += from[i]
  const adj = new Int32Array(from[n])
  for (const p of packed) for (let k = 0; k < p.length; k += 2 + p[k + 1]) adj.set(p.subarray(k + 2, k + 2 + p[k + 1]), from[p[k]])
  return { from, adj }
}

/** An Int32Array holding a's contents, at least `size` long and twice a's length. */
function grown (a: Int32Array, size: number): Int32Array {
  const out = new Int32Array(Math.max(size, 2 * a.length))
  out.set(a)
  return out
}

/**
 * Each pair (lower, higher) that either end lists, once: each live node's list is in near (a
 * peer may be in it twice). A pair is counted from its lower end, or from the higher end
 * i when the lower end j does not list it. Who lists i among the lower ends is kept as one flat
 * list per node (lower[from[i]..from[i + 1]]): asking each lower end's list whether it holds i
 * was a scan per link, over every link of every node each interval.
 */
export function eachPair (live: readonly number[], near: Adjacency, fn: (a: number, b: number) => void): void {
  const { from: at, adj } = near
  const n = at.length - 1
  const from = new Int32Array(n + 1)
  for (const i of live) for (let x = at[i]; x < at[i + 1]; x++) if (adj[x] > i) from[adj[x] + 1]++
  for (let k = 0; k < n; k++) from[k + 1] += from[k]
  const lower = new Int32Array(from[n])
  const fill = from.slice(0, n)
  for (const i of live) for (let x = at[i]; x < at[i + 1]; x++) if (adj[x] > i) lower[fill[adj[x]]++] = i
  // stamp[j] = i + 1: j is a lower end that lists i, or was met among i's already.
  const stamp = new Int32Array(n)
  for (const i of live) {
    for (let k = from[i]; k < from[i + 1]; k++) stamp[lower[k]] = i + 1
    for (let x = at[i]; x < at[i + 1]; x++) {
      const j = adj[x]
      if (stamp[j] === i + 1) continue
      stamp[j] = i + 1
      fn(Math.min(i, j), Math.max(i, j))
    }
  }
}
