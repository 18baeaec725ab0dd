// The node's timers on a virtual clock: repeating jobs, one-shot "soon" jobs, and a stop.
import t from 'tap'
import { VirtualClock } from '../lib/index.js'
import { Timers } from '../lib/node/timers.js'
import { SLOT_MS, WHEEL_SLOTS } from '../lib/node/clock.js'

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

t.test('VirtualClock: a timer that clears others mid-advance (the heap compacts) stops the advance at its end', async t => {
  const clock = new VirtualClock(0)
  // More than 64 timers, most cleared by the first to fire: clearTimeout compacts the heap into
  // a new array while advance() is walking it. The advance must still end at its end, having run
  // what fell due, and no later timer early.
  const fired = []
  const later = []
  for (let i = 0; i < 100; i++) later.push(clock.setTimeout(() => fired.push(`late${i}`), 1000 + i))
  clock.setTimeout(() => {
    fired.push('first')
    for (const tm of later.slice(0, 90)) clock.clearTimeout(tm)
    clock.setTimeout(() => fired.push('again'), 10)
  }, 10)
  clock.advance(50)
  t.same(fired, ['first', 'again'], 'what fell due ran, nothing past the end')
  t.equal(clock.now(), 50, 'time stopped at the end of the advance')
  clock.advance(2000)
  t.same(fired.slice(2), ['late90', 'late91', 'late92', 'late93', 'late94', 'late95', 'late96', 'late97', 'late98', 'late99'], 'the timers not cleared ran in order')
})

t.test('VirtualClock: retire() drops every waiting timer of its owners at once, and any they set later; others run', async t => {
  const clock = new VirtualClock(0)
  const a = clock.owned(1)
  const b = clock.owned(2)
  const ran = []
  for (let i = 1; i <= 100; i++) {
    a.setTimeout(() => ran.push('a' + i), i)
    b.setTimeout(() => ran.push('b' + i), i)
  }
  clock.setTimeout(() => ran.push('plain'), 50)
  const cleared = a.setTimeout(() => ran.push('cleared'), 5)
  a.clearTimeout(cleared)
  clock.advance(10)
  t.equal(ran.length, 20, 'both ran until the retirement')
  t.equal(clock.retire([1]), 90, 'the 90 of owner 1 still waiting were dropped (not the one cleared)')
  t.equal(clock.pending, 91, "owner 2's 90 and the clock's own one wait")
  a.setTimeout(() => ran.push('late'), 1)
  t.equal(clock.pending, 91, 'a retired owner sets a timer: it never waits')
  clock.advance(100)
  t.notOk(ran.some(r => r === 'late' || r === 'cleared' || /^a(1[1-9]|[2-9]\d|100)$/.test(r)), 'nothing of owner 1 ran after it was retired')
  t.equal(ran.filter(r => r.startsWith('b')).length, 100, 'owner 2 ran every one, in order')
  t.same(ran.filter(r => r.startsWith('b')), Array.from({ length: 100 }, (_, i) => 'b' + (i + 1)))
  t.ok(ran.includes('plain'))
  t.equal(clock.pending, 0)
  t.equal(a.now(), 110, 'an owned view reads the same time')
  t.throws(() => clock.owned(0), /a timer's owner is an integer above 0, not 0/)
  t.throws(() => clock.owned(1.5), RangeError)
})

t.test('VirtualClock: thousands of timers, many due at once, some cleared, some set as others fire, run in (due, set) order', async t => {
  const clock = new VirtualClock(0)
  // A seeded walk (no Math.random: the same timers every run). Due times collide on purpose (a
  // few hundred distinct ones for 5,000 timers): ties go by the order set, the heap's second key.
  let x = 12345
  const next = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x }
  const expected = []
  const fired = []
  const handles = []
  let order = 0
  const set = (due) => {
    const me = { due, order: order++ }
    handles.push({ me, h: clock.setTimeout(() => {
      fired.push(me)
      // One in ten sets another on firing, due now or later (a timer set at its own due time runs in this advance).
      if (next() % 10 === 0) set(clock.now() + (next() % 3) * 7)
    }, due - clock.now()) })
  }
  for (let i = 0; i < 5000; i++) set((next() % 400) * 5)
  // Clear two thirds, spread across the heap: past half of it cleared, the heap is rebuilt
  // without them (compact), a few thousand timers put back in order at once.
  for (let i = 0; i < handles.length; i++) if (i % 3 !== 0) { handles[i].me.cleared = true; clock.clearTimeout(handles[i].h) }
  t.equal(clock.pending, handles.length - handles.filter(h => h.me.cleared).length, 'the cleared ones no longer count')
  for (let step = 0; step < 50; step++) clock.advance(41.5)
  clock.advance(10_000)
  for (const { me } of handles) if (!me.cleared) expected.push(me)
  expected.sort((a, b) => a.due - b.due || a.order - b.order)
  t.equal(fired.length, expected.length, 'every timer not cleared fired, once')
  t.ok(fired.every((f, i) => i === 0 || fired[i - 1].due < f.due || (fired[i - 1].due === f.due && fired[i - 1].order < f.order)), 'in order of due time, then of being set')
  t.same(fired.map(f => f.order).sort((a, b) => a - b), expected.map(f => f.order).sort((a, b) => a - b), 'the same timers as expected')
  t.equal(clock.pending, 0)
})

