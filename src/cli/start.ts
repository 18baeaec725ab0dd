// Starting a daemon in the background (for `peernet daemon` and auto-start). Loaded only then.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { rows, NotRunning } from './client.js'
import type { Paths } from '../control/paths.js'
import type { StatusRow, ServerRow } from '../control/protocol.js'
import { prepareDatadir } from '../control/dirs.js'

/** How long `daemon` waits for a new daemon to answer. */
export const START_TIMEOUT = 15_000

const BIN = fileURLToPath(new URL('../../bin/peernet', import.meta.url))

/** The running daemon's status, or null when none answers. */
export async function probe (socket: string): Promise<StatusRow | null> {
  try {
    const [s] = await rows<StatusRow>(socket, 'status')
    return s ?? null
  } catch (err) {
    if (err instanceof NotRunning) return null
    throw err
  }
}

/**
 * V8 flags of the daemon, a long-lived process that is mostly idle. V8 sizes its heap for
 * throughput: it grows the young generation of a busy process up to 16 MB a semi-space and
 * keeps it, and lets the old generation grow to a few times what is live before collecting it.
 * After an `add -` of 100,000 addresses that was ~30 MB of young space and ~20 MB of garbage
 * held until V8 noticed the process was idle. A 2 MB young generation and an old generation
 * grown by half of what is live (not up to 4x) keep that daemon ~35 MB smaller, and `add -` was
 * no slower (bench/memory.mjs, bench/known.mjs).
 */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=50']

/**
 * Start `peernet server` detached and wait until its socket answers. The child reports a
 * failure to start on its stderr (a pipe we read until then) and never writes there after.
 */
export async function startDaemon (paths: Paths, settingArgs: string[], sockfile?: string): Promise<{ pid: number, already: boolean, status: StatusRow }> {
  const running = await probe(paths.socket)
  if (running) return { pid: running.pid, already: true, status: running }
  // Here, not only in the child: a data dir that cannot be made fails at once, in one line.
  prepareDatadir(paths.datadir)
  const args = [...DAEMON_NODE_FLAGS, BIN, 'server', '--datadir', paths.datadir, ...(sockfile ? ['--sockfile', sockfile] : []), ...settingArgs]
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // glibc gives each thread that allocates (libuv's workers, where LevelDB writes) a malloc
    // arena of its own, which stays resident once a big `add -` has gone through it: two arenas
    // keep a daemon holding 100,000 addresses ~9 MB smaller (bench/memory.mjs), no slower. A
    // MALLOC_ARENA_MAX of the user's own wins.
    env: { MALLOC_ARENA_MAX: '2', ...process.env, PEERNET_DAEMON_CHILD: '1' }
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<number>(resolve => child.on('exit', code => resolve(code ?? 1)))
  const deadline = Date.now() + START_TIMEOUT
  try {
    for (;;) {
      const status = await Promise.race([probe(paths.socket), exited.then(() => 'exited' as const)])
      if (status === 'exited') {
        // Two starts at once: the loser exits, and the winner is the daemon we wanted.
        const winner = await probe(paths.socket)
        if (winner) return { pid: winner.pid, already: true, status: winner }
        const reason = stderr.trim().split('\n').filter(Boolean).pop()?.replace(/^peernet: /, '')
        throw new Error(`the daemon did not start: ${reason ?? `it exited (see ${paths.logfile})`}`)
      }
      if (status) return { pid: status.pid, already: false, status }
      if (Date.now() > deadline) throw new Error(`the daemon did not answer within ${START_TIMEOUT / 1000} s (see ${paths.logfile})`)
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  } finally {
    child.stderr?.destroy()
    child.unref()
  }
}

/**
 * What a user must hear when a daemon starts, one line each (for stderr): the warnings kept in
 * its db (a damaged log) and the services that did not reopen.
 */
export async function startWarnings (socket: string, status: StatusRow): Promise<string[]> {
  const lines = status.warnings.map(w => `warning: ${w.message} (clear it with \`peernet status --clear-warnings\`)`)
  if (status.failedServers > 0) {
    for (const s of await rows<ServerRow>(socket, 'servers')) {
      if (s.state === 'failed') lines.push(`warning: the service ${s.address} did not reopen: ${s.error ?? 'unknown reason'}; \`peernet unlisten ${s.address}\` forgets it`)
    }
  }
  return lines
}

/** Settings given as flags that the running daemon does not have: they apply only at a start. */
export function notApplied (flags: Record<string, unknown>, settings: Record<string, unknown>, names: string[]): string[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(Array.isArray(a) ? a : [a]) === JSON.stringify(Array.isArray(b) ? b : [b])
  return names.filter(n => flags[n] !== undefined && !same(flags[n], settings[n]))
}
