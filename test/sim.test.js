// The simulation at a small size: real nodes over mem://, virtual clock, seeded random.
// Asserts behaviour (search finds members, the overlay re-forms, one seed gives one result),
// never timings.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { simulate, DEFAULTS, OWNER_KEYS, STEADY_CHURN } from '../lib/sim/scenario.js'
import { rows, text, svg, dot } from '../lib/sim/report.js'
import { World } from '../lib/sim/world.js'
import { parseArgs, UsageError, inThreads, gcFlagsFor, THREAD_GC_FLAGS, DEFAULT_THREADS } from '../lib/sim/main.js'
import { exchange, CrossNet, MAX_THREADS, EXCHANGE_TIMEOUT } from '../lib/sim/parallel.js'
import { SimNetwork, Outbox } from '../lib/sim/link.js'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { heapGrowth, youngGeneration, sharedScavenges } from '../lib/sim/collect.js'
import { simulationStandInLayer } from '../lib/sim/stand-in.js'
import { encodeFrame, PROTOCOL_VERSION, MAX_OUTBUF, PING_INTERVAL, generateKeyPair } from '../lib/index.js'
import { tempDir } from './lib/helpers.js'
import { rawPeer, HEX, NONCE } from './lib/mem-nodes.js'

const MAIN = fileURLToPath(new URL('../lib/sim/main.js', import.meta.url))
const small = { ...DEFAULTS, nodes: 200, intervals: 30, seed: 7, searches: 40, killSearches: 5, churnSearches: 2 }
const figures = r => JSON.stringify(rows(r))

const first = await simulate(small)

t.test('search finds the members of subnets of 1, 10 and 100, through the ring', async t => {
  t.same(first.search.map(s => s.members), [1, 10, 100])
  for (const s of first.search) {
    t.equal(s.searches, small.searches, `${s.members}: every search ran`)
    // The searches start while this small, short run's ring is still settling (interval 6 of
    // 30): a node not joined yet, or a route that fails, falls back to the flood now and then.
    t.ok(s.success >= 0.95, `${s.members}: searches find a member through the ring (${s.success})`)
    t.ok(s.viaFlood <= 0.05 && s.success + s.viaFlood === 1, `${s.members}: the rest by the flood (${s.viaFlood})`)
    t.ok(s.recall > 0.9, `${s.members}: searches reach nearly all members (${s.recall})`)
    t.ok(s.hopsP50 >= 1 && s.hopsP95 <= 8, `${s.members}: a lookup takes a few hops (p50 ${s.hopsP50}, p95 ${s.hopsP95})`)
    // A lookup there and its answer back, a few hops each way; a flood costs a frame on every
    // gossip link (thousands here), so a fallback or two still leaves the mean under the nodes.
    t.ok(s.messages >= 2 && s.messages < small.nodes, `${s.members}: messages per search (mean ${s.messages}, p99 ${s.messagesP99})`)
    t.ok(s.bytes > s.messages * 20, `${s.members}: bytes are counted`)
    t.ok(s.firstP50 > 0 && s.firstP50 < 1, `${s.members}: first answer within an interval (${s.firstP50})`)
  }
  t.equal(first.errors, 0, 'no node reported an error')
})

t.test('the ring: owners agreed on, upkeep counted apart from searches', async t => {
  const o = first.owner
  t.equal(o.keys, OWNER_KEYS)
  t.equal(o.answered, o.asked, 'every owner lookup answered')
  t.ok(o.agreement >= 0.99 && o.correct >= 0.99, `nodes name the same, responsible node (${o.agreement}, ${o.correct})`)
  const u = first.upkeep
  // Stabilise alone is a frame each way per node per round: upkeep is at least that, and the
  // searches' lookups (counted to them) are not in it.
  t.ok(u.ringMean >= 1.5 && u.ringMean < 15, `ring upkeep per node per interval (${u.ringMean})`)
  t.ok(u.gossipMean > 1 && u.gossipMean < 3, `gossip, next to it: an ask and an answer per node per interval (${u.gossipMean})`)
  const ring = ['ring.lookup', 'ring.found', 'ring.stab', 'ring.stabok', 'ring.store'].reduce((a, k) => a + first.traffic[k].frames, 0)
  t.ok(ring > 0, 'ring frames are counted by kind')
  t.ok(first.traffic['ring.stabsame'].frames > 0, 'a stabilise answer that repeats the last goes as its number (ring.stabsame), counted as a ring frame')
})

