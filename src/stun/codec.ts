// A binding-only STUN codec (RFC 5389), as pure functions over Buffers: parse a datagram into a
// message or a reason it was refused, and build the few messages a binding server and its
// client exchange. Every datagram comes from anyone on the network: each field is checked before
// use, and parsing never throws (a reason string is the only failure).
import { crc32 } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { ipToBytes, bytesToIp } from './ip.js'

/** §6: the fixed 32 bits that tell a STUN message from anything else (and RFC 3489's). */
export const MAGIC_COOKIE = 0x2112a442
/** §6: bytes of the header: type, length, cookie, 96-bit transaction id. */
export const HEADER_LENGTH = 20
/** §6: bytes of a transaction id. */
export const TRANSACTION_ID_LENGTH = 12
/**
 * Largest datagram parsed. §7.1 asks senders over UDP to keep under 576 bytes of IPv4 datagram
 * (548 of payload) when the path MTU is unknown, so an honest binding request fits with room to
 * spare (a WebRTC one with USERNAME, MESSAGE-INTEGRITY and FINGERPRINT is about 100); anything
 * longer is refused before its attributes are walked.
 */
export const MAX_STUN_DATAGRAM = 548
/** §15.10: SOFTWARE is fewer than 128 characters; we also keep it under this many bytes. */
export const MAX_SOFTWARE_BYTES = 127
/**
 * Most attribute types an Unknown Attribute (420) answer names (§15.9). A request can list up
 * to ~130 unknown types within MAX_STUN_DATAGRAM; naming all of them would make the answer as
 * big as the request and more, so the list is cut here.
 */
export const MAX_UNKNOWN_LISTED = 8

/** §18.1: the Binding method. */
export const BINDING = 0x001
/** §6: the four classes, as the two bits C1 C0. */
export const CLASS_REQUEST = 0b00
export const CLASS_INDICATION = 0b01
export const CLASS_SUCCESS = 0b10
export const CLASS_ERROR = 0b11

/** §18.2: the attribute types used here. */
export const ATTR_MAPPED_ADDRESS = 0x0001
export const ATTR_ERROR_CODE = 0x0009
export const ATTR_UNKNOWN_ATTRIBUTES = 0x000a
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020
export const ATTR_SOFTWARE = 0x8022
export const ATTR_FINGERPRINT = 0x8028
/** §15.1: address families. */
const FAMILY_IPV4 = 0x01
const FAMILY_IPV6 = 0x02
/** §15.5: what the CRC-32 of a FINGERPRINT is XORed with ("STUN"). */
export const FINGERPRINT_XOR = 0x5354554e
/** §15.5: bytes of a FINGERPRINT attribute, header included. */
const FINGERPRINT_ATTR_LENGTH = 8

/** Why a datagram was refused: the key its drop is counted under. */
export type ParseFailure =
  | 'short' // fewer bytes than a header
  | 'too-long' // more than MAX_STUN_DATAGRAM
  | 'not-stun' // the two top bits of the type are not zero (§6)
  | 'bad-cookie' // not the magic cookie (§6): not STUN, or RFC 3489's, which we do not answer
  | 'length-mismatch' // the header's length is not what follows the header (§6)
  | 'length-unaligned' // the header's length is not a multiple of 4 (§6)
  | 'attribute-overrun' // an attribute (with its padding) runs past the end (§15)
  | 'not-request' // a response or an indication, where a request was expected (§7.3)
  | 'not-binding' // a method other than Binding (§7.3.1: we know no other)
  | 'not-response' // a request or an indication, where a response was expected
  | 'fingerprint-misplaced' // a FINGERPRINT that is not the last attribute (§15.5)
  | 'fingerprint-mismatch' // a FINGERPRINT whose CRC does not match (§15.5)
  | 'bad-address' // a (XOR-)MAPPED-ADDRESS of the wrong size or family (§15.1, §15.2)
  | 'no-address' // a success response with no mapped address
  | 'transaction-mismatch' // a response to some other transaction (§7.3.3)

export type Parsed<T> = { ok: true, value: T } | { ok: false, reason: ParseFailure }

export interface Attribute { type: number, value: Buffer }

