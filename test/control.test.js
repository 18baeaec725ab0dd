// The control socket survives bad clients: garbage, oversize lines, crowds, clients that vanish
// mid-stream or stop reading. Real daemons started with the real bin/peernet; the socket is
// spoken to with raw `net` sockets from this process, each destroyed at teardown.
import t from 'tap'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { statSync, chmodSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { datadir } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { MAX_LINE, MAX_CLIENTS } from '../lib/control/protocol.js'

const lines = s => s.split('\n').filter(Boolean)

/** A raw NDJSON connection to a control socket: every message received, in order. */
class Raw {
  constructor (sock) {
    this.sock = sock
    this.buf = ''
    this.msgs = []
    this.errors = []
    this.ended = false
    this.closed = false
    this.checks = new Set()
    sock.setEncoding('utf8')
    sock.on('data', d => {
      this.buf += d
      let i
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i)
        this.buf = this.buf.slice(i + 1)
        if (line === '') continue
        try {
          this.msgs.push(JSON.parse(line))
        } catch {
          this.msgs.push({ unparsed: line })
        }
      }
      this.poke()
    })
    sock.on('error', err => this.errors.push(err))
    sock.on('end', () => { this.ended = true; this.poke() })
    sock.on('close', () => { this.closed = true; this.poke() })
  }

  poke () { for (const check of this.checks) check() }

  /** Resolve with fn()'s first truthy value, checked as messages arrive; reject if the socket closes first. */
  wait (fn, what = 'an answer') {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = fn()
        if (v) {
          this.checks.delete(check)
          resolve(v)
        } else if (this.closed) {
          this.checks.delete(check)
          reject(new Error(`the control connection closed before ${what}`))
        }
      }
      this.checks.add(check)
      check()
    })
  }

  send (value) {
    this.sock.write(typeof value === 'string' ? value : JSON.stringify(value) + '\n')
  }

  /** All messages for id, once its end or error row has arrived: {rows, end, error}. */
  answer (id) {
    return this.wait(() => {
      const mine = this.msgs.filter(m => m.id === id)
      const last = mine[mine.length - 1]
      if (!last || !(last.end || last.error)) return null
      return { rows: mine.filter(m => 'row' in m).map(m => m.row), end: last.end === true, error: last.error ?? null, count: mine.length }
    }, `the answer to request ${JSON.stringify(id)}`)
  }

  request (id, method, params = {}) {
    this.send({ id, method, params })
    return this.answer(id)
  }

  /** Wait for the daemon to close this connection. */
  gone () { return this.wait(() => this.closed, 'it was closed') }
}

/** Connect a raw client; the socket is destroyed at teardown. */
function raw (t, path) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path)
    t.teardown(() => sock.destroy())
    const c = new Raw(sock)
    sock.once('connect', () => resolve(c))
    sock.once('error', reject)
  })
}

/** A daemon that never dials and never gossips, with its socket path. */
async function daemon (t) {
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  d.socket = join(d.dir, 'run', 'control.sock')
  return d
}

let nextId = 1000
/** One status row over a fresh raw connection (closed again). */
/**
 * Wait until the daemon holds no client but the one asking: a client of the start (its probe)
 * still counted when a test fills every place would turn one of the test's own clients away.
 */
async function noOtherClients (t, d) {
  await until(async () => (await status(t, d)).limits.controlClients === 1, { what: 'the daemon to hold no other client' })
}

async function status (t, d) {
  const c = await raw(t, d.socket)
  try {
    const a = await c.request(nextId++, 'status')
    if (a.error) throw new Error(`status failed: ${a.error.code} ${a.error.message}`)
    return a.rows[0]
  } finally {
    c.sock.destroy()
  }
}

