// The services (listening sockets) the daemon reopens after a restart. They are the daemon's,
// not the address table's: a store of their own over the `service` sublevel of the same
// database (keys `!service!<url>`, values ServiceRecord, as before the split).
import { type LevelLike, type SublevelLike, JSON_VALUES } from './db.js'
import { WriteQueue } from './write-queue.js'

/**
 * A service to reopen. A wss service keeps the paths of its certificate and key (never the PEM:
 * a renewed certificate is read at the next start, and no secret is copied into the db). A stun
 * service is a STUN binding server (src/stun), named stun:HOST:PORT.
 */
export interface ServiceRecord { address: string, protocol: 'tcp' | 'ws' | 'wss' | 'stun', host: string, port: number, cert?: string, key?: string }

export class ServiceStore {
  private readonly sub: SublevelLike
  private readonly queue: WriteQueue

  constructor (db: LevelLike) {
    this.sub = db.sublevel('service', JSON_VALUES)
    this.queue = new WriteQueue(db, 'service store')
  }

  async list (): Promise<ServiceRecord[]> {
    const out: ServiceRecord[] = []
    for await (const [, value] of this.sub.iterator()) out.push(value as ServiceRecord)
    return out
  }

  /** Resolves once the record is synced to disk. */
  async save (s: ServiceRecord): Promise<void> {
    await this.queue.sync([{ type: 'put', sublevel: this.sub, key: s.address, value: s }])
  }

  /** Resolves once the removal is synced to disk. */
  async remove (address: string): Promise<void> {
    await this.queue.sync([{ type: 'del', sublevel: this.sub, key: address }])
  }

  /** Wait for writes under way, then refuse more. */
  close (): Promise<void> { return this.queue.close() }
}
