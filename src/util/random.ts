// Chance, as small pure functions of an injected source of numbers: the node, the table and the
// simulation draw from one seedable source, so a seeded run repeats exactly. Below both table/
// and node/, which depend on it.

import { randomBytes } from 'node:crypto'

/** A source of uniform numbers in [0, 1). */
export type Random = () => number

/** Bytes drawn from the OS at a time by secureRandom (8 per number). */
const SECURE_POOL = 4096

/**
 * Uniform numbers in [0, 1) from the operating system's secure generator (node:crypto): the
 * default source of node ids and query ids, which must not be guessable from earlier ones.
 * Each number takes 53 random bits, as many as a double holds.
 */
export function secureRandom (): Random {
  let pool = Buffer.alloc(0)
  let at = 0
  return () => {
    if (at + 8 > pool.length) {
      pool = randomBytes(SECURE_POOL)
      at = 0
    }
    const hi = pool.readUInt32BE(at) >>> 5 // 27 bits
    const lo = pool.readUInt32BE(at + 4) >>> 6 // 26 bits
    at += 8
    return (hi * 67108864 + lo) / 9007199254740992
  }
}

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom (seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomHex (random: Random, bytes: number): string {
  let s = ''
  for (let i = 0; i < bytes; i++) s += Math.floor(random() * 256).toString(16).padStart(2, '0')
  return s
}

export function randomInt (random: Random, n: number): number {
  return Math.floor(random() * n)
}

/** Up to k distinct items drawn uniformly from xs (partial Fisher-Yates on a copy of indices). */
export function sample<T> (random: Random, xs: readonly T[], k: number): T[] {
  const n = xs.length
  if (k >= n) return shuffle(random, xs.slice())
  const picked = new Map<number, number>()
  const out: T[] = []
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(random, n - i)
    const vj = picked.get(j) ?? j
    picked.set(j, picked.get(i) ?? i)
    out.push(xs[vj])
  }
  return out
}

/**
 * sample() of numbers (a table's slots) into buffers kept from call to call: the same calls of
 * random, the same items in the same order, without the Map and the array sample() makes per
 * call (the table samples on every eviction and every gossip answer).
 */
export class SlotSampler {
  /** The items the last draw() took, in order: valid until the next draw(). */
  out = new Int32Array(64)
  /** sample()'s Map of moved positions, as pairs: position keys[m] holds vals[m]. */
  private keys = new Int32Array(64)
  private vals = new Int32Array(64)
  private moved = 0

  /** Draw up to k distinct items of xs, as sample() does; returns how many are in `out`. */
  draw (random: Random, xs: ArrayLike<number>, k: number): number {
    const n = xs.length
    if (k >= n) {
      if (this.out.length < n) this.out = new Int32Array(n)
      const out = this.out
      for (let i = 0; i < n; i++) out[i] = xs[i]
      // shuffle()'s draws, over the copy.
      for (let i = n - 1; i > 0; i--) {
        const j = randomInt(random, i + 1)
        const t = out[i]; out[i] = out[j]; out[j] = t
      }
      return n
    }
    if (this.out.length < k) {
      this.out = new Int32Array(k)
      this.keys = new Int32Array(k)
      this.vals = new Int32Array(k)
    }
    this.moved = 0
    for (let i = 0; i < k; i++) {
      const j = i + randomInt(random, n - i)
      const vj = this.at(j)
      this.put(j, this.at(i))
      this.out[i] = xs[vj]
    }
    return k
  }

  /** What position i holds now (picked.get(i) ?? i). */
  private at (i: number): number {
    for (let m = 0; m < this.moved; m++) if (this.keys[m] === i) return this.vals[m]
    return i
  }

  /** Position i holds v from now on (picked.set(i, v)): at most one new pair per draw. */
  private put (i: number, v: number): void {
    for (let m = 0; m < this.moved; m++) {
      if (this.keys[m] === i) {
        this.vals[m] = v
        return
      }
    }
    this.keys[this.moved] = i
    this.vals[this.moved++] = v
  }
}

export function shuffle<T> (random: Random, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1)
    const t = xs[i]; xs[i] = xs[j]; xs[j] = t
  }
  return xs
}
