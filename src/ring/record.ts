// The one signed record of the ring (issues 13–15): who (id) says what (type, name) about where
// it can be reached (addresses), in which network, version seq, valid until expires. A record is
// signed by its id's key over the canonical encoding (crypto.ts), and lives at the point
// pointOf(type, network, name) on the ring, held by the nodes responsible for that point.
import { Canonical, hash256, sign, verify } from './crypto.js'
import { idOf, type KeyPair } from '../node/identity.js'
import { recordShapeProblem, type RecordType, type RingRecord } from '../wire/record.js'

export type { RecordType, RingRecord }
export { RECORD_TYPES, MAX_RECORD_ADDRS, MAX_RECORD_BYTES, MAX_RECORD_META, MAX_RECORD_URL, MAX_RECORD_VERSION, SERVICE_NAME } from '../wire/record.js'

/**
 * Longest a record may be valid ahead, ms. It bounds how long the record of a node that died
 * without withdrawing lingers, and so how long a tombstone must be kept to outlive every copy
 * of the record it withdraws (a tombstone's own expiry is bounded the same way).
 */
export const MAX_RECORD_TTL = 30 * 60_000
/**
 * The validity publishers give their records, ms: shorter than MAX_RECORD_TTL by a margin, so a
 * receiver whose clock is behind the publisher's by up to that margin still accepts them.
 */
export const RECORD_TTL = 25 * 60_000

/** Domain tags: a signature or hash made for one of these is never valid for another. */
const RECORD_TAG = 'peernet/record/1'
const POINT_TAG = 'peernet/point/1'
const VALUE_TAG = 'peernet/value/1'

/**
 * The point on the ring where records of (type, network, name) live: BLAKE2b-256 over the
 * length-prefixed fields, so ("member", "service:stun") and ("service", "stun") (or any other
 * split of the same characters) hash different inputs, and each network has its own points.
 */
export function pointOf (type: RecordType, network: string, name: string): string {
  // The key is unambiguous as the hash's input is: the network's length prefixes it, and the
  // type is one of a few words without a colon.
  const key = `${type}:${network.length}:${network}${name}`
  let point = points.get(key)
  if (point === undefined) {
    point = hash256(new Canonical(POINT_TAG).str(type).str(network).str(name).bytes())
    if (points.size >= POINT_CACHE) points.clear()
    points.set(key, point)
  }
  return point
}

/**
 * Points remembered (pointOf's memo). A node asks for the point of every record it takes, holds,
 * passes on or sweeps, mostly the same few (its own presence, its subnets', its arc's): a hash
 * each time was a twentieth of a settled simulation's time. Past the bound the memo starts over,
 * so a flood of distinct names costs a hash each, as before, and never memory.
 */
export const POINT_CACHE = 4096
const points = new Map<string, string>()

/** The point of a value (the p2p seed's getEndpointFor): hashed apart from every record's point. */
export function valuePoint (network: string, value: string): string {
  return hash256(new Canonical(VALUE_TAG).str(network).str(value).bytes())
}

export function recordPoint (r: RingRecord): string {
  return pointOf(r.type, r.network, r.name)
}

/** The bytes a record's signature covers: every field but sig, in a fixed order. */
export function recordBytes (r: Omit<RingRecord, 'sig'>): Buffer {
  const c = new Canonical(RECORD_TAG).str(r.type).str(r.network).str(r.id).str(r.name)
  c.uint(r.addresses.length)
  for (const a of r.addresses) c.str(a)
  c.uint(r.seq).uint(r.expires).uint(r.tombstone === true ? 1 : 0).opt(r.url).opt(r.version)
  const meta = r.meta === undefined ? undefined : Object.keys(r.meta).sort()
  c.uint(meta === undefined ? 0 : meta.length + 1) // 0: no meta; 1: meta {}; k+1: k entries
  for (const k of meta ?? []) c.str(k).str((r.meta as Record<string, string>)[k])
  return c.bytes()
}

export interface RecordFields {
  type: RecordType
  network: string
  /** The subnet or service name; omitted for presence (it is the id). */
  name?: string
  addresses?: string[]
  seq: number
  expires: number
  tombstone?: boolean
  url?: string
  version?: string
  meta?: Record<string, string>
}

/**
 * A record signed with keyPair, or a TypeError saying what is wrong with the fields (the same
 * rules a receiver applies, so a node never publishes what its peers would refuse).
 */
export function signRecord (keyPair: KeyPair, f: RecordFields): RingRecord {
  const id = idOf(keyPair.publicKey)
  const r: Omit<RingRecord, 'sig'> = {
    type: f.type,
    network: f.network,
    id,
    name: f.type === 'presence' ? id : (f.name ?? ''),
    addresses: f.addresses ?? [],
    seq: f.seq,
    expires: f.expires
  }
  if (f.tombstone === true) r.tombstone = true
  if (f.url !== undefined) r.url = f.url
  if (f.version !== undefined) r.version = f.version
  if (f.meta !== undefined) r.meta = { ...f.meta }
  // Checked before signing: the encoding assumes the field types the shape rule guarantees.
  const why = recordShapeProblem({ ...r, sig: '0'.repeat(128) })
  if (why !== null) throw new TypeError(why)
  return { ...r, sig: sign(recordBytes(r), keyPair.secretKey) }
}

/** A withdrawal of record: the same slot with seq + 1, no addresses, signed by the same key. */
export function tombstoneOf (keyPair: KeyPair, record: RingRecord, expires: number): RingRecord {
  const f: RecordFields = { type: record.type, network: record.network, name: record.name, seq: record.seq + 1, expires, tombstone: true }
  if (record.url !== undefined) f.url = record.url
  return signRecord(keyPair, f)
}

export interface VerifyContext {
  /** The network this node is in: a record of another is refused. */
  network: string
  now: number
  /** The seq of the record held for the same slot, if any: only a newer one is accepted. */
  held?: number | null
}

/**
 * Why record must be refused, or null when it may be stored or shown. Cheap checks first, the
 * signature last (it is the costly one, and a record that fails anything else needs no check).
 */
export function verifyRecord (record: unknown, ctx: VerifyContext): string | null {
  return recordProblem(record, ctx) ?? (verify(recordBytes(record as RingRecord), (record as RingRecord).sig, (record as RingRecord).id) ? null : 'record signature does not verify')
}

/**
 * Why record must be refused, by every rule but its signature (verifyRecord adds that); only
 * the simulation uses it alone (see PeernetOptions.insecureSimulationVerify).
 */
export function recordProblem (record: unknown, ctx: VerifyContext): string | null {
  const shape = recordShapeProblem(record)
  if (shape !== null) return shape
  const r = record as RingRecord
  if (r.network !== ctx.network) return `record is for network ${JSON.stringify(r.network)}, not ${JSON.stringify(ctx.network)}`
  if (r.expires <= ctx.now) return 'record has expired'
  if (r.expires > ctx.now + MAX_RECORD_TTL) return `record expires more than MAX_RECORD_TTL (${MAX_RECORD_TTL} ms) ahead`
  if (ctx.held !== undefined && ctx.held !== null && r.seq <= ctx.held) return `record seq ${r.seq} is not newer than the ${ctx.held} held`
  return null
}

/** Records of one slot (see slotOf) are versions of each other; seq orders them. */
export function slotOf (r: RingRecord): string {
  return r.url === undefined ? r.id : r.id + ' ' + r.url
}
