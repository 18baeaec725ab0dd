// The peer protocol's messages and their field-by-field validation. A frame that does not
// validate is a protocol violation: the connection that sent it is dropped.
import { WireError } from './frame.js'

/**
 * Protocol version spoken by this build. Peers with another version are refused at hello, with a
 * reason naming both. Version 2 added the link nonce in the hello and the ping/pong keepalive.
 * Version 3 runs every link encrypted (a Noise handshake first): the hello carries no id any
 * more, a peer is the key its link proved. Version 4 lets an `addrs` entry carry the id it
 * reaches (ID@ADDR, a hint). Version 5 carries relayed circuits (`relay.*`: wire/relay.ts),
 * which a version 4 node would take for a protocol violation.
 */
export const PROTOCOL_VERSION = 5
/** Most addresses in one `addrs` answer. */
export const MAX_ADDRS_PER_MESSAGE = 100
/** Most addresses a node advertises for itself in its hello. */
export const MAX_HELLO_ADDRS = 8
/** Longest subnet name, in bytes of UTF-8 (what a frame carries; "é" counts 2). */
export const MAX_SUBNET_LENGTH = 128
/** Longest network id, in characters. */
export const MAX_NETWORK_LENGTH = 64
/** Highest hop limit a query may carry. */
export const MAX_HOP_LIMIT = 64
/** Longest reason text in a `bye`. */
export const MAX_REASON_LENGTH = 200
/** Longest address a message may carry, in characters; parseAddress accepts no longer one either. */
export const MAX_ADDRESS_LENGTH = 256
/** Longest `addrs` entry: an address with the id it reaches (64 hex digits and "@") before it. */
export const MAX_PINNED_LENGTH = 65 + MAX_ADDRESS_LENGTH

export interface Hello {
  type: 'hello'
  version: number
  network: string
  /** Addresses the sender can be dialed at, as far as it knows. */
  addrs: string[]
  /** The address the dialer used to reach the receiver (only sent by the dialing side). */
  dialed?: string
  /**
   * The dialer opened this link for the ring (a successor, predecessor or finger it wants):
   * such links have their own budget and inbound cap, apart from the random gossip links.
   */
  ring?: boolean
  /**
   * The sender was on the ring when it greeted (its lookups reach the ring: RingCore.routable):
   * a node not yet joined asks the ring through such a link rather than on its own guesses.
   * The peer's word, unchecked: one that lies gets lookups it cannot answer, which fail over to
   * the flood as any failed lookup does.
   */
  joined?: boolean
  /**
   * A fresh random value per link and per end (16 hex digits; from version 2 on, always there):
   * with the other end's, it names the link the same way at both ends (see PeerSet.replaces).
   */
  nonce?: string
}
export interface GetAddrs { type: 'getaddrs' }
export interface Addrs { type: 'addrs', addrs: string[] }
export interface Query {
  type: 'query'
  qid: string
  subnet: string
  /** Links travelled so far: 1 when received from the asker. */
  hops: number
  limit: number
}
export interface Answer {
  type: 'answer'
  qid: string
  subnet: string
  /** Where the member can be dialed; "" when the member knows no address for itself. */
  address: string
  /** Links between the asker and the member. */
  hops: number
}
export interface Bye { type: 'bye', reason: string }
/** Keepalive: a ping asks for a pong (see node/keepalive.ts). */
export interface Ping { type: 'ping' }
export interface Pong { type: 'pong' }

export type Message = Hello | GetAddrs | Addrs | Query | Answer | Bye | Ping | Pong

const QUERY_ID = /^[0-9a-f]{16,32}$/
const LINK_NONCE = /^[0-9a-f]{16}$/
const NAME = /^[^\u0000-\u001f\u007f]+$/

function fail (why: string): never {
  throw new WireError(why)
}

function str (o: Record<string, unknown>, key: string, max: number, pattern?: RegExp): string {
  const v = o[key]
  if (typeof v !== 'string') fail(`${String(o.type)}.${key} must be a string`)
  if (v.length > max) fail(`${String(o.type)}.${key} is longer than ${max}`)
  if (pattern && !pattern.test(v)) fail(`${String(o.type)}.${key} is malformed`)
  return v
}

/** A subnet name in a query or answer: the same rule as a local user's (subnetProblem). */
function subnet (o: Record<string, unknown>): string {
  const why = subnetProblem(o.subnet)
  if (why !== null) fail(`${String(o.type)}.subnet: ${why}`)
  return o.subnet as string
}

