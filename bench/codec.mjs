#!/usr/bin/env node
// The wire codec: frames encoded and decoded per second — encodeFrame, FrameDecoder.push and
// validateMessage from lib/index.js, one frame per push (as a socket delivers them one by one)
// and also 64 frames per push (a busy socket) — next to JSON.parse(JSON.stringify(x)) of the
// same objects, measured in the same run. Messages: a mix of hello, addrs with 32 addresses,
// query and answer, and each of them alone. No sockets.
//   node bench/codec.mjs [--json] [--quick]
import { encodeFrame, FrameDecoder, validateMessage, PROTOCOL_VERSION } from '../lib/index.js'
import { quick, say, row, median, now, fmt } from './lib/common.mjs'

const BENCH = 'codec'
const WINDOW = quick ? 150 : 500 // ms per timed round
const ROUNDS = quick ? 3 : 5

const hex = (n, seed) => {
  let s = ''
  let x = seed >>> 0
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    s += '0123456789abcdef'[(x >>> 16) & 15]
  }
  return s
}
const addr = i => i % 2 ? `tcp://127.0.${(i >> 8) & 255}.${i & 255}:${20000 + i}` : `ws://127.1.${(i >> 8) & 255}.${i & 255}:${30000 + i}/`

const MESSAGES = {
  hello: { type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: hex(32, 1), addrs: [addr(1), addr(2)], dialed: addr(3), nonce: hex(16, 5) },
  addrs: { type: 'addrs', addrs: Array.from({ length: 32 }, (_, i) => addr(100 + i)) },
  query: { type: 'query', qid: hex(16, 7), subnet: 'chat', hops: 3, limit: 15 },
  answer: { type: 'answer', qid: hex(16, 7), subnet: 'chat', address: addr(9), hops: 4 }
}
const MIX = ['hello', 'addrs', 'query', 'query', 'answer', 'answer', 'query', 'answer'].map(k => MESSAGES[k])
// Every message once must validate, or the benchmark measures the error path.
for (const m of Object.values(MESSAGES)) validateMessage(m)

let sink = 0

/** Frames per second of fn(list) which handles every object of list once; best-of-rounds median. */
function rate (list, fn) {
  // Warm up (JIT), then timed rounds of WINDOW ms.
  const warm = now()
  while (now() - warm < WINDOW / 2) fn(list)
  const rates = []
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0
    const t0 = now()
    let t = t0
    while (t - t0 < WINDOW) {
      for (let k = 0; k < 16; k++) fn(list)
      n += 16 * list.length
      t = now()
    }
    rates.push(n / ((t - t0) / 1000))
  }
  return median(rates)
}

function peernetOne (list) {
  const dec = new FrameDecoder()
  for (const m of list) {
    for (const v of dec.push(encodeFrame(m))) sink += validateMessage(v).type.length
  }
}

function peernetBatched (list) {
  // 64 frames concatenated into one chunk, as a busy socket delivers them.
  const dec = new FrameDecoder()
  const frames = []
  for (let i = 0; i < 64; i += list.length) for (const m of list) frames.push(encodeFrame(m))
  const vs = dec.push(Buffer.concat(frames))
  for (let i = 0; i < vs.length; i++) sink += validateMessage(vs[i]).type.length
  return vs.length
}

function json (list) {
  for (const m of list) sink += JSON.parse(JSON.stringify(m)).type.length
}

function jsonBatched (list) {
  for (let i = 0; i < 64; i += list.length) for (const m of list) sink += JSON.parse(JSON.stringify(m)).type.length
}

const cases = [['mix', MIX], ...Object.entries(MESSAGES).map(([k, m]) => [k, [m]])]
say(`codec: frames encoded+decoded+validated per second vs JSON.parse(JSON.stringify(x)) of the same objects (median of ${ROUNDS} x ${WINDOW} ms)`)
for (const [name, list] of cases) {
  const base = rate(list, json)
  const pn = rate(list, peernetOne)
  const bytes = list.reduce((s, m) => s + encodeFrame(m).length, 0) / list.length
  say(`codec: ${name.padEnd(6)} (${bytes.toFixed(0)} B/frame) peernet ${fmt(pn)} frames/s vs JSON ${fmt(base)} obj/s = ${(pn / base).toFixed(3)}`)
  row(BENCH, `${name}_frames_per_s`, pn, 'frames/s', base, { bytes_per_frame: Math.round(bytes) })
}
{
  // 64 frames per push: batchedFrames handles ceil(64/len)*len frames per call.
  const perCall = Math.ceil(64 / MIX.length) * MIX.length
  const wrap = fn => list => fn(list)
  const base = rate(MIX, wrap(jsonBatched)) * perCall / MIX.length
  const pn = rate(MIX, wrap(peernetBatched)) * perCall / MIX.length
  say(`codec: mix, 64 frames per push: peernet ${fmt(pn)} frames/s vs JSON ${fmt(base)} obj/s = ${(pn / base).toFixed(3)}`)
  row(BENCH, 'mix_batched64_frames_per_s', pn, 'frames/s', base)
}
if (sink === 0) console.error('(sink)')
