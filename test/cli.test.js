// The CLI end to end: the real bin/peernet against real daemons in temp data dirs.
import t from 'tap'
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, openSync, closeSync, constants } from 'node:fs'
import { join } from 'node:path'
import { datadir, alive, childrenOf, BIN, spawnPeernet } from './lib/cli.js'
import { until, tempDir } from './lib/helpers.js'
import { MAX_INBOUND } from '../lib/index.js'
import { MAX_CLIENTS } from '../lib/control/protocol.js'

const lines = s => s.split('\n').filter(Boolean)

t.test('daemon, already running, status, close', async t => {
  const d = datadir(t)
  const first = await d.run(['daemon'])
  t.equal(first.code, 0, first.stderr)
  const pid = Number(/pid (\d+)/.exec(first.stdout)[1])
  d.track(pid)
  t.match(first.stdout, /^peernet daemon started \(pid \d+\)\n$/)
  const second = await d.run(['daemon'])
  t.equal(second.code, 0)
  t.equal(second.stdout, `peernet daemon is already running (pid ${pid})\n`)
  const st = await d.run(['status', '--json'])
  const s = JSON.parse(st.stdout)
  t.equal(s.pid, pid)
  t.equal(s.datadir, d.dir)
  t.equal(s.socket, join(d.dir, 'run', 'control.sock'))
  t.match(s.settings, { network: 'peernet', connections: 5, interval: 5000, hops: 15 })
  t.match(s.limits, { maxInbound: MAX_INBOUND, maxControlClients: MAX_CLIENTS }, 'the limits in force are the named bounds')
  const human = await d.run(['status'])
  t.match(human.stdout, /^id: +[0-9a-f]{64}\n/)
  const stop = await d.run(['close'])
  t.equal(stop.stdout, `peernet daemon stopped (pid ${pid})\n`)
  t.notOk(alive(pid), 'the process is gone')
  t.notOk(existsSync(join(d.dir, 'peernet.pid')), 'pid file removed')
  const after = await d.run(['status'])
  t.equal(after.code, 1)
  t.equal(lines(after.stderr).length, 1)
  t.match(after.stderr, /no daemon is running/)
  const stopAgain = await d.run(['stop'])
  t.equal(stopAgain.code, 1, 'stop (alias) says it is not running')
})

