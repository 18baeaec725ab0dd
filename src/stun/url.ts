// A STUN server's name as a URI (RFC 7064 §3.1: stun:HOST[:PORT], an IPv6 host in brackets):
// what `listen stun` prints and `unlisten` takes. Text only: the CLI checks names with it and
// must not load a socket to do so.
import { isIPv6 } from 'node:net'

/** RFC 7064 §3.1 / RFC 5389 §9: the port a stun: URI without one means. */
export const STUN_DEFAULT_PORT = 3478

/** stun:HOST:PORT, with an IPv6 host in brackets. */
export function formatStunUrl (host: string, port: number): string {
  return `stun:${isIPv6(host) ? `[${host}]` : host}:${port}`
}

/**
 * A stun: URI's host (brackets taken off) and port, and its normal form; throws an Error whose
 * message is a sentence. A host is an IPv4 address, a bracketed IPv6 one or a DNS name.
 */
export function parseStunUrl (text: string): { host: string, port: number, href: string } {
  const m = /^stun:(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?$/i.exec(text)
  if (m === null) throw new Error(`"${text}" is not a STUN server's name (stun:HOST:PORT, an IPv6 host in brackets)`)
  const bracketed = m[1].startsWith('[')
  const host = (bracketed ? m[1].slice(1, -1) : m[1]).toLowerCase()
  if (bracketed && !isIPv6(host)) throw new Error(`"${m[1]}" is not an IPv6 address`)
  const port = m[2] === undefined ? STUN_DEFAULT_PORT : Number(m[2])
  if (port < 1 || port > 65535) throw new Error(`port ${m[2]} is out of range 1-65535`)
  // The host as the bound socket reports it: ::1 for [0:0::1], so unlisten finds what listen printed.
  const canonical = bracketed ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host
  return { host: canonical, port, href: formatStunUrl(canonical, port) }
}
