// The local HTTP API (issue 14), off by default: `--http [HOST:]PORT`. Every endpoint only
// reads: POST /peer-up answers as a peer-up server does, GET /metrics gives Prometheus' text,
// GET /status what `peernet status --json` shows minus the local file layout and warnings.
// A loopback port is reachable by every local user and by any web page a browser shows
// (DNS rebinding, form posts), so: the Host header must name the bound address or localhost, a
// POST must say application/json (a form cannot), no CORS header is ever sent, bodies, time and
// concurrent requests are bounded, and every failure is a JSON error with its 4xx/5xx.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isIP } from 'node:net'
import { SERVICE_NAME } from '../wire/record.js'

/** Largest request body read, in bytes (a peer-up request is a few dozen). */
export const MAX_HTTP_BODY = 64 * 1024
/** Longest a request may take, headers and body, ms: a client that trickles bytes is cut off. */
export const HTTP_REQUEST_TIMEOUT = 10_000
/** Most requests served at once; more get 503 (each may hold a ring lookup). */
export const MAX_HTTP_REQUESTS = 16
/** Most offers one /peer-up answer carries (peer-up's max is a string: "1"). */
export const MAX_PEER_UP = 100

export interface HttpTarget { host: string, port: number }

/** `[HOST:]PORT` (IPv6 as [::1]:PORT) as host and port; host 127.0.0.1 when left out. Throws a sentence. */
export function parseHttpListen (v: string): HttpTarget {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):)?(\d{1,5})$/.exec(v)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || port > 65535) throw new Error(`--http ${JSON.stringify(v)}: give [HOST:]PORT, as 8080 or 127.0.0.1:8080 or [::1]:8080`)
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '')
  return { host, port }
}

/** Whether host is a loopback address (127.0.0.0/8, ::1) or localhost. */
export function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || host === '0:0:0:0:0:0:0:1'
}

export interface HttpHandlers {
  /** GET /status: a JSON object. */
  status: () => unknown
  /** GET /metrics: Prometheus text. */
  metrics: () => Promise<{ contentType: string, text: string }>
  /** POST /peer-up: up to max offers of service {name, version, url}. */
  peerUp: (service: string, max: number) => Promise<Array<{ name: string, version: string, url: string }>>
}

/** A failure with its HTTP status (handlers may throw one; anything else is a 500). */
export class HttpError extends Error {
  constructor (readonly status: number, message: string, readonly headers: Record<string, string> = {}) { super(message) }
}

export class HttpApi {
  private inflight = 0

  private constructor (private readonly server: Server, readonly bound: HttpTarget, private readonly open: boolean) {}

