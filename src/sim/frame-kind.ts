// What the world needs to know of a frame a link takes: its message kind and, for a query or an
// answer (or a ring lookup and its answer), its query id. Read from the first bytes of the frame's
// JSON where the encoder put them (every message object is built with `type` first, and these
// with `qid` next), so
// counting a frame costs a few byte comparisons, not a second JSON.parse of every frame on top of
// the receiving node's own. Anything else is parsed in full, so the figures are the same.
import { FrameDecoder } from '../wire/frame.js'

export interface FrameKind { type: string, qid: string | null }

const HEADER = 4
const TYPE = Buffer.from('{"type":"')
const QID = Buffer.from(',"qid":"')
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The kind (and query id) of one frame body, as JSON.parse would read it. */
export function frameKind (buf: Buffer, start: number, end: number): FrameKind | null {
  const fast = sniff(buf, start, end)
  if (fast !== undefined) return fast
  try {
    const m = JSON.parse(buf.toString('utf8', start, end)) as { type?: unknown, qid?: unknown }
    if (m === null || typeof m !== 'object') return null
    return { type: String(m.type), qid: typeof m.qid === 'string' ? m.qid : null }
  } catch {
    return null
  }
}

/**
 * The first bytes read as `{"type":"T"` then `,"qid":"Q"` (for the kinds with a qid); undefined if
 * they are not. The rest of the frame is trusted to be the JSON the encoder wrote (in the
 * simulation only real nodes write frames) as long as it closes its object.
 */
function sniff (buf: Buffer, start: number, end: number): FrameKind | undefined {
  if (buf[end - 1] !== 0x7d || !startsWith(buf, start, end, TYPE)) return undefined
  const t0 = start + TYPE.length
  const t1 = plainString(buf, t0, end)
  if (t1 < 0) return undefined
  const type = buf.toString('latin1', t0, t1)
  if (type !== 'query' && type !== 'answer' && type !== 'ring.lookup' && type !== 'ring.found') return plain(type)
  if (!startsWith(buf, t1 + 1, end, QID)) return undefined
  const q0 = t1 + 1 + QID.length
  const q1 = plainString(buf, q0, end)
  if (q1 < 0) return undefined
  return { type, qid: buf.toString('latin1', q0, q1) }
}

/**
 * Types whose kind is kept to share. The nodes' own encoder writes a few dozen types; past the
 * bound a kind is made a frame, as before.
 */
export const MAX_SHARED_KINDS = 256
/** One shared (never changed) kind a type without a qid: most frames are of a handful of types. */
const PLAIN = new Map<string, FrameKind>()
function plain (type: string): FrameKind {
  let k = PLAIN.get(type)
  if (k === undefined) {
    k = Object.freeze({ type, qid: null })
    if (PLAIN.size < MAX_SHARED_KINDS) PLAIN.set(type, k)
  }
  return k
}

function startsWith (buf: Buffer, at: number, end: number, prefix: Buffer): boolean {
  if (end - at < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false
  return true
}

/** Where the string from `at` closes, if it is printable ASCII with no escapes; else -1. */
function plainString (buf: Buffer, at: number, end: number): number {
  for (let i = at; i < end; i++) {
    const b = buf[i]
    if (b === QUOTE) return i
    if (b === BACKSLASH || b < 0x20 || b > 0x7e) return -1
  }
  return -1
}

/**
 * The frames of one link end's chunks. A node writes whole frames a chunk, so a chunk is read in
 * place; if one ever ends inside a frame, that end goes through a FrameDecoder from then on.
 */
export class FrameKinds {
  private readonly partial = new WeakMap<object, FrameDecoder>()
  /** The last chunk read whole, and its kinds: a flooded query is one Buffer written to every peer. */
  private last: { chunk: Buffer | null, kinds: FrameKind[] } = { chunk: null, kinds: [] }

  /** The kinds of the frames in chunk (not to be changed), written by `from`; null when it is not frames at all. */
  read (chunk: Buffer, from: object): FrameKind[] | null {
    const dec = this.partial.get(from)
    if (dec === undefined) {
      if (chunk === this.last.chunk) return this.last.kinds
      const out: FrameKind[] = []
      let at = 0
      while (at + HEADER <= chunk.length) {
        const size = chunk.readUInt32BE(at)
        if (at + HEADER + size > chunk.length) break
        const k = frameKind(chunk, at + HEADER, at + HEADER + size)
        if (k === null) return null // not ours to judge: the receiving node drops the link
        out.push(k)
        at += HEADER + size
      }
      if (at === chunk.length) {
        this.last = { chunk, kinds: out }
        return out
      }
      // A frame split across chunks: hand the rest to a decoder for this end.
      const d = new FrameDecoder()
      this.partial.set(from, d)
      return this.decode(d, chunk.subarray(at), out)
    }
    return this.decode(dec, chunk, [])
  }

  private decode (dec: FrameDecoder, chunk: Buffer, out: FrameKind[]): FrameKind[] | null {
    let values: unknown[]
    try {
      values = dec.push(chunk)
    } catch {
      return null
    }
    for (const v of values) {
      const m = v as { type?: unknown, qid?: unknown }
      out.push({ type: String(m.type), qid: typeof m.qid === 'string' ? m.qid : null })
    }
    return out
  }
}
