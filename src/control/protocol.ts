// The control socket's contract, shared by the daemon and the CLI (and nothing heavier).
// One NDJSON request per line: {id, method, params}. Answers for that id are rows
// {id, row}, then one {id, end: true} or {id, error: {code, message}}.

/** Longest request or answer line, in bytes. A longer request gets an error row and is dropped. */
export const MAX_LINE = 1024 * 1024
/** Most addresses or subnets in one request (`add -` sends larger lists in pieces). */
export const MAX_ITEMS_PER_REQUEST = 1000
/** Most control clients connected at once; more are told so and dropped. */
export const MAX_CLIENTS = 512
/** Most bytes queued to one control client before it counts as a reader that went away. */
export const MAX_CLIENT_BUFFER = 4 * 1024 * 1024

export interface Request {
  id: number | string
  method: string
  params?: Record<string, unknown>
}

export interface ErrorBody {
  code: string
  message: string
}

export type Reply =
  | { id: Request['id'] | null, row: unknown }
  | { id: Request['id'] | null, end: true }
  | { id: Request['id'] | null, error: ErrorBody }

/** The methods the daemon answers. */
export const METHODS = [
  'status', 'close', 'log', 'known', 'own', 'connections', 'connect', 'disconnect', 'add', 'rm',
  'join', 'part', 'subnets', 'search', 'listen', 'unlisten', 'servers', 'stats'
] as const

// --- rows as they appear on the socket and in --json output (stable keys) ----------------

export interface StatusRow {
  id: string
  pid: number
  version: string
  uptime: number
  datadir: string
  socket: string
  network: string
  known: number
  saved: number
  learned: number
  tombstones: number
  connections: number
  subnets: number
  servers: number
  searches: number
  addresses: string[]
  settings: Record<string, unknown>
  limits: Record<string, number>
}

export interface KnownRow { address: string, saved: boolean, subnets: string[] }
/** `address` answers for the peer; `claimed` is an inbound peer's unconfirmed word (see PeerInfo). */
export interface ConnectionRow { id: string, address: string | null, claimed: string | null, direction: 'in' | 'out', since: number, rx: number, tx: number }
export interface ServerRow { address: string, protocol: 'tcp' | 'ws', host: string, port: number }
export interface SearchRow { hash: string, address: string, hops: number }
export interface LogRow { time: number, type: string, [key: string]: unknown }
export interface StatsRow {
  address: string
  saved: boolean
  connections: { ok: number, fail: number }
  nodes: { rx: number, tx: number }
  first: number | null
  last: number | null
  lastOk: number | null
  sources: string[]
  subnets: string[]
}
