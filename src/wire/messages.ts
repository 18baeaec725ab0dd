// The peer protocol's messages and their field-by-field validation. A frame that does not
// validate is a protocol violation: the connection that sent it is dropped.
import { WireError } from './frame.js'

/** Protocol version spoken by this build. Peers with another major version are refused. */
export const PROTOCOL_VERSION = 1
/** Most addresses in one `addrs` answer. */
export const MAX_ADDRS_PER_MESSAGE = 100
/** Most addresses a node advertises for itself in its hello. */
export const MAX_HELLO_ADDRS = 8
/** Longest subnet name, in characters. */
export const MAX_SUBNET_LENGTH = 128
/** Longest network id, in characters. */
export const MAX_NETWORK_LENGTH = 64
/** Highest hop limit a query may carry. */
export const MAX_HOP_LIMIT = 64
/** Longest reason text in a `bye`. */
export const MAX_REASON_LENGTH = 200
/** Longest address a message may carry, in characters; parseAddress accepts no longer one either. */
export const MAX_ADDRESS_LENGTH = 256

export interface Hello {
  type: 'hello'
  version: number
  network: string
  id: string
  /** Addresses the sender can be dialed at, as far as it knows. */
  addrs: string[]
  /** The address the dialer used to reach the receiver (only sent by the dialing side). */
  dialed?: string
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

export type Message = Hello | GetAddrs | Addrs | Query | Answer | Bye

const NODE_ID = /^[0-9a-f]{32}$/
const QUERY_ID = /^[0-9a-f]{16,32}$/
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
function addrList (o: Record<string, unknown>, key: string, max: number): string[] {
  const v = o[key]
  if (!Array.isArray(v)) fail(`${String(o.type)}.${key} must be an array`)
  if (v.length > max) fail(`${String(o.type)}.${key} has more than ${max} entries`)
  for (const a of v) {
    if (typeof a !== 'string' || a.length > MAX_ADDRESS_LENGTH) fail(`${String(o.type)}.${key} holds a bad entry`)
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
        id: str(o, 'id', 32, NODE_ID),
        addrs: addrList(o, 'addrs', MAX_HELLO_ADDRS)
      }
      if (o.dialed !== undefined) m.dialed = str(o, 'dialed', MAX_ADDRESS_LENGTH)
      return m
    }
    case 'getaddrs':
      return { type: 'getaddrs' }
    case 'addrs':
      return { type: 'addrs', addrs: addrList(o, 'addrs', MAX_ADDRS_PER_MESSAGE) }
    case 'query':
      return {
        type: 'query',
        qid: str(o, 'qid', 32, QUERY_ID),
        subnet: str(o, 'subnet', MAX_SUBNET_LENGTH, NAME),
        hops: int(o, 'hops', 1, MAX_HOP_LIMIT),
        limit: int(o, 'limit', 1, MAX_HOP_LIMIT)
      }
    case 'answer':
      return {
        type: 'answer',
        qid: str(o, 'qid', 32, QUERY_ID),
        subnet: str(o, 'subnet', MAX_SUBNET_LENGTH, NAME),
        address: str(o, 'address', MAX_ADDRESS_LENGTH),
        hops: int(o, 'hops', 1, MAX_HOP_LIMIT)
      }
    case 'bye':
      return { type: 'bye', reason: str(o, 'reason', MAX_REASON_LENGTH) }
    default:
      return fail(`unknown message type ${typeof o.type === 'string' ? JSON.stringify(o.type.slice(0, 32)) : typeof o.type}`)
  }
}

/** Check a subnet name given by a local user; throws a plain Error with a sentence. */
export function checkSubnet (name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new Error('subnet name must be a non-empty string')
  if (name.length > MAX_SUBNET_LENGTH) throw new Error(`subnet name is longer than ${MAX_SUBNET_LENGTH} characters`)
  if (!NAME.test(name)) throw new Error('subnet name must not contain control characters')
  return name
}
