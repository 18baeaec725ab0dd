// The daemon's metrics in Prometheus' text format (GET /metrics of the HTTP API). Loaded only
// when --http is on: prom-client costs ~100 ms to load, which no other path pays. Most figures
// are read from the node when scraped (gauges and counters that collect); searches' time to
// their first row is observed as each comes (SearchStats.onFirstRow); link closes and refusals
// are counted from the node's events, by the kind of reason (its text before the first colon).
import type { Peernet } from '../node/node.js'
import type { SearchStats } from './search-stats.js'

/** Buckets of the time-to-first-row histogram, in seconds: loopback lookups take ms; a flood or a timeout, seconds. */
export const SEARCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Most distinct reasons counted apart; later ones count as `other` (a peer's words must not grow the label set). */
export const MAX_DROP_REASONS = 32

/** The kind of a close or refusal reason: its text before the first colon or parenthesis, lowercased, at most 48 characters. */
export function reasonKind (reason: string): string {
  return reason.split(/[:(]/)[0].trim().toLowerCase().slice(0, 48) || 'unknown'
}

export interface Metrics {
  contentType: string
  text: () => Promise<string>
  close: () => void
}

export async function startMetrics (node: Peernet, stats: SearchStats): Promise<Metrics> {
  const prom = await import('prom-client')
  const registry = new prom.Registry()
  const reg = { registers: [registry] }
  new prom.Gauge({
    name: 'peernet_connections',
    help: 'Open peer links, by direction',
    labelNames: ['direction'],
    ...reg,
    collect () {
      const s = node.status()
      this.set({ direction: 'in' }, s.inbound)
      this.set({ direction: 'out' }, s.outbound)
    }
  })
  const gauge = (name: string, help: string, read: () => number): void => {
    new prom.Gauge({ name, help, ...reg, collect () { this.set(read()) } }) // eslint-disable-line no-new
  }
  gauge('peernet_known_addresses', 'Addresses in the table', () => node.status().known)
  gauge('peernet_saved_addresses', 'Addresses the user saved', () => node.status().saved)
  gauge('peernet_offers', 'Services this node offers', () => node.offers().length)
  new prom.Gauge({
    name: 'peernet_ring_state',
    help: 'Where the node stands on the ring: 1 for its state, 0 for the others',
    labelNames: ['state'],
    ...reg,
    collect () {
      const now = node.ringStatus()
      for (const state of ['lonely', 'unbalanced', 'joined']) this.set({ state }, state === now ? 1 : 0)
    }
  })
  const traffic = node.traffic()
  const byType = (name: string, help: string, field: 'frames' | 'bytes'): void => {
    new prom.Counter({ // eslint-disable-line no-new
      name,
      help,
      labelNames: ['direction', 'type'],
      ...reg,
      collect () {
        this.reset()
        for (const [dir, m] of [['in', traffic.in], ['out', traffic.out]] as const) {
          for (const [type, c] of m) this.inc({ direction: dir, type }, c[field])
        }
      }
    })
  }
  byType('peernet_messages_total', 'Messages over peer links, by direction and type', 'frames')
  byType('peernet_message_bytes_total', 'Bytes of messages over peer links (frame header included), by direction and type', 'bytes')
  new prom.Counter({
    name: 'peernet_searches_total',
    help: 'Searches (search) and finds (find) clients asked for, by outcome: answered (a first row came) or empty',
    labelNames: ['kind', 'outcome'],
    ...reg,
    collect () {
      this.reset()
      for (const [key, n] of stats.count) {
        const [kind, outcome] = key.split(' ')
        this.inc({ kind, outcome }, n)
      }
    }
  })
  const latency = new prom.Histogram({ name: 'peernet_search_first_row_seconds', help: 'Time from a search or find to its first row', labelNames: ['kind'], buckets: SEARCH_BUCKETS, ...reg })
  stats.onFirstRow = (kind, seconds) => latency.observe({ kind }, seconds)
  const drops = new prom.Counter({ name: 'peernet_drops_total', help: 'Links closed and peers refused, by event (disconnect, refused, connect-failed) and kind of reason', labelNames: ['event', 'reason'], ...reg })
  const reasons = new Set<string>()
  const onEvent = (e: { type: string, reason?: unknown }): void => {
    if ((e.type !== 'disconnect' && e.type !== 'refused' && e.type !== 'connect-failed') || typeof e.reason !== 'string') return
    let reason = reasonKind(e.reason)
    if (!reasons.has(reason)) {
      if (reasons.size >= MAX_DROP_REASONS) reason = 'other'
      else reasons.add(reason)
    }
    drops.inc({ event: e.type, reason })
  }
  node.on('event', onEvent)
  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close: () => {
      node.off('event', onEvent)
      stats.onFirstRow = null
    }
  }
}
