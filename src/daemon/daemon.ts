// The daemon: a thin owner of one node. It opens the LevelDB under the data dir, runs the node,
// reopens the services it was told to keep, answers the control socket, and keeps the log.
import { writeFileSync, readFileSync, unlinkSync } from 'node:fs'
import type { Level } from 'level'
import { Peernet, MAX_INBOUND, MAX_PENDING_DIALS, MAX_SEARCHES, MAX_SEEN, SEEN_TTL, MAX_HANDSHAKING, RELAY_RATE, MAX_SEARCH_TIMEOUT } from '../node/node.js'
import { PEER_RATE, PEER_BURST, QUERY_RATE, MAX_STRIKES } from '../node/connection.js'
import { transport } from '../transport/index.js'
import { normalizeAddress, parseAddress } from '../transport/address.js'
import { serveControl, ControlError, type ControlServer, type Reply$ } from './control.js'
import { EventLog, LOG_BUFFER, serveLog } from './log.js'
import { Services, MAX_SERVICES } from './services.js'
import { loadSettings, openDatabase } from './open.js'
import type { Paths } from '../control/paths.js'
import { MAX_CLIENTS, MAX_ITEMS_PER_REQUEST, MAX_LINE, type StatusRow, type StatsRow } from '../control/protocol.js'
import { humanize } from '../control/errors.js'
import { DEFAULT_SEARCH_TIMEOUT } from '../node/defaults.js'
import { checkSubnet, MAX_HOP_LIMIT } from '../wire/messages.js'
import { MAX_SAVED, sourceCap } from '../table/rules.js'
import { ServiceStore } from '../table/services.js'
import { Warnings } from '../table/warnings.js'

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

function str (params: Record<string, unknown>, key: string): string {
  const v = params[key]
  if (typeof v !== 'string') throw new ControlError('EINVAL', `params.${key} must be a string`)
  return v
}

function list (params: Record<string, unknown>, key: string): string[] {
  const v = params[key]
  if (!Array.isArray(v) || v.length === 0 || !v.every(x => typeof x === 'string')) throw new ControlError('EINVAL', `params.${key} must be a non-empty list of strings`)
  if (v.length > MAX_ITEMS_PER_REQUEST) throw new ControlError('EINVAL', `params.${key} holds more than ${MAX_ITEMS_PER_REQUEST} items (MAX_ITEMS_PER_REQUEST)`)
  return v as string[]
}

function optInt (params: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = params[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ControlError('EINVAL', `params.${key} must be a whole number in ${min}..${max}`)
  return v
}

/** Turn a plain Error from the library (a bad address, a bad subnet name) into a client error. */
function invalid<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new ControlError('EINVAL', (err as Error).message)
  }
}

