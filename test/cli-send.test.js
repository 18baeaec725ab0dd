// Messages by id (issue 15) through the real bin/peernet against three real daemons on
// loopback: C only dials out (no listen) and B is linked only to A, yet `peernet send C_ID '"hi"'`
// on B exits 0 once C's signed acknowledgement is back, while `peernet messages --json` on C
// prints it. And every way a send fails: one line and exit 1, or exit 2 for a usage error.
import t from 'tap'
import { spawn } from 'node:child_process'
import { datadir, spawnPeernet, oneLine, BIN } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { MAX_MESSAGE } from '../lib/index.js'
import { MAX_INBOX } from '../lib/control/protocol.js'

const FAST = ['--connections', '2', '--interval', '500']
const rows = s => s.split('\n').filter(Boolean).map(l => JSON.parse(l))

/** A listens; B and C dial A and listen nowhere, so neither can reach the other but through A. */
async function star (t) {
  const [a, b, c] = [datadir(t), datadir(t), datadir(t)]
  await Promise.all([a, b, c].map(d => d.start(...FAST)))
  const url = (await a.run(['listen', 'tcp'])).stdout.trim()
  for (const d of [b, c]) t.equal((await d.run(['connect', url])).code, 0, 'connected to A')
  const [A, B, C] = await Promise.all([a, b, c].map(async d => (await d.run(['id'])).stdout.trim()))
  await until(async () => JSON.parse((await a.run(['ring', '--json'])).stdout).status === 'joined', { ms: 30_000, every: 200, what: 'A to join the ring' })
  return { a, b, c, A, B, C }
}

/** `peernet messages ARGS` on d, running: its output so far, and its exit. */
function follow (t, d, args = ['--json']) {
  const child = spawnPeernet(['messages', ...args], { env: d.env() })
  d.track(child.pid)
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', x => { out.stdout += x })
  child.stderr.on('data', x => { out.stderr += x })
  out.exited = new Promise(resolve => child.on('close', resolve))
  t.teardown(() => child.kill('SIGKILL'))
  return out
}

const readers = async d => JSON.parse((await d.run(['status', '--json'])).stdout).limits.inboxReaders

t.test('the issue\'s "done when": C, which only dials out, gets "hi" from B, linked only to A', async t => {
  const { a, b, c, A, B, C } = await star(t)
  const onC = follow(t, c)
  await until(async () => await readers(c) === 1, { what: 'the reader on C' })
  const linksOfB = rows((await b.run(['connections', '--json'])).stdout).map(r => r.id)
  t.same(linksOfB, [A], 'B is linked to A only')
  // The ring may still be settling: a send that found no way yet says so, and is tried again.
  let sent = null
  await until(async () => (sent = await b.run(['send', C, '"hi"'])).code === 0, { ms: 30_000, every: 500, what: 'the send to go through' })
    .catch(err => { throw new Error(`${err.message}; the last said: ${sent?.stderr}`) })
  t.match(sent.stdout, new RegExp(`^acknowledged by ${C} \\(\\d+ ms\\)\\n$`), 'exit 0 once C\'s signed acknowledgement is back')
  await until(() => onC.stdout.includes('\n'), { what: 'C to print the message' })
  t.match(rows(onC.stdout)[0], { from: B, message: 'hi', time: Number }, '`messages --json` on C prints {"from": B_ID, "message": "hi", …}')
  t.same(rows((await b.run(['connections', '--json'])).stdout).map(r => r.id), [A], 'B is still linked to A only: it went by the ring, through A')
  // Any JSON, from stdin too; --json gives the row.
  const piped = await b.run(['send', C, '-', '--json'], { input: '{"text": "two\\nlines", "n": [1, 2]}\n' })
  t.equal(piped.code, 0, piped.stderr)
  t.match(JSON.parse(piped.stdout), { to: C, ms: Number })
  await until(() => rows(onC.stdout).length === 2, { what: 'the second message' })
  t.same(rows(onC.stdout)[1].message, { text: 'two\nlines', n: [1, 2] })
  // Over a direct link: A to C.
  t.equal((await a.run(['send', C, '3'])).code, 0)
  await until(() => rows(onC.stdout).length === 3, { what: 'the third message' })
  t.match(rows(onC.stdout)[2], { from: A, message: 3 })
  t.equal(onC.stderr, '', 'nothing on stderr')
})

