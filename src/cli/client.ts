// The control-socket client: one request, its rows as they come, then its end or error.
import net from 'node:net'
import split2 from 'split2'
import { MAX_LINE, type ErrorBody } from '../control/protocol.js'

/** No daemon answers on the socket. */
export class NotRunning extends Error {
  constructor (readonly socket: string, readonly code: string) {
    super(`no daemon answers on ${socket}`)
    this.name = 'NotRunning'
  }
}

/** The daemon answered with an error row. */
export class DaemonError extends Error {
  readonly code: string
  constructor (body: ErrorBody) {
    super(body.message)
    this.name = 'DaemonError'
    this.code = body.code
  }
}

export interface Call {
  /** Resolves at the end row; rejects with DaemonError, NotRunning or a socket error. */
  done: Promise<void>
  /** Stop early (closes the connection; the daemon ends the request). */
  cancel: () => void
}

/** Send one request; onRow sees each row. */
export function call (socket: string, method: string, params: Record<string, unknown>, onRow: (row: unknown) => void = () => {}): Call {
  const conn = net.connect(socket)
  let settled = false
  const done = new Promise<void>((resolve, reject) => {
    const finish = (err?: Error): void => {
      if (settled) return
      settled = true
      conn.destroy()
      if (err) reject(err)
      else resolve()
    }
    let connected = false
    let broken: Error | null = null
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK')) finish(new NotRunning(socket, err.code))
      else broken = err // the daemon may still have said why (e.g. EBUSY) before it hung up
    })
    conn.on('connect', () => {
      connected = true
      conn.write(JSON.stringify({ id: 1, method, params }) + '\n')
    })
    // Lines already received are handled first; only then does a hang-up count as a failure.
    conn.on('close', () => setImmediate(() => finish(broken ?? new Error('the daemon closed the connection before answering (see its log)'))))
    conn.pipe(split2({ maxLength: MAX_LINE })).on('data', (line: string) => {
      let msg: { id?: unknown, row?: unknown, end?: boolean, error?: ErrorBody }
      try {
        msg = JSON.parse(line)
      } catch {
        finish(new Error('the daemon sent a line that is not JSON'))
        return
      }
      if (msg.error) finish(new DaemonError(msg.error))
      else if (msg.end) finish()
      else if ('row' in msg) {
        try {
          onRow(msg.row)
        } catch (err) {
          finish(err as Error)
        }
      }
    }).on('error', (err: Error) => finish(err))
  })
  return { done, cancel: () => { if (!settled) { settled = true; conn.destroy() } } }
}

/** Collect every row of a request. */
export async function rows<T> (socket: string, method: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const out: T[] = []
  await call(socket, method, params, row => out.push(row as T)).done
  return out
}
