// Running the real bin/peernet against real daemons in short temp data dirs. Every daemon a
// test starts is killed by pid at teardown, even when the test fails.
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export const BIN = new URL('../../bin/peernet', import.meta.url).pathname

/** Is pid running? A zombie (exited, waiting for init to reap it) is not. */
function alive (pid) {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** The processes whose parent is pid, as {pid, comm} (from /proc). */
function childrenOf (pid) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      const [, ppid] = stat.slice(close + 2).split(' ')
      if (Number(ppid) === pid) out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, close) })
    } catch {}
  }
  return out
}

/**
 * The environment without tap's process-info hooks: they register a CommonJS require hook
 * that cannot load the extensionless ESM bin/peernet, and a daemon is not the test's process.
 */
export function cleanEnv () {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  for (const k of Object.keys(env)) if (k.startsWith('_TAPJS_')) delete env[k]
  return env
}

/**
 * Spawn bin/peernet. tap re-adds its process-info hook to every child's NODE_OPTIONS whatever
 * env we pass, so `env -u` drops it in between.
 */
export function spawnPeernet (args, opts) {
  return spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, ...args], opts)
}

/** Kill a pid and wait until it is gone. */
export async function killHard (pid) {
  try { process.kill(pid, 'SIGKILL') } catch {}
  for (let i = 0; i < 500 && alive(pid); i++) await new Promise(resolve => setTimeout(resolve, 10))
}

/**
 * A data dir with helpers: run(args) runs `peernet` with PEERNET_PATH set to it.
 * Teardown kills the daemon whose pid file is there (and any pid noted with track()).
 */
export function datadir (t, name = 'pn') {
  const dir = mkdtempSync(`/tmp/${name}-`)
  const pids = new Set()
  const pidOf = () => {
    try {
      return Number(readFileSync(join(dir, 'peernet.pid'), 'utf8').trim())
    } catch {
      return null
    }
  }
  t.teardown(async () => {
    const p = pidOf()
    if (p) pids.add(p)
    for (const pid of pids) await killHard(pid)
    rmSync(dir, { recursive: true, force: true })
  })
  const env = (extra = {}) => ({ ...cleanEnv(), PEERNET_PATH: dir, PEERNET_NO_AUTOSTART: '', ...extra })
  return {
    dir,
    pidOf,
    track: pid => pids.add(pid),
    env,
    /** Run peernet (in cwd, with env added); resolves {code, stdout, stderr}. */
    run (args, { input, env: extra, cwd, timeout = 60000 } = {}) {
      return new Promise((resolve, reject) => {
        const child = spawnPeernet(args, { env: env(extra), cwd, stdio: ['pipe', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', d => { stdout += d })
        child.stderr.on('data', d => { stderr += d })
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`peernet ${args.join(' ')} did not finish in ${timeout} ms`)) }, timeout)
        child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
        child.stdin.end(input ?? '')
      })
    },
    /** Start a daemon (with settings flags) and remember its pid. */
    async start (...flags) {
      const r = await this.run(['daemon', '--json', ...flags])
      if (r.code !== 0) throw new Error(`daemon did not start: ${r.stderr}`)
      const { pid } = JSON.parse(r.stdout)
      pids.add(pid)
      return pid
    }
  }
}

/** Settings of a daemon that never dials on its own and never gossips. */
export const QUIET = ['--connections', '0', '--interval', '0']

const lines = s => s.split('\n').filter(Boolean)

/** A CLI run that failed as users must see it: exit code, one line on stderr matching pattern, no errno code, no stack trace. */
export function oneLine (t, r, code, pattern, what) {
  t.equal(r.code, code, `${what}: exit ${code} (${r.stderr.trim()})`)
  t.equal(lines(r.stderr).length, 1, `${what}: one line on stderr`)
  t.match(r.stderr, pattern, what)
  t.notMatch(r.stderr, /\bE[A-Z]{4,}\b|\n\s+at /, `${what}: no errno code, no stack trace`)
}

export { alive, childrenOf }
