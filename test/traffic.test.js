// A node's traffic counters (src/node/traffic.ts): frames and bytes by direction and type, the
// types in one table for the process, bounded by MAX_TYPES.
import t from 'tap'
import { Traffic, MAX_TYPES, OTHER } from '../lib/node/traffic.js'

t.test('frames and bytes by direction and type, each node its own', async t => {
  const a = new Traffic()
  const b = new Traffic()
  a.note('out', 'hello', 100)
  a.note('out', 'hello', 50)
  a.note('in', 'ping', 8)
  b.note('in', 'hello', 100)
  t.same([...a.out], [['hello', { frames: 2, bytes: 150 }]], 'what went out')
  t.same([...a.in], [['ping', { frames: 1, bytes: 8 }]], 'what came in: a type never seen this way is not listed')
  t.same([...b.in], [['hello', { frames: 1, bytes: 100 }]], 'another node counts its own')
  t.same([...b.out], [], 'and nothing it did not send')
  t.same([...new Traffic().in], [], 'a new node has counted nothing')
})

t.test(`past MAX_TYPES (${MAX_TYPES}) types, the rest are counted together as ${OTHER}`, async t => {
  const c = new Traffic()
  for (let i = 0; i < MAX_TYPES + 10; i++) c.note('in', `type${i}`, 1)
  c.note('in', 'type0', 1)
  const seen = c.in
  t.ok(seen.size <= MAX_TYPES, `at most MAX_TYPES types listed (${seen.size})`)
  t.ok(seen.has(OTHER), `the rest under ${OTHER}`)
  let frames = 0
  for (const v of seen.values()) frames += v.frames
  t.equal(frames, MAX_TYPES + 11, 'every frame counted once')
  t.same(seen.get('type0'), { frames: 2, bytes: 2 }, 'a type counted apart stays apart')
})
