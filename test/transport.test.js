// The default transport (tcp, ws and wss through transport-stream and websocket-stream) and
// its servers; the in-memory transport is in mem-transport.test.js. Real sockets on 127.0.0.1
// only; everything opened is closed at teardown, even when a test fails.
import t from 'tap'
import cp from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { parse as legacyParse } from 'node:url'
import fc from 'fast-check'
import { once, readBytes, until } from './lib/helpers.js'

const require = createRequire(import.meta.url)

// ---------------------------------------------------------------------------------------------
// No child process may start in this file. The spies go in before the transport module (and
// with it transport-stream, which captures child_process.spawn when it loads) is imported, and
// ChildProcess.prototype.spawn catches every spawn/exec/execFile/fork whatever reference the
// caller kept. A blocked call is recorded and refused, so nothing runs even if a check fails.
const started = []
const restores = []
function block (obj, name, label) {
  const orig = obj[name]
  obj[name] = function (...args) {
    started.push({ call: label, args: args.slice(0, 2).map(a => (typeof a === 'object' ? JSON.stringify(a)?.slice(0, 200) : String(a))) })
    throw new Error(`test: ${label} is blocked in transport.test.js`)
  }
  restores.push(() => { obj[name] = orig })
}
for (const name of ['spawn', 'exec', 'execFile', 'fork', 'spawnSync', 'execSync', 'execFileSync']) block(cp, name, `child_process.${name}`)
block(cp.ChildProcess.prototype, 'spawn', 'ChildProcess#spawn')
t.teardown(() => { for (const r of restores.reverse()) r() })

const transportModule = await import('../lib/transport/index.js')
const { default: transport, resolver, listen, createWebSocketServer, resolveTransportOption, parseAddress, AddressError, MAX_WS_MESSAGE } = transportModule
const WebSocket = require('ws')

/** An echo server, closed at teardown; its accepted streams and their infos are collected. */
async function echoServer (t, protocol) {
  const accepted = []
  const server = await listen(protocol, { host: '127.0.0.1' }, (stream, info) => {
    accepted.push({ stream, info })
    stream.on('error', () => {})
    stream.pipe(stream)
  })
  t.teardown(() => server.close())
  server.accepted = accepted
  return server
}

