// What a new user hit around the daemon, through the real bin/peernet against real daemons: a
// search with nobody to ask, a service that did not reopen, flags a running daemon ignored,
// auto-start, stats, the log's replay and its end, bad bootstrap addresses, raw errno codes.
import t from 'tap'
import net from 'node:net'
import { datadir, spawnPeernet, QUIET, oneLine } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { noAutostart } from '../lib/cli/parse.js'

const lines = s => s.split('\n').filter(Boolean)

/** Hold host:port with a server of this process (closed at teardown). */
function hold (t, port) {
  return new Promise((resolve, reject) => {
    const s = net.createServer(c => c.destroy())
    s.once('error', reject)
    s.listen(port, '127.0.0.1', () => resolve(s))
    t.teardown(() => new Promise(r => s.close(r)))
  })
}

t.test('search with no connections fails at once, whatever its timeout', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  // The longest timeout there is (MAX_SEARCH_TIMEOUT, a minute): only failing at once can finish within the run's own 20 s.
  for (const extra of [[], ['--json']]) {
    const r = await d.run(['search', 'anyone', '--timeout', '60000', ...extra], { timeout: 20000 })
    oneLine(t, r, 1, /^peernet: no answers: this node has no connections to search through; connect to a peer first/, `search ${extra.join(' ')}`)
    t.equal(r.stdout, '')
  }
})

t.test('a service that cannot reopen: daemon warns, servers lists it failed, unlisten forgets it', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const url = (await d.run(['listen', 'tcp'])).stdout.trim()
  const port = Number(url.split(':')[2])
  t.equal((await d.run(['close'])).code, 0)
  const held = await hold(t, port)

  const r = await d.run(['daemon', ...QUIET])
  t.equal(r.code, 0, 'the daemon starts')
  d.track(d.pidOf())
  t.match(r.stdout, /^peernet daemon started/)
  t.equal(lines(r.stderr).length, 1, 'one warning line')
  t.equal(r.stderr, `peernet: warning: the service ${url} did not reopen: the address is already in use (another program listens on that port); \`peernet unlisten ${url}\` forgets it\n`)
  t.equal((await d.run(['servers'])).stdout, `${url}\tfailed: the address is already in use (another program listens on that port)\n`, 'servers lists it, failed, with the reason')
  t.same(JSON.parse((await d.run(['servers', '--json'])).stdout), { address: url, protocol: 'tcp', host: '127.0.0.1', port, state: 'failed', error: 'the address is already in use (another program listens on that port)' })
  const st = JSON.parse((await d.run(['status', '--json'])).stdout)
  t.match(st, { servers: 0, failedServers: 1 })
  t.match((await d.run(['status'])).stdout, /\nservers: +0 \(and 1 that did not reopen: see peernet servers\)\n/)
  t.equal((await d.run(['own'])).stdout, '', 'a failed service is not advertised')

  const un = await d.run(['unlisten', url])
  t.equal(un.code, 0, un.stderr)
  t.equal(un.stdout, `closed ${url}\n`)
  t.equal((await d.run(['servers'])).stdout, '', 'gone from servers')
  await new Promise(resolve => held.close(resolve))
  t.equal((await d.run(['close'])).code, 0)
  const again = await d.run(['daemon', ...QUIET])
  d.track(d.pidOf())
  t.equal(again.stderr, '', 'no warning at the next start')
  t.equal((await d.run(['servers'])).stdout, '', 'and it does not come back')
})

t.test('listen again on the port of a failed service reopens it', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const url = (await d.run(['listen', 'tcp'])).stdout.trim()
  const port = Number(url.split(':')[2])
  t.equal((await d.run(['close'])).code, 0)
  const held = await hold(t, port)
  await d.start(...QUIET)
  const busy = await d.run(['listen', 'tcp', '--port', String(port)])
  oneLine(t, busy, 1, new RegExp(`cannot listen on tcp 127\\.0\\.0\\.1:${port}: the address is already in use`), 'listen on a port in use')
  await new Promise(resolve => held.close(resolve))
  const r = await d.run(['listen', 'tcp', '--port', String(port)])
  t.equal(r.stdout, url + '\n', r.stderr)
  t.equal((await d.run(['servers'])).stdout, url + '\n', 'open again, no longer failed')
})

t.test('daemon with settings against a running daemon says they were not applied', async t => {
  const d = datadir(t)
  const pid = await d.start(...QUIET)
  const r = await d.run(['daemon', '--connections', '3', '--interval', '0'])
  t.equal(r.code, 0)
  t.equal(r.stdout, `peernet daemon is already running (pid ${pid})\n`)
  t.equal(lines(r.stderr).length, 1, 'one line on stderr')
  t.match(r.stderr, /^peernet: --connections not applied: settings take effect when a daemon starts; run `peernet close`, then `peernet daemon` with them, or keep them in .*config\.json\n$/)
  const json = JSON.parse((await d.run(['daemon', '--json', '--connections', '3'])).stdout)
  t.same(json.notApplied, ['connections'])
  const same = await d.run(['daemon', '--connections', '0'])
  t.equal(same.stderr, '', 'the settings it already has: nothing to say')
  t.equal(JSON.parse((await d.run(['status', '--json'])).stdout).settings.connections, 0, 'the running daemon is unchanged')
})

