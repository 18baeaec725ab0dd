// The default transport: resolves tcp://, ws:// and wss:// addresses to duplex streams through
// transport-stream, with every one of its built-in protocols (file, ssh, http, https, and the
// "run a command" fallback) switched off. Addresses are checked by parseAddress before
// transport-stream sees them, so nothing but the schemes below can ever be reached: that
// matters most for "-", which transport-stream wires to this process's stdin and stdout
// whatever its switches say.
import { createRequire } from 'node:module'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { parseAddress, AddressError } from './address.js'
import { MAX_WS_MESSAGE } from './server.js'
import { deafOnceClosed } from './websocket-guard.js'

const require = createRequire(import.meta.url)

export type Transport = (address: string) => Duplex

let cached: Transport | null = null

function tcp (address: string): Duplex {
  const { host, port } = parseAddress(address)
  // No Nagle: see server.ts (the node batches; the handshake's small messages must not wait).
  return net.connect({ host, port, noDelay: true })
}

/** ws's words for a peer that is no websocket service at that URL, as a sentence a user can act on. */
function explainWs (err: Error, path: string): void {
  const m = /^Unexpected server response: (\d+)/.exec(err.message)
  if (m) err.message = `the server answered HTTP ${m[1]} instead of a websocket: no service at path ${path}${m[1] === '404' ? ' (a peernet service answers at /)' : ''}`
  // A tcp:// service of peernet reads the upgrade request as a Noise message and hangs up.
  else if (/^Parse Error|^socket hang up/.test(err.message)) err.message = 'the peer did not answer in HTTP, so it is no websocket service (a tcp:// service? dial it as tcp://)'
}

interface WsSocket { binaryType: string, on: (event: 'error', fn: (err: Error) => void) => void }

function ws (address: string): Duplex {
  const websocket = require('websocket-stream') as (socket: WsSocket, protocols: string[], opts: object) => Duplex
  const WebSocket = require('ws') as new (url: string, protocols: string[], opts: object) => WsSocket
  const a = parseAddress(address)
  const opts = { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false }
  // The socket is made here, not by websocket-stream, to reword ws's error before it is wrapped
  // in an ErrorEvent whose message can no longer change. An explicit empty protocol list: with
  // options alone, ws 8 gets a null protocol and rejects it as "invalid or duplicated subprotocol".
  const socket = new WebSocket(a.href, [], opts)
  socket.binaryType = 'arraybuffer' // as websocket-stream sets on sockets it makes itself
  socket.on('error', err => explainWs(err, a.path))
  return deafOnceClosed(websocket(socket, [], opts))
}

/**
 * transport-stream as `transport` uses it: tcp and ws of our own, its file, ssh, http and https
 * switched off (a string without a scheme counts as file). Exported so tests can hold each
 * switch to account; hand it only what parseAddress accepted.
 */
export function resolver (): Transport {
  if (cached) return cached
  const transportStream = require('transport-stream') as (opts: object) => Transport
  cached = transportStream({
    // transport-stream insists on a command for ssh/file; both are switched off below.
    command: 'false',
    protocols: { tcp, ws, wss: ws, file: false, ssh: false, http: false, https: false }
  })
  return cached
}

/** Open a duplex stream to a tcp://, ws:// or wss:// address. Throws AddressError otherwise. */
export function transport (address: string): Duplex {
  const a = parseAddress(address)
  if (a.scheme === 'mem') throw new AddressError(address, 'mem:// addresses need an in-memory transport (see peernet/transport/mem)')
  return resolver()(a.href)
}

/**
 * `opts.transport` as a node uses it. A function is the transport itself. The module namespace
 * of peernet/transport (`require('peernet/transport')`, `import * as t from 'peernet/transport'`)
 * is a common slip, so its `transport` export is taken. Anything else is a TypeError here, at
 * construction, rather than "not a function" at the first dial. Unset means the default.
 */
export function resolveTransportOption (x: unknown): Transport | undefined {
  if (x === undefined || x === null) return undefined
  if (typeof x === 'function') return x as Transport
  if (typeof x === 'object') {
    const fn = (x as { transport?: unknown }).transport
    if (typeof fn === 'function') return fn as Transport
  }
  const what = typeof x === 'object' ? 'an object without a transport function' : `a ${typeof x}`
  throw new TypeError(`opts.transport must be a function (address) => duplex stream, such as the default export of peernet/transport; got ${what}`)
}

export { parseAddress, normalizeAddress, AddressError, SCHEMES } from './address.js'
export { listen, createWebSocketServer, MAX_WS_MESSAGE, TLS_HANDSHAKE_TIMEOUT, SERVICE_PROTOCOLS, type ServiceProtocol, type TlsFiles, type Server, type ListenOptions, type AcceptInfo, type WebSocketServer } from './server.js'
export default transport
