// The keepalive: a link that has heard nothing from its peer for PING_INTERVAL is pinged, and
// one that then hears nothing for PING_TIMEOUT is closed, so a peer that crashed or vanished
// without a goodbye does not hold its place (and keep its restarted self out) for ever.
// Only idle links are pinged: a link that carries anything is known to be alive and pays nothing.
// And only one end pings an idle link: the end that dialed it. Both ends' timers run from the
// last frame each heard, so on an idle link they came due together and both pinged every
// cycle, two pings and two pongs where one of each does; the end that accepted the link waits
// PING_DEFER longer, and so hears the dialer's ping first unless the dialer is gone. (A link
// whose two ends both count as accepted, or both as dialed, is still pinged: later, or twice.)
// Each link has one timer on the node's clock, set for when the link would next be idle (or its
// ping late), not reset per message.
import type { Connection } from './connection.js'
import type { Clock, Timer } from './clock.js'
import { encodeFrame } from '../wire/frame.js'

/**
 * A link that has received nothing for this long is pinged, ms. A node on the ring holds ~40
 * links, most of them fingers that carry a lookup now and then: at 30 s their pings and pongs
 * were more frames than the ring's own upkeep (3.8–5.1 a node every 5 s, settled, against 2).
 * At 60 s they are about a third of that (a minute's silence is rarer than half a minute's),
 * still far inside the idle timeouts of NATs and load balancers (minutes; RFC 5382 asks at
 * least 2 h 4 min of a NAT for TCP). A crashed process's sockets are closed by its system and
 * its links end at once: what waits longer is a silent failure (power, a cut network).
 */
export const PING_INTERVAL = 60_000
/** A pinged link that receives nothing for this long is closed, ms. */
export const PING_TIMEOUT = 15_000
/**
 * How much longer than PING_INTERVAL the end that accepted a link waits before it pings: the
 * dialer's ping is due PING_INTERVAL after the dialer last heard, so this end hears it within a
 * round trip of its own PING_INTERVAL; the margin is generous for slow links. A dialer that
 * vanished is found within PING_INTERVAL + PING_DEFER + PING_TIMEOUT.
 */
export const PING_DEFER = 15_000

/** How long an idle link waits before this end pings it, ms: the dialer pings, the other end stands by. */
function pingAfter (outbound: boolean): number {
  return outbound ? PING_INTERVAL : PING_INTERVAL + PING_DEFER
}

/**
 * A ping and a pong are always the same bytes: encoded once, not per frame (they are about a
 * third of the frames a node sends). A frame written is never written to, so one buffer serves
 * every link, as one query frame does for all the links it floods to.
 */
const PING_FRAME = encodeFrame({ type: 'ping' })
const PONG_FRAME = encodeFrame({ type: 'pong' })

interface Watch {
  /** The link's timer: waiting, or spent once it ran (schedule() sets it again). */
  timer: Timer | null
  /** The timer's callback for this link, made once: a link is rescheduled every PING_INTERVAL or so. */
  fire: () => void
  /**
   * When our unanswered ping went out (-1: none), and how many messages the link had received
   * by then: two numbers, not an object a ping that outlived a scavenge.
   */
  pingAt: number
  pingReceived: number
}

export class Keepalive {
  /** Links watched now; each holds its watch itself (Connection.watch), not a map entry a link. */
  private watched = 0

  constructor (private readonly clock: Clock) {}

  /**
   * Keep an eye on an open link until unwatch(c), which its owner calls as the link closes (the
   * node's own 'close' listener does): a listener of the keepalive's own was one more closure
   * and its context held for every link's life.
   */
  watch (c: Connection): void {
    if (c.closed || c.watch !== null) return
    const w: Watch = { timer: null, fire: () => this.check(c, w), pingAt: -1, pingReceived: 0 }
    c.watch = w
    this.watched++
    this.schedule(c, w, pingAfter(c.outbound))
  }

  /** The link closed: its timer goes, and it is forgotten. */
  unwatch (c: Connection): void {
    const w = c.watch as Watch | null
    if (w === null) return
    this.stop(w)
    c.watch = null
    this.watched--
  }

  /**
   * The link may be dead: another link to the same peer came in and lost to it, as happens when
   * the peer restarted and its old link never closed. Ping it now, so a dead one ends within
   * PING_TIMEOUT and the peer gets in on its next try.
   */
  probe (c: Connection): void {
    const w = c.watch as Watch | null
    if (w !== null && w.pingAt < 0) this.ping(c, w)
  }

  onPing (c: Connection): void {
    c.sendFrame(PONG_FRAME, 'pong')
  }

  /** Links watched now. */
  get size (): number { return this.watched }

  private check (c: Connection, w: Watch): void {
    // w.timer has run: kept, for schedule() to set again.
    if (c.closed) return
    const now = this.clock.now()
    if (w.pingAt >= 0) {
      if (c.received === w.pingReceived) {
        // Nothing at all since the ping: not a pong, not anything else.
        if (now - w.pingAt >= PING_TIMEOUT) return c.close(`no answer to ping within ${PING_TIMEOUT / 1000} s (PING_TIMEOUT)`, false)
        return this.schedule(c, w, w.pingAt + PING_TIMEOUT - now)
      }
      w.pingAt = -1
    }
    const idle = now - c.lastHeard
    const after = pingAfter(c.outbound)
    if (idle >= after) this.ping(c, w)
    else this.schedule(c, w, after - idle)
  }

  private ping (c: Connection, w: Watch): void {
    w.pingAt = this.clock.now()
    w.pingReceived = c.received
    c.sendFrame(PING_FRAME, 'ping')
    this.schedule(c, w, PING_TIMEOUT)
  }

  private schedule (c: Connection, w: Watch, ms: number): void {
    // The same timer set again where the clock can (Clock.again): one a link, not one a minute.
    if (w.timer !== null && this.clock.again !== undefined) {
      w.timer = this.clock.again(w.timer, w.fire, ms)
    } else {
      this.stop(w)
      w.timer = this.clock.setTimeout(w.fire, ms)
    }
    w.timer.unref?.()
  }

  private stop (w: Watch): void {
    if (w.timer !== null) this.clock.clearTimeout(w.timer)
    w.timer = null
  }
}