t.test('a line that is not JSON gets EPARSE (id null); the same connection goes on', async t => {
  const d = await daemon(t)
  const c = await raw(t, d.socket)
  c.send('this is {not json\n')
  const err = await c.wait(() => c.msgs.find(m => m.error), 'the EPARSE row')
  t.equal(err.id, null, 'the id is null: none could be read')
  t.equal(err.error.code, 'EPARSE')
  t.type(err.error.message, 'string')
  t.ok(err.error.message.length > 0, 'with a message')
  c.send('{"id": 1, "method": "status"')
  c.send('\n')
  const bad = await c.wait(() => c.msgs.filter(m => m.error)[1], 'the second EPARSE row')
  t.match(bad, { id: null, error: { code: 'EPARSE' } }, 'a truncated object is not JSON either')
  const a = await c.request(2, 'status')
  t.ok(a.end, 'status ends')
  t.equal(a.rows.length, 1)
  t.equal(a.rows[0].pid, d.pidOf(), 'the status row is the daemon\'s')
  t.notOk(c.closed, 'the connection is still open')
})

t.test('bad requests get an error row with their id; the connection goes on', async t => {
  const d = await daemon(t)
  const c = await raw(t, d.socket)

  c.send({ method: 'status', params: {} })
  const noId = await c.wait(() => c.msgs.find(m => m.error), 'the row for a request without an id')
  t.match(noId, { id: null, error: { code: 'EINVAL', message: /id/ } }, 'no id: EINVAL naming the id')
  c.send({ id: { x: 1 }, method: 'status' })
  const objId = await c.wait(() => c.msgs.filter(m => m.error)[1], 'the row for an object id')
  t.match(objId, { id: null, error: { code: 'EINVAL' } }, 'an id that is an object counts as none')

  const cases = [
    [{ id: 1, method: 'nosuch' }, 'EMETHOD', /nosuch/],
    [{ id: 'two', method: 'status', params: [1, 2] }, 'EINVAL', /params/],
    [{ id: 3, method: 'status', params: 'x' }, 'EINVAL', /params/],
    [{ id: 4, method: 'add', params: { addresses: 'x' } }, 'EINVAL', /addresses/],
    [{ id: 5, method: 'add', params: { addresses: [] } }, 'EINVAL', /addresses/],
    [{ id: 6, method: 'add', params: { addresses: ['notaurl'] } }, 'EINVAL', /notaurl/],
    [{ id: 7, method: 'connect', params: { address: 'notaurl' } }, 'EINVAL', /notaurl/],
    [{ id: 8, method: 'connect', params: { address: 42 } }, 'EINVAL', /address/],
    [{ id: 9, method: 'connect', params: {} }, 'EINVAL', /address/],
    [{ id: 10, method: 'log', params: { lines: 'ten', follow: false } }, 'EINVAL', /lines/],
    [{ id: 11, method: 'search', params: { subnet: 'x', timeout: -1 } }, 'EINVAL', /timeout/],
    [{ id: 12, method: 'join', params: { subnets: [1] } }, 'EINVAL', /subnets/],
    [{ id: 13, method: 'listen', params: { protocol: 'ftp' } }, 'EINVAL', /ftp/],
    [{ id: 14, method: 42 }, 'EMETHOD', /method/]
  ]
  for (const [req, code, message] of cases) {
    c.send(req)
    const a = await c.answer(req.id)
    t.match(a, { rows: [], end: false, error: { code, message } }, `${JSON.stringify(req)} -> ${code}`)
    t.equal(a.count, 1, 'exactly one (error) row for it')
  }
  const ok = await c.request(15, 'status')
  t.ok(ok.end && ok.rows.length === 1, 'the same connection still gets status')
  t.equal((await status(t, d)).known, 0, 'nothing was added by the bad requests')
})

