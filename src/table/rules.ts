// The table's rules as small pure functions of a record and the time: when an address is dead,
// how long to wait before dialing it again, which of two addresses to evict first.

/** Default bound on addresses learned from gossip (user-saved ones do not count). */
export const DEFAULT_TABLE_SIZE = 10_000
/**
 * Slots a table's columns start with beyond its capacity (room for a few saved addresses, as a
 * node's bootstraps), up to MAX_START_SLOTS; a table past that grows its columns as it fills. A
 * column grows by a new typed array, tens of µs each on a large heap: a simulated node of 256
 * entries grew its eleven columns four times over, hundreds of thousands of arrays in a run.
 */
export const START_SLACK = 64
export const MAX_START_SLOTS = 4096

/** The slots a table of this capacity starts its columns with. */
export function startSlots (capacity: number): number {
  return Math.min(capacity + START_SLACK, MAX_START_SLOTS)
}

/** Most addresses a user may save (a guard against runaway imports, far above real use). */
export const MAX_SAVED = 1_000_000
/** Largest share of the gossip capacity one informant, or one source group, may fill. */
export const DEFAULT_INFORMANT_SHARE = 0.1
/** How many random candidates eviction looks at before it picks the worst. */
export const EVICTION_SAMPLE = 8
/**
 * Largest share of the addresses one peer gives at once (a gossip answer, a hello's, a search
 * answer's members) that may take the place of entries a table already holds (a full table, or a
 * source at its cap); its other new addresses are left out. A full table changes by at most
 * this much an answer, as addrman keeps what it has rather than evict for every address a peer
 * offers: without it each answer turned over as many entries as it named (in the simulation a
 * whole table every sixteen intervals, and learning a fifth of a settled node's time, half of
 * that evicting).
 */
export const DISPLACE_SHARE = 0.25
/** How long a removed address is refused from gossip. */
export const TOMBSTONE_TTL = 24 * 60 * 60 * 1000
/** Most tombstones kept; the oldest go first. */
export const MAX_TOMBSTONES = 10_000
/** Failures in a row after which an address that never connected is dead. */
export const MAX_RETRIES = 3
/** Failures in a row after which an address that once connected is dead... */
export const MAX_FAILURES = 10
/** ...when its last success is older than this. */
export const DEAD_WINDOW = 7 * 24 * 60 * 60 * 1000
/** A gossip-learned address nobody has mentioned or reached for this long is dead. */
export const MAX_AGE = 30 * 24 * 60 * 60 * 1000
/** An address tried this recently is never judged dead (it is being given its chance). */
export const GRACE = 60 * 1000
/** First wait before redialing an address that failed; doubles with each failure in a row. */
export const BACKOFF_BASE = 1000
/** Longest wait between dials of one address. */
export const MAX_BACKOFF = 10 * 60 * 1000
/** Newest learned addresses kept apart for gossip answers (half of each answer comes from them). */
export const MAX_RECENT = 64
/** Most subnets remembered per address (learned from search answers). */
export const MAX_SERVED_SUBNETS = 16
/** Longest address the table stores, in UTF-8 bytes (far above MAX_ADDRESS_LENGTH: a guard for library callers). */
export const MAX_KEY_BYTES = 0xffff

export interface AddressRecord {
  address: string
  /** Saved by the user: never evicted or purged, only removed. */
  user: boolean
  /** Who told us (informant id and source group); empty for user-saved addresses. */
  sources: string[]
  /** First and last time the address was heard of or reached (ms). */
  first: number
  last: number
  lastTry: number
  lastOk: number
  ok: number
  fail: number
  /** Failures since the last success. */
  streak: number
  /** Addresses received from / sent to the node at this address. */
  rx: number
  tx: number
  /** Subnets this address answered searches for. */
  subnets: string[]
  /** The id (public key, hex) the address is pinned to, and how it came to be (see Pin). */
  id?: string
  pin?: Pin
}

/**
 * How a record came by its id. `given`: the user said ID@ADDR (strict, not yet proven);
 * `seen`: a handshake at the address proved it (strict for the user's addresses: trust on
 * first use, as ssh's known_hosts); `hint`: a peer said so (ID@ADDR in gossip, or a peer's own
 * addresses in its hello) — dialing checks nothing against it, and a key that proves otherwise
 * simply replaces it.
 */
export type Pin = 'hint' | 'seen' | 'given'
export const PINS: readonly Pin[] = ['hint', 'seen', 'given']
const NODE_KEY = /^[0-9a-f]{64}$/

/** The id a dial of r's address must reach (a pin of the user's), or null. */
export function strictId (r: Pick<AddressRecord, 'user' | 'id' | 'pin'>): string | null {
  return r.user && r.id !== undefined && r.pin !== 'hint' ? r.id : null
}

/** The id r's known row shows (one the user gave or a handshake proved), or null. */
export function knownId (r: Pick<AddressRecord, 'id' | 'pin'>): string | null {
  return r.id !== undefined && r.pin !== 'hint' ? r.id : null
}

