// The user's holds on their own: by peer id and by address, for DISCONNECT_HOLD, lifted by a
// connect to one of the addresses.
import t from 'tap'
import { DISCONNECT_HOLD } from '../lib/index.js'
import { Holds } from '../lib/node/holds.js'

t.test(`a hold lasts DISCONNECT_HOLD (${DISCONNECT_HOLD} ms), for the id and every address given`, async t => {
  let now = 1000
  const holds = new Holds(() => now)
  holds.hold('aa', ['mem://a', 'mem://a2'])
  t.equal(holds.until('aa'), 1000 + DISCONNECT_HOLD)
  t.ok(holds.isHeldAddress('mem://a') && holds.isHeldAddress('mem://a2'))
  t.equal(holds.until('bb'), null)
  t.notOk(holds.isHeldAddress('mem://b'))
  now += DISCONNECT_HOLD - 1
  t.ok(holds.isHeldAddress('mem://a'), 'still held a ms before the end')
  t.match(holds.refusal(holds.until('aa')).bye, /retry in 1 s$/)
  now += 1
  t.equal(holds.until('aa'), null, 'over at DISCONNECT_HOLD')
  t.notOk(holds.isHeldAddress('mem://a'))
  t.equal(holds.size, 0)
})

t.test('a second disconnect starts the hold again; alsoAt adds an address', async t => {
  let now = 0
  const holds = new Holds(() => now)
  holds.hold('aa', ['mem://a'])
  now = 30_000
  holds.hold('aa', [])
  holds.alsoAt('aa', 'mem://alias')
  holds.alsoAt('nobody', 'mem://x')
  t.equal(holds.until('aa'), 30_000 + DISCONNECT_HOLD)
  t.ok(holds.isHeldAddress('mem://alias'))
  t.notOk(holds.isHeldAddress('mem://x'), 'no hold, nothing added')
  t.same(holds.refusal(holds.until('aa')), {
    reason: 'peer held after the user disconnected it (60 s left)',
    bye: 'you were disconnected by the user of this node; retry in 60 s'
  })
})

t.test('lift: a connect to any address of a held peer lifts the whole hold', async t => {
  const holds = new Holds(() => 0)
  holds.hold('aa', ['mem://a', 'mem://a2'])
  holds.hold('bb', ['mem://b'])
  holds.lift('mem://a2')
  t.equal(holds.until('aa'), null)
  t.notOk(holds.isHeldAddress('mem://a'))
  t.ok(holds.isHeldAddress('mem://b'), 'other holds stay')
  holds.lift('mem://none')
  t.equal(holds.size, 1)
})

t.test('a link with no id yet: its addresses are held alone', async t => {
  const holds = new Holds(() => 0)
  holds.hold(null, ['mem://pending'])
  t.ok(holds.isHeldAddress('mem://pending'))
  t.equal(holds.until('mem://pending'), null, 'no peer id is held')
  holds.lift('mem://pending')
  t.equal(holds.size, 0)
})