t.test(`VirtualClock: timers far apart wait in slots of ${SLOT_MS} ms; small steps or one jump, they run in (due, set) order; next, clear and retire reach them`, async t => {
  let x = 777
  const rand = n => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x % n }
  // Due times over a day: most slots empty, some holding several; a few at a slot's very edge.
  // None in the first slot: next must find them in the slots' lists.
  const dues = Array.from({ length: 600 }, (_, i) => SLOT_MS + (i % 50 === 0 ? SLOT_MS * rand(1000) : rand(86_400_000)))
  const run = (advanceBy) => {
    const clock = new VirtualClock(0)
    const fired = []
    const hs = dues.map((due, i) => (i % 7 === 3 ? clock.owned(9) : clock).setTimeout(() => fired.push(i), due))
    t.equal(clock.next, Math.min(...dues), 'next: the earliest, from the slots')
    // Every fifth cleared, and the earliest too: next must look past it.
    const earliest = dues.indexOf(Math.min(...dues))
    const cleared = i => i % 5 === 0 || i === earliest
    for (let i = 0; i < hs.length; i++) if (cleared(i)) clock.clearTimeout(hs[i])
    t.equal(clock.next, Math.min(...dues.filter((_, i) => !cleared(i))), 'next looks past the cleared')
    t.equal(clock.retire([9]), dues.filter((_, i) => i % 7 === 3 && !cleared(i)).length, 'retire drops those waiting in slots')
    const left = dues.map((due, i) => ({ due, i })).filter(({ i }) => !cleared(i) && i % 7 !== 3)
    t.equal(clock.pending, left.length)
    t.equal(clock.next, Math.min(...left.map(l => l.due)), 'and the retired')
    while (clock.pending > 0) advanceBy(clock)
    t.same(fired, left.sort((a, b) => a.due - b.due || a.i - b.i).map(l => l.i), 'every other one, in order')
    t.equal(clock.next, undefined)
    return fired
  }
  const stepwise = run(clock => clock.advance(37 * SLOT_MS + 5))
  t.same(run(clock => clock.advance(86_400_000)), stepwise, 'one jump past every slot: the same order')
  // A timer set while others run, due in a slot not reached yet, waits for it.
  const clock = new VirtualClock(0)
  const fired = []
  clock.setTimeout(() => { fired.push('a'); clock.setTimeout(() => fired.push('c'), 3 * SLOT_MS) }, 10)
  clock.setTimeout(() => fired.push('b'), 2 * SLOT_MS)
  clock.advance(3 * SLOT_MS)
  t.same(fired, ['a', 'b'])
  clock.advance(SLOT_MS)
  t.same(fired, ['a', 'b', 'c'], 'then it runs')
  // Past the wheel (WHEEL_SLOTS slots ahead): next finds it there, and it comes in as time does.
  const far = WHEEL_SLOTS * SLOT_MS * 3 + 5
  const late = clock.setTimeout(() => fired.push('far'), far)
  clock.setTimeout(() => fired.push('farther'), far + 1)
  t.equal(clock.next, clock.now() + far, 'next: a timer past the wheel')
  clock.clearTimeout(late)
  t.equal(clock.next, clock.now() + far + 1, 'next: past a cleared one there')
  for (let i = 0; i < 4 * WHEEL_SLOTS; i++) clock.advance(SLOT_MS)
  t.same(fired.slice(3), ['farther'], 'it ran once its slot came')
  t.equal(clock.pending, 0)
})

