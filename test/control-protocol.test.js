// The control socket as scripts meet it: a client that half-closes after its requests (socat,
// `echo … | nc`) gets every answer; answers cut short by a stop say so; the protocol and every
// error code the daemon sends are documented in the README and the man page. Real daemons
// through the real bin/peernet; raw sockets destroyed at teardown.
import t from 'tap'
import net from 'node:net'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { datadir, cleanEnv } from './lib/cli.js'
import { tempDir, until } from './lib/helpers.js'
import { ERROR_CODES, METHODS } from '../lib/control/protocol.js'

const root = new URL('..', import.meta.url).pathname
const QUIET = ['--connections', '0', '--interval', '0']

/**
 * Write every line, then half-close (socket.end()) as socat does at the end of its input;
 * resolves with every message once the daemon closes the connection.
 */
function halfClose (t, path, requests) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path)
    t.teardown(() => sock.destroy())
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', d => { buf += d })
    sock.on('error', reject)
    sock.on('connect', () => sock.end(requests.map(r => JSON.stringify(r)).join('\n') + '\n'))
    sock.on('close', () => resolve(buf.split('\n').filter(Boolean).map(l => JSON.parse(l))))
  })
}

/** The messages of one id, and whether its answer finished (end or error). */
function answerOf (msgs, id) {
  const mine = msgs.filter(m => m.id === id)
  return { rows: mine.filter(m => 'row' in m).map(m => m.row), end: mine.at(-1)?.end === true, error: mine.at(-1)?.error ?? null }
}

/** A HOME of our own whose .config/peernet is d's data dir (the README's commands use ~). */
function homeOf (t, d) {
  const home = tempDir(t, 'pnh-')
  mkdirSync(join(home, '.config'))
  symlinkSync(d.dir, join(home, '.config', 'peernet'))
  return home
}

function hasSocat (t) {
  if (!spawnSync('socat', ['-V'], { stdio: 'ignore' }).error) return true
  t.skip('socat is not installed here: the README line itself is not run')
  return false
}

