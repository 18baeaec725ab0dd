// Table poisoning (eclipse resistance): one attacker over real TCP, from its own loopback
// address 127.9.9.9 (and four more identities in the same /24), answers every getaddrs with 100
// fresh addresses until it has sent 100,000, next to nine honest informants, each from its own
// 127.x.0.1 (its own /24). The attacker's share of the table stays at most the informant cap,
// and of the node's connections near its share of the table. Every address is on 127/8, and the
// poisoned node never dials during the flood. Then the same LevelDB is reopened by a node that
// dials: every stored address gets a real TCP listener of its own on 127/8 that completes the
// handshake, and the dialer reaches them through the default transport.
import t from 'tap'
import net from 'node:net'
import { MemoryLevel } from 'memory-level'
import {
  peernet, listen, encodeFrame, FrameDecoder, parseAddress, sourceCap, VirtualClock, seededRandom,
  PROTOCOL_VERSION, DEFAULT_INFORMANT_SHARE
} from '../lib/index.js'
import { HEX, NONCE, noiseOver } from './lib/mem-nodes.js'
import { until, tempLevel } from './lib/helpers.js'

const TABLE = 1000
const CAP = sourceCap(TABLE, DEFAULT_INFORMANT_SHARE)
const hello = (id, addrs = []) => ({ type: 'hello', version: PROTOCOL_VERSION, network: 'peernet', id: HEX(id), nonce: NONCE, addrs })

/** A raw peer over TCP from localAddress: answers each getaddrs with answer(). */
function tcpPeer (t, port, localAddress, id, helloAddrs, answer) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true })
    t.teardown(() => sock.destroy())
    const dec = new FrameDecoder()
    const peer = { sock, asked: 0, sent: 0, closed: false }
    const link = noiseOver(sock, true, HEX(id))
    sock.on('error', reject)
    sock.on('close', () => { peer.closed = true })
    sock.on('connect', () => {
      link.write(encodeFrame(hello(id, helloAddrs)))
      resolve(peer)
    })
    link.on('data', chunk => {
      for (const m of dec.push(chunk)) {
        if (m.type !== 'getaddrs') continue
        peer.asked++
        const addrs = answer()
        peer.sent += addrs.length
        link.write(encodeFrame({ type: 'addrs', addrs }))
      }
    })
  })
}

const isLoopback = a => /^127\./.test(parseAddress(a).host)

/**
 * A real TCP listener at each address (all on 127/8), closed at teardown. Each accepted
 * connection gets a hello from a fresh peer id and nothing else; `accepted` counts per address.
 */
async function listenAt (t, addresses) {
  const accepted = new Map()
  let ids = 0
  for (const address of addresses) {
    const { host, port } = parseAddress(address)
    const server = await listen('tcp', { host, port }, raw => {
      accepted.set(address, (accepted.get(address) ?? 0) + 1)
      raw.on('error', () => {})
      const stream = noiseOver(raw, false, HEX(`f${++ids}`))
      stream.on('data', () => {})
      stream.on('end', () => stream.destroy())
      stream.write(encodeFrame(hello(`f${ids}`)))
    })
    t.teardown(() => server.close())
  }
  return accepted
}

