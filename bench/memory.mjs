#!/usr/bin/env node
// Daemon memory holding user-saved addresses. A real daemon (bin/peernet, --connections 0
// --interval 0 --purge 0) is filled through `peernet add -` to 100,000 addresses and, in the full
// run only, on to 1,000,000; its RSS at each step is next to an idle daemon's (empty table)
// measured in the same run. The daemon is then restarted on the same data dir and measured again
// holding the table it loaded from LevelDB. Also the table's own memory per address, in-process
// with GC forced (bench/lib/table-heap.mjs), which leaves out uncollected garbage and LevelDB.
// The addresses are tcp://127.A.B.C:PORT — loopback — and are never dialed.
//   node bench/memory.mjs [--json] [--quick]
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import {
  quick, say, row, now, ensureOffline, assertLoopback, tempDir, removeDir, cleanup, cli, control,
  startDaemon, stopDaemon, trackPid, settledRss, idleDaemonRss, loopbackAddresses, until, MB, fmt
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
 * `peernet daemon` on dir again, once it has loaded n addresses. `peernet daemon` gives up
 * waiting after START_TIMEOUT while the daemon it started goes on loading: that is said, and the
 * daemon is found by its status.
 */
async function restart (dir, n) {
  const started = now()
  const d = { dir, pid: 0, socket: join(dir, 'run', 'control.sock') }
  try {
    d.pid = (await startDaemon(SETTINGS, dir)).pid
  } catch (err) {
    say(`memory: ${err.message.split('\n')[0]}`)
  }
  const status = () => control(d.socket, 'status').then(([s]) => s, () => null)
  const s = await until(async () => { const s = await status(); return s?.known === n && s }, { ms: 1_800_000, every: 200, what: `the restarted daemon to load ${n} addresses` })
  if (d.pid === 0) trackPid(d.pid = s.pid)
  d.loadS = (now() - started) / 1000
  say(`memory: the restarted daemon answered with ${fmt(n)} addresses loaded after ${d.loadS.toFixed(1)} s`)
  return d
}

const rows = []
function report (metric, n, rss, idle, what) {
  say(`memory: ${what}: ${(rss / MB).toFixed(1)} MB vs idle ${(idle / MB).toFixed(1)} MB = ${(rss / idle).toFixed(2)}x, ${((rss - idle) / n).toFixed(0)} bytes per address`)
  rows.push([metric, rss / MB, 'MB', idle / MB, n], [metric.replace('daemon_rss', 'rss_bytes_per_address'), (rss - idle) / n, 'B', null, n])
}

try {
  const idleRss = await idleDaemonRss(SETTINGS)

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
  rows.push([`restart_s_${n}`, again.loadS, 's', null, n])
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
