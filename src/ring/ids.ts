// The ring's id space: 256-bit numbers (Ed25519 public keys, record points) on a circle, written
// as 64 lowercase hex digits. Every id stays a string: for fixed-length lowercase hex, string
// order IS numeric order, so the comparisons routing makes millions of times in a simulation
// (between, closer) are plain string compares that allocate nothing. BigInts appear only where
// arithmetic is unavoidable (n + 2^i, a finger's index), which happens per link or per finger,
// not per routed message.

/** Bits of an id: the ring has 2^ID_BITS points (an Ed25519 public key, a BLAKE2b-256 hash). */
export const ID_BITS = 256
/** Hex digits of an id. */
export const ID_HEX = ID_BITS / 4
/** An id: 64 lowercase hex digits (the same rule as NODE_ID for node ids). */
export const RING_ID = /^[0-9a-f]{64}$/

const RING_SIZE = 1n << BigInt(ID_BITS)
const MASK = RING_SIZE - 1n

export function isId (x: unknown): x is string {
  return typeof x === 'string' && RING_ID.test(x)
}

/** -1, 0 or 1 as a < b, a = b, a > b numerically (string order on fixed-length hex). */
export function compareIds (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Whether x lies in the half-open arc (a, b] going clockwise from a. When a === b the arc is the
 * whole circle: a node that is its own predecessor (alone on the ring) is responsible for every
 * point, and Chord's (pred, n] is exactly this test.
 */
export function between (x: string, a: string, b: string): boolean {
  if (a < b) return a < x && x <= b
  if (a > b) return x > a || x <= b // the arc wraps past the top of the id space
  return true
}

/**
 * Whether x lies in the open arc (a, b) clockwise from a. When a === b: every point but a (the
 * arc from a all the way round back to it), which is what "a link closer to the target than I
 * am" means for a node routing to its own id.
 */
export function betweenOpen (x: string, a: string, b: string): boolean {
  if (a < b) return a < x && x < b
  if (a > b) return x > a || x < b
  return x !== a
}

export function toBig (id: string): bigint {
  return BigInt('0x' + id)
}

export function fromBig (n: bigint): string {
  return (n & MASK).toString(16).padStart(ID_HEX, '0')
}

/** Clockwise distance from a to b, (b − a) mod 2^256, as a bigint. */
export function distance (a: string, b: string): bigint {
  return (toBig(b) - toBig(a) + RING_SIZE) & MASK
}

/** n + 2^i on the ring (wrapping), for 0 ≤ i < ID_BITS: the start of finger i's range. */
export function addPow2 (n: string, i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= ID_BITS) throw new RangeError(`finger index ${i} is not in 0..${ID_BITS - 1}`)
  return fromBig(toBig(n) + (1n << BigInt(i)))
}

/**
 * The finger range p falls in as seen from n: the i with n + 2^i ≤ p < n + 2^(i+1) (clockwise),
 * that is the bit length of distance(n, p) minus one; -1 when p === n (no range holds it).
 * Computed on 32-bit words of the hex (a subtraction with borrow, low word first), read a digit
 * at a time: no bigint, and nothing allocated (it runs for every node a routed message names; a
 * word array and sixteen slices a call were 2% of what a simulated node allocated).
 */
export function fingerIndex (n: string, p: string): number {
  let borrow = 0
  let top = -1
  let topWord = 0
  for (let w = 7; w >= 0; w--) {
    let d = hexValue(p, w * 8, 8) - hexValue(n, w * 8, 8) - borrow
    borrow = d < 0 ? 1 : 0
    if (d < 0) d += 2 ** 32
    // Low word first: the last non-zero word seen is the highest.
    if (d !== 0) {
      top = w
      topWord = d
    }
  }
  return top < 0 ? -1 : (7 - top) * 32 + 31 - Math.clz32(topWord)
}

/**
 * The clockwise distance from a to b as a fraction of the whole ring, in [0, 1), from the top
 * 52 bits: precise enough to estimate the network's size, and no bigint. 0 when a === b.
 */
export function arcFraction (a: string, b: string): number {
  const f = top52(b) - top52(a)
  return f < 0 ? f + 1 : f
}

/**
 * The first 13 hex digits of an id or point (checked hex), over 2^52. Read a digit at a time, not
 * parsed from a slice: every node asks for arcs several times a round for each point it holds,
 * and a slice each was a new string (3% of what a simulated node allocated).
 */
function top52 (x: string): number {
  return hexValue(x, 0, 13) / 2 ** 52
}

/** The value of the n hex digits of checked hex x from digit `at` (n ≤ 13: exact in a double). */
function hexValue (x: string, at: number, n: number): number {
  let v = 0
  for (let i = at; i < at + n; i++) {
    const c = x.charCodeAt(i)
    // '0'–'9' are 0x30–0x39, 'a'–'f' 0x61–0x66 and 'A'–'F' 0x41–0x46: the low four bits, and 9
    // more for a letter (bit 6).
    v = v * 16 + (c & 0xf) + (c >> 6) * 9
  }
  return v
}

/**
 * A point drawn uniformly from the lower half of finger range i of n, [n + 2^i, n + 2^i + 2^(i−1)):
 * the node responsible for it is a random node of the range when the range holds several (so
 * flexible fingers spread over the range instead of all naming its first node), and still lies
 * in the range when it holds few.
 */
export function randomInRange (n: string, i: number, random: () => number): string {
  const start = toBig(addPow2(n, i))
  if (i === 0) return fromBig(start)
  let off = 0n
  const bits = i - 1
  for (let b = 0; b < bits; b += 32) off = (off << 32n) | BigInt(Math.floor(random() * 2 ** 32))
  return fromBig(start + (off & ((1n << BigInt(bits)) - 1n)))
}
