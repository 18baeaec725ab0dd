// A ring of real nodes (the Peernet class, real Noise) over the in-memory transport on one
// virtual clock, some of which only dial out: connect by id's tests (node-reach, node-relay).
import { MemoryLevel } from 'memory-level'
import { peernet, createMemNetwork, VirtualClock, seededRandom, generateKeyPair } from '../../lib/index.js'
import { runUntil } from './helpers.js'

/**
 * n nodes on one clock; those in `dialOnly` neither listen nor advertise an address (they only
 * dial out); `advertise` gives a node the addresses it claims (its presence record's).
 */
export async function ringOf (t, n, { dialOnly = [], advertise = {}, opts = () => ({}) } = {}) {
  const net = createMemNetwork()
  const clock = new VirtualClock(1_000_000)
  const nodes = []
  for (let i = 0; i < n; i++) {
    const name = `k${i}`
    const listens = !dialOnly.includes(i)
    const addresses = advertise[i] ?? (listens ? [`mem://${name}`] : [])
    const pn = peernet(new MemoryLevel(), {
      transport: net.transport(name),
      clock,
      random: seededRandom(i + 1),
      keyPair: generateKeyPair(Buffer.alloc(32, i + 1)),
      interval: 200,
      dialInterval: 100,
      connections: 2,
      purge: 0,
      addresses,
      ...opts(i)
    })
    const stop = listens ? net.listen(`mem://${name}`, (s, info) => pn.accept(s, info)) : () => {}
    pn.name = name
    // (A test that stops a node as a crash would: its listener goes with it.)
    pn.unlisten = stop
    nodes.push(pn)
    t.teardown(async () => { stop(); await pn.close() })
  }
  await Promise.all(nodes.map(pn => pn.ready))
  // Each saves a listening node before it: the ring forms from there.
  const listening = nodes.filter((_, i) => !dialOnly.includes(i))
  for (const pn of nodes) {
    const other = listening.find(x => x !== pn)
    if (other !== undefined) await pn.save([`mem://${other.name}`])
  }
  // (Two nodes that only dial out, side by side on the ring, can never link to each other: they
  // stay unbalanced. Tests with several of them only need the ring to route.)
  const joined = await runUntil(clock, () => nodes.every(pn => pn.ringStatus() === 'joined' || dialOnly.length > 1))
  if (dialOnly.length <= 1) t.ok(joined, 'every node joined the ring')
  // Rounds enough for every presence record to be published where it belongs.
  await runUntil(clock, () => false, 60)
  return { clock, nodes, net }
}

export const linked = (a, b) => a.peerList().some(p => p.id === b.id)

/** A request of the library's own (run() refuses those names), as the node itself sends one. */
export const ask = (pn, id, name, payload) => pn.actions.ask(id, name, payload, 10_000, 'run')

/** Settles p while the clock runs; resolves to its value, or to the error it rejected with. */
export async function settle (clock, p) {
  let out
  let done = false
  p.then(v => { out = v; done = true }, err => { out = err; done = true })
  await runUntil(clock, () => done)
  return out
}


/**
 * A node on the in-memory network `net` with its own clock (real unless opts.clock), keyed by
 * `seed`; one that `listens` is dialed at mem://NAME and advertises it, one that does not only
 * dials out. Closed (and unlistened) at t's teardown.
 */
export function memNode (t, net, name, seed, listens, opts = {}) {
  const pn = peernet(new MemoryLevel(), {
    transport: net.transport(name), keyPair: generateKeyPair(Buffer.alloc(32, seed)), interval: 200, dialInterval: 100,
    connections: 2, purge: 0, addresses: listens ? [`mem://${name}`] : [], ...opts
  })
  const stop = listens ? net.listen(`mem://${name}`, (s, info) => pn.accept(s, info)) : () => {}
  t.teardown(async () => { stop(); await pn.close() })
  return pn
}
