// The handshake: each end's first message is a hello (version, network, id, addresses); this
// decides from the peer's hello whether the link becomes the peer's open link. Every rule for
// letting a link in lives here: version, network, ourselves, the inbound
// caps, and (through PeerSet.replaces) two links to one peer.
import type { Connection } from './connection.js'
import { PeerSet, peerInfo } from './peers.js'
import type { OwnAddresses } from './own.js'
import { DUPLICATE, SELF } from './dialer.js'
import type { NodeContext } from './types.js'
import { tryNormalizeAddress } from '../transport/address.js'
import { type Hello, type Message, PROTOCOL_VERSION, MAX_HELLO_ADDRS } from '../wire/messages.js'

/** Most inbound connections accepted at once. */
export const MAX_INBOUND = 64
/** Most inbound connections still in their handshake; more are closed at once. */
export const MAX_HANDSHAKING = 64

export interface HandshakeOptions {
  network: string
  /** Most open inbound links (MAX_INBOUND unless set). */
  maxInbound: number
  /** Source group of a remote host, for the table's per-source caps. */
  groupOf: (host: string) => string
}

export class Handshake {
  constructor (
    private readonly ctx: NodeContext,
    private readonly peers: PeerSet,
    private readonly own: OwnAddresses,
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

  /** Our hello: sent first on every link. */
  greet (c: Connection): void {
    c.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      network: this.opts.network,
      id: this.ctx.table.id,
      addrs: this.own.announced.slice(0, MAX_HELLO_ADDRS),
      ...(c.dialed ? { dialed: c.dialed } : {})
    })
  }

  /** A message on a link whose handshake is not done. */
  onMessage (c: Connection, m: Message): void {
    if (m.type === 'bye') {
      this.ctx.event('refused', { address: c.address ?? null, reason: `peer refused: ${m.reason}` })
      c.close(`peer refused: ${m.reason}`, false)
    } else if (m.type !== 'hello') {
      c.close(`protocol violation: expected hello, got ${m.type}`, true, true)
    } else {
      this.onHello(c, m)
    }
  }

  private onHello (c: Connection, m: Hello): void {
    const refuse = (reason: string, fault: boolean): void => {
      this.ctx.event('refused', { address: c.address ?? null, reason })
      c.close(reason, fault, true)
    }
    if (m.version !== PROTOCOL_VERSION) return refuse(`protocol version ${m.version} is not supported (this node speaks ${PROTOCOL_VERSION})`, true)
    if (m.network !== this.opts.network) return refuse(`network mismatch: this node is on "${this.opts.network}", the peer on "${m.network}"`, true)
    const table = this.ctx.table
    if (m.id === table.id) {
      if (c.dialed) this.own.addAlias(c.dialed)
      c.close(SELF, false)
      return
    }
    if (!c.outbound && this.peers.inbound() >= this.opts.maxInbound) return refuse('too many connections', false)
    const existing = this.peers.get(m.id)
    if (existing) {
      if (!PeerSet.replaces(c, existing, table.id, m.id)) {
        c.peerId = m.id
        c.close(DUPLICATE, false)
        return
      }
      this.peers.delete(existing)
      existing.close(DUPLICATE, false)
    }
    c.accept(m.id)
    this.peers.add(c)
    c.sources = ['id:' + m.id]
    if (c.remoteHost) c.sources.push('group:' + this.opts.groupOf(c.remoteHost))
    const offered = this.own.acceptable(m.addrs)
    if (!c.outbound) {
      // A claim only: the peer goes by the first address it offers.
      if (c.address === undefined) c.address = offered[0]
      const dialed = m.dialed === undefined ? null : tryNormalizeAddress(m.dialed)
      if (dialed) this.own.addCandidate(dialed)
    } else if (c.dialed) {
      table.recordSuccess(c.dialed)
    }
    if (offered.length > 0) table.learn(offered, c.sources)
    this.ctx.event('peer', peerInfo(c))
  }
}
