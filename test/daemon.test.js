// The daemon's lifecycle: garbage on a peer port, kill -9 and restart, stale files, the data
// dir lock, long data dirs, --sockfile, config.json, signals, the log file and a corrupt db.
// Real daemons started with the real bin/peernet; raw sockets are destroyed at teardown.
import t from 'tap'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync, statSync, mkdirSync, readdirSync, truncateSync, rmSync, chmodSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { datadir, killHard, alive } from './lib/cli.js'
import { controlClient } from './lib/control.js'

const gone = pid => !alive(pid)
import { until } from './lib/helpers.js'
import { MAX_SOCKET_PATH } from '../lib/control/paths.js'
import { MAX_FRAME } from '../lib/wire/frame.js'

const lines = s => s.split('\n').filter(Boolean)
const QUIET = ['--connections', '0', '--interval', '0']


/** Live processes whose command line mentions dir (a daemon or a crash-looping restart). */
function processesUsing (dir) {
  const found = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ')
      if (cmd.includes(dir) && !gone(Number(name))) found.push(`${name}: ${cmd}`)
    } catch {}
  }
  return found
}

/** A one-line error from the CLI: exactly one line on stderr, no stack trace. */
function oneLine (t, r, pattern, what) {
  t.equal(r.code, 1, `${what}: exit 1`)
  t.equal(lines(r.stderr).length, 1, `${what}: one line on stderr`)
  t.notMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`)
  t.match(r.stderr, pattern, `${what}: ${pattern}`)
}


/** Open a raw tcp socket to a peer port, send bytes, half-close; resolves when the daemon closes it. */
function rawPeer (t, url, bytes) {
  const port = Number(url.split(':')[2])
  return new Promise(resolve => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(bytes))
    t.teardown(() => s.destroy())
    s.on('data', () => {})
    s.on('error', () => {})
    s.on('close', () => resolve())
  })
}

async function statusJson (d, extra = []) {
  const r = await d.run(['status', '--json', ...extra])
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

t.test('garbage on a peer port: dropped, the daemon answers and its log is fine', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const l = await d.run(['listen', 'tcp'])
  t.equal(l.code, 0, l.stderr)
  const url = l.stdout.trim()
  t.match(url, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  const oversize = Buffer.alloc(4)
  oversize.writeUInt32BE(MAX_FRAME + 1)
  await Promise.all([
    rawPeer(t, url, randomBytes(64 * 1024)),
    rawPeer(t, url, Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(4096)])),
    rawPeer(t, url, Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')),
    rawPeer(t, url, oversize),
    rawPeer(t, url, Buffer.concat([oversize, Buffer.alloc(100 * 1024, 0x41)])),
    rawPeer(t, url, Buffer.from([0, 0, 0, 5, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b])),
    rawPeer(t, url, Buffer.from([0, 0, 0, 2, 0x5b, 0x5d]))
  ])
  t.pass('the daemon closed every garbage connection')
  await until(async () => (await statusJson(d)).connections === 0, { what: 'no connections left' })
  const s = await d.run(['status'])
  t.equal(s.code, 0, s.stderr)
  const log = await d.run(['log', '--no-follow', '-n', '50'])
  t.equal(log.code, 0, log.stderr)
  t.match(log.stdout, /listen address=tcp:\/\/127\.0\.0\.1:\d+/, 'the log shows the listen')
  t.notMatch(log.stdout, /uncaught|unhandled/, 'no escaped errors in the log')
  t.ok(lines(log.stdout).every(x => /^\d{4}-\d\d-\d\dT[\d:.]+Z \w+/.test(x)), 'every log line is an event line')
  t.equal((await d.run(['servers'])).stdout.trim(), url, 'the service is still open')
})

t.test('kill -9 after 500 acknowledged adds loses none', async t => {
  const d = datadir(t)
  const first = await d.start(...QUIET)
  const c = await controlClient(join(d.dir, 'run', 'control.sock'), t)
  const added = Array.from({ length: 500 }, (_, i) => `tcp://127.0.0.1:${10000 + i}`)
  for (let i = 0; i < added.length; i++) {
    const a = await c.request('add', { addresses: [added[i]] })
    if (a.error || a.rows[0]?.count !== 1) throw new Error(`add ${i} failed: ${JSON.stringify(a)}`)
  }
  t.pass('500 adds acknowledged, one at a time')
  const pid = (await statusJson(d)).pid
  t.equal(pid, first)
  process.kill(pid, 'SIGKILL')
  await until(() => gone(pid), { what: 'the daemon to die' })
  c.sock.destroy()
  const again = await d.run(['daemon', ...QUIET])
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /^peernet daemon started \(pid \d+\)\n$/)
  d.track(Number(/pid (\d+)/.exec(again.stdout)[1]))
  const known = await d.run(['known'])
  t.equal(known.code, 0, known.stderr)
  const listed = lines(known.stdout).map(x => x.split('\t')[0])
  t.equal(listed.length, 500, 'known lists 500 addresses')
  t.same([...listed].sort(), [...added].sort(), 'exactly the 500 added')
})