/** Dial with the default transport; the stream is destroyed at teardown and its errors kept. */
function dial (t, address) {
  const s = transport(address)
  s.errors = []
  s.on('error', err => s.errors.push(err))
  t.teardown(() => s.destroy())
  return s
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort () {
  const srv = net.createServer()
  await new Promise((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', resolve) })
  const { port } = srv.address()
  await new Promise(resolve => srv.close(resolve))
  return port
}

/**
 * Record every outgoing socket started while `watching` is on (ssh:// and http:// would dial).
 * Returns {connects, watch(fn)}: watch runs fn with recording on.
 */
function socketSpy (t) {
  const connects = []
  const origConnect = net.Socket.prototype.connect
  let watching = false
  net.Socket.prototype.connect = function (...args) {
    if (watching) connects.push(JSON.stringify(args[0])?.slice(0, 100))
    return origConnect.apply(this, args)
  }
  t.teardown(() => { net.Socket.prototype.connect = origConnect })
  return {
    connects,
    watch (fn) {
      watching = true
      try {
        return fn()
      } finally {
        watching = false
      }
    }
  }
}

/** The error code of a stream error: a plain Error, or a ws ErrorEvent wrapping one. */
const codeOf = err => err?.code ?? err?.error?.code

t.test('websocket-stream runs on the forced ws 8', async t => {
  t.match(require('ws/package.json').version, /^8\./, 'ws seen from the tests is 8.x')
  const wsFromWebsocketStream = createRequire(require.resolve('websocket-stream'))('ws/package.json').version
  t.match(wsFromWebsocketStream, /^8\./, 'ws seen by websocket-stream is 8.x')
})

for (const protocol of ['ws', 'tcp']) {
  t.test(`${protocol} round trip through the default transport`, async t => {
    const server = await echoServer(t, protocol)
    t.equal(server.protocol, protocol)
    t.equal(server.host, '127.0.0.1')
    t.ok(server.port > 0)
    t.equal(server.address, `${protocol}://127.0.0.1:${server.port}`)

    const client = dial(t, server.address)
    await once(client, 'connect')
    const small = Buffer.from('hello peernet ✓')
    client.write(small)
    t.same(await readBytes(client, small.length), small, 'small write echoed')

    const big = randomBytes(300 * 1024)
    // Several writes, so websocket-stream may join them; bytes must come back whole and in order.
    for (let i = 0; i < big.length; i += 50 * 1024) client.write(big.subarray(i, i + 50 * 1024))
    t.ok((await readBytes(client, big.length)).equals(big), '300 KiB echoed intact')

    t.equal(server.accepted.length, 1, 'one stream accepted')
    t.equal(server.accepted[0].info.host, '127.0.0.1', 'accept info carries the remote host')
    t.same(client.errors, [], 'no client errors')
  })
}

t.test('a websocket stream destroyed before its socket opens, or as it is accepted, is deaf to the messages still on their way', async t => {
  // websocket-stream destroys the inner stream it makes at open, with no error listener, when
  // its own was destroyed first (a dial given up, a stream a closing node drops); a message
  // arriving before the socket has closed was then "stream.push() after EOF", thrown uncaught
  // (tap fails this test on it; a daemon would have died).
  const BURST = 20
  const chatty = await listen('ws', { host: '127.0.0.1' }, stream => {
    stream.on('error', () => {})
    for (let i = 0; i < BURST; i++) stream.write(Buffer.alloc(10, i))
  })
  t.teardown(() => chatty.close())
  const dials = Array.from({ length: 5 }, () => transport(chatty.address))
  for (const s of dials) s.destroy()
  // ws emits 'close' once every message before the close frame has been handled.
  await Promise.all(dials.map(s => once(s.socket, 'close')))
  t.ok(dials.every(s => s.destroyed), 'each dial stays destroyed')

  const accepted = []
  const dropping = await listen('ws', { host: '127.0.0.1' }, stream => {
    accepted.push(stream)
    stream.destroy()
  })
  t.teardown(() => dropping.close())
  const clients = Array.from({ length: 5 }, () => {
    const ws = new WebSocket(dropping.address, { perMessageDeflate: false })
    ws.on('error', () => {})
    ws.on('open', () => { for (let i = 0; i < BURST; i++) ws.send(Buffer.alloc(10, i)) })
    t.teardown(() => ws.terminate())
    return ws
  })
  await Promise.all(clients.map(ws => once(ws, 'close')))
  await until(() => accepted.length === clients.length && accepted.every(s => s.socket.readyState === WebSocket.CLOSED), { what: 'the dropped websockets to close' })
  t.pass('no message to a destroyed stream was thrown')
})

t.test('a ws service answers at / only; a dial to another path or to a tcp service fails saying why', async t => {
  const server = await echoServer(t, 'ws')
  const other = dial(t, `${server.address}/other`)
  const err = await once(other, 'error')
  t.match(String(err?.message), /^the server answered HTTP 404 instead of a websocket: no service at path \/other \(a peernet service answers at \/\)$/)
  t.equal(server.accepted.length, 0, 'nothing was accepted')
  const root = dial(t, `${server.address}/`)
  root.write('x')
  t.same(await readBytes(root, 1), Buffer.from('x'), 'the same service at /')

  const tcp = await echoServer(t, 'tcp')
  const wrong = dial(t, tcp.address.replace('tcp://', 'ws://'))
  t.match(String((await once(wrong, 'error'))?.message), /did not answer in HTTP, so it is no websocket service \(a tcp:\/\/ service\? dial it as tcp:\/\/\)/)
})

t.test('listen takes an IPv6 host with or without brackets', async t => {
  for (const host of ['[::1]', '::1']) {
    const server = await listen('tcp', { host }, stream => stream.end())
    t.teardown(() => server.close())
    t.equal(server.host, '::1', host)
    t.match(server.address, /^tcp:\/\/\[::1\]:\d+$/, host)
  }
})

t.test('bad addresses throw AddressError synchronously', async t => {
  for (const a of ['ws://', 'notaurl', 'tcp://127.0.0.1:0', 'tcp://127.0.0.1:70000', 'tcp://127.0.0.1', 'ws://127.0.0.1:99999',
    'ws://user:pw@127.0.0.1:1', 'ws://127.0.0.1:1/?q=1', '', ' tcp://127.0.0.1:1', 'tcp://127.0.0.1:1 ', 'ws://' + 'a'.repeat(300)]) {
    let stream
    t.throws(() => { stream = transport(a) }, AddressError, JSON.stringify(a.slice(0, 40)))
    t.equal(stream, undefined, `no stream for ${JSON.stringify(a.slice(0, 40))}`)
  }
  for (const v of [undefined, null, 42, {}, ['tcp://127.0.0.1:1']]) {
    t.throws(() => transport(v), AddressError, `non-string ${JSON.stringify(v)}`)
  }
})

t.test('SECURITY: file, ssh, http, "-" and bare commands start no process and touch no stdio', async t => {
  // Snapshot stdio: '-' would make transport-stream wrap process.stdout/stdin in a duplex.
  const stdio = () => ({
    stdin: process.stdin.eventNames().map(e => `${String(e)}:${process.stdin.listenerCount(e)}`).sort().join(','),
    stdinFlowing: process.stdin.readableFlowing,
    stdout: process.stdout.eventNames().map(e => `${String(e)}:${process.stdout.listenerCount(e)}`).sort().join(',')
  })
  const { connects, watch } = socketSpy(t)
  const before = stdio()
  const spawnedBefore = started.length
  const dangerous = ['file:///etc/passwd', 'file:///tmp', 'ssh://x', 'ssh://user@127.0.0.1:22/tmp', 'http://127.0.0.1:1', 'https://127.0.0.1:1',
    '-', 'ls', 'ls -la', 'echo pwned > /tmp/x', '/bin/sh', './x', 'FILE:///etc/passwd', 'mem://a']
  for (const a of dangerous) {
    let stream
    watch(() => t.throws(() => { stream = transport(a) }, AddressError, `${JSON.stringify(a)} is refused with AddressError`))
    t.equal(stream, undefined, `${JSON.stringify(a)}: no stream returned`)
    if (stream) stream.destroy()
  }
  t.throws(() => transport('mem://a'), { name: 'AddressError', message: /in-memory transport/ }, 'mem:// needs the mem transport')
  t.same(started.slice(spawnedBefore), [], 'no child process was started')
  t.same(connects, [], 'no socket was opened')
  t.same(stdio(), before, 'process.stdin/stdout were not piped or listened to')
})

t.test('SECURITY: behind parseAddress, the resolver\'s own file, ssh, http and https switches hold', async t => {
  // parseAddress refuses all of these first; here each goes straight to the resolver, so a
  // switch turned back on shows up as a stream, a spawn or a socket instead of this refusal.
  const { connects, watch } = socketSpy(t)
  const spawnedBefore = started.length
  const resolve = resolver()
  const refused = {
    file: ['file:///etc/passwd', 'FILE:///tmp'],
    'file (a string without a scheme)': ['ls -la', '/bin/sh', './x'],
    ssh: ['ssh://user@127.0.0.1:22/tmp'],
    http: ['http://127.0.0.1:1/'],
    https: ['https://127.0.0.1:1/']
  }
  for (const [what, list] of Object.entries(refused)) {
    for (const a of list) {
      let stream
      watch(() => t.throws(() => { stream = resolve(a) }, { message: /^Unsupported protocol$/ }, `${what}: ${JSON.stringify(a)} is refused by the resolver`))
      if (stream) {
        stream.on('error', () => {})
        stream.destroy()
      }
      t.equal(stream, undefined, `${what}: no stream for ${JSON.stringify(a)}`)
    }
  }
  t.same(started.slice(spawnedBefore), [], 'no child process was started')
  t.same(connects, [], 'no socket was opened')
})

t.test('SECURITY: "-" (which transport-stream wires to stdio whatever its switches) never reaches the resolver', async t => {
  // transport() hands the resolver parseAddress(address).href and nothing else. Whatever the
  // input, an href is something transport-stream parses (as it does, with url.parse) into one
  // of our schemes, so it takes our own tcp/ws/wss branch: never "-", file, ssh or http.
  const ours = new Set(['tcp:', 'ws:', 'wss:', 'mem:'])
  // Mostly near-valid addresses (so many are accepted), with odd schemes, hosts and tails.
  const schemes = fc.oneof({ arbitrary: fc.constantFrom('tcp', 'ws', 'wss', 'mem'), weight: 3 }, fc.constantFrom('TCP', 'Ws', '-', 'file', 'ssh', 'http', '', ' tcp', 'tcp '))
  const seps = fc.oneof({ arbitrary: fc.constant('://'), weight: 4 }, fc.constantFrom(':/', ':', '//', ''))
  const hosts = fc.oneof({ arbitrary: fc.oneof(fc.ipV4(), fc.domain()), weight: 4 }, fc.constantFrom('[::1]', '-', '127.0.0.1 ', '', '@x', 'a b'), fc.string({ maxLength: 12 }))
  const tails = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 65535 }).map(p => `:${p}`), weight: 3 }, fc.integer({ min: -1, max: 70000 }).map(p => `:${p}`),
    fc.constant(''), fc.string({ maxLength: 12 }).map(s => '/' + s), fc.string({ maxLength: 12 }))
  const candidates = fc.oneof(
    { arbitrary: fc.tuple(schemes, seps, hosts, tails).map(p => p.join('')), weight: 4 },
    fc.constantFrom('-', ' -', '-\n', '--', 'tcp://-', 'tcp://-:1', 'ws://127.0.0.1:1/-', 'mem://-'),
    fc.string({ maxLength: 40 })
  )
  let accepted = 0
  fc.assert(fc.property(candidates, input => {
    let href
    try {
      href = parseAddress(input).href
    } catch (err) {
      return err instanceof AddressError
    }
    accepted++
    const protocol = legacyParse(href).protocol
    return href !== '-' && ours.has(protocol) && protocol === `${parseAddress(href).scheme}:`
  }), { numRuns: 20_000, seed: 0x7e57 })
  t.ok(accepted > 2000, `each of the ${accepted} accepted addresses resolves to one of our schemes`)
  t.throws(() => transport('-'), AddressError, 'and "-" itself is refused before the resolver')
})

