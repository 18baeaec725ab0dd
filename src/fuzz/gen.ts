// Input generators for the fuzz harness: random and mutated frames and messages, from one
// seeded random source so a run is repeatable from its seed.
import { type Random, randomHex } from '../util/random.js'
import { MAX_FRAME } from '../wire/frame.js'
import { PROTOCOL_VERSION, MAX_ADDRS_PER_MESSAGE } from '../wire/messages.js'

export class Gen {
  /** Query ids seen on the wire, replayed in later queries and answers. */
  readonly qids: string[] = []

  constructor (readonly random: Random) {}

  int (n: number): number { return Math.floor(this.random() * n) }
  chance (p: number): boolean { return this.random() < p }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)] }

  hex (bytes: number): string { return randomHex(this.random, bytes) }

  rememberQid (qid: string): void {
    this.qids.push(qid)
    if (this.qids.length > 64) this.qids.shift()
  }

  qid (): string {
    if (this.qids.length > 0 && this.chance(0.4)) return this.pick(this.qids)
    const q = this.hex(8 + this.int(9))
    if (this.chance(0.2)) this.rememberQid(q)
    return q
  }

  static readonly KEYS = ['type', 'version', 'network', 'id', 'addrs', 'dialed', 'nonce', 'qid', 'subnet', 'hops', 'limit', 'address', 'reason',
    'toString', 'valueOf', '__proto__', 'constructor', 'length', 'hasOwnProperty', '0', '']

  static readonly TYPES = ['hello', 'getaddrs', 'addrs', 'query', 'answer', 'bye', 'ping', 'pong', 'HELLO', 'Hello', 'PING', 'pong ', 'getaddrs ', '', 'x',
    '__proto__', 'constructor', 'toString']

  static readonly STRINGS = ['', 'x', 'fuzz', 'chat', 'peernet', 'tcp://127.0.0.1:1', 'ws://127.0.0.1:2/p', 'mem://a', 'mem://n',
    'wss://127.0.0.1', 'file:///etc/passwd', 'ssh://root@127.0.0.1', 'http://127.0.0.1', 'notaurl', '-', 'echo hi',
    'tcp://[::1]:5', 'tcp://127.0.0.1:0', 'tcp://127.0.0.1:70000', '\u0000', '\n', 'é𝄞', '\ud800', 'x'.repeat(257),
    'f'.repeat(33), '0'.repeat(32), '__proto__', 'mem://' + 'a'.repeat(65)]

  static readonly NUMBERS = [0, 1, -1, 1.5, 2, 63, 64, 65, 0xffff, 0x10000, 1e300, -1e300, -0, Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2, 2 ** 64, Number.MIN_VALUE, 4294967296]

  string (): string {
    if (this.chance(0.1)) {
      // random code units, including lone surrogates and controls
      let s = ''
      const n = this.int(24)
      for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(this.chance(0.8) ? 128 : 0x10000))
      return s
    }
    return this.pick(Gen.STRINGS)
  }

  value (depth: number): unknown {
    const r = this.int(depth > 4 ? 6 : 9)
    if (r === 0) return null
    if (r === 1) return this.chance(0.5)
    if (r === 2) return this.pick(Gen.NUMBERS)
    if (r === 3 || r === 4) return this.chance(0.3) ? this.pick(Gen.TYPES) : this.string()
    if (r === 5) return this.random() * 1e6 - 5e5
    if (r === 6 || r === 7) {
      const o: Record<string, unknown> = {}
      const n = this.int(7)
      for (let i = 0; i < n; i++) o[this.pick(Gen.KEYS)] = this.value(depth + 1)
      return o
    }
    const n = this.int(this.chance(0.05) ? 120 : 6)
    const a: unknown[] = []
    for (let i = 0; i < n; i++) a.push(this.chance(0.7) ? this.string() : this.value(depth + 1))
    return a
  }

  address (): string {
    const r = this.int(6)
    if (r === 0) return `tcp://127.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}:${1 + this.int(65535)}`
    if (r === 1) return `mem://f${this.hex(3)}`
    if (r === 2) return `ws://127.0.0.${1 + this.int(254)}:${1 + this.int(65535)}/${this.hex(2)}`
    return this.string()
  }

  /** A hello as this version sends it (a fresh link nonce; no id: a peer is its key), with `addrs`. */
  hello (addrs: string[]): Record<string, unknown> {
    return { type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', nonce: this.hex(8), addrs }
  }

  /** A well-formed message of a random type (the receiver may still find it unwelcome). */
  message (subnet = 'fuzz'): Record<string, unknown> {
    switch (this.int(9)) {
      case 0: return this.hello([this.address()])
      case 1: return { type: 'getaddrs' }
      case 2: {
        const n = this.int(this.chance(0.2) ? MAX_ADDRS_PER_MESSAGE + 1 : 12)
        return { type: 'addrs', addrs: Array.from({ length: n }, () => this.address()) }
      }
      case 3: case 4: {
        const limit = 1 + this.int(64)
        return { type: 'query', qid: this.qid(), subnet: this.chance(0.5) ? subnet : this.string(), hops: 1 + this.int(limit), limit }
      }
      case 5: return { type: 'answer', qid: this.qid(), subnet: this.chance(0.5) ? subnet : this.string(), address: this.chance(0.3) ? '' : this.address(), hops: 1 + this.int(64) }
      case 6: return { type: 'ping' }
      case 7: return { type: 'pong' }
      default: return { type: 'bye', reason: this.string() }
    }
  }

  /** A message with one field changed, removed or added (or none). */
  mutatedMessage (): Record<string, unknown> {
    const m = this.message()
    const k = this.chance(0.8) ? this.pick(Object.keys(m)) : this.pick(Gen.KEYS)
    const r = this.int(5)
    if (r === 0) delete m[k]
    else if (r === 1) m[k] = this.value(1)
    else if (r === 2) m[this.pick(Gen.KEYS)] = this.value(1)
    else if (r === 3) m.type = this.pick(Gen.TYPES)
    return m
  }

  mutateBytes (buf: Buffer): Buffer {
    let out = Buffer.from(buf)
    const n = 1 + this.int(4)
    for (let i = 0; i < n && out.length > 0; i++) {
      const at = this.int(out.length)
      switch (this.int(6)) {
        case 0: out[at] = this.int(256); break
        case 1: out[at] ^= 1 << this.int(8); break
        case 2: out = Buffer.concat([out.subarray(0, at), Buffer.from([this.int(256)]), out.subarray(at)]); break
        case 3: out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]); break
        case 4: out = out.subarray(0, at); break
        default: out = Buffer.concat([out.subarray(0, at), Buffer.from(this.pick(['{', '}', '[', ']', '"', ',', ':', '\\', 'null', '1e999', '-1e999', '"type"', '"hello"', '\\ud800'])), out.subarray(at)])
      }
    }
    return out
  }

  /** JSON text nested `depth` deep. */
  deep (depth: number): string {
    if (this.chance(0.5)) return '['.repeat(depth) + ']'.repeat(depth)
    return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
  }

  /** One input: the bytes a peer might put on the wire, and what kind of input it is. */
  input (): { kind: string, bytes: Buffer } {
    switch (this.int(12)) {
      case 0: {
        const n = this.int(48)
        const b = Buffer.alloc(n)
        for (let i = 0; i < n; i++) b[i] = this.int(256)
        if (n >= 4 && this.chance(0.5)) b.writeUInt32BE(this.int(n), 0)
        return { kind: 'random bytes', bytes: b }
      }
      case 1: {
        const size = this.pick([0, 1, 2, MAX_FRAME, MAX_FRAME + 1, this.int(2 ** 32), 0xffffffff, this.int(100)])
        return { kind: 'odd header', bytes: Buffer.concat([header(size), Buffer.from(JSON.stringify(this.mutatedMessage())).subarray(0, this.int(200))]) }
      }
      case 2: return { kind: 'mutated body', bytes: rawFrame(this.mutateBytes(Buffer.from(JSON.stringify(this.mutatedMessage())))) }
      case 3: return { kind: 'mutated frame', bytes: this.mutateBytes(frame(this.mutatedMessage())) }
      case 4: {
        const whole = frame(this.message())
        return { kind: 'truncated frame', bytes: whole.subarray(0, this.int(whole.length)) }
      }
      case 5: {
        if (this.chance(0.1)) {
          const m = JSON.stringify(this.message())
          return { kind: 'deep nesting', bytes: rawFrame(m.slice(0, -1) + ',' + JSON.stringify(this.pick(Gen.KEYS)) + ':' + this.deep(this.int(20000)) + '}') }
        }
        return { kind: 'random value', bytes: rawFrame(JSON.stringify(this.value(0)) ?? 'null') }
      }
      case 6: {
        const n = 1 + this.int(5)
        const parts: Buffer[] = []
        for (let i = 0; i < n; i++) parts.push(this.chance(0.2) ? this.mutateBytes(frame(this.mutatedMessage())) : frame(this.message()))
        return { kind: 'several frames', bytes: Buffer.concat(parts) }
      }
      case 7: return { kind: 'huge numbers', bytes: rawFrame(JSON.stringify(this.message()).replace(/:(\d+)/g, () => ':' + this.pick(['1e999', '-1e999', '1e308', '9007199254740993', '0.0000001', '-0', '1'.repeat(400)]))) }
      case 8: return { kind: 'mutated message', bytes: frame(this.mutatedMessage()) }
      default: return { kind: 'message', bytes: frame(this.message()) }
    }
  }
}

export function header (size: number): Buffer {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(size >>> 0)
  return h
}

export function rawFrame (body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  return Buffer.concat([header(b.length), b])
}

/** A frame of value, even past MAX_FRAME (peers may send what we would never encode). */
export function frame (value: unknown): Buffer {
  return rawFrame(JSON.stringify(value) ?? 'null')
}
