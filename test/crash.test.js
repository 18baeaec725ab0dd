// Crash safety: kill -9 of the daemon at seeded random moments during heavy add/join traffic,
// 20 times over one data dir. Every request whose end row arrived before the kill must be in
// the table after the restart, and the db must open every time. Raw control-socket requests,
// many in flight at once, so each round takes well under a second of traffic.
import t from 'tap'
import { join } from 'node:path'
import { datadir, alive } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { controlClient } from './lib/control.js'

const gone = pid => !alive(pid)
import { seededRandom } from '../lib/index.js'

const QUIET = ['--connections', '0', '--interval', '0']
const ROUNDS = 20



t.test(`kill -9 at ${ROUNDS} seeded random moments during add/join traffic loses no acknowledged write`, async t => {
  const d = datadir(t, 'pncrash')
  const socket = join(d.dir, 'run', 'control.sock')
  const random = seededRandom(0xc0ffee)
  const int = n => Math.floor(random() * n)
  const ackedAddrs = new Set()
  const ackedSubnets = new Set()
  let counter = 0
  const freshAddr = () => { const n = counter++; return `tcp://127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:${1000 + int(60000)}` }

  async function verify (round) {
    const c = await controlClient(socket)
    const known = await c.request('known')
    const subnets = await c.request('subnets')
    c.sock.destroy()
    t.equal(known.error, null, `round ${round}: known answers`)
    const have = new Set(known.rows.map(r => r.address))
    const lost = [...ackedAddrs].filter(a => !have.has(a))
    t.same(lost.slice(0, 5), [], `round ${round}: all ${ackedAddrs.size} acknowledged addresses are there`)
    const joined = new Set(subnets.rows.map(r => r.subnet))
    const lostSubnets = [...ackedSubnets].filter(s => !joined.has(s))
    t.same(lostSubnets.slice(0, 5), [], `round ${round}: all ${ackedSubnets.size} acknowledged subnets are there`)
  }

  for (let round = 0; round < ROUNDS; round++) {
    const t0 = Date.now()
    const pid = await d.start(...QUIET) // throws if the db does not open
    const t1 = Date.now()
    if (round > 0) await verify(round)
    if (process.env.CRASH_TIMING) console.error('start', t1 - t0, 'verify', Date.now() - t1)
    const clients = await Promise.all([controlClient(socket), controlClient(socket), controlClient(socket)])
    let killed = false
    // Each client keeps several requests in flight until the kill.
    const traffic = clients.map(async c => {
      const inflight = new Set()
      while (!killed) {
        while (inflight.size < 8 && !killed) {
          let p
          if (random() < 0.7) {
            const addresses = Array.from({ length: 1 + int(6) }, freshAddr)
            p = c.request('add', { addresses }).then(a => { if (!a.error) addresses.forEach(x => ackedAddrs.add(x)) })
          } else {
            const subnets = Array.from({ length: 1 + int(4) }, () => `s${counter++}`)
            p = c.request('join', { subnets }).then(a => { if (!a.error) subnets.forEach(x => ackedSubnets.add(x)) })
          }
          const tracked = p.catch(() => {}).finally(() => inflight.delete(tracked))
          inflight.add(tracked)
        }
        await Promise.race(inflight)
      }
      await Promise.all(inflight)
    })
    await new Promise(resolve => setTimeout(resolve, 20 + int(250)))
    process.kill(pid, 'SIGKILL')
    killed = true
    const t2 = Date.now()
    await until(() => gone(pid), { what: `daemon ${pid} to die` })
    if (process.env.CRASH_TIMING) console.error('die', Date.now() - t2)
    for (const c of clients) c.sock.destroy()
    await Promise.all(traffic)
  }
  await d.start(...QUIET)
  await verify(ROUNDS)
  t.ok(ackedAddrs.size > 500, `${ackedAddrs.size} addresses and ${ackedSubnets.size} subnets were acknowledged over ${ROUNDS} kills`)
})
