// `known` byte for byte: its text, its --json and the control socket's NDJSON, for a table of
// saved and learned addresses with subnets whose names need escaping in JSON, and for one large
// enough to cross every batch the daemon reads and writes in. These bytes are what `known`
// printed before it was made fast; however the daemon and the CLI move the rows, they stay.
// The table is written by the real AddressTable into real LevelDB, then served by a real
// daemon and read through the real bin/peernet and a raw socket client.
import t from 'tap'
import net from 'node:net'
import { join } from 'node:path'
import { Level } from 'level'
import { datadir, alive } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { AddressTable, seededRandom } from '../lib/index.js'

const QUIET = ['--connections', '0', '--interval', '0', '--purge', '0']

/** Subnet names as stored, each with the JSON text it is sent as (written out, not computed). */
const SUBNETS = [
  ['chat', '"chat"'],
  ['say "hi"', '"say \\"hi\\""'],
  ['back\\slash', '"back\\\\slash"'],
  ['a,b', '"a,b"'],
  ['ünï 🛰', '"ünï 🛰"'],
  ['{"row":1}', '"{\\"row\\":1}"']
]

/** The JSON text of a row, as `known` has always written it. */
const rowJson = (address, saved, subnets) => `{"address":"${address}","saved":${saved},"subnets":[${subnets.map(([, json]) => json).join(',')}]}`
/** Its text: the address, then a tab and the subnets separated by commas (if any). */
const rowText = (address, subnets) => subnets.length > 0 ? `${address}\t${subnets.map(([name]) => name).join(',')}` : address

/**
 * A table: `saved` addresses saved by the user, `learned` ones learned from gossip, and the
 * subnets some of them answered for. Returns the rows `known` lists, in key order.
 */
async function fill (d, { saved, learned, served }) {
  // A daemon first makes the data dir's identity (its key file, the id in the db), as a user's
  // first start does: the table opened here keeps it, and the daemon started next accepts it.
  await d.start('--connections', '0', '--interval', '0')
  if ((await d.run(['close'])).code !== 0) throw new Error('the daemon did not close')
  const db = new Level(join(d.dir, 'db'))
  const table = await AddressTable.open(db, { random: seededRandom(7), now: Date.now })
  try {
    await table.save(saved)
    table.learn(learned, ['0123456789abcdef0123456789abcdef', 'ip4:127.0.0'])
    for (const [address, subnets] of served) for (const [name] of subnets) table.noteServed(address, name)
  } finally {
    await table.close()
    await db.close()
  }
  const subnetsOf = new Map(served)
  return [...saved, ...learned].sort().map(address => ({ address, saved: saved.includes(address), subnets: subnetsOf.get(address) ?? [] }))
}

/** What a raw client reads for one request: every byte until the daemon closes. */
function socketAnswer (socket, request) {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket)
    let text = ''
    c.setEncoding('utf8')
    c.on('data', d => { text += d })
    c.on('error', reject)
    c.on('end', () => resolve(text))
    // Half-closed after the request: the daemon answers, then closes its side.
    c.on('connect', () => c.end(request + '\n'))
  })
}

async function check (t, d, rows) {
  const socket = join(d.dir, 'run', 'control.sock')
  const text = await d.run(['known'])
  t.equal(text.code, 0, text.stderr)
  t.equal(text.stdout, rows.map(r => rowText(r.address, r.subnets) + '\n').join(''), 'known: the text, byte for byte')
  const json = await d.run(['known', '--json'])
  t.equal(json.code, 0, json.stderr)
  t.equal(json.stdout, rows.map(r => rowJson(r.address, r.saved, r.subnets) + '\n').join(''), 'known --json: the NDJSON, byte for byte')
  const lines = id => rows.map(r => `{"id":${id},"row":${rowJson(r.address, r.saved, r.subnets)}}\n`).join('') + `{"id":${id},"end":true}\n`
  t.equal(await socketAnswer(socket, '{"id":1,"method":"known"}'), lines('1'), 'the socket: each row, then the end, byte for byte')
  t.equal(await socketAnswer(socket, '{"id":"k\\"1","method":"known","params":{}}'), lines('"k\\"1"'), 'the socket, with a string id that needs escaping')
}

t.test('known of an empty table: nothing, and the socket only the end', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  await check(t, d, [])
})

