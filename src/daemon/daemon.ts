// The daemon: a thin owner of one node. It opens the LevelDB under the data dir, runs the node,
// reopens the services it was told to keep, answers the control socket, and keeps the log.
import { writeFileSync, readFileSync, unlinkSync } from 'node:fs'
import type { Level } from 'level'
import { Peernet } from '../node/node.js'
import { transport } from '../transport/index.js'
import { normalizeAddress } from '../transport/address.js'
import { serveControl, ControlError, type ControlServer, type Reply$ } from './control.js'
import { EventLog } from './log.js'
import { Inbox } from './inbox.js'
import { Services, MAX_SERVICES } from './services.js'
import { loadSettings, openDatabase } from './open.js'
import { invalid, type Params } from './params.js'
import { METHOD_TABLE, type DaemonContext } from './methods/index.js'
import type { Paths } from '../control/paths.js'
import { ServiceStore } from '../table/services.js'
import { Warnings } from '../table/warnings.js'
import { parseMeta } from '../control/settings.js'
import { metaProblem } from '../wire/record.js'
import { ServiceFile, type Reload } from './service-file.js'
import { SearchStats } from './search-stats.js'
import { HttpApi, HttpError, parseHttpListen, isLoopback } from './http.js'
import { startMetrics, type Metrics } from './metrics.js'
import { statusRow } from './methods/status.js'
import { readKeyFile, makeKeyFile } from './identity-file.js'
import { IdentityError, type KeyPair } from '../node/identity.js'
import { releaseWebRTC, webrtcUnavailable, parseIceServers, parseBindAddress, type WebRTCOptions } from '../transport/webrtc.js'

export { MAX_SERVICES, loadSettings }

export interface DaemonOptions {
  paths: Paths
  /** Settings from flags; config.json fills the rest. */
  settings: Record<string, unknown>
  version: string
  /** The socket path the user named with --sockfile, if any. */
  sockfile?: string
  /** Echo log lines here (the foreground server's stderr). */
  echo?: (line: string) => void
}

/** The daemon; its control methods (methods/) see it as their DaemonContext. */
export class Daemon implements DaemonContext {
  readonly startedAt = Date.now()
  readonly services: Services
  readonly serviceFile: ServiceFile
  readonly searchStats = new SearchStats()
  readonly inbox = new Inbox()
  private control: ControlServer | null = null
  private http: { api: HttpApi, metrics: Metrics } | null = null
  private closing: Promise<void> | null = null
  /** Resolves when a shutdown begins: a log follower's answer ends there, normally. */
  readonly stopping: Promise<void>
  private resolveStopping!: () => void
  /** Resolves when the daemon has shut down (by `close`, a signal, or a failure). */
  readonly closed: Promise<void>
  private resolveClosed!: () => void

  private constructor (
    readonly opts: DaemonOptions,
    readonly settings: Record<string, unknown>,
    readonly db: Level<string, unknown>,
    readonly node: Peernet,
    readonly log: EventLog,
    readonly warnings: Warnings
  ) {
    // The services to reopen after a restart live in the same database as the node's table.
    this.services = new Services(node, log, new ServiceStore(db))
    this.serviceFile = new ServiceFile(opts.paths.services, list => node.setServiceFile(list))
    this.stopping = new Promise(resolve => { this.resolveStopping = resolve })
    this.closed = new Promise(resolve => { this.resolveClosed = resolve })
  }

