// One lifecycle event as one line of text: the daemon's log file and `peernet log` share it.
import type { LogRow } from './protocol.js'

function value (v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)
  return JSON.stringify(v)
}

export function formatLogRow (r: LogRow): string {
  const rest = Object.entries(r).filter(([k]) => k !== 'time' && k !== 'type').map(([k, v]) => `${k}=${value(v)}`)
  return [new Date(r.time).toISOString(), r.type, ...rest].join(' ')
}
