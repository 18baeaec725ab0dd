// What the CLI says must be true: counts of what changed, internal limits kept inside, one exit
// status per kind of mistake, help that lists only what a command takes. The real bin/peernet
// against real daemons in temp data dirs.
import t from 'tap'
import { datadir } from './lib/cli.js'
import { MAX_ITEMS_PER_REQUEST, ADD_WINDOW } from '../lib/control/protocol.js'
import { LOG_BUFFER } from '../lib/daemon/log.js'

const lines = s => s.split('\n').filter(Boolean)
const json = r => JSON.parse(r.stdout)

/** A quiet daemon: it never dials and never gossips. */
async function quiet (t) {
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  return d
}

/** One quiet daemon for the tests below that change nothing in it (killed when the file ends). */
let shared = null
const sharedDaemon = () => (shared ??= quiet(t))

t.test('add, rm, join and part say what changed, not what was asked', async t => {
  const d = await quiet(t)
  const A = 'tcp://127.0.0.1:9'
  const B = 'tcp://127.0.0.1:10'
  t.equal((await d.run(['add', A, A])).stdout, 'added 1 address\n', 'a repeated argument counts once')
  t.equal((await d.run(['add', A])).stdout, 'added 0 addresses, 1 already known\n')
  t.same(json(await d.run(['add', A, B, '--json'])), { added: 1, already: 1 })

  const nosuch = await d.run(['rm', 'tcp://127.0.0.1:11'])
  t.same([nosuch.code, nosuch.stdout], [0, 'removed 0 addresses (1 not known)\n'])
  t.equal(json(await d.run(['status', '--json'])).tombstones, 0, 'no tombstone for an address that was never known')
  t.same(json(await d.run(['rm', A, 'tcp://127.0.0.1:11', '--json'])), { removed: 1, unknown: 1 })
  t.equal(json(await d.run(['status', '--json'])).tombstones, 1, 'the removed one is refused from gossip')

  t.equal((await d.run(['join', 'chat'])).stdout, 'joined chat\n')
  t.equal((await d.run(['join', 'chat', 'files'])).stdout, 'joined files (already joined: chat)\n')
  t.equal((await d.run(['join', 'chat'])).stdout, 'joined nothing (already joined: chat)\n')
  t.same(json(await d.run(['join', 'chat', '--json'])), { joined: [], already: ['chat'] })
  const part = await d.run(['part', 'nosuch'])
  t.same([part.code, part.stdout], [0, 'parted nothing (not joined: nosuch)\n'])
  t.equal((await d.run(['part', 'files', 'nosuch'])).stdout, 'parted files (not joined: nosuch)\n')
  t.same(json(await d.run(['part', 'chat', '--json'])), { parted: ['chat'], notJoined: [] })
  t.equal((await d.run(['subnets'])).stdout, '')
  const log = (await d.run(['log', '--no-follow', '-n', String(LOG_BUFFER)])).stdout
  t.notMatch(log, /part subnet=nosuch/, 'the log does not claim a part that did not happen')
})

t.test(`rm and join with more than MAX_ITEMS_PER_REQUEST (${MAX_ITEMS_PER_REQUEST}) arguments are split like add -`, async t => {
  const d = await quiet(t)
  const n = MAX_ITEMS_PER_REQUEST + 500
  const addrs = Array.from({ length: n }, (_, i) => `tcp://127.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${1000 + i}`)
  const added = await d.run(['add', ...addrs])
  t.same([added.code, added.stdout, added.stderr], [0, `added ${n} addresses\n`, ''], 'add of as many arguments')
  const removed = await d.run(['rm', ...addrs])
  t.same([removed.code, removed.stdout, removed.stderr], [0, `removed ${n} addresses\n`, ''])
  t.equal((await d.run(['known'])).stdout, '', 'all of them are gone')

  const names = Array.from({ length: n }, (_, i) => `s${i}`)
  const joined = await d.run(['join', '--json', ...names])
  t.same([joined.code, joined.stderr], [0, ''])
  t.same(json(joined), { joined: names, already: [] })
  t.equal(lines((await d.run(['subnets'])).stdout).length, n)
  const parted = await d.run(['part', '--json', ...names])
  t.same([parted.code, json(parted).parted.length], [0, n])
})

t.test(`add - of more requests than ADD_WINDOW (${ADD_WINDOW}) keeps in flight says and stores what it did, request by request in order`, async t => {
  const d = await quiet(t)
  const per = MAX_ITEMS_PER_REQUEST
  const n = per * (ADD_WINDOW + 2) + 500
  const addrs = Array.from({ length: n }, (_, i) => `tcp://127.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${1000 + i}`)
  // Some known already, in every request; every address twice on stdin (sent once).
  const before = addrs.filter((_, i) => i % 7 === 0)
  t.equal((await d.run(['add', '-'], { input: before.join('\n') })).code, 0)
  const input = [...addrs, ...addrs.slice().reverse()].join('\n') + '\n'
  const r = await d.run(['add', '-'], { input })
  t.same([r.code, r.stdout, r.stderr], [0, `added ${n - before.length} addresses, ${before.length} already known\n`, ''])
  t.same(json(await d.run(['add', '-', '--json'], { input })), { added: 0, already: n })
  t.same(lines((await d.run(['known'])).stdout).sort(), addrs.slice().sort())
  // One save event per request, in the order the requests were sent.
  const log = (await d.run(['log', '--no-follow', '--json', '-n', String(LOG_BUFFER)])).stdout
  const saves = lines(log).map(l => JSON.parse(l)).filter(e => e.type === 'save').map(e => e.count)
  const fresh = []
  for (let i = 0; i < n; i += per) fresh.push(addrs.slice(i, i + per).filter((_, j) => (i + j) % 7 !== 0).length)
  t.same(saves, [before.length, ...fresh, ...fresh.map(() => 0)])
})

t.test(`log -n past LOG_BUFFER (${LOG_BUFFER}) is a usage error that names the range`, async t => {
  const d = await sharedDaemon()
  const r = await d.run(['log', '-n', String(LOG_BUFFER + 1), '--no-follow'])
  t.equal(r.code, 2)
  t.match(r.stderr, new RegExp(`^peernet: --lines must be at most ${LOG_BUFFER} \\(allowed: 0 to ${LOG_BUFFER}\\)`))
  t.equal((await d.run(['log', '-n', String(LOG_BUFFER), '--no-follow'])).code, 0, 'LOG_BUFFER itself is fine')
})

t.test('a bad address is a usage error (2) from arguments and from stdin of add - alike', async t => {
  const d = await sharedDaemon()
  const args = await d.run(['add', 'tcp://127.0.0.1:1', 'notaurl'])
  const stdin = await d.run(['add', '-'], { input: 'tcp://127.0.0.1:1\nnotaurl\n' })
  t.same([args.code, stdin.code], [2, 2])
  t.match(stdin.stderr, /^peernet: stdin line 2: invalid address "notaurl".*nothing was added/)
  t.equal(lines(stdin.stderr).length, 1)
  t.equal((await d.run(['known'])).stdout, '', 'nothing was added')
})

t.test('status prints connections: once', async t => {
  const d = await sharedDaemon()
  const r = await d.run(['status'])
  t.equal(r.code, 0)
  t.equal(lines(r.stdout).filter(l => /^\s*connections:/.test(l)).length, 1, r.stdout)
  t.match(r.stdout, /^connections: 0 \(0 out, 0 in\)$/m)
  t.match(r.stdout, /^ {2}--connections 0$/m, 'the setting reads as the flag that sets it')
})
