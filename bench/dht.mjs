#!/usr/bin/env node
// peernet next to Hyperswarm's DHT (hyperdht), side by side in the same run, at N = 20, 50, 100,
// 200 nodes (--quick: 20, 50), all on 127.0.0.1 and in one process per system and N:
//   - hyperdht: a local test network (hyperdht/testnet.js) behind a bootstrapper of our own on
//     127.0.0.1; `announce` a topic on one node, `lookup` it from others;
//   - peernet: N library nodes over memory-level, each with a tcp `listen` server, linked in a
//     random tree (node i connects to a random earlier node), gossip on (500 ms), up to 4
//     connections each, and the ring on (rounds of 500 ms; it dials its own links on top). Once
//     every node has joined the ring, `join` a subnet on one node and, when its member record is
//     held by the node responsible for its point, `search` it from others: each searcher once
//     via the ring and once with `flood: true`, in turn.
// LOOKUPS (100; --quick 20) searches per N per system, from random nodes (each node once before
// any twice). Figures (peernet's ring and flood as values, hyperdht as the baseline): time to
// the first result (median), messages per search / lookup (mean and p99), success and `via`,
// build time, CPU per node (building, and idle afterwards) and RSS per node.
// Messages: peernet, every frame any node sends because of the search, counted on every
// connection until no search frame has been sent or received for 100 ms
// (bench/lib/search-frames.mjs: query and answer frames, ring lookups that fetch and their
// answers; gossip and ring upkeep running meanwhile are not counted); hyperdht, requests +
// replies of the lookup query, i.e. 2 x successes + timeouts.
//
// SAFETY: a hyperdht node made without `bootstrap` dials public bootstrap nodes. Here every node
// gets a bootstrap list that is asserted to be 127.0.0.1 before any node starts, hyperdht's
// default list is emptied in place, and the script re-execs itself under `unshare -n` when it is
// not already in a loopback-only network namespace (it refuses to run if it cannot).
//   node bench/dht.mjs [--json] [--quick]
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createSocket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import {
  argv, quick, say, row, median, mean, quantile, now, sleep, until, ensureOffline, assertLoopback, onlyLoopbackHere, MB, fmt
} from './lib/common.mjs'

ensureOffline({ strict: true })
if (!onlyLoopbackHere()) {
  process.stderr.write('dht: refusing to run outside a loopback-only network namespace\n')
  process.exit(1)
}

const BENCH = 'dht'
const SIZES = quick ? [20, 50] : [20, 50, 100, 200]
const LOOKUPS = quick ? 20 : 100
/** How long the ring may take to have every node joined, ms (at 500 ms rounds). */
const RING_WAIT = 120_000
/** A search's timeout, ms: room for a ring lookup that fails (LOOKUP_TIMEOUT, 5 s) and the flood after it. */
const SEARCH_TIMEOUT = 10_000
/**
 * How long one system at one N may take, ms: peernet at N = 200 floods ~10,000 frames a search
 * over the ring's links too, a hundred times, next to its hundred ring searches.
 */
const CHILD_TIMEOUT = 1_200_000
const IDLE_MS = quick ? 2000 : 5000

// --- children: one system at one size, reporting one JSON line --------------------------

const childAt = argv.indexOf('--child')
if (childAt >= 0) {
  const system = argv[childAt + 1]
  const n = Number(argv[argv.indexOf('--n') + 1])
  try {
    const result = system === 'hyperdht' ? await runHyperdht(n) : await runPeernet(n)
    process.stdout.write(JSON.stringify(result) + '\n')
    process.exit(0)
  } catch (err) {
    process.stderr.write(`dht child ${system} ${n}: ${err.stack || err.message}\n`)
    process.exit(1)
  }
}

/** count node indexes other than `except`: each one once in a random order, then again (N may be below count). */
function picks (n, count, except) {
  const out = []
  while (out.length < count) {
    const all = Array.from({ length: n }, (_, i) => i).filter(i => i !== except)
    while (out.length < count && all.length > 0) out.push(all.splice(Math.floor(Math.random() * all.length), 1)[0])
  }
  return out
}

/** Process CPU (ms) and RSS over the idle window after the work. */
async function idleFigures () {
  const c0 = process.cpuUsage()
  const t0 = now()
  await sleep(IDLE_MS)
  const c = process.cpuUsage(c0)
  return { idleCpuPct: (c.user + c.system) / 1000 / (now() - t0) * 100, rss: process.memoryUsage().rss }
}

