// NOT SECURE, for the simulation only: a stand-in for the secure layer (node/secure.ts) that
// neither encrypts nor authenticates. Ten thousand nodes over the in-memory transport cannot
// each run Noise and secretstream within the simulation's budget, and the simulation measures
// the protocol, not the cipher. Each end registers its public key on its end of the mem link;
// the far end reads it from there (in-process, nothing on the wire), so the bytes counted and
// the round trips are the protocol's own. The daemon never loads this file (lib/sim is not
// even in the package).
import type { Duplex } from 'node:stream'
import type { KeyPair } from '../node/identity.js'
import type { LinkStream, SecureLayer } from '../node/secure.js'

/** Where each end keeps the key its node registered on it. */
const KEY = Symbol('simulation stand-in key')
type End = Duplex & { other?: End | null, [KEY]?: Uint8Array }
const patched = new WeakSet<object>()

/**
 * `remotePublicKey` as one getter on the ends' prototype, reading the far end's key: a getter
 * defined on each end turned every end's properties into a dictionary (about 9 KB a node).
 */
function patch (proto: object): void {
  if (patched.has(proto)) return
  patched.add(proto)
  Object.defineProperty(proto, 'remotePublicKey', {
    configurable: true,
    get (this: End) { return this.other?.[KEY] ?? null }
  })
}

export const simulationStandInLayer: SecureLayer = (raw: Duplex, _initiator: boolean, keyPair: KeyPair): LinkStream => {
  patch(Object.getPrototypeOf(raw) as object)
  ;(raw as End)[KEY] = keyPair.publicKey
  return raw as unknown as LinkStream
}

/** The key a far end (a link end run by another thread) shows as its node's. */
export function setFarKey (far: object, publicKey: Uint8Array): void {
  (far as End)[KEY] = publicKey
}