t.test('a dial to a closed port emits error (ECONNREFUSED) and does not throw', async t => {
  const port = await closedPort()
  for (const scheme of ['tcp', 'ws', 'wss']) {
    const address = `${scheme}://127.0.0.1:${port}`
    let client
    t.doesNotThrow(() => { client = transport(address) }, `${address}: no throw`)
    t.teardown(() => client.destroy())
    const err = await once(client, 'error')
    t.equal(codeOf(err), 'ECONNREFUSED', `${address}: error is ECONNREFUSED`, { message: err?.message })
    t.match(String(err?.message), /ECONNREFUSED/, `${address}: message says so`)
  }
})

t.test('listen errors', async t => {
  // A port already in use, over tcp.
  const holder = net.createServer()
  await new Promise((resolve, reject) => { holder.once('error', reject); holder.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => new Promise(resolve => holder.close(resolve)))
  const port = holder.address().port

  await t.rejects(listen('tcp', { host: '127.0.0.1', port }, () => {}), { code: 'EADDRINUSE' }, 'tcp on a used port rejects')

  await t.rejects(listen('udp', { host: '127.0.0.1' }, () => {}), /cannot listen on "udp"/, 'udp rejects')
  await t.rejects(listen('http', { host: '127.0.0.1' }, () => {}), /use tcp, ws or wss/, 'http rejects')
  for (const p of [70000, -1, 1.5, NaN]) {
    await t.rejects(listen('tcp', { host: '127.0.0.1', port: p }, () => {}), /out of range/, `port ${p} rejects`)
  }
})

t.test('listen("ws") on a port already in use rejects (and does not crash the process)', async t => {
  const holder = net.createServer()
  await new Promise((resolve, reject) => { holder.once('error', reject); holder.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => new Promise(resolve => holder.close(resolve)))
  const port = holder.address().port

  // If the EADDRINUSE escapes as an uncaught exception, listen()'s promise never settles; catch
  // that here so this test reports it instead of hanging until the tap timeout.
  let onUncaught
  const uncaught = new Promise(resolve => { onUncaught = err => resolve({ uncaught: err }) })
  process.once('uncaughtException', onUncaught)
  t.teardown(() => process.off('uncaughtException', onUncaught))
  let server = null
  const outcome = await Promise.race([
    listen('ws', { host: '127.0.0.1', port }, () => {}).then(s => { server = s; return { resolved: s } }, err => ({ rejected: err })),
    uncaught
  ])
  t.teardown(() => server?.close())
  t.notOk(outcome.uncaught, 'no uncaught exception', { uncaught: outcome.uncaught && `${outcome.uncaught.code}: ${outcome.uncaught.message}` })
  t.notOk(outcome.resolved, 'did not pretend to listen')
  t.equal(outcome.rejected?.code, 'EADDRINUSE', 'rejected with EADDRINUSE')
})

for (const protocol of ['tcp', 'ws']) {
  t.test(`${protocol}: server.close() closes open connections`, async t => {
    const accepted = []
    const server = await listen(protocol, { host: '127.0.0.1' }, stream => {
      stream.on('error', () => {})
      accepted.push(stream)
      stream.write('hi')
    })
    let closed = false
    t.teardown(() => { if (!closed) return server.close() })

    const clients = [dial(t, server.address), dial(t, server.address)]
    // Each client is connected once the server's greeting arrives.
    await Promise.all(clients.map(c => readBytes(c, 2)))
    t.equal(accepted.length, 2)

    const clientsClosed = Promise.all(clients.map(c => c.destroyed ? null : once(c, 'close')))
    const serverStreamsClosed = Promise.all(accepted.map(s => s.destroyed ? null : once(s, 'close')))
    await server.close()
    closed = true
    await clientsClosed
    await serverStreamsClosed
    t.ok(clients.every(c => c.destroyed), 'client streams closed')
    t.ok(accepted.every(s => s.destroyed), 'server-side streams closed')

    // Nothing listens any more.
    const after = dial(t, server.address)
    t.equal(codeOf(await once(after, 'error')), 'ECONNREFUSED', 'a new dial is refused')
  })
}

t.test('MAX_WS_MESSAGE: an oversize websocket message closes that connection with 1009', async t => {
  const received = []
  const serverErrors = []
  const server = await listen('ws', { host: '127.0.0.1' }, stream => {
    const r = { bytes: 0, stream }
    received.push(r)
    stream.on('error', err => serverErrors.push(err))
    stream.on('data', c => {
      r.bytes += c.length
      if (r.bytes === MAX_WS_MESSAGE) stream.write('ok')
    })
  })
  t.teardown(() => server.close())

  const open = async () => {
    const ws = new WebSocket(server.address, { perMessageDeflate: false })
    ws.on('error', () => {})
    t.teardown(() => ws.terminate())
    await once(ws, 'open')
    return ws
  }

  // Exactly MAX_WS_MESSAGE is accepted.
  const fits = await open()
  const reply = once(fits, 'message')
  fits.send(Buffer.alloc(MAX_WS_MESSAGE, 1))
  t.equal(String(await reply), 'ok', 'a message of exactly MAX_WS_MESSAGE bytes gets through')

  // One byte more closes the connection with 1009 (message too big).
  const tooBig = await open()
  const closed = new Promise(resolve => tooBig.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
  tooBig.send(Buffer.alloc(MAX_WS_MESSAGE + 1, 2))
  const { code } = await closed
  t.equal(code, 1009, 'closed with 1009')
  t.ok(received.length >= 2, 'the server had accepted it')
  t.equal(received[1].bytes, 0, 'no byte of the oversize message reached the stream')
  t.ok(serverErrors.length > 0 || received[1].stream.destroyed, 'the server-side stream was torn down')

  // The first connection is untouched and the server still works.
  t.equal(fits.readyState, WebSocket.OPEN, 'the other connection is still open')
  const again = await open()
  const reply2 = once(again, 'message')
  again.send(Buffer.alloc(MAX_WS_MESSAGE, 3))
  t.equal(String(await reply2), 'ok', 'the same server accepts a new connection and a full-size message')
})

t.test('createWebSocketServer: websockets on your own HTTP server, its other requests stay yours', async t => {
  const server = http.createServer((_req, res) => res.end('yours\n'))
  const accepted = []
  const wss = createWebSocketServer({ server }, (stream, info) => {
    accepted.push(info)
    stream.on('error', () => {})
    stream.pipe(stream)
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { wss.close(); return new Promise(resolve => server.close(resolve)) })
  const { port } = server.address()

  const body = await new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/`, res => { let b = ''; res.on('data', d => { b += d }); res.on('end', () => resolve(b)) }).on('error', reject)
  })
  t.equal(body, 'yours\n', 'a plain request reaches the owner\'s handler')

  const client = dial(t, `ws://127.0.0.1:${port}`)
  await once(client, 'connect')
  client.write('echo')
  t.equal(String(await readBytes(client, 4)), 'echo', 'a websocket is piped as a stream')
  t.same(accepted, [{ host: '127.0.0.1' }], 'with the remote host')

  // The same message bound as listen('ws'): one byte over closes with 1009.
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false })
  ws.on('error', () => {})
  t.teardown(() => ws.terminate())
  await once(ws, 'open')
  const closed = new Promise(resolve => ws.once('close', code => resolve(code)))
  ws.send(Buffer.alloc(MAX_WS_MESSAGE + 1))
  t.equal(await closed, 1009, 'MAX_WS_MESSAGE holds')
})

t.test('resolveTransportOption: a function, the peernet/transport module, or a clear TypeError', async t => {
  const fn = address => transport(address)
  t.equal(resolveTransportOption(fn), fn, 'a function is the transport')
  t.equal(resolveTransportOption(transportModule), transport, 'the module namespace gives its transport export')
  t.equal(resolveTransportOption({ ...transportModule }), transport, 'so does a copy of it (what require() hands CommonJS)')
  t.equal(resolveTransportOption(undefined), undefined, 'unset means the default')
  t.equal(resolveTransportOption(null), undefined, 'null too')
  for (const [bad, got] of [[{}, 'an object without a transport function'], ['tcp', 'a string'], [{ transport: 'tcp' }, 'an object without a transport function'], [42, 'a number']]) {
    t.throws(() => resolveTransportOption(bad), {
      name: 'TypeError',
      message: `opts.transport must be a function (address) => duplex stream, such as the default export of peernet/transport; got ${got}`
    }, `${JSON.stringify(bad)} is refused`)
  }
})

t.test('no child process was started anywhere in this file', async t => {
  t.same(started, [], 'child_process was never used')
})
