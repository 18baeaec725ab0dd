// The services this node offers (issue 14), from three sources: `offer` (the user's, kept in the
// node's database), `file` (the daemon's services.json, set whole on each read) and `listen`
// (the daemon's own servers that are services, as `listen stun`: set whole as they open and
// close). Each service offered by any source is published once, as a signed service record at
// its name's point on the ring, re-published with the node's records, and withdrawn by a
// tombstone when no source offers it any longer. And `find`: a lookup of a service name's
// point, every record checked.
import { Readable } from 'node:stream'
import { checkOffer, MAX_OFFERS, type Offer } from '../wire/record.js'
import { OfferStore, offerKey, type StoredOffer } from '../table/offers.js'
import type { LevelLike } from '../table/db.js'
import type { RingLinks } from './ring.js'
import type { NodeContext } from './types.js'
import type { Timer } from './clock.js'
import { DEFAULT_SEARCH_TIMEOUT, MAX_SEARCH_TIMEOUT } from './defaults.js'
import { MAX_FETCH } from '../wire/ring.js'

export type OfferSource = 'offer' | 'file' | 'listen'
/** The sources set whole by their owner (the daemon), not kept by the node. */
export type SetSource = Exclude<OfferSource, 'offer'>
/** A service this node offers, as `offers` lists it. */
export interface OfferRow extends StoredOffer { source: OfferSource }

/**
 * Most offers one find asks for (a fetch's bound; one answer carries at most
 * MAX_RECORDS_PER_MESSAGE of them, a fair sample the responsible node picks).
 */
export const MAX_FIND = MAX_FETCH

export interface FindOptions {
  /** Stop after this many rows (at most MAX_FIND). */
  max?: number
  /** ms to wait, for the ring to be joined and for the answer (default 5000, at most MAX_SEARCH_TIMEOUT). */
  timeout?: number
  signal?: AbortSignal
}

/** An offer found on the ring: the service record's fields, the offering node's id and addresses, and the lookup's hops. */
export interface FindRow extends Offer {
  id: string
  addresses: string[]
  hops: number
}

const same = (a: Offer, b: Offer): boolean =>
  a.version === b.version && JSON.stringify(a.meta ?? null) === JSON.stringify(b.meta ?? null)

export class Offers {
  private store: OfferStore | null = null
  private readonly given = new Map<string, StoredOffer>()
  private readonly sets = new Map<SetSource, Map<string, StoredOffer>>([['file', new Map()], ['listen', new Map()]])
  /** What is published now, by key (what sync compares all() with): the user's offer over a set's for the same name and url. */
  private readonly published = new Map<string, Offer>()

  constructor (private readonly ctx: NodeContext, private readonly ring: () => RingLinks | null) {}

  /** Opens the store and publishes what it holds; a damaged entry is reported and skipped. */
  async load (db: LevelLike, onBad: (key: string, why: string) => void): Promise<void> {
    this.store = new OfferStore(db)
    for (const o of await this.store.list(onBad)) this.given.set(offerKey(o), o)
    this.sync()
  }

  /** Offer a service (kept across restarts); resolves true when it is new or changed, false when offered so already. */
  async offer (o: unknown): Promise<boolean> {
    const offer = checkOffer(o)
    const key = offerKey(offer)
    const held = this.given.get(key)
    if (held !== undefined && same(held, offer)) return false
    if (!this.room(key)) {
      throw new RangeError(`this node offers ${MAX_OFFERS} services already (MAX_OFFERS): withdraw one first`)
    }
    const stored: StoredOffer = { ...offer, since: held?.since ?? this.ctx.clock.now() }
    await (this.store as OfferStore).save(stored)
    this.given.set(key, stored)
    this.sync()
    return true
  }

  /**
   * Withdraw the offers of name (only the one at url, when given), from every source: an entry
   * of a set stays withdrawn until the set is set again (the file changed, a server opened or
   * closed). Resolves to the offers withdrawn.
   */
  async withdraw (name: string, url?: string): Promise<OfferRow[]> {
    const hit = (o: Offer): boolean => o.name === name && (url === undefined || o.url === url)
    const gone = this.list().filter(hit)
    const keys = gone.filter(o => o.source === 'offer').map(offerKey)
    await (this.store as OfferStore).remove(keys)
    for (const k of keys) this.given.delete(k)
    for (const o of gone) if (o.source !== 'offer') this.sets.get(o.source)?.delete(offerKey(o))
    this.sync()
    return gone
  }