/** A STUN message as read off the wire (§6). */
export interface StunMessage {
  method: number
  class: number
  transactionId: Buffer
  attributes: Attribute[]
}

/** A parsed Binding request: its transaction id, and what a server must answer about. */
export interface BindingRequest {
  transactionId: Buffer
  /** Comprehension-required attribute types (0x0000–0x7FFF) we do not know: §7.3.1 says 420. */
  unknownRequired: number[]
}

export interface MappedAddress { address: string, port: number, family: 4 | 6 }

const fail = <T>(reason: ParseFailure): Parsed<T> => ({ ok: false, reason })

/** §6: the 14-bit type from method and class (their bits interleave: M11..M7 C1 M6..M4 C0 M3..M0). */
export function messageType (method: number, cls: number): number {
  return ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | ((cls & 0b10) << 7) | ((cls & 0b01) << 4)
}

function methodOf (type: number): number {
  return ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f)
}

function classOf (type: number): number {
  return ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4)
}

/** §6, §15: the header and the attributes of any STUN message, each size checked; never throws. */
export function parseMessage (buf: Uint8Array): Parsed<StunMessage> {
  if (buf.length < HEADER_LENGTH) return fail('short')
  if (buf.length > MAX_STUN_DATAGRAM) return fail('too-long')
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const type = b.readUInt16BE(0)
  if ((type & 0xc000) !== 0) return fail('not-stun')
  if (b.readUInt32BE(4) !== MAGIC_COOKIE) return fail('bad-cookie')
  const length = b.readUInt16BE(2)
  if (length % 4 !== 0) return fail('length-unaligned')
  if (HEADER_LENGTH + length !== b.length) return fail('length-mismatch')
  const attributes: Attribute[] = []
  let at = HEADER_LENGTH
  while (at < b.length) {
    // Each attribute: type, value length, value padded to 4 bytes (§15). Lengths are multiples
    // of 4 from here on, so at least a 4-byte attribute header is always left.
    const attrType = b.readUInt16BE(at)
    const attrLength = b.readUInt16BE(at + 2)
    const end = at + 4 + attrLength
    if (end + pad(attrLength) > b.length) return fail('attribute-overrun')
    attributes.push({ type: attrType, value: b.subarray(at + 4, end) })
    at = end + pad(attrLength)
  }
  return { ok: true, value: { method: methodOf(type), class: classOf(type), transactionId: b.subarray(8, HEADER_LENGTH), attributes } }
}

/** §15: bytes of padding after a value of `n` bytes. */
function pad (n: number): number {
  return (4 - (n % 4)) % 4
}

/**
 * §15.5: a FINGERPRINT, when there is one, is last and matches the CRC-32 of everything before
 * it. Checked on the raw bytes, since the CRC covers the header as sent.
 */
function checkFingerprint (buf: Uint8Array, m: StunMessage): ParseFailure | null {
  const i = m.attributes.findIndex(a => a.type === ATTR_FINGERPRINT)
  if (i === -1) return null
  if (i !== m.attributes.length - 1 || m.attributes[i].value.length !== 4) return 'fingerprint-misplaced'
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const expected = fingerprint(b.subarray(0, b.length - FINGERPRINT_ATTR_LENGTH))
  return m.attributes[i].value.readUInt32BE(0) === expected ? null : 'fingerprint-mismatch'
}

/** §15.5: CRC-32 (as in ISO/IEC 13239, the zlib one) of the bytes before FINGERPRINT, XOR "STUN". */
export function fingerprint (before: Uint8Array): number {
  return (crc32(before) ^ FINGERPRINT_XOR) >>> 0
}

/**
 * A datagram a binding server should answer (§7.3, §7.3.1): a well-formed Binding request with a
 * good FINGERPRINT if it has one. Unknown comprehension-required attributes are not a parse
 * failure: the server answers them with a 420 (buildUnknownAttributesResponse).
 */
export function parseBindingRequest (buf: Uint8Array): Parsed<BindingRequest> {
  const r = parseMessage(buf)
  if (!r.ok) return r
  const m = r.value
  if (m.class !== CLASS_REQUEST) return fail('not-request')
  if (m.method !== BINDING) return fail('not-binding')
  const bad = checkFingerprint(buf, m)
  if (bad !== null) return fail(bad)
  // 0x0000–0x7FFF are comprehension-required (§15); we know none a Binding request carries
  // that asks anything of us (FINGERPRINT and SOFTWARE are in the optional range).
  const unknownRequired = [...new Set(m.attributes.map(a => a.type).filter(t => t < 0x8000))]
  return { ok: true, value: { transactionId: m.transactionId, unknownRequired } }
}