/** Run a README command line in sh with HOME set; resolves {code, stdout, stderr}. */
function shell (command, home) {
  return new Promise((resolve, reject) => {
    const sh = spawn('sh', ['-c', command], { env: { ...cleanEnv(), HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    sh.stdout.on('data', x => { stdout += x })
    sh.stderr.on('data', x => { stderr += x })
    sh.on('error', reject)
    sh.on('close', code => resolve({ code, stdout, stderr }))
  })
}

async function daemon (t) {
  const d = datadir(t)
  await d.start(...QUIET)
  d.socket = join(d.dir, 'run', 'control.sock')
  return d
}

t.test('a client that half-closes after its requests gets every answer: known, connect, search, status', async t => {
  const a = await daemon(t)
  const b = await daemon(t)
  const url = (await a.run(['listen', 'ws'])).stdout.trim()
  t.equal((await a.run(['join', 'chat'])).code, 0)
  t.equal((await b.run(['add', 'tcp://127.0.0.1:9', 'tcp://127.0.0.1:10'])).code, 0)

  const known = await halfClose(t, b.socket, [{ id: 1, method: 'known' }])
  t.same(answerOf(known, 1).rows.map(r => r.address).sort(), ['tcp://127.0.0.1:10', 'tcp://127.0.0.1:9'], 'known: every row')
  t.ok(answerOf(known, 1).end, 'known: then its end')

  const connect = await halfClose(t, b.socket, [{ id: 'c', method: 'connect', params: { address: url } }])
  t.match(answerOf(connect, 'c'), { rows: [{ address: url, id: /^[0-9a-f]{64}$/ }], end: true, error: null }, 'connect: its row (the address, the id that answered) and end')

  // Several requests, the last line without a newline: all answered, in one connection.
  const all = await new Promise((resolve, reject) => {
    const sock = net.connect(b.socket)
    t.teardown(() => sock.destroy())
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', d => { buf += d })
    sock.on('error', reject)
    sock.on('connect', () => sock.end([
      { id: 's', method: 'search', params: { subnet: 'chat', max: 1, flood: true } },
      { id: 'st', method: 'status' },
      { id: 'x', method: 'nosuch' }
    ].map(r => JSON.stringify(r)).join('\n')))
    sock.on('close', () => resolve(buf.split('\n').filter(Boolean).map(l => JSON.parse(l))))
  })
  t.same(answerOf(all, 's'), { rows: [{ hash: 'chat', address: url, hops: 1, id: null, addresses: [url], via: 'flood' }], end: true, error: null }, 'search: its answer and end')
  t.ok(answerOf(all, 'st').end && answerOf(all, 'st').rows[0].pid > 0, 'status answered')
  t.equal(answerOf(all, 'x').error?.code, 'EMETHOD', 'an unknown method: its error')
})

t.test("the README's socat example, run as written (and the same request from Node)", async t => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const block = /```sh\n(echo .*\| socat - UNIX-CONNECT:\$HOME\/\.config\/peernet\/run\/control\.sock)\n([\s\S]*?)```/.exec(readme)
  t.ok(block, 'the README has the socat example')
  const [, command, shown] = block
  t.match(shown, /^\{"id":1,"row":\{"address":"[^"]+","saved":true,"subnets":\["chat"\]\}\}\n\{"id":1,"end":true\}\n$/, 'it shows a row and the end')
  const d = await daemon(t)
  const home = homeOf(t, d)
  t.equal((await d.run(['add', 'ws://127.0.0.1:48832'])).code, 0)
  const expected = [{ id: 1, row: { address: 'ws://127.0.0.1:48832', saved: true, subnets: [] } }, { id: 1, end: true }]
  const viaNode = await halfClose(t, join(home, '.config', 'peernet', 'run', 'control.sock'), [JSON.parse(/echo '([^']*)'/.exec(command)[1])])
  t.same(viaNode, expected, 'the same request from Node, half-closed: its row and its end')
  if (!hasSocat(t)) return
  const out = await shell(command, home)
  t.equal(out.code, 0, out.stderr)
  t.same(out.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l)), expected, 'socat prints the row and the end')
})

t.test("the README's socat search: -t gives socat the time a search takes, so its end arrives", async t => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const block = /```sh\n(echo '(\{"id":1,"method":"search",[^']*)' \| socat -t (\d+) - UNIX-CONNECT:\$HOME\/\.config\/peernet\/run\/control\.sock)\n([\s\S]*?)```/.exec(readme)
  t.ok(block, 'the README has a socat search with -t')
  if (!block) return
  const [, command, request, seconds, shown] = block
  const { params } = JSON.parse(request)
  t.ok(Number(seconds) * 1000 > params.timeout, 'the -t outlasts the search (socat alone waits 0.5 s)')
  t.match(shown, /^\{"id":1,"row":\{"hash":"chat","address":"([^"]+)","hops":1,"id":null,"addresses":\["\1"\],"via":"flood"\}\}\n\{"id":1,"end":true\}\n$/, 'it shows a member and the end')
  if (!hasSocat(t)) return
  const a = await daemon(t)
  const b = await daemon(t)
  const url = (await a.run(['listen', 'ws'])).stdout.trim()
  t.equal((await a.run(['join', 'chat'])).code, 0)
  t.equal((await b.run(['connect', url])).code, 0)
  // No max: the search runs for its whole timeout, far past socat's own half second.
  const out = await shell(command, homeOf(t, b))
  t.equal(out.code, 0, out.stderr)
  t.same(out.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l)), [{ id: 1, row: { hash: 'chat', address: url, hops: 1, id: null, addresses: [url], via: 'flood' } }, { id: 1, end: true }], 'the member, then the end')
})

t.test('a stop ends a log follower with its end row, after the stopping event', async t => {
  const d = await daemon(t)
  const follower = net.connect(d.socket)
  t.teardown(() => follower.destroy())
  let buf = ''
  follower.setEncoding('utf8')
  follower.on('data', x => { buf += x })
  const closed = new Promise(resolve => follower.on('close', resolve))
  await new Promise(resolve => follower.on('connect', resolve))
  follower.write(JSON.stringify({ id: 'f', method: 'log', params: { lines: 0 } }) + '\n')
  // Counted as a follower before the stop is asked for.
  await until(async () => JSON.parse((await d.run(['status', '--json'])).stdout).limits.logFollowers === 1, { what: 'the follower' })
  t.equal((await d.run(['close'])).code, 0)
  await closed
  const msgs = buf.split('\n').filter(Boolean).map(l => JSON.parse(l))
  t.match(msgs.at(-2), { id: 'f', row: { type: 'stopping' } }, 'the stopping event arrives')
  t.same(msgs.at(-1), { id: 'f', end: true }, 'then the end row: a normal end, not a hang-up')
})

t.test('the protocol and every error code are documented in the README and the man page', async t => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const man = readFileSync(join(root, 'man', 'peernet.1'), 'utf8').replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-').replace(/\\\(aq/g, "'")
  for (const code of Object.keys(ERROR_CODES)) {
    t.ok(readme.includes(`\`${code}\``), `README: ${code}`)
    t.ok(man.includes(code), `man page: ${code}`)
  }
  for (const m of METHODS) t.ok(readme.includes(`\`${m}\``), `README names the method ${m}`)
  t.match(man, /^\.SH CONTROL SOCKET$/m, 'the man page has the section')
  for (const shape of ['{"id": ID, "row": {...}}', '{"id": ID, "end": true}', '{"id": ID, "error": {"code": CODE, "message": TEXT}}']) t.ok(man.includes(shape), `man page: ${shape}`)
  // Every code the daemon can send is in the table (EGONE never leaves: its client is gone).
  const sent = new Set()
  for (const f of readdirSync(join(root, 'lib', 'daemon')).filter(f => f.endsWith('.js'))) {
    const src = readFileSync(join(root, 'lib', 'daemon', f), 'utf8')
    for (const m of src.matchAll(/ControlError\('([A-Z]+)'|code: '([A-Z]+)'/g)) sent.add(m[1] ?? m[2])
  }
  sent.delete('EGONE')
  t.ok(sent.size >= 10, `found the codes in the daemon's code (${[...sent].join(' ')})`)
  for (const code of sent) t.ok(code in ERROR_CODES, `ERROR_CODES documents ${code}`)
})
