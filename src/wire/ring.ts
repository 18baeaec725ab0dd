// The ring's messages and their validation, field by field, as for the peer protocol's own
// (messages.ts): a frame that does not validate is a protocol violation. Records inside a
// message are checked for shape here; whether they are true is the ring's call.
import { MAX_FRAME, WireError } from './frame.js'
import { MAX_ADDRESS_LENGTH, MAX_HELLO_ADDRS, MAX_HOP_LIMIT } from './messages.js'
import { recordShapeProblem, envelopeShapeProblem, MAX_FETCH, type RingRecord, type Envelope } from './record.js'
import { jsonBytes } from './json-size.js'

/** Operations a routed lookup asks of the node responsible for its target. */
export const LOOKUP_OPS = ['owner', 'fetch', 'store', 'deliver'] as const
export type LookupOp = (typeof LOOKUP_OPS)[number]

/** Highest TTL a lookup may carry: the peer protocol's hop limit bound. */
export const MAX_RING_TTL = MAX_HOP_LIMIT
/**
 * Most records in one message: a full point of a store (store.ts's MAX_RECORDS_PER_POINT). A
 * frame's size bounds it too: senders pack records up to RECORDS_ROOM bytes (packRecords).
 */
export const MAX_RECORDS_PER_MESSAGE = 128
/**
 * Bytes of records a message carries at most (their JSON): a frame less room for the rest of
 * the message (header, peers, an envelope's fields). At MAX_RECORD_BYTES each that is still a
 * dozen records; at a typical few hundred bytes, a whole point.
 */
export const RECORDS_ROOM = MAX_FRAME - 8 * 1024

/**
 * records split into batches that each fit a message: at most MAX_RECORDS_PER_MESSAGE records
 * and RECORDS_ROOM bytes of JSON (a record is at most MAX_RECORD_BYTES, so each batch holds one).
 */
export function packRecords<T> (records: T[]): T[][] {
  const out: T[][] = []
  let batch: T[] = []
  let bytes = 1 // the JSON array: "[", then each record and its "," or "]"
  for (const r of records) {
    const size = jsonBytes(r) + 1
    if (batch.length > 0 && (batch.length >= MAX_RECORDS_PER_MESSAGE || bytes + size > RECORDS_ROOM)) {
      out.push(batch)
      batch = []
      bytes = 1
    }
    batch.push(r)
    bytes += size
  }
  if (batch.length > 0) out.push(batch)
  return out
}
/** Most peers in a stabilise answer: a successor list (routing.ts's SUCCESSORS) with room. */
export const MAX_RING_PEERS = 32
// MAX_FETCH, the most records a fetch may ask for, lives with the records (record.ts), where
// the CLI's bound on `find --max` reads it without loading this file.
export { MAX_FETCH }
/** Longest error text in an answer. */
export const MAX_RING_ERROR = 200
/** Replicas a retried lookup may skip past a silent responsible node. */
export const MAX_SKIP = 16
/** Most successors a ring.store asks its receiver to pass copies on to: a successor list's length. */
export const MAX_STORE_RELAY = 16

export interface RingPeer { id: string, addrs: string[] }

export interface RingLookup {
  type: 'ring.lookup'
  qid: string
  /** The point the operation is about (records, owner). */
  target: string
  /** Where the lookup is routed: the target, or past a node skipped (see protocol.ts). */
  at: string
  /** Responsible nodes still to skip before answering (a retry past a silent one). */
  skip: number
  /** A node skipped: no hop goes through it. */
  avoid?: string
  /** The sender holds the receiver responsible (a last hop): an overshoot goes back, not on. */
  final?: true
  op: LookupOp
  /** Links travelled so far. */
  hops: number
  ttl: number
  /** The asker: id and addresses (nodes on the way may link to it as a finger). */
  origin: RingPeer
  max?: number
  records?: RingRecord[]
  envelope?: Envelope
}

export interface RingFound {
  type: 'ring.found'
  qid: string
  /** Links the lookup travelled to the node that answers. */
  hops: number
  owner: RingPeer
  /** The owner's predecessor, as it knows it (the asker's check of the owner's claim). */
  pred: string | null
  /** True when a replica answers (the responsible node was skipped). */
  replica?: boolean
  /** As received, each record's shape is unchecked until the asker checks it (answerRecords). */
  records?: RingRecord[]
  stored?: number
  envelope?: Envelope
  error?: string
}

/**
 * Answers to a stabilise are numbered by their sender (1 up to this, then 1 again), so an asker can
 * say which one it holds and a successor whose answer has not changed sends only its number.
 */
