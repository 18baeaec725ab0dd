// Time, injected (chance is util/random.ts). The node never calls Date.now, setTimeout or Math.random itself,
// so the simulation can run thousands of nodes on a virtual clock with a seeded random source.

export interface Timer { unref?: () => unknown }

export interface Clock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => Timer
  clearTimeout: (t: Timer) => void
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: t => clearTimeout(t as ReturnType<typeof setTimeout>)
}

/** The owner of a timer set through the clock itself rather than through owned(). */
const NO_OWNER = 0

/** A timer of a VirtualClock: a class, so that unref is one shared method, not a closure a timer. */
class VirtualTimer implements Timer {
  constructor (readonly at: number, readonly seq: number, public fn: (() => void) | null, readonly owner: number) {}
  unref (): this { return this }
}

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
  /** Owners whose timers no longer run (retire()). */
  private readonly retired = new Set<number>()

  constructor (start = 0) { this.t = start }

  now (): number { return this.t }

  setTimeout (fn: () => void, ms: number): Timer {
    return this.setTimeoutOf(NO_OWNER, fn, ms)
  }

  /**
   * This clock as one party sees it: its timers carry `owner` (a number above 0), so that
   * retire() can end every one of them at once, as a crash ends a process's.
   */
  owned (owner: number): Clock {
    if (!Number.isInteger(owner) || owner <= NO_OWNER) throw new RangeError(`a timer's owner is an integer above ${NO_OWNER}, not ${owner}`)
    return {
      now: () => this.t,
      setTimeout: (fn, ms) => this.setTimeoutOf(owner, fn, ms),
      clearTimeout: t => { this.clearTimeout(t) }
    }
  }

  /**
   * These owners are gone: every timer of theirs waiting is dropped, in one pass (a simulation
   * kills thousands of nodes at once), and any they set from now on never runs (a closing node
   * sets some after a turn of its own). A dead party's timers would otherwise hold all it had
   * until each fell due. Returns how many were dropped.
   */
  retire (owners: Iterable<number>): number {
    for (const o of owners) if (o !== NO_OWNER) this.retired.add(o)
    let dropped = 0
    for (const tm of this.heap) {
      if (tm.fn !== null && this.retired.has(tm.owner)) {
        tm.fn = null
        dropped++
      }
    }
    this.live -= dropped
    if (dropped > 0) this.compact()
    return dropped
  }

  private setTimeoutOf (owner: number, fn: () => void, ms: number): Timer {
    // A retired owner's timer: handed back, never waiting (clearTimeout sees it spent).
    if (owner !== NO_OWNER && this.retired.has(owner)) return new VirtualTimer(this.t, 0, null, owner)
    const tm = new VirtualTimer(this.t + Math.max(0, ms), ++this.seq, fn, owner)
    this.push(tm)
    this.live++
    return tm
  }

  clearTimeout (t: Timer): void {
    const tm = t as VirtualTimer | undefined
    if (!(tm instanceof VirtualTimer) || tm.fn === null) return
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
    for (;;) {
      this.dropCleared()
      // this.heap, read afresh each turn: a timer's fn may clear timers, and compact() then
      // puts a new array in its place (a copy held from before would never empty).
      const heap = this.heap
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
