// What two WebRTC endpoints tell each other to open a data channel (the offer, the answer and
// their ICE candidates), as plain JSON any channel can carry: the ring, an introducing peer, a
// test's in-process pair. This is the one place a signal's shape and bounds are checked: the
// other side, and every node that carries its signals, may be hostile.
//
// A candidate names an address our ICE agent will send packets to, so it passes the address
// policy of any dial (parseAddress: no unspecified, multicast or reserved host) and the
// caller's own (loopback only in tests). Only IP literals: a host name in a candidate (a
// browser's mDNS .local name) would have the agent resolve names a peer picked. Candidates
// inside an SDP are held to the same rules, or the check on trickled ones would be for show.
// Pure: nothing here loads the native module.
import { isIP } from 'node:net'
import { parseAddress, AddressError } from './address.js'

/** Longest SDP accepted: a data-channel-only offer is ~600 bytes from libdatachannel and 1-3 kB from a browser with its candidates inline. */
export const MAX_SDP_LENGTH = 8 * 1024
/** Longest candidate line: a full one (raddr, rport, generation, ufrag, network-id) is ~200 bytes. */
export const MAX_CANDIDATE_LENGTH = 512
/** Longest media id (sdpMid): a data channel's is "0" (browsers) or "data". */
export const MAX_MID_LENGTH = 16
/**
 * Most candidates one attempt takes from the peer, trickled and in its SDP together: one per
 * interface and ICE server is a handful; past this a peer is making our agent probe for it.
 */
export const MAX_CANDIDATES = 32
/** Most signals one attempt takes from the peer (offer or answer, candidates, end): past it, a flood. */
export const MAX_SIGNALS = MAX_CANDIDATES + 4
/** Candidate types ICE knows (RFC 8445 §5.1.1, and prflx). */
const CANDIDATE_TYPES = ['host', 'srflx', 'prflx', 'relay']

/** Offer and answer carry an SDP; a candidate one ICE candidate; `end` says no more candidates come. */
export type Signal =
  | { type: 'offer', sdp: string }
  | { type: 'answer', sdp: string }
  | { type: 'candidate', candidate: string, mid: string }
  | { type: 'end' }

/** A signal that breaks a rule: said in one sentence, and the attempt it came to fails. */
export class SignalError extends Error {
  constructor (why: string) {
    super(`bad webrtc signal: ${why}`)
    this.name = 'SignalError'
  }
}

/**
 * A candidate whose address the policy refuses. Not a fault of the peer's (it may have LAN
 * addresses we will not dial): the candidate is left out, and the attempt goes on without it.
 */
export class CandidateRefused extends SignalError {}

/** Which hosts a candidate may name, on top of parseAddress's rules (e.g. loopback only). */
export type HostPolicy = (host: string) => boolean

/** Loopback hosts only: 127.0.0.0/8 and ::1 (what tests and a single-machine setup allow). */
export const loopbackOnly: HostPolicy = host => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1'

export interface Candidate {
  /** The candidate as the peer gave it, without "a=" (what RTCPeerConnection.addIceCandidate takes). */
  line: string
  host: string
  port: number
  type: string
}

const FIELD = /^[\x21-\x7e]+$/

/**
 * Read one candidate line ("candidate:…" or "a=candidate:…") and check its address; throws
 * SignalError for a malformed line, CandidateRefused for an address the policy refuses.
 */