t.test('the overlay forms, and re-forms after half the nodes are killed', async t => {
  const at = i => first.timeline[i - 1]
  const p = first.phases
  t.equal(at(p.kill).components, 1, 'one component before the kill')
  t.equal(at(p.kill).isolated, 0)
  const d = first.degree[0]
  t.ok(d.min >= 1 && d.mean >= small.connections, `degree: every node linked, mean ${d.mean}`)
  const after = at(p.kill + 1)
  t.equal(after.live, Math.round(at(p.kill).live / 2), 'half the nodes are gone')
  t.equal(after.killed, at(p.kill).live - after.live)
  const end = at(p.steady)
  t.equal(end.components, 1, 'one component again by the end of the window')
  t.equal(end.isolated, 0, 'nobody left alone')
  t.ok(end.meanDegree >= small.connections, `links topped up again (mean degree ${end.meanDegree})`)
  const kill = first.timeline.filter(r => r.phase === 'kill')
  t.equal(kill.length, 10)
  const ran = kill.reduce((a, r) => a + r.searches, 0)
  const ok = kill.reduce((a, r) => a + r.success * r.searches, 0)
  t.ok(ran > 0 && ok / ran >= 0.8, `searches succeed after the kill (${ok}/${ran})`)
  const steady = first.timeline.filter(r => r.phase === 'steady')
  t.ok(steady.length > 0 && steady.every(r => r.killed > 0 && r.joined === r.killed), 'steady churn kills and joins')
  // STEADY_CHURN of the nodes live then (the kill halved them), not of those the run started with.
  t.ok(steady.every(r => r.killed === Math.max(1, Math.round(r.live * STEADY_CHURN))), `${STEADY_CHURN * 100}% of the live nodes an interval (${steady[0].killed} of ${steady[0].live})`)
  t.ok(steady.every(r => r.largest >= 0.95), 'the overlay holds together under steady churn')
})

t.test('convergence: a new node\'s address spreads', async t => {
  const c = first.convergence
  t.equal(c.probes, small.probes)
  for (let i = 1; i < c.reach.length; i++) {
    const [lo, hi] = [c.reach[i - 1], c.reach[i]]
    t.ok(hi.reached <= lo.reached, `no more probes reach ${hi.share * 100}% than ${lo.share * 100}%`)
    if (hi.median !== null) t.ok(lo.median !== null && lo.median <= hi.median, `a larger share takes no fewer intervals (${lo.median} <= ${hi.median})`)
  }
  const at = i => first.timeline[i - 1]
  const p = first.phases
  t.ok(at(p.kill).reach > at(p.probes + 1).reach + 0.05, `probes are heard of by more nodes over time (${at(p.probes + 1).reach} → ${at(p.kill).reach})`)
  t.ok(c.holdsPeak > 0 && c.holdsPeak <= 1)
  const reach = first.timeline.map(r => r.reach).filter(x => x !== null)
  t.ok(reach.length > 0 && reach.every((x, i) => i === 0 || x >= reach[i - 1] - 0.2), 'reach grows')
})

t.test('the keepalive costs little: idle links only are pinged, and live peers answer', async t => {
  const { ping, pong } = first.traffic
  // Every link would get a ping each PING_INTERVAL if all were pinged; gossip and the ring's
  // stabilise keep many busy.
  const every = first.timeline.reduce((a, r) => a + r.edges * small.interval / PING_INTERVAL, 0)
  t.ok(ping.frames > 0, `idle links were pinged (${ping.frames})`)
  t.ok(ping.frames < every * 0.9, `fewer pings (${ping.frames}) than a ping on every link every PING_INTERVAL (${Math.round(every)})`)
  t.ok(pong.frames >= ping.frames * 0.9, `pings are answered (${pong.frames} pongs), bar those to nodes killed meanwhile`)
})

