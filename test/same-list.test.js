// sameList and samePrefix (src/util/same-list.ts): the ring compares successor lists with them on
// every answer, and tells its predecessor only of a change in the first few (TELL_DEPTH).
import t from 'tap'
import { sameList, samePrefix } from '../lib/util/same-list.js'

t.test('sameList: item by item', async t => {
  const a = ['x', 'y']
  t.ok(sameList(a, a))
  t.ok(sameList(a, ['x', 'y']))
  t.notOk(sameList(a, ['x']))
  t.notOk(sameList(a, ['x', 'z']))
  t.ok(sameList([], []))
})

t.test('samePrefix: the first n items, a shorter list having nothing past its end', async t => {
  t.ok(samePrefix(['a', 'b', 'c'], ['a', 'b', 'x'], 2), 'a change past n')
  t.notOk(samePrefix(['a', 'b', 'c'], ['a', 'x', 'c'], 2), 'a change within n')
  t.notOk(samePrefix(['a'], ['a', 'b'], 2), 'one longer within n')
  t.ok(samePrefix(['a'], ['a', 'b'], 1), 'one longer past n')
  t.ok(samePrefix(['a'], ['a'], 5), 'both shorter than n, the same')
  t.notOk(samePrefix([], ['a'], 5), 'one empty')
  t.ok(samePrefix(['a'], ['b'], 0), 'nothing to compare')
})
