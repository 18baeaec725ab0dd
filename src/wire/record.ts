// The shape of the ring's signed records and routed envelopes as they travel in frames: field
// types and sizes only. Whether a record is true (its signature, network, time and seq) is the
// ring's call (ring/record.ts, ring/envelope.ts); this file makes sure that call only ever sees
// bounded, well-typed values.
import { MAX_FRAME } from './frame.js'
import { MAX_ADDRESS_LENGTH, MAX_HELLO_ADDRS, MAX_NETWORK_LENGTH, subnetProblem } from './messages.js'

/** What a record says: a node's own reachability, a subnet membership, an offered service. */
export const RECORD_TYPES = ['presence', 'member', 'service'] as const
export type RecordType = (typeof RECORD_TYPES)[number]

/** Most addresses a record carries: as many as a hello (a node has no more to advertise). */
export const MAX_RECORD_ADDRS = MAX_HELLO_ADDRS
/** Longest service URL, in bytes (issue 14: any scheme, up to 512 bytes; data, never dialed). */
export const MAX_RECORD_URL = 512
/** Longest service version string, in characters (peer-up's versions are short: "*", "1.2"). */
export const MAX_RECORD_VERSION = 64
/** Most bytes of metadata (keys plus values, UTF-8) a record carries (issue 14: ≤ 1 KiB). */
export const MAX_RECORD_META = 1024
/**
 * Largest record, in bytes of its JSON: eight of them fit in a frame with room to spare for the
 * message around them, so a fetch answer is never forced over MAX_FRAME by a few big records.
 */
export const MAX_RECORD_BYTES = 4096
/** Most records a fetch may ask for (a search's max, and find's, are bounded the same way). */
export const MAX_FETCH = 1000
/** Service names (issue 14): lowercase letters, digits, dots and dashes, 1–64 characters. */
export const SERVICE_NAME = /^[a-z0-9][a-z0-9.-]{0,63}$/
/** Longest body of a routed envelope, in bytes of its JSON string form (as the frame carries it). */
export const MAX_ENVELOPE_BODY = 48 * 1024
/** Room left in a frame around an envelope body for its other fields and the routing header. */
export const ENVELOPE_ROOM = MAX_FRAME - MAX_ENVELOPE_BODY
/**
 * Longest an envelope may be valid ahead, ms: a routed request is answered in seconds, and a
 * short life keeps the set of nonces a receiver must remember small.
 */
export const MAX_ENVELOPE_TTL = 60_000
/**
 * How long a remote action's run, or a message's send, waits for its reply by default (its
 * envelope's life), ms: a few routed round trips and a slow handler.
 */
export const RUN_TIMEOUT = 10_000
/**
 * Longest message by id (ring/messages.ts), in bytes of its JSON text (UTF-8, as
 * JSON.stringify writes it). Its request must fit MAX_ENVELOPE_BODY, where that text is a JSON
 * string again, and every character of it may be escaped once more (a quote or a backslash
 * becomes two): twice MAX_MESSAGE and the request's wrapper fit, whatever the message holds
 * (ring-messages.test checks the worst case). 20 KiB: a chat line, a small document or a
 * signalling blob, with room to spare in a frame.
 */
export const MAX_MESSAGE = 20 * 1024

const ID = /^[0-9a-f]{64}$/
const SIG = /^[0-9a-f]{128}$/
/** A nonce: 128 random bits in hex, enough that two senders never pick the same by chance. */
export const NONCE = /^[0-9a-f]{32}$/

export interface RingRecord {
  type: RecordType
  network: string
  /** The publisher's id (its Ed25519 public key): the key the signature is checked with. */
  id: string
  /** The subnet or service name; for a presence record, the id itself. */
  name: string
  addresses: string[]
  /** Grows with every new version from the same id for the same name (ms clock, or a counter). */
  seq: number
  /** Unix time in ms after which the record is void. */
  expires: number
  /** A withdrawal: replaces any lower seq, and is itself kept until it expires. */
  tombstone?: true
  url?: string
  version?: string
  meta?: Record<string, string>
  sig: string
}

export interface Envelope {
  from: string
  to: string
  nonce: string
  expires: number
  /** JSON text of the payload: signed as the bytes it is, so no re-encoding can change it. */
  body: string
  sig: string
}

function isObject (x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x)
}

function isTime (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}

/** Why meta is no flat object of strings within MAX_RECORD_META, or null. */
export function metaProblem (meta: unknown): string | null {
  if (!isObject(meta) || Object.getPrototypeOf(meta) !== Object.prototype) return 'meta must be a flat object of strings'
  let bytes = 0
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string' || k.length === 0) return 'meta must be a flat object of strings with non-empty keys'
    bytes += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8')
    if (bytes > MAX_RECORD_META) return `meta is over ${MAX_RECORD_META} bytes`
  }
  return null
}

