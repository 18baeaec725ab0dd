#!/usr/bin/env node
// A node under flood vs the same node idle, in the same run. The node (a child process: a
// peernet library node on a real LevelDB, tcp `listen` on 127.0.0.1, a table of 500 saved
// loopback addresses it never dials, joined to the subnet "direct") is measured from inside
// (process.cpuUsage, RSS) over each phase:
//   idle            nobody but the honest peer
//   getaddrs-1x10k  a TCP peer completes the Noise handshake and the hello, then sends 10,000 getaddrs/s on one
//                   connection, reconnecting whenever the node drops it
//   query-1x10k     the same with queries of fresh ids (hops 1, limit 64)
//   query-50x200    10,000 queries/s spread over 50 connections at 200/s each (PEER_RATE)
//   getaddrs-50x200 the same with getaddrs
// The flooder runs in a process of its own. An honest peer (a library node in this process,
// connected to the node, redialing as nodes do) searches "honest" every 100 ms: the share of
// its searches answered within 1 s and the median answer time say whether the node still
// serves it. Figures: node CPU % and RSS per phase, vs idle.
//   node bench/flood.mjs [--json] [--quick]
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { PROTOCOL_VERSION } from '../lib/wire/messages.js'
import {
  argv, quick, say, row, median, now, sleep, until, ensureOffline, assertLoopback, tempDir, removeDir, cleanup,
  trackPid, untrackPid, MB, fmt
} from './lib/common.mjs'

const BENCH = 'flood'
const PHASE_MS = quick ? 2500 : 6000
const RATE = 10_000
const SELF = fileURLToPath(import.meta.url)

const role = argv.includes('--node') ? 'node' : argv.includes('--flooder') ? 'flooder' : 'main'
if (role === 'main') ensureOffline()

// --- the node under test ----------------------------------------------------------------

if (role === 'node') {
  const { peernet, listen } = await import('../lib/index.js')
  const { default: transport } = await import('../lib/transport/index.js')
  const { Level } = await import('level')
  const dir = argv[argv.indexOf('--dir') + 1]
  const pn = peernet(new Level(join(dir, 'db')), { transport, bootstrap: false, purge: 0 })
  pn.on('error', () => {})
  const counts = {}
  pn.on('event', e => {
    const k = e.type === 'disconnect' || e.type === 'refused' ? `${e.type}:${String(e.reason).replace(/[0-9]+/g, 'N')}` : e.dir ? `${e.type}:${e.dir}` : e.type
    counts[k] = (counts[k] ?? 0) + 1
  })
  const server = await listen('tcp', { host: '127.0.0.1' }, (stream, info) => pn.accept(stream, info))
  assertLoopback([server.address], 'node listen address')
  pn.advertise(server.address)
  const table = Array.from({ length: 500 }, (_, i) => `tcp://127.9.${i >> 8}.${i & 255}:${10000 + i}`)
  assertLoopback(table, 'table address')
  await pn.save(table)
  await pn.join('direct')
  process.on('message', m => {
    if (m === 'stats') {
      const s = pn.status()
      process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, peers: s.connections, seen: s.seen, counts: { ...counts } })
    } else if (m === 'quit') {
      Promise.all([pn.close(), server.close()]).finally(() => process.exit(0))
    }
  })
  process.send({ url: server.address })
}

// --- the flooder --------------------------------------------------------------------------

// The flooder is a peer like any other: it runs the Noise handshake (a fresh key per link, as a
// node anyone can make) and floods inside the encrypted link, where a real attacker would.
const NoiseSecretStream = createRequire(import.meta.url)('@hyperswarm/secret-stream')

function frame (value) {
  const body = Buffer.from(JSON.stringify(value))
  const out = Buffer.allocUnsafe(4 + body.length)
  out.writeUInt32BE(body.length, 0)
  body.copy(out, 4)
  return out
}

