// The daemon: a thin owner of one node. It opens the LevelDB under the data dir, runs the node,
// reopens the services it was told to keep, answers the control socket, and keeps the log.
import { mkdirSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs'
import { Level } from 'level'
import { Peernet, MAX_INBOUND, MAX_PENDING_DIALS, MAX_SEARCHES, MAX_SEEN, MAX_SEEN_PER_PEER, SEEN_TTL, MAX_HANDSHAKING, RELAY_RATE, MAX_SEARCH_TIMEOUT, PING_INTERVAL, PING_TIMEOUT } from '../node/node.js'
import { PEER_RATE, PEER_BURST, QUERY_RATE, MAX_STRIKES } from '../node/connection.js'
import { transport, listen, type Server } from '../transport/index.js'
import { normalizeAddress, parseAddress, notAPeer } from '../transport/address.js'
import { serveControl, ControlError, type ControlServer, type Reply$ } from './control.js'
import { EventLog, LOG_BUFFER } from './log.js'
import type { Paths } from '../control/paths.js'
import { checkSettings } from '../control/settings.js'
import { MAX_CLIENTS, MAX_ITEMS_PER_REQUEST, MAX_LINE, type StatusRow, type ServerRow, type LogRow, type StatsRow } from '../control/protocol.js'
import { checkSubnet, MAX_HOP_LIMIT } from '../wire/messages.js'
import { MAX_SAVED, sourceCap } from '../table/rules.js'
import { ServiceStore, type ServiceRecord } from '../table/services.js'

/** Most services (listening sockets) one daemon keeps open. */
export const MAX_SERVICES = 16

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

/** Settings in force: config.json overlaid by flags. Throws a sentence naming a bad key. */
export function loadSettings (paths: Paths, flags: Record<string, unknown>): Record<string, unknown> {
  let fromFile: Record<string, unknown> = {}
  let raw: string | null = null
  try {
    raw = readFileSync(paths.config, 'utf8')
  } catch {}
  if (raw !== null) {
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch (err) {
      throw new Error(`${paths.config} is not valid JSON: ${(err as Error).message}`)
    }
    fromFile = checkSettings(parsed, paths.config)
  }
  return { ...fromFile, ...checkSettings(flags, 'flags') }
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
  private readonly services = new Map<string, { server: Server, record: ServiceRecord }>()
  /** The services to reopen after a restart, in the same database as the node's table. */
  private readonly serviceStore: ServiceStore
  private control: ControlServer | null = null
  private closing: Promise<void> | null = null
  /** Resolves when the daemon has shut down (by `close`, a signal, or a failure). */
  readonly closed: Promise<void>
  private resolveClosed!: () => void

  private constructor (
    readonly opts: DaemonOptions,
    readonly settings: Record<string, unknown>,
    readonly db: Level<string, unknown>,
    readonly node: Peernet,
    readonly log: EventLog
  ) {
    this.closed = new Promise(resolve => { this.resolveClosed = resolve })
    this.serviceStore = new ServiceStore(db)
  }

  static async start (opts: DaemonOptions): Promise<Daemon> {
    const { paths } = opts
    const settings = loadSettings(paths, opts.settings)
    mkdirSync(paths.datadir, { recursive: true, mode: 0o700 })
    const log = new EventLog(paths.logfile, opts.echo ?? null)
    const db = new Level<string, unknown>(paths.db)
    try {
      await db.open()
    } catch (err) {
      await log.close()
      throw explainOpenError(err as Error & { code?: string, cause?: Error & { code?: string } }, paths)
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
    const d = new Daemon(opts, settings, db, node, log)
    node.on('event', e => log.add(e.type === 'peer' ? { ...e, type: 'connect' } : e))
    node.on('error', err => log.add({ time: Date.now(), type: 'error', message: err.message }))
    try {
      await node.ready
      const boot = settings.bootstrap as string[] | undefined
      if (boot && boot.length > 0) await node.save(boot)
      for (const s of await d.serviceStore.list()) await d.open(s).catch(err => d.logError(`cannot reopen ${s.address}: ${(err as Error).message}`))
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

  // --- services ---------------------------------------------------------------------------

  private async open (rec: Omit<ServiceRecord, 'address'>): Promise<ServerRow> {
    const server = await listen(rec.protocol, { host: rec.host, port: rec.port }, (stream, info) => this.node.accept(stream, info))
    const record: ServiceRecord = { address: server.address, protocol: rec.protocol, host: rec.host, port: server.port }
    this.services.set(server.address, { server, record })
    if (notAPeer(server.host) === null) this.node.advertise(server.address) // 0.0.0.0: only --advertise can say where
    this.log.add({ time: Date.now(), type: 'listen', address: server.address })
    return { address: record.address, protocol: record.protocol, host: record.host, port: record.port }
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
        maxSeenPerPeer: MAX_SEEN_PER_PEER,
        seenTtl: SEEN_TTL,
        pingInterval: PING_INTERVAL,
        pingTimeout: PING_TIMEOUT,
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
      case 'log': {
        const n = optInt(params, 'lines', 0, LOG_BUFFER) ?? 10
        const follow = params.follow !== false
        let queue = Promise.resolve()
        let backlog = 0
        let failed = false
        let wake = (): void => {}
        const send = (row: LogRow): void => {
          if (failed) return
          if (++backlog > LOG_BUFFER) {
            failed = true // a follower this far behind is not reading: drop it
            wake()
            return
          }
          queue = queue.then(() => failed ? undefined : reply.row(row)).then(() => { backlog-- }, () => { failed = true; wake() })
        }
        // Subscribe before replaying, so nothing falls between the two.
        const stop = follow ? this.log.subscribe(send) : () => {}
        for (const row of this.log.last(n)) send(row)
        if (!follow) {
          await queue
          return
        }
        await new Promise<void>(resolve => {
          wake = resolve
          if (reply.signal.aborted) resolve()
          reply.signal.addEventListener('abort', () => resolve())
          void this.closed.then(resolve)
        })
        stop()
        if (failed && !reply.signal.aborted) throw new ControlError('ESLOW', `log reader fell more than ${LOG_BUFFER} events behind and was dropped`)
        return
      }
      case 'known':
        for await (const batch of node.knownBatches()) {
          if (reply.signal.aborted) return
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
          throw new ControlError('ECONNECT', (err as Error).message)
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
        for await (const row of node.search(subnet, opts)) await reply.row(row)
        return
      }
      case 'listen': {
        const protocol = str(params, 'protocol')
        if (protocol !== 'ws' && protocol !== 'tcp') throw new ControlError('EINVAL', `cannot listen on "${protocol}": use ws or tcp`)
        const host = params.host === undefined ? '127.0.0.1' : str(params, 'host')
        const port = optInt(params, 'port', 0, 65535) ?? 0
        for (const { record } of this.services.values()) {
          if (record.protocol === protocol && record.host === host && port !== 0 && record.port === port) return reply.row(record)
        }
        if (this.services.size >= MAX_SERVICES) throw new ControlError('ELIMIT', `too many services (MAX_SERVICES is ${MAX_SERVICES}); close one with unlisten`)
        let row: ServerRow
        try {
          row = await this.open({ protocol, host, port })
        } catch (err) {
          throw new ControlError('ELISTEN', `cannot listen on ${protocol} ${host}:${port}: ${(err as Error).message}`)
        }
        await this.serviceStore.save({ ...row })
        return reply.row(row)
      }
      case 'unlisten': {
        const address = invalid(() => parseAddress(str(params, 'address'), { local: true }).href)
        const s = this.services.get(address)
        if (!s) throw new ControlError('ENOENT', `no service at ${address} (see peernet servers)`)
        this.services.delete(address)
        await s.server.close()
        if (notAPeer(s.server.host) === null) node.unadvertise(address)
        await this.serviceStore.remove(address)
        this.log.add({ time: Date.now(), type: 'unlisten', address })
        return reply.row({ address })
      }
      case 'servers':
        for (const { record } of this.services.values()) await reply.row(record)
        return
      case 'stats': {
        const address = invalid(() => normalizeAddress(str(params, 'address')))
        const s = await node.getStats(address)
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

  // --- shutdown ---------------------------------------------------------------------------

  shutdown (): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        this.log.add({ time: Date.now(), type: 'stopping', pid: process.pid })
        await this.control?.close()
        for (const { server } of this.services.values()) await server.close().catch(() => {})
        await this.node.close().catch(() => {})
        await this.serviceStore.close().catch(() => {})
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

/** LevelDB's open errors, as sentences a user can act on. */
function explainOpenError (err: Error & { code?: string, cause?: Error & { code?: string } }, paths: Paths): Error {
  const code = err.cause?.code ?? err.code
  if (code === 'LEVEL_LOCKED') {
    let pid = ''
    try {
      pid = readFileSync(paths.pidfile, 'utf8').trim()
    } catch {}
    return new Error(`another peernet daemon${pid ? ` (pid ${pid})` : ''} is using ${paths.datadir}; stop it with \`peernet close\``)
  }
  // LevelDB's own text can quote file contents: keep it printable and short.
  const why = (err.cause?.message ?? err.message).replace(/[^\x20-\x7e]/g, '?').slice(0, 160)
  return new Error(`the database in ${paths.db} is corrupt or unreadable (${why}); move it aside (mv ${paths.db} ${paths.db}.bad) to start with an empty table`)
}