t.test('a 10 MB line gets ETOOLONG and the connection is dropped; the daemon goes on', async t => {
  const d = await daemon(t)
  const c = await raw(t, d.socket)
  const big = Buffer.alloc(10 * 1024 * 1024, 'a')
  c.send(big.toString())
  const err = await c.wait(() => c.msgs.find(m => m.error), 'the ETOOLONG row (before any newline)')
  t.equal(err.id, null)
  t.equal(err.error.code, 'ETOOLONG')
  t.match(err.error.message, String(MAX_LINE), 'the message names MAX_LINE')
  c.send('\n')
  await c.gone()
  t.pass('the daemon dropped the connection')
  t.equal(c.msgs.length, 1, 'and sent nothing else')
  const s = await d.run(['status'])
  t.equal(s.code, 0, s.stderr)
  t.match(s.stdout, /^id: /)
})

t.test('200 control clients at once all get their status; peernet status works after', async t => {
  const d = await daemon(t)
  const clients = await Promise.all(Array.from({ length: 200 }, () => raw(t, d.socket)))
  t.equal(clients.length, 200, 'all 200 connected before any sends')
  clients.forEach((c, i) => c.send({ id: i, method: 'status' }))
  const answers = await Promise.all(clients.map((c, i) => c.answer(i)))
  t.ok(answers.every(a => a.end && a.rows.length === 1 && a.rows[0].pid === d.pidOf()), 'every one got its status row and end')
  t.ok(answers.some(a => a.rows[0].limits.controlClients >= 100), 'the daemon saw them at once')
  for (const c of clients) c.sock.destroy()
  await until(async () => (await status(t, d)).limits.controlClients === 1, { what: 'the 200 clients to be gone from the count' })
  const s = await d.run(['status'])
  t.equal(s.code, 0, s.stderr)
})

t.test('clients that vanish mid-stream (log follow, a long search) leave the daemon serving', async t => {
  const d = await daemon(t)
  // A search runs only with a peer to ask (with none it fails at once). It floods: over the ring
  // the two nodes' authoritative "no members" could end it before the status poll counts it; a
  // flood with no answers runs to its timeout.
  const peer = await daemon(t)
  const connected = await d.run(['connect', (await peer.run(['listen', 'ws'])).stdout.trim()])
  t.equal(connected.code, 0, connected.stderr)
  const follower = await raw(t, d.socket)
  follower.send({ id: 1, method: 'log', params: { follow: true, lines: 5 } })
  const searcher = await raw(t, d.socket)
  searcher.send({ id: 2, method: 'search', params: { subnet: 'nowhere', timeout: 60_000, flood: true } })
  await follower.wait(() => follower.msgs.length > 0, 'the replayed log rows')
  await until(async () => {
    const s = await status(t, d)
    return s.limits.logFollowers === 1 && s.searches === 1
  }, { what: 'the follower and the search to be counted' })
  // A log row that arrives while the follower is gone must not trip the daemon either.
  follower.sock.destroy()
  searcher.sock.destroy()
  const joined = await d.run(['join', 'after-vanish'])
  t.equal(joined.code, 0, joined.stderr)
  await until(async () => {
    const s = await status(t, d)
    return s.limits.logFollowers === 0 && s.searches === 0
  }, { what: 'logFollowers and searches back to 0' })
  t.pass('logFollowers and searches went back to 0')
  const s = await d.run(['status'])
  t.equal(s.code, 0, s.stderr)
  const log = await d.run(['log', '--no-follow', '-n', '50'])
  t.equal(log.code, 0, log.stderr)
  t.notMatch(log.stdout, /uncaught|unhandled/, 'no escaped errors in the log')
})

