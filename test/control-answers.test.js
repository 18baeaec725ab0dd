// Every method's answer on the control socket, as the text it is sent in: its rows (keys in
// order) and its error rows (code and message). Scripts read these, and the daemon's method
// table must answer as the daemon always did. Real daemons through the real bin/peernet; the
// socket spoken to with a raw client (the JSON text of a row parsed and written again is the
// text the daemon sent: parsing keeps the order of keys).
import t from 'tap'
import { join } from 'node:path'
import { datadir } from './lib/cli.js'
import { controlClient } from './lib/control.js'
import { MAX_ITEMS_PER_REQUEST, LOG_BUFFER } from '../lib/control/protocol.js'
import { MAX_HOP_LIMIT } from '../lib/wire/messages.js'

const QUIET = ['--connections', '0', '--interval', '0']

async function daemon (t) {
  const d = datadir(t)
  await d.start(...QUIET)
  d.socket = join(d.dir, 'run', 'control.sock')
  return d
}

/** The answer as the lines the daemon sent for it: each row, then the end or the error. */
async function sent (c, method, params = {}) {
  const a = await c.request(method, params)
  return [...a.rows.map(row => JSON.stringify({ row })), JSON.stringify(a.error ? { error: a.error } : { end: true })]
}

const ok = (...rows) => [...rows.map(row => `{"row":${row}}`), '{"end":true}']
const error = (code, message) => [JSON.stringify({ error: { code, message } })]

t.test('rows of every method, key for key', async t => {
  const a = await daemon(t)
  const b = await daemon(t)
  const ca = await controlClient(a.socket, t)
  const cb = await controlClient(b.socket, t)

  const [listen] = (await ca.request('listen', { protocol: 'ws' })).rows
  const url = listen.address
  const port = Number(url.split(':')[2])
  t.same(await sent(ca, 'servers'), ok(`{"address":"${url}","protocol":"ws","host":"127.0.0.1","port":${port},"state":"open"}`), 'servers')
  t.same(await sent(ca, 'listen', { protocol: 'ws', port }), ok(`{"address":"${url}","protocol":"ws","host":"127.0.0.1","port":${port},"state":"open"}`), 'listen on an open service: that one')
  t.same(await sent(ca, 'own'), ok(`{"address":"${url}"}`), 'own')
  t.same(await sent(ca, 'join', { subnets: ['chat', 'more'] }), ok('{"subnets":["chat","more"],"joined":["chat","more"],"already":[]}'), 'join')
  t.same(await sent(ca, 'join', { subnets: ['chat', 'new'] }), ok('{"subnets":["chat","new"],"joined":["new"],"already":["chat"]}'), 'join again')
  t.same(await sent(ca, 'part', { subnets: ['more', 'never'] }), ok('{"subnets":["more","never"],"parted":["more"],"notJoined":["never"]}'), 'part')
  t.same(await sent(ca, 'subnets'), ok('{"subnet":"chat"}', '{"subnet":"new"}'), 'subnets')

  t.same(await sent(cb, 'connections'), ok(), 'connections, none')
  const [{ id: aId }] = (await ca.request('id')).rows
  t.match(aId, /^[0-9a-f]{64}$/, 'id')
  t.same(await sent(ca, 'id'), ok(`{"id":"${aId}"}`), 'id: one row')
  t.same(await sent(cb, 'connect', { address: url }), ok(`{"address":"${url}","id":"${aId}","path":"dial"}`), 'connect: the address, the id that answered there, and how it was reached')
  const [peer] = (await cb.request('connections')).rows
  t.same(Object.keys(peer).slice(0, 4), ['id', 'address', 'claimed', 'direction'], 'connections: the row starts with its id, address, claimed address and direction')
  t.equal(peer.transport, 'ws', 'connections: what carries the link (the dialed address\'s scheme)')
  const [inbound] = (await ca.request('connections')).rows
  t.equal(inbound.transport, 'ws', 'the same on the side that accepted it (its service\'s protocol)')
  t.same(await sent(cb, 'search', { subnet: 'chat', max: 1, flood: true }), ok(`{"hash":"chat","address":"${url}","hops":1,"id":null,"addresses":["${url}"],"via":"flood"}`), 'search, by flood')
  t.same(await sent(cb, 'add', { addresses: ['tcp://127.0.0.1:9', 'tcp://127.0.0.1:9', url] }), ok('{"count":3,"added":1,"already":1}'), 'add')
  t.same(await sent(cb, 'rm', { addresses: ['tcp://127.0.0.1:9', 'tcp://127.0.0.1:10'] }), ok('{"count":2,"removed":1,"unknown":1}'), 'rm')
  t.same(await sent(cb, 'known'), ok(`{"address":"${url}","saved":true,"subnets":["chat"],"id":"${aId}"}`), 'known: with the id the connect proved')
  const [stats] = (await cb.request('stats', { address: url })).rows
  const statsRow = `{"address":"${url}","saved":true,"connections":{"ok":1,"fail":0},"nodes":{"rx":${stats.nodes.rx},"tx":${stats.nodes.tx}},` +
    `"first":${stats.first},"last":${stats.last},"lastOk":${stats.lastOk},"sources":[],"subnets":["chat"],"id":"${aId}","pin":"seen"}`
  t.same(await sent(cb, 'stats', { address: url }), ok(statsRow), 'stats by address')
  t.same(await sent(cb, 'stats', { address: peer.id }), ok(statsRow), 'stats by peer id')
  t.same(await sent(cb, 'disconnect', { address: url }), ok(`{"address":"${url}"}`), 'disconnect')

  t.same(await sent(ca, 'clear-warnings'), ok('{"cleared":0}'), 'clear-warnings')
  const [status] = (await ca.request('status')).rows
  t.same(Object.keys(status), ['id', 'pid', 'version', 'uptime', 'datadir', 'socket', 'network', 'ring', 'known', 'saved', 'learned', 'tombstones', 'connections',
    'subnets', 'servers', 'failedServers', 'warnings', 'searches', 'addresses', 'settings', 'limits'], 'status: its keys, in order')
  t.same(JSON.stringify(status.settings), `{"network":"peernet","connections":0,"interval":0,"purge":${status.settings.purge},"table-size":${status.settings['table-size']},"hops":${status.settings.hops},"bootstrap":[],"advertise":[]}`, 'status: the settings')
  t.same(Object.keys(status.limits).slice(0, 4), ['tableSize', 'sourceCap', 'maxSaved', 'outbound'], 'status: the limits, table bounds first')
  t.same(await sent(ca, 'log', { lines: 0, follow: false }), ok(), 'log, nothing replayed')
  const [last] = (await ca.request('log', { lines: 1, follow: false })).rows
  t.same(await sent(ca, 'log', { lines: 1, follow: false }), ok(JSON.stringify(last)), 'log, one replayed')
  t.same(await sent(ca, 'unlisten', { address: url }), ok(`{"address":"${url}"}`), 'unlisten')
  t.same(await sent(ca, 'close'), ok(`{"pid":${a.pidOf()}}`), 'close')
})