  /**
   * A source's services, replacing its last set (each checked: see checkOffer); those past
   * MAX_OFFERS, counting every source, are left out and returned.
   */
  setOffers (source: SetSource, list: Offer[]): Offer[] {
    const now = this.ctx.clock.now()
    const set = this.sets.get(source) as Map<string, StoredOffer>
    const before = new Map(set)
    set.clear()
    const left: Offer[] = []
    for (const o of list) {
      const key = offerKey(o)
      if (set.has(key)) continue
      if (!this.room(key)) {
        left.push(o)
        continue
      }
      set.set(key, { ...checkOffer(o), since: before.get(key)?.since ?? now })
    }
    this.sync()
    return left
  }

  /** Whether an offer at key fits: held already by some source, or fewer than MAX_OFFERS in all. */
  private room (key: string): boolean {
    const all = this.all()
    return all.has(key) || all.size < MAX_OFFERS
  }

  /** Every offer by key, of every source: the user's own over a set's for the same name and url. */
  private all (): Map<string, StoredOffer> {
    return new Map([...this.sets.get('listen') as Map<string, StoredOffer>, ...this.sets.get('file') as Map<string, StoredOffer>, ...this.given])
  }

  /** Every offer of every source, by name and url (then source). */
  list (): OfferRow[] {
    const rows: OfferRow[] = [
      ...[...this.given.values()].map(o => ({ ...o, source: 'offer' as const })),
      ...[...this.sets].flatMap(([source, set]) => [...set.values()].map(o => ({ ...o, source })))
    ]
    return rows.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : a.url < b.url ? -1 : a.url > b.url ? 1 : a.source < b.source ? -1 : 1)
  }

  /** Publish what is offered and not yet published (or changed), withdraw what no longer is. */
  sync (): void {
    const ring = this.ring()
    const want: Map<string, Offer> = this.all()
    for (const [key, o] of this.published) {
      if (want.has(key)) continue
      this.published.delete(key)
      ring?.withdrawService(o)
    }
    for (const [key, o] of want) {
      const had = this.published.get(key)
      if (had !== undefined && same(had, o)) continue
      const { since: _, ...offer } = o as StoredOffer
      this.published.set(key, offer)
      ring?.publishService(offer)
    }
  }

  /** Publish every offer again (the ring started after they were loaded). */
  publishAll (): void {
    const ring = this.ring()
    if (ring === null) return
    for (const o of this.published.values()) ring.publishService(o)
  }

  close (): Promise<void> { return this.store?.close() ?? Promise.resolve() }

  /**
   * Offers of service name on the ring: once this node's lookups reach it (joined, or linked to
   * a peer that is: it waits, within the timeout), a lookup of the name's point; rows as the
   * answer's records pass every check.
   */
  find (name: string, opts: FindOptions = {}): Readable {
    const max = Math.min(opts.max ?? MAX_FIND, MAX_FIND)
    const timeout = Math.min(opts.timeout ?? DEFAULT_SEARCH_TIMEOUT, MAX_SEARCH_TIMEOUT)
    const clock = this.ctx.clock
    let timer: Timer | null = null
    let unwait: (() => void) | null = null
    let ended = false
    const out = new Readable({ objectMode: true, read () {} })
    const finish = (err?: Error): void => {
      if (ended) return
      ended = true
      if (timer !== null) clock.clearTimeout(timer)
      unwait?.()
      opts.signal?.removeEventListener('abort', abort)
      if (err !== undefined) out.destroy(err)
      else out.push(null)
    }
    const abort = (): void => finish()
    opts.signal?.addEventListener('abort', abort)
    if (opts.signal?.aborted === true) { finish(); return out }
    timer = clock.setTimeout(() => {
      const ring = this.ring()
      finish(ring !== null && !ring.reachesRing()
        ? new Error(`find: this node has not joined the ring (it is ${ring.status()}); nothing to ask yet`)
        : undefined)
    }, timeout)
    const ask = (ring: RingLinks): void => {
      ring.findServices(name, max).then(res => {
        for (const r of res.records) {
          if (ended) return
          const row: FindRow = { name: r.name, url: r.url as string, id: r.id, addresses: r.addresses, hops: res.hops }
          if (r.version !== undefined) row.version = r.version
          if (r.meta !== undefined) row.meta = r.meta
          out.push(row)
        }
        finish()
      }, (err: Error) => finish(new Error(`find: the ring lookup failed: ${err.message}`)))
    }
    this.ctx.ready.then(() => {
      if (ended) return
      const ring = this.ring()
      if (ring === null) finish(new Error('find: this node is not on the ring (opts.ring is false)'))
      // A node alone is responsible for every point: it answers from what it holds.
      else if (ring.reachesRing() || ring.status() === 'lonely') ask(ring)
      else unwait = ring.whenReachable(() => { if (!ended) ask(ring) })
    }, (err: Error) => finish(err))
    return out
  }
}
