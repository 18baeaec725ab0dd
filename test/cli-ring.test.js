// The ring through the real bin/peernet against four real daemons on loopback: they join one
// ring and agree on `owner foo`; `ring` and `status` show where each stands.
import t from 'tap'
import { datadir, oneLine } from './lib/cli.js'
import { until } from './lib/helpers.js'

// Rounds of half a second: the ring settles in a few of them (the default is 5 s).
const FAST = ['--connections', '2', '--interval', '500']

t.test('four daemons join one ring and agree on owner foo; ring and status show it', async t => {
  const ds = [datadir(t), datadir(t), datadir(t), datadir(t)]
  await Promise.all(ds.map(d => d.start(...FAST)))
  const urls = []
  for (const d of ds) urls.push((await d.run(['listen', 'tcp'])).stdout.trim())
  const ids = await Promise.all(ds.map(async d => (await d.run(['id'])).stdout.trim()))
  // A chain of connects: each knows one other node; the ring finds the rest.
  for (let i = 1; i < ds.length; i++) t.equal((await ds[i].run(['connect', urls[i - 1]])).code, 0)
  const ring = async d => JSON.parse((await d.run(['ring', '--json'])).stdout)
  await until(async () => (await Promise.all(ds.map(ring))).every(r => r.status === 'joined'), { ms: 60_000, every: 250, what: 'every daemon to join the ring' })

  // Joined is each node's own view; the ring as a whole settles a round or two later (on a
  // loaded machine, later still): the four agree once it has.
  let owners = []
  await until(async () => {
    owners = await Promise.all(ds.map(async d => JSON.parse((await d.run(['owner', 'foo', '--json'])).stdout)))
    return new Set(owners.map(o => o.id)).size === 1
  }, { ms: 60_000, every: 250, what: 'the four to name the same owner of foo' })
  t.equal(new Set(owners.map(o => o.id)).size, 1, `all four name the same owner (${owners.map(o => o.id.slice(0, 8))})`)
  const at = ids.indexOf(owners[0].id)
  t.ok(at >= 0, 'the owner is one of the four')
  t.same(owners[0].addresses, [urls[at]], 'with its address')
  t.equal((await ds[0].run(['owner', 'foo'])).stdout, `${ids[at]}\t${urls[at]}\n`, 'owner: the id, a tab, the first address')

  const sorted = [...ids].sort()
  const next = sorted[(sorted.indexOf(ids[0]) + 1) % 4]
  let r = null
  await until(async () => { r = await ring(ds[0]); return r.successors[0]?.id === next }, { ms: 60_000, every: 250, what: 'the successor to be the next id' })
  t.equal(r.successors.length > 0 && r.predecessor !== null, true, 'ring --json: a predecessor and successors')
  t.equal(r.successors[0].id, next, 'the successor is the next id round the circle')
  const text = (await ds[0].run(['ring'])).stdout
  t.match(text, /^status: +joined \(\d+ links; about \d+ nodes\)$/m, 'ring: the status line')
  t.match(text, new RegExp(`^successors: +${r.successors[0].id} ${r.successors[0].addresses[0]}$`, 'm'), 'ring: a node as ID ADDR')
  t.match((await ds[0].run(['status'])).stdout, /^ring: +joined$/m, 'status shows the ring state')

  // A member, and a search from the node least linked to it: the ring answers with its record.
  t.equal((await ds[3].run(['join', 'chat'])).code, 0)
  const links = async d => (await d.run(['connections', '--json'])).stdout.trim().split('\n').filter(Boolean).map(l => JSON.parse(l).id)
  const unlinked = []
  for (const d of ds.slice(0, 3)) if (!(await links(d)).includes(ids[3])) unlinked.push(d)
  t.comment(`${unlinked.length} of the other three have no link to the member`)
  const asker = unlinked[0] ?? ds[0]
  let row = null
  await until(async () => {
    const r = await asker.run(['search', 'chat', '--max', '1', '--json'])
    row = r.stdout === '' ? null : JSON.parse(r.stdout)
    return row !== null
  }, { ms: 30_000, every: 250, what: 'the member record to be found' })
  t.match(row, { hash: 'chat', address: urls[3], id: ids[3], addresses: [urls[3]], via: 'ring' }, 'search --json: the member, via the ring')
  t.equal((await asker.run(['search', 'chat', '--max', '1'])).stdout, `${urls[3]}\n`, 'search: its address')
  const flood = JSON.parse((await asker.run(['search', 'chat', '--max', '1', '--flood', '--json'])).stdout)
  t.match(flood, { address: urls[3], id: null, via: 'flood' }, 'search --flood: the same member, by flood')
})

t.test('owner: an empty or over-long value is a usage error; a lonely daemon answers for itself', async t => {
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  oneLine(t, await d.run(['owner', '']), 2, /empty/, 'an empty value')
  oneLine(t, await d.run(['owner', 'x'.repeat(1025)]), 2, /MAX_OWNER_VALUE/, 'an over-long value')
  const id = (await d.run(['id'])).stdout.trim()
  t.equal(JSON.parse((await d.run(['owner', 'foo', '--json'])).stdout).id, id, 'alone, a node is responsible for everything')
  t.match((await d.run(['ring'])).stdout, /^status: +lonely/m)
})