function freeUdpPort () {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4')
    s.on('error', reject)
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function runHyperdht (n) {
  const { default: DHT } = await import('hyperdht')
  const { default: createTestnet } = await import('hyperdht/testnet.js')
  // Nothing may fall back to the public bootstrap nodes: empty the default list in place.
  DHT.BOOTSTRAP.splice(0, DHT.BOOTSTRAP.length)
  if (DHT.BOOTSTRAP.length !== 0) throw new Error('could not empty hyperdht BOOTSTRAP')
  const rss0 = process.memoryUsage().rss
  const cpu0 = process.cpuUsage()
  const t0 = now()
  // Our own bootstrapper on 127.0.0.1, then the testnet behind it: N nodes in all.
  const port = await freeUdpPort()
  const bootstrap = [{ host: '127.0.0.1', port }]
  assertLoopback(bootstrap, 'hyperdht bootstrap node')
  const boot = DHT.bootstrapper(port, '127.0.0.1', { host: '127.0.0.1' })
  await boot.fullyBootstrapped()
  const testnet = await createTestnet(n - 1, { host: '127.0.0.1', bootstrap })
  const nodes = [boot, ...testnet.nodes]
  try {
    assertLoopback(testnet.bootstrap, 'hyperdht testnet bootstrap')
    for (const node of nodes) assertLoopback(node.bootstrapNodes, 'hyperdht node bootstrap')
    const buildMs = now() - t0
    const bc = process.cpuUsage(cpu0)
    const buildCpu = (bc.user + bc.system) / 1000
    const rssBuilt = process.memoryUsage().rss

    const topic = randomBytes(32)
    const keyPair = DHT.keyPair()
    const announcer = Math.floor(Math.random() * n)
    await nodes[announcer].announce(topic, keyPair).finished()
    const first = []
    const msgs = []
    const contacted = []
    for (const i of picks(n, LOOKUPS, announcer)) {
      const q = nodes[i].lookup(topic)
      const t = now()
      let got = null
      for await (const data of q) {
        if (got === null && data && data.peers.some(p => p.publicKey.equals(keyPair.publicKey))) got = now() - t
      }
      if (got === null) throw new Error(`lookup from node ${i} found nothing`)
      first.push(got)
      msgs.push(2 * q.successes + q.errors)
      contacted.push(q.successes + q.errors)
    }
    const idle = await idleFigures()
    return {
      system: 'hyperdht', n, buildMs, buildCpuPerNode: buildCpu / n, rssPerNode: (rssBuilt - rss0) / n, rssTotal: idle.rss,
      idleCpuPctPerNode: idle.idleCpuPct / n, firstMs: median(first), msgsMean: mean(msgs), msgsP99: quantile(msgs, 0.99), msgsMedian: median(msgs), contacted: median(contacted), count: msgs.length
    }
  } finally {
    await testnet.destroy()
    await boot.destroy()
  }
}

async function runPeernet (n) {
  const { peernet, listen } = await import('../lib/index.js')
  const { default: transport } = await import('../lib/transport/index.js')
  const { pointOf } = await import('../lib/ring/record.js')
  const { REPLICAS } = await import('../lib/ring/routing.js')
  const { MemoryLevel } = await import('memory-level')
  // Every frame any node sends, sorted by what caused it (bench/lib/search-frames.mjs).
  const { install, searchFrames } = await import('./lib/search-frames.mjs')
  install()
  const rss0 = process.memoryUsage().rss
  const cpu0 = process.cpuUsage()
  const t0 = now()
  const nodes = []
  const servers = []
  try {
    for (let i = 0; i < n; i++) {
      const pn = peernet(new MemoryLevel(), { transport, interval: 500, dialInterval: 200, connections: 4, purge: 0 })
      pn.on('error', () => {})
      const server = await listen('tcp', { host: '127.0.0.1' }, (stream, info) => pn.accept(stream, info))
      assertLoopback([server.address], 'peernet listen address')
      servers.push(server)
      pn.advertise(server.address)
      pn.url = server.address
      if (i > 0) {
        const to = nodes[Math.floor(Math.random() * i)].url
        assertLoopback([to], 'peernet dial address')
        await pn.connect(to)
      }
      nodes.push(pn)
    }
    const buildMs = now() - t0
    const bc = process.cpuUsage(cpu0)
    const buildCpu = (bc.user + bc.system) / 1000
    const rssBuilt = process.memoryUsage().rss
    // Gossip tops every node up towards 4 connections; give it a moment (not counted as build).
    await until(() => nodes.every(p => p.connections().length >= Math.min(3, n - 1)), { ms: 5000, every: 50 }).catch(() => {})
    // The ring: every node joined (its successor agrees, its predecessor is known).
    const tRing = now()
    await until(() => nodes.every(p => p.ringStatus() === 'joined'), { ms: RING_WAIT, every: 100, what: `all ${n} nodes joined on the ring` })
    const ringJoinMs = now() - tRing
    const degree = nodes.reduce((s, p) => s + p.connections().length, 0) / n
    // Every address any node may dial is loopback (tables are filled by gossip from the above).
    for (const p of nodes) for (const { address } of p.peerList()) if (address !== null) assertLoopback([address], 'peernet connection')

    const member = Math.floor(Math.random() * n)
    await nodes[member].join('topic')
    // The member record published: held by the node responsible for its point.
    const point = pointOf('member', nodes[member].network, 'topic')
    const holders = () => nodes.filter(p => p.ring.core.store.recordsAt(point).length > 0)
    await until(() => holders().some(p => p.ring.core.table.isResponsible(point)), { ms: 20_000, every: 50, what: 'the member record at its responsible node' })
    // ...and, for a few seconds at most, by its replicas (copied as soon as it is stored).
    await until(() => holders().length >= Math.min(REPLICAS, n), { ms: 5000, every: 50 }).catch(() => {})
    const held = holders().length

    const results = { ring: newTally(), flood: newTally() }
    const searchers = picks(n, LOOKUPS, member)
    for (let k = 0; k < searchers.length; k++) {
      // Both searches from the same node, in turn; which goes first alternates.
      const order = k % 2 === 0 ? ['ring', 'flood'] : ['flood', 'ring']
      for (const mode of order) await measure(nodes[searchers[k]], nodes[member], mode, results[mode])
    }
    const stillJoined = nodes.filter(p => p.ringStatus() === 'joined').length
    const idle = await idleFigures()
    return {
      system: 'peernet', n, buildMs, buildCpuPerNode: buildCpu / n, rssPerNode: (rssBuilt - rss0) / n, rssTotal: idle.rss,
      idleCpuPctPerNode: idle.idleCpuPct / n, degree, ringJoinMs, held, stillJoined,
      ring: summary(results.ring), flood: summary(results.flood)
    }
  } finally {
    await Promise.all(nodes.map(p => p.close().catch(() => {})))
    await Promise.all(servers.map(s => s.close()))
  }

  /** One search, to its first row, then until its frames are quiet: time, frames, via, hops. */
  async function measure (searcher, member, mode, tally) {
    const before = searchFrames()
    const t = now()
    let got = null
    let row = null
    for await (const r of searcher.search('topic', { max: 1, timeout: SEARCH_TIMEOUT, flood: mode === 'flood' })) {
      if (r.address !== member.url) throw new Error(`search answered by ${r.address}, not the member ${member.url}`)
      got = now() - t
      row = r
    }
    // A flood goes on after the first answer: wait until no search frame has been sent or
    // received for 100 ms.
    const moved = () => { const f = searchFrames(); return f.all + ':' + f.received }
    let last = ''
    while (moved() !== last) {
      last = moved()
      await sleep(100)
    }
    const after = searchFrames()
    tally.msgs.push(after.all - before.all)
    tally.ringFrames += after.ring - before.ring
    tally.floodFrames += after.flood - before.flood
    if (got === null) {
      tally.failed++
      return
    }
    tally.first.push(got)
    tally.hops.push(row.hops)
    tally.via[row.via] = (tally.via[row.via] ?? 0) + 1
  }
}

function newTally () {
  return { first: [], msgs: [], hops: [], via: {}, failed: 0, ringFrames: 0, floodFrames: 0 }
}

function summary (t) {
  const count = t.msgs.length
  return {
    count,
    success: (count - t.failed) / count,
    firstMs: median(t.first),
    msgsMean: mean(t.msgs),
    msgsP99: quantile(t.msgs, 0.99),
    msgsMedian: median(t.msgs),
    hops: median(t.hops),
    via: t.via,
    ringFramesMean: t.ringFrames / count,
    floodFramesMean: t.floodFrames / count
  }
}

// --- the parent: both systems at each size, each in a fresh process ---------------------

function runChild (system, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', system, '--n', String(n), ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT)
    child.stdout.setEncoding('utf8').on('data', s => { out += s })
    child.on('close', code => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`${system} at N=${n} failed (exit ${code})`))
      resolve(JSON.parse(out.trim().split('\n').pop()))
    })
  })
}

