// Many RingCores wired through an in-process queue: the ring's protocol with nothing else
// (no transport, no node), for tests that need hundreds of nodes. Every message goes through
// JSON and validateRingMessage, as it would through a frame. Links are made at once when a
// node asks for one (the dialed node must be alive); a node that fails drops all its links.
import { RingCore } from '../../lib/ring/protocol.js'
import { validateRingMessage } from '../../lib/wire/ring.js'
import { generateKeyPair, idOf } from '../../lib/node/identity.js'
import { seededRandom } from '../../lib/util/random.js'
import { SUCCESSORS } from '../../lib/ring/routing.js'

export class RingNet {
  /**
   * n nodes, each first linked to `initial` random others (the gossip links it starts with).
   * opts.drop(id) → true makes a node silently drop the lookups it should answer or forward.
   * opts.alter(from, to, m) → the message `to` gets instead of m (a hostile node on the way).
   * opts.hold(from, to, m) → true keeps the message back (a slow link) until release() lets it go.
   */
  constructor ({ n, seed = 1, interval = 5000, initial = 4, verify, drop, alter, hold, onEnvelope } = {}) {
    this.random = seededRandom(seed)
    this.interval = interval
    this.now = 1_700_000_000_000
    this.frames = 0
    this.byType = {}
    this.queue = []
    this.nodes = new Map()
    this.drop = drop ?? (() => false)
    this.alter = alter ?? ((from, to, m) => m)
    this.hold = hold ?? (() => false)
    /** Messages kept back by hold, in the order they were sent: [from, to, text]. */
    this.held = []
    this.opts = { seed, verify, onEnvelope }
    for (let i = 0; i < n; i++) {
      const seedBytes = Buffer.alloc(32)
      seedBytes.writeUInt32BE(seed, 0)
      seedBytes.writeUInt32BE(i + 1, 4)
      this.add(generateKeyPair(seedBytes))
    }
    this.ids = [...this.nodes.keys()]
    for (const id of this.ids) {
      for (let k = 0; k < initial; k++) this.link(id, this.ids[Math.floor(this.random() * n)])
    }
    this.drain()
  }

  /** A new node with keyPair (not linked yet); its id. */
  add (keyPair) {
    const { seed, verify, onEnvelope } = this.opts
    const i = this.nodes.size
    const id = idOf(keyPair.publicKey)
    const addrs = [`mem://n${i}`]
    const node = { id, addrs, alive: true, links: new Set(), keyPair }
    node.core = new RingCore({
      keyPair,
      network: 'peernet',
      random: seededRandom(seed * 100_003 + i),
      addresses: () => addrs,
      now: this.now,
      interval: this.interval,
      ...(verify === undefined ? {} : { verify }),
      ...(onEnvelope === undefined ? {} : { onEnvelope: e => onEnvelope(node, e) }),
      send: (to, m) => this.queue.push([id, to, JSON.stringify(m)]),
      wantLink: to => this.queue.push([id, to, null]),
      dropLink: to => this.unlink(id, to, true)
    })
    this.nodes.set(id, node)
    return id
  }

  link (a, b) {
    const A = this.nodes.get(a)
    const B = this.nodes.get(b)
    if (a === b || !A.alive || A.links.has(b)) return
    // A dial to a node that is gone fails: the dialer hears of it as a link down.
    if (!B.alive) return A.core.linkDown(b)
    A.links.add(b)
    B.links.add(a)
    A.core.linkUp(b, B.addrs)
    B.core.linkUp(a, A.addrs)
  }

  /** a and b unlinked: by a choice said with a goodbye (`farewell`), or by a failure. */
  unlink (a, b, farewell = false) {
    const A = this.nodes.get(a)
    const B = this.nodes.get(b)
    if (!A.links.has(b)) return
    A.links.delete(b)
    B.links.delete(a)
    if (A.alive) A.core.linkDown(b, !farewell)
    if (B.alive) B.core.linkDown(a, !farewell)
  }

