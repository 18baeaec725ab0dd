// Shared helpers of the benchmarks (not a benchmark itself: bench/run.mjs only runs bench/*.mjs).
// Output rows, statistics, the loopback-only guards, daemons started and killed by pid, temp dirs
// removed even on failure, and a small control-socket client (NDJSON over the Unix socket).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

export const BIN = new URL('../../bin/peernet', import.meta.url).pathname
export const argv = process.argv.slice(2)
export const asJson = argv.includes('--json')
export const quick = argv.includes('--quick')

/** A human line: stdout, or stderr when --json owns stdout. */
export const say = line => (asJson ? process.stderr : process.stdout).write(line + '\n')

export const round = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x)) ? x : Math.round(x * 10 ** d) / 10 ** d

/** One NDJSON row per figure (only with --json). */
export function row (bench, metric, value, unit, baseline, extra = {}) {
  const r = { bench, metric, value: round(value, 3), unit }
  if (baseline !== undefined && baseline !== null) {
    r.baseline = round(baseline, 3)
    if (baseline !== 0 && Number.isFinite(value / baseline)) r.ratio = round(value / baseline, 3)
  }
  Object.assign(r, extra)
  if (asJson) process.stdout.write(JSON.stringify(r) + '\n')
  return r
}

export function median (xs) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export const mean = xs => xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length

/** The q-quantile of xs (nearest rank: p99 of 100 values is the 99th smallest). */
export function quantile (xs, q) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
export const now = () => performance.now()

export async function until (fn, { ms = 20000, every = 20, what = 'condition' } = {}) {
  const start = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(every)
  }
}

// --- loopback only -------------------------------------------------------------------------

/** Is host an IPv4 address in 127.0.0.0/8? */
export function isLoopbackHost (host) {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(String(host))
  return m !== null && m.slice(1).every(x => Number(x) <= 255)
}

/** Throw unless every address (URL string, "host:port", or {host}) is on 127.0.0.0/8. */
export function assertLoopback (addrs, what = 'address') {
  for (const a of addrs) {
    let host
    if (typeof a === 'object' && a !== null) host = a.host
    else if (/^[a-z]+:\/\//i.test(a)) host = new URL(String(a).replace(/^tcp:/i, 'http:')).hostname
    else host = String(a).split(':')[0]
    if (!isLoopbackHost(host)) throw new Error(`refusing to run: ${what} ${JSON.stringify(a)} is not on 127.0.0.0/8`)
  }
}

/** n distinct addresses tcp://127.A.B.C:PORT (loopback, never dialed by the benchmarks). */
export function loopbackAddresses (n, from = 0) {
  const out = []
  for (let i = from; i < from + n; i++) {
    const port = 1024 + (i % 50_000)
    const host = Math.floor(i / 50_000) + 1
    out.push(`tcp://127.${(host >> 16) & 255}.${(host >> 8) & 255}.${host & 255}:${port}`)
  }
  return out
}

/** Does this process see only the loopback interface? */
export function onlyLoopbackHere () {
  const r = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' })
  if (r.status !== 0) return false
  const names = r.stdout.split('\n').filter(Boolean).map(l => l.split(':')[1].trim().split('@')[0])
  return names.length > 0 && names.every(n => n === 'lo')
}

/**
 * Make sure the rest of this script runs where only loopback exists. Already there: return.
 * Otherwise re-exec this script under `unshare -n` (with lo brought up) and exit with its
 * status. `strict`: refuse to run when no such namespace can be made; else warn and go on
 * (every address the script uses is still checked to be loopback).
 */
export function ensureOffline ({ strict = false } = {}) {
  if (onlyLoopbackHere()) return
  if (process.env.PEERNET_BENCH_REEXEC === '1') {
    if (strict) {
      process.stderr.write('refusing to run: still not in a loopback-only network namespace after unshare -n\n')
      process.exit(1)
    }
    return
  }
  const can = spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' })
  if (can.error || can.status !== 0) {
    if (strict) {
      process.stderr.write('refusing to run: cannot make a loopback-only namespace (unshare -n failed); run under ../shared/bin/offline\n')
      process.exit(1)
    }
    process.stderr.write('warning: not in a loopback-only namespace; every address used is checked to be on 127.0.0.0/8\n')
    return
  }
  const r = spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PEERNET_BENCH_REEXEC: '1' }
  })
  process.exit(r.status ?? 1)
}

