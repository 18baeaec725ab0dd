#!/usr/bin/env node
// GET /metrics of the HTTP API over a big table: a daemon with --http holds N addresses (added
// with `peernet add -`; N = 100,000, --quick: 20,000), and a scrape is timed next to a scrape
// of an idle daemon (empty table) in the same run: the metrics read counters, they never walk
// the table, so the ratio stays near 1. The addresses are loopback and never dialed.
//   node bench/metrics.mjs [--json] [--quick]
import { request } from 'node:http'
import { quick, say, row, median, now, ensureOffline, assertLoopback, removeDir, cleanup, cli, startDaemon, stopDaemon, loopbackAddresses } from './lib/common.mjs'

ensureOffline()

const N = quick ? 20_000 : 100_000
const SCRAPES = 30
const BENCH = 'metrics'
const SETTINGS = ['--connections', '0', '--interval', '0', '--purge', '0', '--http', '127.0.0.1:0']

function get (port) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { host: `127.0.0.1:${port}` } }, res => {
      let n = 0
      res.on('data', d => { n += d.length })
      res.on('end', () => res.statusCode === 200 ? resolve(n) : reject(new Error(`GET /metrics: ${res.statusCode}`)))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Where the daemon's HTTP API listens, from its log (read before anything else fills it). */
async function portOf (d) {
  const log = await cli(d.dir, ['log', '--no-follow', '-n', '50'])
  const port = Number(/http address=http:\/\/127\.0\.0\.1:(\d+)/.exec(log.stdout)?.[1])
  if (!port) throw new Error('the daemon did not say where its HTTP API is')
  return port
}

/** Median ms of SCRAPES scrapes, after two to warm up. */
async function scrapes (port) {
  const times = []
  for (let i = 0; i < SCRAPES + 2; i++) {
    const t0 = now()
    await get(port)
    if (i >= 2) times.push(now() - t0)
  }
  return median(times)
}

try {
  const idle = await startDaemon(SETTINGS)
  const idleMs = await scrapes(await portOf(idle))
  await stopDaemon(idle)
  removeDir(idle.dir)

  const addrs = loopbackAddresses(N)
  assertLoopback(addrs, 'table address')
  const d = await startDaemon([...SETTINGS, '--table-size', String(N)])
  const port = await portOf(d)
  await cli(d.dir, ['add', '-'], { input: addrs.join('\n') + '\n', timeout: 600_000 })
  const known = JSON.parse((await cli(d.dir, ['status', '--json'])).stdout).known
  if (known !== N) throw new Error(`the table holds ${known} addresses, expected ${N}`)
  const fullMs = await scrapes(port)
  await stopDaemon(d)
  removeDir(d.dir)

  say(`metrics: GET /metrics with ${N} known addresses ${fullMs.toFixed(2)} ms vs an empty table ${idleMs.toFixed(2)} ms (medians of ${SCRAPES}); ratio ${(fullMs / idleMs).toFixed(2)}`)
  row(BENCH, 'scrape_ms', fullMs, 'ms', idleMs, { n: N })
} finally {
  cleanup()
}
