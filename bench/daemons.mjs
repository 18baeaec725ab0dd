#!/usr/bin/env node
// Real daemons on 127.0.0.1: N of them (20; --quick: 10), each `peernet listen ws`, linked in a
// random deep tree with `peernet connect` (node i links to one of the three before it), gossip on
// (--interval 200; ring rounds as long). Measured through the CLI, as a user would:
//   - join_to_answer: from `peernet join S` on one end of the tree's longest path to the first
//     answer printed by `peernet search S --max 1` on the other end (both CLI runs included);
//   - hops: the hop count that answer reports (vs 1);
//   - known_by_all: from `peernet connect` of a newly started daemon to every other daemon
//     listing its address in `known` (polled on their control sockets every 50 ms).
// Baseline, in the same run: the same figures for two directly connected daemons (hops 1).
// Every daemon keeps --connections 1, so gossip dials nothing beyond the links made here; the
// ring dials its own links (successors, predecessor, fingers) on top, and a flood goes over those
// too (with them in force, the "longest path" is a link or two). Searches go via the ring once
// the daemon has joined it: the N have, before their searches are timed (the baseline's pair is
// not waited for).
// Ring vs flood, in the same run, between the ends of the longest path (value: the ring;
// baseline: `search --flood`):
//   - search -> first answer over the control socket, and through the CLI;
//   - messages per search: every frame any daemon sends because of the search, counted inside
//     each daemon (bench/lib/count-hook.mjs, preloaded with NODE_OPTIONS=--import; the node is
//     not changed): query and answer frames, ring lookups that fetch records and their answers;
//     gossip and ring upkeep running meanwhile are not counted (search-frames.mjs).
//   node bench/daemons.mjs [--json] [--quick]
import { spawn } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import {
  quick, say, row, median, mean, quantile, now, sleep, until, ensureOffline, assertLoopback, cleanup, removeDir,
  cli, startDaemon, control, tempDir, BIN, trackPid, untrackPid, fmt
} from './lib/common.mjs'

ensureOffline()

const BENCH = 'daemons'
const N = quick ? 10 : 20
const TRIALS = quick ? 3 : 5
const INTERVAL = 200
const SETTINGS = ['--interval', String(INTERVAL), '--connections', '1', '--purge', '0', '--hops', '64']

// A small seeded generator, so the tree is the same from run to run.
let seed = 0x9e3779b9
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Ring and flood searches (each) timed over the control socket, and through the CLI. */
const SOCKET_SEARCHES = quick ? 10 : 40
const CLI_SEARCHES = quick ? 3 : 10
const HOOK = new URL('./lib/count-hook.mjs', import.meta.url).href

const daemons = []

