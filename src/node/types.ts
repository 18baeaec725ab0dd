// The node's public shapes (options, events, rows) and the context its parts share. Types only:
// every part of the node imports them from here instead of from the facade.
import type { Duplex } from 'node:stream'
import type { Clock } from './clock.js'
import type { Traffic } from './traffic.js'
import type { Random } from '../util/random.js'
import type { AddressTable } from '../table/table.js'
import type { KeyPair } from './identity.js'
import type { SecureLayer } from './secure.js'
import type { VerifyContext } from '../ring/record.js'
import type { ReceivedMessage } from '../ring/messages.js'
import type { WebRTCOptions } from '../transport/webrtc.js'

export interface PeernetOptions {
  /**
   * This node's Ed25519 key pair in libsodium's format (32-byte public, 64-byte secret key);
   * its id is the public key in hex. Without one, the node makes a key pair once and keeps it in
   * the db (a db that belongs to a node's key refuses any other).
   */
  keyPair?: KeyPair
  /**
   * The simulation's stand-in for the secure layer (src/sim): no encryption, no authentication.
   * Never set it anywhere else; the daemon never does. Default: Noise (secure.ts).
   */
  insecureSimulationLayer?: SecureLayer
  /**
   * The simulation's record check: every rule but the signature, whose cost (an Ed25519
   * verification per record per node that takes it) the benchmarks measure instead. Never set
   * it anywhere else. Default: verifyRecord (ring/record.ts), every rule.
   */
  insecureSimulationVerify?: (record: unknown, ctx: VerifyContext) => string | null
  /** Resolves an address to a duplex stream (default: peernet/transport, for tcp/ws/wss). */
  transport?: (address: string) => Duplex
  /** Print lifecycle events to stderr. */
  debug?: boolean
  /** Dial addresses from the table to keep `connections` open (default true). */
  bootstrap?: boolean
  /**
   * Join the ring (default true): lookups, records, `getEndpointFor`, searches through the
   * ring. `false` keeps the node to gossip and flooded searches, as before the ring.
   */
  ring?: boolean
  /** ms between gossip rounds; 0 turns gossip off (default 5000). */
  interval?: number
  /** ms between purge passes; 0 turns purging off (default 60000). */
  purge?: number
  /** Connections to keep open (default 5). */
  connections?: number
  /**
   * A WebRTC implementation (the seed's option): an object with an RTCPeerConnection
   * constructor, such as a browser's window. Default: node-datachannel's, loaded at the first
   * WebRTC attempt (an optional dependency).
   */
  wrtc?: unknown
  /**
   * How WebRTC links (connect by id's third step) are made: `iceServers` (none by default: direct
   * addresses only), `bind` (where candidates are gathered; 127.0.0.1 within one machine),
   * `allowHost` (which hosts a peer's candidates may name), `timeout`. false turns WebRTC off.
   */
  webrtc?: WebRTCOptions | false
  /**
   * Introductions (getNewPeer, peer-exchange's): whether this node introduces its peers to a
   * connected peer that asks, and takes links from introductions made by others (default true).
   */
  introductions?: boolean
  /**
   * Relaying (connect by id's last step: relay.ts): this node carries circuits between two of
   * its peers that asked for one, within `links` at once (MAX_CIRCUITS), `linksPerPeer`
   * (CIRCUITS_PER_PEER) and `rate` bytes a second each way (CIRCUIT_RATE). false: it relays for
   * nobody (its own relayed links through others still work).
   */
  relay?: false | { links?: number, linksPerPeer?: number, rate?: number }
  /** Network id (default "peernet"). */
  network?: string
  /** Addresses this node can be dialed at, advertised to peers. */
  addresses?: string[]
  /**
   * What this node tells others about itself (the p2p seed's metadata): a flat object of
   * strings, at most MAX_RECORD_META bytes, carried in its signed presence record and shown by
   * getEndpointFor() and `peernet owner`.
   */
  metadata?: Record<string, string>
  /** Bound on gossip-learned addresses (default 10000). */
  tableSize?: number
  /** Largest share of the table one informant or source group may fill (default 0.1). */
  informantShare?: number
  /** Default hop limit of searches (default 15). */
  hops?: number
  /** Addresses per gossip answer (default 32). */
  gossipSample?: number
  /** Most inbound connections (default 64). */
  maxInbound?: number
  /** ms between attempts to top up connections (default 1000). */
  dialInterval?: number
  clock?: Clock
  /** Source of chance (default: the operating system's secure generator, node:crypto). */
  random?: Random
  /** Source group of a remote host (default: IPv4 /24, IPv6 /48). */
  groupOf?: (host: string) => string
}

