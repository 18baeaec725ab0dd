// `peernet listen stun` through the real bin/peernet and a real daemon: the daemon answers RFC 5389
// binding requests over UDP with the caller's address, lists the server as stun:HOST:PORT (with
// its counters in --json), survives malformed datagrams, reopens it after a restart, and closes
// it on unlisten. A STUN server is no peer address: it is never advertised.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { datadir, QUIET, oneLine } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { stunBinding } from '../lib/stun/client.js'
import { StunServer } from '../lib/stun/server.js'

const servers = async d => (await d.run(['servers', '--json'])).stdout.split('\n').filter(Boolean).map(l => JSON.parse(l))

t.test('listen stun: a real binding request is answered; servers lists it; malformed datagrams are counted and survived', async t => {
  const a = datadir(t)
  await a.start(...QUIET)
  const r = await a.run(['listen', 'stun'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '', 'no warning: a STUN server is not advertised to peers')
  const url = r.stdout.trim()
  t.match(url, /^stun:127\.0\.0\.1:\d+$/)
  const port = Number(url.split(':')[2])
  const mapped = await stunBinding('127.0.0.1', port)
  t.equal(mapped.address, '127.0.0.1', 'the caller\'s address')
  t.ok(mapped.port > 0)
  t.equal((await a.run(['servers'])).stdout, `${url}\n`)
  t.equal((await a.run(['own'])).stdout, '', 'not told to peers')

  const junk = createSocket('udp4')
  t.teardown(() => junk.close())
  await new Promise(resolve => junk.bind(0, '127.0.0.1', resolve))
  for (const b of [Buffer.from('hello'), Buffer.alloc(600), Buffer.alloc(20)]) junk.send(b, port, '127.0.0.1')
  await until(async () => (await servers(a))[0]?.stun?.received === 4, { what: 'the datagrams counted' })
  const [row] = await servers(a)
  t.match(row, { address: url, protocol: 'stun', host: '127.0.0.1', port, state: 'open', stun: { answered: 1, dropped: { short: 1, 'too-long': 1, 'bad-cookie': 1 } } })
  t.equal((await stunBinding('127.0.0.1', port)).address, '127.0.0.1', 'still answering')
  t.equal((await a.run(['status'])).code, 0, 'the daemon is alive')

  const again = await a.run(['listen', 'stun', '--port', String(port)])
  t.same([again.code, again.stdout], [0, `${url}\n`], 'the same service again is the one open')
})

t.test('listen stun is kept across a restart; unlisten closes it', async t => {
  const a = datadir(t)
  await a.start(...QUIET)
  const url = (await a.run(['listen', 'stun', '--host', '::1'])).stdout.trim()
  t.match(url, /^stun:\[::1\]:\d+$/, 'an IPv6 host in brackets (RFC 7064)')
  const port = Number(url.split(':').at(-1))
  t.equal((await stunBinding('::1', port)).address, '::1')
  t.equal((await a.run(['close'])).code, 0)
  await a.start(...QUIET)
  t.equal((await a.run(['servers'])).stdout, `${url}\n`, 'reopened after the restart')
  t.equal((await stunBinding('::1', port)).address, '::1', 'and answering')
  const closed = await a.run(['unlisten', url])
  t.same([closed.code, closed.stdout], [0, `closed ${url}\n`], closed.stderr)
  t.equal((await a.run(['servers'])).stdout, '')
  // The port is free again: our own server can take it.
  const s = new StunServer()
  t.teardown(() => s.close())
  t.equal((await s.listen('::1', port)).port, port, 'the socket was closed')
  t.equal((await a.run(['close'])).code, 0)
  await a.start(...QUIET)
  t.equal((await a.run(['servers'])).stdout, '', 'and stays closed after a restart')
})

t.test('stun usage errors and failures', async t => {
  const a = datadir(t)
  await a.start(...QUIET)
  oneLine(t, await a.run(['listen', 'stun', '--cert', '/x', '--key', '/y']), 2, /--cert and --key are for wss, not stun/, 'a certificate for stun')
  oneLine(t, await a.run(['listen', 'ftp']), 2, /use ws, wss, tcp or stun/, 'an unknown protocol')
  oneLine(t, await a.run(['unlisten', 'stun:[zz]:1']), 2, /not a STUN server's name/, 'a bad stun: name')
  oneLine(t, await a.run(['unlisten', 'stun:127.0.0.1:0']), 2, /out of range/, 'port 0')
  oneLine(t, await a.run(['unlisten', 'stun:127.0.0.1:9']), 1, /no service at stun:127\.0\.0\.1:9/, 'no such service')
  // A port taken (by a STUN server of our own): one line saying so, the daemon lives on.
  const s = new StunServer()
  t.teardown(() => s.close())
  const { port } = await s.listen('127.0.0.1', 0)
  oneLine(t, await a.run(['listen', 'stun', '--port', String(port)]), 1, /cannot listen on stun 127\.0\.0\.1:\d+: .*in use/, 'a port in use')
  t.equal((await a.run(['status'])).code, 0, 'the daemon is alive')
})
