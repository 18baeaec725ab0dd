// Warnings a user must read, kept in the database until the user clears them (`peernet status
// --clear-warnings`): a daemon that found its db damaged says so at every status, not once in
// a log nobody reads. Its own sublevel (!warning!<time>-<n>), apart from the address table's
// keys; written straight to the db (synced), never through the table's write queue.
import type { LevelLike, SublevelLike } from './db.js'

/** Most warnings kept; past it the oldest one goes (a damaged disk must not grow the db). */
export const MAX_WARNINGS = 100

export interface Warning {
  time: number
  message: string
}

export class Warnings {
  private seq = 0

  private constructor (
    private readonly db: LevelLike,
    private readonly sub: SublevelLike,
    /** Oldest first, with their keys. */
    private readonly kept: Array<{ key: string, warning: Warning }>
  ) {}

  static async open (db: LevelLike): Promise<Warnings> {
    const sub = db.sublevel('warning', { valueEncoding: 'json' })
    const kept: Array<{ key: string, warning: Warning }> = []
    for await (const [key, value] of sub.iterator()) {
      const v = value as Partial<Warning> | null
      // A record this version cannot read still counts: show it rather than lose it.
      const warning = v !== null && typeof v === 'object' && typeof v.time === 'number' && typeof v.message === 'string'
        ? { time: v.time, message: v.message }
        : { time: 0, message: `an unreadable warning record: ${JSON.stringify(value).slice(0, 200)}` }
      kept.push({ key, warning })
    }
    return new Warnings(db, sub, kept)
  }

  /** Every warning, oldest first. */
  list (): Warning[] {
    return this.kept.map(k => ({ ...k.warning }))
  }

  /** Keep a warning (synced before it resolves), dropping the oldest past MAX_WARNINGS. */
  async add (message: string, time = Date.now()): Promise<void> {
    // Keys sort by time (zero-padded), then by order within one millisecond.
    const key = `${String(time).padStart(15, '0')}-${String(this.seq++).padStart(6, '0')}`
    const ops: unknown[] = [{ type: 'put', sublevel: this.sub, key, value: { time, message } }]
    const drop = this.kept.length + 1 - MAX_WARNINGS
    for (const old of this.kept.slice(0, Math.max(0, drop))) ops.push({ type: 'del', sublevel: this.sub, key: old.key })
    await this.db.batch(ops, { sync: true })
    if (drop > 0) this.kept.splice(0, drop)
    this.kept.push({ key, warning: { time, message } })
    this.kept.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  }

  /** Forget every warning; resolves to how many there were. */
  async clear (): Promise<number> {
    const n = this.kept.length
    if (n === 0) return 0
    await this.db.batch(this.kept.map(k => ({ type: 'del', sublevel: this.sub, key: k.key })), { sync: true })
    this.kept.length = 0
    return n
  }
}
