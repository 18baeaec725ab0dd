// libsodium (sodium-universal: native sodium on Node, sodium-javascript in a browser bundle),
// loaded on first use, so a process that never signs, hashes or makes a key (the CLI client)
// never pays for it. The one place it is loaded; what peernet calls of it is typed here.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export interface Sodium {
  crypto_sign_seed_keypair: (pk: Buffer, sk: Buffer, seed: Buffer) => void
  crypto_sign_keypair: (pk: Buffer, sk: Buffer) => void
  crypto_sign_detached: (sig: Buffer, msg: Buffer, sk: Buffer) => void
  crypto_sign_verify_detached: (sig: Buffer, msg: Buffer, pk: Buffer) => boolean
  crypto_generichash: (out: Buffer, msg: Buffer) => void
}

let loaded: Sodium | null = null

export function sodium (): Sodium {
  loaded ??= require('sodium-universal') as Sodium
  return loaded
}
