// What this node's links carried, by message type and direction: frames and bytes (each
// frame's own, header included). Counted by every Connection of the node as it sends and
// receives; read by whoever reports it (the daemon's metrics). Types are the protocol's own
// (validated before they are counted), so the set of keys stays small.

export interface TypeCount { frames: number, bytes: number }

/**
 * Each message type's place in every node's counters, in the order the process first counted
 * it: one small map for the process, always at hand, where a node's own two maps (a frame's
 * type looked up in one of them twice a frame, once at each end) lay wherever that node's
 * memory did. Bounded by the protocol's types; past MAX_TYPES a type is counted as OTHER.
 */
const PLACES = new Map<string, number>()
const NAMES: string[] = []
/** Most message types counted apart: the protocol has a few dozen. */
export const MAX_TYPES = 128
/** What a type past MAX_TYPES is counted as. */
export const OTHER = '(other)'

function placeOf (type: string): number {
  const at = PLACES.get(type)
  if (at !== undefined) return at
  if (NAMES.length >= MAX_TYPES - 1 && type !== OTHER) return placeOf(OTHER)
  PLACES.set(type, NAMES.length)
  NAMES.push(type)
  return NAMES.length - 1
}

/** Fields a type's counters take: frames and bytes in, frames and bytes out. */
const WIDTH = 4
const NO_COUNTS = new Float64Array(0)

export class Traffic {
  /** WIDTH numbers a type, at its place; grown to the highest place this node has counted. */
  private counts = NO_COUNTS

  note (dir: 'in' | 'out', type: string, bytes: number): void {
    const at = placeOf(type) * WIDTH + (dir === 'in' ? 0 : 2)
    if (at >= this.counts.length) this.grow()
    this.counts[at]++
    this.counts[at + 1] += bytes
  }

  /** Per type, what came in (the types counted, in the order the process first met them). */
  get in (): Map<string, TypeCount> { return this.byType(0) }

  /** Per type, what went out. */
  get out (): Map<string, TypeCount> { return this.byType(2) }

  private byType (offset: number): Map<string, TypeCount> {
    const m = new Map<string, TypeCount>()
    for (let p = 0; p * WIDTH < this.counts.length; p++) {
      const frames = this.counts[p * WIDTH + offset]
      if (frames > 0) m.set(NAMES[p], { frames, bytes: this.counts[p * WIDTH + offset + 1] })
    }
    return m
  }

  private grow (): void {
    // Room for every type the process knows of so far (a node soon meets them all), so a node
    // grows its counters once or twice, not a type at a time.
    const next = new Float64Array(NAMES.length * WIDTH)
    next.set(this.counts)
    this.counts = next
  }
}