t.test('error rows of every method, code and message', async t => {
  const d = await daemon(t)
  const c = await controlClient(d.socket, t)
  const many = Array.from({ length: MAX_ITEMS_PER_REQUEST + 1 }, (_, i) => `s${i}`)
  const cases = [
    ['nosuch', {}, error('EMETHOD', 'unknown method "nosuch"')],
    ['log', { lines: 'ten' }, error('EINVAL', `params.lines must be a whole number in 0..${LOG_BUFFER}`)],
    ['connect', {}, error('EINVAL', 'params.address must be a string')],
    // Messages written below the daemon (addresses, subnet names, the node) keep their own words.
    ['connect', { address: 'notaurl' }, ['EINVAL', /^invalid address "notaurl": /]],
    ['disconnect', { address: 'tcp://127.0.0.1:9' }, ['ENOTCONN', /tcp:\/\/127\.0\.0\.1:9/]],
    ['add', { addresses: [] }, error('EINVAL', 'params.addresses must be a non-empty list of strings')],
    ['rm', { addresses: ['ws://'] }, ['EINVAL', /^invalid address "ws:\/\/": /]],
    ['join', { subnets: many }, error('EINVAL', `params.subnets holds more than ${MAX_ITEMS_PER_REQUEST} items (MAX_ITEMS_PER_REQUEST)`)],
    ['part', { subnets: [' x'] }, ['EINVAL', /subnet/]],
    ['search', { subnet: 'x', hops: 0 }, error('EINVAL', `params.hops must be a whole number in 1..${MAX_HOP_LIMIT}`)],
    ['search', { subnet: 'x', flood: 'yes' }, error('EINVAL', 'params.flood must be true or false')],
    ['search', { subnet: 'x' }, error('ENOCONN', 'no answers: this node has no connections to search through; connect to a peer first (peernet connect ADDR)')],
    ['listen', { protocol: 'ftp' }, error('EINVAL', 'cannot listen on "ftp": use ws, wss, tcp or stun')],
    ['listen', { protocol: 'tcp', port: 65536 }, error('EINVAL', 'params.port must be a whole number in 0..65535')],
    ['unlisten', { address: 'tcp://127.0.0.1:9' }, error('ENOENT', 'no service at tcp://127.0.0.1:9 (see peernet servers)')],
    ['stats', { address: 'tcp://127.0.0.1:9' }, error('ENOENT', 'nothing is known about tcp://127.0.0.1:9: it is not in the table (see peernet known)')],
    ['stats', { address: 'f'.repeat(32) }, error('ENOENT', `no connected peer has the id ${'f'.repeat(32)} (see peernet connections --json)`)]
  ]
  for (const [method, params, expected] of cases) {
    const got = await sent(c, method, params)
    const what = `${method} ${JSON.stringify(params).slice(0, 60)}`
    if (expected[1] instanceof RegExp) {
      t.equal(got.length, 1, `${what}: one error row`)
      t.match(JSON.parse(got[0]), { error: { code: expected[0], message: expected[1] } }, `${what}: ${got[0]}`)
    } else {
      t.same(got, expected, what)
    }
  }
})