if (childAt < 0) {
  say(`dht: peernet's ring and flood searches (values) vs hyperdht (baseline) on its local testnet, N = ${SIZES.join(', ')}; ${LOOKUPS} searches per N per system (ring and flood from the same nodes, in turn); idle window ${IDLE_MS / 1000} s`)
  const tStart = now()
  let failed = false
  for (const n of SIZES) {
    let h, p
    try {
      h = await runChild('hyperdht', n)
      p = await runChild('peernet', n)
    } catch (err) {
      process.stderr.write(`dht: ${err.message}\n`)
      failed = true
      continue
    }
    const r = (x, y) => (x / y).toFixed(2)
    const pct = x => (100 * x).toFixed(1) + '%'
    const { ring, flood } = p
    say(`dht N=${n}: messages per search, mean (p99): ring ${fmt(ring.msgsMean)} (${ring.msgsP99}) | flood ${fmt(flood.msgsMean)} (${flood.msgsP99}) | hyperdht per lookup ${fmt(h.msgsMean)} (${h.msgsP99}; ${h.contacted} nodes contacted) => ring ${r(ring.msgsMean, h.msgsMean)}x, flood ${r(flood.msgsMean, h.msgsMean)}x of hyperdht`)
    say(`dht N=${n}: first result, median: ring ${ring.firstMs.toFixed(2)} ms (hops ${ring.hops}) | flood ${flood.firstMs.toFixed(2)} ms (hops ${flood.hops}) | hyperdht ${h.firstMs.toFixed(2)} ms => ring ${r(ring.firstMs, h.firstMs)}x, flood ${r(flood.firstMs, h.firstMs)}x`)
    say(`dht N=${n}: success ring ${pct(ring.success)} (via ${JSON.stringify(ring.via)}), flood ${pct(flood.success)} (via ${JSON.stringify(flood.via)}), hyperdht ${h.count}/${h.count} | ring frames per ring search ${fmt(ring.ringFramesMean)} + flood frames ${fmt(ring.floodFramesMean)} | ring joined on all ${n} in ${(p.ringJoinMs / 1000).toFixed(1)} s, member record held by ${p.held}, ${p.stillJoined}/${n} joined after the searches`)
    say(`dht N=${n}: build ${fmt(p.buildMs, 0)} ms vs ${fmt(h.buildMs, 0)} ms = ${r(p.buildMs, h.buildMs)}x | build CPU/node ${p.buildCpuPerNode.toFixed(1)} vs ${h.buildCpuPerNode.toFixed(1)} ms | idle CPU/node ${p.idleCpuPctPerNode.toFixed(3)}% vs ${h.idleCpuPctPerNode.toFixed(3)}% | RSS/node ${(p.rssPerNode / MB).toFixed(2)} vs ${(h.rssPerNode / MB).toFixed(2)} MB (process ${(p.rssTotal / MB).toFixed(0)} vs ${(h.rssTotal / MB).toFixed(0)} MB) | peernet mean degree ${p.degree.toFixed(1)}`)
    for (const [mode, m] of [['ring', ring], ['flood', flood]]) {
      const extra = { n, searches: m.count, hyperdht_lookups: h.count }
      row(BENCH, `messages_per_search_${mode}_n${n}`, m.msgsMean, 'msgs', h.msgsMean, { ...extra, statistic: 'mean', hyperdht_nodes_contacted: h.contacted, peernet_degree: round2(p.degree) })
      row(BENCH, `messages_per_search_${mode}_p99_n${n}`, m.msgsP99, 'msgs', h.msgsP99, { ...extra, statistic: 'p99' })
      row(BENCH, `first_result_${mode}_n${n}`, m.firstMs, 'ms', h.firstMs, { ...extra, statistic: 'median', hops: m.hops })
      row(BENCH, `search_success_${mode}_n${n}`, m.success, 'share', null, { ...extra, via: m.via })
    }
    row(BENCH, `ring_joined_n${n}`, p.ringJoinMs, 'ms', null, { n, member_record_holders: p.held, joined_after: p.stillJoined })
    row(BENCH, `build_n${n}`, p.buildMs, 'ms', h.buildMs, { n })
    row(BENCH, `build_cpu_per_node_n${n}`, p.buildCpuPerNode, 'ms', h.buildCpuPerNode, { n })
    row(BENCH, `idle_cpu_per_node_n${n}`, p.idleCpuPctPerNode, '%', h.idleCpuPctPerNode, { n, window_ms: IDLE_MS })
    row(BENCH, `rss_per_node_n${n}`, p.rssPerNode / MB, 'MB', h.rssPerNode / MB, { n })
    row(BENCH, `rss_process_n${n}`, p.rssTotal / MB, 'MB', h.rssTotal / MB, { n })
  }
  say(`dht: total ${((now() - tStart) / 1000).toFixed(1)} s`)
  process.exitCode = failed ? 1 : 0
}

function round2 (x) { return Math.round(x * 100) / 100 }
