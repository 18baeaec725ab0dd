// The control socket's contract, shared by the daemon and the CLI (and nothing heavier).
// One NDJSON request per line: {id, method, params}. Answers for that id are rows
// {id, row}, then one {id, end: true} or {id, error: {code, message}}. A client may send many
// requests on one connection without waiting; answers of different ids may interleave. A client
// that closes its sending side (half-close, as `socat` does at the end of its input) still gets
// every answer to what it sent; the daemon closes the connection after the last one.

/** Longest request or answer line, in bytes. A longer request gets an error row and is dropped. */
export const MAX_LINE = 1024 * 1024
/** Most addresses or subnets in one request (`add -` sends larger lists in pieces). */
export const MAX_ITEMS_PER_REQUEST = 1000
/**
 * Requests of a long `add` the CLI keeps in flight at once, on one connection: while LevelDB
 * syncs one batch, the daemon reads and checks the next, instead of waiting for the CLI's next line.
 */
export const ADD_WINDOW = 2
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

/** Error codes of error rows, and what each means (the README and the man page list them). */
export const ERROR_CODES: Record<string, string> = {
  EPARSE: 'the request line is not JSON (the answer\'s id is null)',
  EINVAL: 'a missing id, or a bad parameter: the message names it',
  EMETHOD: 'no such method',
  ETOOLONG: `the request line is longer than MAX_LINE (${MAX_LINE} bytes); the connection is closed`,
  EBUSY: `too many clients (MAX_CLIENTS is ${MAX_CLIENTS}); the connection is closed`,
  ELIMIT: 'a bound of the daemon was reached (the message names it)',
  ECONNECT: 'connect: the peer could not be reached or refused us',
  ENOTCONN: 'disconnect: no connection to that address or id',
  ENOCONN: 'search: this node has no connections to search through',
  EFILE: 'reload: services.json is not right (the message names the file, the entry and the field); the daemon keeps the set it had',
  ENORING: 'find: this node has not joined the ring, or the lookup failed (the message says which)',
  ENOENT: 'unlisten, stats: nothing known at that address or id',
  ELISTEN: 'listen: the socket could not be opened',
  ESEND: 'send: the recipient\'s signed acknowledgement did not come back (the message says why: no node with that id, no way there, a timeout, or the recipient refused it, such as a full inbox)',
  ESLOW: 'log, messages: the reader fell too far behind and was dropped',
  ESTOPPED: 'the daemon stopped before the answer was complete',
  EFAIL: 'an unexpected failure inside the daemon (its log has the details)'
}

/** The methods the daemon answers. */
export const METHODS = [
  'status', 'id', 'close', 'log', 'known', 'own', 'connections', 'connect', 'disconnect', 'add', 'rm',
  'join', 'part', 'subnets', 'search', 'listen', 'unlisten', 'servers', 'stats', 'clear-warnings',
  'owner', 'ring', 'offer', 'withdraw', 'offers', 'find', 'reload', 'introduce', 'send', 'messages'
] as const

/** Longest value `owner` takes, in characters (it is hashed to a point: any text will do, within reason). */
export const MAX_OWNER_VALUE = 1024

// --- rows as they appear on the socket and in --json output (stable keys) ----------------

export interface StatusRow {
  id: string
  pid: number
  version: string
  uptime: number
  datadir: string
  socket: string
  network: string
  /** Where the node stands on the ring: lonely, unbalanced or joined. */
  ring: 'lonely' | 'unbalanced' | 'joined'
  known: number
  saved: number
  learned: number
  tombstones: number
  connections: number
  subnets: number
  servers: number
  searches: number
  /** Services that did not reopen at start (`servers` lists them with the reason). */
  failedServers: number
  /** Kept in the db until cleared with the method clear-warnings (`status --clear-warnings`). */
  warnings: Array<{ time: number, message: string }>
  addresses: string[]
  settings: Record<string, unknown>
  limits: Record<string, number>
}

/** `id`: the node the address reaches, where known (the user gave it, or a handshake proved it). */
export interface KnownRow { address: string, saved: boolean, subnets: string[], id?: string }
/** `address` answers for the peer; `claimed` is an inbound peer's unconfirmed word (see PeerInfo). */
/** A link: `transport` is what carries it (tcp, ws, wss, webrtc; null when not known). */
export interface ConnectionRow { id: string, address: string | null, claimed: string | null, direction: 'in' | 'out', transport: string | null, since: number, rx: number, tx: number }
/**
 * A service: open, or kept but failed to reopen at start (then `error` says why). A wss one
 * names the certificate and key files it reads at every start.
 */
