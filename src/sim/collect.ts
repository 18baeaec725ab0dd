// The collector, for the scenario: the heap's growth by phase (its `growHeap`), and a thread's
// young generation (for the threads of a run to scavenge together). V8 offers a collection only
// behind --expose-gc: turned on here for the running isolate (thread), whose next new context
// then has `gc`. Neither changes anything else the simulation does.
import { setFlagsFromString, getHeapSpaceStatistics } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** V8's `gc`, made visible for this isolate (thread). */
function exposedGc (): (opts?: { type: 'minor' | 'major' }) => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void
}

/**
 * Share of the young generation's room in use past which a thread says it is nearly full: then
 * every thread scavenges at the same step (YoungGeneration). A step allocates ~1.5 MB a thread
 * once the 10,000-node run has settled (~6 MB while nodes join), well within the 15% left of a
 * 64 MB semi-space, so V8 (told not to scavenge early by a task: main.ts) rarely gets to first.
 */
export const YOUNG_FULL = 0.85

/** A thread's young generation, for the threads to scavenge together (parallel.ts). */
export interface YoungGeneration {
  /** Whether it is past YOUNG_FULL of its room. */
  full: () => boolean
  /** A scavenge now. */
  scavenge: () => void
}

export function youngGeneration (): YoungGeneration {
  const gc = exposedGc()
  return {
    full: () => {
      for (const s of getHeapSpaceStatistics()) {
        if (s.space_name !== 'new_space') continue
        return s.space_used_size >= YOUNG_FULL * (s.space_used_size + s.space_available_size)
      }
      return false
    },
    scavenge: () => gc({ type: 'minor' })
  }
}

/**
 * A thread's young generation for its run's threads to scavenge together (thread.ts), only in
 * the run main.ts started: that one runs scavenges without helper threads (THREAD_GC_FLAGS).
 * With V8's defaults, scavenging together was no gain (RESULTS.md), so a run under other flags
 * (a test's, a user's) scavenges as V8 decides.
 */
export function sharedScavenges (): YoungGeneration | undefined {
  if (process.env.PEERNET_SIM_CHILD !== '1') return undefined
  return youngGeneration()
}

/**
 * How far past what was live at the last full collection V8 lets the heap grow before the next,
 * while the nodes are settled (main.ts: what it costs and what it bounds). 50: the link ends'
 * leaner state (twenty-sixth session) left the 10,000-node run ~700 MB under 4 GB, and fewer
 * collections are worth some of it (the gate command, two runs each: 600 and 602 s of user CPU
 * against 612–695 s at 30, peak RSS 3.40–3.45 GB against 3.28–3.32).
 */
export const HEAP_GROWING_PERCENT = 50
/**
 * The same while nodes join: the heap only grows then (to ~870 MB a thread at 10,000 nodes), and
 * at 30% V8 traced it whole 22 times by the join's end (6.7 GB); at 60% half as often (5,000
 * nodes to interval 30, one thread each side by side: user CPU 0.916). What is committed by then
 * stays below what the settled and killed phases commit later, where the peak is.
 */
export const JOIN_HEAP_GROWING_PERCENT = 60
/**
 * The same from the kill on: half the nodes are gone, and what the survivors hold
 * (~550 MB a thread at 10,000 nodes) is about a third of what the heap had committed for them all,
 * which V8 keeps. At 30% it collected every fifth interval, each 3–5 s of the gate run's wall;
 * at KILLED_HEAP_GROWING_PERCENT the heap still grows within what is committed already.
 */
export const KILLED_HEAP_GROWING_PERCENT = 60

/** The scenario's phases as the heap's growth sees them. */
export type HeapPhase = 'join' | 'settled' | 'killed'

const GROWTH: Record<HeapPhase, number> = { join: JOIN_HEAP_GROWING_PERCENT, settled: HEAP_GROWING_PERCENT, killed: KILLED_HEAP_GROWING_PERCENT }

/**
 * The heap's growth for the scenario's phases (SimOptions.growHeap): V8 reads the flag at each
 * full collection. The flag is the process's, shared by its threads, which change it at the same
 * step. Only in the run main.ts started with its own flags (PEERNET_SIM_CHILD): a user's own
 * --heap-growing-percent is left as given.
 */
export function heapGrowth (): ((phase: HeapPhase) => void) | undefined {
  if (process.env.PEERNET_SIM_CHILD !== '1') return undefined
  return phase => setFlagsFromString(`--heap-growing-percent=${GROWTH[phase]}`)
}