t.test('a slow reader of known with 20,000 addresses gets every row, then end', async t => {
  const d = await daemon(t)
  const c = await raw(t, d.socket)
  const N = 20000
  // 127.0.0.1 only (a port each), and never dialed: the daemon runs with --connections 0.
  const all = Array.from({ length: N }, (_, i) => `tcp://127.0.0.1:${20000 + i}`)
  const adds = []
  for (let i = 0; i < N; i += 1000) adds.push(c.request(`add-${i}`, 'add', { addresses: all.slice(i, i + 1000) }))
  const added = await Promise.all(adds)
  t.ok(added.every(a => a.end && a.rows[0].count === 1000), 'twenty adds of 1000 each were acknowledged')
  const st = await status(t, d)
  t.equal(st.known, N, 'status counts 20,000 known')
  t.equal(st.saved, N, 'all saved')

  const reader = await raw(t, d.socket)
  reader.sock.pause()
  reader.send({ id: 'k', method: 'known' })
  // While this client does not read, the daemon answers others.
  const alive = await until(async () => {
    const s = await status(t, d)
    return s.limits.controlClients >= 3 && s
  }, { what: 'the daemon to answer while a reader is paused' })
  t.equal(alive.pid, d.pidOf(), 'the daemon answers while a reader is paused')
  t.ok(reader.msgs.length === 0 || reader.sock.isPaused(), 'the reader is paused')
  reader.sock.resume()
  const a = await reader.answer('k')
  t.ok(a.end, 'the listing ends')
  t.equal(a.rows.length, N, 'all 20,000 rows arrived')
  const got = new Set(a.rows.map(r => r.address))
  t.equal(got.size, N, 'each address once')
  t.ok(all.every(x => got.has(x)), 'every address added is listed')
  t.ok(a.rows.every(r => r.saved === true), 'all marked saved')
  t.equal(reader.msgs[reader.msgs.length - 1].end, true, 'the end row comes last')
})

t.test(`more than MAX_CLIENTS (${MAX_CLIENTS}) clients: the extra ones get EBUSY, the daemon goes on`, async t => {
  const d = await daemon(t)
  await noOtherClients(t, d)
  const clients = []
  // Connect in batches, so the listen backlog never overflows (that would be EAGAIN, not EBUSY).
  for (let i = 0; i < MAX_CLIENTS; i += 64) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(64, MAX_CLIENTS - i) }, () => raw(t, d.socket))))
  }
  t.equal(clients.length, MAX_CLIENTS)
  let id = 0
  // The daemon counts a client once it accepts it: wait until it holds all of them.
  await until(async () => {
    const a = await clients[0].request(++id, 'status')
    return a.rows[0]?.limits.controlClients === MAX_CLIENTS
  }, { what: `the daemon to hold ${MAX_CLIENTS} clients` })
  const extra = await Promise.all(Array.from({ length: 5 }, () => raw(t, d.socket)))
  for (const c of extra) {
    const busy = await c.wait(() => c.msgs.find(m => m.error), 'the EBUSY row')
    t.match(busy, { id: null, error: { code: 'EBUSY', message: new RegExp(`${MAX_CLIENTS}`) } }, 'an extra client is told EBUSY')
    await c.gone()
  }
  t.pass('the extra clients were dropped')
  const cli = await d.run(['status'])
  t.equal(cli.code, 1, 'peernet status while full fails')
  t.equal(lines(cli.stderr).length, 1, 'with one line')
  t.match(cli.stderr, /too many control clients/, 'saying why')
  const still = await clients[MAX_CLIENTS - 1].request(++id, 'status')
  t.ok(still.end && still.rows[0].pid === d.pidOf(), 'an admitted client still gets answers')
  for (const c of clients.slice(0, 10)) c.sock.destroy()
  await until(async () => {
    const a = await clients[MAX_CLIENTS - 1].request(++id, 'status')
    return a.rows[0]?.limits.controlClients === MAX_CLIENTS - 10
  }, { what: 'room for new clients' })
  const s = await d.run(['status'])
  t.equal(s.code, 0, s.stderr)
  for (const c of clients) c.sock.destroy()
  await until(async () => (await status(t, d)).limits.controlClients === 1, { what: 'every client to be gone from the count' })
  t.pass('the count goes back down')
})

