#!/usr/bin/env node
// The secure layer (lib/node/secure.js: Noise XX, then secretstream) on loopback TCP, each
// figure next to plaintext TCP measured in the same run:
// - connect + handshake + one echoed frame, median of many, vs a plaintext connect + echo;
// - frames per second over one link with peernet's frame mix (queries, answers, addrs, pings),
//   sent as the node sends them (the frames of one turn in one write: one encrypted message),
//   vs the same writes in plaintext; and, to show why, one encrypted message per frame.
//   node bench/secure.mjs [--json] [--quick]
import net from 'node:net'
import { FrameDecoder, generateKeyPair, PROTOCOL_VERSION, MAX_BATCH } from '../lib/index.js'
import { noiseLayer } from '../lib/node/secure.js'
import { quick, say, row, median, now, fmt, ensureOffline } from './lib/common.mjs'
import { FRAME_MIX } from './lib/frame-mix.mjs'

// Loopback only: re-exec under `unshare -n` unless already there (every socket is on 127.0.0.1).
ensureOffline()

const BENCH = 'secure'
const CONNECTS = quick ? 100 : 300
const FRAMES = quick ? 100_000 : 300_000
const PER_TURN = 32

const MIX = FRAME_MIX

const serverKey = generateKeyPair()
const clientKey = generateKeyPair()

/** A server that wraps each socket (or not), decodes frames, and calls onFrames(n, link). */
async function server (secure, onFrames) {
  const s = net.createServer(sock => {
    sock.setNoDelay(true)
    const link = secure ? noiseLayer(sock, false, serverKey) : sock
    link.on('error', () => {})
    const dec = new FrameDecoder()
    link.on('data', chunk => onFrames(dec.push(chunk).length, link))
  })
  await new Promise(resolve => s.listen(0, '127.0.0.1', resolve))
  return s
}

function dial (port, secure) {
  const sock = net.connect({ host: '127.0.0.1', port, noDelay: true })
  const link = secure ? noiseLayer(sock, true, clientKey) : sock
  link.on('error', () => {})
  return link
}

async function connectTimes (secure) {
  const s = await server(secure, (n, link) => { if (n > 0) link.write(MIX[2]) })
  const { port } = s.address()
  const times = []
  for (let i = 0; i < CONNECTS; i++) {
    const t0 = now()
    const link = dial(port, secure)
    await new Promise(resolve => { link.once('data', resolve); link.write(MIX[0]) })
    times.push(now() - t0)
    link.destroy()
  }
  s.close()
  return median(times)
}

async function framesPerSecond (mode) {
  const secure = mode !== 'plain'
  let got = 0
  let done
  const finished = new Promise(resolve => { done = resolve })
  const s = await server(secure, n => { got += n; if (got >= FRAMES) done() })
  const link = dial(s.address().port, secure)
  const t0 = now()
  let sent = 0
  // A turn of the node: PER_TURN frames queued, written as the Connection writes them.
  const turn = () => {
    const batch = []
    for (let i = 0; i < PER_TURN && sent < FRAMES; i++, sent++) batch.push(MIX[sent % MIX.length])
    if (mode === 'per-frame') for (const f of batch) link.write(f)
    else {
      let piece = []
      let bytes = 0
      for (const f of batch) {
        if (bytes + f.length > MAX_BATCH) { link.write(Buffer.concat(piece)); piece = []; bytes = 0 }
        piece.push(f)
        bytes += f.length
      }
      if (piece.length > 0) link.write(Buffer.concat(piece))
    }
    if (sent < FRAMES) setImmediate(turn)
  }
  turn()
  await finished
  const rate = FRAMES / ((now() - t0) / 1000)
  link.destroy()
  s.close()
  return rate
}

const plainConnect = await connectTimes(false)
const secureConnect = await connectTimes(true)
say(`connect + handshake + echo, median of ${CONNECTS}: plaintext ${fmt(plainConnect, 2)} ms, Noise ${fmt(secureConnect, 2)} ms (+${fmt(secureConnect - plainConnect, 2)} ms)`)
row(BENCH, 'connect_handshake_ms', secureConnect, 'ms', plainConnect)
row(BENCH, 'handshake_added_ms', secureConnect - plainConnect, 'ms')

const plain = await framesPerSecond('plain')
const batched = await framesPerSecond('batched')
const perFrame = await framesPerSecond('per-frame')
say(`frames/s over one link (${FRAMES} frames, peernet's mix, ${PER_TURN} a turn): plaintext ${fmt(plain, 0)}, encrypted and batched ${fmt(batched, 0)} (${fmt(batched / plain, 2)}×), one message per frame ${fmt(perFrame, 0)} (${fmt(perFrame / plain, 2)}×)`)
row(BENCH, 'frames_per_s_encrypted', batched, 'frames/s', plain)
row(BENCH, 'frames_per_s_one_message_per_frame', perFrame, 'frames/s', plain)
process.exit(0)