/**
 * The mapped address of a Binding success response to transaction `transactionId` (§7.3.3):
 * XOR-MAPPED-ADDRESS (§15.2), or MAPPED-ADDRESS (§15.1) from a server that sends only that.
 */
export function parseBindingResponse (buf: Uint8Array, transactionId?: Uint8Array): Parsed<MappedAddress> {
  const r = parseMessage(buf)
  if (!r.ok) return r
  const m = r.value
  if (m.class !== CLASS_SUCCESS) return fail('not-response')
  if (m.method !== BINDING) return fail('not-binding')
  if (transactionId !== undefined && !m.transactionId.equals(transactionId)) return fail('transaction-mismatch')
  const bad = checkFingerprint(buf, m)
  if (bad !== null) return fail(bad)
  const xor = m.attributes.find(a => a.type === ATTR_XOR_MAPPED_ADDRESS)
  if (xor !== undefined) return readAddress(xor.value, m.transactionId)
  const plain = m.attributes.find(a => a.type === ATTR_MAPPED_ADDRESS)
  if (plain !== undefined) return readAddress(plain.value, null)
  return fail('no-address')
}

/** §15.1 (and §15.2 when `xorWith` is the transaction id): reserved byte, family, port, address. */
function readAddress (v: Buffer, xorWith: Buffer | null): Parsed<MappedAddress> {
  if (v.length < 4) return fail('bad-address')
  const family = v[1]
  const size = family === FAMILY_IPV4 ? 4 : family === FAMILY_IPV6 ? 16 : 0
  if (size === 0 || v.length !== 4 + size) return fail('bad-address')
  let port = v.readUInt16BE(2)
  const addr = Buffer.from(v.subarray(4))
  if (xorWith !== null) {
    port ^= MAGIC_COOKIE >>> 16
    xorBytes(addr, xorWith)
  }
  return { ok: true, value: { address: bytesToIp(addr), port, family: size === 4 ? 4 : 6 } }
}

/** §15.2: XOR the address with the cookie, then (IPv6) the transaction id. In place. */
function xorBytes (addr: Buffer, transactionId: Uint8Array): void {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(MAGIC_COOKIE, 0)
  key.set(transactionId, 4)
  for (let i = 0; i < addr.length; i++) addr[i] ^= key[i]
}

/** §15.1 / §15.2: an address attribute's value; null when `address` is not an IP address. */
function addressValue (address: string, port: number, transactionId: Uint8Array | null): Buffer | null {
  const ip = ipToBytes(address)
  if (ip === null || !Number.isInteger(port) || port < 0 || port > 0xffff) return null
  const v = Buffer.alloc(4 + ip.length)
  v[1] = ip.length === 4 ? FAMILY_IPV4 : FAMILY_IPV6
  if (transactionId !== null) {
    xorBytes(ip, transactionId)
    port ^= MAGIC_COOKIE >>> 16
  }
  v.writeUInt16BE(port, 2)
  ip.copy(v, 4)
  return v
}

/** §6, §15: a whole message from its attributes, with a FINGERPRINT last when asked (§15.5). */
export function buildMessage (method: number, cls: number, transactionId: Uint8Array, attributes: Attribute[], withFingerprint = true): Buffer {
  if (transactionId.length !== TRANSACTION_ID_LENGTH) throw new RangeError(`a transaction id is ${TRANSACTION_ID_LENGTH} bytes`)
  const parts: Buffer[] = []
  for (const a of attributes) {
    const h = Buffer.alloc(4)
    h.writeUInt16BE(a.type, 0)
    h.writeUInt16BE(a.value.length, 2)
    parts.push(h, a.value, Buffer.alloc(pad(a.value.length)))
  }
  const body = Buffer.concat(parts)
  const header = Buffer.alloc(HEADER_LENGTH)
  header.writeUInt16BE(messageType(method, cls), 0)
  // §15.5: the length covers the FINGERPRINT before its CRC is taken.
  header.writeUInt16BE(body.length + (withFingerprint ? FINGERPRINT_ATTR_LENGTH : 0), 2)
  header.writeUInt32BE(MAGIC_COOKIE, 4)
  header.set(transactionId, 8)
  const msg = Buffer.concat([header, body])
  if (!withFingerprint) return msg
  const fp = Buffer.alloc(FINGERPRINT_ATTR_LENGTH)
  fp.writeUInt16BE(ATTR_FINGERPRINT, 0)
  fp.writeUInt16BE(4, 2)
  fp.writeUInt32BE(fingerprint(msg), 4)
  return Buffer.concat([msg, fp])
}

