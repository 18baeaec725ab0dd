// A node's identity: an Ed25519 key pair in libsodium's format (a 32-byte public key, a 64-byte
// secret key whose last 32 bytes are the public key). The node's id is its public key in
// lowercase hex. Keys come from libsodium (through @hyperswarm/secret-stream, the same library
// that runs the Noise handshake of every link), never from code of our own.
import { NODE_ID } from '../transport/address.js'
import { sodium as lib } from '../util/sodium.js'

export interface KeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

/** Bytes of a public key, and of a secret key (libsodium's crypto_sign_*BYTES). */
export const PUBLIC_KEY_BYTES = 32
export const SECRET_KEY_BYTES = 64

export { NODE_ID }

export class IdentityError extends Error {
  constructor (message: string, readonly storedId?: string) {
    super(message)
    this.name = 'IdentityError'
  }
}

/** A new key pair from the operating system's secure generator, or from a 32-byte seed. */
export function generateKeyPair (seed?: Uint8Array): KeyPair {
  const publicKey = Buffer.alloc(PUBLIC_KEY_BYTES)
  const secretKey = Buffer.alloc(SECRET_KEY_BYTES)
  if (seed !== undefined) lib().crypto_sign_seed_keypair(publicKey, secretKey, Buffer.from(seed))
  else lib().crypto_sign_keypair(publicKey, secretKey)
  return { publicKey, secretKey }
}

/** The id of a public key. */
export function idOf (publicKey: Uint8Array): string {
  return Buffer.from(publicKey).toString('hex')
}

/**
 * Why secretKey is no Ed25519 secret key in libsodium's format, or null. Its first half is the
 * seed: the key pair it derives must end the secret key, so a damaged byte anywhere shows.
 */
export function secretKeyProblem (secretKey: Uint8Array): string | null {
  if (secretKey.length !== SECRET_KEY_BYTES) return `it is ${secretKey.length} bytes, not ${SECRET_KEY_BYTES}`
  const derived = generateKeyPair(secretKey.subarray(0, 32))
  if (!Buffer.from(derived.secretKey).equals(Buffer.from(secretKey))) return 'its public half does not match its seed (the key is damaged)'
  return null
}

/** The key pair of a secret key (libsodium's format), or throws IdentityError saying why not. */
export function keyPairOf (secretKey: Uint8Array, what = 'the secret key'): KeyPair {
  const why = secretKeyProblem(secretKey)
  if (why !== null) throw new IdentityError(`${what} is not an Ed25519 secret key: ${why}`)
  const sk = ownCopy(secretKey)
  return { publicKey: sk.subarray(32), secretKey: sk }
}

/** opts.keyPair checked: a TypeError naming what is wrong, else the pair as Buffers. */
export function checkKeyPair (x: unknown): KeyPair {
  const kp = x as Partial<KeyPair> | null
  const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array
  if (kp === null || typeof kp !== 'object' || !isBytes(kp.publicKey) || !isBytes(kp.secretKey)) {
    throw new TypeError('opts.keyPair must be {publicKey, secretKey}, two Uint8Arrays (an Ed25519 key pair in libsodium\'s format)')
  }
  const why = secretKeyProblem(kp.secretKey)
  if (why !== null) throw new TypeError(`opts.keyPair.secretKey is not an Ed25519 secret key: ${why}`)
  if (!Buffer.from(kp.secretKey).subarray(32).equals(Buffer.from(kp.publicKey))) {
    throw new TypeError('opts.keyPair.publicKey is not the public key of opts.keyPair.secretKey')
  }
  return { publicKey: ownCopy(kp.publicKey), secretKey: ownCopy(kp.secretKey) }
}

/**
 * A copy of bytes in a buffer of its own. Buffer.from(bytes) of a few bytes is a slice of an 8 KB
 * pool shared with whatever else was allocated then: a node keeps its keys for life, so each key
 * pair held a pool of its own alive (8 KB a node: 80 MB in a 10,000-node simulation), and a
 * secret key would share memory with unrelated data.
 */
function ownCopy (bytes: Uint8Array): Buffer {
  const b = Buffer.allocUnsafeSlow(bytes.length)
  b.set(bytes)
  return b
}

/** What the database keeps of the identity: the id, and the secret key (hex) when it keeps it. */
export interface StoredIdentity {
  id: string | null
  secret: string | null
}

/**
 * The identity a node runs with, from the key pair it was given (or none) and what its database
 * kept. Never a new identity for a database that already has one: a different key would orphan
 * the node's place among its peers. A database of the previous version (a random 32-digit id,
 * no key) takes the node's key: that is its migration.
 */
export function resolveIdentity (given: KeyPair | null, stored: StoredIdentity): { keyPair: KeyPair, store: StoredIdentity } {
  const storedId = stored.id !== null && NODE_ID.test(stored.id) ? stored.id : null
  if (given !== null) {
    const id = idOf(given.publicKey)
    if (storedId !== null && storedId !== id) {
      throw new IdentityError(`this database belongs to node ${storedId}, not to the key pair given (node ${id})`, storedId)
    }
    return { keyPair: given, store: { id, secret: storedId === id ? stored.secret : null } }
  }
  if (stored.secret !== null) {
    const keyPair = keyPairOf(Buffer.from(stored.secret, 'hex'), 'the key kept in the database')
    const id = idOf(keyPair.publicKey)
    if (storedId !== null && storedId !== id) throw new IdentityError(`the key kept in the database is not that of node ${storedId} (the database is damaged)`, storedId)
    return { keyPair, store: { id, secret: stored.secret } }
  }
  if (storedId !== null) {
    throw new IdentityError(`this database belongs to node ${storedId}, whose key it does not keep: pass that node's key pair as opts.keyPair`, storedId)
  }
  const keyPair = generateKeyPair()
  return { keyPair, store: { id: idOf(keyPair.publicKey), secret: Buffer.from(keyPair.secretKey).toString('hex') } }
}
