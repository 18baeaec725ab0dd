// The fuzz harness: random and mutated frames into the codec (FrameDecoder + validateMessage)
// and into a live node over the in-memory transport, from raw peers that handshake and then
// send garbage. Most raw peers run the real Noise handshake (node/secure.ts) and send their
// garbage encrypted, so it reaches the frame layer; some send random bytes before it (no Noise
// at all), during it (bytes on the raw stream while it runs) or after it (bytes on the raw
// stream between encrypted messages: a bad ciphertext), which the secure layer must refuse. Meanwhile an honest peer searches the node every so often and must get its
// answer. Everything runs on a virtual clock with a seeded random source: a seed replays a run.
//
// A crash is any of: a codec error other than WireError, an 'error' event from the node (an
// exception inside message handling), an uncaught exception or unhandled rejection while the
// run is going, or a search by the honest peer that gets no answer.
import type { Duplex } from 'node:stream'
import { FrameDecoder, WireError } from '../wire/frame.js'
import { validateMessage } from '../wire/messages.js'
import { Peernet, MAX_SEEN } from '../node/node.js'
import { VirtualClock } from '../node/clock.js'
import { seededRandom } from '../util/random.js'
import { generateKeyPair, type KeyPair } from '../node/identity.js'
import { createHash } from 'node:crypto'
import { MemNetwork } from '../transport/mem.js'
import { noiseLayer, MAX_BATCH, type LinkStream } from '../node/secure.js'
import { MemDb } from './mem-db.js'
import { Gen, frame } from './gen.js'

export interface FuzzOptions {
  /** Inputs to generate in all. */
  count: number
  seed?: number
  /** Share of the inputs sent to the live node (the rest go to the codec alone). Default 0.3. */
  liveShare?: number
  /** Called every `progressEvery` inputs with the report so far. */
  progress?: (r: FuzzReport) => void
  progressEvery?: number
}

export interface CrashSample { where: 'codec' | 'node' | 'process' | 'honest', kind: string, error: string, input?: string }

export interface FuzzReport {
  seed: number
  inputs: number
  codecInputs: number
  liveInputs: number
  /** Codec inputs that decoded to valid messages, and that gave a WireError. */
  messages: number
  wireErrors: number
  crashes: number
  unhandledRejections: number
  uncaughtExceptions: number
  nodeErrors: number
  honestChecks: number
  honestFailures: number
  /** Raw peers opened, and how many the node dropped. */
  rawPeers: number
  rawDropped: number
  /** Raw peers that sent random bytes before, during or after the Noise handshake. */
  rawGarbled: number
  /** Links the node refused at the secure layer, and raw peers that heard the node's hello. */
  secureRefusals: number
  rawGreeted: number
  /** The node's seen-cache size at the end, and its bound. */
  seen: number
  maxSeen: number
  known: number
  samples: CrashSample[]
  /** Peak resident set size of this process, bytes. */
  peakRss: number
  ms: number
}

const LIVE_BATCH = 16
const RAW_PEERS = 4
const HONEST_EVERY = 500
const TICK_MS = 5

const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

class RawPeer {
  closed = false
  asked = false
  greeted = false
  private readonly dec = new FrameDecoder()
  /** The Noise link over the raw stream, or null for a peer that skips it. */
  readonly link: LinkStream | null

  constructor (readonly stream: Duplex, gen: Gen, secure: boolean) {
    this.link = secure ? noiseLayer(stream, true, generateKeyPair(Buffer.from(gen.hex(32), 'hex'))) : null
    const from = this.link ?? stream
    from.on('data', (chunk: Buffer) => {
      let values: unknown[]
      try {
        values = this.dec.push(chunk)
      } catch {
        return
      }
      for (const v of values) {
        const m = v as { type?: string, qid?: unknown }
        if (m.type === 'hello') this.greeted = true
        if (m.type === 'getaddrs') this.asked = true
        if (m.type === 'query' && typeof m.qid === 'string') gen.rememberQid(m.qid)
      }
    })
    const gone = (): void => { this.closed = true }
    for (const s of [stream, this.link]) {
      s?.on('error', gone)
      s?.on('end', gone)
      s?.on('close', gone)
    }
  }

