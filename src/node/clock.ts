// Time and chance, injected. The node never calls Date.now, setTimeout or Math.random itself,
// so the simulation can run thousands of nodes on a virtual clock with a seeded random source.
import { randomBytes } from 'node:crypto'

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

interface VirtualTimer { at: number, seq: number, fn: (() => void) | null, unref: () => VirtualTimer }

/**
 * A virtual clock for simulations and tests: timers fire only when advanced.
 * Timers due at the same time fire in the order they were set.
 *
 * Timers sit in a binary min-heap ordered by (due time, order set), so setting and firing a
 * timer is O(log timers). A cleared timer is only marked (its fn dropped) and skipped when it
 * reaches the top; the heap is rebuilt without them once they are more than half of it.
 */
export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  private heap: VirtualTimer[] = []
  private live = 0

  constructor (start = 0) { this.t = start }

  now (): number { return this.t }

  setTimeout (fn: () => void, ms: number): Timer {
    const tm: VirtualTimer = { at: this.t + Math.max(0, ms), seq: ++this.seq, fn, unref: () => tm }
    this.push(tm)
    this.live++
    return tm
  }

  clearTimeout (t: Timer): void {
    const tm = t as VirtualTimer | undefined
    if (tm === undefined || tm === null || typeof tm !== 'object' || typeof tm.seq !== 'number' || tm.fn === null) return
    tm.fn = null
    this.live--
    if (this.heap.length > 64 && this.live < this.heap.length / 2) this.compact()
  }

  /** Number of timers waiting. */
  get pending (): number { return this.live }

  /** Due time of the next timer waiting, or undefined. */
  get next (): number | undefined {
    this.dropCleared()
    return this.heap.length > 0 ? this.heap[0].at : undefined
  }

  /** Advance time by ms, firing every timer that falls due, in order. */
  advance (ms: number): void {
    const end = this.t + ms
    const heap = this.heap
    for (;;) {
      this.dropCleared()
      if (heap.length === 0 || heap[0].at > end) break
      const tm = this.pop()
      const fn = tm.fn as () => void
      tm.fn = null
      this.live--
      if (tm.at > this.t) this.t = tm.at
      fn()
    }
    if (end > this.t) this.t = end
  }

  private dropCleared (): void {
    const heap = this.heap
    while (heap.length > 0 && heap[0].fn === null) this.pop()
  }

  private static before (a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  private push (tm: VirtualTimer): void {
    const heap = this.heap
    let i = heap.length
    heap.push(tm)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!VirtualClock.before(tm, heap[p])) break
      heap[i] = heap[p]
      i = p
    }
    heap[i] = tm
  }

  private pop (): VirtualTimer {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop() as VirtualTimer
    if (heap.length > 0) {
      heap[0] = last
      this.siftDown(0)
    }
    return top
  }

  private siftDown (start: number): void {
    const heap = this.heap
    const n = heap.length
    const tm = heap[start]
    let i = start
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && VirtualClock.before(heap[r], heap[l]) ? r : l
      if (!VirtualClock.before(heap[c], tm)) break
      heap[i] = heap[c]
      i = c
    }
    heap[i] = tm
  }

  private compact (): void {
    this.heap = this.heap.filter(tm => tm.fn !== null)
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }
}
