// jsonBytes: the UTF-8 length of a value's JSON, measured without writing it, against what
// JSON.stringify writes for every kind of value a frame can carry and some it cannot.
import t from 'tap'
import { jsonBytes } from '../lib/wire/json-size.js'
import { packRecords, RECORDS_ROOM, MAX_RECORDS_PER_MESSAGE } from '../lib/wire/ring.js'
import { seededRandom } from '../lib/index.js'

const stringified = v => {
  const json = JSON.stringify(v)
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8')
}

t.test('every kind of value measures what JSON.stringify writes', async t => {
  const values = [
    '', 'a', 'ab"c', 'back\\slash', 'tab\there', 'nl\n', '\u0000\u001f\u007f', 'é', '日本', '😀', '\ud800', 'x\udc00y', '</script>',
    0, -0, 1, -1, 9, 10, 99, 1.5, -2.25e-7, 1e21, 123456789012345, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity,
    true, false, null, undefined,
    [], [1], [1, 'a', null], [undefined, () => 1, Symbol('s')], [[], [[]], {}],
    {}, { a: 1 }, { a: undefined }, { a: undefined, b: 2 }, { 'k"ey': 'v', 'ключ': 'значение' }, { f () {}, s: Symbol('x'), n: null },
    Object.create(null), Object.assign(Object.create(null), { a: [1, 2], b: { c: 'd' } }),
    new Date(0), { d: new Date(0) }, { toJSON () { return 'x' } }, new Map([[1, 2]]), 'a'.repeat(1000)
  ]
  for (const v of values) t.equal(jsonBytes(v), stringified(v), `${typeof v} ${String(JSON.stringify(v)).slice(0, 40)}`)
})

t.test('random records and messages measure what JSON.stringify writes', async t => {
  const random = seededRandom(5)
  const pick = s => s[Math.floor(random() * s.length)]
  const chars = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\u0001', 'é', '€', '😀', '\ud83d', '/', ':', '@']
  const str = () => Array.from({ length: Math.floor(random() * 20) }, () => pick(chars)).join('')
  const value = depth => {
    const kind = depth > 3 ? Math.floor(random() * 4) : Math.floor(random() * 7)
    if (kind === 0) return str()
    if (kind === 1) return Math.floor((random() - 0.5) * 1e6) / (random() < 0.5 ? 1 : 7)
    if (kind === 2) return random() < 0.5
    if (kind === 3) return random() < 0.3 ? null : undefined
    if (kind === 4) return Array.from({ length: Math.floor(random() * 5) }, () => value(depth + 1))
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [str(), value(depth + 1)]))
  }
  let checked = 0
  for (let i = 0; i < 2000; i++) {
    const v = value(0)
    if (jsonBytes(v) !== stringified(v)) t.fail(`measured ${jsonBytes(v)}, written ${stringified(v)}: ${JSON.stringify(v)}`)
    else checked++
  }
  t.equal(checked, 2000, 'all measured right')
})

t.test('packRecords fills a batch up to RECORDS_ROOM bytes of JSON and MAX_RECORDS_PER_MESSAGE records', async t => {
  const record = i => ({ type: 'member', network: 'peernet', id: 'a'.repeat(64), name: `chat${i}`, addresses: ['tcp://127.0.0.1:4001'], seq: i, expires: 1e12, sig: 'b'.repeat(128), meta: { note: 'é'.repeat(i % 300) } })
  const records = Array.from({ length: 400 }, (_, i) => record(i))
  const batches = packRecords(records)
  t.same(batches.flat(), records, 'every record, in order')
  for (const b of batches) {
    t.ok(Buffer.byteLength(JSON.stringify(b), 'utf8') <= RECORDS_ROOM, 'a batch\'s JSON fits RECORDS_ROOM')
    t.ok(b.length <= MAX_RECORDS_PER_MESSAGE, 'and MAX_RECORDS_PER_MESSAGE')
  }
  // Each batch but the last is full: the next record would not have fitted.
  for (let i = 0; i + 1 < batches.length; i++) {
    const grown = [...batches[i], batches[i + 1][0]]
    t.ok(Buffer.byteLength(JSON.stringify(grown), 'utf8') > RECORDS_ROOM || grown.length > MAX_RECORDS_PER_MESSAGE, `batch ${i} is full`)
  }
})
