#!/usr/bin/env node
// Connect by id (lib/node/reach.js) on real nodes: real tcp on 127.0.0.1, real Noise, real
// LevelDB, the ring on a short round. Each path's time to the first message (connect, then a
// send whose signed acknowledgement is back) is measured next to the same over a dial of a known
// address in the same run:
// - by address (the baseline): X.connect(B's address), which also saves the address as the
//   user's in LevelDB before it resolves (connecting by id saves nothing);
// - by id, dial: X.connect(B's id): B's presence record looked up over the ring, then dialed;
// - by id, dial-back: B.connect(C's id) where C only dials out: asked over the ring, C dials B;
// - by id, webrtc: W.connect(C's id) where both only dial out: a WebRTC channel (bound to
//   127.0.0.1, no ICE server), its signals over the ring;
// - by id, relay: R.connect(S's id) where both only dial out and have WebRTC off: a circuit
//   through a peer both are linked to, S's consent asked over the ring first.
// Between trials the link is dropped with disconnect (its hold is lifted by the next connect).
//   node bench/reach.mjs [--json] [--quick]
import { DIALBACK_BURST, DIALBACK_TOTAL_RATE } from '../lib/index.js'
import { releaseWebRTC } from '../lib/transport/webrtc.js'
import { tcpNodes } from './lib/tcp-nodes.mjs'
import { quick, say, row, median, now, fmt, ensureOffline, until, sleep } from './lib/common.mjs'

ensureOffline()

const BENCH = 'reach'
const TRIALS = quick ? 10 : 40
const NODES = 14
/** The last four only dial out; the last two of those have WebRTC off. */
const DIAL_ONLY = 4
const made = tcpNodes()

async function node (i, listens, webrtc) {
  const pn = await made.make(listens, { webrtc: webrtc ? { bind: '127.0.0.1' } : false })
  pn.on('message', () => {})
  pn.name = `n${i}`
  return pn
}

const linked = (a, b) => a.peerList().some(p => p.id === b.id)

async function trial (from, to, target) {
  if (linked(from, to)) await from.disconnect(to.id)
  await until(() => !linked(from, to) && !linked(to, from), { what: 'the link to close' })
  const t0 = now()
  const r = await from.connect(target)
  await from.send(to.id, 'hi')
  return { ms: now() - t0, path: r.path }
}

try {
  const nodes = []
  for (let i = 0; i < NODES; i++) nodes.push(await node(i, i < NODES - DIAL_ONLY, i < NODES - 2))
  await Promise.all(nodes.map(pn => pn.ready))
  for (const pn of nodes.slice(1)) await pn.connect(nodes[0].url)
  // (Two nodes that only dial out may sit side by side on the ring: they never link, so never
  // both join; the ring routes all the same.)
  await until(() => nodes.every(pn => pn.ringStatus() !== 'lonely'), { ms: 60_000, what: 'the ring to form' })
  const [X, B, W, C, R, S] = [nodes[1], nodes[2], nodes[NODES - 4], nodes[NODES - 3], nodes[NODES - 2], nodes[NODES - 1]]
  // Every listening node joined, and B's presence record found: the trials measure a settled
  // ring. (W and C, which only dial out, may never join: they publish no presence record, and
  // are reached without one.)
  await until(() => nodes.slice(0, NODES - DIAL_ONLY).every(pn => pn.ringStatus() === 'joined'), { ms: 60_000, what: 'the listening nodes to join' })
  await until(async () => (await X.ring.presenceOf(B.id).catch(() => null)) !== null, { ms: 120_000, every: 500, what: "B's presence record to be found" })
  // C grants one requester DIALBACK_BURST dial-backs, then one per 10 s: the dial-backs are
  // asked by the listening nodes in turn, each within its burst.
  const requesters = nodes.slice(1, NODES - DIAL_ONLY)
  const backs = Math.min(TRIALS, requesters.length * DIALBACK_BURST)
  const NAMES = ['address', 'dial', 'dial-back', 'webrtc', 'relay']
  const runs = Object.fromEntries(NAMES.map(n => [n, []]))
  const paths = Object.fromEntries(NAMES.map(n => [n, new Map()]))
  const failed = Object.fromEntries(NAMES.map(n => [n, []]))
  for (let i = 0; i < TRIALS; i++) {
    // Interleaved, so a slow moment of the machine falls on every path alike.
    const steps = [['address', X, B, B.url], ['dial', X, B, B.id]]
    if (i < backs) steps.push(['dial-back', requesters[i % requesters.length], C, C.id])
    steps.push(['webrtc', W, C, C.id], ['relay', R, S, S.id])
    for (const [name, from, to, target] of steps) {
      try {
        const r = await trial(from, to, target)
        runs[name].push(r.ms)
        paths[name].set(r.path, (paths[name].get(r.path) ?? 0) + 1)
      } catch (err) {
        failed[name].push(err.message)
      }
    }
    // C's dial-back allowance in all is DIALBACK_TOTAL_RATE a second: a round stays within it.
    await sleep(1000 / DIALBACK_TOTAL_RATE)
  }
  const base = median(runs.address)
  say(`connect and a first acknowledged message, median of ${TRIALS} (${NODES} nodes on loopback tcp, real Noise):`)
  say(`  by address            ${fmt(base, 2)} ms   (baseline; ${failed.address.length} failed)`)
  for (const name of NAMES.slice(1)) {
    const m = median(runs[name])
    say(`  by id, ${name.padEnd(14)} ${fmt(m, 2)} ms   ${fmt(m / base, 1)}× by address   (${runs[name].length} runs, ${failed[name].length} failed; paths: ${[...paths[name]].map(([p, n]) => `${p} ${n}`).join(', ')})`)
    for (const why of new Set(failed[name])) say(`    failed: ${why}`)
    row(BENCH, `first-message-by-id-${name}-ms`, m, 'ms', base, { paths: Object.fromEntries(paths[name]), runs: runs[name].length, failed: failed[name].length })
  }
} finally {
  await made.close()
  await releaseWebRTC()
}
