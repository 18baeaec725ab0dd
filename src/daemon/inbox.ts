// The daemon's inbox: messages by id that came for this node, held until a reader (`peernet
// messages`) takes them. A message is acknowledged to its sender only once it is held here,
// so when the inbox is full it is refused, and the sender is told (`peernet send` exits 1
// saying so): nothing acknowledged is ever dropped. Readers attached get every message, in
// order; a message leaves the inbox once it is written to at least one of them. A reader that
// stops reading holds the line up: when the inbox fills behind it, it is dropped (ESLOW), and
// what it had not taken waits for the next reader.
import { MAX_INBOX, type MessageRow } from '../control/protocol.js'

export { MAX_INBOX }

/** A reader: where its rows go, and how it ends (it left, or was dropped as too slow). */
export class InboxReader {
  /** Writing a row to it now. */
  busy = false
  /** Dropped for holding the inbox up (rather than gone by itself). */
  dropped = false
  readonly ended: Promise<void>
  private end!: () => void

  constructor (private readonly write: (row: MessageRow) => Promise<void>) {
    this.ended = new Promise(resolve => { this.end = resolve })
  }

  /** Write row; true once written, false when the reader failed or ended first. */
  async take (row: MessageRow): Promise<boolean> {
    this.busy = true
    try {
      return await Promise.race([this.write(row).then(() => true, () => false), this.ended.then(() => false)])
    } finally {
      this.busy = false
    }
  }

  close (dropped = false): void {
    this.dropped ||= dropped
    this.end()
  }
}

export class Inbox {
  private readonly queue: MessageRow[] = []
  private readonly readers = new Set<InboxReader>()
  private draining = false

  /** Messages waiting for a reader. */
  get size (): number { return this.queue.length }
  /** Readers attached now. */
  get readerCount (): number { return this.readers.size }

  /** Hold a message for the readers; throws (the sender is told) when MAX_INBOX wait already. */
  add (row: MessageRow): void {
    if (this.queue.length >= MAX_INBOX) {
      // A reader still writing while MAX_INBOX wait behind it is not reading: drop it.
      for (const r of [...this.readers]) {
        if (r.busy) {
          this.readers.delete(r)
          r.close(true)
        }
      }
      throw new Error(`the recipient's inbox is full: ${MAX_INBOX} messages wait for a reader (MAX_INBOX)`)
    }
    this.queue.push(row)
    void this.drain()
  }

  /** Attach a reader: it gets what waits, then every message as it comes, until it leaves. */
  attach (write: (row: MessageRow) => Promise<void>): InboxReader {
    const r = new InboxReader(write)
    this.readers.add(r)
    void this.drain()
    return r
  }

  leave (r: InboxReader): void {
    this.readers.delete(r)
    r.close()
  }

  /** Take every message waiting, when no reader is attached to take them (else none). */
  takeAll (): MessageRow[] {
    return this.readers.size > 0 ? [] : this.queue.splice(0)
  }

  /** Readers are gone (the daemon stops): each ends; what waits is lost with the process. */
  close (): void {
    for (const r of [...this.readers]) this.leave(r)
  }

  private async drain (): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      while (this.queue.length > 0 && this.readers.size > 0) {
        const row = this.queue[0]
        const readers = [...this.readers]
        const taken = await Promise.all(readers.map(async r => {
          const ok = await r.take(row)
          if (!ok && this.readers.delete(r)) r.close()
          return ok
        }))
        // Written to a reader: it leaves. Else every reader went, and it waits for the next.
        if (taken.some(ok => ok) && this.queue[0] === row) this.queue.shift()
      }
    } finally {
      this.draining = false
    }
  }
}
