// The node's named timers on its injected clock: repeating jobs (gossip, dial, purge, flush) and
// one-shot "soon" jobs that run once however often they are asked for. All stop at clear().

import type { Clock, Timer } from './clock.js'

export class Timers {
  private readonly timers = new Map<string, Timer>()
  private stopped = false

  /** fail gets whatever a job throws, so one bad tick never stops the node. */
  constructor (private readonly clock: Clock, private readonly fail: (err: Error) => void) {}

  /** Run fn every ms (nothing when ms is 0 or not a number). */
  every (name: string, ms: number, fn: () => void): void {
    if (!(ms > 0)) return
    if (this.clock.repeat !== undefined) {
      // One timer for every run, where the clock has them (a simulated node's jobs run ~16
      // times a round: a new timer and map entry each time were ~2% of a settled run).
      const t = this.clock.repeat(() => { if (!this.stopped) this.run(fn) }, ms)
      t.unref?.()
      this.timers.set(name, t)
      return
    }
    const tick = (): void => {
      if (this.stopped) return
      this.run(fn)
      this.schedule(name, ms, tick)
    }
    this.schedule(name, ms, tick)
  }

  /** Run fn on the next turn of the clock, once however often it is asked for. */
  soon (name: string, fn: () => void): void {
    if (this.stopped || this.timers.has(name)) return
    this.schedule(name, 0, () => {
      this.timers.delete(name)
      if (!this.stopped) this.run(fn)
    })
  }

  /** Stop every timer for good. */
  clear (): void {
    this.stopped = true
    for (const t of this.timers.values()) this.clock.clearTimeout(t)
    this.timers.clear()
  }

  private run (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.fail(err as Error)
    }
  }

  private schedule (name: string, ms: number, fn: () => void): void {
    const t = this.clock.setTimeout(fn, ms)
    t.unref?.()
    this.timers.set(name, t)
  }
}
