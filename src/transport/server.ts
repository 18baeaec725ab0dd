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

/** What createWebSocketServer returns: close() ends every websocket it accepted. */
export interface WebSocketServer {
  close: () => void
}

/**
 * Accept websockets on an HTTP server you own (its other requests stay yours; `path` limits the
 * websockets to one path) and hand each one
 * to `onStream` as a duplex, with the message bound and no compression, as `listen('ws')` does.
 * It is the seed's `wsock.createServer({ server }, fn)` without a dependency of your own on
 * websocket-stream: the copy peernet ships runs on a current ws.
 */
export function createWebSocketServer (opts: { server: http.Server, path?: string }, onStream: (stream: Duplex, info: AcceptInfo) => void): WebSocketServer {
  const websocket = require('websocket-stream') as { createServer: (opts: object, cb: (s: Duplex, req: http.IncomingMessage) => void) => WsServer }
  // With `path`, a websocket asking for any other path is answered 404, naming what it asked.
  const verifyClient = opts.path === undefined
    ? undefined
    : (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void): void => {
        const path = (info.req.url ?? '/').split('?')[0]
        if (path === opts.path) cb(true)
        else cb(false, 404, `peernet answers at ${String(opts.path)} on this port`)
      }
  const wss = websocket.createServer({ server: opts.server, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false, verifyClient },
    (stream, req) => onStream(stream, { host: req.socket.remoteAddress }))
  // ws re-emits the HTTP server's errors on itself; they belong to the HTTP server's owner.
  wss.on('error', () => {})
  return {
    close: () => {
      for (const c of wss.clients ?? []) c.terminate()
      wss.close()
    }
  }
}

interface WsServer {
  close: (cb?: () => void) => void
  on: (event: string, f: () => void) => void
  clients?: Set<{ terminate: () => void }>
}

export async function listen (protocol: 'tcp' | 'ws', opts: ListenOptions, onStream: (stream: Duplex, info: AcceptInfo) => void): Promise<Server> {
  const host = bindHost(opts.host ?? '127.0.0.1')
  const port = opts.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${String(port)} is out of range 0-65535`)
  let server: net.Server
  let wss: WebSocketServer | null = null
  if (protocol === 'tcp') {
    server = net.createServer(socket => onStream(socket, { host: socket.remoteAddress }))
  } else if (protocol === 'ws') {
    const hs = http.createServer((_req, res) => { res.statusCode = 426; res.end('peernet: websocket only\n') })
    // The service answers at "/" only: a path is part of an address (a proxy may route by it),
    // so ws://H:P/x must not silently reach the same node as ws://H:P under a second name.
    wss = createWebSocketServer({ server: hs, path: '/' }, onStream)
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
      wss?.close()
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}
