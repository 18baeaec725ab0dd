// The relay's messages (connect by id's fourth step: node/relay.ts) and their validation, field
// by field, as for the peer protocol's own (messages.ts): a frame that does not validate is a
// protocol violation. They travel between linked peers only; a circuit is named by a random id
// its opener picks, per link.
import { WireError } from './frame.js'
import { MAX_REASON_LENGTH } from './messages.js'

/**
 * Most bytes of a relayed stream in one `relay.data` (before base64): well under MAX_FRAME once
 * encoded (4/3 of it), and small enough that a paced sender's next chunk never waits long.
 */
export const MAX_RELAY_CHUNK = 16 * 1024
/** Highest rate a relay may offer, bytes a second (a sanity bound on a peer's number). */
export const MAX_RELAY_RATE = 1 << 30

/** To a relay: open a circuit to `to`, a peer it is linked to. */
export interface RelayConnect { type: 'relay.connect', rid: string, to: string }
/** From a relay: `from` asks for a circuit to us through it, at most `rate` bytes a second each way. */
export interface RelayIncoming { type: 'relay.incoming', rid: string, from: string, rate: number }
/** The circuit is open: to the relay from the far end, and from the relay to the opener (with its rate). */
export interface RelayAccept { type: 'relay.accept', rid: string, rate?: number }
/** Bytes of the relayed stream, base64. */
export interface RelayData { type: 'relay.data', rid: string, data: string }
/** The circuit is closed (or refused), and why. */
export interface RelayClose { type: 'relay.close', rid: string, reason: string }

export type RelayMessage = RelayConnect | RelayIncoming | RelayAccept | RelayData | RelayClose

const RID = /^[0-9a-f]{16}$/
const ID = /^[0-9a-f]{64}$/
/** Base64 of at most MAX_RELAY_CHUNK bytes. */
const MAX_DATA_LENGTH = Math.ceil(MAX_RELAY_CHUNK / 3) * 4
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Bytes a base64 text (checked: a multiple of 4 characters) decodes to. */
export function base64Bytes (b64: string): number {
  return b64.length / 4 * 3 - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0)
}

function fail (why: string): never {
  throw new WireError(why)
}

function field (o: Record<string, unknown>, key: string, pattern: RegExp, what: string): string {
  const v = o[key]
  if (typeof v !== 'string' || !pattern.test(v)) fail(`${String(o.type)}.${key} must be ${what}`)
  return v
}

function rate (o: Record<string, unknown>): number {
  const v = o.rate
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_RELAY_RATE) fail(`${String(o.type)}.rate must be an integer in 1..${MAX_RELAY_RATE}`)
  return v
}

/** Is this decoded frame one of the relay's messages (its type starts with "relay.")? */
export function isRelayMessage (value: unknown): boolean {
  const type = (value as { type?: unknown } | null)?.type
  return typeof type === 'string' && type.startsWith('relay.')
}

/** The message as a RelayMessage, or a WireError saying what is wrong with it. */
export function validateRelayMessage (value: unknown): RelayMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('message must be an object')
  const o = value as Record<string, unknown>
  const rid = (): string => field(o, 'rid', RID, '16 hex digits')
  switch (o.type) {
    case 'relay.connect':
      return { type: 'relay.connect', rid: rid(), to: field(o, 'to', ID, '64 hex digits') }
    case 'relay.incoming':
      return { type: 'relay.incoming', rid: rid(), from: field(o, 'from', ID, '64 hex digits'), rate: rate(o) }
    case 'relay.accept': {
      const m: RelayAccept = { type: 'relay.accept', rid: rid() }
      if (o.rate !== undefined) m.rate = rate(o)
      return m
    }
    case 'relay.data': {
      const data = o.data
      if (typeof data !== 'string' || data.length === 0 || data.length > MAX_DATA_LENGTH || data.length % 4 !== 0 || !BASE64.test(data) || base64Bytes(data) > MAX_RELAY_CHUNK) {
        fail(`relay.data.data must be base64 of 1 to MAX_RELAY_CHUNK (${MAX_RELAY_CHUNK}) bytes`)
      }
      return { type: 'relay.data', rid: rid(), data }
    }
    case 'relay.close': {
      const reason = o.reason
      if (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) fail(`relay.close.reason must be a string of at most ${MAX_REASON_LENGTH}`)
      return { type: 'relay.close', rid: rid(), reason }
    }
    default:
      return fail(`unknown relay message type ${typeof o.type === 'string' ? JSON.stringify(o.type.slice(0, 32)) : typeof o.type}`)
  }
}
