// Framing between peers: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
// The length is checked before any body is buffered, so an oversize frame costs us 4 bytes.

/** Largest frame body a peer may send or receive, in bytes. */
export const MAX_FRAME = 64 * 1024
/** Most bytes queued for one slow peer before it is dropped. */
export const MAX_OUTBUF = 16 * MAX_FRAME
const HEADER = 4
/**
 * Frames this long or longer are kept as bytes beside their value (FrameDecoder.raw): a large
 * message a node passes on unchanged (a ring answer retracing its lookup's path) goes out as the
 * bytes it came in, not encoded again. Below it the bytes are not worth a reference each. A ring
 * answer is ~1.1 KB on average, passed on ~5 times: at 1 KB rather than 4 KB far more are sent on as
 * they came (5,000 nodes, the whole simulation, one thread each side by side: user CPU 0.957,
 * peak RSS -52 MB); at 256 B the references cost more than the encodings they save (1.027).
 */
export const KEEP_RAW = 1024

export class WireError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WireError'
  }
}

export function encodeFrame (value: unknown): Buffer {
  // The JSON written straight after the header: one buffer a frame, no copy.
  const json = JSON.stringify(value)
  const size = Buffer.byteLength(json, 'utf8')
  if (size > MAX_FRAME) throw new WireError(`frame of ${size} bytes exceeds MAX_FRAME (${MAX_FRAME})`)
  const out = Buffer.allocUnsafe(HEADER + size)
  out.writeUInt32BE(size, 0)
  out.write(json, HEADER, 'utf8')
  return out
}

/**
 * Why a header that announces an oversize frame is most likely something else: text where a
 * length should be means the other side speaks another protocol. "HTTP" is a web or websocket
 * server answering a tcp:// dial, "GET " a websocket client dialing a tcp service.
 */
function oversize (head: Buffer, size: number): string {
  return otherProtocol(head) ?? `frame of ${size} bytes exceeds MAX_FRAME (${MAX_FRAME})`
}

/**
 * The protocol a peer's first four bytes show it speaks, when it is text (HTTP, or any), as a
 * sentence; null otherwise. The secure layer asks too: a length it reads may be text as well.
 */
export function otherProtocol (head: Buffer): string | null {
  const text = head.toString('latin1', 0, HEADER)
  if (text === 'HTTP') return 'the peer answered in HTTP: it is a websocket or web server, not peernet over tcp (dial it as ws://)'
  if (/^(GET |POST|HEAD|PUT )$/.test(text)) return 'the peer sent an HTTP request: it is a websocket or web client, not peernet over tcp'
  if (/^[\x20-\x7e]{4}$/.test(text)) return `the peer sent text (${JSON.stringify(text)}…), not peernet frames: it speaks another protocol`
  return null
}

function parseBody (buf: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', start, end))
  } catch {
    throw new WireError('frame is not valid JSON')
  }
}

/**
 * The empty list of buffered chunks every decoder starts with, shared: a peer writes whole frames
 * a chunk, so most decoders never buffer one (every link end has a decoder). Never pushed to: a
 * decoder takes a list of its own first, and comes back to this one once it has none buffered.
 */
const NO_CHUNKS: Buffer[] = []

/** Splits a byte stream into parsed JSON frames; throws WireError on the first bad frame. */
export class FrameDecoder {
  private chunks: Buffer[] = NO_CHUNKS
  private buffered = 0
  /**
   * The whole frames (header and body) of the values the last push() returned, by index, for
   * those of KEEP_RAW bytes or more (null when there were none). They are never written to.
   */
  raw: Buffer[] | null = null
  /**
   * The size of each frame (header and body) of the values the last push() returned, the first
   * `count` entries. Overwritten in place, and grown by one, copied: an array emptied and pushed
   * to again gets room for 17 at its first push, most of it never used, and every link end of
   * every node has a decoder (a sixtieth of the simulation's heap).
   */
  private sizes: number[] = [0]
  private count = 0

  /** The size (header and body) of the i-th value the last push() returned. */
  sizeOf (i: number): number {
    if (i < 0 || i >= this.count) throw new RangeError(`no frame ${i} in the last push (it gave ${this.count})`)
    return this.sizes[i]
  }

  private sized (size: number): void {
    if (this.count < this.sizes.length) this.sizes[this.count] = size
    // concat, not a spread: it allocates the exact length (a spread grows as a push does).
    else this.sizes = this.sizes.concat(size)
    this.count++
  }

  push (chunk: Buffer): unknown[] {
    this.raw = null
    this.count = 0
    if (this.buffered === 0) return this.whole(chunk)
    if (chunk.length > 0) {
      if (this.chunks === NO_CHUNKS) this.chunks = []
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const out: unknown[] = []
    while (this.buffered >= HEADER) {
      const head = this.peek(HEADER)
      const size = head.readUInt32BE(0)
      if (size > MAX_FRAME) throw new WireError(oversize(head, size))
      if (this.buffered < HEADER + size) break
      const body = this.take(HEADER + size)
      this.sized(HEADER + size)
      this.keep(out.length, body, 0, body.length)
      out.push(parseBody(body, HEADER, body.length))
    }
    return out
  }

  /**
   * push() with nothing buffered, the usual case (a peer writes whole frames a chunk): frames
   * are parsed where they lie in the chunk, and only a tail that is not a whole frame is kept.
   */
  private whole (chunk: Buffer): unknown[] {
    const out: unknown[] = []
    let at = 0
    while (chunk.length - at >= HEADER) {
      const size = chunk.readUInt32BE(at)
      if (size > MAX_FRAME) throw new WireError(oversize(chunk.subarray(at, at + HEADER), size))
      if (chunk.length - at - HEADER < size) break
      this.sized(HEADER + size)
      this.keep(out.length, chunk, at, at + HEADER + size)
      out.push(parseBody(chunk, at + HEADER, at + HEADER + size))
      at += HEADER + size
    }
    if (at < chunk.length) {
      this.chunks = [at === 0 ? chunk : chunk.subarray(at)]
      this.buffered = chunk.length - at
    }
    return out
  }

  private keep (i: number, buf: Buffer, start: number, end: number): void {
    if (end - start - HEADER >= KEEP_RAW) (this.raw ??= [])[i] = buf.subarray(start, end)
  }

  private peek (n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0]
  }

  private take (n: number): Buffer {
    const all = this.peek(n)
    const taken = all.subarray(0, n)
    const rest = all.subarray(n)
    if (rest.length > 0) this.chunks[0] = rest
    else this.chunks.shift()
    this.buffered -= n
    if (this.chunks.length === 0) this.chunks = NO_CHUNKS
    return taken
  }
}
