// The handshake: once the secure link is up (secure.ts: the peer's key is proven), each end's
// first message is a hello (version, network, addresses); this decides from the peer's hello
// whether the link becomes the peer's open link. The peer's id is its key, never its word. Every rule for
// letting a link in lives here: version, network, ourselves, the user's holds, the inbound
// caps, and (through PeerSet.replaces) two links to one peer. An inbound peer's addresses are
// its claims: an address answers for a peer only once a dial of ours reaches that same peer.
//
// The dialer speaks first; the accepting end answers with its own hello only once the dialer's
// passed the checks above, so a refused dialer gets a bye before any hello: its link never
// opens, and it books a failed dial (and backs off) instead of a link that opened and closed.
// (Peers that greet at once, as version 1 nodes did, mix with this: no end waits for the
// other's hello before sending its own, except this accepting end.)
import { type Connection, type PeerMessage, NOTHING } from './connection.js'
import { PeerSet, peerInfo } from './peers.js'
import type { OwnAddresses } from './own.js'
import type { Holds } from './holds.js'
import type { Keepalive } from './keepalive.js'
import { DUPLICATE, SELF } from './dialer.js'
import type { NodeContext } from './types.js'
import { randomHex } from '../util/random.js'
import { Interner, intern } from '../util/intern.js'
import { tryNormalizeAddress } from '../transport/address.js'
import { type Hello, PROTOCOL_VERSION, MAX_HELLO_ADDRS } from '../wire/messages.js'
import { GROUP_PREFIX } from '../table/indexes.js'

/** Most inbound connections accepted at once. */
export const MAX_INBOUND = 64
/** Most inbound connections still in their handshake; more are closed at once. */
export const MAX_HANDSHAKING = 64

export interface HandshakeOptions {
  network: string
  /** Most open inbound links (MAX_INBOUND unless set). */
  maxInbound: number
  /** Most open inbound ring links when peer id asks (the ring's own cap, for the size of network it sees and where id lies). */
  ringInboundCap: (id: string) => number
  /** Whether this node is on the ring now (RingCore.routable): its hello says so. */
  joined?: () => boolean
  /** A link's handshake is done and the link is the peer's (the ring learns of it here). */
  opened: (c: Connection) => void
  /** Source group of a remote host, for the table's per-source caps. */
  groupOf: (host: string) => string
}