  static async start (opts: DaemonOptions): Promise<Daemon> {
    const { paths } = opts
    const settings = loadSettings(paths, opts.settings)
    const metadata = metadataOf(settings)
    const { db, loss } = await openDatabase(paths)
    let keyPair: KeyPair | null
    let madeKey = false
    try {
      keyPair = readKeyFile(paths.key)
      // Written before the database takes its id, so no crash in between leaves a db whose key is lost.
      if (keyPair === null) {
        keyPair = makeKeyFile(paths.key)
        madeKey = true
      }
    } catch (err) {
      await db.close().catch(() => {})
      throw err
    }
    const log = new EventLog(paths.logfile, opts.echo ?? null)
    let warnings: Warnings
    try {
      warnings = await Warnings.open(db)
      // Kept in the db before anything else runs: `status` shows it until the user clears it.
      if (loss !== null) {
        await warnings.add(loss)
        log.add({ time: Date.now(), type: 'warning', message: loss })
      }
    } catch (err) {
      await db.close().catch(() => {})
      await log.close()
      throw err
    }
    const node = new Peernet(db, {
      keyPair,
      transport,
      network: settings.network as string | undefined,
      connections: settings.connections as number | undefined,
      interval: settings.interval as number | undefined,
      purge: settings.purge as number | undefined,
      tableSize: settings['table-size'] as number | undefined,
      hops: settings.hops as number | undefined,
      addresses: (settings.advertise as string[] | undefined)?.map(a => invalid(() => normalizeAddress(a))),
      introductions: settings.introductions !== false,
      webrtc: settings.webrtc === false ? false : webrtcOptions(settings),
      relay: settings.relay === false
        ? false
        : { links: settings['relay-links'] as number | undefined, linksPerPeer: settings['relay-links-per-peer'] as number | undefined, rate: settings['relay-rate'] as number | undefined },
      ...metadata
    })
    const d = new Daemon(opts, settings, db, node, log, warnings)
    node.on('event', e => log.add(e.type === 'peer' ? { ...e, type: 'connect' } : e))
    // Held for `peernet messages`; a full inbox throws, and the node refuses the message with that.
    node.on('message', m => d.inbox.add(m))
    try {
      await node.ready
      // Only now: a start that fails says so once, as the error start() throws.
      node.on('error', err => log.add({ time: Date.now(), type: 'error', message: err.message }))
      const boot = settings.bootstrap as string[] | undefined
      if (boot && boot.length > 0) await node.save(boot)
      await d.services.reopen()
      // A services.json that is not right does not stop the start: the log and `status` say why.
      try {
        d.reloadServices()
      } catch (err) {
        await warnings.add((err as Error).message)
      }
      // Before the socket answers: a start is reported done once it does, and a bad --http must fail it.
      if (settings.http !== undefined) d.http = await startHttp(d, settings)
      d.control = await serveControl(paths.socket, (m, p, r) => d.handle(m, p, r), err => d.logError(err.message), opts.sockfile === undefined)
      // Asked for WebRTC by a setting: whether it can run here is said now, not at the first link.
      // (Not with --no-webrtc: the settings then do nothing by the user's choice.)
      if (settings.webrtc !== false && (settings.ice !== undefined || settings['webrtc-bind'] !== undefined)) {
        const why = webrtcUnavailable()
        if (why !== null) log.add({ time: Date.now(), type: 'warning', message: `${why}; the ice and webrtc-bind settings do nothing` })
      }
      writeFileSync(paths.pidfile, String(process.pid) + '\n', { mode: 0o600 })
      log.add({ time: Date.now(), type: 'started', pid: process.pid, id: node.id, socket: paths.socket })
    } catch (err) {
      // A start that failed never ran: no 'stopping' line beside the error it ends with.
      await d.shutdown(false)
      throw explainIdentity(err as Error, paths, madeKey)
    }
    return d
  }

  /**
   * Read services.json again (`peernet reload`, SIGHUP); logged as `reload`, or as an error
   * (then thrown: the node keeps the set it had).
   */
  reloadServices (): Reload {
    try {
      const r = this.serviceFile.reload()
      this.log.add({ time: Date.now(), type: 'reload', file: this.serviceFile.path, changed: r.changed, services: r.services })
      if (r.changed && r.left.length > 0) this.logError(`${this.serviceFile.path}: ${r.left.length} services left out: over MAX_OFFERS with this node's offers`)
      return r
    } catch (err) {
      this.logError((err as Error).message)
      throw err
    }
  }

  get paths (): Paths { return this.opts.paths }
  get version (): string { return this.opts.version }
  controlClients (): number { return this.control?.clients() ?? 0 }

  logError (message: string): void {
    this.log.add({ time: Date.now(), type: 'error', message })
  }

  /** Answer one request: the method's params are checked, then it runs (see methods/). */
  async handle (name: string, params: Params, reply: Reply$): Promise<void> {
    const method = METHOD_TABLE.get(name)
    if (method === undefined) throw new ControlError('EMETHOD', `unknown method ${name}`)
    await method.run(this, method.params(params), reply)
  }