t.test('a stale socket and pid file from a killed daemon are cleaned up', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const sock = join(d.dir, 'run', 'control.sock')
  const pid = (await statusJson(d)).pid
  process.kill(pid, 'SIGKILL')
  await until(() => gone(pid), { what: 'the daemon to die' })
  t.ok(statSync(sock).isSocket(), 'the dead daemon left its socket behind')
  t.equal(d.pidOf(), pid, 'and its pid file')
  const st = await d.run(['status'])
  t.equal(st.code, 1, 'status with a stale socket: exit 1')
  t.match(st.stderr, /no daemon is running/)
  const r = await d.run(['daemon', ...QUIET])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^peernet daemon started \(pid \d+\)\n$/, 'a new daemon started (not "already running")')
  const fresh = Number(/pid (\d+)/.exec(r.stdout)[1])
  d.track(fresh)
  t.not(fresh, pid)
  t.equal(d.pidOf(), fresh, 'the pid file names the new daemon')
  const s = await statusJson(d)
  t.equal(s.pid, fresh, 'status works and names the new daemon')
  t.equal(s.socket, sock)
})

t.test("a live daemon's lock is never stolen", async t => {
  const d = datadir(t)
  const pid = await d.start(...QUIET)
  const sock = join(d.dir, 'run', 'control.sock')
  const r = await d.run(['server', ...QUIET])
  oneLine(t, r, new RegExp(`another peernet daemon \\(pid ${pid}\\) is using ${d.dir}`), 'server on a locked data dir')
  t.equal(r.stdout, '', 'nothing on stdout')
  t.ok(statSync(sock).isSocket(), 'the first daemon\'s socket is still there')
  t.equal(d.pidOf(), pid, 'its pid file is untouched')
  const s = await statusJson(d)
  t.equal(s.pid, pid, 'the first daemon still answers')
  const other = await d.run(['server', '--sockfile', join(d.dir, 'other.sock'), ...QUIET])
  oneLine(t, other, /another peernet daemon/, 'server on a locked data dir with its own socket')
  t.notOk(existsSync(join(d.dir, 'other.sock')), 'it left no socket behind')
  t.equal((await statusJson(d)).pid, pid, 'the first daemon still answers')
})

