// The daemon's event log: a ring buffer that `peernet log -n N` replays, live subscribers that
// `peernet log` follows, and a size-bounded file in the data dir that `tail -f` can read.
import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs'
import { DEFAULT_LOG_REPLAY, ROUTINE_EVENTS, LOG_BUFFER, type LogRow } from '../control/protocol.js'
import { formatLogRow } from '../control/log-format.js'
import { ControlError, type Reply$ } from './control.js'

export { LOG_BUFFER }
/** The log file is rotated (to daemon.log.1) when it grows past this many bytes. */
export const MAX_LOG_FILE = 5 * 1024 * 1024

export class EventLog {
  private readonly ring: LogRow[] = []
  private readonly subscribers = new Set<(row: LogRow) => void>()
  private file: WriteStream | null = null
  private bytes = 0

  constructor (private readonly path: string | null, private readonly echo: ((line: string) => void) | null = null) {
    if (path) this.openFile()
  }

  private openFile (): void {
    const path = this.path as string
    try {
      this.bytes = statSync(path).size
    } catch {
      this.bytes = 0
    }
    this.file = createWriteStream(path, { flags: 'a', mode: 0o600 })
    this.file.on('error', () => { this.file = null })
  }

  add (row: LogRow): void {
    this.ring.push(row)
    if (this.ring.length > LOG_BUFFER) this.ring.shift()
    const line = formatLogRow(row) + '\n'
    this.echo?.(line)
    if (this.file) {
      this.file.write(line)
      this.bytes += Buffer.byteLength(line)
      if (this.bytes > MAX_LOG_FILE) this.rotate()
    }
    for (const fn of this.subscribers) fn(row)
  }

  /** The last n events, oldest first. */
  last (n: number): LogRow[] {
    return n <= 0 ? [] : this.ring.slice(-n)
  }

  /** The last n events that are not routine traffic (ROUTINE_EVENTS), oldest first. */
  lastNotable (n: number): LogRow[] {
    const out: LogRow[] = []
    for (let i = this.ring.length - 1; i >= 0 && out.length < n; i--) {
      if (!ROUTINE_EVENTS.includes(this.ring[i].type)) out.push(this.ring[i])
    }
    return out.reverse()
  }

  subscribe (fn: (row: LogRow) => void): () => void {
    this.subscribers.add(fn)
    return () => { this.subscribers.delete(fn) }
  }

  get followers (): number { return this.subscribers.size }

  private rotate (): void {
    const path = this.path as string
    this.file?.end()
    try {
      renameSync(path, path + '.1')
    } catch {}
    this.openFile()
  }

  close (): Promise<void> {
    this.subscribers.clear()
    const f = this.file
    this.file = null
    return new Promise(resolve => f ? f.end(resolve) : resolve())
  }
}

/**
 * Answer a `log` request: replay (the last `lines` events, or without it the last
 * DEFAULT_LOG_REPLAY notable ones), then, when following, every new event until the client
 * goes away or the daemon stops (`stopping`): then the answer ends normally, after the
 * daemon's own `stopping` event. A follower that falls LOG_BUFFER events behind gets ESLOW.
 */
export async function serveLog (log: EventLog, opts: { lines?: number, follow: boolean }, reply: Reply$<LogRow>, stopping: Promise<void>): Promise<void> {
  let queue = Promise.resolve()
  let backlog = 0
  let failed = false
  let wake = (): void => {}
  const send = (row: LogRow): void => {
    if (failed) return
    if (++backlog > LOG_BUFFER) {
      failed = true // a follower this far behind is not reading: drop it
      wake()
      return
    }
    queue = queue.then(() => failed ? undefined : reply.row(row)).then(() => { backlog-- }, () => { failed = true; wake() })
  }
  // Subscribe before replaying, so nothing falls between the two.
  const stop = opts.follow ? log.subscribe(send) : () => {}
  for (const row of opts.lines === undefined ? log.lastNotable(DEFAULT_LOG_REPLAY) : log.last(opts.lines)) send(row)
  if (opts.follow) {
    await new Promise<void>(resolve => {
      wake = resolve
      if (reply.signal.aborted) resolve()
      reply.signal.addEventListener('abort', () => resolve())
      void stopping.then(resolve)
    })
    stop()
  }
  // Every row queued so far leaves before the end row.
  await queue
  if (failed && !reply.signal.aborted) throw new ControlError('ESLOW', `log reader fell more than ${LOG_BUFFER} events behind and was dropped`)
}
