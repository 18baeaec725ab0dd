// wss services through the real bin/peernet and real daemons: `listen wss --cert --key` serves
// TLS with the user's PEM files, kept by path and read again at every start; a dialer checks
// the certificate as any TLS client does (the tests' CA reaches it by NODE_EXTRA_CA_CERTS);
// every bad file is one line and exit 1, every bad command line exit 2.
import t from 'tap'
import net from 'node:net'
import { copyFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { datadir } from './lib/cli.js'
import { controlClient } from './lib/control.js'
import { makeCertificates } from './lib/tls.js'
import { once } from './lib/helpers.js'
import { listen, TLS_HANDSHAKE_TIMEOUT } from '../lib/transport/index.js'

const lines = s => s.split('\n').filter(Boolean)

/** A quiet daemon (never dials on its own, never gossips), trusting the given CA when one is given. */
async function quiet (t, ca) {
  const d = datadir(t)
  const env = ca === undefined ? {} : { NODE_EXTRA_CA_CERTS: ca }
  const r = await d.run(['daemon', '--json', '--connections', '0', '--interval', '0'], { env })
  if (r.code !== 0) throw new Error(`daemon did not start: ${r.stderr}`)
  d.track(JSON.parse(r.stdout).pid)
  return d
}

t.test('listen wss serves TLS; a daemon that trusts the CA connects; the service outlives a restart', async t => {
  const pem = makeCertificates(t)
  const a = await quiet(t)
  const b = await quiet(t, pem.ca)
  const r = await a.run(['listen', 'wss', '--cert', pem.cert, '--key', pem.key, '--json'])
  t.equal(r.code, 0, r.stderr)
  const row = JSON.parse(r.stdout)
  t.match(row, { protocol: 'wss', host: '127.0.0.1', address: /^wss:\/\/127\.0\.0\.1:\d+$/, state: 'open', cert: pem.cert, key: pem.key })
  t.equal((await a.run(['own'])).stdout, `${row.address}\n`, 'the wss address is told to peers')
  const c = await b.run(['connect', row.address])
  t.same([c.code, c.stdout], [0, `connected to ${row.address}\n`], c.stderr)
  t.match(JSON.parse((await b.run(['connections', '--json'])).stdout), { address: row.address, direction: 'out' })

  t.equal((await a.run(['close'])).code, 0)
  await a.start('--connections', '0', '--interval', '0')
  const servers = lines((await a.run(['servers', '--json'])).stdout).map(l => JSON.parse(l))
  t.same(servers, [{ ...row, state: 'open' }], 'reopened at its address with the same files')
  const again = await b.run(['connect', row.address])
  t.equal(again.code, 0, again.stderr)
})

t.test('a dialer that does not trust the certificate refuses it in one line', async t => {
  const pem = makeCertificates(t)
  const a = await quiet(t)
  const b = await quiet(t)
  const address = (await a.run(['listen', 'wss', '--cert', pem.cert, '--key', pem.key])).stdout.trim()
  const c = await b.run(['connect', address])
  t.equal(c.code, 1)
  t.equal(lines(c.stderr).length, 1, c.stderr)
  t.match(c.stderr, /: the peer's TLS certificate is not signed by a CA this daemon trusts \(unable to verify the first certificate\); a private CA's certificate goes in NODE_EXTRA_CA_CERTS/, 'it says what is wrong and where a CA goes')
  t.notMatch(c.stderr, /^\s+at /m, 'no stack trace')
  t.equal((await b.run(['connections'])).stdout, '', 'no link')
})

t.test('listen wss: the command line', async t => {
  const pem = makeCertificates(t)
  const a = await quiet(t)
  for (const args of [['listen', 'wss'], ['listen', 'wss', '--cert', pem.cert], ['listen', 'wss', '--key', pem.key]]) {
    const r = await a.run(args)
    t.same([r.code, lines(r.stderr).length], [2, 1], `${args.join(' ')}: usage, one line`)
    t.match(r.stderr, /listen wss needs --cert FILE and --key FILE/)
  }
  const ws = await a.run(['listen', 'ws', '--cert', pem.cert, '--key', pem.key])
  t.equal(ws.code, 2)
  t.match(ws.stderr, /^peernet: listen: --cert and --key are for wss, not ws /)
  // Relative paths are the user's, from where the command runs, not from the daemon's directory.
  const rel = await a.run(['listen', 'wss', '--cert', basename(pem.cert), '--key', basename(pem.key), '--json'], { cwd: dirname(pem.cert) })
  t.equal(rel.code, 0, rel.stderr)
  t.match(JSON.parse(rel.stdout), { cert: pem.cert, key: pem.key })
  t.equal((await a.run(['servers'])).code, 0)
})

t.test('bad certificate and key files: one line each, exit 1, no service', async t => {
  const pem = makeCertificates(t)
  const a = await quiet(t)
  const garbage = join(pem.dir, 'garbage.pem')
  writeFileSync(garbage, 'not a certificate\n')
  const cases = [
    [join(pem.dir, 'missing.pem'), pem.key, /cannot read the certificate .*missing\.pem: no such file/],
    [pem.cert, join(pem.dir, 'missing.key'), /cannot read the key .*missing\.key: no such file/],
    [pem.dir, pem.key, /cannot read the certificate .*: .*directory/],
    [garbage, pem.key, /not a PEM file a TLS server can use/],
    [pem.cert, garbage, /not a PEM file a TLS server can use/],
    [pem.cert, pem.otherKey, /the key does not belong to the certificate/]
  ]
  for (const [cert, key, why] of cases) {
    const r = await a.run(['listen', 'wss', '--cert', cert, '--key', key])
    t.equal(r.code, 1, `${basename(cert)} ${basename(key)}`)
    t.equal(lines(r.stderr).length, 1, r.stderr)
    t.match(r.stderr, /^peernet: cannot listen on wss 127\.0\.0\.1:0: /)
    t.match(r.stderr, why)
  }
  t.equal((await a.run(['servers'])).stdout, '', 'nothing opened, nothing kept')
})

t.test('a certificate gone at restart: the service is listed as failed, and listen reopens it', async t => {
  const pem = makeCertificates(t)
  const a = await quiet(t)
  const row = JSON.parse((await a.run(['listen', 'wss', '--cert', pem.cert, '--key', pem.key, '--json'])).stdout)
  t.equal((await a.run(['close'])).code, 0)
  renameSync(pem.cert, pem.cert + '.away')
  const r = await a.run(['daemon', '--connections', '0', '--interval', '0'])
  t.equal(r.code, 0, 'the daemon starts anyway')
  t.match(r.stderr, /cannot read the certificate .*cert\.pem: no such file/)
  t.equal((await a.run(['servers'])).stdout, `${row.address}\tfailed: cannot read the certificate ${pem.cert}: no such file or directory\n`)
  copyFileSync(pem.cert + '.away', pem.cert)
  const again = await a.run(['listen', 'wss', '--port', String(row.port), '--cert', pem.cert, '--key', pem.key])
  t.same([again.code, again.stdout], [0, `${row.address}\n`], again.stderr)
  t.equal((await a.run(['servers'])).stdout, `${row.address}\n`)
})

t.test('the control socket takes absolute paths only, and only for wss', async t => {
  const pem = makeCertificates(t)
  const a = await quiet(t)
  const socket = JSON.parse((await a.run(['status', '--json'])).stdout).socket
  const c = await controlClient(socket, t)
  const rel = await c.request('listen', { protocol: 'wss', cert: 'cert.pem', key: pem.key })
  t.match(rel.error, { code: 'EINVAL', message: /params\.cert must be an absolute path/ })
  const ws = await c.request('listen', { protocol: 'ws', cert: pem.cert, key: pem.key })
  t.match(ws.error, { code: 'EINVAL', message: 'params.cert and params.key are for wss, not ws' })
  const none = await c.request('listen', { protocol: 'wss' })
  t.match(none.error, { code: 'EINVAL', message: 'params.cert must be a string' })
})

t.test('a client that never finishes its TLS handshake is closed after TLS_HANDSHAKE_TIMEOUT', { timeout: TLS_HANDSHAKE_TIMEOUT + 30_000 }, async t => {
  const pem = makeCertificates(t)
  const { readFileSync } = await import('node:fs')
  const server = await listen('wss', { tls: { cert: readFileSync(pem.cert), key: readFileSync(pem.key) } }, () => t.fail('no stream for a silent client'))
  t.teardown(() => server.close())
  const silent = net.connect(server.port, '127.0.0.1')
  t.teardown(() => silent.destroy())
  silent.on('error', () => {})
  // Node's default would keep it 120 s, past this test's timeout.
  await once(silent, 'close', () => true, TLS_HANDSHAKE_TIMEOUT + 20_000)
  t.pass('the server closed it')
})