t.test('a deep data dir gets a short socket outside it; two deep dirs get two sockets', async t => {
  const d = datadir(t)
  const deep = [join(d.dir, 'a'.repeat(60), 'b'.repeat(40), 'one'), join(d.dir, 'a'.repeat(60), 'b'.repeat(40), 'two')]
  for (const dir of deep) t.ok(Buffer.byteLength(join(dir, 'run', 'control.sock')) > MAX_SOCKET_PATH, 'the usual socket path would be too long')
  const sockets = []
  for (const dir of deep) {
    const env = { PEERNET_PATH: dir }
    const r = await d.run(['daemon', '--json', ...QUIET], { env })
    t.equal(r.code, 0, r.stderr)
    const { pid, socket } = JSON.parse(r.stdout)
    d.track(pid)
    t.teardown(async () => {
      await killHard(pid)
      rmSync(socket, { force: true })
    })
    const s = await statusJson({ run: args => d.run(args, { env }) })
    t.equal(s.pid, pid, 'status answers')
    t.equal(s.datadir, dir)
    t.equal(s.socket, socket, 'daemon --json and status agree on the socket')
    t.notOk(s.socket.startsWith(dir), `the socket ${s.socket} is outside the data dir`)
    t.ok(Buffer.byteLength(s.socket) <= MAX_SOCKET_PATH, 'and short enough to bind')
    t.ok(statSync(s.socket).isSocket(), 'it is a socket')
    t.equal(statSync(s.socket).mode & 0o777, 0o600, 'it is private')
    sockets.push(s.socket)
  }
  t.not(sockets[0], sockets[1], 'two deep data dirs, two sockets')
  const close = await d.run(['close'], { env: { PEERNET_PATH: deep[0] } })
  t.equal(close.code, 0, close.stderr)
  t.notOk(existsSync(sockets[0]), 'close removes the socket outside the data dir')
  t.equal((await statusJson({ run: args => d.run(args, { env: { PEERNET_PATH: deep[1] } }) })).datadir, deep[1], 'the other daemon is unaffected')
})

t.test('--sockfile PATH names the socket', async t => {
  const d = datadir(t)
  const sock = join(d.dir, 'elsewhere', 'my.sock')
  const r = await d.run(['daemon', '--json', '--sockfile', sock, ...QUIET])
  t.equal(r.code, 0, r.stderr)
  d.track(JSON.parse(r.stdout).pid)
  t.equal(JSON.parse(r.stdout).socket, sock)
  const s = await statusJson(d, ['--sockfile', sock])
  t.equal(s.socket, sock, 'status --json shows it')
  t.ok(statSync(sock).isSocket())
  t.notOk(existsSync(join(d.dir, 'run', 'control.sock')), 'no socket in the default place')
  const without = await d.run(['status'])
  t.equal(without.code, 1, 'status without --sockfile finds no daemon')
  t.match(without.stderr, /no daemon is running/)
  const nope = join(d.dir, 'nope.sock')
  const wrong = await d.run(['status', '--sockfile', nope])
  t.same([wrong.code, wrong.stderr], [1, `peernet: no daemon answers on ${nope}; start one with \`peernet daemon --sockfile ${nope}\`\n`],
    'with --sockfile, the message names that socket (a daemon does run for the data dir)')
})

t.test('--sockfile in a shared directory leaves that directory\'s mode alone', async t => {
  const d = datadir(t)
  // Like --sockfile /tmp/peernet.sock: the directory belongs to everyone, not to peernet.
  const shared = join(d.dir, 'shared')
  mkdirSync(shared)
  chmodSync(shared, 0o1777)
  const sock = join(shared, 'peernet.sock')
  const r = await d.run(['daemon', '--json', '--sockfile', sock, ...QUIET])
  t.equal(r.code, 0, r.stderr)
  d.track(JSON.parse(r.stdout).pid)
  t.equal(statSync(sock).mode & 0o777, 0o600, 'the socket itself is 0600')
  t.equal((statSync(shared).mode & 0o7777).toString(8), '1777', 'the shared directory is still 1777')
})

