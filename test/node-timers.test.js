// The node's timers on a virtual clock: repeating jobs, one-shot "soon" jobs, and a stop.
import t from 'tap'
import { VirtualClock } from '../lib/index.js'
import { Timers } from '../lib/node/timers.js'

t.test('every: runs each interval; 0 runs nothing; a throwing job is reported and goes on', async t => {
  const clock = new VirtualClock(0)
  const errors = []
  const timers = new Timers(clock, err => errors.push(err.message))
  const runs = []
  timers.every('a', 100, () => runs.push(clock.now()))
  timers.every('off', 0, () => runs.push('never'))
  let n = 0
  timers.every('bad', 250, () => { n++; throw new Error('boom ' + n) })
  clock.advance(550)
  t.same(runs, [100, 200, 300, 400, 500])
  t.same(errors, ['boom 1', 'boom 2'])
  timers.clear()
  clock.advance(1000)
  t.equal(runs.length, 5, 'nothing runs after clear')
  t.equal(clock.pending, 0, 'no timer left waiting')
})

t.test('soon: once however often asked, again once it ran; nothing after clear', async t => {
  const clock = new VirtualClock(0)
  const timers = new Timers(clock, () => {})
  let runs = 0
  timers.soon('x', () => runs++)
  timers.soon('x', () => runs++)
  clock.advance(0)
  t.equal(runs, 1)
  timers.soon('x', () => runs++)
  clock.advance(0)
  t.equal(runs, 2)
  timers.clear()
  timers.soon('x', () => runs++)
  clock.advance(0)
  t.equal(runs, 2)
})
