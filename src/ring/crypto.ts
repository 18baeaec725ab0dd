// Signing, verifying and hashing for the ring, all from libsodium (util/sodium.ts: loaded on
// first use, so only a node that uses the ring pays for it), and
// the one canonical byte encoding that records, points and envelopes are signed or hashed over.
//
// Canonical form: a domain tag, then each field as a 4-byte big-endian length and its UTF-8
// bytes (numbers as 8-byte big-endian unsigned integers). Chosen over canonical JSON because
// it has exactly one encoding per value by construction: no key order, number formatting or
// string escaping to agree on, and no field can bleed into the next ("ab","c" vs "a","bc"). The
// tag keeps a signature over one kind of thing from being valid for another.
import { sodium as lib } from '../util/sodium.js'

/** Bytes of an Ed25519 signature (crypto_sign_BYTES). */
export const SIGNATURE_BYTES = 64
/** Bytes of a point: BLAKE2b-256 (crypto_generichash with a 32-byte output), one ring id. */
export const HASH_BYTES = 32

/** Builds a canonical encoding field by field (see the head of this file). */
export class Canonical {
  private parts: Buffer[] = []
  constructor (tag: string) {
    this.str(tag)
  }

  str (s: string): this {
    const b = Buffer.from(s, 'utf8')
    const h = Buffer.allocUnsafe(4)
    h.writeUInt32BE(b.length, 0)
    this.parts.push(h, b)
    return this
  }

  /** A non-negative safe integer as 8 bytes. */
  uint (n: number): this {
    const b = Buffer.allocUnsafe(8)
    b.writeBigUInt64BE(BigInt(n), 0)
    this.parts.push(b)
    return this
  }

  /** An optional string: a flag byte, then the string when there is one (absent ≠ ""). */
  opt (s: string | undefined): this {
    this.parts.push(Buffer.from([s === undefined ? 0 : 1]))
    return s === undefined ? this : this.str(s)
  }

  bytes (): Buffer {
    return Buffer.concat(this.parts)
  }
}

/** BLAKE2b-256 of bytes, as 64 hex digits (a point on the ring). */
export function hash256 (msg: Buffer): string {
  const out = Buffer.alloc(HASH_BYTES)
  lib().crypto_generichash(out, msg)
  return out.toString('hex')
}

/** Ed25519 detached signature of msg with a 64-byte libsodium secret key, as 128 hex digits. */
export function sign (msg: Buffer, secretKey: Uint8Array): string {
  const sig = Buffer.alloc(SIGNATURE_BYTES)
  lib().crypto_sign_detached(sig, msg, Buffer.from(secretKey))
  return sig.toString('hex')
}

/** Whether sigHex is id's signature of msg (id: the public key as 64 hex digits). */
export function verify (msg: Buffer, sigHex: string, id: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(sigHex) || !/^[0-9a-f]{64}$/.test(id)) return false
  return lib().crypto_sign_verify_detached(Buffer.from(sigHex, 'hex'), msg, Buffer.from(id, 'hex'))
}
