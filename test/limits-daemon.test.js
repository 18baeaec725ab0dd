// The daemon's limits: status shows each cap next to its use, MAX_SERVICES is enforced, and a
// `log` follower that stops reading is dropped with ESLOW once LOG_BUFFER events behind, while
// the daemon goes on answering others. Real daemons; raw control-socket requests.
import t from 'tap'
import { join } from 'node:path'
import { datadir } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { controlClient } from './lib/control.js'
import { MAX_SERVICES } from '../lib/daemon/daemon.js'
import { LOG_BUFFER } from '../lib/daemon/log.js'
import { MAX_INBOUND, MAX_HANDSHAKING, MAX_PENDING_DIALS, MAX_SEARCHES, MAX_SEEN } from '../lib/index.js'

const QUIET = ['--connections', '0', '--interval', '0']


async function daemon (t) {
  const d = datadir(t)
  await d.start(...QUIET)
  d.socket = join(d.dir, 'run', 'control.sock')
  return d
}

t.test('status shows every cap next to its use, in --json and as text', async t => {
  const d = await daemon(t)
  const r = await d.run(['status', '--json'])
  t.equal(r.code, 0, r.stderr)
  const { limits } = JSON.parse(r.stdout)
  t.match(limits, {
    inbound: 0,
    maxInbound: MAX_INBOUND,
    outbound: 0,
    maxOutbound: 0,
    handshaking: 0,
    maxHandshaking: MAX_HANDSHAKING,
    pendingDials: 0,
    maxPendingDials: MAX_PENDING_DIALS,
    searches: 0,
    maxSearches: MAX_SEARCHES,
    seen: 0,
    maxSeen: MAX_SEEN,
    services: 0,
    maxServices: MAX_SERVICES,
    logBuffer: LOG_BUFFER,
    sourceCap: Number
  })
  const text = await d.run(['status'])
  t.equal(text.code, 0, text.stderr)
  for (const k of ['inbound', 'outbound', 'pendingDials', 'maxPendingDials', 'searches', 'maxSearches', 'handshaking', 'services', 'maxServices']) {
    t.match(text.stdout, new RegExp(`^  ${k}: \\d+$`, 'm'), `peernet status shows ${k}`)
  }
})

t.test(`MAX_SERVICES (${MAX_SERVICES}): one more listen fails with ELIMIT`, async t => {
  const d = await daemon(t)
  const c = await controlClient(d.socket, t)
  for (let i = 0; i < MAX_SERVICES; i++) {
    const a = await c.request('listen', { protocol: 'tcp' })
    if (a.error) throw new Error(`listen ${i} failed: ${a.error.message}`)
  }
  const extra = await c.request('listen', { protocol: 'tcp' })
  t.match(extra.error, { code: 'ELIMIT', message: new RegExp(`MAX_SERVICES is ${MAX_SERVICES}`) })
  const st = await c.request('status')
  t.equal(st.rows[0].limits.services, MAX_SERVICES, 'status counts the services at the cap')
})

t.test(`a log follower that stops reading is dropped with ESLOW past LOG_BUFFER (${LOG_BUFFER}); the daemon goes on`, async t => {
  const d = await daemon(t)
  const reader = await controlClient(d.socket, t)
  reader.send('log', { follow: true, lines: 0 }, 'follow')
  const other = await controlClient(d.socket, t)
  await until(async () => (await other.request('status')).rows[0].limits.logFollowers === 1, { what: 'the follower to be counted' })
  reader.sock.pause()
  const names = Array.from({ length: 1000 }, (_, i) => `slow-${i}`)
  // 20,000 events (a join or part row per subnet) while the reader reads nothing.
  for (let i = 0; i < 10; i++) {
    const j = await other.request('join', { subnets: names })
    const p = await other.request('part', { subnets: names })
    if (j.error || p.error) throw new Error('join/part failed')
  }
  await until(async () => (await other.request('status')).rows[0].limits.logFollowers === 0, { what: 'the slow follower to be dropped' })
  t.pass('the slow follower was dropped while still paused')
  const st = await other.request('status')
  t.equal(st.error, null, 'the daemon answers others')
  reader.sock.resume()
  await until(() => reader.msgs.some(m => m.error), { what: 'the ESLOW row' })
  const err = reader.msgs.find(m => m.error)
  t.match(err, { id: 'follow', error: { code: 'ESLOW', message: new RegExp(`${LOG_BUFFER}`) } }, 'the reader is told ESLOW, with its request id')
  const rows = reader.msgs.filter(m => 'row' in m).length
  t.ok(rows < 20_000, `it got ${rows} rows before, not all 20,000: its backlog was bounded`)
  t.equal(reader.msgs[reader.msgs.length - 1].error?.code, 'ESLOW', 'ESLOW is the last thing it gets')
})
