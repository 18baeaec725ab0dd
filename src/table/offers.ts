// The services this node offers (issue 14), kept across restarts: a store of their own over the
// `offer` sublevel of the node's database (keys `<name> <url>`: a service name has no space),
// synced before an offer or a withdrawal is acknowledged, as a join is.
import { type LevelLike, type SublevelLike, JSON_VALUES } from './db.js'
import { WriteQueue } from './write-queue.js'
import { offerProblem, type Offer } from '../wire/record.js'

export interface StoredOffer extends Offer {
  /** When it was offered (ms). */
  since: number
}

export function offerKey (o: { name: string, url: string }): string {
  return o.name + ' ' + o.url
}

export class OfferStore {
  private readonly sub: SublevelLike
  private readonly queue: WriteQueue

  constructor (db: LevelLike) {
    this.sub = db.sublevel('offer', JSON_VALUES)
    this.queue = new WriteQueue(db, 'offer store')
  }

  /** Every stored offer that is still a valid one (a damaged entry is skipped, and named by onBad). */
  async list (onBad: (key: string, why: string) => void = () => {}): Promise<StoredOffer[]> {
    const out: StoredOffer[] = []
    for await (const [key, value] of this.sub.iterator()) {
      const v = value as Partial<StoredOffer> | null
      const { since, ...offer } = v ?? {}
      const why = offerProblem(offer) ?? (typeof since === 'number' && key === offerKey(offer as Offer) ? null : 'damaged entry')
      if (why === null) out.push({ ...(offer as Offer), since: since as number })
      else onBad(String(key), why)
    }
    return out
  }

  /** Resolves once the offer is synced to disk. */
  async save (o: StoredOffer): Promise<void> {
    await this.queue.sync([{ type: 'put', sublevel: this.sub, key: offerKey(o), value: o }])
  }

  /** Resolves once the removals are synced to disk. */
  async remove (keys: string[]): Promise<void> {
    if (keys.length === 0) return
    await this.queue.sync(keys.map(key => ({ type: 'del', sublevel: this.sub, key })))
  }

  /** Wait for writes under way, then refuse more. */
  close (): Promise<void> { return this.queue.close() }
}