/** Why name is not a name for a record of this type published by id, or null. */
export function recordNameProblem (type: RecordType, name: unknown, id: string): string | null {
  if (type === 'presence') return name === id ? null : 'a presence record\'s name must be its id'
  if (type === 'service') return typeof name === 'string' && SERVICE_NAME.test(name) ? null : 'service name must match [a-z0-9][a-z0-9.-]{0,63}'
  return subnetProblem(name)
}

/** The fields a record may have (one set for every check: it runs for every record received). */
const RECORD_FIELDS: ReadonlySet<string> = new Set(['type', 'network', 'id', 'name', 'addresses', 'seq', 'expires', 'tombstone', 'url', 'version', 'meta', 'sig'])

/**
 * Why x is not a well-formed record (shape and bounds, no crypto), or null. Fields that do not
 * belong (a url on a membership, unknown keys) are refused too: what is signed is what is shown.
 */
export function recordShapeProblem (x: unknown): string | null {
  if (!isObject(x)) return 'record must be an object'
  const r = x
  if (!(RECORD_TYPES as readonly unknown[]).includes(r.type)) return `unknown record type ${typeof r.type === 'string' ? JSON.stringify(r.type.slice(0, 32)) : typeof r.type}`
  const type = r.type as RecordType
  if (typeof r.network !== 'string' || r.network.length === 0 || r.network.length > MAX_NETWORK_LENGTH) return 'record network must be a string of 1..' + MAX_NETWORK_LENGTH
  if (typeof r.id !== 'string' || !ID.test(r.id)) return 'record id must be 64 hex digits'
  const nameWhy = recordNameProblem(type, r.name, r.id)
  if (nameWhy !== null) return nameWhy
  if (!Array.isArray(r.addresses)) return 'record addresses must be an array'
  if (r.addresses.length > MAX_RECORD_ADDRS) return `record has more than ${MAX_RECORD_ADDRS} addresses`
  for (const a of r.addresses) {
    if (typeof a !== 'string' || a.length === 0 || a.length > MAX_ADDRESS_LENGTH) return `record address must be a string of 1..${MAX_ADDRESS_LENGTH}`
  }
  if (!isTime(r.seq)) return 'record seq must be a non-negative safe integer'
  if (!isTime(r.expires)) return 'record expires must be a non-negative safe integer (ms)'
  if (r.tombstone !== undefined && r.tombstone !== true) return 'record tombstone must be true or absent'
  if (r.url !== undefined || r.version !== undefined) {
    if (type !== 'service') return 'only a service record has a url or version'
    if (r.url !== undefined && (typeof r.url !== 'string' || r.url.length === 0 || Buffer.byteLength(r.url, 'utf8') > MAX_RECORD_URL)) return `record url must be a string of 1..${MAX_RECORD_URL} bytes`
    if (r.version !== undefined && (typeof r.version !== 'string' || r.version.length > MAX_RECORD_VERSION)) return `record version must be a string of at most ${MAX_RECORD_VERSION}`
  }
  if (r.meta !== undefined) {
    const why = metaProblem(r.meta)
    if (why !== null) return 'record ' + why
  }
  if (typeof r.sig !== 'string' || !SIG.test(r.sig)) return 'record sig must be 128 hex digits'
  for (const k of Object.keys(r)) if (!RECORD_FIELDS.has(k)) return `record has an unknown field ${JSON.stringify(k.slice(0, 32))}`
  // Encoded only when a bound from its fields cannot show it fits: a record is checked in every
  // answer that carries it, and encoding each one again was the check's main cost.
  if (recordBytesAtMost(r as unknown as RingRecord) <= MAX_RECORD_BYTES) return null
  const size = Buffer.byteLength(JSON.stringify(r), 'utf8')
  if (size > MAX_RECORD_BYTES) return `record is ${size} bytes, over MAX_RECORD_BYTES (${MAX_RECORD_BYTES})`
  return null
}

/**
 * At least the JSON of a record but for its strings' contents and quotes: with every field there,
 * each string empty and both numbers 0, that is 121 characters (keys, colons, commas, braces,
 * `[]`, `{}`, `true`); a safe integer has up to 15 digits more. Rounded up.
 */
export const RECORD_FRAME_BYTES = 160

/** A string's JSON in UTF-8 is at most six bytes a UTF-16 unit (`\u001f`, or a lone surrogate), and its quotes. */
function jsonStringAtMost (s: string): number {
  return 6 * s.length + 2
}