export function newRecord (address: string, now: number, user: boolean, sources: string[]): AddressRecord {
  return learnedRecord(address, now, user, user ? [] : [...new Set(sources)])
}

/**
 * newRecord with `sources` distinct already, taken as they are: learn() dedupes its sources once
 * for a whole gossip answer, not once an address.
 */
export function learnedRecord (address: string, now: number, user: boolean, sources: string[]): AddressRecord {
  return { address, user, sources, first: now, last: now, lastTry: 0, lastOk: 0, ok: 0, fail: 0, streak: 0, rx: 0, tx: 0, subnets: [] }
}

/** What the rules below read of a record: when it was heard of, tried and reached. */
export type Vitals = Pick<AddressRecord, 'last' | 'lastTry' | 'lastOk' | 'streak'>

function strings (x: unknown): boolean {
  if (!Array.isArray(x)) return false
  for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'string') return false
  return true
}

/**
 * The record stored under key, or undefined for a row of the wrong shape or key (skipped, never
 * loaded). peernet has only ever written rows of this one shape; any other key a row holds is
 * not part of the record.
 */
export function asRecord (key: string, value: unknown): AddressRecord | undefined {
  const r = value as AddressRecord | null
  if (r === null || typeof r !== 'object' || r.address !== key || typeof r.user !== 'boolean') return undefined
  // Written out, not a loop over the field names: `known` and every start read each row through here.
  const numbers = typeof r.first === 'number' && typeof r.last === 'number' && typeof r.lastTry === 'number' &&
    typeof r.lastOk === 'number' && typeof r.ok === 'number' && typeof r.fail === 'number' &&
    typeof r.streak === 'number' && typeof r.rx === 'number' && typeof r.tx === 'number'
  if (!numbers || !strings(r.sources) || !strings(r.subnets)) return undefined
  // A pin of the wrong shape is dropped, not the whole record: the address is still good.
  if ((r.id !== undefined || r.pin !== undefined) && !(typeof r.id === 'string' && NODE_KEY.test(r.id) && PINS.includes(r.pin as Pin))) {
    delete r.id
    delete r.pin
  }
  return r
}

/** What `peernet stats ADDR` shows of an address (all zeros and nulls for an unknown one). */
export interface Stats {
  address: string
  saved: boolean
  connections: { ok: number, fail: number }
  nodes: { rx: number, tx: number }
  first: number | null
  last: number | null
  lastOk: number | null
  sources: string[]
  subnets: string[]
  /** The id the address is pinned to, and how (see Pin); null for none. */
  id: string | null
  pin: Pin | null
}

/** The stats of address, whose record is r (if known); copies, so callers cannot change r. */
export function statsOf (address: string, r: AddressRecord | undefined): Stats {
  return {
    address,
    saved: r?.user ?? false,
    connections: { ok: r?.ok ?? 0, fail: r?.fail ?? 0 },
    nodes: { rx: r?.rx ?? 0, tx: r?.tx ?? 0 },
    first: r ? r.first : null,
    last: r ? r.last : null,
    lastOk: r && r.lastOk > 0 ? r.lastOk : null,
    sources: r ? r.sources.slice() : [],
    subnets: r ? r.subnets.slice() : [],
    id: r?.id ?? null,
    pin: r?.pin ?? null
  }
}

/** After Bitcoin Core's addrman IsTerrible: is this address not worth keeping? */
export function isDead (r: Vitals, now: number): boolean {
  if (r.lastTry > 0 && now - r.lastTry < GRACE) return false
  if (r.lastOk === 0 && r.streak >= MAX_RETRIES) return true
  if (r.lastOk > 0 && r.streak >= MAX_FAILURES && now - r.lastOk > DEAD_WINDOW) return true
  if (now - Math.max(r.last, r.lastOk) > MAX_AGE) return true
  return false
}

/** How long after its last try an address may be dialed again. */
export function backoff (streak: number): number {
  if (streak <= 0) return 0
  return Math.min(BACKOFF_BASE * 2 ** Math.min(streak - 1, 30), MAX_BACKOFF)
}

export function dialable (r: Vitals, now: number): boolean {
  return r.lastTry === 0 || now - r.lastTry >= backoff(r.streak)
}

/** Higher is a better eviction victim: dead first, then most failures, then longest unheard. */
export function badness (r: Vitals, now: number): number {
  return (isDead(r, now) ? 1e15 : 0) + Math.min(r.streak, 1000) * 1e12 + Math.max(0, now - Math.max(r.last, r.lastOk))
}

/** How many entries one answer of n addresses may displace (DISPLACE_SHARE, at least one). */
export function displaceCap (n: number): number {
  return Math.max(1, Math.ceil(n * DISPLACE_SHARE))
}

/** The largest number of table entries one source may account for. */
export function sourceCap (capacity: number, share: number): number {
  return Math.max(1, Math.floor(capacity * share))
}