t.test('the same seed gives the same figures; another seed others', async t => {
  // At a quarter of the size: the property does not depend on it, and each run of `small` is
  // a tenth of the suite's slowest file.
  const tiny = { ...small, nodes: 50, searches: 10 }
  const once = await simulate(tiny)
  t.equal(figures(await simulate(tiny)), figures(once), 'same seed, same rows')
  t.not(figures(await simulate({ ...tiny, seed: 8 })), figures(once), 'another seed, other rows')
})

t.test('over threads: each runs its own nodes, links between them carry frames, and a seed gives one result a thread count', async t => {
  const tiny = { ...small, nodes: 50, searches: 10 }
  const two = await inThreads(tiny, 2, false)
  t.equal(figures(await inThreads(tiny, 2, false)), figures(two), 'two threads, the same seed: the same rows')
  const one = await simulate(tiny)
  // Not the same rows (a link between threads connects a step later), the same kind of figures.
  t.same(rows(two).map(r => r.row), rows(one).map(r => r.row), 'the same rows, one thread or two')
  const edges = two.overlay.edges
  t.ok(edges.some(([a, b]) => a % 2 !== b % 2), 'links between the two threads\' nodes')
  t.ok(edges.some(([a, b]) => a % 2 === b % 2), 'and within each')
  for (const s of two.search) t.ok(s.success >= 0.9, `${s.members} members: ${s.success} through the ring`)
  t.ok(two.traffic.hello.frames > 0 && two.traffic['ring.lookup'].frames > 0, 'every thread\'s frames counted')
  t.equal(two.errors, 0)
  const three = await inThreads(tiny, 3, false)
  t.same(rows(three).map(r => r.row), rows(one).map(r => r.row), 'three threads too')
  // Each thread hears every other's items: a link to a third thread's node must be left to that
  // thread, not cut as a dial to nobody (which left a third of the links and 60× the hellos).
  for (const [n, run] of [[2, two], [3, three]]) {
    const [links, hellos] = [run.overlay.edges.length, run.traffic.hello.frames]
    t.ok(Math.abs(links - one.overlay.edges.length) <= one.overlay.edges.length / 10, `${n} threads: ${links} links at the end, one thread ${one.overlay.edges.length}`)
    t.ok(hellos < one.traffic.hello.frames * 1.2, `${n} threads: ${hellos} hellos, one thread ${one.traffic.hello.frames}`)
  }
})

t.test('slow links (--slow-links): half the nodes\' links take two steps; the ring still answers, later, one thread or two', async t => {
  const tiny = { ...small, nodes: 50, searches: 10 }
  const slow = { ...tiny, slowLinks: 0.5 }
  const [fast, one] = [await simulate(tiny), await simulate(slow)]
  t.equal(rows(one)[0].slowLinks, 0.5, 'the share in the settings row')
  t.match(text(one), /link latency 50 ms \(100 ms on the links of 50% of nodes\)/, 'and in the text')
  t.match(text(fast), /link latency 50 ms, /, 'one latency when none are slow')
  for (const s of one.search) t.ok(s.success >= 0.9, `${s.members} members: ${s.success} through the ring`)
  const firstP50 = r => r.search.reduce((a, s) => a + s.firstP50, 0)
  t.ok(firstP50(one) > firstP50(fast), `first answers later (${firstP50(one)} intervals against ${firstP50(fast)}, summed over the subnets)`)
  const two = await inThreads(slow, 2, false)
  t.equal(figures(await inThreads(slow, 2, false)), figures(two), 'two threads: a seed gives one result')
  for (const s of two.search) t.ok(s.success >= 0.9, `two threads, ${s.members} members: ${s.success} through the ring`)
  t.equal(two.errors, 0)
})

