#!/usr/bin/env node
// A node's link over WebRTC (lib/transport/webrtc.js: a data channel on loopback, no ICE server)
// next to the same link over loopback TCP, measured in the same run, back to back:
// - connect + Noise handshake + one echoed frame, median of many (the signals through an
//   in-process channel, so what is measured is ICE, DTLS and SCTP, not a signal carrier);
// - frames per second over one link: the node's secure layer (lib/node/secure.js) and frame
//   codec, peernet's frame mix sent as a node sends it (the frames of one turn in one write),
//   with the process's CPU time per frame (it counts node-datachannel's threads too).
// The ratio is WebRTC over TCP. Rounds alternate the two, so a busy moment of the shared machine
// falls on both.
//   node bench/webrtc.mjs [--json] [--quick]
import net from 'node:net'
import { FrameDecoder, generateKeyPair, MAX_BATCH } from '../lib/index.js'
import { noiseLayer } from '../lib/node/secure.js'
import { dialWebRTC, answerWebRTC, signalPair, loopbackOnly, releaseWebRTC, webrtcUnavailable } from '../lib/transport/webrtc.js'
import { quick, say, row, median, now, fmt, ensureOffline } from './lib/common.mjs'
import { FRAME_MIX } from './lib/frame-mix.mjs'

// Loopback only: re-exec under `unshare -n` unless already there (every socket is on 127.0.0.1).
ensureOffline()

const BENCH = 'webrtc'
const CONNECTS = quick ? 20 : 60
const FRAMES = quick ? 100_000 : 300_000
const ROUNDS = quick ? 2 : 3
const PER_TURN = 32
/** WebRTC on loopback: candidates gathered on 127.0.0.1, and only loopback ones taken. */
const RTC = { bind: '127.0.0.1', allowHost: loopbackOnly }

const why = webrtcUnavailable()
if (why !== null) {
  say(`skipped: ${why}`)
  process.exit(0)
}

const MIX = FRAME_MIX

const serverKey = generateKeyPair()
const clientKey = generateKeyPair()

/**
 * A pair of raw streams of one transport: { client, server, close }, the client being the
 * side that dials (the Noise initiator).
 */
async function rawPair (kind) {
  if (kind === 'webrtc') {
    const [a, b] = signalPair()
    const client = dialWebRTC(a, RTC)
    const server = answerWebRTC(b, RTC)
    return { client, server, close: () => { client.destroy(); server.destroy() } }
  }
  let server
  const accepted = new Promise(resolve => { server = net.createServer(sock => { sock.setNoDelay(true); resolve(sock) }) })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const client = net.connect({ host: '127.0.0.1', port: server.address().port, noDelay: true })
  const sock = await accepted
  return { client, server: sock, close: () => { client.destroy(); sock.destroy(); server.close() } }
}

/** Both ends as a node's links: Noise over the raw streams, frames decoded at the server. */
async function link (kind, onFrames) {
  const raw = await rawPair(kind)
  const client = noiseLayer(raw.client, true, clientKey)
  const server = noiseLayer(raw.server, false, serverKey)
  let closing = false
  // A link that fails while measured ends the bench with its reason (it would wait forever).
  const fail = err => {
    if (closing) return
    process.stderr.write(`bench/webrtc: a ${kind} link failed: ${err.message}\n`)
    process.exit(1)
  }
  for (const s of [client, server, raw.client, raw.server]) s.on('error', fail)
  const dec = new FrameDecoder()
  server.on('data', chunk => onFrames(dec.push(chunk).length, server))
  return { client, close: () => { closing = true; raw.close() } }
}

async function connectTime (kind) {
  const t0 = now()
  const l = await link(kind, (n, server) => { if (n > 0) server.write(MIX[2]) })
  await new Promise(resolve => { l.client.once('data', resolve); l.client.write(MIX[0]) })
  const ms = now() - t0
  l.close()
  return ms
}

/** Frames a second over one link, and CPU µs per frame (user + system, every thread). */
async function framesPerSecond (kind) {
  let got = 0
  let done
  const finished = new Promise(resolve => { done = resolve })
  const l = await link(kind, n => { got += n; if (got >= FRAMES) done() })
  // Handshake first: the figure is the link's, not its opening.
  await new Promise(resolve => l.client.once('connect', resolve))
  const cpu0 = process.cpuUsage()
  const t0 = now()
  let sent = 0
  // A turn of the node: PER_TURN frames queued, written as the Connection writes them.
  const turn = () => {
    const batch = []
    for (let i = 0; i < PER_TURN && sent < FRAMES; i++, sent++) batch.push(MIX[sent % MIX.length])
    let piece = []
    let bytes = 0
    for (const f of batch) {
      if (bytes + f.length > MAX_BATCH) { l.client.write(Buffer.concat(piece)); piece = []; bytes = 0 }
      piece.push(f)
      bytes += f.length
    }
    if (piece.length > 0) l.client.write(Buffer.concat(piece))
    if (sent < FRAMES) setImmediate(turn)
  }
  turn()
  await finished
  const seconds = (now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  l.close()
  return { rate: FRAMES / seconds, cpuPerFrame: (cpu.user + cpu.system) / FRAMES }
}

// Warm both up (the first WebRTC attempt of a process makes its certificate; the first TCP
// connect loads its modules), then alternate.
await connectTime('tcp')
await connectTime('webrtc')
const times = { tcp: [], webrtc: [] }
for (let i = 0; i < CONNECTS; i++) for (const kind of ['tcp', 'webrtc']) times[kind].push(await connectTime(kind))
const tcpConnect = median(times.tcp)
const rtcConnect = median(times.webrtc)
say(`connect + handshake + echo, median of ${CONNECTS}: tcp ${fmt(tcpConnect, 2)} ms, webrtc ${fmt(rtcConnect, 2)} ms (${fmt(rtcConnect / tcpConnect, 1)}×)`)
row(BENCH, 'connect_handshake_ms', rtcConnect, 'ms', tcpConnect)

const runs = { tcp: [], webrtc: [] }
for (let r = 0; r < ROUNDS; r++) for (const kind of ['tcp', 'webrtc']) runs[kind].push(await framesPerSecond(kind))
const tcp = median(runs.tcp.map(x => x.rate))
const rtc = median(runs.webrtc.map(x => x.rate))
const tcpCpu = median(runs.tcp.map(x => x.cpuPerFrame))
const rtcCpu = median(runs.webrtc.map(x => x.cpuPerFrame))
say(`frames/s over one link (${FRAMES} frames, peernet's mix, ${PER_TURN} a turn, Noise; median of ${ROUNDS}): tcp ${fmt(tcp, 0)}, webrtc ${fmt(rtc, 0)} (${fmt(rtc / tcp, 2)}×)`)
say(`CPU per frame, both ends in this process: tcp ${fmt(tcpCpu, 2)} µs, webrtc ${fmt(rtcCpu, 2)} µs (${fmt(rtcCpu / tcpCpu, 2)}×)`)
row(BENCH, 'frames_per_s', rtc, 'frames/s', tcp)
row(BENCH, 'cpu_us_per_frame', rtcCpu, 'µs', tcpCpu)
await releaseWebRTC()
process.exit(0)
