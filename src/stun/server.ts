// A STUN binding server (RFC 5389 §7.3) over one UDP socket: each well-formed Binding request
// is answered with the address and port it came from. Anyone can send it anything, with any
// source address written in: every datagram is parsed by the codec (which never throws), a
// malformed one is dropped and counted by its reason, and answers are rate-limited per source
// address and overall, because an answer is bigger than the request that asked for it (a
// forged source would turn the server into an amplifier aimed at the forged address).
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram'
import { isIPv4, isIPv6 } from 'node:net'
import { TokenBucket, KeyedBuckets } from '../util/rate.js'
import { parseBindingRequest, buildBindingResponse, buildUnknownAttributesResponse, type ParseFailure } from './codec.js'

/**
 * Answers a second to one source address, refilled steadily. A client needs one answer per
 * binding, a few more if its requests are lost and retransmitted (§7.2.1), and an ICE agent
 * asks once per local candidate: 10 a second is far above that, and holds what the server can
 * aim at a forged source to 10 answers (under 1 KB) a second.
 */
export const STUN_ANSWERS_PER_SECOND = 10
/** Answers one source may get back to back before its rate applies: a burst of candidates. */
export const STUN_ANSWER_BURST = 20
/**
 * Source addresses whose buckets are kept; past it, the one heard from least recently is
 * forgotten. About 100 bytes each: 10,000 is a megabyte whatever a flood of forged sources sends.
 */
export const MAX_STUN_SOURCES = 10_000
/**
 * Answers a second to all sources together: what forged sources, each new to the table (so
 * each with a full burst), can make the server send. 2,000 answers of under 100 bytes is
 * under 200 KB/s, and far above what honest clients of one server ask.
 */
export const STUN_TOTAL_ANSWERS_PER_SECOND = 2000

/** Why a datagram got no answer: the codec's reasons and the server's own. */
export type StunDrop =
  | ParseFailure
  | 'rate-limited' // its source had no token left
  | 'busy' // the server as a whole had no token left
  | 'bad-source' // a source we cannot answer (port 0)
  | 'send-error' // the answer could not be sent
  | 'internal' // a bug: counted, never thrown

export interface StunStats {
  /** Datagrams received. */
  received: number
  /** Binding success responses sent. */
  answered: number
  /** 420 (Unknown Attribute) error responses sent (§7.3.1). */
  refused: number
  /** Datagrams not answered, by why. */
  dropped: Partial<Record<StunDrop, number>>
  /** Source addresses with a rate bucket now (at most maxSources). */
  sources: number
  /** 'error' events of the socket (each logged by the owner, none fatal). */
  socketErrors: number
}

export interface StunServerOptions {
  rate?: number
  burst?: number
  maxSources?: number
  totalRate?: number
  /** SOFTWARE sent in answers (§15.10); none when absent. */
  software?: string
  /** The clock the rate buckets refill on (ms); Date.now unless a test holds time still. */
  now?: () => number
  /** Told of each socket error, which the server survives. */
  onError?: (err: Error) => void
}

export class StunServer {
  private socket: Socket | null = null
  private readonly perSource: KeyedBuckets
  private readonly total: TokenBucket
  private readonly counts = { received: 0, answered: 0, refused: 0, socketErrors: 0 }
  private readonly dropped: Partial<Record<StunDrop, number>> = {}

  constructor (private readonly opts: StunServerOptions = {}) {
    const now = opts.now ?? Date.now
    this.perSource = new KeyedBuckets(opts.rate ?? STUN_ANSWERS_PER_SECOND, opts.burst ?? STUN_ANSWER_BURST, opts.maxSources ?? MAX_STUN_SOURCES, now)
    const totalRate = opts.totalRate ?? STUN_TOTAL_ANSWERS_PER_SECOND
    this.total = new TokenBucket(totalRate, totalRate, now)
  }

  /**
   * Bind to host:port (port 0: any free one), on udp6 for an IPv6 host and udp4 otherwise.
   * Resolves with the bound address and port; rejects (and leaves nothing open) when it cannot.
   */
  async listen (host: string, port: number): Promise<{ address: string, port: number }> {
    if (this.socket !== null) throw new Error('this STUN server is already listening')
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' })
    this.socket = socket
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => {
        this.socket = null
        socket.close()
        reject(err)
      }
      socket.once('error', failed)
      socket.bind(port, host, () => {
        socket.off('error', failed)
        resolve()
      })
    })
    // From here on an error (an ICMP-reported send failure, say) is counted: a socket with no
    // 'error' listener would take the process down with it.
    socket.on('error', err => {
      this.counts.socketErrors++
      this.opts.onError?.(err)
    })
    socket.on('message', (msg, rinfo) => {
      try {
        this.onDatagram(msg, rinfo)
      } catch {
        this.drop('internal')
      }
    })
    const a = socket.address()
    return { address: a.address, port: a.port }
  }

  /** The bound address and port; null before listen and after close. */
  address (): { address: string, port: number } | null {
    if (this.socket === null) return null
    const a = this.socket.address()
    return { address: a.address, port: a.port }
  }

  stats (): StunStats {
    return { ...this.counts, dropped: { ...this.dropped }, sources: this.perSource.size }
  }

  /** Stop listening; a second close does nothing. */
  async close (): Promise<void> {
    const socket = this.socket
    if (socket === null) return
    this.socket = null
    await new Promise<void>(resolve => socket.close(() => resolve()))
  }

  private drop (why: StunDrop): void {
    this.dropped[why] = (this.dropped[why] ?? 0) + 1
  }

  private onDatagram (msg: Buffer, rinfo: RemoteInfo): void {
    this.counts.received++
    const req = parseBindingRequest(msg)
    if (!req.ok) return this.drop(req.reason)
    if (rinfo.port === 0) return this.drop('bad-source')
    const source = unmapped(rinfo.address)
    // The source's own bucket first: a flood from one source must not drain the shared one.
    if (!this.perSource.take(source)) return this.drop('rate-limited')
    if (!this.total.take()) return this.drop('busy')
    const { transactionId, unknownRequired } = req.value
    const refuse = unknownRequired.length > 0
    const answer = refuse
      ? buildUnknownAttributesResponse(transactionId, unknownRequired)
      : buildBindingResponse(transactionId, source, rinfo.port, { software: this.opts.software })
    this.send(answer, rinfo, refuse)
  }

  private send (answer: Buffer, to: RemoteInfo, refuse: boolean): void {
    const socket = this.socket
    if (socket === null) return this.drop('send-error')
    try {
      socket.send(answer, to.port, to.address, err => {
        if (err != null) this.drop('send-error')
        else if (refuse) this.counts.refused++
        else this.counts.answered++
      })
    } catch {
      this.drop('send-error') // closing under it
    }
  }
}

/**
 * An IPv4 client of a dual-stack udp6 socket shows as ::ffff:a.b.c.d; it is told (and
 * rate-limited as) the IPv4 address it sent from.
 */
function unmapped (address: string): string {
  const m = /^::ffff:(.+)$/i.exec(address)
  return m !== null && isIPv4(m[1]) ? m[1] : address
}