  /** Bytes as the peer's frames: encrypted (in messages a node could send) when it runs Noise. */
  write (b: Buffer): void {
    if (this.closed) return
    if (this.link === null) this.stream.write(b)
    else for (let i = 0; i < b.length; i += MAX_BATCH) this.link.write(b.subarray(i, i + MAX_BATCH))
  }

  /** Bytes straight on the raw stream, under the secure layer. */
  garble (b: Buffer): void {
    if (!this.closed) this.stream.write(b)
  }
}

export async function runFuzz (opts: FuzzOptions): Promise<FuzzReport> {
  const seed = (opts.seed ?? 1) >>> 0
  const liveShare = opts.liveShare ?? 0.3
  const started = Date.now()
  const gen = new Gen(seededRandom(seed))
  const report: FuzzReport = {
    seed,
    inputs: 0,
    codecInputs: 0,
    liveInputs: 0,
    messages: 0,
    wireErrors: 0,
    crashes: 0,
    unhandledRejections: 0,
    uncaughtExceptions: 0,
    nodeErrors: 0,
    honestChecks: 0,
    honestFailures: 0,
    rawPeers: 0,
    rawDropped: 0,
    rawGarbled: 0,
    secureRefusals: 0,
    rawGreeted: 0,
    seen: 0,
    maxSeen: MAX_SEEN,
    known: 0,
    samples: [],
    peakRss: 0,
    ms: 0
  }
  const crash = (s: CrashSample): void => {
    report.crashes++
    if (report.samples.length < 20) report.samples.push(s)
  }
  const onRejection = (err: unknown): void => {
    report.unhandledRejections++
    crash({ where: 'process', kind: 'unhandled rejection', error: String((err as Error)?.stack ?? err).slice(0, 400) })
  }
  const onException = (err: Error): void => {
    report.uncaughtExceptions++
    crash({ where: 'process', kind: 'uncaught exception', error: String(err?.stack ?? err).slice(0, 400) })
  }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)

  // --- the live node, an honest peer, and raw peers ----------------------------------------
  const clock = new VirtualClock(1_000_000)
  const net = new MemNetwork()
  const node = new Peernet(new MemDb(), {
    transport: net.transport('target'),
    clock,
    random: seededRandom(seed ^ 0x9e3779b9),
    // Keys from the seed too: the ring orders nodes by id, so a fresh key would change the run.
    keyPair: seededKeyPair(`target ${seed}`),
    interval: 50,
    purge: 1000,
    bootstrap: false,
    tableSize: 2000,
    groupOf: h => 'mem:' + h
  })
  node.on('error', err => {
    report.nodeErrors++
    crash({ where: 'node', kind: 'error event', error: String(err.stack ?? err).slice(0, 400) })
  })
  node.on('refused', e => { if (e.reason.startsWith('secure handshake failed')) report.secureRefusals++ })
  const stopTarget = net.listen('mem://target', (s, info) => node.accept(s, info))
  await node.join('fuzz')
  node.advertise('mem://target')

  const honest = new Peernet(new MemDb(), { transport: net.transport('honest'), clock, random: seededRandom(seed + 1), keyPair: seededKeyPair(`honest ${seed}`), interval: 0, purge: 0, bootstrap: false })
  honest.on('error', err => crash({ where: 'honest', kind: 'error event', error: String(err.stack ?? err).slice(0, 400) }))
  await honest.connect('mem://target')

  const raws: Array<RawPeer | null> = new Array(RAW_PEERS).fill(null)
  const rawPeer = (i: number): RawPeer => {
    let r = raws[i]
    if (r && !r.closed) return r
    if (r) {
      report.rawDropped++
      if (r.greeted) report.rawGreeted++
    }
    report.rawPeers++
    // Most run Noise; some send random bytes before the handshake (no Noise at all) or
    // during it (on the raw stream, while it runs).
    const how = gen.int(10)
    r = new RawPeer(net.dial('mem://target', `raw${report.rawPeers % 32}`), gen, how !== 0)
    if (how <= 1) {
      report.rawGarbled++
      r.garble(Buffer.from(gen.hex(1 + gen.int(64)), 'hex'))
    }
    // Handshake first (most of the time), so the garbage reaches the connected state.
    if (gen.chance(0.9)) r.write(frame(gen.hello(gen.chance(0.5) ? [gen.address()] : [])))
    raws[i] = r
    return r
  }

  async function honestCheck (): Promise<void> {
    report.honestChecks++
    if (honest.connections().length === 0) {
      try {
        await honest.connect('mem://target')
      } catch (err) {
        report.honestFailures++
        crash({ where: 'honest', kind: 'reconnect', error: (err as Error).message })
        return
      }
    }
    const ac = new AbortController()
    const s = honest.search('fuzz', { max: 1, timeout: 60_000, signal: ac.signal })
    let got = false
    s.on('data', () => { got = true })
    s.on('error', () => {})
    for (let i = 0; i < 200 && !got; i++) await turn()
    ac.abort()
    if (!got) {
      report.honestFailures++
      crash({ where: 'honest', kind: 'no answer', error: `honest search got no answer (honest peer connected: ${honest.connections().length > 0})` })
    }
  }

  async function liveBatch (inputs: Array<{ kind: string, bytes: Buffer }>): Promise<void> {
    for (const inp of inputs) {
      const r = rawPeer(gen.int(RAW_PEERS))
      // A solicited addrs answer full of junk, now and then.
      if (r.asked && gen.chance(0.5)) {
        r.asked = false
        r.write(frame({ type: 'addrs', addrs: Array.from({ length: gen.int(101) }, () => gen.address()) }))
      }
      // Now and then bytes under the secure layer, after its handshake: a bad ciphertext.
      if (r.link !== null && gen.chance(0.01)) {
        report.rawGarbled++
        r.garble(Buffer.from(gen.hex(1 + gen.int(64)), 'hex'))
      }
      r.write(inp.bytes)
    }
    await turn()
    clock.advance(TICK_MS)
    await turn()
  }

  // --- the run -----------------------------------------------------------------------------
  let batch: Array<{ kind: string, bytes: Buffer }> = []
  const codecDecoder = { d: new FrameDecoder() }
  const every = opts.progressEvery ?? 100_000
  let sinceHonest = 0
  for (let i = 0; i < opts.count; i++) {
    const inp = gen.input()
    report.inputs++
    if (gen.random() < liveShare) {
      report.liveInputs++
      batch.push(inp)
      if (batch.length >= LIVE_BATCH) {
        await liveBatch(batch)
        batch = []
      }
      if (++sinceHonest >= HONEST_EVERY) {
        sinceHonest = 0
        await honestCheck()
      }
    } else {
      report.codecInputs++
      codec(inp, codecDecoder)
    }
    if (opts.progress && (i + 1) % every === 0) {
      report.peakRss = process.resourceUsage().maxRSS * 1024
      report.ms = Date.now() - started
      opts.progress(report)
    }
  }
  if (batch.length > 0) await liveBatch(batch)
  await honestCheck()

  function codec (inp: { kind: string, bytes: Buffer }, state: { d: FrameDecoder }): void {
    const buf = inp.bytes
    // Usually a fresh decoder; sometimes the same stream goes on from the last input.
    if (gen.chance(0.8)) state.d = new FrameDecoder()
    try {
      const cuts = [gen.int(buf.length + 1), gen.int(buf.length + 1)].sort((a, b) => a - b)
      const pieces = gen.chance(0.5) ? [buf] : [buf.subarray(0, cuts[0]), buf.subarray(cuts[0], cuts[1]), buf.subarray(cuts[1])]
      for (const p of pieces) {
        for (const v of state.d.push(p)) {
          const m = validateMessage(v)
          if (m === null || typeof m !== 'object' || typeof m.type !== 'string') throw new Error('validateMessage returned a non-message')
          report.messages++
        }
      }
    } catch (err) {
      state.d = new FrameDecoder()
      if (err instanceof WireError) report.wireErrors++
      else crash({ where: 'codec', kind: inp.kind, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 200), input: buf.toString('base64').slice(0, 400) })
    }
  }

  // --- wrap up -----------------------------------------------------------------------------
  report.seen = node.status().seen
  report.known = node.status().known
  for (const r of raws) r?.stream.destroy()
  await honest.close()
  await node.close()
  stopTarget()
  await turn()
  process.off('unhandledRejection', onRejection)
  process.off('uncaughtException', onException)
  report.peakRss = process.resourceUsage().maxRSS * 1024
  report.ms = Date.now() - started
  return report
}

/** A key pair drawn from a name: the same every run of a seed. */
function seededKeyPair (name: string): KeyPair {
  return generateKeyPair(createHash('sha256').update('peernet fuzz key ' + name).digest())
}