export const MAX_STAB_ANSWER = 0x7fffffff
/**
 * Stabilise: "I may be your predecessor; who is yours, and who follows you?" `have`: the number
 * of the last answer the asker holds from this peer (on this link).
 */
export interface RingStab { type: 'ring.stab', addrs: string[], have?: number }
/** The answer: the sender's predecessor and successor list; `n` numbers it (MAX_STAB_ANSWER). */
export interface RingStabOk { type: 'ring.stabok', pred: RingPeer | null, succs: RingPeer[], n?: number }
/**
 * "My answer is answer n again": to an asker that said it holds n, when nothing in it changed.
 * A settled ring's answers are nearly all repeats, each ~1.5 KB (16 peers and their addresses).
 */
export interface RingStabSame { type: 'ring.stabsame', n: number }
/**
 * Records copied to a replica, or handed over to a node now responsible for them. `relay`: how
 * many of the receiver's own nearest successors it passes the copies on to (replicas its sender
 * holds no link to), at most MAX_STORE_RELAY.
 */
export interface RingStore { type: 'ring.store', records: RingRecord[], relay?: number }

export type RingMessage = RingLookup | RingFound | RingStab | RingStabOk | RingStabSame | RingStore

const ID = /^[0-9a-f]{64}$/
const QID = /^[0-9a-f]{16,32}$/

function fail (why: string): never {
  throw new WireError(why)
}

/**
 * An object named what (the i-th of a list named what, from 0, when i ≥ 0): the name is spelled
 * out only in an error, as a stabilise answer's fifteen peers are checked every round.
 */
function obj (x: unknown, what: string, i = -1): Record<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) fail(`${label(what, i)} must be an object`)
  return x as Record<string, unknown>
}

function label (what: string, i: number, field = ''): string {
  return (i < 0 ? what : `${what}[${i}]`) + field
}

function id (o: Record<string, unknown>, key: string): string {
  const v = o[key]
  if (typeof v !== 'string' || !ID.test(v)) fail(`${String(o.type)}.${key} must be 64 hex digits`)
  return v
}

