// Peers the user disconnected, kept off for DISCONNECT_HOLD in both directions: their id is
// refused at the handshake (every peer on one host shares its IP, so the id is the key) and
// their addresses are not dialed. A user's connect to one of the addresses, or to its id, lifts
// the hold.
import { DISCONNECT_HOLD } from './defaults.js'

export { DISCONNECT_HOLD }

interface Hold { id: string, addresses: Set<string>, until: number }

export class Holds {
  private readonly byId = new Map<string, Hold>()
  private readonly byAddress = new Map<string, Hold>()

  constructor (private readonly now: () => number) {}

  /**
   * Hold peer `id`, and the addresses it goes by, for DISCONNECT_HOLD from now. A link still in
   * its handshake has no id yet (null): then its addresses alone are held.
   */
  hold (id: string | null, addresses: string[]): void {
    this.expire()
    // Peer ids are hex: a key made of an address never meets one.
    const key = id ?? `address:${addresses[0] ?? ''}`
    let h = this.byId.get(key)
    if (h === undefined) this.byId.set(key, h = { id: key, addresses: new Set(), until: 0 })
    h.until = this.now() + DISCONNECT_HOLD
    for (const a of addresses) this.addAddress(h, a)
  }

  /** When the hold on peer `id` ends, or null when it is not held. */
  until (id: string): number | null {
    this.expire()
    return this.byId.get(id)?.until ?? null
  }

  /** A further address that led to a held peer: held with it. */
  alsoAt (id: string, address: string): void {
    const h = this.byId.get(id)
    if (h !== undefined) this.addAddress(h, address)
  }

  isHeldAddress (address: string): boolean {
    this.expire()
    return this.byAddress.has(address)
  }

  /** The user asked for this address again: lift the hold of the peer it belongs to. */
  lift (address: string): void {
    const h = this.byAddress.get(address)
    if (h !== undefined) this.drop(h)
  }

  /** The user asked for this peer by its id again: lift its hold. */
  liftId (id: string): void {
    const h = this.byId.get(id)
    if (h !== undefined) this.drop(h)
  }

  /** Why a link to a peer held until `until` is refused: for our log, and for the peer's. */
  refusal (until: number): { reason: string, bye: string } {
    const s = Math.max(1, Math.ceil((until - this.now()) / 1000))
    return {
      reason: `peer held after the user disconnected it (${s} s left)`,
      bye: `you were disconnected by the user of this node; retry in ${s} s`
    }
  }

  get size (): number {
    this.expire()
    return this.byId.size
  }

  private addAddress (h: Hold, address: string): void {
    const other = this.byAddress.get(address)
    if (other !== undefined && other !== h) other.addresses.delete(address)
    h.addresses.add(address)
    this.byAddress.set(address, h)
  }

  private drop (h: Hold): void {
    this.byId.delete(h.id)
    for (const a of h.addresses) if (this.byAddress.get(a) === h) this.byAddress.delete(a)
  }

  private expire (): void {
    // Holds are few (one per peer the user dropped in the last DISCONNECT_HOLD): a scan is cheap.
    const now = this.now()
    for (const h of this.byId.values()) if (h.until <= now) this.drop(h)
  }
}