function int (o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${String(o.type)}.${key} must be an integer in ${min}..${max}`)
  }
  return v
}

/**
 * Address lists are checked for shape only (strings of bounded length, bounded count); whether
 * each address may be stored or dialed is transport/address.ts's call, made by the receiver.
 */
function addrList (o: Record<string, unknown>, key: string, max: number, longest = MAX_ADDRESS_LENGTH): string[] {
  const v = o[key]
  if (!Array.isArray(v)) fail(`${String(o.type)}.${key} must be an array`)
  if (v.length > max) fail(`${String(o.type)}.${key} has more than ${max} entries`)
  for (const a of v) {
    if (typeof a !== 'string' || a.length > longest) fail(`${String(o.type)}.${key} holds a bad entry`)
  }
  return v as string[]
}

export function validateMessage (value: unknown): Message {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('message must be an object')
  const o = value as Record<string, unknown>
  switch (o.type) {
    case 'hello': {
      const m: Hello = {
        type: 'hello',
        version: int(o, 'version', 0, 0xffff),
        network: str(o, 'network', MAX_NETWORK_LENGTH, NAME),
        addrs: addrList(o, 'addrs', MAX_HELLO_ADDRS)
      }
      if (o.dialed !== undefined) m.dialed = str(o, 'dialed', MAX_ADDRESS_LENGTH)
      if (o.ring !== undefined) {
        if (typeof o.ring !== 'boolean') fail('hello.ring must be a boolean')
        m.ring = o.ring
      }
      if (o.joined !== undefined) {
        if (typeof o.joined !== 'boolean') fail('hello.joined must be a boolean')
        m.joined = o.joined
      }
      // A version 1 hello has none, and must still get as far as the version check.
      if (o.nonce !== undefined || m.version >= 2) m.nonce = str(o, 'nonce', 16, LINK_NONCE)
      return m
    }
    case 'getaddrs':
      return { type: 'getaddrs' }
    case 'addrs':
      return { type: 'addrs', addrs: addrList(o, 'addrs', MAX_ADDRS_PER_MESSAGE, MAX_PINNED_LENGTH) }
    case 'query':
      return {
        type: 'query',
        qid: str(o, 'qid', 32, QUERY_ID),
        subnet: subnet(o),
        hops: int(o, 'hops', 1, MAX_HOP_LIMIT),
        limit: int(o, 'limit', 1, MAX_HOP_LIMIT)
      }
    case 'answer':
      return {
        type: 'answer',
        qid: str(o, 'qid', 32, QUERY_ID),
        subnet: subnet(o),
        address: str(o, 'address', MAX_ADDRESS_LENGTH),
        hops: int(o, 'hops', 1, MAX_HOP_LIMIT)
      }
    case 'bye':
      return { type: 'bye', reason: str(o, 'reason', MAX_REASON_LENGTH) }
    case 'ping':
      return { type: 'ping' }
    case 'pong':
      return { type: 'pong' }
    default:
      return fail(`unknown message type ${typeof o.type === 'string' ? JSON.stringify(o.type.slice(0, 32)) : typeof o.type}`)
  }
}

/**
 * Characters a reader cannot see or that reorder what they see: controls, format characters
 * (zero-width, bidi overrides and isolates, soft hyphen, BOM), line and paragraph separators,
 * lone surrogates (no UTF-8 form), and the rest of Unicode's default-ignorable set.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u
const EDGE_SPACE = /^\s|\s$/u

/**
 * The subnet-name rule, the one place it lives: why name is not a subnet name, or null. Names
 * are compared byte for byte, so two names that look the same must be the same: no invisible
 * characters anywhere, no white space at either end (inside is fine: "my chat"), and at most
 * MAX_SUBNET_LENGTH bytes of UTF-8. Names are refused, never silently changed.
 */
export function subnetProblem (name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'subnet name must be a non-empty string'
  const m = INVISIBLE.exec(name)
  if (m) {
    const code = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')
    return `subnet name must not contain invisible or control characters (U+${code} at character ${[...name.slice(0, m.index)].length + 1})`
  }
  if (EDGE_SPACE.test(name)) return 'subnet name must not start or end with white space'
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes > MAX_SUBNET_LENGTH) return `subnet name is ${bytes} bytes long; at most ${MAX_SUBNET_LENGTH} bytes of UTF-8 are allowed`
  return null
}

/** Check a subnet name given by a local user; throws a plain Error with a sentence. */
export function checkSubnet (name: unknown): string {
  const why = subnetProblem(name)
  if (why !== null) throw new Error(why)
  return name as string
}