t.test('every command once, end to end', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start('--interval', '0')
  await b.start('--interval', '0')
  const url = (await a.run(['listen', 'ws'])).stdout.trim()
  t.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/)
  t.equal((await a.run(['servers'])).stdout, url + '\n')
  t.same(JSON.parse((await a.run(['servers', '--json'])).stdout), { address: url, protocol: 'ws', host: '127.0.0.1', port: Number(url.split(':')[2]), state: 'open' })
  t.equal((await a.run(['own'])).stdout, url + '\n')
  t.equal((await a.run(['join', 'chat', 'other'])).stdout, 'joined chat other\n')
  t.equal((await a.run(['subnets'])).stdout, 'chat\nother\n')
  t.equal((await a.run(['part', 'other'])).stdout, 'parted other\n')
  t.equal((await a.run(['subnets', '--json'])).stdout, '{"subnet":"chat"}\n')

  t.equal((await b.run(['connect', url])).stdout, `connected to ${url}\n`)
  const conn = JSON.parse((await b.run(['connections', '--json'])).stdout)
  t.match(conn, { address: url, direction: 'out', id: /^[0-9a-f]{64}$/ })
  t.equal((await b.run(['connections'])).stdout, `${url}\t${conn.id}\n`, 'the address, and the peer\'s id beside it')
  const found = await b.run(['search', 'chat', '--max', '1'])
  t.equal(found.stdout, url + '\n')
  // The flood, asked for (the ring, with rounds of 5 s, has not settled yet either way).
  const json = await b.run(['search', 'chat', '--json', '--max', '1', '--flood', '--hops', '2'])
  t.same(JSON.parse(json.stdout), { hash: 'chat', address: url, hops: 1, id: null, addresses: [url], via: 'flood' })
  const nothing = await b.run(['search', 'nobody', '--flood', '--timeout', '200'])
  t.same([nothing.code, nothing.stdout], [0, ''], 'a search that finds nobody ends at its timeout')
  // Not empty for want of trying: the query reached a, b's only peer, and a logs any answer it
  // sends in the same step as the query it handles, so once the query is in a's log, so is that.
  const aLog = await until(async () => {
    const rows = lines((await a.run(['log', '--no-follow', '-n', '500', '--json'])).stdout).map(l => JSON.parse(l))
    return rows.some(r => r.type === 'search' && r.dir === 'in' && r.subnet === 'nobody') && rows
  }, { what: 'the query to reach a' })
  t.same(aLog.filter(r => r.type === 'answer' && r.subnet === 'nobody'), [], 'a, the only node asked, sent no answer')
  t.equal((await b.run(['known'])).stdout, `${url}\tchat\n`, 'known shows the subnets an address serves')
  const stats = JSON.parse((await b.run(['stats', url, '--json'])).stdout)
  t.match(stats, { address: url, saved: true, connections: { ok: 1, fail: 0 }, subnets: ['chat'] })
  t.match((await b.run(['stats', url])).stdout, /connections: 1 ok, 0 failed/)

  t.equal((await b.run(['add', 'tcp://127.0.0.1:9', 'ws://127.0.0.2:80'])).stdout, 'added 2 addresses\n')
  t.same(lines((await b.run(['known'])).stdout).sort(), [`${url}\tchat`, 'tcp://127.0.0.1:9', 'ws://127.0.0.2'].sort())
  t.same(lines((await b.run(['known', '--json'])).stdout).map(l => JSON.parse(l).address).sort(), [url, 'tcp://127.0.0.1:9', 'ws://127.0.0.2'].sort())
  t.equal((await b.run(['rm', 'tcp://127.0.0.1:9'])).stdout, 'removed 1 address\n')
  t.notMatch((await b.run(['known'])).stdout, /127\.0\.0\.1:9\b/)

  t.equal((await b.run(['disconnect', url])).stdout, `disconnected from ${url}\n`)
  t.equal((await b.run(['connections'])).stdout, '')
  const notConnected = await b.run(['disconnect', url])
  t.same([notConnected.code, lines(notConnected.stderr).length], [1, 1])
  t.match(notConnected.stderr, /not connected/)

  t.equal((await a.run(['unlisten', url])).stdout, `closed ${url}\n`)
  t.equal((await a.run(['servers'])).stdout, '')
  const unknownService = await a.run(['unlisten', url])
  t.equal(unknownService.code, 1)

  const log = await b.run(['log', '--no-follow', '-n', '200'])
  t.match(log.stdout, /\bconnect id=[0-9a-f]{64} address=ws:\/\/127\.0\.0\.1:\d+ direction=out\n/)
  t.match(log.stdout, /\bdisconnect .*reason="disconnected by the user"/)
  const logJson = await b.run(['log', '--no-follow', '-n', '3', '--json'])
  t.equal(lines(logJson.stdout).length, 3)
  t.ok(lines(logJson.stdout).every(l => typeof JSON.parse(l).type === 'string'))
})

t.test('a chain of 5 daemons: search on the far end prints the first node\'s address', async t => {
  const ds = []
  const urls = []
  for (let i = 0; i < 5; i++) {
    const d = datadir(t)
    await d.start('--interval', '0', '--connections', '0')
    urls.push((await d.run(['listen', 'ws'])).stdout.trim())
    if (i > 0) {
      const r = await d.run(['connect', urls[i - 1]])
      t.equal(r.code, 0, r.stderr)
    }
    ds.push(d)
  }
  await ds[0].run(['join', 'far'])
  const r = await ds[4].run(['search', 'far', '--json', '--max', '1', '--flood'])
  // At most 4: the ring may have linked nodes of the chain by then (its first round is at 5 s).
  // The exact count on a chain is node.test.js's, on nodes that run no ring round.
  const row = JSON.parse(r.stdout)
  t.match(row, { hash: 'far', address: urls[0], id: null, addresses: [urls[0]], via: 'flood' })
  t.ok(row.hops >= 1 && row.hops <= 4, `hops ${row.hops}: no more than the chain`)
})