t.test('one attacker sending 100,000 addresses holds at most its cap of the table and about its share of connections', async t => {
  const db = tempLevel(t)
  const clock = new VirtualClock(1_000_000)
  const node = peernet(db, { clock, random: seededRandom(9), interval: 100, purge: 0, bootstrap: false, tableSize: TABLE })
  t.teardown(() => node.close())
  const server = await listen('tcp', { host: '127.0.0.1' }, (stream, info) => node.accept(stream, info))
  t.teardown(() => server.close())
  const { port } = server
  await node.ready
  const saved = Array.from({ length: 20 }, (_, i) => `tcp://127.77.0.${i + 1}:30000`)
  await node.save(saved)

  let fresh = 0
  const attackerAddrs = new Set()
  const attack = () => Array.from({ length: 100 }, () => {
    const n = fresh++
    const a = `tcp://127.66.${(n >> 8) & 255}.${n & 255}:${40000 + (n >> 16)}`
    attackerAddrs.add(a)
    return a
  })
  const honest = []
  for (let i = 1; i <= 9; i++) {
    let k = 0
    honest.push(await tcpPeer(t, port, `127.${i}.0.1`, `a${i}`, [], () => Array.from({ length: 32 }, () => `tcp://127.${20 + i}.${(k >> 8) & 255}.${k++ & 255}:4000`)))
  }
  const helloAddrs = Array.from({ length: 8 }, (_, i) => `tcp://127.66.255.${i}:40007`)
  helloAddrs.forEach(a => attackerAddrs.add(a))
  // Five identities in one /24: the group cap holds them all together.
  const attackers = []
  for (let i = 0; i < 5; i++) attackers.push(await tcpPeer(t, port, `127.9.9.${9 + i}`, `bad${i}`, i === 0 ? helloAddrs : [], attack))
  await until(() => node.connections().length === 14, { what: 'all 14 peers connected' })

  // Gossip rounds on the virtual clock; each asks one peer at random and waits for its answer.
  let rounds = 0
  while (attackers.reduce((n, a) => n + a.sent, 0) < 100_000) {
    const answered = new Promise(resolve => node.once('gossip', function on (e) { if (e.dir === 'rx') resolve(); else node.once('gossip', on) }))
    clock.advance(100)
    await answered
    rounds++
    if (rounds > 40_000) throw new Error('too many rounds')
  }
  const sent = attackers.reduce((n, a) => n + a.sent, 0)
  t.ok(sent >= 100_000, `the attacker sent ${sent} addresses in ${attackers.reduce((n, a) => n + a.asked, 0)} answers (${rounds} gossip rounds)`)
  t.ok(attackers.every(a => !a.closed), 'answering what it was asked is within the rules: the attacker stays connected')

  // What the node holds, as stored: its queued writes first (scan reads the database).
  await node.table.flushed()
  const rows = []
  for await (const r of node.table.scan()) rows.push(r)
  const learned = rows.filter(r => !r.user)
  const bad = learned.filter(r => attackerAddrs.has(r.address))
  const tableShare = bad.length / learned.length
  t.ok(node.table.sourceCount('group:ip4:127.9.9') <= CAP, `the attacker's /24 accounts for ${node.table.sourceCount('group:ip4:127.9.9')} <= CAP (${CAP})`)
  t.ok(bad.length <= CAP, `attacker entries ${bad.length} <= ${CAP}, ${DEFAULT_INFORMANT_SHARE * 100}% of the table's capacity`)
  t.ok(tableShare <= DEFAULT_INFORMANT_SHARE + 0.01, `attacker share of the table ${(tableShare * 100).toFixed(1)}%`)
  t.ok(learned.length <= TABLE, `the table holds ${learned.length} learned entries <= ${TABLE}`)
  for (let i = 1; i <= 9; i++) t.ok(node.table.sourceCount(`group:ip4:127.${i}.0`) > 0, `honest informant ${i} has entries`)
  t.ok(saved.every(a => node.table.get(a)?.user), 'every address the user saved is still there')
  t.ok(rows.every(r => isLoopback(r.address)), 'every stored address is on 127/8')

  for (const p of [...honest, ...attackers]) p.sock.destroy()
  await node.close()

  // Dialing: the same LevelDB, reopened by a node that dials through the default transport.
  const accepted = await listenAt(t, rows.map(r => r.address))
  const clock2 = new VirtualClock(2_000_000)
  const dialer = peernet(db, { clock: clock2, random: seededRandom(10), interval: 0, purge: 0, connections: 8, dialInterval: 100, tableSize: TABLE })
  t.teardown(() => dialer.close())
  const dialed = []
  const failed = []
  dialer.on('peer', p => { if (p.direction === 'out') dialed.push(p.address) })
  dialer.on('connect-failed', e => failed.push(e))
  await dialer.ready
  let total = 0
  let toAttacker = 0
  for (let round = 0; round < 60; round++) {
    for (let i = 0; i < 20 && dialer.connections().length < 8; i++) {
      clock2.advance(100)
      await until(() => dialer.status().dialing === 0, { every: 1, what: 'the dials of one top-up to settle' })
    }
    const open = dialer.connections()
    total += open.length
    toAttacker += open.filter(a => attackerAddrs.has(a)).length
    for (const a of open) await dialer.disconnect(a)
  }
  const connShare = toAttacker / total
  t.ok(total >= 400, `${total} connections made over 60 rounds`)
  t.same(failed, [], 'every dial reached its listener')
  t.equal([...accepted.values()].reduce((a, b) => a + b, 0), dialed.length, 'each connection made is one the listeners accepted')
  t.ok(dialed.every(isLoopback), `all ${dialed.length} dialed addresses are on 127/8`)
  t.ok(connShare <= tableShare * 2 + 0.02, `attacker share of connections ${(connShare * 100).toFixed(1)}% stays near its table share ${(tableShare * 100).toFixed(1)}%`)
  t.comment(`attacker: ${(tableShare * 100).toFixed(1)}% of the table, ${(connShare * 100).toFixed(1)}% of ${total} connections`)
})

t.test('dial candidates: a group holding many addresses wins no more draws than a group holding few', async t => {
  const { AddressTable } = await import('../lib/index.js')
  const table = await AddressTable.open(new MemoryLevel(), { size: 10_000, informantShare: 0.5, random: seededRandom(11), now: () => 1000 })
  t.teardown(() => table.close())
  const big = Array.from({ length: 2000 }, (_, i) => `tcp://127.66.${i >> 8}.${i & 255}:1`)
  table.learn(big, ['id:big', 'group:ip4:127.9.9'])
  for (let g = 0; g < 4; g++) table.learn(Array.from({ length: 5 }, (_, i) => `tcp://127.${30 + g}.0.${i}:1`), [`id:h${g}`, `group:ip4:127.${g + 1}.0`])
  let fromBig = 0
  const N = 5000
  for (let i = 0; i < N; i++) if (big.includes(table.dialCandidates(1, () => false)[0])) fromBig++
  const share = fromBig / N
  t.ok(share > 0.12 && share < 0.28, `the big group (99% of the addresses) wins ${(share * 100).toFixed(1)}% of draws, about 1 in 5 groups`)
})
