// Where a daemon keeps its files, derived from the data dir alone, so the CLI and the daemon
// agree without talking. Loads nothing but node:path and node:os (no crypto: start-up matters).
import { join, resolve } from 'node:path'
import { homedir, tmpdir } from 'node:os'

/** A Unix socket path longer than this cannot be bound (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107

export interface Paths {
  datadir: string
  db: string
  /** Private directory (0700) holding the socket when it fits there. */
  run: string
  socket: string
  pidfile: string
  logfile: string
  config: string
  /** The node's secret key (daemon/identity-file.ts). */
  key: string
  /** Services offered from a file, in peer-up's format (daemon/service-file.ts). */
  services: string
}

/** The data dir: --datadir, else $PEERNET_PATH (set and not empty), else ~/.config/peernet. */
export function resolveDatadir (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  // An empty PEERNET_PATH= is unset, as the shell's own variables are: never the current dir.
  const fromEnv = env.PEERNET_PATH === '' ? undefined : env.PEERNET_PATH
  return resolve(flag ?? fromEnv ?? join(homedir(), '.config', 'peernet'))
}

/**
 * The socket lives in <datadir>/run/. When that path is too long for a Unix socket, it moves
 * to a short per-user runtime dir, named by a hash of the data dir so each data dir has its own.
 */
export function resolvePaths (datadir: string, sockfile?: string, env: NodeJS.ProcessEnv = process.env): Paths {
  const run = join(datadir, 'run')
  let socket = sockfile === undefined ? join(run, 'control.sock') : resolve(sockfile)
  if (sockfile === undefined && Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0
    const base = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'peernet') : join(tmpdir(), `peernet-${uid}`)
    socket = join(base, fnv1a64(datadir) + '.sock')
  }
  return {
    datadir,
    db: join(datadir, 'db'),
    run,
    socket,
    pidfile: join(datadir, 'peernet.pid'),
    logfile: join(datadir, 'daemon.log'),
    config: join(datadir, 'config.json'),
    key: join(datadir, 'key'),
    services: join(datadir, 'services.json')
  }
}

/** FNV-1a, 64 bits, as 16 hex digits: a stable short name for a data dir (not a secret). */
export function fnv1a64 (text: string): string {
  let h = 0xcbf29ce484222325n
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte)
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return h.toString(16).padStart(16, '0')
}