t.test('a restarted daemon keeps its table, subnets and services', async t => {
  const d = datadir(t)
  await d.start()
  await d.run(['add', 'tcp://127.0.0.1:7'])
  await d.run(['join', 'keep'])
  const url = (await d.run(['listen', 'tcp'])).stdout.trim()
  const id = JSON.parse((await d.run(['status', '--json'])).stdout).id
  await d.run(['close'])
  await d.start()
  t.equal((await d.run(['known'])).stdout, 'tcp://127.0.0.1:7\n')
  t.equal((await d.run(['subnets'])).stdout, 'keep\n')
  t.equal((await d.run(['servers'])).stdout, url + '\n', 'the same service, on the same port')
  t.equal(JSON.parse((await d.run(['status', '--json'])).stdout).id, id, 'the same node id')
})

t.test('auto-start: on by default, off with --no-autostart or PEERNET_NO_AUTOSTART=1', async t => {
  const d = datadir(t)
  const off = await d.run(['known', '--no-autostart'])
  t.equal(off.code, 1)
  t.equal(off.stderr, `peernet: no daemon is running for ${d.dir} (auto-start is off); start one with \`peernet daemon\`\n`)
  const offEnv = await d.run(['subnets'], { env: { PEERNET_NO_AUTOSTART: '1' } })
  t.equal(offEnv.code, 1)
  t.notOk(d.pidOf(), 'nothing was started')
  const status = await d.run(['status'])
  t.equal(status.code, 1, 'status never starts a daemon')
  const log = await d.run(['log'])
  t.equal(log.code, 1, 'log never starts a daemon')
  const lonely = await d.run(['search', 'anyone', '--timeout', '100'])
  t.equal(lonely.code, 1, 'a search with no connections fails at once')
  t.match(lonely.stderr, /^peernet: started a daemon \(pid \d+\) for .*\npeernet: no answers: this node has no connections to search through; connect to a peer first/, 'it started a daemon (and says so), which has nobody to ask')
  const on = await d.run(['join', 'auto'])
  t.equal(on.code, 0, on.stderr)
  t.ok(d.pidOf(), 'a daemon was started on demand')
  t.equal((await d.run(['subnets'])).stdout, 'auto\n')
})

t.test('`peernet log | head -n 1` ends quietly when the reader goes away', async t => {
  const d = datadir(t)
  await d.start()
  await d.run(['join', 'x'])
  const sh = spawn('sh', ['-c', `env -u NODE_OPTIONS "${process.execPath}" "${BIN}" log | head -n 1`], { env: d.env() })
  let out = ''
  let err = ''
  sh.stdout.on('data', x => { out += x })
  sh.stderr.on('data', x => { err += x })
  const code = await new Promise(resolve => sh.on('close', resolve))
  t.equal(code, 0)
  t.equal(lines(out).length, 1)
  t.equal(err, '', 'no EPIPE trace')
  await until(async () => JSON.parse((await d.run(['status', '--json'])).stdout).limits.logFollowers === 0, { what: 'the follower to be gone' })
})

t.test('the reader watch of `peernet log` into a pipe ends with it, even when it is SIGKILLed', async t => {
  const d = datadir(t)
  await d.start()
  // stdout a real pipe (a FIFO we hold the read end of), so `log` starts its reader watch.
  const fifo = join(tempDir(t), 'out')
  execFileSync('mkfifo', [fifo])
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  t.teardown(() => closeSync(reader))
  const writer = openSync(fifo, 'w')
  const log = spawnPeernet(['log', '-n', '0'], { env: d.env(), stdio: ['ignore', writer, 'ignore'] })
  closeSync(writer)
  d.track(log.pid)
  const watch = await until(() => childrenOf(log.pid).find(c => c.comm === 'tail'), { what: 'the reader watch to start' })
  d.track(watch.pid)
  process.kill(log.pid, 'SIGKILL')
  // The reader is still there, so only the death of `log` itself can end the watch.
  await until(() => !alive(watch.pid), { what: `the reader watch (pid ${watch.pid}) to end with \`peernet log\`` })
  t.pass('no watch left behind')
})