t.test('a send that fails says why: ourselves, no such node, nobody reading, usage errors (exit 2)', async t => {
  const { a, b, c, B, C } = await star(t)
  oneLine(t, await b.run(['send', B, '"me"']), 1, /^peernet: send: that id is this node's own: a message to ourselves goes nowhere\n$/, 'to ourselves')
  const ghost = C.slice(0, 10) + (C[10] === '0' ? '1' : '0') + C.slice(11)
  oneLine(t, await b.run(['send', ghost, '"anyone?"', '--timeout', '5000']), 1, /^peernet: send to [0-9a-f]{12}…: (no node with that id|no route to that id over the ring \(.+\)|no reply within 5000 ms)\n$/, 'an id no node has: exit 1, at the latest at its timeout')
  oneLine(t, await b.run(['send', 'c0ffee', '"x"']), 2, /is not a node id: 64 hex digits/, 'a bad id')
  oneLine(t, await b.run(['send', C, 'hi']), 2, /the message is not JSON \(a string needs its quotes: '"hi"'\)/, 'not JSON')
  oneLine(t, await b.run(['send', C, '-'], { input: '{"a": ' }), 2, /stdin is not JSON/, 'stdin not JSON')
  const big = JSON.stringify('x'.repeat(MAX_MESSAGE - 1))
  oneLine(t, await b.run(['send', C, big]), 2, new RegExp(`the message is too large: ${MAX_MESSAGE + 1} bytes of JSON, over MAX_MESSAGE \\(${MAX_MESSAGE}\\)`), 'one byte over MAX_MESSAGE')
  oneLine(t, await b.run(['send', C, '-'], { input: big }), 2, /stdin is too large/, 'from stdin too')
  oneLine(t, await b.run(['send', C, '"x"', '--timeout', '0']), 2, /--timeout/, 'a timeout out of range')
  oneLine(t, await b.run(['send', C]), 2, /usage: peernet send ID JSON\|- /, 'no message')
  // MAX_MESSAGE itself goes (once the ring lets it through), and waits in C's inbox: nobody reads yet.
  const most = JSON.stringify('x'.repeat(MAX_MESSAGE - 2))
  let last = null
  await until(async () => (last = await b.run(['send', C, most])).code === 0, { ms: 30_000, every: 500, what: 'a send of MAX_MESSAGE bytes' })
    .catch(err => { throw new Error(`${err.message}; the last said: ${last?.stderr}`) })
  t.ok(JSON.parse((await c.run(['status', '--json'])).stdout).limits.inbox >= 1, 'held in C\'s inbox for a reader')
  const taken = rows((await c.run(['messages', '--no-follow', '--json'])).stdout)
  t.equal(taken.at(-1).message.length, MAX_MESSAGE - 2, '`messages --no-follow` takes what waits')
  t.equal((await c.run(['messages', '--no-follow'])).stdout, '', 'once')
  // Text output: the time, the sender, the message as one line of JSON with nothing a terminal would act on.
  t.equal((await a.run(['send', C, '"bell\\u0007 \\u202e"'])).code, 0)
  const text = (await c.run(['messages', '--no-follow'])).stdout
  t.match(text, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${(await a.run(['id'])).stdout.trim()} "bell\\\\\\\\u0007 \\\\u\\{202e\\}"\\n$`))
})

t.test('`peernet messages | head -n 1` ends quietly when the reader goes away', async t => {
  // Two daemons are enough: A sends over its link to C.
  const [a, c] = [datadir(t), datadir(t)]
  await Promise.all([a, c].map(d => d.start(...FAST)))
  t.equal((await c.run(['connect', (await a.run(['listen', 'tcp'])).stdout.trim()])).code, 0)
  const C = (await c.run(['id'])).stdout.trim()
  const sh = spawn('sh', ['-c', `env -u NODE_OPTIONS "${process.execPath}" "${BIN}" messages | head -n 1`], { env: c.env() })
  let out = ''
  let err = ''
  sh.stdout.on('data', x => { out += x })
  sh.stderr.on('data', x => { err += x })
  const code = new Promise(resolve => sh.on('close', resolve))
  t.teardown(() => sh.kill('SIGKILL'))
  await until(async () => await readers(c) === 1, { what: 'the reader' })
  t.equal((await a.run(['send', C, '"first"'])).code, 0)
  t.equal(await code, 0)
  t.match(out, /^\S+ [0-9a-f]{64} "first"\n$/, 'one line')
  t.equal(err, '', 'no EPIPE trace')
  await until(async () => await readers(c) === 0, { what: 'the reader to be gone' })
  t.equal(JSON.parse((await c.run(['status', '--json'])).stdout).limits.maxInbox, MAX_INBOX)
})
