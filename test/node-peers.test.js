// The peer set on its own: one open link per peer id, links in their handshake apart, and the
// rule for two links to one peer.
import t from 'tap'
import { PeerSet, peerInfo } from '../lib/node/peers.js'
import { fakeLink } from './lib/parts.js'
import { seededRandom } from '../lib/index.js'
import { randomHex } from '../lib/util/random.js'

t.test('one open link per peer id; a replaced link is not its peer\'s any more', async t => {
  const peers = new PeerSet()
  const first = fakeLink('aa', { outbound: true, dialed: 'mem://a' })
  peers.begin(first)
  t.equal(peers.handshaking, 1)
  t.equal(peers.size, 0, 'a link in its handshake is not open')
  peers.add(first)
  t.equal(peers.handshaking, 0)
  t.equal(peers.get('aa'), first)
  const second = fakeLink('aa', { address: 'mem://a2' })
  peers.add(second)
  t.equal(peers.size, 1, 'still one link for the peer')
  t.equal(peers.get('aa'), second)
  t.equal(peers.delete(first), false, 'the replaced link closing does not take the peer away')
  t.equal(peers.get('aa'), second)
  t.equal(peers.delete(second), true)
  t.equal(peers.size, 0)
  t.equal(peers.delete(fakeLink('')), false, 'a link with no id was never open')
})

t.test('find, openAt and busy see addresses dialed and confirmed, and ids; never a mere claim', async t => {
  const peers = new PeerSet()
  const out = fakeLink('11', { outbound: true, dialed: 'mem://out', address: 'mem://out' })
  const inb = fakeLink('22', { address: 'mem://confirmed' })
  const claims = fakeLink('33', { claimed: 'mem://claimed' })
  const pending = fakeLink('', { outbound: true, dialed: 'mem://pending', address: 'mem://pending' })
  peers.add(out)
  peers.add(inb)
  peers.add(claims)
  peers.begin(pending)
  t.same(peers.find('mem://out'), [out])
  t.same(peers.find('22'), [inb], 'by peer id')
  t.same(peers.find('mem://pending'), [pending], 'links in their handshake too')
  t.same(peers.find('mem://nobody'), [])
  t.same(peers.find('mem://claimed'), [], 'not by what a peer claims')
  t.equal(peers.openAt('mem://out'), out)
  t.equal(peers.openAt('mem://confirmed'), inb)
  t.equal(peers.openAt('mem://claimed'), undefined, 'a claim does not make an address open')
  t.equal(peers.openAt('mem://pending'), undefined, 'openAt: open links only')
  t.same([...peers.busy()].sort(), ['mem://confirmed', 'mem://out', 'mem://pending'], 'a claimed address is still worth a dial')
  t.same(peers.all().length, 4)
  t.same([...peers], [out, inb, claims], 'iterating gives the open links')
})

t.test('inbound and outbound counts; inbound handshakes', async t => {
  const peers = new PeerSet()
  for (let i = 0; i < 3; i++) peers.add(fakeLink('i' + i))
  for (let i = 0; i < 2; i++) peers.add(fakeLink('o' + i, { outbound: true }))
  peers.begin(fakeLink('', { outbound: true }))
  peers.begin(fakeLink(''))
  t.equal(peers.inbound(), 3)
  t.equal(peers.outbound(), 2)
  t.equal(peers.inboundHandshakes(), 1)
  peers.add(fakeLink('r0', { ring: true }))
  peers.add(fakeLink('r1', { ring: true, outbound: true }))
  t.same([peers.inbound(), peers.outbound(), peers.ringInbound()], [3, 2, 1], 'ring links are counted apart from the gossip links')
  t.same([peers.count(false), peers.count(true)], [4, 3], 'or with them, by direction')
  // Kept as links come and go (the counts are not recounted each time): a replaced link no
  // longer counts, nor a closed one, nor one that closes after it was replaced.
  const old = fakeLink('o0', { outbound: true })
  peers.add(fakeLink('o0', { ring: true }))
  t.same([peers.inbound(), peers.outbound(), peers.ringInbound()], [3, 1, 2], 'a link replaced by one of another kind')
  peers.delete(old)
  peers.delete(fakeLink('i0'))
  t.same([peers.inbound(), peers.outbound(), peers.ringInbound()], [3, 1, 2], 'links that are not the peer\'s open link change nothing')
  for (const c of [...peers]) peers.delete(c)
  t.same([peers.count(false), peers.count(true)], [0, 0], 'none once every link closed')
})