async function newDaemon () {
  const dir = tempDir()
  const frames = join(dir, 'frames.sock')
  const d = await startDaemon(SETTINGS, dir, {
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${HOOK}`].filter(Boolean).join(' '),
    PEERNET_BENCH_FRAMES: frames
  })
  d.frames = frames
  daemons.push(d)
  const r = await cli(d.dir, ['listen', 'ws', '--host', '127.0.0.1'])
  d.address = r.stdout.trim()
  assertLoopback([d.address], 'listen address')
  d.id = (await control(d.socket, 'status'))[0].id
  return d
}

/** Run `peernet search` on d (`--flood` if flood); resolve {ms, row} at the first answer line (from spawn). */
function firstAnswer (d, subnet, flood = false) {
  return new Promise((resolve, reject) => {
    const t0 = now()
    const child = spawn(process.execPath, [BIN, 'search', subnet, '--max', '1', '--timeout', '15000', '--hops', '64', '--json', ...(flood ? ['--flood'] : [])], {
      env: { ...process.env, PEERNET_PATH: d.dir, PEERNET_NO_AUTOSTART: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    trackPid(child.pid)
    let out = ''
    let err = ''
    let done = false
    child.stdout.setEncoding('utf8').on('data', s => {
      out += s
      const nl = out.indexOf('\n')
      if (nl >= 0 && !done) {
        done = true
        resolve({ ms: now() - t0, row: JSON.parse(out.slice(0, nl)) })
      }
    })
    child.stderr.setEncoding('utf8').on('data', s => { err += s })
    child.on('close', code => {
      untrackPid(child.pid)
      if (!done) reject(new Error(`search ${subnet} ended (exit ${code}) without an answer: ${err.trim()}`))
    })
  })
}

/** Median over trials of: join on member, then search on searcher, to the first answer. */
async function joinToAnswer (member, searcher, tag) {
  const times = []
  const searchOnly = []
  let hops = null
  for (let k = 0; k < TRIALS + 1; k++) {
    const subnet = `bench-${tag}-${k}`
    const t0 = now()
    await cli(member.dir, ['join', subnet])
    const a = await firstAnswer(searcher, subnet)
    if (a.row.address !== member.address) throw new Error(`answer from ${a.row.address}, expected ${member.address}`)
    hops = a.row.hops
    if (k > 0) { // the first trial warms the OS caches
      times.push(now() - t0)
      searchOnly.push(a.ms)
    }
  }
  return { ms: median(times), searchMs: median(searchOnly), hops }
}

/** Search through the control socket (no CLI process): request to first row, median. */
async function searchRaw (member, searcher, tag) {
  await control(member.socket, 'join', { subnets: [`raw-${tag}`] })
  const times = []
  for (let k = 0; k < 4 * TRIALS + 1; k++) {
    const t0 = now()
    let first = null
    await control(searcher.socket, 'search', { subnet: `raw-${tag}`, max: 1, timeout: 15000, hops: 64 }, r => { first ??= now() - t0; if (r.address !== member.address) throw new Error('wrong member') })
    if (first === null) throw new Error(`no answer for raw-${tag}`)
    if (k > 0) times.push(first)
  }
  return median(times)
}

/** The search frames d has sent so far (its count hook's answer). */
function framesOf (d) {
  return new Promise((resolve, reject) => {
    const c = net.connect(d.frames)
    let s = ''
    c.setEncoding('utf8').on('data', x => { s += x })
    c.on('end', () => {
      const m = JSON.parse(s)
      resolve({ ring: m.ring, flood: m.flood, received: m.received })
    })
    c.on('error', reject)
  })
}

/** Search frames sent (and received) by all of group so far. */
async function searchFrames (group) {
  const all = await Promise.all(group.map(framesOf))
  return all.reduce((t, x) => ({ ring: t.ring + x.ring, flood: t.flood + x.flood, received: t.received + x.received }), { ring: 0, flood: 0, received: 0 })
}

/** Search frames of all of group, once none has been sent or received for 200 ms (a flood goes on after its first answer). */
async function quietFrames (group) {
  let last = await searchFrames(group)
  for (;;) {
    await sleep(200)
    const f = await searchFrames(group)
    if (f.ring === last.ring && f.flood === last.flood && f.received === last.received) return f
    last = f
  }
}

/**
 * Ring vs flood between member and searcher, in turn (which goes first alternates): over the
 * control socket, time to the first row and the frames every daemon sent for the search; then
 * through the CLI (`search` vs `search --flood`), time to the first answer line.
 */
async function ringVsFlood (group, member, searcher) {
  const subnet = 'bench-ring-flood'
  await control(member.socket, 'join', { subnets: [subnet] })
  // The member record is on the ring once a ring search finds it.
  await until(async () => {
    const rows = await control(searcher.socket, 'search', { subnet, max: 1, timeout: 15000 })
    return rows.some(r => r.address === member.address && r.via === 'ring')
  }, { ms: 30_000, every: 200, what: 'the member record on the ring' })
  const out = { ring: { ms: [], msgs: [], hops: [], via: {}, cli: [] }, flood: { ms: [], msgs: [], hops: [], via: {}, cli: [] } }
  await quietFrames(group)
  for (let k = 0; k < SOCKET_SEARCHES; k++) {
    for (const mode of k % 2 === 0 ? ['ring', 'flood'] : ['flood', 'ring']) {
      const o = out[mode]
      const before = await searchFrames(group)
      const t0 = now()
      let first = null
      let answer = null
      await control(searcher.socket, 'search', { subnet, max: 1, timeout: 15000, hops: 64, flood: mode === 'flood' }, r => {
        if (first !== null) return
        first = now() - t0
        answer = r
      })
      if (first === null) throw new Error(`${mode} search found nothing`)
      if (answer.address !== member.address) throw new Error(`answer from ${answer.address}, expected ${member.address}`)
      o.hops.push(answer.hops)
      o.via[answer.via] = (o.via[answer.via] ?? 0) + 1
      const after = await quietFrames(group)
      o.ms.push(first)
      o.msgs.push(after.ring + after.flood - before.ring - before.flood)
    }
  }
  for (let k = 0; k < CLI_SEARCHES + 1; k++) {
    for (const mode of k % 2 === 0 ? ['ring', 'flood'] : ['flood', 'ring']) {
      const a = await firstAnswer(searcher, subnet, mode === 'flood')
      if (a.row.address !== member.address) throw new Error(`answer from ${a.row.address}, expected ${member.address}`)
      if (k > 0) out[mode].cli.push(a.ms) // the first round warms the OS caches
      await quietFrames(group)
    }
  }
  const sum = o => ({ ms: median(o.ms), cli: median(o.cli), msgsMean: mean(o.msgs), msgsP99: quantile(o.msgs, 0.99), hops: median(o.hops), via: o.via, count: o.ms.length })
  return { ring: sum(out.ring), flood: sum(out.flood) }
}

/** From connecting a fresh daemon to `to`, until every daemon of `net` knows its address. */
async function knownByAll (net, to) {
  const fresh = await newDaemon()
  const t0 = now()
  await cli(fresh.dir, ['connect', to.address])
  const pending = new Set(net)
  await until(async () => {
    await Promise.all([...pending].map(async d => {
      const rows = await control(d.socket, 'known')
      if (rows.some(r => r.address === fresh.address)) pending.delete(d)
    }))
    return pending.size === 0
  }, { ms: 60_000, every: 50, what: `every daemon to learn ${fresh.address}` })
  return now() - t0
}

function bfs (adj, from) {
  const dist = new Array(adj.length).fill(-1)
  dist[from] = 0
  const q = [from]
  while (q.length) {
    const x = q.shift()
    for (const y of adj[x]) if (dist[y] < 0) { dist[y] = dist[x] + 1; q.push(y) }
  }
  return dist
}

try {
  // --- baseline: two directly connected daemons ---
  const tStart = now()
  const [p, q] = await Promise.all([newDaemon(), newDaemon()])
  await cli(q.dir, ['connect', p.address])
  const pair = await joinToAnswer(p, q, 'pair')
  const pairRaw = await searchRaw(p, q, 'pair')
  const pairKnown = await knownByAll([p, q], p)

  // --- the tree ---
  const t0 = now()
  const nodes = []
  for (let i = 0; i < N; i += 5) nodes.push(...await Promise.all(Array.from({ length: Math.min(5, N - i) }, newDaemon)))
  const adj = nodes.map(() => [])
  for (let i = 1; i < N; i++) {
    const j = Math.max(0, i - 1 - Math.floor(random() * 3))
    await cli(nodes[i].dir, ['connect', nodes[j].address])
    adj[i].push(j)
    adj[j].push(i)
  }
  const buildMs = now() - t0
  await sleep(3 * INTERVAL) // let the first gossip rounds run
  // Every daemon joined on the ring (its successor agrees, its predecessor is known).
  const tRing = now()
  await until(async () => (await Promise.all(nodes.map(d => control(d.socket, 'status')))).every(r => r[0].ring === 'joined'),
    { ms: 120_000, every: 200, what: `all ${N} daemons joined on the ring` })
  const ringJoinMs = now() - tRing
  // The graph in force (from each daemon's connections, by peer id: an inbound link has no
  // address until a dial confirms one), and its longest path: farthest from 0, then farthest
  // from there.
  const byId = new Map(nodes.map((d, i) => [d.id, i]))
  const live = await Promise.all(nodes.map(d => control(d.socket, 'connections')))
  const graph = live.map(rows => rows.map(r => byId.get(r.id)).filter(x => x !== undefined))
  const d0 = bfs(graph, 0)
  if (d0.some(x => x < 0)) throw new Error('the daemons are not all connected')
  const a = d0.indexOf(Math.max(...d0))
  const da = bfs(graph, a)
  const b = da.indexOf(Math.max(...da))
  const treeHops = da[b]
  const links = graph.reduce((s, x) => s + x.length, 0) / 2
  const far = await joinToAnswer(nodes[a], nodes[b], 'tree')
  const farRaw = await searchRaw(nodes[a], nodes[b], 'tree')
  const rf = await ringVsFlood(nodes, nodes[a], nodes[b])
  const treeKnown = await knownByAll(nodes, nodes[Math.floor(random() * N)])

  say(`daemons: ${N} daemons over ws, \`connect\`ed in a random tree, plus the ring's own links (${links} links in force, longest path ${treeHops}), gossip every ${INTERVAL} ms; built in ${(buildMs / 1000).toFixed(1)} s; ${TRIALS} trials (medians)`)
  say(`daemons: join -> first search answer across the tree ${far.ms.toFixed(0)} ms (hops ${far.hops}) vs 2 direct daemons ${pair.ms.toFixed(0)} ms (hops ${pair.hops}) = ${(far.ms / pair.ms).toFixed(2)}x`)
  say(`daemons: of which search -> first answer ${far.searchMs.toFixed(0)} ms vs ${pair.searchMs.toFixed(0)} ms = ${(far.searchMs / pair.searchMs).toFixed(2)}x (the rest is the join CLI run)`)
  say(`daemons: search -> first answer over the control socket, no CLI: ${farRaw.toFixed(2)} ms vs ${pairRaw.toFixed(2)} ms = ${(farRaw / pairRaw).toFixed(2)}x`)
  say(`daemons: ring vs flood (${rf.ring.count} searches each over the control socket, ${CLI_SEARCHES} through the CLI; all ${N} joined on the ring ${(ringJoinMs / 1000).toFixed(1)} s after the tree was built):`)
  say(`daemons:   messages per search, mean (p99): ring ${fmt(rf.ring.msgsMean)} (${rf.ring.msgsP99}) vs flood ${fmt(rf.flood.msgsMean)} (${rf.flood.msgsP99}) = ${(rf.ring.msgsMean / rf.flood.msgsMean).toFixed(3)}x`)
  say(`daemons:   search -> first row over the control socket, median: ring ${rf.ring.ms.toFixed(2)} ms (hops ${rf.ring.hops}, via ${JSON.stringify(rf.ring.via)}) vs flood ${rf.flood.ms.toFixed(2)} ms (hops ${rf.flood.hops}, via ${JSON.stringify(rf.flood.via)}) = ${(rf.ring.ms / rf.flood.ms).toFixed(2)}x`)
  say(`daemons:   search CLI run -> first answer, median: ring ${rf.ring.cli.toFixed(0)} ms vs --flood ${rf.flood.cli.toFixed(0)} ms = ${(rf.ring.cli / rf.flood.cli).toFixed(2)}x`)
  say(`daemons: a new daemon known by all ${N} in ${treeKnown.toFixed(0)} ms (${(treeKnown / INTERVAL).toFixed(1)} gossip intervals) vs by the other of 2 in ${pairKnown.toFixed(0)} ms = ${(treeKnown / pairKnown).toFixed(2)}x`)
  row(BENCH, 'join_to_answer', far.ms, 'ms', pair.ms, { n: N, hops: far.hops })
  row(BENCH, 'search_to_answer', far.searchMs, 'ms', pair.searchMs, { n: N, hops: far.hops })
  row(BENCH, 'search_to_answer_socket', farRaw, 'ms', pairRaw, { n: N, hops: far.hops })
  row(BENCH, 'hops', far.hops, 'hops', pair.hops, { n: N, tree_longest_path: treeHops })
  row(BENCH, 'known_by_all', treeKnown, 'ms', pairKnown, { n: N, interval: INTERVAL })
  row(BENCH, 'build', buildMs, 'ms', null, { n: N })
  const rfExtra = { n: N, searches: rf.ring.count, via_ring: rf.ring.via, via_flood: rf.flood.via }
  row(BENCH, 'ring_vs_flood_messages', rf.ring.msgsMean, 'msgs', rf.flood.msgsMean, { ...rfExtra, statistic: 'mean' })
  row(BENCH, 'ring_vs_flood_messages_p99', rf.ring.msgsP99, 'msgs', rf.flood.msgsP99, { ...rfExtra, statistic: 'p99' })
  row(BENCH, 'ring_vs_flood_first_answer_socket', rf.ring.ms, 'ms', rf.flood.ms, { ...rfExtra, statistic: 'median', hops_ring: rf.ring.hops, hops_flood: rf.flood.hops })
  row(BENCH, 'ring_vs_flood_first_answer_cli', rf.ring.cli, 'ms', rf.flood.cli, { n: N, searches: CLI_SEARCHES, statistic: 'median' })
  row(BENCH, 'ring_joined', ringJoinMs, 'ms', null, { n: N })
  say(`daemons: total ${((now() - tStart) / 1000).toFixed(1)} s`)
} catch (err) {
  process.stderr.write(`daemons: ${err.stack || err.message}\n`)
  process.exitCode = 1
} finally {
  // Kill every daemon by pid (SIGTERM stops one cleanly), then remove the temp dirs.
  for (const d of daemons) { try { process.kill(d.pid, 'SIGTERM') } catch {} }
  await until(() => daemons.every(d => { try { process.kill(d.pid, 0); return false } catch { return true } }), { ms: 10000, every: 50 }).catch(() => {})
  for (const d of daemons) removeDir(d.dir)
  cleanup()
}
