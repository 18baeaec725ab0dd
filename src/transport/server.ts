// Listening side of the default transport: tcp, ws and wss servers that hand each accepted
// connection to a callback as a duplex stream, with the remote host for source-group rules.
import { createRequire } from 'node:module'
import net from 'node:net'
import http from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { MAX_FRAME, MAX_OUTBUF } from '../wire/frame.js'
import { bindHost } from './address.js'
import { deafOnceClosed } from './websocket-guard.js'

const require = createRequire(import.meta.url)

/**
 * Largest websocket message accepted. websocket-stream joins queued writes into one message,
 * so this is a full output buffer (MAX_OUTBUF) plus a frame; ws never buffers more.
 */
export const MAX_WS_MESSAGE = MAX_OUTBUF + 2 * MAX_FRAME

/**
 * Longest a wss client may take over its TLS handshake before its socket is closed. Node's
 * default is 120 s, long enough for a few hundred silent sockets to hold a service's file
 * descriptors; an honest client on a slow link finishes in well under a second or two.
 */
export const TLS_HANDSHAKE_TIMEOUT = 10_000

/** What a listening service speaks. */
export type ServiceProtocol = 'tcp' | 'ws' | 'wss'
export const SERVICE_PROTOCOLS: readonly ServiceProtocol[] = ['tcp', 'ws', 'wss']

/** A wss service's TLS identity, PEM text as a TLS server takes it (the p2p seed's certificate and privateKey). */
export interface TlsFiles {
  cert: string | Buffer
  key: string | Buffer
}

export interface ListenOptions {
  port?: number
  host?: string
  /** Required for wss, refused for the others. */
  tls?: TlsFiles
}

export interface AcceptInfo {
  /** Remote IP of the connection, when the socket knows it. */
  host?: string
}

export interface Server {
  /** A URL others can dial, e.g. ws://127.0.0.1:48832. */
  address: string
  protocol: ServiceProtocol
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
    (stream, req) => onStream(deafOnceClosed(stream), { host: req.socket.remoteAddress }))
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

/**
 * An HTTPS server for wss, with OpenSSL's words for PEM it cannot use turned into a sentence
 * naming which part is wrong (its own say "error:0480006C:PEM routines::no start line").
 */
function tlsServer (tls: TlsFiles, handler: http.RequestListener): https.Server {
  try {
    return https.createServer({ cert: tls.cert, key: tls.key, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT }, handler)
  } catch (err) {
    const e = err as Error & { code?: string, library?: string }
    const what = /key values mismatch/i.test(e.message)
      ? 'the key does not belong to the certificate'
      : /PEM|ASN1|DECODER|no start line|bad base64|unsupported/i.test(e.message)
        ? 'the certificate or key is not a PEM file a TLS server can use (a certificate: BEGIN CERTIFICATE; a key: BEGIN PRIVATE KEY)'
        : e.message
    throw new Error(what)
  }
}

export async function listen (protocol: ServiceProtocol, opts: ListenOptions, onStream: (stream: Duplex, info: AcceptInfo) => void): Promise<Server> {
  const host = bindHost(opts.host ?? '127.0.0.1')
  const port = opts.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${String(port)} is out of range 0-65535`)
  if (!SERVICE_PROTOCOLS.includes(protocol)) throw new Error(`cannot listen on "${String(protocol)}": use tcp, ws or wss`)
  if ((protocol === 'wss') !== (opts.tls !== undefined)) throw new Error(protocol === 'wss' ? 'wss needs a certificate and its key (opts.tls: {cert, key})' : `a certificate is for wss, not ${protocol}`)
  let server: net.Server
  let wss: WebSocketServer | null = null
  if (protocol === 'tcp') {
    server = net.createServer(socket => onStream(socket, { host: socket.remoteAddress }))
  } else {
    const upgradeOnly: http.RequestListener = (_req, res) => { res.statusCode = 426; res.end('peernet: websocket only\n') }
    const hs = opts.tls === undefined ? http.createServer(upgradeOnly) : tlsServer(opts.tls, upgradeOnly)
    // The service answers at "/" only: a path is part of an address (a proxy may route by it),
    // so ws://H:P/x must not silently reach the same node as ws://H:P under a second name.
    wss = createWebSocketServer({ server: hs, path: '/' }, onStream)
    server = hs
  }
  const sockets = new Set<net.Socket>()
  // For https the raw TCP socket: destroying it also ends a TLS handshake that never finished.
  server.on('connection', (s: net.Socket) => {
    // The node batches its frames itself, one write a turn; Nagle would only hold back the
    // secure handshake's small messages (tcp and ws alike).
    s.setNoDelay(true)
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
