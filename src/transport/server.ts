// Listening side of the default transport: tcp and ws servers that hand each accepted
// connection to a callback as a duplex stream, with the remote host for source-group rules.
import { createRequire } from 'node:module'
import net from 'node:net'
import http from 'node:http'
import type { Duplex } from 'node:stream'
import { MAX_FRAME, MAX_OUTBUF } from '../wire/frame.js'
import { bindHost } from './address.js'

const require = createRequire(import.meta.url)

/**
 * Largest websocket message accepted. websocket-stream joins queued writes into one message,
 * so this is a full output buffer (MAX_OUTBUF) plus a frame; ws never buffers more.
 */
export const MAX_WS_MESSAGE = MAX_OUTBUF + 2 * MAX_FRAME

export interface ListenOptions {
  port?: number
  host?: string
}

export interface AcceptInfo {
  /** Remote IP of the connection, when the socket knows it. */
  host?: string
}

export interface Server {
  /** A URL others can dial, e.g. ws://127.0.0.1:48832. */
  address: string
  protocol: 'tcp' | 'ws'
  host: string
  port: number
  close: () => Promise<void>
}

export async function listen (protocol: 'tcp' | 'ws', opts: ListenOptions, onStream: (stream: Duplex, info: AcceptInfo) => void): Promise<Server> {
  const host = bindHost(opts.host ?? '127.0.0.1')
  const port = opts.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${String(port)} is out of range 0-65535`)
  let server: net.Server
  let wss: { close: (cb?: () => void) => void, clients?: Set<{ terminate: () => void }> } | null = null
  if (protocol === 'tcp') {
    server = net.createServer(socket => onStream(socket, { host: socket.remoteAddress }))
  } else if (protocol === 'ws') {
    const websocket = require('websocket-stream') as { createServer: (opts: object, cb: (s: Duplex, req: http.IncomingMessage) => void) => typeof wss }
    const hs = http.createServer((_req, res) => { res.statusCode = 426; res.end('peernet: websocket only\n') })
    // The service answers at "/" only: a path is part of an address (a proxy may route by it),
    // so ws://H:P/x must not silently reach the same node as ws://H:P under a second name.
    const verifyClient = (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void): void => {
      const path = (info.req.url ?? '/').split('?')[0]
      if (path === '/') cb(true)
      else cb(false, 404, 'peernet answers at / on this port')
    }
    wss = websocket.createServer({ server: hs, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false, verifyClient },
      (stream, req) => onStream(stream, { host: req.socket.remoteAddress }))
    // ws re-emits the HTTP server's errors on itself; they are handled on the HTTP server.
    ;(wss as unknown as { on: (e: string, f: () => void) => void }).on('error', () => {})
    server = hs
  } else {
    throw new Error(`cannot listen on "${String(protocol)}": use tcp or ws`)
  }
  const sockets = new Set<net.Socket>()
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // After start-up a server error (e.g. EMFILE on accept) must not take the process down.
  server.on('error', () => {})
  const bound = server.address() as net.AddressInfo
  const shownHost = bound.address.includes(':') ? `[${bound.address}]` : bound.address
  return {
    address: `${protocol}://${shownHost}:${bound.port}`,
    protocol,
    host: bound.address,
    port: bound.port,
    close: () => new Promise<void>(resolve => {
      if (wss?.clients) for (const c of wss.clients) c.terminate()
      wss?.close()
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}
