// Which addresses peernet will store or dial. This is the one place that decides it: every
// address from a user, a peer's hello or a gossip answer passes through parseAddress first,
// so an address a peer sends can never reach a protocol we do not speak (transport-stream's
// file/ssh/http, or its "run a command" fallback for scheme-less strings), nor a host that is
// no peer at all (0.0.0.0 means "every interface" to a server, and "this machine" to a dialer).
import { isIPv6 } from 'node:net'
import { MAX_ADDRESS_LENGTH } from '../wire/messages.js'

/** Schemes peernet speaks. Anything else is refused before it is stored or dialed. */
export const SCHEMES = ['tcp', 'ws', 'wss', 'mem'] as const
export type Scheme = (typeof SCHEMES)[number]
/** Schemes that reach another process: what a daemon dials (mem:// lives inside one process). */
export const NETWORK_SCHEMES: readonly Scheme[] = ['tcp', 'ws', 'wss']

export interface Address {
  /** Normalised form: lower-case scheme and host; the key everything else uses. */
  href: string
  scheme: Scheme
  /** Host name or IP (IPv6 without brackets); for mem:// the name. */
  host: string
  /** Port number; 0 for mem://, the scheme default for ws/wss without one. */
  port: number
  /**
   * Path for ws/wss (default "/"), "" otherwise. It is part of the address: a peer behind a
   * reverse proxy is reached at its path. peernet's own ws services answer at "/" only, so
   * one service has one address (see transport/server.ts).
   */
  path: string
}

export interface ParseOptions {
  /** Schemes accepted (default: all of SCHEMES); the error lists these. */
  schemes?: readonly Scheme[]
  /**
   * Accept a host that is no peer (0.0.0.0, ::): only for naming a local service bound to
   * every interface, never for an address that is stored or dialed.
   */
  local?: boolean
}

export class AddressError extends Error {
  readonly address: string
  constructor (address: unknown, why: string) {
    const shown = typeof address === 'string' ? JSON.stringify(address.slice(0, 80)) : String(typeof address)
    super(`invalid address ${shown}: ${why}`)
    this.name = 'AddressError'
    this.address = typeof address === 'string' ? address : ''
  }
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const IPV6 = /^[0-9a-f:.]{2,45}$/
/** A host name that inet_aton (and so getaddrinfo) reads as an IPv4 number: 0x7f.1, 2130706433. */
const NUMERIC_HOST = /^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+))*\.?$/
const MEM_NAME = /^[A-Za-z0-9._~-]{1,64}$/
const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/

/**
 * Why host is no peer to store or dial, or null when it may be one: the unspecified addresses
 * (0.0.0.0/8, ::), multicast, and 240.0.0.0/4 with the broadcast address 255.255.255.255.
 */
export function notAPeer (host: string): string | null {
  let h = host.toLowerCase()
  if (h.startsWith('::ffff:') && IPV4.test(h.slice(7))) h = h.slice(7)
  if (IPV4.test(h)) {
    const first = Number(h.split('.')[0])
    if (first === 0) return `${h} is an unspecified address ("any interface" to a server), not a peer`
    if (first >= 224 && first < 240) return `${h} is a multicast address, not a peer`
    if (h === '255.255.255.255') return `${h} is the broadcast address, not a peer`
    if (first >= 240) return `${h} is a reserved address (240.0.0.0/4), not a peer`
    return null
  }
  if (h.includes(':')) {
    const groups = expandIPv6(h)
    if (groups.every(g => /^0*$/.test(g))) return `${h} is the unspecified address ("any interface" to a server), not a peer`
    if (/^ff/.test((groups[0] ?? '').padStart(4, '0'))) return `${h} is a multicast address, not a peer`
  }
  return null
}

/**
 * tcp://a.b.c.d:port already in its normal form (decimal octets and port without leading
 * zeros): the common address, read by a regex pass instead of the general parse below.
 */
const PLAIN_TCP4 = /^tcp:\/\/((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}):([1-9]\d{0,4})$/

/**
 * The Address of a plain tcp://IPv4:port that is a peer, or null for anything else (which
 * parseAddress's general path then reads, or refuses with its sentence). The same result as
 * that path (test/address.test.js compares them): `add -` of 100,000 lines parses each
 * address in the CLI and again in the daemon, and this is most of that time.
 */
