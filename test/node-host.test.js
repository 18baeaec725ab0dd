// The library must never end its host where the seed's code is normal: calls whose promise
// nobody looks at, callbacks, and a search with no error handler. Each case runs in its own
// node process, so an unhandled rejection or error would show as that process dying.
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const lib = new URL('../lib/index.js', import.meta.url).href

/** Run an ES module body with `pn` (a node on a memory db, nothing listening) in a child process. */
function host (t, body) {
  const code = `
    import { MemoryLevel } from 'memory-level'
    import { peernet } from ${JSON.stringify(lib)}
    const pn = peernet(new MemoryLevel(), { interval: 0, bootstrap: false, purge: 0 })
    const turns = async (n = 5) => { for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve)) }
    await pn.ready
    ${body}
    await turns()
    await pn.close()
    console.log('alive')
  `
  return new Promise(resolve => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', code], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr })
    })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  })
}

const survives = (t, r) => {
  t.equal(r.code, 0, 'the host process exits normally')
  t.match(r.stdout, /alive\n$/, 'and ran to its end')
  t.notMatch(r.stderr, /Unhandled|Error/, 'nothing unhandled')
}

t.test('calls whose promise nobody looks at: no crash, and no word without an error listener', async t => {
  const r = await host(t, `
    pn.disconnect('tcp://127.0.0.1:1')
    pn.save(['http://evil'])
    pn.join('')
    pn.part('')
    pn.remove('notaurl')
    pn.getStats('nope')
    const failed = new Promise(resolve => pn.once('connect-failed', resolve))
    pn.connect('tcp://127.0.0.1:1')
    await failed
  `)
  survives(t, r)
})

t.test('with an error listener, an unobserved failure comes as an error event; an observed one does not', async t => {
  const r = await host(t, `
    pn.on('error', err => console.log('error event:', err.message))
    pn.save(['http://evil'])
    await pn.join('').catch(err => console.log('caught:', err.message))
    pn.part('', err => console.log('callback:', err.message))
    const p = pn.disconnect('nobody')
    await turns()
    await p.then(() => {}, err => console.log('caught later:', err.message))
  `)
  survives(t, r)
  const lines = r.stdout.trim().split('\n')
  t.same(lines.filter(l => l.startsWith('error event:')).length, 2, 'the ignored save, and the disconnect nobody had looked at by the next turn')
  t.match(r.stdout, /error event: invalid address "http:\/\/evil"/)
  t.match(r.stdout, /caught: .*subnet/)
  t.match(r.stdout, /callback: .*subnet/)
  t.match(r.stdout, /caught later: not connected to nobody/, 'the promise still carries the failure')
  t.notMatch(r.stdout, /error event: .*subnet/, 'awaited and callback failures are not reported twice')
})

t.test('search takes a Buffer as the seed has it; a bad search with no handler ends quietly', async t => {
  const r = await host(t, `
    const rows = []
    for await (const row of pn.search(Buffer.from('stun'), { timeout: 10 })) rows.push(row)
    console.log('rows', rows.length)
    pn.search('').on('data', () => {})
    pn.search(Buffer.from(''))
    pn.search('x', { hops: 0 }).resume()
  `)
  survives(t, r)
  t.match(r.stdout, /rows 0\n/)
})

t.test('a bad search with a handler on the stream gets its error there', async t => {
  const r = await host(t, `
    pn.on('error', err => console.log('node error:', err.message))
    const err = await new Promise(resolve => pn.search('', {}).on('error', resolve))
    console.log('stream error:', err.message)
  `)
  survives(t, r)
  t.match(r.stdout, /stream error: .*non-empty/)
  t.notMatch(r.stdout, /node error/)
})