/**
 * An upper bound on the UTF-8 bytes of JSON.stringify(r), for a record whose fields passed
 * recordShapeProblem's checks (strings where strings belong, no other fields).
 */
export function recordBytesAtMost (r: RingRecord): number {
  let n = RECORD_FRAME_BYTES + jsonStringAtMost(r.type) + jsonStringAtMost(r.network) + jsonStringAtMost(r.id) + jsonStringAtMost(r.name) + jsonStringAtMost(r.sig)
  for (const a of r.addresses) n += jsonStringAtMost(a) + 1
  if (r.url !== undefined) n += jsonStringAtMost(r.url)
  if (r.version !== undefined) n += jsonStringAtMost(r.version)
  if (r.meta !== undefined) for (const k in r.meta) n += jsonStringAtMost(k) + jsonStringAtMost(r.meta[k]) + 2
  return n
}

/** Why x is not a well-formed envelope (shape and bounds, no crypto), or null. */
export function envelopeShapeProblem (x: unknown): string | null {
  if (!isObject(x)) return 'envelope must be an object'
  if (typeof x.from !== 'string' || !ID.test(x.from)) return 'envelope from must be 64 hex digits'
  if (typeof x.to !== 'string' || !ID.test(x.to)) return 'envelope to must be 64 hex digits'
  if (typeof x.nonce !== 'string' || !NONCE.test(x.nonce)) return 'envelope nonce must be 32 hex digits'
  if (!isTime(x.expires)) return 'envelope expires must be a non-negative safe integer (ms)'
  if (typeof x.body !== 'string') return 'envelope body must be a string (JSON text)'
  const size = Buffer.byteLength(JSON.stringify(x.body), 'utf8')
  if (size > MAX_ENVELOPE_BODY) return `envelope body is ${size} bytes, over MAX_ENVELOPE_BODY (${MAX_ENVELOPE_BODY})`
  if (typeof x.sig !== 'string' || !SIG.test(x.sig)) return 'envelope sig must be 128 hex digits'
  return null
}

/** A service this node offers: what its service records say (issue 14; peer-up's entries). */
export interface Offer {
  name: string
  url: string
  version?: string
  meta?: Record<string, string>
}

/** Most services one node offers at once (offers and services.json together): each is a record to keep published. */
export const MAX_OFFERS = 64

// A URL as an offer gives it: a scheme, then anything printable without white space (it is
// data, never dialed; spaces and control characters would only make it unreadable in a list).
const OFFER_URL = /^[a-z][a-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$/i

/** Why o is not an offer this node may publish, or null: the rules a record's receiver applies, and a URL with a scheme. */
export function offerProblem (o: unknown): string | null {
  if (!isObject(o)) return 'a service must be an object {name, url, version?, meta?}'
  if (typeof o.name !== 'string' || !SERVICE_NAME.test(o.name)) return `service name ${typeof o.name === 'string' ? JSON.stringify(o.name.slice(0, 80)) + ' ' : ''}must match [a-z0-9][a-z0-9.-]{0,63}`
  if (typeof o.url !== 'string' || o.url.length === 0) return 'service url must be a non-empty string'
  if (Buffer.byteLength(o.url, 'utf8') > MAX_RECORD_URL) return `service url is over ${MAX_RECORD_URL} bytes`
  if (!OFFER_URL.test(o.url)) return `service url ${JSON.stringify(o.url.slice(0, 80))} must be SCHEME:REST with no white space or control characters`
  if (o.version !== undefined && (typeof o.version !== 'string' || o.version.length === 0 || o.version.length > MAX_RECORD_VERSION || /[\s\x00-\x1f\x7f]/.test(o.version))) return `service version must be 1..${MAX_RECORD_VERSION} printable characters without spaces`
  if (o.meta !== undefined) {
    const why = metaProblem(o.meta)
    if (why !== null) return 'service ' + why
  }
  for (const k of Object.keys(o)) if (k !== 'name' && k !== 'url' && k !== 'version' && k !== 'meta') return `a service has no field ${JSON.stringify(k.slice(0, 32))}`
  return null
}

/** o as an Offer with only its own fields, or a TypeError saying what is wrong. */
export function checkOffer (o: unknown): Offer {
  const why = offerProblem(o)
  if (why !== null) throw new TypeError(why)
  const v = o as Offer
  const out: Offer = { name: v.name, url: v.url }
  if (v.version !== undefined) out.version = v.version
  if (v.meta !== undefined) out.meta = { ...v.meta }
  return out
}
