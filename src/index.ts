// The peernet library: peernet(db, opts) gives a node over a level database.
import { Peernet, type PeernetOptions } from './node/node.js'
import type { LevelLike } from './table/db.js'

/** Create a peernet node over `db`, a level (abstract-level) database. */
export function peernet (db: LevelLike, opts: PeernetOptions = {}): Peernet {
  if (db === null || typeof db !== 'object' || typeof (db as { sublevel?: unknown }).sublevel !== 'function') {
    throw new TypeError('peernet(db, opts): db must be an abstract-level database such as new Level(path) or new MemoryLevel()')
  }
  return new Peernet(db, opts)
}

export default peernet
export {
  Peernet, type PeernetOptions, type PeernetEvents, type PeernetEvent, type SearchOptions, type SearchRow, type PeerInfo,
  DEFAULT_GOSSIP_SAMPLE, DEFAULT_DIAL_INTERVAL, MAX_INBOUND, MAX_PENDING_DIALS, MAX_SEEN, MAX_SEEN_PER_PEER, SEEN_TTL, MAX_SEARCHES, PING_INTERVAL, PING_TIMEOUT, PING_DEFER,
  MAX_SELF_CANDIDATES, DISCONNECT_HOLD, MAX_HANDSHAKING, RELAY_RATE, RELAY_BURST, RELAY_PEER_RATE, RELAY_PEER_BURST, ANSWER_RELAY_RATE, ANSWER_RELAY_BURST, MAX_RELAYED_ANSWERS, JUNK_SHARE, JUNK_STRIKES,
  MAX_SEARCH_ANSWERS, MAX_SEARCH_TIMEOUT, RING_WAIT, MAX_ASKS_IN_FLIGHT, MAX_SELF_ALIASES, FLUSH_INTERVAL
} from './node/node.js'
export * from './node/defaults.js'
export { PEER_RATE, PEER_BURST, HANDSHAKE_TIMEOUT, QUERY_RATE, QUERY_BURST, MAX_STRIKES, TokenBucket } from './node/connection.js'
export { type KeyPair, generateKeyPair, idOf, IdentityError, PUBLIC_KEY_BYTES, SECRET_KEY_BYTES } from './node/identity.js'
export { MAX_BATCH, MAX_SEALED_MESSAGE } from './node/secure.js'
export { type Clock, realClock, VirtualClock } from './node/clock.js'
export { type Random, seededRandom } from './util/random.js'
export { AddressTable, SCHEMA_VERSION } from './table/table.js'
export { TableError, type LevelLike } from './table/db.js'
export * from './table/rules.js'
export { MAX_FRAME, MAX_OUTBUF, WireError, encodeFrame, FrameDecoder } from './wire/frame.js'
export {
  PROTOCOL_VERSION, MAX_ADDRS_PER_MESSAGE, MAX_HELLO_ADDRS, MAX_SUBNET_LENGTH, MAX_NETWORK_LENGTH, MAX_HOP_LIMIT, MAX_ADDRESS_LENGTH, MAX_PINNED_LENGTH,
  validateMessage, type Message
} from './wire/messages.js'
export { parseAddress, parsePinned, formatPinned, NODE_ID, normalizeAddress, tryNormalizeAddress, sourceGroup, AddressError, SCHEMES } from './transport/address.js'
export { MemNetwork, createMemNetwork, memPair } from './transport/mem.js'
export { transport, listen, createWebSocketServer } from './transport/index.js'
export {
  ActionError, type ActionErrorCode, type ActionHandler, RUN_TIMEOUT, MAX_ACTION_NAME, MAX_ACTION_ERROR, MAX_RUNS, ACTION_RATE, ACTION_BURST, MAX_RATE_SENDERS, MAX_HANDLING, MAX_KEPT_REPLIES, RESERVED_PREFIX
} from './ring/actions.js'
export { MAX_ENVELOPE_TTL, MAX_ENVELOPE_BODY } from './ring/envelope.js'
export type { RunOptions } from './node/actions.js'
export { MAX_MESSAGE, type ReceivedMessage } from './ring/messages.js'
export type { SendOptions } from './node/messages.js'
export { MAX_FIND, type OfferRow, type OfferSource, type FindRow, type FindOptions } from './node/offers.js'
export { MAX_OFFERS, checkOffer, type Offer } from './wire/record.js'
export {
  type Reached, type ReachPath, PRESENCE_TIMEOUT, DIAL_TIMEOUT, DIALBACK_TIMEOUT, LINK_SETTLE, DIALBACK_ACTION, DIALBACK_RATE, DIALBACK_BURST,
  DIALBACK_TOTAL_RATE, DIALBACK_TOTAL_BURST, MAX_DIALBACK_SENDERS
} from './node/reach.js'
export {
  type Introduction, type Introduced, INTRODUCE_ACTION, MAX_INTRODUCED, INTRODUCE_RATE, INTRODUCE_BURST, INTRODUCE_TOTAL_RATE, INTRODUCE_TOTAL_BURST,
  MAX_INTRODUCE_ASKERS, MAX_INTRODUCE_EXCLUDE, INTRODUCE_TIMEOUT, introducedProblem
} from './node/introductions.js'
export {
  SIGNAL_ACTION, MAX_SIGNAL_BATCH, SIGNAL_FLUSH, SIGNAL_TIMEOUT, MAX_WEBRTC_SESSIONS, MAX_WEBRTC_SESSIONS_PER_PEER, signalRequestProblem
} from './node/webrtc-links.js'
export {
  RELAY_ACTION, RELAY_KIND, CIRCUIT_RATE, MAX_CIRCUITS, CIRCUITS_PER_PEER, CIRCUIT_QUEUE, CIRCUIT_FRAME_RATE, CIRCUIT_FRAME_BURST, CIRCUIT_OPEN_TIMEOUT, RELAY_CONSENT, MAX_RELAY_CONSENTS,
  MAX_RELAY_CANDIDATES, RELAY_TRIES, RELAY_TIMEOUT, relayRequestProblem, relayAnswerProblem, type RelayOptions
} from './node/relay.js'
export { MAX_RELAY_CHUNK, MAX_RELAY_RATE, validateRelayMessage, type RelayMessage } from './wire/relay.js'
