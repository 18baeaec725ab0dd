// The control-socket client: one request, its rows as they come, then its end or error.
// Lines are split here by hand rather than with split2 (which the daemon uses): split2 is
// CommonJS, and loading the CommonJS machinery alone costs a client command ~15 ms of its
// start-up, which is the one thing a client command must not spend.
import net from 'node:net'
import { MAX_LINE, type ErrorBody } from '../control/protocol.js'

/** Call onLine for each complete line in the stream; throws past MAX_LINE. */
function lines (conn: net.Socket, onLine: (line: string) => void, onError: (err: Error) => void): void {
  let rest = ''
  conn.setEncoding('utf8')
  conn.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() as string
    if (rest.length > MAX_LINE) {
      onError(new Error(`the daemon sent a line longer than MAX_LINE (${MAX_LINE})`))
      return
    }
    for (const line of parts) onLine(line)
  })
}

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

/** Why a connection to the socket failed before it was made, if it says no daemon answers there. */
function unreachable (socket: string, err: NodeJS.ErrnoException): Error | null {
  // No socket there (or a file where its directory should be): no daemon runs there.
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK' || err.code === 'ENOTDIR') return new NotRunning(socket, err.code)
  if (err.code === 'EACCES' || err.code === 'EPERM') return new Error(`cannot reach the control socket ${socket}: permission denied (is the daemon another user's?)`)
  return null
}

/** A line of the daemon's answer: a row, the end, or an error, of the request `id`. */
interface Answer { id?: unknown, row?: unknown, end?: boolean, error?: ErrorBody }

/** A line decoded, or null when it is no JSON (call and session both fail then, with notJson()). */
function decode (line: string): Answer | null {
  try {
    return JSON.parse(line) as Answer
  } catch {
    return null
  }
}

const notJson = (): Error => new Error('the daemon sent a line that is not JSON')

/** The request's id, and so how each row line of its answer starts. */
const ID = 1
const ROW_HEAD = `{"id":${ID},"row":`

/**
 * Send one request; onRow sees each row. onRowText, if given, is offered each row first as
 * the JSON text the daemon sent for it; when it returns true the row is done and not parsed
 * (a long listing's rows cost their parse and its garbage otherwise).
 */
export function call (socket: string, method: string, params: Record<string, unknown>, onRow: (row: unknown) => void = () => {}, onRowText?: (json: string) => boolean): Call {
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
      const none = connected ? null : unreachable(socket, err)
      if (none !== null) finish(none)
      else broken = err // the daemon may still have said why (e.g. EBUSY) before it hung up
    })
    conn.on('connect', () => {
      connected = true
      conn.write(JSON.stringify({ id: ID, method, params }) + '\n')
    })
    // Lines already received are handled first; only then does a hang-up count as a failure.
    conn.on('close', () => setImmediate(() => finish(broken ?? new Error('the daemon closed the connection before answering (see its log)'))))
    lines(conn, line => {
      if (onRowText !== undefined && line.startsWith(ROW_HEAD) && line.endsWith('}')) {
        try {
          if (onRowText(line.slice(ROW_HEAD.length, -1))) return
        } catch (err) {
          finish(err as Error)
          return
        }
      }
      const msg = decode(line)
      if (msg === null) return finish(notJson())
      if (msg.error) finish(new DaemonError(msg.error))
      else if (msg.end) finish()
      else if ('row' in msg) {
        try {
          onRow(msg.row)
        } catch (err) {
          finish(err as Error)
        }
      }
    }, finish)
  })
  return { done, cancel: () => { if (!settled) { settled = true; conn.destroy() } } }
}

/** Collect every row of a request. */
export async function rows<T> (socket: string, method: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const out: T[] = []
  await call(socket, method, params, row => out.push(row as T)).done
  return out
}

/**
 * Several requests on one connection, each answered by its id: the daemon handles a request as
 * soon as it arrives, so the next can be on its way while the last is still being written.
 * One connection, so they share its fate: refused, dropped or stopped together.
 */
export interface Session {
  /** Send a request; resolves to its rows (rejects as `call` does). */
  send: (method: string, params: Record<string, unknown>) => Promise<unknown[]>
  /** Hang up; requests not answered yet are rejected. */
  close: () => void
}

export function session (socket: string): Session {
  const conn = net.connect(socket)
  const pending = new Map<number, { rows: unknown[], resolve: (rows: unknown[]) => void, reject: (err: Error) => void }>()
  let nextId = 1
  let connected = false
  let broken: Error | null = null
  let failed: Error | null = null
  const failAll = (err: Error): void => {
    failed ??= err
    conn.destroy()
    for (const p of pending.values()) p.reject(failed)
    pending.clear()
  }
  conn.on('error', (err: NodeJS.ErrnoException) => {
    const none = connected ? null : unreachable(socket, err)
    if (none !== null) failAll(none)
    else broken = err // as in call: the daemon may still say why before the close
  })
  conn.on('connect', () => { connected = true })
  conn.on('close', () => setImmediate(() => failAll(broken ?? new Error('the daemon closed the connection before answering (see its log)'))))
  lines(conn, line => {
    const msg = decode(line)
    if (msg === null) return failAll(notJson())
    const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined
    // An error for no request in particular (EBUSY, ESTOPPED) is an error for all of them.
    if (p === undefined) {
      if (msg.error) failAll(new DaemonError(msg.error))
      return
    }
    if (msg.error) {
      pending.delete(msg.id as number)
      p.reject(new DaemonError(msg.error))
    } else if (msg.end) {
      pending.delete(msg.id as number)
      p.resolve(p.rows)
    } else if ('row' in msg) p.rows.push(msg.row)
  }, failAll)
  return {
    send (method, params) {
      if (failed) return Promise.reject(failed)
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { rows: [], resolve, reject })
        conn.write(JSON.stringify({ id, method, params }) + '\n')
      })
    },
    close: () => failAll(new Error('the session was closed'))
  }
}