t.test('two links to one peer dialed in opposite directions: both ends keep the one dialed by the lower id', async t => {
  const low = 'a'.repeat(32)
  const high = 'f'.repeat(32)
  // Each end holds one link it dialed and one it accepted; each asks whether the new one wins.
  const lowDialed = fakeLink(high, { outbound: true, nonce: '1'.repeat(16), peerNonce: '2'.repeat(16) })
  const lowAccepted = fakeLink(high, { nonce: '3'.repeat(16), peerNonce: '4'.repeat(16) })
  const highDialed = fakeLink(low, { outbound: true, nonce: '4'.repeat(16), peerNonce: '3'.repeat(16) })
  const highAccepted = fakeLink(low, { nonce: '2'.repeat(16), peerNonce: '1'.repeat(16) })
  // At the low end, the link it dialed arrived first; at the high end, the one it accepted.
  t.equal(PeerSet.replaces(lowAccepted, lowDialed, low, high), false, 'low keeps the link it dialed')
  t.equal(PeerSet.replaces(highDialed, highAccepted, high, low), false, 'high keeps the link low dialed')
  // And the other arrival order.
  t.equal(PeerSet.replaces(lowDialed, lowAccepted, low, high), true)
  t.equal(PeerSet.replaces(highAccepted, highDialed, high, low), true)
})

t.test('two links dialed by the same end: both ends pick the same one, whatever order they see them in', async t => {
  const a = 'a'.repeat(32)
  const b = 'b'.repeat(32)
  const random = seededRandom(5)
  let firstWins = 0
  for (let i = 0; i < 64; i++) {
    // a dialed both links (say b's tcp and ws addresses); n1..n4 are the nonces of the hellos.
    const [n1, n2, n3, n4] = Array.from({ length: 4 }, () => randomHex(random, 8))
    const atA = [fakeLink(b, { outbound: true, nonce: n1, peerNonce: n2 }), fakeLink(b, { outbound: true, nonce: n3, peerNonce: n4 })]
    const atB = [fakeLink(a, { nonce: n2, peerNonce: n1 }), fakeLink(a, { nonce: n4, peerNonce: n3 })]
    const aKeeps = PeerSet.replaces(atA[1], atA[0], a, b) ? 1 : 0
    t.equal(PeerSet.replaces(atA[0], atA[1], a, b), aKeeps === 0, `${i}: a's choice does not depend on which link came first`)
    const bKeeps = PeerSet.replaces(atB[1], atB[0], b, a) ? 1 : 0
    t.equal(PeerSet.replaces(atB[0], atB[1], b, a), bKeeps === 0, `${i}: nor b's`)
    t.equal(aKeeps, bKeeps, `${i}: a and b keep the same link`)
    if (aKeeps === 0) firstWins++
  }
  t.ok(firstWins > 0 && firstWins < 64, `not always the first, nor always the second (${firstWins} of 64 the first)`)
})

t.test('peerInfo: id, the address that answers for it or null, a mere claim as such, direction', async t => {
  t.same(peerInfo(fakeLink('ab', { outbound: true, address: 'mem://x' })), { id: 'ab', address: 'mem://x', direction: 'out' })
  t.same(peerInfo(fakeLink('cd')), { id: 'cd', address: null, direction: 'in' })
  t.same(peerInfo(fakeLink('ef', { claimed: 'mem://y' })), { id: 'ef', address: null, claimed: 'mem://y', direction: 'in' })
  t.same(peerInfo(fakeLink('ef', { address: 'mem://z', claimed: 'mem://y' })), { id: 'ef', address: 'mem://z', direction: 'in' },
    'once an address answers for it, its claim is beside the point')
})