export interface ServerRow { address: string, protocol: 'tcp' | 'ws' | 'wss' | 'stun', host: string, port: number, state: 'open' | 'failed', cert?: string, key?: string, error?: string, stun?: StunCounters }
/** An open STUN server's counters (src/stun/server.ts's StunStats): datagrams in, answers out, drops by reason. */
export interface StunCounters { received: number, answered: number, refused: number, dropped: Record<string, number>, sources: number, socketErrors: number }
export interface SearchRow { hash: string, address: string | null, hops: number, id: string | null, addresses: string[], via: 'ring' | 'flood' }
/** connect, disconnect, unlisten and own: the address concerned. */
export interface AddressRow { address: string }
/** A node id: its public key, 64 hex digits. */
export interface IdRow { id: string }
/** The node responsible for `value`, and the links the lookup travelled. */
export interface OwnerRow { value: string, id: string, addresses: string[], metadata: Record<string, string>, hops: number }
export interface RingNodeRow { id: string, addresses: string[] }
/** A service as offered (offer's params, offers' rows, find's rows share these fields). */
export interface ServiceFields { name: string, url: string, version?: string, meta?: Record<string, string> }
/** offer: whether the offer is new or changed (false: offered so already). */
export interface OfferedRow extends ServiceFields { offered: boolean }
/** offers: each service this node offers, and where it comes from: `offer`, services.json (`file`), or a server of the daemon's (`listen`). */
export interface OffersRow extends ServiceFields { since: number, source: 'offer' | 'file' | 'listen' }
/** withdraw: what was withdrawn (empty: nothing matched). */
export interface WithdrawRow { name: string, url: string | null, withdrawn: OffersRow[] }
/** reload: services.json read again; `changed` false when its text is as last read (nothing handed over). */
export interface ReloadRow { file: string, changed: boolean, services: number, left: number }
/** find: an offer found on the ring, from a record signed by the offering node (id). */
export interface FindRow extends ServiceFields { id: string, addresses: string[], hops: number }
export interface RingRow {
  status: 'lonely' | 'unbalanced' | 'joined'
  /** The ring's size as this node guesses it (from its successors' spread). */
  estimate: number
  links: number
  predecessor: RingNodeRow | null
  successors: RingNodeRow[]
  fingers: Array<RingNodeRow & { range: number }>
}
/**
 * How connect reached a peer: `dial` (an address, or the presence record's), `dial-back`,
 * `webrtc`, `relay` (a circuit through a peer both are linked to), or `linked` (a link was open
 * already).
 */
export type ReachedBy = 'dial' | 'dial-back' | 'webrtc' | 'relay' | 'linked'
/** connect: the address dialed (null for an id reached another way), the peer's id, and how it was reached. */
export interface ConnectRow { address: string | null, id: string | null, path: ReachedBy }
/** introduce: the new peer as connect gives it, and the peer that introduced it. */
export interface IntroduceRow { id: string, address: string | null, path: ReachedBy, introducer: string }
export interface SubnetRow { subnet: string }
/** add and rm: how many addresses were asked for, and what became of them (a repeat counts once). */
export interface AddRow { count: number, added: number, already: number }
export interface RmRow { count: number, removed: number, unknown: number }
/** join and part: the subnets asked for, those that changed, and the rest. */
export interface JoinRow { subnets: string[], joined: string[], already: string[] }
export interface PartRow { subnets: string[], parted: string[], notJoined: string[] }
export interface CloseRow { pid: number }
export interface ClearedRow { cleared: number }
/** send: the recipient's signed acknowledgement came back, `ms` after the send began. */
export interface SendRow { to: string, ms: number }
/** messages: a message by id for this node: its signed sender, the message (JSON), when it came (ms). */
export interface MessageRow { from: string, message: unknown, time: number }
/**
 * Messages the daemon holds for a reader (`peernet messages`) at most: past it, a message is
 * refused and its sender told, so none is acknowledged and then lost. A reader that comes back
 * within a while finds them; MAX_INBOX × MAX_MESSAGE (20 KiB) bounds the memory, 5 MiB.
 */
export const MAX_INBOX = 256
/** Events the daemon keeps in memory for `log` to replay (`lines` is at most this). */
export const LOG_BUFFER = 1000
/** `log` without `lines` replays this many of the last events that are not ROUTINE_EVENTS. */
export const DEFAULT_LOG_REPLAY = 10
/**
 * Events that come every gossip round, with every search, or every purge pass: a replay of the
 * last few events would be nothing else, and `peernet log | grep connect` would find nothing.
 */
export const ROUTINE_EVENTS: readonly string[] = ['gossip', 'search', 'answer', 'purge']
export interface LogRow { time: number, type: string, [key: string]: unknown }
/**
 * What `stats` answers: the library's getStats() row (table/rules.ts), the same keys on the
 * socket, in --json and in the library. A type only: nothing of table/ loads with it.
 */
export type { Stats as StatsRow } from '../table/rules.js'
