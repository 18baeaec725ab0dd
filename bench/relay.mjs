#!/usr/bin/env node
// A relayed link's throughput against the rate the relay is configured with (node/relay.ts's
// CIRCUIT_RATE, setting relay-rate), on real nodes: real tcp on 127.0.0.1, real Noise, real
// LevelDB. A listens and relays at RATE; B and C only dial out with WebRTC off, so B.connect(C.id)
// can only go through A. B then sends messages of MESSAGE bytes to C over the relayed link, a few
// in flight, for WINDOW ms; the figures are what A forwarded to C (relay.data bytes, base64
// decoded) and the messages C received, a second, each against RATE. Run at a few rates: the link follows the
// setting, and never goes above it.
//   node bench/relay.mjs [--json] [--quick]
import { MAX_MESSAGE, CIRCUIT_RATE } from '../lib/index.js'
import { quick, say, row, now, fmt, ensureOffline, until } from './lib/common.mjs'
import { tcpNodes } from './lib/tcp-nodes.mjs'

ensureOffline()

const BENCH = 'relay'
// Long enough that a message more or less at either end (18 KB) moves the lowest rate's figure by 5% at most.
const WINDOW = quick ? 3000 : 16000
/** A message's JSON: a string just under MAX_MESSAGE with its quotes and the envelope's room. */
const MESSAGE = MAX_MESSAGE - 2048
/** Sends in flight: enough to keep the circuit busy while acknowledgements come back. */
const IN_FLIGHT = 6
const RATES = [CIRCUIT_RATE / 2, CIRCUIT_RATE, CIRCUIT_RATE * 2]

async function run (rate) {
  const nodes = tcpNodes()
  const make = (listens, opts) => nodes.make(listens, opts)
  try {
    const A = await make(true, { relay: { rate } })
    const B = await make(false, { webrtc: false })
    const C = await make(false, { webrtc: false })
    await Promise.all([A, B, C].map(pn => pn.ready))
    let got = 0
    C.on('message', m => { got += m.message.length })
    await B.connect(A.url)
    await C.connect(A.url)
    await until(() => A.connections().length === 2, { ms: 30_000, what: 'A linked to B and C' })
    const r = await B.connect(C.id)
    if (r.path !== 'relay') throw new Error(`B reached C by ${r.path}, not through the relay`)
    // One direction, B to C: what C took in as relay.data (A's own count holds both directions,
    // and the link's own gossip and ring upkeep go both ways over it too).
    const relayed = () => (C.traffic().in.get('relay.data')?.bytes ?? 0)
    const body = 'x'.repeat(MESSAGE)
    let acked = 0
    let stop = false
    const sender = async () => {
      while (!stop) {
        await B.send(C.id, body)
        if (!stop) acked += MESSAGE
      }
    }
    // A first second to fill the pipe, then the window.
    const senders = Array.from({ length: IN_FLIGHT }, sender)
    await new Promise(resolve => setTimeout(resolve, 1000))
    const [bytes0, acked0, got0, t0] = [relayed(), acked, got, now()]
    await new Promise(resolve => setTimeout(resolve, WINDOW))
    const [bytes1, acked1, got1, t1] = [relayed(), acked, got, now()]
    stop = true
    await Promise.allSettled(senders)
    const secs = (t1 - t0) / 1000
    // relay.data carries base64 (4 characters a 3 bytes) in a small JSON frame: the circuit's
    // bytes are about 3/4 of the frames'.
    return { wire: (bytes1 - bytes0) * 3 / 4 / secs, acked: (acked1 - acked0) / secs, got: (got1 - got0) / secs }
  } finally {
    await nodes.close()
  }
}

say(`a relayed link's throughput against the relay's configured rate (${fmt(WINDOW / 1000, 0)} s windows, messages of ${MESSAGE} bytes, ${IN_FLIGHT} in flight):`)
for (const rate of RATES) {
  const r = await run(rate)
  say(`  relay-rate ${String(rate).padStart(6)} B/s: forwarded ${fmt(r.wire, 0)} B/s (${fmt(r.wire / rate, 2)}× the rate); messages received ${fmt(r.got, 0)} B/s (${fmt(r.got / rate, 2)}×)`)
  row(BENCH, `relayed-bytes-per-s-at-${rate}`, r.wire, 'B/s', rate, { received: Math.round(r.got), acknowledged: Math.round(r.acked) })
}
