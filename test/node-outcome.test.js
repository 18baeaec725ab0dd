// The callback-or-promise rule on its own (outcome.ts): who hears of a failure, and when.
import t from 'tap'
import { Outcome, settle } from '../lib/node/outcome.js'

const turn = () => new Promise(resolve => setImmediate(resolve))
const failing = () => Promise.reject(new Error('nope'))

t.test('await, then, catch, finally and Promise.all all count as looking', async t => {
  const looks = [
    async p => { try { await p } catch {} },
    p => p.then(() => {}, () => {}),
    p => p.catch(() => {}),
    p => p.finally(() => {}).catch(() => {}),
    p => Promise.all([p]).catch(() => {})
  ]
  for (const look of looks) {
    const o = new Outcome((resolve, reject) => reject(new Error('x')))
    t.equal(o.observed, false)
    await look(o)
    t.equal(o.observed, true, String(look))
  }
  t.equal(Object.getPrototypeOf(new Outcome(resolve => resolve(1)).then(x => x)), Promise.prototype, 'what derives from it is a plain promise')
})

t.test('an unobserved failure goes to fail() on the next turn; an observed one does not', async t => {
  const failed = []
  settle(failing(), undefined, err => failed.push(err.message))
  const seen = settle(failing(), undefined, err => failed.push('seen ' + err.message))
  await t.rejects(seen, /nope/)
  await turn()
  await turn()
  t.same(failed, ['nope'])
})

t.test('a callback gets the outcome and is the only report; the promise settles too', async t => {
  const failed = []
  const got = await new Promise(resolve => {
    const p = settle(failing(), (err, v) => resolve([err.message, v]), err => failed.push(err))
    t.ok(p instanceof Promise)
  })
  t.same(got, ['nope', undefined])
  const value = await new Promise(resolve => settle(Promise.resolve(7), (err, v) => resolve([err, v]), () => {}))
  t.same(value, [null, 7])
  await turn()
  await turn()
  t.same(failed, [], 'not reported twice')
})
