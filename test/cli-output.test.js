// Every command's output, as text and as --json, byte for byte: people read the one and
// scripts the other, and both must stay as they are whatever prints them. The real bin/peernet
// against real daemons in temp data dirs.
import t from 'tap'
import { join } from 'node:path'
import { datadir } from './lib/cli.js'
import { formatLogRow } from '../lib/control/log-format.js'

const QUIET = ['--connections', '0', '--interval', '0']
const lines = s => s.split('\n').filter(Boolean)

/** The text `status` prints for row s (its uptime line aside: it moves between two calls). */
function statusText (s) {
  return [
    `id:          ${s.id}`,
    `pid:         ${s.pid}`,
    `version:     ${s.version}`,
    'uptime:      UPTIME',
    `datadir:     ${s.datadir}`,
    `socket:      ${s.socket}`,
    `network:     ${s.network}`,
    `ring:        ${s.ring}`,
    `known:       ${s.known} (${s.saved} saved, ${s.learned} learned, ${s.tombstones} removed recently)`,
    `connections: ${s.connections} (${s.limits.outbound} out, ${s.limits.inbound} in)`,
    `subnets:     ${s.subnets}`,
    `servers:     ${s.servers}`,
    `addresses:   ${s.addresses.join(' ')}`,
    'settings (flags of server/daemon, keys of config.json):',
    ...Object.entries(s.settings).map(([k, v]) => `  --${k} ${Array.isArray(v) ? v.join(' ') || '(none)' : String(v)}`),
    'limits:',
    ...Object.entries(s.limits).map(([k, v]) => `  ${k}: ${v}`)
  ].join('\n') + '\n'
}

const withoutUptime = text => text.replace(/^uptime: {6}(\d+[dhms] ?)+$/m, 'uptime:      UPTIME')

t.test('daemon, status and close, as text and --json', async t => {
  const d = datadir(t)
  const socket = join(d.dir, 'run', 'control.sock')
  const started = await d.run(['daemon', '--json', ...QUIET])
  const { pid } = JSON.parse(started.stdout)
  d.track(pid)
  t.equal(started.stdout, `{"pid":${pid},"started":true,"socket":${JSON.stringify(socket)}}\n`, 'daemon --json, started')
  t.equal((await d.run(['daemon', '--json', ...QUIET])).stdout, `{"pid":${pid},"started":false,"socket":${JSON.stringify(socket)}}\n`, 'daemon --json, already running')
  t.equal((await d.run(['daemon', '--json', '--connections', '3'])).stdout, `{"pid":${pid},"started":false,"socket":${JSON.stringify(socket)},"notApplied":["connections"]}\n`, 'daemon --json, a setting not applied')
  t.equal((await d.run(['daemon'])).stdout, `peernet daemon is already running (pid ${pid})\n`, 'daemon')

  const url = (await d.run(['listen', 'tcp'])).stdout.trim()
  const json = await d.run(['status', '--json'])
  const s = JSON.parse(json.stdout)
  t.equal(lines(json.stdout).length, 1, 'status --json: one line')
  t.same(s.addresses, [url])
  const text = await d.run(['status'])
  t.equal(withoutUptime(text.stdout), statusText(s), 'status: the row as text')
  const cleared = await d.run(['status', '--clear-warnings'])
  t.equal(withoutUptime(cleared.stdout), statusText(s) + 'cleared 0 warnings\n', 'status --clear-warnings: then what it cleared')
  const clearedJson = await d.run(['status', '--clear-warnings', '--json'])
  t.match(clearedJson.stdout, /^\{"id":.*,"cleared":0\}\n$/, 'status --clear-warnings --json: the row, then cleared')

  t.equal((await d.run(['close', '--json'])).stdout, `{"pid":${pid},"stopped":true}\n`, 'close --json')
  await d.start(...QUIET)
  const again = d.pidOf()
  t.equal((await d.run(['stop'])).stdout, `peernet daemon stopped (pid ${again})\n`, 'stop')
})

