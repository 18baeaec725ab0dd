// What a run of the simulation reports: the figures (SimResult and its parts, which report.ts
// prints and --json writes) and the arithmetic that makes them.
import type { SimOptions, Phases } from './scenario.js'

export interface ConvergenceResult {
  probes: number
  /** Per threshold: intervals after joining until that share of nodes has heard of a probe. */
  reach: Array<{ share: number, median: number | null, max: number | null, reached: number }>
  /** Share of live tables holding a probe's address, at its peak and at the kill. */
  holdsPeak: number
  holdsAtKill: number
  /** Largest share of nodes any one table can hold: table bound / nodes. */
  tableShare: number
}

export interface DegreeResult {
  interval: number
  nodes: number
  mean: number
  min: number
  p50: number
  p95: number
  max: number
  isolated: number
  histogram: Array<[number, number]>
}

export interface SearchResult {
  members: number
  searches: number
  success: number
  /** Mean share of live members that answered. */
  recall: number
  hopsP50: number | null
  hopsP95: number | null
  /** Frames the search caused anywhere (ring lookups, their retries and answers, any flood): mean and p99. */
  messages: number
  messagesP99: number
  bytes: number
  /** Share of searches that got members only from the flood (a fallback: not counted as success). */
  viaFlood: number
  /** Time to the first answer, in gossip intervals. */
  firstP50: number | null
  firstP95: number | null
}

export interface IntervalRow {
  interval: number
  phase: 'join' | 'settle' | 'kill' | 'steady'
  live: number
  edges: number
  meanDegree: number
  components: number
  /** Share of live nodes in the largest connected component. */
  largest: number
  isolated: number
  /** Mean over probes of the share of nodes that have heard of it (null before probes join). */
  reach: number | null
  /** Mean over probes of the share of live tables holding it now. */
  holds: number | null
  searches: number
  /** Share of this interval's searches answered by the ring (null when none ran). */
  success: number | null
  /** Share of them that got members only from the flood. */
  viaFlood: number | null
  /** Frames per live node this interval: the ring's upkeep (every ring frame no search or measurement caused), gossip (getaddrs, addrs), keepalive (ping, pong). */
  ringUpkeep: number
  gossip: number
  keepalive: number
  killed: number
  joined: number
  /** Mean number of addresses in a live node's table. */
  tableMean: number
}

/** Owner agreement: OWNER_KEYS values, each looked up (getEndpointFor) by OWNER_ASKERS random live nodes. */
export interface OwnerResult {
  interval: number
  keys: number
  asked: number
  answered: number
  /** Share of the asks naming the node most asks named for their key. */
  agreement: number
  /** Share of the asks naming the live node truly responsible (the first id at or after the key's point). */
  correct: number
  hopsP50: number | null
}

/** Frames per live node per interval, by what they are for. */
export interface UpkeepResult {
  /** Intervals averaged: from the probes' join to the end (settle, kill, steady). */
  from: number
  ringMean: number
  ringSettled: number
  ringMax: number
  gossipMean: number
  keepaliveMean: number
}

export interface SimResult {
  settings: Omit<SimOptions, 'progress' | 'part'> & { known: string }
  phases: Phases
  convergence: ConvergenceResult
  degree: DegreeResult[]
  search: SearchResult[]
  owner: OwnerResult | null
  upkeep: UpkeepResult
  timeline: IntervalRow[]
  traffic: Record<string, { frames: number, bytes: number }>
  errors: number
  firstError: string | null
  /** The overlay at the end: live nodes, links, subnet members (for --dot; not part of the figures). */
  overlay: { nodes: number[], edges: Array<[number, number]>, members: Record<string, number[]> }
}

export function mean (xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0
}

/** Nearest-rank percentile of a sorted list. */
export function pct (sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

export function round (x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export function nullRound (x: number | null, digits: number): number | null {
  return x === null ? null : round(x, digits)
}