t.test('a turned-away (EBUSY) client that keeps its end open is dropped and does not block close', async t => {
  const d = await daemon(t)
  const pid = d.pidOf()
  await noOtherClients(t, d)
  const clients = []
  for (let i = 0; i < MAX_CLIENTS; i += 64) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(64, MAX_CLIENTS - i) }, () => raw(t, d.socket))))
  }
  let id = 0
  await until(async () => {
    const a = await clients[0].request(++id, 'status')
    return a.rows[0]?.limits.controlClients === MAX_CLIENTS
  }, { what: `the daemon to hold ${MAX_CLIENTS} clients` })
  // A client that does not close its side when the daemon ends the connection.
  const stubborn = await new Promise((resolve, reject) => {
    const sock = net.connect({ path: d.socket, allowHalfOpen: true })
    t.teardown(() => sock.destroy())
    const c = new Raw(sock)
    sock.once('connect', () => resolve(c))
    sock.once('error', reject)
  })
  await stubborn.wait(() => stubborn.msgs.find(m => m.error?.code === 'EBUSY'), 'the EBUSY row')
  t.pass('the extra client is told EBUSY')
  for (const c of clients) c.sock.destroy()
  await until(async () => (await status(t, d)).limits.controlClients === 1, { what: 'the admitted clients to be gone' })
  const r = await d.run(['close'])
  t.equal(r.code, 0, `peernet close stops the daemon (${r.stderr.trim()})`)
  t.notOk(existsSync(join(d.dir, 'peernet.pid')), `the daemon (pid ${pid}) finished its shutdown`)
})

/** Connect to a socket path as uid/gid 65534; resolves {code, stdout, stderr, error}. */
function connectAsNobody (path) {
  const script = "const s = require('net').connect(process.argv[1]); s.on('connect', () => { console.log('CONNECTED'); s.destroy() }); s.on('error', e => console.log(e.code))"
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['-e', script, path], { uid: 65534, gid: 65534, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', x => { stdout += x })
    child.stderr.on('data', x => { stderr += x })
    child.on('error', error => resolve({ code: null, stdout, stderr, error }))
    child.on('close', code => resolve({ code, stdout: stdout.trim(), stderr, error: null }))
  })
}

t.test('the socket is private: run dir 0700, socket 0600, another uid cannot connect', async t => {
  const d = datadir(t)
  // Let other users into the data dir, so the run dir and the socket are what keep them out.
  chmodSync(d.dir, 0o755)
  await d.start('--connections', '0', '--interval', '0')
  const run = join(d.dir, 'run')
  const sock = join(run, 'control.sock')
  t.equal(statSync(run).mode & 0o777, 0o700, 'run dir is 0700')
  t.ok(statSync(sock).isSocket(), 'the socket is a socket')
  t.equal(statSync(sock).mode & 0o777, 0o600, 'socket is 0600')

  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    t.skip('the other-uid part needs root (to spawn a process as uid 65534)')
    return
  }
  // Can this machine run node as uid 65534 at all? ('/' is no socket: any error code will do.)
  const probe = await connectAsNobody('/')
  if (probe.error || probe.code !== 0 || probe.stdout === '') {
    t.skip(`cannot run node as uid 65534 here: ${probe.error?.code ?? `exit ${probe.code} ${probe.stderr.trim().split('\n')[0]}`}`)
    return
  }
  const blocked = await connectAsNobody(sock)
  t.equal(blocked.stdout, 'EACCES', 'uid 65534 is refused by the 0700 run dir')
  // Open the run dir too: the socket's own 0600 must still keep the other uid out.
  chmodSync(run, 0o755)
  t.teardown(() => { try { chmodSync(run, 0o700) } catch {} })
  const still = await connectAsNobody(sock)
  t.equal(still.stdout, 'EACCES', 'uid 65534 is refused by the 0600 socket alone')
  chmodSync(run, 0o700)
  const s = await d.run(['status'])
  t.equal(s.code, 0, 'root still gets status')
})
