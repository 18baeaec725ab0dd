// Identity through the real bin/peernet against real daemons: `peernet id`, `connect ID@ADDR`
// with the right and a wrong id, the peer's id in `connections`, the key file's errors, and a
// recording TCP proxy between two daemons that sees no plaintext.
import t from 'tap'
import net from 'node:net'
import { statSync, writeFileSync, readFileSync, rmSync, mkdirSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { datadir, QUIET, oneLine } from './lib/cli.js'

t.test('peernet id on two daemons; connect ID@ADDR with the right id, and with a wrong one; connections shows the key', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start(...QUIET)
  await b.start(...QUIET)
  const idA = (await a.run(['id'])).stdout.trim()
  const idB = (await b.run(['id'])).stdout.trim()
  t.match(idA, /^[0-9a-f]{64}$/)
  t.match(idB, /^[0-9a-f]{64}$/)
  t.not(idA, idB)
  t.equal(statSync(join(a.dir, 'key')).mode & 0o777, 0o600, 'the key file is 0600')
  t.match((await a.run(['status'])).stdout, new RegExp(`^id: +${idA}$`, 'm'), 'status shows the id')
  const url = (await b.run(['listen', 'ws'])).stdout.trim()
  t.equal((await b.run(['own'])).stdout, `${url}\n`, 'own: plain addresses, as scripts read them')
  t.equal((await b.run(['own', '--ids'])).stdout, `${idB}@${url}\n`, 'own --ids: ID@ADDR')
  t.equal((await b.run(['own', '--ids', '--json'])).stdout, `{"id":"${idB}","address":"${url}"}\n`, 'own --ids --json: the id in each row')
  oneLine(t, await a.run(['connect', `${idA}@${url}`]), 1, new RegExp(`^peernet: cannot connect to ${url}: identity mismatch: expected ${idA}, got ${idB}\n`), 'a wrong id')
  t.equal((await a.run(['connections'])).stdout, '', 'the link is closed')
  // What own --ids printed is what connect takes.
  const ok = await a.run(['connect', (await b.run(['own', '--ids'])).stdout.trim()])
  t.equal(ok.code, 0, ok.stderr)
  t.equal((await a.run(['connections'])).stdout, `${url}\t${idB}\n`, 'the peer by its address, and its key beside it')
  t.equal((await b.run(['connections'])).stdout, `${idA}\n`, 'an inbound peer by its key')
  await a.run(['close'])
  const again = await a.start(...QUIET)
  t.ok(again)
  t.equal((await a.run(['id'])).stdout.trim(), idA, 'the same id after a restart')
})

t.test('pins: add ID@ADDR is strict; a plain address is held to the first key seen (identity-changed in the log); known --json shows the id', async t => {
  const a = datadir(t)
  const b = datadir(t)
  const c = datadir(t)
  await Promise.all([a, b, c].map(d => d.start(...QUIET)))
  const [idB, idC] = await Promise.all([b, c].map(async d => (await d.run(['id'])).stdout.trim()))
  const url = (await b.run(['listen', 'tcp'])).stdout.trim()
  const port = url.split(':').at(-1)

  t.equal((await a.run(['add', `${idC}@${url}`])).stdout, 'added 1 address\n', 'add ID@ADDR')
  t.equal((await a.run(['known', '--json'])).stdout, `{"address":"${url}","saved":true,"subnets":[],"id":"${idC}"}\n`, 'known --json: the pin the user gave')
  oneLine(t, await a.run(['connect', url]), 1, new RegExp(`^peernet: cannot connect to ${url}: identity mismatch: expected ${idC}, got ${idB}\n`), 'a dial held to the given id')
  t.equal((await a.run(['add', `${idB}@${url}`])).stdout, 'added 1 address\n', 'a new pin for a saved address is a change')
  t.equal((await a.run(['connect', url])).code, 0)
  t.equal((await a.run(['known'])).stdout, `${url}\n`, 'plain known prints the address alone, as scripts read it')
  t.match((await a.run(['stats', url])).stdout, new RegExp(`^id: +${idB} \\(seen here by a handshake: a dial must reach it\\)$`, 'm'))

  // Another node on the same port: the key the address was first (here: last) proven by holds.
  await a.run(['disconnect', url])
  await b.run(['close'])
  t.equal((await c.run(['listen', 'tcp', '--port', port])).stdout.trim(), url)
  oneLine(t, await a.run(['connect', url]), 1, new RegExp(`^peernet: cannot connect to ${url}: identity changed: ${url} was ${idB}, now ${idC} \\(to accept the new key, remove the address and add it again, or add ${idC}@${url}\\)\n`), 'another key at a trusted address')
  const log = (await a.run(['log', '--no-follow', '--json'])).stdout.trim().split('\n').map(l => JSON.parse(l))
  t.match(log.find(e => e.type === 'identity-changed'), { address: url, was: idB, now: idC }, 'logged as identity-changed')
  t.equal((await a.run(['rm', url])).code, 0)
  t.equal((await a.run(['add', url])).code, 0)
  t.equal((await a.run(['connect', url])).code, 0, 'rm then add: the new key is trusted')
  t.equal((await a.run(['connections'])).stdout, `${url}\t${idC}\n`)
  t.equal((await a.run(['add', 'nothex@tcp://127.0.0.1:1'])).code, 2, 'a malformed id is a usage error')
})