/** A new transaction id: §6 asks for one uniformly random over its 96 bits. */
export function newTransactionId (): Buffer {
  return randomBytes(TRANSACTION_ID_LENGTH)
}

/** §7.1: a Binding request with no attributes but a FINGERPRINT (unless asked not to). */
export function buildBindingRequest (transactionId: Uint8Array = newTransactionId(), opts: { fingerprint?: boolean } = {}): Buffer {
  return buildMessage(BINDING, CLASS_REQUEST, transactionId, [], opts.fingerprint ?? true)
}

export interface ResponseOptions {
  /** Also send MAPPED-ADDRESS, for clients from before XOR-MAPPED-ADDRESS (§15.1). */
  mapped?: boolean
  /** A SOFTWARE attribute (§15.10), cut to MAX_SOFTWARE_BYTES on a character boundary. */
  software?: string
  /** A FINGERPRINT last (§15.5); on unless turned off. */
  fingerprint?: boolean
}

/**
 * §7.3.1: a Binding success response telling the requester the address and port it was seen
 * from, as XOR-MAPPED-ADDRESS (§15.2). Throws a RangeError when `address` is not an IP address
 * (a server only ever passes what its socket reported).
 */
export function buildBindingResponse (transactionId: Uint8Array, address: string, port: number, opts: ResponseOptions = {}): Buffer {
  const xor = addressValue(address, port, transactionId)
  if (xor === null) throw new RangeError(`not an IP address and port: ${address} ${port}`)
  const attributes: Attribute[] = [{ type: ATTR_XOR_MAPPED_ADDRESS, value: xor }]
  if (opts.mapped === true) attributes.push({ type: ATTR_MAPPED_ADDRESS, value: addressValue(address, port, null) as Buffer })
  if (opts.software !== undefined && opts.software !== '') attributes.push({ type: ATTR_SOFTWARE, value: softwareValue(opts.software) })
  return buildMessage(BINDING, CLASS_SUCCESS, transactionId, attributes, opts.fingerprint ?? true)
}

/** SOFTWARE's UTF-8 bytes, cut to MAX_SOFTWARE_BYTES without splitting a character. */
function softwareValue (s: string): Buffer {
  const v = Buffer.from(s, 'utf8')
  if (v.length <= MAX_SOFTWARE_BYTES) return v
  let end = MAX_SOFTWARE_BYTES
  while (end > 0 && (v[end] & 0xc0) === 0x80) end-- // v[end] continues a character: cut before it
  return v.subarray(0, end)
}

/**
 * §7.3.1, §15.6, §15.9: a 420 (Unknown Attribute) error response naming at most
 * MAX_UNKNOWN_LISTED of the request's unknown comprehension-required attribute types.
 */
export function buildUnknownAttributesResponse (transactionId: Uint8Array, unknown: number[]): Buffer {
  const listed = unknown.slice(0, MAX_UNKNOWN_LISTED)
  const list = Buffer.alloc(listed.length * 2)
  listed.forEach((t, i) => list.writeUInt16BE(t & 0xffff, i * 2))
  const phrase = Buffer.from('Unknown Attribute')
  const code = Buffer.alloc(4)
  code[2] = 4 // §15.6: the hundreds digit of 420 (class) ...
  code[3] = 20 // ... and the rest (number)
  return buildMessage(BINDING, CLASS_ERROR, transactionId, [
    { type: ATTR_ERROR_CODE, value: Buffer.concat([code, phrase]) },
    { type: ATTR_UNKNOWN_ATTRIBUTES, value: list }
  ])
}
