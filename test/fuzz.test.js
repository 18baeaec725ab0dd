// A short seeded run of the fuzz harness (`npm run fuzz` runs the long one): random and mutated
// frames into the codec and into a live node over the in-memory transport, while an honest peer
// keeps searching it. Zero crashes, zero unhandled rejections, every honest search answered.
import t from 'tap'
import { runFuzz } from '../lib/fuzz/fuzz.js'
import { MAX_SEEN } from '../lib/index.js'

t.test('20,000 seeded inputs: no crash, the node keeps serving an honest peer', async t => {
  const rssBefore = process.memoryUsage.rss()
  const r = await runFuzz({ count: 20_000, seed: 0x5eed })
  t.equal(r.inputs, 20_000)
  t.equal(r.crashes, 0, 'no crashes', { samples: r.samples })
  t.equal(r.unhandledRejections, 0, 'no unhandled rejections')
  t.equal(r.uncaughtExceptions, 0, 'no uncaught exceptions')
  t.equal(r.nodeErrors, 0, 'the node emitted no error')
  t.ok(r.honestChecks >= 10, `the honest peer searched ${r.honestChecks} times`)
  t.equal(r.honestFailures, 0, 'and got every answer')
  t.ok(r.liveInputs > 4000 && r.codecInputs > 10_000, `both targets got inputs (${r.liveInputs} live, ${r.codecInputs} codec)`)
  t.ok(r.messages > 1000 && r.wireErrors > 1000, `valid messages (${r.messages}) and WireErrors (${r.wireErrors}) both reached`)
  t.ok(r.rawDropped > 100, `the node dropped misbehaving raw peers (${r.rawDropped})`)
  t.ok(r.rawGreeted > 50, `raw peers got past the Noise handshake and the hello (${r.rawGreeted})`)
  t.ok(r.rawGarbled > 20 && r.secureRefusals > 10, `random bytes before, during and after the handshake (${r.rawGarbled}) were refused at the secure layer (${r.secureRefusals})`)
  t.ok(r.seen <= MAX_SEEN, 'the seen cache stayed bounded')
  // The peak of the run can be no lower than what this process already held before it: a
  // peak in the wrong unit (KiB, pages) or never measured falls below.
  t.ok(r.peakRss >= rssBefore, `peak RSS ${(r.peakRss / 1048576).toFixed(1)} MiB, at least the ${(rssBefore / 1048576).toFixed(1)} MiB held before the run`)
})

t.test('the same seed gives the same run', async t => {
  const a = await runFuzz({ count: 3000, seed: 42 })
  const b = await runFuzz({ count: 3000, seed: 42 })
  const pick = r => ({ codec: r.codecInputs, live: r.liveInputs, messages: r.messages, wireErrors: r.wireErrors, rawPeers: r.rawPeers })
  t.same(pick(a), pick(b))
  t.equal(a.crashes + b.crashes, 0)
})
