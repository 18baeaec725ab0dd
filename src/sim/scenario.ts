// The scenario: build an overlay by joining nodes that bootstrap from a few random earlier
// nodes, watch newly joined nodes' addresses spread, search subnets of 1, 10 and 100 members,
// kill half the nodes at once, then run a steady churn of 1% per interval. Every figure comes
// from the virtual clock and the seeded random source, so one seed always gives one result.
import { seededRandom, sample, type Random } from '../util/random.js'
import { World, KINDS, RING_KINDS, type Sink, type Watch, type WorldOptions } from './world.js'
import { mean, pct, round, nullRound, type ConvergenceResult, type DegreeResult, type SearchResult, type IntervalRow, type SimResult, type OwnerResult, type UpkeepResult } from './results.js'
import { valuePoint } from '../ring/record.js'
import { DEFAULT_NETWORK } from '../node/defaults.js'
import type { HeapPhase } from './collect.js'

/** The world's settings (seed, table, sample, connections, interval, dialInterval, latency, hops) and the run's. */
export interface SimOptions extends WorldOptions {
  nodes: number
  intervals: number
  /** Addresses each joining node bootstraps from. */
  bootstrap: number
  /** Newly joined nodes whose addresses are followed. */
  probes: number
  /** Searches per subnet in the search phase (spread over SEARCH_INTERVALS). */
  searches: number
  /** Searches per subnet per interval during steady churn. */
  churnSearches: number
  /** Searches per subnet per interval in the KILL_WINDOW after the kill. */
  killSearches: number
  /** Called once per interval with a line of progress. */
  progress?: (line: string) => void
  /**
   * The heap's growth for the phase starting: the join's at its start, the settled run's when
   * it ends, and the killed run's once the kill's first step is done (KILLED_STEP). main.ts
   * passes collect.ts's heapGrowth.
   */
  growHeap?: (phase: HeapPhase) => void
}

/**
 * What a run's caller gives, all of it data: what main.ts parses and a thread is sent (the
 * progress line, the thread's part and the heap's growth are each thread's own functions and ports).
 */
export type RunOptions = Omit<SimOptions, 'progress' | 'part' | 'growHeap'>

export const DEFAULTS: Omit<SimOptions, 'progress'> = {
  nodes: 1000,
  intervals: 100,
  seed: 1,
  table: 256,
  sample: 16,
  connections: 5,
  interval: 5000,
  dialInterval: 1000,
  latency: 50,
  hops: 15,
  slowLinks: 0,
  bootstrap: 3,
  probes: 10,
  // The ring's gates: ≥ 3,000 searches a subnet, ≥ 600 under steady churn (40 intervals of
  // 8 a subnet: 640 even when the 1-member subnet has lost its member at the kill), and enough
  // after the kill that one interval's share means something.
  searches: 3000,
  churnSearches: 8,
  killSearches: 34
}

export const SUBNET_SIZES = [1, 10, 100]
export const THRESHOLDS = [0.5, 0.9, 0.99]
export const KILL_SHARE = 0.5
export const KILL_WINDOW = 10
/**
 * The step of the kill's interval after which the heap grows as the killed run's: the second,
 * once the first has delivered the dead links' ends. (A full collection forced there, to free the
 * dead nodes' state at once, took 2-6 s a thread of two busy cores, all at once; left to V8 it
 * comes a few intervals later, marked mostly beside the run, and the peak RSS is no higher.)
 */
const KILLED_STEP = 1
/** Share of the live nodes killed, and as many joined, every interval of the steady phase. */
export const STEADY_CHURN = 0.01
export const MIN_INTERVALS = 30
/** Intervals the search phase's searches are spread over (fewer if the kill comes first). */
export const SEARCH_INTERVALS = 10
/** Owner agreement: keys asked, and nodes asking each, once the ring has settled (before the kill). */
export const OWNER_KEYS = 100
export const OWNER_ASKERS = 10
/** Intervals before the kill the owner lookups start: time for their answers to come back. */
export const OWNER_LEAD = 2

