// The daemon's event log: a ring buffer that `peernet log -n N` replays, live subscribers that
// `peernet log` follows, and a size-bounded file in the data dir that `tail -f` can read.
import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs'
import type { LogRow } from '../control/protocol.js'
import { formatLogRow } from '../control/log-format.js'

/** Events kept in memory for replay. */
export const LOG_BUFFER = 1000
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
