// The node's defaults, in a module with no imports so the CLI can show them without loading the node.

/** Default number of connections to keep open (the seed's). */
export const DEFAULT_CONNECTIONS = 5
/** Default time between gossip rounds, ms (the seed's). */
export const DEFAULT_INTERVAL = 5000
/** Default time between purge passes, ms (the seed's). */
export const DEFAULT_PURGE = 60_000
/** Default hop limit of a search (the seed's). */
export const DEFAULT_HOPS = 15
/** Default time a search waits for answers, ms. */
export const DEFAULT_SEARCH_TIMEOUT = 5000
/** Longest a search may wait for answers, ms (see search.ts). */
export const MAX_SEARCH_TIMEOUT = 60_000
/** Default network id: nodes of different ids refuse each other. */
export const DEFAULT_NETWORK = 'peernet'
/** After a user's disconnect, the peer is neither dialed nor let in for this long, ms (see holds.ts). */
export const DISCONNECT_HOLD = 60_000
/** Bytes a second a relayed circuit may carry each way: peer-exchange's 50 kB/s (setting relay-rate; relay.ts). */
export const CIRCUIT_RATE = 50_000
/** Circuits a node relays at once, in all (setting relay-links): each holds two queues of at most CIRCUIT_QUEUE. */
export const MAX_CIRCUITS = 32
/** Circuits one peer may have through this node, as either end (setting relay-links-per-peer); a node takes as many relayed links through one relay. */
export const CIRCUITS_PER_PEER = 4
