// The many-line texts of `status` and `stats`, in process: every line the row decides
// (durations, warnings, failed services, empty lists, times never seen), which the CLI tests
// through the real bin/peernet meet only in their common shapes.
import t from 'tap'
import { statusText, statsText, printer, printable } from '../lib/cli/output.js'

const status = (extra = {}) => ({
  id: 'ab'.repeat(16), pid: 42, version: '0.1.0', uptime: 0, datadir: '/d', socket: '/d/run/control.sock', network: 'peernet',
  known: 3, saved: 1, learned: 2, tombstones: 0, connections: 2, subnets: 0, servers: 1, failedServers: 0, addresses: [],
  settings: { connections: 5, bootstrap: [] }, limits: { outbound: 1, inbound: 1 }, warnings: [], ...extra
})

t.test('status: uptime as days to seconds, skipping zero units', async t => {
  const line = s => statusText(status({ uptime: s })).split('\n').find(l => l.startsWith('uptime:'))
  t.equal(line(0), 'uptime:      0s')
  t.equal(line(999), 'uptime:      0s', 'under a second is 0s')
  t.equal(line(61_000), 'uptime:      1m 1s')
  t.equal(line(((2 * 24 + 3) * 3600 + 5) * 1000), 'uptime:      2d 3h 5s')
})

t.test('status: warnings first, failed services counted, empty lists said so', async t => {
  const text = statusText(status({ warnings: [{ time: 0, message: 'db: dropping 10 bytes' }], failedServers: 2, addresses: [] }))
  const lines = text.split('\n')
  t.equal(lines[0], 'warning:     1970-01-01T00:00:00.000Z db: dropping 10 bytes (clear it with `peernet status --clear-warnings`)')
  t.ok(lines.includes('servers:     1 (and 2 that did not reopen: see peernet servers)'))
  t.ok(lines.includes('addresses:   (none known)'))
  t.ok(lines.includes('  --bootstrap (none)'), 'an empty list setting')
  t.ok(lines.includes('  --connections 5'))
  t.equal(statusText(status({ addresses: ['ws://127.0.0.1:1', 'tcp://127.0.0.1:2'] })).split('\n').find(l => l.startsWith('addresses:')), 'addresses:   ws://127.0.0.1:1 tcp://127.0.0.1:2')
})

t.test('stats: never-seen times, empty lists, the saved flag', async t => {
  const row = { address: 'tcp://127.0.0.1:9', saved: false, connections: { ok: 0, fail: 1 }, nodes: { rx: 0, tx: 0 }, first: null, last: 0, lastOk: null, sources: [], subnets: [], id: null, pin: null }
  t.equal(statsText(row), [
    'address:     tcp://127.0.0.1:9',
    'saved:       no',
    'id:          -',
    'connections: 0 ok, 1 failed',
    'nodes:       0 received, 0 sent',
    'first seen:  never',
    'last seen:   1970-01-01T00:00:00.000Z',
    'last ok:     never',
    'told by:     -',
    'subnets:     -'
  ].join('\n'))
  const full = statsText({ ...row, saved: true, sources: ['a', 'b'], subnets: ['chat'] }).split('\n')
  t.equal(full[1], 'saved:       yes (added by the user)')
  t.equal(full[8], 'told by:     a b')
  t.equal(full[9], 'subnets:     chat')
  const id = 'ab'.repeat(32)
  const pinLine = (saved, pin) => statsText({ ...row, saved, id, pin }).split('\n')[2]
  t.equal(pinLine(true, 'given'), `id:          ${id} (given by the user: a dial must reach it)`)
  t.equal(pinLine(true, 'seen'), `id:          ${id} (seen here by a handshake: a dial must reach it)`)
  t.equal(pinLine(false, 'seen'), `id:          ${id} (seen here by a handshake)`, 'a learned address is not held to its key')
  t.equal(pinLine(false, 'hint'), `id:          ${id} (a peer's word, not checked)`)
})

t.test('printer: --json, or the command text, or JSON when a command has no text', async t => {
  const written = []
  const write = process.stdout.write
  process.stdout.write = chunk => { written.push(String(chunk)); return true }
  try {
    printer(false, r => `<${r.a}>`)({ a: 1 })
    printer(true, r => `<${r.a}>`)({ a: 2 })
    printer(false, undefined)({ a: 3 })
    await new Promise(resolve => process.nextTick(resolve))
  } finally {
    process.stdout.write = write
  }
  t.same(written, ['<1>\n{"a":2}\n{"a":3}\n'], 'lines of one turn, in one write')
})

t.test('printable: what a peer wrote (a found URL, an owner\'s metadata) cannot drive the terminal', async t => {
  t.equal(printable('stun:127.0.0.1:3478'), 'stun:127.0.0.1:3478', 'plain text as it is')
  t.equal(printable('stun:h\u001b[31mred'), 'stun:h\\x1b[31mred', 'ESC: a colour change shown, not made')
  t.equal(printable('a\rb\nc\td\u0000'), 'a\\x0db\\x0ac\\x09d\\x00', 'CR, LF, TAB and NUL: a row stays one line')
  t.equal(printable('\u007f\u0085\u009b'), '\\x7f\\x85\\x9b', 'DEL and C1 controls (CSI among them)')
  t.equal(printable('abc\u202edcba\u2066x\u2069'), 'abc\\u{202e}dcba\\u{2066}x\\u{2069}', 'bidirectional overrides and isolates')
  t.equal(printable('a\\x1b'), 'a\\\\x1b', 'a backslash doubled: an escape shown is always one')
  t.equal(printable('données ☃'), 'données ☃', 'other text as it is')
})