t.test('PEERNET_NO_AUTOSTART: yes/on/1/true off, no/off/0/false/empty on, anything else a usage error', async t => {
  for (const v of ['yes', 'on', '1', 'true', 'YES', ' On ']) t.equal(noAutostart({ PEERNET_NO_AUTOSTART: v }), true, `${JSON.stringify(v)}: off`)
  for (const v of ['no', 'off', '0', 'false', 'No', '']) t.equal(noAutostart({ PEERNET_NO_AUTOSTART: v }), false, `${JSON.stringify(v)}: on`)
  t.equal(noAutostart({}), false, 'unset: on')
  t.throws(() => noAutostart({ PEERNET_NO_AUTOSTART: 'maybe' }), /must be one of yes, no, on, off, 1, 0, true, false/)

  const d = datadir(t)
  const bad = await d.run(['known'], { env: { PEERNET_NO_AUTOSTART: 'maybe' } })
  oneLine(t, bad, 2, /PEERNET_NO_AUTOSTART must be one of yes, no, on, off, 1, 0, true, false/, 'PEERNET_NO_AUTOSTART=maybe')
  const off = await d.run(['known'], { env: { PEERNET_NO_AUTOSTART: 'yes' } })
  oneLine(t, off, 1, /auto-start is off/, 'PEERNET_NO_AUTOSTART=yes')
  t.notOk(d.pidOf(), 'nothing was started')
})

t.test('auto-start says on stderr that it started a daemon, once, in one line', async t => {
  const d = datadir(t)
  const r = await d.run(['subnets'], { env: { PEERNET_NO_AUTOSTART: 'no' } })
  t.equal(r.code, 0, r.stderr)
  t.ok(d.pidOf(), 'a daemon was started')
  t.equal(r.stderr, `peernet: started a daemon (pid ${d.pidOf()}) for ${d.dir}\n`, 'one line says so')
  const second = await d.run(['subnets'])
  t.equal(second.stderr, '', 'and only when it starts one')
})

t.test('stats: an unknown address fails, a peer id works like its address', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start(...QUIET)
  await b.start(...QUIET)
  const url = (await a.run(['listen', 'ws'])).stdout.trim()
  t.equal((await b.run(['connect', url])).code, 0)
  oneLine(t, await b.run(['stats', 'tcp://127.0.0.1:9']), 1, /nothing is known about tcp:\/\/127\.0\.0\.1:9: it is not in the table/, 'stats of an unknown address')
  const { id } = JSON.parse((await b.run(['connections', '--json'])).stdout)
  const byId = await b.run(['stats', id, '--json'])
  t.equal(byId.code, 0, byId.stderr)
  t.same(JSON.parse(byId.stdout), JSON.parse((await b.run(['stats', url, '--json'])).stdout), 'by id: the stats of its address')
  oneLine(t, await b.run(['stats', 'f'.repeat(64)]), 1, /no connected peer has the id f{64}/, 'stats of an unknown id')
})

t.test('log: the default replay shows connects among gossip; a follower ends with "the daemon stopped", exit 0', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start('--connections', '0', '--interval', '20')
  await b.start('--connections', '0', '--interval', '20')
  const url = (await a.run(['listen', 'ws'])).stdout.trim()
  t.equal((await b.run(['connect', url])).code, 0)
  // Gossip rounds every 20 ms: soon the last events are all gossip.
  await until(async () => {
    const last = lines((await b.run(['log', '--no-follow', '-n', '12'])).stdout)
    return last.length === 12 && last.every(l => / gossip /.test(l))
  }, { what: 'twelve gossip events in a row' })
  const replay = await b.run(['log', '--no-follow'])
  t.match(replay.stdout, / connect id=[0-9a-f]+ address=ws:\/\/127\.0\.0\.1:\d+ direction=out\n/, 'the connect is in the default replay')
  t.notMatch(replay.stdout, / gossip /, 'the gossip is not')
  t.ok(lines(replay.stdout).length <= 10, 'ten events at most')

  const follower = spawnPeernet(['log', '-n', '0'], { env: b.env() })
  t.teardown(() => follower.kill('SIGKILL'))
  let out = ''
  let err = ''
  follower.stdout.on('data', x => { out += x })
  follower.stderr.on('data', x => { err += x })
  const exited = new Promise(resolve => follower.on('close', resolve))
  await until(async () => JSON.parse((await b.run(['status', '--json'])).stdout).limits.logFollowers === 1, { what: 'the follower' })
  t.equal((await b.run(['close'])).code, 0)
  t.equal(await exited, 0, 'the follower exits 0')
  t.equal(err, 'peernet: the daemon stopped\n', 'saying the daemon stopped')
  t.match(out, / stopping pid=\d+\n$/, 'after the stopping event')
})

t.test('a bad --bootstrap or --advertise address is a usage error (exit 2), as in arguments', async t => {
  const d = datadir(t)
  for (const args of [['daemon', '--bootstrap', 'notaurl'], ['server', '--bootstrap', 'ws://'], ['daemon', '--advertise', 'file:///etc/passwd'], ['daemon', '--bootstrap', 'tcp://127.0.0.1:9', '--bootstrap', 'nope']]) {
    const r = await d.run(args)
    t.equal(r.code, 2, `${args.join(' ')}: exit 2 (${r.stderr.trim()})`)
    t.equal(lines(r.stderr).length, 1, 'one line')
    t.match(r.stderr, /^peernet: --(bootstrap|advertise): /)
  }
  t.notOk(d.pidOf(), 'no daemon was started')
})

t.test('connect to a port where nothing listens: a sentence, not ECONNREFUSED', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const s = await hold(t, 0)
  const port = s.address().port
  await new Promise(resolve => s.close(resolve))
  const r = await d.run(['connect', `tcp://127.0.0.1:${port}`])
  oneLine(t, r, 1, /connection refused \(nothing listens there\)/, 'connect to a closed port')
})
