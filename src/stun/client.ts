// A STUN binding client (RFC 5389 §7.2.1 over UDP): send a Binding request, retransmit it a
// couple of times if no answer comes, and resolve with the address and port the server saw.
// Answers are checked as anything off the network is: only a well-formed success response to
// our transaction, from the server we asked, counts; anything else is ignored until the timeout.
import { createSocket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { buildBindingRequest, newTransactionId, parseBindingResponse, parseMessage, CLASS_ERROR, ATTR_ERROR_CODE } from './codec.js'

/**
 * §7.2.1: the first retransmission waits this long (ms), each next one twice as long. The RFC
 * asks for more than 500 ms on the open network; on one host or a LAN an answer is far quicker.
 */
export const STUN_RTO = 500
/**
 * Retransmissions after the first request (§7.2.1 says 7 over 39.5 s, made for the open
 * network; a CLI asking a known server needs an answer in seconds, or an error).
 */
export const STUN_RETRANSMITS = 2
/** Default wait for an answer (ms): time for the request and its STUN_RETRANSMITS tries. */
export const STUN_TIMEOUT = 3000

export interface BindingOptions {
  timeout?: number
  /** Send from this local address (the socket's family follows the server's). */
  localAddress?: string
  localPort?: number
}

export interface BindingResult { address: string, port: number, family: 4 | 6 }

/** Ask host:port what address and port this socket is seen from. Rejects after the timeout. */
export async function stunBinding (host: string, port: number, opts: BindingOptions = {}): Promise<BindingResult> {
  const timeout = opts.timeout ?? STUN_TIMEOUT
  const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' })
  const transactionId = newTransactionId()
  const request = buildBindingRequest(transactionId)
  const timers: NodeJS.Timeout[] = []
  try {
    return await new Promise<BindingResult>((resolve, reject) => {
      socket.on('error', reject)
      socket.on('message', (msg, rinfo) => {
        if (rinfo.port !== port) return // not from the server we asked (the address may be written differently)
        const r = parseBindingResponse(msg, transactionId)
        if (r.ok) return resolve(r.value)
        const err = errorResponse(msg, transactionId)
        if (err !== null) reject(new Error(`the STUN server at ${host}:${port} answered with error ${err}`))
      })
      socket.bind(opts.localPort ?? 0, opts.localAddress, () => {
        const send = (): void => socket.send(request, port, host, err => { if (err != null) reject(err) })
        send()
        let wait = STUN_RTO
        let at = 0
        for (let i = 0; i < STUN_RETRANSMITS; i++) {
          at += wait
          wait *= 2
          if (at < timeout) timers.push(setTimeout(send, at))
        }
        timers.push(setTimeout(() => reject(new Error(`no STUN answer from ${host}:${port} within ${timeout} ms`)), timeout))
      })
    })
  } finally {
    for (const t of timers) clearTimeout(t)
    try { socket.close() } catch {} // already closed by a failed bind
  }
}

/** "420 Unknown Attribute" from an error response to our transaction (§15.6); null otherwise. */
function errorResponse (msg: Buffer, transactionId: Buffer): string | null {
  const r = parseMessage(msg)
  if (!r.ok || r.value.class !== CLASS_ERROR || !r.value.transactionId.equals(transactionId)) return null
  const code = r.value.attributes.find(a => a.type === ATTR_ERROR_CODE)
  if (code === undefined || code.value.length < 4) return 'with no code'
  const phrase = code.value.subarray(4).toString('utf8').replace(/[\x00-\x1f\x7f]/g, '?') // a peer's text
  return `${(code.value[2] & 0x7) * 100 + code.value[3]} ${phrase}`
}
