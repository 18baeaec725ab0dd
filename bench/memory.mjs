#!/usr/bin/env node
// Daemon memory holding user-saved addresses. A real daemon (bin/peernet, --connections 0
// --interval 0 --purge 0) is filled through `peernet add -` to 100,000 addresses and, in the full
// run only, on to 1,000,000; its RSS at each step is next to an idle daemon's (empty table)
// measured in the same run. The daemon is then restarted on the same data dir and measured again
// holding the table it loaded from LevelDB. Also the table's own memory per address, in-process
// with GC forced (bench/lib/table-heap.mjs), which leaves out uncollected garbage and LevelDB.
// The addresses are tcp://127.A.B.C:PORT — loopback — and are never dialed.
//   node bench/memory.mjs [--json] [--quick]
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import {
  BIN, quick, say, row, ensureOffline, assertLoopback, tempDir, removeDir, cleanup, cli, control,
  startDaemon, stopDaemon, trackPid, settledRss, loopbackAddresses, until, MB, fmt
} from './lib/common.mjs'

ensureOffline()

const STEPS = quick ? [100_000] : [100_000, 1_000_000]
const SETTINGS = ['--connections', '0', '--interval', '0', '--purge', '0']
const BENCH = 'memory'
const HEAP_N = 100_000

/** Add addresses [from, to) through `peernet add -`; resolves the rate in rows/s. */
async function fill (d, from, to) {
  const addrs = loopbackAddresses(to - from, from)
  assertLoopback(addrs, 'table address')
  const add = await cli(d.dir, ['add', '-'], { input: addrs.join('\n') + '\n', timeout: 3_600_000 })
  const m = /added (\d+)/.exec(add.stdout)
  if (!m || Number(m[1]) !== to - from) throw new Error(`add - said: ${add.stdout.trim()}`)
  return (to - from) / (add.ms / 1000)
}

async function known (d) {
  const [s] = await control(d.socket, 'status')
  return s.known
}

/**
 * `peernet server` on dir, in the background, once it knows n addresses. Not `peernet daemon`,
 * which gives up when the socket does not answer within START_TIMEOUT, while a big table loads.
 */
async function restart (dir, n) {
  const child = spawn(process.execPath, [BIN, 'server', ...SETTINGS], {
    env: { ...process.env, PEERNET_PATH: dir, PEERNET_NO_AUTOSTART: '1' },
    stdio: 'ignore'
  })
  trackPid(child.pid)
  const d = { dir, pid: child.pid, socket: join(dir, 'run', 'control.sock') }
  await until(() => known(d).then(k => k === n, () => false), { ms: 1_800_000, every: 200, what: `the restarted daemon to load ${n} addresses` })
  return d
}

const rows = []
function report (metric, n, rss, idle, what) {
  say(`memory: ${what}: ${(rss / MB).toFixed(1)} MB vs idle ${(idle / MB).toFixed(1)} MB = ${(rss / idle).toFixed(2)}x, ${((rss - idle) / n).toFixed(0)} bytes per address`)
  rows.push([metric, rss / MB, 'MB', idle / MB, n], [metric.replace('daemon_rss', 'rss_bytes_per_address'), (rss - idle) / n, 'B', null, n])
}

try {
  const idle = await startDaemon(SETTINGS)
  await cli(idle.dir, ['known'])
  const idleRss = await settledRss(idle.pid)
  await stopDaemon(idle)
  removeDir(idle.dir)

  const d = await startDaemon(SETTINGS)
  let n = 0
  for (const step of STEPS) {
    const rate = await fill(d, n, step)
    n = step
    if (await known(d) !== n) throw new Error(`the daemon knows ${await known(d)} addresses, expected ${n}`)
    say(`memory: filled to ${fmt(n)} saved addresses (add - at ${fmt(rate)} rows/s)`)
    report(`daemon_rss_${n}`, n, await settledRss(d.pid), idleRss, `daemon holding ${fmt(n)} saved addresses`)
  }
  await stopDaemon(d)
  const again = await restart(d.dir, n)
  report(`daemon_rss_${n}_restarted`, n, await settledRss(again.pid), idleRss, `daemon restarted, ${fmt(n)} saved addresses loaded from LevelDB`)
  await stopDaemon(again)
  removeDir(d.dir)

  // The table alone, in-process, GC forced.
  const heapDir = tempDir()
  const h = spawnSync(process.execPath, ['--expose-gc', new URL('./lib/table-heap.mjs', import.meta.url).pathname, String(HEAP_N), heapDir], { encoding: 'utf8' })
  removeDir(heapDir)
  if (h.status !== 0) throw new Error(`table-heap.mjs exited ${h.status}: ${h.stderr.trim()}`)
  const heap = JSON.parse(h.stdout)
  say(`memory: the table in-process after GC, ${fmt(HEAP_N)} saved addresses: JS heap ${heap.heapPerAddress.toFixed(0)} + array buffers ${heap.buffersPerAddress.toFixed(0)} bytes per address`)
  for (const [metric, value, unit, baseline, n] of rows) row(BENCH, metric, value, unit, baseline, { n })
  row(BENCH, 'table_heap_bytes_per_address', heap.heapPerAddress, 'B', null, { n: HEAP_N })
  row(BENCH, 'table_buffer_bytes_per_address', heap.buffersPerAddress, 'B', null, { n: HEAP_N })
} catch (err) {
  process.stderr.write(`memory: ${err.stack || err.message}\n`)
  process.exitCode = 1
} finally {
  cleanup()
}
