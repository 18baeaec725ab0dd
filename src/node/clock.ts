// Time, injected (chance is util/random.ts). The node never calls Date.now, setTimeout or Math.random itself,
// so the simulation can run thousands of nodes on a virtual clock with a seeded random source.

export interface Timer { unref?: () => unknown }

export interface Clock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => Timer
  clearTimeout: (t: Timer) => void
  /**
   * Run fn every ms, each time ms after the last run began, until clearTimeout: what a
   * setTimeout set again at the end of each run does, with one timer for all the runs. Optional:
   * Timers does that itself where a clock has none (the real one).
   */
  repeat?: (fn: () => void, ms: number) => Timer
  /**
   * Set t to run fn in ms, as clearTimeout(t) and setTimeout(fn, ms) would: the same timer object
   * where the clock can (one of its own that has run, or was cleared and let go), else a new one.
   * Optional: a caller without it sets a new timer. A link's keepalive is set again every minute
   * or so for the link's life: a new timer each time outlived a scavenge and was garbage in the
   * old generation a minute later.
   */
  again?: (t: Timer, fn: () => void, ms: number) => Timer
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
  /** In the heap, on the wheel or far: again() may take a timer only once it is none of them. */
  queued = false
  /**
   * @param period for a repeating timer, how long after each run it is due again, ms (0: once).
   * A repeating timer goes back in the heap after each run with a new due time and order, the
   * one a setTimeout from the end of that run would have had: a simulated node set a new timer,
   * and a map entry for it, after each run of its repeating jobs (the ring's tick ten times a
   * round, the dialer's five, gossip's one), and the collector paid for every one.
   */
  constructor (public at: number, public seq: number, public fn: (() => void) | null, readonly owner: number, public period = 0) {}
  unref (): this { return this }
}

/** The queue's order: a timer due sooner, or due at once and set first, goes first. */
function earlier (at: number, seq: number, otherAt: number, otherSeq: number): boolean {
  return at < otherAt || (at === otherAt && seq < otherSeq)
}

/**
 * The timers' queue: a 4-ary min-heap ordered by (due time, order set). The keys sit in typed
 * arrays beside the timers, so a comparison reads two numbers next to each other instead of
 * two objects wherever they lie: a simulation holds ~40 timers a node (400,000 at 10,000
 * nodes), and a binary heap of objects spent most of its time waiting on memory. Four children
 * a node halve the depth, and the four lie side by side.
 */
class TimerHeap {
  items: VirtualTimer[] = []
  private at = new Float64Array(64)
  private seq = new Float64Array(64)

  get length (): number { return this.items.length }

  top (): VirtualTimer { return this.items[0] }

  push (tm: VirtualTimer): void {
    const items = this.items
    let i = items.length
    if (i === this.at.length) this.grow(2 * i)
    items.push(tm)
    const { at, seq } = this
    const ta = tm.at
    const ts = tm.seq
    while (i > 0) {
      const p = (i - 1) >> 2
      if (!earlier(ta, ts, at[p], seq[p])) break
      this.move(p, i)
      i = p
    }
    this.put(tm, i)
  }

  pop (): VirtualTimer {
    const items = this.items
    const top = items[0]
    const last = items.pop() as VirtualTimer
    if (items.length > 0) this.place(last, 0)
    top.queued = false
    return top
  }

  /** Keep only the timers keep() says, in heap order again (O(n)). */
  filter (keep: (tm: VirtualTimer) => boolean): void {
    for (const tm of this.items) if (!keep(tm)) tm.queued = false
    const kept = this.items.filter(keep)
    this.items = kept
    for (let i = 0; i < kept.length; i++) this.put(kept[i], i)
    for (let i = (kept.length - 2) >> 2; i >= 0; i--) this.place(kept[i], i)
  }

  /** Put tm at slot i and sift it down to where it belongs. */
  private place (tm: VirtualTimer, i: number): void {
    const { items, at, seq } = this
    const n = items.length
    const ta = tm.at
    const ts = tm.seq
    for (;;) {
      const first = 4 * i + 1
      if (first >= n) break
      let c = first
      const end = Math.min(first + 4, n)
      for (let k = first + 1; k < end; k++) {
        if (earlier(at[k], seq[k], at[c], seq[c])) c = k
      }
      if (!earlier(at[c], seq[c], ta, ts)) break
      this.move(c, i)
      i = c
    }
    this.put(tm, i)
  }

  /** The timer in slot from, with its keys, to slot to. */
  private move (from: number, to: number): void {
    this.items[to] = this.items[from]
    this.at[to] = this.at[from]
    this.seq[to] = this.seq[from]
  }