if (role === 'flooder') {
  const url = argv[argv.indexOf('--url') + 1]
  const kind = argv[argv.indexOf('--kind') + 1]
  const conns = Number(argv[argv.indexOf('--conns') + 1])
  const rate = Number(argv[argv.indexOf('--rate') + 1]) // per connection, per second
  assertLoopback([url], 'flood target')
  const { hostname, port } = new URL(url.replace('tcp:', 'http:'))
  const stats = { sent: 0, connections: 0, dropped: 0, handshakes: 0 }
  let stopping = false
  const sockets = new Set()
  const msg = () => kind === 'query'
    ? { type: 'query', qid: randomBytes(8).toString('hex'), subnet: 'nothing-here', hops: 1, limit: 64 }
    : { type: 'getaddrs' }
  function open () {
    if (stopping) return
    stats.connections++
    const tcp = net.connect({ host: hostname, port: Number(port) })
    tcp.on('error', () => {})
    const s = new NoiseSecretStream(true, tcp, { keyPair: NoiseSecretStream.keyPair() })
    sockets.add(s)
    let timer = null
    let ready = false
    let buf = Buffer.alloc(0)
    s.on('open', () => s.write(frame({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', nonce: randomBytes(8).toString('hex'), addrs: ['tcp://127.66.0.1:9'] })))
    s.on('data', d => {
      if (ready) return
      buf = Buffer.concat([buf, d])
      if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return
      const m = JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString())
      if (m.type !== 'hello') return
      ready = true
      stats.handshakes++
      // 10 ms ticks, the frames owed since the last tick (by the clock, so a late timer
      // does not lower the rate; at most 50 ms worth at once) in one write.
      let owed = 0
      let last = Date.now()
      timer = setInterval(() => {
        const t = Date.now()
        owed = Math.min(owed + (t - last) * rate / 1000, rate / 20)
        last = t
        const k = Math.floor(owed)
        owed -= k
        if (k === 0 || s.destroyed) return
        const out = []
        for (let i = 0; i < k; i++) out.push(frame(msg()))
        s.write(Buffer.concat(out))
        stats.sent += k
      }, 10)
    })
    s.on('error', () => {})
    s.on('close', () => {
      clearInterval(timer)
      sockets.delete(s)
      if (!stopping) {
        stats.dropped++
        setTimeout(open, 5)
      }
    })
  }
  for (let i = 0; i < conns; i++) open()
  process.on('message', m => {
    if (m !== 'stop') return
    stopping = true
    for (const s of sockets) s.destroy()
    process.send(stats)
    setTimeout(() => process.exit(0), 50)
  })
}

// --- main ---------------------------------------------------------------------------------

function ask (child, m) {
  return new Promise((resolve, reject) => {
    const gone = code => reject(new Error(`child ${child.pid} exited (${code}) before answering ${m}`))
    child.once('exit', gone)
    child.once('message', v => { child.off('exit', gone); resolve(v) })
    child.send(m, err => { if (err) reject(err) })
  })
}

async function main () {
  const { peernet, listen } = await import('../lib/index.js')
  const { default: transport } = await import('../lib/transport/index.js')
  const { MemoryLevel } = await import('memory-level')
  const dir = tempDir()
  const node = fork(SELF, ['--node', '--dir', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  trackPid(node.pid)
  const children = [node]
  let honest = null
  let member = null
  let memberServer = null
  try {
    const { url } = await new Promise((resolve, reject) => {
      node.once('message', resolve)
      node.once('exit', code => reject(new Error(`node exited ${code}`)))
    })
    assertLoopback([url], 'node address')
    // The honest peers: a searcher and a member behind the node, both connected to it and
    // redialing like any node (bootstrap on, one connection wanted). The node answers
    // "direct" itself (1 hop); "relayed" is answered by the member, so the node must relay
    // the query and the answer (2 hops).
    const mk = () => {
      const p = peernet(new MemoryLevel(), { transport, interval: 0, purge: 0, connections: 1, dialInterval: 200 })
      p.on('error', () => {})
      return p
    }
    honest = mk()
    member = mk()
    const honestDrops = []
    honest.on('disconnect', e => honestDrops.push(`searcher: ${e.reason}`))
    member.on('disconnect', e => honestDrops.push(`member: ${e.reason}`))
    await honest.connect(url)
    await member.connect(url)
    await member.join('relayed')
    // The member needs an address of its own to answer with (an accept-only node answers "").
    memberServer = await listen('tcp', { host: '127.0.0.1' }, (stream, info) => member.accept(stream, info))
    assertLoopback([memberServer.address], 'member address')
    member.advertise(memberServer.address)

    const phases = [
      { name: 'idle' },
      { name: 'getaddrs-1x10k', kind: 'getaddrs', conns: 1, rate: RATE },
      { name: 'query-1x10k', kind: 'query', conns: 1, rate: RATE },
      { name: 'query-50x200', kind: 'query', conns: 50, rate: RATE / 50 },
      { name: 'getaddrs-50x200', kind: 'getaddrs', conns: 50, rate: RATE / 50 }
    ]
    const results = []
    for (const ph of phases) {
      // Start every phase with the honest peer connected.
      await until(() => honest.connections().length === 1 && member.connections().length === 1, { ms: 30000, every: 20, what: 'the honest peer to reconnect' })
      const drops0 = honestDrops.length
      let flooder = null
      if (ph.kind) {
        flooder = fork(SELF, ['--flooder', '--url', url, '--kind', ph.kind, '--conns', String(ph.conns), '--rate', String(ph.rate)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        trackPid(flooder.pid)
        children.push(flooder)
      }
      const s0 = await ask(node, 'stats')
      const t0 = now()
      const answers = { direct: [], relayed: [] }
      const asked = { direct: 0, relayed: 0 }
      let rssMax = 0
      for (let k = 0; now() - t0 < PHASE_MS; k++) {
        const subnet = k % 2 ? 'relayed' : 'direct'
        asked[subnet]++
        const t = now()
        const rows = []
        for await (const r of honest.search(subnet, { max: 1, timeout: 1000 })) rows.push(r)
        if (rows.length > 0) answers[subnet].push(now() - t)
        const s = await ask(node, 'stats')
        rssMax = Math.max(rssMax, s.rss)
        await sleep(Math.max(0, 100 - (now() - t)))
      }
      const s1 = await ask(node, 'stats')
      const wall = now() - t0
      let fl = null
      if (flooder) {
        fl = await ask(flooder, 'stop')
        await new Promise(resolve => flooder.once('exit', resolve))
        untrackPid(flooder.pid)
      }
      const cpuMs = (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1000
      const delta = {}
      for (const [k, v] of Object.entries(s1.counts)) if (v - (s0.counts[k] ?? 0) > 0) delta[k] = v - (s0.counts[k] ?? 0)
      results.push({
        ...ph,
        cpuPct: cpuMs / wall * 100,
        rss: Math.max(rssMax, s1.rss),
        answered: answers.direct.length / asked.direct,
        answerMs: median(answers.direct),
        relayed: answers.relayed.length / asked.relayed,
        relayedMs: median(answers.relayed),
        asked: asked.direct + asked.relayed,
        honestDrops: honestDrops.slice(drops0),
        flood: fl,
        events: delta,
        seen: s1.seen
      })
      await sleep(300) // let the node settle between phases
    }

    const idle = results[0]
    say(`flood: node CPU and RSS over ${PHASE_MS / 1000} s phases; an honest peer searches every 100 ms (answered = within 1 s), alternately "direct" (the node answers) and "relayed" (a member behind the node answers)`)
    for (const r of results) {
      const fl = r.flood ? `; flooder sent ${fmt(r.flood.sent / (PHASE_MS / 1000), 0)}/s over ${r.flood.handshakes} handshakes, dropped ${r.flood.dropped}x` : ''
      const hd = r.honestDrops.length ? `; honest peer dropped ${r.honestDrops.length}x (${[...new Set(r.honestDrops)].join('; ')})` : ''
      say(`flood: ${r.name.padEnd(16)} CPU ${r.cpuPct.toFixed(1)}% (${(r.cpuPct / idle.cpuPct).toFixed(1)}x idle), RSS ${(r.rss / MB).toFixed(1)} MB (${(r.rss / idle.rss).toFixed(2)}x), honest searches answered: direct ${(r.answered * 100).toFixed(0)}% (median ${fmt(r.answerMs, 2)} ms), relayed ${(r.relayed * 100).toFixed(0)}% (median ${fmt(r.relayedMs, 2)} ms) of ${r.asked}${fl}${hd}`)
      if (r.name !== 'idle') say(`flood:   node events: ${JSON.stringify(r.events)}`)
    }
    for (const r of results.slice(1)) {
      const extra = { phase_ms: PHASE_MS, flood_sent_per_s: r.flood ? Math.round(r.flood.sent / (PHASE_MS / 1000)) : 0, flood_drops: r.flood?.dropped ?? 0, honest_drops: r.honestDrops.length }
      row(BENCH, `${r.name}_cpu`, r.cpuPct, '%', idle.cpuPct, extra)
      row(BENCH, `${r.name}_rss`, r.rss / MB, 'MB', idle.rss / MB, extra)
      row(BENCH, `${r.name}_honest_answered`, r.answered * 100, '%', idle.answered * 100, extra)
      row(BENCH, `${r.name}_honest_answer_ms`, r.answerMs, 'ms', idle.answerMs, extra)
      row(BENCH, `${r.name}_relayed_answered`, r.relayed * 100, '%', idle.relayed * 100, extra)
      row(BENCH, `${r.name}_relayed_answer_ms`, r.relayedMs, 'ms', idle.relayedMs, extra)
    }
  } finally {
    await honest?.close().catch(() => {})
    await member?.close().catch(() => {})
    await memberServer?.close().catch(() => {})
    if (node.exitCode === null) {
      node.send('quit')
      await Promise.race([new Promise(resolve => node.once('exit', resolve)), sleep(5000)])
    }
    for (const c of children) {
      try { c.kill('SIGKILL') } catch {}
      untrackPid(c.pid)
    }
    removeDir(dir)
  }
}

if (role === 'main') {
  try {
    await main()
  } catch (err) {
    process.stderr.write(`flood: ${err.stack || err.message}\n`)
    process.exitCode = 1
  } finally {
    cleanup()
  }
}