t.test(`an exchange that hears nothing from another thread within EXCHANGE_TIMEOUT (${EXCHANGE_TIMEOUT} ms) fails, with a sentence`, async t => {
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => { port1.close(); port2.close() })
  const signal = new Int32Array(new SharedArrayBuffer(8))
  const part = { index: 0, count: 2, ports: [null, port1], signal, timeout: 50 }
  t.throws(() => exchange(part, { n: 1 }), /no word from another thread in 0\.05 s \(EXCHANGE_TIMEOUT\)/)
  // What the other side sent arrives, with what this side sent the other way.
  port2.postMessage({ n: 2 })
  t.same(exchange(part, { n: 3 }), [{ n: 3 }, { n: 2 }])
})

t.test('threads scavenge together: each at the end of a step where any thread said its young generation was nearly full', async t => {
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => { port1.close(); port2.close() })
  let full = false
  let scavenges = 0
  const young = { full: () => full, scavenge: () => { scavenges++ } }
  const part = { index: 0, count: 2, ports: [null, port1], signal: new Int32Array(new SharedArrayBuffer(8)), timeout: 1000, young }
  const cross = new CrossNet(part, null, null, () => {}, {})
  const said = []
  // One step as World.step takes it: this thread sends, the other's part comes in.
  const step = otherFull => {
    cross.send()
    said.push(receiveMessageOnPort(port2).message.young)
    port2.postMessage({ items: [], bytes: new Uint8Array(0), young: otherFull })
    const all = cross.receive()
    cross.deliver(all)
    cross.scavengeTogether(all)
    return scavenges
  }
  t.equal(step(false), 0, 'neither nearly full: no scavenge')
  t.equal(step(true), 1, 'the other thread nearly full: this one scavenges too')
  full = true
  t.equal(step(false), 2, 'this one nearly full')
  full = false
  t.equal(step(false), 2, 'and not again once neither is')
  t.same(said, [false, false, true, false], 'a thread says whether it is with its part of each step\'s exchange')
})

t.test('a slow link to another thread\'s node: what comes over it is delivered a step after what comes over a fast one, in order', async t => {
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => { port1.close(); port2.close() })
  const part = { index: 0, count: 2, ports: [null, port1], signal: new Int32Array(new SharedArrayBuffer(8)), timeout: 1000 }
  const net = new SimNetwork(new Outbox())
  net.slowLink = (from, href) => href === 'mem://n1'
  const cross = new CrossNet(part, net, new Outbox(), () => {}, {
    indexOf: href => Number(href.slice('mem://n'.length)),
    urlOf: idx => `mem://n${idx}`,
    alive: () => true,
    publicKey: () => new Uint8Array(32),
    claimed: () => {}
  })
  const slow = cross.dial('mem://n1', 'n0')
  const fast = cross.dial('mem://n3', 'n0')
  t.ok(slow.slow && !fast.slow, 'the end of the link to the slow node is slow, the other not')
  const got = []
  slow.on('data', x => got.push(`slow:${x}`))
  slow.on('end', () => got.push('slow:end'))
  fast.on('data', x => got.push(`fast:${x}`))
  const [slowLink, fastLink] = cross.out.filter(it => it.k === 'connect').map(it => it.link)
  /** One step's exchange: the other thread's items (data as text), delivered here. */
  const step = items => {
    cross.send()
    receiveMessageOnPort(port2)
    const text = items.filter(it => it.k === 'data').map(it => it.text).join('')
    let at = 0
    port2.postMessage({ items: items.map(it => it.k === 'data' ? { k: 'data', link: it.link, at: (at += it.text.length) - it.text.length, len: it.text.length } : it), bytes: new Uint8Array(Buffer.from(text)), young: false })
    cross.deliver(cross.receive())
  }
  step([{ k: 'data', link: slowLink, text: 'x1' }, { k: 'data', link: fastLink, text: 'y1' }])
  await new Promise(resolve => setImmediate(resolve))
  t.same(got, ['fast:y1'], 'the fast link\'s at its step; the slow one\'s not yet')
  step([{ k: 'data', link: slowLink, text: 'x2' }, { k: 'end', link: slowLink }])
  await new Promise(resolve => setImmediate(resolve))
  t.same(got, ['fast:y1', 'slow:x1'], 'the slow link\'s first a step later')
  step([])
  await new Promise(resolve => setImmediate(resolve))
  t.same(got, ['fast:y1', 'slow:x1', 'slow:x2', 'slow:end'], 'then the rest, in order, its end last')
  slow.destroy()
  fast.destroy()
})