  private put (tm: VirtualTimer, i: number): void {
    this.items[i] = tm
    this.at[i] = tm.at
    this.seq[i] = tm.seq
  }

  private grow (size: number): void {
    const at = new Float64Array(size)
    const seq = new Float64Array(size)
    at.set(this.at)
    seq.set(this.seq)
    this.at = at
    this.seq = seq
  }
}

/**
 * Width of a VirtualClock's slots, ms: a timer due past the slot the clock has reached waits in
 * its slot's list, and goes into the heap only when advance() comes to that slot.
 */
export const SLOT_MS = 64
/**
 * Slots ahead of the clock that have lists (WHEEL_SLOTS · SLOT_MS = 65.5 s, past a link's
 * keepalive): each list is emptied and used again, a wheel. A timer due later waits in a heap
 * of its own until its slot comes within the wheel. A list a slot, made afresh for each, cost
 * 72 MB more a 5,000-node thread than one heap of all the timers.
 */
export const WHEEL_SLOTS = 1024

/**
 * A virtual clock for simulations and tests: timers fire only when advanced.
 * Timers due at the same time fire in the order they were set.
 *
 * Timers due within the slots the clock has reached (SLOT_MS) sit in a TimerHeap ordered by
 * (due time, order set); those due in the next WHEEL_SLOTS slots wait unordered in their slot's
 * list, and later ones in a heap of their own; each joins the heap when advance() reaches its
 * slot. A simulation's ~20,000 timers a thread firing each step were popped from a heap of all
 * ~200,000: each pop sifted through levels far apart in memory, waiting on it at every one. The
 * heap now holds a step's worth: 1,460 → 410 ns a fire in a microbenchmark of 400,000 timers,
 * but the clock's share of a settled 5,000-node profile only fell from 5.5% to 4.3% (the rest is
 * the timers' own objects, scattered, and their calls). A cleared timer is only marked (its fn
 * dropped) and skipped when it comes up; all are rebuilt without them once they are more than
 * half.
 */
