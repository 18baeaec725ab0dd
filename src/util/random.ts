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

export function shuffle<T> (random: Random, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1)
    const t = xs[i]; xs[i] = xs[j]; xs[j] = t
  }
  return xs
}