/** The run's timeline: interval numbers at which each phase starts. */
export interface Phases { join: number, probes: number, search: number, kill: number, steady: number, end: number }

export function phases (intervals: number): Phases {
  const join = Math.max(2, Math.round(intervals * 0.1))
  const search = join + Math.max(2, Math.round(intervals * 0.1))
  const kill = Math.round(intervals * 0.5)
  const steady = Math.min(intervals, kill + KILL_WINDOW)
  return { join: 0, probes: join, search, kill, steady, end: intervals }
}

export const KNOWN = 'a node knows an address once its table holds it after a handshake, a gossip answer or a search answer, even if later evicted'

interface SearchRec {
  /** The same on every thread (each makes the same searches in turn). */
  id: number
  subnet: string
  members: number
  start: number
  qid?: string
  /** The ring lookups it made (a fetch and its retries). */
  sink: Sink
  first?: number
  firstHops?: number
  answers: number
  /** Rows that came from the ring, and from the flood (a fallback: not a success). */
  ring: number
  flood: number
  done: boolean
}

export async function simulate (o: SimOptions): Promise<SimResult> {
  const interval = o.interval
  const stepsPer = Math.max(1, Math.round(interval / o.latency))
  const step = interval / stepsPer
  const ph = phases(o.intervals)
  const world = new World({
    seed: o.seed, table: o.table, sample: o.sample, connections: o.connections,
    interval, dialInterval: o.dialInterval, latency: step, hops: o.hops, slowLinks: o.slowLinks ?? 0, ...(o.part === undefined ? {} : { part: o.part })
  })
  const rnd: Random = seededRandom(o.seed)
  const clock = world.clock
  const pick = (k: number): number[] => sample(rnd, world.live.values(), k)

  const join = (): void => {
    world.addNode(pick(o.bootstrap).map(i => world.nodes[i].url))
  }

  // --- searches -------------------------------------------------------------------------
  const members = new Map<string, Set<number>>()
  const liveMembers = (subnet: string): number => {
    let n = 0
    for (const i of members.get(subnet) ?? []) if (world.nodes[i].alive) n++
    return n
  }
  /** Per node searched from: its searches not started yet (their 'search' event is to come). */
  const starting = new Map<number, SearchRec[]>()
  /** Every search not yet forgotten, by id; and those this thread runs, not yet told to the others. */
  const recs = new Map<number, SearchRec>()
  let recCount = 0
  let ours: SearchRec[] = []
  /** How this thread's searches went, to every thread (at an interval's end). */
  const shareSearches = (): void => {
    const mine = ours.map(r => [r.id, r.qid ?? null, r.first ?? null, r.firstHops ?? null, r.answers, r.ring, r.flood, r.done] as const)
    ours = ours.filter(r => !r.done)
    for (const list of world.gather(mine)) {
      for (const [id, qid, first, firstHops, answers, ring, flood, done] of list) {
        const r = recs.get(id)
        if (r === undefined) continue
        if (qid !== null) r.qid = qid
        if (first !== null) r.first = first
        if (firstHops !== null) r.firstHops = firstHops
        r.answers = answers
        r.ring = ring
        r.flood = flood
        r.done = done
      }
    }
  }
  const startSearch = (subnet: string, timeout: number): SearchRec | null => {
    const m = members.get(subnet) as Set<number>
    const live = liveMembers(subnet)
    if (live === 0) return null
    let src = -1
    for (let tries = 0; tries < 100 && src < 0; tries++) {
      const i = world.live.pick(rnd) as number
      if (!m.has(i)) src = i
    }
    if (src < 0) return null
    const rec: SearchRec = { id: recCount++, subnet, members: live, start: clock.now(), sink: world.newSink(), answers: 0, ring: 0, flood: 0, done: false }
    recs.set(rec.id, rec)
    // Run by the thread that runs its node; the others learn how it went at the interval's end.
    if (!world.owns(src)) return rec
    ours.push(rec)
    const pn = world.livePeernet(src)
    let waiting = starting.get(src)
    if (waiting === undefined) {
      // One listener a node: its searches say they start, in the order they were made.
      starting.set(src, waiting = [])
      const list = waiting
      // A search whose lookup failed says so again when it floods: not another search starting.
      const seen = new Set<string>()
      pn.on('search', (e: { dir: string, qid: string, subnet: string }) => {
        const at = e.dir === 'out' && !seen.has(e.qid) ? list.findIndex(r => r.subnet === e.subnet) : -1
        if (at < 0) return
        seen.add(e.qid)
        const r = list.splice(at, 1)[0]
        r.qid = e.qid
        // A search by the ring says so just before its lookup starts; a flood goes under its qid.
        world.claim(src, 'fetch', r.sink)
        world.claimQid(e.qid, r.sink)
      })
    }
    waiting.push(rec)
    const stream = pn.search(subnet, { timeout })
    stream.on('data', (row: { hops: number, via: 'ring' | 'flood' }) => {
      rec.answers++
      rec[row.via]++
      if (rec.first === undefined) {
        rec.first = clock.now() - rec.start
        rec.firstHops = row.hops
      }
    })
    stream.on('end', () => { rec.done = true })
    stream.on('error', () => { rec.done = true })
    return rec
  }

  // --- graph figures --------------------------------------------------------------------
  const graph = (): { edges: number, components: number, largest: number, isolated: number, degrees: number[] } => {
    // Once an interval over every link of every live node: typed arrays by node index.
    const live = world.live.values()
    const n = world.nodes.length
    const parent = new Int32Array(n)
    const deg = new Int32Array(n)
    const find = (x: number): number => {
      let r = x
      while (parent[r] !== r) r = parent[r]
      while (x !== r) { const p = parent[x]; parent[x] = r; x = p }
      return r
    }
    for (const i of live) parent[i] = i
    let edges = 0
    world.forEachLink((a, b) => {
      edges++
      deg[a]++
      deg[b]++
      const ra = find(a); const rb = find(b)
      if (ra !== rb) parent[ra] = rb
    })
    const size = new Map<number, number>()
    for (const i of live) { const r = find(i); size.set(r, (size.get(r) ?? 0) + 1) }
    let largest = 0
    for (const sz of size.values()) largest = Math.max(largest, sz)
    const degrees = live.map(i => deg[i])
    return { edges, components: size.size, largest: live.length ? largest / live.length : 0, isolated: degrees.filter(d => d === 0).length, degrees }
  }

  const degreeStats = (at: number, degrees: number[]): DegreeResult => {
    const s = degrees.slice().sort((a, b) => a - b)
    const hist = new Map<number, number>()
    for (const d of s) hist.set(d, (hist.get(d) ?? 0) + 1)
    return {
      interval: at,
      nodes: s.length,
      mean: round(mean(s), 2),
      min: s[0] ?? 0,
      p50: pct(s, 0.5) ?? 0,
      p95: pct(s, 0.95) ?? 0,
      max: s[s.length - 1] ?? 0,
      isolated: s.filter(d => d === 0).length,
      histogram: [...hist]
    }
  }

  // --- the run ----------------------------------------------------------------------------
  const timeline: IntervalRow[] = []
  const degree: DegreeResult[] = []
  const probeWatches: Array<{ idx: number, w: Watch, joinedAt: number, hit: Array<number | null> }> = []
  const batch: SearchRec[] = []
  const batchStarts: Array<{ step: number, subnet: string }> = []
  // Frames at the last interval's end, by kind, and ring frames claimed by then: each
  // interval's traffic is the difference.
  let framesBefore = Float64Array.from(world.frames)
  let claimedBefore = 0
  const kindAt = (kind: (typeof KINDS)[number]): number => KINDS.indexOf(kind)
  const owners: Array<{ key: string, answers: Array<{ id: string | null, hops: number }> }> = []
  let ownerResult: OwnerResult | null = null
  let ownerAt = 0
  const searchResults: SearchResult[] = []
  let holdsAtKill = 0
  let holdsPeak = 0
  const totalJoinSteps = ph.probes * stepsPer
  let created = 0
  let wall = Date.now()

  for (let k = 0; k < o.intervals; k++) {
    let killed = 0
    let joined = 0
    const intervalSearches: SearchRec[] = []
    if (k === 0) o.growHeap?.('join')
    if (k === ph.probes) o.growHeap?.('settled')
    if (k === ph.probes) {
      // Subnet members among the nodes already there, then the probes join.
      for (const size of SUBNET_SIZES) {
        if (size > world.live.size / 2) continue
        const subnet = 's' + size
        const m = new Set(pick(size))
        members.set(subnet, m)
        for (const i of m) if (world.owns(i)) world.livePeernet(i).join(subnet).catch(() => {})
      }
      for (let p = 0; p < o.probes; p++) {
        const boot = pick(o.bootstrap).map(i => world.nodes[i].url)
        const node = world.addNode(boot)
        probeWatches.push({ idx: node.idx, w: world.watch(node.url), joinedAt: k, hit: THRESHOLDS.map(() => null) })
        joined++
      }
    }
    if (k === ph.search) {
      // Spread evenly over the phase's steps, the subnets in turn.
      const span = stepsPer * Math.max(1, Math.min(SEARCH_INTERVALS, ph.kill - OWNER_LEAD - ph.search))
      const total = members.size * o.searches
      let n = 0
      for (let r = 0; r < o.searches; r++) {
        for (const subnet of members.keys()) batchStarts.push({ step: k * stepsPer + Math.floor(n++ * span / total), subnet })
      }
      batchStarts.reverse()
    }
    if (k === ph.kill - OWNER_LEAD && ph.kill - OWNER_LEAD > ph.probes) {
      askOwners(k)
      // Their lookups start once the asks' promises run: before the clock moves (and claims end).
      await new Promise<void>(resolve => setImmediate(resolve))
    }
    if (k === ph.kill) {
      const g = graph()
      degree.push(degreeStats(k, g.degrees))
      holdsAtKill = holdsNow()
      const victims = pick(Math.round(world.live.size * KILL_SHARE))
      world.killAll(victims.map(i => world.nodes[i]))
      killed += victims.length
    }
    if (k >= ph.steady) {
      // Of the nodes live now, as the report says (1% of nodes killed and as many joined), not of
      // those the run started with: after the kill that would be twice the churn.
      const c = Math.max(1, Math.round(world.live.size * STEADY_CHURN))
      world.killAll(pick(c).map(i => world.nodes[i]))
      killed += c
      for (let j = 0; j < c; j++) join()
      joined += c
    }
    if (k >= ph.kill) {
      const per = k < ph.steady ? o.killSearches : o.churnSearches
      for (const subnet of members.keys()) {
        for (let r = 0; r < per; r++) {
          const rec = startSearch(subnet, Math.floor(interval * 0.8))
          if (rec) intervalSearches.push(rec)
        }
      }
    }

    for (let s = 0; s < stepsPer; s++) {
      if (k < ph.probes) {
        const target = Math.min(o.nodes, Math.floor(o.nodes * (k * stepsPer + s + 1) / totalJoinSteps))
        while (created < target) {
          join()
          created++
          joined++
        }
      }
      while (batchStarts.length > 0 && batchStarts[batchStarts.length - 1].step <= k * stepsPer + s) {
        const b = batchStarts.pop() as { step: number, subnet: string }
        const rec = startSearch(b.subnet, interval)
        if (rec) batch.push(rec)
      }
      await world.step(step)
      // The kill's first step delivered the dead links' ends, and their peers let go of them:
      // with the dead nodes' timers gone too (World.killAll), all they held is garbage now, half
      // the heap. V8 sets the next collection's limit by the growth as a collection ends.
      if (k === ph.kill && s === KILLED_STEP) o.growHeap?.('killed')
    }

    // --- end of interval k: figures at time k + 1 ------------------------------------------
    world.tidy()
    shareSearches()
    const g = graph()
    let reach: number | null = null
    let holds: number | null = null
    if (probeWatches.length > 0) {
      const reaches = reachAll()
      reach = mean(reaches)
      holds = holdsNow()
      holdsPeak = Math.max(holdsPeak, holds)
      for (const [x, p] of probeWatches.entries()) {
        const r = reaches[x]
        const t = k + 1 - p.joinedAt
        if (k < ph.kill) THRESHOLDS.forEach((thr, x) => { if (p.hit[x] === null && r >= thr) p.hit[x] = t })
      }
    }
    const ran = intervalSearches.filter(r => r.done)
    const live = Math.max(1, world.live.size)
    const tally = totals()
    const during = (kinds: ReadonlyArray<(typeof KINDS)[number]>): number => kinds.reduce((a, kind) => a + tally.frames[kindAt(kind)] - framesBefore[kindAt(kind)], 0)
    const ringUpkeep = (during(RING_KINDS) - (tally.claimedRing - claimedBefore)) / live
    const gossip = during(['getaddrs', 'addrs']) / live
    const keepalive = during(['ping', 'pong']) / live
    framesBefore = Float64Array.from(tally.frames)
    claimedBefore = tally.claimedRing
    if (k === ph.kill - 1 && owners.length > 0) ownerResult = ownersNow()
    timeline.push({
      interval: k + 1,
      phase: k < ph.probes ? 'join' : k < ph.kill ? 'settle' : k < ph.steady ? 'kill' : 'steady',
      live: world.live.size,
      edges: g.edges,
      meanDegree: round(g.degrees.length ? 2 * g.edges / g.degrees.length : 0, 2),
      components: g.components,
      largest: round(g.largest, 4),
      isolated: g.isolated,
      reach: reach === null ? null : round(reach, 4),
      holds: holds === null ? null : round(holds, 4),
      searches: ran.length,
      success: ran.length ? round(ran.filter(r => r.ring > 0).length / ran.length, 4) : null,
      viaFlood: ran.length ? round(ran.filter(r => r.ring === 0 && r.flood > 0).length / ran.length, 4) : null,
      ringUpkeep: round(ringUpkeep, 3),
      gossip: round(gossip, 3),
      keepalive: round(keepalive, 3),
      killed,
      joined,
      tableMean: round(tableSum() / Math.max(1, world.live.size), 1)
    })
    for (const r of intervalSearches) forget(r)
    if (batch.length > 0 && batchStarts.length === 0 && batch.every(r => r.done) && searchResults.length === 0) {
      sumSinks(batch)
      for (const subnet of members.keys()) searchResults.push(summarize(subnet, batch.filter(r => r.subnet === subnet)))
      for (const r of batch) forget(r)
    }
    o.progress?.(`interval ${k + 1}/${o.intervals}: ${world.live.size} live, ${g.edges} links, largest component ${(g.largest * 100).toFixed(1)}%` +
      (reach === null ? '' : `, probes heard of by ${(reach * 100).toFixed(1)}%`) + `, tables ${timeline[timeline.length - 1].tableMean}, rss ${Math.round(process.memoryUsage.rss() / 2 ** 20)} MB, heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB, ${Date.now() - wall} ms`)
    wall = Date.now()
  }
  degree.push(degreeStats(o.intervals, graph().degrees))
  const overlay = {
    nodes: world.live.values().slice().sort((a, b) => a - b),
    edges: world.edges(),
    members: Object.fromEntries([...members].map(([s, m]) => [s, [...m].filter(i => world.nodes[i].alive)]))
  }

  const convergence: ConvergenceResult = {
    probes: probeWatches.length,
    reach: THRESHOLDS.map((share, x) => {
      const hits = probeWatches.map(p => p.hit[x])
      const got = hits.filter((h): h is number => h !== null).sort((a, b) => a - b)
      return {
        share,
        median: got.length * 2 > hits.length ? got[Math.ceil(hits.length / 2) - 1] : null,
        max: got.length === hits.length && got.length > 0 ? got[got.length - 1] : null,
        reached: got.length
      }
    }),
    holdsPeak: round(holdsPeak, 4),
    holdsAtKill: round(holdsAtKill, 4),
    tableShare: round(Math.min(1, o.table / o.nodes), 4)
  }
  const traffic: Record<string, { frames: number, bytes: number }> = {}
  const tally = totals()
  KINDS.forEach((kind, x) => { traffic[kind] = { frames: tally.frames[x], bytes: tally.bytes[x] } })
  const errs = world.gather({ errors: world.errors, first: world.firstError })
  const { progress: _, part: _part, growHeap: _growHeap, ...settings } = o
  const after = timeline.filter(t => t.interval > ph.probes)
  const settled = after.filter(t => t.phase === 'settle')
  const upkeep: UpkeepResult = {
    from: ph.probes,
    ringMean: round(mean(after.map(t => t.ringUpkeep)), 3),
    ringSettled: round(mean(settled.map(t => t.ringUpkeep)), 3),
    ringMax: round(Math.max(0, ...after.map(t => t.ringUpkeep)), 3),
    gossipMean: round(mean(after.map(t => t.gossip)), 3),
    keepaliveMean: round(mean(after.map(t => t.keepalive)), 3)
  }
  return { settings: { ...settings, known: KNOWN }, phases: ph, convergence, degree, search: searchResults, owner: ownerResult, upkeep, timeline, traffic, errors: errs.reduce((a, e) => a + e.errors, 0), firstError: errs.find(e => e.first !== null)?.first ?? null, overlay }

  function forget (r: SearchRec): void {
    // Its qids (its lookups', its flood's) are its sink's: released with it.
    world.release(r.sink)
    recs.delete(r.id)
  }

  /** Frames and bytes by kind, and the ring frames claimed, over every thread. */
  function totals (): { frames: Float64Array, bytes: Float64Array, claimedRing: number } {
    const all = world.gather({ frames: world.frames, bytes: world.bytes, claimedRing: world.claimedRing })
    const frames = new Float64Array(KINDS.length)
    const bytes = new Float64Array(KINDS.length)
    let claimedRing = 0
    for (const t of all) {
      for (let x = 0; x < KINDS.length; x++) { frames[x] += t.frames[x]; bytes[x] += t.bytes[x] }
      claimedRing += t.claimedRing
    }
    return { frames, bytes, claimedRing }
  }

  /** The live nodes' table sizes, summed over every thread. */
  function tableSum (): number {
    let n = 0
    for (const i of world.live.values()) if (world.owns(i)) n += world.livePeernet(i).table?.size ?? 0
    return world.gather(n).reduce((a, b) => a + b, 0)
  }

  /** Each search's frames as counted on every thread, into its own sink. */
  function sumSinks (list: SearchRec[]): void {
    const all = world.gather(list.map(r => [r.sink.frames, r.sink.bytes]))
    list.forEach((r, x) => {
      r.sink.frames = 0
      r.sink.bytes = 0
      for (const part of all) { r.sink.frames += part[x][0]; r.sink.bytes += part[x][1] }
    })
  }

  /** Every ask of OWNER_KEYS values, from OWNER_ASKERS random live nodes each (a lookup each). */
  function askOwners (at: number): void {
    ownerAt = at
    for (let j = 0; j < OWNER_KEYS; j++) {
      const entry = { key: `key-${o.seed}-${j}`, answers: [] as Array<{ id: string | null, hops: number }> }
      owners.push(entry)
      for (const i of pick(OWNER_ASKERS)) {
        // Measurement traffic, not upkeep: the lookup is claimed (the ask starts it at once).
        const sink = world.newSink()
        if (!world.owns(i)) continue
        world.claim(i, 'owner', sink)
        world.livePeernet(i).getEndpointFor(entry.key).then(
          e => { entry.answers.push({ id: e.id, hops: e.hops ?? 0 }) },
          () => { entry.answers.push({ id: null, hops: 0 }) })
      }
    }
  }

  function ownersNow (): OwnerResult {
    // Every thread's answers, in thread order (each entry's are counted, not ordered).
    const all = world.gather(owners.map(e => e.answers))
    owners.forEach((e, x) => { e.answers = all.flatMap(part => part[x]) })
    const ids = world.live.values().map(i => world.ids[i]).filter(id => id !== undefined).sort()
    let asked = 0; let answered = 0; let agree = 0; let correct = 0
    const hops: number[] = []
    for (const e of owners) {
      const point = valuePoint(DEFAULT_NETWORK, e.key)
      const truth = ids.find(id => id >= point) ?? ids[0]
      const count = new Map<string, number>()
      for (const a of e.answers) {
        if (a.id === null) continue
        answered++
        hops.push(a.hops)
        count.set(a.id, (count.get(a.id) ?? 0) + 1)
        if (a.id === truth) correct++
      }
      asked += OWNER_ASKERS
      agree += Math.max(0, ...count.values())
    }
    hops.sort((a, b) => a - b)
    return { interval: ownerAt, keys: owners.length, asked, answered, agreement: round(asked ? agree / asked : 0, 4), correct: round(asked ? correct / asked : 0, 4), hopsP50: pct(hops, 0.5) }
  }

  /** Each probe's reach: the share of the other live nodes that know of it (each thread its own nodes). */
  function reachAll (): number[] {
    const mine = probeWatches.map(p => {
      let n = 0
      for (const i of p.w.known) if (world.nodes[i].alive) n++
      return n
    })
    const all = world.gather(mine)
    return probeWatches.map((p, x) => {
      const n = all.reduce((a, part) => a + part[x], 0)
      const others = world.live.size - (world.nodes[p.idx].alive ? 1 : 0)
      return others > 0 ? n / others : 0
    })
  }

  function holdsNow (): number {
    const live = world.live.values()
    // Each probe in the tables that may hold it (Watch): a few hundred of 10,000 (the share that
    // heard of it is the reach), not every live node's table for every probe.
    const mine = probeWatches.map(p => {
      const holds = (i: number): boolean => i !== p.idx && world.nodes[i].alive && world.livePeernet(i).table?.has(p.w.url) === true
      let n = 0
      for (const i of p.w.known) if (holds(i)) n++
      for (const i of p.w.saved) if (!p.w.known.has(i) && holds(i)) n++
      return n
    })
    const all = world.gather(mine)
    const shares = probeWatches.map((_, x) => {
      const n = all.reduce((a, part) => a + part[x], 0)
      return live.length > 1 ? n / (live.length - 1) : 0
    })
    return mean(shares)
  }

  function summarize (subnet: string, recs: SearchRec[]): SearchResult {
    const ok = recs.filter(r => r.ring > 0)
    const hops = ok.map(r => r.firstHops as number).sort((a, b) => a - b)
    const first = ok.map(r => (r.first as number) / interval).sort((a, b) => a - b)
    // A search's frames: its ring lookups' (claimed) and its flood's (under its own qid), all in its sink.
    const traffic = recs.map(r => ({ frames: r.sink.frames, bytes: r.sink.bytes }))
    const frames = traffic.map(t => t.frames).sort((a, b) => a - b)
    return {
      members: Number(subnet.slice(1)),
      searches: recs.length,
      success: recs.length ? round(ok.length / recs.length, 4) : 0,
      recall: round(mean(recs.map(r => r.answers / r.members)), 4),
      hopsP50: pct(hops, 0.5),
      hopsP95: pct(hops, 0.95),
      messages: round(mean(frames), 1),
      messagesP99: pct(frames, 0.99) ?? 0,
      bytes: Math.round(mean(traffic.map(t => t.bytes))),
      viaFlood: recs.length ? round(recs.filter(r => r.ring === 0 && r.flood > 0).length / recs.length, 4) : 0,
      firstP50: nullRound(pct(first, 0.5), 3),
      firstP95: nullRound(pct(first, 0.95), 3)
    }
  }
}