  /**
   * Listen at target. `open`: the address need not be loopback (--http-public) and any Host is
   * taken; otherwise a non-loopback host is refused before anything listens.
   */
  static async start (target: HttpTarget, handlers: HttpHandlers, open: boolean): Promise<HttpApi> {
    if (!open && !isLoopback(target.host)) throw new Error(`--http ${target.host}: not a loopback address; the API would be open to the network (give --http-public to mean it)`)
    let api: HttpApi | null = null
    const server = createServer((req, res) => { api?.serve(req, res, handlers) })
    server.requestTimeout = HTTP_REQUEST_TIMEOUT
    server.headersTimeout = HTTP_REQUEST_TIMEOUT
    server.maxHeadersCount = 64
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(target.port, target.host, () => { server.off('error', reject); resolve() })
    })
    server.on('clientError', (_err, socket) => { socket.destroy() })
    const a = server.address() as AddressInfo
    api = new HttpApi(server, { host: target.host, port: a.port }, open)
    return api
  }

  close (): Promise<void> {
    return new Promise(resolve => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private serve (req: IncomingMessage, res: ServerResponse, h: HttpHandlers): void {
    if (this.inflight >= MAX_HTTP_REQUESTS) {
      send(res, 503, { error: `too many requests at once (MAX_HTTP_REQUESTS is ${MAX_HTTP_REQUESTS})` }, { 'retry-after': '1' })
      req.resume()
      return
    }
    this.inflight++
    res.once('close', () => { this.inflight-- })
    this.route(req, h).then(
      r => r === null ? undefined : r.text !== undefined ? sendText(res, 200, r.text, r.contentType as string) : send(res, 200, r.json),
      (err: Error) => {
        if (err instanceof HttpError) send(res, err.status, { error: err.message }, err.headers)
        else send(res, 500, { error: err.message })
      }
    )
  }

  private async route (req: IncomingMessage, h: HttpHandlers): Promise<{ json?: unknown, text?: string, contentType?: string } | null> {
    this.checkHost(req.headers.host)
    const path = (req.url ?? '/').split('?')[0]
    const allow = path === '/peer-up' ? 'POST' : path === '/status' || path === '/metrics' ? 'GET, HEAD' : null
    if (allow === null) throw new HttpError(404, `no such endpoint ${JSON.stringify(path.slice(0, 100))} (there are POST /peer-up, GET /status, GET /metrics)`)
    const method = req.method === 'HEAD' ? 'GET' : req.method
    if (!allow.split(', ').includes(method ?? '')) throw new HttpError(405, `${path} takes ${allow}`, { allow })
    if (path === '/status') return { json: h.status() }
    if (path === '/metrics') {
      const m = await h.metrics()
      return { text: m.text, contentType: m.contentType }
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (type !== 'application/json') throw new HttpError(415, 'POST /peer-up takes Content-Type: application/json')
    const body = await readBody(req)
    let q: unknown
    try {
      q = JSON.parse(body)
    } catch {
      throw new HttpError(400, 'the body is not valid JSON')
    }
    const { service, max } = peerUpRequest(q)
    const services = await h.peerUp(service, max)
    return { json: { ...(q as object), services, count: services.length } }
  }

  /** DNS rebinding: a page that made its own name point at 127.0.0.1 still sends that name. */
  private checkHost (host: string | undefined): void {
    if (this.open) return
    const port = String(this.bound.port)
    const names = new Set([`localhost:${port}`, `${this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host}:${port}`])
    if (host === undefined || !names.has(host.toLowerCase())) throw new HttpError(421, `Host ${JSON.stringify((host ?? '').slice(0, 100))} is not this API's (${[...names].join(' or ')})`)
  }
}

/** peer-up's request: {"service": "stun", "max": "1"} (max a string, as peer-up sends it, or a number). */
export function peerUpRequest (q: unknown): { service: string, max: number } {
  if (q === null || typeof q !== 'object' || Array.isArray(q)) throw new HttpError(400, 'the body must be a JSON object: {"service": "stun", "max": "1"}')
  const { service, max } = q as { service?: unknown, max?: unknown }
  if (typeof service !== 'string' || !SERVICE_NAME.test(service)) throw new HttpError(400, 'service must be a service name: [a-z0-9][a-z0-9.-]{0,63}')
  const n = max === undefined ? 1 : typeof max === 'string' && /^\d{1,6}$/.test(max) ? Number(max) : max
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PEER_UP) throw new HttpError(400, `max must be a whole number from 1 to ${MAX_PEER_UP} (a string, as peer-up sends it, or a number)`)
  return { service, max: n }
}

function readBody (req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MAX_HTTP_BODY) {
      req.resume()
      return reject(new HttpError(413, `the body is over ${MAX_HTTP_BODY} bytes (MAX_HTTP_BODY)`))
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_HTTP_BODY) {
        req.removeAllListeners('data')
        req.resume()
        reject(new HttpError(413, `the body is over ${MAX_HTTP_BODY} bytes (MAX_HTTP_BODY)`))
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }

function send (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(body) + '\n', 'application/json; charset=utf-8', headers)
}

function sendText (res: ServerResponse, status: number, text: string, type: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { ...COMMON, ...headers, 'content-type': type, 'content-length': Buffer.byteLength(text) })
  res.end(res.req.method === 'HEAD' ? undefined : text)
}