t.test('`peernet log` follows new events as they happen, flushed per line', async t => {
  const d = datadir(t)
  await d.start()
  const follower = spawnPeernet(['log', '-n', '0'], { env: d.env() })
  t.teardown(() => follower.kill('SIGKILL'))
  let out = ''
  follower.stdout.on('data', x => { out += x })
  await until(async () => JSON.parse((await d.run(['status', '--json'])).stdout).limits.logFollowers === 1, { what: 'the follower' })
  await d.run(['join', 'live'])
  await until(() => /\bjoin subnet=live\n/.test(out), { what: 'the join line' })
  t.pass('the join arrived while following')
})

t.test('bad arguments: exit 2, one line, decided before any daemon is contacted', async t => {
  const d = datadir(t)
  for (const args of [['connect', 'notaurl'], ['connect', 'ws://'], ['bogus'], ['connect'], ['search', 'x', '--max', 'zero'], ['listen', 'udp'], ['add', 'file:///etc/passwd'], ['status', '--frobnicate']]) {
    const r = await d.run(args)
    t.equal(r.code, 2, args.join(' '))
    t.equal(lines(r.stderr).length, 1, `${args.join(' ')}: ${r.stderr}`)
    t.match(r.stderr, /^peernet: /)
    t.notMatch(r.stderr, /\n\s+at /)
  }
  t.notOk(d.pidOf(), 'no daemon was started')
})

t.test('add - reads the first word of each line, whatever blanks surround it, and counts lines at \\n only', async t => {
  const d = datadir(t)
  await d.start('--interval', '0', '--connections', '0')
  // Tabs, CR LF, Unicode spaces, comments, blank lines, a subnet column (as `known` prints), and
  // U+2028, which is whitespace but no line break for add -.
  const input = ' \ttcp://127.0.0.1:1\tchat,dht\r\n# comment\n\n  \u00a0\u3000\n\u3000tcp://127.0.0.1:2  x\n  #tcp://127.0.0.1:9\ntcp://127.0.0.1:3\u2028tcp://127.0.0.1:8\r\ntcp://127.0.0.1:1'
  const r = await d.run(['add', '-'], { input })
  t.equal(r.stdout, 'added 3 addresses\n', r.stderr)
  t.same(lines((await d.run(['known'])).stdout).sort(), ['tcp://127.0.0.1:1', 'tcp://127.0.0.1:2', 'tcp://127.0.0.1:3'])
  const bad = await d.run(['add', '-'], { input: input + '\n\u2028\n \t\n  nota\u2028url' })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^peernet: stdin line 11: invalid address "nota".*nothing was added/)
})

t.test('`peernet known | peernet add -` imports a table into another node', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start('--interval', '0', '--connections', '0')
  await b.start('--interval', '0', '--connections', '0')
  const addrs = Array.from({ length: 1500 }, (_, i) => `tcp://127.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${1000 + i}`)
  const r = await a.run(['add', '-'], { input: addrs.join('\n') + '\n' })
  t.equal(r.stdout, 'added 1500 addresses\n', r.stderr)
  const known = await a.run(['known'])
  const imported = await b.run(['add', '-'], { input: known.stdout })
  t.equal(imported.stdout, 'added 1500 addresses\n')
  t.same(lines((await b.run(['known'])).stdout).sort(), addrs.slice().sort())
  const bad = await b.run(['add', '-'], { input: 'tcp://127.0.0.1:1\nnotaurl\n' })
  t.equal(bad.code, 2, 'a bad address on stdin is a usage error, as in the arguments')
  t.match(bad.stderr, /stdin line 2: invalid address "notaurl".*nothing was added/)
})
