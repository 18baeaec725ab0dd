// Our own addresses on their own: advertised, candidates, aliases, and what we may store or dial.
import t from 'tap'
import { OwnAddresses } from '../lib/node/own.js'
import { tryParsePinned } from '../lib/transport/address.js'
import { MAX_SELF_CANDIDATES, MAX_SELF_ALIASES } from '../lib/index.js'

t.test('advertised addresses come first, then candidates; all count as ours', async t => {
  const own = new OwnAddresses()
  own.advertise('tcp://127.0.0.1:1')
  own.advertise('tcp://127.0.0.1:1')
  own.addCandidate('ws://127.0.0.1:2')
  t.same(own.list(), ['tcp://127.0.0.1:1', 'ws://127.0.0.1:2'])
  t.same(own.announced, ['tcp://127.0.0.1:1'], 'only advertised addresses are announced')
  t.ok(own.has('ws://127.0.0.1:2'))
  own.unadvertise('tcp://127.0.0.1:1')
  t.same(own.list(), ['ws://127.0.0.1:2'])
  t.notOk(own.has('tcp://127.0.0.1:1'))
  t.throws(() => own.advertise('notaurl'), /invalid address/)
})

t.test(`MAX_SELF_CANDIDATES (${MAX_SELF_CANDIDATES}): the newest candidates are kept`, async t => {
  const own = new OwnAddresses()
  for (let i = 0; i <= MAX_SELF_CANDIDATES; i++) own.addCandidate(`mem://c${i}`)
  t.equal(own.list().length, MAX_SELF_CANDIDATES)
  t.notOk(own.has('mem://c0'), 'the oldest is forgotten')
  t.equal(own.list()[0], `mem://c${MAX_SELF_CANDIDATES}`, 'newest first')
  own.addCandidate('mem://c1')
  t.equal(own.list()[0], 'mem://c1', 'a candidate heard again moves to the front')
})

t.test('an alias a dial found to lead to ourselves stays ours after unadvertise', async t => {
  const own = new OwnAddresses()
  own.advertise('mem://me')
  own.addAlias('mem://me')
  own.unadvertise('mem://me')
  t.ok(own.has('mem://me'))
  t.same(own.list(), [], 'an alias is not listed as an address to give out')
})

t.test('acceptable: allowed schemes only, not ours, once each, normalised', async t => {
  const own = new OwnAddresses()
  own.advertise('mem://me')
  const ok = own.acceptable(['notaurl', 'file:///etc/passwd', 'mem://me', 'mem://a', 'mem://a', 'TCP://127.0.0.1:5', 'tcp://127.0.0.1:5'])
  t.same(ok, ['mem://a', 'tcp://127.0.0.1:5'])
})

t.test('acceptableNormal: the same of parsePinned\'s output, not ours (aliases and candidates too), once each', async t => {
  const own = new OwnAddresses()
  own.advertise('mem://me')
  own.addAlias('tcp://127.0.0.1:9')
  own.addCandidate('mem://seen-as')
  const raw = ['notaurl', 'mem://me', 'mem://a', 'mem://a', 'TCP://127.0.0.1:5', 'tcp://127.0.0.1:5', 'tcp://127.0.0.1:9', 'mem://seen-as', 'id@mem://b']
  const parsed = raw.map(x => tryParsePinned(x)).filter(p => p !== null).map(p => p.address)
  t.same(own.acceptableNormal(parsed), ['mem://a', 'tcp://127.0.0.1:5'])
  t.same(own.acceptableNormal(parsed), own.acceptable(raw), 'what acceptable() makes of the raw list')
})

t.test(`MAX_SELF_ALIASES (${MAX_SELF_ALIASES}): the oldest alias of ourselves is forgotten past it`, async t => {
  const own = new OwnAddresses()
  for (let i = 0; i < MAX_SELF_ALIASES; i++) own.addAlias(`mem://alias${i}`)
  t.ok(own.has('mem://alias0'))
  own.addAlias('mem://alias0')
  own.addAlias('mem://one-more')
  t.ok(own.has('mem://alias0'), 'an alias met again is the newest')
  t.notOk(own.has('mem://alias1'), 'the oldest went')
  t.ok(own.has('mem://one-more'))
})
