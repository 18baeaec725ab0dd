// The control socket: a Unix socket in a private directory, one NDJSON request per line, any
// number of rows per answer. A client that sends garbage, a line past MAX_LINE, or goes away
// mid-stream affects only itself.
import net from 'node:net'
import { chmodSync, mkdirSync, unlinkSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import split2 from 'split2'
import { MAX_LINE, MAX_CLIENTS, MAX_CLIENT_BUFFER, METHODS, type Request, type Reply, type ErrorBody } from '../control/protocol.js'

/** An error whose code and message go to the client as they are. */
export class ControlError extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
    this.name = 'ControlError'
  }
}

export interface Reply$ {
  /** Send a row; resolves when the client can take more (back-pressure). */
  row: (value: unknown) => Promise<void>
  /** Aborted when the client goes away. */
  signal: AbortSignal
}

export type Handle = (method: string, params: Record<string, unknown>, reply: Reply$) => Promise<void>

export interface ControlServer {
  socket: string
  clients: () => number
  close: () => Promise<void>
}

/** Is something answering on this socket path? */
function answering (path: string): Promise<boolean> {
  return new Promise(resolve => {
    const c = net.connect(path)
    c.on('connect', () => { c.destroy(); resolve(true) })
    c.on('error', () => resolve(false))
  })
}

/**
 * Serve the control socket at path. `privateDir`: the socket's directory is peernet's own
 * (DATADIR/run or the per-user runtime dir) and is made 0700; a directory the user named with
 * --sockfile is only created when missing, never changed.
 */
export async function serveControl (path: string, handle: Handle, onError: (err: Error) => void, privateDir = true): Promise<ControlServer> {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (privateDir) chmodSync(dir, 0o700)
  let exists = false
  try {
    exists = statSync(path).isSocket()
  } catch {}
  if (exists) {
    if (await answering(path)) throw new ControlError('EALREADY', `a daemon already answers on ${path}`)
    unlinkSync(path) // stale: left by a daemon that was killed
  }
  const clients = new Set<net.Socket>()
  /** Every accepted socket, turned-away ones included, so close() can end them all. */
  const sockets = new Set<net.Socket>()
  const server = net.createServer(sock => serveClient(sock))

  /**
   * Say a last line and half-close; drop the client a moment later even if it keeps its end
   * open. (Destroying at once would make the client's pending write fail with EPIPE, and Node
   * then discards the line we sent before it is read.)
   */
  function dismiss (sock: net.Socket, line: string): void {
    sock.resume()
    sock.end(line)
    setTimeout(() => sock.destroy(), 1000).unref()
  }

  function serveClient (sock: net.Socket): void {
    sock.on('error', () => {})
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    if (clients.size >= MAX_CLIENTS) {
      dismiss(sock, JSON.stringify({ id: null, error: { code: 'EBUSY', message: `too many control clients (MAX_CLIENTS is ${MAX_CLIENTS})` } }) + '\n')
      return
    }
    clients.add(sock)
    const abort = new AbortController()
    sock.on('close', () => {
      clients.delete(sock)
      abort.abort()
    })
    let corked = false
    const write = (reply: Reply): Promise<void> => {
      if (sock.destroyed) return Promise.reject(new ControlError('EGONE', 'client went away'))
      // Rows written in one turn of the event loop leave in one write, not a syscall each.
      if (!corked) {
        corked = true
        sock.cork()
        process.nextTick(() => { corked = false; sock.uncork() })
      }
      const ok = sock.write(JSON.stringify(reply) + '\n')
      if (ok) return Promise.resolve()
      if (sock.writableLength > MAX_CLIENT_BUFFER) {
        sock.destroy()
        return Promise.reject(new ControlError('EGONE', 'client stopped reading'))
      }
      return new Promise((resolve, reject) => {
        const done = (): void => { sock.off('drain', done); sock.off('close', gone); resolve() }
        const gone = (): void => { sock.off('drain', done); reject(new ControlError('EGONE', 'client went away')) }
        sock.once('drain', done)
        sock.once('close', gone)
      })
    }
    const fail = (id: Request['id'] | null, error: ErrorBody): void => { write({ id, error }).catch(() => {}) }
    sock.pipe(split2({ maxLength: MAX_LINE }))
      .on('data', (line: string) => {
        if (line.trim() === '') return
        let req: Request
        try {
          req = JSON.parse(line)
        } catch {
          fail(null, { code: 'EPARSE', message: 'request line is not JSON' })
          return
        }
        const id = req !== null && typeof req === 'object' && (typeof req.id === 'number' || typeof req.id === 'string') ? req.id : null
        if (id === null) return fail(null, { code: 'EINVAL', message: 'request needs an id (number or string)' })
        if (typeof req.method !== 'string' || !(METHODS as readonly string[]).includes(req.method)) {
          return fail(id, { code: 'EMETHOD', message: `unknown method ${JSON.stringify(String(req.method).slice(0, 40))}` })
        }
        const params = req.params ?? {}
        if (params === null || typeof params !== 'object' || Array.isArray(params)) return fail(id, { code: 'EINVAL', message: 'params must be an object' })
        handle(req.method, params, { row: value => write({ id, row: value }), signal: abort.signal })
          .then(() => write({ id, end: true }))
          .catch((err: Error) => {
            if (err instanceof ControlError && err.code === 'EGONE') return
            if (!(err instanceof ControlError)) onError(err)
            fail(id, { code: err instanceof ControlError ? err.code : 'EFAIL', message: err.message })
          })
      })
      .on('error', () => {
        // split2 gives up on a line past MAX_LINE: say so, then drop the client.
        sock.unpipe()
        sock.resume()
        dismiss(sock, JSON.stringify({ id: null, error: { code: 'ETOOLONG', message: `request line longer than MAX_LINE (${MAX_LINE} bytes)` } }) + '\n')
      })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    const old = process.umask(0o177)
    try {
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    } finally {
      process.umask(old)
    }
  })
  chmodSync(path, 0o600)
  return {
    socket: path,
    clients: () => clients.size,
    close: () => new Promise(resolve => {
      server.close(() => resolve())
      for (const c of sockets) c.destroy()
      try { unlinkSync(path) } catch {}
    })
  }
}
