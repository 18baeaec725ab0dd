#!/usr/bin/env node
// peernet next to Hyperswarm's DHT (hyperdht), side by side in the same run, at N = 20, 50, 100,
// 200 nodes (--quick: 20, 50), all on 127.0.0.1 and in one process per system and N:
//   - hyperdht: a local test network (hyperdht/testnet.js) behind a bootstrapper of our own on
//     127.0.0.1; `announce` a topic on one node, `lookup` it from others;
//   - peernet: N library nodes over memory-level, each with a tcp `listen` server, linked in a
//     random tree (node i connects to a random earlier node), gossip on (500 ms), up to 4
//     connections each; `join` a subnet on one node, `search` it from others.
// Figures (peernet as the value, hyperdht as the baseline): time to the first result (median),
// messages per lookup/search (peernet: query+answer frames sent, counted on every connection
// until the flood is quiet; hyperdht: requests+replies of the lookup query, i.e. 2 x successes +
// timeouts), build time, CPU per node (building, and idle afterwards) and RSS per node.
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
  argv, quick, say, row, median, now, sleep, until, ensureOffline, assertLoopback, onlyLoopbackHere, MB, fmt
} from './lib/common.mjs'

ensureOffline({ strict: true })
if (!onlyLoopbackHere()) {
  process.stderr.write('dht: refusing to run outside a loopback-only network namespace\n')
  process.exit(1)
}

const BENCH = 'dht'
const SIZES = quick ? [20, 50] : [20, 50, 100, 200]
const LOOKUPS = quick ? 8 : 15
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

function pick (n, count, except) {
  const out = []
  const all = Array.from({ length: n }, (_, i) => i).filter(i => i !== except)
  while (out.length < count && all.length > 0) out.push(all.splice(Math.floor(Math.random() * all.length), 1)[0])
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
    for (const i of pick(n, LOOKUPS, announcer)) {
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
      idleCpuPctPerNode: idle.idleCpuPct / n, firstMs: median(first), msgs: median(msgs), contacted: median(contacted)
    }
  } finally {
    await testnet.destroy()
    await boot.destroy()
  }
}

async function runPeernet (n) {
  const { peernet, listen } = await import('../lib/index.js')
  const { default: transport } = await import('../lib/transport/index.js')
  const { Connection } = await import('../lib/node/connection.js')
  const { MemoryLevel } = await import('memory-level')
  // Count every query and answer frame any node sends.
  let frames = 0
  // Every frame leaves through sendFrame (a flooded query is encoded once for all peers).
  const sendFrame = Connection.prototype.sendFrame
  Connection.prototype.sendFrame = function (frame) {
    if (!this.closed) {
      const type = JSON.parse(frame.subarray(4).toString('utf8')).type
      if (type === 'query' || type === 'answer') frames++
    }
    return sendFrame.call(this, frame)
  }
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
    const degree = nodes.reduce((s, p) => s + p.connections().length, 0) / n
    // Every address any node may dial is loopback (tables are filled by gossip from the above).
    for (const p of nodes) for (const { address } of p.peerList()) if (address !== null) assertLoopback([address], 'peernet connection')

    const member = Math.floor(Math.random() * n)
    await nodes[member].join('topic')
    const first = []
    const msgs = []
    const hops = []
    for (const i of pick(n, LOOKUPS, member)) {
      const before = frames
      const t = now()
      let got = null
      for await (const r of nodes[i].search('topic', { max: 1, timeout: 5000 })) {
        if (r.address !== nodes[member].url) throw new Error(`search answered by ${r.address}`)
        got = now() - t
        hops.push(r.hops)
      }
      if (got === null) throw new Error(`search from node ${i} found nothing`)
      first.push(got)
      // The flood goes on after the first answer: wait until no frame has been sent for 100 ms.
      let last = -1
      while (frames !== last) {
        last = frames
        await sleep(100)
      }
      msgs.push(frames - before)
    }
    const idle = await idleFigures()
    return {
      system: 'peernet', n, buildMs, buildCpuPerNode: buildCpu / n, rssPerNode: (rssBuilt - rss0) / n, rssTotal: idle.rss,
      idleCpuPctPerNode: idle.idleCpuPct / n, firstMs: median(first), msgs: median(msgs), hops: median(hops), degree
    }
  } finally {
    await Promise.all(nodes.map(p => p.close().catch(() => {})))
    await Promise.all(servers.map(s => s.close()))
  }
}

// --- the parent: both systems at each size, each in a fresh process ---------------------

function runChild (system, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', system, '--n', String(n), ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.stdout.setEncoding('utf8').on('data', s => { out += s })
    child.on('close', code => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`${system} at N=${n} failed (exit ${code})`))
      resolve(JSON.parse(out.trim().split('\n').pop()))
    })
  })
}

if (childAt < 0) {
  say(`dht: peernet (value) vs hyperdht (baseline) on its local testnet, N = ${SIZES.join(', ')}; ${LOOKUPS} lookups/searches each; idle window ${IDLE_MS / 1000} s`)
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
    say(`dht N=${n}: first result ${p.firstMs.toFixed(2)} ms (hops ${p.hops}) vs ${h.firstMs.toFixed(2)} ms = ${r(p.firstMs, h.firstMs)}x | messages per search ${p.msgs} vs per lookup ${h.msgs} (${h.contacted} nodes contacted) = ${r(p.msgs, h.msgs)}x`)
    say(`dht N=${n}: build ${fmt(p.buildMs, 0)} ms vs ${fmt(h.buildMs, 0)} ms = ${r(p.buildMs, h.buildMs)}x | build CPU/node ${p.buildCpuPerNode.toFixed(1)} vs ${h.buildCpuPerNode.toFixed(1)} ms | idle CPU/node ${p.idleCpuPctPerNode.toFixed(3)}% vs ${h.idleCpuPctPerNode.toFixed(3)}% | RSS/node ${(p.rssPerNode / MB).toFixed(2)} vs ${(h.rssPerNode / MB).toFixed(2)} MB (process ${(p.rssTotal / MB).toFixed(0)} vs ${(h.rssTotal / MB).toFixed(0)} MB) | peernet mean degree ${p.degree.toFixed(1)}`)
    row(BENCH, `first_result_n${n}`, p.firstMs, 'ms', h.firstMs, { n, hops: p.hops })
    row(BENCH, `messages_per_lookup_n${n}`, p.msgs, 'msgs', h.msgs, { n, hyperdht_nodes_contacted: h.contacted, peernet_degree: round2(p.degree) })
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