export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  /** The timers due up to the end of slot `horizon`, in order. */
  private readonly heap = new TimerHeap()
  /** Those due in the WHEEL_SLOTS slots after it, by slot modulo WHEEL_SLOTS, in no order. */
  private readonly wheel: VirtualTimer[][] = Array.from({ length: WHEEL_SLOTS }, () => [])
  /** Those due later, in order. */
  private readonly far = new TimerHeap()
  private horizon: number
  /** Timers in the wheel's lists, cleared ones too. */
  private onWheel = 0
  private live = 0
  /** Owners whose timers no longer run (retire()). */
  private readonly retired = new Set<number>()

  constructor (start = 0) {
    this.t = start
    this.horizon = timeSlot(start)
  }

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
      clearTimeout: t => { this.clearTimeout(t) },
      repeat: (fn, ms) => this.setTimeoutOf(owner, fn, ms, true),
      again: (t, fn, ms) => this.againOf(owner, t, fn, ms)
    }
  }

  /** Set t again (see Clock.again). */
  again (t: Timer, fn: () => void, ms: number): Timer {
    return this.againOf(NO_OWNER, t, fn, ms)
  }

  private againOf (owner: number, t: Timer, fn: () => void, ms: number): Timer {
    // Only a timer of this owner's that waits nowhere (it ran, or was cleared and dropped) is
    // taken: one still queued would be in two places. Its due time and order are a new
    // timer's, so what runs when is the same either way.
    const tm = t as VirtualTimer
    if (!(tm instanceof VirtualTimer) || tm.queued || tm.owner !== owner || (owner !== NO_OWNER && this.retired.has(owner))) {
      this.clearTimeout(t)
      return this.setTimeoutOf(owner, fn, ms)
    }
    tm.at = this.t + Math.max(0, ms)
    tm.seq = ++this.seq
    tm.fn = fn
    tm.period = 0
    this.insert(tm)
    this.live++
    return tm
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
    const drop = (list: VirtualTimer[]): void => {
      for (const tm of list) {
        if (tm.fn !== null && this.retired.has(tm.owner)) {
          tm.fn = null
          dropped++
        }
      }
    }
    drop(this.heap.items)
    for (const list of this.wheel) drop(list)
    drop(this.far.items)
    this.live -= dropped
    if (dropped > 0) this.compact()
    return dropped
  }

  /** Run fn every ms (see Clock.repeat). */
  repeat (fn: () => void, ms: number): Timer {
    return this.setTimeoutOf(NO_OWNER, fn, ms, true)
  }

  private setTimeoutOf (owner: number, fn: () => void, ms: number, repeating = false): Timer {
    // Every 0 ms would run for ever within one advance(); a one-shot in its place would be a
    // silent surprise.
    if (repeating && !(ms > 0 && Number.isFinite(ms))) throw new RangeError(`a repeating timer's period is a number of ms above 0, not ${ms}`)
    // A retired owner's timer: handed back, never waiting (clearTimeout sees it spent).
    if (owner !== NO_OWNER && this.retired.has(owner)) return new VirtualTimer(this.t, 0, null, owner)
    const period = Math.max(0, ms)
    const tm = new VirtualTimer(this.t + period, ++this.seq, fn, owner, repeating ? period : 0)
    this.insert(tm)
    this.live++
    return tm
  }

  clearTimeout (t: Timer): void {
    const tm = t as VirtualTimer | undefined
    if (!(tm instanceof VirtualTimer)) return
    // Cleared in its own run (or any time): it is not set again.
    tm.period = 0
    if (tm.fn === null) return
    tm.fn = null
    this.live--
    const held = this.heap.length + this.onWheel + this.far.length
    if (held > 64 && this.live < held / 2) this.compact()
  }

  /** Number of timers waiting. */
  get pending (): number { return this.live }

  /** Due time of the next timer waiting, or undefined. */
  get next (): number | undefined {
    dropCleared(this.heap)
    if (this.heap.length > 0) return this.heap.top().at
    // Each slot's timers are due after the last slot's, and the far ones after all of them.
    for (let slot = this.horizon + 1; slot <= this.horizon + WHEEL_SLOTS; slot++) {
      let next: number | undefined
      for (const tm of this.wheel[slot % WHEEL_SLOTS]) if (tm.fn !== null && (next === undefined || tm.at < next)) next = tm.at
      if (next !== undefined) return next
    }
    dropCleared(this.far)
    return this.far.length > 0 ? this.far.top().at : undefined
  }

  /** Advance time by ms, firing every timer that falls due, in order. */
  advance (ms: number): void {
    const end = this.t + ms
    // Every timer due by `end` is in the heap from here on, and any set while they run too.
    this.reach(timeSlot(end))
    const heap = this.heap
    for (;;) {
      dropCleared(heap)
      if (heap.length === 0 || heap.top().at > end) break
      const tm = heap.pop()
      const fn = tm.fn as () => void
      tm.fn = null
      this.live--
      if (tm.at > this.t) this.t = tm.at
      fn()
      // Due again from now, in the order of a timer set now: after any its run set.
      if (tm.period > 0 && !this.retired.has(tm.owner)) {
        tm.at = this.t + tm.period
        tm.seq = ++this.seq
        tm.fn = fn
        this.insert(tm)
        this.live++
      }
    }
    if (end > this.t) this.t = end
  }

  /** Into the heap if due within the slots reached, else into its slot's list, else far. */
  private insert (tm: VirtualTimer): void {
    tm.queued = true
    const slot = timeSlot(tm.at)
    if (slot <= this.horizon) {
      this.heap.push(tm)
    } else if (slot <= this.horizon + WHEEL_SLOTS) {
      this.wheel[slot % WHEEL_SLOTS].push(tm)
      this.onWheel++
    } else {
      this.far.push(tm)
    }
  }

  /** Move the timers of every slot up to `last` into the heap, and the far ones now in reach onto the wheel. */
  private reach (last: number): void {
    if (last <= this.horizon) return
    // Past the wheel's reach, every list is taken (the slots they hold are all before last).
    const to = Math.min(last, this.horizon + WHEEL_SLOTS)
    for (let slot = this.horizon + 1; slot <= to; slot++) {
      const list = this.wheel[slot % WHEEL_SLOTS]
      if (list.length === 0) continue
      this.onWheel -= list.length
      for (const tm of list) {
        if (tm.fn !== null) this.heap.push(tm)
        else tm.queued = false
      }
      list.length = 0
    }
    this.horizon = last
    const far = this.far
    for (;;) {
      dropCleared(far)
      if (far.length === 0 || timeSlot(far.top().at) > last + WHEEL_SLOTS) break
      this.insert(far.pop())
    }
  }

  private compact (): void {
    const kept = (tm: VirtualTimer): boolean => tm.fn !== null
    this.heap.filter(kept)
    this.far.filter(kept)
    this.onWheel = 0
    for (const list of this.wheel) {
      let n = 0
      for (const tm of list) {
        if (tm.fn !== null) list[n++] = tm
        else tm.queued = false
      }
      list.length = n
      this.onWheel += n
    }
  }
}

/** Pop the cleared timers off heap's top. */
function dropCleared (heap: TimerHeap): void {
  while (heap.length > 0 && heap.top().fn === null) heap.pop()
}

/** The slot (SLOT_MS) time t falls in. */
function timeSlot (t: number): number {
  return Math.floor(t / SLOT_MS)
}
