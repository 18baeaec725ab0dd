// Time and chance, injected. The node never calls Date.now, setTimeout or Math.random itself,
// so the simulation can run thousands of nodes on a virtual clock with a seeded random source.

export interface Timer { unref?: () => unknown }

export interface Clock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => Timer
  clearTimeout: (t: Timer) => void
}

/** A source of uniform numbers in [0, 1). */
export type Random = () => number

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: t => clearTimeout(t as ReturnType<typeof setTimeout>)
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

/**
 * A virtual clock for simulations and tests: timers fire only when advanced.
 * Timers due at the same time fire in the order they were set.
 */
export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  private timers = new Map<number, { at: number, fn: () => void, seq: number }>()

  constructor (start = 0) { this.t = start }

  now (): number { return this.t }

  setTimeout (fn: () => void, ms: number): Timer {
    const seq = ++this.seq
    this.timers.set(seq, { at: this.t + Math.max(0, ms), fn, seq })
    return { id: seq } as unknown as Timer
  }

  clearTimeout (t: Timer): void {
    this.timers.delete((t as unknown as { id: number }).id)
  }

  /** Number of timers waiting. */
  get pending (): number { return this.timers.size }

  /** Advance time by ms, firing every timer that falls due, in order. */
  advance (ms: number): void {
    const end = this.t + ms
    for (;;) {
      let next: { at: number, fn: () => void, seq: number } | undefined
      for (const tm of this.timers.values()) {
        if (tm.at <= end && (next === undefined || tm.at < next.at || (tm.at === next.at && tm.seq < next.seq))) next = tm
      }
      if (next === undefined) break
      this.timers.delete(next.seq)
      this.t = Math.max(this.t, next.at)
      next.fn()
    }
    this.t = end
  }
}
