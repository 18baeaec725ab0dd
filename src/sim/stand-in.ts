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

const keys = new WeakMap<object, Uint8Array>()

export const simulationStandInLayer: SecureLayer = (raw: Duplex, _initiator: boolean, keyPair: KeyPair): LinkStream => {
  keys.set(raw, keyPair.publicKey)
  const other = (): object | null => (raw as unknown as { other: object | null }).other
  Object.defineProperty(raw, 'remotePublicKey', {
    get: () => {
      const o = other()
      return o === null ? null : keys.get(o) ?? null
    }
  })
  return raw as unknown as LinkStream
}