export function plainTcp4 (input: string): Address | null {
  const m = PLAIN_TCP4.exec(input)
  if (m === null) return null
  const first = Number(m[2])
  const port = Number(m[3])
  // Not a peer (0/8, multicast, reserved, broadcast) or out of range: the general path says why.
  if (first === 0 || first >= 224 || port > 65535) return null
  return { href: input, scheme: 'tcp', host: m[1], port, path: '' }
}

/** mem://NAME, already in its normal form. */
const PLAIN_MEM = /^mem:\/\/[A-Za-z0-9._~-]{1,64}$/

/**
 * The Address of a plain mem://NAME, or null for anything else: what the general path reads
 * (test/address.test.js compares them), with one regex. The simulation's nodes gossip nothing
 * but mem:// addresses, and parse each one they hear.
 */
export function plainMem (input: string): Address | null {
  if (!PLAIN_MEM.test(input)) return null
  return { href: input, scheme: 'mem', host: input.slice(6), port: 0, path: '' }
}

/** Parse and check an address; throws AddressError with a sentence saying what is wrong. */
export function parseAddress (input: unknown, opts: ParseOptions = {}): Address {
  const schemes = opts.schemes ?? SCHEMES
  if (typeof input === 'string' && input.startsWith('tcp://') && schemes.includes('tcp')) {
    const plain = plainTcp4(input)
    if (plain !== null) return plain
  }
  if (typeof input === 'string' && input.startsWith('mem://') && schemes.includes('mem')) {
    const plain = plainMem(input)
    if (plain !== null) return plain
  }
  return parseGeneral(input, schemes, opts)
}

/** Any address parseAddress takes: each rule of it, in order (exported for its test). */
export function parseGeneral (input: unknown, schemes: readonly Scheme[], opts: ParseOptions): Address {
  if (typeof input !== 'string') throw new AddressError(input, 'not a string')
  if (input.length === 0) throw new AddressError(input, 'empty')
  if (input.length > MAX_ADDRESS_LENGTH) throw new AddressError(input, `longer than ${MAX_ADDRESS_LENGTH} characters`)
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(input)
  if (!m) throw new AddressError(input, `expected SCHEME://HOST:PORT with a scheme of ${schemes.join(', ')}`)
  const scheme = m[1].toLowerCase()
  if (!(schemes as readonly string[]).includes(scheme)) {
    throw new AddressError(input, `scheme "${scheme}" is not allowed (allowed: ${schemes.join(', ')})`)
  }
  const rest = m[2]
  if (scheme === 'mem') {
    if (!MEM_NAME.test(rest)) throw new AddressError(input, 'mem:// needs a name of letters, digits, ".", "_", "~" or "-"')
    return { href: `mem://${rest}`, scheme: 'mem', host: rest, port: 0, path: '' }
  }
  const slash = rest.indexOf('/')
  const authority = slash === -1 ? rest : rest.slice(0, slash)
  let path = slash === -1 ? '' : rest.slice(slash)
  if (authority === '') throw new AddressError(input, 'missing host')
  if (authority.includes('@')) throw new AddressError(input, 'user info is not allowed')
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority)
  if (!hp) throw new AddressError(input, 'malformed host or port')
  let host = hp[1].toLowerCase()
  if (host.startsWith('[')) {
    host = host.slice(1, -1)
    if (!IPV6.test(host) || !isIPv6(host)) throw new AddressError(input, 'malformed IPv6 address')
  } else if (host === '') {
    throw new AddressError(input, 'missing host')
  } else if (NUMERIC_HOST.test(host)) {
    if (!IPV4.test(host)) throw new AddressError(input, 'malformed IPv4 address (write it as four decimal numbers, a.b.c.d)')
  } else if (!HOSTNAME.test(host)) {
    throw new AddressError(input, 'malformed host name')
  }
  const why = opts.local === true ? null : notAPeer(host)
  if (why !== null) throw new AddressError(input, why)
  let port: number
  if (hp[2] === undefined) {
    if (scheme === 'tcp') throw new AddressError(input, 'tcp:// needs a port')
    port = scheme === 'wss' ? 443 : 80
  } else {
    if (hp[2] === '') throw new AddressError(input, 'empty port')
    port = Number(hp[2])
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AddressError(input, `port ${hp[2]} is out of range 1-65535`)
  }
  if (scheme === 'tcp') {
    if (path !== '' && path !== '/') throw new AddressError(input, 'tcp:// takes no path')
    path = ''
  } else {
    if (path === '') path = '/'
    if (!PATH.test(path)) throw new AddressError(input, 'malformed path (no query or fragment allowed)')
  }
  const shownHost = host.includes(':') ? `[${host}]` : host
  const defaultPort = scheme === 'tcp' ? -1 : scheme === 'wss' ? 443 : 80
  const shownPort = port === defaultPort ? '' : `:${port}`
  const shownPath = scheme === 'tcp' || path === '/' ? '' : path
  return { href: `${scheme}://${shownHost}${shownPort}${shownPath}`, scheme: scheme as Scheme, host, port, path }
}