t.test('the key file: wrong mode, truncated, garbage, a directory, missing for a db that has an id: one line, exit 1', async t => {
  const d = datadir(t)
  await d.start(...QUIET)
  const id = (await d.run(['id'])).stdout.trim()
  await d.run(['close'])
  const key = join(d.dir, 'key')
  const good = readFileSync(key)
  const server = () => d.run(['server', ...QUIET])
  chmodSync(key, 0o644)
  oneLine(t, await server(), 1, /the key file .*key is readable by group or others \(mode 0644\): chmod 600 /, 'mode 0644')
  writeFileSync(key, good.subarray(0, 40), { mode: 0o600 })
  chmodSync(key, 0o600)
  oneLine(t, await server(), 1, /the key file .*key is 40 bytes, not 64/, 'truncated')
  writeFileSync(key, Buffer.alloc(64, 0x5a))
  oneLine(t, await server(), 1, /the key file .*key is damaged/, 'garbage')
  rmSync(key)
  mkdirSync(key)
  oneLine(t, await server(), 1, /the key file .*key is a directory/, 'a directory')
  rmSync(key, { recursive: true })
  oneLine(t, await server(), 1, new RegExp(`the key file .*key is missing, but the database in .* belongs to node ${id}: restore that node's key file`), 'missing')
  t.throws(() => statSync(key), 'no new key is left behind')
  writeFileSync(key, good, { mode: 0o600 })
  await d.start(...QUIET)
  t.equal((await d.run(['id'])).stdout.trim(), id, 'the restored key is the node again')
})

/** A TCP proxy to port `to` that records every byte crossing it, both ways. */
function recordingProxy (t, to) {
  const seen = []
  const sockets = new Set()
  const server = net.createServer(inbound => {
    const outbound = net.connect({ host: '127.0.0.1', port: to })
    sockets.add(inbound).add(outbound)
    inbound.on('data', d => { seen.push(d); outbound.write(d) })
    outbound.on('data', d => { seen.push(d); inbound.write(d) })
    inbound.on('error', () => outbound.destroy())
    outbound.on('error', () => inbound.destroy())
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
  })
  t.teardown(() => new Promise(resolve => { for (const s of sockets) s.destroy(); server.close(resolve) }))
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, bytes: () => Buffer.concat(seen) })))
}

t.test('a recording TCP proxy between two daemons sees no subnet name, no address, no JSON', async t => {
  const a = datadir(t)
  const b = datadir(t)
  await a.start(...QUIET)
  await b.start(...QUIET)
  const url = (await b.run(['listen', 'tcp'])).stdout.trim()
  await b.run(['join', 'very-secret-subnet'])
  const proxy = await recordingProxy(t, Number(new URL(url.replace('tcp:', 'http:')).port))
  const via = `tcp://127.0.0.1:${proxy.port}`
  const c = await a.run(['connect', via])
  t.equal(c.code, 0, c.stderr)
  const found = await a.run(['search', 'very-secret-subnet', '--max', '1'])
  t.equal(found.stdout, `${url}\n`, 'the search went through the proxy')
  const bytes = proxy.bytes()
  t.ok(bytes.length > 200, `${bytes.length} bytes crossed`)
  const text = bytes.toString('latin1')
  t.notOk(text.includes('very-secret-subnet'), 'no subnet name')
  t.notOk(text.includes('127.0.0.1'), 'no address')
  t.notOk(text.includes('peernet'), 'no network id')
  // Our frames' own keys, as plaintext JSON would show them (a two-byte pattern such as {" turns
  // up in a few kilobytes of ciphertext by chance: about one run in fourteen).
  t.notOk(/"type":"|"qid":"|"subnet":"|"addrs":\[/.test(text), 'no JSON')
})
