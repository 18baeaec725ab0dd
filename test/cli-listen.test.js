// Services and dials through the real bin/peernet: IPv6 hosts as URLs write them, a dial to a
// service of another protocol, a service on every interface, and paths on ws URLs.
import t from 'tap'
import { createServer } from 'node:net'
import { datadir } from './lib/cli.js'

const lines = s => s.split('\n').filter(Boolean)

/** A quiet daemon: it never dials on its own and never gossips. */
async function quiet (t) {
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  return d
}

t.test('listen --host [::1] works: the flag takes the host as printed URLs write it', async t => {
  const a = await quiet(t)
  const b = await quiet(t)
  const r = await a.run(['listen', 'ws', '--host', '[::1]', '--json'])
  t.equal(r.code, 0, r.stderr)
  const row = JSON.parse(r.stdout)
  t.match(row, { protocol: 'ws', host: '::1', address: /^ws:\/\/\[::1\]:\d+$/ })
  const c = await b.run(['connect', row.address])
  t.same([c.code, c.stdout], [0, `connected to ${row.address}\n`], c.stderr)
  const bare = await a.run(['listen', 'tcp', '--host', '::1'])
  t.match(bare.stdout, /^tcp:\/\/\[::1\]:\d+\n$/, 'without brackets too')
})

t.test('a dial to a service of the other protocol says so', async t => {
  const a = await quiet(t)
  const b = await quiet(t)
  const ws = (await a.run(['listen', 'ws'])).stdout.trim()
  const tcp = (await a.run(['listen', 'tcp'])).stdout.trim()
  const toWs = await b.run(['connect', ws.replace('ws://', 'tcp://')])
  t.equal(toWs.code, 1)
  t.equal(lines(toWs.stderr).length, 1)
  t.match(toWs.stderr, /answered in HTTP: it is a websocket or web server, not peernet over tcp \(dial it as ws:\/\/\)/)
  t.notMatch(toWs.stderr, /frame of \d+ bytes/, 'not "HTTP" read as a frame length')
  const toTcp = await b.run(['connect', tcp.replace('tcp://', 'ws://')])
  t.equal(toTcp.code, 1)
  t.match(toTcp.stderr, /did not answer in HTTP, so it is no websocket service \(a tcp:\/\/ service\? dial it as tcp:\/\/\)/)
  const toTls = await b.run(['connect', ws.replace('ws://', 'wss://')])
  t.equal(toTls.code, 1)
  t.equal(lines(toTls.stderr).length, 1)
  t.match(toTls.stderr, /the TLS handshake failed: the peer does not speak TLS \(a ws:\/\/ or tcp:\/\/ service\? dial it so\)/, 'wss:// to a plain service says what it is')
  t.notMatch(toTls.stderr, /wrong version number/, "not OpenSSL's words for it")
})

t.test('a service on every interface is not advertised as 0.0.0.0, and can be closed by its name', async t => {
  const a = await quiet(t)
  const r = await a.run(['listen', 'ws', '--host', '0.0.0.0'])
  t.equal(r.code, 0, r.stderr)
  const url = r.stdout.trim()
  t.match(url, /^ws:\/\/0\.0\.0\.0:\d+$/, 'listen names the service by what it is bound to')
  t.match(r.stderr, /listens on every interface but is not advertised to peers; .*--advertise ws:\/\/HOST:\d+/, 'and says what to do')
  t.equal((await a.run(['servers'])).stdout, url + '\n')
  t.equal((await a.run(['own'])).stdout, '', 'nothing is advertised: 0.0.0.0 is no address a peer can dial')
  const closed = await a.run(['unlisten', url])
  t.same([closed.code, closed.stdout], [0, `closed ${url}\n`], closed.stderr)
  t.equal((await a.run(['servers'])).stdout, '')
})

/** A port that was free a moment ago (the kernel picked it; nothing else here asks for it). */
async function freePort () {
  const s = createServer()
  await new Promise(resolve => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address()
  await new Promise(resolve => s.close(resolve))
  return port
}

t.test('a service on every interface whose port the daemon advertises gets no warning', async t => {
  // The README's "from another machine": `daemon --advertise ws://IP:P`, then `listen ws --host 0.0.0.0 --port P`.
  const port = await freePort()
  const a = datadir(t)
  await a.start('--connections', '0', '--interval', '0', '--advertise', `ws://127.0.0.2:${port}`)
  const r = await a.run(['listen', 'ws', '--host', '0.0.0.0', '--port', String(port), '--json'])
  t.same([r.code, r.stderr], [0, ''], 'the service is advertised: nothing to warn about')
  // Its row, by field: the bind host and port (a service's name, which nothing here dials).
  t.match(JSON.parse(r.stdout), { protocol: 'ws', host: '0.0.0.0', port, state: 'open' })
  t.equal((await a.run(['own'])).stdout, `ws://127.0.0.2:${port}\n`)
  const other = await a.run(['listen', 'tcp', '--host', '0.0.0.0'])
  t.match(other.stderr, /listens on every interface but is not advertised to peers; .*--advertise tcp:\/\/HOST:\d+/, 'a service no advertised address names is still warned about')
})

t.test('a path on a ws URL is part of the address: our services answer at / only', async t => {
  const a = await quiet(t)
  const b = await quiet(t)
  const url = (await a.run(['listen', 'ws'])).stdout.trim()
  const other = await b.run(['connect', `${url}/other`])
  t.equal(other.code, 1)
  t.match(other.stderr, /HTTP 404 instead of a websocket: no service at path \/other \(a peernet service answers at \/\)/)
  const slash = await b.run(['connect', `${url}/`])
  t.same([slash.code, slash.stdout], [0, `connected to ${url}\n`], 'a lone / is the same address, normalised away')
})