t.test('known of saved and learned addresses with subnets, byte for byte', async t => {
  const d = datadir(t)
  const [chat, quote, slash, comma, unicode, braces] = SUBNETS
  const rows = await fill(d, {
    saved: ['tcp://127.0.0.1:9', 'ws://127.0.0.1:8080', 'ws://127.0.0.2/a,b/path', 'tcp://[::1]:7', 'wss://127.0.0.3'],
    learned: ['tcp://127.0.0.4:1', 'ws://127.0.0.5:81', 'tcp://127.0.0.6:2'],
    served: [
      ['ws://127.0.0.1:8080', [chat]],
      ['ws://127.0.0.2/a,b/path', [comma, chat]],
      ['tcp://127.0.0.4:1', SUBNETS],
      ['ws://127.0.0.5:81', [quote, slash, unicode, braces]]
    ]
  })
  t.equal(rows.length, 8)
  await d.start(...QUIET)
  await check(t, d, rows)
})

t.test('known of 3,000 addresses: every batch boundary keeps the rows and their order', async t => {
  const d = datadir(t)
  const saved = Array.from({ length: 2500 }, (_, i) => `tcp://127.0.${1 + (i >> 8)}.${i & 255}:${1000 + i}`)
  const learned = Array.from({ length: 500 }, (_, i) => `ws://127.1.${i >> 8}.${i & 255}:${2000 + i}`)
  const served = [...saved.filter((_, i) => i % 97 === 0), ...learned.filter((_, i) => i % 31 === 0)]
    .map((a, i) => [a, SUBNETS.slice(i % SUBNETS.length, (i % SUBNETS.length) + 1 + (i % 3))])
  const rows = await fill(d, { saved, learned, served })
  t.equal(rows.length, 3000)
  await d.start(...QUIET)
  await check(t, d, rows)
})

/** A raw client that sends known and reads nothing until resume(); text holds what arrived. */
function pausedKnown (t, socket) {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket)
    t.teardown(() => c.destroy())
    const r = { sock: c, text: '', ended: false }
    c.setEncoding('utf8')
    c.on('data', d => { r.text += d })
    c.on('close', () => { r.ended = true })
    c.on('error', () => {})
    c.once('connect', () => {
      c.pause()
      c.write('{"id":1,"method":"known"}\n')
      resolve(r)
    })
    c.once('error', reject)
  })
}

t.test('known cut short: a client that leaves, and a daemon that stops, never get a false end', async t => {
  const d = datadir(t)
  const saved = Array.from({ length: 20000 }, (_, i) => `tcp://127.0.${1 + (i >> 8)}.${i & 255}:${3000 + (i % 1000)}`)
  const rows = await fill(d, { saved, learned: [], served: [] })
  const all = rows.map(r => `{"id":1,"row":${rowJson(r.address, r.saved, r.subnets)}}\n`).join('')
  const pid = await d.start(...QUIET)
  const socket = join(d.dir, 'run', 'control.sock')

  // A client that reads a little and goes: the daemon lists in full for the next one.
  const leaver = await pausedKnown(t, socket)
  leaver.sock.resume()
  await until(() => leaver.text.length > 0, { what: 'the first rows' })
  leaver.sock.destroy()
  t.equal(await socketAnswer(socket, '{"id":1,"method":"known"}'), all + '{"id":1,"end":true}\n', 'the next client gets every row, then the end')

  // A reader that does not read while the daemon stops: what it gets is rows, byte for byte,
  // then at most the ESTOPPED error row: never the end.
  const reader = await pausedKnown(t, socket)
  await socketAnswer(socket, '{"id":2,"method":"close"}')
  reader.sock.resume()
  await until(() => reader.ended, { what: 'the daemon to close the connection' })
  await until(() => !alive(pid), { what: 'the daemon to exit' })
  const lines = reader.text.split('\n')
  t.equal(lines.pop(), '', 'whole lines only')
  const last = lines.at(-1)
  const rowText = last?.startsWith('{"id":1,"error":') ? lines.slice(0, -1).map(l => l + '\n').join('') : lines.map(l => l + '\n').join('')
  t.ok(rowText.length < all.length, `cut short (${rowText.length} of ${all.length} bytes)`)
  t.equal(all.slice(0, rowText.length), rowText, 'the rows sent are the listing\'s first, byte for byte')
  t.notMatch(reader.text, /"end":true/, 'no end row')
  if (last?.startsWith('{"id":1,"error":')) t.match(JSON.parse(last), { id: 1, error: { code: 'ESTOPPED' } }, 'the answer ends with ESTOPPED')
})