t.test('a thread\'s young generation: nearly full or not, and scavenged on demand', async t => {
  const young = youngGeneration()
  t.type(young.full(), 'boolean')
  let minor = false
  const obs = new PerformanceObserver(list => { if (list.getEntries().some(e => e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR)) minor = true })
  obs.observe({ entryTypes: ['gc'] })
  t.teardown(() => obs.disconnect())
  young.scavenge()
  t.notOk(young.full(), 'not nearly full once scavenged')
  // The observer hears of a collection a turn or more after it ran: polled for, not slept on.
  for (let i = 0; i < 10_000 && !minor; i++) await new Promise(resolve => setImmediate(resolve))
  t.ok(minor, 'a minor collection ran')
  t.equal(sharedScavenges(), undefined, 'a run main.ts did not start (V8\'s scavenge helpers on) does not scavenge its threads together')
})

t.test('V8\'s flags for a run over threads: only when it asks for more than one', async t => {
  t.same(gcFlagsFor(['--nodes', '100', '--threads', '2']), THREAD_GC_FLAGS)
  t.same(gcFlagsFor(['--nodes', '100', '--threads', '1']), [])
  t.same(gcFlagsFor(['--nodes', '100']), DEFAULT_THREADS > 1 ? THREAD_GC_FLAGS : [], 'the default thread count')
  t.same(gcFlagsFor(['--bogus']), [], 'a command line that does not parse: none (the run says why)')
})

t.test('in the simulated world, a peer that stops reading meets MAX_OUTBUF as over TCP', async t => {
  const world = new World({ seed: 1, table: 256, sample: 32, connections: 5, interval: 0, dialInterval: 1000, latency: 50, hops: 15 })
  const node = world.addNode([])
  t.teardown(() => world.kill(node))
  const steps = async (until, max = 100) => { for (let i = 0; i < max && !until(); i++) await world.step(50) }
  await node.pn.ready
  const addrs = Array.from({ length: 32 }, (_, i) => `mem://${String(i).padStart(58, 'x')}`)
  node.pn.table.learn(addrs, ['id:filler'])
  // The simulation's links run its stand-in for the secure layer: so does this peer's.
  const raw = world.net.dial(node.url, 'slow')
  simulationStandInLayer(raw, true, generateKeyPair())
  const slow = rawPeer(raw, { plain: true })
  t.teardown(() => slow.stream.destroy())
  slow.send({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX('51'), nonce: NONCE, addrs: [] })
  await steps(() => slow.received.some(m => m.type === 'hello'))
  slow.stream.pause()
  let reason = null
  node.pn.on('disconnect', d => { reason = d.reason })
  const asks = Math.ceil(2 * MAX_OUTBUF / encodeFrame({ type: 'addrs', addrs }).length)
  slow.write(Buffer.concat(Array.from({ length: asks }, () => encodeFrame({ type: 'getaddrs' }))))
  await steps(() => reason !== null)
  t.match(reason, /peer is not reading/, `dropped: ${reason}`)
})

t.test('a watch names every node whose table may hold its address: those that heard of it, and those given it to bootstrap from', async t => {
  const world = new World({ seed: 5, table: 256, sample: 32, connections: 5, interval: 1000, dialInterval: 1000, latency: 50, hops: 15 })
  const nodes = [world.addNode([])]
  t.teardown(() => { for (const n of nodes) world.kill(n) })
  for (let k = 0; k < 5; k++) nodes.push(world.addNode([nodes[0].url]))
  const probe = world.addNode([nodes[1].url])
  nodes.push(probe)
  const w = world.watch(probe.url)
  // Given the probe to bootstrap from: its table holds it before any event says so.
  const given = world.addNode([probe.url])
  nodes.push(given)
  t.ok(w.saved.has(given.idx), 'a node given the address to bootstrap from is among the saved')
  let holders = 0
  for (let s = 0; s < 200; s++) {
    if (s % 40 === 0) nodes.push(world.addNode([nodes[2 + (s % 3)].url]))
    await world.step(50)
    for (const i of world.live.values()) {
      if (i === probe.idx || !world.nodes[i].pn.table?.has(probe.url)) continue
      holders++
      if (!w.known.has(i) && !w.saved.has(i)) t.fail(`step ${s}: node ${i} holds the probe but the watch does not name it`)
    }
  }
  t.ok(holders > 0, `tables held the probe ${holders} times over the steps`)
})

