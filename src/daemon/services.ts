// The daemon's services: listening sockets opened by `listen`, kept in the db and reopened
// at every start. One that cannot reopen (its port taken meanwhile) is not forgotten silently:
// it stays listed as failed, with the reason, until `unlisten` forgets it or `listen` reopens it.
// Besides the transports' services (ws, wss, tcp: peers dial them) a service may be a STUN
// binding server (src/stun): no peer address, never advertised as one, but offered as the
// service `stun` on the ring (a service record with its stun: URL) while it is open.
import { readFile } from 'node:fs/promises'
import { listen, SERVICE_PROTOCOLS, type ServiceProtocol, type TlsFiles } from '../transport/index.js'
import type { Peernet } from '../node/node.js'
import type { ServiceStore, ServiceRecord } from '../table/services.js'
import { notAPeer, bindHost } from '../transport/address.js'
import { StunServer } from '../stun/server.js'
import { formatStunUrl } from '../stun/url.js'
import type { ServerRow } from '../control/protocol.js'
import { reason } from '../control/errors.js'
import type { EventLog } from './log.js'
import { ControlError } from './control.js'

/** Most services (listening sockets) one daemon keeps open. */
export const MAX_SERVICES = 16

/** What `listen` opens: a transport's service, or a STUN binding server. */
export type ListenProtocol = ServiceProtocol | 'stun'
export const LISTEN_PROTOCOLS: readonly ListenProtocol[] = [...SERVICE_PROTOCOLS, 'stun']

/** SOFTWARE in the STUN server's answers (RFC 5389 §15.10: a client may log who answered). */
const STUN_SOFTWARE = 'peernet'

/** An open service: its name, where it is bound, and how to close it. */
interface Open {
  address: string
  host: string
  port: number
  close: () => Promise<void>
  /** A STUN server's counters, for servers --json. */
  stun?: StunServer
}

export class Services {
  private readonly open = new Map<string, { server: Open, record: ServiceRecord }>()
  private readonly failed = new Map<string, { record: ServiceRecord, error: string }>()

  constructor (private readonly node: Peernet, private readonly log: EventLog, private readonly store: ServiceStore) {}

  get size (): number { return this.open.size }
  get failedCount (): number { return this.failed.size }

  /** Open services, then failed ones, as `servers` lists them. */
  rows (): ServerRow[] {
    return [
      ...[...this.open.values()].map(({ record, server }) => server.stun === undefined ? row(record, 'open') : { ...row(record, 'open'), stun: server.stun.stats() }),
      ...[...this.failed.values()].map(({ record, error }) => ({ ...row(record, 'failed'), error }))
    ]
  }

  /** Reopen what the store says to keep; each failure is logged and kept as failed. */
  async reopen (): Promise<void> {
    for (const rec of await this.store.list()) {
      try {
        await this.start(rec)
      } catch (err) {
        const error = reason(err)
        this.failed.set(rec.address, { record: rec, error })
        this.log.add({ time: Date.now(), type: 'error', message: `cannot reopen ${rec.address}: ${error}` })
      }
    }
  }

  private async start (rec: Omit<ServiceRecord, 'address'>): Promise<ServerRow> {
    let server: Open
    if (rec.protocol === 'stun') {
      server = await this.startStun(rec.host, rec.port)
    } else {
      const tls = rec.protocol === 'wss' ? await readTls(rec) : undefined
      server = await listen(rec.protocol, { host: rec.host, port: rec.port, tls }, (stream, info) => this.node.accept(stream, { ...info, transport: rec.protocol }))
    }
    const record: ServiceRecord = { address: server.address, protocol: rec.protocol, host: rec.host, port: server.port, ...files(rec) }
    this.open.set(server.address, { server, record })
    if (advertised(rec.protocol, server.host)) this.node.advertise(server.address)
    if (rec.protocol === 'stun') this.offerStun()
    this.log.add({ time: Date.now(), type: 'listen', address: server.address })
    return row(record, 'open')
  }

