// Nodes over the in-memory transport, for protocol tests. Each node listens at mem://<name>.
import { MemoryLevel } from 'memory-level'
import { peernet, createMemNetwork, encodeFrame, FrameDecoder } from '../../lib/index.js'

export function memNet (t) {
  const net = createMemNetwork()
  const nodes = []
  /** A node listening at mem://name; opts go to peernet(). */
  function node (name, opts = {}) {
    const db = opts.db ?? new MemoryLevel()
    const pn = peernet(db, { transport: net.transport(name), interval: 0, bootstrap: false, purge: 0, ...opts })
    const stop = net.listen(`mem://${name}`, (stream, info) => pn.accept(stream, info))
    pn.name = name
    pn.url = `mem://${name}`
    nodes.push(pn)
    t.teardown(async () => { stop(); await pn.close() })
    return pn
  }
  return { net, node, nodes }
}

/**
 * A hand-driven peer: dials `address` on `net` (or listens at mem://name), speaks raw frames,
 * so tests can send exactly what a hostile or odd peer would. It answers a ping with a pong, as
 * every peer of this protocol version does, until a test sets `silent` (a peer gone dead).
 */
export function rawPeer (stream) {
  const dec = new FrameDecoder()
  const received = []
  const waiters = []
  let closed = false
  let peer = null
  stream.on('data', chunk => {
    for (const m of dec.push(chunk)) {
      received.push(m)
      if (m.type === 'ping' && !peer.silent) stream.write(encodeFrame({ type: 'pong' }))
      for (const w of waiters.slice()) if (w.match(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m) }
    }
  })
  const closedP = new Promise(resolve => {
    stream.on('close', () => { closed = true; resolve() })
    stream.on('end', () => { closed = true; resolve() })
    stream.on('error', () => {})
  })
  peer = {
    stream,
    received,
    silent: false,
    get closed () { return closed },
    closedP,
    send (msg) { stream.write(encodeFrame(msg)) },
    write (buf) { stream.write(buf) },
    next (match = () => true) {
      const found = received.find(match)
      if (found) return Promise.resolve(found)
      return new Promise(resolve => waiters.push({ match, resolve }))
    }
  }
  return peer
}

export const HEX = id => id.padStart(32, '0').slice(0, 32)

/** A link nonce for hand-written hellos (every hello carries one from protocol version 2). */
export const NONCE = '0123456789abcdef'