// --- cleanup -------------------------------------------------------------------------------

const pids = new Set()
const dirs = new Set()

function killAll () {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  pids.clear()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs.clear()
}
process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAll()
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1))
  })
}

export function trackPid (pid) { pids.add(pid) }
export function untrackPid (pid) { pids.delete(pid) }

export function tempDir (prefix = 'pnb-') {
  const d = mkdtempSync(join('/tmp', prefix))
  dirs.add(d)
  return d
}
export function removeDir (d) {
  rmSync(d, { recursive: true, force: true })
  dirs.delete(d)
}

export function cleanup () { killAll() }

// --- process figures -----------------------------------------------------------------------

/** Resident set size of pid, bytes (VmRSS). */
export function rssOf (pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

/** RSS of pid once it has been quiet a moment: the median of a few samples (RSS drifts while the heap settles). */
export async function settledRss (pid) {
  await sleep(500)
  const xs = []
  for (let i = 0; i < 5; i++) {
    xs.push(rssOf(pid))
    await sleep(100)
  }
  return median(xs)
}

const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
/** CPU time (user + system) of pid so far, ms. */
export function cpuOf (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) * 1000 / TICK
}

export const MB = 1024 * 1024

// --- daemons through the CLI ---------------------------------------------------------------

/** Run the CLI against dir (env: more variables for it); resolves {code, stdout, stderr, ms}. */
export function cli (dir, args, { input, stdout = 'pipe', timeout = 60000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const start = now()
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, PEERNET_PATH: dir, PEERNET_NO_AUTOSTART: '1' },
      stdio: [input === undefined ? 'ignore' : 'pipe', stdout, 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8').on('data', d => { out += d })
    child.stderr.setEncoding('utf8').on('data', d => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      const ms = now() - start
      if (code !== 0) reject(new Error(`peernet ${args.join(' ')} exited ${code}: ${err.trim()}`))
      else resolve({ code, stdout: out, stderr: err, ms })
    })
    if (input !== undefined) {
      child.stdin.on('error', () => {})
      child.stdin.end(input)
    }
  })
}

/** Start a daemon in a fresh temp dir (env: more variables for it); returns {dir, pid}. The pid is killed at exit. */
export async function startDaemon (settings = [], dir = tempDir(), env = {}) {
  const r = await cli(dir, ['daemon', '--json', ...settings], { env })
  const { pid } = JSON.parse(r.stdout.trim().split('\n').pop())
  trackPid(pid)
  return { dir, pid, socket: join(dir, 'run', 'control.sock') }
}

/** Stop a daemon cleanly (peernet close), falling back to SIGKILL by pid. */
export async function stopDaemon (d) {
  try {
    await cli(d.dir, ['close'], { timeout: 20000 })
  } catch {
    try { process.kill(d.pid, 'SIGKILL') } catch {}
  }
  untrackPid(d.pid)
}

/** One control-socket request; resolves the rows. */
export function control (socket, method, params = {}, onRow = null) {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket)
    const rows = []
    let rest = ''
    c.setEncoding('utf8')
    c.on('connect', () => c.write(JSON.stringify({ id: 1, method, params }) + '\n'))
    c.on('data', chunk => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop()
      for (const line of parts) {
        if (!line) continue
        const m = JSON.parse(line)
        if (m.error) { c.destroy(); reject(new Error(`${method}: ${m.error.message}`)); return }
        if (m.end) { c.destroy(); resolve(rows); return }
        if ('row' in m) {
          if (onRow) onRow(m.row)
          else rows.push(m.row)
        }
      }
    })
    c.on('error', reject)
    c.on('close', () => reject(new Error(`${method}: the daemon closed the connection`)))
  })
}

export function fmt (x, d = 1) {
  if (!Number.isFinite(x)) return String(x)
  if (Math.abs(x) >= 1e6) return (x / 1e6).toFixed(2) + 'M'
  if (Math.abs(x) >= 1e4) return (x / 1e3).toFixed(1) + 'k'
  return x.toFixed(d)
}

/** RSS of an idle daemon (empty table, one `known` run), started and stopped here: the baseline of the memory rows. */
export async function idleDaemonRss (settings) {
  const idle = await startDaemon(settings)
  await cli(idle.dir, ['known'])
  const rss = await settledRss(idle.pid)
  await stopDaemon(idle)
  removeDir(idle.dir)
  return rss
}