t.test('VirtualClock: repeat() runs in the very order a setTimeout set again at the end of each run would; cleared or retired in its own run, it stops', async t => {
  // The same jobs twice: once with repeat(), once as a chain of setTimeout. Each run logs, and
  // some set one-shot timers due at once, at the period itself, or between: a repeating timer
  // set again after its run goes after those, as the chain's next setTimeout would.
  const play = (repeating) => {
    const clock = new VirtualClock(0)
    const owner = clock.owned(7)
    const log = []
    const every = (c, ms, fn) => {
      if (repeating) return c.repeat(fn, ms)
      const h = { t: null, off: false }
      const tick = () => { fn(); if (!h.off) h.t = c.setTimeout(tick, ms) }
      h.t = c.setTimeout(tick, ms)
      return h
    }
    const stop = (c, h) => { if (repeating) c.clearTimeout(h); else { h.off = true; c.clearTimeout(h.t) } }
    let n = 0
    every(clock, 100, () => {
      log.push(`a${clock.now()}`)
      clock.setTimeout(() => log.push(`a-soon${clock.now()}`), 0)
      clock.setTimeout(() => log.push(`a-next${clock.now()}`), 100)
    })
    every(clock, 50, () => { log.push(`b${clock.now()}`); clock.setTimeout(() => log.push(`b-half${clock.now()}`), 25) })
    const c = every(clock, 30, () => { log.push(`c${clock.now()}`); if (++n === 5) stop(clock, c) })
    let m = 0
    every(owner, 40, () => { log.push(`o${owner.now()}`); if (++m === 4) clock.retire([7]) })
    clock.setTimeout(() => log.push(`plain${clock.now()}`), 100)
    for (let i = 0; i < 20; i++) clock.advance(33)
    return { log, pending: clock.pending }
  }
  const chain = play(false)
  const repeat = play(true)
  t.same(repeat.log, chain.log, 'the same runs in the same order')
  t.equal(repeat.log.filter(x => /^c\d/.test(x)).length, 5, 'cleared in its fifth run: no sixth')
  t.equal(repeat.log.filter(x => /^o\d/.test(x)).length, 4, 'its owner retired in its fourth run: no fifth')
  t.equal(repeat.log.filter(x => /^a\d/.test(x)).length, 6, 'the others go on')
  t.equal(repeat.pending, chain.pending, 'as many waiting at the end')
})

t.test('every: on a clock with repeat(), one timer for all the runs, none left after clear', async t => {
  const clock = new VirtualClock(0)
  const timers = new Timers(clock, () => {})
  let runs = 0
  timers.every('r', 10, () => runs++)
  t.equal(clock.pending, 1)
  clock.advance(100)
  t.equal(runs, 10)
  t.equal(clock.pending, 1, 'still the one timer')
  timers.clear()
  clock.advance(100)
  t.equal(runs, 10)
  t.equal(clock.pending, 0)
  // A period that is no period: refused, by the clock and by an owned view of it.
  for (const bad of [0, -5, NaN, Infinity]) {
    t.throws(() => clock.repeat(() => {}, bad), RangeError, `every ${bad} ms`)
    t.throws(() => clock.owned(3).repeat(() => {}, bad), RangeError)
  }
  t.equal(clock.pending, 0, 'nothing set')
  timers.every('zero', 0, () => runs++)
  t.equal(clock.pending, 0, 'Timers.every with 0 still sets nothing, as documented')
})