t.test('the graph figures\' links are the nodes\' own: each live node\'s open links, as it names them', async t => {
  const world = new World({ seed: 3, table: 256, sample: 32, connections: 5, interval: 1000, dialInterval: 1000, latency: 50, hops: 15 })
  const nodes = [world.addNode([])]
  t.teardown(() => { for (const n of nodes) world.kill(n) })
  // What the world kept from the nodes' events, against what each live node lists now (by url,
  // or by id for an inbound peer no dial of its reached), each pair once.
  const theirs = () => {
    const pairs = new Set()
    const unknown = []
    for (const i of world.live.values()) {
      for (const name of world.nodes[i].pn.connections()) {
        const j = name.startsWith('mem://n') ? Number(name.slice(7)) : world.ids.indexOf(name)
        if (j < 0) unknown.push(name)
        else if (world.nodes[j].alive) pairs.add(`${Math.min(i, j)},${Math.max(i, j)}`)
      }
    }
    t.same(unknown, [], 'every link is to a node of the world')
    return [...pairs].sort()
  }
  const same = (when) => {
    const mine = world.edges().map(([a, b]) => `${a},${b}`).sort()
    t.same(mine, theirs(), `${when}: ${mine.length} links`)
  }
  let checked = 0
  for (let round = 0; round < 8; round++) {
    for (let k = 0; k < 4; k++) nodes.push(world.addNode([nodes[Math.floor(nodes.length / 2)].url]))
    for (let s = 0; s < 20; s++) {
      await world.step(50)
      if (s % 5 === 4) { same(`round ${round}, step ${s}`); checked++ }
    }
  }
  t.ok(world.edges().length > nodes.length, 'the nodes linked')
  // Half die at once: their links count no more, though their peers have not seen them close.
  world.killAll(nodes.filter((_, x) => x % 2 === 1))
  same('just after the kill')
  for (let s = 0; s < 40; s++) {
    await world.step(50)
    if (s % 4 === 0) same(`step ${s} after the kill`)
  }
  t.ok(checked > 0)
})

t.test('a killed node is let go: nothing of the world keeps its Peernet (half the nodes die at the kill)', async t => {
  const world = new World({ seed: 1, table: 256, sample: 32, connections: 5, interval: 1000, dialInterval: 1000, latency: 50, hops: 15 })
  const a = world.addNode([])
  const b = world.addNode([a.url])
  t.teardown(() => { world.kill(a); world.kill(b) })
  const steps = async (until, max = 400) => { for (let i = 0; i < max && !until(); i++) await world.step(50) }
  await steps(() => a.pn.connections().length > 0)
  t.ok(a.pn.connections().length > 0, 'linked')
  const ref = new WeakRef(b.pn)
  world.kill(b)
  // Once its peer has seen the link close: no timer of its own (a goodbye's second) holds it.
  await steps(() => a.pn.connections().length === 0)
  // A full collection, on a flag set for this process (tap runs it without --expose-gc).
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc')
  await new Promise(resolve => setImmediate(resolve))
  gc()
  t.equal(ref.deref(), undefined, 'its Peernet was collected')
})

