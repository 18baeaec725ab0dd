// One copy of what many places keep (util/intern.ts), within a bound any peer may push against.
import t from 'tap'
import { Interner, INTERN_GENERATION, intern } from '../lib/util/intern.js'
import { sourcesOf } from '../lib/node/handshake.js'

t.test('the same key gives the value made the first time', async t => {
  const table = new Interner(4)
  let made = 0
  const make = k => ({ k, n: ++made })
  const a = table.get('a', make)
  t.equal(table.get('a', make), a, 'kept')
  t.equal(made, 1, 'made once')
  t.equal(intern('x'.repeat(64)), 'x'.repeat(64), 'a string interns to its own value')
})

t.test('bounded: two generations at most, the one in use kept, the rest aged out', async t => {
  const gen = 4
  const table = new Interner(gen)
  let made = 0
  const make = k => ({ k, n: ++made })
  const kept = table.get('kept', make)
  const gone = table.get('gone', make)
  // Many more keys than the bound, as a peer making up ids would send; 'kept' is used meanwhile.
  for (let i = 0; i < 10 * gen; i++) {
    table.get(`junk${i}`, make)
    if (i % gen === 0) t.equal(table.get('kept', make), kept, `still the same at ${i}`)
    t.ok(table.size <= 2 * gen, `at most two generations (${table.size})`)
  }
  const again = table.get('gone', make)
  t.not(again, gone, 'one not used for two generations is made anew')
  t.same(again.k, 'gone', 'with the same key')
  t.ok(INTERN_GENERATION >= 1024, 'the default generation holds a large network\'s ids')
})

t.test('a link\'s sources: one frozen list a peer and group', async t => {
  const id = 'ab'.repeat(32)
  const s = sourcesOf(id, 'mem:n1')
  t.same(s, ['id:' + id, 'group:mem:n1'])
  t.equal(sourcesOf(id, 'mem:n1'), s, 'the same list for the same peer and group')
  t.not(sourcesOf(id, 'mem:n2'), s, 'another group, another list')
  t.same(sourcesOf(id, undefined), ['id:' + id], 'no host known: the informant alone')
  t.ok(Object.isFrozen(s), 'shared, so frozen')
})