  /** A STUN binding server on host:port; its socket errors are logged, never fatal. */
  private async startStun (host: string, port: number): Promise<Open> {
    let address = `stun:${host}:${port}`
    const stun = new StunServer({
      software: STUN_SOFTWARE,
      onError: err => this.log.add({ time: Date.now(), type: 'error', message: `${address}: ${reason(err)}` })
    })
    const bound = await stun.listen(bindHost(host), port)
    address = formatStunUrl(bound.address, bound.port)
    return { address, host: bound.address, port: bound.port, close: async () => await stun.close(), stun }
  }

  /**
   * Open a service and keep it in the store. The same protocol, host and port as an open one
   * answers with that one; as a failed one, tries it again. Throws a sentence (ELISTEN, ELIMIT).
   */
  async listen (protocol: ListenProtocol, host: string, port: number, paths: { cert?: string, key?: string } = {}): Promise<ServerRow> {
    const same = (r: ServiceRecord): boolean => r.protocol === protocol && r.host === host && port !== 0 && r.port === port
    for (const { record } of this.open.values()) if (same(record)) return row(record, 'open')
    if (this.open.size >= MAX_SERVICES) throw new ControlError('ELIMIT', `too many services (MAX_SERVICES is ${MAX_SERVICES}); close one with unlisten`)
    let r: ServerRow
    try {
      r = await this.start({ protocol, host, port, ...paths })
    } catch (err) {
      throw new ControlError('ELISTEN', `cannot listen on ${protocol} ${host}:${port}: ${reason(err)}`)
    }
    for (const [address, f] of this.failed) if (same(f.record)) this.failed.delete(address)
    await this.store.save({ address: r.address, protocol: r.protocol, host: r.host, port: r.port, ...files(r) })
    return r
  }

  /** Close a service (or forget a failed one) for good; false when there is none at address. */
  async unlisten (address: string): Promise<boolean> {
    const s = this.open.get(address)
    if (s) {
      this.open.delete(address)
      await s.server.close()
      if (advertised(s.record.protocol, s.server.host)) this.node.unadvertise(address)
      if (s.record.protocol === 'stun') this.offerStun()
    } else if (!this.failed.delete(address)) {
      return false
    }
    await this.store.remove(address)
    this.log.add({ time: Date.now(), type: 'unlisten', address })
    return true
  }

  /**
   * The open STUN servers, offered as the service `stun` (their set replaces the last). One
   * bound to every interface (0.0.0.0, ::) names no address another node could reach: not offered.
   */
  private offerStun (): void {
    const urls = [...this.open.values()].filter(({ record, server }) => record.protocol === 'stun' && notAPeer(server.host) === null).map(({ server }) => server.address)
    this.node.setListenerOffers(urls.map(url => ({ name: 'stun', url })))
  }

  /** Close every open service, then the store (what it keeps stays for the next start). */
  async close (): Promise<void> {
    for (const { server } of this.open.values()) await server.close().catch(() => {})
    await this.store.close().catch(() => {})
  }
}

/** Peers are told a service's address when they can dial it: not 0.0.0.0 (only --advertise can say where), not STUN. */
function advertised (protocol: ListenProtocol, host: string): boolean {
  return protocol !== 'stun' && notAPeer(host) === null
}

function row (r: ServiceRecord, state: 'open' | 'failed'): ServerRow {
  return { address: r.address, protocol: r.protocol, host: r.host, port: r.port, state, ...files(r) }
}

/** The certificate and key paths of a wss service; nothing for the others. */
function files (r: { protocol: ListenProtocol, cert?: string, key?: string }): { cert?: string, key?: string } {
  return r.protocol === 'wss' ? { cert: r.cert, key: r.key } : {}
}

/**
 * Read a wss service's PEM files, at every start (so a renewed certificate is taken up by a
 * restart). Each failure names the file and says why in words, as a sentence.
 */
async function readTls (rec: { cert?: string, key?: string }): Promise<TlsFiles> {
  const read = async (what: string, path: string | undefined): Promise<Buffer> => {
    if (path === undefined) throw new Error(`wss needs a ${what} file`)
    try {
      return await readFile(path)
    } catch (err) {
      throw new Error(`cannot read the ${what} ${path}: ${reason(err)}`)
    }
  }
  return { cert: await read('certificate', rec.cert), key: await read('key', rec.key) }
}