export class Handshake {
  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    private readonly own: OwnAddresses,
    private readonly holds: Holds,
    private readonly keepalive: Keepalive,
    private readonly opts: HandshakeOptions
  ) {}

  /** Take a new link into its handshake; false when it was turned away (MAX_HANDSHAKING). */
  admit (c: Connection): boolean {
    if (!c.outbound && this.peers.inboundHandshakes() >= MAX_HANDSHAKING) {
      c.close(`too many connections in handshake (MAX_HANDSHAKING is ${MAX_HANDSHAKING})`, false)
      this.ctx.event('refused', { address: null, reason: 'too many connections in handshake' })
      return false
    }
    this.peers.begin(c)
    return true
  }

  /** Our hello: sent at once on a link we dialed, after the dialer's on one we accepted. */
  greet (c: Connection): void {
    c.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      network: this.opts.network,
      addrs: this.own.announced.slice(0, MAX_HELLO_ADDRS),
      ...(c.dialed ? { dialed: c.dialed } : {}),
      ...(c.outbound && c.ring ? { ring: true } : {}),
      ...(this.opts.joined?.() === true ? { joined: true } : {}),
      nonce: this.nonceOf(c)
    })
  }

  /** Our nonce for link c, drawn when first needed: in our hello, or to rank the link. */
  private nonceOf (c: Connection): string {
    if (c.nonce === '') c.nonce = randomHex(this.ctx.random, 8)
    return c.nonce
  }

  /** A dial of ours reached peer `id` at address: a success, and the key the address is held to. */
  private reached (address: string, id: string): void {
    this.ctx.table.recordSuccess(address)
    this.ctx.table.recordKey(address, id)
  }

  /** A message on a link whose handshake is not done. */
  onMessage (c: Connection, m: PeerMessage): void {
    if (m.type === 'bye') {
      this.ctx.event('refused', { address: c.address ?? null, reason: `peer refused: ${m.reason}` })
      c.close(`peer refused: ${m.reason}`, false)
    } else if (m.type !== 'hello') {
      c.close(`protocol violation: expected hello, got ${m.type}`, true, true)
    } else {
      this.onHello(c, m)
    }
  }

  private onHello (c: Connection, hello: Hello): void {
    const refuse = (reason: string, fault: boolean, bye: string = reason): void => {
      this.ctx.event('refused', { address: c.address ?? null, reason })
      c.close(reason, fault, bye)
    }
    // A hello before the link proved a key cannot come from the secure layer: no peer to name.
    if (c.remoteId === null) return refuse('protocol violation: a hello before the secure handshake', true)
    const m = { ...hello, id: c.remoteId }
    if (m.version !== PROTOCOL_VERSION) return refuse(`protocol version ${m.version} is not supported (this node speaks ${PROTOCOL_VERSION})`, true)
    if (m.network !== this.opts.network) return refuse(`network mismatch: this node is on "${this.opts.network}", the peer on "${m.network}"`, true)
    const table = this.ctx.table
    // Ourselves, and a second link to a peer, are no refusals: the dialing end gets our hello
    // (and finds out for itself) before the link closes.
    const answer = !c.outbound
    if (m.id === table.id) {
      if (c.dialed) this.own.addAlias(c.dialed)
      if (answer) this.greet(c)
      c.close(SELF, false, answer)
      return
    }
    const held = this.holds.until(m.id)
    if (held !== null) {
      if (c.dialed) this.holds.alsoAt(m.id, c.dialed)
      const { reason, bye } = this.holds.refusal(held)
      return refuse(reason, false, bye)
    }
    if (!c.outbound) {
      c.ring = m.ring === true
      if (c.ring && this.peers.ringInbound() >= this.opts.ringInboundCap(m.id)) return refuse('too many ring connections', false)
      if (!c.ring && this.peers.inbound() >= this.opts.maxInbound) return refuse('too many connections', false)
    }
    // From version 2 on the wire layer requires it: the version check above let only those by.
    c.peerNonce = m.nonce as string
    this.nonceOf(c)
    const existing = this.peers.get(m.id)
    if (existing) {
      if (!PeerSet.replaces(c, existing, table.id, m.id)) {
        // A dial of ours reached this peer: that address answers for it now.
        if (c.dialed) {
          existing.address ??= c.dialed
          this.reached(c.dialed, m.id)
        }
        c.peerId = intern(m.id)
        if (answer) this.greet(c)
        c.close(DUPLICATE, false, answer)
        this.keepalive.probe(existing)
        return
      }
      // The survivor keeps an address confirmed for the peer; the replaced link closes while
      // still the peer's, so it gets its own disconnect, and its far end is told why.
      c.address ??= existing.address
      existing.close(DUPLICATE, false, true)
    }
    if (answer) this.greet(c)
    c.accept(m.id)
    this.peers.add(c)
    // Held for the link's life, by every link end of every node: one list a peer and group.
    c.sources = sourcesOf(m.id, c.remoteHost ? this.opts.groupOf(c.remoteHost) : undefined)
    const offered = this.own.acceptable(m.addrs)
    c.offered = offered.length === 0 ? NOTHING : offered.slice()
    c.peerJoined = m.joined === true
    if (!c.outbound) {
      // A claim only, shown as one: it answers for the peer once a dial of ours reaches it.
      if (c.address === undefined) c.claimed = c.offered[0]
      const dialed = m.dialed === undefined ? null : tryNormalizeAddress(m.dialed)
      if (dialed) this.own.addCandidate(dialed)
    } else if (c.dialed) {
      this.reached(c.dialed, m.id)
    }
    // The peer's own addresses: its key is their hint (its word, until a dial of ours proves it).
    if (c.offered.length > 0) table.learn(c.offered, c.sources, () => m.id)
    this.opts.opened(c)
    this.ctx.event('peer', peerInfo(c))
  }
}

/** Every link's list of sources, one (frozen) a peer and group: see sourcesOf. */
const sourceLists = new Interner<readonly string[]>()

/**
 * A link's sources for the table's per-source caps: its informant (the peer's id) and, when
 * its host is known, its source group. One list for every link to the same peer from the same
 * group (the key: an id has no space in it).
 */
export function sourcesOf (id: string, group: string | undefined): readonly string[] {
  return sourceLists.get(group === undefined ? id : id + ' ' + group, () => Object.freeze(group === undefined ? ['id:' + id] : ['id:' + id, GROUP_PREFIX + group]))
}
