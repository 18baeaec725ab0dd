// The simulation's links (sim/link.ts) stand in for mem.ts's stream pairs: the same events, in the
// same order against ticks and microtasks, for every way a link is used and ended. Each scenario
// runs once over a memPair, once over a simPair and once over a simPair on an Outbox (the world's
// way of holding deliveries) and the logs must match.
import t from 'tap'
import { memPair, MEM_LINK_BUFFER } from '../lib/transport/mem.js'
import { simPair, SimNetwork, Outbox } from '../lib/sim/link.js'

async function trace (makePair, scenario) {
  const log = []
  const out = []
  const deliver = fn => { log.push('deliver'); out.push(fn) }
  const [a, b, runOwn] = makePair(deliver, log)
  const run = runOwn ?? (() => { for (const f of out.splice(0)) f() })
  for (const [n, s] of [['a', a], ['b', b]]) {
    for (const e of ['end', 'close', 'error', 'data']) s.on(e, x => log.push(`${n}:${e}${e === 'data' ? `(${x.length})` : ''}`))
  }
  const mark = m => { log.push(m); queueMicrotask(() => log.push(m + ':mt')); process.nextTick(() => log.push(m + ':tick')) }
  const settle = () => new Promise(resolve => setImmediate(resolve))
  await settle()
  await scenario({ a, b, run, mark, settle, log })
  await settle()
  return log.join(' ')
}

const mem = deliver => memPair({ deliver })
const sim = deliver => simPair(deliver)
/** A simPair whose deliveries wait in an Outbox: posted as a Deliver function is called, run in order. */
const outboxed = (_deliver, log) => {
  const box = new Outbox()
  const post = box.post.bind(box)
  box.post = (...args) => { log.push('deliver'); post(...args) }
  return [...simPair(box), () => box.take().run()]
}

const scenarios = {
  'data, then an end, then the other end destroyed': async ({ a, b, run, mark, settle }) => {
    a.write(Buffer.alloc(3)); mark('w'); run(); mark('r'); await settle()
    a.end(); mark('e'); await settle(); run(); mark('r2'); await settle()
    b.destroy(); mark('d')
  },
  'destroyed': async ({ a, mark }) => { a.destroy(); mark('d') },
  'destroyed with an error': async ({ a, mark }) => { a.destroy(new Error('refused')); mark('d') },
  'both ends end': async ({ a, b, run, mark, settle }) => { a.end(); b.end(); await settle(); run(); mark('r') },
  'both destroyed at once': async ({ a, b, mark }) => { b.destroy(); a.destroy(); mark('dd') },
  'ended and destroyed at once': async ({ a, run, mark, settle }) => { a.end(); a.destroy(); mark('ed'); await settle(); run(); mark('r') },
  'half closed, then closed': async ({ a, b, run, mark, settle }) => {
    a.end(); await settle(); run(); await settle()
    b.end(); mark('be'); await settle(); run(); mark('r')
  },
  'written and ended, the other end destroyed before delivery': async ({ a, b, run, mark, settle }) => {
    a.write(Buffer.alloc(1)); a.end(); b.destroy(); mark('x'); await settle(); run()
  },
  // A sim node never pauses (only a test's slow peer does): after resume() a stream interleaves
  // the chunks it hands on with the writes it lets through by its own buffer sizes, which the
  // sim's end does not copy. What is read, in what order, and what waits, must match.
  'a reader that stops reading holds the writer back': async ({ a, b, run, settle, log }) => {
    b.pause()
    const chunk = Buffer.alloc(MEM_LINK_BUFFER / 4)
    for (let i = 0; i < 8; i++) a.write(chunk)
    log.push(`queued ${a.writableLength}`)
    for (let i = 0; i < 3; i++) { run(); await settle() }
    log.push(`queued ${a.writableLength}`)
    b.resume()
    for (let i = 0; i < 4; i++) { await settle(); run() }
    log.push(`queued ${a.writableLength}`)
    a.end(); await settle(); run()
  }
}

for (const [name, scenario] of Object.entries(scenarios)) {
  t.test(name, async t => {
    const want = await trace(mem, scenario)
    const got = await trace(sim, scenario)
    const boxed = await trace(outboxed, scenario)
    const events = log => name.includes('stops reading') ? log.replace(/deliver /g, '') : log
    t.equal(events(got), events(want), want)
    t.equal(events(boxed), events(want), 'on an Outbox: ' + want)
  })
}