function int (o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${String(o.type)}.${key} must be an integer in ${min}..${max}`)
  return v
}

/** Addresses named what (or the field of the i-th of a list named what: see obj). */
function addrs (v: unknown, what: string, i = -1, field = ''): string[] {
  if (!Array.isArray(v) || v.length > MAX_HELLO_ADDRS) fail(`${label(what, i, field)} must be an array of at most ${MAX_HELLO_ADDRS} addresses`)
  for (const a of v) if (typeof a !== 'string' || a.length > MAX_ADDRESS_LENGTH) fail(`${label(what, i, field)} holds a bad address`)
  return v as string[]
}

function peer (v: unknown, what: string, i = -1): RingPeer {
  const o = obj(v, what, i)
  if (typeof o.id !== 'string' || !ID.test(o.id)) fail(`${label(what, i, '.id')} must be 64 hex digits`)
  return { id: o.id, addrs: addrs(o.addrs, what, i, '.addrs') }
}

function records (v: unknown, what: string): RingRecord[] {
  if (!Array.isArray(v) || v.length > MAX_RECORDS_PER_MESSAGE) fail(`${what} must be an array of at most ${MAX_RECORDS_PER_MESSAGE} records`)
  for (const r of v) {
    const why = recordShapeProblem(r)
    if (why !== null) fail(`${what}: ${why}`)
  }
  return v as RingRecord[]
}

/**
 * A ring.found's records, checked only as far as a node that passes the answer on needs: an
 * array of at most MAX_RECORDS_PER_MESSAGE objects (the frame bounds their bytes). The shape of
 * each is the asker's to check, with every other rule a record must meet (Records.search drops
 * what fails): an answer retraces its lookup's path, and a 100-member answer is ~35 KB of
 * records that every node on the way back would otherwise check again (a tenth of the ring
 * simulation's time). The check is the same at every hop, so an answer one node passed on is
 * never one the next refuses: a relay is not blamed for a responder's bad record.
 */
function answerRecords (v: unknown, what: string): RingRecord[] {
  if (!Array.isArray(v) || v.length > MAX_RECORDS_PER_MESSAGE) fail(`${what} must be an array of at most ${MAX_RECORDS_PER_MESSAGE} records`)
  for (const r of v) if (r === null || typeof r !== 'object' || Array.isArray(r)) fail(`${what}: record must be an object`)
  return v as RingRecord[]
}

function envelope (v: unknown, what: string): Envelope {
  const why = envelopeShapeProblem(v)
  if (why !== null) fail(`${what}: ${why}`)
  return v as Envelope
}

/** The message as a RingMessage, or a WireError saying what is wrong with it. */
/** Is this decoded frame one of the ring's messages (its type starts with "ring.")? */
export function isRingMessage (value: unknown): boolean {
  const type = (value as { type?: unknown } | null)?.type
  return typeof type === 'string' && type.startsWith('ring.')
}

export function validateRingMessage (value: unknown): RingMessage {
  const o = obj(value, 'message')
  switch (o.type) {
    case 'ring.lookup': {
      if (!(LOOKUP_OPS as readonly unknown[]).includes(o.op)) fail('ring.lookup.op is unknown')
      if (typeof o.qid !== 'string' || !QID.test(o.qid)) fail('ring.lookup.qid is malformed')
      const m: RingLookup = {
        type: 'ring.lookup',
        qid: o.qid,
        target: id(o, 'target'),
        at: id(o, 'at'),
        skip: int(o, 'skip', 0, MAX_SKIP),
        op: o.op as LookupOp,
        hops: int(o, 'hops', 0, MAX_RING_TTL),
        ttl: int(o, 'ttl', 1, MAX_RING_TTL),
        origin: peer(o.origin, 'ring.lookup.origin')
      }
      if (o.avoid !== undefined) m.avoid = id(o, 'avoid')
      if (o.final !== undefined) {
        if (o.final !== true) fail('ring.lookup.final must be true or absent')
        m.final = true
      }
      if (o.max !== undefined) m.max = int(o, 'max', 0, MAX_FETCH)
      if (o.records !== undefined) m.records = records(o.records, 'ring.lookup.records')
      if (o.envelope !== undefined) m.envelope = envelope(o.envelope, 'ring.lookup.envelope')
      return m
    }
    case 'ring.found': {
      if (typeof o.qid !== 'string' || !QID.test(o.qid)) fail('ring.found.qid is malformed')
      const m: RingFound = {
        type: 'ring.found',
        qid: o.qid,
        hops: int(o, 'hops', 0, MAX_RING_TTL),
        owner: peer(o.owner, 'ring.found.owner'),
        pred: o.pred === null ? null : id(o, 'pred')
      }
      if (o.replica !== undefined) {
        if (typeof o.replica !== 'boolean') fail('ring.found.replica must be a boolean')
        m.replica = o.replica
      }
      if (o.records !== undefined) m.records = answerRecords(o.records, 'ring.found.records')
      if (o.stored !== undefined) m.stored = int(o, 'stored', 0, MAX_RECORDS_PER_MESSAGE)
      if (o.envelope !== undefined) m.envelope = envelope(o.envelope, 'ring.found.envelope')
      if (o.error !== undefined) {
        if (typeof o.error !== 'string' || o.error.length > MAX_RING_ERROR) fail(`ring.found.error must be a string of at most ${MAX_RING_ERROR}`)
        m.error = o.error
      }
      return m
    }
    case 'ring.stab': {
      const m: RingStab = { type: 'ring.stab', addrs: addrs(o.addrs, 'ring.stab.addrs') }
      if (o.have !== undefined) m.have = int(o, 'have', 1, MAX_STAB_ANSWER)
      return m
    }
    case 'ring.stabok': {
      if (!Array.isArray(o.succs) || o.succs.length > MAX_RING_PEERS) fail(`ring.stabok.succs must be an array of at most ${MAX_RING_PEERS} peers`)
      const m: RingStabOk = {
        type: 'ring.stabok',
        pred: o.pred === null ? null : peer(o.pred, 'ring.stabok.pred'),
        succs: o.succs.map((p, i) => peer(p, 'ring.stabok.succs', i))
      }
      if (o.n !== undefined) m.n = int(o, 'n', 1, MAX_STAB_ANSWER)
      return m
    }
    case 'ring.stabsame':
      return { type: 'ring.stabsame', n: int(o, 'n', 1, MAX_STAB_ANSWER) }
    case 'ring.store': {
      const m: RingStore = { type: 'ring.store', records: records(o.records, 'ring.store.records') }
      if (o.relay !== undefined) m.relay = int(o, 'relay', 0, MAX_STORE_RELAY)
      return m
    }
    default:
      return fail(`unknown ring message type ${typeof o.type === 'string' ? JSON.stringify(o.type.slice(0, 32)) : typeof o.type}`)
  }
}