t.test('the heap\'s growth follows the phases: the join, the settled run, after the kill; the rows are the same', async t => {
  const tiny = { ...small, nodes: 50, searches: 10 }
  let intervalsDone = 0
  const calls = []
  const run = await simulate({ ...tiny, progress: () => { intervalsDone++ }, growHeap: phase => { calls.push([phase, intervalsDone]) } })
  const settle = run.timeline.findIndex(r => r.phase !== 'join')
  const kill = run.timeline.findIndex(r => r.phase === 'kill')
  t.ok(settle > 0 && kill > settle, `the join ended at interval ${settle}, the kill came at ${kill}`)
  t.same(calls, [['join', 0], ['settled', settle], ['killed', kill]], 'the join\'s from the first interval, the settled run\'s from the first after the join, the killed run\'s within the kill\'s interval')
  t.equal(figures(run), figures(await simulate(tiny)), 'growth changes no row')
  t.equal(heapGrowth(), undefined, 'a run main.ts did not start with its own flags leaves the heap\'s growth as given')
})

t.test('outputs: text, NDJSON rows, SVG, DOT', async t => {
  const out = text(first, { wallMs: 1, peakRssMB: 1 })
  t.match(out, /convergence/)
  t.match(out, /search/)
  t.match(out, /churn/)
  t.match(out, /table 256, gossip sample 16/)
  const kinds = new Set(rows(first).map(r => r.row))
  for (const k of ['settings', 'convergence', 'degree', 'search', 'interval', 'traffic']) t.ok(kinds.has(k), `row ${k}`)
  const s = svg(first)
  t.match(s, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.match(s, /<polyline/)
  t.match(s, /<\/svg>\n$/)
  const d = dot(first)
  t.match(d, /^graph peernet \{/)
  t.equal(d.split('\n').filter(l => / -- /.test(l)).length, first.overlay.edges.length)
})

t.test('command line: flags, files, usage errors', async t => {
  // (PEERNET_SIM_CHILD: no relaunch with the sim's heap flags, one process a run instead of two.)
  const run = (...args) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PEERNET_SIM_CHILD: '1' } })
  const help = run('--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /--nodes N/)
  // Each bad flag is parseArgs's to refuse (checked here in-process); what the program makes of
  // a refusal, once, through the real command line.
  t.equal(parseArgs(['--slow-links', '0.5']).slowLinks, 0.5, '--slow-links: a share')
  t.equal(parseArgs([]).slowLinks, 0, 'none by default')
  for (const bad of [['--nodes', 'x'], ['--bogus'], ['--intervals', '5'], ['--sample', '1000'], ['--searches', '0'], ['--seed'], ['extra'], ['--threads', '0'], ['--threads', String(MAX_THREADS + 1)], ['--slow-links', '2'], ['--slow-links', '-0.1'], ['--slow-links', 'half']]) {
    let err = null
    try { parseArgs(bad) } catch (e) { err = e }
    t.ok(err instanceof UsageError, `${bad.join(' ')}: a usage error (${err?.message})`)
  }
  const r = run('--bogus')
  t.equal(r.status, 2, '--bogus: exit 2')
  t.equal(r.stderr.trim().split('\n').length, 1, '--bogus: one line on stderr')
  t.match(r.stderr, /^peernet sim: /)
  t.equal(r.stdout, '')
  const dir = tempDir(t, 'peernet-sim-')
  const full = run('--nodes', '30', '--intervals', '30', '--searches', '10', '--json', '--svg', join(dir, 'out.svg'), '--dot', join(dir, 'out.dot'), '--seed', 'abc')
  t.equal(full.status, 0, full.stderr)
  const lines = full.stdout.trim().split('\n').map(l => JSON.parse(l))
  t.equal(lines[0].row, 'settings')
  t.equal(lines[0].nodes, 30)
  t.equal(lines.at(-1).row, 'run')
  // A node process holds tens of MB: a figure in KB or bytes would be far outside this.
  const { peakRssMB } = lines.at(-1)
  t.ok(peakRssMB >= 10 && peakRssMB < 10_000, `peak RSS in MB (${peakRssMB})`)
  t.match(readFileSync(join(dir, 'out.svg'), 'utf8'), /<svg/)
  t.match(readFileSync(join(dir, 'out.dot'), 'utf8'), /graph peernet/)
})