t.test('config.json sets settings, a flag overrides it, a bad one stops the start', async t => {
  const d = datadir(t)
  const config = join(d.dir, 'config.json')
  writeFileSync(config, JSON.stringify({ network: 'testnet', interval: 0, connections: 0 }))
  await d.start()
  let s = await statusJson(d)
  t.equal(s.network, 'testnet')
  t.match(s.settings, { network: 'testnet', interval: 0, connections: 0 }, 'status --json shows the file\'s settings')
  t.equal((await d.run(['close'])).code, 0)

  await d.start('--network', 'flagnet', '--interval', '250')
  s = await statusJson(d)
  t.match(s.settings, { network: 'flagnet', interval: 250, connections: 0 }, 'flags override the file; the rest still comes from it')
  t.equal((await d.run(['close'])).code, 0)

  const bad = [
    [{ bogus: 1 }, /bogus/, 'an unknown key'],
    [{ interval: 'fast' }, /interval/, 'a string for a number'],
    [{ connections: -1 }, /connections/, 'a number out of range'],
    [{ network: '' }, /network/, 'an empty network id'],
    [{ interval: 0, 'table-size': 0 }, /table-size/, 'a zero table size'],
    [{ ice: ['stun:127.0.0.1', 'ftp://127.0.0.1'] }, /config\.json: ice: ICE server "ftp:\/\/127\.0\.0\.1": expected stun:/, 'an ICE server that is not one'],
    [{ 'webrtc-bind': 'any' }, /config\.json: webrtc-bind: .*give an IP address/, 'a bind address that is no IP']
  ]
  for (const [value, pattern, what] of bad) {
    writeFileSync(config, JSON.stringify(value))
    const r = await d.run(['daemon'])
    oneLine(t, r, pattern, what)
    t.match(r.stderr, /config\.json/, `${what}: the line names the file`)
  }
  writeFileSync(config, '{"interval": ')
  oneLine(t, await d.run(['daemon']), /config\.json is not valid JSON/, 'a file that is not JSON')
  writeFileSync(config, '[]')
  oneLine(t, await d.run(['daemon']), /config\.json/, 'a file that is not an object')
  t.equal(d.pidOf(), null, 'no daemon was left running')
  t.same(processesUsing(d.dir), [], 'no process is left for this data dir')
})

for (const signal of ['SIGTERM', 'SIGINT']) {
  t.test(`${signal} stops the daemon cleanly`, async t => {
    const d = datadir(t)
    const pid = await d.start(...QUIET)
    const sock = join(d.dir, 'run', 'control.sock')
    t.ok(existsSync(sock) && existsSync(join(d.dir, 'peernet.pid')), 'socket and pid file are there')
    process.kill(pid, signal)
    await until(() => gone(pid), { what: `the daemon to exit on ${signal}` })
    t.pass('the process is gone')
    t.notOk(existsSync(join(d.dir, 'peernet.pid')), 'pid file removed')
    t.notOk(existsSync(sock), 'socket removed')
    t.match(readFileSync(join(d.dir, 'daemon.log'), 'utf8'), new RegExp(`stopping pid=${pid}`), 'the log says it stopped')
    const r = await d.run(['status'])
    oneLine(t, r, /no daemon is running/, 'status afterwards')
  })
}

t.test('WebRTC settings: the daemon loads WebRTC at start, says nothing when it can run, and still exits at close', async t => {
  const d = datadir(t)
  const pid = await d.start(...QUIET, '--webrtc-bind', '127.0.0.1', '--ice', 'stun:127.0.0.1:3478')
  t.notMatch(readFileSync(join(d.dir, 'daemon.log'), 'utf8'), /webrtc unavailable/, 'no warning: node-datachannel loaded')
  t.equal((await d.run(['close'])).code, 0)
  // node-datachannel's threads would keep the process alive: releaseWebRTC at shutdown stops them.
  await until(() => gone(pid), { what: 'the daemon to exit' })
  t.pass('the process is gone')
})