t.test('VirtualClock: hundreds of repeating timers of a few periods among one-shots, some cleared, some owners retired: the same runs as setTimeout chains', async t => {
  const play = (repeating) => {
    const clock = new VirtualClock(0)
    let x = 99
    const next = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x }
    const log = []
    const owners = [1, 2, 3].map(o => clock.owned(o))
    const jobs = []
    for (let i = 0; i < 300; i++) {
      const c = owners[next() % 3]
      const period = [50, 500, 500, 1000, 5000][next() % 5]
      const job = { off: false, h: null, runs: 0 }
      const fn = () => {
        log.push(`${i}@${c.now()}`)
        job.runs++
        if (next() % 7 === 0) c.setTimeout(() => log.push(`s${i}@${c.now()}`), (next() % 3) * 250)
        if (next() % 50 === 0) stop(c, job)
      }
      const stop = (c, j) => { j.off = true; c.clearTimeout(j.h) }
      if (repeating) job.h = c.repeat(fn, period)
      else {
        const tick = () => { fn(); if (!job.off) job.h = c.setTimeout(tick, period) }
        job.h = c.setTimeout(tick, period)
      }
      jobs.push({ job, c, stop })
      // Set at different times: the clock moves between some of them.
      if (i % 37 === 0) clock.advance(130)
    }
    for (let step = 0; step < 400; step++) {
      clock.advance(50)
      if (step === 150) clock.retire([2])
      if (step % 61 === 0) { const j = jobs[next() % jobs.length]; j.stop(j.c, j.job) }
    }
    return { log, pending: clock.pending }
  }
  const chain = play(false)
  const repeat = play(true)
  t.ok(chain.log.length > 5000, `${chain.log.length} runs`)
  t.same(repeat.log, chain.log, 'run for run, in the same order')
  t.equal(repeat.pending, chain.pending, 'as many waiting at the end')
})

t.test('VirtualClock: again() runs in the very order clearTimeout and a new setTimeout would; it takes the same timer only once it waits nowhere', async t => {
  // Jobs that set their timer again at random: from their own run (the timer has run), while it
  // still waits (it must not then be in the queue twice), after clearing it; some owned by a
  // party that is retired half way. Played once with again() and once with clear + setTimeout.
  const play = (reuse) => {
    const clock = new VirtualClock(0)
    const owners = [clock, clock.owned(3), clock.owned(4)]
    let seed = 7
    const rnd = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n }
    const log = []
    const timers = []
    const objects = new Set()
    const set = (i, ms) => {
      const c = owners[i % 3]
      const fn = () => {
        log.push(`${i}@${clock.now()}`)
        if (rnd(8) > 0) set(i, rnd(200)) // again from its own run
      }
      timers[i] = reuse && timers[i] !== undefined ? c.again(timers[i], fn, ms) : (timers[i] !== undefined && c.clearTimeout(timers[i]), c.setTimeout(fn, ms))
      objects.add(timers[i])
    }
    for (let i = 0; i < 60; i++) set(i, rnd(300))
    for (let step = 0; step < 400; step++) {
      const i = rnd(60)
      const what = rnd(6)
      if (what === 0) set(i, rnd(300)) // while it may still wait
      else if (what === 1) owners[i % 3].clearTimeout(timers[i])
      if (step === 200) clock.retire([4])
      clock.advance(rnd(40))
    }
    return { log, pending: clock.pending, objects: objects.size }
  }
  const fresh = play(false)
  const again = play(true)
  t.same(again.log, fresh.log, 'the same runs in the same order')
  t.ok(again.log.length > 500, `runs enough to mean something (${again.log.length})`)
  t.equal(again.pending, fresh.pending, 'as many waiting at the end')
  t.ok(again.objects < fresh.objects / 4, `timers taken again: ${again.objects} objects against ${fresh.objects}`)
})

t.test('VirtualClock: again() on a timer still waiting clears it: it runs once, at its new time', async t => {
  const clock = new VirtualClock(0)
  const runs = []
  const a = clock.setTimeout(() => runs.push(`a${clock.now()}`), 100)
  const b = clock.again(a, () => runs.push(`b${clock.now()}`), 50)
  t.not(b, a, 'a new timer: the old one still sits in the queue')
  clock.advance(200)
  t.same(runs, ['b50'], 'only the new one ran')
  const c = clock.again(b, () => runs.push(`c${clock.now()}`), 10)
  t.equal(c, b, 'the timer that ran is taken again')
  clock.clearTimeout(c)
  clock.advance(100)
  t.same(runs, ['b50'], 'cleared: it does not run')
  t.equal(clock.pending, 0, 'nothing waits')
  // Another party's clock does not take a timer that is not its own (retire() ends its owner's only).
  const party = clock.owned(5)
  const d = party.again(c, () => runs.push(`d${clock.now()}`), 10)
  t.not(d, c, 'a timer of the clock\'s own is not taken by an owned view')
  clock.retire([5])
  clock.advance(100)
  t.same(runs, ['b50'], 'the new timer is the party\'s: retired with it')
})