export function checkCandidate (input: unknown, allow: HostPolicy = () => true): Candidate {
  if (typeof input !== 'string') throw new SignalError('a candidate must be a string')
  if (input.length > MAX_CANDIDATE_LENGTH) throw new SignalError(`a candidate is longer than MAX_CANDIDATE_LENGTH (${MAX_CANDIDATE_LENGTH})`)
  const line = input.startsWith('a=') ? input.slice(2) : input
  const f = line.split(' ')
  // candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE [name value]...
  if (f.length < 8 || !/^candidate:[A-Za-z0-9+/]{1,32}$/.test(f[0]) || !f.every(x => FIELD.test(x))) throw new SignalError(`malformed candidate ${JSON.stringify(input.slice(0, 80))}`)
  if (!/^[12]$/.test(f[1])) throw new SignalError(`candidate component ${JSON.stringify(f[1].slice(0, 10))} is not 1 or 2`)
  if (f[2].toLowerCase() !== 'udp') throw new SignalError(`candidate transport ${JSON.stringify(f[2].slice(0, 10))} is not UDP (the only one our ICE agent speaks)`)
  if (!/^\d{1,10}$/.test(f[3])) throw new SignalError('candidate priority is not a number')
  if (f[6] !== 'typ' || !CANDIDATE_TYPES.includes(f[7])) throw new SignalError(`candidate type must be one of ${CANDIDATE_TYPES.join(', ')}`)
  const host = f[4].toLowerCase()
  if (isIP(host) === 0) throw new CandidateRefused(`candidate address ${JSON.stringify(host.slice(0, 64))} is not an IP address (host names, such as mDNS .local ones, are not resolved)`)
  const port = /^\d{1,5}$/.test(f[5]) ? Number(f[5]) : 0
  if (port < 1 || port > 65535) throw new SignalError(`candidate port ${JSON.stringify(f[5].slice(0, 10))} is out of range 1-65535`)
  // The same rules as any address we dial (unspecified, multicast, reserved hosts are no peer).
  try {
    parseAddress(`tcp://${host.includes(':') ? `[${host}]` : host}:${port}`, { schemes: ['tcp'] })
  } catch (err) {
    throw new CandidateRefused(`candidate ${(err as AddressError).message.replace(/^invalid address "tcp:\/\/[^"]*": /, `address ${host}: `)}`)
  }
  if (!allow(host)) throw new CandidateRefused(`candidate address ${host} is not allowed here`)
  return { line, host, port, type: f[7] }
}

export interface CheckedSdp {
  /** The SDP without the candidates the policy refused. */
  sdp: string
  /** The candidates it carried that were kept. */
  candidates: Candidate[]
  /** Why each refused one was left out. */
  refused: string[]
}

/**
 * Check an SDP's size and the candidates in it (a=candidate lines, each as checkCandidate
 * does): a malformed one, or more than MAX_CANDIDATES, is a SignalError; one the policy
 * refuses is taken out of the SDP.
 */
export function checkSdp (input: unknown, allow: HostPolicy = () => true): CheckedSdp {
  if (typeof input !== 'string') throw new SignalError('sdp must be a string')
  if (input.length > MAX_SDP_LENGTH) throw new SignalError(`sdp of ${input.length} characters is longer than MAX_SDP_LENGTH (${MAX_SDP_LENGTH})`)
  if (!input.startsWith('v=0')) throw new SignalError('sdp does not start with v=0')
  if (/[^\x20-\x7e\r\n\t]/.test(input)) throw new SignalError('sdp holds characters that are not printable ASCII')
  const lines = input.split(/\r?\n/)
  const kept: string[] = []
  const candidates: Candidate[] = []
  const refused: string[] = []
  for (const line of lines) {
    if (line.startsWith('a=candidate:')) {
      if (candidates.length + refused.length >= MAX_CANDIDATES) throw new SignalError(`sdp carries more than MAX_CANDIDATES (${MAX_CANDIDATES}) candidates`)
      try {
        candidates.push(checkCandidate(line, allow))
      } catch (err) {
        if (!(err instanceof CandidateRefused)) throw err
        refused.push(err.message)
        continue
      }
    }
    kept.push(line)
  }
  return { sdp: kept.join('\r\n'), candidates, refused }
}

