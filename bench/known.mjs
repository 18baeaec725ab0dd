#!/usr/bin/env node
// `peernet known` over a big table: a daemon's table is filled with N addresses through
// `peernet add -` (N = 100,000; --quick: 20,000), then `peernet known > /dev/null` is timed,
// in rows/s, next to a raw in-process iteration of the same LevelDB (the daemon stopped first)
// measured in the same run. Also the daemon's RSS holding that table next to an idle daemon's
// (empty table), and the rate of `add -` next to raw synced LevelDB batches of the same size.
// The addresses are tcp://127.A.B.C:PORT — loopback — and are never dialed: the daemon runs
// with --connections 0 --interval 0.
//   node bench/known.mjs [--json] [--quick]
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import {
  quick, say, row, median, now, ensureOffline, assertLoopback, tempDir, removeDir, cleanup,
  cli, startDaemon, stopDaemon, settledRss, idleDaemonRss, loopbackAddresses, MB, fmt
} from './lib/common.mjs'

ensureOffline()

const N = quick ? 20_000 : 100_000
const RUNS = quick ? 3 : 5
const SETTINGS = ['--connections', '0', '--interval', '0', '--purge', '0']
const BENCH = 'known'

try {
  const addrs = loopbackAddresses(N)
  assertLoopback(addrs, 'table address')

  // Idle daemon: empty table, nothing to do.
  const idleRss = await idleDaemonRss(SETTINGS)

  // The daemon under test.
  const d = await startDaemon(SETTINGS)
  const input = addrs.join('\n') + '\n'
  const add = await cli(d.dir, ['add', '-'], { input, timeout: 600_000 })
  if (!/added (\d+)/.test(add.stdout) || Number(/added (\d+)/.exec(add.stdout)[1]) !== N) throw new Error(`add - said: ${add.stdout.trim()}`)
  const addRate = N / (add.ms / 1000)
  const addedRss = await settledRss(d.pid)

  const cliTimes = []
  const devnull = openSync('/dev/null', 'w')
  try {
    // One check run that the listing is complete, then the timed runs.
    const check = await cli(d.dir, ['known'])
    const lines = check.stdout.split('\n').filter(Boolean).length
    if (lines !== N) throw new Error(`peernet known printed ${lines} rows, expected ${N}`)
    for (let i = 0; i < RUNS; i++) cliTimes.push((await cli(d.dir, ['known'], { stdout: devnull, timeout: 600_000 })).ms)
  } finally {
    closeSync(devnull)
  }
  const tableRss = await settledRss(d.pid)
  await stopDaemon(d)

  // Raw iteration of the same LevelDB, in this process.
  const db = new Level(join(d.dir, 'db'))
  await db.open()
  const addr = db.sublevel('addr', { valueEncoding: 'json' })
  const rawTimes = []
  let count = 0
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = now()
    count = 0
    for await (const [key, value] of addr.iterator()) {
      if (value.address === key) count++
    }
    if (i > 0) rawTimes.push(now() - t0) // the first pass warms the block cache and the JIT
  }
  if (count !== N) throw new Error(`raw iteration saw ${count} rows, expected ${N}`)

  // Raw synced batches of the same size `add -` sends (1000 per request), for the add rate.
  const fresh = tempDir()
  const db2 = new Level(join(fresh, 'db'))
  await db2.open()
  const addr2 = db2.sublevel('addr', { valueEncoding: 'json' })
  const t0 = now()
  const at = Date.now()
  for (let i = 0; i < N; i += 1000) {
    const ops = addrs.slice(i, i + 1000).map(a => ({
      type: 'put', sublevel: addr2, key: a,
      value: { address: a, user: true, sources: [], first: at, last: at, lastTry: 0, lastOk: 0, ok: 0, fail: 0, streak: 0, rx: 0, tx: 0, subnets: [] }
    }))
    await db2.batch(ops, { sync: true })
  }
  const rawAddRate = N / ((now() - t0) / 1000)
  await db2.close()
  await db.close()
  removeDir(fresh)
  removeDir(d.dir)

  const cliMs = median(cliTimes)
  const rawMs = median(rawTimes)
  const cliRate = N / (cliMs / 1000)
  const rawRate = N / (rawMs / 1000)
  say(`known: ${N} addresses, ${RUNS} runs each (medians)`)
  say(`known: peernet known > /dev/null ${cliMs.toFixed(0)} ms = ${fmt(cliRate)} rows/s; raw LevelDB iteration ${rawMs.toFixed(0)} ms = ${fmt(rawRate)} rows/s; ratio ${(cliRate / rawRate).toFixed(3)}`)
  say(`known: daemon RSS with the table ${(tableRss / MB).toFixed(1)} MB vs idle ${(idleRss / MB).toFixed(1)} MB = ${(tableRss / idleRss).toFixed(2)}x (${((tableRss - idleRss) / N).toFixed(0)} bytes per address); after add, before any known: ${(addedRss / MB).toFixed(1)} MB = ${(addedRss / idleRss).toFixed(2)}x`)
  say(`known: peernet add - ${fmt(addRate)} rows/s (${(add.ms / 1000).toFixed(1)} s) vs raw synced 1000-row batches ${fmt(rawAddRate)} rows/s; ratio ${(addRate / rawAddRate).toFixed(3)}`)
  row(BENCH, 'cli_rows_per_s', cliRate, 'rows/s', rawRate, { n: N })
  row(BENCH, 'cli_ms', cliMs, 'ms', rawMs, { n: N })
  row(BENCH, 'daemon_rss', tableRss / MB, 'MB', idleRss / MB, { n: N })
  row(BENCH, 'daemon_rss_before_known', addedRss / MB, 'MB', idleRss / MB, { n: N })
  row(BENCH, 'rss_bytes_per_address', (tableRss - idleRss) / N, 'B', null, { n: N })
  row(BENCH, 'add_rows_per_s', addRate, 'rows/s', rawAddRate, { n: N })
} catch (err) {
  process.stderr.write(`known: ${err.stack || err.message}\n`)
  process.exitCode = 1
} finally {
  cleanup()
}
