// Starting a daemon in the background (for `peernet daemon` and auto-start). Loaded only then.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { rows, NotRunning } from './client.js'
import type { Paths } from '../control/paths.js'
import type { StatusRow } from '../control/protocol.js'

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
 * Start `peernet server` detached and wait until its socket answers. The child reports a
 * failure to start on its stderr (a pipe we read until then) and never writes there after.
 */
export async function startDaemon (paths: Paths, settingArgs: string[], sockfile?: string): Promise<{ pid: number, already: boolean }> {
  const running = await probe(paths.socket)
  if (running) return { pid: running.pid, already: true }
  mkdirSync(paths.datadir, { recursive: true, mode: 0o700 })
  const args = [BIN, 'server', '--datadir', paths.datadir, ...(sockfile ? ['--sockfile', sockfile] : []), ...settingArgs]
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PEERNET_DAEMON_CHILD: '1' }
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
        if (winner) return { pid: winner.pid, already: true }
        const reason = stderr.trim().split('\n').filter(Boolean).pop()?.replace(/^peernet: /, '')
        throw new Error(`the daemon did not start: ${reason ?? `it exited (see ${paths.logfile})`}`)
      }
      if (status) return { pid: status.pid, already: false }
      if (Date.now() > deadline) throw new Error(`the daemon did not answer within ${START_TIMEOUT / 1000} s (see ${paths.logfile})`)
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  } finally {
    child.stderr?.destroy()
    child.unref()
  }
}