t.test('daemon twice, then close: status says no daemon is running', async t => {
  const d = datadir(t)
  const first = await d.run(['daemon', ...QUIET])
  t.equal(first.code, 0, first.stderr)
  const pid = Number(/pid (\d+)/.exec(first.stdout)[1])
  d.track(pid)
  const second = await d.run(['daemon', ...QUIET])
  t.equal(second.code, 0, second.stderr)
  t.equal(second.stdout, `peernet daemon is already running (pid ${pid})\n`)
  const json = await d.run(['daemon', '--json'])
  t.same(JSON.parse(json.stdout), { pid, started: false, socket: join(d.dir, 'run', 'control.sock') })
  const close = await d.run(['close'])
  t.equal(close.code, 0, close.stderr)
  t.equal(close.stdout, `peernet daemon stopped (pid ${pid})\n`)
  t.ok(gone(pid), 'the process is gone once close returns')
  const r = await d.run(['status'])
  oneLine(t, r, new RegExp(`no daemon is running for ${d.dir}`), 'status after close')
  t.equal(r.stdout, '')
})

t.test('the log file gets lines as events happen', async t => {
  const d = datadir(t)
  const pid = await d.start(...QUIET)
  const logfile = join(d.dir, 'daemon.log')
  const read = () => { try { return readFileSync(logfile, 'utf8') } catch { return '' } }
  await until(() => read().includes(`started pid=${pid}`), { what: 'the start in daemon.log' })
  t.pass('the start is logged')
  t.notMatch(read(), / join /, 'no join yet')
  t.equal((await d.run(['join', 'x'])).code, 0)
  await until(() => / join subnet=x\n/.test(read()), { what: 'the join in daemon.log' })
  t.pass('join is logged')
  t.equal((await d.run(['add', 'tcp://127.0.0.1:9'])).code, 0)
  await until(() => / save count=1\n/.test(read()), { what: 'the add in daemon.log' })
  t.pass('add is logged')
  t.equal((statSync(logfile).mode & 0o777).toString(8), '600', 'the log file is private')
  t.ok(read().endsWith('\n'), 'whole lines')
})

/** Stop a daemon after writing something, so the db has a MANIFEST and a log. */
async function stoppedWithData (t) {
  const d = datadir(t)
  await d.start(...QUIET)
  t.equal((await d.run(['add', 'tcp://127.0.0.1:9'])).code, 0)
  t.equal((await d.run(['close'])).code, 0)
  return d
}

const corruptions = [
  ['CURRENT overwritten with garbage (no newline)', db => writeFileSync(join(db, 'CURRENT'), 'garbage')],
  ['CURRENT overwritten with a garbage line', db => writeFileSync(join(db, 'CURRENT'), 'garbage\n')],
  ['CURRENT overwritten with binary garbage', db => writeFileSync(join(db, 'CURRENT'), Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)))],
  ['the MANIFEST truncated', db => {
    const manifest = readdirSync(db).find(f => f.startsWith('MANIFEST-'))
    truncateSync(join(db, manifest), 5)
  }]
]

for (const [what, corrupt] of corruptions) {
  t.test(`a corrupt db (${what}): daemon exits 1 with one line saying to move it aside`, async t => {
    const d = await stoppedWithData(t)
    const db = join(d.dir, 'db')
    corrupt(db)
    const r = await d.run(['daemon', ...QUIET])
    oneLine(t, r, new RegExp(`mv ${db} ${db}\\.bad`), `daemon on a db with ${what}`)
    t.match(r.stderr, /corrupt/, 'the line says the database is corrupt')
    t.equal(d.pidOf(), null, 'no pid file')
    t.same(processesUsing(d.dir), [], 'nothing keeps running or restarting')
    t.notOk(existsSync(join(d.dir, 'run', 'control.sock')), 'no socket left behind')
    const st = await d.run(['status'])
    oneLine(t, st, /no daemon is running/, 'status afterwards')
    // The advice works: move the db aside and a daemon starts with an empty table.
    const again = await d.run(['daemon', ...QUIET])
    t.equal(again.code, 1, 'it still refuses (no crash loop, no silent reset) until the db is moved')
    renameSync(db, db + '.bad')
    const ok = await d.run(['daemon', ...QUIET])
    t.equal(ok.code, 0, ok.stderr)
    d.track(Number(/pid (\d+)/.exec(ok.stdout)?.[1]))
    t.equal((await statusJson(d)).known, 0, 'after moving it aside: a daemon with an empty table')
  })
}
