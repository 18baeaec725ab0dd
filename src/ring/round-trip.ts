// How long this node's lookups take to be answered, and so how long one waits before it is sent
// again past a silent node: TCP's retransmission timer (RFC 6298), over whole lookups. A fixed
// wait suits one network only: where a path of ~7 hops answers in a few hundred milliseconds it
// can be short, and where links are slow (100 ms a hop and more, or answers queued behind others
// near a busy point) a short one sends nearly every lookup twice, each copy as costly as the
// first. No I/O and no clock: the lookups feed it samples and ask it for the wait.

/** Weight of a new sample in the smoothed round trip (RFC 6298's alpha). */
const ALPHA = 1 / 8
/** Weight of a new sample's deviation in the round trip's variation (RFC 6298's beta). */
const BETA = 1 / 4
/**
 * Variations above the smoothed round trip the wait allows (RFC 6298's K). The price of a longer
 * wait: a retry past a node that has just died comes later too. After half of 10,000 nodes
 * failed at once, 66 of the 68 searches of that interval were answered through the ring (all 68
 * at a fixed 1.5 s), every one from the next interval on. Less did worse where it was meant to
 * help: at K = 2, with a second retry at LOOKUP_RETRY, the answers queued near a busy point were
 * asked for again and again (2,000 nodes, --slow-links 0.5: 28 frames a search in the
 * 100-member row, against 12.4 here and 20.3 at a fixed 1.5 s).
 */
const K = 4

export class RoundTrip {
  /** Smoothed round trip and its variation, ms; null before the first sample. */
  private srtt: number | null = null
  private rttvar = 0

  /** The wait is kept within min..max ms (min before the first sample). */
  constructor (private readonly min: number, private readonly max: number) {
    if (!(min > 0 && max >= min)) throw new RangeError(`a round trip's wait needs 0 < min <= max, not ${min} and ${max}`)
  }

  /**
   * A lookup answered `ms` after it went out, on its first try: an answer to a lookup sent again
   * may answer either copy, and is no measure of either (Karn's rule).
   */
  sample (ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return
    if (this.srtt === null) {
      this.srtt = ms
      this.rttvar = ms / 2
      return
    }
    this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - ms)
    this.srtt = (1 - ALPHA) * this.srtt + ALPHA * ms
  }

  /** How long a lookup waits for its answer before it is sent again, ms: min..max. */
  get retryAfter (): number {
    if (this.srtt === null) return this.min
    return Math.min(this.max, Math.max(this.min, this.srtt + K * this.rttvar))
  }
}
