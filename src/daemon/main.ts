// `peernet server`: run the daemon in this process until `close`, SIGINT or SIGTERM.
import { Daemon } from './daemon.js'
import { SETTINGS } from '../control/settings.js'
import { version } from '../control/version.js'
import type { Paths } from '../control/paths.js'

export async function runServer (paths: Paths, flags: Record<string, unknown>): Promise<void> {
  // Started by `peernet daemon`: stderr is a pipe the starter closes once we answer, so after
  // start-up nothing may depend on it.
  const child = process.env.PEERNET_DAEMON_CHILD === '1'
  if (child) process.stderr.on('error', () => {})
  const settings: Record<string, unknown> = {}
  for (const f of SETTINGS) if (flags[f.name] !== undefined) settings[f.name] = flags[f.name]
  const daemon = await Daemon.start({
    paths,
    settings,
    sockfile: flags.sockfile as string | undefined,
    version: version(),
    echo: child ? undefined : line => { process.stderr.write(line) }
  })
  const stop = (): void => { void daemon.shutdown() }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // As many daemons do: SIGHUP reads the configuration that can change under it (services.json).
  const reload = (): void => { try { daemon.reloadServices() } catch {} }
  process.on('SIGHUP', reload)
  // The daemon outlives anything one request or peer does: an error that escapes is logged
  // with its stack (in the log file, never on a client's terminal) and the daemon goes on.
  process.on('uncaughtException', err => daemon.logError(`uncaught: ${err.stack ?? err.message}`))
  process.on('unhandledRejection', err => daemon.logError(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`))
  await daemon.closed
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  process.off('SIGHUP', reload)
}