t.test('the other commands, as text and --json', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start(...QUIET)
  await b.start(...QUIET)
  const listen = await a.run(['listen', 'ws', '--json'])
  const row = JSON.parse(listen.stdout)
  const url = row.address
  t.equal(listen.stdout, `{"address":"${url}","protocol":"ws","host":"127.0.0.1","port":${row.port},"state":"open"}\n`, 'listen --json')
  t.equal((await a.run(['listen', 'ws', '--port', String(row.port)])).stdout, `${url}\n`, 'listen')
  t.equal((await a.run(['servers', '--json'])).stdout, listen.stdout, 'servers --json')
  t.equal((await a.run(['own', '--json'])).stdout, `{"address":"${url}"}\n`, 'own --json')
  t.equal((await a.run(['join', 'chat', '--json'])).stdout, '{"joined":["chat"],"already":[]}\n', 'join --json')
  t.equal((await a.run(['join', 'x', 'chat'])).stdout, 'joined x (already joined: chat)\n', 'join')
  t.equal((await a.run(['part', 'x', 'y', '--json'])).stdout, '{"parted":["x"],"notJoined":["y"]}\n', 'part --json')
  t.equal((await a.run(['part', 'y'])).stdout, 'parted nothing (not joined: y)\n', 'part')
  t.equal((await a.run(['subnets'])).stdout, 'chat\n', 'subnets')

  const aId = (await a.run(['id'])).stdout.trim()
  t.match(aId, /^[0-9a-f]{64}$/, 'id')
  t.equal((await a.run(['id', '--json'])).stdout, `{"id":"${aId}"}\n`, 'id --json')
  t.equal((await b.run(['connect', url, '--json'])).stdout, `{"address":"${url}","id":"${aId}","path":"dial"}\n`, 'connect --json: with the id that answered, and how it was reached')
  t.equal((await b.run(['connect', url])).stdout, `connected to ${url}\n`, 'connect')
  const conn = await b.run(['connections', '--json'])
  t.equal(conn.stdout, JSON.stringify(JSON.parse(conn.stdout)) + '\n', 'connections --json: the row, one line')
  t.equal((await b.run(['connections'])).stdout, `${url}\t${aId}\n`, 'connections: the address, and the id beside it')
  t.equal((await b.run(['search', 'chat', '--max', '1', '--flood', '--json'])).stdout, `{"hash":"chat","address":"${url}","hops":1,"id":null,"addresses":["${url}"],"via":"flood"}\n`, 'search --flood --json')
  t.equal((await b.run(['search', 'chat', '--max', '1'])).stdout, `${url}\n`, 'search')
  t.equal((await b.run(['add', 'tcp://127.0.0.1:9', url, '--json'])).stdout, '{"added":1,"already":1}\n', 'add --json')
  t.equal((await b.run(['add', 'tcp://127.0.0.1:10', url])).stdout, 'added 1 address, 1 already known\n', 'add')
  t.equal((await b.run(['rm', 'tcp://127.0.0.1:9', 'tcp://127.0.0.1:11', '--json'])).stdout, '{"removed":1,"unknown":1}\n', 'rm --json')
  t.equal((await b.run(['rm', 'tcp://127.0.0.1:10'])).stdout, 'removed 1 address\n', 'rm')
  // The connect proved the key there: the row carries it (a plain known prints no id).
  t.equal((await b.run(['known', '--json'])).stdout, `{"address":"${url}","saved":true,"subnets":["chat"],"id":"${aId}"}\n`, 'known --json: the id a handshake proved')
  t.equal((await b.run(['known'])).stdout, `${url}\tchat\n`, 'known')

  const statsJson = await b.run(['stats', url, '--json'])
  const st = JSON.parse(statsJson.stdout)
  t.equal(statsJson.stdout, `{"address":"${url}","saved":true,"connections":{"ok":1,"fail":0},"nodes":{"rx":${st.nodes.rx},"tx":${st.nodes.tx}},` +
    `"first":${st.first},"last":${st.last},"lastOk":${st.lastOk},"sources":[],"subnets":["chat"],"id":"${aId}","pin":"seen"}\n`, 'stats --json')
  const iso = ms => new Date(ms).toISOString()
  t.equal((await b.run(['stats', url])).stdout, [
    `address:     ${url}`,
    'saved:       yes (added by the user)',
    `id:          ${aId} (seen here by a handshake: a dial must reach it)`,
    'connections: 1 ok, 0 failed',
    `nodes:       ${st.nodes.rx} received, ${st.nodes.tx} sent`,
    `first seen:  ${iso(st.first)}`,
    `last seen:   ${iso(st.last)}`,
    `last ok:     ${iso(st.lastOk)}`,
    'told by:     -',
    'subnets:     chat'
  ].join('\n') + '\n', 'stats')

  t.equal((await b.run(['disconnect', url, '--json'])).stdout, `{"address":"${url}"}\n`, 'disconnect --json')
  t.equal((await b.run(['connect', url])).code, 0)
  t.equal((await b.run(['disconnect', url])).stdout, `disconnected from ${url}\n`, 'disconnect')

  const logJson = await b.run(['log', '--no-follow', '-n', '5', '--json'])
  const events = lines(logJson.stdout).map(l => JSON.parse(l))
  t.equal(events.length, 5)
  t.equal(logJson.stdout, events.map(e => JSON.stringify(e) + '\n').join(''), 'log --json: the rows')
  // Read again, the log may have grown (the ring's dials after a disconnect log as they come, and
  // a loaded machine spaces the two reads): the same rows, in order, among the newest.
  const text = (await b.run(['log', '--no-follow', '-n', '100'])).stdout
  t.ok(text.includes(events.map(e => formatLogRow(e) + '\n').join('')), 'log: the same rows as text')

  t.equal((await a.run(['unlisten', url, '--json'])).stdout, `{"address":"${url}"}\n`, 'unlisten --json')
  t.equal((await a.run(['listen', 'ws', '--port', String(row.port)])).code, 0)
  t.equal((await a.run(['unlisten', url])).stdout, `closed ${url}\n`, 'unlisten')
})

t.test('add - with no address on stdin adds nothing, and says so in numbers', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const text = await d.run(['add', '-'], { input: '' })
  t.same([text.code, text.stdout], [0, 'added 0 addresses\n'], text.stderr)
  const json = await d.run(['add', '-', '--json'], { input: '# a comment, no address\n' })
  t.same([json.code, json.stdout], [0, '{"added":0,"already":0}\n'], json.stderr)
})