/** Check the shape of a signal from the peer (not its candidates' addresses: see checkCandidate). */
export function validateSignal (x: unknown): Signal {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new SignalError('a signal must be a JSON object')
  const s = x as Record<string, unknown>
  const keys = Object.keys(s)
  const only = (...allowed: string[]): void => {
    const extra = keys.find(k => !allowed.includes(k))
    if (extra !== undefined) throw new SignalError(`unknown field ${JSON.stringify(extra.slice(0, 32))} in a ${String(s.type)} signal`)
  }
  switch (s.type) {
    case 'offer':
    case 'answer':
      only('type', 'sdp')
      if (typeof s.sdp !== 'string') throw new SignalError(`${s.type} without an sdp string`)
      if (s.sdp.length > MAX_SDP_LENGTH) throw new SignalError(`sdp of ${s.sdp.length} characters is longer than MAX_SDP_LENGTH (${MAX_SDP_LENGTH})`)
      return { type: s.type, sdp: s.sdp }
    case 'candidate':
      only('type', 'candidate', 'mid')
      if (typeof s.candidate !== 'string') throw new SignalError('candidate signal without a candidate string')
      if (s.candidate.length > MAX_CANDIDATE_LENGTH) throw new SignalError(`a candidate is longer than MAX_CANDIDATE_LENGTH (${MAX_CANDIDATE_LENGTH})`)
      if (typeof s.mid !== 'string' || !/^[A-Za-z0-9_-]+$/.test(s.mid) || s.mid.length > MAX_MID_LENGTH) throw new SignalError(`candidate mid must be a short name (letters, digits, "_", "-"; at most MAX_MID_LENGTH, ${MAX_MID_LENGTH})`)
      return { type: 'candidate', candidate: s.candidate, mid: s.mid }
    case 'end':
      only('type')
      return { type: 'end' }
    default:
      throw new SignalError(`unknown signal type ${JSON.stringify(String(s.type).slice(0, 32))} (expected offer, answer, candidate or end)`)
  }
}

// --- settings: `ice` and `webrtc-bind` ----------------------------------------------------

/** An ICE server as RTCPeerConnection takes it (the W3C RTCIceServer). */
export interface IceServer { urls: string, username?: string, credential?: string }

/** Most ICE servers the `ice` setting takes (each one is asked at every attempt). */
export const MAX_ICE_SERVERS = 8

/**
 * One `ice` setting entry as an RTCIceServer: stun:HOST[:PORT], or turn:USER:PASS@HOST[:PORT]
 * (turns: for TLS). The host is held to parseAddress's rules. Throws an Error saying what is wrong.
 */
export function parseIceServer (input: string): IceServer {
  const m = /^(stun|turns?):(?:([^:@\s]+):([^@\s]+)@)?([^@\s]+)$/i.exec(input)
  if (m === null) throw new Error(`ICE server ${JSON.stringify(input.slice(0, 80))}: expected stun:HOST[:PORT] or turn:USER:PASS@HOST[:PORT]`)
  const scheme = m[1].toLowerCase()
  const defaultPort = scheme === 'turns' ? 5349 : 3478
  // IPv6 in brackets, as in a URL: [::1]:3478.
  const hasPort = /^(\[[^\]]*\]|[^:]*):\d+$/.test(m[4])
  let address
  try {
    address = parseAddress(`tcp://${m[4]}${hasPort ? '' : `:${defaultPort}`}`, { schemes: ['tcp'] })
  } catch (err) {
    throw new Error(`ICE server ${JSON.stringify(input.slice(0, 80))}: ${(err as Error).message.replace(/^invalid address "[^"]*": /, '')}`)
  }
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  const urls = `${scheme}:${host}:${address.port}`
  if (scheme === 'stun') {
    if (m[2] !== undefined) throw new Error(`ICE server ${JSON.stringify(input.slice(0, 80))}: a STUN server takes no user name or password`)
    return { urls }
  }
  if (m[2] === undefined) throw new Error(`ICE server ${JSON.stringify(input.slice(0, 80))}: a TURN server needs USER:PASS@ before its host`)
  return { urls, username: m[2], credential: m[3] }
}

/** The `ice` setting as RTCIceServers; throws naming a bad entry, or too many. */
export function parseIceServers (list: readonly string[]): IceServer[] {
  if (list.length > MAX_ICE_SERVERS) throw new Error(`at most MAX_ICE_SERVERS (${MAX_ICE_SERVERS}) ICE servers`)
  return list.map(parseIceServer)
}

/** The `webrtc-bind` setting: an IP address to gather candidates on ("[::1]" as "::1"); throws otherwise. */
export function parseBindAddress (input: string): string {
  const host = /^\[.*\]$/.test(input) ? input.slice(1, -1) : input
  if (isIP(host) === 0) throw new Error(`webrtc-bind ${JSON.stringify(input.slice(0, 80))}: give an IP address of this machine (127.0.0.1 or ::1 for this machine alone)`)
  return host.toLowerCase()
}
