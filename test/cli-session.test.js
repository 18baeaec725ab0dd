// The CLI's session: several requests on one control connection, each answered by its id (a long
// `add` keeps ADD_WINDOW of them in flight). In-process, against a real daemon.
import t from 'tap'
import net from 'node:net'
import { join } from 'node:path'
import { datadir } from './lib/cli.js'
import { until, tempDir } from './lib/helpers.js'
import { session, rows, NotRunning, DaemonError } from '../lib/cli/client.js'
import { MAX_CLIENTS } from '../lib/control/protocol.js'

async function daemon (t) {
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  return join(d.dir, 'run', 'control.sock')
}

t.test('requests sent at once are answered each by its own id, handled in the order sent', async t => {
  const socket = await daemon(t)
  const s = session(socket)
  t.teardown(() => s.close())
  const A = 'tcp://127.0.0.1:1'
  const B = 'tcp://127.0.0.1:2'
  const answers = await Promise.all([
    s.send('add', { addresses: [A] }),
    s.send('add', { addresses: [A, B] }),
    s.send('stats', { address: B }),
    s.send('rm', { addresses: [A] })
  ])
  t.same([answers[0], answers[1], answers[3]], [
    [{ count: 1, added: 1, already: 0 }],
    [{ count: 2, added: 1, already: 1 }],
    [{ count: 1, removed: 1, unknown: 0 }]
  ])
  t.match(answers[2], [{ address: B, saved: true }], 'stats after the add that saved B knows B')
  t.same(await s.send('stats', { address: B }), await rows(socket, 'stats', { address: B }), 'the same answer as a request of its own connection')
})

t.test("one request's error is that request's alone", async t => {
  const socket = await daemon(t)
  const s = session(socket)
  t.teardown(() => s.close())
  const bad = s.send('add', { addresses: ['nota url'] })
  const good = s.send('add', { addresses: ['tcp://127.0.0.1:1'] })
  await t.rejects(bad, { name: 'DaemonError', code: 'EINVAL' })
  t.same(await good, [{ count: 1, added: 1, already: 0 }])
})

t.test('closing the session rejects what is not answered yet, and what is sent after', async t => {
  const socket = await daemon(t)
  const s = session(socket)
  const pending = s.send('status', {})
  s.close()
  await t.rejects(pending, /the session was closed/)
  await t.rejects(s.send('status', {}), /the session was closed/)
})

t.test('no daemon on the socket: every request fails with NotRunning', async t => {
  const d = datadir(t)
  const s = session(join(d.dir, 'run', 'control.sock'))
  const [a, b] = await Promise.allSettled([s.send('status', {}), s.send('add', { addresses: ['tcp://127.0.0.1:1'] })])
  t.ok(a.reason instanceof NotRunning && b.reason instanceof NotRunning, 'both rejected with NotRunning')
})

t.test(`an error row for no request (EBUSY past MAX_CLIENTS, ${MAX_CLIENTS}) fails every request of the session`, async t => {
  const socket = await daemon(t)
  const held = session(socket)
  const raws = []
  t.teardown(() => {
    held.close()
    for (const c of raws) c.destroy()
  })
  for (let i = 1; i < MAX_CLIENTS; i += 64) {
    raws.push(...await Promise.all(Array.from({ length: Math.min(64, MAX_CLIENTS - i) }, () => new Promise((resolve, reject) => {
      const c = net.connect(socket, () => resolve(c)).on('error', reject)
    }))))
  }
  await until(async () => (await held.send('status', {}))[0].limits.controlClients === MAX_CLIENTS, { what: `the daemon to hold ${MAX_CLIENTS} clients` })
  const s = session(socket)
  const [a, b] = await Promise.allSettled([s.send('status', {}), s.send('add', { addresses: ['tcp://127.0.0.1:1'] })])
  t.ok(a.reason instanceof DaemonError && b.reason instanceof DaemonError, 'both rejected with the daemon\'s error')
  t.same([a.reason.code, b.reason.code], ['EBUSY', 'EBUSY'])
  t.same((await held.send('known', {})), [], 'nothing was added')
})

t.test('a socket that answers with a line that is not JSON fails the call and every request of a session', async t => {
  const dir = tempDir(t)
  const socket = join(dir, 'not-a-daemon.sock')
  const server = net.createServer(c => { c.on('error', () => {}); c.once('data', () => c.write('HTTP/1.1 400 Bad Request\n')) })
  await new Promise(resolve => server.listen(socket, resolve))
  t.teardown(() => server.close())
  await t.rejects(rows(socket, 'status'), { message: 'the daemon sent a line that is not JSON' }, 'call')
  const s = session(socket)
  t.teardown(() => s.close())
  const both = [s.send('status', {}), s.send('known', {})]
  for (const p of both) await t.rejects(p, { message: 'the daemon sent a line that is not JSON' }, 'session')
})
