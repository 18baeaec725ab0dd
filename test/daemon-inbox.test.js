// The daemon's inbox (src/daemon/inbox.ts): messages held for `peernet messages` readers, in
// order; MAX_INBOX crossed (the next is refused, so nothing acknowledged is lost); a reader
// that stops reading is dropped once the inbox fills behind it, and what it had not taken
// waits for the next one.
import t from 'tap'
import { Inbox, MAX_INBOX } from '../lib/daemon/inbox.js'

const row = i => ({ from: 'a'.repeat(64), message: i, time: i })
const tick = () => new Promise(resolve => setImmediate(resolve))

t.test(`MAX_INBOX (${MAX_INBOX}) messages wait for a reader; the next is refused`, async t => {
  const inbox = new Inbox()
  for (let i = 0; i < MAX_INBOX; i++) inbox.add(row(i))
  t.equal(inbox.size, MAX_INBOX)
  t.throws(() => inbox.add(row(MAX_INBOX)), /the recipient's inbox is full: 256 messages wait for a reader \(MAX_INBOX\)/)
  t.equal(inbox.size, MAX_INBOX, 'the refused one is not held')
  // A reader takes them all, in order; then the inbox takes more.
  const got = []
  const r = inbox.attach(async m => { got.push(m.message) })
  await tick()
  t.same(got, Array.from({ length: MAX_INBOX }, (_, i) => i), 'every one, in order')
  t.equal(inbox.size, 0)
  inbox.add(row('next'))
  await tick()
  t.equal(got.at(-1), 'next', 'a message that comes while a reader is there goes to it')
  inbox.leave(r)
  t.equal(inbox.readerCount, 0)
})

t.test('takeAll gives what waits when nobody reads; every reader gets every message', async t => {
  const inbox = new Inbox()
  inbox.add(row(1))
  inbox.add(row(2))
  t.same(inbox.takeAll().map(m => m.message), [1, 2])
  t.same(inbox.takeAll(), [], 'taken once')
  const [x, y] = [[], []]
  inbox.attach(async m => { x.push(m.message) })
  inbox.attach(async m => { y.push(m.message) })
  inbox.add(row(3))
  t.same(inbox.takeAll(), [], 'with readers attached, they take it')
  await tick()
  t.same([x, y], [[3], [3]])
  inbox.close()
  t.equal(inbox.readerCount, 0, 'closed: every reader ends')
})

t.test('a reader that fails or stops reading: messages wait for the next', async t => {
  const inbox = new Inbox()
  // A reader whose writes fail (its client went away) is let go; the message stays.
  const broken = inbox.attach(async () => { throw new Error('gone') })
  inbox.add(row('kept'))
  await broken.ended
  t.equal(inbox.readerCount, 0)
  t.equal(inbox.size, 1, 'the message it could not take waits')
  // A reader that never finishes a write holds the inbox up until MAX_INBOX wait behind it.
  const stuck = inbox.attach(() => new Promise(() => {}))
  await tick()
  t.equal(inbox.size, 1, 'its write is under way')
  for (let i = 1; i < MAX_INBOX; i++) inbox.add(row(i))
  t.equal(inbox.size, MAX_INBOX)
  t.throws(() => inbox.add(row('one too many')), /inbox is full/)
  await stuck.ended
  t.ok(stuck.dropped, 'the stuck reader is dropped')
  t.equal(inbox.readerCount, 0)
  const got = []
  inbox.attach(async m => { got.push(m.message) })
  await tick()
  await tick()
  t.equal(got.length, MAX_INBOX, 'the next reader gets all that waited')
  t.equal(got[0], 'kept', 'from the first')
})