  // --- shutdown ---------------------------------------------------------------------------

  shutdown (started = true): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (started) this.log.add({ time: Date.now(), type: 'stopping', pid: process.pid })
        this.resolveStopping()
        this.inbox.close()
        await this.control?.close()
        this.http?.metrics.close()
        await this.http?.api.close()
        await this.services.close()
        await this.node.close().catch(() => {})
        // node-datachannel's threads keep a process alive: stopped with the last link (if it ever loaded).
        await releaseWebRTC()
        await this.db.close().catch(() => {})
        try {
          if (readFileSync(this.opts.paths.pidfile, 'utf8').trim() === String(process.pid)) unlinkSync(this.opts.paths.pidfile)
        } catch {}
        await this.log.close()
        this.resolveClosed()
      })()
    }
    return this.closing
  }
}

/** The WebRTC options of the settings (checked already by checkSettings). */
function webrtcOptions (settings: Record<string, unknown>): WebRTCOptions {
  const ice = settings.ice as string[] | undefined
  const bind = settings['webrtc-bind'] as string | undefined
  return {
    ...(ice === undefined ? {} : { iceServers: parseIceServers(ice) }),
    ...(bind === undefined ? {} : { bind: parseBindAddress(bind) })
  }
}

/**
 * The HTTP API of --http, with the metrics it serves (prom-client loads here and only here).
 * A bad or refused address stops the start, as a bad setting does.
 */
async function startHttp (d: Daemon, settings: Record<string, unknown>): Promise<{ api: HttpApi, metrics: Metrics }> {
  const target = parseHttpListen(settings.http as string)
  const open = settings['http-public'] === true
  const metrics = await startMetrics(d.node, d.searchStats)
  const api = await HttpApi.start(target, {
    status: () => {
      // Nothing of this machine's file layout, nor warnings (they name files): see README.
      const { pid: _p, datadir: _d, socket: _s, warnings: _w, ...row } = statusRow(d)
      return row
    },
    metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
    peerUp: async (service, max) => {
      const out: Array<{ name: string, version: string, url: string }> = []
      try {
        for await (const r of d.node.find(service, { max })) out.push({ name: r.name, version: r.version ?? '*', url: r.url })
      } catch (err) {
        throw new HttpError(503, (err as Error).message)
      }
      return out
    }
  }, open).catch((err: Error) => {
    metrics.close()
    throw new Error(`--http ${settings.http as string}: ${err.message.replace(/^--http \S+: /, '')}`)
  })
  const where = `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${api.bound.port}`
  d.log.add({ time: Date.now(), type: 'http', address: where, public: open })
  if (open && !isLoopback(target.host)) d.log.add({ time: Date.now(), type: 'warning', message: `the HTTP API at ${where} is open to the network (--http-public): anyone who reaches it reads this node's status and metrics and can make it search` })
  return { api, metrics }
}

/**
 * The node's metadata: config.json's "metadata", with --meta K=V (or "meta") over it. Checked
 * before anything opens, so a bad one stops the start with one line naming it.
 */
function metadataOf (settings: Record<string, unknown>): { metadata?: Record<string, string> } {
  const meta = { ...(settings.metadata as Record<string, string> | undefined), ...parseMeta((settings.meta as string[] | undefined) ?? []) }
  const why = metaProblem(meta)
  if (why !== null) throw new Error(`metadata (--meta, or "metadata" in config.json): ${why}`)
  return Object.keys(meta).length > 0 ? { metadata: meta } : {}
}

/** A database that belongs to another key, as the daemon's user can act on it. */
function explainIdentity (err: Error, paths: Paths, madeKey: boolean): Error {
  if (!(err instanceof IdentityError) || err.storedId === undefined) return err
  if (madeKey) {
    // The key made a moment ago is no one's: take it back, so the next start says the same.
    try { unlinkSync(paths.key) } catch {}
    return new Error(`the key file ${paths.key} is missing, but the database in ${paths.db} belongs to node ${err.storedId}: restore that node's key file (a new key would be a new identity), or move the database aside to start afresh`)
  }
  return new Error(`the key file ${paths.key} is not the key of node ${err.storedId}, whose database is in ${paths.db}: restore that node's key file, or move the database aside to start afresh`)
}
