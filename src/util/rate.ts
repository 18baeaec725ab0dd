// Rate limits as token buckets on an injected clock: one bucket (a link's messages, a node's
// relays), or one per key in bounded memory (a sender's remote actions: ring/actions.ts).

/** A token bucket: `rate` tokens a second, `burst` deep, on an injected clock. */
export class TokenBucket {
  private tokens: number
  private refilled: number

  constructor (readonly rate: number, readonly burst: number, private readonly now: () => number) {
    this.tokens = burst
    this.refilled = now()
  }

  /** Take n tokens (one by default); false, taking none, when the bucket holds fewer. */
  take (n = 1): boolean {
    this.refill()
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  /** Milliseconds until n tokens are there (0: now); n above the burst never fits, and says Infinity. */
  wait (n = 1): number {
    if (n > this.burst) return Infinity
    this.refill()
    return this.tokens >= n ? 0 : Math.ceil((n - this.tokens) * 1000 / this.rate)
  }

  private refill (): void {
    const now = this.now()
    // A clock that steps back (a wall clock reset) must not drain or overfill the bucket.
    if (now > this.refilled) this.tokens = Math.min(this.burst, this.tokens + (now - this.refilled) * this.rate / 1000)
    this.refilled = now
  }
}

/**
 * A TokenBucket per key, for at most `max` keys: past it, the key heard from least recently is
 * forgotten (its next take starts from a full burst). Keys that cost nothing to make (ids) can
 * never grow the table; what many keys may do together needs a bound of its own.
 */
export class KeyedBuckets {
  /** Buckets in the order their keys were last heard from (a Map keeps insertion order). */
  private readonly buckets = new Map<string, TokenBucket>()

  constructor (readonly rate: number, readonly burst: number, readonly max: number, private readonly now: () => number) {}

  get size (): number {
    return this.buckets.size
  }

  /** Take one of key's tokens; false when its bucket is empty. */
  take (key: string): boolean {
    let b = this.buckets.get(key)
    if (b === undefined) {
      if (this.buckets.size >= this.max) this.buckets.delete(this.buckets.keys().next().value as string)
      b = new TokenBucket(this.rate, this.burst, this.now)
    } else {
      this.buckets.delete(key)
    }
    this.buckets.set(key, b)
    return b.take()
  }
}

/**
 * One request against a bound in all and a bound per key (a dial-back, an introduction): 'busy'
 * when the total is empty (the key's allowance untouched), 'refused' when the key's is (the
 * total untouched), else null, one token of each taken. Either way round, one bucket spent on a
 * refusal would let one key past its own rate drain what all share, or a busy node eat keys' allowances.
 */
export function takeBoth (total: TokenBucket, keyed: KeyedBuckets, key: string): 'busy' | 'refused' | null {
  if (total.wait() > 0) return 'busy'
  if (!keyed.take(key)) return 'refused'
  total.take()
  return null
}
