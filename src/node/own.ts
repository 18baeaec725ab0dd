// Our own addresses: those the user advertises, the candidates dialers tell us they reached us
// at, and the aliases a dial of ours found to lead back to ourselves. None of them is ever
// stored as a peer's or dialed.
import { normalizeAddress, tryNormalizeAddress } from '../transport/address.js'

/** Candidate addresses of our own, learned from what dialers say they dialed. */
export const MAX_SELF_CANDIDATES = 4
/** Addresses remembered as leading back to ourselves; past this the oldest is forgotten. */
export const MAX_SELF_ALIASES = 64

export class OwnAddresses {
  private readonly advertised: string[] = []
  /** Newest first. */
  private readonly candidates: string[] = []
  /** Oldest first (a Set keeps insertion order). */
  private readonly aliases = new Set<string>()

  /** Add an address this node can be dialed at; it is advertised to peers. Throws on a bad one. */
  advertise (address: string): void {
    const a = normalizeAddress(address)
    if (!this.advertised.includes(a)) this.advertised.push(a)
  }

  unadvertise (address: string): void {
    const a = normalizeAddress(address)
    const i = this.advertised.indexOf(a)
    if (i >= 0) this.advertised.splice(i, 1)
  }

  /** What a dialer says it dialed to reach us: a candidate address of ours. */
  addCandidate (address: string): void {
    const i = this.candidates.indexOf(address)
    if (i >= 0) this.candidates.splice(i, 1)
    this.candidates.unshift(address)
    if (this.candidates.length > MAX_SELF_CANDIDATES) this.candidates.pop()
  }

  /** A dial of ours reached ourselves: never dial or store that address again. */
  addAlias (address: string): void {
    this.aliases.delete(address)
    this.aliases.add(address)
    if (this.aliases.size > MAX_SELF_ALIASES) this.aliases.delete(this.aliases.values().next().value as string)
  }

  /** Addresses this node believes it can be dialed at: advertised first, then candidates. */
  list (): string[] {
    return [...this.advertised, ...this.candidates.filter(c => !this.advertised.includes(c))]
  }

  /** The addresses we put in our hello and gossip answers: only those the user advertises. */
  get announced (): readonly string[] { return this.advertised }

  has (address: string): boolean {
    return this.advertised.includes(address) || this.candidates.includes(address) || this.aliases.has(address)
  }

  /** The addresses of a list we may store or dial: allowed schemes, not our own, once each. */
  acceptable (list: readonly string[]): string[] {
    const out: string[] = []
    for (const raw of list) {
      const a = tryNormalizeAddress(raw)
      if (a !== null) this.admit(out, a)
    }
    return out
  }

  /**
   * acceptable() of addresses already normalised (parsePinned's): a gossip answer's entries are,
   * and parsing them twice was 5% of what a settled simulation allocates.
   */
  acceptableNormal (list: readonly string[]): string[] {
    const out: string[] = []
    for (const a of list) this.admit(out, a)
    return out
  }

  private admit (out: string[], a: string): void {
    if (!this.has(a) && !out.includes(a)) out.push(a)
  }
}
