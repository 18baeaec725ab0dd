// DATADIR/services.json read by the daemon (daemon/service-file.ts), in process: a missing file is
// an empty set, a file removed after a read empties it, and every bound (MAX_SERVICE_FILE,
// MAX_OFFERS) crossed is one line naming the file, with nothing handed over.
import t from 'tap'
import { writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ServiceFile, parseServiceFile, MAX_SERVICE_FILE } from '../lib/daemon/service-file.js'
import { MAX_OFFERS } from '../lib/wire/record.js'
import { tempDir } from './lib/helpers.js'

const entry = i => ({ name: 'svc' + i, version: '*', url: `tcp://127.0.0.1:${1000 + i}` })

t.test('a missing file is no services; one removed after a read takes its services away', async t => {
  const path = join(tempDir(t), 'services.json')
  const sets = []
  const f = new ServiceFile(path, list => { sets.push(list.map(o => o.name)); return [] })
  t.same(f.reload(), { changed: false, services: 0 }, 'no file: nothing to hand over')
  writeFileSync(path, JSON.stringify({ services: [entry(1), entry(2)] }))
  t.same(f.reload(), { changed: true, services: 2, left: [] })
  t.same(f.reload(), { changed: false, services: 2 }, 'the same text: unchanged')
  rmSync(path)
  t.same(f.reload(), { changed: true, services: 0, left: [] }, 'removed: an empty set')
  t.same(sets, [['svc1', 'svc2'], []])
})

t.test('bounds crossed: nothing is handed over, and the error names the file', async t => {
  const path = join(tempDir(t), 'services.json')
  let calls = 0
  const f = new ServiceFile(path, () => { calls++; return [] })
  const many = { services: Array.from({ length: MAX_OFFERS + 1 }, (_, i) => entry(i)) }
  writeFileSync(path, JSON.stringify(many))
  t.throws(() => f.reload(), new RegExp(`services.json: ${MAX_OFFERS + 1} services, over MAX_OFFERS`))
  writeFileSync(path, JSON.stringify({ services: many.services.slice(0, MAX_OFFERS) }))
  t.equal(f.reload().services, MAX_OFFERS, 'MAX_OFFERS entries are taken')
  writeFileSync(path, JSON.stringify({ services: [entry(1)], pad: 'x'.repeat(MAX_SERVICE_FILE) }))
  t.throws(() => f.reload(), /services\.json is over \d+ bytes \(MAX_SERVICE_FILE\)/)
  t.equal(calls, 1, 'only the good file was handed over')
  t.throws(() => parseServiceFile('{"services": {}}', 'F'), { name: 'TypeError', message: /^F: expected \{"services"/ })
  t.throws(() => parseServiceFile('[]', 'F'), /F: expected/)
  t.throws(() => parseServiceFile(JSON.stringify({ services: [entry(1), { name: 'x', url: 'x:y', extra: 1 }] }), 'F'), /F: services\[1\] \("x"\): a service has no field "extra"/)
})
