// Preloaded into a benchmark's daemons (NODE_OPTIONS=--import, from bench/daemons.mjs): counts
// the frames the daemon sends by what caused them (search-frames.mjs) and tells the counts, as
// one JSON line, to whoever connects to the Unix socket named by PEERNET_BENCH_FRAMES. It acts
// only in the daemon itself (PEERNET_DAEMON_CHILD, set by `peernet daemon` for the server it
// starts); the CLI processes that inherit NODE_OPTIONS load nothing more.
import net from 'node:net'

const path = process.env.PEERNET_BENCH_FRAMES
if (process.env.PEERNET_DAEMON_CHILD === '1' && path) {
  const { install } = await import('./search-frames.mjs')
  const counts = install()
  const server = net.createServer(c => c.end(JSON.stringify(counts) + '\n'))
  server.on('error', () => {})
  server.listen(path)
  // Never what keeps the daemon running.
  server.unref()
}