export interface SearchOptions {
  /** Hop limit (default 15). */
  hops?: number
  /** ms to wait for answers (default 5000, at most MAX_SEARCH_TIMEOUT). */
  timeout?: number
  /** Stop after this many answers (a search ends after MAX_SEARCH_ANSWERS whatever this says). */
  max?: number
  /** Flood the query hop by hop instead of asking the ring (what a node not joined does anyway). */
  flood?: boolean
  signal?: AbortSignal
}

export interface SearchRow {
  /** The subnet's name. */
  hash: string
  /** The member's first address (null: a member the ring knows that told no address). */
  address: string | null
  /** Links the search travelled: to the member (flood; a neighbour is 1), or to the node that holds the subnet's records (ring). */
  hops: number
  /** The member's id, from its signed record (ring); null for a flood answer, which names none. */
  id: string | null
  /** Every address the member gave (ring); the one that answered (flood). */
  addresses: string[]
  /** How the member was found. */
  via: 'ring' | 'flood'
}

export interface PeerInfo {
  id: string
  /** The address that answers for the peer: we dialed it, or a dial of ours reached this peer there. */
  address: string | null
  /**
   * An inbound peer's own word for its address, until a dial confirms it; absent otherwise (so
   * a log line shows it only when there is one).
   */
  claimed?: string
  direction: 'in' | 'out'
}

/** Every lifecycle event also comes as an `event` with its type, for logs. */
export interface PeernetEvents {
  ready: [{ id: string }]
  peer: [PeerInfo]
  disconnect: [PeerInfo & { reason: string }]
  'connect-failed': [{ address: string, reason: string }]
  refused: [{ address: string | null, reason: string }]
  /** A user's address answered with another key than the one first seen there (the dial was refused). */
  'identity-changed': [{ address: string, was: string, now: string }]
  /** The ring: this node's successor or predecessor changed (id null: none). */
  successor: [{ id: string | null }]
  predecessor: [{ id: string | null }]
  'environment::successor': [{ id: string | null }]
  'environment::predecessor': [{ id: string | null }]
  /** The ring status changed (see Peernet.ringStatus); also as the p2p seed's status::* and status::<to>. */
  status: [RingStatusChange]
  'status::*': [RingStatusChange]
  'status::lonely': [RingStatusChange]
  'status::unbalanced': [RingStatusChange]
  'status::joined': [RingStatusChange]
  /** A ring lookup of this node's own went out (root: the qid it started with; a retry has a new qid). Not logged. */
  lookup: [{ qid: string, root: string, op: string }]
  /** A message by id for this node (pn.send on another): its signed sender, the message, when it came. */
  message: [ReceivedMessage]
  gossip: [{ dir: 'ask' | 'rx' | 'tx', peer: string, count: number, added?: number, refused?: number }]
  search: [{ dir: 'out' | 'in', qid: string, subnet: string, hops: number, peer?: string }]
  answer: [{ dir: 'in' | 'out' | 'forward', qid: string, subnet: string, address: string, hops: number }]
  join: [{ subnet: string }]
  part: [{ subnet: string }]
  save: [{ count: number }]
  remove: [{ count: number }]
  purge: [{ dropped: number, tombstones: number }]
  close: []
  error: [Error]
  event: [PeernetEvent]
}
export interface PeernetEvent { type: string, time: number, [key: string]: unknown }

/** The lifecycle events a part of the node may report (all but the facade's own). */
export type LifecycleEvent = Exclude<keyof PeernetEvents, 'event' | 'error' | 'close' | 'lookup' | 'message' | `environment::${string}` | `status::${string}`>

export interface RingStatusChange { from: 'lonely' | 'unbalanced' | 'joined', to: 'lonely' | 'unbalanced' | 'joined' }

/** The node responsible for a value (Peernet.getEndpointFor), and the links its lookup travelled. */
export interface Endpoint { id: string, addresses: string[], metadata: Record<string, string>, hops: number }
export type Emit = <K extends LifecycleEvent>(type: K, data: PeernetEvents[K][0]) => void

/** What every part of the node shares: time, chance, the table, and the way to report. */
export interface NodeContext {
  readonly clock: Clock
  readonly random: Random
  /** The address table: there once `ready` has resolved (parts use it only after). */
  readonly table: AddressTable
  readonly ready: Promise<void>
  /** close() was called. */
  readonly closing: boolean
  event: Emit
  /** Report an error that has no caller to go to (an `error` event when someone listens). */
  fail: (err: Error) => void
  /** Frames and bytes by message type, counted by every link of the node. */
  readonly traffic: Traffic
}
