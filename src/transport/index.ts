// The default transport: resolves tcp://, ws:// and wss:// addresses to duplex streams through
// transport-stream, with every one of its built-in protocols (file, ssh, http, https, and the
// "run a command" fallback) switched off. Addresses are checked by parseAddress before
// transport-stream sees them, so nothing but the schemes below can ever be reached.
import { createRequire } from 'node:module'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { parseAddress, AddressError } from './address.js'
import { MAX_WS_MESSAGE } from './server.js'

const require = createRequire(import.meta.url)

export type Transport = (address: string) => Duplex

type Resolver = (address: string) => Duplex
let resolver: Resolver | null = null

function tcp (address: string): Duplex {
  const { host, port } = parseAddress(address)
  return net.connect({ host, port })
}

/** ws's words for a peer that is no websocket service at that URL, as a sentence a user can act on. */
function explainWs (err: Error, path: string): void {
  const m = /^Unexpected server response: (\d+)/.exec(err.message)
  if (m) err.message = `the server answered HTTP ${m[1]} instead of a websocket: no service at path ${path}${m[1] === '404' ? ' (a peernet service answers at /)' : ''}`
  else if (/^Parse Error/.test(err.message)) err.message = 'the peer did not answer in HTTP, so it is no websocket service (a tcp:// service? dial it as tcp://)'
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
  return websocket(socket, [], opts)
}

function resolve (): Resolver {
  if (resolver) return resolver
  const transportStream = require('transport-stream') as (opts: object) => Resolver
  resolver = transportStream({
    // transport-stream insists on a command for ssh/file; both are switched off below.
    command: 'false',
    protocols: { tcp, ws, wss: ws, file: false, ssh: false, http: false, https: false }
  })
  return resolver
}

/** Open a duplex stream to a tcp://, ws:// or wss:// address. Throws AddressError otherwise. */
export function transport (address: string): Duplex {
  const a = parseAddress(address)
  if (a.scheme === 'mem') throw new AddressError(address, 'mem:// addresses need an in-memory transport (see peernet/transport/mem)')
  return resolve()(a.href)
}

export { parseAddress, normalizeAddress, AddressError, SCHEMES } from './address.js'
export { listen, MAX_WS_MESSAGE, type Server, type ListenOptions, type AcceptInfo } from './server.js'
export default transport
