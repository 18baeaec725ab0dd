// Connect by id through the real bin/peernet against real daemons on loopback. `peernet connect
// ID` with no address: an open link is reused; two daemons that only dial out (no `listen`, no
// address), both linked to a third, reach each other over WebRTC, signalled over the ring, and
// `connections` shows the link as webrtc; an id nobody holds is "no route" (exit 1, one line);
// a malformed id is a usage error (exit 2). `introduce`'s errors. Two that only dial out with
// WebRTC off reach each other through a relay, by `introduce` and by `connect ID`, and
// `connections` shows it as relay.
import t from 'tap'
import { datadir, oneLine } from './lib/cli.js'
import { until } from './lib/helpers.js'

const FAST = ['--connections', '2', '--interval', '500']
const rows = r => r.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l))

t.test('connect ID: an open link is reused; an id nobody holds is no route; a short id is a usage error', async t => {
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

  // The ring links every node of three to the others (node-reach.test.js holds the dial and the
  // dial-back paths on a ring big enough to leave nodes unlinked): an open link is reused.
  const linked = async (d, id) => (await d.run(['connections', '--json'])).stdout.includes(id)
  await until(async () => await linked(c, bId), { ms: 30_000, every: 250, what: 'C to link to B' })
  const toB = await c.run(['connect', bId])
  t.same([toB.code, toB.stdout, toB.stderr], [0, `already connected to ${bId} at ${bUrl}\n`, ''], 'C connects to B by its id alone: the open link')
  const row = rows(await b.run(['connect', cId, '--json']))[0]
  t.match(row, { id: cId, address: null, path: 'linked' }, 'connect --json: the id, no address (C has none), and how')
  const cRow = rows(await c.run(['connections', '--json'])).find(p => p.id === bId)
  t.equal(cRow?.direction, 'out', 'C dialed the link to B: nobody can dial C')

  const nobody = 'ab'.repeat(32)
  // (`not found` when the ring routes the id to another node, as node-reach.test.js shows; in a
  // ring of three with a node that only dials out, the presence lookup or the request may loop
  // instead: no route all the same, each step named.)
  oneLine(t, await a.run(['connect', nobody]), 1, new RegExp(`^peernet: no route to ${nobody}: (not found|(no presence record|presence lookup failed \\([^)]*\\)), .*dial-back)`), 'an id nobody holds')
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

t.test('connect ID over webrtc: two daemons that only dial out, linked through a third, show the link as webrtc', async t => {
  const { webrtcUnavailable, releaseWebRTC } = await import('../lib/transport/webrtc.js')
  if (webrtcUnavailable() !== null) return t.skip(webrtcUnavailable())
  await releaseWebRTC()
  const [a, b, c] = [datadir(t), datadir(t), datadir(t)]
  const WEBRTC = ['--webrtc-bind', '127.0.0.1']
  await Promise.all([a.start(...FAST), b.start(...FAST, ...WEBRTC), c.start(...FAST, ...WEBRTC)])
  const aUrl = (await a.run(['listen', 'tcp'])).stdout.trim()
  const cId = (await c.run(['id'])).stdout.trim()
  t.equal((await b.run(['connect', aUrl])).code, 0)
  t.equal((await c.run(['connect', aUrl])).code, 0)
  await until(async () => (await a.run(['connections'])).stdout.trim().split('\n').length === 2, { ms: 30_000, every: 250, what: 'A to hold both links' })
  t.notOk((await b.run(['connections'])).stdout.includes(cId), 'B has no link to C: neither can dial the other')
  const r = await b.run(['connect', cId])
  t.same([r.code, r.stdout, r.stderr], [0, `connected to ${cId} over webrtc\n`, ''], 'connect C_ID from B: over webrtc')
  t.match((await b.run(['connections'])).stdout, new RegExp(`^${cId}\twebrtc$`, 'm'), 'connections shows the link as webrtc')
  const atC = rows(await c.run(['connections', '--json'])).filter(p => p.transport === 'webrtc')
  t.match(atC, [{ direction: 'in', address: null }], 'C holds the inbound end, carried by webrtc')
})

t.test('connect ID through a relay: two daemons with --no-webrtc that only dial out; --no-relay on the third is named', async t => {
  const [a, b, c] = [datadir(t), datadir(t), datadir(t)]
  await Promise.all([a.start(...FAST), b.start(...FAST, '--no-webrtc'), c.start(...FAST, '--no-webrtc')])
  const aUrl = (await a.run(['listen', 'tcp'])).stdout.trim()
  const [aId, bId, cId] = await Promise.all([a, b, c].map(async d => (await d.run(['id'])).stdout.trim()))
  t.equal((await b.run(['connect', aUrl])).code, 0)
  t.equal((await c.run(['connect', aUrl])).code, 0)
  await until(async () => (await a.run(['connections'])).stdout.trim().split('\n').length === 2, { ms: 30_000, every: 250, what: 'A to hold both links' })
  // introduce: A names C, whom B has no link to; only a relay through A can join them.
  const intro = await b.run(['introduce', aUrl])
  t.same([intro.code, intro.stdout, intro.stderr], [0, `connected to ${cId} (relay), introduced by ${aId}\n`, ''], 'introduce: a new peer through A')
  t.equal((await b.run(['disconnect', cId])).code, 0)
  await until(async () => !(await c.run(['connections'])).stdout.includes(bId), { ms: 30_000, every: 250, what: 'C to drop B' })
  const r = await b.run(['connect', cId])
  t.same([r.code, r.stdout, r.stderr], [0, `connected to ${cId} over relay\n`, ''], 'connect C_ID from B: through A')
  t.match((await b.run(['connections'])).stdout, new RegExp(`^${cId}\trelay$`, 'm'), 'connections shows the link as relay')
  t.match(rows(await c.run(['connections', '--json'])).filter(p => p.transport === 'relay'), [{ id: bId, direction: 'in', address: null }], 'C holds the inbound end')
  // A message over it, as over any link.
  const sent = await b.run(['send', cId, '"through a"'])
  t.equal(sent.code, 0, 'send over the relayed link')

  // A, restarted with --no-relay: the relay step says why it failed.
  t.equal((await a.run(['stop'])).code, 0)
  await a.start(...FAST, '--no-relay')
  t.equal((await a.run(['servers'])).stdout.includes(aUrl), true, 'A listens where it did')
  for (const d of [b, c]) await until(async () => (await d.run(['connect', aUrl])).code === 0, { ms: 30_000, every: 250, what: 'a link to A again' })
  await until(async () => (await b.run(['connections'])).stdout.includes(aId) && !(await b.run(['connections'])).stdout.includes(cId), { ms: 30_000, every: 250, what: 'B linked to A again, not to C' })
  oneLine(t, await b.run(['connect', cId]), 1, new RegExp(`^peernet: no route to ${cId}: .*webrtc failed: webrtc is off.*relay failed: .*relay: false`), 'every step named, the relay\'s refusal last')
})
