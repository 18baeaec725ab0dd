// The UTF-8 length of a value's JSON without writing the JSON: what a sender packing records into
// frames needs to know of each (wire/ring.ts's packRecords). A fetch answer measured its up to
// 128 records by encoding each, then encoded them all again in the frame: the measuring copies
// were a twelfth of what a simulated node allocated while searches ran.

/** Characters JSON writes as they are, one byte each: printable ASCII but `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** Bytes of JSON.stringify(s) in UTF-8. */
function stringBytes (s: string): number {
  return PLAIN.test(s) ? s.length + 2 : Buffer.byteLength(JSON.stringify(s), 'utf8')
}

/**
 * Bytes of JSON.stringify(value) in UTF-8, for the values JSON.parse makes (strings, numbers,
 * booleans, null, arrays and plain objects of them; undefined members left out as stringify
 * leaves them). Anything else (a toJSON, a Date, a bigint) is encoded to be measured.
 */
export function jsonBytes (value: unknown): number {
  switch (typeof value) {
    case 'string': return stringBytes(value)
    case 'number': return Number.isFinite(value) ? String(value).length : 4
    case 'boolean': return value ? 4 : 5
    case 'object': {
      if (value === null) return 4
      if (Array.isArray(value)) {
        let n = value.length === 0 ? 2 : value.length + 1
        for (const x of value as unknown[]) n += x === undefined || typeof x === 'function' || typeof x === 'symbol' ? 4 : jsonBytes(x)
        return n
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') break
      let n = 2
      let members = 0
      const o = value as Record<string, unknown>
      for (const key in o) {
        if (!Object.prototype.hasOwnProperty.call(o, key)) continue
        const x = o[key]
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue
        n += stringBytes(key) + 1 + jsonBytes(x)
        members++
      }
      return members === 0 ? n : n + members - 1
    }
  }
  const json = JSON.stringify(value) as string | undefined
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8')
}
