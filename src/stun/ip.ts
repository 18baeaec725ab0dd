// IP addresses as the bytes STUN carries (RFC 5389 §15.1: 4 bytes for IPv4, 16 for IPv6) and
// back to text, as small pure functions. The WHATWG URL parser does the hard part of IPv6 text
// (`::` runs, embedded IPv4, RFC 5952 canonical form), so there is one IPv6 grammar in the
// process, not a hand-written second one.
import { isIPv4, isIPv6 } from 'node:net'

/** The 4 or 16 bytes of an IP address's text; null when it is neither (a name, garbage). */
export function ipToBytes (text: string): Buffer | null {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number))
  // A scope (fe80::1%eth0) names a local interface: it is not on the wire.
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text
  if (!isIPv6(bare)) return null
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1) // URL writes IPv4 tails in hex
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined]
  const groups = (s: string): string[] => s === '' ? [] : s.split(':')
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const all = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const out = Buffer.alloc(16)
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

/** The text of 4 or 16 address bytes (IPv6 in its RFC 5952 canonical form). */
export function bytesToIp (b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.')
  if (b.length !== 16) throw new RangeError(`an IP address is 4 or 16 bytes, not ${b.length}`)
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16))
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}
