// Connect by id through the real bin/peernet against real daemons on loopback: A and B listen,
// C only dials out (no `listen`, no address). `peernet connect ID` with no address: from C to B
// by B's presence record (a dial), from B to C by a dial-back; an id nobody holds is "no route"
// (exit 1, one line); a malformed id is a usage error (exit 2).
import t from 'tap'
import { datadir, oneLine } from './lib/cli.js'
import { until } from './lib/helpers.js'

const FAST = ['--connections', '2', '--interval', '500']
const rows = r => r.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l))

t.test('connect ID: a dial at the presence record\'s address, a dial-back to a node that only dials out, and no route', async t => {
  const [a, b, c] = [datadir(t), datadir(t), datadir(t)]
  await Promise.all([a, b, c].map(d => d.start(...FAST)))
  const aUrl = (await a.run(['listen', 'tcp'])).stdout.trim()
  const bUrl = (await b.run(['listen', 'tcp'])).stdout.trim()
  const [, bId, cId] = await Promise.all([a, b, c].map(async d => (await d.run(['id'])).stdout.trim()))
  t.equal((await b.run(['connect', aUrl])).code, 0)
  t.equal((await c.run(['connect', aUrl])).code, 0)
  const status = async d => JSON.parse((await d.run(['ring', '--json'])).stdout).status
  await until(async () => (await Promise.all([a, b, c].map(status))).every(s => s === 'joined'), { ms: 60_000, every: 250, what: 'the three daemons to join the ring' })
  t.same(JSON.parse((await c.run(['status', '--json'])).stdout).addresses, [], 'C has no address')

  // The ring links every node of three to the others: each link is dropped first (and held
  // off by the one who dropped it); connecting by id lifts that hold.
  const linked = async (d, id) => (await d.run(['connections', '--json'])).stdout.includes(id)
  if (await linked(c, bId)) t.equal((await c.run(['disconnect', bId])).code, 0)
  t.notOk(await linked(c, bId), 'C has no link to B')
  const toB = await c.run(['connect', bId])
  t.same([toB.code, toB.stdout, toB.stderr], [0, `connected to ${bUrl}\n`, ''], `C reaches B by its id alone: a dial at its presence address (${toB.stderr.trim()})`)
  t.ok(await linked(c, bId), 'C holds the link')

  if (await linked(b, cId)) t.equal((await b.run(['disconnect', cId])).code, 0)
  t.notOk(await linked(b, cId), 'B has no link to C')
  const toC = await b.run(['connect', cId, '--json'])
  t.equal(toC.code, 0, toC.stderr)
  // C's own ring asks for B again too, once B's hold is lifted: when it is first, the link is
  // open by the time B looks (node-reach.test.js holds the dial-back path alone).
  const row = rows(toC)[0]
  t.match(row, { id: cId, address: null }, 'connect --json: the id, and no address (C has none)')
  t.ok(row.path === 'dial-back' || row.path === 'linked', `reached C (${row.path})`)
  const cRow = rows(await c.run(['connections', '--json'])).find(p => p.id === bId)
  t.equal(cRow?.direction, 'out', 'C dialed the link to B: nobody can dial C')

  const nobody = 'ab'.repeat(32)
  oneLine(t, await a.run(['connect', nobody]), 1, new RegExp(`^peernet: no route to ${nobody}: not found`), 'an id nobody holds')
  oneLine(t, await a.run(['connect', 'ab'.repeat(31)]), 2, /is not a node id \(64 hex digits\)/, 'a short id is a usage error')
})

t.test('introduce: no peer to ask, or one not connected, is one line; the daemon asks the one named', async t => {
  // (In a ring this small every node links to every other as soon as it hears of it, so a new
  // peer through an introduction is shown by node-reach.test.js, on a ring of sixteen.)
  const [a, d] = [datadir(t), datadir(t)]
  await Promise.all([a.start(...FAST), d.start(...FAST)])
  oneLine(t, await d.run(['introduce']), 1, /no connected peer to ask for an introduction/, 'no peer to ask')
  const aUrl = (await a.run(['listen', 'tcp'])).stdout.trim()
  const aId = (await a.run(['id'])).stdout.trim()
  t.equal((await d.run(['connect', aUrl])).code, 0)
  oneLine(t, await d.run(['introduce', aUrl]), 1, new RegExp(`^peernet: ${aId} knows no peer this node has no link to`), 'an introducer with no other peer')
  oneLine(t, await d.run(['introduce', aId]), 1, new RegExp(`^peernet: ${aId} knows no peer`), 'the introducer named by its id')
  oneLine(t, await d.run(['introduce', 'tcp://127.0.0.1:9']), 1, /not connected to tcp:\/\/127\.0\.0\.1:9: an introducer must be a connected peer/, 'an introducer that is no connected peer')
  oneLine(t, await d.run(['introduce', 'nonsense']), 2, /neither an address/, 'a PEER that is neither an address nor an id')
})
