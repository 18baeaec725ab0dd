// Integration: real nodes over real tcp and websocket servers on 127.0.0.1, real LevelDB.
import t from 'tap'
import net from 'node:net'
import { seededRandom, encodeFrame, PROTOCOL_VERSION, MAX_FRAME } from '../lib/index.js'
import { until, collect } from './lib/helpers.js'
import { realNode } from './lib/real-node.js'
import { noiseOver } from './lib/mem-nodes.js'

t.test('a chain of 5 over ws and tcp: the far end finds an accept-only first node, 4 hops away', async t => {
  const nodes = []
  for (let i = 0; i < 5; i++) {
    // the first node advertises nothing: it only accepts connections
    const pn = await realNode(t, i % 2 ? 'tcp' : 'ws', { advertise: i !== 0 })
    if (i > 0) await pn.connect(nodes[i - 1].url)
    nodes.push(pn)
  }
  await nodes[0].join('chat')
  const rows = await collect(nodes[4].search('chat', { timeout: 3000, max: 1, flood: true }))
  t.same(rows, [{ hash: 'chat', address: nodes[0].url, hops: 4, id: null, addresses: [nodes[0].url], via: 'flood' }])
})

t.test('20 nodes with random links and gossip on: every node finds the one member', async t => {
  const random = seededRandom(20)
  const nodes = []
  for (let i = 0; i < 20; i++) {
    const pn = await realNode(t, i % 3 ? 'tcp' : 'ws', { interval: 50, bootstrap: true, dialInterval: 50, connections: 4 })
    if (i > 0) await pn.connect(nodes[Math.floor(random() * i)].url)
    nodes.push(pn)
  }
  const member = nodes[Math.floor(random() * 20)]
  await member.join('needle')
  // gossip spreads addresses: wait until every node knows a few peers beyond its first link
  await until(() => nodes.every(n => n.table.size >= 4), { what: 'gossip to spread addresses', ms: 20000 })
  // The flood finds the member from everywhere at once.
  const flooded = await Promise.all(nodes.filter(n => n !== member).map(n => collect(n.search('needle', { timeout: 3000, max: 1, flood: true }))))
  t.ok(flooded.every(rows => rows.length === 1 && rows[0].address === member.url && rows[0].via === 'flood'), 'all 19 found the member by flood')
  t.ok(flooded.every(rows => rows[0].hops >= 1 && rows[0].hops <= 15), 'hop counts are within the limit')
  // The ring, once every node has joined it and the member's record is at its point (a round
  // or two after the join): from every node, the member's record.
  let viaRing = []
  await until(async () => {
    if (!nodes.every(n => n.ringStatus() === 'joined')) return false
    viaRing = await Promise.all(nodes.filter(n => n !== member).map(n => collect(n.search('needle', { timeout: 3000, max: 1 }))))
    return viaRing.every(rows => rows.length === 1)
  }, { what: 'every node to find the member through the ring', ms: 30000, every: 200 })
  t.ok(viaRing.every(rows => rows[0].address === member.url && rows[0].id === member.id && rows[0].via === 'ring'), 'all 19 found the member through the ring')
})

t.test('two network ids refuse to mix over tcp', async t => {
  const red = await realNode(t, 'tcp', { network: 'red' })
  const blue = await realNode(t, 'ws', { network: 'blue' })
  await t.rejects(blue.connect(red.url), /network mismatch/)
  await t.rejects(red.connect(blue.url), /network mismatch/)
  t.same(red.connections(), [])
  t.same(blue.connections(), [])
})

/** Open a raw tcp socket, send bytes, resolve when the node closes it. */
function rawTcp (url, bytes) {
  const { port } = new URL(url.replace('tcp:', 'http:'))
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(bytes))
    const got = []
    s.on('data', d => got.push(d))
    // A reset is an answer too: the node drops a peer that does not speak Noise.
    s.on('error', () => {})
    s.on('close', () => resolve(Buffer.concat(got)))
  })
}

t.test('plaintext, garbage and oversize frames on a real port: dropped at the secure handshake, refused with the reason, the node goes on serving', async t => {
  const a = await realNode(t, 'tcp')
  await a.join('alive')
  const refused = []
  a.on('refused', e => refused.push(e))
  const head = Buffer.alloc(4)
  head.writeUInt32BE(MAX_FRAME + 1)
  const replies = await Promise.all([
    rawTcp(a.url, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
    rawTcp(a.url, head),
    rawTcp(a.url, Buffer.concat([encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', nonce: '0123456789abcdef', addrs: [] }), Buffer.from([0, 0, 0, 2, 123, 125])])),
    rawTcp(a.url, Buffer.alloc(100000, 0xff))
  ])
  for (const r of replies) t.notMatch(r.toString('latin1'), /"type"|peernet/, 'each is closed, and hears nothing in plaintext')
  await until(() => refused.length === replies.length, { what: 'a refusal for each' })
  for (const e of refused) {
    t.equal(e.address, null, 'inbound: no address to blame')
    t.match(e.reason, /^secure handshake failed: /)
  }
  const b = await realNode(t, 'ws')
  await b.connect(a.url)
  t.same((await collect(b.search('alive', { timeout: 3000, max: 1 }))).map(r => r.address), [a.url])
})

t.test('a gossiped notaurl, file:// or ssh:// address over real sockets is refused, not dialed', async t => {
  const a = await realNode(t, 'tcp', { interval: 20 })
  const sockets = new Set()
  const evil = net.createServer(sock => {
    sockets.add(sock)
    const s = noiseOver(sock, false)
    s.write(encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', nonce: '0123456789abcdef', addrs: ['file:///etc/passwd'] }))
    s.on('data', d => {
      if (d.includes('getaddrs')) s.write(encodeFrame({ type: 'addrs', addrs: ['notaurl', 'file:///etc/passwd', 'ssh://x', 'ls', '-'] }))
    })
    s.on('error', () => {})
  })
  await new Promise(resolve => evil.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => { for (const s of sockets) s.destroy(); evil.close(resolve) }))
  const events = []
  a.on('gossip', e => events.push(e))
  await a.connect(`tcp://127.0.0.1:${evil.address().port}`)
  await until(() => events.some(e => e.dir === 'rx'), { what: 'the gossip answer' })
  t.equal(events.find(e => e.dir === 'rx').refused, 5)
  t.same((await collect(a.known())).map(r => r.address), [`tcp://127.0.0.1:${evil.address().port}`])
})