t.test('a dial nobody listens for is refused; a listener gets the far end', async t => {
  const net = new SimNetwork(fn => queueMicrotask(fn))
  const refused = net.dial('mem://nobody')
  const err = await new Promise(resolve => refused.on('error', resolve))
  t.equal(err.code, 'ECONNREFUSED')
  const got = []
  const stop = net.listen('mem://here', (s, info) => { got.push(info.host); s.on('data', c => got.push(c.toString())) })
  t.throws(() => net.listen('mem://here', () => {}), /already in use/)
  t.throws(() => net.listen('tcp://127.0.0.1:1', () => {}), /not a mem/)
  const s = net.dial('mem://here', 'me')
  s.write(Buffer.from('hi'))
  await new Promise(resolve => setImmediate(resolve))
  t.same(got, ['me', 'hi'])
  stop()
  s.destroy()
})

t.test('ends queue apart: writes waiting and chunks unread on one link never show on another', async t => {
  // Every end starts with one shared empty queue of each kind (no arrays of its own until it
  // queues): two links held back at once must each deliver exactly their own bytes, in order.
  const box = new Outbox()
  const links = [simPair(box), simPair(box)]
  const got = links.map(() => [])
  for (const [x, [, b]] of links.entries()) {
    b.pause()
    b.on('data', c => got[x].push(c[0]))
  }
  // Over MEM_LINK_BUFFER on each: the rest waits on the writer's side.
  const pieces = 6
  for (let i = 0; i < pieces; i++) {
    for (const [x, [a]] of links.entries()) a.write(Buffer.alloc(MEM_LINK_BUFFER / 4, 16 * x + i))
  }
  t.ok(links.every(([a]) => a.writableLength > 0), 'both writers hold writes back')
  const flush = async () => { for (let k = 0; k < 20; k++) { box.take().run(); await new Promise(resolve => setImmediate(resolve)) } }
  await flush()
  t.same(got, [[], []], 'nothing read while paused')
  for (const [, b] of links) b.resume()
  await flush()
  t.same(got, links.map((_, x) => Array.from({ length: pieces }, (_, i) => 16 * x + i)), 'each link gave its own chunks, in order')
  t.ok(links.every(([a]) => a.writableLength === 0), 'nothing left waiting')
  for (const [a] of links) a.destroy()
})

t.test('a slow link (both ends slow): what it takes arrives a run later than a fast link\'s, in its order, its end last', async t => {
  const box = new Outbox()
  const [a, b] = simPair(box)
  const [c, d] = simPair(box)
  a.slow = b.slow = true
  const got = []
  b.on('data', x => got.push(`b:${x}`))
  b.on('end', () => got.push('b:end'))
  d.on('data', x => got.push(`d:${x}`))
  const step = async () => { box.take().run(); await new Promise(resolve => setImmediate(resolve)) }
  a.write(Buffer.from('x1'))
  c.write(Buffer.from('y1'))
  await step()
  t.same(got, ['d:y1'], 'the fast link\'s after one run; the slow one\'s not yet')
  a.write(Buffer.from('x2'))
  a.end()
  await step()
  t.same(got, ['d:y1', 'b:x1'], 'the slow link\'s first chunk after two')
  await step()
  t.same(got, ['d:y1', 'b:x1', 'b:x2', 'b:end'], 'then the rest, in order, the end last')
})

t.test('a slow link holds twice MEM_LINK_BUFFER in flight: as many bytes a step as a fast link, at twice the latency', async t => {
  const box = new Outbox()
  const [a, b] = simPair(box)
  const [c, d] = simPair(box)
  a.slow = b.slow = true
  const got = { slow: 0, fast: 0 }
  b.on('data', x => { got.slow += x.length })
  d.on('data', x => { got.fast += x.length })
  const piece = Buffer.alloc(MEM_LINK_BUFFER / 4)
  const step = async () => {
    // Each writer keeps its link full: what waits goes as the link has room.
    while (a.writableLength === 0) a.write(piece)
    while (c.writableLength === 0) c.write(piece)
    box.take().run()
    await new Promise(resolve => setImmediate(resolve))
  }
  await step()
  t.equal(got.fast, MEM_LINK_BUFFER, 'the fast link: its window a step')
  t.equal(got.slow, 0, 'the slow link: nothing yet, two steps on the way')
  for (let i = 1; i < 10; i++) await step()
  t.equal(got.fast, 10 * MEM_LINK_BUFFER)
  t.equal(got.slow, 10 * MEM_LINK_BUFFER, 'the slow link: the same bytes over ten steps (twice the window, twice the latency; one window was half)')
  for (const e of [a, c]) e.destroy()
})
