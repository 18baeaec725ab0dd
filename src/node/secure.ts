// Every link runs a Noise XX handshake with the nodes' Ed25519 keys, then libsodium's
// secretstream: @hyperswarm/secret-stream, over whatever duplex the transport gives (tcp, ws,
// wss, mem). A link's peer is the static key the handshake proved, never what it says.
//
// Two things secret-stream leaves to us: it accepts whatever key answers (the connection
// compares it with the key a dial expects, on 'handshake', before any data of ours leaves),
// and its prologue is empty (the network id is checked in the first encrypted message, the
// hello). And one bound: it reads a 3-byte message length and buffers that much, up to 16 MiB;
// we never send a message over MAX_BATCH, so a peer announcing more is dropped before that.
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import type { KeyPair } from './identity.js'
import { MAX_FRAME, otherProtocol } from '../wire/frame.js'

const require = createRequire(import.meta.url)

/**
 * Most plaintext bytes in one encrypted message: the frames queued in one turn go as one
 * message (one message per small frame costs several times the throughput), up to this much;
 * a frame never spans two messages, and the largest frame (MAX_FRAME and its header) fits.
 */
export const MAX_BATCH = MAX_FRAME + 4
/** Bytes secretstream adds to each message (its tag and MAC). */
const SEALED_OVERHEAD = 17
/** Longest message a peer may announce: a full batch, sealed. Past it the link is dropped. */
export const MAX_SEALED_MESSAGE = MAX_BATCH + SEALED_OVERHEAD

/** What a connection needs of its stream: bytes in and out, and the peer's proven key. */
export interface LinkStream {
  on: (event: string, fn: (...args: any[]) => void) => unknown // eslint-disable-line @typescript-eslint/no-explicit-any
  write: (chunk: Buffer) => unknown
  end: () => unknown
  destroy: (err?: Error) => unknown
  /** Bytes written and not yet handed to the operating system (both layers). */
  readonly writableLength: number
  /**
   * The peer's static public key, once the handshake proved it ('handshake' is emitted then);
   * undefined on a stream with no handshake at all (the parts' unit tests).
   */
  readonly remotePublicKey?: Uint8Array | null
  /** Some bytes came from the peer (so a failed handshake was the peer's doing, not the network's). */
  readonly heard?: boolean
}

/** Wraps a transport's stream: the link that runs over it. */
export type SecureLayer = (raw: Duplex, initiator: boolean, keyPair: KeyPair) => LinkStream

interface NoiseClass {
  new (initiator: boolean, raw: Duplex, opts: { keyPair: KeyPair }): LinkStream & { _writableState?: { buffered: number } }
}
let Noise: NoiseClass | null = null

/** The real thing: Noise XX, then secretstream. The only layer a daemon ever uses. */
export const noiseLayer: SecureLayer = (raw, initiator, keyPair) => {
  Noise ??= require('@hyperswarm/secret-stream') as NoiseClass
  const heard = guardLengths(raw)
  const s = new Noise(initiator, raw, { keyPair })
  // libsodium's word for a message that does not decrypt, as a reason a log reader can act on.
  s.on('error', (err: Error) => {
    if (err?.message === 'pull failed') err.message = 'a message failed to decrypt (a bad or replayed ciphertext)'
  })
  // streamx keeps its write queue in _writableState; the transport's own is writableLength.
  Object.defineProperty(s, 'writableLength', { get: () => (s._writableState?.buffered ?? 0) + (raw.writableLength ?? 0) })
  Object.defineProperty(s, 'heard', { get: heard })
  return s
}

/**
 * Drop a peer that announces a message longer than MAX_SEALED_MESSAGE, before secret-stream
 * sees the chunk: it would buffer what the length says. Reads the same framing it does (a
 * 3-byte little-endian length, then the message), without keeping any of the bytes.
 */
function guardLengths (raw: Duplex): () => boolean {
  let heard = false
  /** The stream's first bytes: text there is another protocol (HTTP), said as such. */
  let first = Buffer.alloc(0)
  let header = 0
  let shift = 0
  let left = 0
  raw.prependListener('data', (chunk: Buffer) => {
    heard = true
    if (first.length < 4) first = Buffer.concat([first, chunk.subarray(0, 4 - first.length)])
    let i = 0
    while (i < chunk.length) {
      if (left > 0) {
        const n = Math.min(left, chunk.length - i)
        left -= n
        i += n
        continue
      }
      header |= chunk[i++] << shift
      shift += 8
      if (shift < 24) continue
      if (header > MAX_SEALED_MESSAGE) {
        const why = first.length === 4 ? otherProtocol(first) : null
        raw.destroy(new Error(why ?? `the peer announced an encrypted message of ${header} bytes, over MAX_SEALED_MESSAGE (${MAX_SEALED_MESSAGE})`))
        return
      }
      left = header
      header = 0
      shift = 0
    }
  })
  return () => heard
}