  /** Delivers every queued message (and link request) until none is left; frames are counted. */
  drain () {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      for (const [from, to, text] of batch) {
        if (text === null) { this.link(from, to); continue }
        const A = this.nodes.get(from)
        const B = this.nodes.get(to)
        if (!A.alive || !B.alive || !A.links.has(to)) continue
        const raw = JSON.parse(text)
        if (this.hold(from, to, raw)) { this.held.push([from, to, text]); continue }
        this.frames++
        const m = this.alter(from, to, validateRingMessage(raw))
        this.byType[m.type] = (this.byType[m.type] ?? 0) + 1
        if (m.type === 'ring.lookup' && this.drop(to)) continue
        B.core.receive(from, m)
      }
    }
  }

  /**
   * Lets go the held messages pick(from, to, m) chooses, in order, and delivers them and all they
   * cause, none of it held (the rest of what was held stays held).
   */
  release (pick) {
    const go = []
    this.held = this.held.filter(x => {
      if (!pick(x[0], x[1], JSON.parse(x[2]))) return true
      go.push(x)
      return false
    })
    this.queue.push(...go)
    const hold = this.hold
    this.hold = () => false
    this.drain()
    this.hold = hold
  }

  /** One round for every live node: time moves by an interval, then all messages are delivered. */
  round () {
    this.now += this.interval
    for (const node of this.nodes.values()) if (node.alive) node.core.tick(this.now)
    this.drain()
  }

  /** Moves time by ms (less than a round: lookups' retries and timeouts) and delivers. */
  advance (ms) {
    this.now += ms
    for (const node of this.nodes.values()) if (node.alive) node.core.tick(this.now)
    this.drain()
  }

  live () {
    return [...this.nodes.values()].filter(x => x.alive)
  }

  kill (id) {
    const node = this.nodes.get(id)
    node.alive = false
    for (const other of [...node.links]) this.unlink(id, other)
  }

  /** Rounds until every live node has its true successor and predecessor (at most max); how many. */
  settle (max = 40) {
    return this.roundsUntil(() => this.settled(), max)
  }

  /**
   * Rounds until every live node's whole successor list is true too (at most max); how many. Past
   * the nodes it links to a list fills from the successor's stabilise answers, one node a round,
   * so a ring formed all at once takes about fifteen rounds more than settle() (150 nodes).
   */
  settleLists (max = 40) {
    return this.roundsUntil(() => this.listsTrue(), max)
  }

  /** Rounds until done() holds (at most max): how many, or -1 if it never did. */
  roundsUntil (done, max) {
    for (let r = 0; r < max; r++) {
      if (done()) return r
      this.round()
    }
    return done() ? max : -1
  }

  listsTrue () {
    const ids = this.live().map(x => x.id).sort()
    return ids.every((id, i) => {
      const succs = this.nodes.get(id).core.table.successors()
      return succs.length === Math.min(SUCCESSORS, ids.length - 1) && succs.every((s, k) => s === ids[(i + 1 + k) % ids.length])
    })
  }

  settled () {
    const ids = this.live().map(x => x.id).sort()
    return ids.every((id, i) => {
      const c = this.nodes.get(id).core
      return c.table.successor() === ids[(i + 1) % ids.length] && c.table.predecessor() === ids[(i - 1 + ids.length) % ids.length]
    })
  }

  /** The node truly responsible for point: the first live id at or after it. */
  owner (point) {
    const ids = this.live().map(x => x.id).sort()
    return ids.find(id => id >= point) ?? ids[0]
  }

  /**
   * Runs fn(core, done) on one node and delivers until its callback ran (advancing time for
   * retries if it must); the frames it caused and its answer.
   */
  run (id, fn) {
    const before = this.frames
    let out = null
    fn(this.nodes.get(id).core, (err, res) => { out = { err, res } })
    this.drain()
    for (let i = 0; out === null && i < 10; i++) this.advance(1000)
    return { ...out, frames: this.frames - before }
  }
}

export function percentile (xs, p) {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

/** Two nodes of net with no link between them, several hops apart. */
export function farPair (net) {
  const ids = net.ids.slice().sort()
  for (let k = 0; k < ids.length; k++) {
    const a = ids[k]
    const b = ids[(k + ids.length / 2) % ids.length]
    if (!net.nodes.get(a).links.has(b)) return [net.nodes.get(a), net.nodes.get(b)]
  }
  throw new Error('no unlinked pair')
}

const tick = () => new Promise(resolve => setImmediate(resolve))

/**
 * Waits for promise while net's queue is delivered (async handlers answer between turns), moving
 * its clock on by `advance` ms a turn when given; resolves to {value} or {error}, null if neither came.
 */
export async function settle (net, promise, { advance = 0, turns = 40 } = {}) {
  let out = null
  promise.then(value => { out = { value } }, error => { out = { error } })
  for (let i = 0; out === null && i < turns; i++) {
    if (advance > 0 && i > 0) net.advance(advance)
    else net.drain()
    await tick()
  }
  return out
}