/** A node id: its public key as 64 lowercase hex digits. */
export const NODE_ID = /^[0-9a-f]{64}$/

export interface PinnedAddress {
  /** The id the address must reach (lowercase), or null for a plain address. */
  id: string | null
  /** The address, normalised. */
  address: string
}

/**
 * ID@ADDR (as Lightning writes pubkey@host:port): an address with the id of the node it must
 * reach; or a plain ADDR (id null). The one place this form is read. Throws AddressError.
 */
export function parsePinned (input: unknown, opts: ParseOptions = {}): PinnedAddress {
  if (typeof input !== 'string') throw new AddressError(input, 'not a string')
  const at = input.indexOf('@')
  const scheme = input.indexOf('://')
  if (at === -1 || (scheme !== -1 && at > scheme)) return { id: null, address: parseAddress(input, opts).href }
  const id = input.slice(0, at).toLowerCase()
  if (!NODE_ID.test(id)) throw new AddressError(input, 'the id before "@" must be a node id, 64 hex digits (`peernet id` prints one)')
  return { id, address: parseAddress(input.slice(at + 1), opts).href }
}

/** ID@ADDR as text, or ADDR alone when there is no id. */
export function formatPinned (p: PinnedAddress): string {
  return p.id === null ? p.address : `${p.id}@${p.address}`
}

/** The normalised form of an address, or throws AddressError. (One argument: it is mapped over lists.) */
export function normalizeAddress (input: unknown): string {
  return parseAddress(input).href
}

/** A host as a server binds it: "[::1]" (as URLs write it) is "::1". */
export function bindHost (host: string): string {
  return /^\[.*\]$/.test(host) ? host.slice(1, -1) : host
}

/** The normalised form, or null when the address is not acceptable (for untrusted input). */
export function tryNormalizeAddress (input: unknown): string | null {
  try {
    return parseAddress(input).href
  } catch {
    return null
  }
}

/** parsePinned for untrusted input: null when the entry is not acceptable. */
export function tryParsePinned (input: unknown): PinnedAddress | null {
  try {
    return parsePinned(input)
  } catch {
    return null
  }
}

/**
 * The "source group" of a network host, as in Bitcoin Core's addrman: an IPv4 /24 or an IPv6
 * /48. Peers in one group are assumed to be one operator, so the table limits what a group can
 * place. A host name is its own group.
 */
export function sourceGroup (host: string): string {
  let h = host.toLowerCase()
  if (h.startsWith('::ffff:') && IPV4.test(h.slice(7))) h = h.slice(7)
  if (IPV4.test(h)) return 'ip4:' + h.split('.').slice(0, 3).join('.')
  if (h.includes(':')) return 'ip6:' + expandIPv6(h).slice(0, 3).join(':')
  return 'host:' + h
}

/** The eight groups of an IPv6 address (a dotted IPv4 tail becomes two groups). */
function expandIPv6 (address: string): string[] {
  let h = address
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number)
    h = h.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16)
  }
  const [head, tail] = h.includes('::') ? h.split('::') : [h, undefined]
  const a = head === '' ? [] : head.split(':')
  const b = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array(Math.max(0, 8 - a.length - b.length)).fill('0')
  return [...a, ...fill, ...b].map(p => p.replace(/^0+(?=.)/, ''))
}