export class Daemon {
  readonly startedAt = Date.now()
  private readonly services: Services
  private control: ControlServer | null = null
  private closing: Promise<void> | null = null
  /** Resolves when a shutdown begins: a log follower's answer ends there, normally. */
  private readonly stopping: Promise<void>
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
    this.stopping = new Promise(resolve => { this.resolveStopping = resolve })
    this.closed = new Promise(resolve => { this.resolveClosed = resolve })
  }

  static async start (opts: DaemonOptions): Promise<Daemon> {
    const { paths } = opts
    const settings = loadSettings(paths, opts.settings)
    const { db, loss } = await openDatabase(paths)
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
      transport,
      network: settings.network as string | undefined,
      connections: settings.connections as number | undefined,
      interval: settings.interval as number | undefined,
      purge: settings.purge as number | undefined,
      tableSize: settings['table-size'] as number | undefined,
      hops: settings.hops as number | undefined,
      addresses: (settings.advertise as string[] | undefined)?.map(a => invalid(() => normalizeAddress(a)))
    })
    const d = new Daemon(opts, settings, db, node, log, warnings)
    node.on('event', e => log.add(e.type === 'peer' ? { ...e, type: 'connect' } : e))
    node.on('error', err => log.add({ time: Date.now(), type: 'error', message: err.message }))
    try {
      await node.ready
      const boot = settings.bootstrap as string[] | undefined
      if (boot && boot.length > 0) await node.save(boot)
      await d.services.reopen()
      d.control = await serveControl(paths.socket, (m, p, r) => d.handle(m, p, r), err => d.logError(err.message), opts.sockfile === undefined)
      writeFileSync(paths.pidfile, String(process.pid) + '\n', { mode: 0o600 })
      log.add({ time: Date.now(), type: 'started', pid: process.pid, id: node.id, socket: paths.socket })
    } catch (err) {
      await d.shutdown()
      throw err
    }
    return d
  }

  logError (message: string): void {
    this.log.add({ time: Date.now(), type: 'error', message })
  }

  /**
   * Resolves true once the node has a connection: at once when it has one, after the dials and
   * handshakes under way when it has none yet (a daemon just started is still dialing from its
   * table), false when none is coming or `ms` runs out.
   */
  private firstPeer (ms: number, signal: AbortSignal): Promise<boolean> {
    const st = (): { connections: number, busy: boolean } => {
      const s = this.node.status()
      return { connections: s.connections, busy: s.dialing + s.handshaking > 0 }
    }
    const now = st()
    if (now.connections > 0 || !now.busy) return Promise.resolve(now.connections > 0)
    return new Promise(resolve => {
      const done = (v: boolean): void => {
        clearTimeout(timer)
        this.node.off('event', check)
        signal.removeEventListener('abort', abort)
        resolve(v)
      }
      const abort = (): void => done(false)
      // A dial's end is an event; its bookkeeping settles just after: look on the next turn.
      const check = (): void => {
        setImmediate(() => {
          const s = st()
          if (s.connections > 0 || !s.busy) done(s.connections > 0)
        })
      }
      const timer = setTimeout(() => done(false), ms)
      this.node.on('event', check)
      signal.addEventListener('abort', abort)
    })
  }

  // --- the control methods ----------------------------------------------------------------

  private status (): StatusRow {
    const s = this.node.status()
    return {
      id: s.id,
      pid: process.pid,
      version: this.opts.version,
      uptime: Date.now() - this.startedAt,
      datadir: this.opts.paths.datadir,
      socket: this.opts.paths.socket,
      network: s.network,
      known: s.known,
      saved: s.saved,
      learned: s.learned,
      tombstones: s.tombstones,
      connections: s.connections,
      subnets: s.subnets,
      servers: this.services.size,
      failedServers: this.services.failedCount,
      warnings: this.warnings.list(),
      searches: s.searches,
      addresses: s.addresses,
      settings: this.settingsInForce(),
      // Each cap next to what is in use now, so `status` shows how close the daemon is.
      limits: {
        tableSize: this.node.table.capacity,
        sourceCap: sourceCap(this.node.table.capacity, this.node.table.share),
        maxSaved: MAX_SAVED,
        outbound: s.outbound,
        maxOutbound: this.node.options.connections,
        inbound: s.inbound,
        maxInbound: MAX_INBOUND,
        handshaking: s.handshaking,
        maxHandshaking: MAX_HANDSHAKING,
        pendingDials: s.dialing,
        maxPendingDials: MAX_PENDING_DIALS,
        searches: s.searches,
        maxSearches: MAX_SEARCHES,
        seen: s.seen,
        maxSeen: MAX_SEEN,
        seenTtl: SEEN_TTL,
        peerRate: PEER_RATE,
        peerBurst: PEER_BURST,
        queryRate: QUERY_RATE,
        relayRate: RELAY_RATE,
        maxStrikes: MAX_STRIKES,
        services: this.services.size,
        maxServices: MAX_SERVICES,
        maxControlClients: MAX_CLIENTS,
        controlClients: this.control?.clients() ?? 0,
        maxLineBytes: MAX_LINE,
        logBuffer: LOG_BUFFER,
        logFollowers: this.log.followers
      }
    }
  }

  private settingsInForce (): Record<string, unknown> {
    const st = this.node.status()
    const o = this.node.options
    return {
      network: st.network,
      connections: o.connections,
      interval: o.interval,
      purge: o.purge,
      'table-size': this.node.table.capacity,
      hops: o.hops,
      bootstrap: (this.settings.bootstrap as string[] | undefined) ?? [],
      advertise: (this.settings.advertise as string[] | undefined) ?? []
    }
  }

  async handle (method: string, params: Record<string, unknown>, reply: Reply$): Promise<void> {
    const node = this.node
    switch (method) {
      case 'status':
        return reply.row(this.status())
      case 'close':
        await reply.row({ pid: process.pid })
        setImmediate(() => { void this.shutdown() })
        return
      case 'log':
        return serveLog(this.log, {
          lines: optInt(params, 'lines', 0, LOG_BUFFER),
          follow: params.follow !== false
        }, reply, this.stopping)
      case 'clear-warnings':
        return reply.row({ cleared: await this.warnings.clear() })
      case 'known':
        for await (const batch of node.knownBatches()) {
          // Cut short (the client left, the daemon stops): an error row, never a false end.
          reply.signal.throwIfAborted()
          // A batch at a time: its rows queue together, then we wait for the client to drain.
          await Promise.all(batch.map(row => reply.row(row)))
        }
        return
      case 'own':
        for (const address of node.addresses()) await reply.row({ address })
        return
      case 'connections':
        for (const p of node.peerList()) await reply.row(p)
        return
      case 'connect': {
        const address = invalid(() => normalizeAddress(str(params, 'address')))
        try {
          await node.connect(address)
        } catch (err) {
          throw new ControlError('ECONNECT', humanize((err as Error).message))
        }
        return reply.row({ address })
      }
      case 'disconnect': {
        const address = str(params, 'address')
        try {
          await node.disconnect(address)
        } catch (err) {
          throw new ControlError('ENOTCONN', (err as Error).message)
        }
        return reply.row({ address })
      }
      // Each says what changed: a user who re-adds, removes an unknown address or parts a
      // subnet never joined is told so, not "done".
      case 'add': {
        const addresses = list(params, 'addresses').map(a => invalid(() => normalizeAddress(a)))
        const added = (await node.save(addresses)).length
        return reply.row({ count: addresses.length, added, already: new Set(addresses).size - added })
      }
      case 'rm': {
        const addresses = list(params, 'addresses').map(a => invalid(() => normalizeAddress(a)))
        const removed = (await node.remove(addresses)).length
        return reply.row({ count: addresses.length, removed, unknown: new Set(addresses).size - removed })
      }
      case 'join':
      case 'part': {
        const subnets = list(params, 'subnets').map(s => invalid(() => checkSubnet(s)))
        const changed = await (method === 'join' ? node.join(subnets) : node.part(subnets))
        const done = new Set(changed)
        const rest = [...new Set(subnets)].filter(s => !done.has(s))
        return reply.row(method === 'join' ? { subnets, joined: changed, already: rest } : { subnets, parted: changed, notJoined: rest })
      }
      case 'subnets':
        for (const subnet of node.table.subnets()) await reply.row({ subnet })
        return
      case 'search': {
        const subnet = invalid(() => checkSubnet(str(params, 'subnet')))
        const opts = {
          max: optInt(params, 'max', 1, Number.MAX_SAFE_INTEGER),
          timeout: optInt(params, 'timeout', 0, MAX_SEARCH_TIMEOUT),
          hops: optInt(params, 'hops', 1, MAX_HOP_LIMIT),
          signal: reply.signal
        }
        // A query goes to the peers connected when it starts: with none, nobody could answer.
        if (!await this.firstPeer(opts.timeout ?? DEFAULT_SEARCH_TIMEOUT, reply.signal)) {
          reply.signal.throwIfAborted()
          throw new ControlError('ENOCONN', 'no answers: this node has no connections to search through; connect to a peer first (peernet connect ADDR)')
        }
        for await (const row of node.search(subnet, opts)) await reply.row(row)
        reply.signal.throwIfAborted()
        return
      }
      case 'listen': {
        const protocol = str(params, 'protocol')
        if (protocol !== 'ws' && protocol !== 'tcp') throw new ControlError('EINVAL', `cannot listen on "${protocol}": use ws or tcp`)
        const host = params.host === undefined ? '127.0.0.1' : str(params, 'host')
        return reply.row(await this.services.listen(protocol, host, optInt(params, 'port', 0, 65535) ?? 0))
      }
      case 'unlisten': {
        const address = invalid(() => parseAddress(str(params, 'address'), { local: true }).href)
        if (!await this.services.unlisten(address)) throw new ControlError('ENOENT', `no service at ${address} (see peernet servers)`)
        return reply.row({ address })
      }
      case 'servers':
        for (const row of this.services.rows()) await reply.row(row)
        return
      case 'stats': {
        const address = this.statsAddress(str(params, 'address'))
        const s = await node.getStats(address)
        const connected = node.peerList().some(p => p.address === address)
        if (s.first === null && !connected) throw new ControlError('ENOENT', `nothing is known about ${address}: it is not in the table (see peernet known)`)
        // Spelled out: the row's keys are the CLI's --json contract, not the table's record.
        const row: StatsRow = {
          address: s.address,
          saved: s.saved,
          connections: { ok: s.connections.ok, fail: s.connections.fail },
          nodes: { rx: s.nodes.rx, tx: s.nodes.tx },
          first: s.first,
          last: s.last,
          lastOk: s.lastOk,
          sources: s.sources,
          subnets: s.subnets
        }
        return reply.row(row)
      }
      default:
        throw new ControlError('EMETHOD', `unknown method ${method}`)
    }
  }

  /** `stats` takes an address, or the id of a connected peer (as `disconnect` does). */
  private statsAddress (given: string): string {
    if (given.includes('://')) return invalid(() => normalizeAddress(given))
    const peer = this.node.peerList().find(p => p.id === given)
    if (!peer) throw new ControlError('ENOENT', `no connected peer has the id ${given.slice(0, 80)} (see peernet connections --json)`)
    if (peer.address === null) throw new ControlError('ENOENT', `peer ${given} has no address to keep statistics under (it dialed us and told none)`)
    return peer.address
  }

  // --- shutdown ---------------------------------------------------------------------------

  shutdown (): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        this.log.add({ time: Date.now(), type: 'stopping', pid: process.pid })
        this.resolveStopping()
        await this.control?.close()
        await this.services.close()
        await this.node.close().catch(() => {})
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
