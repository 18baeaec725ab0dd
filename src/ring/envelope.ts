// The signed routed envelope {from, to, nonce, expires, body}: what remote actions, messages
// by id and their replies travel in. The sender signs it end to end, so no node on the route
// can forge `from`, alter the body or redirect it (`to` is signed). Replays are the receiver's
// to refuse, by nonce, for as long as the envelope is valid: NonceCache below does that in
// bounded memory.
import { Canonical, sign, verify } from './crypto.js'
import { idOf, type KeyPair } from '../node/identity.js'
import { envelopeShapeProblem, MAX_ENVELOPE_TTL, type Envelope } from '../wire/record.js'
import { randomHex, type Random } from '../util/random.js'

export type { Envelope }
export { MAX_ENVELOPE_BODY, ENVELOPE_ROOM, MAX_ENVELOPE_TTL } from '../wire/record.js'

/**
 * Most nonces a NonceCache remembers. Past it, the soonest-expiring are forgotten and anything
 * expiring no later than them is refused (see NonceCache), so a flood costs memory never, and
 * replay protection never.
 */
export const MAX_NONCES = 8192

const ENVELOPE_TAG = 'peernet/envelope/1'

export function envelopeBytes (e: Omit<Envelope, 'sig'>): Buffer {
  return new Canonical(ENVELOPE_TAG).str(e.from).str(e.to).str(e.nonce).uint(e.expires).str(e.body).bytes()
}

/** An envelope from keyPair's id to `to`, carrying body (any JSON value), valid until expires. */
export function sealEnvelope (keyPair: KeyPair, to: string, body: unknown, expires: number, random: Random): Envelope {
  const e = { from: idOf(keyPair.publicKey), to, nonce: randomHex(random, 16), expires, body: JSON.stringify(body) ?? 'null' }
  const sealed = { ...e, sig: sign(envelopeBytes(e), keyPair.secretKey) }
  const why = envelopeShapeProblem(sealed)
  if (why !== null) throw new TypeError(why)
  return sealed
}

/**
 * Why envelope must be refused by node `me` at time now, or null. The nonce is not checked here
 * (a replay is valid in every other way): pass the envelope to a NonceCache after this.
 */
export function checkEnvelope (x: unknown, me: string, now: number): string | null {
  const shape = envelopeShapeProblem(x)
  if (shape !== null) return shape
  const e = x as Envelope
  if (e.to !== me) return 'envelope is addressed to another node'
  if (e.expires <= now) return 'envelope has expired'
  if (e.expires > now + MAX_ENVELOPE_TTL) return `envelope expires more than MAX_ENVELOPE_TTL (${MAX_ENVELOPE_TTL} ms) ahead`
  if (!verify(envelopeBytes(e), e.sig, e.from)) return 'envelope signature does not verify'
  return null
}

/** The body of a checked envelope, or undefined when it is not JSON. */
export function bodyOf (e: Envelope): unknown {
  try {
    return JSON.parse(e.body)
  } catch {
    return undefined
  }
}

/**
 * The nonces seen, each until its envelope expires. When full, the soonest-expiring eighth is
 * forgotten and `floor` rises to the latest expiry forgotten: an envelope expiring at or before
 * the floor is refused, so a forgotten nonce can never be replayed (its envelope is among them).
 */
export class NonceCache {
  private seen = new Map<string, number>()
  private floor = 0

  constructor (private readonly max = MAX_NONCES) {}

  get size (): number {
    return this.seen.size
  }

  /** Whether (from, nonce) was seen (and is still remembered): a replay, told without remembering. */
  has (from: string, nonce: string): boolean {
    return this.seen.has(from + nonce)
  }

  /** True (and remembered) when (from, nonce) is new; false for a replay or at/below the floor. */
  accept (from: string, nonce: string, expires: number, now: number): boolean {
    const key = from + nonce
    if (expires <= this.floor || this.seen.has(key)) return false
    if (this.seen.size >= this.max) this.forget(now)
    if (expires <= this.floor) return false
    this.seen.set(key, expires)
    return true
  }

  private forget (now: number): void {
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k)
    if (this.seen.size < this.max) return
    const byExpiry = [...this.seen].sort((a, b) => a[1] - b[1])
    const drop = byExpiry.slice(0, Math.max(1, this.max >> 3))
    for (const [k] of drop) this.seen.delete(k)
    this.floor = Math.max(this.floor, drop[drop.length - 1][1])
  }
}
