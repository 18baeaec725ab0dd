// The control socket: a Unix socket in a private directory, one NDJSON request per line, any
// number of rows per answer. A client that sends garbage, a line past MAX_LINE, or goes away
// mid-stream affects only itself.
import net from 'node:net'
import { chmodSync, unlinkSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import split2 from 'split2'
import { MAX_LINE, MAX_CLIENTS, MAX_CLIENT_BUFFER, METHODS, type Request, type Reply, type ErrorBody } from '../control/protocol.js'
import { makeDirs } from '../control/dirs.js'
import { humanize } from '../control/errors.js'

/** An error whose code and message go to the client as they are. */
export class ControlError extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
    this.name = 'ControlError'
  }
}

export interface Reply$<R = unknown> {
  /** Send a row; resolves when the client can take more (back-pressure). */
  row: (value: R) => Promise<void>
  /**
   * Send rows given as their JSON text (each exactly what JSON.stringify writes of the row), in
   * one write: the lines row() would send for them. Resolves as row() does.
   */
  rowsJson: (rows: string[]) => Promise<void>
  /**
   * Aborted when the client goes away (reason: EGONE) or the daemon stops (reason: ESTOPPED);
   * `signal.throwIfAborted()` turns a cut-short answer into the matching error.
   */
  signal: AbortSignal
}

/** How long close() lets answers in flight finish, and a client close its end, before dropping it. */
export const CLOSE_GRACE = 1000

export type Handle = (method: string, params: Record<string, unknown>, reply: Reply$) => Promise<void>

export interface ControlServer {
  socket: string
  clients: () => number
  close: () => Promise<void>
}

/**
 * The lines answering request id with rows given as JSON text: each line the text of
 * JSON.stringify({ id, row }), its `{"id":…,"row":` made once for the answer, not once a row.
 */
function rowLines (id: Request['id']): (rows: string[]) => string {
  const head = `{"id":${JSON.stringify(id)},"row":`
  return rows => {
    let text = ''
    for (const json of rows) text += head + json + '}\n'
    return text
  }
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
  makeDirs(dir, 0o700, 'the socket\'s directory')
  if (privateDir) chmodSync(dir, 0o700)
  let exists = false
  try {
    exists = statSync(path).isSocket()
  } catch {}
  if (exists) {
    if (await answering(path)) throw new Error(`a daemon already answers on ${path}`)
    unlinkSync(path) // stale: left by a daemon that was killed
  }
  /** Admitted clients, with what close() needs: their requests in flight and their abort. */
  const clients = new Map<net.Socket, { inflight: number, abort: AbortController, settled: () => void }>()
  /** Every accepted socket, turned-away ones included, so close() can end them all. */
  const sockets = new Set<net.Socket>()
  let stopping = false
  // Half-open: a client that closes its sending side still reads every answer (socat, `nc -N`).
  const server = net.createServer({ allowHalfOpen: true }, sock => serveClient(sock))

  /**
   * Say a last line and half-close; drop the client a moment later even if it keeps its end
   * open. (Destroying at once would make the client's pending write fail with EPIPE, and Node
   * then discards the line we sent before it is read.)
   */
  function dismiss (sock: net.Socket, line: string): void {
    sock.resume()
    sock.end(line)
    setTimeout(() => sock.destroy(), CLOSE_GRACE).unref()
  }

  function serveClient (sock: net.Socket): void {
    sock.on('error', () => {})
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    if (clients.size >= MAX_CLIENTS || stopping) {
      const error = stopping
        ? { code: 'ESTOPPED', message: 'the daemon is stopping' }
        : { code: 'EBUSY', message: `too many control clients (MAX_CLIENTS is ${MAX_CLIENTS})` }
      dismiss(sock, JSON.stringify({ id: null, error }) + '\n')
      return
    }
    const state = { inflight: 0, abort: new AbortController(), settled: () => {} }
    clients.set(sock, state)
    sock.on('close', () => {
      clients.delete(sock)
      state.abort.abort(new ControlError('EGONE', 'client went away'))
    })
    /** The client sent its last request: answer them all, then close our side too. */
    let inputDone = false
    const settle = (): void => {
      state.settled()
      if (inputDone && state.inflight === 0 && !stopping) sock.end()
    }
    let corked = false
    /** Write text (whole lines); resolves when the client can take more. */
    const send = (text: string): Promise<void> => {
      if (sock.destroyed || !sock.writable) return Promise.reject(new ControlError('EGONE', 'client went away'))
      // Rows written in one turn of the event loop leave in one write, not a syscall each.
      if (!corked) {
        corked = true
        sock.cork()
        process.nextTick(() => { corked = false; sock.uncork() })
      }
      const ok = sock.write(text)
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
    const write = (reply: Reply): Promise<void> => send(JSON.stringify(reply) + '\n')
    const fail = (id: Request['id'] | null, error: ErrorBody): void => {
      write({ id, error: { code: error.code, message: humanize(error.message) } }).catch(() => {})
    }
    const split = sock.pipe(split2({ maxLength: MAX_LINE }))
    split
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
        if (stopping) return fail(id, { code: 'ESTOPPED', message: 'the daemon is stopping' })
        state.inflight++
        const lines = rowLines(id)
        handle(req.method, params, { row: value => write({ id, row: value }), rowsJson: rows => rows.length > 0 ? send(lines(rows)) : Promise.resolve(), signal: state.abort.signal })
          .then(() => write({ id, end: true }))
          .catch((err: Error) => {
            if (err instanceof ControlError && err.code === 'EGONE') return
            if (err instanceof ControlError) return fail(id, { code: err.code, message: err.message })
            onError(err)
            fail(id, { code: 'EFAIL', message: err.message })
          })
          .finally(() => {
            state.inflight--
            settle()
          })
      })
      .on('end', () => {
        inputDone = true
        settle()
      })
      .on('error', () => {
        // split2 gives up on a line past MAX_LINE: say so, then drop the client.
        sock.unpipe()
        sock.resume()
        dismiss(sock, JSON.stringify({ id: null, error: { code: 'ETOOLONG', message: `request line longer than MAX_LINE (${MAX_LINE} bytes)` } }) + '\n')
      })
    // At the end of the input: a client that half-closed still reads, one that is gone does
    // not. They look alike here; a write of zero bytes tells them apart (EPIPE, then 'close',
    // which aborts its requests) and sends nothing to a client that is still there.
    sock.on('end', () => { if (sock.writable) sock.write('') })
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

  /**
   * Stop taking clients; cut answers still streaming (they end with ESTOPPED, a log follower's
   * with its end row), let each client's last rows leave, end the connections, and drop
   * whoever is still there after CLOSE_GRACE.
   */
  async function close (): Promise<void> {
    stopping = true
    server.close()
    try { unlinkSync(path) } catch {}
    const deadline = new Promise<void>(resolve => setTimeout(resolve, CLOSE_GRACE).unref())
    await Promise.all([...clients].map(async ([sock, state]) => {
      state.abort.abort(new ControlError('ESTOPPED', 'the daemon stopped before the answer was complete'))
      if (state.inflight > 0) {
        await Promise.race([deadline, new Promise<void>(resolve => {
          state.settled = () => { if (state.inflight === 0) resolve() }
        })])
      }
      sock.end()
    }))
    const open = [...sockets].filter(s => !s.destroyed)
    await Promise.race([deadline, Promise.all(open.map(s => new Promise(resolve => s.once('close', resolve))))])
    for (const s of sockets) s.destroy()
  }

  return {
    socket: path,
    clients: () => clients.size,
    close
  }
}
